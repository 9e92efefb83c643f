//! The runner: draws scenarios from per-case seeds, runs them concurrently, judges every response, shrinks each distinct failure sequentially, keeps the seeds of failures as regressions, and cleans up what the run created, all inside one time budget and one create budget.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::checks::Check;
use crate::error::RunError;
use crate::exchange::{
    Applied, ClientLimit, Created, Exchange, Identity, Mismatch, Observation, Request, RunState,
};
use crate::http::{DEFAULT_MAX_RESPONSE_BYTES, Failure, Pacer, Target, curl_line, header_problem};
use crate::listing::{ListFilter, SEARCHED_FIELDS, page_size};
use crate::redact::Secrets;
use crate::scenario::{Mix, Scenario, arb_scenario};
use crate::spec::{Api, Operation, Spec};

/// The pseudo-check for a request that got no response (refused, reset, timed out).
pub const RESPONSE_RECEIVED: &str = "response_received";
/// The pseudo-check for a response body over `--max-response-bytes`.
pub const RESPONSE_WITHIN_SIZE_CAP: &str = "response_within_size_cap";
/// The pseudo-check for a cleanup search that returned records without the run's tag.
pub const CLEANUP_SEARCH_MATCHES_TAG: &str = "cleanup_search_matches_tag";

/// The default of `--max-time`: long enough for a paced QA run, short enough for a CI job.
pub const DEFAULT_MAX_TIME: Duration = Duration::from_secs(30 * 60);
/// Progress lines when stderr is not a terminal come this often.
const PROGRESS_LINE_EVERY: Duration = Duration::from_secs(5);
/// The terminal's progress line is redrawn this often.
const PROGRESS_REDRAW_EVERY: Duration = Duration::from_millis(200);

/// How progress is shown on stderr while the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Off,
    /// One line redrawn in place (stderr is a terminal).
    Redraw,
    /// A line every few seconds, so a CI log shows the run is alive.
    Lines,
}

/// How a run is made.
#[derive(Debug, Clone)]
pub struct Options {
    pub spec_path: PathBuf,
    pub base_url: String,
    pub token: String,
    pub other_team_token: Option<String>,
    pub identity: Identity,
    pub cases: u64,
    pub seed: u64,
    pub checks: Vec<&'static Check>,
    pub concurrency: usize,
    pub rate: Option<f64>,
    pub timeout: Duration,
    /// Where failing seeds are kept and replayed from; `None` keeps nothing.
    pub regressions: Option<PathBuf>,
    /// Stop drawing new cases after the first failure (for `xtask mutants`).
    pub fail_fast: bool,
    pub allow_hosts: Vec<String>,
    pub progress: Progress,
    /// How many executions shrinking may spend on one failure.
    pub shrink_budget: u32,
    /// At most this many creates in the whole run, shrinking included (a shared QA team's budget).
    pub max_creates: Option<u64>,
    /// The whole run (cases, shrinking, cleanup) ends within this, preflight excepted.
    pub max_time: Duration,
    /// A response body over this many bytes is a finding and is not read further.
    pub max_response_bytes: usize,
    /// Delete what the run created, and report what is left over.
    pub cleanup: bool,
    pub mix: Mix,
}

impl Options {
    pub fn new(spec_path: PathBuf, base_url: String, token: String) -> Options {
        Options {
            spec_path,
            base_url,
            token,
            other_team_token: None,
            identity: Identity::default(),
            cases: 1000,
            seed: 0,
            checks: crate::checks::CHECKS.iter().collect(),
            concurrency: 32,
            rate: None,
            timeout: Duration::from_secs(10),
            regressions: None,
            fail_fast: false,
            allow_hosts: Vec::new(),
            progress: Progress::Off,
            shrink_budget: 200,
            max_creates: None,
            max_time: DEFAULT_MAX_TIME,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            cleanup: true,
            mix: Mix::Full,
        }
    }

    /// The secrets every output of this run must not show.
    pub fn secrets(&self) -> Secrets {
        Secrets::new(&self.token, self.other_team_token.as_deref())
    }
}

/// The 32-byte ChaCha seed of case `index` in a run with `seed`; splitmix64 spreads it.
pub fn case_seed(seed: u64, index: u64) -> [u8; 32] {
    let mut state = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

static NEXT_RUN_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's copy of the run's strategy: proptest strategies are not `Send`, and building
    /// one per case would cost more than drawing from it.
    static STRATEGY: RefCell<Option<(u64, BoxedStrategy<Scenario>)>> = const { RefCell::new(None) };
}

/// Draws the scenario of `seed` from run `run_id`'s strategy, built once per thread.
fn draw(run_id: u64, spec: &Spec, mix: Mix, seed: &[u8; 32]) -> Scenario {
    STRATEGY.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(id, _)| *id != run_id) {
            *slot = Some((run_id, arb_scenario(spec, mix)));
        }
        let (_, strategy) = slot.as_ref().expect("set above");
        tree_for(strategy, seed).current()
    })
}

fn tree_for(
    strategy: &BoxedStrategy<Scenario>,
    seed: &[u8; 32],
) -> Box<dyn ValueTree<Value = Scenario>> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, seed),
    );
    Box::new(
        strategy
            .new_tree(&mut runner)
            .expect("case strategies never reject"),
    )
}

