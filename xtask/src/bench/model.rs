//! The benchmark's data: every value one `cargo xtask bench` run measured, with its unit in its type or name; `render` writes bench/RESULTS.md from this and nothing else.

use std::collections::BTreeSet;
use std::time::Duration;

/// Everything one run measured. Rendering reads only this.
#[derive(Debug, Clone)]
pub struct Measurements {
    pub context: Context,
    /// Section 1: plain reqwest in a tight loop.
    pub raw: Vec<RawRun>,
    /// Section 2: the suite's runner.
    pub suite: Vec<SuiteRun>,
    /// Section 2b: `cargo xtask contract`'s default options, run in the bench's release build.
    pub default_run: DefaultRun,
    /// Section 3: where a case's CPU goes.
    pub profile: Profile,
    /// Section 4: the suite against a server that answers late.
    pub qa: Vec<QaRun>,
    /// Section 5: the suite against each fault, judged by `mutants`' kill rule.
    pub detection: Detection,
    /// Section 6: Schemathesis and the suite with the same settings; `Err` says why it did not run.
    pub race: Result<Race, String>,
    /// The last output of `bench/first-run.sh`, verbatim, when the file exists.
    pub first_run: Option<String>,
    pub load_end: LoadAverage,
    /// Each section's wall time, in the order they ran.
    pub sections: Vec<(Section, Duration)>,
    pub total_wall: Duration,
}

/// A part of the bench, timed on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Raw,
    Suite,
    DefaultRun,
    Profile,
    Qa,
    Detection,
    /// Installing Schemathesis when needed, and the race.
    Race,
}

/// Where and how the run was made, read from the machine and the binary.
#[derive(Debug, Clone)]
pub struct Context {
    /// `YYYY-MM-DD HH:MM UTC` at the start of the run.
    pub started_utc: String,
    /// The contract-tests crate's version, from its manifest at build time.
    pub suite_version: String,
    /// `!cfg!(debug_assertions)` of the binary that measured.
    pub release_build: bool,
    pub commit: Option<String>,
    pub cores: usize,
    pub arch: String,
    pub cpu_model: Option<String>,
    pub load_start: LoadAverage,
    /// `--quick`: smaller budgets.
    pub quick: bool,
}

/// /proc/loadavg's first three fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadAverage {
    pub one_minute: f64,
    pub five_minutes: f64,
    pub fifteen_minutes: f64,
}

/// What a request body of the raw loop was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawBody {
    /// One small valid create, sent again and again.
    SmallCreate,
    /// The requests the suite sent in its create-only run (section 3), captured and replayed.
    SuiteRequests,
}

/// Requests sent by plain reqwest, `concurrency` at a time; the response body is read, not parsed.
#[derive(Debug, Clone)]
pub struct RawRun {
    pub body: RawBody,
    pub concurrency: usize,
    pub requests: u64,
    pub wall: Duration,
    /// CPU of the whole process (server included) over `wall`; `None` without /proc.
    pub process_cpu: Option<Duration>,
}

/// Which scenarios a suite run drew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixName {
    CreateOnly,
    Full,
}

/// One `runner::run` of the suite against a fresh embedded server.
#[derive(Debug, Clone)]
pub struct SuiteRun {
    pub mix: MixName,
    pub seed: u64,
    pub concurrency: usize,
    pub cases: u64,
    /// Requests of the case phase.
    pub requests: u64,
    /// The runner's own clock: from the first case drawn to the last judged.
    pub case_phase_wall: Duration,
    /// Around the whole `runner::run` call: spec load, preflight and the case phase.
    pub run_wall: Duration,
    /// CPU of the whole process (server included) over `run_wall`.
    pub process_cpu: Option<Duration>,
    /// The runner's per-case stage timers, summed over cases: wall time, so concurrent waiting
    /// adds up past `case_phase_wall`.
    pub summed_wall: StageWall,
}

/// Section 2b: `runner::run` with the options `cargo xtask contract` uses when given no flag,
/// against a fresh embedded server per run: default cases and concurrency, shrinking at its
/// default budget, cleanup on.
#[derive(Debug, Clone)]
pub struct DefaultRun {
    /// `--cases` as the command defaults it.
    pub cases_asked: u64,
    pub concurrency: usize,
    pub shrink_budget: u32,
    /// In seed order.
    pub seeds: Vec<DefaultRunSeed>,
}

/// The repetitions of one seed, in the order they ran.
#[derive(Debug, Clone)]
pub struct DefaultRunSeed {
    pub seed: u64,
    pub repetitions: Vec<DefaultRunRepetition>,
}

