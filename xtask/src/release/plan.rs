//! The release plan: versions, publish order and what blocks a release.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use semver::Version;

use super::changelog;
use super::cmd::Tools;
use super::git;
use super::manifest::Manifest;
use super::version::{Bump, req_matches};
use super::workspace::{DepKind, Package, Workspace};

/// The changelog file, at the workspace root.
pub(crate) const CHANGELOG: &str = "CHANGELOG.md";

/// Everything the plan is computed from, gathered once.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    pub(crate) workspace: Workspace,
    /// The root manifest, for `[workspace.package]`.
    pub(crate) root_manifest: Manifest,
    /// Whether each publishable member inherits its version from `[workspace.package]`.
    pub(crate) inherits_version: BTreeMap<String, bool>,
    /// `git status --porcelain` lines.
    pub(crate) uncommitted: Vec<String>,
    /// For each publishable member, what changed since its last release tag.
    pub(crate) changes: BTreeMap<String, Change>,
    /// `CHANGELOG.md`, when present.
    pub(crate) changelog: Option<String>,
    /// What `cargo xtask codegen --check` reports (empty when up to date).
    pub(crate) codegen: Vec<String>,
}

/// What changed in a crate's directory since its last release tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// No release tag of the crate is reachable from `HEAD`: everything is new.
    NoTag,
    /// `files` files changed since `tag`.
    Changed { tag: String, files: usize },
    /// Nothing changed since `tag`.
    Unchanged { tag: String },
}

impl Change {
    fn needs_entry(&self) -> bool {
        !matches!(self, Change::Unchanged { .. })
    }

    fn describe(&self) -> String {
        match self {
            Change::NoTag => "no release tag".to_owned(),
            Change::Changed { tag, files } => format!("{files} file(s) changed since {tag}"),
            Change::Unchanged { tag } => format!("unchanged since {tag}"),
        }
    }
}

impl Facts {
    /// Gathers the facts of the workspace at `root`: `cargo metadata`, the manifests, git, the
    /// changelog, and `codegen_check(root)` for stale generated code.
    pub(crate) fn gather(
        tools: &Tools,
        root: &Path,
        codegen_check: &dyn Fn(&Path) -> Result<Vec<String>, String>,
    ) -> Result<Self, String> {
        let workspace = Workspace::load(tools, root)?;
        let root = workspace.root.clone();
        let root_manifest = Manifest::read(&root.join("Cargo.toml"))?;
        let mut inherits_version = BTreeMap::new();
        for package in workspace.publishable() {
            let manifest = Manifest::read(&package.manifest_path)?;
            inherits_version.insert(package.name.clone(), manifest.version_inherited());
        }
        let uncommitted = git::uncommitted(tools, &root)?;
        let tags = git::tags(tools, &root)?;
        let mut reachable_cache: BTreeMap<String, bool> = BTreeMap::new();
        let mut changes = BTreeMap::new();
        for package in workspace.publishable() {
            let mut reachable = |tag: &str| -> Result<bool, String> {
                if let Some(known) = reachable_cache.get(tag) {
                    return Ok(*known);
                }
                let answer = git::is_ancestor(tools, &root, tag)?;
                reachable_cache.insert(tag.to_owned(), answer);
                Ok(answer)
            };
            let change = match git::last_tag(&tags, &package.name, &mut reachable)? {
                None => Change::NoTag,
                Some(tag) => {
                    let dir = workspace.relative(&package.dir);
                    let files = git::changed_since(tools, &root, &tag, &dir)?.len();
                    if files == 0 {
                        Change::Unchanged { tag }
                    } else {
                        Change::Changed { tag, files }
                    }
                }
            };
            changes.insert(package.name.clone(), change);
        }
        let changelog_path = root.join(CHANGELOG);
        let changelog = if changelog_path.exists() {
            Some(
                std::fs::read_to_string(&changelog_path)
                    .map_err(|e| format!("cannot read {}: {e}", changelog_path.display()))?,
            )
        } else {
            None
        };
        let codegen = codegen_check(&root)?;
        Ok(Facts {
            workspace,
            root_manifest,
            inherits_version,
            uncommitted,
            changes,
            changelog,
            codegen,
        })
    }
}

