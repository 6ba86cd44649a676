//! Black-box tests of the `alipay` binary: every subcommand, with the exact stdout and exit
//! code for success and for each failure class, and one line on stderr for every failure.
//!
//! Expected signatures were computed independently with `openssl dgst -sign` (PKCS#1 v1.5 is
//! deterministic) and certificate SNs with `openssl x509 -nameopt RFC2253` and MD5. The cases
//! from `../shared/vectors` run only when that folder is present (a note is printed otherwise).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)] // a test binary: a failed unwrap is a failed test, and notes go to the test output

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Harness

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn out(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).expect("stdout is one JSON value")
    }
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../alipay-sign/tests/data")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn tmp(name: &str, contents: &[u8]) -> String {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("alipay-cli-{name}"));
    std::fs::write(&path, contents).unwrap();
    path.to_string_lossy().into_owned()
}

fn alipay(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_alipay"))
        .args(args)
        .env("RUST_BACKTRACE", "full")
        .env("RUST_LIB_BACKTRACE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the alipay binary runs");
    {
        let mut input = child.stdin.take().unwrap();
        // The command may exit before reading stdin (bad arguments): a broken pipe is fine.
        let _ = input.write_all(stdin);
    }
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: out.status.code().expect("exited normally, not by a signal"),
        stdout: out.stdout,
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("stack backtrace"),
        "{args:?} panicked: {}",
        run.stderr
    );
    run
}

/// Exit 0, exactly this stdout, nothing on stderr.
#[track_caller]
fn ok(args: &[&str], stdin: &[u8], stdout: &str) -> Run {
    let run = alipay(args, stdin);
    assert_eq!(
        (run.code, run.out(), run.stderr.as_str()),
        (0, stdout, ""),
        "{args:?}"
    );
    run
}

/// Exit 1 (a well-formed input that fails the check), exactly this stdout, one reason line.
#[track_caller]
fn fails(args: &[&str], stdin: &[u8], stdout: &str) -> String {
    let run = alipay(args, stdin);
    assert_eq!(
        (run.code, run.out()),
        (1, stdout),
        "{args:?}: {}",
        run.stderr
    );
    one_line(&run.stderr);
    run.stderr
}

/// Exit 2 (unusable input or arguments), nothing on stdout, one line on stderr containing
/// `needle`.
#[track_caller]
fn unusable(args: &[&str], stdin: &[u8], needle: &str) -> String {
    let run = alipay(args, stdin);
    assert_eq!((run.code, run.out()), (2, ""), "{args:?}: {}", run.stderr);
    one_line(&run.stderr);
    assert!(
        run.stderr.starts_with("error: "),
        "{args:?}: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "{args:?}: stderr {:?} lacks {needle:?}",
        run.stderr
    );
    run.stderr
}

#[track_caller]
fn one_line(stderr: &str) {
    assert!(
        stderr.ends_with('\n') && stderr.matches('\n').count() == 1 && stderr.len() > 1,
        "stderr is not one line: {stderr:?}"
    );
}

/// `../shared/vectors`, or `None` with a printed note when it is absent.
fn vectors() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors");
    if dir.join("cases").is_dir() {
        Some(dir)
    } else {
        println!(
            "note: {} is absent; the third-party vector cases were not run",
            dir.display()
        );
        None
    }
}

