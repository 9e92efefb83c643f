//! Measuring: runs the raw loop, the suite, the stage ladder, the simulated QA run, time to detection and the race with Schemathesis, and returns every value in a `Measurements`; nothing here formats the report.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, anyhow, bail};
use contract_tests::Spec;
use contract_tests::checks::CHECKS;
use contract_tests::http::{DEFAULT_MAX_RESPONSE_BYTES, Pacer, Target};
use contract_tests::redact::Secrets;
use contract_tests::request::{Auth, Elsewhere, Request};
use contract_tests::response::Response;
use contract_tests::run_state::RunState;
use contract_tests::runner::{self, Options, Report};
use contract_tests::scenario::{Mix, Scenario, arb_scenario};
use contract_tests::verdict::{Exchange, Observation};
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};

use super::Budget;
use super::model::{
    Context, DefaultRun, DefaultRunRepetition, DefaultRunSeed, Detection, FaultDetection,
    FaultSample, FirstCounted, IsolatedStage, LadderStep, LoadAverage, Measurements, MixName,
    Profile, QaRun, Race, RaceRun, RawBody, RawRun, Section, SeedDetection, Signature, Stage, Step,
    SuiteRun, Tool,
};
use super::schemathesis;
use crate::codegen::workspace_root;
use crate::mutants;

/// The suite's default concurrency on loopback (`cargo xtask contract`), used throughout.
const CONCURRENCY: usize = crate::contract::LOOPBACK_CONCURRENCY;
/// Both tools' concurrency in the race's fault runs and its headline: Schemathesis
/// `--workers 4`, the suite `--concurrency 4`, as issue 16's race was measured by hand.
const RACE_CONCURRENCY: usize = 4;
/// The seed of every single-seed measurement.
const SEED: u64 = 1;

/// The small create the API reference shows.
const REFERENCE_BODY: &[u8] = br#"{"logical_id": "bench", "max_events": 10, "selected_workflow": {"workflow_id": "5eb7cf5a86d9755df3a6c593"}}"#;

pub async fn measure(budget: &Budget, with_schemathesis: bool) -> Result<Measurements> {
    let started = Instant::now();
    interactly_simulations_client::install_crypto_provider();
    let context = context(budget.quick)?;
    let spec = Arc::new(Spec::load(&workspace_root().join("spec/openapi.json"))?);

    let mut sections = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |section: Section| {
        sections.push((section, clock.elapsed()));
        clock = Instant::now();
    };

    eprintln!("bench: raw loopback limit");
    let small = Arc::new(vec![RawRequest::small_create(spec.api.collection())]);
    // One pass unmeasured: the process's first loop measured up to 40 % slower than the same
    // loop again (27 600-34 000 against 41 000-47 000 requests/s), and every suite figure
    // below is of a warm process.
    raw_loop(
        RawBody::SmallCreate,
        small.clone(),
        budget.raw_requests / 4,
        CONCURRENCY,
    )
    .await?;
    let mut raw = vec![
        raw_loop(
            RawBody::SmallCreate,
            small.clone(),
            budget.raw_requests / 4,
            1,
        )
        .await?,
        raw_loop(
            RawBody::SmallCreate,
            small,
            budget.raw_requests,
            CONCURRENCY,
        )
        .await?,
    ];

    lap(Section::Raw);

    eprintln!("bench: the suite");
    let mut suite = Vec::new();
    for mix in [MixName::CreateOnly, MixName::Full] {
        // The full mix grows the team by ~0.8 simulations a case and every list scans the
        // team, so it runs at the default budget, as users run it; create only has no lists.
        let parallel_cases = match mix {
            MixName::CreateOnly => budget.suite_cases,
            MixName::Full => budget.suite_cases_serial,
        };
        for (concurrency, cases) in [
            (1, budget.suite_cases_serial),
            (CONCURRENCY, parallel_cases),
        ] {
            suite.push(suite_run(mix, cases, concurrency).await?);
        }
    }

    lap(Section::Suite);

    eprintln!("bench: the default run");
    let default_run = default_run(budget.default_run_seeds, budget.default_run_repetitions).await?;

    lap(Section::DefaultRun);

    eprintln!("bench: where a case's CPU goes");
    let (profile, bare) = profile(&spec, budget.suite_cases, budget.stage_cpu).await?;
    raw.push(bare);

    lap(Section::Profile);

    eprintln!("bench: simulated QA");
    let mut qa = Vec::new();
    for (concurrency, rate) in [(1usize, None), (8, None), (32, None), (32, Some(200.0))] {
        qa.push(qa_run(budget.qa_latency, budget.qa_cases, concurrency, rate).await?);
    }

    lap(Section::Qa);

    eprintln!("bench: time to detection");
    let detection = detection(
        budget.detection_seeds,
        budget.detection_cases,
        budget.detection_sample,
    )
    .await?;

    lap(Section::Detection);

    let race = if with_schemathesis {
        eprintln!("bench: the race with Schemathesis");
        race(budget).await.map_err(|e| format!("{e:#}"))
    } else {
        Err("--no-schemathesis".to_owned())
    };
    lap(Section::Race);

    Ok(Measurements {
        context,
        raw,
        suite,
        default_run,
        profile,
        qa,
        detection,
        race,
        first_run: read_first_run()?,
        load_end: load_average()?,
        sections,
        total_wall: started.elapsed(),
    })
}

