//! The command line of `cargo xtask`: every command and option as clap (derive) types, parsed once in `main` before anything runs or builds, and clap's errors rendered as one plain line.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand};

use crate::bench::BenchArgs;
use crate::contract::ContractArgs;
use crate::mutants::MutantsArgs;
use crate::oracle::OracleArgs;
use crate::serve::ServeArgs;

/// `contract`: its exit codes and environment; it runs in the build `cargo xtask` made.
pub const SUITE_AFTER_HELP: &str = "\
Exit codes:
  0  no violation (known failures of the baseline aside)
  1  violations found, or an expired baseline entry
  2  the run could not be made: unreachable target, refused key, bad spec, arguments or
     baseline file, or an internal error of the suite (one line on stderr says which)
  3  the target could not be tested: an infrastructure error persisted through every
     retry, or cases were not judged (throttled past --max-time, out of time, ...; the
     --max-creates cap aside); violations found before that still exit 1

Environment:
  CONTRACT_TOKEN             the API key for --base-url; never a flag, never printed
  CONTRACT_OTHER_TEAM_TOKEN  another team's key, for the tenancy checks
  CONTRACT_EXPECT_TEAM       the team the key belongs to (as --expect-team)
  CONTRACT_EXPECT_USER       the user the key belongs to (as --expect-user)
  NO_COLOR                   set: no colour with --color auto (wins over CLICOLOR_FORCE)
  CLICOLOR_FORCE             set, not 0: colour with --color auto even when not a terminal
  TERM                       dumb: no colour with --color auto";

/// `mutants` and `bench` hand over to a release build; these lines say how to stay on this one.
macro_rules! release_environment {
    () => {
        "  XTASK_ALLOW_DEBUG  set: run from this build instead of building xtask in release
  CARGO_TARGET_DIR   where that release build goes [default: target/]"
    };
}

/// `mutants`: its own verdicts (no key is read: it runs the embedded server's development keys).
pub const MUTANTS_AFTER_HELP: &str = concat!(
    "\
Exit codes:
  0  the faithful server passed on every seed and every fault was caught
  1  the faithful server failed, a fault escaped, or a rule id has no fault
  2  nothing could run: arguments, the release build, a round's files (one line on stderr)

Environment:
",
    release_environment!(),
    "
  NO_COLOR           set: no colour with --color auto (wins over CLICOLOR_FORCE)
  CLICOLOR_FORCE     set, not 0: colour with --color auto even when not a terminal
  TERM               dumb: no colour with --color auto"
);

/// `bench`: it measures and writes, and judges nothing.
pub const BENCH_AFTER_HELP: &str = concat!(
    "\
Exit codes:
  0  bench/RESULTS.md written (target/bench/RESULTS.md with --quick)
  2  a measurement could not be made, or the file written (one line on stderr says which)

Environment:
",
    release_environment!()
);

