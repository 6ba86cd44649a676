//! `cargo xtask release`: plan, prepare and check a release of every publishable crate.
//!
//! ```text
//! cargo xtask release plan    [--bump patch|minor|major|VERSION]
//! cargo xtask release prepare [--bump patch|minor|major|VERSION] [--date YYYY-MM-DD]
//! cargo xtask release check   [--allow-dirty]
//! ```
//!
//! * `plan` reads the workspace (`cargo metadata`), the manifests, git and `CHANGELOG.md`, and
//!   prints every publishable crate with its current and next version in publish order, then what
//!   blocks a release. It exits non-zero when something does.
//! * `prepare` refuses while anything blocks; otherwise it writes the next version into
//!   `[workspace.package]` and into every internal dependency requirement, moves the `Unreleased`
//!   section of `CHANGELOG.md` under the new version and date, refreshes `Cargo.lock` and commits
//!   (no tag, no push).
//! * `check` packages every publishable crate in publish order with `cargo package --locked`,
//!   each verified by building it from its `.crate` against the `.crate` files of the internal
//!   crates before it, audits the files the package sources refer to, and lists the sizes.
//!
//! The crates are released in lockstep: every publishable crate inherits the version of
//! `[workspace.package]`. `cargo publish` is never run here; `docs/releasing.md` says how a
//! maintainer publishes in the printed order.

mod audit;
mod changelog;
mod check;
mod cmd;
mod git;
mod manifest;
mod plan;
mod prepare;
mod version;
mod workspace;

#[cfg(test)]
mod tests;

use std::path::Path;

use jiff::civil::Date;

pub(crate) use cmd::Tools;
pub(crate) use version::Bump;

const USAGE: &str = "usage:
  cargo xtask release plan    [--bump patch|minor|major|VERSION]
  cargo xtask release prepare [--bump patch|minor|major|VERSION] [--date YYYY-MM-DD]
  cargo xtask release check   [--allow-dirty]";

/// Runs `cargo xtask release …` with the arguments after `release`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let (command, rest) = args.split_first().ok_or_else(|| USAGE.to_owned())?;
    if matches!(command.as_str(), "-h" | "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let options = Options::parse(command, rest)?;
    if options.help {
        println!("{USAGE}");
        return Ok(());
    }
    let tools = Tools::from_env();
    let root = workspace_dir();
    match command.as_str() {
        "plan" => {
            let plan = plan_workspace(&tools, &root, &options.bump)?;
            print!("{}", plan.render());
            if plan.blockers.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the release is blocked by {} problem(s), listed above",
                    plan.blockers.len()
                ))
            }
        }
        "prepare" => {
            let date = match options.date {
                Some(date) => date,
                None => today()?,
            };
            let plan = plan_workspace(&tools, &root, &options.bump)?;
            let prepared = prepare::prepare(&tools, &root, &plan, date)?;
            print!("{}", prepared.render(&plan));
            Ok(())
        }
        "check" => {
            let report = check::check(
                &tools,
                &root,
                &check::Options {
                    allow_dirty: options.allow_dirty,
                },
            )?;
            print!("{}", report.render());
            if report.errors.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "release check failed with {} error(s), listed above",
                    report.errors.len()
                ))
            }
        }
        other => Err(format!("unknown release command `{other}`\n{USAGE}")),
    }
}

/// The workspace directory: the parent of the xtask package.
fn workspace_dir() -> std::path::PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Plans a release of the workspace at `root`, with the stale-codegen check done by this very
/// program (`cargo xtask codegen --check`).
fn plan_workspace(tools: &Tools, root: &Path, bump: &Bump) -> Result<plan::Plan, String> {
    let facts = plan::Facts::gather(tools, root, &codegen_check)?;
    plan::plan(&facts, bump)
}

/// Runs `codegen --check` through the running executable, so that the release tool sees exactly
/// what `cargo xtask codegen --check` reports. Returns the reported problems (empty when fresh).
fn codegen_check(root: &Path) -> Result<Vec<String>, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot locate the xtask executable for `codegen --check`: {e}"))?;
    let output = std::process::Command::new(&exe)
        .args(["codegen", "--check"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run `{} codegen --check`: {e}", exe.display()))?;
    if output.status.success() {
        return Ok(Vec::new());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let problems: Vec<String> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if problems.is_empty() {
        Ok(vec![format!(
            "`cargo xtask codegen --check` failed ({}) without a message",
            output.status
        )])
    } else {
        Ok(problems)
    }
}

/// The release date when `--date` is not given: today in UTC, from xtask's one system clock.
#[allow(clippy::disallowed_methods)] // xtask's one system clock: the default release date
fn today() -> Result<Date, String> {
    let now = std::time::SystemTime::now();
    let timestamp = jiff::Timestamp::try_from(now)
        .map_err(|e| format!("the system clock is out of range: {e}"))?;
    Ok(jiff::tz::Offset::UTC.to_datetime(timestamp).date())
}

/// The command-line options of `cargo xtask release <command>`.
#[derive(Debug, PartialEq)]
struct Options {
    bump: Bump,
    date: Option<Date>,
    allow_dirty: bool,
    help: bool,
}

impl Options {
    /// Parses the options after `release <command>`; each option is accepted only by the
    /// commands that use it.
    fn parse(command: &str, args: &[String]) -> Result<Self, String> {
        let mut options = Options {
            bump: Bump::Patch,
            date: None,
            allow_dirty: false,
            help: false,
        };
        let takes_bump = matches!(command, "plan" | "prepare");
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bump" if takes_bump => {
                    let value = args
                        .next()
                        .ok_or("--bump needs patch, minor, major or a version")?;
                    options.bump = Bump::parse(value)?;
                }
                "--date" if command == "prepare" => {
                    let value = args.next().ok_or("--date needs a date as YYYY-MM-DD")?;
                    options.date = Some(parse_date(value)?);
                }
                "--allow-dirty" if command == "check" => options.allow_dirty = true,
                "-h" | "--help" => options.help = true,
                other => {
                    return Err(format!(
                        "unknown argument `{other}` for `release {command}`\n{USAGE}"
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// Parses a `--date` value: exactly `YYYY-MM-DD`, a real calendar day.
fn parse_date(text: &str) -> Result<Date, String> {
    let shape_ok = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape_ok {
        return Err(format!("--date `{text}` is not of the form YYYY-MM-DD"));
    }
    text.parse::<Date>()
        .map_err(|e| format!("--date `{text}` is not a calendar day: {e}"))
}