fn context(quick: bool) -> Result<Context> {
    Ok(Context {
        started_utc: utc_now(),
        suite_version: suite_version(),
        release_build: !cfg!(debug_assertions),
        commit: commit(),
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        arch: std::env::consts::ARCH.to_owned(),
        cpu_model: std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        }),
        load_start: load_average()?,
        quick,
    })
}

/// The contract-tests crate's version, read from its manifest when xtask was built.
fn suite_version() -> String {
    include_str!("../../../contract-tests/Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .map_or("(unknown)".to_owned(), |v| v.trim_matches('"').to_owned())
}

/// `git rev-parse --short HEAD`, marked when the tree has uncommitted changes.
fn commit() -> Option<String> {
    let git = |args: &[&str]| {
        crate::child_env::command("git")
            .args(args)
            .current_dir(workspace_root())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse", "--short", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty {
        format!("{head} with uncommitted changes")
    } else {
        head
    })
}

/// /proc/loadavg, read at the start and at the end of the run.
pub fn load_average() -> Result<LoadAverage> {
    let text = std::fs::read_to_string("/proc/loadavg").context("cannot read /proc/loadavg")?;
    parse_load_average(&text).ok_or_else(|| {
        anyhow!(
            "cannot read /proc/loadavg: {}",
            contract_tests::text::quoted(&text)
        )
    })
}

pub fn parse_load_average(text: &str) -> Option<LoadAverage> {
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    Some(LoadAverage {
        one_minute: fields.next()?.ok()?,
        five_minutes: fields.next()?.ok()?,
        fifteen_minutes: fields.next()?.ok()?,
    })
}

/// `YYYY-MM-DD HH:MM UTC` now.
fn utc_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_text(seconds)
}

