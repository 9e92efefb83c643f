//! `cargo xtask bench`: measures the suite against the loopback limit and against Schemathesis (`measure`, `schemathesis`), then writes bench/RESULTS.md (target/bench/RESULTS.md with `--quick`) from those measurements alone (`render`).

mod measure;
mod model;
mod render;
mod schemathesis;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::codegen::workspace_root;
use model::FaultSample;

#[derive(Debug, clap::Args)]
#[command(after_help = crate::cli::BENCH_AFTER_HELP)]
pub struct BenchArgs {
    /// Smaller budgets (for trying the command out); writes target/bench/RESULTS.md, never the
    /// committed bench/RESULTS.md
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
    detection_sample: FaultSample,
    /// Seeds of the race's faithful runs (speed, and what the fault-credit rule discounts).
    race_seeds: u64,
    /// Seeds of the race's fault runs, each of `race_sample`.
    race_fault_seeds: u64,
    race_sample: FaultSample,
    /// Schemathesis' `--max-examples`; the suite gets as many cases as Schemathesis generated.
    race_examples: u64,
    /// Thread CPU each isolated stage runs for, so 10 ms ticks stay a small error.
    stage_cpu: Duration,
}

/// The full bench: about 20 minutes on 2 cores (measured per section in bench/RESULTS.md's
/// closing lines). The whole catalog is judged by the kill rule on fewer seeds than `mutants`
/// uses; the race runs every fault on one seed, its faithful runs on three.
const FULL: Budget = Budget {
    quick: false,
    raw_requests: 20_000,
    suite_cases: 10_000,
    suite_cases_serial: 2_000,
    default_run_seeds: 3,
    default_run_repetitions: 3,
    qa_cases: 1_000,
    qa_latency: Duration::from_millis(20),
    detection_seeds: 3,
    detection_cases: crate::contract::DEFAULT_CASES,
    detection_sample: FaultSample::Whole,
    race_seeds: 3,
    race_fault_seeds: 1,
    race_sample: FaultSample::Whole,
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
    detection_seeds: 1,
    detection_cases: crate::contract::DEFAULT_CASES,
    detection_sample: FaultSample::FirstPerRuleGroup,
    race_seeds: 1,
    race_fault_seeds: 1,
    race_sample: FaultSample::FirstPerRuleGroup,
    race_examples: 5,
    stage_cpu: Duration::from_millis(200),
};

/// The budget `--quick` asks for, or the full bench's.
fn budget(quick: bool) -> Budget {
    if quick { QUICK } else { FULL }
}

/// Where a run writes its report: the full bench writes the committed bench/RESULTS.md; a
/// `--quick` try-out writes under target/, so it never replaces the committed figures.
pub fn results_path(budget: &Budget) -> PathBuf {
    if budget.quick {
        PathBuf::from("target/bench/RESULTS.md")
    } else {
        PathBuf::from("bench/RESULTS.md")
    }
}

/// `cargo xtask bench`; run through `release::run_optimised`, since benchmarks of unoptimised
/// code measure the compiler, not the suite.
pub fn bench(args: BenchArgs) -> Result<ExitCode> {
    let budget = budget(args.quick);
    let schemathesis = !args.no_schemathesis;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let measurements = runtime.block_on(measure::measure(&budget, schemathesis))?;
    let results = render::render(&measurements);
    let relative = results_path(&budget);
    let path = workspace_root().join(&relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&path, &results).with_context(|| format!("cannot write {}", path.display()))?;
    println!("{results}");
    println!("wrote {}", relative.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_writes_under_target_and_only_the_full_bench_writes_the_committed_file() {
        assert_eq!(
            results_path(&budget(true)),
            PathBuf::from("target/bench/RESULTS.md")
        );
        assert_eq!(
            results_path(&budget(false)),
            PathBuf::from("bench/RESULTS.md")
        );
    }
}