/// The outcome of judging one scenario.
struct Judged {
    observations: Vec<Observation>,
    failures: Vec<(&'static str, Operation, Mismatch, usize)>,
    /// Every check's outcome on every response: (operation, check, applied, failed).
    outcomes: Vec<(Operation, &'static str, bool, bool)>,
}

/// The pseudo-check and mismatch for a request that got no usable response.
fn transport_failure(e: &crate::http::TransportError) -> (&'static str, Mismatch) {
    let (check, expected) = match e.kind {
        Failure::NoResponse => (RESPONSE_RECEIVED, "a response"),
        Failure::TooLarge => (
            RESPONSE_WITHIN_SIZE_CAP,
            "a body within the size cap (--max-response-bytes)",
        ),
    };
    let mismatch = Mismatch {
        pointer: String::new(),
        expected: expected.into(),
        received: e.message.clone(),
    };
    (check, mismatch)
}

fn judge(
    spec: &Spec,
    state: &RunState,
    checks: &[&'static Check],
    observations: Vec<Observation>,
) -> Judged {
    let mut failures = Vec::new();
    let mut outcomes = Vec::new();
    for (i, observation) in observations.iter().enumerate() {
        let operation = observation.case.request.operation;
        match &observation.response {
            Err(e) => {
                let (check, mismatch) = transport_failure(e);
                failures.push((check, operation, mismatch, i));
            }
            Ok(response) => {
                let exchange = Exchange {
                    spec,
                    case: &observation.case,
                    response,
                    state,
                };
                for check in checks {
                    let verdict = (check.run)(&exchange);
                    let applied = verdict != Ok(Applied::NotApplicable);
                    outcomes.push((operation, check.name, applied, verdict.is_err()));
                    if let Err(m) = verdict {
                        failures.push((check.name, operation, m, i));
                    }
                }
            }
        }
    }
    Judged {
        observations,
        failures,
        outcomes,
    }
}

/// The creates the run may still make. A scenario reserves its most creates before it runs, in
/// the case phase and in every shrinking replay alike, so `--max-creates` holds for the run.
#[derive(Debug)]
struct CreateBudget {
    cap: Option<u64>,
    reserved: AtomicU64,
}

impl CreateBudget {
    fn try_reserve(&self, creates: u64) -> bool {
        let Some(cap) = self.cap else {
            return true;
        };
        self.reserved
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| {
                (r + creates <= cap).then_some(r + creates)
            })
            .is_ok()
    }
}

/// What the progress reporter reads while the phases run.
#[derive(Debug, Default)]
struct Live {
    phase: std::sync::Mutex<&'static str>,
    cases_done: AtomicU64,
    cases_total: AtomicU64,
    distinct_failures: AtomicU64,
}

impl Live {
    fn enter(&self, phase: &'static str) {
        *self.phase.lock().expect("not poisoned") = phase;
    }
}

/// Prints progress on stderr until aborted: a redrawn line on a terminal, a line every few
/// seconds elsewhere, so a CI log shows a run that is alive however slow the target is.
fn spawn_progress(
    style: Progress,
    live: Arc<Live>,
    target: Target,
    started: Instant,
) -> Option<tokio::task::JoinHandle<()>> {
    let every = match style {
        Progress::Off => return None,
        Progress::Redraw => PROGRESS_REDRAW_EVERY,
        Progress::Lines => PROGRESS_LINE_EVERY,
    };
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(started + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            let line = format!(
                "contract: {}: {} / {} cases, {} requests, {} distinct failures, {:.1} s",
                live.phase.lock().expect("not poisoned"),
                live.cases_done.load(Ordering::Relaxed),
                live.cases_total.load(Ordering::Relaxed),
                target.sent().total(),
                live.distinct_failures.load(Ordering::Relaxed),
                started.elapsed().as_secs_f64()
            );
            if style == Progress::Redraw {
                eprint!("\r{line}   ");
            } else {
                eprintln!("{line}");
            }
        }
    }))
}

/// Everything the phases of one run share.
struct Run {
    options: Options,
    spec: Arc<Spec>,
    target: Target,
    pacer: Arc<Pacer>,
    state: Arc<RunState>,
    checks: Arc<Vec<&'static Check>>,
    creates: Arc<CreateBudget>,
    live: Arc<Live>,
    strategy: BoxedStrategy<Scenario>,
    run_id: u64,
    /// Shrinking replays so far, for their tags.
    replays: AtomicU64,
    started: Instant,
    /// Cases and shrinking stop here, leaving the rest of the budget to the cleanup.
    work_deadline: Instant,
    /// The cleanup stops here.
    deadline: Instant,
}