/// `cargo xtask`: the project's commands, run from the workspace root.
#[derive(Debug, Parser)]
#[command(
    name = "xtask",
    bin_name = "cargo xtask",
    version,
    propagate_version = true,
    // Wrapped to the terminal (COLUMNS when not one, else 100), never wider than 100: longer
    // lines are hard to read.
    max_term_width = 100,
    about = "The project's commands: the client's generation, the spec, the contract suite and its servers",
    after_help = "`mutants` and `bench` run from a release build of xtask, which the first such command \
                  builds;\nset XTASK_ALLOW_DEBUG=1 to run them from the build `cargo xtask` made instead."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Regenerate generated/src/lib.rs from spec/openapi.json
    Generate(GenerateArgs),
    /// Format, compare or download the spec
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Run the contract suite (the embedded reference server unless --base-url)
    ///
    /// Runs the contract suite. Without --base-url it starts the embedded reference server on
    /// 127.0.0.1:0 and tests that. The API key comes only from the environment: CONTRACT_TOKEN
    /// (and CONTRACT_OTHER_TEAM_TOKEN for the tenancy checks), never from a flag.
    ///
    /// 429s are waited out (Retry-After, else backoff) and a gateway's 502/503/504 (a body other
    /// than the service's {"detail": ...}), a reset and a timeout are retried 3 times; the summary
    /// counts both, and neither is a violation.
    Contract(Box<ContractArgs>),
    /// Run the suite against each fault of the reference server; a kill table per rule id
    ///
    /// Runs the suite against the embedded reference server once faithfully and once with each
    /// fault of its catalog switched on, on K seeds (--seed, --seed+1, ...), and prints per fault how
    /// many seeds caught it, the first case that did (case, check, operation, pointer, request), then
    /// a kill table: every rule id of CONTRACT.md, the faults that break it, and whether all of them
    /// were caught on every seed. A fault is caught on a seed only by a failure signature (check,
    /// operation, pointer) the faithful run of that seed does not show, of a check that asserts one
    /// of the fault's rules. With --oracle DIR, the faults are a blind round's (DIR/FAULTS.md) in its
    /// FastAPI copy, against the faultless copy. Exits 1 when the faithful server fails on any seed,
    /// a fault escapes on any seed, or a rule id has no fault; 2 when nothing could run.
    Mutants(MutantsArgs),
    /// Measure the suite (release build) and write bench/RESULTS.md
    ///
    /// Builds xtask in release and measures: the raw loopback request rate, the suite's cases per
    /// second (create only and the full mix, at concurrency 1 and the default), the wall time of
    /// `cargo xtask contract` with no flags (seeds 1-3, cleanup and shrinking as default), where a
    /// case's CPU goes, a simulated QA run with added latency, time to detection (every fault of
    /// the catalog on seeds 1-3, judged by the kill rule of `mutants`), and a race with
    /// Schemathesis (both whole commands at equal concurrency 4, the same seeds and cases; every
    /// fault on seed 1). About 20 minutes on 2 cores. Writes bench/RESULTS.md, which also quotes
    /// bench/first-run.txt (written by bench/first-run.sh); --quick writes target/bench/RESULTS.md
    /// instead, with smaller budgets and one fault per rule group.
    Bench(BenchArgs),
    /// Run the reference server in the foreground
    ///
    /// Runs the reference server in the foreground: with no key given (--api-key, --api-key-file
    /// or SERVE_API_KEYS), on two development keys (printed); at most 1024 connections (512 per
    /// client address, 256 per key), 10 s to send headers, 30 s of stalled body or unread response, and per
    /// team 100000 simulations and 256 MiB, unless told otherwise.
    Serve(ServeArgs),
    /// Run the FastAPI + pydantic oracle (oracle/) in the foreground, on loopback
    ///
    /// Runs the FastAPI + pydantic oracle (oracle/) in the foreground, on loopback only, with the
    /// reference server's two development keys; installs oracle/requirements.txt into
    /// target/oracle-venv on first use (needs python3 with venv).
    Oracle(OracleArgs),
}

impl Command {
    /// The suite's commands: exit code 2 for a run not made.
    pub fn is_suite(name: &str) -> bool {
        matches!(name, "contract" | "mutants" | "bench")
    }
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Compare instead of writing: fail when the committed client is stale
    #[arg(long)]
    pub check: bool,
    /// The spec to generate from [default: spec/openapi.json]
    #[arg(long, value_name = "PATH")]
    pub spec: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SpecCommand {
    /// Rewrite spec/openapi.json in its normalised form (sorted keys, 2-space indent)
    Fmt,
    /// List spec changes per operation and schema, each breaking or not (rules in spec/README.md)
    #[command(
        after_help = "Exit codes:\n  0  no breaking change (or --allow-breaking)\n  1  a breaking change; a file missing or not a usable spec; bad arguments\n  2  a REV:PATH git cannot show"
    )]
    Diff(SpecDiffArgs),
    /// Download the service's document (key from CONTRACT_TOKEN), validate, normalise and write it
    #[command(
        after_help = "Only from loopback or, over https, a host the contract suite may test (see --allow-host);\nanother URL exits 2 before any connection.\n\nExit codes with --check:\n  0  the stored spec is the document the service serves\n  1  it differs, with a breaking change (rules in spec/README.md)\n  2  the command could not run: a URL refused, the stored spec unreadable\n  3  it differs, and no change is breaking\n  4  the document could not be fetched: unreachable, a status other than 2xx, over\n     --max-response-bytes, not JSON, or not a usable OpenAPI 3.1 document\n\nEnvironment:\n  CONTRACT_TOKEN  the API key the document is downloaded with; never a flag, never printed"
    )]
    Pull(SpecPullArgs),
}

