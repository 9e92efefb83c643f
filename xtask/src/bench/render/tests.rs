//! The report renders from measurements alone: synthetic measurements give a known report (`expected-report.md`; `SNAPSHOTS=overwrite` rewrites it), and changing one measured value changes the report exactly where that value is shown.

use std::collections::BTreeSet;
use std::time::Duration;

use super::render;
use crate::bench::model::{
    Context, DefaultRun, DefaultRunRepetition, DefaultRunSeed, Detection, FaultDetection,
    FaultSample, FirstCounted, IsolatedStage, LadderStep, LoadAverage, Measurements, MixName,
    Profile, QaRun, Race, RaceRun, RawBody, RawRun, Section, SeedDetection, Signature, Stage,
    StageWall, Step, SuiteRun, Tool,
};

// The integration tests' snapshot helper, one copy for the crate.
#[path = "../../../tests/it/support/snapshot.rs"]
mod snapshot;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn signature(check: &str, operation: &str, location: Option<&str>) -> Signature {
    Signature {
        check: check.into(),
        operation: operation.into(),
        location: location.map(str::to_owned),
    }
}

/// Seed `seed` of the default run, one repetition per wall time, all passing.
fn default_seed(seed: u64, walls_ms: &[u64], requests: u64) -> DefaultRunSeed {
    DefaultRunSeed {
        seed,
        repetitions: walls_ms
            .iter()
            .map(|&wall| DefaultRunRepetition {
                run_wall: ms(wall),
                cases: 2000,
                requests,
                failures: 0,
                process_cpu: Some(ms(wall * 3 / 2)),
            })
            .collect(),
    }
}

#[allow(clippy::too_many_arguments)]
fn race_run(
    tool: Tool,
    fault: Option<&str>,
    seed: u64,
    concurrency: usize,
    cases: u64,
    command_ms: u64,
    reported_ms: u64,
    signatures: &[Signature],
) -> RaceRun {
    RaceRun {
        tool,
        fault: fault.map(str::to_owned),
        seed,
        concurrency,
        cases,
        requests: Some(cases * 2),
        command_wall: ms(command_ms),
        reported: Some(ms(reported_ms)),
        signatures: signatures.iter().cloned().collect::<BTreeSet<_>>(),
    }
}

/// A seed that caught its fault at case `cases` after `ms` on the runner's clock.
fn caught_at(cases: u64, elapsed_ms: u64, check: &str) -> SeedDetection {
    SeedDetection {
        elapsed: ms(elapsed_ms),
        caught: Some(FirstCounted {
            cases: Some(cases),
            check: check.into(),
        }),
    }
}

fn escaped(elapsed_ms: u64) -> SeedDetection {
    SeedDetection {
        elapsed: ms(elapsed_ms),
        caught: None,
    }
}

