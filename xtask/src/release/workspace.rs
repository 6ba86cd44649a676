//! The workspace as `cargo metadata --format-version 1 --no-deps` describes it.

use std::path::{Path, PathBuf};

use semver::Version;
use serde_json::Value;

use super::cmd::{self, Tools};

/// The members of a workspace.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    /// The workspace root directory.
    pub(crate) root: PathBuf,
    /// The target directory (`CARGO_TARGET_DIR` or `<root>/target`).
    pub(crate) target_dir: PathBuf,
    /// Every member, in the order `cargo metadata` lists them.
    pub(crate) members: Vec<Package>,
}

/// One workspace member.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) version: Version,
    pub(crate) manifest_path: PathBuf,
    /// The directory of `Cargo.toml`.
    pub(crate) dir: PathBuf,
    /// Whether the package may be published to crates.io (`publish` absent, `true`, or a list
    /// naming `crates-io`).
    pub(crate) publish: bool,
    pub(crate) description: Option<String>,
    /// `license`, or `license-file` shown as `file:<path>`.
    pub(crate) license: Option<String>,
    pub(crate) repository: Option<String>,
    pub(crate) readme: Option<String>,
    pub(crate) rust_version: Option<String>,
    pub(crate) documentation: Option<String>,
    pub(crate) dependencies: Vec<Dependency>,
}

/// The kind of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DepKind {
    Normal,
    Build,
    Dev,
}

impl DepKind {
    /// The manifest table of this kind.
    pub(crate) fn table(self) -> &'static str {
        match self {
            DepKind::Normal => "dependencies",
            DepKind::Build => "build-dependencies",
            DepKind::Dev => "dev-dependencies",
        }
    }
}

/// One dependency declaration of a member.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    /// The package name (not the rename).
    pub(crate) name: String,
    pub(crate) kind: DepKind,
    /// The version requirement; `*` when the manifest gives none.
    pub(crate) req: String,
    /// The directory of a path dependency.
    pub(crate) path: Option<PathBuf>,
    /// `git+…` for a git dependency, `registry+…` for a registry one, none for a path one.
    pub(crate) source: Option<String>,
    /// The `cfg(…)` or triple of a target-specific dependency.
    pub(crate) target: Option<String>,
}

impl Workspace {
    /// Runs `cargo metadata --format-version 1 --no-deps` in `dir` and reads its answer.
    pub(crate) fn load(tools: &Tools, dir: &Path) -> Result<Self, String> {
        let json = cmd::stdout(
            tools
                .cargo(dir)
                .args(["metadata", "--format-version", "1", "--no-deps"]),
            "cargo metadata --format-version 1 --no-deps",
        )?;
        Self::from_metadata(&json)
    }

    /// Reads the JSON printed by `cargo metadata --format-version 1 --no-deps`.
    pub(crate) fn from_metadata(json: &str) -> Result<Self, String> {
        let doc: Value =
            serde_json::from_str(json).map_err(|e| format!("cargo metadata: invalid JSON: {e}"))?;
        let root = PathBuf::from(str_field(&doc, "workspace_root", "cargo metadata")?);
        let target_dir = PathBuf::from(str_field(&doc, "target_directory", "cargo metadata")?);
        let member_ids: Vec<&str> = doc
            .get("workspace_members")
            .and_then(Value::as_array)
            .ok_or("cargo metadata: `workspace_members` is not an array")?
            .iter()
            .map(|id| {
                id.as_str()
                    .ok_or("cargo metadata: a workspace member id is not a string")
            })
            .collect::<Result<_, _>>()?;
        let packages = doc
            .get("packages")
            .and_then(Value::as_array)
            .ok_or("cargo metadata: `packages` is not an array")?;
        let mut members = Vec::new();
        for (index, package) in packages.iter().enumerate() {
            let id = str_field(package, "id", &format!("cargo metadata: packages[{index}]"))?;
            if member_ids.contains(&id) {
                members.push(Package::from_metadata(package, index)?);
            }
        }
        Ok(Workspace {
            root,
            target_dir,
            members,
        })
    }

    /// The member named `name`.
    pub(crate) fn member(&self, name: &str) -> Option<&Package> {
        self.members.iter().find(|p| p.name == name)
    }

