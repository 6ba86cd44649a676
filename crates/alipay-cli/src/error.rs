//! The one error of the CLI: unusable input or arguments (exit code 2), as one line.

use std::fmt;

/// Unusable input or arguments. Its text is one line that names what was found and what was
/// expected; it always ends the process with exit code 2.
#[derive(Debug)]
pub(crate) struct CliError {
    message: String,
}

impl CliError {
    /// An error with this reason (newlines are folded so it stays one line).
    pub(crate) fn new(message: impl Into<String>) -> Self {
        CliError {
            message: one_line(&message.into()),
        }
    }

    /// An `alipay-sign` error with its `source()` chain, after `context` (the flag and file).
    pub(crate) fn sign(context: &str, err: &alipay_sign::Error) -> Self {
        Self::new(format!("{context}: {}", describe(err)))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)
    }
}

/// An error and its `source()` chain as one line: `message: cause: cause`.
pub(crate) fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    // Bounded: a source chain is short; the bound only guards against a cyclic one.
    for _ in 0..8 {
        let Some(s) = source else { break };
        let part = s.to_string();
        if !part.is_empty() && !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    one_line(&text)
}

/// Folds every run of line breaks and the whitespace around them into one space.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_folds_breaks() {
        assert_eq!(one_line("a\n  b\r\n\nc "), "a b c");
        assert_eq!(CliError::new("x\ny").to_string(), "error: x y");
    }
}