fn case(dir: &Path, id: &str) -> Value {
    let text = std::fs::read_to_string(dir.join("cases").join(format!("{id}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn vfile(dir: &Path, rel: &Value) -> String {
    dir.join(rel.as_str().unwrap())
        .to_string_lossy()
        .into_owned()
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// `application/x-www-form-urlencoded` as a browser or Alipay writes it (UTF-8).
fn form(params: &serde_json::Map<String, Value>) -> Vec<u8> {
    fn enc(out: &mut String, text: &str) {
        for b in text.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    out.push(char::from(b));
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        enc(&mut out, k);
        out.push('=');
        enc(&mut out, s(v));
    }
    out.into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Fixtures (computed with openssl from the keys in crates/alipay-sign/tests/data)

const APP_CERT_SN: &str = "81ca06b595dea8a0b4b34102c9785861";
const ALIPAY_CERT_SN: &str = "b390295f6ff55b3cd23eaff23fc31eb0";
const ROOT_SN: &str = "9d47d57e921ce5b55aefeda3dd28a284_86834a6c9d8f3e513da85100503cd4b5";
/// `printf hello | openssl dgst -sha256 -sign app_private_pkcs1.pem | base64`
const HELLO_RSA2: &str = "mVk9p21gdMrprf9PhWl2iP6b+lxX2OdO1I2ko+hAIfYb8Fr0dOnD5xGBXzUV5coCq8D4J3Jm/NjbUgTuYhG3+6oHyGUfdm+NNyYIwwPtr7X6eQ3jQauOjNvBhweautKNjm2AKRY6Ns8lTB95Aad+Ctp77jgtzflNpONHQXBznOn6kSzPqZpwY+NU2EIhf3mkb7GxVUtT1BFKA6j60+jrUstIdeC6KDDnyqaXqi30bI8LRGxPb+LBPNYvJ2LgH72DjNW7DhtiYmeFVljQvYPERaJy7rlzWxOtg0h8fpz5fa8p8Dlr/OiLnn1UjQMaDhLPQrxchn+VXcRZmzpN0hxYhA==";
/// Same with `-sha1`.
const HELLO_RSA: &str = "jUazI4GPSTumVBrFvy5eIyIhBYm0RMqCVrh7otgdKhU0KOeqPWXVEOmxsG8UhP+nhBLYtXcnDOvuzV5cNz8J/bC5eIBBfwiDmepDlX9w7QedZvEdYI3yZKtOeHkoFQmW4l2dcr03s9VHW0awmGnKS/Wuy91lmERu6FwgWhnw/c4L+U+rPgoqL0gEQfXCRWbNLb3ZjzTZ8PjC69hHTntYtggmMKqzyrwfcK4Sd4IjvKTx2X024zHDMQDkWFRn7Lx/uwTUswhVYcFYSKlwZ4ozA/nGNNtZFZZRI7hX8/Y2lWkvb/M+EXSc2TViSGCXMg6eZMNq/Tw12nzNIEcQBYdtQA==";
/// `hello` signed RSA2 with the 1024-bit legacy key (needs the rust-crypto backend).
const HELLO_1024: &str = "gdcplt0gEWbVdO3gej70d3qWpuW3tbGbaSNDNe9zl0zKk7JzHpLTNozZh1g6T2pjcdY1FfOximMeLjUrEsblthSfC8BfmXE4GRlMSNNyU7IiGayGdfYj+NUVIJVM9Wv7akXU98xdEHUc0JZRFubjyep4ZjsJrJpypOQ+gRDvUW4=";

// ---------------------------------------------------------------------------------------------
// Arguments, help, robustness

#[test]
fn usage_errors_are_one_line_with_exit_2() {
    unusable(&[], b"", "requires a subcommand");
    unusable(&["keys"], b"", "'alipay keys' requires a subcommand");
    unusable(&["frobnicate"], b"", "unrecognized subcommand 'frobnicate'");
    unusable(&["sign"], b"", "--private-key <FILE>");
    unusable(
        &["sign", "--private-key", "x", "--sign-type", "RSA3"],
        b"",
        "invalid value 'RSA3'",
    );
    unusable(
        &["sign", "--raw", "--charset", "gbk", "--private-key", "x"],
        b"",
        "cannot be used with",
    );
    unusable(
        &["keys", "check", "--private", "x"],
        b"",
        "--public <FILE>|--cert <FILE>",
    );
    unusable(
        &[
            "keys",
            "check",
            "--private",
            "x",
            "--public",
            "y",
            "--cert",
            "z",
        ],
        b"",
        "cannot be used with",
    );
    unusable(
        &["keys", "inspect", "a", "b"],
        b"",
        "unexpected argument 'b'",
    );
    unusable(
        &["aes", "encrypt", "--key", "k", "--pretty=3"],
        b"",
        "--pretty",
    );
}

#[test]
fn help_and_version_exit_0() {
    let run = alipay(&["--help"], b"");
    assert_eq!(run.code, 0);
    assert!(run.out().contains("Usage: alipay"));
    let run = alipay(&["v3", "auth", "--help"], b"");
    assert_eq!(run.code, 0);
    assert!(run.out().contains("--app-auth-token"));
    ok(
        &["--version"],
        b"",
        &format!("alipay {}\n", env!("CARGO_PKG_VERSION")),
    );
}

#[test]
fn missing_and_garbage_files_exit_2() {
    unusable(
        &["keys", "inspect", "/nonexistent/key.pem"],
        b"",
        "cannot read FILE /nonexistent/key.pem",
    );
    let empty = tmp("empty.pem", b"");
    unusable(&["keys", "inspect", &empty], b"", "the input is empty");
    let junk = tmp("junk.bin", &[0xff, 0xfe, 0x00, 0x13, 0x37, 0x80, 0x81]);
    unusable(
        &["keys", "inspect", &junk],
        b"",
        "neither PEM, base64 nor DER",
    );
    let text = tmp("text.pem", b"hello, this is not a key\n");
    unusable(&["keys", "inspect", &text], b"", "FILE ");
    let broken = tmp(
        "broken.pem",
        b"-----BEGIN PUBLIC KEY-----\nMIIB!!!!\n-----END PUBLIC KEY-----\n",
    );
    unusable(&["keys", "inspect", &broken], b"", "not valid base64");
    let der_junk = tmp("derjunk.der", &[0x30, 0x03, 0x02, 0x01, 0x01]);
    unusable(&["keys", "inspect", &der_junk], b"", "not an RSA key");
}

// ---------------------------------------------------------------------------------------------
// keys

#[test]
fn keys_inspect_every_kind() {
    // bits: of the first certificate's key for certificate files, 0 when it is not RSA (the
    // root bundle starts with an EC root).
    for (file, kind, bits, count) in [
        ("app_private_pkcs1.pem", "rsa-private-pkcs1", 2048, 1),
        ("app_private_pkcs8.pem", "rsa-private-pkcs8", 2048, 1),
        ("app_public.pem", "rsa-public-spki", 2048, 1),
        ("app_cert.crt", "x509-certificate", 2048, 1),
        ("alipay_cert_chain.crt", "x509-bundle", 2048, 2),
        ("root_bundle.crt", "x509-bundle", 0, 3),
    ] {
        ok(
            &["keys", "inspect", &data(file)],
            b"",
            &format!(
                "{{\"kind\":\"{kind}\",\"bits\":{bits},\"encoding\":\"pem\",\"count\":{count}}}\n"
            ),
        );
    }
    ok(
        &["keys", "inspect", &data("legacy1024_public.pem")],
        b"",
        "{\"kind\":\"rsa-public-spki\",\"bits\":1024,\"encoding\":\"pem\",\"count\":1}\n",
    );
    // Bare base64 (with CRLF line breaks) and DER.
    let pem = std::fs::read_to_string(data("app_public.pem")).unwrap();
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\r\n");
    let bare = tmp("bare_public.txt", body.as_bytes());
    ok(
        &["keys", "inspect", &bare],
        b"",
        "{\"kind\":\"rsa-public-spki\",\"bits\":2048,\"encoding\":\"base64\",\"count\":1}\n",
    );
    let der = base64_decode(&body.replace("\r\n", ""));
    let der = tmp("public.der", &der);
    ok(
        &["keys", "inspect", &der],
        b"",
        "{\"kind\":\"rsa-public-spki\",\"bits\":2048,\"encoding\":\"der\",\"count\":1}\n",
    );
    // A PKCS#1 public key.
    ok(
        &[
            "keys",
            "inspect",
            &tmp("pkcs1_public.pem", PKCS1_PUBLIC.as_bytes()),
        ],
        b"",
        "{\"kind\":\"rsa-public-pkcs1\",\"bits\":1024,\"encoding\":\"pem\",\"count\":1}\n",
    );
}

/// `openssl rsa -in legacy1024_private_pkcs8.pem -RSAPublicKey_out`
const PKCS1_PUBLIC: &str = "-----BEGIN RSA PUBLIC KEY-----
MIGJAoGBAM5lA7lV4/X1FMdc57hX1q0/OLbOj6Bc+E+7vj2mWOgog65UnqbZXbC/
oM/JfaeJAtPh+bZHnc5DPI2PzpiAZu2j7tIKCBMUHAPP2BNdIZaUjyKSaDEg7Rio
sIysSlfRczo707tSvmVt09Bgg10WCZYNljT8hsa36O2NxpTiFAxXAgMBAAE=
-----END RSA PUBLIC KEY-----
";

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap();
        acc = (acc << 6) | u32::try_from(v).unwrap();
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap());
        }
    }
    out
}

#[test]
fn keys_inspect_pretty() {
    ok(
        &[
            "keys",
            "inspect",
            "--pretty",
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "kind: x509-bundle\nbits: 2048\nencoding: pem\ncount: 2\n",
    );
}

#[test]
fn keys_check() {
    let private = data("app_private_pkcs1.pem");
    ok(
        &[
            "keys",
            "check",
            "--private",
            &private,
            "--public",
            &data("app_public.pem"),
        ],
        b"",
        "{\"pair\":true}\n",
    );
    ok(
        &[
            "keys",
            "check",
            "--private",
            &data("app_private_pkcs8.pem"),
            "--cert",
            &data("app_cert.crt"),
        ],
        b"",
        "{\"pair\":true}\n",
    );
    // A certificate where a public key is asked for works too.
    ok(
        &[
            "keys",
            "check",
            "--private",
            &private,
            "--public",
            &data("app_cert.crt"),
        ],
        b"",
        "{\"pair\":true}\n",
    );
    let reason = fails(
        &[
            "keys",
            "check",
            "--private",
            &private,
            "--public",
            &data("alipay_public.pem"),
        ],
        b"",
        "{\"pair\":false}\n",
    );
    assert!(reason.contains("not the pair"), "{reason}");
    fails(
        &[
            "keys",
            "check",
            "--private",
            &private,
            "--cert",
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "{\"pair\":false}\n",
    );
    // Wrong kinds.
    unusable(
        &[
            "keys",
            "check",
            "--private",
            &data("app_public.pem"),
            "--public",
            &data("app_public.pem"),
        ],
        b"",
        "found a public key; the app private key (PKCS#1 or PKCS#8) is needed here",
    );
    unusable(
        &["keys", "check", "--private", &private, "--public", &private],
        b"",
        "--public",
    );
    unusable(
        &[
            "keys",
            "check",
            "--private",
            &private,
            "--cert",
            &data("app_public.pem"),
        ],
        b"",
        "a certificate file is needed here",
    );
}

// ---------------------------------------------------------------------------------------------
// cert

#[test]
fn cert_sn_and_root_sn() {
    ok(
        &["cert", "sn", &data("app_cert.crt")],
        b"",
        &format!("{APP_CERT_SN}\n"),
    );
    // A chain: the first certificate counts.
    ok(
        &["cert", "sn", &data("alipay_cert_chain.crt")],
        b"",
        &format!("{ALIPAY_CERT_SN}\n"),
    );
    ok(
        &["cert", "sn", &data("alipay_cert_leaf.crt")],
        b"",
        &format!("{ALIPAY_CERT_SN}\n"),
    );
    // EC root (skipped), RSA root, SHA1-RSA root.
    ok(
        &["cert", "root-sn", &data("root_bundle.crt")],
        b"",
        &format!("{ROOT_SN}\n"),
    );
    unusable(
        &["cert", "root-sn", &data("ec_root.crt")],
        b"",
        "no RSA-signed certificate",
    );
    unusable(
        &["cert", "sn", &data("app_public.pem")],
        b"",
        "a certificate file is needed here",
    );
    unusable(
        &["cert", "sn", &data("app_private_pkcs1.pem")],
        b"",
        "found an RSA private key (PKCS#1); a certificate file is needed here",
    );
}

#[test]
fn cert_sn_vectors() {
    let Some(v) = vectors() else { return };
    for (id, field, flag, out) in [
        ("node-cert-sn-app", "app_cert_file", "sn", "app_cert_sn"),
        (
            "node-cert-sn-alipay",
            "alipay_public_cert_file",
            "sn",
            "alipay_cert_sn",
        ),
        (
            "node-cert-sn-root",
            "alipay_root_cert_file",
            "root-sn",
            "alipay_root_cert_sn",
        ),
    ] {
        let c = case(&v, id);
        let file = vfile(&v, &c["input"][field]);
        ok(
            &["cert", flag, &file],
            b"",
            &format!("{}\n", s(&c["expected"][out])),
        );
    }
    ok(
        &[
            "cert",
            "sn",
            &v.join("node/appCertPublicKey_2021001161683774.crt")
                .to_string_lossy(),
        ],
        b"",
        "866efef280dec9137a87d047ac446315\n",
    );
}

#[test]
fn cert_verify_chain() {
    let roots = data("root_bundle.crt");
    let at = "2027-01-01T00:00:00Z";
    ok(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            at,
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "{\"trusted\":true,\"at\":\"2027-01-01T00:00:00Z\"}\n",
    );
    // Offsets are normalised to UTC; a bare date is midnight UTC.
    ok(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            "2027-01-01T08:00:00+08:00",
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "{\"trusted\":true,\"at\":\"2027-01-01T00:00:00Z\"}\n",
    );
    ok(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            "2030-06-01",
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "{\"trusted\":true,\"at\":\"2030-06-01T00:00:00Z\"}\n",
    );
    // Before the certificates were issued, after they expired.
    let reason = fails(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            "2020-01-01T00:00:00Z",
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "{\"trusted\":false,\"at\":\"2020-01-01T00:00:00Z\"}\n",
    );
    assert!(reason.contains("not valid at the given time"), "{reason}");
    fails(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            "2040-01-01T00:00:00Z",
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "{\"trusted\":false,\"at\":\"2040-01-01T00:00:00Z\"}\n",
    );
    // A leaf without its intermediate does not reach the root; a rogue leaf never does.
    fails(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            at,
            &data("alipay_cert_leaf.crt"),
        ],
        b"",
        "{\"trusted\":false,\"at\":\"2027-01-01T00:00:00Z\"}\n",
    );
    let reason = fails(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            at,
            &data("alipay_cert_rogue.crt"),
        ],
        b"",
        "{\"trusted\":false,\"at\":\"2027-01-01T00:00:00Z\"}\n",
    );
    assert!(
        reason.contains("does not chain to the root bundle"),
        "{reason}"
    );
    fails(
        &[
            "cert",
            "verify-chain",
            "--root",
            &data("rogue_root.crt"),
            "--at",
            at,
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "{\"trusted\":false,\"at\":\"2027-01-01T00:00:00Z\"}\n",
    );
    // Default time: now (the test certificates are valid from 2026-11-26 to 2031-11-25).
    let run = alipay(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            &data("alipay_cert_chain.crt"),
        ],
        b"",
    );
    let out = run.json();
    let at = out["at"].as_str().unwrap();
    let expected = ("2026-11-26T03:24:57Z".."2031-11-25T03:24:57Z").contains(&at);
    assert_eq!(out["trusted"], Value::Bool(expected), "{}", run.stderr);
    assert_eq!(run.code, if expected { 0 } else { 1 });
    // Unusable: a bad time, a key instead of a certificate.
    unusable(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            "yesterday",
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "--at \"yesterday\" is not an RFC 3339 time",
    );
    unusable(
        &[
            "cert",
            "verify-chain",
            "--root",
            &data("app_public.pem"),
            "--at",
            at,
            &data("alipay_cert_chain.crt"),
        ],
        b"",
        "--root",
    );
    unusable(
        &[
            "cert",
            "verify-chain",
            "--root",
            &roots,
            "--at",
            at,
            &data("alipay_private_pkcs1.pem"),
        ],
        b"",
        "a certificate file is needed here",
    );
}

#[test]
fn cert_verify_chain_vectors() {
    let Some(v) = vectors() else { return };
    for id in [
        "java-trust-chain",
        "java-trust-client",
        "java-trust-bad-date",
        "java-trust-bad-sign",
        "php-trust-alipay-chain",
    ] {
        let c = case(&v, id);
        let input = &c["input"];
        let trusted = c["expected"]["trusted"].as_bool().unwrap();
        let at = s(&input["at"]);
        let run = alipay(
            &[
                "cert",
                "verify-chain",
                "--root",
                &vfile(&v, &input["root_file"]),
                "--at",
                at,
                &vfile(&v, &input["cert_file"]),
            ],
            b"",
        );
        assert_eq!(
            run.code,
            if trusted { 0 } else { 1 },
            "{id}: {}",
            run.stderr
        );
        assert_eq!(run.json()["trusted"], Value::Bool(trusted), "{id}");
    }
}

// ---------------------------------------------------------------------------------------------
// sign and verify

#[test]
fn sign_params_exact() {
    let key = data("app_private_pkcs1.pem");
    // Non-string values are stringified as JSON.stringify does, in input order, literal UTF-8;
    // empty values and `sign` are dropped; keys sorted by bytes.
    let params = r#"{
        "method": "alipay.trade.query", "app_id": "2021000000000000", "format": "JSON",
        "charset": "utf-8", "sign_type": "RSA2", "timestamp": "2024-05-13 17:49:20",
        "version": "1.0", "app_auth_token": "", "sign": "old",
        "biz_content": {"out_trade_no": "T1", "total_amount": 88.80, "subject": "中文 & = %", "n": [1, true, null]}
    }"#;
    let content = r#"app_id=2021000000000000&biz_content={"out_trade_no":"T1","total_amount":88.8,"subject":"中文 & = %","n":[1,true,null]}&charset=utf-8&format=JSON&method=alipay.trade.query&sign_type=RSA2&timestamp=2024-05-13 17:49:20&version=1.0"#;
    let sign = "Pu/uynEVvX7t21Y7tZ3FaW+XMcPd1W3OE3sQzjgso1K+2oG0qytL7Ean5QLAvSVRXFYnxmNtsrVmuFnDQXKr9B1PUpBkJUPX3ZsmI1Aq1Y4NpA4ClawFRwH2DEvb6xgyQ7g1+IP+lXYuvCY++ggshmS4RhuLvHWMIcIKmZRPi7+Etln3SfpzE1yKbsUbiwfld4M0v3swxpvRjzaWpT/LiuE0p0TN/Ls064s/aDKda+MvcJHibZgk+m/2uGncVTku0Vc/AwB0j33sTg98uCOv7spENbW2kdRwLvv6VWeQpBfgcHJrru0/PFx/d9LkJo9dBkYMm8OAAN3N0piJzgXfjQ==";
    let expected = serde_json::json!({ "content": content, "sign": sign }).to_string() + "\n";
    ok(
        &["sign", "--private-key", &key],
        params.as_bytes(),
        &expected,
    );
    // PKCS#8 gives the same signature; so does an explicit matching --sign-type.
    ok(
        &[
            "sign",
            "--private-key",
            &data("app_private_pkcs8.pem"),
            "--sign-type",
            "RSA2",
        ],
        params.as_bytes(),
        &expected,
    );
    // The signature verifies over the content.
    ok(
        &[
            "verify",
            "--public-key",
            &data("app_public.pem"),
            "--sign",
            sign,
        ],
        content.as_bytes(),
        "{\"verified\":true}\n",
    );
}

