//! Helpers shared by the integration tests: locating the third-party vectors, reading their
//! case files, reporting, and comparing values with a readable diff.

// Test-only code: clippy's allow-*-in-tests settings apply to the whole module.
#![cfg(test)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The environment variable that turns missing vectors into a failure (set by CI).
pub(crate) const REQUIRE_VECTORS_ENV: &str = "REQUIRE_VECTORS";

/// Where the shared vectors live: `ALIPAY_VECTORS_DIR` if set, else `../shared/vectors` next to
/// the repository root.
pub(crate) fn vectors_path() -> PathBuf {
    if let Some(dir) = std::env::var_os("ALIPAY_VECTORS_DIR") {
        return PathBuf::from(dir);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = manifest.parent().unwrap_or(manifest);
    repo.join("..").join("shared").join("vectors")
}

/// The vectors folder, or `None` after printing that `what` was not run. Panics instead when
/// `REQUIRE_VECTORS=1`.
pub(crate) fn vectors_dir_or_skip(what: &str) -> Option<PathBuf> {
    let dir = vectors_path();
    if dir.join("cases").is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "{what} vectors not found at {}; not run",
        dir.join("cases").display()
    );
    if std::env::var(REQUIRE_VECTORS_ENV).is_ok_and(|v| v == "1") {
        panic!("{msg} ({REQUIRE_VECTORS_ENV}=1 requires them)");
    }
    report(&msg);
    None
}

/// Writes one line to the process's stdout, bypassing the test harness's capture, so the
/// per-case report is visible in every `cargo test` run.
pub(crate) fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// One case file of `vectors/cases`.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// `id`.
    pub(crate) id: String,
    /// `op`.
    pub(crate) op: String,
    /// `input`.
    pub(crate) input: Value,
    /// `expected` (asserted by the peer's test).
    pub(crate) expected: BTreeMap<String, Value>,
    /// `expected_computed` (computed with the peer oracles).
    pub(crate) expected_computed: BTreeMap<String, Value>,
    /// The file the case came from.
    pub(crate) file: PathBuf,
}

/// Every `*.json` file of `dir/cases`, sorted by name.
pub(crate) fn case_files(dir: &Path) -> Vec<PathBuf> {
    let cases = dir.join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&cases)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", cases.display()))
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", cases.display()))
                .path()
        })
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Parses one case file; a malformed file is a test failure naming the file.
pub(crate) fn load_case(file: &Path) -> Case {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", file.display()));
    let field = |name: &str| -> String {
        v.get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: `{name}` is missing or not a string", file.display()))
            .to_owned()
    };
    let map = |name: &str| -> BTreeMap<String, Value> {
        match v.get(name) {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(other) => panic!("{}: `{name}` is not an object: {other}", file.display()),
        }
    };
    Case {
        id: field("id"),
        op: field("op"),
        input: v.get("input").cloned().unwrap_or(Value::Null),
        expected: map("expected"),
        expected_computed: map("expected_computed"),
        file: file.to_path_buf(),
    }
}

/// All cases whose `op` is one of `ops`, sorted by file name.
pub(crate) fn load_cases(dir: &Path, ops: &[&str]) -> Vec<Case> {
    case_files(dir)
        .iter()
        .map(|f| load_case(f))
        .filter(|c| ops.contains(&c.op.as_str()))
        .collect()
}

impl Case {
    /// A string input, or an error naming the case and field.
    pub(crate) fn input_str(&self, name: &str) -> Result<&str, String> {
        self.input
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("input `{name}` is missing or not a string"))
    }

    /// An optional string input.
    pub(crate) fn input_opt_str(&self, name: &str) -> Option<&str> {
        self.input.get(name).and_then(Value::as_str)
    }

    /// The bytes of the file named by the input `name` (a path relative to the vectors folder).
    pub(crate) fn input_file(&self, dir: &Path, name: &str) -> Result<Vec<u8>, String> {
        let rel = self.input_str(name)?;
        let path = dir.join(rel);
        std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }

    /// `input.params` as ordered string pairs (every value must be a string).
    pub(crate) fn input_params(&self) -> Result<Vec<(String, String)>, String> {
        let obj = self
            .input
            .get("params")
            .and_then(Value::as_object)
            .ok_or("input `params` is missing or not an object")?;
        obj.iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(format!("param `{k}` is not a string: {other}")),
            })
            .collect()
    }
}

