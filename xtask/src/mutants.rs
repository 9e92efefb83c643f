//! `cargo xtask mutants`: the suite against every fault of the reference server's catalog, or (`--oracle DIR`) of a blind round's FastAPI copy, each judged by the honest kill rule against the faithful server's run of the same seed.
//!
//! The kill rule: a fault is caught on a seed when its run shows a failure signature (check,
//! operation, pointer) that the faithful server's run of the same seed does not, and the failing
//! check asserts one of the rules the fault breaks. A failure anywhere else is not credited.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use contract_tests::baseline::{Baseline, today_utc};
use contract_tests::redact::Secrets;
use contract_tests::rules::Rule;
use contract_tests::runner::{self, Finding, NotJudged, Options, Report};
use contract_tests::{Operation, report, text};
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};

use crate::cli::{ColorChoice, number_in};
use crate::contract::{DEFAULT_CASES, LOOPBACK_CONCURRENCY, MAX_CASES, embedded_options};

/// Seeds `mutants` runs when `--seeds` is not given: enough that a fault caught only by luck
/// on one seed shows as `4/5`, few enough that the whole catalog runs in minutes.
const DEFAULT_MUTANT_SEEDS: u64 = 5;

/// A whole run against a blind round's copy: the Python oracle is slower than the embedded
/// server, and a fault that hangs must not hold the round forever.
const ORACLE_MAX_TIME: Duration = Duration::from_secs(300);

/// Largest FAULTS.md read: the rounds' tables are a few tens of KiB.
const MAX_FAULTS_MD_BYTES: u64 = 1 << 20;

#[derive(Debug, clap::Args)]
#[command(after_help = crate::cli::MUTANTS_AFTER_HELP, allow_negative_numbers = true)]
pub struct MutantsArgs {
    /// Cases in each run
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CASES, value_parser = number_in(1..=MAX_CASES))]
    cases: u64,
    /// The first seed
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = number_in(0..=u64::MAX))]
    seed: u64,
    /// How many seeds each fault runs on
    #[arg(long, value_name = "K", default_value_t = DEFAULT_MUTANT_SEEDS, value_parser = number_in(1..=1000u64))]
    seeds: u64,
    /// Rerun a blind round instead of the catalog: each fault of DIR/FAULTS.md in DIR/serve.py
    /// (ORACLE_FAULT=name), against the round's faultless copy; repeatable
    #[arg(long = "oracle", value_name = "DIR")]
    oracles: Vec<PathBuf>,
    /// Only these faults (catalog names, or a round's names with --oracle)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    faults: Vec<String>,
    /// Colour the closing line (green when every fault was caught, red when not); auto honours
    /// NO_COLOR
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// A failure signature: the check, the operation and the JSON pointer of a finding.
pub type Signature = (&'static str, Operation, String);

// Rule ids are compared as CONTRACT.md's strings here and only here: the next three functions
// are the whole interface between this module and how checks and faults declare their rules.

/// Whether `check` asserts one of `fault_rules` (rule ids of CONTRACT.md). A check the
/// registry does not know (the cleanup's) asserts none.
fn check_asserts_one_of(check: &str, fault_rules: &[Rule]) -> bool {
    contract_tests::checks::find(check)
        .is_some_and(|c| c.rules.iter().any(|rule| fault_rules.contains(rule)))
}

/// The rules a catalog fault breaks.
fn catalog_rules(fault: Fault) -> Vec<Rule> {
    fault.rules().to_vec()
}

/// CONTRACT.md's rule ids, in its order.
fn contract_rule_ids() -> Vec<String> {
    contract_tests::rules::all()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// One failure of a fault's run, as the kill rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure<'a> {
    pub check: &'static str,
    pub operation: Operation,
    pub pointer: &'a str,
    /// The case's index in the seed's run; `None` for a failure no drawn case produced.
    pub case: Option<u64>,
}

impl Failure<'_> {
    fn signature(&self) -> Signature {
        (self.check, self.operation, self.pointer.to_owned())
    }
}

/// The honest kill rule: the first failure (lowest case index, then the order given) whose
/// signature the faithful run of the same seed did not show and whose check asserts one of the
/// fault's rules; `None` when no failure counts.
pub fn first_counted<'f, 'a>(
    failures: &'f [Failure<'a>],
    faithful: &BTreeSet<Signature>,
    fault_rules: &[Rule],
) -> Option<&'f Failure<'a>> {
    failures
        .iter()
        .filter(|f| !faithful.contains(&f.signature()))
        .filter(|f| check_asserts_one_of(f.check, fault_rules))
        .min_by_key(|f| f.case.unwrap_or(u64::MAX))
}

/// Every failure signature of a run: each exact pointer of each group, so the grouping of
/// findings hides from the kill rule no pointer the faithful run did not show.
fn signatures(report: &Report) -> BTreeSet<Signature> {
    report
        .findings
        .iter()
        .flat_map(|f| exact(f).map(move |(pointer, _)| (f.check, f.operation, pointer.to_owned())))
        .collect()
}

/// A finding's exact pointers, each with the seed of its first case: the group's, or the
/// finding's own for one no case produced.
fn exact(f: &Finding) -> impl Iterator<Item = (&str, &str)> {
    let own = f
        .pointers
        .is_empty()
        .then_some((f.mismatch.pointer.as_str(), f.seed_hex.as_str()));
    f.pointers
        .iter()
        .map(|p| (p.pointer.as_str(), p.seed_hex.as_str()))
        .chain(own)
}

/// Lower-case hex of a case seed, as findings carry it (`Finding::seed_hex`).
fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The run's failures, each with the index of the case it came from.
fn failures(report: &Report) -> Vec<Failure<'_>> {
    let index: BTreeMap<String, u64> = report
        .case_indices
        .iter()
        .map(|&i| (hex(&runner::case_seed(report.seed, i)), i))
        .collect();
    report
        .findings
        .iter()
        .flat_map(|f| {
            exact(f).map(|(pointer, seed)| Failure {
                check: f.check,
                operation: f.operation,
                pointer,
                case: index.get(seed).copied(),
            })
        })
        .collect()
}

