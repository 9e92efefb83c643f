//! bench/RESULTS.md from a `Measurements`: a pure function, so every number and every verdict in the report is a measured value or computed from them here.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use super::model::{
    Context, DefaultRun, Detection, FaultSample, LoadAverage, Measurements, MixName, Profile,
    QaRun, Race, RaceRun, RawBody, RawRun, Section, Signature, Stage, Step, SuiteRun, Tool,
};

/// The project's goal for a create-only case: at most twice the CPU of a bare request.
const RATIO_GOAL: f64 = 0.5;

/// Issue 13's baseline, quoted from the issue: the wall time of a default release run before
/// the state machine joined the default mix.
const DEFAULT_RUN_BEFORE_MACHINE: Duration = Duration::from_millis(1300);
/// Issue 13's goal: the default run stays within this factor of that baseline.
const DEFAULT_RUN_FACTOR: u32 = 2;
const DEFAULT_RUN_GOAL: Duration = DEFAULT_RUN_BEFORE_MACHINE.saturating_mul(DEFAULT_RUN_FACTOR);

/// The report. No I/O, no clock: the same measurements always give the same text.
pub fn render(m: &Measurements) -> String {
    let mut out = String::new();
    header(&mut out, &m.context, m.load_end);
    first_run(&mut out, m.first_run.as_deref());
    raw_section(&mut out, &m.raw);
    suite_section(&mut out, &m.suite);
    default_run_section(&mut out, &m.default_run);
    ratio_section(&mut out, m);
    qa_section(&mut out, &m.qa);
    detection_section(&mut out, &m.detection);
    match &m.race {
        Ok(race) => race_section(&mut out, race),
        Err(why) => {
            let _ = writeln!(out, "## 6. Schemathesis side by side\n\nNot run: {why}.\n");
        }
    }
    sections_table(&mut out, &m.sections);
    let _ = writeln!(
        out,
        "Total benchmark time: {:.0} s.",
        m.total_wall.as_secs_f64()
    );
    out
}

fn section_name(section: Section) -> &'static str {
    match section {
        Section::Raw => "1. the raw loopback limit",
        Section::Suite => "2. the suite",
        Section::DefaultRun => "2b. the default run",
        Section::Profile => "3. where a case's CPU goes",
        Section::Qa => "4. a simulated QA run",
        Section::Detection => "5. time to detection",
        Section::Race => "6. Schemathesis side by side (its install included when it ran)",
    }
}

fn sections_table(out: &mut String, sections: &[(Section, Duration)]) {
    let _ = writeln!(
        out,
        "## Time per section\n\nWall time of each section of this run.\n\n| section | wall (s) |\n|---|---:|"
    );
    for (section, wall) in sections {
        let _ = writeln!(out, "| {} | {:.0} |", section_name(*section), secs(*wall));
    }
    let _ = writeln!(out);
}

fn load(l: LoadAverage) -> String {
    format!(
        "{:.2}, {:.2}, {:.2}",
        l.one_minute, l.five_minutes, l.fifteen_minutes
    )
}

fn header(out: &mut String, c: &Context, load_end: LoadAverage) {
    let _ = writeln!(out, "# Benchmark results\n");
    let build = if c.release_build { "release" } else { "debug" };
    let commit = c
        .commit
        .as_deref()
        .map_or(String::new(), |h| format!(", commit {h}"));
    let cpu = c
        .cpu_model
        .as_deref()
        .map_or(String::new(), |m| format!(" ({m})"));
    let budgets = if c.quick {
        " with `--quick` (small budgets: a try-out, not a result)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "Written by `cargo xtask bench`{budgets} on {}: a {build} build of contract-tests {}{commit}, on {} cores{cpu}, {}.",
        c.started_utc, c.suite_version, c.cores, c.arch
    );
    let _ = writeln!(
        out,
        "Load average (1, 5, 15 min) from /proc/loadavg: {} at the start, {} at the end; other work on the machine shares its cores with every run below.",
        load(c.load_start),
        load(load_end)
    );
    let _ = writeln!(
        out,
        "Every number below comes from this run, except section 0, copied from the last run of `bench/first-run.sh`. The embedded reference server runs inside the measuring process, so process CPU includes the server's.\n"
    );
}

