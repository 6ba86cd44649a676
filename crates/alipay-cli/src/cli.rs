//! The command-line grammar (clap derive), exactly as CLI.md names it.

use std::path::PathBuf;
use std::process::ExitCode;

use alipay_sign::{Charset, SignType};
use clap::error::ErrorKind;
use clap::{
    ArgGroup, Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum,
};

/// The `alipay` command line of alipay-rs.
#[derive(Debug, Parser)]
#[command(
    name = "alipay",
    version,
    about = "Alipay Open Platform tool: keys, certificates, signatures, responses, notifications, AES, v3, payments, bills",
    color = clap::ColorChoice::Never,
    disable_help_subcommand = true,
    propagate_version = true
)]
pub(crate) struct Cli {
    /// Human-readable output instead of one JSON object.
    #[arg(long, global = true)]
    pub(crate) pretty: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Inspect key files and check key pairs.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Certificate SNs and chain validation.
    #[command(subcommand)]
    Cert(CertCmd),
    /// Sign v2 request parameters (stdin: a JSON object), or raw bytes with --raw.
    Sign(SignArgs),
    /// Verify a signature over the exact bytes on stdin.
    Verify(VerifyArgs),
    /// v2 gateway responses.
    #[command(subcommand)]
    Response(ResponseCmd),
    /// Asynchronous notifications.
    #[command(subcommand)]
    Notify(NotifyCmd),
    /// AES content encryption (CBC, zero IV, PKCS#7, base64).
    #[command(subcommand)]
    Aes(AesCmd),
    /// v3 protocol: Authorization headers and response signatures.
    #[command(subcommand)]
    V3(V3Cmd),
    /// Bills (对账单): parse and check a bill ZIP or CSV.
    #[command(subcommand)]
    Bill(BillCmd),
    /// A local Alipay gateway for tests and demos (alipay-emulator), until interrupted.
    Emulator(crate::cmd::emulator::EmulatorArgs),
    /// The end-to-end checkout demo against an embedded emulator, one printed step at a time.
    Demo(crate::cmd::demo::DemoArgs),
    /// Page (or wap) pay with a client config: the auto-submitting form, or the URL (stdin:
    /// biz_content JSON).
    PagePay(crate::cmd::pay::PagePayArgs),
    /// App pay with a client config: the order string for the mobile SDK (stdin: biz_content
    /// JSON).
    AppPay(crate::cmd::pay::AppPayArgs),
    /// Call any API method with a client config; prints the verified response node (stdin:
    /// biz JSON; v3: the body, or the query parameters of a GET).
    Call(crate::cmd::call::CallArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCmd {
    /// What a key or certificate file holds: {"kind","bits","encoding","count"}.
    Inspect {
        /// A key or certificate file (PEM, base64 or DER).
        file: PathBuf,
    },
    /// Exit 0 when the private key and the public key (or certificate) are a pair, 1 when not.
    #[command(group(ArgGroup::new("public_half").required(true).args(["public", "cert"])))]
    Check {
        /// The private key (PKCS#1 or PKCS#8).
        #[arg(long, value_name = "FILE")]
        private: PathBuf,
        /// A public key (SPKI or PKCS#1) or certificate.
        #[arg(long, value_name = "FILE")]
        public: Option<PathBuf>,
        /// A certificate file (its first certificate is used).
        #[arg(long, value_name = "FILE")]
        cert: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CertCmd {
    /// The SN (app_cert_sn / alipay_cert_sn) of the first certificate, one line.
    Sn {
        /// A certificate file.
        file: PathBuf,
    },
    /// The alipay_root_cert_sn of a root bundle, one line.
    RootSn {
        /// The root bundle.
        file: PathBuf,
    },
    /// Exit 0 when the certificate or chain (leaf first) is trusted by the root bundle.
    VerifyChain {
        /// The root bundle.
        #[arg(long, value_name = "FILE")]
        root: PathBuf,
        /// The time to check at (RFC 3339, e.g. 2027-01-01T00:00:00Z; default now).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// A certificate or chain, leaf first.
        file: PathBuf,
    },
}

/// `sign_type`: RSA2 (SHA256withRSA) or RSA (SHA1withRSA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
pub(crate) enum SignTypeArg {
    /// SHA256withRSA.
    #[value(name = "RSA2")]
    Rsa2,
    /// SHA1withRSA (legacy).
    #[value(name = "RSA")]
    Rsa,
}

impl From<SignTypeArg> for SignType {
    fn from(value: SignTypeArg) -> Self {
        match value {
            SignTypeArg::Rsa2 => SignType::Rsa2,
            SignTypeArg::Rsa => SignType::Rsa,
        }
    }
}

fn parse_charset(label: &str) -> Result<Charset, String> {
    Charset::from_label(label).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// Sign the exact bytes of stdin and print the base64 signature.
    #[arg(long)]
    pub(crate) raw: bool,
    /// The app private key (PKCS#1 or PKCS#8).
    #[arg(long, value_name = "FILE")]
    pub(crate) private_key: PathBuf,
    /// RSA2 (default) or RSA; defaults to the sign_type parameter when there is one.
    #[arg(long, value_name = "RSA2|RSA", ignore_case = true)]
    pub(crate) sign_type: Option<SignTypeArg>,
    /// The charset the string is signed in; defaults to the charset parameter, else utf-8.
    #[arg(long, value_name = "utf-8|gbk", value_parser = parse_charset, conflicts_with = "raw")]
    pub(crate) charset: Option<Charset>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The public key or certificate that should have made the signature.
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key: PathBuf,
    /// The base64 signature.
    #[arg(long, value_name = "B64")]
    pub(crate) sign: String,
    /// RSA2 (default) or RSA.
    #[arg(long, value_name = "RSA2|RSA", ignore_case = true)]
    pub(crate) sign_type: Option<SignTypeArg>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ResponseCmd {
    /// Verify a raw v2 gateway response body (stdin).
    Verify(ResponseVerifyArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("key").required(true).args(["public_key", "alipay_cert"])))]
pub(crate) struct ResponseVerifyArgs {
    /// The API method, e.g. alipay.trade.query.
    #[arg(long, value_name = "M")]
    pub(crate) method: String,
    /// The Alipay public key (or a certificate).
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key: Option<PathBuf>,
    /// The Alipay public-key certificate (certificate mode; its SN must match alipay_cert_sn).
    #[arg(long, value_name = "FILE")]
    pub(crate) alipay_cert: Option<PathBuf>,
    /// The AES key, to decrypt an encrypted response once it verifies.
    #[arg(long, value_name = "B64")]
    pub(crate) aes_key: Option<String>,
    /// RSA2 (default) or RSA.
    #[arg(long, value_name = "RSA2|RSA", ignore_case = true)]
    pub(crate) sign_type: Option<SignTypeArg>,
    /// The charset of the body (utf-8 default, or gbk).
    #[arg(long, value_name = "utf-8|gbk", value_parser = parse_charset)]
    pub(crate) charset: Option<Charset>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCmd {
    /// Verify the raw body of a notification (stdin).
    Verify(NotifyVerifyArgs),
}

/// Which fields a notification signature leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RuleArg {
    /// The rule the content calls for (v2 for msg_method and gateway messages, else v1),
    /// then the other one; report the one that verified.
    Auto,
    /// rsaCheckV1: drop sign and sign_type (trade notifications).
    V1,
    /// rsaCheckV2: drop only sign (gateway messages).
    V2,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("key").required(true).args(["public_key", "alipay_cert"])))]
pub(crate) struct NotifyVerifyArgs {
    /// The Alipay public key (or a certificate).
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key: Option<PathBuf>,
    /// The Alipay public-key certificate (certificate mode: the notification's alipay_cert_sn
    /// picks it). Repeat for several certificates (before and after a rotation); the first one
    /// checks notifications without alipay_cert_sn.
    #[arg(long, value_name = "FILE")]
    pub(crate) alipay_cert: Vec<PathBuf>,
    /// The request's Content-Type header (its charset is used when the body has no charset field).
    #[arg(long, value_name = "HEADER")]
    pub(crate) content_type: Option<String>,
    /// The content rule.
    #[arg(long, value_enum, default_value_t = RuleArg::Auto)]
    pub(crate) rule: RuleArg,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AesCmd {
    /// Encrypt stdin (the exact bytes); print the base64 ciphertext.
    Encrypt {
        /// The base64 AES key.
        #[arg(long, value_name = "B64")]
        key: String,
    },
    /// Decrypt the base64 ciphertext on stdin; print the plaintext bytes.
    Decrypt {
        /// The base64 AES key.
        #[arg(long, value_name = "B64")]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum V3Cmd {
    /// Build and sign a v3 Authorization header.
    Auth(V3AuthArgs),
    /// Verify a v3 response signature over the raw body on stdin.
    Verify(V3VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct V3AuthArgs {
    /// The app_id.
    #[arg(long, value_name = "ID")]
    pub(crate) app_id: String,
    /// The app private key.
    #[arg(long, value_name = "FILE")]
    pub(crate) private_key: PathBuf,
    /// The app public-key certificate (certificate mode: adds app_cert_sn).
    #[arg(long, value_name = "FILE")]
    pub(crate) app_cert: Option<PathBuf>,
    /// The HTTP method, e.g. POST.
    #[arg(long, value_name = "M")]
    pub(crate) method: String,
    /// The request target: path and query exactly as sent, e.g. /v3/alipay/trade/query.
    #[arg(long, value_name = "PATH_AND_QUERY")]
    pub(crate) target: String,
    /// The exact request body (none: empty).
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: Option<PathBuf>,
    /// The alipay-app-auth-token header value.
    #[arg(long, value_name = "T")]
    pub(crate) app_auth_token: Option<String>,
    /// The nonce.
    #[arg(long, value_name = "N")]
    pub(crate) nonce: String,
    /// Milliseconds since the Unix epoch.
    #[arg(long, value_name = "MS")]
    pub(crate) timestamp: u64,
}

#[derive(Debug, Args)]
pub(crate) struct V3VerifyArgs {
    /// The Alipay public key (or a certificate).
    #[arg(long, value_name = "FILE")]
    pub(crate) public_key: PathBuf,
    /// The alipay-timestamp header value.
    #[arg(long, value_name = "T")]
    pub(crate) timestamp: String,
    /// The alipay-nonce header value.
    #[arg(long, value_name = "N")]
    pub(crate) nonce: String,
    /// The alipay-signature header value.
    #[arg(long, value_name = "B64")]
    pub(crate) signature: String,
}

impl Cli {
    /// Parses the process arguments. A missing subcommand is an ordinary one-line error, not
    /// the full help text that clap's derive prints by default.
    pub(crate) fn parse_args() -> Result<Self, clap::Error> {
        let matches = relax(Self::command()).try_get_matches()?;
        Self::from_arg_matches(&matches)
    }
}

fn relax(cmd: clap::Command) -> clap::Command {
    cmd.arg_required_else_help(false).mut_subcommands(relax)
}

/// Help and version go to stdout with exit 0; every other clap error becomes one line on
/// stderr with exit 2.
pub(crate) fn exit_for_clap_error(err: &clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            crate::output::write_stdout(err.to_string().as_bytes());
            ExitCode::SUCCESS
        }
        _ => {
            crate::output::error_line(&short_clap_error(&err.to_string()));
            ExitCode::from(2)
        }
    }
}

/// clap's message without the usage block, the tips and the "--help" pointer, on one line.
fn short_clap_error(rendered: &str) -> String {
    let mut kept = Vec::new();
    for line in rendered.lines() {
        let t = line.trim();
        if t.starts_with("Usage:") || t.starts_with("For more information") {
            break;
        }
        if t.is_empty() || t.starts_with("tip:") {
            continue;
        }
        kept.push(t);
    }
    let mut text = kept.join(" ");
    if text.is_empty() {
        text = "error: invalid arguments".to_owned();
    }
    if !text.starts_with("error:") {
        text = format!("error: {text}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn short_errors() {
        assert_eq!(
            short_clap_error(
                "error: the following required arguments were not provided:\n  --private-key <FILE>\n\nUsage: alipay sign --private-key <FILE>\n\nFor more information, try '--help'.\n"
            ),
            "error: the following required arguments were not provided: --private-key <FILE>"
        );
    }
}

/// `alipay bill …`.
#[derive(Debug, Subcommand)]
pub(crate) enum BillCmd {
    /// Parse a bill ZIP, or one detail/summary CSV (GBK or UTF-8).
    Parse {
        /// The bill ZIP or CSV file.
        file: PathBuf,
        /// `jsonl`: one JSON object per row, then a footer object per table; `csv`: UTF-8 CSV of
        /// the detail rows.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: BillFormat,
        /// Exit 1 when the rows do not add up to the footer totals.
        #[arg(long)]
        check: bool,
    },
    /// Download a bill ZIP with a client config (the URL query, then the file; a progress bar
    /// on a terminal).
    Download(crate::cmd::bill::DownloadArgs),
}

/// Output format of `alipay bill parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BillFormat {
    /// JSON lines.
    Jsonl,
    /// UTF-8 CSV of the detail rows.
    Csv,
}