/// Round numbers, so every figure in the expected report can be checked by hand.
fn synthetic() -> Measurements {
    let alarm = signature(
        "ST201 Schema-violating request accepted",
        "POST /x",
        Some("in body - timeout_seconds: Incorrect type"),
    );
    let server_error = signature("ST101 Server error", "POST /x", None);
    let echo = signature("request_echo", "create_simulation", Some("/simulation/a"));
    let mut runs = Vec::new();
    for seed in [1, 2] {
        for concurrency in [1, 4] {
            runs.push(race_run(
                Tool::Schemathesis,
                None,
                seed,
                concurrency,
                100,
                2000,
                1000,
                if seed == 1 {
                    std::slice::from_ref(&alarm)
                } else {
                    &[]
                },
            ));
            runs.push(race_run(
                Tool::Suite,
                None,
                seed,
                concurrency,
                100,
                500,
                100,
                &[],
            ));
        }
        runs.push(race_run(
            Tool::Schemathesis,
            Some("crash"),
            seed,
            4,
            90,
            2000,
            1000,
            &[alarm.clone(), server_error.clone()],
        ));
        runs.push(race_run(
            Tool::Suite,
            Some("crash"),
            seed,
            4,
            90,
            500,
            100,
            std::slice::from_ref(&echo),
        ));
        // Only the known false alarm: not credited.
        runs.push(race_run(
            Tool::Schemathesis,
            Some("quiet"),
            seed,
            4,
            80,
            2000,
            1000,
            std::slice::from_ref(&alarm),
        ));
        runs.push(race_run(
            Tool::Suite,
            Some("quiet"),
            seed,
            4,
            80,
            500,
            100,
            if seed == 1 {
                std::slice::from_ref(&echo)
            } else {
                &[]
            },
        ));
    }
    Measurements {
        context: Context {
            started_utc: "2030-01-02 03:04 UTC".into(),
            suite_version: "9.8.7".into(),
            release_build: true,
            commit: Some("abc1234".into()),
            cores: 2,
            arch: "x86_64".into(),
            cpu_model: Some("Test CPU".into()),
            load_start: LoadAverage {
                one_minute: 0.5,
                five_minutes: 0.25,
                fifteen_minutes: 0.125,
            },
            quick: false,
        },
        raw: vec![
            RawRun {
                body: RawBody::SmallCreate,
                concurrency: 1,
                requests: 1000,
                wall: ms(500),
                process_cpu: Some(ms(400)),
            },
            RawRun {
                body: RawBody::SmallCreate,
                concurrency: 4,
                requests: 4000,
                wall: ms(1000),
                process_cpu: Some(ms(2000)),
            },
            RawRun {
                body: RawBody::SuiteRequests,
                concurrency: 4,
                requests: 2000,
                wall: ms(1000),
                process_cpu: Some(ms(2000)),
            },
        ],
        suite: vec![
            SuiteRun {
                mix: MixName::CreateOnly,
                seed: 1,
                concurrency: 1,
                cases: 500,
                requests: 500,
                case_phase_wall: ms(1000),
                run_wall: ms(1100),
                process_cpu: Some(ms(1000)),
                summed_wall: StageWall {
                    generation: ms(100),
                    http: ms(800),
                    checks: ms(100),
                },
            },
            SuiteRun {
                mix: MixName::CreateOnly,
                seed: 1,
                concurrency: 4,
                cases: 2000,
                requests: 2000,
                case_phase_wall: ms(2000),
                run_wall: ms(2000),
                process_cpu: Some(ms(4000)),
                summed_wall: StageWall {
                    generation: ms(200),
                    http: ms(7600),
                    checks: ms(200),
                },
            },
            SuiteRun {
                mix: MixName::Full,
                seed: 1,
                concurrency: 4,
                cases: 500,
                requests: 1500,
                case_phase_wall: ms(1000),
                run_wall: ms(1000),
                process_cpu: Some(ms(2000)),
                summed_wall: StageWall::default(),
            },
        ],
        default_run: DefaultRun {
            cases_asked: 2000,
            concurrency: 4,
            shrink_budget: 200,
            seeds: vec![
                default_seed(1, &[1000, 1200, 1100], 9000),
                default_seed(2, &[1500, 1400, 1600], 9500),
                default_seed(3, &[900, 1000, 960], 8800),
            ],
        },
        profile: Profile {
            seed: 1,
            concurrency: 4,
            steps: vec![
                LadderStep {
                    step: Step::Bare,
                    cases: 2000,
                    requests: 2000,
                    wall: ms(1000),
                    process_cpu: Some(ms(2000)),
                },
                LadderStep {
                    step: Step::Transport,
                    cases: 2000,
                    requests: 2000,
                    wall: ms(1200),
                    process_cpu: Some(ms(2400)),
                },
                LadderStep {
                    step: Step::Drawing,
                    cases: 2000,
                    requests: 2000,
                    wall: ms(1800),
                    process_cpu: Some(ms(3600)),
                },
                LadderStep {
                    step: Step::Checks,
                    cases: 2000,
                    requests: 2000,
                    wall: ms(1900),
                    process_cpu: Some(ms(3800)),
                },
                LadderStep {
                    step: Step::Runner,
                    cases: 2000,
                    requests: 2000,
                    wall: ms(2000),
                    process_cpu: Some(ms(4000)),
                },
            ],
            isolated: vec![
                IsolatedStage {
                    stage: Stage::Draw,
                    iterations: 4000,
                    thread_cpu: Some(ms(1200)),
                },
                IsolatedStage {
                    stage: Stage::SerialiseBody,
                    iterations: 100_000,
                    thread_cpu: Some(ms(1000)),
                },
                IsolatedStage {
                    stage: Stage::ParseResponse,
                    iterations: 50_000,
                    thread_cpu: Some(ms(1000)),
                },
                IsolatedStage {
                    stage: Stage::Checks,
                    iterations: 20_000,
                    thread_cpu: None,
                },
            ],
        },
        qa: vec![
            QaRun {
                latency: ms(20),
                cases: 100,
                concurrency: 1,
                rate_cap_per_second: None,
                case_phase_wall: ms(2000),
            },
            QaRun {
                latency: ms(20),
                cases: 100,
                concurrency: 4,
                rate_cap_per_second: Some(50.0),
                case_phase_wall: ms(500),
            },
        ],
        detection: Detection {
            concurrency: 4,
            case_budget: 300,
            seeds: vec![1, 2, 3],
            sample: FaultSample::FirstPerRuleGroup,
            catalog: 9,
            faithful_failures: vec![0, 0, 0],
            faults: vec![
                FaultDetection {
                    fault: "crash".into(),
                    rules: vec!["never.5xx".into(), "create.status".into()],
                    per_seed: vec![
                        caught_at(10, 5, "not_a_server_error"),
                        caught_at(30, 9, "status_code_conformance"),
                        caught_at(20, 7, "not_a_server_error"),
                    ],
                },
                FaultDetection {
                    fault: "quiet".into(),
                    rules: vec!["create.echo".into()],
                    per_seed: vec![
                        escaped(400),
                        caught_at(200, 50, "request_echo"),
                        escaped(600),
                    ],
                },
            ],
        },
        race: Ok(Race {
            schemathesis_version: "1.2.3".into(),
            max_examples: 7,
            seeds: vec![1, 2],
            fault_seeds: vec![1, 2],
            concurrency: 4,
            sample: FaultSample::Whole,
            catalog: 2,
            runs,
        }),
        first_run: Some("first-run.sh said: cold 600 s\nwarm 3 s\n".into()),
        load_end: LoadAverage {
            one_minute: 1.5,
            five_minutes: 1.0,
            fifteen_minutes: 0.75,
        },
        sections: vec![
            (Section::Raw, ms(2_000)),
            (Section::Suite, ms(10_000)),
            (Section::DefaultRun, ms(30_000)),
            (Section::Profile, ms(20_000)),
            (Section::Qa, ms(11_000)),
            (Section::Detection, ms(40_000)),
            (Section::Race, ms(10_000)),
        ],
        total_wall: ms(123_000),
    }
}