/// The expected values of one case, with bookkeeping: every key of `expected` and
/// `expected_computed` must be checked or explicitly skipped (with a reason), so a key the test
/// does not understand fails instead of passing silently.
#[derive(Debug)]
pub(crate) struct Checks {
    entries: Vec<Entry>,
    failures: Vec<String>,
    skipped: Vec<String>,
    asserted: usize,
}

#[derive(Debug)]
struct Entry {
    source: &'static str,
    key: String,
    value: Value,
    consumed: bool,
}

impl Checks {
    /// The expectations of `case`.
    pub(crate) fn new(case: &Case) -> Self {
        let mut entries = Vec::new();
        for (source, map) in [
            ("expected", &case.expected),
            ("expected_computed", &case.expected_computed),
        ] {
            for (key, value) in map {
                entries.push(Entry {
                    source,
                    key: key.clone(),
                    value: value.clone(),
                    consumed: false,
                });
            }
        }
        Checks {
            entries,
            failures: Vec::new(),
            skipped: Vec::new(),
            asserted: 0,
        }
    }

    /// Whether any expectation has this key.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.key == key)
    }

    /// The expected values under `key` (one per source that has it), without consuming them.
    pub(crate) fn values(&self, key: &str) -> Vec<Value> {
        self.entries
            .iter()
            .filter(|e| e.key == key)
            .map(|e| e.value.clone())
            .collect()
    }

    /// Asserts every expectation under `key` equals the string `actual` (byte for byte).
    pub(crate) fn str_eq(&mut self, key: &str, actual: &str) {
        self.check(key, |source, expected| match expected {
            Value::String(s) if s == actual => None,
            Value::String(s) => Some(format!(
                "{source}.{key}: mismatch\n{}",
                diff_text(s, actual)
            )),
            other => Some(format!(
                "{source}.{key}: expected value {other} is not a string; actual {actual:?}"
            )),
        });
    }

    /// Asserts every expectation under `key` equals the boolean `actual`.
    pub(crate) fn bool_eq(&mut self, key: &str, actual: bool) {
        self.check(key, |source, expected| match expected {
            Value::Bool(b) if *b == actual => None,
            other => Some(format!("{source}.{key}: expected {other}, actual {actual}")),
        });
    }

    /// Asserts every expectation under `key` satisfies `pred` (which returns an explanation on
    /// mismatch).
    pub(crate) fn check(
        &mut self,
        key: &str,
        mut pred: impl FnMut(&str, &Value) -> Option<String>,
    ) {
        for e in self.entries.iter_mut().filter(|e| e.key == key) {
            e.consumed = true;
            self.asserted += 1;
            if let Some(f) = pred(e.source, &e.value) {
                self.failures.push(f);
            }
        }
    }

    /// Marks `key` as deliberately not asserted against us, with the reason (reported).
    pub(crate) fn skip(&mut self, key: &str, reason: &str) {
        let mut any = false;
        for e in self.entries.iter_mut().filter(|e| e.key == key) {
            e.consumed = true;
            any = true;
        }
        if any {
            self.skipped.push(format!("{key}: {reason}"));
        }
    }

    /// Records an additional assertion the vectors imply (e.g. our signature verifies).
    pub(crate) fn extra(&mut self, ok: bool, what: impl FnOnce() -> String) {
        self.asserted += 1;
        if !ok {
            self.failures.push(what());
        }
    }

    /// Records a failure that is not tied to one key.
    pub(crate) fn fail(&mut self, what: String) {
        self.failures.push(what);
    }

    /// The outcome: `Ok(number of assertions)` or the failures, including keys nobody checked
    /// and cases where nothing was asserted.
    pub(crate) fn finish(mut self) -> Result<Outcome, Vec<String>> {
        for e in self.entries.iter().filter(|e| !e.consumed) {
            self.failures.push(format!(
                "{}.{}: not checked by the conformance test (unknown key; extend the test)",
                e.source, e.key
            ));
        }
        if self.asserted == 0 {
            self.failures
                .push("nothing was asserted for this case".to_owned());
        }
        if self.failures.is_empty() {
            Ok(Outcome {
                asserted: self.asserted,
                skipped: self.skipped,
            })
        } else {
            Err(self.failures)
        }
    }
}