/// One crate in publish order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) current: Version,
    /// The internal crates it needs published first (normal and build dependencies).
    pub(crate) after: Vec<String>,
    pub(crate) change: Change,
    /// Whether the Unreleased section of the changelog names the crate.
    pub(crate) has_entry: bool,
}

/// The release plan.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) bump: Bump,
    /// `[workspace.package] version`.
    pub(crate) current: Version,
    pub(crate) next: Version,
    /// The publishable crates in publish order.
    pub(crate) steps: Vec<Step>,
    /// The members that are not published.
    pub(crate) unpublished: Vec<String>,
    pub(crate) blockers: Vec<String>,
    pub(crate) notes: Vec<String>,
    /// `[workspace.package] repository`, for changelog links.
    pub(crate) repository: Option<String>,
}

/// Computes the plan from `facts`. Errors only when there is nothing to plan from (no
/// `[workspace.package] version`, or a `--bump` that does not move it forward).
pub(crate) fn plan(facts: &Facts, bump: &Bump) -> Result<Plan, String> {
    let ws = &facts.workspace;
    let current = facts.root_manifest.workspace_version()?.ok_or_else(|| {
        format!(
            "{}: no [workspace.package] version: the crates are released in lockstep from it",
            ws.relative(&facts.root_manifest.path)
        )
    })?;
    let next = bump.apply(&current)?;
    let mut blockers = Vec::new();
    let mut notes = Vec::new();

    if !facts.uncommitted.is_empty() {
        const SHOWN: usize = 8;
        let mut listed: Vec<&str> = facts
            .uncommitted
            .iter()
            .take(SHOWN)
            .map(|line| line.trim())
            .collect();
        if facts.uncommitted.len() > SHOWN {
            listed.push("…");
        }
        blockers.push(format!(
            "uncommitted changes (git status --porcelain): {} path(s): {}",
            facts.uncommitted.len(),
            listed.join(", ")
        ));
    }

    let order = publish_order(ws);
    let order = match order {
        Ok(order) => order,
        Err(cycle) => {
            blockers.push(cycle);
            ws.publishable().map(|p| p.name.clone()).collect()
        }
    };
    blockers.extend(package_blockers(ws));
    for package in ws.publishable() {
        if facts.inherits_version.get(&package.name) != Some(&true) {
            blockers.push(format!(
                "{}: `version` is not `version.workspace = true`; the crates are released in \
                 lockstep from [workspace.package] version",
                package.name
            ));
        } else if package.version != current {
            blockers.push(format!(
                "{}: version {} differs from [workspace.package] version {current}",
                package.name, package.version
            ));
        }
    }
    blockers.extend(dev_dependency_blockers(ws, &order));

    let (entries, changelog_blockers, changelog_notes) = changelog_state(facts);
    blockers.extend(changelog_blockers);
    notes.extend(changelog_notes);

    if !facts.codegen.is_empty() {
        blockers.push(format!(
            "stale codegen (`cargo xtask codegen --check`): {}",
            facts.codegen.join("; ")
        ));
    }

    let mut steps = Vec::new();
    for name in &order {
        let Some(package) = ws.member(name) else {
            continue;
        };
        let change = facts.changes.get(name).cloned().unwrap_or(Change::NoTag);
        steps.push(Step {
            name: name.clone(),
            current: package.version.clone(),
            after: package
                .internal_deps(ws, &[DepKind::Normal, DepKind::Build])
                .into_iter()
                .filter(|d| ws.member(d).is_some_and(|m| m.publish))
                .collect(),
            has_entry: entries.contains(name),
            change,
        });
    }
    if !steps.is_empty() && steps.iter().all(|s| !s.change.needs_entry()) {
        blockers.push("no crate changed since its last release tag: nothing to release".to_owned());
    }
    let has_unreleased = facts
        .changelog
        .as_deref()
        .and_then(changelog::unreleased)
        .is_some();
    for step in &steps {
        if has_unreleased && step.change.needs_entry() && !step.has_entry {
            blockers.push(format!(
                "{}: {}, and {CHANGELOG} has no entry for it under Unreleased \
                 (add a list item \"- `{}`: …\")",
                step.name,
                step.change.describe(),
                step.name
            ));
        }
    }
    if steps.is_empty() {
        blockers.push("the workspace has no publishable crate".to_owned());
    }

    Ok(Plan {
        bump: bump.clone(),
        current,
        next,
        steps,
        unpublished: ws
            .members
            .iter()
            .filter(|p| !p.publish)
            .map(|p| p.name.clone())
            .collect(),
        blockers,
        notes,
        repository: facts
            .root_manifest
            .doc
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("repository"))
            .and_then(|r| r.as_str())
            .map(str::to_owned),
    })
}