#[test]
fn sign_gbk_signs_gbk_bytes() {
    let params = r#"{"app_id":"2021000000000000","method":"alipay.trade.query","charset":"GBK","sign_type":"RSA2","biz_content":{"subject":"中文"}}"#;
    let content = r#"app_id=2021000000000000&biz_content={"subject":"中文"}&charset=GBK&method=alipay.trade.query&sign_type=RSA2"#;
    let sign = "cR2KG+g/I8tMvBsrXwBQ1RA53ecKcz0fyccQgruUsvwD8wSyv/LDtUN4/IRAqa4VXNhHDYNirWzN92ULDjTCHWxFEN0gE0E721eiZAsm73XNJRwPUJMqLJJd4HBbsOVDmJy7pAH6Z9ECmvWhhIn5FPwem0jZVm7I0EjksvXRfugdJR+ieA2xxfTYoD+Lw9XjymBkADlERPhBnxK3MEPGJPwa8/oLerXxPrMQhKG0P4NbFZoJiETsI8kQz8KJ0cXVRYIMSo3ujUeSMjcgF1Q6fOodU+5CkS0Ih0VuUdsmw+NBnGeBr01wuC4el22nzzLwmdv6HThPUbYrxOLymJcnhA==";
    let expected = serde_json::json!({ "content": content, "sign": sign }).to_string() + "\n";
    let key = data("app_private_pkcs1.pem");
    // From the charset parameter, and with an explicit --charset.
    ok(
        &["sign", "--private-key", &key],
        params.as_bytes(),
        &expected,
    );
    ok(
        &["sign", "--private-key", &key, "--charset", "gbk"],
        params.as_bytes(),
        &expected,
    );
    unusable(
        &["sign", "--private-key", &key, "--charset", "utf-8"],
        params.as_bytes(),
        "--charset utf-8 contradicts the charset parameter GBK",
    );
    // A character GBK cannot hold.
    unusable(
        &["sign", "--private-key", &key, "--charset", "gbk"],
        "{\"a\":\"😀\"}".as_bytes(),
        "cannot be encoded in GBK",
    );
    unusable(
        &["sign", "--private-key", &key, "--charset", "latin1"],
        b"{}",
        "unsupported charset \"latin1\"",
    );
}

#[test]
fn sign_raw_exact() {
    let key = data("app_private_pkcs1.pem");
    ok(
        &["sign", "--raw", "--private-key", &key],
        b"hello",
        &format!("{HELLO_RSA2}\n"),
    );
    ok(
        &["sign", "--raw", "--private-key", &key, "--sign-type", "RSA"],
        b"hello",
        &format!("{HELLO_RSA}\n"),
    );
    ok(
        &["sign", "--raw", "--private-key", &key, "--sign-type", "rsa"],
        b"hello",
        &format!("{HELLO_RSA}\n"),
    );
    // Keys under 2048 bits sign through the rust-crypto backend.
    ok(
        &[
            "sign",
            "--raw",
            "--private-key",
            &data("legacy1024_private_pkcs8.pem"),
        ],
        b"hello",
        &format!("{HELLO_1024}\n"),
    );
    // Binary input is signed as it is.
    let junk = [0u8, 0xff, 0x80, b'\n'];
    let run = alipay(&["sign", "--raw", "--private-key", &key], &junk);
    assert_eq!((run.code, run.stdout.len()), (0, 345), "{}", run.stderr);
    let sig = run.out().trim_end().to_owned();
    ok(
        &[
            "verify",
            "--public-key",
            &data("app_public.pem"),
            "--sign",
            &sig,
        ],
        &junk,
        "{\"verified\":true}\n",
    );
}

