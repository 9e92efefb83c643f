//! `cargo xtask`: the project's commands, run from the workspace root; `cli.rs` declares them and `cargo xtask help` lists them.

/// mimalloc instead of glibc's malloc for the suite, the embedded server and everything else
/// xtask runs in process: the same 10 000 create-only cases cost ~17 % less process CPU, and
/// plain reqwest replaying their requests ~30 % less (the two builds measured alternately).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod child_env;
mod cli;
mod codegen;
mod colour;
mod contract;
mod downgrade;
mod mutants;
mod oracle;
mod release;
mod serve;
mod spec;
mod spec_diff;
mod spec_pull;

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Parser;
use clap::error::ErrorKind;

use cli::{Cli, Command, DiffFormat, GenerateArgs, SpecCommand, SpecDiffArgs, SpecPullArgs};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().map_or("", String::as_str);
    // Parsed in full before anything else, so help, version and argument errors are answered
    // before `mutants` and `bench` hand over to a release build.
    let cli = match Cli::try_parse_from(
        std::iter::once("xtask").chain(args.iter().map(String::as_str)),
    ) {
        Ok(cli) => cli,
        Err(err) => return clap_exit(&err, name),
    };
    let rest = args.get(1..).unwrap_or_default();
    // The suite's commands have their own exit codes: 1 for violations, 2 for a run not made.
    let command = match cli.command {
        Some(Command::Contract(a)) => {
            return release::run_guarded(|| contract::contract(*a));
        }
        Some(Command::Mutants(a)) => {
            return release::run_optimised("mutants", rest, || mutants::mutants(a));
        }
        Some(Command::Bench(a)) => {
            return release::run_optimised("bench", rest, || bench::bench(a));
        }
        Some(command) => command,
        None => {
            // `cargo xtask` alone lacks its command, as `cargo` alone does: the list of
            // commands (as `cargo xtask help` prints it) on stderr, and exit 2, so a script
            // that lost its argument fails instead of passing.
            use clap::CommandFactory;
            use std::io::Write;
            let _ = write!(std::io::stderr(), "{}", Cli::command().render_help());
            return ExitCode::from(2);
        }
    };
    match run(command) {
        Ok(code) => code,
        Err(err) => {
            print_error(&err);
            // A request refused as misconfigured (`spec pull`'s guard) is exit 2, as in the suite.
            if let Some(contract_tests::RunError::Arguments(_)) = err.downcast_ref() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// One plain line: the whole cause chain, no backtrace, and whatever a server or a spec wrote
/// into it escaped.
fn print_error(err: &anyhow::Error) {
    eprintln!(
        "error: {}",
        contract_tests::text::escape(&format!("{err:#}"))
    );
}

/// Help and version print in full and exit 0; an argument error is one line, exit 2 for the
/// suite's commands (a run not made) and for a command line that names no command (a typo, as
/// `cargo xtask` alone), and 1 for the other commands, as their other failures.
fn clap_exit(err: &clap::Error, command: &str) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{}", cli::one_line(err, command));
            let named = {
                use clap::CommandFactory;
                Cli::command().find_subcommand(command).is_some()
            };
            ExitCode::from(if Command::is_suite(command) || !named {
                2
            } else {
                1
            })
        }
    }
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Generate(args) => generate(args).map(|()| ExitCode::SUCCESS),
        Command::Spec(command) => spec_command(command),
        Command::Serve(args) => serve::run(args).map(|()| ExitCode::SUCCESS),
        Command::Oracle(args) => oracle::run(args).map(|()| ExitCode::SUCCESS),
        Command::Contract(_) | Command::Mutants(_) | Command::Bench(_) => {
            unreachable!("the suite's commands run from main")
        }
    }
}

fn generate(args: GenerateArgs) -> Result<()> {
    let mode = if args.check {
        codegen::Mode::Check
    } else {
        codegen::Mode::Write
    };
    let spec_path = args.spec.unwrap_or_else(codegen::default_spec_path);
    codegen::run(&spec_path, mode)
}

