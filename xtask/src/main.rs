//! `cargo xtask`: the project's commands (generate, and more as they land), run from the workspace root.

mod bench;
mod codegen;
mod contract;
mod downgrade;
mod oracle;
mod release;
mod serve;
mod spec;
mod spec_diff;
mod spec_pull;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  generate [--check] [--spec PATH]   regenerate generated/src/lib.rs from spec/openapi.json;
                                     --check fails when the committed client is stale
  contract [options]                 run the contract suite (embedded server unless --base-url);
                                     `cargo xtask contract --help` for its options
  mutants [--cases N] [--seed N] [--seeds K]
                                     run the suite against each fault of the reference server
                                     on K seeds (default 5) and print a kill table per rule id
  bench [--quick]                    measure the suite (release build) and write bench/RESULTS.md
  serve [--addr ADDR] [--api-key KEY:TEAM:USER]... [--fault NAME] [--latency MS] [--list-faults]
        [--max-connections N] [--header-read-timeout SECS] [--io-timeout SECS]
                                     run the reference server in the foreground (default
                                     127.0.0.1:8080; with no --api-key, two development keys;
                                     at most 1024 connections, 10 s to send headers, 30 s of
                                     stalled body or unread response)
  oracle [--addr IP:PORT]            run the FastAPI + pydantic oracle (oracle/) in the foreground
                                     (default 127.0.0.1:8081, loopback only; the same two keys);
                                     installs oracle/requirements.txt into target/oracle-venv
  spec fmt                           rewrite spec/openapi.json in its normalised form
  spec diff [OLD] [NEW] [--allow-breaking]
                                     list spec changes, each breaking or not (rules in
                                     spec/README.md); OLD defaults to spec/openapi.json at git
                                     HEAD, NEW to the working copy; exits 1 on a breaking change
                                     unless --allow-breaking
  spec pull [--url URL] [--out PATH] download the service's document (key from CONTRACT_TOKEN),
                                     validate, normalise and write it (default spec/openapi.json),
                                     then list the changes
  spec pull --check [--url URL] [--out PATH]
                                     write nothing; exit 1 with the changes and a text diff when
                                     the service's document differs from the stored spec";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The suite's commands have their own exit codes: 1 for violations, 2 for a run not made.
    match args.first().map(String::as_str) {
        Some("contract") => {
            return release::run_optimised("contract", &args[1..], contract::contract);
        }
        Some("mutants") => return release::run_optimised("mutants", &args[1..], contract::mutants),
        Some("bench") => return release::run_optimised("bench", &args[1..], bench::bench),
        _ => {}
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One plain line: the whole cause chain, no backtrace.
            eprintln!("error: {}", format!("{err:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    match command.as_str() {
        "generate" => generate(rest),
        "spec" => spec_command(rest),
        "serve" => serve::run(rest),
        "oracle" => oracle::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`; run `cargo xtask help`"),
    }
}

fn generate(args: &[String]) -> Result<()> {
    let mut mode = codegen::Mode::Write;
    let mut spec_path = codegen::default_spec_path();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => mode = codegen::Mode::Check,
            "--spec" => match args.next() {
                Some(path) => spec_path = PathBuf::from(path),
                None => bail!("--spec needs a path"),
            },
            other => bail!("unknown argument `{other}` for generate"),
        }
    }
    codegen::run(&spec_path, mode)
}

fn spec_command(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("fmt") if args.len() == 1 => {
            let path = codegen::default_spec_path();
            let doc = spec::load_spec(&path)?;
            let changed = codegen::ensure_file_contents(
                &path,
                &spec::normalised_text(&doc),
                codegen::Mode::Write,
            )?;
            println!(
                "spec/openapi.json {}",
                if changed {
                    "rewritten"
                } else {
                    "already normalised"
                }
            );
            Ok(())
        }
        Some("diff") => spec_diff_command(&args[1..]),
        Some("pull") => spec_pull_command(&args[1..]),
        Some(other) => bail!("unknown spec command `{other}`; run `cargo xtask help`"),
        None => bail!("spec needs a subcommand: fmt, diff or pull"),
    }
}

fn spec_diff_command(args: &[String]) -> Result<()> {
    let mut allow_breaking = false;
    let mut files = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--allow-breaking" => allow_breaking = true,
            flag if flag.starts_with("--") => bail!("unknown argument `{flag}` for spec diff"),
            path => files.push(PathBuf::from(path)),
        }
    }
    let (old, new) = match files.as_slice() {
        [] => (
            spec_diff::head_spec()?,
            spec::load_spec(&codegen::default_spec_path())?,
        ),
        [old] => (
            spec::load_spec(old)?,
            spec::load_spec(&codegen::default_spec_path())?,
        ),
        [old, new] => (spec::load_spec(old)?, spec::load_spec(new)?),
        _ => bail!("spec diff takes at most two files: OLD NEW"),
    };
    let report = spec_diff::diff(&old, &new);
    print!("{report}");
    match report.breaking() {
        0 => Ok(()),
        _ if allow_breaking => Ok(()),
        n => bail!(
            "{n} breaking change{}; pass --allow-breaking to accept",
            if n == 1 { "" } else { "s" }
        ),
    }
}

fn spec_pull_command(args: &[String]) -> Result<()> {
    let mut url = spec_pull::DEFAULT_URL.to_owned();
    let mut out = codegen::default_spec_path();
    let mut check = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next().context("--url needs a URL")?.clone(),
            "--out" => out = PathBuf::from(args.next().context("--out needs a path")?),
            "--check" => check = true,
            other => bail!("unknown argument `{other}` for spec pull"),
        }
    }
    if check {
        return match spec_pull::check(&url, &out)? {
            spec_pull::Checked::Same => {
                println!("{} is the document {url} serves", out.display());
                Ok(())
            }
            spec_pull::Checked::Differs { report, text } => {
                print!("{report}");
                println!();
                print!("{text}");
                bail!(
                    "{} differs from the document {url} serves; `cargo xtask spec pull` takes it",
                    out.display()
                )
            }
        };
    }
    let report = spec_pull::pull(&url, &out)?;
    println!("wrote {} from {url}", out.display());
    print!("{report}");
    if report.breaking() > 0 {
        println!("review the breaking changes above, then run `cargo xtask generate`");
    }
    Ok(())
}
