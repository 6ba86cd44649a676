//! Everything the CLI writes goes through here: the report on stdout, reasons on stderr.
//!
//! Writes use `std::io::Write` on the locked handles rather than `print!`, so a closed pipe
//! (`alipay … | head -c1`) ends quietly instead of panicking; this module is the only place
//! that writes to stdout or stderr.

use std::io::Write as _;

use serde_json::Value;

/// What a command produced: its output, whether the check passed, and why not.
#[derive(Debug)]
pub(crate) struct Report {
    body: Body,
    passed: bool,
    reason: Option<String>,
}

#[derive(Debug)]
enum Body {
    /// One JSON object (compact by default, `key: value` lines with `--pretty`).
    Json(Value),
    /// Exact bytes (a line of text with its newline, or a plaintext).
    Bytes(Vec<u8>),
}

impl Report {
    /// A successful JSON report.
    pub(crate) fn json(value: Value) -> Self {
        Report {
            body: Body::Json(value),
            passed: true,
            reason: None,
        }
    }

    /// One line of text (a newline is added).
    pub(crate) fn line(text: impl Into<String>) -> Self {
        let mut bytes = text.into().into_bytes();
        bytes.push(b'\n');
        Report {
            body: Body::Bytes(bytes),
            passed: true,
            reason: None,
        }
    }

    /// Exact bytes, nothing added.
    pub(crate) fn bytes(bytes: Vec<u8>) -> Self {
        Report {
            body: Body::Bytes(bytes),
            passed: true,
            reason: None,
        }
    }

    /// Marks the check as failed (exit code 1) for `reason`, shown as one line on stderr.
    #[must_use]
    pub(crate) fn failed(mut self, reason: impl Into<String>) -> Self {
        self.passed = false;
        self.reason = Some(crate::error::one_line(&reason.into()));
        self
    }

    /// `0` when the check passed, `1` when it failed.
    pub(crate) fn exit_code(&self) -> u8 {
        if self.passed { 0 } else { 1 }
    }

    /// Why the check failed.
    pub(crate) fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

/// Writes the report to stdout.
pub(crate) fn write_report(report: &Report, pretty: bool) {
    let bytes = match &report.body {
        Body::Json(value) if pretty => human(value).into_bytes(),
        Body::Json(value) => {
            let mut text = value.to_string();
            text.push('\n');
            text.into_bytes()
        }
        Body::Bytes(bytes) => bytes.clone(),
    };
    write_stdout(&bytes);
}

/// Writes raw bytes to stdout; a closed pipe is not an error worth reporting.
pub(crate) fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Writes one line to stderr.
pub(crate) fn error_line(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", crate::error::one_line(line));
}

/// The `--pretty` rendering of a JSON object: `key: value` lines; multi-line strings as an
/// indented block; nested objects and arrays as indented JSON.
fn human(value: &Value) -> String {
    let Value::Object(map) = value else {
        return format!("{value:#}\n");
    };
    let mut out = String::new();
    for (key, v) in map {
        match v {
            Value::String(s) if s.contains('\n') => {
                out.push_str(key);
                out.push_str(":\n");
                for line in s.split('\n') {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Value::String(s) => {
                out.push_str(&format!("{key}: {s}\n"));
            }
            Value::Object(_) | Value::Array(_) => {
                out.push_str(key);
                out.push_str(":\n");
                for line in format!("{v:#}").lines() {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
            other => out.push_str(&format!("{key}: {other}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_rendering() {
        let v = serde_json::json!({"a": "x", "b": "1\n2", "c": {"d": 1}, "e": null, "f": true});
        assert_eq!(
            human(&v),
            "a: x\nb:\n    1\n    2\nc:\n    {\n      \"d\": 1\n    }\ne: null\nf: true\n"
        );
    }
}
