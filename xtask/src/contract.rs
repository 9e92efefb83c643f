//! `cargo xtask contract`: run the contract suite against a URL or the embedded reference server, with exit codes 0 (no violation), 1 (violations), 2 (no run) and 3 (the target could not be tested: infrastructure errors persisted through retries, or drawn cases were not judged).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use contract_tests::baseline::{Baseline, Triage, today_utc};
use contract_tests::checks::CHECKS;
use contract_tests::partition::Partition;
use contract_tests::redact::{Key, Secrets};
use contract_tests::run_state::Identity;
use contract_tests::runner::{self, Options, Progress, Report, ShrinkScope, Verdict};
use contract_tests::{report, text};
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};

use crate::cli::{ColorChoice, fault_parser, number_in, seconds_in};
use crate::codegen::workspace_root;

/// The most cases one run may be asked for: about an hour at full loopback speed.
pub const MAX_CASES: u64 = 10_000_000;

/// Cases in a run without `--cases`; `bench` measures a run with this default too.
pub const DEFAULT_CASES: u64 = 2000;

/// Requests in flight without `--concurrency` when the target is on loopback (the embedded
/// server); `bench` measures at this concurrency.
pub const LOOPBACK_CONCURRENCY: usize = 32;

/// Where failing seeds are kept, committed, and replayed first.
pub fn regressions_path() -> PathBuf {
    workspace_root().join("contract-tests/proptest-regressions/contract.txt")
}

/// The committed baseline of known failures.
pub fn baseline_path() -> PathBuf {
    workspace_root().join("contract-tests/baseline.toml")
}

/// `--message-format`: what stdout carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// Findings and the summary as text
    Human,
    /// One JSON object per finding, then a summary object, on stdout; progress and notes go to stderr
    Json,
}

/// `--shrink`: which groups of failures shrinking spends requests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shrink {
    /// The first 10 findings, 100 steps and 300 requests each, all of it within the case
    /// phase's requests: a failing run costs at most about 3 passing ones; the summary says
    /// what was not shrunk
    Budget,
    /// Every finding, 200 steps each, bounded by --max-time and --max-creates only
    All,
    /// No shrinking: each finding as first seen
    None,
}

