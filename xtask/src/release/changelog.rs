//! `CHANGELOG.md` in the Keep a Changelog format, with entries that name their crates.
//!
//! An entry is a list item under `## [Unreleased]` (in any `### Added`, `### Changed`, …
//! subsection) that starts with the backticked names of the crates it is about, then a colon:
//!
//! ```text
//! - `alipay-sign`: constant-time verification.
//! - `alipay-notify`, `alipay`: the axum extractor.
//! ```

use std::collections::BTreeSet;
use std::ops::Range;

use jiff::civil::Date;
use semver::Version;

/// The `Unreleased` section of a changelog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreleased {
    /// The byte range of the heading line, its line break included.
    pub(crate) heading: Range<usize>,
    /// The byte range of the body, from after the heading to the next `## ` heading or the link
    /// reference definitions at the end.
    pub(crate) body: Range<usize>,
    /// Whether the heading is written `## [Unreleased]` (with a link reference) rather than
    /// `## Unreleased`.
    pub(crate) bracketed: bool,
}

/// Finds the `Unreleased` section.
pub(crate) fn unreleased(text: &str) -> Option<Unreleased> {
    let mut offset = 0;
    let mut found: Option<(Range<usize>, bool)> = None;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_end();
        if let Some((heading, bracketed)) = found.as_ref() {
            if trimmed.starts_with("## ") || is_link_definition(trimmed) {
                return Some(Unreleased {
                    heading: heading.clone(),
                    body: heading.end..start,
                    bracketed: *bracketed,
                });
            }
            continue;
        }
        if let Some(title) = trimmed.strip_prefix("## ") {
            let title = title.trim();
            if title.eq_ignore_ascii_case("[unreleased]") {
                found = Some((start..offset, true));
            } else if title.eq_ignore_ascii_case("unreleased") {
                found = Some((start..offset, false));
            }
        }
    }
    found.map(|(heading, bracketed)| Unreleased {
        body: heading.end..text.len(),
        heading,
        bracketed,
    })
}

/// Whether `line` is a Markdown link reference definition such as `[0.1.0]: https://…`.
fn is_link_definition(line: &str) -> bool {
    line.starts_with('[') && line.contains("]: ")
}

/// The crates that entries of `body` name: the backticked names that open a list item, before
/// its first colon.
pub(crate) fn crates_named(body: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in body.lines() {
        let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) else {
            continue;
        };
        let Some((prefix, _)) = item.split_once(':') else {
            continue;
        };
        let mut found = Vec::new();
        let mut rest = prefix.trim();
        let mut well_formed = !rest.is_empty();
        while !rest.is_empty() {
            let Some(after_tick) = rest.strip_prefix('`') else {
                well_formed = false;
                break;
            };
            let Some((name, after)) = after_tick.split_once('`') else {
                well_formed = false;
                break;
            };
            found.push(name.trim().to_owned());
            rest = after.trim_start();
            rest = rest
                .strip_prefix(',')
                .or_else(|| rest.strip_prefix("and "))
                .unwrap_or(rest)
                .trim_start();
        }
        if well_formed {
            names.extend(found.into_iter().filter(|n| !n.is_empty()));
        }
    }
    names
}

/// Whether `body` has any list item at all.
fn has_items(body: &str) -> bool {
    body.lines()
        .any(|l| l.starts_with("- ") || l.starts_with("* "))
}

/// The changelog with the body of `Unreleased` moved under `## [next] - date` and an empty
/// `Unreleased` above it. When the changelog ends with link reference definitions and has an
/// `[Unreleased]` one, it becomes a comparison from the new tag `v<next>`, and `[next]` gets a
/// comparison from the previous release tag (or, for the first release, the tag itself) under
/// `repository`.
pub(crate) fn release(
    text: &str,
    next: &Version,
    date: Date,
    repository: Option<&str>,
) -> Result<String, String> {
    let section = unreleased(text).ok_or("CHANGELOG.md has no `## [Unreleased]` section")?;
    let body = &text[section.body.clone()];
    if !has_items(body) {
        return Err("CHANGELOG.md: the Unreleased section lists no change".to_owned());
    }
    let version_heading = if section.bracketed {
        format!("[{next}]")
    } else {
        next.to_string()
    };
    if text.lines().any(|l| {
        l.strip_prefix("## ")
            .is_some_and(|t| t.trim_start().starts_with(&version_heading))
    }) {
        return Err(format!("CHANGELOG.md already has a section for {next}"));
    }
    let previous = previous_release(&text[section.body.end..]);
    let unreleased_heading = &text[section.heading.clone()];
    let body = body.trim_matches('\n');
    let mut out = String::with_capacity(text.len() + 128);
    out.push_str(&text[..section.heading.start]);
    out.push_str(unreleased_heading.trim_end());
    out.push_str("\n\n");
    out.push_str(&format!("## {version_heading} - {date}\n\n{body}\n\n"));
    out.push_str(&text[section.body.end..]);
    if section.bracketed {
        out = relink(&out, next, previous.as_ref(), repository);
    }
    Ok(out)
}

/// The version of the first `## [x.y.z]` heading in `rest`.
fn previous_release(rest: &str) -> Option<Version> {
    rest.lines().find_map(|l| {
        let title = l.strip_prefix("## ")?.trim_start();
        let title = title.strip_prefix('[').unwrap_or(title);
        let end = title.find([']', ' ']).unwrap_or(title.len());
        Version::parse(&title[..end]).ok()
    })
}

/// Rewrites the `[Unreleased]: …` link definition and adds `[next]: …` after it.
fn relink(
    text: &str,
    next: &Version,
    previous: Option<&Version>,
    repository: Option<&str>,
) -> String {
    let mut out = String::with_capacity(text.len() + 200);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let Some(url) = trimmed
            .strip_prefix("[Unreleased]: ")
            .or_else(|| trimmed.strip_prefix("[unreleased]: "))
        else {
            out.push_str(line);
            continue;
        };
        let base = url
            .split_once("/compare/")
            .map(|(base, _)| base)
            .or(repository.map(|r| r.trim_end_matches('/')));
        let Some(base) = base else {
            out.push_str(line);
            continue;
        };
        let version_link = match previous {
            Some(previous) => format!("{base}/compare/v{previous}...v{next}"),
            None => format!("{base}/releases/tag/v{next}"),
        };
        out.push_str(&format!(
            "[Unreleased]: {base}/compare/v{next}...HEAD\n[{next}]: {version_link}\n"
        ));
    }
    out
}
