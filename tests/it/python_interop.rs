//! The official Alipay Python SDK (PyPI `alipay-sdk-python` 3.7.1411) as a client of the
//! emulator: `tests/interop/python_client.py` runs `DefaultAlipayClient.execute`, with the SDK's
//! response verification on, for precreate → pay (control API) → query → refund → close, and
//! checks that a wrong Alipay public key makes the SDK refuse the answer.
//!
//! The SDK lives in a virtual environment made by `tests/interop/python_setup.sh`
//! (`<repo>/.cache/interop-python`, or `INTEROP_PYTHON_DIR`). Without it the test prints that it
//! was not run, unless `REQUIRE_INTEROP=1`.

// Test-only code: clippy's allow-*-in-tests settings apply to the whole module.
#![cfg(test)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use alipay_emulator::Emulator;
use serde_json::{Value, json};

fn venv_dir(repo: &Path) -> PathBuf {
    std::env::var_os("INTEROP_PYTHON_DIR")
        .map_or_else(|| repo.join(".cache").join("interop-python"), PathBuf::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_interop_against_the_emulator() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = venv_dir(&repo);
    let python = venv.join("bin").join("python");
    if !python.is_file() || !venv.join(".installed").is_file() {
        let msg = "python interop: alipay-sdk-python not installed (run tests/interop/python_setup.sh); not run";
        assert!(
            std::env::var("REQUIRE_INTEROP").as_deref() != Ok("1"),
            "{msg}"
        );
        crate::support::report(msg);
        return;
    }
    let emu = Emulator::builder().start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("alipay-emulator-python-{}", std::process::id()));
    let files = emu.app().write_files(&dir).unwrap();
    let app_public_key = dir.join("app_public_key.pem");
    std::fs::write(&app_public_key, &emu.app().app_public_key_pem).unwrap();
    let config = json!({
        "gateway": emu.gateway_url(),
        "control": emu.control_url(),
        "app_id": emu.app().app_id,
        "app_private_key": files.app_private_key.unwrap(),
        "alipay_public_key": files.alipay_public_key,
        "app_public_key": app_public_key,
        "out_trade_no": "PY1001",
    });
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, config.to_string()).unwrap();
    let script = repo.join("tests/interop/python_client.py");
    let mut command = Command::new(python);
    command
        .arg(script)
        .arg(&config_path)
        .env("PYTHONIOENCODING", "utf-8");
    // Bounded: the script finishes in about a second.
    let output = tokio::task::spawn_blocking(move || {
        crate::support::run_bounded(command, "python_client.py", Duration::from_secs(120))
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let result: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON line ({e}):\n{stdout}\n{stderr}"));
    assert!(output.status.success(), "{result:#}\n{stderr}");
    assert_eq!(result["ok"], true, "{result:#}");
    assert_eq!(result["sdk"], "alipay-sdk-python 3.7.1411");
    let names: Vec<&str> = result["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == true)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "execute precreate (verified)",
            "control pay",
            "execute query (verified)",
            "execute refund (verified)",
            "execute refund again, same out_request_no (verified)",
            "execute close of a paid trade: signed ACQ.TRADE_STATUS_ERROR (verified)",
            "execute close (verified)",
            "execute query of the closed trade (verified)",
            "execute with the wrong Alipay public key is refused",
        ]
    );
    // What the SDK saw agrees with what the emulator holds.
    let trade = emu.control().trade("PY1001").await.unwrap();
    assert_eq!(trade["trade_status"], "TRADE_SUCCESS");
    assert_eq!(trade["refund_fee"], "8.88");
    assert_eq!(trade["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(
        emu.control().trade("PY1001C").await.unwrap()["trade_status"],
        "TRADE_CLOSED"
    );
    crate::support::report(&format!(
        "python interop: {} official Python SDK checks passed",
        names.len()
    ));
    emu.shutdown().await.unwrap();
}