#[test]
fn sign_unusable_inputs() {
    let key = data("app_private_pkcs1.pem");
    unusable(
        &["sign", "--private-key", &key],
        b"",
        "stdin is empty; expected a JSON object of request parameters",
    );
    unusable(
        &["sign", "--raw", "--private-key", &key],
        b"",
        "stdin is empty; expected the exact bytes to sign",
    );
    unusable(&["sign", "--private-key", &key], b"  \n", "only whitespace");
    unusable(
        &["sign", "--private-key", &key],
        &[0xff, 0xfe, 0x00, 0x01],
        "stdin is not UTF-8 text",
    );
    unusable(
        &["sign", "--private-key", &key],
        b"{\"a\":",
        "stdin is not valid JSON",
    );
    unusable(
        &["sign", "--private-key", &key],
        b"[1,2]",
        "stdin holds a JSON array; expected a JSON object",
    );
    unusable(
        &["sign", "--private-key", &key],
        b"{\"a\":1} x",
        "stdin is not valid JSON",
    );
    unusable(
        &["sign", "--private-key", &key, "--sign-type", "RSA2"],
        b"{\"sign_type\":\"RSA\"}",
        "--sign-type RSA2 contradicts the sign_type parameter RSA",
    );
    unusable(
        &["sign", "--private-key", &key],
        b"{\"sign_type\":\"MD5\"}",
        "the sign_type parameter is \"MD5\"",
    );
    // Wrong key kinds and missing files.
    unusable(
        &["sign", "--private-key", &data("app_public.pem")],
        b"{}",
        "--private-key",
    );
    unusable(
        &["sign", "--raw", "--private-key", &data("app_cert.crt")],
        b"x",
        "found an X.509 certificate; the app private key (PKCS#1 or PKCS#8) is needed here",
    );
    unusable(
        &["sign", "--private-key", "/nonexistent"],
        b"{}",
        "cannot read --private-key /nonexistent",
    );
}

#[test]
fn sign_vectors() {
    let Some(v) = vectors() else { return };
    for id in [
        "node-sign-v2-rsa-sha1",
        "node-sign-v2-query",
        "node-sign-v2-pkcs8-same",
        "node-sign-v2-nowrapper-same",
    ] {
        let c = case(&v, id);
        let input = &c["input"];
        let params = input["params"].to_string();
        let sign_type = input["params"]["sign_type"].as_str().unwrap_or("RSA2");
        let run = alipay(
            &[
                "sign",
                "--private-key",
                &vfile(&v, &input["private_key_file"]),
                "--sign-type",
                sign_type,
            ],
            params.as_bytes(),
        );
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{id}");
        let out = run.json();
        let expected = &c["expected_computed"];
        if let Some(content) = expected.get("sign_content") {
            assert_eq!(out["content"], *content, "{id}");
        }
        if let Some(sign) = expected.get("sign") {
            assert_eq!(out["sign"], *sign, "{id}");
        }
    }
    let c = case(&v, "node-sign-v2-rsa-sha1");
    let expected = serde_json::json!({
        "content": c["expected_computed"]["sign_content"],
        "sign": c["expected_computed"]["sign"],
    })
    .to_string()
        + "\n";
    ok(
        &[
            "sign",
            "--private-key",
            &vfile(&v, &c["input"]["private_key_file"]),
            "--sign-type",
            "RSA",
        ],
        c["input"]["params"].to_string().as_bytes(),
        &expected,
    );
    // sign_raw cases.
    for id in [
        "fzlee-sign-hello-rsa2",
        "fzlee-sign-hello-rsa",
        "fzlee-dc-sign-hello-rsa2",
    ] {
        let c = case(&v, id);
        let input = &c["input"];
        let sign = c["expected_computed"]
            .get("sign")
            .or(c["expected"].get("sign"))
            .unwrap();
        let sign_type = input
            .get("sign_type")
            .and_then(Value::as_str)
            .unwrap_or("RSA2");
        let message = s(&input["content"]);
        ok(
            &[
                "sign",
                "--raw",
                "--private-key",
                &vfile(&v, &input["private_key_file"]),
                "--sign-type",
                sign_type,
            ],
            message.as_bytes(),
            &format!("{}\n", s(sign)),
        );
    }
}

#[test]
fn verify_outcomes() {
    let public = data("app_public.pem");
    ok(
        &["verify", "--public-key", &public, "--sign", HELLO_RSA2],
        b"hello",
        "{\"verified\":true}\n",
    );
    ok(
        &[
            "verify",
            "--public-key",
            &public,
            "--sign",
            HELLO_RSA,
            "--sign-type",
            "RSA",
        ],
        b"hello",
        "{\"verified\":true}\n",
    );
    // A certificate works where a public key is asked for.
    ok(
        &[
            "verify",
            "--public-key",
            &data("app_cert.crt"),
            "--sign",
            HELLO_RSA2,
        ],
        b"hello",
        "{\"verified\":true}\n",
    );
    ok(
        &[
            "verify",
            "--public-key",
            &data("legacy1024_public.pem"),
            "--sign",
            HELLO_1024,
        ],
        b"hello",
        "{\"verified\":true}\n",
    );
    // Failing checks: other bytes, other key, other digest, a short signature.
    fails(
        &["verify", "--public-key", &public, "--sign", HELLO_RSA2],
        b"hellO",
        "{\"verified\":false}\n",
    );
    fails(
        &["verify", "--public-key", &public, "--sign", HELLO_RSA2],
        b"hello\n",
        "{\"verified\":false}\n",
    );
    fails(
        &[
            "verify",
            "--public-key",
            &data("alipay_public.pem"),
            "--sign",
            HELLO_RSA2,
        ],
        b"hello",
        "{\"verified\":false}\n",
    );
    fails(
        &[
            "verify",
            "--public-key",
            &public,
            "--sign",
            HELLO_RSA2,
            "--sign-type",
            "RSA",
        ],
        b"hello",
        "{\"verified\":false}\n",
    );
    let reason = fails(
        &["verify", "--public-key", &public, "--sign", "AAAA"],
        b"hello",
        "{\"verified\":false}\n",
    );
    assert!(
        reason.contains("3 bytes where the 2048-bit key gives 256 bytes"),
        "{reason}"
    );
    // Unusable.
    unusable(
        &["verify", "--public-key", &public, "--sign", "not base64!"],
        b"hello",
        "--sign is not valid base64",
    );
    unusable(
        &["verify", "--public-key", &public, "--sign", ""],
        b"hello",
        "--sign is empty",
    );
    unusable(
        &["verify", "--public-key", &public, "--sign", HELLO_RSA2],
        b"",
        "stdin is empty",
    );
    unusable(
        &[
            "verify",
            "--public-key",
            &data("app_private_pkcs1.pem"),
            "--sign",
            HELLO_RSA2,
        ],
        b"hello",
        "a public key or certificate is needed here",
    );
}

// ---------------------------------------------------------------------------------------------
// response verify

/// A certificate-mode response signed with the test Alipay key (openssl), with `\/` and
/// Chinese text inside.
const CERT_RESPONSE_SIGN: &str = "T9mJiZY0gI1uR2czwvng6PyXB/ysI242lerakUx0A1QGfhBnmYUVHXkgW1Xpv2U4KiraGEaNqu57iczaomarKGBE2/v4DM5L87vN7jSteJkQwSqpW4epKD3H4+uuXv1dQX1py/C8x1hqYqorGzqNqPqoRXZxEiDK3EkRw31UoAQf0zyJEE/b70jpnVBCtvC4cIBza9BYqwUs/ippQSKzVdM/PyqG2DiGrKYM8mee+6vqbUAHcIw9Zvz5QSLqfi2pJCnEiWdeEapeIu4hrkA7+sIb2Tt3rJfuUXow9AeH1MJkenFab5xV6EqsXj5rRpXITFVp6Osxgo7n6qkbFt+Mfg==";
const CERT_RESPONSE_NODE: &str =
    r#"{"code":"10000","msg":"Success","out_trade_no":"T1","subject":"中文 \/ x"}"#;

fn cert_response(sn: &str) -> String {
    format!(
        "{{\"alipay_trade_query_response\" : {CERT_RESPONSE_NODE},\n \"alipay_cert_sn\":\"{sn}\",\"sign\":\"{CERT_RESPONSE_SIGN}\"}}"
    )
}

#[test]
fn response_verify_cert_mode() {
    let cert = data("alipay_cert_chain.crt");
    let body = cert_response(ALIPAY_CERT_SN);
    let expected = format!(
        "{{\"verified\":true,\"content\":{},\"alipay_cert_sn\":\"{ALIPAY_CERT_SN}\",\"response\":{{\"code\":\"10000\",\"msg\":\"Success\",\"out_trade_no\":\"T1\",\"subject\":\"中文 / x\"}}}}\n",
        serde_json::to_string(CERT_RESPONSE_NODE).unwrap()
    );
    ok(
        &[
            "response",
            "verify",
            "--method",
            "alipay.trade.query",
            "--alipay-cert",
            &cert,
        ],
        body.as_bytes(),
        &expected,
    );
    // With the public key instead of the certificate.
    ok(
        &[
            "response",
            "verify",
            "--method",
            "alipay.trade.query",
            "--public-key",
            &data("alipay_public.pem"),
        ],
        body.as_bytes(),
        &expected,
    );
    // An SN that is not the certificate's: not verified, even though the key signed it.
    let other = cert_response("0123456789abcdef0123456789abcdef");
    let reason = fails(
        &[
            "response",
            "verify",
            "--method",
            "alipay.trade.query",
            "--alipay-cert",
            &cert,
        ],
        other.as_bytes(),
        &expected
            .replace("\"verified\":true", "\"verified\":false")
            .replace(ALIPAY_CERT_SN, "0123456789abcdef0123456789abcdef"),
    );
    assert!(
        reason.contains("alipay_cert_sn 0123456789abcdef0123456789abcdef"),
        "{reason}"
    );
    // The wrong key.
    fails(
        &[
            "response",
            "verify",
            "--method",
            "alipay.trade.query",
            "--public-key",
            &data("app_public.pem"),
        ],
        body.as_bytes(),
        &expected.replace("\"verified\":true", "\"verified\":false"),
    );
    // --pretty.
    let run = alipay(
        &[
            "response",
            "verify",
            "--pretty",
            "--method",
            "alipay.trade.query",
            "--alipay-cert",
            &cert,
        ],
        body.as_bytes(),
    );
    assert_eq!(run.code, 0);
    assert!(
        run.out().starts_with("verified: true\ncontent: {\"code\""),
        "{}",
        run.out()
    );
}

