//! Running `cargo` and `git`.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};

/// How the release commands run `cargo` and `git`: which cargo, and extra environment for both
/// (the tests point `CARGO_TARGET_DIR` into their temporary workspace and give git an identity).
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    cargo: OsString,
    envs: Vec<(OsString, OsString)>,
}

impl Tools {
    /// The cargo that runs this program (`$CARGO`), or `cargo` from the `PATH`.
    pub(crate) fn from_env() -> Self {
        Tools {
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")),
            envs: Vec::new(),
        }
    }

    /// The same tools with one more environment variable for every command.
    #[cfg(test)]
    pub(crate) fn with_env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.envs.push((OsString::from(key), value.into()));
        self
    }

    /// `cargo` in `dir`.
    pub(crate) fn cargo(&self, dir: &Path) -> Command {
        let mut command = Command::new(&self.cargo);
        command.current_dir(dir).envs(self.envs.iter().cloned());
        command
    }

    /// `git` in `dir`.
    pub(crate) fn git(&self, dir: &Path) -> Command {
        let mut command = Command::new("git");
        command.current_dir(dir).envs(self.envs.iter().cloned());
        command
    }
}

/// Runs `command` (described as `what` in errors) and returns its output, whatever its status.
pub(crate) fn run(command: &mut Command, what: &str) -> Result<Output, String> {
    command
        .output()
        .map_err(|e| match command.get_current_dir() {
            Some(dir) => format!("cannot run `{what}` in {}: {e}", dir.display()),
            None => format!("cannot run `{what}`: {e}"),
        })
}

/// Runs `command` and returns its standard output; a non-zero exit is an error that carries the
/// command's standard error.
pub(crate) fn stdout(command: &mut Command, what: &str) -> Result<String, String> {
    let output = run(command, what)?;
    if !output.status.success() {
        return Err(format!(
            "`{what}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    String::from_utf8(output.stdout).map_err(|e| format!("`{what}` printed invalid UTF-8: {e}"))
}