#[test]
fn synthetic_measurements_render_the_expected_report() {
    snapshot::assert_snapshot("src/bench/render/expected-report.md", &render(&synthetic()));
}

/// The lines of `after` that differ from `before`, which must have as many lines.
fn changed_lines(before: &str, after: &str) -> Vec<String> {
    let (before, after): (Vec<&str>, Vec<&str>) =
        (before.lines().collect(), after.lines().collect());
    assert_eq!(before.len(), after.len(), "{after:?}");
    before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(_, a)| (*a).to_owned())
        .collect()
}

#[test]
fn a_changed_measurement_changes_the_report_where_it_is_shown() {
    let base = synthetic();
    let before = render(&base);

    // The raw loop at concurrency 4 took twice as long: its rate halves, and so does the
    // ratio that divides by it; nothing else moves.
    let mut slower = base.clone();
    slower.raw[1].wall = ms(2000);
    let changed = changed_lines(&before, &render(&slower));
    assert_eq!(
        changed,
        [
            "| one small valid create, repeated | 4 | 4000 | 2.00 | 2000 | 500 µs | 1.00 |",
            "| concurrency 4, raw: one small valid create, repeated | 1000 | 2000 | 0.50 |",
            "At concurrency 4 the ratio is **0.50**: it meets the goal of 0.5.",
        ]
    );

    // The load average at the end is read, not written in.
    let mut loaded = base.clone();
    loaded.load_end.one_minute = 3.25;
    let changed = changed_lines(&before, &render(&loaded));
    assert_eq!(changed.len(), 1);
    assert!(
        changed[0].contains("3.25, 1.00, 0.75 at the end"),
        "{changed:?}"
    );

    // A debug build says so.
    let mut debug = base.clone();
    debug.context.release_build = false;
    let changed = changed_lines(&before, &render(&debug));
    assert_eq!(changed.len(), 1);
    assert!(
        changed[0].contains("a debug build of contract-tests 9.8.7"),
        "{changed:?}"
    );

    // Schemathesis' version is the one measured.
    let mut version = base.clone();
    if let Ok(race) = &mut version.race {
        race.schemathesis_version = "4.0.0".into();
    }
    let changed = changed_lines(&before, &render(&version));
    assert_eq!(changed.len(), 1);
    assert!(
        changed[0].starts_with("Schemathesis 4.0.0 (as `st --version`"),
        "{changed:?}"
    );

    // A Schemathesis fault run that reports only its known false alarm is not credited.
    let mut quiet = base.clone();
    if let Ok(race) = &mut quiet.race {
        for run in &mut race.runs {
            if run.tool == Tool::Schemathesis && run.fault.as_deref() == Some("crash") {
                run.signatures.retain(|s| s.check.starts_with("ST201"));
            }
        }
    }
    let changed = changed_lines(&before, &render(&quiet));
    assert_eq!(
        changed,
        [
            "| crash | 2/2 | 180 | 0/2 | 180 | - |",
            "Of 2 faults, this suite catches 1 on every seed (2 on at least one); Schemathesis catches 0 on every seed (0 on at least one).",
        ]
    );
}