/// Days since 1970 to a civil date (Howard Hinnant's algorithm), so no date crate is needed.
pub fn utc_text(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let (hour, minute) = ((unix_seconds % 86_400) / 3600, (unix_seconds % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

fn read_first_run() -> Result<Option<String>> {
    let path = workspace_root().join("bench/first-run.txt");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// CPU time this process has used (user + system), from /proc; `None` where there is no /proc.
fn process_cpu() -> Option<Duration> {
    cpu_of("/proc/self/stat")
}

/// CPU time of the calling thread, from /proc.
fn thread_cpu() -> Option<Duration> {
    cpu_of("/proc/thread-self/stat")
}

fn cpu_of(path: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, which is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

fn cpu_since(before: Option<Duration>) -> Option<Duration> {
    before
        .zip(process_cpu())
        .map(|(before, after)| after.saturating_sub(before))
}

/// One request as plain reqwest sends it.
#[derive(Debug, Clone)]
struct RawRequest {
    method: reqwest::Method,
    path_and_query: String,
    authorization: Option<String>,
    /// A header the key was sent in instead of `Authorization` (`Auth::KeyElsewhere`).
    key_header: Option<&'static str>,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl RawRequest {
    fn small_create(collection: &str) -> RawRequest {
        RawRequest {
            method: reqwest::Method::POST,
            path_and_query: collection.to_owned(),
            authorization: Some(format!("Bearer {DEV_KEY}")),
            key_header: None,
            content_type: Some("application/json".to_owned()),
            body: REFERENCE_BODY.to_vec(),
        }
    }

    /// The request the suite sent, with the keys it sent it with.
    fn of(request: &Request) -> RawRequest {
        RawRequest {
            method: reqwest::Method::from_bytes(request.method.as_bytes())
                .unwrap_or(reqwest::Method::GET),
            path_and_query: match request.auth {
                Auth::KeyElsewhere(Elsewhere::Query(name)) => {
                    let joint = if request.path_and_query.contains('?') {
                        '&'
                    } else {
                        '?'
                    };
                    format!("{}{joint}{name}={DEV_KEY}", request.path_and_query)
                }
                _ => request.path_and_query.clone(),
            },
            key_header: match request.auth {
                Auth::KeyElsewhere(Elsewhere::Header(name)) => Some(name),
                _ => None,
            },
            authorization: match &request.auth {
                Auth::Primary => Some(format!("Bearer {DEV_KEY}")),
                Auth::PrimaryRespelled {
                    scheme,
                    before,
                    after,
                } => Some(format!("{scheme} {before}{DEV_KEY}{after}")),
                Auth::OtherTeam => Some(format!("Bearer {DEV_OTHER_TEAM_KEY}")),
                Auth::KeyAltered(alteration) => alteration
                    .apply(DEV_KEY, Some(DEV_OTHER_TEAM_KEY))
                    .map(|(key, _)| format!("Bearer {key}")),
                Auth::Literal(value) => Some(value.clone()),
                Auth::None | Auth::KeyElsewhere(_) => None,
            },
            content_type: request.content_type.clone(),
            body: request.body.bytes(),
        }
    }
}

/// `count` requests sent in a tight loop by plain reqwest, cycling through `requests`.
async fn raw_loop(
    body: RawBody,
    requests: Arc<Vec<RawRequest>>,
    count: u64,
    concurrency: usize,
) -> Result<RawRun> {
    let server = reference_server::spawn(Config::development()).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let base = server.base_url();
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = process_cpu();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, base, next, requests) =
            (client.clone(), base.clone(), next.clone(), requests.clone());
        workers.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n as u64 >= count {
                    break;
                }
                let r = &requests[n % requests.len()];
                let mut builder = client
                    .request(r.method.clone(), format!("{base}{}", r.path_and_query))
                    .body(r.body.clone());
                if let Some(value) = &r.authorization {
                    builder = builder.header("authorization", value);
                }
                if let Some(name) = r.key_header {
                    builder = builder.header(name, DEV_KEY);
                }
                if let Some(value) = &r.content_type {
                    builder = builder.header("content-type", value);
                }
                builder.send().await?.bytes().await?;
            }
            Ok::<(), reqwest::Error>(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    let wall = started.elapsed();
    let process_cpu = cpu_since(cpu);
    server.shutdown().await;
    Ok(RawRun {
        body,
        concurrency,
        requests: count,
        wall,
        process_cpu,
    })
}

/// The suite's options against an embedded server.
fn suite_options(base_url: String, cases: u64, concurrency: usize, mix: Mix) -> Options {
    let mut options = crate::contract::embedded_options(base_url);
    // Deleting what the run made would add two requests a case to the CPU measured per case.
    options.cleanup = false;
    options.cases = cases;
    options.concurrency = concurrency;
    options.mix = mix;
    options.seed = SEED;
    options
}

fn mix_of(mix: MixName) -> Mix {
    match mix {
        MixName::CreateOnly => Mix::CreateOnly,
        MixName::Full => Mix::Full,
    }
}

/// `runner::run` against a fresh server, which must pass.
async fn timed_run(config: Config, options: impl FnOnce(String) -> Options) -> Result<TimedRun> {
    let run = time_run(config, options).await?;
    let report = &run.report;
    if report.failures() > 0 {
        bail!(
            "the faithful server failed the suite during the benchmark: {}",
            contract_tests::text::or_absent(report.findings.first().map(|f| f.check))
        );
    }
    Ok(run)
}

/// `runner::run` against a fresh server, timed around the whole call, whatever it found.
async fn time_run(config: Config, options: impl FnOnce(String) -> Options) -> Result<TimedRun> {
    let server = reference_server::spawn(config).await?;
    let options = options(server.base_url());
    let cpu = process_cpu();
    let started = Instant::now();
    let report = runner::run(options).await;
    let wall = started.elapsed();
    let cpu = cpu_since(cpu);
    server.shutdown().await;
    Ok(TimedRun {
        report: report?,
        wall,
        cpu,
    })
}

struct TimedRun {
    report: Report,
    wall: Duration,
    cpu: Option<Duration>,
}

async fn suite_run(mix: MixName, cases: u64, concurrency: usize) -> Result<SuiteRun> {
    let run = timed_run(Config::development(), |url| {
        suite_options(url, cases, concurrency, mix_of(mix))
    })
    .await?;
    let r = &run.report;
    Ok(SuiteRun {
        mix,
        seed: SEED,
        concurrency,
        cases: r.cases,
        requests: r.requests_by_phase.cases,
        case_phase_wall: r.time.cases,
        run_wall: run.wall,
        process_cpu: run.cpu,
        summed_wall: super::model::StageWall {
            generation: r.time.generation,
            http: r.time.http,
            checks: r.time.checks,
        },
    })
}

/// Section 2b: what `cargo xtask contract` does with no flags, seeds `1..=seeds`, each run
/// `repetitions` times against its own fresh server. Failures are recorded, not refused: a
/// failing default run is slower (it shrinks) and the report must say so.
async fn default_run(seeds: u64, repetitions: u64) -> Result<DefaultRun> {
    // The command replays the committed regression seeds first and records new ones; a copy
    // keeps the replay without letting a benchmark failure write into the repository.
    let regressions = std::env::temp_dir().join(format!(
        "xtask-bench-regressions-{}.txt",
        std::process::id()
    ));
    match std::fs::copy(crate::contract::regressions_path(), &regressions) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("cannot copy the regression seeds"),
    }
    let template = crate::contract::embedded_options(String::new());
    let mut out = DefaultRun {
        cases_asked: crate::contract::DEFAULT_CASES,
        concurrency: crate::contract::LOOPBACK_CONCURRENCY,
        shrink_budget: template.shrink_budget,
        seeds: Vec::new(),
    };
    let measured = async {
        for seed in 1..=seeds {
            let mut runs = Vec::new();
            for _ in 0..repetitions {
                let run = time_run(Config::development(), |url| {
                    let mut options = crate::contract::embedded_options(url);
                    options.cases = out.cases_asked;
                    options.concurrency = out.concurrency;
                    options.seed = seed;
                    options.regressions = Some(regressions.clone());
                    options
                })
                .await?;
                runs.push(DefaultRunRepetition {
                    run_wall: run.wall,
                    cases: run.report.cases,
                    requests: run.report.requests,
                    failures: run.report.failures(),
                    process_cpu: run.cpu,
                });
            }
            out.seeds.push(DefaultRunSeed {
                seed,
                repetitions: runs,
            });
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    let _ = std::fs::remove_file(&regressions);
    measured?;
    Ok(out)
}

async fn qa_run(
    latency: Duration,
    cases: u64,
    concurrency: usize,
    rate: Option<f64>,
) -> Result<QaRun> {
    let mut config = Config::development();
    config.latency = latency;
    let run = timed_run(config, |url| {
        let mut options = suite_options(url, cases, concurrency, Mix::CreateOnly);
        options.rate = rate;
        options
    })
    .await?;
    Ok(QaRun {
        latency,
        cases: run.report.cases,
        concurrency,
        rate_cap_per_second: rate,
        case_phase_wall: run.report.time.cases,
    })
}

thread_local! {
    /// This thread's create-only strategy: proptest strategies are not `Send`, as in the runner.
    static STRATEGY: RefCell<Option<BoxedStrategy<Scenario>>> = const { RefCell::new(None) };
}

/// Scenario `index` of a create-only run with [`SEED`], drawn exactly as the runner draws it.
fn draw(spec: &Spec, index: u64) -> Scenario {
    STRATEGY.with(|cell| {
        let mut slot = cell.borrow_mut();
        let strategy = slot.get_or_insert_with(|| arb_scenario(spec, Mix::CreateOnly));
        let mut runner = TestRunner::new_with_rng(
            ProptestConfig::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &runner::case_seed(SEED, index)),
        );
        strategy
            .new_tree(&mut runner)
            .expect("case strategies never reject")
            .current()
    })
}

/// What a ladder step does with case `index` beyond sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    /// Send the pre-drawn scenario.
    Send,
    /// Draw it from its seed, then send it.
    DrawAndSend,
    /// Draw, send, and run every check on every response.
    DrawSendAndCheck,
}

/// Cases whose observations the transport step keeps whole, for the isolated stages; of the
/// others it keeps the requests only, for the bare replay, and the other steps keep nothing.
/// Keeping every case's observations held ~270 MB that each step faulted in afresh, a cost the
/// runner (judging each case and dropping it) never pays: the first step measured twice the CPU
/// of the same step run again.
const KEPT_WHOLE: usize = 2_000;

/// What a ladder step kept of its cases ([`KEPT_WHOLE`]).
#[derive(Default)]
struct Kept {
    /// The first cases' observations.
    whole: Vec<Vec<Observation>>,
    /// Every later case's requests (empty for the cases kept whole).
    requests: Vec<Vec<Request>>,
}

impl Kept {
    /// Every request, in case order.
    fn requests(&self) -> impl Iterator<Item = &Request> {
        let whole = self.whole.iter().flatten().map(|o| &o.case.request);
        whole.chain(self.requests.iter().flatten())
    }
}

/// Runs `cases` create-only cases through the suite's transport, `CONCURRENCY` at a time,
/// doing `work` for each; returns the step and, for `Work::Send`, what it kept of the cases.
async fn ladder_step(
    spec: &Arc<Spec>,
    predrawn: &Arc<Vec<Scenario>>,
    cases: u64,
    work: Work,
) -> Result<(LadderStep, Kept)> {
    let server = reference_server::spawn(Config::development()).await?;
    let target = Target::new(
        &server.base_url(),
        DEV_KEY.to_owned(),
        Some(DEV_OTHER_TEAM_KEY.to_owned()),
        Duration::from_secs(10),
        DEFAULT_MAX_RESPONSE_BYTES,
    )
    .map_err(|e| anyhow!("cannot build the HTTP client: {e}"))?;
    let pacer = Arc::new(Pacer::new(None));
    let state = Arc::new(RunState::tagged(
        crate::contract::development_identity(),
        "benchladder".to_owned(),
        true,
    ));
    let observed = Arc::new(Mutex::new(Kept {
        whole: vec![Vec::new(); KEPT_WHOLE.min(cases as usize)],
        requests: vec![Vec::new(); cases as usize],
    }));
    let next = Arc::new(AtomicUsize::new(0));
    let cpu = process_cpu();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (spec, predrawn, target, pacer, state, observed, next) = (
            spec.clone(),
            predrawn.clone(),
            target.clone(),
            pacer.clone(),
            state.clone(),
            observed.clone(),
            next.clone(),
        );
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i as u64 >= cases {
                    break;
                }
                let scenario = match work {
                    Work::Send => predrawn[i].clone(),
                    Work::DrawAndSend | Work::DrawSendAndCheck => draw(&spec, i as u64),
                };
                let observations = scenario.execute(&spec, &target, &pacer, &state).await;
                if work == Work::DrawSendAndCheck {
                    check_all(&spec, &state, &observations);
                }
                if work == Work::Send {
                    let mut kept = observed.lock().expect("not poisoned");
                    if i < kept.whole.len() {
                        kept.whole[i] = observations;
                    } else {
                        kept.requests[i] =
                            observations.into_iter().map(|o| o.case.request).collect();
                    }
                }
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.map_err(|e| anyhow!("a ladder task failed: {e}"))?;
    }
    let wall = started.elapsed();
    let process_cpu = cpu_since(cpu);
    let requests = target.sent().total();
    server.shutdown().await;
    let step = match work {
        Work::Send => Step::Transport,
        Work::DrawAndSend => Step::Drawing,
        Work::DrawSendAndCheck => Step::Checks,
    };
    let observed = std::mem::take(&mut *observed.lock().expect("not poisoned"));
    Ok((
        LadderStep {
            step,
            cases,
            requests,
            wall,
            process_cpu,
        },
        observed,
    ))
}

/// Every check on every response, as the runner judges them; returns how many failed.
fn check_all(spec: &Spec, state: &RunState, observations: &[Observation]) -> usize {
    let mut failed = 0;
    for observation in observations {
        if let Ok(response) = &observation.response {
            let exchange = Exchange {
                spec,
                case: &observation.case,
                response,
                state,
            };
            for check in CHECKS {
                failed += usize::from((check.run)(&exchange).is_err());
            }
        }
    }
    failed
}

/// Runs `pass` over and over on this thread until it has used `at_least` of CPU, so the
/// 10 ms ticks of /proc stay a small part of the total; returns iterations and thread CPU.
fn thread_cpu_of(
    at_least: Duration,
    items: u64,
    mut pass: impl FnMut(),
) -> (u64, Option<Duration>) {
    let before = thread_cpu();
    let mut passes = 0u64;
    loop {
        pass();
        passes += 1;
        let used = before.zip(thread_cpu()).map(|(b, a)| a.saturating_sub(b));
        match used {
            Some(used) if used < at_least && passes < 10_000 => {}
            None if passes < 3 => {}
            _ => return (passes * items, used),
        }
    }
}

/// Section 3: the ladder from a bare request to the runner, and each stage alone.
async fn profile(spec: &Arc<Spec>, cases: u64, stage_cpu: Duration) -> Result<(Profile, RawRun)> {
    let spec_for_draw = spec.clone();
    let predrawn: Vec<Scenario> =
        tokio::task::spawn_blocking(move || (0..cases).map(|i| draw(&spec_for_draw, i)).collect())
            .await?;
    let predrawn = Arc::new(predrawn);

    // One pass unmeasured: the process's first pass over these cases measured about twice the
    // CPU of the same pass again (fresh memory for the pre-drawn cases' clones, the requests kept
    // and the responses), which the runner's steady state does not pay.
    ladder_step(spec, &predrawn, cases, Work::Send).await?;
    let (transport, kept) = ladder_step(spec, &predrawn, cases, Work::Send).await?;
    let captured: Vec<RawRequest> = kept.requests().map(RawRequest::of).collect();
    let observed = kept.whole;
    let count = captured.len() as u64;
    let bare = raw_loop(
        RawBody::SuiteRequests,
        Arc::new(captured),
        count,
        CONCURRENCY,
    )
    .await?;
    let (drawing, _) = ladder_step(spec, &predrawn, cases, Work::DrawAndSend).await?;
    let (checks, _) = ladder_step(spec, &predrawn, cases, Work::DrawSendAndCheck).await?;
    let runner = timed_run(Config::development(), |url| {
        suite_options(url, cases, CONCURRENCY, Mix::CreateOnly)
    })
    .await?;
    let steps = vec![
        LadderStep {
            step: Step::Bare,
            cases,
            requests: bare.requests,
            wall: bare.wall,
            process_cpu: bare.process_cpu,
        },
        transport,
        drawing,
        checks,
        LadderStep {
            step: Step::Runner,
            cases: runner.report.cases,
            requests: runner.report.requests_by_phase.cases,
            wall: runner.wall,
            process_cpu: runner.cpu,
        },
    ];

    // Each stage alone, on a blocking thread so nothing else runs on it.
    let spec = spec.clone();
    let isolated =
        tokio::task::spawn_blocking(move || isolated_stages(&spec, cases, &observed, stage_cpu))
            .await?;
    Ok((
        Profile {
            seed: SEED,
            concurrency: CONCURRENCY,
            steps,
            isolated,
        },
        bare,
    ))
}

fn isolated_stages(
    spec: &Spec,
    cases: u64,
    observed: &[Vec<Observation>],
    at_least: Duration,
) -> Vec<IsolatedStage> {
    let observations: Vec<&Observation> = observed.iter().flatten().collect();
    let responses: Vec<&Response> = observations
        .iter()
        .filter_map(|o| o.response.as_ref().ok())
        .collect();
    let secrets = Secrets::new(DEV_KEY, Some(DEV_OTHER_TEAM_KEY));
    let state = RunState::tagged(
        crate::contract::development_identity(),
        "benchladder".to_owned(),
        true,
    );
    let mut out = Vec::new();
    let mut sink = 0usize;
    let (iterations, thread_cpu) = thread_cpu_of(at_least, cases, || {
        for i in 0..cases {
            sink ^= std::hint::black_box(draw(spec, i)).creates() as usize;
        }
    });
    out.push(IsolatedStage {
        stage: Stage::Draw,
        iterations,
        thread_cpu,
    });
    let (iterations, thread_cpu) = thread_cpu_of(at_least, observations.len() as u64, || {
        for o in &observations {
            sink ^= std::hint::black_box(o.case.request.body.bytes()).len();
        }
    });
    out.push(IsolatedStage {
        stage: Stage::SerialiseBody,
        iterations,
        thread_cpu,
    });
    // As `Target::send` reads a response once its bytes are in.
    let (iterations, thread_cpu) = thread_cpu_of(at_least, responses.len() as u64, || {
        for r in &responses {
            let mut parsed = Response::new(
                r.status,
                r.content_type.clone(),
                secrets.redact_bytes(&r.body),
            );
            if let Some(json) = &mut parsed.json {
                sink ^= usize::from(secrets.redact_json(json));
            }
            sink ^= std::hint::black_box(parsed).body.len();
        }
    });
    out.push(IsolatedStage {
        stage: Stage::ParseResponse,
        iterations,
        thread_cpu,
    });
    let (iterations, thread_cpu) = thread_cpu_of(at_least, observations.len() as u64, || {
        for o in &observations {
            sink ^= check_all(spec, &state, std::slice::from_ref(*o));
        }
    });
    out.push(IsolatedStage {
        stage: Stage::Checks,
        iterations,
        thread_cpu,
    });
    std::hint::black_box(sink);
    out
}

/// The catalog's faults a section runs.
pub fn sample(sample: FaultSample) -> Vec<Fault> {
    match sample {
        FaultSample::Whole => Fault::ALL.to_vec(),
        FaultSample::FirstPerRuleGroup => {
            let mut groups = BTreeSet::new();
            Fault::ALL
                .iter()
                .copied()
                .filter(|f| {
                    let main = f.rules().first().map_or("", |r| r.id());
                    groups.insert(main.split_once('.').map_or(main, |(group, _)| group))
                })
                .collect()
        }
    }
}

/// Section 5: `mutants`' runs and kill rule over `sample` on seeds `1..=seeds`: per seed the
/// faithful run, then each fault's run stopping at its first failure, run again in full when
/// no failure of the first counted (`mutants::verdict`).
async fn detection(seeds: u64, cases: u64, which: FaultSample) -> Result<Detection> {
    let seeds: Vec<u64> = (1..=seeds).collect();
    let faults = sample(which);
    let handle = tokio::runtime::Handle::current();
    let seed_list = seeds.clone();
    // `mutants::verdict` runs its runs through a blocking closure, as `mutants` does; this
    // thread blocks on the bench's runtime for each of them.
    let (faithful_failures, per_fault) = tokio::task::spawn_blocking(move || {
        let mut faithful_failures = Vec::new();
        let mut per_fault: Vec<Vec<SeedDetection>> = vec![Vec::new(); faults.len()];
        for &seed in &seed_list {
            let faithful =
                handle.block_on(mutants::run_against_embedded(None, cases, seed, false))?;
            faithful_failures.push(faithful.failures());
            let known = mutants::faithful_signatures(&faithful);
            for (fault, runs) in faults.iter().zip(&mut per_fault) {
                let verdict = mutants::verdict(
                    |fail_fast| {
                        handle.block_on(mutants::run_against_embedded(
                            Some(*fault),
                            cases,
                            seed,
                            fail_fast,
                        ))
                    },
                    &known,
                    *fault,
                )?;
                runs.push(SeedDetection {
                    elapsed: Duration::try_from_secs_f64(verdict.seconds).unwrap_or_default(),
                    caught: verdict.caught.map(|c| FirstCounted {
                        cases: c.cases,
                        check: c.check.to_owned(),
                    }),
                });
            }
        }
        Ok::<_, anyhow::Error>((faithful_failures, per_fault))
    })
    .await??;
    Ok(Detection {
        concurrency: crate::contract::LOOPBACK_CONCURRENCY,
        case_budget: cases,
        seeds,
        sample: which,
        catalog: Fault::ALL.len(),
        faithful_failures,
        faults: sample(which)
            .into_iter()
            .zip(per_fault)
            .map(|(fault, per_seed)| FaultDetection {
                fault: fault.name().to_owned(),
                rules: fault.rules().iter().map(|r| r.id().to_owned()).collect(),
                per_seed,
            })
            .collect(),
    })
}

/// Section 6: both tools as commands, the same seeds, cases and concurrency. Speed on the
/// faithful server at concurrency 1 and [`RACE_CONCURRENCY`]; the faults at the latter.
async fn race(budget: &Budget) -> Result<Race> {
    let (st, version) = tokio::task::spawn_blocking(schemathesis::install).await??;
    let seeds: Vec<u64> = (1..=budget.race_seeds).collect();
    let fault_seeds: Vec<u64> = (1..=budget.race_fault_seeds).collect();
    let mut runs = Vec::new();
    let mut servers: Vec<Option<Fault>> = vec![None];
    servers.extend(sample(budget.race_sample).into_iter().map(Some));
    for fault in servers {
        let (concurrencies, seeds): (&[usize], &[u64]) = match fault {
            None => (&[1, RACE_CONCURRENCY], &seeds),
            Some(_) => (&[RACE_CONCURRENCY], &fault_seeds),
        };
        eprintln!(
            "bench: race on {}",
            fault.map_or("the faithful server", |f| f.name())
        );
        for &concurrency in concurrencies {
            for &seed in seeds {
                let (st, examples) = (st.clone(), budget.race_examples);
                let theirs = race_run(fault, move |url| {
                    schemathesis::run(
                        &st,
                        &url,
                        fault.map(|f| f.name()),
                        examples,
                        seed,
                        concurrency,
                    )
                })
                .await?;
                let cases = theirs.cases.max(1);
                let ours = race_run(fault, move |url| {
                    suite_command(&url, fault.map(|f| f.name()), cases, seed, concurrency)
                })
                .await?;
                runs.push(theirs);
                runs.push(ours);
            }
        }
    }
    Ok(Race {
        schemathesis_version: version,
        max_examples: budget.race_examples,
        seeds,
        fault_seeds,
        concurrency: RACE_CONCURRENCY,
        sample: budget.race_sample,
        catalog: Fault::ALL.len(),
        runs,
    })
}

/// A fresh server with `fault`, and one command against it on a blocking thread.
async fn race_run(
    fault: Option<Fault>,
    command: impl FnOnce(String) -> Result<RaceRun> + Send + 'static,
) -> Result<RaceRun> {
    let mut config = Config::development();
    config.faults = fault.into();
    let server = reference_server::spawn(config).await?;
    let url = server.base_url();
    let run = tokio::task::spawn_blocking(move || command(url)).await;
    server.shutdown().await;
    run?
}

/// `cargo xtask contract` as a user runs it, from this very binary, against `base_url`.
fn suite_command(
    base_url: &str,
    fault: Option<&str>,
    cases: u64,
    seed: u64,
    concurrency: usize,
) -> Result<RaceRun> {
    let exe = std::env::current_exe().context("cannot find the running xtask")?;
    let started = Instant::now();
    let output = suite_child(
        &exe,
        std::env::vars_os(),
        base_url,
        cases,
        seed,
        concurrency,
    )
    .output()
    .context("cannot run the suite")?;
    let command_wall = started.elapsed();
    if !matches!(output.status.code(), Some(0 | 1)) {
        bail!(
            "the suite exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let run = read_json_lines(&String::from_utf8_lossy(&output.stdout))?;
    Ok(RaceRun {
        tool: Tool::Suite,
        fault: fault.map(str::to_owned),
        seed,
        concurrency,
        cases: run.cases,
        requests: Some(run.requests),
        command_wall,
        reported: Some(run.elapsed),
        signatures: run.signatures,
    })
}

/// The suite's command line against `base_url` with the development keys, in the allowed part of
/// `vars` only (`child_env`): the caller's other `CONTRACT_*` settings and secrets stay out of it.
fn suite_child(
    exe: &std::path::Path,
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    base_url: &str,
    cases: u64,
    seed: u64,
    concurrency: usize,
) -> Command {
    let identity = crate::contract::development_identity();
    let mut command = crate::child_env::command_in(exe, vars);
    command
        .args(["contract", "--base-url", base_url])
        .args(["--cases", &cases.to_string(), "--seed", &seed.to_string()])
        .args([
            "--concurrency",
            &concurrency.to_string(),
            "--no-regressions",
            "--message-format",
            "json",
        ])
        .args([
            "--expect-team",
            identity.team.as_deref().unwrap_or_default(),
        ])
        .args([
            "--expect-user",
            identity.user.as_deref().unwrap_or_default(),
        ])
        .env("CONTRACT_TOKEN", DEV_KEY)
        .env("CONTRACT_OTHER_TEAM_TOKEN", DEV_OTHER_TEAM_KEY)
        .stdin(Stdio::null());
    command
}

/// What the suite's `--message-format json` says of a run.
#[derive(Debug, PartialEq)]
pub struct SuiteOutput {
    pub cases: u64,
    pub requests: u64,
    pub elapsed: Duration,
    /// Every exact pointer of every finding, as `mutants` reads a run's signatures.
    pub signatures: BTreeSet<Signature>,
}

/// Reads the suite's JSON lines: one object per finding, then the summary object.
pub fn read_json_lines(text: &str) -> Result<SuiteOutput> {
    let mut signatures = BTreeSet::new();
    let mut summary = None;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let object: serde_json::Value = serde_json::from_str(line).with_context(|| {
            format!(
                "line {} of the suite's JSON output is not JSON: {}",
                n + 1,
                contract_tests::text::quoted(&contract_tests::redact::cut(line, 120).0)
            )
        })?;
        match object["reason"].as_str() {
            Some("finding") => {
                let field = |key: &str| {
                    object[key].as_str().map(str::to_owned).ok_or_else(|| {
                        anyhow!("a finding of the suite's JSON output has no \"{key}\"")
                    })
                };
                let (check, operation) = (field("check")?, field("operation")?);
                let mut pointers: Vec<String> = object["pointers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["pointer"].as_str().map(str::to_owned))
                    .collect();
                if pointers.is_empty() {
                    pointers.push(field("pointer")?);
                }
                for pointer in pointers {
                    signatures.insert(Signature {
                        check: check.clone(),
                        operation: operation.clone(),
                        // The empty pointer is the whole response: no location.
                        location: (!pointer.is_empty()).then_some(pointer),
                    });
                }
            }
            Some("summary") => summary = Some(object),
            _ => {}
        }
    }
    let summary =
        summary.ok_or_else(|| anyhow!("the suite's JSON output has no summary object"))?;
    let number = |key: &str| {
        summary[key]
            .as_u64()
            .ok_or_else(|| anyhow!("the suite's JSON summary has no whole number \"{key}\""))
    };
    let elapsed = summary["elapsed_seconds"]
        .as_f64()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| anyhow!("the suite's JSON summary has no duration \"elapsed_seconds\""))?;
    Ok(SuiteOutput {
        cases: number("cases")?,
        requests: number("requests")?,
        elapsed,
        signatures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_races_suite_sees_the_allowed_environment_and_the_development_keys_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("bench-child-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Stands in for xtask: prints the environment it was started with, whatever its arguments.
        let exe = dir.join("print-env");
        std::fs::write(&exe, "#!/bin/sh\nexec /usr/bin/env\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let vars = [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/home/someone"),
            ("CONTRACT_TOKEN", "the-callers-qa-key"),
            ("CONTRACT_ALLOWED_DOMAIN", "example.org"),
            ("AWS_SECRET_ACCESS_KEY", "aws"),
            ("SOMETHING_ELSE", "x"),
        ]
        .map(|(n, v)| (n.into(), v.into()));
        let output = suite_child(&exe, vars, "http://127.0.0.1:1", 10, 1, 4)
            .output()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let printed = String::from_utf8(output.stdout).unwrap();
        let mut names: Vec<&str> = printed
            .lines()
            .filter_map(|l| l.split_once('=').map(|(n, _)| n))
            .filter(|n| *n != "PWD")
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "CONTRACT_OTHER_TEAM_TOKEN",
                "CONTRACT_TOKEN",
                "HOME",
                "PATH"
            ],
            "{printed}"
        );
        assert!(printed.contains(&format!("CONTRACT_TOKEN={DEV_KEY}\n")));
        assert!(!printed.contains("the-callers-qa-key"));
    }

    #[test]
    fn reads_the_load_average() {
        let load = parse_load_average("3.26 2.83 2.81 3/512 12345\n").unwrap();
        assert_eq!(
            load,
            LoadAverage {
                one_minute: 3.26,
                five_minutes: 2.83,
                fifteen_minutes: 2.81
            }
        );
        assert_eq!(parse_load_average("nonsense"), None);
    }

    #[test]
    fn writes_dates_in_utc() {
        assert_eq!(utc_text(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_text(951_782_400 + 3_660), "2000-02-29 01:01 UTC");
        assert_eq!(utc_text(1_795_964_793), "2026-11-29 15:06 UTC");
    }

    #[test]
    fn reads_the_suites_json_lines() {
        // Shaped as `--message-format json` writes them, cut to the fields read.
        let out = r#"{"reason":"finding","index":1,"check":"request_echo","operation":"create_simulation","pointer":"/simulation/x","group":"/simulation/*","pointers":[{"pointer":"/simulation/x","occurrences":2},{"pointer":"/simulation/y","occurrences":1}]}
{"reason":"finding","index":2,"check":"not_a_server_error","operation":"get_simulation","pointer":"","group":"","pointers":[]}
{"reason":"summary","verdict":"fail","cases":702,"requests":2100,"failures":2,"elapsed_seconds":0.84}
"#;
        let read = read_json_lines(out).unwrap();
        assert_eq!(
            (read.cases, read.requests, read.elapsed),
            (702, 2100, Duration::from_millis(840))
        );
        let signatures: Vec<Signature> = read.signatures.into_iter().collect();
        let signature = |check: &str, operation: &str, at: Option<&str>| Signature {
            check: check.into(),
            operation: operation.into(),
            location: at.map(str::to_owned),
        };
        assert_eq!(
            signatures,
            [
                signature("not_a_server_error", "get_simulation", None),
                signature("request_echo", "create_simulation", Some("/simulation/x")),
                signature("request_echo", "create_simulation", Some("/simulation/y")),
            ],
            "every exact pointer of a group is a signature; an empty pointer is the whole response"
        );
    }

    #[test]
    fn output_that_is_not_the_suites_json_is_refused_with_a_line_that_says_so() {
        let no_summary = read_json_lines(
            "{\"reason\":\"finding\",\"check\":\"c\",\"operation\":\"o\",\"pointer\":\"\"}\n",
        );
        assert!(format!("{:#}", no_summary.unwrap_err()).contains("no summary object"),);
        let human = read_json_lines("summary: 3 cases, 40 requests, 0 failures, 1.50 s\n");
        let error = format!("{:#}", human.unwrap_err());
        assert!(
            error.contains("line 1 of the suite's JSON output is not JSON"),
            "{error}"
        );
        let negative = read_json_lines(
            "{\"reason\":\"summary\",\"cases\":-1,\"requests\":1,\"elapsed_seconds\":1.0}\n",
        );
        assert!(format!("{:#}", negative.unwrap_err()).contains("no whole number \"cases\""),);
    }

    #[test]
    fn the_rule_group_sample_takes_one_fault_per_group_in_catalog_order() {
        let picked = sample(FaultSample::FirstPerRuleGroup);
        let group = |f: &Fault| {
            let id = f.rules()[0].id();
            id.split_once('.').map_or(id, |(g, _)| g).to_owned()
        };
        let groups: BTreeSet<String> = Fault::ALL.iter().map(group).collect();
        assert_eq!(picked.len(), groups.len(), "{picked:?}");
        assert_eq!(
            picked.iter().map(group).collect::<BTreeSet<_>>(),
            groups,
            "every group once"
        );
        assert_eq!(picked[0], Fault::ALL[0], "the catalog's order");
        assert_eq!(sample(FaultSample::Whole), Fault::ALL);
    }
}
