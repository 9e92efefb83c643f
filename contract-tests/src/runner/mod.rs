//! The runner: draws scenarios from per-case seeds, runs them concurrently, judges every response, shrinks each distinct failure sequentially, keeps the seeds of failures as regressions, and cleans up what the run created, all inside one time budget and one create budget.
//!
//! The phases are named functions of [`Run`]: preflight, cases, shrinking (`shrink.rs`), saving
//! regressions (`regressions.rs`), cleanup (`cleanup.rs`); `guard.rs` refuses what must not run
//! at all, and `outcome.rs` holds what a run found and measured.

mod cleanup;
mod guard;
mod outcome;
mod regressions;
mod shrink;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::checks::Check;
// The pseudo-checks the runner reports a failure under when no check could judge it.
use crate::checks::{CLEANUP_SEARCH_MATCHES_TAG, RESPONSE_RECEIVED, RESPONSE_WITHIN_SIZE_CAP};
use crate::error::RunError;
use crate::http::{DEFAULT_MAX_RESPONSE_BYTES, Failure, Pacer, Target};
use crate::listing::page_size;
use crate::partition::Partition;
use crate::redact::{Key, Secrets};
use crate::request::{Auth, Exercise};
use crate::rules::RuleSet;
use crate::run_state::{Identity, RunState};
use crate::scenario::{Mix, Scenario, arb_scenario};
use crate::spec::{Api, Operation, Spec};
use crate::verdict::{Applied, Exchange, Mismatch, Observation, PointerSeen};

pub(crate) use guard::keys_long_enough;
pub use guard::{DEFAULT_ALLOWED_DOMAIN, host_is_safe, is_loopback_host, target_host, validate};
#[cfg(test)]
pub(crate) use outcome::{CheckCounts, ShrinkSkipped};
pub(crate) use outcome::{
    Cleanup, CutShort, OperationStats, PhaseRequests, group_pointer, spec_property_names,
};
pub use outcome::{Finding, NotJudged, Report, Verdict};
use regressions::{load_regressions, save_regressions};

/// The default of `--max-time`: long enough for a paced QA run, short enough for a CI job.
pub(crate) const DEFAULT_MAX_TIME: Duration = Duration::from_secs(30 * 60);
/// Progress lines when stderr is not a terminal come this often.
const PROGRESS_LINE_EVERY: Duration = Duration::from_secs(5);
/// The terminal's progress line is redrawn this often.
const PROGRESS_REDRAW_EVERY: Duration = Duration::from_millis(200);

/// How many groups of failures the default shrink budget shrinks; the others are reported as
/// first seen.
pub(crate) const SHRINK_GROUPS: usize = 10;
/// The steps the default shrink budget gives one group.
pub const SHRINK_STEPS: u32 = 100;
/// The requests the default shrink budget gives one group.
pub(crate) const SHRINK_REQUESTS: u64 = 300;
/// The steps `--shrink all` gives one group.
pub const SHRINK_ALL_STEPS: u32 = 200;

/// Which groups of failures shrinking may spend requests on (`--shrink`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShrinkScope {
    /// The first [`SHRINK_GROUPS`] groups, each within [`SHRINK_REQUESTS`] requests, and all of
    /// shrinking within the case phase's requests: a failing run costs at most about three
    /// passing ones (cases, shrinking, and the cleanup of both).
    Budgeted,
    /// Every group, bounded by the steps, `--max-time` and `--max-creates` only.
    All,
}

/// How progress is shown on stderr while the run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Off,
    /// A progress bar redrawn in place (stderr is a terminal).
    Redraw,
    /// A line every few seconds, so a CI log shows the run is alive.
    Lines,
}

/// How a run is made.
#[derive(Debug, Clone)]
pub struct Options {
    pub spec_path: PathBuf,
    pub base_url: String,
    /// The keys: `Debug` shows them as `[redacted]`.
    pub token: Key,
    pub other_team_token: Option<Key>,
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
    /// How many executions shrinking may spend on one group of failures (0: no shrinking).
    pub shrink_budget: u32,
    /// Which groups shrinking may spend requests on, and how many.
    pub shrink_scope: ShrinkScope,
    /// At most this many creates in the whole run, shrinking included (a shared QA team's budget).
    pub max_creates: Option<u64>,
    /// The whole run (cases, shrinking, cleanup) ends within this, preflight excepted.
    pub max_time: Duration,
    /// A response body over this many bytes is a finding and is not read further.
    pub max_response_bytes: usize,
    /// Delete what the run created, and report what is left over.
    pub cleanup: bool,
    pub mix: Mix,
    /// Run only this slice of the cases (`--partition K/N`).
    pub partition: Option<Partition>,
}