fn first_run(out: &mut String, text: Option<&str>) {
    let _ = writeln!(
        out,
        "## 0. First run and rerun (from `bench/first-run.sh`, not from this run)\n"
    );
    match text {
        Some(text) => {
            let _ = writeln!(
                out,
                "The last output of `bench/first-run.sh` (a fresh clone, empty `target/`, `cargo fetch` first), copied verbatim from `bench/first-run.txt`:\n\n```text\n{}\n```\n",
                text.trim_end()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "`bench/first-run.txt` does not exist: run `bench/first-run.sh` to measure a cold first run, a warm rerun, a clean build of the workspace and the tests.\n"
            );
        }
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn rate(count: u64, d: Duration) -> f64 {
    count as f64 / d.as_secs_f64()
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn per(d: Option<Duration>, count: u64) -> Option<Duration> {
    d.filter(|_| count > 0).map(|d| d / count as u32)
}

fn micros_or_na(d: Option<Duration>) -> String {
    d.map_or("n/a".to_owned(), micros)
}

/// Seconds of CPU per second of wall time: how many cores the process kept busy.
fn busy(cpu: Option<Duration>, wall: Duration) -> String {
    cpu.map_or("n/a".to_owned(), |c| {
        format!("{:.2}", c.as_secs_f64() / wall.as_secs_f64())
    })
}

fn body_name(body: RawBody) -> &'static str {
    match body {
        RawBody::SmallCreate => "one small valid create, repeated",
        RawBody::SuiteRequests => "the suite's create-only requests (section 3), replayed",
    }
}

fn mix_name(mix: MixName) -> &'static str {
    match mix {
        MixName::CreateOnly => "create only",
        MixName::Full => "full stateful mix",
    }
}

fn raw_section(out: &mut String, raw: &[RawRun]) {
    let _ = writeln!(out, "## 1. The raw loopback limit\n");
    let _ = writeln!(
        out,
        "Plain reqwest in a tight loop: no generation, no validation; each response body is read, not parsed. One unmeasured pass first, so the process is as warm as for every figure after it.\n"
    );
    let _ = writeln!(
        out,
        "| body | concurrency | requests | wall (s) | requests/s | process CPU per request | cores busy (CPU s / wall s) |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for r in raw {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2} | {:.0} | {} | {} |",
            body_name(r.body),
            r.concurrency,
            r.requests,
            secs(r.wall),
            rate(r.requests, r.wall),
            micros_or_na(per(r.process_cpu, r.requests)),
            busy(r.process_cpu, r.wall)
        );
    }
    let _ = writeln!(out);
}

fn suite_section(out: &mut String, suite: &[SuiteRun]) {
    let _ = writeln!(out, "## 2. The suite\n");
    let _ = writeln!(
        out,
        "`runner::run` against a fresh embedded server, no cleanup. Rates use the case phase on the runner's clock (first case drawn to last judged); process CPU and cores busy span the whole call (spec load and preflight included).\n"
    );
    let _ = writeln!(
        out,
        "| mix | seed | concurrency | cases | requests | case phase (s) | cases/s | requests/s | process CPU per case | cores busy |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in suite {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.2} | {:.0} | {:.0} | {} | {} |",
            mix_name(r.mix),
            r.seed,
            r.concurrency,
            r.cases,
            r.requests,
            secs(r.case_phase_wall),
            rate(r.cases, r.case_phase_wall),
            rate(r.requests, r.case_phase_wall),
            micros_or_na(per(r.process_cpu, r.cases)),
            busy(r.process_cpu, r.run_wall)
        );
    }
    let _ = writeln!(out);
}

/// One number when every run agrees, else `min–max`.
fn spread(values: impl IntoIterator<Item = u64>) -> String {
    let values: Vec<u64> = values.into_iter().collect();
    match (values.iter().min(), values.iter().max()) {
        (Some(min), Some(max)) if min == max => min.to_string(),
        (Some(min), Some(max)) => format!("{min}–{max}"),
        _ => "-".to_owned(),
    }
}

