//! `cargo xtask bench`: the suite's throughput against the loopback limit and against Schemathesis, written to `bench/RESULTS.md` from one run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use contract_tests::runner::{self, Options, Report};
use contract_tests::scenario::Mix;
use reference_server::{Config, DEV_KEY, Fault};

use crate::codegen::workspace_root;

pub const BENCH_USAGE: &str = "usage: cargo xtask bench [--quick] [--no-schemathesis]

Builds xtask in release and measures: the raw loopback request rate, the suite's cases per
second (create only and the full mix, at concurrency 1 and the default), a simulated QA run
with added latency, time to detection per fault, and Schemathesis on the same server.
Writes bench/RESULTS.md. --quick uses smaller budgets (for trying the command out).";

const DEFAULT_CONCURRENCY: usize = 32;
const SCHEMATHESIS_VERSION: &str = "4.32.5";

#[derive(Debug, Clone, Copy)]
struct Budget {
    raw_requests: u64,
    suite_cases: u64,
    suite_cases_serial: u64,
    qa_cases: u64,
    qa_latency: Duration,
    detection_seeds: u64,
    detection_cases: u64,
    schemathesis_examples: u64,
    /// Per fault server: Schemathesis is slow enough that 26 full runs would take most of an hour.
    schemathesis_fault_examples: u64,
}

const FULL: Budget = Budget {
    raw_requests: 20_000,
    suite_cases: 10_000,
    suite_cases_serial: 2_000,
    qa_cases: 1_000,
    qa_latency: Duration::from_millis(20),
    detection_seeds: 5,
    detection_cases: 4_000,
    schemathesis_examples: 100,
    schemathesis_fault_examples: 20,
};

const QUICK: Budget = Budget {
    raw_requests: 2_000,
    suite_cases: 1_000,
    suite_cases_serial: 200,
    qa_cases: 100,
    qa_latency: Duration::from_millis(5),
    detection_seeds: 2,
    detection_cases: 2_000,
    schemathesis_examples: 10,
    schemathesis_fault_examples: 5,
};

