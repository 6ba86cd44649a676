//! `alipay emulator`: a local Alipay gateway (alipay-emulator) until interrupted.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use alipay_emulator::Emulator;
use clap::Args;
use serde_json::json;

use crate::error::{CliError, describe};
use crate::output::Report;

/// `alipay emulator [--host 127.0.0.1] [--port 0] [--state DIR] [--time-scale X] [--cert-mode]`.
#[derive(Debug, Args)]
pub(crate) struct EmulatorArgs {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1", value_name = "IP")]
    host: IpAddr,
    /// The port (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Keep keys, apps, trades and notifications in DIR; a restart on the same DIR continues.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// How fast emulator time runs (600: Alipay's 4-minute notification retry in 0.4 s).
    #[arg(long, value_name = "X", default_value = "1")]
    time_scale: String,
    /// Register the app in certificate mode and answer with certificates.
    #[arg(long)]
    cert_mode: bool,
}

/// Starts the emulator, prints one JSON line once it listens, serves until SIGINT/SIGTERM.
pub(crate) fn run(args: &EmulatorArgs) -> Result<Report, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(args))
}

async fn serve(args: &EmulatorArgs) -> Result<Report, CliError> {
    let mut builder = Emulator::builder()
        .host(args.host)
        .port(args.port)
        .time_scale_str(&args.time_scale)
        .cert_mode(args.cert_mode);
    let (dir, temporary) = match &args.state {
        Some(dir) => {
            builder = builder.state_dir(dir);
            (dir.clone(), false)
        }
        None => (
            std::env::temp_dir().join(format!("alipay-emulator-{}", std::process::id())),
            true,
        ),
    };
    let emulator = builder
        .start()
        .await
        .map_err(|e| CliError::new(format!("cannot start the emulator: {}", describe(&e))))?;
    let stop = Stop::install();
    let files = emulator
        .app()
        .write_files(&dir)
        .map_err(|e| CliError::new(format!("cannot write the key files: {}", describe(&e))))?;
    let path = |p: &PathBuf| p.to_string_lossy().into_owned();
    let mut line = json!({
        "gateway": emulator.gateway_url(),
        "v3": emulator.v3_url(),
        "control": emulator.control_url(),
        "app_id": emulator.app().app_id,
        "app_private_key": files.app_private_key.as_ref().map(path),
        "alipay_public_key": path(&files.alipay_public_key),
    });
    if let (Some(map), Some(app_cert), Some(alipay_cert), Some(root)) = (
        line.as_object_mut(),
        &files.app_cert,
        &files.alipay_cert,
        &files.alipay_root_cert,
    ) {
        map.insert("app_cert".into(), path(app_cert).into());
        map.insert("alipay_cert".into(), path(alipay_cert).into());
        map.insert("alipay_root_cert".into(), path(root).into());
    }
    if let Some(map) = line.as_object_mut() {
        map.insert("dashboard".into(), emulator.dashboard_url().into());
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    stop.wait().await;
    let result = emulator.shutdown().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result.map_err(|e| CliError::new(format!("stopping the emulator: {}", describe(&e))))?;
    Ok(Report::bytes(Vec::new()))
}

/// SIGINT and SIGTERM, listened to from before the JSON line is printed, so a caller that
/// stops the emulator as soon as it reads the line never hits the default handler.
struct Stop {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Stop {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::interrupt())
                .and_then(|int| Ok((int, signal(SignalKind::terminate())?)))
                .ok();
            Stop { signals }
        }
        #[cfg(not(unix))]
        {
            Stop {}
        }
    }

    /// Waits for Ctrl-C (or SIGTERM on Unix).
    async fn wait(self) {
        #[cfg(unix)]
        if let Some((mut int, mut term)) = self.signals {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