fn spec_command(command: SpecCommand) -> Result<ExitCode> {
    match command {
        SpecCommand::Fmt => {
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
            Ok(ExitCode::SUCCESS)
        }
        SpecCommand::Diff(args) => spec_diff_command(args).map(|()| ExitCode::SUCCESS),
        SpecCommand::Pull(args) => spec_pull_command(args),
    }
}

fn spec_diff_command(args: SpecDiffArgs) -> Result<()> {
    let SpecDiffArgs {
        old,
        new,
        allow_breaking,
        format,
    } = args;
    let old = match old {
        Some(arg) => spec_diff::load_document(&arg)?,
        None => spec_diff::head_spec()?,
    };
    let (new, file) = match &new {
        Some(arg) => (
            spec_diff::load_document(arg)?,
            spec_diff::document_file(arg).to_owned(),
        ),
        None => (
            spec::load_spec(&codegen::default_spec_path())?,
            "spec/openapi.json".to_owned(),
        ),
    };
    let report = spec_diff::diff(&old, &new);
    match format {
        DiffFormat::Text => print!("{report}"),
        // One line: the escaping of what serde_json leaves raw works on compact JSON only.
        DiffFormat::Json => println!(
            "{}",
            contract_tests::text::json_escape_unsafe(&report.to_json().to_string())
        ),
        DiffFormat::Markdown => print!("{}", report.markdown()),
        DiffFormat::Github => print!("{}", report.github(&file)),
    }
    match report.breaking() {
        0 => Ok(()),
        _ if allow_breaking => Ok(()),
        n => bail!(
            "{n} breaking change{}; pass --allow-breaking to accept",
            if n == 1 { "" } else { "s" }
        ),
    }
}

fn spec_pull_command(args: SpecPullArgs) -> Result<ExitCode> {
    let SpecPullArgs {
        url,
        out,
        check,
        allow_hosts,
        max_response_bytes,
    } = args;
    let limits = spec_pull::Limits {
        allow_hosts,
        max_response_bytes,
    };
    let out = out.unwrap_or_else(codegen::default_spec_path);
    if check {
        return Ok(spec_pull_check(&url, &out, &limits));
    }
    let report = spec_pull::pull(&url, &out, &limits)?;
    println!("wrote {} from {url}", out.display());
    print!("{report}");
    if report.breaking() > 0 {
        println!("review the breaking changes above, then run `cargo xtask generate`");
    }
    Ok(ExitCode::SUCCESS)
}

/// `spec pull --check`, whose exit code tells a CI job what happened: 0 the same document,
/// 1 breaking drift, 3 drift that breaks nothing, 4 the document could not be fetched, 2 the
/// command could not run (a URL refused, the stored spec unreadable).
fn spec_pull_check(url: &str, out: &std::path::Path, limits: &spec_pull::Limits) -> ExitCode {
    let checked = match spec_pull::check(url, out, limits) {
        Ok(checked) => checked,
        Err(err) => {
            print_error(&err);
            let fetch = err.downcast_ref::<spec_pull::FetchFailed>().is_some();
            return ExitCode::from(if fetch {
                spec_pull::EXIT_FETCH_FAILED
            } else {
                2
            });
        }
    };
    let escape = contract_tests::text::escape;
    match checked {
        spec_pull::Checked::Same => {
            println!("{} is the document {} serves", out.display(), escape(url));
            ExitCode::SUCCESS
        }
        spec_pull::Checked::Differs { report, text } => {
            print!("{report}");
            println!();
            // The served document's text: the normalised JSON escapes C0, not DEL, C1 or bidi.
            print!("{}", contract_tests::text::escape_keeping_lines(&text));
            let (severity, code, what) = match report.breaking() {
                0 => (
                    "warning",
                    spec_pull::EXIT_BENIGN,
                    "no breaking change".to_owned(),
                ),
                1 => (
                    "error",
                    spec_pull::EXIT_BREAKING,
                    "1 breaking change".to_owned(),
                ),
                n => (
                    "error",
                    spec_pull::EXIT_BREAKING,
                    format!("{n} breaking changes"),
                ),
            };
            eprintln!(
                "{severity}: {} differs from the document {} serves ({what}); `cargo xtask spec pull` takes it",
                out.display(),
                escape(url)
            );
            ExitCode::from(code)
        }
    }
}