/// `cargo xtask bench`; run through `release::run_optimised`, since benchmarks of unoptimised
/// code measure the compiler, not the suite.
pub fn bench(args: &[String]) -> Result<ExitCode> {
    let mut budget = FULL;
    let mut schemathesis = true;
    for arg in args {
        match arg.as_str() {
            "--quick" => budget = QUICK,
            "--no-schemathesis" => schemathesis = false,
            "-h" | "--help" => bail!("{BENCH_USAGE}"),
            other => bail!("unknown argument `{other}` for bench"),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(measure(budget, schemathesis))?;
    let path = workspace_root().join("bench/RESULTS.md");
    std::fs::create_dir_all(path.parent().expect("has a parent"))?;
    std::fs::write(&path, &results).with_context(|| format!("cannot write {}", path.display()))?;
    println!("{results}");
    println!("wrote bench/RESULTS.md");
    Ok(ExitCode::SUCCESS)
}

/// The suite's options against an embedded server.
fn suite_options(base_url: String, cases: u64, concurrency: usize, mix: Mix, seed: u64) -> Options {
    let mut options = crate::contract::embedded_options(base_url);
    // Deleting what the run made would add two requests a case to the CPU measured per case.
    options.cleanup = false;
    options.cases = cases;
    options.concurrency = concurrency;
    options.mix = mix;
    options.seed = seed;
    options
}

async fn suite_run(
    config: Config,
    cases: u64,
    concurrency: usize,
    mix: Mix,
    seed: u64,
    rate: Option<f64>,
) -> Result<Report> {
    let server = reference_server::spawn(config).await?;
    let mut options = suite_options(server.base_url(), cases, concurrency, mix, seed);
    options.rate = rate;
    let report = runner::run(options).await;
    server.shutdown().await;
    let report = report?;
    if report.failures() > 0 {
        bail!(
            "the faithful server failed the suite during the benchmark: {:?}",
            report.findings.first().map(|f| f.check)
        );
    }
    Ok(report)
}

fn cases_per_second(report: &Report) -> f64 {
    report.cases as f64 / report.time.cases.as_secs_f64()
}

/// The small create the API reference shows.
const REFERENCE_BODY: &[u8] = br#"{"logical_id": "bench", "max_events": 10, "selected_workflow": {"workflow_id": "5eb7cf5a86d9755df3a6c593"}}"#;

/// Valid create bodies as the suite draws them (unicode, nested dynamic_variables, lax values).
fn suite_bodies(count: usize) -> Result<Vec<Vec<u8>>> {
    use proptest::strategy::{Strategy, ValueTree};
    let spec = contract_tests::Spec::load(&workspace_root().join("spec/openapi.json"))?;
    let strategy = contract_tests::cases::arb_create_valid(&spec);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..count)
        .map(|_| {
            let case = strategy
                .new_tree(&mut runner)
                .map_err(|e| anyhow!("{e}"))?
                .current();
            Ok(case.request.body.bytes())
        })
        .collect()
}

/// Valid creates sent in a tight loop by plain reqwest, cycling through `bodies`: no
/// generation, no checks.
async fn raw_rate(
    requests: u64,
    concurrency: usize,
    bodies: Arc<Vec<Vec<u8>>>,
) -> Result<(f64, Option<Duration>)> {
    let server = reference_server::spawn(Config::development()).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()?;
    let spec = contract_tests::Spec::load(&workspace_root().join("spec/openapi.json"))?;
    let url = format!("{}{}", server.base_url(), spec.api.collection());
    // Signed, so workers that find it spent see a negative count rather than a wrapped one.
    let left = Arc::new(AtomicI64::new(requests as i64));
    let cpu = process_cpu();
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, left, bodies) =
            (client.clone(), url.clone(), left.clone(), bodies.clone());
        workers.spawn(async move {
            loop {
                let n = left.fetch_sub(1, Ordering::Relaxed);
                if n <= 0 {
                    break;
                }
                let body = bodies[n as usize % bodies.len()].clone();
                let response = client
                    .post(&url)
                    .bearer_auth(DEV_KEY)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                response.bytes().await?;
            }
            Ok::<(), reqwest::Error>(())
        });
    }
    while let Some(done) = workers.join_next().await {
        done??;
    }
    let rate = requests as f64 / started.elapsed().as_secs_f64();
    let cpu = cpu
        .zip(process_cpu())
        .map(|(before, after)| (after - before) / requests as u32);
    server.shutdown().await;
    Ok((rate, cpu))
}

/// CPU time this process has used (user + system), from /proc; `None` where there is no /proc.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, which is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