#[test]
fn response_verify_encrypted_round_trip() {
    // Build an encrypted response with the CLI itself: AES-encrypt the node, sign the quoted
    // ciphertext with the Alipay key.
    let key = "aYA0GP8JEW+D7/UFaskCWA==";
    let node = r#"{"code":"10000","msg":"Success","aes_key":"x"}"#;
    let ct = alipay(&["aes", "encrypt", "--key", key], node.as_bytes());
    let ct = ct.out().trim_end().to_owned();
    let quoted = format!("\"{ct}\"");
    let sig = alipay(
        &[
            "sign",
            "--raw",
            "--private-key",
            &data("alipay_private_pkcs1.pem"),
        ],
        quoted.as_bytes(),
    );
    let sig = sig.out().trim_end().to_owned();
    let body = format!("{{\"alipay_open_auth_app_aes_set_response\":{quoted},\"sign\":\"{sig}\"}}");
    let args = [
        "response",
        "verify",
        "--method",
        "alipay.open.auth.app.aes.set",
        "--public-key",
        &data("alipay_public.pem"),
    ];
    let content = serde_json::to_string(&quoted).unwrap();
    // Verified and decrypted.
    let mut with_key = args.to_vec();
    with_key.extend(["--aes-key", key]);
    ok(
        &with_key,
        body.as_bytes(),
        &format!(
            "{{\"verified\":true,\"content\":{content},\"alipay_cert_sn\":null,\"response\":{node}}}\n"
        ),
    );
    // Without the key the node stays ciphertext.
    ok(
        &args,
        body.as_bytes(),
        &format!(
            "{{\"verified\":true,\"content\":{content},\"alipay_cert_sn\":null,\"response\":\"{ct}\"}}\n"
        ),
    );
    // Not verified: never decrypted.
    let wrong_key = data("app_public.pem");
    let mut wrong = with_key.clone();
    wrong[5] = &wrong_key;
    fails(
        &wrong,
        body.as_bytes(),
        &format!(
            "{{\"verified\":false,\"content\":{content},\"alipay_cert_sn\":null,\"response\":\"{ct}\"}}\n"
        ),
    );
    // Verified, but the AES key is wrong: unusable.
    let mut bad_aes = args.to_vec();
    bad_aes.extend(["--aes-key", "AAAAAAAAAAAAAAAAAAAAAA=="]);
    unusable(
        &bad_aes,
        body.as_bytes(),
        "--aes-key: cannot decrypt the verified response",
    );
    let mut short = args.to_vec();
    short.extend(["--aes-key", "AAAA"]);
    unusable(
        &short,
        body.as_bytes(),
        "--aes-key: the AES key has 3 bytes",
    );
}

#[test]
fn response_verify_failures_and_garbage() {
    let args = [
        "response",
        "verify",
        "--method",
        "alipay.trade.query",
        "--public-key",
        &data("alipay_public.pem"),
    ];
    // An unsigned gateway error: well-formed, but nothing verifies it.
    let body = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"}}"#;
    let reason = fails(
        &args,
        body.as_bytes(),
        "{\"verified\":false,\"content\":\"{\\\"code\\\":\\\"40002\\\",\\\"msg\\\":\\\"Invalid Arguments\\\",\\\"sub_code\\\":\\\"isv.code-invalid\\\",\\\"sub_msg\\\":\\\"授权码code无效\\\"}\",\"alipay_cert_sn\":null,\"response\":{\"code\":\"40002\",\"msg\":\"Invalid Arguments\",\"sub_code\":\"isv.code-invalid\",\"sub_msg\":\"授权码code无效\"}}\n",
    );
    assert!(reason.contains("carries no sign"), "{reason}");
    // A sign that is not base64 is a failed check, not unusable input (it came from the body).
    fails(
        &args,
        br#"{"alipay_trade_query_response":{"code":"10000"},"sign":"%%%"}"#,
        "{\"verified\":false,\"content\":\"{\\\"code\\\":\\\"10000\\\"}\",\"alipay_cert_sn\":null,\"response\":{\"code\":\"10000\"}}\n",
    );
    unusable(
        &args,
        b"",
        "stdin is empty; expected a raw v2 gateway response body",
    );
    unusable(&args, b"<html>502 Bad Gateway</html>", "not a JSON object");
    unusable(&args, &[0x7b, 0xff, 0x00, 0x13], "stdin");
    unusable(
        &args,
        br#"{"alipay_trade_pay_response":{"code":"10000"},"sign":"x"}"#,
        "neither \"alipay_trade_query_response\" nor \"error_response\"",
    );
    unusable(
        &args,
        br#"{"alipay_trade_query_response":{"code":"10000"},"sign":"x"} trailing"#,
        "trailing data",
    );
    unusable(
        &[
            "response",
            "verify",
            "--method",
            "",
            "--public-key",
            &data("alipay_public.pem"),
        ],
        b"{}",
        "--method is empty",
    );
    unusable(
        &[
            "response",
            "verify",
            "--method",
            "m",
            "--alipay-cert",
            &data("alipay_public.pem"),
        ],
        b"{}",
        "a certificate file is needed here",
    );
    unusable(
        &["response", "verify", "--method", "m"],
        b"{}",
        "--public-key <FILE>|--alipay-cert <FILE>",
    );
}

#[test]
fn response_verify_gbk_body() {
    // A GBK body: the content is signed as GBK bytes and reported as UTF-8.
    let node = "{\"code\":\"10000\",\"msg\":\"成功\"}";
    let gbk_node: Vec<u8> = vec![
        b'{', b'"', b'c', b'o', b'd', b'e', b'"', b':', b'"', b'1', b'0', b'0', b'0', b'0', b'"',
        b',', b'"', b'm', b's', b'g', b'"', b':', b'"', 0xb3, 0xc9, 0xb9, 0xa6, b'"', b'}',
    ];
    let sig = alipay(
        &[
            "sign",
            "--raw",
            "--private-key",
            &data("alipay_private_pkcs1.pem"),
        ],
        &gbk_node,
    );
    let sig = sig.out().trim_end().to_owned();
    let mut body = b"{\"alipay_trade_query_response\":".to_vec();
    body.extend_from_slice(&gbk_node);
    body.extend_from_slice(format!(",\"sign\":\"{sig}\"}}").as_bytes());
    ok(
        &[
            "response",
            "verify",
            "--method",
            "alipay.trade.query",
            "--public-key",
            &data("alipay_public.pem"),
            "--charset",
            "gbk",
        ],
        &body,
        &format!(
            "{{\"verified\":true,\"content\":{},\"alipay_cert_sn\":null,\"response\":{node}}}\n",
            serde_json::to_string(node).unwrap()
        ),
    );
    unusable(
        &[
            "response",
            "verify",
            "--method",
            "alipay.trade.query",
            "--public-key",
            &data("alipay_public.pem"),
        ],
        &body,
        "pass --charset",
    );
}

