//! The runner: draws scenarios from per-case seeds, runs them concurrently, judges every response, shrinks each distinct failure sequentially, and keeps the seeds of failures as regressions.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tokio::task::JoinSet;

use crate::cases::Request;
use crate::checks::{Check, Exchange, Identity, Mismatch, RunState};
use crate::error::RunError;
use crate::http::{Pacer, Target, curl_line};
use crate::scenario::{Mix, Observation, Scenario, arb_scenario};
use crate::spec::{Operation, Spec};

/// The pseudo-check for a request that got no response (refused, reset, timed out).
pub const RESPONSE_RECEIVED: &str = "response_received";

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
    /// Redraw a progress line on stderr while running.
    pub progress: bool,
    /// How many executions shrinking may spend on one failure.
    pub shrink_budget: u32,
    /// At most this many creates in the run (a shared QA team's budget).
    pub max_creates: Option<u64>,
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
            progress: false,
            shrink_budget: 200,
            max_creates: None,
            cleanup: true,
            mix: Mix::Full,
        }
    }
}

/// Counts for one operation.
#[derive(Debug, Clone, Default)]
pub struct OperationStats {
    pub requests: u64,
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
    pub seed_hex: String,
    pub occurrences: u64,
    pub shrink_steps: u32,
    /// The failure did not recur when its case was replayed.
    pub flaky: bool,
}

/// Everything a run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cases: u64,
    pub requests: u64,
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
    pub cleanup: Option<Cleanup>,
    pub run_tag: String,
}

/// Time spent per stage, summed over cases.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeSplit {
    /// Drawing scenarios from their seeds (on the runner's own task).
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
    /// Ids still readable after their delete, or that could not be deleted.
    pub left_over: Vec<String>,
}

impl Report {
    pub fn failures(&self) -> usize {
        self.findings.len()
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

/// The lower-case host of a base URL.
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
        .to_ascii_lowercase())
}

pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a target may receive the suite's writes: loopback, a host with a qa, dev, test or
/// staging label, or one named with `--allow-host`.
pub fn host_is_safe(base_url: &str, allow_hosts: &[String]) -> Result<(), RunError> {
    let host = target_host(base_url)?;
    let non_production = host
        .split(['.', '-'])
        .any(|label| matches!(label, "qa" | "dev" | "test" | "staging"));
    if is_loopback_host(&host)
        || non_production
        || allow_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))
    {
        Ok(())
    } else {
        Err(RunError::UnsafeHost { host })
    }
}