/// A distinct failure: the check, the operation and the pointer.
type FailureKey = (&'static str, Operation, String);

/// Makes a run against `options.base_url` and reports what it found.
pub async fn run(options: Options) -> Result<Report, RunError> {
    validate(&options)?;
    host_is_safe(&options.base_url, &options.allow_hosts)?;
    let spec = Arc::new(Spec::load(&options.spec_path)?);
    let target = Target::new(
        &options.base_url,
        options.token.clone(),
        options.other_team_token.clone(),
        options.timeout,
        options.max_response_bytes,
    )
    .map_err(|e| RunError::Arguments(format!("cannot build the HTTP client: {e}")))?;
    preflight(&target, &spec.api).await?;

    let started = Instant::now();
    // Unique per run, not per seed: replaying a seed must not collide with the records of the run it replays.
    let run_tag = format!(
        "ct{:08x}",
        (u64::from(std::process::id()) ^ wall_nanos()) as u32
    );
    // The cleanup gets a fifth of the budget (at most a minute), so a stalled target still lets
    // the run end on time with its leftovers named.
    let cleanup_reserve = (options.max_time / 5).min(Duration::from_secs(60));
    let deadline = started + options.max_time;
    let run = Run {
        spec: spec.clone(),
        pacer: Arc::new(Pacer::new(options.rate)),
        state: Arc::new(RunState::tagged(
            options.identity.clone(),
            run_tag.clone(),
            options.other_team_token.is_some(),
        )),
        checks: Arc::new(options.checks.clone()),
        creates: Arc::new(CreateBudget {
            cap: options.max_creates,
            reserved: AtomicU64::new(0),
        }),
        live: Arc::new(Live::default()),
        strategy: arb_scenario(&spec, options.mix),
        run_id: NEXT_RUN_ID.fetch_add(1, Ordering::Relaxed),
        replays: AtomicU64::new(0),
        started,
        work_deadline: deadline - cleanup_reserve,
        deadline,
        target,
        options,
    };
    let progress = spawn_progress(
        run.options.progress,
        run.live.clone(),
        run.target.clone(),
        started,
    );
    let outcome = run.phases(run_tag).await;
    if let Some(progress) = progress {
        progress.abort();
        if run.options.progress == Progress::Redraw {
            eprint!("\r{:100}\r", "");
        }
    }
    outcome
}

impl Run {
    async fn phases(&self, run_tag: String) -> Result<Report, RunError> {
        let sent = self.target.sent();
        let preflight = sent.total();
        let mut seeds: Vec<[u8; 32]> = load_regressions(self.options.regressions.as_ref());
        let replayed = seeds.len() as u64;
        seeds.extend((0..self.options.cases).map(|i| case_seed(self.options.seed, i)));
        let mut report = Report {
            replayed_regressions: replayed,
            run_tag,
            max_time: self.options.max_time,
            checks_run: self.options.checks.iter().map(|c| c.name).collect(),
            ..Report::default()
        };

        self.live.enter("cases");
        let distinct = self.run_cases(&mut report, &seeds).await?;
        report.time.cases = self.started.elapsed();
        let after_cases = sent.total();

        self.live.enter("shrinking");
        let shrinking = Instant::now();
        self.shrink_all(&mut report, distinct).await;
        report.shrinking = shrinking.elapsed();
        let after_shrinking = sent.total();
        if let Some(path) = &self.options.regressions {
            save_regressions(path, &report.findings, self.target.secrets())?;
        }

        if self.options.cleanup {
            self.live.enter("cleanup");
            let cleaning = Instant::now();
            let (cleanup, strangers) = self.cleanup(&mut report.cut_short).await;
            report.findings.extend(strangers);
            report.cleanup = Some(cleanup);
            report.time.cleanup = cleaning.elapsed();
        }
        report.requests_by_phase = PhaseRequests {
            preflight,
            cases: after_cases - preflight,
            shrinking: after_shrinking - after_cases,
            cleanup: sent.total() - after_shrinking,
        };
        report.requests = sent.total();
        report.creates_sent = sent.of(Operation::Create);
        report.tenancy_checked = self.options.other_team_token.is_some();
        report.client_notes = self.state.client_limits();
        let pinned = &self.options.identity;
        if pinned.team.is_none() || pinned.user.is_none() {
            report.identity_learned =
                Some(self.state.identity.lock().expect("not poisoned").clone());
        }
        report.elapsed = self.started.elapsed();
        Ok(report)
    }

    /// Runs the seeds' cases `concurrency` at a time until they are done, the first failure with
    /// `fail_fast`, or the time budget's end; returns the first case of each distinct failure.
    async fn run_cases(
        &self,
        report: &mut Report,
        seeds: &[[u8; 32]],
    ) -> Result<BTreeMap<FailureKey, FirstSeen>, RunError> {
        let mut distinct: BTreeMap<FailureKey, FirstSeen> = BTreeMap::new();
        let stop = AtomicBool::new(false);
        let mut in_flight = JoinSet::new();
        let mut next = 0usize;
        self.live
            .cases_total
            .store(seeds.len() as u64, Ordering::Relaxed);
        loop {
            while next < seeds.len()
                && in_flight.len() < self.options.concurrency
                && !stop.load(Ordering::Relaxed)
            {
                in_flight.spawn(self.case_task(seeds[next]));
                next += 1;
            }
            let joined = tokio::select! {
                joined = in_flight.join_next() => joined,
                () = tokio::time::sleep_until(self.work_deadline) => {
                    report.cut_short.cases_not_run = (seeds.len() - next + in_flight.len()) as u64;
                    in_flight.shutdown().await;
                    break;
                }
            };
            let Some(joined) = joined else {
                break;
            };
            let Some((seed, judged, generation, http, checking)) =
                joined.map_err(|e| internal_error(e, "a case"))?
            else {
                report.skipped_for_create_cap += 1;
                continue;
            };
            report.time.generation += generation;
            report.cases += 1;
            report.time.http += http;
            report.time.checks += checking;
            record(report, &judged);
            for (check, operation, mismatch, at) in &judged.failures {
                let key = (*check, *operation, mismatch.pointer.clone());
                distinct
                    .entry(key)
                    .or_insert_with(|| FirstSeen {
                        seed,
                        occurrences: 0,
                        mismatch: mismatch.clone(),
                        observation: judged.observations[*at].clone(),
                    })
                    .occurrences += 1;
                if report.first_failure.is_none() {
                    report.first_failure = Some((report.cases, self.started.elapsed(), check));
                }
                if self.options.fail_fast {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            self.live.cases_done.store(report.cases, Ordering::Relaxed);
            self.live
                .distinct_failures
                .store(distinct.len() as u64, Ordering::Relaxed);
        }
        Ok(distinct)
    }

    /// One case as a task: drawn on the worker thread, skipped when its creates do not fit the
    /// budget, then sent and judged.
    #[allow(clippy::type_complexity)]
    fn case_task(
        &self,
        seed: [u8; 32],
    ) -> impl Future<Output = Option<([u8; 32], Judged, Duration, Duration, Duration)>> + Send + 'static
    {
        let (target, pacer, spec, state, checks, creates) = (
            self.target.clone(),
            self.pacer.clone(),
            self.spec.clone(),
            self.state.clone(),
            self.checks.clone(),
            self.creates.clone(),
        );
        let (run_id, mix) = (self.run_id, self.options.mix);
        async move {
            // Drawing happens here, on the worker threads, so generation scales with cores.
            let drawing = std::time::Instant::now();
            let scenario = draw(run_id, &spec, mix, &seed);
            let generation = drawing.elapsed();
            if !creates.try_reserve(scenario.creates()) {
                return None;
            }
            let sent = std::time::Instant::now();
            let observations = scenario.execute(&spec, &target, &pacer, &state).await;
            let judging = std::time::Instant::now();
            let judged = judge(&spec, &state, &checks, observations);
            Some((seed, judged, generation, judging - sent, judging.elapsed()))
        }
    }
}

/// A panicked or cancelled task, as the suite's own internal error.
fn internal_error(e: tokio::task::JoinError, what: &str) -> RunError {
    if e.is_panic() {
        let payload = e.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        RunError::Internal(format!("{what} panicked: {message}"))
    } else {
        RunError::Internal(format!("{what} was cancelled: {e}"))
    }
}

fn record(report: &mut Report, judged: &Judged) {
    for observation in &judged.observations {
        let stats = report
            .per_operation
            .entry(observation.case.request.operation)
            .or_default();
        stats.requests += 1;
        if let Ok(r) = &observation.response {
            *stats.statuses.entry(r.status).or_default() += 1;
        }
        if observation.case.request.operation == Operation::List
            && let Some((_, query)) = observation.case.request.path_and_query.split_once('?')
        {
            for pair in query.split('&') {
                let name = pair.split('=').next().unwrap_or_default();
                report.query_parameters_sent.insert(name.to_owned());
            }
        }
    }
    for (operation, check, applied, failed) in &judged.outcomes {
        let counts = report
            .per_operation
            .entry(*operation)
            .or_default()
            .checks
            .entry(check)
            .or_default();
        if *applied {
            counts.applied += 1;
            counts.failed += u64::from(*failed);
        } else {
            counts.not_applicable += 1;
        }
    }
    for (check, operation, _, _) in &judged.failures {
        *report
            .per_operation
            .entry(*operation)
            .or_default()
            .failures_by_check
            .entry(check)
            .or_default() += 1;
    }
}

/// The first time a distinct failure was seen, and how often it came back.
#[derive(Debug, Clone)]
struct FirstSeen {
    seed: [u8; 32],
    occurrences: u64,
    mismatch: Mismatch,
    observation: Observation,
}

fn wall_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// How much of a refusing server's body the preflight error shows.
const PREFLIGHT_BODY_CHARS: usize = 200;

/// A first request that tells an unreachable target and a refused key apart from contract failures.
async fn preflight(target: &Target, api: &Api) -> Result<(), RunError> {
    let probe = api.list(&format!(
        "{}={}",
        crate::listing::PAGE_SIZE,
        page_size(api, 1)
    ));
    match target.send(&probe).await {
        Err(e) => Err(RunError::Unreachable {
            url: target.base_url.clone(),
            reason: e.message,
        }),
        Ok(r) if r.status == 401 => {
            // The response is redacted on arrival; the cut keeps placeholders whole.
            let body = String::from_utf8_lossy(&r.body);
            let (shown, was_cut) = crate::redact::cut(&body, PREFLIGHT_BODY_CHARS);
            Err(RunError::Unauthorized(format!(
                "{} {} answered 401 {shown}{}",
                probe.method,
                api.collection(),
                if was_cut { "…" } else { "" }
            )))
        }
        Ok(_) => Ok(()),
    }
}

/// How often one check applied to one operation's responses, and how that went. A check that
/// did not apply neither passed nor failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckCounts {
    pub applied: u64,
    pub failed: u64,
    pub not_applicable: u64,
}

impl CheckCounts {
    pub fn passed(&self) -> u64 {
        self.applied - self.failed
    }

    fn add(&mut self, other: &CheckCounts) {
        self.applied += other.applied;
        self.failed += other.failed;
        self.not_applicable += other.not_applicable;
    }
}

/// Counts for one operation.
#[derive(Debug, Clone, Default)]
pub struct OperationStats {
    pub requests: u64,
    /// Per check, in the case phase.
    pub checks: BTreeMap<&'static str, CheckCounts>,
    pub statuses: BTreeMap<u16, u64>,
    pub failures_by_check: BTreeMap<&'static str, u64>,
}

/// One distinct failure, shrunk.
#[derive(Debug, Clone)]
pub struct Finding {
    pub check: &'static str,
    pub operation: Operation,
    pub mismatch: Mismatch,
    pub request: Request,
    pub curl: String,
    pub status: Option<u16>,
    /// The seed of the case it came from; empty for findings no case produced (cleanup).
    pub seed_hex: String,
    pub occurrences: u64,
    pub shrink_steps: u32,
    /// The failure did not recur when its case was replayed.
    pub flaky: bool,
    /// Shrinking stopped early: the time or the create budget ran out.
    pub shrink_cut_short: bool,
}

/// Requests sent in each phase of the run, as the transport counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhaseRequests {
    pub preflight: u64,
    pub cases: u64,
    pub shrinking: u64,
    pub cleanup: u64,
}

/// What the time budget (`--max-time`) cut short, if anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CutShort {
    /// Cases drawn but never finished, or never started.
    pub cases_not_run: u64,
    /// Failures reported as first seen because shrinking ran out of time or creates.
    pub shrinks_cut: u64,
    /// The cleanup ran out of time; what it could not check is listed as left over.
    pub cleanup: bool,
}

