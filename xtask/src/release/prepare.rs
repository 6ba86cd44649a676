//! `cargo xtask release prepare`: apply the plan and commit it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use semver::Version;

use super::changelog;
use super::cmd::{self, Tools};
use super::manifest::Manifest;
use super::plan::{CHANGELOG, Plan};
use super::workspace::Workspace;

/// What `prepare` did.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) version: Version,
    pub(crate) date: Date,
    /// The files written, relative to the workspace root, each with what changed in it.
    pub(crate) files: Vec<(String, Vec<String>)>,
    /// The abbreviated hash of the release commit.
    pub(crate) commit: String,
}

/// Applies `plan` to the workspace at `root` and commits: `[workspace.package] version`, the
/// internal dependency requirements of every manifest, `CHANGELOG.md` and `Cargo.lock`.
/// Refuses while the plan has blockers. Nothing is written before every edit is computed.
pub(crate) fn prepare(
    tools: &Tools,
    root: &Path,
    plan: &Plan,
    date: Date,
) -> Result<Prepared, String> {
    if !plan.blockers.is_empty() {
        let mut message = format!(
            "release prepare refuses: the plan has {} blocker(s):",
            plan.blockers.len()
        );
        for blocker in &plan.blockers {
            let _ = write!(message, "\n  - {blocker}");
        }
        return Err(message);
    }
    let ws = Workspace::load(tools, root)?;
    let root = ws.root.clone();
    let next = &plan.next;
    // A requirement is bumped when it points at a member released at the current version.
    let is_internal = |path: &Path| {
        ws.member_at(path)
            .is_some_and(|m| m.version == plan.current)
    };

    let mut edits: Vec<(PathBuf, String, Vec<String>)> = Vec::new();
    let root_manifest_path = root.join("Cargo.toml");
    let mut root_manifest = Manifest::read(&root_manifest_path)?;
    root_manifest.set_workspace_version(next)?;
    let mut changed = vec!["[workspace.package] version".to_owned()];
    changed.extend(root_manifest.bump_internal_requirements(next, &is_internal));
    edits.push((root_manifest_path.clone(), root_manifest.render(), changed));

    for member in &ws.members {
        if member.manifest_path == root_manifest_path {
            continue;
        }
        let mut manifest = Manifest::read(&member.manifest_path)?;
        let changed = manifest.bump_internal_requirements(next, &is_internal);
        if !changed.is_empty() {
            edits.push((member.manifest_path.clone(), manifest.render(), changed));
        }
    }

    let changelog_path = root.join(CHANGELOG);
    let changelog_text = std::fs::read_to_string(&changelog_path)
        .map_err(|e| format!("cannot read {}: {e}", changelog_path.display()))?;
    let released = changelog::release(&changelog_text, next, date, plan.repository.as_deref())?;
    edits.push((
        changelog_path,
        released,
        vec![format!("Unreleased moved under {next} - {date}")],
    ));

    let mut files = Vec::new();
    for (path, text, changed) in &edits {
        std::fs::write(path, text).map_err(|e| {
            format!(
                "cannot write {}: {e} (files written so far: {})",
                path.display(),
                names(&files)
            )
        })?;
        files.push((ws.relative(path), changed.clone()));
    }

    let lock = root.join("Cargo.lock");
    if lock.exists() {
        cmd::stdout(
            tools
                .cargo(&root)
                .args(["update", "--workspace", "--offline"]),
            "cargo update --workspace --offline",
        )
        .map_err(|e| format!("{e} (files written: {})", names(&files)))?;
        files.push((
            "Cargo.lock".to_owned(),
            vec!["workspace versions".to_owned()],
        ));
    }

    let after = Workspace::load(tools, &root)
        .map_err(|e| format!("{e} (files written: {})", names(&files)))?;
    for package in after.publishable() {
        if package.version != *next {
            return Err(format!(
                "after the edits, {} is at {} instead of {next} (files written: {})",
                package.name,
                package.version,
                names(&files)
            ));
        }
    }

    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    cmd::stdout(
        tools.git(&root).arg("add").arg("--").args(&paths),
        "git add",
    )?;
    let order: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
    let message = format!(
        "Release {next}\n\nPublish order: {}.\n\nPrepared by `cargo xtask release prepare`.",
        order.join(", ")
    );
    cmd::stdout(
        tools
            .git(&root)
            .args(["commit", "--quiet", "-m", &message, "--"])
            .args(&paths),
        "git commit",
    )?;
    let commit = cmd::stdout(
        tools.git(&root).args(["rev-parse", "--short", "HEAD"]),
        "git rev-parse --short HEAD",
    )?
    .trim()
    .to_owned();
    Ok(Prepared {
        version: next.clone(),
        date,
        files,
        commit,
    })
}

fn names(files: &[(String, Vec<String>)]) -> String {
    if files.is_empty() {
        return "none".to_owned();
    }
    files
        .iter()
        .map(|(p, _)| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Prepared {
    /// What `cargo xtask release prepare` prints.
    pub(crate) fn render(&self, plan: &Plan) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "release {} ({}) prepared in commit {} (not tagged, not pushed):",
            self.version, self.date, self.commit
        );
        for (file, changes) in &self.files {
            let _ = writeln!(out, "  {file}: {}", changes.join(", "));
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "next (see docs/releasing.md):");
        let _ = writeln!(out, "  cargo xtask release check");
        let _ = writeln!(
            out,
            "  git push origin HEAD   # then wait for CI on the release commit"
        );
        let _ = writeln!(out, "  git tag -a v{0} -m \"Release {0}\"", self.version);
        for step in &plan.steps {
            let _ = writeln!(out, "  cargo publish --locked -p {}", step.name);
        }
        let _ = writeln!(out, "  git push origin v{}", self.version);
        out
    }
}