/// `--checks a,b`: registered check names (`checks::CHECKS`), spaces and empty items ignored.
#[derive(Debug, Clone)]
pub struct CheckList(Vec<&'static str>);

impl std::str::FromStr for CheckList {
    type Err = String;

    fn from_str(list: &str) -> Result<CheckList, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|name| {
                contract_tests::checks::find(name)
                    .map(|c| c.name)
                    .ok_or_else(|| {
                        format!(
                            "unknown check {}; run `cargo xtask contract --list-checks`",
                            text::quoted(name)
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(CheckList)
    }
}

#[derive(Debug, clap::Args)]
#[command(after_help = crate::cli::SUITE_AFTER_HELP, allow_negative_numbers = true)]
pub struct ContractArgs {
    /// The server to test (needs CONTRACT_TOKEN)
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The spec to test against (a pulled one before it is committed) [default: spec/openapi.json]
    #[arg(long, value_name = "PATH")]
    spec: Option<PathBuf>,
    /// Cases in the run
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CASES, value_parser = number_in(1..=MAX_CASES))]
    cases: u64,
    /// Seed of the run; the same seed replays the same cases [default: random]
    #[arg(long, value_name = "N", value_parser = number_in(0..=u64::MAX))]
    seed: Option<u64>,
    /// Run only these checks (see --list-checks)
    #[arg(long, value_name = "A,B")]
    checks: Option<CheckList>,
    /// Write JUnit XML for CI
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write the contract coverage report (Markdown): per rule of CONTRACT.md, how often it was
    /// exercised positively and negatively, and which never
    #[arg(long, value_name = "PATH")]
    coverage: Option<PathBuf>,
    /// Requests in flight [default: 32 on loopback, 8 elsewhere]
    #[arg(long, value_name = "N", value_parser = number_in(1..=1024usize))]
    concurrency: Option<usize>,
    /// At most N requests per second
    #[arg(long, value_name = "N", value_parser = number_in(0.01..=100_000.0))]
    rate: Option<f64>,
    /// Timeout of each request
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds_in(0.01..=3600.0))]
    timeout: Duration,
    /// The whole run, preflight, shrinking and cleanup included
    #[arg(long, value_name = "SECS", default_value = "1800", value_parser = seconds_in(1.0..=7.0 * 86_400.0))]
    max_time: Duration,
    /// A larger response body is a finding, not read further
    #[arg(long, value_name = "N", default_value_t = contract_tests::http::DEFAULT_MAX_RESPONSE_BYTES, value_parser = number_in(1024..=1usize << 30))]
    max_response_bytes: usize,
    /// The team the key belongs to (or CONTRACT_EXPECT_TEAM); without it the first responses
    /// teach it, and the summary says so
    #[arg(long, value_name = "TEAM")]
    expect_team: Option<String>,
    /// The user the key belongs to (or CONTRACT_EXPECT_USER)
    #[arg(long, value_name = "USER")]
    expect_user: Option<String>,
    /// Allow this host, or add a domain under which qa/dev/test/staging hosts are allowed
    /// (interactly.ai always is); repeatable
    #[arg(long = "allow-host", value_name = "HOST")]
    allow_hosts: Vec<String>,
    /// Embedded server only: switch on deliberate contract violations (`cargo xtask serve
    /// --list-faults` describes them); repeatable, or several separated by commas
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = fault_parser())]
    fault: Vec<Fault>,
    /// At most N creates in the run (a shared QA team's budget)
    #[arg(long, value_name = "N", value_parser = number_in(0..=MAX_CASES * 100))]
    max_creates: Option<u64>,
    /// How much shrinking the findings may cost
    #[arg(long, value_name = "WHAT", value_enum, default_value_t = Shrink::Budget)]
    shrink: Shrink,
    /// Where failing seeds are kept and replayed from
    /// [default: contract-tests/proptest-regressions/contract.txt]
    #[arg(long, value_name = "PATH", overrides_with = "no_regressions")]
    regressions: Option<PathBuf>,
    /// Neither replay nor record regression seeds
    #[arg(long, overrides_with = "regressions")]
    no_regressions: bool,
    /// Known failures: a finding an entry names is reported as known and does not fail the run;
    /// an expired entry does [default: contract-tests/baseline.toml]
    #[arg(long, value_name = "PATH", overrides_with = "no_baseline")]
    baseline: Option<PathBuf>,
    /// Judge every finding as new
    #[arg(long, overrides_with = "baseline")]
    no_baseline: bool,
    /// What stdout carries
    #[arg(long, value_name = "FMT", value_enum, default_value_t = MessageFormat::Human)]
    message_format: MessageFormat,
    /// Write a Markdown summary (for $GITHUB_STEP_SUMMARY)
    #[arg(long, value_name = "PATH")]
    summary_md: Option<PathBuf>,
    /// Run the K-th of N slices of the cases (index mod N), for a CI matrix; needs --seed;
    /// regression seeds replay in slice 1 only
    #[arg(long, value_name = "K/N", value_parser = |s: &str| s.parse::<Partition>())]
    partition: Option<Partition>,
    /// Colour the human summary (FAIL lines red, a clean run green); auto honours NO_COLOR
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// No progress on stderr
    #[arg(long, short)]
    quiet: bool,
    /// List the checks and exit
    #[arg(long)]
    list_checks: bool,
}

