//! `cargo xtask bench`: measures the suite against the loopback limit and against Schemathesis (`measure`, `schemathesis`), then writes bench/RESULTS.md from those measurements alone (`render`).

mod measure;
mod model;
mod render;
mod schemathesis;

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::codegen::workspace_root;

#[derive(Debug, clap::Args)]
#[command(after_help = crate::cli::BENCH_AFTER_HELP)]
pub struct BenchArgs {
    /// Smaller budgets (for trying the command out)
    #[arg(long)]
    quick: bool,
    /// Leave out the race with Schemathesis
    #[arg(long)]
    no_schemathesis: bool,
}

/// How much each measurement runs.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    quick: bool,
    raw_requests: u64,
    suite_cases: u64,
    suite_cases_serial: u64,
    /// Seeds 1..=n of the default run, each run this many times.
    default_run_seeds: u64,
    default_run_repetitions: u64,
    qa_cases: u64,
    qa_latency: Duration,
    detection_seeds: u64,
    detection_cases: u64,
    race_seeds: u64,
    /// Schemathesis' `--max-examples`; the suite gets as many cases as Schemathesis generated.
    race_examples: u64,
    /// Thread CPU each isolated stage runs for, so 10 ms ticks stay a small error.
    stage_cpu: Duration,
}

const FULL: Budget = Budget {
    quick: false,
    raw_requests: 20_000,
    suite_cases: 10_000,
    suite_cases_serial: 2_000,
    default_run_seeds: 3,
    default_run_repetitions: 3,
    qa_cases: 1_000,
    qa_latency: Duration::from_millis(20),
    detection_seeds: 5,
    detection_cases: 4_000,
    race_seeds: 5,
    race_examples: 50,
    stage_cpu: Duration::from_secs(1),
};

const QUICK: Budget = Budget {
    quick: true,
    raw_requests: 2_000,
    suite_cases: 1_000,
    suite_cases_serial: 200,
    default_run_seeds: 3,
    default_run_repetitions: 1,
    qa_cases: 100,
    qa_latency: Duration::from_millis(5),
    detection_seeds: 2,
    detection_cases: 2_000,
    race_seeds: 1,
    race_examples: 5,
    stage_cpu: Duration::from_millis(200),
};

/// `cargo xtask bench`; run through `release::run_optimised`, since benchmarks of unoptimised
/// code measure the compiler, not the suite.
pub fn bench(args: BenchArgs) -> Result<ExitCode> {
    let budget = if args.quick { QUICK } else { FULL };
    let schemathesis = !args.no_schemathesis;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let measurements = runtime.block_on(measure::measure(&budget, schemathesis))?;
    let results = render::render(&measurements);
    let path = workspace_root().join("bench/RESULTS.md");
    std::fs::write(&path, &results).with_context(|| format!("cannot write {}", path.display()))?;
    println!("{results}");
    println!("wrote bench/RESULTS.md");
    Ok(ExitCode::SUCCESS)
}