    /// The members that may be published.
    pub(crate) fn publishable(&self) -> impl Iterator<Item = &Package> {
        self.members.iter().filter(|p| p.publish)
    }

    /// The member whose directory is `dir`, if any (paths compared after canonicalization, so
    /// `crates/a/../b` and symbolic links resolve).
    pub(crate) fn member_at(&self, dir: &Path) -> Option<&Package> {
        let dir = std::fs::canonicalize(dir).ok()?;
        self.members
            .iter()
            .find(|p| std::fs::canonicalize(&p.dir).is_ok_and(|d| d == dir))
    }

    /// `path` relative to the workspace root, with `/` separators (for messages).
    pub(crate) fn relative(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let text = rel.to_string_lossy().replace('\\', "/");
        if text.is_empty() {
            ".".to_owned()
        } else {
            text
        }
    }
}

impl Package {
    fn from_metadata(package: &Value, index: usize) -> Result<Self, String> {
        let at = format!("cargo metadata: packages[{index}]");
        let name = str_field(package, "name", &at)?.to_owned();
        let at = format!("cargo metadata: package `{name}`");
        let version_text = str_field(package, "version", &at)?;
        let version = Version::parse(version_text)
            .map_err(|e| format!("{at}: version `{version_text}` is not semver: {e}"))?;
        let manifest_path = PathBuf::from(str_field(package, "manifest_path", &at)?);
        let dir = manifest_path
            .parent()
            .ok_or_else(|| format!("{at}: manifest path has no parent directory"))?
            .to_path_buf();
        let publish = match package.get("publish") {
            None | Some(Value::Null) => true,
            Some(Value::Array(registries)) => {
                registries.iter().any(|r| r.as_str() == Some("crates-io"))
            }
            Some(other) => return Err(format!("{at}: unexpected `publish` value {other}")),
        };
        let license = opt_str(package, "license", &at)?
            .or(opt_str(package, "license_file", &at)?.map(|file| format!("file:{file}")));
        let dependencies = package
            .get("dependencies")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{at}: `dependencies` is not an array"))?
            .iter()
            .enumerate()
            .map(|(i, dep)| Dependency::from_metadata(dep, &format!("{at}: dependencies[{i}]")))
            .collect::<Result<_, _>>()?;
        Ok(Package {
            description: opt_str(package, "description", &at)?,
            license,
            repository: opt_str(package, "repository", &at)?,
            readme: opt_str(package, "readme", &at)?,
            rust_version: opt_str(package, "rust_version", &at)?,
            documentation: opt_str(package, "documentation", &at)?,
            name,
            version,
            manifest_path,
            dir,
            publish,
            dependencies,
        })
    }

    /// The internal dependencies (path dependencies on workspace members) of the given kinds,
    /// as member names, sorted and without duplicates.
    pub(crate) fn internal_deps(&self, ws: &Workspace, kinds: &[DepKind]) -> Vec<String> {
        let mut names: Vec<String> = self
            .dependencies
            .iter()
            .filter(|d| kinds.contains(&d.kind))
            .filter_map(|d| d.path.as_deref().and_then(|p| ws.member_at(p)))
            .filter(|m| m.name != self.name)
            .map(|m| m.name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl Dependency {
    fn from_metadata(dep: &Value, at: &str) -> Result<Self, String> {
        let kind = match dep.get("kind").and_then(Value::as_str) {
            None => DepKind::Normal,
            Some("build") => DepKind::Build,
            Some("dev") => DepKind::Dev,
            Some(other) => return Err(format!("{at}: unknown dependency kind `{other}`")),
        };
        Ok(Dependency {
            name: str_field(dep, "name", at)?.to_owned(),
            kind,
            req: str_field(dep, "req", at)?.to_owned(),
            path: opt_str(dep, "path", at)?.map(PathBuf::from),
            source: opt_str(dep, "source", at)?,
            target: opt_str(dep, "target", at)?,
        })
    }
}

fn str_field<'a>(value: &'a Value, key: &str, at: &str) -> Result<&'a str, String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{at}: `{key}` is missing or not a string"))
}

/// A string field that may be absent or null; an empty string counts as absent.
fn opt_str(value: &Value, key: &str, at: &str) -> Result<Option<String>, String> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{at}: `{key}` is not a string: {other}")),
    }
}