/// The first case that caught a fault, as printed.
#[derive(Debug, Clone)]
struct Catch {
    seed: u64,
    case: Option<u64>,
    check: &'static str,
    operation: Operation,
    pointer: String,
    method: String,
    path: String,
}

impl Catch {
    fn of(report: &Report, faithful: &BTreeSet<Signature>, fault_rules: &[Rule]) -> Option<Catch> {
        let all = failures(report);
        let counted = first_counted(&all, faithful, fault_rules)?;
        let finding = report.findings.iter().find(|f| {
            f.check == counted.check
                && f.operation == counted.operation
                && exact(f).any(|(pointer, _)| pointer == counted.pointer)
        })?;
        Some(Catch {
            seed: report.seed,
            case: counted.case,
            check: counted.check,
            operation: counted.operation,
            pointer: counted.pointer.to_owned(),
            method: finding.request.method.clone(),
            path: finding.request.path_and_query.clone(),
        })
    }

    /// `seed 7, case 12: check on operation at "/pointer" (POST /path)`, escaped: the pointer
    /// and the path carry what the server or the strategies chose.
    fn line(&self) -> String {
        let case = self
            .case
            .map_or_else(|| "no case (cleanup)".to_owned(), |n| format!("case {n}"));
        format!(
            "seed {}, {case}: {} on {} at \"{}\" ({} {})",
            self.seed,
            self.check,
            self.operation.id(),
            text::escape(&self.pointer),
            text::escape(&self.method),
            text::escape(&self.path)
        )
    }
}

/// Why a run with failures did not catch its fault: its signatures, each with the reason it
/// did not count (at most `shown`), for the line that says a fault escaped.
fn discounted(report: &Report, faithful: &BTreeSet<Signature>, shown: usize) -> String {
    let reasons: Vec<String> = failures(report)
        .iter()
        .take(shown)
        .map(|f| {
            let why = if faithful.contains(&f.signature()) {
                "the faithful run shows it too"
            } else {
                "the check asserts none of the fault's rules"
            };
            format!(
                "{} on {} at \"{}\" ({why})",
                f.check,
                f.operation.id(),
                text::escape(f.pointer)
            )
        })
        .collect();
    reasons.join("; ")
}

/// One fault's (or the faithful server's) runs over every seed.
#[derive(Debug, Default)]
struct SeedRuns {
    /// Seeds on which the kill rule credited the fault (for the faithful server: seeds with
    /// any failure).
    caught: u64,
    /// The first catching case, on the first seed that caught it.
    first: Option<Catch>,
    /// The faithful server's first failing check.
    first_check: Option<&'static str>,
    /// The most cases any seed needed: the catching case's index plus one, or every case run.
    worst_cases: u64,
    seconds: f64,
}

impl SeedRuns {
    /// Records the faithful server's run, whose first failure (the check) is `first_failure`.
    fn record_faithful(&mut self, report: &Report, first_failure: Option<&'static str>) {
        self.seconds += report.elapsed.as_secs_f64();
        self.worst_cases = self.worst_cases.max(report.cases);
        if let Some(check) = first_failure {
            self.caught += 1;
            self.first_check.get_or_insert(check);
        }
    }

    /// Records a fault's run and what the kill rule made of it.
    fn record(&mut self, report: &Report, seconds: f64, catch: Option<Catch>) {
        self.seconds += seconds;
        match catch {
            Some(catch) => {
                self.caught += 1;
                let needed = catch.case.map_or(report.cases, |n| n.saturating_add(1));
                self.worst_cases = self.worst_cases.max(needed);
                self.first.get_or_insert(catch);
            }
            None => self.worst_cases = self.worst_cases.max(report.cases),
        }
    }

    fn first_check(&self) -> &'static str {
        self.first
            .as_ref()
            .map(|c| c.check)
            .or(self.first_check)
            .unwrap_or("-")
    }
}

/// Whether `report` stopped drawing at its first failure before every case ran.
fn stopped_early(report: &Report) -> bool {
    report
        .not_judged
        .get(&NotJudged::FailFast)
        .copied()
        .unwrap_or(0)
        > 0
}

/// Runs a fault on one seed (`run(fail_fast)`) and applies the kill rule. The first run stops
/// at its first failure (most faults fail early); when none of the failures it saw counts, the
/// seed is run again in full, so a fault is never missed for having stopped early.
fn judge(
    run: impl Fn(bool) -> Result<Report>,
    faithful: &BTreeSet<Signature>,
    fault_rules: &[Rule],
) -> Result<(Report, f64, Option<Catch>)> {
    let quick = run(true)?;
    let mut seconds = quick.elapsed.as_secs_f64();
    if let Some(catch) = Catch::of(&quick, faithful, fault_rules) {
        return Ok((quick, seconds, Some(catch)));
    }
    if !stopped_early(&quick) {
        return Ok((quick, seconds, None));
    }
    let full = run(false)?;
    seconds += full.elapsed.as_secs_f64();
    let catch = Catch::of(&full, faithful, fault_rules);
    Ok((full, seconds, catch))
}

/// What the kill rule made of one catalog fault on one seed, for `bench`'s time to detection.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedVerdict {
    /// The runner's own elapsed time over the runs the verdict needed: the run that stops at
    /// its first failure, plus the full run when none of that run's failures counted.
    pub seconds: f64,
    /// The counted failure, `None` when the fault escaped on this seed.
    pub caught: Option<Counted>,
}

/// The first failure the kill rule credited.
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    /// The catching case's index plus one (the cases drawn up to it); `None` for a failure no
    /// case produced (the cleanup's).
    pub cases: Option<u64>,
    pub check: &'static str,
}

/// The failure signatures of a faithful run: what the kill rule discounts on that seed.
pub fn faithful_signatures(report: &Report) -> BTreeSet<Signature> {
    signatures(report)
}

/// `mutants`' verdict on one catalog fault and seed, for the bench: the same runs (`run(fail_fast)`)
/// and the same kill rule against `faithful` (the faithful run's signatures on that seed).
pub fn verdict(
    run: impl Fn(bool) -> Result<Report>,
    faithful: &BTreeSet<Signature>,
    fault: Fault,
) -> Result<SeedVerdict> {
    let (_, seconds, catch) = judge(run, faithful, &catalog_rules(fault))?;
    Ok(SeedVerdict {
        seconds,
        caught: catch.map(|c| Counted {
            cases: c.case.map(|n| n.saturating_add(1)),
            check: c.check,
        }),
    })
}