/// The outcome of judging one scenario.
struct Judged {
    observations: Vec<Observation>,
    failures: Vec<(&'static str, Operation, Mismatch, usize)>,
}

fn judge(
    spec: &Spec,
    state: &RunState,
    checks: &[&'static Check],
    observations: Vec<Observation>,
) -> Judged {
    let mut failures = Vec::new();
    for (i, observation) in observations.iter().enumerate() {
        let operation = observation.case.request.operation;
        match &observation.response {
            Err(e) => failures.push((
                RESPONSE_RECEIVED,
                operation,
                Mismatch {
                    pointer: String::new(),
                    expected: "a response".into(),
                    received: e.0.clone(),
                },
                i,
            )),
            Ok(response) => {
                let exchange = Exchange {
                    spec,
                    case: &observation.case,
                    response,
                    state,
                };
                for check in checks {
                    if let Err(m) = (check.run)(&exchange) {
                        failures.push((check.name, operation, m, i));
                    }
                }
            }
        }
    }
    Judged {
        observations,
        failures,
    }
}

/// Makes a run against `options.base_url` and reports what it found.
pub async fn run(options: Options) -> Result<Report, RunError> {
    host_is_safe(&options.base_url, &options.allow_hosts)?;
    if options.concurrency == 0 {
        return Err(RunError::Arguments(
            "--concurrency must be at least 1".into(),
        ));
    }
    let spec = Arc::new(Spec::load(&options.spec_path)?);
    let target = Target::new(
        &options.base_url,
        options.token.clone(),
        options.other_team_token.clone(),
        options.timeout,
    )
    .map_err(|e| RunError::Arguments(format!("cannot build the HTTP client: {e}")))?;
    preflight(&target).await?;

    let started = Instant::now();
    let strategy = arb_scenario(&spec, options.mix);
    // Unique per run, not per seed: replaying a seed must not collide with the records of the run it replays.
    let run_tag = format!(
        "ct{:08x}",
        (u64::from(std::process::id()) ^ wall_nanos()) as u32
    );
    let state = Arc::new(RunState::tagged(
        options.identity.clone(),
        run_tag.clone(),
        options.other_team_token.is_some(),
    ));
    let pacer = Arc::new(Pacer::new(options.rate));
    let checks: Arc<Vec<&'static Check>> = Arc::new(options.checks.clone());

    let mut seeds: Vec<[u8; 32]> = load_regressions(options.regressions.as_ref());
    let replayed = seeds.len() as u64;
    seeds.extend((0..options.cases).map(|i| case_seed(options.seed, i)));

    let mut report = Report {
        replayed_regressions: replayed,
        run_tag,
        ..Report::default()
    };
    // The first failing seed of each distinct failure, with how often it recurred.
    let mut distinct: BTreeMap<(&'static str, Operation, String), FirstSeen> = BTreeMap::new();
    let stop = Arc::new(AtomicBool::new(false));
    let mut in_flight = JoinSet::new();
    let mut next = 0usize;
    let mut last_progress = Instant::now();
    let creates = Arc::new(AtomicU64::new(0));
    let run_id = NEXT_RUN_ID.fetch_add(1, Ordering::Relaxed);

    while next < seeds.len() || !in_flight.is_empty() {
        while next < seeds.len()
            && in_flight.len() < options.concurrency
            && !stop.load(Ordering::Relaxed)
        {
            let seed = seeds[next];
            next += 1;
            let (target, pacer, spec, state, checks) = (
                target.clone(),
                pacer.clone(),
                spec.clone(),
                state.clone(),
                checks.clone(),
            );
            let (creates, max_creates, mix) = (creates.clone(), options.max_creates, options.mix);
            in_flight.spawn(async move {
                // Drawing happens here, on the worker threads, so generation scales with cores.
                let drawing = Instant::now();
                let scenario = draw(run_id, &spec, mix, &seed);
                let generation = drawing.elapsed();
                if let Some(cap) = max_creates {
                    let wanted = scenario.creates();
                    if creates.fetch_add(wanted, Ordering::Relaxed) + wanted > cap {
                        creates.fetch_sub(wanted, Ordering::Relaxed);
                        return None;
                    }
                }
                let sent = Instant::now();
                let observations = scenario.execute(&spec, &target, &pacer, &state).await;
                let judging = Instant::now();
                let judged = judge(&spec, &state, &checks, observations);
                Some((seed, judged, generation, judging - sent, judging.elapsed()))
            });
        }
        if next >= seeds.len() || stop.load(Ordering::Relaxed) {
            next = seeds.len();
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let Some((seed, judged, generation, http, checking)) =
            joined.map_err(|e| RunError::Arguments(format!("a case task failed: {e}")))?
        else {
            report.skipped_for_create_cap += 1;
            continue;
        };
        report.time.generation += generation;
        report.cases += 1;
        report.time.http += http;
        report.time.checks += checking;
        record(&mut report, &judged);
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
                report.first_failure = Some((report.cases, started.elapsed(), check));
            }
            if options.fail_fast {
                stop.store(true, Ordering::Relaxed);
            }
        }
        if options.progress && last_progress.elapsed() > Duration::from_millis(200) {
            last_progress = Instant::now();
            eprint!(
                "\r{} / {} cases, {} requests, {} distinct failures, {:.1} s   ",
                report.cases,
                seeds.len(),
                report.requests,
                distinct.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    if options.progress {
        eprint!("\r{:80}\r", "");
    }

    report.time.cases = started.elapsed();
    let shrink_started = Instant::now();
    for (key, first) in distinct {
        let finding = shrink(
            &strategy,
            &key,
            first,
            &options,
            (&target, &pacer, &spec, &state),
        )
        .await;
        report.findings.push(finding);
    }
    report.shrinking = shrink_started.elapsed();
    if let Some(path) = &options.regressions {
        save_regressions(path, &report.findings, &options.token)?;
    }
    if options.cleanup {
        let cleaning = Instant::now();
        report.cleanup = Some(cleanup(&target, &pacer, &state, options.concurrency).await);
        report.time.cleanup = cleaning.elapsed();
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

fn record(report: &mut Report, judged: &Judged) {
    for observation in &judged.observations {
        report.requests += 1;
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

/// Replays simpler versions of a failing case, one at a time, while the same check keeps failing.
/// A failure that does not recur on replay is reported as first seen, marked flaky.
async fn shrink(
    strategy: &BoxedStrategy<Scenario>,
    key: &(&'static str, Operation, String),
    first: FirstSeen,
    options: &Options,
    exec: (&Target, &Pacer, &Spec, &RunState),
) -> Finding {
    let (check, operation, pointer) = (key.0, key.1, key.2.as_str());
    let (target, pacer, spec, state) = exec;
    let mut tree = tree_for(strategy, &first.seed);
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
    let run_once = |scenario: Scenario| async move {
        let observations = scenario.execute(spec, target, pacer, state).await;
        judge(spec, state, &options.checks, observations)
    };
    let mut best = (first.mismatch.clone(), first.observation.clone());
    let mut steps = 0;
    let recurs = options.shrink_budget > 0 && fails(&run_once(tree.current()).await).is_some();
    if recurs && tree.simplify() {
        while steps < options.shrink_budget {
            steps += 1;
            let judged = run_once(tree.current()).await;
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
    let mut found = finding(
        check,
        operation,
        best.0,
        best.1,
        &first.seed,
        first.occurrences,
        steps,
        options,
    );
    found.flaky = options.shrink_budget > 0 && !recurs;
    found
}

#[allow(clippy::too_many_arguments)]
fn finding(
    check: &'static str,
    operation: Operation,
    mismatch: Mismatch,
    observation: Observation,
    seed: &[u8; 32],
    occurrences: u64,
    shrink_steps: u32,
    options: &Options,
) -> Finding {
    Finding {
        check,
        operation,
        mismatch,
        curl: curl_line(&options.base_url, &observation.case.request),
        status: observation.response.as_ref().ok().map(|r| r.status),
        request: observation.case.request,
        seed_hex: hex(seed),
        occurrences,
        shrink_steps,
        flaky: false,
    }
}

fn wall_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Deletes everything the run created (and anything listed under its tag), then reads each
/// id back: whatever is still there is left over.
/// Deletions run `concurrency` at a time, like the cases.
async fn cleanup(
    target: &Target,
    pacer: &Arc<Pacer>,
    state: &RunState,
    concurrency: usize,
) -> Cleanup {
    let mut ids: BTreeSet<String> = state
        .created
        .lock()
        .expect("not poisoned")
        .iter()
        .cloned()
        .collect();
    for page in 1..=20 {
        let filter = crate::listing::ListFilter {
            search: Some(state.run_tag.clone()),
            ..Default::default()
        };
        let request = Request::bare(
            Operation::List,
            format!("/workflows/v1/simulations?{}", filter.query(100, page)),
        );
        pacer.wait().await;
        let Ok(response) = target.send(&request).await else {
            break;
        };
        let listed: Vec<String> = response
            .json
            .as_ref()
            .and_then(|j| j["simulations"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s["_id"].as_str().map(str::to_owned))
            .collect();
        let full_page = listed.len() == 100;
        ids.extend(listed);
        if !full_page {
            break;
        }
    }
    let mut outcome = Cleanup::default();
    let mut pending = ids.into_iter();
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.len() < concurrency.max(1) {
            let Some(id) = pending.next() else { break };
            let (target, pacer) = (target.clone(), pacer.clone());
            in_flight.spawn(async move {
                let path = format!("/workflows/v1/simulations/{}", crate::listing::encode(&id));
                pacer.wait().await;
                let deleted = target
                    .send(&Request::bare(Operation::Delete, path.clone()))
                    .await
                    .map(|r| r.status);
                pacer.wait().await;
                let still_there = !matches!(
                    target
                        .send(&Request::bare(Operation::Get, path))
                        .await
                        .map(|r| r.status),
                    Ok(404)
                );
                (id, deleted, still_there)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        let Ok((id, deleted, still_there)) = joined else {
            continue;
        };
        match deleted {
            Ok(200..=299) => outcome.deleted += 1,
            Ok(404) => outcome.already_gone += 1,
            _ => {}
        }
        if still_there {
            outcome.left_over.push(id);
        }
    }
    outcome.left_over.sort();
    outcome
}

/// A first request that tells an unreachable target and a refused key apart from contract failures.
async fn preflight(target: &Target) -> Result<(), RunError> {
    let probe = Request::bare(Operation::List, "/workflows/v1/simulations?size=1".into());
    match target.send(&probe).await {
        Err(e) => Err(RunError::Unreachable {
            url: target.base_url.clone(),
            reason: e.0,
        }),
        Ok(r) if r.status == 401 => Err(RunError::Unauthorized(format!(
            "GET /workflows/v1/simulations answered 401 {}",
            r.json.map(|j| j.to_string()).unwrap_or_default()
        ))),
        Ok(_) => Ok(()),
    }
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

fn save_regressions(path: &PathBuf, findings: &[Finding], token: &str) -> Result<(), RunError> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut text = if existing.is_empty() {
        REGRESSIONS_HEADER.to_owned()
    } else {
        existing.clone()
    };
    let mut changed = false;
    for f in findings {
        if existing.contains(&f.seed_hex) || text.contains(&f.seed_hex) {
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
        text.push_str(&redact(&line, token));
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

/// Replaces every occurrence of the key, should a server ever echo it back into what we print.
pub fn redact(text: &str, token: &str) -> String {
    if token.is_empty() {
        text.to_owned()
    } else {
        text.replace(token, "$CONTRACT_TOKEN")
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

    #[test]
    fn only_loopback_and_non_production_hosts_are_safe() {
        assert!(host_is_safe("http://127.0.0.1:8080", &[]).is_ok());
        assert!(host_is_safe("http://[::1]:8080", &[]).is_ok());
        assert!(host_is_safe("http://localhost:1", &[]).is_ok());
        assert!(host_is_safe("https://api-qa.interactly.ai", &[]).is_ok());
        assert!(host_is_safe("https://staging.example.com", &[]).is_ok());
        assert!(matches!(
            host_is_safe("https://api.interactly.ai", &[]),
            Err(RunError::UnsafeHost { .. })
        ));
        assert!(host_is_safe("https://api.interactly.ai", &["api.interactly.ai".into()]).is_ok());
        assert!(matches!(
            host_is_safe("https://quality.example.com", &[]),
            Err(RunError::UnsafeHost { .. })
        ));
    }

    #[test]
    fn redact_hides_the_key() {
        assert_eq!(
            redact("Bearer s3cret and s3cret", "s3cret"),
            "Bearer $CONTRACT_TOKEN and $CONTRACT_TOKEN"
        );
    }
}
