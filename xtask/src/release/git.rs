//! What git says: uncommitted changes, release tags, changes since a tag.

use std::path::Path;

use semver::Version;

use super::cmd::{self, Tools};

/// The output of `git status --porcelain` in `root`, one entry a line.
pub(crate) fn uncommitted(tools: &Tools, root: &Path) -> Result<Vec<String>, String> {
    let out = cmd::stdout(
        tools.git(root).args(["status", "--porcelain"]),
        "git status --porcelain",
    )?;
    Ok(out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

/// Every tag of the repository.
pub(crate) fn tags(tools: &Tools, root: &Path) -> Result<Vec<String>, String> {
    let out = cmd::stdout(tools.git(root).args(["tag", "--list"]), "git tag --list")?;
    Ok(out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Whether `tag` is an ancestor of (or is) `HEAD`.
pub(crate) fn is_ancestor(tools: &Tools, root: &Path, tag: &str) -> Result<bool, String> {
    let what = format!("git merge-base --is-ancestor {tag} HEAD");
    let output = cmd::run(
        tools
            .git(root)
            .args(["merge-base", "--is-ancestor", tag, "HEAD"]),
        &what,
    )?;
    match output.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(format!(
            "`{what}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

/// The files under `dir` (relative to `root`) that differ between `tag` and `HEAD`.
pub(crate) fn changed_since(
    tools: &Tools,
    root: &Path,
    tag: &str,
    dir: &str,
) -> Result<Vec<String>, String> {
    let range = format!("{tag}..HEAD");
    let what = format!("git diff --name-only {range} -- {dir}");
    let out = cmd::stdout(
        tools
            .git(root)
            .args(["diff", "--name-only", &range, "--", dir]),
        &what,
    )?;
    Ok(out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect())
}

/// The version a release tag of `crate_name` names: `<crate_name>-v<version>` or the workspace
/// tag `v<version>`. Any other tag names none.
pub(crate) fn tag_version(tag: &str, crate_name: &str) -> Option<Version> {
    let version = tag
        .strip_prefix(crate_name)
        .and_then(|rest| rest.strip_prefix("-v"))
        .or_else(|| tag.strip_prefix('v'))?;
    Version::parse(version).ok()
}

/// The last release tag of `crate_name` among `tags` (those that are ancestors of `HEAD`, as
/// `reachable` tells): the one naming the highest version; a crate tag wins over a workspace tag
/// of the same version.
pub(crate) fn last_tag(
    tags: &[String],
    crate_name: &str,
    reachable: &mut dyn FnMut(&str) -> Result<bool, String>,
) -> Result<Option<String>, String> {
    let mut candidates: Vec<(Version, bool, &String)> = tags
        .iter()
        .filter_map(|tag| {
            tag_version(tag, crate_name).map(|v| (v, tag.starts_with(crate_name), tag))
        })
        .collect();
    candidates.sort();
    for (_, _, tag) in candidates.into_iter().rev() {
        if reachable(tag)? {
            return Ok(Some(tag.clone()));
        }
    }
    Ok(None)
}