fn micros(d: Option<Duration>) -> String {
    d.map_or("n/a".to_owned(), |d| {
        format!("{:.0} µs", d.as_secs_f64() * 1e6)
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return f64::NAN;
    }
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

async fn measure(budget: Budget, with_schemathesis: bool) -> Result<String> {
    let mut out = String::new();
    let started = Instant::now();
    interactly_simulations_client::install_crypto_provider();
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        std::env::consts::ARCH
    );
    let _ = writeln!(out, "# Benchmark results\n");
    let _ = writeln!(
        out,
        "Written by `cargo xtask bench` (release build) on {machine}; every number below comes from this one run.\n\
         Server and suite share the machine: the embedded reference server runs in the same process, on the same cores.\n"
    );

    eprintln!("bench: raw loopback limit");
    let reference = Arc::new(vec![REFERENCE_BODY.to_vec()]);
    let (raw, raw_cpu) =
        raw_rate(budget.raw_requests, DEFAULT_CONCURRENCY, reference.clone()).await?;
    let (raw_serial, _) = raw_rate(budget.raw_requests / 4, 1, reference).await?;
    let drawn = Arc::new(suite_bodies(2_000)?);
    let (raw_suite_bodies, raw_suite_bodies_cpu) =
        raw_rate(budget.raw_requests, DEFAULT_CONCURRENCY, drawn).await?;
    let _ = writeln!(out, "## 1. The raw loopback limit\n");
    let _ = writeln!(
        out,
        "Valid creates sent by plain reqwest in a tight loop, no generation and no validation.\n"
    );
    let _ = writeln!(
        out,
        "| body | concurrency | requests | requests/s |\n|---|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| the same small create | 1 | {} | {raw_serial:.0} |",
        budget.raw_requests / 4
    );
    let _ = writeln!(
        out,
        "| the same small create | {DEFAULT_CONCURRENCY} | {} | **{raw:.0}** |",
        budget.raw_requests
    );
    let _ = writeln!(
        out,
        "| 2000 bodies the suite draws, pre-generated (diagnostic) | {DEFAULT_CONCURRENCY} | {} | {raw_suite_bodies:.0} |\n",
        budget.raw_requests
    );

    eprintln!("bench: the suite");
    let mut rows = Vec::new();
    for (mix, name) in [
        (Mix::CreateOnly, "create only"),
        (Mix::Full, "full stateful mix"),
    ] {
        // The full mix grows the team by ~0.8 simulations a case and every list scans the
        // team, so it runs at the default budget, as users run it; create only has no lists.
        let cases = if mix == Mix::Full {
            budget.suite_cases_serial
        } else {
            budget.suite_cases
        };
        for (concurrency, cases) in [(1, budget.suite_cases_serial), (DEFAULT_CONCURRENCY, cases)] {
            let cpu = process_cpu();
            let report = suite_run(Config::development(), cases, concurrency, mix, 1, None).await?;
            let cpu = cpu
                .zip(process_cpu())
                .map(|(before, after)| (after - before) / report.cases as u32);
            rows.push((name, concurrency, report, cpu));
        }
    }
    let _ = writeln!(out, "## 2. The suite\n");
    let _ = writeln!(
        out,
        "Cases per second over the case phase (generation, requests, checks; no failures, so no shrinking), seed 1.\n"
    );
    let _ = writeln!(
        out,
        "| mix | concurrency | cases | requests | cases/s | requests/s |\n|---|---:|---:|---:|---:|---:|"
    );
    for (name, concurrency, r, _) in &rows {
        let _ = writeln!(
            out,
            "| {name} | {concurrency} | {} | {} | {:.0} | {:.0} |",
            r.cases,
            r.requests,
            cases_per_second(r),
            r.requests as f64 / r.time.cases.as_secs_f64()
        );
    }
    let create_default = &rows[1].2;
    let create_cpu = rows[1].3;
    let create_serial = &rows[0].2;
    let ratio = cases_per_second(create_default) / raw;
    let ratio_serial = cases_per_second(create_serial) / raw_serial;
    let _ = writeln!(out, "\n## 3. Suite vs raw\n");
    let _ = writeln!(
        out,
        "| create only | suite cases/s | raw requests/s | ratio |\n|---|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| concurrency 1 | {:.0} | {raw_serial:.0} | {ratio_serial:.2} |",
        cases_per_second(create_serial)
    );
    let _ = writeln!(
        out,
        "| concurrency {DEFAULT_CONCURRENCY} | {:.0} | {raw:.0} | **{ratio:.2}** |",
        cases_per_second(create_default)
    );
    let _ = writeln!(
        out,
        "| concurrency {DEFAULT_CONCURRENCY}, against raw with the suite's own bodies | {:.0} | {raw_suite_bodies:.0} | {:.2} |\n",
        cases_per_second(create_default),
        cases_per_second(create_default) / raw_suite_bodies
    );
    let t = create_default.time;
    let total = (t.generation + t.http + t.checks).as_secs_f64();
    let _ = writeln!(
        out,
        "Where the time goes (create only, concurrency {DEFAULT_CONCURRENCY}; summed over cases, so concurrent waiting adds up):\n"
    );
    let _ = writeln!(out, "| stage | seconds | share |\n|---|---:|---:|");
    for (stage, d) in [
        ("generation (drawing cases from seeds)", t.generation),
        ("HTTP (request to response, server included)", t.http),
        ("checks (schema validation and rules)", t.checks),
    ] {
        let _ = writeln!(
            out,
            "| {stage} | {:.3} | {:.1} % |",
            d.as_secs_f64(),
            100.0 * d.as_secs_f64() / total
        );
    }
    let _ = writeln!(
        out,
        "| shrinking | {:.3} | (none: no failures) |",
        create_default.shrinking.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| cleanup | off in these runs, so CPU per case is the suite's own |\n"
    );
    let per_case = |d: Duration| Some(d / create_default.cases.max(1) as u32);
    let _ = writeln!(
        out,
        "What bounds the ratio: CPU. Server, client and suite share 2 cores, so a request's rate is about \
         2 cores divided by the CPU it costs the whole process.\n"
    );
    let _ = writeln!(
        out,
        "| CPU of the whole process (server included) | per request or case |\n|---|---:|"
    );
    let _ = writeln!(
        out,
        "| raw loop, the same small create | {} |",
        micros(raw_cpu)
    );
    let _ = writeln!(
        out,
        "| raw loop, the suite's bodies | {} |",
        micros(raw_suite_bodies_cpu)
    );
    let _ = writeln!(
        out,
        "| suite, create only, concurrency {DEFAULT_CONCURRENCY} | {} |",
        micros(create_cpu)
    );
    let _ = writeln!(
        out,
        "| of which drawing the case (proptest value trees) | {} |",
        micros(per_case(t.generation))
    );
    let _ = writeln!(
        out,
        "| of which checks | {} |\n",
        micros(per_case(t.checks))
    );
    if let (Some(raw_cost), Some(suite_cost)) = (raw_suite_bodies_cpu, create_cpu) {
        let _ = writeln!(
            out,
            "The suite spends {} of CPU per case where the raw loop spends {} per request with the same bodies, \
             which caps the ratio near {:.2}. Drawing the case is the largest suite-side part; the rest is \
             serialising the request, parsing the response and the per-case task. Costs removed after \
             profiling: cases are drawn on the worker threads (they were drawn on the runner's one task), \
             schema validation takes a boolean fast path before building error reports, the reference \
             server lowercases search fields once per record instead of once per list query, and the \
             cleanup deletes concurrently.\n",
            micros(Some(suite_cost)),
            micros(Some(raw_cost)),
            raw_cost.as_secs_f64() / suite_cost.as_secs_f64()
        );
    }

    eprintln!("bench: simulated QA");
    let _ = writeln!(out, "## 4. A simulated QA run\n");
    let _ = writeln!(
        out,
        "The reference server with `--latency {}` on every response, {} create-only cases.\n",
        budget.qa_latency.as_millis(),
        budget.qa_cases
    );
    let _ = writeln!(
        out,
        "| concurrency | rate cap | wall time (s) | speed-up |\n|---:|---|---:|---:|"
    );
    let mut base = None;
    for (concurrency, rate) in [(1usize, None), (8, None), (32, None), (32, Some(200.0))] {
        let mut config = Config::development();
        config.latency = budget.qa_latency;
        let report = suite_run(
            config,
            budget.qa_cases,
            concurrency,
            Mix::CreateOnly,
            1,
            rate,
        )
        .await?;
        let wall = report.time.cases.as_secs_f64();
        let base_wall = *base.get_or_insert(wall);
        let cap = rate.map_or("none".to_owned(), |r| format!("{r:.0}/s"));
        let _ = writeln!(
            out,
            "| {concurrency} | {cap} | {wall:.2} | {:.1}× |",
            base_wall / wall
        );
    }
    let _ = writeln!(out);

    eprintln!("bench: time to detection");
    let _ = writeln!(out, "## 5. Time to detection\n");
    let _ = writeln!(
        out,
        "Full mix, concurrency {DEFAULT_CONCURRENCY}, stopping at the first failure; medians over seeds 1–{}.\n",
        budget.detection_seeds
    );
    let _ = writeln!(
        out,
        "| fault | caught | cases (median) | ms (median) | first check |\n|---|---:|---:|---:|---|"
    );
    let mut caught_all = 0;
    for fault in Fault::ALL {
        let (mut cases, mut millis, mut caught, mut check) = (Vec::new(), Vec::new(), 0, "-");
        for seed in 1..=budget.detection_seeds {
            let report = crate::contract::run_against_embedded(
                Some(*fault),
                budget.detection_cases,
                seed,
                true,
            )
            .await?;
            if let Some((n, elapsed, first)) = report.first_failure {
                caught += 1;
                cases.push(n as f64);
                millis.push(elapsed.as_secs_f64() * 1000.0);
                check = first;
            }
        }
        if caught == budget.detection_seeds {
            caught_all += 1;
        }
        let _ = writeln!(
            out,
            "| {} | {caught}/{} | {:.0} | {:.0} | {check} |",
            fault.name(),
            budget.detection_seeds,
            median(cases),
            median(millis)
        );
    }
    let _ = writeln!(
        out,
        "\n{caught_all} of {} faults caught on every seed.\n",
        Fault::ALL.len()
    );

    let _ = writeln!(out, "## 6. Schemathesis side by side\n");
    if with_schemathesis {
        eprintln!("bench: schemathesis");
        match schemathesis_section(budget, cases_per_second(&rows[3].2)).await {
            Ok(section) => out.push_str(&section),
            Err(e) => {
                let _ = writeln!(out, "Skipped: {e:#}.\n");
            }
        }
    } else {
        let _ = writeln!(out, "Skipped: --no-schemathesis.\n");
    }
    let _ = writeln!(
        out,
        "Total benchmark time: {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(out)
}

/// A Python virtualenv under `target/` with Schemathesis, made once.
fn schemathesis_binary() -> Result<PathBuf> {
    let venv = workspace_root().join("target/bench-venv");
    let st = venv.join("bin/st");
    if st.exists() {
        return Ok(st);
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .ok_or_else(|| anyhow!("Python is missing, so Schemathesis cannot run here"))?;
    let made = Command::new(python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()?;
    if !made.success() {
        bail!("python3 -m venv failed");
    }
    let pip = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
        ])
        .status()?;
    if !pip.success() || !st.exists() {
        bail!("pip could not install schemathesis=={SCHEMATHESIS_VERSION}");
    }
    Ok(st)
}

/// The failure kinds of a Schemathesis summary (`❌ ST202 Schema-valid request rejected: 2`).
fn failure_kinds(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .skip_while(|l| l.trim() != "Failures:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            l.trim()
                .trim_start_matches('❌')
                .trim()
                .rsplit_once(':')
                .map(|(kind, _)| kind.to_owned())
        })
        .collect()
}

/// One Schemathesis run: its exit status, the test cases it reports, and its wall time.
fn schemathesis_run(
    st: &Path,
    base_url: &str,
    examples: u64,
) -> Result<(bool, u64, Duration, String)> {
    let started = Instant::now();
    let output = Command::new(st)
        .arg("run")
        .arg(workspace_root().join("spec/openapi.json"))
        .args([
            "--url",
            base_url,
            "--header",
            &format!("Authorization: Bearer {DEV_KEY}"),
        ])
        .args([
            "--max-examples",
            &examples.to_string(),
            "--seed",
            "1",
            "--no-color",
        ])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        // Its cache directory lands in the working directory; keep it out of the tree.
        .current_dir(workspace_root().join("target"))
        .output()
        .context("cannot run schemathesis")?;
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    Ok((
        output.status.success(),
        test_cases_reported(&text),
        elapsed,
        text,
    ))
}

/// N from Schemathesis' summary, where a "Test cases:" line is followed by "N generated, …".
fn test_cases_reported(text: &str) -> u64 {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("Test cases"))
        .find_map(|l| {
            l.split_whitespace()
                .zip(l.split_whitespace().skip(1))
                .find(|(_, next)| next.starts_with("generated"))
                .and_then(|(n, _)| n.parse().ok())
        })
        .unwrap_or(0)
}