/// The crates the changelog's Unreleased section names, and what is wrong with the changelog.
fn changelog_state(facts: &Facts) -> (BTreeSet<String>, Vec<String>, Vec<String>) {
    let mut blockers = Vec::new();
    let mut notes = Vec::new();
    let Some(text) = facts.changelog.as_deref() else {
        blockers.push(format!("{CHANGELOG} is missing at the workspace root"));
        return (BTreeSet::new(), blockers, notes);
    };
    let Some(section) = changelog::unreleased(text) else {
        blockers.push(format!("{CHANGELOG} has no `## [Unreleased]` section"));
        return (BTreeSet::new(), blockers, notes);
    };
    let named = changelog::crates_named(&text[section.body]);
    let publishable: BTreeSet<&str> = facts
        .workspace
        .publishable()
        .map(|p| p.name.as_str())
        .collect();
    for name in &named {
        if !publishable.contains(name.as_str()) {
            notes.push(format!(
                "{CHANGELOG}: an Unreleased entry names `{name}`, which is not a publishable crate"
            ));
        }
    }
    (named, blockers, notes)
}

/// The publishable crates in publish order: each after the internal crates it depends on
/// (normal and build dependencies; dev-dependencies do not order). Among crates whose
/// dependencies are all placed, the alphabetically first comes first. Errors on a cycle.
pub(crate) fn publish_order(ws: &Workspace) -> Result<Vec<String>, String> {
    let mut pending: BTreeMap<String, BTreeSet<String>> = ws
        .publishable()
        .map(|p| {
            let deps = p
                .internal_deps(ws, &[DepKind::Normal, DepKind::Build])
                .into_iter()
                .filter(|d| ws.member(d).is_some_and(|m| m.publish))
                .collect();
            (p.name.clone(), deps)
        })
        .collect();
    let mut order = Vec::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .find(|(_, deps)| deps.iter().all(|d| order.contains(d)))
            .map(|(name, _)| name.clone());
        let Some(ready) = ready else {
            let stuck: Vec<&str> = pending.keys().map(String::as_str).collect();
            return Err(format!(
                "dependency cycle among {}: no publish order exists",
                stuck.join(", ")
            ));
        };
        pending.remove(&ready);
        order.push(ready);
    }
    Ok(order)
}

/// What blocks the publication of each publishable crate on its own: missing metadata, a
/// missing readme file, path dependencies without a matching `version`, git dependencies, and
/// dependencies on members that are not published.
pub(crate) fn package_blockers(ws: &Workspace) -> Vec<String> {
    let mut blockers = Vec::new();
    for package in ws.publishable() {
        let fields: [(&str, &Option<String>); 6] = [
            ("description", &package.description),
            ("license", &package.license),
            ("repository", &package.repository),
            ("readme", &package.readme),
            ("rust-version", &package.rust_version),
            ("documentation", &package.documentation),
        ];
        let missing: Vec<&str> = fields
            .iter()
            .filter(|(_, value)| value.is_none())
            .map(|(field, _)| *field)
            .collect();
        if !missing.is_empty() {
            blockers.push(format!(
                "{}: missing {} in {} (nor inherited from [workspace.package])",
                package.name,
                missing
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                ws.relative(&package.manifest_path)
            ));
        }
        if let Some(readme) = &package.readme
            && !package.dir.join(readme).is_file()
        {
            blockers.push(format!(
                "{}: readme `{readme}` does not exist in {}",
                package.name,
                ws.relative(&package.dir)
            ));
        }
        blockers.extend(dependency_blockers(ws, package));
    }
    blockers
}

