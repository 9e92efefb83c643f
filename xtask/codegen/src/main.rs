//! `xtask-codegen`: reads an OpenAPI 3.0 document on stdin and prints the client's Rust source; `cargo xtask generate` runs it.

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut input = String::new();
    let rendered = std::io::stdin()
        .read_to_string(&mut input)
        .map_err(anyhow::Error::from)
        .and_then(|_| Ok(serde_json::from_str(&input)?))
        .and_then(xtask_codegen::render);
    match rendered {
        Ok(source) => match std::io::stdout().lock().write_all(source.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write the client source: {e}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("error: {}", format!("{err:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
