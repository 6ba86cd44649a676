//! Reading and editing manifests with `toml_edit`, so edits keep comments, order and layout.

use std::path::{Path, PathBuf};

use semver::Version;
use toml_edit::{DocumentMut, Item, TableLike, Value};

use super::version::rewrite_req;

/// A manifest read from disk.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) path: PathBuf,
    pub(crate) doc: DocumentMut,
}

impl Manifest {
    /// Reads and parses the manifest at `path`.
    pub(crate) fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the manifest at `path`.
    pub(crate) fn parse(path: &Path, text: &str) -> Result<Self, String> {
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| format!("{}: invalid TOML: {e}", path.display()))?;
        Ok(Manifest {
            path: path.to_path_buf(),
            doc,
        })
    }

    /// `[workspace.package] version`, if the manifest has one.
    pub(crate) fn workspace_version(&self) -> Result<Option<Version>, String> {
        let Some(item) = self
            .doc
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("version"))
        else {
            return Ok(None);
        };
        let text = item.as_str().ok_or_else(|| {
            format!(
                "{}: [workspace.package] version is not a string",
                self.path.display()
            )
        })?;
        Version::parse(text).map(Some).map_err(|e| {
            format!(
                "{}: [workspace.package] version `{text}` is not semver: {e}",
                self.path.display()
            )
        })
    }

    /// Whether `[package] version` is `{ workspace = true }` (or `version.workspace = true`).
    pub(crate) fn version_inherited(&self) -> bool {
        self.doc
            .get("package")
            .and_then(|p| p.get("version"))
            .and_then(Item::as_table_like)
            .and_then(|t| t.get("workspace"))
            .and_then(Item::as_bool)
            == Some(true)
    }

    /// Sets `[workspace.package] version` to `next`, keeping the formatting around the value.
    /// Errors when the table or the key is missing.
    pub(crate) fn set_workspace_version(&mut self, next: &Version) -> Result<(), String> {
        let item = self
            .doc
            .get_mut("workspace")
            .and_then(|w| w.get_mut("package"))
            .and_then(|p| p.get_mut("version"))
            .ok_or_else(|| {
                format!(
                    "{}: no [workspace.package] version to bump",
                    self.path.display()
                )
            })?;
        let value = item.as_value_mut().ok_or_else(|| {
            format!(
                "{}: [workspace.package] version is not a value",
                self.path.display()
            )
        })?;
        replace_string(value, &next.to_string());
        Ok(())
    }

    /// Rewrites the `version` requirement of every dependency entry that has a `path` for which
    /// `is_internal` holds (the path is resolved against the manifest's directory) to accept
    /// `next`, in `[workspace.dependencies]` and in every `[*dependencies]` table, target-specific
    /// ones included. Entries without `version` stay as they are. Returns the edited entries as
    /// `table.name` strings.
    pub(crate) fn bump_internal_requirements(
        &mut self,
        next: &Version,
        is_internal: &dyn Fn(&Path) -> bool,
    ) -> Vec<String> {
        let base = self.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut edited = Vec::new();
        let root = self.doc.as_table_mut();
        if let Some(table) = root
            .get_mut("workspace")
            .and_then(|w| w.get_mut("dependencies"))
            .and_then(Item::as_table_like_mut)
        {
            bump_table(
                table,
                "workspace.dependencies",
                &base,
                next,
                is_internal,
                &mut edited,
            );
        }
        for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(table) = root.get_mut(kind).and_then(Item::as_table_like_mut) {
                bump_table(table, kind, &base, next, is_internal, &mut edited);
            }
        }
        if let Some(targets) = root.get_mut("target").and_then(Item::as_table_like_mut) {
            for (target, item) in targets.iter_mut() {
                let Some(target_table) = item.as_table_like_mut() else {
                    continue;
                };
                for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
                    if let Some(table) =
                        target_table.get_mut(kind).and_then(Item::as_table_like_mut)
                    {
                        let label = format!("target.{}.{kind}", target.get());
                        bump_table(table, &label, &base, next, is_internal, &mut edited);
                    }
                }
            }
        }
        edited
    }

    /// The manifest as it would be written.
    pub(crate) fn render(&self) -> String {
        self.doc.to_string()
    }
}

fn bump_table(
    table: &mut dyn TableLike,
    label: &str,
    base: &Path,
    next: &Version,
    is_internal: &dyn Fn(&Path) -> bool,
    edited: &mut Vec<String>,
) {
    for (name, item) in table.iter_mut() {
        let Some(entry) = item.as_table_like_mut() else {
            continue;
        };
        let Some(path) = entry.get("path").and_then(Item::as_str) else {
            continue;
        };
        if !is_internal(&base.join(path)) {
            continue;
        }
        let Some(value) = entry.get_mut("version").and_then(Item::as_value_mut) else {
            continue;
        };
        let Some(old) = value.as_str() else {
            continue;
        };
        let new = rewrite_req(old, next);
        if new != old {
            replace_string(value, &new);
            edited.push(format!("{label}.{}", name.get()));
        }
    }
}

/// Replaces a string value, keeping the whitespace and comments around it.
fn replace_string(value: &mut Value, new: &str) {
    let decor = value.decor().clone();
    *value = Value::from(new);
    *value.decor_mut() = decor;
}