fn default_run_section(out: &mut String, d: &DefaultRun) {
    let _ = writeln!(
        out,
        "## 2b. The default run
"
    );
    let _ = writeln!(
        out,
        "`cargo xtask contract` with no flags, in this release build: `runner::run` with the command's default options ({} cases, concurrency {}, shrinking up to {} executions a failure, cleanup on, the committed regression seeds replayed first), each run against its own fresh embedded server, without progress output. Wall time spans the whole call: spec load, preflight, cases, shrinking and cleanup. `cargo xtask contract` itself runs in the `xtask` profile, which `cargo xtask` builds instead of a release build; its rerun is in section 0.\n",
        d.cases_asked, d.concurrency, d.shrink_budget
    );
    let _ = writeln!(
        out,
        "The goal (issue 13): at most {:.1} s of wall time, {DEFAULT_RUN_FACTOR}× the {:.1} s that a default release run took before the state machine was added.\n",
        secs(DEFAULT_RUN_GOAL),
        secs(DEFAULT_RUN_BEFORE_MACHINE),
    );
    if d.seeds.is_empty() {
        let _ = writeln!(out, "Not run.\n");
        return;
    }
    let _ = writeln!(
        out,
        "| seed | runs | wall, median (s) | wall, max (s) | cases | requests | failures | process CPU, median (s) |\n|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let mut worst: Option<(u64, f64)> = None;
    let (mut runs, mut failed) = (0, Vec::new());
    for s in &d.seeds {
        let walls: Vec<f64> = s.repetitions.iter().map(|r| secs(r.run_wall)).collect();
        let max = walls.iter().copied().fold(f64::NAN, f64::max);
        let wall = median(walls);
        if !wall.is_nan() && worst.is_none_or(|(_, w)| w < wall) {
            worst = Some((s.seed, wall));
        }
        let cpu: Option<Vec<f64>> = s
            .repetitions
            .iter()
            .map(|r| r.process_cpu.map(secs))
            .collect();
        runs += s.repetitions.len();
        let failing = s.repetitions.iter().filter(|r| r.failures > 0).count();
        if failing > 0 {
            failed.push((s.seed, failing));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.seed,
            s.repetitions.len(),
            optional(wall, 2),
            optional(max, 2),
            spread(s.repetitions.iter().map(|r| r.cases)),
            spread(s.repetitions.iter().map(|r| r.requests)),
            spread(s.repetitions.iter().map(|r| r.failures as u64)),
            cpu.map_or("n/a".to_owned(), |c| optional(median(c), 2)),
        );
    }
    let _ = writeln!(out);
    if let Some((seed, wall)) = worst {
        let verdict = if wall <= secs(DEFAULT_RUN_GOAL) {
            "meets"
        } else {
            "misses"
        };
        let _ = writeln!(
            out,
            "The worst median is **{wall:.2} s** (seed {seed}): it {verdict} the goal of {:.1} s.",
            secs(DEFAULT_RUN_GOAL)
        );
    }
    if failed.is_empty() {
        let _ = writeln!(out, "Every run passed: 0 failures in {runs} runs.\n");
    } else {
        let _ = writeln!(
            out,
            "**{} of {runs} runs failed** against the faithful server ({}): a failing run shrinks its failures, so its wall time is not a passing run's.\n",
            failed.iter().map(|(_, n)| n).sum::<usize>(),
            failed
                .iter()
                .map(|(seed, n)| format!("{n} on seed {seed}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

fn find_raw(raw: &[RawRun], body: RawBody, concurrency: usize) -> Option<&RawRun> {
    raw.iter()
        .find(|r| r.body == body && r.concurrency == concurrency)
}

fn find_suite(suite: &[SuiteRun], mix: MixName, concurrency: usize) -> Option<&SuiteRun> {
    suite
        .iter()
        .find(|r| r.mix == mix && r.concurrency == concurrency)
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Bare => "bare: the captured requests, plain reqwest",
        Step::Transport => "+ the suite's transport (pre-drawn scenarios through `Target::send`)",
        Step::Drawing => "+ drawing each scenario from its seed, in its task",
        Step::Checks => "+ every check on every response",
        Step::Runner => {
            "`runner::run` (+ the runner's per-case tasks and bookkeeping; spec load and preflight included)"
        }
    }
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Draw => "drawing a create-only scenario (proptest value trees)",
        Stage::SerialiseBody => "serialising the request body",
        Stage::ParseResponse => "reading a response: redaction and JSON parsing",
        Stage::Checks => "every check on one exchange",
    }
}

fn ratio_section(out: &mut String, m: &Measurements) {
    let _ = writeln!(out, "## 3. Suite vs raw\n");
    let _ = writeln!(
        out,
        "The goal: a create-only case costs at most twice a bare request, a ratio of suite cases/s to raw requests/s of at least {RATIO_GOAL}.\n"
    );
    let _ = writeln!(
        out,
        "| create only | suite cases/s | raw requests/s | ratio |\n|---|---:|---:|---:|"
    );
    let mut headline = None;
    let mut concurrencies: Vec<usize> = m
        .suite
        .iter()
        .filter(|r| r.mix == MixName::CreateOnly)
        .map(|r| r.concurrency)
        .collect();
    concurrencies.sort_unstable();
    for concurrency in concurrencies {
        let (Some(suite), Some(raw)) = (
            find_suite(&m.suite, MixName::CreateOnly, concurrency),
            find_raw(&m.raw, RawBody::SmallCreate, concurrency),
        ) else {
            continue;
        };
        let ours = rate(suite.cases, suite.case_phase_wall);
        let theirs = rate(raw.requests, raw.wall);
        let _ = writeln!(
            out,
            "| concurrency {concurrency}, raw: {} | {ours:.0} | {theirs:.0} | {:.2} |",
            body_name(raw.body),
            ours / theirs
        );
        headline = Some((concurrency, ours / theirs));
    }
    // The replay sends a case's requests (a probe reads back what it created), so its rate is
    // counted in cases, like the suite's.
    if let Some(bare) = m.profile.steps.iter().find(|s| s.step == Step::Bare)
        && let Some(suite) = find_suite(&m.suite, MixName::CreateOnly, m.profile.concurrency)
    {
        let ours = rate(suite.cases, suite.case_phase_wall);
        let theirs = rate(bare.cases, bare.wall);
        let _ = writeln!(
            out,
            "| concurrency {}, raw: {} ({} requests for {} cases; raw rate in cases/s) | {ours:.0} | {theirs:.0} | {:.2} |",
            m.profile.concurrency,
            body_name(RawBody::SuiteRequests),
            bare.requests,
            bare.cases,
            ours / theirs
        );
    }
    if let Some((concurrency, ratio)) = headline {
        let verdict = if ratio >= RATIO_GOAL {
            "meets"
        } else {
            "misses"
        };
        let _ = writeln!(
            out,
            "\nAt concurrency {concurrency} the ratio is **{ratio:.2}**: it {verdict} the goal of {RATIO_GOAL}.\n"
        );
    } else {
        let _ = writeln!(out);
    }
    profile_section(out, &m.profile, m.context.cores);
    if let Some(suite) = find_suite(&m.suite, MixName::CreateOnly, m.profile.concurrency) {
        stage_wall(out, suite);
    }
}

fn profile_section(out: &mut String, p: &Profile, cores: usize) {
    let _ = writeln!(
        out,
        "### Where a case's CPU goes\n\nThe same {} create-only cases (seed {}, concurrency {}), each step adding one part of the suite; every step has a fresh server. Process CPU includes the server, whose work is the same in every step. The steps before the runner keep nothing of a case once it is done, as the runner does not, except the transport step (the requests, for the bare replay, and the first cases' exchanges, for the stages alone below), which runs once unmeasured first.\n",
        p.steps.first().map_or(0, |s| s.cases),
        p.seed,
        p.concurrency
    );
    let _ = writeln!(
        out,
        "| step | requests | wall (s) | cases/s | process CPU per case | added by this step | cores busy |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    let mut previous: Option<Duration> = None;
    let mut largest: Option<(Step, Duration)> = None;
    for s in &p.steps {
        let cpu = per(s.process_cpu, s.cases);
        let added = match (previous, cpu) {
            (Some(before), Some(now)) => {
                let delta = now.as_secs_f64() - before.as_secs_f64();
                if delta > 0.0 && largest.is_none_or(|(_, d)| d.as_secs_f64() < delta) {
                    largest = Some((s.step, Duration::from_secs_f64(delta)));
                }
                format!("{:+.0} µs", delta * 1e6)
            }
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.0} | {} | {added} | {} |",
            step_name(s.step),
            s.requests,
            secs(s.wall),
            rate(s.cases, s.wall),
            micros_or_na(cpu),
            busy(s.process_cpu, s.wall)
        );
        previous = cpu;
    }
    let _ = writeln!(
        out,
        "\nThe same stages alone, on one thread away from the network (thread CPU):\n"
    );
    let _ = writeln!(
        out,
        "| stage | iterations | thread CPU per iteration |\n|---|---:|---:|"
    );
    for s in &p.isolated {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            stage_name(s.stage),
            s.iterations,
            micros_or_na(per(s.thread_cpu, s.iterations))
        );
    }
    let _ = writeln!(out);
    let find = |step: Step| p.steps.iter().find(|s| s.step == step);
    if let (Some(bare), Some(runner)) = (find(Step::Bare), find(Step::Runner))
        && let (Some(bare_cpu), Some(runner_cpu)) = (
            per(bare.process_cpu, bare.cases),
            per(runner.process_cpu, runner.cases),
        )
    {
        let bound = bare_cpu.as_secs_f64() / runner_cpu.as_secs_f64();
        let _ = writeln!(
            out,
            "What holds the ratio: a case costs {} of process CPU where plain reqwest replaying the same requests costs {} a case; at the same cores busy (bare {}, runner {} of {cores}) that alone caps the ratio at {bound:.2}.",
            micros(runner_cpu),
            micros(bare_cpu),
            busy(bare.process_cpu, bare.wall),
            busy(runner.process_cpu, runner.wall),
        );
        if let Some((step, delta)) = largest {
            let _ = writeln!(
                out,
                "The largest addition is \"{}\", {} per case.",
                step_name(step),
                micros(delta)
            );
        }
        // What the goal would allow, so a reader sees how far the stages are from it.
        let allowed = bare_cpu.as_secs_f64() / RATIO_GOAL;
        let _ = writeln!(
            out,
            "For a ratio of {RATIO_GOAL} at the same cores busy, a case may cost {}, {} more than the bare request; the suite adds {}.\n",
            micros(Duration::from_secs_f64(allowed)),
            micros(Duration::from_secs_f64(allowed - bare_cpu.as_secs_f64())),
            micros(Duration::from_secs_f64(
                (runner_cpu.as_secs_f64() - bare_cpu.as_secs_f64()).max(0.0)
            ))
        );
    }
}

fn stage_wall(out: &mut String, r: &SuiteRun) {
    let t = r.summed_wall;
    let total = (t.generation + t.http + t.checks).as_secs_f64();
    let _ = writeln!(
        out,
        "The runner's own stage timers in section 2's create-only run at concurrency {}: wall time summed over cases, so waiting at concurrency adds up; not CPU.\n",
        r.concurrency
    );
    let _ = writeln!(out, "| stage | summed wall (s) | share |\n|---|---:|---:|");
    for (stage, d) in [
        ("drawing the case", t.generation),
        ("HTTP, request to response (server included)", t.http),
        ("checks", t.checks),
    ] {
        let _ = writeln!(
            out,
            "| {stage} | {:.3} | {:.1} % |",
            secs(d),
            100.0 * secs(d) / total
        );
    }
    let _ = writeln!(out);
}

fn qa_section(out: &mut String, qa: &[QaRun]) {
    let _ = writeln!(out, "## 4. A simulated QA run\n");
    let Some(first) = qa.first() else {
        let _ = writeln!(out, "Not run.\n");
        return;
    };
    let _ = writeln!(
        out,
        "The reference server sleeps {} ms before every response; create-only cases; wall time of the case phase.\n",
        first.latency.as_millis()
    );
    let _ = writeln!(
        out,
        "| concurrency | rate cap | cases | case phase (s) | speed-up over the first row |\n|---:|---|---:|---:|---:|"
    );
    for r in qa {
        let cap = r
            .rate_cap_per_second
            .map_or("none".to_owned(), |c| format!("{c:.0}/s"));
        let _ = writeln!(
            out,
            "| {} | {cap} | {} | {:.2} | {:.1}× |",
            r.concurrency,
            r.cases,
            secs(r.case_phase_wall),
            secs(first.case_phase_wall) / secs(r.case_phase_wall)
        );
    }
    let _ = writeln!(out);
}

pub fn median(mut values: Vec<f64>) -> f64 {
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

/// `seed 1`, or `seeds 1–3`.
fn seeds(seeds: &[u64]) -> String {
    let word = if seeds.len() == 1 { "seed" } else { "seeds" };
    format!("{word} {}", seed_list(seeds))
}

/// `a–b` for consecutive seeds, else a comma list.
fn seed_list(seeds: &[u64]) -> String {
    match seeds {
        [] => "none".to_owned(),
        [one] => one.to_string(),
        [first, .., last] if seeds.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("{first}–{last}")
        }
        _ => seeds
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn optional(value: f64, decimals: usize) -> String {
    if value.is_nan() {
        "-".to_owned()
    } else {
        format!("{value:.decimals$}")
    }
}

/// Which faults a section ran, in words.
fn sample_text(sample: FaultSample, ran: usize, catalog: usize) -> String {
    match sample {
        FaultSample::Whole => format!("every fault of the catalog ({ran})"),
        FaultSample::FirstPerRuleGroup => format!(
            "a sample of {ran} of the catalog's {catalog} faults: in catalog order, the first fault whose main rule (its first) is in each rule group (the rule id's part before the dot), one fault per group"
        ),
    }
}

fn detection_section(out: &mut String, d: &Detection) {
    let _ = writeln!(
        out,
        "## 5. Time to detection
"
    );
    let _ = writeln!(
        out,
        "`cargo xtask mutants`' runs and kill rule, timed, on {}; {}, at most {} cases a run, full mix, concurrency {}. Per seed the faithful server runs every case first; each fault's run stops at its first failure and runs again in full when none of its failures counts. A fault is caught on a seed only when its run shows a failure signature (check, operation, pointer) that the faithful run of the same seed does not, of a check that asserts one of the fault's rules. Cases: up to the case the rule credited, median over the seeds that caught the fault; seconds: the runner's time over the runs each verdict needed, median over every seed.\n",
        sample_text(d.sample, d.faults.len(), d.catalog),
        seeds(&d.seeds),
        d.case_budget,
        d.concurrency,
    );
    let _ = writeln!(
        out,
        "| fault | rules | caught | cases (median) | seconds (median) | check credited |\n|---|---|---:|---:|---:|---|"
    );
    let mut every_seed = 0;
    let mut total = Duration::ZERO;
    for f in &d.faults {
        let caught: Vec<_> = f
            .per_seed
            .iter()
            .filter_map(|s| s.caught.as_ref())
            .collect();
        if caught.len() == d.seeds.len() {
            every_seed += 1;
        }
        total += f.per_seed.iter().map(|s| s.elapsed).sum::<Duration>();
        // Each check with the seeds it was credited on, in seed order.
        let mut checks: Vec<(String, Vec<u64>)> = Vec::new();
        for (seed, run) in d.seeds.iter().zip(&f.per_seed) {
            if let Some(first) = &run.caught {
                match checks.iter_mut().find(|(c, _)| *c == first.check) {
                    Some((_, seeds)) => seeds.push(*seed),
                    None => checks.push((first.check.clone(), vec![*seed])),
                }
            }
        }
        let first_checks = match checks.as_slice() {
            [] => "-".to_owned(),
            [(check, _)] => check.clone(),
            _ => checks
                .iter()
                .map(|(c, seeds)| format!("{c} (seed {})", seed_list(seeds)))
                .collect::<Vec<_>>()
                .join(", "),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {}/{} | {} | {} | {first_checks} |",
            f.fault,
            f.rules.join(", "),
            caught.len(),
            d.seeds.len(),
            optional(
                median(
                    caught
                        .iter()
                        .filter_map(|c| c.cases.map(|n| n as f64))
                        .collect()
                ),
                0
            ),
            optional(
                median(f.per_seed.iter().map(|s| secs(s.elapsed)).collect()),
                2
            ),
        );
    }
    let faithful: Vec<String> = d
        .seeds
        .iter()
        .zip(&d.faithful_failures)
        .filter(|(_, n)| **n > 0)
        .map(|(seed, n)| format!("{n} on seed {seed}"))
        .collect();
    let faithful = if faithful.is_empty() {
        format!(
            "the faithful server passed on every seed ({}, 0 failures)",
            contract_tests::text::plural(d.faithful_failures.len(), "run", "runs")
        )
    } else {
        format!(
            "**the faithful server failed** ({}): those signatures were discounted",
            faithful.join(", ")
        )
    };
    let _ = writeln!(
        out,
        "\n{every_seed} of {} faults caught on every seed; {faithful}. The fault runs took {:.1} s on the runner's clock.\n",
        d.faults.len(),
        secs(total)
    );
}

fn tool_name(tool: Tool) -> &'static str {
    match tool {
        Tool::Suite => "this suite",
        Tool::Schemathesis => "Schemathesis",
    }
}

/// A signature as table text: the tools' own words, with `|` escaped so a cell stays one cell.
fn signature_text(s: &Signature) -> String {
    let text = match &s.location {
        Some(at) => format!("{} on {} at {at}", s.check, s.operation),
        None => format!("{} on {}", s.check, s.operation),
    };
    text.replace('|', "\\|")
}

/// The fair rule: per tool and concurrency, the signatures of its faithful runs.
fn false_alarms(race: &Race) -> BTreeMap<(Tool, usize), BTreeMap<Signature, Vec<u64>>> {
    let mut alarms: BTreeMap<(Tool, usize), BTreeMap<Signature, Vec<u64>>> = BTreeMap::new();
    for run in race.runs.iter().filter(|r| r.fault.is_none()) {
        let entry = alarms.entry((run.tool, run.concurrency)).or_default();
        for s in &run.signatures {
            entry.entry(s.clone()).or_default().push(run.seed);
        }
    }
    alarms
}

/// The signatures of a fault run that no faithful run with the same tool and concurrency reported.
fn new_signatures<'a>(
    run: &'a RaceRun,
    faithful: &BTreeMap<(Tool, usize), BTreeMap<Signature, Vec<u64>>>,
) -> Vec<&'a Signature> {
    let known = faithful.get(&(run.tool, run.concurrency));
    run.signatures
        .iter()
        .filter(|s| known.is_none_or(|k| !k.contains_key(*s)))
        .collect()
}

fn race_section(out: &mut String, race: &Race) {
    let _ = writeln!(out, "## 6. Schemathesis side by side\n");
    let _ = writeln!(
        out,
        "Schemathesis {} (as `st --version` reports it) and this suite, each started as a command against a fresh embedded reference server per run. Schemathesis runs with `--max-examples {}` and its default checks; the suite gets as many cases as Schemathesis generated in its run on the same server, seed and concurrency, and is read through `--message-format json`. Neither keeps anything between runs (Schemathesis `--generation-database none`, the suite `--no-regressions`). The faithful server: {}, at concurrency 1 and {}. The faults: {}, on {}, at concurrency {}.\n",
        race.schemathesis_version,
        race.max_examples,
        seeds(&race.seeds),
        race.concurrency,
        sample_text(race.sample, fault_count(race), race.catalog),
        seeds(&race.fault_seeds),
        race.concurrency,
    );
    speed_table(out, race);
    let faithful = false_alarms(race);
    faults_table(out, race, &faithful);
    alarms_table(out, race, &faithful);
}

#[derive(Default)]
struct Totals {
    runs: usize,
    cases: u64,
    requests: Option<u64>,
    command: Duration,
    reported: Option<Duration>,
}

fn speed_table(out: &mut String, race: &Race) {
    let mut totals: BTreeMap<(usize, Tool), Totals> = BTreeMap::new();
    for run in race.runs.iter().filter(|r| r.fault.is_none()) {
        let t = totals.entry((run.concurrency, run.tool)).or_default();
        if t.runs == 0 {
            t.requests = Some(0);
            t.reported = Some(Duration::ZERO);
        }
        t.runs += 1;
        t.cases += run.cases;
        t.command += run.command_wall;
        t.requests = t.requests.zip(run.requests).map(|(a, b)| a + b);
        t.reported = t.reported.zip(run.reported).map(|(a, b)| a + b);
    }
    let _ = writeln!(
        out,
        "### Speed on the faithful server, at equal concurrency\n\nTotals over the seeds. \"Command\" is the wall time of the whole command, process start to exit, for both tools. \"Reported\" is the duration each tool gives for its own run: the suite's `elapsed_seconds` in its JSON summary (after spec load and preflight, its cleanup included), Schemathesis' `running_time` in its NDJSON report (after it loaded the schema; its closing line prints the same). Requests as each tool counts them: the suite's JSON summary, Schemathesis' recorded interactions.\n"
    );
    let _ = writeln!(
        out,
        "| tool | concurrency (`--concurrency` / `--workers`) | runs | cases | requests | command (s) | cases/s by command | reported (s) | cases/s by reported |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for ((concurrency, tool), t) in &totals {
        let reported = t.reported.filter(|d| !d.is_zero());
        let _ = writeln!(
            out,
            "| {} | {concurrency} | {} | {} | {} | {:.2} | {:.0} | {} | {} |",
            tool_name(*tool),
            t.runs,
            t.cases,
            t.requests
                .map_or("not reported".to_owned(), |r| r.to_string()),
            secs(t.command),
            rate(t.cases, t.command),
            reported.map_or("-".to_owned(), |d| format!("{:.2}", secs(d))),
            reported.map_or("-".to_owned(), |d| format!("{:.0}", rate(t.cases, d))),
        );
    }
    let _ = writeln!(out);
    // The headline first: the concurrency the faults ran at, the same for both tools.
    let mut concurrencies: Vec<usize> = totals
        .keys()
        .map(|(c, _)| *c)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    concurrencies.sort_by_key(|&c| c != race.concurrency);
    for concurrency in concurrencies {
        let (Some(ours), Some(theirs)) = (
            totals.get(&(concurrency, Tool::Suite)),
            totals.get(&(concurrency, Tool::Schemathesis)),
        ) else {
            continue;
        };
        let by_command = rate(ours.cases, ours.command) / rate(theirs.cases, theirs.command);
        let by_reported = match (ours.reported, theirs.reported) {
            (Some(a), Some(b)) if !a.is_zero() && !b.is_zero() => format!(
                " ({:.1}× by the durations the tools report)",
                rate(ours.cases, a) / rate(theirs.cases, b)
            ),
            _ => String::new(),
        };
        if concurrency == race.concurrency {
            let _ = writeln!(
                out,
                "**Headline: at equal concurrency {concurrency}** (Schemathesis `--workers {concurrency}`, the suite `--concurrency {concurrency}`), both whole commands timed from start to exit, this suite runs **{by_command:.1}×** Schemathesis' cases per second{by_reported}."
            );
        } else {
            let _ = writeln!(
                out,
                "At concurrency {concurrency} this suite runs {by_command:.1}× Schemathesis' cases per second by command wall time{by_reported}."
            );
        }
    }
    let _ = writeln!(out);
}

/// How many faults the race ran.
fn fault_count(race: &Race) -> usize {
    race.runs
        .iter()
        .filter_map(|r| r.fault.as_deref())
        .collect::<BTreeSet<_>>()
        .len()
}

fn faults_table(
    out: &mut String,
    race: &Race,
    faithful: &BTreeMap<(Tool, usize), BTreeMap<Signature, Vec<u64>>>,
) {
    if fault_count(race) == 0 {
        return;
    }
    let concurrency = race.concurrency;
    let _ = writeln!(
        out,
        "### Faults caught, by the same rule for both tools\n\nA fault counts as caught on a seed when that run reports a failure signature (check and operation, plus the location where the tool gives one) that none of the same tool's faithful runs at the same concurrency reported. Concurrency {concurrency}.\n"
    );
    let _ = writeln!(
        out,
        "| fault | suite caught | suite cases | Schemathesis caught | Schemathesis cases | Schemathesis' new signatures (all seeds) |\n|---|---:|---:|---:|---:|---|"
    );
    let mut faults: Vec<&str> = Vec::new();
    for run in &race.runs {
        if let Some(f) = run.fault.as_deref()
            && !faults.contains(&f)
        {
            faults.push(f);
        }
    }
    let mut every = BTreeMap::<Tool, usize>::new();
    let mut any = BTreeMap::<Tool, usize>::new();
    for fault in &faults {
        let mut cells = Vec::new();
        let mut theirs_new: BTreeSet<&Signature> = BTreeSet::new();
        for tool in [Tool::Suite, Tool::Schemathesis] {
            let runs: Vec<&RaceRun> = race
                .runs
                .iter()
                .filter(|r| {
                    r.tool == tool
                        && r.fault.as_deref() == Some(*fault)
                        && r.concurrency == concurrency
                })
                .collect();
            let caught = runs
                .iter()
                .filter(|r| {
                    let new = new_signatures(r, faithful);
                    if tool == Tool::Schemathesis {
                        theirs_new.extend(new.iter().copied());
                    }
                    !new.is_empty()
                })
                .count();
            if caught == runs.len() && caught > 0 {
                *every.entry(tool).or_default() += 1;
            }
            if caught > 0 {
                *any.entry(tool).or_default() += 1;
            }
            cells.push(format!("{caught}/{}", runs.len()));
            cells.push(runs.iter().map(|r| r.cases).sum::<u64>().to_string());
        }
        let listed = if theirs_new.is_empty() {
            "-".to_owned()
        } else {
            theirs_new
                .iter()
                .map(|s| signature_text(s))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(out, "| {fault} | {} | {listed} |", cells.join(" | "));
    }
    let _ = writeln!(
        out,
        "\nOf {} faults, this suite catches {} on every seed ({} on at least one); Schemathesis catches {} on every seed ({} on at least one).\n",
        faults.len(),
        every.get(&Tool::Suite).copied().unwrap_or(0),
        any.get(&Tool::Suite).copied().unwrap_or(0),
        every.get(&Tool::Schemathesis).copied().unwrap_or(0),
        any.get(&Tool::Schemathesis).copied().unwrap_or(0),
    );
}

fn alarms_table(
    out: &mut String,
    race: &Race,
    faithful: &BTreeMap<(Tool, usize), BTreeMap<Signature, Vec<u64>>>,
) {
    let _ = writeln!(
        out,
        "### False alarms on the faithful server\n\nFailures each tool reported against the faithful server; they are what the rule above discounts.\n"
    );
    let _ = writeln!(
        out,
        "| tool | concurrency | signature | runs that reported it |\n|---|---:|---|---:|"
    );
    let mut keys: BTreeSet<(Tool, usize)> = race
        .runs
        .iter()
        .filter(|r| r.fault.is_none())
        .map(|r| (r.tool, r.concurrency))
        .collect();
    keys.extend(faithful.keys().copied());
    for (tool, concurrency) in keys {
        let runs = race
            .runs
            .iter()
            .filter(|r| r.fault.is_none() && r.tool == tool && r.concurrency == concurrency)
            .count();
        match faithful.get(&(tool, concurrency)).filter(|a| !a.is_empty()) {
            None => {
                let _ = writeln!(
                    out,
                    "| {} | {concurrency} | none | 0/{runs} |",
                    tool_name(tool)
                );
            }
            Some(alarms) => {
                for (signature, seeds) in alarms {
                    let _ = writeln!(
                        out,
                        "| {} | {concurrency} | {} | {}/{runs} (seed {}) |",
                        tool_name(tool),
                        signature_text(signature),
                        seeds.len(),
                        seed_list(seeds)
                    );
                }
            }
        }
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests;