/// A fault's seed that could not be run (its server did not start, or refused the suite's
/// first request) is not caught: the error is kept for the line that says so, and the other
/// faults still run.
fn or_not_run(
    judged: Result<(Report, f64, Option<Catch>)>,
) -> (Report, f64, Option<Catch>, Option<String>) {
    match judged {
        Ok((report, seconds, catch)) => (report, seconds, catch, None),
        Err(e) => {
            // The development keys are public, but an error that quotes a server's answer is
            // redacted as every other output of the suite.
            let secrets = Secrets::new(DEV_KEY, Some(DEV_OTHER_TEAM_KEY));
            let line = secrets.redact(&format!("{e:#}"));
            (Report::default(), 0.0, None, Some(line))
        }
    }
}

/// Why a seed did not catch its fault, on one escaped line.
fn missed_because(
    report: &Report,
    faithful: &BTreeSet<Signature>,
    error: Option<String>,
) -> String {
    match error {
        Some(e) => format!("not run: {}", text::escape(&e)),
        None if report.findings.is_empty() => "no failure".to_owned(),
        None => discounted(report, faithful, 3),
    }
}

/// One row of the kill table: a rule id, the faults that name it and whether each was caught on
/// every seed.
#[derive(Debug, PartialEq)]
struct RuleKills {
    rule: String,
    faults: Vec<(Fault, bool)>,
}

impl RuleKills {
    /// A rule is killed when it has faults and the suite caught every one of them on every seed.
    fn killed(&self) -> bool {
        !self.faults.is_empty() && self.faults.iter().all(|(_, caught)| *caught)
    }
}

/// The kill table over `faults`, in the contract's order of rules; `caught_everywhere` says
/// whether a fault was caught on every seed.
fn kill_table(
    rule_ids: &[String],
    faults: &[Fault],
    caught_everywhere: impl Fn(Fault) -> bool,
) -> Vec<RuleKills> {
    rule_ids
        .iter()
        .map(|rule| RuleKills {
            rule: rule.clone(),
            faults: faults
                .iter()
                .filter(|&&fault| catalog_rules(fault).iter().any(|r| r.id() == rule))
                .map(|&fault| (fault, caught_everywhere(fault)))
                .collect(),
        })
        .collect()
}

fn print_kill_table(table: &[RuleKills], runs: &[(Fault, SeedRuns)], seeds: u64) {
    println!();
    println!(
        "kill table per rule id ({} each):",
        text::plural(seeds, "seed", "seeds")
    );
    println!("{:<26} {:<8} faults (seeds caught)", "rule", "killed");
    for row in table {
        let faults = row
            .faults
            .iter()
            .map(|(fault, _)| {
                let caught = runs
                    .iter()
                    .find(|(f, _)| f == fault)
                    .map_or(0, |(_, r)| r.caught);
                format!("{} {caught}/{seeds}", fault.name())
            })
            .collect::<Vec<_>>()
            .join(", ");
        let killed = if row.faults.is_empty() {
            "NO FAULT"
        } else if row.killed() {
            "yes"
        } else {
            "NO"
        };
        println!(
            "{:<26} {:<8} {}",
            row.rule,
            killed,
            if faults.is_empty() { "-" } else { &faults }
        );
    }
}

/// The suite's options for a run of `cases` on `seed` against a server with the development
/// keys at `base_url`: no shrinking (the signature is all the kill rule needs).
fn mutant_options(base_url: String, cases: u64, seed: u64, fail_fast: bool) -> Options {
    let mut options = embedded_options(base_url);
    options.cases = cases;
    options.seed = seed;
    options.fail_fast = fail_fast;
    options.shrink_budget = 0;
    options.concurrency = LOOPBACK_CONCURRENCY;
    options
}

/// Runs the suite against the embedded server with `fault` switched on (or none).
pub async fn run_against_embedded(
    fault: Option<Fault>,
    cases: u64,
    seed: u64,
    fail_fast: bool,
) -> Result<Report> {
    let mut config = Config::embedded();
    config.faults = fault.into();
    let server = reference_server::spawn(config)
        .await
        .context("cannot start the embedded reference server")?;
    let options = mutant_options(server.base_url(), cases, seed, fail_fast);
    let report = runner::run(options).await;
    server.shutdown().await;
    Ok(report?)
}

/// The table's header and the faithful server's row.
fn print_header_and_faithful(faithful: &SeedRuns, seeds: u64, label: &str) {
    println!(
        "{:<34} {:<8} {:<28} {:>8} {:>9}",
        "fault", "caught", "first check", "cases", "seconds"
    );
    println!(
        "{:<34} {:<8} {:<28} {:>8} {:>9.3}",
        label,
        if faithful.caught == 0 {
            "clean".to_owned()
        } else {
            format!("FAILED {}/{seeds}", faithful.caught)
        },
        faithful.first_check(),
        faithful.worst_cases,
        faithful.seconds
    );
}

/// A fault's row, then the first case that caught it (or that nothing did).
fn print_fault_row(name: &str, runs: &SeedRuns, seeds: u64) {
    println!(
        "{:<34} {:<8} {:<28} {:>8} {:>9.3}",
        text::escape(name),
        format!("{}/{seeds}", runs.caught),
        runs.first_check(),
        runs.worst_cases,
        runs.seconds
    );
    match &runs.first {
        Some(catch) => println!("    first caught: {}", catch.line()),
        None => println!("    never caught"),
    }
}

