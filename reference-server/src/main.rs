//! `reference-server`: the mock of the Simulations API in the foreground, with the options of
//! `cargo xtask serve` (`reference_server::cli`), for teams without this repository's toolchain.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use reference_server::cli::{self, ServeArgs};

/// Serve the Simulations API mock (the reference server) in the foreground
///
/// Serves the Simulations API mock (the reference server, in memory) in the foreground: with no
/// key given (--api-key, --api-key-file or SERVE_API_KEYS), on two development keys (printed);
/// at most 1024 connections (512 per client address, 256 per key), 10 s to send headers, 30 s
/// of stalled body or unread response, and per team 100000 simulations and 256 MiB, unless told
/// otherwise. Exits 2 on a bad option, key, keys file or address, 1 when the server cannot run.
#[derive(Debug, Parser)]
#[command(name = "reference-server", version)]
struct Cli {
    #[command(flatten)]
    args: ServeArgs,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            return match err.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    // A reader that stops early (`| head -1`) is no failure.
                    let _ = err.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    eprintln!("{}", cli::one_line(&err, "reference-server"));
                    ExitCode::from(2)
                }
            };
        }
    };
    match cli::run(cli.args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