impl Options {
    pub fn new(spec_path: PathBuf, base_url: String, token: String) -> Options {
        Options {
            spec_path,
            base_url,
            token: Key::new(token),
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
            shrink_budget: SHRINK_STEPS,
            shrink_scope: ShrinkScope::Budgeted,
            max_creates: None,
            max_time: DEFAULT_MAX_TIME,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            cleanup: true,
            mix: Mix::Full,
            partition: None,
        }
    }

    /// The secrets every output of this run must not show.
    pub fn secrets(&self) -> Secrets {
        Secrets::new(
            self.token.expose(),
            self.other_team_token.as_ref().map(Key::expose),
        )
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

/// The proptest configuration every case is drawn under. Not `Config::default()`: that one
/// carries a boxed failure-persistence setting (and whatever `PROPTEST_*` variables say), and
/// proptest clones the configuration for every union arm and flat map a draw passes through;
/// the suite keeps its own regressions, so the copy would be an allocation per clone for nothing.
fn case_config() -> Config {
    thread_local! {
        static CASE_CONFIG: Config = Config {
            failure_persistence: None,
            ..Config::default()
        };
    }
    CASE_CONFIG.with(Config::clone)
}

fn tree_for(
    strategy: &BoxedStrategy<Scenario>,
    seed: &[u8; 32],
) -> Box<dyn ValueTree<Value = Scenario>> {
    let mut runner = TestRunner::new_with_rng(
        case_config(),
        TestRng::from_seed(RngAlgorithm::ChaCha, seed),
    );
    Box::new(
        strategy
            .new_tree(&mut runner)
            .expect("case strategies never reject"),
    )
}

/// How many of a run's first cases run one at a time: a stale read that any other write hides
/// (a page cached until the next create, say) shows only when nothing else writes between a
/// scenario's requests, and the suite's own concurrent cases write all the time. One case in
/// fifty, at least one: on loopback a few milliseconds, against a distant service a few seconds.
fn serial_cases(cases: usize) -> usize {
    (cases / SERIAL_ONE_IN).max(1).min(cases)
}

/// See [`serial_cases`].
const SERIAL_ONE_IN: usize = 50;

/// The outcome of judging one scenario.
struct Judged {
    observations: Vec<Observation>,
    failures: Vec<(&'static str, Operation, Mismatch, usize)>,
    /// Every check's outcome on every response: (operation, check, applied, failed, the time
    /// the check took).
    outcomes: Vec<(Operation, &'static str, bool, bool, Duration)>,
    /// The rules the responses exercised, each once per response and side.
    exercises: Vec<Exercise>,
    /// A request was given up for the infrastructure's sake (unhealthy, or out of time while
    /// waiting to retry), and why: nothing of the scenario is judged, since its later
    /// expectations rest on an answer that never came.
    abandoned: Option<NotJudged>,
}

/// The pseudo-check and mismatch for a request that got no usable response.
fn transport_failure(e: &crate::http::TransportError) -> (&'static str, Mismatch) {
    let (check, expected) = match e.kind {
        Failure::NoResponse => (RESPONSE_RECEIVED, "a response"),
        Failure::TooLarge => (
            RESPONSE_WITHIN_SIZE_CAP,
            "a body within the size cap (--max-response-bytes)",
        ),
        // `judge` abandons a scenario with either before it gets here; kept total for safety.
        Failure::Unhealthy | Failure::OutOfBudget | Failure::Throttled => {
            (RESPONSE_RECEIVED, "a response")
        }
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
    let given_up = observations.iter().find_map(|o| match &o.response {
        Err(e) if e.kind.abandons() => Some(e.kind),
        _ => None,
    });
    if let Some(kind) = given_up {
        let reason = match kind {
            Failure::Throttled => NotJudged::Throttled,
            Failure::OutOfBudget => NotJudged::CreateRetryCap,
            _ => NotJudged::Unhealthy,
        };
        return Judged {
            observations,
            failures: Vec::new(),
            outcomes: Vec::new(),
            exercises: Vec::new(),
            abandoned: Some(reason),
        };
    }
    let mut failures = Vec::new();
    // Every check's outcome on every response: sized once rather than grown check by check.
    let mut outcomes = Vec::with_capacity(observations.len() * checks.len());
    let mut exercises = Vec::new();
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
                // The rules the checks compared on this response: what a passing check says it
                // asserted, and all a failing check names (it compared and found a mismatch).
                let mut asserted = RuleSet::EMPTY;
                // A 5xx to a hazard's case is one finding, its own check's: every other check
                // would report the same 500 under a key a baseline could not name alone.
                let hazard =
                    crate::hazard::Hazard::of(&observation.case).filter(|_| response.status >= 500);
                for check in checks {
                    if hazard.is_some_and(|h| h.check() != check.name) {
                        outcomes.push((operation, check.name, false, false, Duration::ZERO));
                        continue;
                    }
                    // Each check's own time is what JUnit's `time` of its test case reports.
                    let started = std::time::Instant::now();
                    let verdict = (check.run)(&exchange);
                    let took = started.elapsed();
                    let applied = verdict != Ok(Applied::NotApplicable);
                    outcomes.push((operation, check.name, applied, verdict.is_err(), took));
                    let names = RuleSet::of(check.rules);
                    match verdict {
                        Ok(Applied::Passed(rules)) => {
                            asserted = asserted.union(rules.intersection(names));
                        }
                        Ok(Applied::NotApplicable) => {}
                        Err(m) => {
                            asserted = asserted.union(names);
                            failures.push((check.name, operation, m, i));
                        }
                    }
                }
                exercises.extend(crate::coverage::exercises(observation, asserted));
            }
        }
    }
    Judged {
        observations,
        failures,
        outcomes,
        exercises,
        abandoned: None,
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
/// The progress task, and on a terminal the bar it draws, cleared when the run ends.
struct ProgressShown {
    task: tokio::task::JoinHandle<()>,
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressShown {
    fn finish(self) {
        self.task.abort();
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn spawn_progress(
    style: Progress,
    live: Arc<Live>,
    target: Target,
    started: Instant,
) -> Option<ProgressShown> {
    let every = match style {
        Progress::Off => return None,
        Progress::Redraw => PROGRESS_REDRAW_EVERY,
        Progress::Lines => PROGRESS_LINE_EVERY,
    };
    // indicatif draws on stderr and stays silent when it is not a terminal.
    let bar = (style == Progress::Redraw).then(|| {
        let bar = indicatif::ProgressBar::new(live.cases_total.load(Ordering::Relaxed));
        if let Ok(look) = indicatif::ProgressStyle::with_template(
            "contract: {prefix} [{bar:30}] {pos}/{len} cases, {msg} ({elapsed})",
        ) {
            bar.set_style(look.progress_chars("=> "));
        }
        bar
    });
    let drawn = bar.clone();
    let task = tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(started + every, every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            let phase = live.phase.lock().expect("not poisoned").to_string();
            let (done, total) = (
                live.cases_done.load(Ordering::Relaxed),
                live.cases_total.load(Ordering::Relaxed),
            );
            let counts = format!(
                "{}, {}",
                crate::text::plural(target.sent().total(), "request", "requests"),
                crate::text::plural(
                    live.distinct_failures.load(Ordering::Relaxed),
                    "finding",
                    "findings"
                )
            );
            match &drawn {
                Some(bar) => {
                    bar.set_length(total);
                    bar.set_position(done);
                    bar.set_prefix(phase);
                    bar.set_message(counts);
                }
                None => eprintln!(
                    "contract: {phase}: {done} / {total} cases, {counts}, {:.1} s",
                    started.elapsed().as_secs_f64()
                ),
            }
        }
    });
    Some(ProgressShown { task, bar })
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
    /// The spec's property names: a failure's pointer keeps these keys in its group.
    known_keys: std::collections::BTreeSet<String>,
    run_id: u64,
    /// Shrinking replays so far, for their tags.
    replays: AtomicU64,
    started: Instant,
    /// Cases and shrinking stop here, leaving the rest of the budget to the cleanup.
    work_deadline: Instant,
    /// The cleanup stops here.
    deadline: Instant,
}

/// A group of failures: the check, the operation and the group's pointer ([`group_pointer`]).
type FailureKey = (&'static str, Operation, String);

/// Makes a run against `options.base_url` and reports what it found.
pub async fn run(options: Options) -> Result<Report, RunError> {
    validate(&options)?;
    host_is_safe(&options.base_url, &options.allow_hosts)?;
    keys_long_enough(&options)?;
    // Read before anything is sent: a file the run would overwrite badly stops it here.
    let regressions = load_regressions(options.regressions.as_deref())?;
    let spec = Arc::new(Spec::load(&options.spec_path)?);
    let target = Target::new(
        &options.base_url,
        options.token.expose().to_owned(),
        options
            .other_team_token
            .as_ref()
            .map(|k| k.expose().to_owned()),
        options.timeout,
        options.max_response_bytes,
    )
    .map_err(|e| RunError::Arguments(format!("cannot build the HTTP client: {e}")))?;
    // Unique per run, not per seed: replaying a seed must not collide with the records of the run it replays.
    let random = (u64::from(std::process::id()) ^ wall_nanos()) as u32;
    // A slice's tag starts `ct<K>o<N>x`, which no other slice's tag (nor an unsharded one, all
    // hex after `ct`) contains, so parallel slices' cleanups never match each other's records
    // even if their random parts collide.
    let run_tag = match options.partition {
        None => format!("ct{random:08x}"),
        Some(p) => format!("ct{}o{}x{random:08x}", p.index(), p.count()),
    };
    // `--max-time` is the whole run, the preflight included: a target that stalls from its first
    // request must not hold the run for the budget and then the budget again.
    let started = Instant::now();
    // The cleanup gets a fifth of the budget (at most a minute), so a stalled target still lets
    // the run end on time with its leftovers named.
    let cleanup_reserve = (options.max_time / 5).min(Duration::from_secs(60));
    let deadline = later(started, options.max_time);
    let work_deadline = deadline - cleanup_reserve;
    // The preflight's creates are cleaned up with the run's, so it has the cases' share only.
    let preflight_target = target.clone().with_deadline(work_deadline);
    preflight(&preflight_target, &spec.api).await?;
    let preflight_creates =
        keys_of_two_teams(&preflight_target, &spec.api, &options, &run_tag).await?;
    let pacer = Arc::new(Pacer::new(options.rate));
    let creates = Arc::new(CreateBudget {
        cap: options.max_creates,
        reserved: AtomicU64::new(preflight_creates),
    });
    let budget = creates.clone();
    let target = target.governed(
        pacer.clone(),
        deadline,
        options.seed,
        Arc::new(move || budget.try_reserve(1)),
    );
    let run = Run {
        spec: spec.clone(),
        pacer,
        state: Arc::new(RunState::tagged(
            options.identity.clone(),
            run_tag.clone(),
            options.other_team_token.is_some(),
        )),
        checks: Arc::new(options.checks.clone()),
        creates,
        live: Arc::new(Live::default()),
        strategy: arb_scenario(&spec, options.mix),
        known_keys: spec_property_names(&spec.document),
        run_id: NEXT_RUN_ID.fetch_add(1, Ordering::Relaxed),
        replays: AtomicU64::new(0),
        started,
        work_deadline,
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
    let outcome = run.phases(run_tag, regressions).await;
    if let Some(progress) = progress {
        progress.finish();
    }
    outcome
}

impl Run {
    async fn phases(
        &self,
        run_tag: String,
        regressions: Vec<[u8; 32]>,
    ) -> Result<Report, RunError> {
        let sent = self.target.sent();
        let preflight = sent.total();
        let partition = self.options.partition;
        let mut seeds: Vec<[u8; 32]> = if partition.is_none_or(Partition::replays_regressions) {
            regressions
        } else {
            Vec::new()
        };
        let replayed = seeds.len() as u64;
        let case_indices: Vec<u64> = match partition {
            None => (0..self.options.cases).collect(),
            Some(p) => p.cases(self.options.cases).collect(),
        };
        seeds.extend(
            case_indices
                .iter()
                .map(|&i| case_seed(self.options.seed, i)),
        );
        let mut report = Report {
            replayed_regressions: replayed,
            seed: self.options.seed,
            base_url: self.options.base_url.clone(),
            partition,
            case_indices,
            run_tag,
            max_time: self.options.max_time,
            checks_run: self.options.checks.iter().map(|c| c.name).collect(),
            spec_warnings: self.spec.warnings.clone(),
            ..Report::default()
        };

        self.live.enter("cases");
        let distinct = self.run_cases(&mut report, &seeds).await?;
        report.time.cases = self.started.elapsed();
        let after_cases = sent.total();

        self.live.enter("shrinking");
        let shrinking = Instant::now();
        self.shrink_all(&mut report, distinct, after_cases - preflight)
            .await;
        report.shrinking = shrinking.elapsed();
        let after_shrinking = sent.total();

        if self.options.cleanup {
            self.live.enter("cleanup");
            let cleaning = Instant::now();
            let (cleanup, strangers) = self.cleanup(&mut report.cut_short).await;
            report.findings.extend(strangers);
            report.cleanup = Some(cleanup);
            report.time.cleanup = cleaning.elapsed();
        }
        // After the cleanup, and not fatal to the run: a file that cannot be written must not
        // leave the run's records behind nor hide its findings; the caller says it last.
        if let Some(path) = &self.options.regressions
            && let Err(e) = save_regressions(path, &report.findings, self.target.secrets())
        {
            report.output_errors.push(e.to_string());
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
        report.gateway = self.target.gateway_stats();
        report.elapsed = self.started.elapsed();
        Ok(report)
    }

    /// Runs the seeds' cases `concurrency` at a time until they are done, the first failure with
    /// `fail_fast`, or the time budget's end; returns the first case of each distinct failure.
    ///
    /// The loop that starts the cases and takes in their results is a task of the runtime, not
    /// part of the future the caller polls: that future usually runs in `block_on`, on a thread
    /// of its own beside the workers, and each case's end would wake that thread (a futex wake
    /// and a context switch per case, on two cores a third thread taking turns with the two
    /// that do the work). A task is woken on the worker that finishes the case.
    async fn run_cases(
        &self,
        report: &mut Report,
        seeds: &[[u8; 32]],
    ) -> Result<BTreeMap<FailureKey, FirstSeen>, RunError> {
        let cases = CaseLoop {
            target: self.target.clone(),
            pacer: self.pacer.clone(),
            spec: self.spec.clone(),
            state: self.state.clone(),
            checks: self.checks.clone(),
            creates: self.creates.clone(),
            live: self.live.clone(),
            known_keys: self.known_keys.clone(),
            run_id: self.run_id,
            mix: self.options.mix,
            concurrency: self.options.concurrency,
            fail_fast: self.options.fail_fast,
            started: self.started,
            work_deadline: self.work_deadline,
        };
        let mut task = AbortOnDrop(tokio::spawn(
            cases.run(std::mem::take(report), seeds.to_vec()),
        ));
        match (&mut task.0).await {
            Ok((done, distinct)) => {
                *report = done;
                Ok(distinct)
            }
            // The loop's own panic is the suite's bug, raised where it was before the loop
            // became a task, for the command's handler to report.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(RunError::Internal(format!(
                "the cases' loop was cancelled: {e}"
            ))),
        }
    }
}

/// The tasks [`Run::run_cases`] spawns stop when the run's future is dropped (a caller's
/// timeout, a cancelled command): an orphaned loop would go on sending requests.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the cases' loop needs of the run: shared parts, copies of the options it reads.
struct CaseLoop {
    target: Target,
    pacer: Arc<Pacer>,
    spec: Arc<Spec>,
    state: Arc<RunState>,
    checks: Arc<Vec<&'static Check>>,
    creates: Arc<CreateBudget>,
    live: Arc<Live>,
    known_keys: std::collections::BTreeSet<String>,
    run_id: u64,
    mix: Mix,
    concurrency: usize,
    fail_fast: bool,
    started: Instant,
    work_deadline: Instant,
}

impl CaseLoop {
    /// [`Run::run_cases`]' loop: the report it was given, filled in, and the distinct failures.
    async fn run(
        self,
        mut report: Report,
        seeds: Vec<[u8; 32]>,
    ) -> (Report, BTreeMap<FailureKey, FirstSeen>) {
        let report = &mut report;
        let mut distinct: BTreeMap<FailureKey, FirstSeen> = BTreeMap::new();
        let stop = AtomicBool::new(false);
        let mut in_flight = JoinSet::new();
        let mut next = 0usize;
        self.live
            .cases_total
            .store(seeds.len() as u64, Ordering::Relaxed);
        report.drawn = seeds.len() as u64;
        let serial = serial_cases(seeds.len());
        loop {
            while next < seeds.len()
                && in_flight.len() < if next < serial { 1 } else { self.concurrency }
                && !stop.load(Ordering::Relaxed)
            {
                in_flight.spawn(self.case_task(seeds[next]));
                next += 1;
            }
            let joined = tokio::select! {
                joined = in_flight.join_next() => joined,
                () = tokio::time::sleep_until(self.work_deadline) => {
                    report.cut_short.cases_not_run = (seeds.len() - next + in_flight.len()) as u64;
                    *report.not_judged.entry(NotJudged::Deadline).or_default() +=
                        report.cut_short.cases_not_run;
                    in_flight.shutdown().await;
                    self.target.unhealthy_if_retrying();
                    break;
                }
            };
            let Some(joined) = joined else {
                break;
            };
            // A panic is the suite's bug, not the target's: it is reported, and the other
            // cases, the shrinking, the cleanup and the reports go on without that case.
            let joined = match joined {
                Ok(joined) => joined,
                Err(e) => {
                    report.internal_errors.push(panic_message(e, "a case"));
                    *report.not_judged.entry(NotJudged::Internal).or_default() += 1;
                    continue;
                }
            };
            let Some((seed, judged, generation, http, checking)) = joined else {
                report.skipped_for_create_cap += 1;
                *report.not_judged.entry(NotJudged::CreateCap).or_default() += 1;
                continue;
            };
            report.time.generation += generation;
            if self.target.unhealthy() {
                // A target that fails every retry gets no more cases: the run ends with exit 3.
                stop.store(true, Ordering::Relaxed);
            }
            if let Some(reason) = judged.abandoned {
                report.abandoned_cases += 1;
                *report.not_judged.entry(reason).or_default() += 1;
                continue;
            }
            report.cases += 1;
            report.time.http += http;
            report.time.checks += checking;
            record(report, &judged);
            for (check, operation, mismatch, at) in &judged.failures {
                let key = (
                    *check,
                    *operation,
                    group_pointer(&mismatch.pointer, &self.known_keys),
                );
                let group = distinct.entry(key).or_insert_with(|| FirstSeen {
                    seed,
                    occurrences: 0,
                    mismatch: mismatch.clone(),
                    observation: judged.observations[*at].clone(),
                    pointers: BTreeMap::new(),
                });
                group.occurrences += 1;
                group
                    .pointers
                    .entry(mismatch.pointer.clone())
                    .or_insert((0, seed))
                    .0 += 1;
                if report.first_failure.is_none() {
                    report.first_failure = Some((report.cases, self.started.elapsed(), check));
                }
                if self.fail_fast {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            self.live.cases_done.store(report.cases, Ordering::Relaxed);
            self.live
                .distinct_failures
                .store(distinct.len() as u64, Ordering::Relaxed);
        }
        // Seeds never started: the run stopped drawing (an unhealthy target, or --fail-fast).
        // After the deadline's cut they are counted there already.
        if report.cut_short.cases_not_run == 0 && next < seeds.len() {
            let reason = if self.target.unhealthy() {
                NotJudged::Unhealthy
            } else {
                NotJudged::FailFast
            };
            *report.not_judged.entry(reason).or_default() += (seeds.len() - next) as u64;
        }
        (std::mem::take(report), distinct)
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
        let (run_id, mix) = (self.run_id, self.mix);
        async move {
            // Drawing happens here, on the worker threads, so generation scales with cores.
            let drawing = std::time::Instant::now();
            let scenario = draw(run_id, &spec, mix, &seed);
            let generation = drawing.elapsed();
            if !creates.try_reserve(scenario.creates()) {
                return None;
            }
            let sent = std::time::Instant::now();
            let observations = scenario.execute_owned(&spec, &target, &pacer, &state).await;
            let judging = std::time::Instant::now();
            let judged = judge(&spec, &state, &checks, observations);
            Some((seed, judged, generation, judging - sent, judging.elapsed()))
        }
    }
}

/// What a panicked or cancelled task says, as the suite's own internal error.
fn panic_message(e: tokio::task::JoinError, what: &str) -> String {
    if e.is_panic() {
        panic_text(e.into_panic(), what)
    } else {
        format!("{what} was cancelled: {e}")
    }
}

/// `{what} panicked: {the panic's message}`.
fn panic_text(payload: Box<dyn std::any::Any + Send>, what: &str) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    format!("{what} panicked: {message}")
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
    for (operation, check, applied, failed, took) in &judged.outcomes {
        let counts = report
            .per_operation
            .entry(*operation)
            .or_default()
            .checks
            .entry(check)
            .or_default();
        counts.time += *took;
        if *applied {
            counts.applied += 1;
            counts.failed += u64::from(*failed);
        } else {
            counts.not_applicable += 1;
        }
    }
    for exercise in &judged.exercises {
        *report
            .coverage
            .entry((exercise.rule, exercise.situation))
            .or_default() += 1;
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

/// The first time a group of failures was seen, how often it came back, and at which pointers.
#[derive(Debug, Clone)]
struct FirstSeen {
    seed: [u8; 32],
    occurrences: u64,
    mismatch: Mismatch,
    observation: Observation,
    /// Each exact pointer: its occurrences and the seed of its first case.
    pointers: BTreeMap<String, (u64, [u8; 32])>,
}

/// `at + wait`, or a century on when that is past what an `Instant` holds: a budget from a
/// library caller is not range-checked as `--max-time` is.
fn later(at: Instant, wait: Duration) -> Instant {
    at.checked_add(wait)
        .or_else(|| at.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(at)
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
        Err(e) if e.kind == Failure::Unhealthy => Err(RunError::Unhealthy(
            target
                .gateway_stats()
                .unhealthy
                .map_or(e.message, |u| u.line()),
        )),
        // A 429 whose wait reaches past the budget: the target cannot be tested now (exit 3).
        Err(e) if e.kind == Failure::Throttled => Err(RunError::Unhealthy(format!(
            "incomplete: judged 0 cases: the preflight {} {} was throttled, {}",
            probe.method,
            api.collection(),
            target.gateway_stats().longest_refused_retry_after.map_or(
                "waiting out its 429s reaches past the time budget".into(),
                |after| {
                    format!(
                        "a 429's Retry-After of {} s reaches past the time budget",
                        after.as_secs()
                    )
                }
            )
        ))),
        Err(e) => Err(RunError::Unreachable {
            url: target.base_url.clone(),
            reason: e.message,
        }),
        Ok(r) if r.status == 401 => Err(RunError::Unauthorized(answered(&probe, api, &r))),
        // A list of the collection answered "not here", "elsewhere" or "broken" (after the
        // gateway's retries, which ended any infrastructure failure above): the base URL or
        // what stands in front of the service is wrong, and every case would judge that.
        Ok(r) if r.status == 404 || (300..400).contains(&r.status) || r.status >= 500 => {
            Err(RunError::Misconfigured(answered(&probe, api, &r)))
        }
        // A 2xx that is not the API's list: a gateway's or an app's page at the path the
        // service would have been mounted under (a base path missing its prefix, a typo).
        Ok(r) if r.is_success() && !lists_like_the_api(&r) => {
            Err(RunError::Misconfigured(format!(
                "{}, which is not the API's list (a JSON object with a `{LISTED}` array)",
                answered(&probe, api, &r)
            )))
        }
        Ok(_) => Ok(()),
    }
}

/// With a second key, learns the team each key acts for from a record it creates (and deletes
/// at once; the run key's carries the run's tag for the cleanup's search if its delete fails),
/// and refuses two keys of one team. A list cannot tell: an empty team lists nothing, and a service that lists every team's
/// records would show the run's team to both keys. A pinned `--expect-team` saves the run key's
/// create. Returns the creates made, which count against `--max-creates`; with a cap too small
/// for them, or a probe that does not answer a record, nothing is concluded and the cases judge
/// what the keys do.
async fn keys_of_two_teams(
    target: &Target,
    api: &Api,
    options: &Options,
    run_tag: &str,
) -> Result<u64, RunError> {
    if options.other_team_token.is_none() {
        return Ok(0);
    }
    let pinned = options.identity.team.as_deref();
    let needed = 1 + u64::from(pinned.is_none());
    if options.max_creates.is_some_and(|cap| cap < needed) {
        return Ok(0);
    }
    let mut made = 0;
    let (other, creates) = team_of(target, api, Auth::OtherTeam, run_tag).await;
    made += creates;
    let Some(other) = other else {
        return Ok(made);
    };
    let own = match pinned {
        Some(team) => Some(team.to_owned()),
        None => {
            let (own, creates) = team_of(target, api, Auth::Primary, run_tag).await;
            made += creates;
            own
        }
    };
    if own.as_deref() == Some(other.as_str()) {
        let (shown, was_cut) = crate::redact::cut(&other, PREFLIGHT_TEAM_CHARS);
        return Err(RunError::SameTeam {
            team: format!(
                "{}{}",
                crate::text::quoted(&shown),
                if was_cut { "…" } else { "" }
            ),
        });
    }
    Ok(made)
}

/// How much of a team id the same-team error shows.
const PREFLIGHT_TEAM_CHARS: usize = 64;

/// The `team_id` of a tagged record `auth` creates, which is then deleted with the same key;
/// and how many creates were sent (one).
async fn team_of(target: &Target, api: &Api, auth: Auth, run_tag: &str) -> (Option<String>, u64) {
    let mut create = api.create(serde_json::json!({
        "logical_id": format!("{run_tag}-preflight"),
        "description": format!("{run_tag} contract preflight: which team this key acts for"),
    }));
    create.auth = auth.clone();
    let Ok(created) = target.send(&create).await else {
        return (None, 1);
    };
    let record = created
        .json
        .as_ref()
        .filter(|_| created.is_success())
        .and_then(|j| j.get("simulation"));
    let text = |field: &str| {
        record
            .and_then(|r| r.get(field))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    if let Some(id) = text("_id") {
        let mut delete = api.delete(&id);
        delete.auth = auth;
        // Best effort: a record the run key could not delete carries the run's tag, and the
        // cleanup's search finds it.
        let _ = target.send(&delete).await;
    }
    (text("team_id"), 1)
}

/// The array a list of the collection answers with.
const LISTED: &str = "simulations";

/// A list's answer has the API's shape: JSON (by its media type and its body), an object with
/// the collection's array. The schema of each record is the cases' business, not the preflight's.
fn lists_like_the_api(r: &crate::response::Response) -> bool {
    let media_is_json = r.content_type.as_deref().is_some_and(|t| {
        let media = t.split(';').next().unwrap_or_default().trim();
        media.eq_ignore_ascii_case("application/json")
            || media.to_ascii_lowercase().ends_with("+json")
    });
    media_is_json
        && r.json
            .as_ref()
            .and_then(|j| j.get(LISTED))
            .is_some_and(serde_json::Value::is_array)
}

/// `GET /workflows/v1/simulations answered 404 {body, cut}`: the response is redacted on
/// arrival, and the cut keeps placeholders whole.
fn answered(probe: &crate::request::Request, api: &Api, r: &crate::response::Response) -> String {
    let body = String::from_utf8_lossy(&r.body);
    let (shown, was_cut) = crate::redact::cut(&body, PREFLIGHT_BODY_CHARS);
    format!(
        "{} {} answered {} {shown}{}",
        probe.method,
        api.collection(),
        r.status,
        if was_cut { "…" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::serial_cases;

    #[test]
    fn one_case_in_fifty_runs_alone_and_at_least_one() {
        assert_eq!(serial_cases(2000), 40);
        assert_eq!(serial_cases(10), 1);
        assert_eq!(serial_cases(1), 1);
        assert_eq!(serial_cases(0), 0);
    }
}