async fn schemathesis_section(budget: Budget, our_rate: f64) -> Result<String> {
    let st = tokio::task::spawn_blocking(schemathesis_binary).await??;
    let mut out = String::new();
    let server = reference_server::spawn(Config::development()).await?;
    let base_url = server.base_url();
    let st_clone = st.clone();
    let examples = budget.schemathesis_examples;
    let (passed, cases, elapsed, text) =
        tokio::task::spawn_blocking(move || schemathesis_run(&st_clone, &base_url, examples))
            .await??;
    server.shutdown().await;
    let rate = cases as f64 / elapsed.as_secs_f64();
    let _ = writeln!(
        out,
        "Schemathesis {SCHEMATHESIS_VERSION} (`st run spec/openapi.json --max-examples {examples}`, default checks) against the same reference server.\n"
    );
    let _ = writeln!(
        out,
        "| tool | cases | wall (s) | cases/s |\n|---|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| Schemathesis | {cases} | {:.1} | {rate:.0} |",
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "| this suite (full mix, concurrency {DEFAULT_CONCURRENCY}) | | | {our_rate:.0} |"
    );
    let _ = writeln!(
        out,
        "\nThis suite is **{:.0}×** Schemathesis in cases per second.\n",
        our_rate / rate
    );
    let verdict = if passed {
        "passes".to_owned()
    } else {
        format!(
            "fails (false alarms: the server is faithful):\n\n```\n{}\n```",
            summary_tail(&text)
        )
    };
    let _ = writeln!(out, "On the faithful server Schemathesis {verdict}\n");

    let fault_examples = budget.schemathesis_fault_examples;
    let faithful_kinds = failure_kinds(&text);
    let faithful_list = if faithful_kinds.is_empty() {
        "it gets none".to_owned()
    } else {
        faithful_kinds
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "Faults caught by Schemathesis with its default checks, the same seed and `--max-examples {fault_examples}`. A fault counts as caught \
         only when the run reports a failure kind the faithful server does not get ({faithful_list}).\n"
    );
    let _ = writeln!(
        out,
        "| fault | caught | failure kinds reported |\n|---|---|---|"
    );
    let mut caught = 0;
    for fault in Fault::ALL {
        let mut config = Config::development();
        config.fault = Some(*fault);
        let server = reference_server::spawn(config).await?;
        let base_url = server.base_url();
        let st = st.clone();
        let (_, _, _, fault_text) =
            tokio::task::spawn_blocking(move || schemathesis_run(&st, &base_url, fault_examples))
                .await??;
        server.shutdown().await;
        let kinds = failure_kinds(&fault_text);
        let new = !kinds.is_subset(&faithful_kinds);
        caught += u32::from(new);
        let listed = if kinds.is_empty() {
            "-".to_owned()
        } else {
            kinds.into_iter().collect::<Vec<_>>().join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {listed} |",
            fault.name(),
            if new { "yes" } else { "no" }
        );
    }
    let _ = writeln!(
        out,
        "\nSchemathesis catches {caught} of {} faults; this suite catches all of them on every seed (section 5).\n",
        Fault::ALL.len()
    );
    Ok(out)
}

fn summary_tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_test_case_count_from_schemathesis_summary() {
        let summary = "Failures:\n  x: 1\n\nTest cases:\n  605 generated, 3 found 3 unique failures, 10 skipped\n\nSeed: 1\n";
        assert_eq!(test_cases_reported(summary), 605);
        assert_eq!(test_cases_reported("no summary"), 0);
    }

    #[test]
    fn reads_the_failure_kinds_from_schemathesis_summary() {
        let summary = "Failures:\n  ❌ ST202 Schema-valid request rejected: 2\n  ❌ Server error: 1\n\nFor more";
        let kinds: Vec<String> = failure_kinds(summary).into_iter().collect();
        assert_eq!(
            kinds,
            ["ST202 Schema-valid request rejected", "Server error"]
        );
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }
}
