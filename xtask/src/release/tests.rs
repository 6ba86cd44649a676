//! Tests of the release planning, preparation and checks, over temporary workspaces made with
//! real `cargo` and `git`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::civil::date;
use semver::Version;

use super::audit::{self, RefKind, Reference};
use super::changelog;
use super::check;
use super::git;
use super::manifest::Manifest;
use super::plan::{self, Change, Facts};
use super::prepare;
use super::version::{Bump, req_matches, rewrite_req};
use super::{Options, Tools, parse_date};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A workspace in a fresh temporary directory, removed on drop.
struct TempWs {
    root: PathBuf,
}

impl TempWs {
    fn new(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let root =
            std::env::temp_dir().join(format!("xtask-release-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        TempWs {
            root: std::fs::canonicalize(&root).unwrap(),
        }
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    fn remove(&self, rel: &str) {
        std::fs::remove_file(self.root.join(rel)).unwrap();
    }

    fn tools(&self) -> Tools {
        Tools::from_env()
            .with_env("CARGO_TARGET_DIR", self.root.join("target"))
            .with_env("GIT_AUTHOR_NAME", "Release Test")
            .with_env("GIT_AUTHOR_EMAIL", "release@example.com")
            .with_env("GIT_COMMITTER_NAME", "Release Test")
            .with_env("GIT_COMMITTER_EMAIL", "release@example.com")
            .with_env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .with_env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
    }

    fn git(&self, args: &[&str]) -> String {
        let output = self.tools().git(&self.root).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn cargo(&self, args: &[&str]) {
        let output = self.tools().cargo(&self.root).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "cargo {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `git init` and one commit of everything (the target directory ignored).
    fn commit_all(&self, message: &str) {
        if !self.root.join(".git").exists() {
            self.write(".gitignore", "/target\n");
            self.git(&["init", "-q", "-b", "main"]);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn facts_with(&self, codegen: &dyn Fn(&Path) -> Result<Vec<String>, String>) -> Facts {
        Facts::gather(&self.tools(), &self.root, codegen).unwrap()
    }

    fn facts(&self) -> Facts {
        self.facts_with(&|_| Ok(Vec::new()))
    }

    fn plan(&self) -> plan::Plan {
        plan::plan(&self.facts(), &Bump::Patch).unwrap()
    }
}

impl Drop for TempWs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const ROOT_MANIFEST: &str = r#"[workspace]
resolver = "3"
members = ["crates/*"]

[workspace.package]
version = "0.3.0" # the release version
edition = "2024"
rust-version = "1.85"
license = "MIT OR Apache-2.0"
repository = "https://example.com/acme/widgets"

[workspace.dependencies]
# internal crates
w-core = { path = "crates/w-core", version = "0.3.0" }
w-gen = { path = "crates/w-gen", version = "0.3.0" }
w-net = { path = "crates/w-net", version = "=0.3.0", default-features = false }
"#;

/// A complete publishable crate manifest with `deps` appended.
fn manifest(name: &str, deps: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
description = "The {name} crate."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
readme = "README.md"
documentation = "https://docs.rs/{name}"
{deps}"#
    )
}

fn add_crate(ws: &TempWs, name: &str, manifest_text: &str) {
    ws.write(&format!("crates/{name}/Cargo.toml"), manifest_text);
    ws.write(
        &format!("crates/{name}/src/lib.rs"),
        &format!("//! The {name} crate.\n"),
    );
    ws.write(&format!("crates/{name}/README.md"), &format!("# {name}\n"));
}

const CHANGELOG_ALL: &str = "# Changelog

## [Unreleased]

### Added

- `w-core`, `w-gen`: the first version.
- `w-net` and `w-app`: the network layer and the app.

[Unreleased]: https://example.com/acme/widgets/commits/main
";

/// w-app → w-net → (w-core, build: w-gen); w-core has a path-only dev-dependency on w-app;
/// w-tool is not published.
fn layered() -> TempWs {
    let ws = TempWs::new("layered");
    ws.write("Cargo.toml", ROOT_MANIFEST);
    add_crate(
        &ws,
        "w-app",
        &manifest(
            "w-app",
            "\n[dependencies]\nw-net = { workspace = true }\nw-core = { path = \"../w-core\", version = \"0.3.0\" }\n",
        ),
    );
    add_crate(
        &ws,
        "w-net",
        &manifest(
            "w-net",
            "\n[dependencies]\nw-core = { workspace = true }\n\n[build-dependencies]\nw-gen = { workspace = true }\n\n[dev-dependencies]\nw-tool = { path = \"../w-tool\" }\n",
        ),
    );
    add_crate(
        &ws,
        "w-core",
        &manifest(
            "w-core",
            "\n[dev-dependencies]\nw-app = { path = \"../w-app\" }\n",
        ),
    );
    add_crate(&ws, "w-gen", &manifest("w-gen", ""));
    add_crate(
        &ws,
        "w-tool",
        "[package]\nname = \"w-tool\"\nversion.workspace = true\nedition.workspace = true\npublish = false\n",
    );
    ws.write("CHANGELOG.md", CHANGELOG_ALL);
    ws.cargo(&["generate-lockfile", "--offline"]);
    ws.commit_all("initial");
    ws
}

#[test]
fn plan_orders_by_normal_and_build_dependencies_and_has_no_blockers() {
    let ws = layered();
    let plan = ws.plan();
    assert_eq!(plan.blockers, Vec::<String>::new());
    assert_eq!(plan.notes, Vec::<String>::new());
    assert_eq!(plan.current, Version::new(0, 3, 0));
    assert_eq!(plan.next, Version::new(0, 3, 1));
    let order: Vec<(&str, Vec<&str>)> = plan
        .steps
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.after.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("w-core", vec![]),
            ("w-gen", vec![]),
            ("w-net", vec!["w-core", "w-gen"]),
            ("w-app", vec!["w-core", "w-net"]),
        ]
    );
    assert_eq!(plan.unpublished, vec!["w-tool".to_owned()]);
    assert!(
        plan.steps
            .iter()
            .all(|s| s.change == Change::NoTag && s.has_entry)
    );
    assert_eq!(
        plan.render(),
        "release plan: 0.3.0 -> 0.3.1 (patch bump of [workspace.package] version)

publish order (4 crates):
   1. w-core  0.3.0 -> 0.3.1
   2. w-gen   0.3.0 -> 0.3.1
   3. w-net   0.3.0 -> 0.3.1  after w-core, w-gen
   4. w-app   0.3.0 -> 0.3.1  after w-core, w-net
not published: w-tool

changes and CHANGELOG.md entries:
  w-core  no release tag; entry under Unreleased
  w-gen   no release tag; entry under Unreleased
  w-net   no release tag; entry under Unreleased
  w-app   no release tag; entry under Unreleased

blockers: none
"
    );
}

#[test]
fn publish_order_reports_a_cycle() {
    let ws = TempWs::new("cycle");
    ws.write("Cargo.toml", ROOT_MANIFEST);
    add_crate(
        &ws,
        "w-a",
        &manifest(
            "w-a",
            "\n[dependencies]\nw-b = { path = \"../w-b\", version = \"0.3.0\" }\n",
        ),
    );
    add_crate(
        &ws,
        "w-b",
        &manifest(
            "w-b",
            "\n[dependencies]\nw-a = { path = \"../w-a\", version = \"0.3.0\" }\n",
        ),
    );
    add_crate(&ws, "w-c", &manifest("w-c", ""));
    let workspace = super::workspace::Workspace::load(&ws.tools(), &ws.root).unwrap();
    assert_eq!(
        plan::publish_order(&workspace),
        Err("dependency cycle among w-a, w-b: no publish order exists".to_owned())
    );
}

#[test]
fn missing_metadata_blocks_and_workspace_inheritance_counts() {
    let ws = TempWs::new("metadata");
    ws.write("Cargo.toml", ROOT_MANIFEST);
    // Nothing declared: every field is missing (inheriting needs `field.workspace = true`).
    ws.write(
        "crates/w-bare/Cargo.toml",
        "[package]\nname = \"w-bare\"\nversion.workspace = true\nedition.workspace = true\n",
    );
    ws.write("crates/w-bare/src/lib.rs", "//! bare\n");
    // Everything inherited or declared, but the readme file is absent.
    ws.write("crates/w-full/Cargo.toml", &manifest("w-full", ""));
    ws.write("crates/w-full/src/lib.rs", "//! full\n");
    // A license file counts as a license.
    ws.write(
        "crates/w-lic/Cargo.toml",
        &manifest("w-lic", "").replace("license.workspace = true", "license-file = \"LICENSE\""),
    );
    ws.write("crates/w-lic/src/lib.rs", "//! lic\n");
    ws.write("crates/w-lic/README.md", "# w-lic\n");
    ws.write("crates/w-lic/LICENSE", "license text\n");
    let workspace = super::workspace::Workspace::load(&ws.tools(), &ws.root).unwrap();
    assert_eq!(
        plan::package_blockers(&workspace),
        vec![
            "w-bare: missing `description`, `license`, `repository`, `readme`, `rust-version`, \
             `documentation` in crates/w-bare/Cargo.toml (nor inherited from [workspace.package])"
                .to_owned(),
            "w-full: readme `README.md` does not exist in crates/w-full".to_owned(),
        ]
    );
}

#[test]
fn path_dependencies_need_a_matching_version() {
    let ws = TempWs::new("pathdeps");
    ws.write("Cargo.toml", ROOT_MANIFEST);
    add_crate(&ws, "w-core", &manifest("w-core", ""));
    add_crate(
        &ws,
        "w-tool",
        "[package]\nname = \"w-tool\"\nversion.workspace = true\nedition.workspace = true\npublish = false\n",
    );
    add_crate(
        &ws,
        "w-net",
        &manifest(
            "w-net",
            "
[dependencies]
w-core = { path = \"../w-core\" }

[build-dependencies]
w-core = { path = \"../w-core\", version = \"0.2\" }

[target.'cfg(unix)'.dependencies]
w-tool = { path = \"../w-tool\", version = \"0.3.0\" }

[dev-dependencies]
w-tool = { path = \"../w-tool\", version = \"0.3.0\" }
",
        ),
    );
    // A dev-dependency on a crate published later must not carry a version; path-only is fine.
    add_crate(
        &ws,
        "w-base",
        &manifest(
            "w-base",
            "\n[dev-dependencies]\nw-net = { path = \"../w-net\", version = \"0.3.0\" }\nw-core = { path = \"../w-core\" }\n",
        ),
    );
    ws.write(
        "CHANGELOG.md",
        "## [Unreleased]\n\n- `w-core`, `w-net`, `w-base`: new.\n",
    );
    ws.commit_all("initial");
    let plan = ws.plan();
    assert_eq!(
        plan.blockers,
        vec![
            "w-net: [dependencies] `w-core` is a path dependency without `version`".to_owned(),
            "w-net: [build-dependencies] `w-core` requires `^0.2`, which does not match its \
             version 0.3.0"
                .to_owned(),
            "w-net: [dependencies] `w-tool` (target cfg(unix)) is a workspace member that is not \
             published"
                .to_owned(),
            "w-base: [dev-dependencies] `w-net` is published after it but carries \
             `version = \"^0.3.0\"`: make it path-only (no `version`, not `workspace = true`) or \
             remove it"
                .to_owned(),
            "w-net: [dev-dependencies] `w-tool` is not published but carries \
             `version = \"^0.3.0\"`: make it path-only (no `version`, not `workspace = true`) or \
             remove it"
                .to_owned(),
        ]
    );
    let order: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(order, ["w-base", "w-core", "w-net"]);
}

#[test]
fn changelog_entries_are_required_for_crates_changed_since_their_tag() {
    let ws = layered();
    // Without tags every crate counts as changed; drop two entries.
    ws.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [Unreleased]\n\n### Fixed\n\n- `w-core`, `w-gen`: fixes.\n- `w-old`: gone.\n",
    );
    ws.commit_all("changelog without w-net and w-app");
    let plan = ws.plan();
    assert_eq!(
        plan.blockers,
        vec![
            "w-net: no release tag, and CHANGELOG.md has no entry for it under Unreleased \
             (add a list item \"- `w-net`: …\")"
                .to_owned(),
            "w-app: no release tag, and CHANGELOG.md has no entry for it under Unreleased \
             (add a list item \"- `w-app`: …\")"
                .to_owned(),
        ]
    );
    assert_eq!(
        plan.notes,
        vec![
            "CHANGELOG.md: an Unreleased entry names `w-old`, which is not a publishable crate"
                .to_owned()
        ]
    );

    // After a release tag only the crates whose directory changed need an entry. The
    // crate-specific tag of w-net names a later version than the workspace tag, so it wins.
    ws.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [Unreleased]\n\n[Unreleased]: x\n",
    );
    ws.commit_all("release 0.3.0");
    ws.git(&["tag", "v0.3.0"]);
    ws.write("crates/w-net/src/lib.rs", "//! The w-net crate, changed.\n");
    ws.commit_all("w-net changed");
    ws.git(&["tag", "w-net-v0.3.1"]);
    ws.write("crates/w-net/src/extra.rs", "//! more\n");
    ws.write("crates/w-app/src/lib.rs", "//! The w-app crate, changed.\n");
    ws.commit_all("w-net and w-app changed");
    let facts = ws.facts();
    let changes: Vec<(&str, &Change)> =
        facts.changes.iter().map(|(k, v)| (k.as_str(), v)).collect();
    assert_eq!(
        changes,
        vec![
            (
                "w-app",
                &Change::Changed {
                    tag: "v0.3.0".to_owned(),
                    files: 1
                }
            ),
            (
                "w-core",
                &Change::Unchanged {
                    tag: "v0.3.0".to_owned()
                }
            ),
            (
                "w-gen",
                &Change::Unchanged {
                    tag: "v0.3.0".to_owned()
                }
            ),
            (
                "w-net",
                &Change::Changed {
                    tag: "w-net-v0.3.1".to_owned(),
                    files: 1
                }
            ),
        ]
    );
    let plan = plan::plan(&facts, &Bump::Minor).unwrap();
    assert_eq!(plan.next, Version::new(0, 4, 0));
    assert_eq!(
        plan.blockers,
        vec![
            "w-net: 1 file(s) changed since w-net-v0.3.1, and CHANGELOG.md has no entry for it \
             under Unreleased (add a list item \"- `w-net`: …\")"
                .to_owned(),
            "w-app: 1 file(s) changed since v0.3.0, and CHANGELOG.md has no entry for it under \
             Unreleased (add a list item \"- `w-app`: …\")"
                .to_owned(),
        ]
    );

    ws.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [Unreleased]\n\n### Changed\n\n- `w-net`, `w-app`: faster.\n\n[Unreleased]: x\n",
    );
    ws.commit_all("changelog");
    let plan = ws.plan();
    assert_eq!(plan.blockers, Vec::<String>::new());

    // A tag that is not an ancestor of HEAD is not a release of this branch.
    ws.git(&["checkout", "-q", "-b", "side"]);
    ws.write("crates/w-core/src/lib.rs", "//! side\n");
    ws.commit_all("side");
    ws.git(&["tag", "w-core-v9.0.0"]);
    ws.git(&["checkout", "-q", "main"]);
    let facts = ws.facts();
    assert_eq!(
        facts.changes.get("w-core"),
        Some(&Change::Unchanged {
            tag: "v0.3.0".to_owned()
        })
    );
}

#[test]
fn nothing_changed_since_the_tag_blocks() {
    let ws = layered();
    ws.git(&["tag", "v0.3.0"]);
    let plan = ws.plan();
    assert_eq!(
        plan.blockers,
        vec!["no crate changed since its last release tag: nothing to release".to_owned()]
    );
}

#[test]
fn a_missing_changelog_or_section_blocks() {
    let ws = layered();
    ws.remove("CHANGELOG.md");
    ws.commit_all("no changelog");
    assert_eq!(
        ws.plan().blockers,
        vec!["CHANGELOG.md is missing at the workspace root".to_owned()]
    );
    ws.write(
        "CHANGELOG.md",
        "# Changelog\n\n## [0.2.0] - 2025-01-01\n\n- `w-core`: x\n",
    );
    ws.commit_all("no unreleased");
    assert_eq!(
        ws.plan().blockers,
        vec!["CHANGELOG.md has no `## [Unreleased]` section".to_owned()]
    );
}

#[test]
fn uncommitted_changes_and_stale_codegen_block() {
    let ws = layered();
    ws.write("crates/w-core/src/lib.rs", "//! edited\n");
    ws.write("notes.txt", "new\n");
    let facts = ws.facts_with(&|_| Ok(vec!["crates/w-core/src/gen.rs: stale".to_owned()]));
    let plan = plan::plan(&facts, &Bump::Patch).unwrap();
    assert_eq!(
        plan.blockers,
        vec![
            "uncommitted changes (git status --porcelain): 2 path(s): M crates/w-core/src/lib.rs, \
             ?? notes.txt"
                .to_owned(),
            "stale codegen (`cargo xtask codegen --check`): crates/w-core/src/gen.rs: stale"
                .to_owned(),
        ]
    );
}

#[test]
fn a_version_not_inherited_blocks() {
    let ws = layered();
    let text = ws.read("crates/w-gen/Cargo.toml");
    ws.write(
        "crates/w-gen/Cargo.toml",
        &text.replace("\nversion.workspace = true", "\nversion = \"0.3.0\""),
    );
    ws.commit_all("own version");
    assert_eq!(
        ws.plan().blockers,
        vec![
            "w-gen: `version` is not `version.workspace = true`; the crates are released in \
             lockstep from [workspace.package] version"
                .to_owned()
        ]
    );
}

#[test]
fn bumps() {
    let v = |s: &str| Version::parse(s).unwrap();
    assert_eq!(Bump::Patch.apply(&v("0.3.0")), Ok(v("0.3.1")));
    assert_eq!(Bump::Minor.apply(&v("0.3.7")), Ok(v("0.4.0")));
    assert_eq!(Bump::Major.apply(&v("0.3.7")), Ok(v("1.0.0")));
    assert_eq!(Bump::Patch.apply(&v("1.2.3-rc.1")), Ok(v("1.2.4")));
    assert_eq!(Bump::parse("2.0.0-rc.1"), Ok(Bump::Exact(v("2.0.0-rc.1"))));
    assert_eq!(
        Bump::parse("2.0.0-rc.1").unwrap().apply(&v("1.9.0")),
        Ok(v("2.0.0-rc.1"))
    );
    assert_eq!(
        Bump::Exact(v("0.3.0")).apply(&v("0.3.0")),
        Err("--bump 0.3.0 is not greater than the current version 0.3.0".to_owned())
    );
    assert_eq!(
        Bump::parse("next"),
        Err(
            "--bump `next` is neither patch, minor, major nor a version: unexpected character \
             'n' while parsing major version number"
                .to_owned()
        )
    );
    assert_eq!(
        Bump::Patch.apply(&Version::new(0, 0, u64::MAX)),
        Err("the patch number overflows".to_owned())
    );
}

#[test]
fn requirements() {
    let next = Version::new(0, 4, 0);
    assert_eq!(rewrite_req("0.3.0", &next), "0.4.0");
    assert_eq!(rewrite_req("=0.3.0", &next), "=0.4.0");
    assert_eq!(rewrite_req("^0.3", &next), "^0.4.0");
    assert_eq!(rewrite_req("~0.3.0", &next), "~0.4.0");
    assert!(req_matches("^0.3.0", &Version::new(0, 3, 9)));
    assert!(!req_matches("^0.3.0", &Version::new(0, 4, 0)));
    assert!(req_matches("*", &next));
    assert!(!req_matches("not a req", &next));
}

#[test]
fn options_and_dates() {
    let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        Options::parse(
            "prepare",
            &args(&["--bump", "minor", "--date", "2026-02-28"])
        ),
        Ok(Options {
            bump: Bump::Minor,
            date: Some(date(2026, 2, 28)),
            allow_dirty: false,
            help: false,
        })
    );
    assert_eq!(
        Options::parse("check", &args(&["--allow-dirty"])).map(|o| o.allow_dirty),
        Ok(true)
    );
    assert!(
        Options::parse("plan", &args(&["--date", "2026-02-28"]))
            .unwrap_err()
            .starts_with("unknown argument `--date` for `release plan`")
    );
    assert!(
        Options::parse("check", &args(&["--bump", "patch"]))
            .unwrap_err()
            .starts_with("unknown argument `--bump` for `release check`")
    );
    assert_eq!(
        Options::parse("plan", &args(&["--bump"])),
        Err("--bump needs patch, minor, major or a version".to_owned())
    );
    assert_eq!(parse_date("2024-02-29"), Ok(date(2024, 2, 29)));
    assert_eq!(
        parse_date("2026-1-5"),
        Err("--date `2026-1-5` is not of the form YYYY-MM-DD".to_owned())
    );
    assert!(
        parse_date("2025-02-29")
            .unwrap_err()
            .starts_with("--date `2025-02-29` is not a calendar day: ")
    );
}

#[test]
fn tags_name_versions() {
    assert_eq!(
        git::tag_version("v0.3.0", "w-net"),
        Some(Version::new(0, 3, 0))
    );
    assert_eq!(
        git::tag_version("w-net-v0.3.1", "w-net"),
        Some(Version::new(0, 3, 1))
    );
    assert_eq!(git::tag_version("w-net-v0.3.1", "w"), None);
    assert_eq!(git::tag_version("w-network-v1.0.0", "w-net"), None);
    assert_eq!(git::tag_version("release-1", "w-net"), None);
    let tags: Vec<String> = [
        "v0.1.0",
        "v0.2.0",
        "w-net-v0.2.0",
        "w-net-v0.1.5",
        "v0.10.0",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut all = |_: &str| Ok(true);
    assert_eq!(
        git::last_tag(&tags, "w-net", &mut all),
        Ok(Some("v0.10.0".to_owned()))
    );
    let mut not_ten = |t: &str| Ok(t != "v0.10.0");
    assert_eq!(
        git::last_tag(&tags, "w-net", &mut not_ten),
        Ok(Some("w-net-v0.2.0".to_owned()))
    );
    let mut none = |_: &str| Ok(false);
    assert_eq!(git::last_tag(&tags, "w-net", &mut none), Ok(None));
}

#[test]
fn changelog_entries_name_crates() {
    let body = "
### Added

- `a`: one.
- `b`, `c` and `d`: several.
* `e`: star.
- Plain prose: no crate.
- `f` then prose: not a crate list.
  - `g`: nested items do not count.
- `h`
";
    let named: Vec<String> = changelog::crates_named(body).into_iter().collect();
    assert_eq!(named, ["a", "b", "c", "d", "e"]);
}

#[test]
fn changelog_first_release() {
    let text = "# Changelog

Intro.

## [Unreleased]

### Added

- `w-core`: first.

[Unreleased]: https://example.com/acme/widgets/commits/main
";
    assert_eq!(
        changelog::release(
            text,
            &Version::new(0, 3, 1),
            date(2026, 3, 4),
            Some("https://example.com/acme/widgets")
        ),
        Ok("# Changelog

Intro.

## [Unreleased]

## [0.3.1] - 2026-03-04

### Added

- `w-core`: first.

[Unreleased]: https://example.com/acme/widgets/compare/v0.3.1...HEAD
[0.3.1]: https://example.com/acme/widgets/releases/tag/v0.3.1
"
        .to_owned())
    );
}

#[test]
fn changelog_next_release() {
    let text = "# Changelog

## [Unreleased]
### Fixed
- `w-net`: retry.

## [0.3.1] - 2026-03-04

- `w-core`: first.

[Unreleased]: https://example.com/acme/widgets/compare/v0.3.1...HEAD
[0.3.1]: https://example.com/acme/widgets/releases/tag/v0.3.1
";
    assert_eq!(
        changelog::release(text, &Version::new(0, 4, 0), date(2026, 5, 6), None),
        Ok("# Changelog

## [Unreleased]

## [0.4.0] - 2026-05-06

### Fixed
- `w-net`: retry.

## [0.3.1] - 2026-03-04

- `w-core`: first.

[Unreleased]: https://example.com/acme/widgets/compare/v0.4.0...HEAD
[0.4.0]: https://example.com/acme/widgets/compare/v0.3.1...v0.4.0
[0.3.1]: https://example.com/acme/widgets/releases/tag/v0.3.1
"
        .to_owned())
    );
    assert_eq!(
        changelog::release(text, &Version::new(0, 3, 1), date(2026, 5, 6), None),
        Err("CHANGELOG.md already has a section for 0.3.1".to_owned())
    );
    assert_eq!(
        changelog::release(
            "## [Unreleased]\n\n### Added\n\n",
            &Version::new(1, 0, 0),
            date(2026, 5, 6),
            None
        ),
        Err("CHANGELOG.md: the Unreleased section lists no change".to_owned())
    );
    assert_eq!(
        changelog::release(
            "# Changelog\n",
            &Version::new(1, 0, 0),
            date(2026, 5, 6),
            None
        ),
        Err("CHANGELOG.md has no `## [Unreleased]` section".to_owned())
    );
}

#[test]
fn manifest_bump_keeps_formatting() {
    let path = Path::new("/ws/Cargo.toml");
    let mut manifest = Manifest::parse(path, ROOT_MANIFEST).unwrap();
    assert_eq!(
        manifest.workspace_version(),
        Ok(Some(Version::new(0, 3, 0)))
    );
    let next = Version::new(0, 4, 0);
    manifest.set_workspace_version(&next).unwrap();
    let internal = |p: &Path| p.starts_with("/ws/crates") && !p.ends_with("w-gen");
    let edited = manifest.bump_internal_requirements(&next, &internal);
    assert_eq!(
        edited,
        [
            "workspace.dependencies.w-core",
            "workspace.dependencies.w-net"
        ]
    );
    assert_eq!(
        manifest.render(),
        ROOT_MANIFEST
            .replace(
                "version = \"0.3.0\" # the release version",
                "version = \"0.4.0\" # the release version"
            )
            .replace(
                "w-core = { path = \"crates/w-core\", version = \"0.3.0\" }",
                "w-core = { path = \"crates/w-core\", version = \"0.4.0\" }"
            )
            .replace("version = \"=0.3.0\"", "version = \"=0.4.0\"")
    );

    let member = "[package]\nname = \"m\"\n\n[dependencies.w-core]\npath = \"../w-core\"\nversion = \"0.3\"  # keep\n\n[target.'cfg(unix)'.dev-dependencies]\nw-net = { path = \"../w-net\", version = \"0.3.0\" }\nserde = \"1\"\n";
    let mut manifest = Manifest::parse(Path::new("/ws/crates/m/Cargo.toml"), member).unwrap();
    let internal = |p: &Path| p.starts_with("/ws/crates/m/../w-core") || p.ends_with("w-net");
    let edited = manifest.bump_internal_requirements(&next, &internal);
    assert_eq!(
        edited,
        [
            "dependencies.w-core",
            "target.cfg(unix).dev-dependencies.w-net"
        ]
    );
    assert_eq!(
        manifest.render(),
        member
            .replace("version = \"0.3\"  # keep", "version = \"0.4.0\"  # keep")
            .replace("version = \"0.3.0\" }", "version = \"0.4.0\" }")
    );
    assert!(!manifest.version_inherited());
    assert_eq!(
        Manifest::parse(path, "[workspace.package]\nversion = \"x\"\n")
            .unwrap()
            .workspace_version(),
        Err(
            "/ws/Cargo.toml: [workspace.package] version `x` is not semver: unexpected character \
             'x' while parsing major version number"
                .to_owned()
        )
    );
}

#[test]
fn prepare_bumps_moves_the_changelog_and_commits() {
    let ws = layered();
    let plan = ws.plan();
    let prepared = prepare::prepare(&ws.tools(), &ws.root, &plan, date(2026, 3, 4)).unwrap();
    assert_eq!(prepared.version, Version::new(0, 3, 1));
    let files: Vec<(&str, Vec<&str>)> = prepared
        .files
        .iter()
        .map(|(f, c)| (f.as_str(), c.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        files,
        vec![
            (
                "Cargo.toml",
                vec![
                    "[workspace.package] version",
                    "workspace.dependencies.w-core",
                    "workspace.dependencies.w-gen",
                    "workspace.dependencies.w-net",
                ]
            ),
            ("crates/w-app/Cargo.toml", vec!["dependencies.w-core"]),
            (
                "CHANGELOG.md",
                vec!["Unreleased moved under 0.3.1 - 2026-03-04"]
            ),
            ("Cargo.lock", vec!["workspace versions"]),
        ]
    );
    assert_eq!(
        ws.read("Cargo.toml"),
        ROOT_MANIFEST
            .replace("version = \"0.3.0\"", "version = \"0.3.1\"")
            .replace("version = \"=0.3.0\"", "version = \"=0.3.1\"")
    );
    assert!(
        ws.read("crates/w-app/Cargo.toml")
            .contains("w-core = { path = \"../w-core\", version = \"0.3.1\" }\n")
    );
    assert_eq!(
        ws.read("CHANGELOG.md"),
        "# Changelog

## [Unreleased]

## [0.3.1] - 2026-03-04

### Added

- `w-core`, `w-gen`: the first version.
- `w-net` and `w-app`: the network layer and the app.

[Unreleased]: https://example.com/acme/widgets/compare/v0.3.1...HEAD
[0.3.1]: https://example.com/acme/widgets/releases/tag/v0.3.1
"
    );
    let lock = ws.read("Cargo.lock");
    for name in ["w-app", "w-core", "w-gen", "w-net", "w-tool"] {
        assert!(
            lock.contains(&format!("name = \"{name}\"\nversion = \"0.3.1\"\n")),
            "{name} in {lock}"
        );
    }
    assert_eq!(ws.git(&["status", "--porcelain"]), "");
    assert_eq!(
        ws.git(&["log", "-1", "--format=%B"]),
        "Release 0.3.1\n\nPublish order: w-core, w-gen, w-net, w-app.\n\nPrepared by `cargo xtask \
         release prepare`.\n\n"
    );
    assert_eq!(ws.git(&["tag", "--list"]), "");
    assert_eq!(
        ws.git(&["show", "--name-only", "--format=", "HEAD"]),
        "CHANGELOG.md\nCargo.lock\nCargo.toml\ncrates/w-app/Cargo.toml\n"
    );
    assert_eq!(
        prepared.render(&plan),
        format!(
            "release 0.3.1 (2026-03-04) prepared in commit {} (not tagged, not pushed):
  Cargo.toml: [workspace.package] version, workspace.dependencies.w-core, workspace.dependencies.w-gen, workspace.dependencies.w-net
  crates/w-app/Cargo.toml: dependencies.w-core
  CHANGELOG.md: Unreleased moved under 0.3.1 - 2026-03-04
  Cargo.lock: workspace versions

next (see docs/releasing.md):
  cargo xtask release check
  git push origin HEAD   # then wait for CI on the release commit
  git tag -a v0.3.1 -m \"Release 0.3.1\"
  cargo publish --locked -p w-core
  cargo publish --locked -p w-gen
  cargo publish --locked -p w-net
  cargo publish --locked -p w-app
  git push origin v0.3.1
",
            prepared.commit
        )
    );

    // The next plan starts from the new version; with no tag yet, every crate needs an entry.
    let plan = ws.plan();
    assert_eq!(plan.current, Version::new(0, 3, 1));
    assert_eq!(plan.blockers.len(), 4);
}

#[test]
fn prepare_refuses_while_blocked() {
    let ws = layered();
    ws.write("crates/w-core/src/lib.rs", "//! edited\n");
    let plan = ws.plan();
    let before = ws.read("Cargo.toml");
    assert_eq!(
        prepare::prepare(&ws.tools(), &ws.root, &plan, date(2026, 3, 4)).map(|p| p.version),
        Err(
            "release prepare refuses: the plan has 1 blocker(s):\n  - uncommitted changes \
             (git status --porcelain): 1 path(s): M crates/w-core/src/lib.rs"
                .to_owned()
        )
    );
    assert_eq!(ws.read("Cargo.toml"), before);
}

#[test]
fn source_references() {
    let source = r#"//! doc
/// # let pem = include_bytes!("../tests/data/key.pem");
const A: &[u8] = include_bytes!(
    "../../other/data.bin"
);
const B: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/spec/api.json"));
#[path = "support/gen.rs"]
mod gen;
fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors")
}
fn name() -> &'static str { env!("CARGO_MANIFEST_DIR") }
"#;
    assert_eq!(
        audit::references(source),
        vec![
            Reference {
                line: 2,
                kind: RefKind::Include,
                literal: "../tests/data/key.pem".to_owned(),
                from_manifest_dir: false,
            },
            Reference {
                line: 3,
                kind: RefKind::Include,
                literal: "../../other/data.bin".to_owned(),
                from_manifest_dir: false,
            },
            Reference {
                line: 6,
                kind: RefKind::Include,
                literal: "/spec/api.json".to_owned(),
                from_manifest_dir: true,
            },
            Reference {
                line: 7,
                kind: RefKind::ModulePath,
                literal: "support/gen.rs".to_owned(),
                from_manifest_dir: false,
            },
            Reference {
                line: 10,
                kind: RefKind::RuntimeRead,
                literal: "../../../shared/vectors".to_owned(),
                from_manifest_dir: true,
            },
        ]
    );
}

#[test]
fn audit_separates_compile_time_needs_from_run_time_reads() {
    let ws = TempWs::new("audit");
    ws.write(
        "src/lib.rs",
        "//! x\n/// ```\n/// let k = include_bytes!(\"../tests/data/key.pem\");\n/// ```\npub fn f() {}\n",
    );
    ws.write(
        "src/other.rs",
        "const A: &[u8] = include_bytes!(\"../../sibling/tests/data/key.pem\");\nconst B: &[u8] = include_bytes!(\"../tests/data/excluded.bin\");\n",
    );
    ws.write(
        "tests/it.rs",
        "fn d() -> PathBuf { Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"../shared\") }\nfn e() -> PathBuf { Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"tests/data\") }\n",
    );
    ws.write("tests/data/key.pem", "key\n");
    let files: BTreeSet<String> = [
        "src/lib.rs",
        "src/other.rs",
        "tests/it.rs",
        "tests/data/key.pem",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let (errors, notes) = audit::audit(&ws.root, &files).unwrap();
    assert_eq!(
        errors,
        vec![
            "src/other.rs:1: needs `../../sibling/tests/data/key.pem` (outside the package) at \
             compile time"
                .to_owned(),
            "src/other.rs:2: needs `tests/data/excluded.bin` (excluded from the package) at \
             compile time"
                .to_owned(),
        ]
    );
    assert_eq!(
        notes,
        vec![
            "tests/it.rs:1: reads `../shared` (outside the package) at run time: it must skip \
             when that is absent"
                .to_owned()
        ]
    );
}

#[test]
fn check_stops_on_files_outside_a_package() {
    let ws = TempWs::new("check-audit");
    ws.write("Cargo.toml", ROOT_MANIFEST);
    add_crate(&ws, "w-core", &manifest("w-core", ""));
    ws.write(
        "crates/w-core/src/lib.rs",
        "//! core\n#[cfg(test)]\nconst K: &[u8] = include_bytes!(\"../../../shared/key.pem\");\n",
    );
    ws.write("shared/key.pem", "k\n");
    ws.cargo(&["generate-lockfile", "--offline"]);
    ws.commit_all("initial");
    let report = check::check(&ws.tools(), &ws.root, &check::Options::default()).unwrap();
    assert_eq!(report.order, ["w-core"]);
    assert_eq!(report.packaged, []);
    assert_eq!(
        report.errors,
        [
            "w-core: src/lib.rs:3: needs `../../../shared/key.pem` (outside the package) at compile time"
        ]
    );
}

#[test]
fn check_packages_in_order_against_the_earlier_crate_files() {
    let ws = TempWs::new("check");
    ws.write("Cargo.toml", ROOT_MANIFEST);
    add_crate(&ws, "w-core", &manifest("w-core", ""));
    ws.write(
        "crates/w-core/src/lib.rs",
        "//! core\n/// The answer.\npub fn answer() -> u32 { 42 }\n",
    );
    add_crate(
        &ws,
        "w-app",
        &manifest("w-app", "\n[dependencies]\nw-core = { workspace = true }\n"),
    );
    ws.write(
        "crates/w-app/src/lib.rs",
        "//! app\n/// Twice the answer.\npub fn twice() -> u32 { w_core::answer() * 2 }\n",
    );
    ws.cargo(&["generate-lockfile", "--offline"]);
    ws.commit_all("initial");
    let report = check::check(&ws.tools(), &ws.root, &check::Options::default()).unwrap();
    assert_eq!(report.errors, Vec::<String>::new());
    let packaged: Vec<(&str, &str)> = report
        .packaged
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(packaged, [("w-core", "0.3.0"), ("w-app", "0.3.0")]);
    for p in &report.packaged {
        assert_eq!(
            p.path,
            ws.root
                .join("target/package")
                .join(format!("{}-0.3.0.crate", p.name))
        );
        assert_eq!(p.bytes, std::fs::metadata(&p.path).unwrap().len());
        assert!(
            p.summary
                .as_deref()
                .is_some_and(|s| s.starts_with("Packaged ") && s.contains(" files, ")),
            "{:?}",
            p.summary
        );
    }
    // The uncommitted-change guard of cargo is kept unless --allow-dirty is given.
    ws.write("crates/w-app/src/lib.rs", "//! app, edited\n");
    let report = check::check(&ws.tools(), &ws.root, &check::Options::default()).unwrap();
    assert_eq!(report.packaged, []);
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].contains("--allow-dirty"),
        "{}",
        report.errors[0]
    );
}

#[test]
fn human_sizes() {
    assert_eq!(check::human_bytes(0), "0.0 KiB");
    assert_eq!(check::human_bytes(51), "0.0 KiB");
    assert_eq!(check::human_bytes(52), "0.1 KiB");
    assert_eq!(check::human_bytes(77_336), "75.5 KiB");
    assert_eq!(check::human_bytes(10 * 1024 * 1024), "10.0 MiB");
}

#[test]
fn earlier_extractions_of_local_registries_are_forgotten() {
    let ws = TempWs::new("extractions");
    for dir in [
        "-0123abcd/alipay-0.1.0",
        "-0123abcd/alipay-sign-0.1.0",
        "-0123abcd/serde-1.0.0",
        "-4567ef01/alipay-0.1.0",
        "index.crates.io-1949cf8c6b5b557f/alipay-0.1.0",
    ] {
        ws.write(&format!("{dir}/src/lib.rs"), "");
    }
    check::forget_earlier_extractions(
        &ws.root,
        &["alipay-0.1.0".to_owned(), "alipay-sign-0.1.0".to_owned()],
    )
    .unwrap();
    let left: Vec<bool> = [
        "-0123abcd/alipay-0.1.0",
        "-0123abcd/alipay-sign-0.1.0",
        "-0123abcd/serde-1.0.0",
        "-4567ef01/alipay-0.1.0",
        "index.crates.io-1949cf8c6b5b557f/alipay-0.1.0",
    ]
    .iter()
    .map(|d| ws.root.join(d).is_dir())
    .collect();
    assert_eq!(left, [false, false, true, false, true]);
    // No registry directory at all: nothing to do.
    check::forget_earlier_extractions(&ws.root.join("absent"), &["alipay-0.1.0".to_owned()])
        .unwrap();
}