impl CutShort {
    pub fn any(&self) -> bool {
        self.cases_not_run > 0 || self.shrinks_cut > 0 || self.cleanup
    }
}

/// Everything a run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cases: u64,
    /// Every request the run sent, preflight, shrinking and cleanup included.
    pub requests: u64,
    pub requests_by_phase: PhaseRequests,
    /// Creates sent over the whole run.
    pub creates_sent: u64,
    pub elapsed: Duration,
    pub per_operation: BTreeMap<Operation, OperationStats>,
    pub findings: Vec<Finding>,
    /// Cases completed, time, and the failing check, when the first failure was seen.
    pub first_failure: Option<(u64, Duration, &'static str)>,
    /// Time spent shrinking, included in `elapsed`.
    pub shrinking: Duration,
    /// Where the time went, summed over all cases (concurrent work adds up past `elapsed`).
    pub time: TimeSplit,
    pub replayed_regressions: u64,
    pub query_parameters_sent: BTreeSet<String>,
    /// Scenarios not run because `--max-creates` was reached.
    pub skipped_for_create_cap: u64,
    pub cut_short: CutShort,
    pub max_time: Duration,
    /// Whether the tenancy checks ran (they need `CONTRACT_OTHER_TEAM_TOKEN`).
    pub tenancy_checked: bool,
    /// The caller's team and user as learned from the responses, when they were not pinned
    /// (`--expect-team`, `--expect-user`); `server_fields` then checks consistency only.
    pub identity_learned: Option<Identity>,
    /// Values the server stored that the generated client cannot hold (integers past its
    /// types): notes about the client, not failures of the server.
    pub client_notes: Vec<ClientLimit>,
    pub cleanup: Option<Cleanup>,
    pub run_tag: String,
    /// The checks the run was asked to make, in registry order.
    pub checks_run: Vec<&'static str>,
}