#[derive(Debug, Clone)]
pub struct DefaultRunRepetition {
    /// Around the whole `runner::run` call: spec load, preflight, cases, shrinking, cleanup.
    pub run_wall: Duration,
    pub cases: u64,
    /// Every request of the run, preflight, shrinking and cleanup included.
    pub requests: u64,
    /// Findings against the faithful server; anything but 0 is a failing run.
    pub failures: usize,
    /// CPU of the whole process (server included) over `run_wall`; `None` without /proc.
    pub process_cpu: Option<Duration>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageWall {
    pub generation: Duration,
    pub http: Duration,
    pub checks: Duration,
}

/// Section 3: the same create-only cases, sent with one more part of the suite each step.
#[derive(Debug, Clone)]
pub struct Profile {
    pub seed: u64,
    pub concurrency: usize,
    pub steps: Vec<LadderStep>,
    /// Single-thread CPU of one stage, away from the network.
    pub isolated: Vec<IsolatedStage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The captured requests, replayed by plain reqwest (no generation, no parsing).
    Bare,
    /// Pre-drawn scenarios executed through the suite's transport (`Target::send`: body
    /// serialisation, redaction, JSON parsing of the response).
    Transport,
    /// The same, each scenario drawn from its seed inside its task.
    Drawing,
    /// The same, every check run on every response.
    Checks,
    /// `runner::run` itself: the same plus the runner's per-case bookkeeping.
    Runner,
}

#[derive(Debug, Clone)]
pub struct LadderStep {
    pub step: Step,
    pub cases: u64,
    pub requests: u64,
    pub wall: Duration,
    pub process_cpu: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Drawing a create-only scenario from its seed (proptest value trees).
    Draw,
    /// Turning the request body into bytes.
    SerialiseBody,
    /// Reading a response: redacting its bytes and parsing its JSON (`Response::new`).
    ParseResponse,
    /// Every check on one captured exchange.
    Checks,
}

#[derive(Debug, Clone)]
pub struct IsolatedStage {
    pub stage: Stage,
    pub iterations: u64,
    /// CPU of the measuring thread, from /proc/thread-self/stat (10 ms ticks); `None` without it.
    pub thread_cpu: Option<Duration>,
}

/// The suite against a server that sleeps `latency` before every response.
#[derive(Debug, Clone)]
pub struct QaRun {
    pub latency: Duration,
    pub cases: u64,
    pub concurrency: usize,
    pub rate_cap_per_second: Option<f64>,
    pub case_phase_wall: Duration,
}

/// Which faults of the catalog a section ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultSample {
    /// Every fault of the catalog.
    Whole,
    /// In catalog order, the first fault whose main rule (its first) is in each rule group
    /// (the part of the rule id before the dot): one fault per group.
    FirstPerRuleGroup,
}

/// Section 5: `mutants`' runs and kill rule, timed.
#[derive(Debug, Clone)]
pub struct Detection {
    pub concurrency: usize,
    /// Cases a run may draw before it gives up on a fault.
    pub case_budget: u64,
    pub seeds: Vec<u64>,
    pub sample: FaultSample,
    /// Faults in the catalog, of which `faults` is the sample.
    pub catalog: usize,
    /// The faithful server's failures on each seed, in seed order: its signatures are what
    /// the kill rule discounts, and a failure is a false alarm.
    pub faithful_failures: Vec<usize>,
    pub faults: Vec<FaultDetection>,
}

#[derive(Debug, Clone)]
pub struct FaultDetection {
    pub fault: String,
    /// The rule ids the fault breaks, the main one first.
    pub rules: Vec<String>,
    /// One entry per seed of `Detection::seeds`, in order.
    pub per_seed: Vec<SeedDetection>,
}

#[derive(Debug, Clone)]
pub struct SeedDetection {
    /// The runner's elapsed time over the runs the verdict needed (see `mutants::verdict`).
    pub elapsed: Duration,
    /// `None`: not caught on that seed.
    pub caught: Option<FirstCounted>,
}

/// The first failure the kill rule credited on a seed.
#[derive(Debug, Clone)]
pub struct FirstCounted {
    /// Cases drawn up to the catching case; `None` when no case produced it (the cleanup).
    pub cases: Option<u64>,
    pub check: String,
}

/// Which tool made a race run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tool {
    Suite,
    Schemathesis,
}

/// A failure as a tool reports it: the check, the operation, and the location where the tool
/// gives one (the suite's JSON pointer).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Signature {
    pub check: String,
    pub operation: String,
    pub location: Option<String>,
}

/// Section 6: both tools as commands against the same embedded server, with equal settings.
#[derive(Debug, Clone)]
pub struct Race {
    /// As `st --version` printed it.
    pub schemathesis_version: String,
    /// `--max-examples` given to Schemathesis; the suite gets as many cases as Schemathesis
    /// generated in its run on the same server, seed and concurrency.
    pub max_examples: u64,
    /// Seeds of the faithful runs (speed, and the signatures the fault-credit rule discounts).
    pub seeds: Vec<u64>,
    /// Seeds of the fault runs.
    pub fault_seeds: Vec<u64>,
    /// The concurrency of the fault runs and of the headline speed ratio.
    pub concurrency: usize,
    pub sample: FaultSample,
    /// Faults in the catalog, of which the fault runs ran `sample`.
    pub catalog: usize,
    pub runs: Vec<RaceRun>,
}

#[derive(Debug, Clone)]
pub struct RaceRun {
    pub tool: Tool,
    /// `None`: the faithful server.
    pub fault: Option<String>,
    pub seed: u64,
    /// The suite's `--concurrency`, Schemathesis' `--workers`.
    pub concurrency: usize,
    /// Cases the tool reports it ran (Schemathesis: test cases generated).
    pub cases: u64,
    /// Requests the tool reports it sent, where it reports them.
    pub requests: Option<u64>,
    /// Wall time of the whole command, process start to exit.
    pub command_wall: Duration,
    /// The run's duration as the tool itself reports it (it starts after the tool loaded).
    pub reported: Option<Duration>,
    pub signatures: BTreeSet<Signature>,
}
