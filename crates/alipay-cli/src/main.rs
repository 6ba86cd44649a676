//! # alipay-cli
//!
//! The `alipay` command line of alipay-rs: the tool to reach for when an Alipay Open Platform
//! integration misbehaves — which key is this, does this pair match, what string did I sign,
//! does this response or notification verify — and the stable black-box interface that
//! conformance and interop tests drive. The contract (names, flags, input and output formats,
//! exit codes) is `CLI.md`; this binary implements its key, certificate, signing, response,
//! notification, AES and v3 subcommands on top of [`alipay_sign`].
//!
//! ```text
//! alipay keys inspect FILE
//! alipay keys check --private FILE (--public FILE | --cert FILE)
//! alipay cert sn FILE
//! alipay cert root-sn FILE
//! alipay cert verify-chain --root FILE [--at RFC3339] FILE
//! alipay sign --private-key FILE [--sign-type RSA2|RSA] [--charset utf-8|gbk]   < params.json
//! alipay sign --raw --private-key FILE [--sign-type RSA2|RSA]                   < bytes
//! alipay verify --public-key FILE --sign B64 [--sign-type RSA2|RSA]             < bytes
//! alipay response verify --method M (--public-key FILE | --alipay-cert FILE) [--aes-key B64]
//! alipay notify verify (--public-key FILE | --alipay-cert FILE) [--content-type H] [--rule auto|v1|v2]
//! alipay aes encrypt --key B64 / alipay aes decrypt --key B64
//! alipay v3 auth --app-id ID --private-key FILE [--app-cert FILE] --method M --target T
//!                [--body-file FILE] [--app-auth-token T] --nonce N --timestamp MS
//! alipay v3 verify --public-key FILE --timestamp T --nonce N --signature B64      < body
//! ```
//!
//! ## Conventions
//!
//! * Exit codes: `0` success or verified; `1` a well-formed input that fails the check (bad
//!   signature, keys that are not a pair, an untrusted chain), with the reason as one line on
//!   stderr; `2` unusable input or arguments, with a one-line reason on stderr that names what
//!   was found and what was expected. Never a panic or a backtrace, whatever `RUST_BACKTRACE`
//!   says.
//! * Output: one compact JSON object on stdout (UTF-8, key order as documented, then a newline),
//!   or one line of text where `CLI.md` says so (`cert sn`, `cert root-sn`, `sign --raw`,
//!   `aes encrypt`); `aes decrypt` writes the plaintext bytes exactly. `--pretty` turns the JSON
//!   objects into `key: value` lines for people.
//! * No command reads the clock except `cert verify-chain` without `--at`.
//!
//! ## Example
//!
//! ```text
//! $ echo '{"app_id":"2021000000000000","method":"alipay.trade.query","sign_type":"RSA2",
//!          "biz_content":{"out_trade_no":"T1"}}' | alipay sign --private-key app_private.pem
//! {"content":"app_id=2021000000000000&biz_content={\"out_trade_no\":\"T1\"}&method=alipay.trade.query&sign_type=RSA2","sign":"…"}
//! ```
//!
//! ## Features
//!
//! None of its own: the binary always builds `alipay-sign` with both backends, aws-lc-rs for
//! speed and the pure-Rust `rsa` crate for legacy `sign_type=RSA` (SHA1withRSA) signing and
//! keys under 2048 bits.

mod cli;
mod clock;
mod cmd;
mod error;
mod input;
mod jsonstr;
mod output;

use std::process::ExitCode;

use crate::cli::Cli;
use crate::output::Report;

fn main() -> ExitCode {
    // A bug must still end in one line on stderr, never a panic message with a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        output::error_line(&format!(
            "internal error (a bug in alipay, please report it): {payload}"
        ));
    }));
    match std::panic::catch_unwind(run) {
        Ok(code) => code,
        Err(_) => ExitCode::from(2),
    }
}

fn run() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(cli) => cli,
        Err(e) => return cli::exit_for_clap_error(&e),
    };
    let pretty = cli.pretty;
    match cmd::dispatch(cli.command) {
        Ok(report) => emit(&report, pretty),
        Err(e) => {
            output::error_line(&e.to_string());
            ExitCode::from(2)
        }
    }
}

fn emit(report: &Report, pretty: bool) -> ExitCode {
    let code = report.exit_code();
    output::write_report(report, pretty);
    if let Some(reason) = report.reason() {
        output::error_line(reason);
    }
    ExitCode::from(code)
}