#[test]
fn the_default_run_shows_its_measurements_and_its_verdict() {
    let base = synthetic();
    let before = render(&base);

    // Seed 1's slowest repetition is slower still: only its max moves, not its median.
    let mut slower = base.clone();
    slower.default_run.seeds[0].repetitions[1].run_wall = ms(1300);
    let changed = changed_lines(&before, &render(&slower));
    assert_eq!(
        changed,
        ["| 1 | 3 | 1.10 | 1.30 | 2000 | 9000 | 0 | 1.65 |"]
    );

    // One repetition of seed 3 sent more requests: its row shows the spread.
    let mut more = base.clone();
    more.default_run.seeds[2].repetitions[2].requests = 8900;
    let changed = changed_lines(&before, &render(&more));
    assert_eq!(
        changed,
        ["| 3 | 3 | 0.96 | 1.00 | 2000 | 8800–8900 | 0 | 1.44 |"]
    );

    // Seed 2's median past the goal: its row, the worst median and the verdict flip.
    let mut late = base.clone();
    for (r, wall) in late.default_run.seeds[1]
        .repetitions
        .iter_mut()
        .zip([2700, 2500, 2800])
    {
        r.run_wall = ms(wall);
    }
    let changed = changed_lines(&before, &render(&late));
    assert_eq!(
        changed,
        [
            "| 2 | 3 | 2.70 | 2.80 | 2000 | 9500 | 0 | 2.25 |",
            "The worst median is **2.70 s** (seed 2): it misses the goal of 2.6 s.",
        ]
    );
    // Exactly at the goal still meets it.
    late.default_run.seeds[1].repetitions[0].run_wall = ms(2600);
    assert!(
        render(&late)
            .contains("The worst median is **2.60 s** (seed 2): it meets the goal of 2.6 s."),
        "{}",
        render(&late)
    );

    // A failing faithful run is reported, in its row and in a line of its own.
    let mut failing = base.clone();
    failing.default_run.seeds[2].repetitions[0].failures = 2;
    let changed = changed_lines(&before, &render(&failing));
    assert_eq!(
        changed,
        [
            "| 3 | 3 | 0.96 | 1.00 | 2000 | 8800 | 0–2 | 1.44 |",
            "**1 of 9 runs failed** against the faithful server (1 on seed 3): a failing run shrinks its failures, so its wall time is not a passing run's.",
        ]
    );
}

