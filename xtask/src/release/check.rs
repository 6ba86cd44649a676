//! `cargo xtask release check`: package every publishable crate in publish order and verify each
//! from its `.crate`.
//!
//! One `cargo package --locked -p A -p B …` does the packaging: cargo packages the selected
//! crates in dependency order and verifies each by building the extracted `.crate` in
//! `target/package/`, with the internal dependencies that are not on crates.io resolved to the
//! `.crate` files packaged before it (a local registry overlaid on crates.io). The alternative of
//! `--config patch.crates-io.<name>.path=…` per crate does not work with `--locked`: the patch is
//! unused by the workspace itself, which records it in `Cargo.lock`, and `--locked` forbids that.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use super::audit;
use super::cmd::{self, Tools};
use super::plan::{package_blockers, publish_order};
use super::workspace::Workspace;

/// crates.io refuses `.crate` files larger than this.
pub(crate) const CRATES_IO_LIMIT: u64 = 10 * 1024 * 1024;

/// Options of `release check`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// Passes `--allow-dirty` to cargo (for a local run with uncommitted changes).
    pub(crate) allow_dirty: bool,
}

/// One packaged crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packaged {
    pub(crate) name: String,
    pub(crate) version: String,
    /// The `.crate` file.
    pub(crate) path: PathBuf,
    /// Its size in bytes.
    pub(crate) bytes: u64,
    /// Cargo's `Packaged N files, X (Y compressed)` summary.
    pub(crate) summary: Option<String>,
}

/// The outcome of `release check`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    pub(crate) order: Vec<String>,
    pub(crate) packaged: Vec<Packaged>,
    pub(crate) errors: Vec<String>,
    pub(crate) notes: Vec<String>,
    pub(crate) seconds: u64,
}

/// Checks the workspace at `root`. Problems that stop the check early (metadata, dependency
/// requirements, files outside a package, a failed `cargo package`) are in `errors`; `Err` is
/// for a check that could not run at all.
pub(crate) fn check(tools: &Tools, root: &Path, options: &Options) -> Result<Report, String> {
    let started = Instant::now();
    let ws = Workspace::load(tools, root)?;
    let mut report = Report::default();
    match publish_order(&ws) {
        Ok(order) => report.order = order,
        Err(cycle) => {
            report.errors.push(cycle);
            return Ok(report);
        }
    }
    report.errors.extend(package_blockers(&ws));
    if !report.errors.is_empty() {
        return Ok(report);
    }

    for name in &report.order {
        let Some(package) = ws.member(name) else {
            continue;
        };
        let files = match package_files(tools, &ws, name, options) {
            Ok(files) => files,
            Err(error) => {
                report.errors.push(error);
                report.seconds = started.elapsed().as_secs();
                return Ok(report);
            }
        };
        let (errors, notes) = audit::audit(&package.dir, &files)?;
        report
            .errors
            .extend(errors.into_iter().map(|e| format!("{name}: {e}")));
        report
            .notes
            .extend(notes.into_iter().map(|n| format!("{name}: {n}")));
    }
    if !report.errors.is_empty() {
        report.seconds = started.elapsed().as_secs();
        return Ok(report);
    }

    let summaries = match cargo_package(tools, &ws, &report.order, options) {
        Ok(summaries) => summaries,
        Err(error) => {
            report.errors.push(error);
            report.seconds = started.elapsed().as_secs();
            return Ok(report);
        }
    };
    for name in &report.order {
        let Some(package) = ws.member(name) else {
            continue;
        };
        let version = package.version.to_string();
        let path = ws
            .target_dir
            .join("package")
            .join(format!("{name}-{version}.crate"));
        match std::fs::metadata(&path) {
            Ok(meta) => {
                if meta.len() > CRATES_IO_LIMIT {
                    report.errors.push(format!(
                        "{name}: {} is {} bytes, over the crates.io limit of {CRATES_IO_LIMIT}",
                        path.display(),
                        meta.len()
                    ));
                }
                report.packaged.push(Packaged {
                    name: name.clone(),
                    version,
                    bytes: meta.len(),
                    summary: summaries.get(name).cloned(),
                    path,
                });
            }
            Err(e) => report.errors.push(format!(
                "{name}: cargo package succeeded but {} is unreadable: {e}",
                path.display()
            )),
        }
    }
    report.seconds = started.elapsed().as_secs();
    Ok(report)
}

/// `cargo package --list` of one crate: the files its `.crate` will hold.
fn package_files(
    tools: &Tools,
    ws: &Workspace,
    name: &str,
    options: &Options,
) -> Result<BTreeSet<String>, String> {
    let mut command = tools.cargo(&ws.root);
    command.args(["package", "--list", "--locked", "-p", name]);
    if options.allow_dirty {
        command.arg("--allow-dirty");
    }
    let out = cmd::stdout(
        &mut command,
        &format!("cargo package --list --locked -p {name}"),
    )?;
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.replace('\\', "/"))
        .collect())
}

