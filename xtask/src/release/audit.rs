//! Which files the sources of a package refer to, and whether the package contains them.
//!
//! `cargo package` verifies that the library and binaries build from the `.crate`; tests, doc
//! tests, benches and examples are not built there. This audit covers them: every
//! `include_bytes!`, `include_str!` and `#[path = …]` in a packaged `.rs` file must name a
//! packaged file (an error otherwise: the target cannot compile from the `.crate`), and every
//! path literal next to `CARGO_MANIFEST_DIR` that leaves the package is reported as a note (a
//! test reading it at run time must skip when it is absent, as the `../shared/vectors` tests do).

use std::collections::BTreeSet;
use std::path::Path;

/// How a source file refers to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    /// `include_bytes!` or `include_str!`: needed at compile time.
    Include,
    /// `#[path = "…"]` on a module: needed at compile time.
    ModulePath,
    /// A path literal joined to `CARGO_MANIFEST_DIR`: read at run time.
    RuntimeRead,
}

/// One reference found in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// 1-based line of the reference.
    pub(crate) line: usize,
    pub(crate) kind: RefKind,
    /// The path literal as written.
    pub(crate) literal: String,
    /// Whether the literal is relative to the package root (`CARGO_MANIFEST_DIR`) rather than to
    /// the source file's directory.
    pub(crate) from_manifest_dir: bool,
}

/// The file references of one Rust source text.
pub(crate) fn references(source: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    for macro_name in ["include_bytes!", "include_str!"] {
        for (at, _) in source.match_indices(macro_name) {
            let args = macro_args(&source[at + macro_name.len()..]);
            let from_manifest_dir = args.contains("CARGO_MANIFEST_DIR");
            let literal = string_literals(args)
                .into_iter()
                .find(|l| l != "CARGO_MANIFEST_DIR");
            if let Some(literal) = literal {
                found.push(Reference {
                    line: line_of(source, at),
                    kind: RefKind::Include,
                    literal,
                    from_manifest_dir,
                });
            }
        }
    }
    for (at, _) in source.match_indices("#[path") {
        let rest = &source[at..];
        let end = rest.find(']').unwrap_or(rest.len());
        if let Some(literal) = string_literals(&rest[..end]).into_iter().next() {
            found.push(Reference {
                line: line_of(source, at),
                kind: RefKind::ModulePath,
                literal,
                from_manifest_dir: false,
            });
        }
    }
    const MANIFEST_DIR: &str = "\"CARGO_MANIFEST_DIR\"";
    for (at, _) in source.match_indices(MANIFEST_DIR) {
        if inside_include(source, at) {
            continue;
        }
        let rest = &source[at + MANIFEST_DIR.len()..];
        let end = rest.find(';').unwrap_or(rest.len()).min(400);
        let end = floor_char_boundary(rest, end);
        for literal in string_literals(&rest[..end]) {
            if literal.contains('/') {
                found.push(Reference {
                    line: line_of(source, at),
                    kind: RefKind::RuntimeRead,
                    literal,
                    from_manifest_dir: true,
                });
            }
        }
    }
    found.sort_by(|a, b| (a.line, &a.literal).cmp(&(b.line, &b.literal)));
    found.dedup();
    found
}

/// Audits the package whose files (relative paths, `/`-separated, as `cargo package --list`
/// prints them) are `files` and whose sources are under `dir`. Returns the errors and the notes,
/// each naming the file and line.
pub(crate) fn audit(
    dir: &Path,
    files: &BTreeSet<String>,
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    for file in files.iter().filter(|f| f.ends_with(".rs")) {
        let path = dir.join(file);
        let source = match std::fs::read_to_string(&path) {
            Ok(source) => source,
            // Files cargo generates into the package (none are .rs today) are not on disk.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let file_dir = file.rsplit_once('/').map_or("", |(d, _)| d);
        for reference in references(&source) {
            let base = if reference.from_manifest_dir {
                ""
            } else {
                file_dir
            };
            let target = resolve(base, &reference.literal);
            let packaged = target.as_deref().is_some_and(|t| {
                files.contains(t) || files.iter().any(|f| f.starts_with(&format!("{t}/")))
            });
            if packaged {
                continue;
            }
            let missing = match target {
                Some(target) => format!("`{target}` (excluded from the package)"),
                None => format!("`{}` (outside the package)", reference.literal),
            };
            match reference.kind {
                RefKind::Include | RefKind::ModulePath => errors.push(format!(
                    "{file}:{}: needs {missing} at compile time",
                    reference.line
                )),
                RefKind::RuntimeRead => notes.push(format!(
                    "{file}:{}: reads {missing} at run time: it must skip when that is absent",
                    reference.line
                )),
            }
        }
    }
    Ok((errors, notes))
}

/// `literal` resolved against the package-relative directory `base`, normalized; `None` when it
/// leaves the package or is absolute.
fn resolve(base: &str, literal: &str) -> Option<String> {
    let literal = literal.trim_start_matches('/');
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in literal.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The text between the parentheses that follow a macro name (nested parentheses included).
fn macro_args(rest: &str) -> &str {
    let Some(open) = rest.find('(') else {
        return "";
    };
    if !rest[..open].trim().is_empty() {
        return "";
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in rest[open..].char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &rest[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    &rest[open + 1..]
}

/// The plain string literals in `text`, unescaped for `\\` and `\"`.
fn string_literals(text: &str) -> Vec<String> {
    let mut literals = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut literal = String::new();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        literal.push(escaped);
                    }
                }
                '"' => {
                    closed = true;
                    break;
                }
                other => literal.push(other),
            }
        }
        if closed {
            literals.push(literal);
        }
    }
    literals
}

/// Whether the byte offset `at` lies inside the arguments of an `include_*!` macro.
fn inside_include(source: &str, at: usize) -> bool {
    ["include_bytes!", "include_str!"].iter().any(|name| {
        source[..at].rfind(name).is_some_and(|start| {
            let args_start = start + name.len();
            let args = macro_args(&source[args_start..]);
            let args_offset = source[args_start..]
                .find('(')
                .map_or(args_start, |o| args_start + o + 1);
            at >= args_offset && at < args_offset + args.len()
        })
    })
}

fn line_of(source: &str, at: usize) -> usize {
    source[..at].matches('\n').count() + 1
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}