pub fn mutants(args: MutantsArgs) -> Result<ExitCode> {
    let colour = args
        .color
        .enabled(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    // Seeds wrap past u64::MAX rather than refuse a large --seed.
    let seed_list: Vec<u64> = (0..args.seeds).map(|n| args.seed.wrapping_add(n)).collect();
    if args.oracles.is_empty() {
        catalog(&args, &seed_list, colour)
    } else {
        rounds(&args, &seed_list, colour)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The catalog's faults `--faults` selects (all without it), in the catalog's order.
fn selected_catalog(names: &[String]) -> Result<Vec<Fault>> {
    if names.is_empty() {
        return Ok(Fault::ALL.to_vec());
    }
    let mut wanted = BTreeSet::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let fault: Fault = name.parse().map_err(|e| anyhow::anyhow!("--faults: {e}"))?;
        wanted.insert(fault.name());
    }
    if wanted.is_empty() {
        bail!("--faults names no fault");
    }
    Ok(Fault::ALL
        .iter()
        .copied()
        .filter(|f| wanted.contains(f.name()))
        .collect())
}

fn catalog(args: &MutantsArgs, seed_list: &[u64], colour: bool) -> Result<ExitCode> {
    let (cases, seeds) = (args.cases, args.seeds);
    let faults = selected_catalog(&args.faults)?;
    let whole = faults.len() == Fault::ALL.len();
    let rule_ids = contract_rule_ids();
    let runtime = runtime()?;
    println!(
        "mutants: {} per run, seeds {} ({seeds}), {}, {} rule ids",
        text::plural(cases, "case", "cases"),
        seed_range(seed_list),
        text::plural(faults.len(), "fault", "faults"),
        rule_ids.len()
    );
    let mut faithful = SeedRuns::default();
    let mut faithful_failure: Option<Report> = None;
    let mut runs: Vec<(Fault, SeedRuns)> = faults
        .iter()
        .map(|&fault| (fault, SeedRuns::default()))
        .collect();
    for &seed in seed_list {
        let report = runtime.block_on(run_against_embedded(None, cases, seed, false))?;
        faithful.record_faithful(&report, report.findings.first().map(|f| f.check));
        let known = signatures(&report);
        if report.failures() > 0 {
            eprintln!("seed {seed}: the faithful server FAILED");
            faithful_failure.get_or_insert(report);
        }
        for (fault, fault_runs) in &mut runs {
            let fault = *fault;
            let rules = catalog_rules(fault);
            let (report, seconds, catch, error) = or_not_run(judge(
                |fail_fast| {
                    runtime.block_on(run_against_embedded(Some(fault), cases, seed, fail_fast))
                },
                &known,
                &rules,
            ));
            if catch.is_none() {
                let why = missed_because(&report, &known, error);
                eprintln!("seed {seed}: {} ESCAPED ({why})", fault.name());
            }
            fault_runs.record(&report, seconds, catch);
        }
        eprintln!("seed {seed}: done");
    }
    let clean = faithful.caught == 0;
    print_header_and_faithful(&faithful, seeds, "(none: the faithful server)");
    for (fault, fault_runs) in &runs {
        print_fault_row(fault.name(), fault_runs, seeds);
    }
    let caught_everywhere =
        |fault: Fault| runs.iter().any(|(f, r)| *f == fault && r.caught == seeds);
    let table = kill_table(&rule_ids, &faults, caught_everywhere);
    // A selection leaves rules without a fault on purpose: the table is the whole catalog's.
    if whole {
        print_kill_table(&table, &runs, seeds);
    }
    let escaped = runs.iter().filter(|(_, r)| r.caught < seeds).count();
    let without_fault = table.iter().filter(|row| row.faults.is_empty()).count();
    let killed = table.iter().filter(|row| row.killed()).count();
    let passed = clean && escaped == 0 && (!whole || without_fault == 0);
    let closing = if whole {
        format!(
            "mutants: {}, {} caught on every seed, {escaped} escaped on some seed; \
             {} rule ids, {killed} killed, {without_fault} without a fault; faithful server {}",
            text::plural(faults.len(), "fault", "faults"),
            faults.len() - escaped,
            table.len(),
            if clean { "clean" } else { "FAILED" }
        )
    } else {
        format!(
            "mutants: {} of {} faults selected, {} caught on every seed, {escaped} escaped on \
             some seed; faithful server {}",
            faults.len(),
            Fault::ALL.len(),
            faults.len() - escaped,
            if clean { "clean" } else { "FAILED" }
        )
    };
    println!(
        "{}",
        crate::colour::styled(&closing, crate::colour::verdict(passed), colour)
    );
    if let Some(report) = &faithful_failure {
        let secrets = Secrets::new(DEV_KEY, Some(DEV_OTHER_TEAM_KEY));
        print!("{}", report::render_findings(report, &secrets));
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `7`, or `1..=5`.
fn seed_range(seeds: &[u64]) -> String {
    match seeds {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] => format!("{first}..={last}"),
    }
}

/// One fault of a blind round: its name (`ORACLE_FAULT`) and the rule ids its row names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundFault {
    pub name: String,
    pub rules: Vec<String>,
}

/// Parses a round's FAULTS.md: the table whose header has a `name` column first and a
/// `rules broken` column. Strict: every row of that table must be a fault named `rN-NN`, once,
/// with the header's number of cells and at least one rule id, each one of `rule_ids`, once.
pub fn parse_faults_md(markdown: &str, rule_ids: &[String]) -> Result<Vec<RoundFault>, String> {
    let mut lines = markdown.lines().enumerate();
    let (columns, rules_at) = loop {
        let Some((_, line)) = lines.next() else {
            return Err("no fault table (a header `| name | … | rules broken | … |`)".into());
        };
        let Some(cells) = row_cells(line) else {
            continue;
        };
        if cells.first().is_some_and(|c| *c == "name")
            && let Some(at) = cells.iter().position(|c| *c == "rules broken")
        {
            break (cells.len(), at);
        }
    };
    match lines.next().and_then(|(_, l)| row_cells(l)) {
        Some(cells)
            if cells.len() == columns
                && cells
                    .iter()
                    .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':'))) => {}
        _ => return Err("the fault table's header is not followed by its `|---|` line".into()),
    }
    let mut faults: Vec<RoundFault> = Vec::new();
    for (number, line) in lines {
        let at = number + 1;
        let Some(cells) = row_cells(line) else {
            break;
        };
        if cells.len() != columns {
            return Err(format!(
                "line {at}: {} cells where the header has {columns} (a `|` inside a cell?)",
                cells.len()
            ));
        }
        let name = unquote(cells[0]);
        if !is_fault_name(name) {
            return Err(format!(
                "line {at}: {} is not a fault name (rN-NN)",
                text::quoted(name)
            ));
        }
        if faults.iter().any(|f| f.name == name) {
            return Err(format!("line {at}: fault {name} is listed twice"));
        }
        let mut rules: Vec<String> = Vec::new();
        for id in cells[rules_at].split(',').map(|id| unquote(id.trim())) {
            if id.is_empty() {
                return Err(format!("line {at}: {name} has an empty rule id"));
            }
            if !rule_ids.iter().any(|known| known == id) {
                return Err(format!(
                    "line {at}: {name} names {}, which is not a rule id of CONTRACT.md",
                    text::quoted(id)
                ));
            }
            if rules.iter().any(|r| r == id) {
                return Err(format!("line {at}: {name} names {id} twice"));
            }
            rules.push(id.to_owned());
        }
        faults.push(RoundFault {
            name: name.to_owned(),
            rules,
        });
    }
    if faults.is_empty() {
        return Err("the fault table has no row".into());
    }
    Ok(faults)
}