/// Time spent per stage, summed over cases.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeSplit {
    /// Drawing scenarios from their seeds (on the worker threads).
    pub generation: Duration,
    /// From a scenario's first request to its last response, pacing included.
    pub http: Duration,
    /// Judging the responses (schema validation and every other check).
    pub checks: Duration,
    /// Wall time of the case phase: from the first case drawn to the last judged.
    pub cases: Duration,
    /// Wall time of the end-of-run cleanup.
    pub cleanup: Duration,
}

/// What the end-of-run cleanup did.
#[derive(Debug, Clone, Default)]
pub struct Cleanup {
    pub deleted: u64,
    pub already_gone: u64,
    /// Ids still readable after their delete, that could not be deleted, or that the time
    /// budget left unchecked.
    pub left_over: Vec<String>,
    /// Recorded ids whose record no longer carries the run's mark: not deleted.
    pub not_ours: Vec<String>,
}

impl Report {
    pub fn failures(&self) -> usize {
        self.findings.len()
    }

    /// One check's counts over every operation.
    pub fn check_counts(&self, check: &str) -> CheckCounts {
        let mut total = CheckCounts::default();
        for stats in self.per_operation.values() {
            if let Some(counts) = stats.checks.get(check) {
                total.add(counts);
            }
        }
        total
    }
}

/// The lower-case host of a base URL, without a trailing dot.
pub fn target_host(base_url: &str) -> Result<String, RunError> {
    let url = reqwest::Url::parse(base_url)
        .map_err(|e| RunError::Arguments(format!("--base-url {base_url}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RunError::Arguments(format!(
            "--base-url {base_url}: only http and https are supported"
        )));
    }
    Ok(url
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase())
}

pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The domain a labelled non-production host may sit under without `--allow-host`.
pub const DEFAULT_ALLOWED_DOMAIN: &str = "interactly.ai";

/// Whether a target may receive the suite's writes: loopback; a host named exactly by
/// `--allow-host`; or a host under an allowed domain ([`DEFAULT_ALLOWED_DOMAIN`], or one named
/// by `--allow-host`) whose name below that domain has a `qa`, `dev`, `test` or `staging` label,
/// labels being separated by dots or hyphens. A label alone is not enough: `qa.evil.com` and
/// `api-qa.interactly.ai.evil.com` are refused.
pub fn host_is_safe(base_url: &str, allow_hosts: &[String]) -> Result<(), RunError> {
    let host = target_host(base_url)?;
    let allowed: Vec<String> = allow_hosts
        .iter()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    if is_loopback_host(&host) || allowed.contains(&host) {
        return Ok(());
    }
    let labelled_under = |domain: &str| {
        host.strip_suffix(domain)
            .and_then(|below| below.strip_suffix('.'))
            .is_some_and(|below| {
                below
                    .split(['.', '-'])
                    .any(|label| matches!(label, "qa" | "dev" | "test" | "staging"))
            })
    };
    if labelled_under(DEFAULT_ALLOWED_DOMAIN) || allowed.iter().any(|d| labelled_under(d)) {
        Ok(())
    } else {
        Err(RunError::UnsafeHost { host })
    }
}