#[derive(Debug, Args)]
pub struct SpecDiffArgs {
    /// The old document: a file, or REV:PATH as `git show` reads it (HEAD~20:spec/openapi.json)
    /// [default: spec/openapi.json at git HEAD]
    #[arg(value_name = "OLD")]
    pub old: Option<String>,
    /// The new document, as OLD [default: the working copy of spec/openapi.json]
    #[arg(value_name = "NEW")]
    pub new: Option<String>,
    /// Exit 0 even when a change is breaking
    #[arg(long)]
    pub allow_breaking: bool,
    /// How to write the changes: text, JSON, Markdown, or GitHub workflow annotations
    #[arg(long, value_name = "FMT", value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// `spec diff --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Per operation and schema, one line per change
    Text,
    /// {"breaking": bool, "changes": [{id, level, path, text, ...}]}
    Json,
    /// A heading with the counts, a section per operation and schema (for a job summary)
    Markdown,
    /// ::error / ::warning / ::notice workflow commands, one per change
    Github,
}

#[derive(Debug, Args)]
pub struct SpecPullArgs {
    /// Where the service publishes its document
    #[arg(long, value_name = "URL", default_value = crate::spec_pull::DEFAULT_URL)]
    pub url: String,
    /// Where to write it [default: spec/openapi.json]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Write nothing; print the changes and a text diff when the document differs, and say how
    /// in the exit code (below)
    #[arg(long)]
    pub check: bool,
    /// Allow this host, or add a domain under which qa/dev/test/staging hosts are allowed
    /// (interactly.ai always is; plain http only to loopback); repeatable
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_hosts: Vec<String>,
    /// A larger document is refused, not read further
    #[arg(long, value_name = "N", default_value_t = contract_tests::http::DEFAULT_MAX_RESPONSE_BYTES, value_parser = number_in(1024..=1usize << 30))]
    pub max_response_bytes: usize,
}

/// `--color`: whether the human summary is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, as NO_COLOR, CLICOLOR_FORCE, CLICOLOR and TERM=dumb say
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream, given whether it is a terminal, as the process's
    /// environment says.
    pub fn enabled(self, terminal: bool) -> bool {
        self.enabled_with(terminal, |name| std::env::var(name).ok())
    }

    /// The conventions of no-color.org and bixense.com/clicolors, in this order, for `auto`:
    /// NO_COLOR (not empty) turns colour off whatever else is set; CLICOLOR_FORCE (not empty,
    /// not 0) turns it on even when not a terminal; CLICOLOR=0 and TERM=dumb turn it off;
    /// otherwise a terminal is coloured. `always` and `never`, a per-run choice, win over all.
    pub fn enabled_with(self, terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
        let set = |name: &str| env(name).filter(|v| !v.is_empty());
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                if set("NO_COLOR").is_some() {
                    false
                } else if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                    true
                } else if set("CLICOLOR").is_some_and(|v| v == "0")
                    || set("TERM").is_some_and(|v| v == "dumb")
                {
                    false
                } else {
                    terminal
                }
            }
        }
    }
}

pub use reference_server::cli::{fault_parser, number_in};

/// Seconds within `range`.
pub fn seconds_in(
    range: RangeInclusive<f64>,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    let number = number_in(range);
    move |text: &str| number(text).map(Duration::from_secs_f64)
}

/// Flags that would carry a key: refused with a line that says where the key goes instead.
const KEY_FLAGS: &[&str] = &["--token", "--api-key", "--key"];

