//! One module per command family; each returns a [`Report`] or a [`CliError`].

mod aes;
pub(crate) mod bill;
pub(crate) mod call;
mod cert;
mod client;
pub(crate) mod demo;
pub(crate) mod emulator;
mod keys;
mod notify;
pub(crate) mod pay;
mod response;
mod sign;
mod v3;

use crate::cli::{AesCmd, BillCmd, CertCmd, Command, KeysCmd, NotifyCmd, ResponseCmd, V3Cmd};
use crate::error::CliError;
use crate::output::Report;

/// Runs one parsed command.
pub(crate) fn dispatch(command: Command) -> Result<Report, CliError> {
    match command {
        Command::Keys(KeysCmd::Inspect { file }) => keys::inspect(&file),
        Command::Keys(KeysCmd::Check {
            private,
            public,
            cert,
        }) => keys::check(&private, public.as_deref(), cert.as_deref()),
        Command::Cert(CertCmd::Sn { file }) => cert::sn(&file),
        Command::Cert(CertCmd::RootSn { file }) => cert::root_sn(&file),
        Command::Cert(CertCmd::VerifyChain { root, at, file }) => {
            cert::verify_chain(&root, at.as_deref(), &file)
        }
        Command::Sign(args) => sign::sign(&args),
        Command::Verify(args) => sign::verify(&args),
        Command::Response(ResponseCmd::Verify(args)) => response::verify(&args),
        Command::Notify(NotifyCmd::Verify(args)) => notify::verify(&args),
        Command::Aes(AesCmd::Encrypt { key }) => aes::encrypt(&key),
        Command::Aes(AesCmd::Decrypt { key }) => aes::decrypt(&key),
        Command::V3(V3Cmd::Auth(args)) => v3::auth(&args),
        Command::V3(V3Cmd::Verify(args)) => v3::verify(&args),
        Command::Bill(BillCmd::Parse {
            file,
            format,
            check,
        }) => bill::parse(&file, format, check),
        Command::Bill(BillCmd::Download(args)) => bill::download(&args),
        Command::PagePay(args) => pay::page_pay(&args),
        Command::AppPay(args) => pay::app_pay(&args),
        Command::Call(args) => call::call(&args),
        Command::Emulator(args) => emulator::run(&args),
        Command::Demo(args) => demo::run(&args),
    }
}
