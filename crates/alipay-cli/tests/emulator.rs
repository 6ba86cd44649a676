//! Black-box test of `alipay emulator`: the one JSON line of CLI.md, the key files, a live
//! control API, a graceful stop on SIGINT, and a restart on the same `--state` folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test binary

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

fn start(args: &[&str]) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alipay"))
        .arg("emulator")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.ends_with('\n'), "one line: {line:?}");
    (child, serde_json::from_str(&line).unwrap())
}

fn get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n").unwrap().1.to_owned()
}

/// SIGINT, then wait (bounded) for a clean exit.
fn stop(mut child: Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..100 {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    panic!("the emulator did not stop within 5 s of SIGINT");
}

#[test]
fn emulator_prints_its_line_serves_and_restarts() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("alipay-cli-emulator-state");
    let _ = std::fs::remove_dir_all(&dir);
    let state = dir.to_string_lossy().into_owned();
    let (child, line) = start(&["--state", &state, "--time-scale", "0", "--cert-mode"]);
    let keys: Vec<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "gateway",
            "v3",
            "control",
            "app_id",
            "app_private_key",
            "alipay_public_key",
            "app_cert",
            "alipay_cert",
            "alipay_root_cert",
            "dashboard"
        ]
    );
    let gateway = line["gateway"].as_str().unwrap();
    assert!(gateway.starts_with("http://127.0.0.1:") && gateway.ends_with("/gateway.do"));
    let private = std::fs::read_to_string(line["app_private_key"].as_str().unwrap()).unwrap();
    assert!(private.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let public = std::fs::read_to_string(line["alipay_public_key"].as_str().unwrap()).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let status: Value = serde_json::from_str(&get(&format!(
        "{}/status",
        line["control"].as_str().unwrap()
    )))
    .unwrap();
    assert_eq!(status["default_app"], line["app_id"]);
    stop(child);

    // The same folder: the same app and keys.
    let (child, again) = start(&["--state", &state, "--time-scale", "0"]);
    assert_eq!(again["app_id"], line["app_id"]);
    assert_eq!(
        std::fs::read_to_string(again["alipay_public_key"].as_str().unwrap()).unwrap(),
        public
    );
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_time_scale_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_alipay"))
        .args(["emulator", "--time-scale", "fast"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "error: cannot start the emulator: time scale \"fast\" is not a decimal number ≥ 0 with at most 6 decimals\n"
    );
}

#[test]
fn the_demo_runs_every_step() {
    let out = Command::new(env!("CARGO_BIN_EXE_alipay"))
        .arg("demo")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in 1..=11 {
        assert!(
            stdout.contains(&format!("\n{step}. ")) || stdout.starts_with("1. "),
            "step {step}: {stdout}"
        );
    }
    assert!(stdout.contains("Notification received and verified"));
    assert!(stdout.contains("net received 78.88; footer totals match the rows"));
    assert!(stdout.ends_with("Done.\n"));
}