/// The trimmed cells of a Markdown table row (`| a | b |`); `None` for any other line.
fn row_cells(line: &str) -> Option<Vec<&str>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    Some(inner.split('|').map(str::trim).collect())
}

/// A cell's text without the backticks of a code span around it.
fn unquote(cell: &str) -> &str {
    cell.strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .unwrap_or(cell)
}

/// `r<digits>-<digits>`: the rounds' names, safe as an environment value and on a terminal.
fn is_fault_name(name: &str) -> bool {
    let Some((round, number)) = name.strip_prefix('r').and_then(|n| n.split_once('-')) else {
        return false;
    };
    [round, number]
        .iter()
        .all(|part| !part.is_empty() && part.len() <= 6 && part.bytes().all(|b| b.is_ascii_digit()))
}

/// A blind round, read and checked before anything runs.
#[derive(Debug)]
struct Round {
    /// The directory's last component (`round1`), for the output.
    label: String,
    serve: PathBuf,
    faults: Vec<RoundFault>,
}

fn load_round(dir: &Path, rule_ids: &[String]) -> Result<Round> {
    let shown = text::escape(&dir.display().to_string()).into_owned();
    let faults_md = dir.join("FAULTS.md");
    let size = std::fs::metadata(&faults_md)
        .with_context(|| format!("--oracle {shown}: no FAULTS.md"))?
        .len();
    if size > MAX_FAULTS_MD_BYTES {
        bail!("--oracle {shown}: FAULTS.md is {size} bytes, more than {MAX_FAULTS_MD_BYTES}");
    }
    let markdown = std::fs::read_to_string(&faults_md)
        .with_context(|| format!("--oracle {shown}: cannot read FAULTS.md"))?;
    let faults = parse_faults_md(&markdown, rule_ids)
        .map_err(|e| anyhow::anyhow!("--oracle {shown}: FAULTS.md: {e}"))?;
    let serve = dir
        .join("serve.py")
        .canonicalize()
        .with_context(|| format!("--oracle {shown}: no serve.py"))?;
    let label = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| shown.clone());
    Ok(Round {
        label: text::escape(&label).into_owned(),
        serve,
        faults,
    })
}

/// Runs the suite against `round`'s copy with `fault` switched on (`None`: the faultless copy),
/// a fresh process per run so that every run starts from an empty store.
fn run_against_round(
    runtime: &tokio::runtime::Runtime,
    round: &Round,
    fault: Option<&str>,
    cases: u64,
    seed: u64,
    fail_fast: bool,
) -> Result<Report> {
    let env: Vec<(&str, &str)> = fault.map(|f| ("ORACLE_FAULT", f)).into_iter().collect();
    let oracle =
        crate::oracle::spawn_script(&round.serve, ([127, 0, 0, 1], 0).into(), &env, false)?;
    let mut options = mutant_options(oracle.base_url().to_owned(), cases, seed, fail_fast);
    options.max_time = ORACLE_MAX_TIME;
    let report = runtime.block_on(runner::run(options));
    drop(oracle);
    Ok(report?)
}

/// The known failures of stock FastAPI, which every round's faultless copy is.
const STOCK_BASELINE: &str = "oracle/stock-fastapi.toml";