fn dependency_blockers(ws: &Workspace, package: &Package) -> Vec<String> {
    let mut blockers = Vec::new();
    for dep in &package.dependencies {
        if dep.kind == DepKind::Dev {
            continue;
        }
        let kind = dep.kind.table();
        let target = dep
            .target
            .as_deref()
            .map(|t| format!(" (target {t})"))
            .unwrap_or_default();
        if dep.source.as_deref().is_some_and(|s| s.starts_with("git+")) {
            blockers.push(format!(
                "{}: [{kind}] `{}`{target} is a git dependency, which crates.io refuses",
                package.name, dep.name
            ));
            continue;
        }
        let Some(path) = &dep.path else {
            continue;
        };
        let member = ws.member_at(path);
        if dep.req == "*" {
            blockers.push(format!(
                "{}: [{kind}] `{}`{target} is a path dependency without `version`",
                package.name, dep.name
            ));
        } else if let Some(member) = member
            && !req_matches(&dep.req, &member.version)
        {
            blockers.push(format!(
                "{}: [{kind}] `{}`{target} requires `{}`, which does not match its version {}",
                package.name, dep.name, dep.req, member.version
            ));
        }
        if let Some(member) = member
            && !member.publish
        {
            blockers.push(format!(
                "{}: [{kind}] `{}`{target} is a workspace member that is not published",
                package.name, member.name
            ));
        }
    }
    blockers
}

/// Dev-dependencies on internal crates that are not published, or are published later in
/// `order`, must be path-only (cargo then leaves them out of the package) or go.
fn dev_dependency_blockers(ws: &Workspace, order: &[String]) -> Vec<String> {
    let mut blockers = Vec::new();
    for package in ws.publishable() {
        let position = order.iter().position(|n| *n == package.name);
        for dep in package
            .dependencies
            .iter()
            .filter(|d| d.kind == DepKind::Dev)
        {
            let Some(member) = dep.path.as_deref().and_then(|p| ws.member_at(p)) else {
                continue;
            };
            if dep.req == "*" || member.name == package.name {
                continue;
            }
            let later = match (position, order.iter().position(|n| *n == member.name)) {
                (Some(own), Some(theirs)) => theirs > own,
                _ => false,
            };
            if !member.publish {
                blockers.push(format!(
                    "{}: [dev-dependencies] `{}` is not published but carries `version = \"{}\"`: \
                     make it path-only (no `version`, not `workspace = true`) or remove it",
                    package.name, member.name, dep.req
                ));
            } else if later {
                blockers.push(format!(
                    "{}: [dev-dependencies] `{}` is published after it but carries \
                     `version = \"{}\"`: make it path-only (no `version`, not \
                     `workspace = true`) or remove it",
                    package.name, member.name, dep.req
                ));
            } else if !req_matches(&dep.req, &member.version) {
                blockers.push(format!(
                    "{}: [dev-dependencies] `{}` requires `{}`, which does not match its \
                     version {}",
                    package.name, member.name, dep.req, member.version
                ));
            }
        }
    }
    blockers
}

impl Plan {
    /// The plan as printed by `cargo xtask release plan`.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "release plan: {} -> {} ({} bump of [workspace.package] version)",
            self.current,
            self.next,
            self.bump.describe()
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "publish order ({} crates):", self.steps.len());
        let width = self.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for (i, step) in self.steps.iter().enumerate() {
            let after = if step.after.is_empty() {
                String::new()
            } else {
                format!("  after {}", step.after.join(", "))
            };
            let _ = writeln!(
                out,
                "  {:>2}. {:<width$}  {} -> {}{after}",
                i + 1,
                step.name,
                step.current,
                self.next,
            );
        }
        if !self.unpublished.is_empty() {
            let _ = writeln!(out, "not published: {}", self.unpublished.join(", "));
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "changes and {CHANGELOG} entries:");
        for step in &self.steps {
            let entry = match (step.change.needs_entry(), step.has_entry) {
                (_, true) => "entry under Unreleased",
                (true, false) => "NO entry under Unreleased",
                (false, false) => "no entry needed",
            };
            let _ = writeln!(
                out,
                "  {:<width$}  {}; {entry}",
                step.name,
                step.change.describe()
            );
        }
        let _ = writeln!(out);
        if self.blockers.is_empty() {
            let _ = writeln!(out, "blockers: none");
        } else {
            let _ = writeln!(out, "blockers ({}):", self.blockers.len());
            for blocker in &self.blockers {
                let _ = writeln!(out, "  - {blocker}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "notes:");
            for note in &self.notes {
                let _ = writeln!(out, "  - {note}");
            }
        }
        out
    }
}