#[test]
fn response_verify_vectors() {
    let Some(v) = vectors() else { return };
    let c = case(&v, "node-response-verify-ok");
    let input = &c["input"];
    ok(
        &[
            "response",
            "verify",
            "--method",
            s(&input["method"]),
            "--public-key",
            &vfile(&v, &input["alipay_public_key_file"]),
        ],
        s(&input["response"]).as_bytes(),
        "{\"verified\":true,\"content\":\"{\\\"code\\\":\\\"10000\\\",\\\"msg\\\":\\\"Success\\\",\\\"file_id\\\":\\\"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr\\\"}\",\"alipay_cert_sn\":null,\"response\":{\"code\":\"10000\",\"msg\":\"Success\",\"file_id\":\"CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr\"}}\n",
    );
    for id in [
        "node-response-verify-tampered",
        "node-response-cert-mode",
        "node-signstr-escaped-slashes",
        "node-signstr-inner-sign-key",
        "node-signstr-whitespace",
        "gopay-sync-verify",
        "synthetic-v2-encrypted-response",
    ] {
        let c = case(&v, id);
        let input = &c["input"];
        let mut args = vec![
            "response".to_owned(),
            "verify".to_owned(),
            "--method".to_owned(),
            s(&input["method"]).to_owned(),
        ];
        if let Some(cert) = input.get("alipay_public_cert_file") {
            args.extend(["--alipay-cert".to_owned(), vfile(&v, cert)]);
        } else if let Some(file) = input.get("alipay_public_key_file") {
            args.extend(["--public-key".to_owned(), vfile(&v, file)]);
        } else {
            let key = tmp(
                &format!("{id}.pem"),
                s(&input["alipay_public_key"]).as_bytes(),
            );
            args.extend(["--public-key".to_owned(), key]);
        }
        if let Some(aes) = input.get("encrypt_key") {
            args.extend(["--aes-key".to_owned(), s(aes).to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = alipay(&args, s(&input["response"]).as_bytes());
        let out = run.json();
        let expected = &c["expected"];
        let computed = &c["expected_computed"];
        let verified = expected
            .get("verified")
            .or(expected.get("py_official.verified"))
            .or(computed.get("verified"))
            .and_then(Value::as_bool)
            .unwrap();
        assert_eq!(
            out["verified"],
            Value::Bool(verified),
            "{id}: {}",
            run.stderr
        );
        assert_eq!(run.code, if verified { 0 } else { 1 }, "{id}");
        let content = expected
            .get("sign_content")
            .or(expected.get("node.sign_content"))
            .or(computed.get("sign_content"));
        if let Some(content) = content {
            assert_eq!(out["content"], *content, "{id}");
        }
        if let Some(sn) = expected.get("node.alipay_cert_sn") {
            assert_eq!(out["alipay_cert_sn"], *sn, "{id}");
        }
        if let Some(plain) = expected.get("py_official.decrypted") {
            let plain: Value = serde_json::from_str(s(plain)).unwrap();
            assert_eq!(out["response"], plain, "{id}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// notify verify

/// A GBK trade notification signed (rule v1) with the test Alipay key.
const GBK_NOTIFY: &str = "app_id=2021000000000001&charset=gbk&notify_type=trade_status_sync&out_trade_no=T1&subject=%D6%D0%CE%C4+%B2%E2%CA%D4&total_amount=88.80&trade_status=TRADE_SUCCESS&sign_type=RSA2&sign=L13VJS2SZtLJqkSdPk0v%2FMuCEkh7UQN6%2BzPCa%2FVZQOzu%2BSX3jLaNCmTO64XbQ86ffCe%2FEBQB5eEZof5MYpV0vXjp5Ko%2BJnWZs8SBbzzwOqFaAuUTFrD9t4UqduHOF%2B32qFqC586puOuC9KQKSklA9yUbeSxgfDOK8wNwsHjurzaKshFQy23Pm3NiVgTIU7ox5cJZDL8deIMoaYiq5egP72aKUe%2BaDIvw%2FBPHY7FWzsu6cpnot8pO1pJ%2Fa7JxpV9UfsPGVVHqD0wBZzyOHpxSjvMF%2BHqFxujodw%2FVv8yTz3lmOF61fWxlGyDGr3AoYfUSz4RGm2yXX7FP29Y506mwEA%3D%3D";
const GBK_NOTIFY_SIGN: &str = "L13VJS2SZtLJqkSdPk0v/MuCEkh7UQN6+zPCa/VZQOzu+SX3jLaNCmTO64XbQ86ffCe/EBQB5eEZof5MYpV0vXjp5Ko+JnWZs8SBbzzwOqFaAuUTFrD9t4UqduHOF+32qFqC586puOuC9KQKSklA9yUbeSxgfDOK8wNwsHjurzaKshFQy23Pm3NiVgTIU7ox5cJZDL8deIMoaYiq5egP72aKUe+aDIvw/BPHY7FWzsu6cpnot8pO1pJ/a7JxpV9UfsPGVVHqD0wBZzyOHpxSjvMF+HqFxujodw/Vv8yTz3lmOF61fWxlGyDGr3AoYfUSz4RGm2yXX7FP29Y506mwEA==";
const GBK_V1_CONTENT: &str = "app_id=2021000000000001&charset=gbk&notify_type=trade_status_sync&out_trade_no=T1&subject=中文 测试&total_amount=88.80&trade_status=TRADE_SUCCESS";

fn gbk_notify_output(verified: bool, rule: &str, sign_type: &str) -> String {
    let content = if rule == "v1" {
        GBK_V1_CONTENT.to_owned()
    } else {
        GBK_V1_CONTENT.replace("&subject=", &format!("&sign_type={sign_type}&subject="))
    };
    format!(
        "{{\"verified\":{verified},\"rule\":\"{rule}\",\"content\":\"{content}\",\"params\":{{\"app_id\":\"2021000000000001\",\"charset\":\"gbk\",\"notify_type\":\"trade_status_sync\",\"out_trade_no\":\"T1\",\"subject\":\"中文 测试\",\"total_amount\":\"88.80\",\"trade_status\":\"TRADE_SUCCESS\",\"sign_type\":\"{sign_type}\",\"sign\":\"{GBK_NOTIFY_SIGN}\"}}}}\n"
    )
}

#[test]
fn notify_verify_gbk_rules() {
    let key = data("alipay_public.pem");
    let cert = data("alipay_cert_chain.crt");
    let body = GBK_NOTIFY.as_bytes();
    ok(
        &["notify", "verify", "--public-key", &key],
        body,
        &gbk_notify_output(true, "v1", "RSA2"),
    );
    ok(
        &["notify", "verify", "--alipay-cert", &cert, "--rule", "v1"],
        body,
        &gbk_notify_output(true, "v1", "RSA2"),
    );
    ok(
        &[
            "notify",
            "verify",
            "--public-key",
            &key,
            "--content-type",
            "application/x-www-form-urlencoded; charset=GBK",
        ],
        body,
        &gbk_notify_output(true, "v1", "RSA2"),
    );
    // A trailing newline (from echo or a file) is not part of the body.
    let mut with_newline = body.to_vec();
    with_newline.extend_from_slice(b"\r\n");
    ok(
        &["notify", "verify", "--public-key", &key],
        &with_newline,
        &gbk_notify_output(true, "v1", "RSA2"),
    );
    // Rule v2 keeps sign_type, which this notification did not sign.
    let reason = fails(
        &["notify", "verify", "--public-key", &key, "--rule", "v2"],
        body,
        &gbk_notify_output(false, "v2", "RSA2"),
    );
    assert!(reason.contains("rule v2"), "{reason}");
    // The wrong key: auto reports v1 and fails.
    let reason = fails(
        &["notify", "verify", "--public-key", &data("app_public.pem")],
        body,
        &gbk_notify_output(false, "v1", "RSA2"),
    );
    assert!(reason.contains("neither rule v1 nor v2"), "{reason}");
    // sign_type=RSA means SHA1: the RSA2 signature does not verify as SHA1.
    let as_rsa = GBK_NOTIFY.replace("sign_type=RSA2", "sign_type=RSA");
    fails(
        &["notify", "verify", "--public-key", &key],
        as_rsa.as_bytes(),
        &gbk_notify_output(false, "v1", "RSA"),
    );
}

#[test]
fn notify_verify_failures_and_garbage() {
    let key = data("alipay_public.pem");
    let args = ["notify", "verify", "--public-key", key.as_str()];
    // No sign: a failed check.
    let reason = fails(
        &args,
        b"a=1&b=%E4%B8%AD+x",
        "{\"verified\":false,\"rule\":\"v1\",\"content\":\"a=1&b=中 x\",\"params\":{\"a\":\"1\",\"b\":\"中 x\"}}\n",
    );
    assert!(reason.contains("carries no `sign`"), "{reason}");
    // A bare '%' is a broken escape: Alipay always sends '%25', so the body is malformed
    // (exit 2, CLI.md) rather than guessed at; the reason names the byte and the field.
    unusable(
        &args,
        b"k=100%&sign=AAAA",
        "broken percent-escape `%&s` at byte 5 in the value of `k`",
    );
    unusable(&args, b"", "stdin is empty");
    unusable(&args, b"\n", "holds no fields");
    unusable(
        &args,
        b"just some text",
        "field `just some text` at byte 0 has no `=`",
    );
    unusable(
        &args,
        b"{\"sign\":\"x\"}",
        "the body is JSON, not an application/x-www-form-urlencoded form",
    );
    unusable(
        &args,
        &[0xde, 0xad, b'=', 0xbe, 0xef, 0xff],
        "not valid utf-8",
    );
    unusable(
        &args,
        b"a=%FF%FE",
        "the value of `a` is not valid utf-8 (bad byte 0xFF at byte 2 of the body)",
    );
    unusable(
        &args,
        b"a=1&a=2&sign=x",
        "field `a` appears twice (first at byte 0, again at byte 4)",
    );
    unusable(
        &args,
        b"a=1&charset=latin1",
        "unsupported charset `latin1`; expected UTF-8, GBK, GB2312 or GB18030",
    );
    unusable(
        &args,
        b"a=1&sign_type=MD5",
        "the sign_type field is \"MD5\"",
    );
    unusable(
        &[
            "notify",
            "verify",
            "--public-key",
            &key,
            "--content-type",
            "application/json",
        ],
        b"a=1",
        "--content-type \"application/json\": the Content-Type is `application/json`",
    );
    unusable(
        &[
            "notify",
            "verify",
            "--public-key",
            &data("alipay_private_pkcs1.pem"),
        ],
        b"a=1",
        "a public key or certificate is needed here",
    );
    unusable(
        &["notify", "verify", "--public-key", &key, "--rule", "v3"],
        b"a=1",
        "invalid value 'v3'",
    );
}

#[test]
fn notify_verify_vectors() {
    let Some(v) = vectors() else { return };
    for id in [
        "node-notify-v1-without-sign-type",
        "node-notify-v1-with-sign-type",
        "node-notify-v2-keep-sign-type",
        "node-notify-v2-sign-type-absent",
        "node-notify-v2-tampered",
        "node-notify-v1-verify-fail",
        "node-notify-percent-raw",
        "fzlee-notify-garbage-sign",
        "java-rsacheckv2-rsa",
        "java-rsacheckv2-rsa2",
        "java-rsacheckv2-utf8",
    ] {
        let c = case(&v, id);
        let input = &c["input"];
        let Some(params) = input["params"].as_object() else {
            continue;
        };
        if params.values().any(|v| !v.is_string()) {
            continue;
        }
        let (flag, key) = match (
            input.get("alipay_public_key_file"),
            input.get("alipay_public_cert_file"),
        ) {
            (Some(k), _) => ("--public-key", vfile(&v, k)),
            (None, Some(c)) => ("--alipay-cert", vfile(&v, c)),
            (None, None) => panic!("{id}: no key"),
        };
        let body = form(params);
        let computed = &c["expected_computed"];
        for (rule, field) in [("v1", "v1_rule"), ("v2", "v2_rule")] {
            let Some(verified) = computed
                .get(format!("{field}.verified"))
                .and_then(Value::as_bool)
            else {
                continue;
            };
            let run = alipay(&["notify", "verify", flag, &key, "--rule", rule], &body);
            let out = run.json();
            assert_eq!(
                out["verified"],
                Value::Bool(verified),
                "{id} {rule}: {}",
                run.stderr
            );
            assert_eq!(run.code, if verified { 0 } else { 1 }, "{id} {rule}");
            assert_eq!(out["rule"], Value::from(rule), "{id}");
            if let Some(content) = computed.get(format!("{field}.sign_content")) {
                assert_eq!(out["content"], *content, "{id} {rule}");
            }
            let decoded = out["params"].as_object().unwrap();
            assert_eq!(decoded, params, "{id}");
        }
    }
    // auto picks the rule that verifies.
    let c = case(&v, "node-notify-v2-keep-sign-type");
    let body = form(c["input"]["params"].as_object().unwrap());
    let key = vfile(&v, &c["input"]["alipay_public_key_file"]);
    let run = alipay(&["notify", "verify", "--public-key", &key], &body);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["rule"], "v2");
    let c = case(&v, "node-notify-v1-without-sign-type");
    let body = form(c["input"]["params"].as_object().unwrap());
    let key = vfile(&v, &c["input"]["alipay_public_key_file"]);
    let run = alipay(
        &["notify", "verify", "--public-key", &key, "--rule", "auto"],
        &body,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["rule"], "v1");
    assert_eq!(
        run.json()["content"],
        c["expected_computed"]["v1_rule.sign_content"]
    );
}

// ---------------------------------------------------------------------------------------------
// aes

#[test]
fn aes_encrypt_decrypt() {
    let key = "aYA0GP8JEW+D7/UFaskCWA==";
    // PROTOCOL §5.1.
    ok(
        &["aes", "encrypt", "--key", key],
        br#"{"out_trade_no":"T1"}"#,
        "HJjZXDcVHUcOrByocVgEmgs+1Naj649A//Hd8HstLD4=\n",
    );
    ok(
        &["aes", "decrypt", "--key", key],
        b"4AOYHE0rpPnRnghunsGo+mY02DzANFLwNJJCiHfrNh2oaB2pn33PwOEOvH8mjhkE3Wh/jR+3jHM9nvoFvOsY/SqZbZzamRg9Eh3VkRqOhSM=\n",
        r#"{"code":"10000","msg":"Success","aes_key":"cW8mcZgoMGUVp5g7uv7bHw=="}"#,
    );
    // Exact bytes both ways, binary included; 256-bit keys.
    let key256 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let plain = [0u8, 1, 2, 0xff, b'\n', 0x80];
    let ct = alipay(&["aes", "encrypt", "--key", key256], &plain);
    assert_eq!(ct.code, 0);
    let back = alipay(&["aes", "decrypt", "--key", key256], &ct.stdout);
    assert_eq!((back.code, back.stdout.as_slice()), (0, plain.as_slice()));
    // Unusable: bad keys, bad ciphertext, the wrong key (bad padding), empty input.
    unusable(
        &["aes", "encrypt", "--key", "AAAA"],
        b"x",
        "--key: the AES key has 3 bytes; 16, 24 or 32 are needed",
    );
    unusable(
        &["aes", "encrypt", "--key", "!!"],
        b"x",
        "--key: the AES key is not valid base64",
    );
    unusable(
        &["aes", "decrypt", "--key", key],
        b"not base64!",
        "the ciphertext is not valid base64",
    );
    unusable(
        &["aes", "decrypt", "--key", key],
        b"AAAA",
        "not a positive multiple of 16",
    );
    unusable(
        &["aes", "decrypt", "--key", "AAAAAAAAAAAAAAAAAAAAAA=="],
        b"HJjZXDcVHUcOrByocVgEmgs+1Naj649A//Hd8HstLD4=",
        "bad padding",
    );
    unusable(
        &["aes", "encrypt", "--key", key],
        b"",
        "stdin is empty; expected the plaintext to encrypt",
    );
    unusable(
        &["aes", "decrypt", "--key", key],
        b"",
        "stdin is empty; expected a base64 ciphertext",
    );
    unusable(
        &["aes", "decrypt", "--key", key],
        &[0xff, 0x00],
        "stdin is not UTF-8 text",
    );
}

#[test]
fn aes_vectors() {
    let Some(v) = vectors() else { return };
    let c = case(&v, "java-aes-encrypt");
    ok(
        &["aes", "encrypt", "--key", s(&c["input"]["key"])],
        s(&c["input"]["plaintext"]).as_bytes(),
        &format!("{}\n", s(&c["expected"]["ciphertext"])),
    );
    let c = case(&v, "java-aes-decrypt");
    ok(
        &["aes", "decrypt", "--key", s(&c["input"]["key"])],
        s(&c["input"]["ciphertext"]).as_bytes(),
        s(&c["expected"]["plaintext"]),
    );
}

// ---------------------------------------------------------------------------------------------
// v3

#[test]
fn v3_auth_exact() {
    let body = tmp("v3-body.json", br#"{"out_trade_no":"T1"}"#);
    let content = "app_id=2021000000000001,app_cert_sn=81ca06b595dea8a0b4b34102c9785861,nonce=n1,timestamp=1700000000000\nPOST\n/v3/alipay/trade/query?x=1\n{\"out_trade_no\":\"T1\"}\ntok\n";
    let sign = "YQRZR2cBENeuUveujaRqx6hMMQkT2jCCZNY1/0+xt3MxDXwyYyE6UzgcIRgZUk4VxWSacQj/bf/47jI/tpnUnMprsWqe8acp/qJhZ2j9TRX4bSlF7lGhwW7vpe/87nrErJVHYHLZWeoI+rSI9I4FQ2IY719YyvyJDUg/f7Ctr0scLP9cBVMmCd9Vbd/o9Zo4fsfCFhD/VPXcKcEEwA6NBGBUj4oY/0+OBFdaKUsVYfeFxDbXSoIL7xdSGEr0rPZ+ZTpYoQNeyMnWUFZ6lPCRWkWwyoABVGVvt22vnCYZGj4XvRpTyIsbMG5FnX7GqLjEzEPkCboJuC29ES54mGNvxQ==";
    let expected = serde_json::json!({
        "content": content,
        "authorization": format!("ALIPAY-SHA256withRSA app_id=2021000000000001,app_cert_sn={APP_CERT_SN},nonce=n1,timestamp=1700000000000,sign={sign}"),
    })
    .to_string()
        + "\n";
    let args = [
        "v3",
        "auth",
        "--app-id",
        "2021000000000001",
        "--private-key",
        &data("app_private_pkcs1.pem"),
        "--app-cert",
        &data("app_cert.crt"),
        "--method",
        "POST",
        "--target",
        "/v3/alipay/trade/query?x=1",
        "--body-file",
        &body,
        "--app-auth-token",
        "tok",
        "--nonce",
        "n1",
        "--timestamp",
        "1700000000000",
    ];
    ok(&args, b"", &expected);
    // --pretty shows the content as a block.
    let mut pretty = args.to_vec();
    pretty.push("--pretty");
    let run = alipay(&pretty, b"");
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(
        run.out()
            .starts_with("content:\n    app_id=2021000000000001,app_cert_sn="),
        "{}",
        run.out()
    );
}

#[test]
fn v3_auth_unusable() {
    let key = data("app_private_pkcs1.pem");
    // The good arguments, with `extra` replacing a flag's value or adding a flag.
    let base = |extra: &[&'static str]| -> Vec<String> {
        let mut flags: Vec<(&str, &str)> = vec![
            ("--app-id", "1"),
            ("--private-key", &key),
            ("--method", "GET"),
            ("--target", "/v3/x"),
            ("--nonce", "n"),
            ("--timestamp", "1"),
        ];
        for pair in extra.chunks(2) {
            match flags.iter_mut().find(|(f, _)| *f == pair[0]) {
                Some(slot) => slot.1 = pair[1],
                None => flags.push((pair[0], pair[1])),
            }
        }
        let mut v = vec!["v3".to_owned(), "auth".to_owned()];
        for (f, value) in flags {
            v.push(f.to_owned());
            v.push(value.to_owned());
        }
        v
    };
    let run = |extra: &[&'static str], needle: &str| {
        let args = base(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        unusable(&args, b"", needle);
    };
    run(
        &["--timestamp", "soon"],
        "invalid value 'soon' for '--timestamp <MS>'",
    );
    run(
        &["--target", "v3/x"],
        "--target \"v3/x\" is not a request target",
    );
    run(&["--method", "G E T"], "is not an HTTP method");
    run(&["--nonce", "a,b"], "--nonce \"a,b\" contains");
    run(
        &["--body-file", "/nonexistent/body"],
        "cannot read --body-file /nonexistent/body",
    );
    let binary = tmp("v3-binary-body", &[0xff, 0xfe]);
    let args = base(&[]);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--body-file", &binary]);
    unusable(&args, b"", "is not UTF-8");
    let public = data("app_public.pem");
    let args = [
        "v3",
        "auth",
        "--app-id",
        "1",
        "--private-key",
        &public,
        "--method",
        "GET",
        "--target",
        "/v3/x",
        "--nonce",
        "n",
        "--timestamp",
        "1",
    ];
    unusable(
        &args,
        b"",
        "the app private key (PKCS#1 or PKCS#8) is needed here",
    );
    unusable(
        &["v3", "auth", "--app-id", "1"],
        b"",
        "required arguments were not provided",
    );
}

#[test]
fn v3_verify_outcomes() {
    let key = data("alipay_public.pem");
    let sig = "QstRKDdz/YNps+LmNjvNdle3ADjbn10m7EM16UWoHEvzncfNCZTJzkDQI+eU1+zW5LHEma9xhszlwUbCfAxXlWe344L2AQjkWrSAbrqJUbez7o6GvNhwzrJQRCZqfFhhG8+aIFABrY8KlcqoeEh8EbiyaAQ0zITCUiieMRLCRfVK+88UciyIN+X6X7p0a3VZkl/Rbe7ipcjDsruGzYrg+T5Km/piqFu+JkOp8OwNsFqE0F1PGjUydLyQRCEVujJ+2USIoWsjvaDxqLeOkCeKQbq3iK8wpNj2ON3cDef1m28VKbZEtKlHcM8vL3azUZl8DoPmepec6bypwDC9USN7HQ==";
    let body = br#"{"code":"10000","msg":"Success"}"#;
    let args = [
        "v3",
        "verify",
        "--public-key",
        key.as_str(),
        "--timestamp",
        "1700000000000",
        "--nonce",
        "n1",
        "--signature",
        sig,
    ];
    ok(&args, body, "{\"verified\":true}\n");
    ok(
        &[
            "v3",
            "verify",
            "--public-key",
            &data("alipay_cert_chain.crt"),
            "--timestamp",
            "1700000000000",
            "--nonce",
            "n1",
            "--signature",
            sig,
        ],
        body,
        "{\"verified\":true}\n",
    );
    fails(
        &args,
        br#"{"code":"10000","msg":"success"}"#,
        "{\"verified\":false}\n",
    );
    fails(
        &[
            "v3",
            "verify",
            "--public-key",
            &key,
            "--timestamp",
            "1700000000001",
            "--nonce",
            "n1",
            "--signature",
            sig,
        ],
        body,
        "{\"verified\":false}\n",
    );
    unusable(
        &[
            "v3",
            "verify",
            "--public-key",
            &key,
            "--timestamp",
            "1",
            "--nonce",
            "n1",
            "--signature",
            "@@",
        ],
        body,
        "--signature is not valid base64",
    );
    unusable(&args, b"", "stdin is empty; expected the raw response body");
    unusable(
        &[
            "v3",
            "verify",
            "--public-key",
            &data("root_key.pem"),
            "--timestamp",
            "1",
            "--nonce",
            "n1",
            "--signature",
            sig,
        ],
        body,
        "a public key or certificate is needed here",
    );
}

#[test]
fn v3_vectors() {
    let Some(v) = vectors() else { return };
    for id in [
        "node-v3-auth-header",
        "node-v3-auth-header-cert",
        "node-v3-auth-header-get-token",
    ] {
        let c = case(&v, id);
        let input = &c["input"];
        let computed = &c["expected_computed"];
        let mut target = s(&input["path"]).to_owned();
        if let Some(query) = input.get("query").and_then(Value::as_object) {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
            target = format!("{target}?{}", q.join("&"));
        }
        let timestamp = input["timestamp_ms"].as_u64().unwrap().to_string();
        let mut args: Vec<String> = [
            "v3",
            "auth",
            "--app-id",
            s(&input["app_id"]),
            "--private-key",
            &vfile(&v, &input["private_key_file"]),
            "--method",
            s(&input["http_method"]),
            "--target",
            &target,
            "--nonce",
            s(&input["nonce"]),
            "--timestamp",
            &timestamp,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if let Some(cert) = input.get("app_cert_file") {
            args.extend(["--app-cert".to_owned(), vfile(&v, cert)]);
        }
        if let Some(body) = computed.get("body").and_then(Value::as_str) {
            args.extend([
                "--body-file".to_owned(),
                tmp(&format!("{id}.body"), body.as_bytes()),
            ]);
        }
        if let Some(token) = input.get("app_auth_token") {
            args.extend(["--app-auth-token".to_owned(), s(token).to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let expected = serde_json::json!({
            "content": computed["sign_content"],
            "authorization": computed["authorization"],
        })
        .to_string()
            + "\n";
        ok(&args, b"", &expected);
    }
    for id in [
        "synthetic-v3-response-verify-ok",
        "synthetic-v3-response-verify-tampered",
        "node-v3-response-verify-fail",
    ] {
        let c = case(&v, id);
        let input = &c["input"];
        let headers = &input["response_headers"];
        let verified = c["expected"]
            .get("node.verified")
            .or(c["expected_computed"].get("verified"))
            .and_then(Value::as_bool)
            .unwrap();
        let Some(signature) = headers.get("alipay-signature").and_then(Value::as_str) else {
            continue;
        };
        let run = alipay(
            &[
                "v3",
                "verify",
                "--public-key",
                &vfile(&v, &input["alipay_public_key_file"]),
                "--timestamp",
                s(&headers["alipay-timestamp"]),
                "--nonce",
                s(&headers["alipay-nonce"]),
                "--signature",
                signature,
            ],
            s(&input["response_body"]).as_bytes(),
        );
        assert_eq!(
            run.code,
            if verified { 0 } else { 1 },
            "{id}: {}",
            run.stderr
        );
        assert_eq!(run.json()["verified"], Value::Bool(verified), "{id}");
    }
}

#[test]
fn bill_parse_real_sample() {
    let Some(dir) = vectors() else { return };
    let zip = dir
        .join("bill/20880211096256330156_20190916.zip")
        .to_string_lossy()
        .into_owned();
    let run = alipay(&["bill", "parse", &zip, "--check"], b"");
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let lines: Vec<Value> = run
        .out()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 10 data rows, then the footer.
    assert_eq!(lines.len(), 11);
    assert_eq!(lines[0]["table"], "detail");
    assert_eq!(lines[0]["trade_no"], "2019091622001458860515315453");
    assert_eq!(lines[0]["received"], "0.01");
    assert_eq!(lines[1]["business_type"], "退款");
    assert_eq!(lines[1]["refund_request_no"], "re_test_1568602607356");
    assert_eq!(lines[10]["table"], "footer");
    assert_eq!(lines[10]["trade"]["count"], 6);
    assert_eq!(lines[10]["trade"]["received"], "0.06");

    let gbk = dir
        .join("bill/20880211096256330156_20190916_业务明细.gbk.csv")
        .to_string_lossy()
        .into_owned();
    let run = alipay(&["bill", "parse", &gbk, "--format", "csv"], b"");
    assert_eq!(run.code, 0);
    let csv = run.out();
    assert_eq!(csv.lines().count(), 11);
    assert!(csv.starts_with("支付宝交易号,商户订单号,业务类型,商品名称,"));
    assert_eq!(
        csv.lines().nth(2).unwrap(),
        "2019091622001458860515315453,service_1568601259302,退款,下单测试,2019-09-16 10:55:16,2019-09-16 10:56:48,alipay_store,alipay_store,alipay,,*津水(602***@qq.com),-0.01,-0.01,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,re_test_1568602607356,0.00,0.00,下单测试"
    );

    // A footer that no longer matches the rows: exit 1, the rows are still printed.
    let text =
        std::fs::read_to_string(dir.join("bill/20880211096256330156_20190916_业务明细.utf8.csv"))
            .unwrap();
    let tampered = tmp(
        "bill-tampered.csv",
        text.replace("#交易合计：6笔", "#交易合计：7笔").as_bytes(),
    );
    let run = alipay(&["bill", "parse", &tampered, "--check"], b"");
    assert_eq!(run.code, 1, "{}", run.stderr);
    one_line(&run.stderr);
    assert!(run.stderr.contains("do not add up"), "{}", run.stderr);
    assert_eq!(run.out().lines().count(), 11);
    // Without --check the same file exits 0.
    assert_eq!(alipay(&["bill", "parse", &tampered], b"").code, 0);
}

#[test]
fn bill_parse_unusable_inputs() {
    unusable(
        &["bill", "parse", &data("app_public.pem")],
        b"",
        "a bill ZIP or detail/summary CSV was expected",
    );
    unusable(
        &["bill", "parse", "/nonexistent/bill.zip"],
        b"",
        "cannot open the bill file",
    );
    let junk = tmp("bill-junk.zip", b"PK\x03\x04garbage");
    unusable(&["bill", "parse", &junk], b"", "expected");
}