/// The reason a value of an option is out of its range, if it is.
pub fn validate(options: &Options) -> Result<(), RunError> {
    let bad = |text: String| Err(RunError::Arguments(text));
    for (variable, key) in [
        ("CONTRACT_TOKEN", Some(options.token.as_str())),
        (
            "CONTRACT_OTHER_TEAM_TOKEN",
            options.other_team_token.as_deref(),
        ),
    ] {
        if let Some(problem) = key.and_then(header_problem) {
            return bad(format!(
                "{variable} cannot be sent as an HTTP header value: {problem}"
            ));
        }
    }
    if options.concurrency == 0 {
        return bad("--concurrency must be at least 1".into());
    }
    if options.cases == 0 {
        return bad("--cases must be at least 1".into());
    }
    if options.max_time.is_zero() {
        return bad("--max-time must be more than 0 seconds".into());
    }
    if options.timeout.is_zero() {
        return bad("--timeout must be more than 0 seconds".into());
    }
    if options.max_response_bytes == 0 {
        return bad("--max-response-bytes must be at least 1".into());
    }
    if let Some(rate) = options.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return bad(format!("--rate {rate} must be a positive number"));
    }
    Ok(())
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

const REGRESSIONS_HEADER: &str = "# Seeds of failures the contract suite has found. Each `cc` line is replayed first on every run.\n\
# It is automatically read and written by `cargo xtask contract`; commit it.\n";

fn load_regressions(path: Option<&PathBuf>) -> Vec<[u8; 32]> {
    let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("cc "))
        .filter_map(|rest| unhex(rest.split_whitespace().next()?))
        .collect()
}

