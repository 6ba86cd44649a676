//! `cargo xtask`: development tasks of the alipay-rs workspace.
//!
//! ```text
//! cargo xtask codegen [--check] [--spec PATH]
//! ```
//!
//! `codegen` turns the Alipay OpenAPI description (`xtask/spec/alipay-openapi.json` by default, or the
//! JSON or YAML file given with `--spec`) into `crates/alipay-model/src/generated/`, the generated
//! round-trip test and the family features of `crates/alipay-model/Cargo.toml`. With `--check` it writes
//! nothing and exits non-zero when a generated file is stale or orphaned. See `docs/codegen.md`.

// A command-line tool reports on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod codegen;
mod release;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask codegen [--check] [--spec PATH]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let (task, rest) = args.split_first().ok_or_else(|| USAGE.to_owned())?;
    match task.as_str() {
        "codegen" => {
            let mut check = false;
            let mut spec = None;
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                match arg.as_str() {
                    "--check" => check = true,
                    "--spec" => {
                        let path = rest.next().ok_or("--spec needs a path")?;
                        spec = Some(PathBuf::from(path));
                    }
                    "-h" | "--help" => {
                        println!("{USAGE}");
                        return Ok(());
                    }
                    other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
                }
            }
            let root = codegen::workspace_root();
            let spec = spec.unwrap_or_else(|| root.join(codegen::DEFAULT_SPEC));
            let output = codegen::generate_from_path(&root, &spec)?;
            if check {
                let problems = codegen::check(&root, &output)?;
                if problems.is_empty() {
                    println!("codegen: {} files up to date", output.files.len() + 1);
                    Ok(())
                } else {
                    for problem in &problems {
                        eprintln!("{problem}");
                    }
                    Err(format!(
                        "{} generated file(s) out of date: run `cargo xtask codegen`",
                        problems.len()
                    ))
                }
            } else {
                let changed = codegen::write(&root, &output)?;
                println!(
                    "codegen: {changed} file(s) written, {} in total",
                    output.files.len() + 1
                );
                Ok(())
            }
        }
        "release" => release::run(rest),
        "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    }
}