/// A clap error as one plain line (`error: ...`), without usage or tips; a near name clap found
/// and the values a closed list allows are said on the same line. Help and version are not
/// errors: they are returned as they print.
pub fn one_line(err: &clap::Error, command: &str) -> String {
    if err.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg)
    {
        let flag = arg.split('=').next().unwrap_or_default();
        if KEY_FLAGS.contains(&flag) && Command::is_suite(command) {
            return format!(
                "error: {flag} is not accepted: set CONTRACT_TOKEN in the environment instead"
            );
        }
        let help = match command {
            "" => "cargo xtask help".to_owned(),
            command => format!("cargo xtask {command} --help"),
        };
        return match reference_server::cli::suggestion(err).strip_prefix("; ") {
            Some(near) => format!("error: unknown argument `{flag}`: {near} (`{help}`)"),
            None => format!("error: unknown argument `{flag}`; run `{help}`"),
        };
    }
    if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return format!(
            "error: `cargo xtask {command}` needs a subcommand; run `cargo xtask {command} --help`"
        );
    }
    reference_server::cli::plain_line(err, "cargo xtask serve --list-faults")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn numbers_say_whether_they_are_none_or_out_of_range() {
        let cases = number_in(1..=10u64);
        assert_eq!(cases("3"), Ok(3));
        for bad in ["0", "11", "-1", "99999999999999999999", "inf"] {
            assert_eq!(
                cases(bad),
                Err("out of range: expected a whole number from 1 to 10".to_owned()),
                "{bad}"
            );
        }
        for bad in ["x", "", "NaN", "3 cases"] {
            assert_eq!(
                cases(bad),
                Err("not a number: expected a whole number from 1 to 10".to_owned()),
                "{bad}"
            );
        }
        assert_eq!(
            cases("2.5"),
            Err("not a whole number: expected a whole number from 1 to 10".to_owned())
        );
        for bad in ["1e3", "5.0"] {
            assert_eq!(
                cases(bad),
                Err(
                    "not a whole number in digits: expected a whole number from 1 to 10".to_owned()
                ),
                "{bad}"
            );
        }
        let rate = number_in(0.01..=100.0);
        assert_eq!(
            rate("fast"),
            Err("not a number: expected a number from 0.01 to 100".to_owned())
        );
        assert_eq!(
            rate("NaN"),
            Err("not a number: expected a number from 0.01 to 100".to_owned())
        );
        assert_eq!(
            rate("0"),
            Err("out of range: expected a number from 0.01 to 100".to_owned())
        );
        let seconds = seconds_in(0.01..=5.0);
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        for bad in ["NaN", "inf", "-5", "1e30"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_are_one_line() {
        for args in [
            &["xtask", "contract", "--cases", "many"][..],
            &["xtask", "contract", "--fault", "nope"],
            &["xtask", "contract", "--token", "secret"],
            &["xtask", "contract", "--cases"],
            &["xtask", "spec"],
            &["xtask", "spec", "diff", "a", "b", "c"],
            &["xtask", "frobnicate"],
        ] {
            let err = Cli::try_parse_from(args).expect_err("refused");
            let line = one_line(&err, args.get(1).copied().unwrap_or_default());
            assert!(line.starts_with("error: "), "{line}");
            assert!(!line.contains('\n'), "{line}");
            assert!(!line.contains("secret"), "{line}");
        }
    }

    #[test]
    fn colour_follows_the_flag_then_the_conventions() {
        use ColorChoice::{Always, Auto, Never};
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        /// Variables set in the process's environment.
        type Vars = &'static [(&'static str, &'static str)];
        // (choice, terminal, environment, coloured)
        let table: &[(ColorChoice, bool, Vars, bool)] = &[
            (Auto, true, &[], true),
            (Auto, false, &[], false),
            (Auto, false, &[("CLICOLOR_FORCE", "1")], true),
            (Auto, false, &[("CLICOLOR_FORCE", "0")], false),
            (Auto, false, &[("CLICOLOR_FORCE", "")], false),
            (Auto, true, &[("TERM", "dumb")], false),
            (
                Auto,
                false,
                &[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")],
                true,
            ),
            (Auto, true, &[("CLICOLOR", "0")], false),
            (Auto, true, &[("NO_COLOR", "1")], false),
            (Auto, true, &[("NO_COLOR", "")], true),
            (
                Auto,
                true,
                &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
                false,
            ),
            (Always, false, &[("NO_COLOR", "1"), ("TERM", "dumb")], true),
            (Never, true, &[("CLICOLOR_FORCE", "1")], false),
        ];
        for (choice, terminal, vars, coloured) in table {
            assert_eq!(
                choice.enabled_with(*terminal, env(vars)),
                *coloured,
                "{choice:?} terminal={terminal} {vars:?}"
            );
        }
    }
}