/// A passed case: how many assertions ran and which peer-only keys were skipped (and why).
#[derive(Debug)]
pub(crate) struct Outcome {
    /// Number of assertions made.
    pub(crate) asserted: usize,
    /// `key: reason` for every skipped key.
    pub(crate) skipped: Vec<String>,
}

/// A readable difference between two strings: lengths, the first differing byte with context,
/// and both values.
pub(crate) fn diff_text(expected: &str, actual: &str) -> String {
    let e = expected.as_bytes();
    let a = actual.as_bytes();
    let at = e
        .iter()
        .zip(a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let window = |s: &str| -> String {
        let start = floor_char_boundary(s, at.saturating_sub(24));
        let end = floor_char_boundary(s, (at + 24).min(s.len()));
        format!("{:?}", &s[start..end])
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  first difference at byte {at} (expected {} bytes, actual {} bytes)",
        e.len(),
        a.len()
    );
    let _ = writeln!(out, "  expected near: {}", window(expected));
    let _ = writeln!(out, "  actual   near: {}", window(actual));
    let _ = writeln!(out, "  expected: {expected:?}");
    let _ = write!(out, "  actual:   {actual:?}");
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `application/x-www-form-urlencoded` serialisation as `URLSearchParams` does it (space → `+`,
/// `*-._` and ASCII alphanumerics kept, everything else `%XX` in upper case).
pub(crate) fn form_urlencode(pairs: &[(String, String)]) -> String {
    fn enc(out: &mut String, s: &str) {
        for b in s.bytes() {
            match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    out.push(char::from(b));
                }
                b' ' => out.push('+'),
                _ => {
                    let _ = write!(out, "%{b:02X}");
                }
            }
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        enc(&mut out, k);
        out.push('=');
        enc(&mut out, v);
    }
    out
}

/// 00:00:00 UTC of a `YYYY-MM-DD` date.
pub(crate) fn utc_midnight(date: &str) -> Result<std::time::SystemTime, String> {
    let d: jiff::civil::Date = date
        .parse()
        .map_err(|e| format!("`{date}` is not a YYYY-MM-DD date: {e}"))?;
    let ts = jiff::tz::TimeZone::UTC
        .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .map_err(|e| format!("`{date}`: {e}"))?;
    std::time::SystemTime::try_from(ts).map_err(|e| format!("`{date}`: {e}"))
}

#[test]
fn form_urlencode_matches_url_search_params() {
    let pairs = vec![
        ("a b".to_owned(), "x&y=z/中".to_owned()),
        ("k".to_owned(), "*-._~".to_owned()),
    ];
    assert_eq!(
        form_urlencode(&pairs),
        "a+b=x%26y%3Dz%2F%E4%B8%AD&k=*-._%7E"
    );
}

#[test]
fn diff_names_the_first_difference() {
    let d = diff_text("abcdef", "abcXef");
    assert!(d.starts_with("  first difference at byte 3 (expected 6 bytes, actual 6 bytes)"));
    assert!(d.contains("expected near: \"abcdef\""));
    assert!(d.contains("actual   near: \"abcXef\""));
}

#[test]
fn utc_midnight_of_a_date() {
    let t = utc_midnight("2019-12-01").unwrap();
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(secs, 1_575_158_400);
    assert!(utc_midnight("2019-13-01").is_err());
}

/// SplitMix64: a small, seedable generator for reproducible test data (never for secrets).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough value in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        let n64 = u64::try_from(n).unwrap();
        usize::try_from(self.next_u64() % n64).unwrap()
    }

    pub(crate) fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64().to_le_bytes()[0]).collect()
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// `len` ASCII letters and digits.
    pub(crate) fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(CHARS[self.below(CHARS.len())]))
            .collect()
    }
}

/// Runs `command` with its output captured, waiting at most `limit` (polling every 100 ms); kills
/// it and panics past that. Blocking: call it from `spawn_blocking` in async tests.
pub(crate) fn run_bounded(
    mut command: std::process::Command,
    what: &str,
    limit: std::time::Duration,
) -> std::process::Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} did not finish within {} s", limit.as_secs());
}