/// A non-empty environment variable.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl ContractArgs {
    /// The checks given refuse combinations clap does not know about, with the old lines.
    fn validate(&mut self) -> Result<()> {
        // Slices are slices of one run only when every runner draws from the same seed.
        if self.partition.is_some() && self.seed.is_none() {
            bail!(
                "--partition needs --seed: every slice must draw from the same run (e.g. --seed $GITHUB_RUN_ID)"
            );
        }
        if !self.fault.is_empty() && self.base_url.is_some() {
            bail!("--fault applies only to the embedded server, not to --base-url");
        }
        if self.expect_team.is_none() {
            self.expect_team = env_value("CONTRACT_EXPECT_TEAM");
        }
        if self.expect_user.is_none() {
            self.expect_user = env_value("CONTRACT_EXPECT_USER");
        }
        Ok(())
    }

    fn regressions(&self) -> Option<PathBuf> {
        match (&self.regressions, self.no_regressions) {
            (_, true) => None,
            (Some(path), false) => Some(path.clone()),
            (None, false) => Some(regressions_path()),
        }
    }

    fn baseline(&self) -> Option<PathBuf> {
        match (&self.baseline, self.no_baseline) {
            (_, true) => None,
            (Some(path), false) => Some(path.clone()),
            (None, false) => Some(baseline_path()),
        }
    }
}

fn select_checks(names: &Option<CheckList>) -> Vec<&'static contract_tests::checks::Check> {
    match names {
        None => CHECKS.iter().collect(),
        Some(CheckList(names)) => names
            .iter()
            .filter_map(|n| contract_tests::checks::find(n))
            .collect(),
    }
}

fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// The embedded server's keys belong to these; a real target's identity is learned from its answers.
/// The suite's options for an embedded server at `base_url`: its development keys and the
/// identity they belong to.
pub fn embedded_options(base_url: String) -> Options {
    let mut options = Options::new(
        workspace_root().join("spec/openapi.json"),
        base_url,
        DEV_KEY.to_owned(),
    );
    options.other_team_token = Some(Key::new(DEV_OTHER_TEAM_KEY));
    options.identity = development_identity();
    options
}

pub fn development_identity() -> Identity {
    let config = Config::development();
    let key = config
        .keys
        .iter()
        .find(|k| k.key == DEV_KEY)
        .expect("the development config has DEV_KEY");
    Identity {
        team: Some(key.team.clone()),
        user: Some(key.user.clone()),
    }
}