/// Runs `cargo package --locked -p …` over `order`, echoing cargo's output to standard error, and
/// returns the `Packaged …` summary of each crate.
fn cargo_package(
    tools: &Tools,
    ws: &Workspace,
    order: &[String],
    options: &Options,
) -> Result<BTreeMap<String, String>, String> {
    if let Some(src) = registry_src_dir() {
        let crates: Vec<String> = order
            .iter()
            .filter_map(|name| ws.member(name))
            .map(|p| format!("{}-{}", p.name, p.version))
            .collect();
        forget_earlier_extractions(&src, &crates)?;
    }
    let mut command = tools.cargo(&ws.root);
    command.args(["package", "--locked"]);
    if options.allow_dirty {
        command.arg("--allow-dirty");
    }
    for name in order {
        command.args(["-p", name]);
    }
    command.stdout(Stdio::inherit()).stderr(Stdio::piped());
    let what = format!("cargo package --locked -p {}", order.join(" -p "));
    eprintln!("release check: {what}");
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run `{what}`: {e}"))?;
    let mut summaries = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut last_lines: Vec<String> = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line.map_err(|e| format!("`{what}`: cannot read its output: {e}"))?;
            eprintln!("{line}");
            let trimmed = line.trim();
            if let Some(rest) = trimmed.strip_prefix("Packaging ") {
                current = rest.split_whitespace().next().map(str::to_owned);
            } else if trimmed.starts_with("Packaged ")
                && let Some(name) = current.take()
            {
                summaries.insert(name, trimmed.to_owned());
            }
            if line.starts_with("error") || !last_lines.is_empty() {
                last_lines.push(line);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("`{what}` did not finish: {e}"))?;
    if !status.success() {
        let detail = if last_lines.is_empty() {
            "see its output above".to_owned()
        } else {
            last_lines.join("\n")
        };
        return Err(format!("`{what}` failed ({status}):\n{detail}"));
    }
    Ok(summaries)
}

/// `$CARGO_HOME/registry/src` (`~/.cargo/registry/src` by default).
fn registry_src_dir() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    Some(home.join("registry").join("src"))
}

/// Removes what cargo extracted from `.crate` files of these `name-version`s in earlier checks.
///
/// Cargo verifies each package against the `.crate` files packaged before it through a local
/// registry, and extracts a registry crate only once per registry path: its sources stay in
/// `registry/src/<registry>/<name>-<version>`. A second check of the same version from the same
/// checkout, after the sources changed, would then build against the first check's copy. Local
/// registries have directories whose name starts with `-`; crates.io's (`index.crates.io-…`)
/// are never touched.
pub(crate) fn forget_earlier_extractions(src: &Path, crates: &[String]) -> Result<(), String> {
    let Ok(registries) = std::fs::read_dir(src) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        for krate in crates {
            let dir = registry.path().join(krate);
            if dir.is_dir() {
                std::fs::remove_dir_all(&dir).map_err(|e| {
                    format!(
                        "cannot remove {}, extracted by an earlier check: {e}",
                        dir.display()
                    )
                })?;
            }
        }
    }
    Ok(())
}

impl Report {
    /// What `cargo xtask release check` prints.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if !self.packaged.is_empty() {
            let _ = writeln!(
                out,
                "release check: {} package(s) built from their .crate files, in publish order:",
                self.packaged.len()
            );
            let width = self
                .packaged
                .iter()
                .map(|p| p.name.len())
                .max()
                .unwrap_or(0);
            for (i, packaged) in self.packaged.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  {:>2}. {:<width$} {:<8} {:>10}  {}",
                    i + 1,
                    packaged.name,
                    packaged.version,
                    human_bytes(packaged.bytes),
                    packaged.summary.as_deref().unwrap_or("")
                );
            }
        } else if !self.order.is_empty() {
            let _ = writeln!(
                out,
                "release check: publish order {}",
                self.order.join(", ")
            );
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "notes ({}):", self.notes.len());
            for note in &self.notes {
                let _ = writeln!(out, "  - {note}");
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(out, "errors ({}):", self.errors.len());
            for error in &self.errors {
                let _ = writeln!(out, "  - {error}");
            }
        }
        let _ = writeln!(out, "release check took {} s", self.seconds);
        out
    }
}

/// `bytes` as KiB or MiB with one decimal.
pub(crate) fn human_bytes(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    let (unit, name) = if bytes >= MIB {
        (MIB, "MiB")
    } else {
        (KIB, "KiB")
    };
    let tenths = (bytes.saturating_mul(10) + unit / 2) / unit;
    format!("{}.{} {name}", tenths / 10, tenths % 10)
}