fn rounds(args: &MutantsArgs, seed_list: &[u64], colour: bool) -> Result<ExitCode> {
    let (cases, seeds) = (args.cases, args.seeds);
    let rule_ids = contract_rule_ids();
    let mut rounds: Vec<Round> = args
        .oracles
        .iter()
        .map(|dir| load_round(dir, &rule_ids))
        .collect::<Result<_>>()?;
    let wanted: BTreeSet<&str> = args
        .faults
        .iter()
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .collect();
    if !args.faults.is_empty() {
        if wanted.is_empty() {
            bail!("--faults names no fault");
        }
        for name in &wanted {
            if !rounds
                .iter()
                .any(|r| r.faults.iter().any(|f| f.name == *name))
            {
                bail!(
                    "--faults: {} is not a fault of the rounds given",
                    text::quoted(name)
                );
            }
        }
        for round in &mut rounds {
            round.faults.retain(|f| wanted.contains(f.name.as_str()));
        }
        rounds.retain(|r| !r.faults.is_empty());
    }
    let stock = Baseline::load(
        &crate::codegen::workspace_root().join(STOCK_BASELINE),
        today_utc(),
    )?;
    // The virtualenv first: without it (and without a network to build it) nothing runs.
    crate::oracle::ensure_venv()?;
    let runtime = runtime()?;
    let mut all_passed = true;
    let mut closings = Vec::new();
    for round in &rounds {
        println!(
            "mutants --oracle {}: {}, {} per run, seeds {} ({seeds})",
            round.label,
            text::plural(round.faults.len(), "fault", "faults"),
            text::plural(cases, "case", "cases"),
            seed_range(seed_list)
        );
        let mut faithful = SeedRuns::default();
        let mut runs: Vec<SeedRuns> = round.faults.iter().map(|_| SeedRuns::default()).collect();
        for &seed in seed_list {
            let report = run_against_round(&runtime, round, None, cases, seed, false)?;
            // A round's faultless copy is stock FastAPI: its own 500s (CONTRACT.md) are findings
            // of `oracle/stock-fastapi.toml`, not a failure of the copy; the kill rule still
            // discounts them from every fault's run, as it does all the copy shows.
            let stock = stock.triage_report(&report, today_utc());
            let first_failure = report
                .findings
                .iter()
                .enumerate()
                .find(|(i, _)| !stock.known.contains_key(i))
                .map(|(_, f)| f.check);
            faithful.record_faithful(&report, first_failure);
            let known = signatures(&report);
            eprintln!(
                "{} seed {seed}: the faultless copy, {}",
                round.label,
                text::plural(known.len(), "failure signature", "failure signatures")
            );
            for (fault, fault_runs) in round.faults.iter().zip(&mut runs) {
                // The table's ids were checked against CONTRACT.md when it was read.
                let rules: Vec<Rule> = fault.rules.iter().filter_map(|r| r.parse().ok()).collect();
                let (report, seconds, catch, error) = or_not_run(judge(
                    |fail_fast| {
                        run_against_round(
                            &runtime,
                            round,
                            Some(&fault.name),
                            cases,
                            seed,
                            fail_fast,
                        )
                    },
                    &known,
                    &rules,
                ));
                match &catch {
                    Some(c) => eprintln!("{} {}: caught, {}", round.label, fault.name, c.line()),
                    None => {
                        let why = missed_because(&report, &known, error);
                        eprintln!("{} {} seed {seed}: MISSED ({why})", round.label, fault.name);
                    }
                }
                fault_runs.record(&report, seconds, catch);
            }
        }
        print_header_and_faithful(&faithful, seeds, "(none: the faultless copy)");
        for (fault, fault_runs) in round.faults.iter().zip(&runs) {
            print_fault_row(&fault.name, fault_runs, seeds);
        }
        let caught = runs.iter().filter(|r| r.caught == seeds).count();
        let clean = faithful.caught == 0;
        let passed = clean && caught == round.faults.len();
        all_passed &= passed;
        let closing = format!(
            "{}: {caught} of {} caught (seeds {}){}",
            round.label,
            round.faults.len(),
            seed_range(seed_list),
            if clean {
                ""
            } else {
                "; the faultless copy FAILED"
            }
        );
        println!(
            "{}",
            crate::colour::styled(&closing, crate::colour::verdict(passed), colour)
        );
        closings.push((closing, passed));
    }
    if closings.len() > 1 {
        for (closing, passed) in &closings {
            println!(
                "{}",
                crate::colour::styled(closing, crate::colour::verdict(*passed), colour)
            );
        }
    }
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract_tests::request::{Auth, Body, Request};
    use contract_tests::runner::Finding;
    use contract_tests::verdict::Mismatch;

    /// A check and a rule it asserts, and a rule it does not, read from the registry so that
    /// the tests follow the checks' declarations.
    fn method_check() -> (&'static str, Rule) {
        let check = contract_tests::checks::find("method_not_allowed").expect("registered");
        (check.name, check.rules[0])
    }

    fn a_rule_it_does_not_assert() -> Rule {
        let (name, _) = method_check();
        let check = contract_tests::checks::find(name).unwrap();
        let other = contract_tests::checks::find("not_a_server_error").unwrap();
        other
            .rules
            .iter()
            .copied()
            .find(|r| !check.rules.contains(r))
            .expect("not_a_server_error asserts a rule method_not_allowed does not")
    }

    fn failure(check: &'static str, pointer: &'static str, case: Option<u64>) -> Failure<'static> {
        Failure {
            check,
            operation: Operation::Get,
            pointer,
            case,
        }
    }

    fn signature(check: &'static str, operation: Operation, pointer: &str) -> Signature {
        (check, operation, pointer.to_owned())
    }

    #[test]
    fn a_new_signature_of_a_check_asserting_a_fault_rule_counts() {
        let (check, rule) = method_check();
        let seen = [failure(check, "/allow", Some(3))];
        let counted = first_counted(&seen, &BTreeSet::new(), &[rule]);
        assert_eq!(counted, Some(&seen[0]));
    }

    #[test]
    fn a_failure_the_faithful_run_shows_too_does_not_count() {
        let (check, rule) = method_check();
        let faithful = BTreeSet::from([signature(check, Operation::Get, "/allow")]);
        let seen = [failure(check, "/allow", Some(3))];
        assert_eq!(first_counted(&seen, &faithful, &[rule]), None);
    }

    #[test]
    fn a_failure_of_a_check_asserting_none_of_the_fault_rules_does_not_count() {
        let (check, _) = method_check();
        let seen = [failure(check, "/allow", Some(3))];
        let other = a_rule_it_does_not_assert();
        assert_eq!(first_counted(&seen, &BTreeSet::new(), &[other]), None);
        assert_eq!(first_counted(&seen, &BTreeSet::new(), &[]), None);
        let unasserted = Rule::ALL.iter().copied().find(|r| {
            !contract_tests::checks::CHECKS
                .iter()
                .any(|c| c.rules.contains(r))
        });
        assert_eq!(unasserted, None, "every rule has a check");
    }

    #[test]
    fn another_pointer_or_operation_is_another_signature() {
        let (check, rule) = method_check();
        let faithful = BTreeSet::from([signature(check, Operation::Get, "/allow")]);
        let pointer = [failure(check, "/allow/0", Some(1))];
        assert_eq!(
            first_counted(&pointer, &faithful, &[rule]),
            Some(&pointer[0])
        );
        let empty = [failure(check, "", Some(1))];
        assert_eq!(first_counted(&empty, &faithful, &[rule]), Some(&empty[0]));
        let operation = [Failure {
            operation: Operation::Delete,
            ..failure(check, "/allow", Some(1))
        }];
        assert_eq!(
            first_counted(&operation, &faithful, &[rule]),
            Some(&operation[0])
        );
    }

    #[test]
    fn a_check_the_registry_does_not_know_counts_for_nothing() {
        // The cleanup reports under a name of its own, which asserts no rule.
        let seen = [failure(
            contract_tests::checks::CLEANUP_SEARCH_MATCHES_TAG,
            "/simulations",
            None,
        )];
        assert_eq!(first_counted(&seen, &BTreeSet::new(), Rule::ALL), None);
    }

    #[test]
    fn the_first_counted_failure_is_the_lowest_counted_case() {
        let (check, rule) = method_check();
        let faithful = BTreeSet::from([signature(check, Operation::Get, "/known")]);
        let seen = [
            failure(check, "/b", None),
            failure(check, "/known", Some(0)),
            failure("not_a_server_error", "/c", Some(1)),
            failure(check, "/d", Some(9)),
            failure(check, "/e", Some(4)),
        ];
        assert_eq!(first_counted(&seen, &faithful, &[rule]), Some(&seen[4]));
        // A failure no case produced counts when it is the only one that does.
        assert_eq!(
            first_counted(&seen[..3], &faithful, &[rule]),
            Some(&seen[0])
        );
    }

    fn finding(check: &'static str, pointer: &str, seed_hex: String) -> Finding {
        Finding {
            check,
            operation: Operation::Update,
            mismatch: Mismatch {
                pointer: pointer.into(),
                expected: String::new(),
                received: String::new(),
            },
            request: Request {
                operation: Operation::Update,
                method: "PATCH".into(),
                path_and_query: "/workflows/v1/simulations/\u{1b}[2Jx".into(),
                content_type: None,
                body: Body::Empty,
                auth: Auth::Primary,
            },
            curl: String::new(),
            status: Some(200),
            seed_hex,
            occurrences: 1,
            shrink_steps: 0,
            flaky: false,
            shrink_cut_short: false,
            sequence: Vec::new(),
            group: pointer.into(),
            pointers: Vec::new(),
            not_shrunk: false,
            shrink_capped: false,
        }
    }

    #[test]
    fn a_catch_names_the_case_it_came_from_and_prints_on_one_escaped_line() {
        let (check, rule) = method_check();
        let report = Report {
            seed: 7,
            case_indices: (0..50).collect(),
            findings: vec![
                finding(check, "/late", hex(&runner::case_seed(7, 41))),
                finding(check, "/early\n", hex(&runner::case_seed(7, 12))),
                finding(check, "/other-seed", hex(&runner::case_seed(8, 2))),
            ],
            ..Report::default()
        };
        let catch = Catch::of(&report, &BTreeSet::new(), &[rule]).expect("caught");
        assert_eq!(catch.case, Some(12));
        assert_eq!(catch.pointer, "/early\n");
        let line = catch.line();
        assert!(
            line.starts_with(&format!(
                "seed 7, case 12: {check} on update_simulation at "
            )),
            "{line}"
        );
        assert!(!line.chars().any(text::is_unsafe), "{line:?}");
        assert!(line.contains("(PATCH /workflows/v1/simulations/"), "{line}");
        let failures = failures(&report);
        assert_eq!(
            failures[2].case, None,
            "a seed from another run is no case of this one"
        );
    }

    /// A group of failures is a finding, but the kill rule reads each of its exact pointers: one
    /// the faithful run also shows does not hide another it does not, nor its case.
    #[test]
    fn the_kill_rule_reads_every_exact_pointer_of_a_group() {
        let (check, rule) = method_check();
        let mut grouped = finding(check, "/simulation/x-a", hex(&runner::case_seed(7, 3)));
        grouped.group = "/simulation/*".into();
        grouped.pointers = [("/simulation/x-a", 3), ("/simulation/x-b", 9)]
            .map(|(pointer, case)| contract_tests::verdict::PointerSeen {
                pointer: pointer.into(),
                occurrences: 1,
                seed_hex: hex(&runner::case_seed(7, case)),
            })
            .to_vec();
        let report = Report {
            seed: 7,
            case_indices: (0..20).collect(),
            findings: vec![grouped],
            ..Report::default()
        };
        let faithful: BTreeSet<Signature> =
            [(check, Operation::Update, "/simulation/x-a".to_owned())].into();
        let catch = Catch::of(&report, &faithful, &[rule]).expect("caught");
        assert_eq!(
            (catch.case, catch.pointer.as_str()),
            (Some(9), "/simulation/x-b")
        );
        assert_eq!(signatures(&report).len(), 2);
        let both: BTreeSet<Signature> = signatures(&report);
        assert!(Catch::of(&report, &both, &[rule]).is_none());
    }

    #[test]
    fn a_seed_stopped_early_without_a_counted_failure_is_run_again_in_full() {
        let (check, rule) = method_check();
        let other = "not_a_server_error";
        let runs = std::cell::RefCell::new(Vec::new());
        // Stopped at a failure that does not count; the full run finds one that does.
        let run = |fail_fast: bool| -> Result<Report> {
            runs.borrow_mut().push(fail_fast);
            let mut report = Report {
                seed: 3,
                case_indices: (0..20).collect(),
                findings: vec![finding(other, "", hex(&runner::case_seed(3, 2)))],
                ..Report::default()
            };
            if fail_fast {
                report.not_judged.insert(NotJudged::FailFast, 10);
            } else {
                report
                    .findings
                    .push(finding(check, "/allow", hex(&runner::case_seed(3, 15))));
            }
            Ok(report)
        };
        let (_, _, catch) = judge(run, &BTreeSet::new(), &[rule]).unwrap();
        assert_eq!(*runs.borrow(), [true, false]);
        assert_eq!(catch.expect("the full run caught it").case, Some(15));
    }

    #[test]
    fn the_benchs_verdict_is_the_kill_rule_with_the_catching_case_counted_from_one() {
        let (check, rule) = method_check();
        assert!(Fault::MissingAllowHeader.rules().contains(&rule));
        let run = |fail_fast: bool| -> Result<Report> {
            let mut report = Report {
                seed: 3,
                case_indices: (0..20).collect(),
                findings: vec![finding(check, "/allow", hex(&runner::case_seed(3, 4)))],
                elapsed: Duration::from_millis(250),
                ..Report::default()
            };
            if fail_fast {
                report.not_judged.insert(NotJudged::FailFast, 10);
            }
            Ok(report)
        };
        let caught = verdict(run, &BTreeSet::new(), Fault::MissingAllowHeader).unwrap();
        assert_eq!(
            caught,
            SeedVerdict {
                seconds: 0.25,
                caught: Some(Counted {
                    cases: Some(5),
                    check
                }),
            }
        );
        // The faithful run shows the same signature: nothing counts, the seed runs again in
        // full, and the verdict's time is both runs'.
        let faithful = BTreeSet::from([(check, Operation::Update, "/allow".to_owned())]);
        let escaped = verdict(run, &faithful, Fault::MissingAllowHeader).unwrap();
        assert_eq!(
            escaped,
            SeedVerdict {
                seconds: 0.5,
                caught: None
            }
        );
    }

    #[test]
    fn a_seed_caught_at_once_or_run_in_full_is_not_run_again() {
        let (check, rule) = method_check();
        for (findings, stopped, caught) in [
            (
                vec![finding(check, "", hex(&runner::case_seed(3, 1)))],
                true,
                true,
            ),
            (
                vec![finding("not_a_server_error", "", String::new())],
                false,
                false,
            ),
            (vec![], false, false),
        ] {
            let runs = std::cell::Cell::new(0);
            let run = |_: bool| -> Result<Report> {
                runs.set(runs.get() + 1);
                let mut report = Report {
                    seed: 3,
                    case_indices: (0..20).collect(),
                    findings: findings.clone(),
                    ..Report::default()
                };
                if stopped {
                    report.not_judged.insert(NotJudged::FailFast, 10);
                }
                Ok(report)
            };
            let (_, _, catch) = judge(run, &BTreeSet::new(), &[rule]).unwrap();
            assert_eq!(runs.get(), 1);
            assert_eq!(catch.is_some(), caught);
        }
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const HEADER: &str =
        "intro | not a table\n\n| name | story | rules broken | probe |\n|---|---|---|---|\n";

    #[test]
    fn reads_the_rounds_fault_tables() {
        let rules = contract_rule_ids();
        for (file, count) in [
            (include_str!("../../oracle/faults/round1/FAULTS.md"), 37),
            (include_str!("../../oracle/faults/round2/FAULTS.md"), 25),
        ] {
            let faults = parse_faults_md(file, &rules).expect("parses");
            assert_eq!(faults.len(), count);
        }
        let round1 =
            parse_faults_md(include_str!("../../oracle/faults/round1/FAULTS.md"), &rules).unwrap();
        assert_eq!(
            round1[4],
            RoundFault {
                name: "r1-05".into(),
                rules: ids(&["list.time-bounds", "list.and"]),
            }
        );
        assert_eq!(round1[36].name, "r1-37");
    }

    #[test]
    fn a_table_ends_at_its_first_other_line_and_code_spans_are_read() {
        let known = ids(&["list.total", "list.window"]);
        let md = format!(
            "{HEADER}| `r3-01` | s | `list.total`, list.window | p |\n\nRule ids covered: list.total\n| x | y |\n"
        );
        assert_eq!(
            parse_faults_md(&md, &known).unwrap(),
            [RoundFault {
                name: "r3-01".into(),
                rules: known.clone()
            }]
        );
    }

    #[test]
    fn a_table_that_is_not_exactly_right_is_refused_with_its_line() {
        let known = ids(&["list.total", "list.window"]);
        let refused =
            |body: &str| parse_faults_md(&format!("{HEADER}{body}"), &known).expect_err(body);
        assert!(
            refused("| r1-01 | s | list.totals | p |\n")
                .contains("line 5: r1-01 names \"list.totals\", which is not a rule id")
        );
        assert!(
            refused("| r1-01 | s | list.total | p |\n| r1-01 | s | list.total | p |\n")
                .contains("line 6: fault r1-01 is listed twice")
        );
        assert!(
            refused("| r1-01 | s | list.total, list.total | p |\n")
                .contains("names list.total twice")
        );
        assert!(refused("| r1-01 | s | list.total, | p |\n").contains("empty rule id"));
        assert!(refused("| r1-01 | s | | p |\n").contains("empty rule id"));
        assert!(
            refused("| r1-01 | a | b | list.total | p |\n")
                .contains("5 cells where the header has 4")
        );
        assert!(refused("| R1-01 | s | list.total | p |\n").contains("not a fault name"));
        assert!(refused("| r1-01; rm -rf / | s | list.total | p |\n").contains("not a fault name"));
        assert!(refused("| r1- | s | list.total | p |\n").contains("not a fault name"));
        assert!(refused("").contains("no row"));
        assert!(refused("\n| r1-01 | s | list.total | p |\n").contains("no row"));
        let no_table = parse_faults_md("| a | b |\n|---|---|\n| r1-01 | x |\n", &known);
        assert!(no_table.unwrap_err().contains("no fault table"));
        let no_rule = parse_faults_md(
            "| name | story | probe |\n|---|---|---|\n| r1-01 | s | p |\n",
            &known,
        );
        assert!(no_rule.unwrap_err().contains("no fault table"));
        let no_separator =
            parse_faults_md("| name | rules broken |\n| r1-01 | list.total |\n", &known);
        assert!(no_separator.unwrap_err().contains("`|---|`"));
        let bad_name = parse_faults_md(
            "| name | rules broken |\n|---|---|\n| r1-01\u{1b}[2J | list.total |\n",
            &known,
        )
        .unwrap_err();
        assert!(!bad_name.chars().any(text::is_unsafe), "{bad_name:?}");
    }

    #[test]
    fn fault_names_are_round_dash_number() {
        for good in ["r1-01", "r12-7", "r3-123456"] {
            assert!(is_fault_name(good), "{good}");
        }
        for bad in [
            "",
            "r",
            "r1",
            "r1-",
            "r-1",
            "1-01",
            "r1-01a",
            "r1-0-1",
            "r1-1234567",
            "r１-01",
        ] {
            assert!(!is_fault_name(bad), "{bad}");
        }
    }

    #[test]
    fn seeds_show_as_one_or_a_range() {
        assert_eq!(seed_range(&[7]), "7");
        assert_eq!(seed_range(&[1, 2, 3, 4, 5]), "1..=5");
    }

    #[test]
    fn a_selection_of_the_catalog_keeps_its_order_and_refuses_unknown_names() {
        let names = ids(&["missing-allow-header", " create-returns-201", ""]);
        let chosen = selected_catalog(&names).unwrap();
        assert_eq!(chosen, [Fault::CreateReturns201, Fault::MissingAllowHeader]);
        assert!(selected_catalog(&ids(&["no-such-fault"])).is_err());
        assert!(selected_catalog(&ids(&[" "])).is_err());
        assert_eq!(selected_catalog(&[]).unwrap().len(), Fault::ALL.len());
    }
}