pub fn contract(mut args: ContractArgs) -> Result<ExitCode> {
    args.validate()?;
    if args.list_checks {
        for check in CHECKS {
            println!("{:<28} {}", check.name, check.asserts);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let checks = select_checks(&args.checks);
    // Read before anything is sent: a broken baseline is a run not made (exit 2).
    let baseline = match &args.baseline() {
        Some(path) => Some(Baseline::load(path, today_utc())?),
        None => None,
    };
    let seed = args.seed.unwrap_or_else(random_seed);
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(async {
        let embedded = match &args.base_url {
            Some(_) => None,
            None => {
                let mut config = Config::embedded();
                config.faults = args.fault.iter().copied().collect();
                Some(
                    reference_server::spawn(config)
                        .await
                        .context("cannot start the embedded reference server")?,
                )
            }
        };
        let (mut options, loopback) = match (&args.base_url, &embedded) {
            (Some(url), _) => {
                let token = env_value("CONTRACT_TOKEN").ok_or_else(|| {
                    anyhow!("CONTRACT_TOKEN is not set: the key comes only from the environment")
                })?;
                let mut options = Options::new(
                    workspace_root().join("spec/openapi.json"),
                    url.clone(),
                    token,
                );
                options.other_team_token = env_value("CONTRACT_OTHER_TEAM_TOKEN").map(Key::new);
                let loopback = runner::target_host(url).is_ok_and(|h| runner::is_loopback_host(&h));
                (options, loopback)
            }
            (None, Some(server)) => (embedded_options(server.base_url()), true),
            (None, None) => unreachable!("embedded is set when base_url is not"),
        };
        if let Some(spec) = &args.spec {
            options.spec_path = spec.clone();
        }
        if let Some(team) = &args.expect_team {
            options.identity.team = Some(team.clone());
        }
        if let Some(user) = &args.expect_user {
            options.identity.user = Some(user.clone());
        }
        options.cases = args.cases;
        options.seed = seed;
        options.checks = checks.clone();
        options.concurrency =
            args.concurrency
                .unwrap_or(if loopback { LOOPBACK_CONCURRENCY } else { 8 });
        options.rate = args.rate;
        options.timeout = args.timeout;
        options.max_time = args.max_time;
        options.max_response_bytes = args.max_response_bytes;
        options.allow_hosts = args.allow_hosts.clone();
        options.regressions = args.regressions();
        options.max_creates = args.max_creates;
        (options.shrink_scope, options.shrink_budget) = match args.shrink {
            Shrink::Budget => (ShrinkScope::Budgeted, runner::SHRINK_STEPS),
            Shrink::All => (ShrinkScope::All, runner::SHRINK_ALL_STEPS),
            Shrink::None => (ShrinkScope::Budgeted, 0),
        };
        options.partition = args.partition;
        options.progress = if args.quiet {
            Progress::Off
        } else if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            Progress::Redraw
        } else {
            Progress::Lines
        };
        let secrets = options.secrets();
        let slice = args
            .partition
            .map_or(String::new(), |p| format!(", partition {p}"));
        let opening = format!(
            "contract: {} against {}, seed {seed}{slice}",
            text::plural(args.cases, "case", "cases"),
            text::escape(&options.base_url)
        );
        // In JSON mode stdout holds JSON only; the human lines go to stderr.
        match args.message_format {
            MessageFormat::Human => println!("{opening}"),
            MessageFormat::Json => eprintln!("{opening}"),
        }
        let mut result = runner::run(options).await;
        if let Some(server) = embedded {
            if let Ok(report) = &mut result {
                report.replay = Some(replay_note(server.addr(), &args.fault));
            }
            server.shutdown().await;
        }
        // A RunError may quote the target's answer: it is redacted like every other output.
        result.map(|report| (report, secrets.clone())).map_err(|e| {
            use contract_tests::RunError as E;
            match e {
                E::Unhealthy(line) => Ended(secrets.redact(&line), 3, secrets.clone()),
                // The target was contacted and answered unlike the API it should be.
                e @ (E::Unreachable { .. }
                | E::Unauthorized(_)
                | E::Misconfigured(_)
                | E::SameTeam { .. }) => Ended(secrets.redact(&e.to_string()), 2, secrets.clone()),
                e @ E::KeyTooShort { .. } => Other(anyhow!(e)),
                e => Other(anyhow!(secrets.redact(&e.to_string()))),
            }
        })
    });
    let (mut report, secrets) = match outcome {
        Ok(done) => done,
        Err(Ended(why, code, secrets)) => {
            let ended = report::ended::Ended {
                why,
                exit_code: code,
                seed,
                partition: args.partition,
                elapsed: started.elapsed(),
            };
            return Ok(report_ended(&args, &ended, &secrets));
        }
        Err(Other(e)) => return Err(e),
    };
    // A field the suite cannot model is not a reason to stop the gate, but it is said: once,
    // escaped (its name is the spec author's text), on stderr in every format.
    for warning in &report.spec_warnings {
        eprintln!("warning: {}", text::escape(&secrets.redact(warning)));
    }
    report.commit = report::commit_from_env();
    if let Some(baseline) = &baseline {
        report.baseline = Some(baseline.triage_report(&report, today_utc()));
    }
    match args.message_format {
        MessageFormat::Human => {
            let colour = args
                .color
                .enabled(std::io::IsTerminal::is_terminal(&std::io::stdout()));
            print_report(&report, &secrets, colour);
        }
        MessageFormat::Json => {
            print!("{}", report::json_lines(&report, &secrets));
            for line in report.baseline.iter().flat_map(Triage::lines) {
                eprintln!("{}", secrets.redact(&line));
            }
        }
    }
    // Every output that can be written is, whichever fails; the failures are said last.
    let mut unwritten: Vec<String> = report.output_errors.clone();
    if let Some(path) = &args.junit {
        let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
        if let Err(e) = report::write_junit(path, &report, &names, &secrets) {
            unwritten.push(e.to_string());
        }
    }
    if let Some(path) = &args.coverage
        && let Err(e) = report::write_coverage(path, &report, &secrets)
    {
        unwritten.push(e.to_string());
    }
    if let Some(path) = &args.summary_md
        && let Err(e) = report::write_summary_markdown(path, &report, &secrets)
    {
        unwritten.push(e.to_string());
    }
    // Violations outrank an unhealthy target or an incomplete run: they are the service's
    // answers, seen before the infrastructure gave out, and a gate must not hide them behind
    // a 3. The incompleteness is said either way, in one line.
    if let Some(unhealthy) = &report.gateway.unhealthy {
        eprintln!(
            "error: {}",
            text::escape(&secrets.redact(&unhealthy.line()))
        );
    } else if report.incomplete()
        && let Some(line) = report.judged_line()
    {
        eprintln!("error: {}", text::escape(&secrets.redact(&line)));
    }
    // A panic of the suite comes last, after the findings, the reports and the cleanup.
    for error in &report.internal_errors {
        eprintln!(
            "error: internal error of the contract suite (please report it): {}",
            text::escape(&secrets.redact(error))
        );
    }
    for error in &unwritten {
        eprintln!("error: {}", text::escape(&secrets.redact(error)));
    }
    if unwritten.len() > report.output_errors.len() {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// Why a run ended without a report: after the target was contacted (the error line, the exit
/// code, the secrets the outputs are redacted with), or before (anything else).
enum NoReport {
    Ended(String, u8, Secrets),
    Other(anyhow::Error),
}
use NoReport::{Ended, Other};

/// A run that ended before any case once the target was contacted: the JSON summary line, the
/// JUnit and the Markdown it was asked for, each saying why, then the error line (and one per
/// output that could not be written).
fn report_ended(args: &ContractArgs, ended: &report::ended::Ended, secrets: &Secrets) -> ExitCode {
    use contract_tests::report::ended;
    if args.message_format == MessageFormat::Json {
        print!("{}", ended::json_line(ended, secrets));
    }
    let mut unwritten = Vec::new();
    if let Some(path) = &args.junit
        && let Err(e) = ended::write_junit(path, ended, secrets)
    {
        unwritten.push(e.to_string());
    }
    if let Some(path) = &args.summary_md
        && let Err(e) = ended::write_summary_markdown(path, ended, secrets)
    {
        unwritten.push(e.to_string());
    }
    eprintln!("error: {}", text::escape(&ended.why));
    for error in &unwritten {
        eprintln!("error: {}", text::escape(&secrets.redact(error)));
    }
    ExitCode::from(ended.exit_code)
}

impl From<anyhow::Error> for NoReport {
    fn from(e: anyhow::Error) -> NoReport {
        Other(e)
    }
}

/// The curl lines of an embedded run point at a port closed once the run ends: where the server
/// ran and the command that brings one back there (empty, with the run's faults).
fn replay_note(addr: std::net::SocketAddr, faults: &[Fault]) -> String {
    let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
    let fault = if names.is_empty() {
        String::new()
    } else {
        format!(" --fault {}", names.join(","))
    };
    format!(
        "the embedded reference server ran on {addr} for this run only, so the curl lines above \
         point at a closed port; to replay them, run `cargo xtask serve --addr {addr}{fault}` \
         and set CONTRACT_TOKEN to the development key it prints (it starts empty: ids this run \
         made are unknown to it)"
    )
}

/// The human report on stdout; coloured only here, never in JSON, JUnit, Markdown or files.
fn print_report(report: &Report, secrets: &Secrets, colour: bool) {
    let text = report::render_findings(report, secrets) + &report::render_summary(report, secrets);
    print!(
        "{}",
        crate::colour::paint_report(&text, report.verdict() == Verdict::Pass, colour)
    );
}