#[test]
fn a_missing_first_run_file_and_a_skipped_race_say_so() {
    let mut m = synthetic();
    m.first_run = None;
    m.race = Err("--no-schemathesis".into());
    let text = render(&m);
    assert!(
        text.contains("`bench/first-run.txt` does not exist: run `bench/first-run.sh`"),
        "{text}"
    );
    assert!(
        text.contains("## 6. Schemathesis side by side\n\nNot run: --no-schemathesis."),
        "{text}"
    );
}

#[test]
fn detection_shows_what_the_kill_rule_credited_and_which_faults_ran() {
    let base = synthetic();
    let before = render(&base);

    // A seed that escaped is now caught: its fault's row moves, nothing else but the count.
    let mut caught = base.clone();
    caught.detection.faults[1].per_seed[0] = caught_at(100, 400, "request_echo");
    caught.detection.faults[1].per_seed[2] = caught_at(300, 600, "request_echo");
    let changed = changed_lines(&before, &render(&caught));
    assert_eq!(
        changed,
        [
            "| quiet | create.echo | 3/3 | 200 | 0.40 | request_echo |",
            "2 of 2 faults caught on every seed; the faithful server passed on every seed (3 runs, 0 failures). The fault runs took 1.1 s on the runner's clock.",
        ]
    );

    // A failing faithful run is reported, not hidden.
    let mut failing = base.clone();
    failing.detection.faithful_failures[1] = 2;
    let changed = changed_lines(&before, &render(&failing));
    assert_eq!(changed.len(), 1);
    assert!(
        changed[0].contains("**the faithful server failed** (2 on seed 2)"),
        "{changed:?}"
    );

    // The whole catalog says so instead of the sample's rule.
    let mut whole = base.clone();
    whole.detection.sample = FaultSample::Whole;
    let changed = changed_lines(&before, &render(&whole));
    assert_eq!(changed.len(), 1);
    assert!(
        changed[0].starts_with(
            "`cargo xtask mutants`' runs and kill rule, timed, on every fault of the catalog (2); seeds 1–3"
        ),
        "{changed:?}"
    );
}

#[test]
fn the_race_headline_is_the_equal_concurrency_of_the_fault_runs() {
    let mut m = synthetic();
    let text = render(&m);
    let headline = "**Headline: at equal concurrency 4** (Schemathesis `--workers 4`, the suite `--concurrency 4`)";
    assert!(text.contains(headline), "{text}");
    // The headline comes before the other concurrency's line.
    let at_one = text
        .find("At concurrency 1 this suite runs")
        .expect("concurrency 1");
    assert!(text.find(headline).expect("headline") < at_one);
    // Another headline concurrency is read from the race, not written in.
    if let Ok(race) = &mut m.race {
        race.concurrency = 1;
    }
    let text = render(&m);
    assert!(
        text.contains("**Headline: at equal concurrency 1**"),
        "{text}"
    );
    assert!(text.contains("At concurrency 4 this suite runs"), "{text}");
}