fn save_regressions(
    path: &PathBuf,
    findings: &[Finding],
    secrets: &Secrets,
) -> Result<(), RunError> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut text = if existing.is_empty() {
        REGRESSIONS_HEADER.to_owned()
    } else {
        existing.clone()
    };
    let mut changed = false;
    for f in findings {
        if f.seed_hex.is_empty() || existing.contains(&f.seed_hex) || text.contains(&f.seed_hex) {
            continue;
        }
        let body = String::from_utf8_lossy(&f.request.body.bytes()).into_owned();
        let line = format!(
            "cc {} # {} on {}: {} {}\n",
            f.seed_hex,
            f.check,
            f.operation.id(),
            f.request.method,
            body
        );
        text.push_str(&secrets.redact(&line));
        changed = true;
    }
    if changed {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| RunError::Output {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        std::fs::write(path, text).map_err(|e| RunError::Output {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

impl Run {
    /// Shrinks each distinct failure in turn, within the time budget.
    async fn shrink_all(&self, report: &mut Report, distinct: BTreeMap<FailureKey, FirstSeen>) {
        for (key, first) in distinct {
            let shrunk = if Instant::now() < self.work_deadline {
                tokio::time::timeout_at(self.work_deadline, self.shrink(&key, first.clone()))
                    .await
                    .ok()
            } else {
                None
            };
            let found = shrunk.unwrap_or_else(|| {
                let mut unshrunk = self.finding(&key, first.mismatch, first.observation);
                unshrunk.seed_hex = hex(&first.seed);
                unshrunk.occurrences = first.occurrences;
                unshrunk.shrink_cut_short = true;
                unshrunk
            });
            if found.shrink_cut_short {
                report.cut_short.shrinks_cut += 1;
            }
            report.findings.push(found);
        }
    }

    /// Replays simpler versions of a failing case, one at a time, while the same check keeps
    /// failing. A failure that does not recur on replay is reported as first seen, marked flaky.
    async fn shrink(&self, key: &FailureKey, first: FirstSeen) -> Finding {
        let (check, operation, pointer) = (key.0, key.1, key.2.as_str());
        let mut tree = tree_for(&self.strategy, &first.seed);
        let fails = |judged: &Judged| {
            judged
                .failures
                .iter()
                .find(|(c, o, m, _)| {
                    *c == check
                        && *o == operation
                        && (m.pointer == pointer || check == RESPONSE_RECEIVED)
                })
                .map(|(_, _, m, i)| (m.clone(), judged.observations[*i].clone()))
        };
        // None when the create budget cannot cover the replay. Each replay writes under a tag of
        // its own and deletes what it wrote before the next one, so a shrunk failure never rests
        // on records an earlier replay left behind.
        let run_once = |scenario: Scenario| async move {
            if !self.creates.try_reserve(scenario.creates()) {
                return None;
            }
            let state = self.replay_state();
            let observations = scenario
                .execute(&self.spec, &self.target, &self.pacer, &state)
                .await;
            let judged = judge(&self.spec, &state, &self.options.checks, observations);
            self.delete_replay_records(&state).await;
            Some(judged)
        };
        let mut best = (first.mismatch.clone(), first.observation.clone());
        let mut steps = 0;
        let mut cut_short = false;
        let recurs = if self.options.shrink_budget == 0 {
            false
        } else {
            match run_once(tree.current()).await {
                Some(judged) => fails(&judged).is_some(),
                None => {
                    cut_short = true;
                    false
                }
            }
        };
        if recurs && tree.simplify() {
            while steps < self.options.shrink_budget {
                steps += 1;
                let Some(judged) = run_once(tree.current()).await else {
                    cut_short = true;
                    break;
                };
                if let Some(smaller) = fails(&judged) {
                    best = smaller;
                    if !tree.simplify() {
                        break;
                    }
                } else if !tree.complicate() {
                    break;
                }
            }
        }
        let mut found = self.finding(key, best.0, best.1);
        found.seed_hex = hex(&first.seed);
        found.occurrences = first.occurrences;
        found.shrink_steps = steps;
        found.flaky = self.options.shrink_budget > 0 && !recurs && !cut_short;
        found.shrink_cut_short = cut_short;
        found
    }

    /// A run state for one shrinking replay: the run's identity and ids seen so far, and a
    /// fresh tag that still contains the run's, so the final cleanup's search finds its records.
    fn replay_state(&self) -> RunState {
        let replay = self.replays.fetch_add(1, Ordering::Relaxed);
        let state = RunState::tagged(
            self.state.identity.lock().expect("not poisoned").clone(),
            format!("{}r{replay}", self.state.run_tag),
            self.state.other_team,
        );
        *state.seen_ids.lock().expect("not poisoned") =
            self.state.seen_ids.lock().expect("not poisoned").clone();
        state
    }

    /// Deletes what one replay created; whatever stays is left to the final cleanup.
    async fn delete_replay_records(&self, replay: &RunState) {
        let created: Vec<Created> = replay.created.lock().expect("not poisoned").clone();
        for record in created {
            let verdict = delete_if_ours(
                &self.target,
                &self.pacer,
                &self.spec.api,
                &record.id,
                &replay.run_tag,
                record.created_at.clone(),
            )
            .await;
            if matches!(verdict, Deletion::LeftOver) {
                self.state
                    .created
                    .lock()
                    .expect("not poisoned")
                    .push(record);
            }
        }
    }

    fn finding(&self, key: &FailureKey, mismatch: Mismatch, observation: Observation) -> Finding {
        Finding {
            check: key.0,
            operation: key.1,
            mismatch,
            curl: curl_line(&self.options.base_url, &observation.case.request),
            status: observation.response.as_ref().ok().map(|r| r.status),
            request: observation.case.request,
            seed_hex: String::new(),
            occurrences: 1,
            shrink_steps: 0,
            flaky: false,
            shrink_cut_short: false,
        }
    }
}

impl Run {
    /// Deletes what the run created, and only that, within the time budget.
    ///
    /// Candidates are the ids the run's creates answered with, plus records a search for the
    /// run's tag returns that carry the tag (a create whose response was lost). Before each delete
    /// the record is read back: it must still carry the run's mark (the tag, or the `created_at`
    /// its create answered with), else it is reported and left alone. A searched record without
    /// the tag is a finding, never something to delete.
    async fn cleanup(&self, cut_short: &mut CutShort) -> (Cleanup, Vec<Finding>) {
        let recorded: Vec<Created> = self.state.created.lock().expect("not poisoned").clone();
        let mut candidates: BTreeMap<String, Option<String>> =
            recorded.into_iter().map(|c| (c.id, c.created_at)).collect();
        let mut outcome = Cleanup::default();
        let mut findings = Vec::new();
        let mut pending: BTreeSet<String> = BTreeSet::new();
        let finished = tokio::time::timeout_at(self.deadline, async {
            if let Some(stranger) = self.search_own_records(&mut candidates).await {
                findings.push(stranger);
            }
            pending.extend(candidates.keys().cloned());
            self.delete_all(candidates, &mut outcome, &mut pending)
                .await;
        })
        .await;
        if finished.is_err() {
            cut_short.cleanup = true;
            outcome.left_over.extend(pending);
        }
        outcome.left_over.sort();
        outcome.not_ours.sort();
        (outcome, findings)
    }

    /// Lists the run's tag and adds the tagged records to `candidates`; any record the search
    /// returns without the tag comes back as a finding.
    async fn search_own_records(
        &self,
        candidates: &mut BTreeMap<String, Option<String>>,
    ) -> Option<Finding> {
        let tag = self.state.run_tag.as_str();
        let mut strangers: Vec<String> = Vec::new();
        let mut first_request = None;
        let size = page_size(&self.spec.api, 100);
        for page in 1..=20 {
            let filter = ListFilter {
                search: Some(tag.to_owned()),
                ..Default::default()
            };
            let request = self.spec.api.list(&filter.query(size, page));
            self.pacer.wait().await;
            let Ok(response) = self.target.send(&request).await else {
                break;
            };
            first_request.get_or_insert(request);
            let listed: Vec<Value> = response
                .json
                .as_ref()
                .and_then(|j| j["simulations"].as_array().cloned())
                .unwrap_or_default();
            for record in &listed {
                let Some(id) = record["_id"].as_str() else {
                    continue;
                };
                if candidates.contains_key(id) {
                    continue;
                }
                if carries_tag(record, tag) {
                    candidates.insert(id.to_owned(), None);
                } else {
                    strangers.push(id.to_owned());
                }
            }
            if (listed.len() as u64) < size {
                break;
            }
        }
        if strangers.is_empty() {
            return None;
        }
        let request = first_request.expect("a record came from some page");
        let shown: Vec<&str> = strangers.iter().take(5).map(String::as_str).collect();
        Some(Finding {
            check: CLEANUP_SEARCH_MATCHES_TAG,
            operation: Operation::List,
            mismatch: Mismatch {
                pointer: "/simulations".into(),
                expected: format!(
                    "only simulations whose logical_id or description contains {tag:?} (none of the others was deleted)"
                ),
                received: format!(
                    "{} simulation(s) without it, e.g. {}",
                    strangers.len(),
                    shown.join(", ")
                ),
            },
            curl: curl_line(&self.options.base_url, &request),
            status: Some(200),
            request,
            seed_hex: String::new(),
            occurrences: strangers.len() as u64,
            shrink_steps: 0,
            flaky: false,
            shrink_cut_short: false,
        })
    }

    /// Reads, checks, deletes and reads back each candidate, `concurrency` at a time.
    async fn delete_all(
        &self,
        candidates: BTreeMap<String, Option<String>>,
        outcome: &mut Cleanup,
        pending: &mut BTreeSet<String>,
    ) {
        let mut queue = candidates.into_iter();
        let mut in_flight = JoinSet::new();
        loop {
            while in_flight.len() < self.options.concurrency.max(1) {
                let Some((id, created_at)) = queue.next() else {
                    break;
                };
                let (target, pacer) = (self.target.clone(), self.pacer.clone());
                let (spec, tag) = (self.spec.clone(), self.state.run_tag.clone());
                in_flight.spawn(async move {
                    let verdict =
                        delete_if_ours(&target, &pacer, &spec.api, &id, &tag, created_at).await;
                    (id, verdict)
                });
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            let Ok((id, verdict)) = joined else {
                continue;
            };
            pending.remove(&id);
            match verdict {
                Deletion::Deleted => outcome.deleted += 1,
                Deletion::AlreadyGone => outcome.already_gone += 1,
                Deletion::NotOurs => outcome.not_ours.push(id),
                Deletion::LeftOver => outcome.left_over.push(id),
            }
        }
    }
}

/// What became of one cleanup candidate.
enum Deletion {
    Deleted,
    AlreadyGone,
    NotOurs,
    LeftOver,
}

/// Whether a listed or read simulation carries the run's tag where the run writes it: in the
/// fields a search looks in.
fn carries_tag(simulation: &Value, tag: &str) -> bool {
    SEARCHED_FIELDS.iter().any(|field| {
        simulation["simulation_config"][field]
            .as_str()
            .is_some_and(|text| text.contains(tag))
    })
}

/// Reads `id` back and deletes it only if it is still the record the run made, then reads
/// again to see it gone.
async fn delete_if_ours(
    target: &Target,
    pacer: &Pacer,
    api: &Api,
    id: &str,
    tag: &str,
    created_at: Option<String>,
) -> Deletion {
    pacer.wait().await;
    let before = target.send(&api.get(id)).await;
    let record = match before {
        Ok(r) if r.status == 404 => return Deletion::AlreadyGone,
        Ok(r) if r.is_success() => r.json.map(|j| j["simulation"].clone()),
        _ => return Deletion::LeftOver,
    };
    let Some(record) = record else {
        return Deletion::LeftOver;
    };
    let same_id = record["_id"].as_str() == Some(id);
    let same_creation =
        created_at.is_some() && record["created_at"].as_str() == created_at.as_deref();
    if !same_id || !(same_creation || carries_tag(&record, tag)) {
        return Deletion::NotOurs;
    }
    pacer.wait().await;
    let deleted = target.send(&api.delete(id)).await.map(|r| r.status);
    pacer.wait().await;
    let after = target.send(&api.get(id)).await.map(|r| r.status);
    match (deleted, after) {
        (Ok(200..=299), Ok(404)) => Deletion::Deleted,
        (Ok(404), Ok(404)) => Deletion::AlreadyGone,
        _ => Deletion::LeftOver,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_seeds_differ_and_round_trip() {
        let a = case_seed(1, 0);
        assert_ne!(a, case_seed(1, 1));
        assert_ne!(a, case_seed(2, 0));
        assert_eq!(unhex(&hex(&a)), Some(a));
    }

    fn unsafe_host(url: &str, allow: &[&str]) -> bool {
        let allow: Vec<String> = allow.iter().map(|h| (*h).to_owned()).collect();
        matches!(host_is_safe(url, &allow), Err(RunError::UnsafeHost { .. }))
    }

    #[test]
    fn only_loopback_and_labelled_hosts_under_an_allowed_domain_are_safe() {
        for safe in [
            "http://127.0.0.1:8080",
            "http://127.8.9.1:8080",
            "http://[::1]:8080",
            "http://localhost:1",
            "https://api-qa.interactly.ai",
            "https://API-QA.Interactly.AI.",
            "https://qa.interactly.ai",
            "https://api.dev.interactly.ai",
            "https://staging-api.interactly.ai",
        ] {
            assert!(!unsafe_host(safe, &[]), "{safe} is safe");
        }
        for refused in [
            "https://api.interactly.ai",
            "https://quality.example.com",
            "https://interactly.ai",
            // A label without the allowed domain, or the allowed domain only as a label.
            "https://api-qa.interactly.ai.evil.com",
            "https://qa.evil.com",
            "https://dev.to",
            "https://test.com",
            "https://qainteractly.ai",
            "https://staging.example.com",
            "http://localhost.evil.com",
        ] {
            assert!(unsafe_host(refused, &[]), "{refused} is refused");
        }
    }

    #[test]
    fn allow_host_names_one_host_or_adds_a_domain() {
        // An exact host is an explicit opt-in, label or not.
        assert!(!unsafe_host(
            "https://api.interactly.ai",
            &["api.interactly.ai"]
        ));
        // A domain extends where labelled hosts may be, not where any host may be.
        assert!(!unsafe_host(
            "https://staging.example.com",
            &["example.com"]
        ));
        assert!(unsafe_host("https://www.example.com", &["example.com"]));
        // The label must stand below the allowed domain, not inside it.
        assert!(unsafe_host("https://api.test.com", &["test.com"]));
    }
}
