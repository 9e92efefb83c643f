//! What a run found and measured: per-operation and per-check counts, the findings, where the requests and the time went, what the budgets cut short and what the cleanup did.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::baseline::{Baseline, Entry, FindingKey, Triage};
use crate::partition::Partition;
use crate::request::Request;
use crate::rules::Rule;
use crate::run_state::{ClientLimit, Identity};
use crate::spec::Operation;
use crate::verdict::{Mismatch, PointerSeen};

/// How often one check applied to one operation's responses, and how that went. A check that
/// did not apply neither passed nor failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckCounts {
    pub applied: u64,
    pub failed: u64,
    pub not_applicable: u64,
    /// Time the check spent judging these responses (case phase), whether it applied or not.
    pub time: Duration,
}

impl CheckCounts {
    pub fn passed(&self) -> u64 {
        self.applied - self.failed
    }

    fn add(&mut self, other: &CheckCounts) {
        self.applied += other.applied;
        self.failed += other.failed;
        self.not_applicable += other.not_applicable;
        self.time += other.time;
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

impl OperationStats {
    /// `200×12 422×3`, or `-` when nothing answered.
    pub(crate) fn statuses_text(&self) -> String {
        counted(&self.statuses)
    }

    /// `request_echo×2`, or `-` when nothing failed.
    pub(crate) fn failures_text(&self) -> String {
        counted(&self.failures_by_check)
    }
}

/// Each key with its count, `key×n`, space-separated; `-` for none.
fn counted<K: std::fmt::Display>(counts: &BTreeMap<K, u64>) -> String {
    if counts.is_empty() {
        return "-".to_owned();
    }
    counts
        .iter()
        .map(|(k, n)| format!("{k}×{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One group of failures that mean the same (see [`group_pointer`]), shrunk: `mismatch` is its
/// example, the failure shrinking ended on (or the first seen when it was not shrunk).
#[derive(Debug, Clone)]
pub struct Finding {
    pub check: &'static str,
    pub operation: Operation,
    pub mismatch: Mismatch,
    /// The group's pointer: the example's with each array index and each key the spec names
    /// nowhere as `*`. Equal to the example's pointer when it has neither.
    pub group: String,
    /// Every exact pointer of the group the run saw, in order, each with its occurrences and
    /// the seed of the first case that showed it; empty for findings no case produced.
    pub pointers: Vec<PointerSeen>,
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
    /// For a command sequence, its commands as shrunk, one line each; empty for other cases.
    pub sequence: Vec<String>,
    /// Not shrunk at all: the default shrink budget (groups, or the run's shrinking requests)
    /// was spent; `--shrink all` shrinks it.
    pub not_shrunk: bool,
    /// Shrinking stopped at the default shrink budget's requests for one group.
    pub shrink_capped: bool,
}

/// What the pointer of a failure means: `pointer` with every array index and every key that
/// `known` (the spec's property names, escaped as pointers escape them) does not hold replaced
/// by `*`. Failures of one check on one operation whose pointers differ only there are one
/// finding: the server does the same wrong thing at another index or with another key it was
/// sent or invented, such as `/simulation/simulation_config/x-unknown-ab` and `…/x-unknown-c`.
/// A key the spec names keeps the groups of different fields apart: a wrong `updated_at` and a
/// wrong `status` stay two findings.
pub(crate) fn group_pointer(pointer: &str, known: &BTreeSet<String>) -> String {
    if pointer.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(pointer.len());
    for segment in pointer.split('/').skip(1) {
        out.push('/');
        let index = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
        if index || !known.contains(segment) {
            out.push('*');
        } else {
            out.push_str(segment);
        }
    }
    out
}

/// The property names `document` (an OpenAPI document) declares anywhere, escaped as JSON
/// pointer segments: the keys [`group_pointer`] keeps.
pub(crate) fn spec_property_names(document: &serde_json::Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![document];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                    names.extend(
                        properties
                            .keys()
                            .map(|k| k.replace('~', "~0").replace('/', "~1")),
                    );
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    names
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

/// What the default shrink budget left undone (none of it under `--shrink all`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShrinkSkipped {
    /// Findings reported as first seen, not shrunk at all.
    pub not_shrunk: u64,
    /// Findings whose shrinking stopped at a group's request budget.
    pub capped: u64,
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
    /// What the default shrink budget did not shrink.
    pub shrink_skipped: ShrinkSkipped,
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
    /// Per rule and situation (`crate::coverage::RULES`), how many responses of the case phase
    /// a check asserted the rule on in that situation. Shrinking and cleanup replay or tidy;
    /// they are not counted.
    pub coverage: BTreeMap<(Rule, &'static str), u64>,
    /// The run's seed (`--seed`).
    pub seed: u64,
    /// Where the run sent its requests (`--base-url`); redacted like every output when written.
    pub base_url: String,
    /// When that target lived for this run only (the embedded server): where it ran and how to
    /// bring one back there, said once where the curl lines are printed. Set by the caller.
    pub replay: Option<String>,
    /// The commit under test, when the CI says (`GIT_COMMIT`, `GITHUB_SHA`; see
    /// [`crate::report::commit_from_env`]).
    pub commit: Option<String>,
    /// The slice this run made (`--partition K/N`), if sharded.
    pub partition: Option<Partition>,
    /// The indices of the run's cases this run drew from `seed` (every one unsharded, the
    /// slice's with `--partition`), regression replays apart.
    pub case_indices: Vec<u64>,
    /// The findings against the baseline of known failures; `None` without one.
    pub baseline: Option<Triage>,
    /// What the infrastructure did: 429s waited out, failures retried, an unhealthy target.
    pub gateway: crate::gateway::GatewayStats,
    /// Scenarios given up because a request failed on every retry or could not be retried
    /// within the deadline: not judged, not counted in `cases`.
    pub abandoned_cases: u64,
    /// Panics of the suite (a case's task, a shrink): each is reported, and the run still
    /// cleans up and writes its reports before it ends with exit code 2.
    pub internal_errors: Vec<String>,
    /// Outputs of the run itself that could not be written (the regressions file): one line
    /// each, said after the report and the cleanup, and the run ends with exit code 2.
    pub output_errors: Vec<String>,
    /// Cases the run drew: regression replays and its cases (its slice's, when sharded). Each
    /// is judged (`cases`) or counted in `not_judged` with its reason.
    pub drawn: u64,
    /// Cases drawn but not judged, per reason.
    pub not_judged: BTreeMap<NotJudged, u64>,
    /// The spec's request fields the suite cannot model, one line each
    /// ([`crate::spec::Spec::warnings`]): judged by the generic checks only.
    pub spec_warnings: Vec<String>,
}

/// Why a case the run drew was not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotJudged {
    /// Skipped before it ran: its creates did not fit the user's own `--max-creates`.
    CreateCap,
    /// Not started: `--fail-fast` stopped the run at its first failure.
    FailFast,
    /// A 429's wait reached past the time budget.
    Throttled,
    /// The time budget (`--max-time`) ended the case phase first.
    Deadline,
    /// The target was unhealthy: a request failed on every retry, later cases were not started.
    Unhealthy,
    /// A create's retry after an infrastructure failure would have passed `--max-creates`.
    CreateRetryCap,
    /// The suite panicked on it (its own bug).
    Internal,
}

impl NotJudged {
    /// The name the JSON summary uses.
    pub fn name(self) -> &'static str {
        match self {
            NotJudged::CreateCap => "max_creates_cap",
            NotJudged::FailFast => "fail_fast",
            NotJudged::Throttled => "throttled",
            NotJudged::Deadline => "deadline",
            NotJudged::Unhealthy => "target_unhealthy",
            NotJudged::CreateRetryCap => "create_retry_past_max_creates",
            NotJudged::Internal => "internal_error",
        }
    }

    /// Whether the user asked for it, so it does not make the run incomplete: the cap a shared
    /// QA team sets (`--max-creates`), and `--fail-fast` (whose run fails anyway).
    pub(crate) fn asked_for(self) -> bool {
        matches!(self, NotJudged::CreateCap | NotJudged::FailFast)
    }
}

/// What a run's outcome means for a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every drawn case judged (bar the user's own caps), no failure that fails the run.
    Pass,
    /// A failure the baseline does not know, or an expired entry (exit 1), whatever else.
    Fail,
    /// No failure, but not every drawn case was judged, or the target was unhealthy (exit 3):
    /// the target could not be tested, which is not a pass.
    Incomplete,
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
    /// Creates without the run's tag whose answer was lost: the records they may have made
    /// cannot be proven the run's, so they were not looked for or deleted.
    pub unproven: Vec<crate::run_state::Unproven>,
    /// The search for the run's tag did not finish (an error or an answer that was not a
    /// list): records of tagged creates whose answer was lost may be left.
    pub search_incomplete: bool,
}

impl Cleanup {
    /// How many records the lost attempts of unproven creates may have made.
    pub(crate) fn possibly_left_behind(&self) -> u64 {
        self.unproven.iter().map(|u| u64::from(u.attempts)).sum()
    }

    /// Whether the run may have left records on the service.
    pub(crate) fn left_anything(&self) -> bool {
        !self.left_over.is_empty() || !self.unproven.is_empty() || self.search_incomplete
    }
}

impl Report {
    pub fn failures(&self) -> usize {
        self.findings.len()
    }

    /// Whether finding `i` is a known failure, and the baseline entry that knows it.
    pub fn known(&self, i: usize) -> Option<&Entry> {
        self.baseline.as_ref()?.known.get(&i)
    }

    /// Failures the baseline does not know: the ones that fail the run.
    pub(crate) fn new_failures(&self) -> usize {
        self.findings.len() - self.known_failures()
    }

    pub(crate) fn known_failures(&self) -> usize {
        self.baseline.as_ref().map_or(0, |t| t.known.len())
    }

    /// Whether the run fails (exit 1): a failure the baseline does not know, or an expired entry.
    pub fn failed(&self) -> bool {
        self.new_failures() > 0
            || self
                .baseline
                .as_ref()
                .is_some_and(|t| !t.expired.is_empty())
    }

    /// Cases not judged for a reason the user did not ask for.
    pub fn incomplete(&self) -> bool {
        self.not_judged
            .iter()
            .any(|(reason, n)| *n > 0 && !reason.asked_for())
    }

    /// The gate's verdict: failures first, then whether the run tested what it drew.
    pub fn verdict(&self) -> Verdict {
        if self.failed() {
            Verdict::Fail
        } else if self.incomplete() || self.gateway.unhealthy.is_some() {
            Verdict::Incomplete
        } else {
            Verdict::Pass
        }
    }

    /// The exit code of `cargo xtask contract` for this report: 2 for a file the run could not
    /// write (regressions) or a panic of the suite, 1 for failures, 3 for a run that could not
    /// test what it drew, else 0. An output written after the report (JUnit, Markdown) that
    /// fails to write also makes it 2, which the outputs written before cannot say.
    pub fn exit_code(&self) -> u8 {
        if !self.output_errors.is_empty() {
            return 2;
        }
        match self.verdict() {
            Verdict::Fail => 1,
            _ if !self.internal_errors.is_empty() => 2,
            Verdict::Incomplete => 3,
            Verdict::Pass => 0,
        }
    }

    /// Why a run that did not test all it drew ended so: the unhealthy target's line, or the
    /// judged line (`incomplete: judged 0 of 20 cases (…)`); `None` for a complete run.
    pub fn ended_because(&self) -> Option<String> {
        match &self.gateway.unhealthy {
            Some(unhealthy) => Some(unhealthy.line()),
            None if self.incomplete() => self.judged_line(),
            None => None,
        }
    }

    /// What one reason means, in words: a throttled case names the longest `Retry-After`.
    pub(crate) fn not_judged_detail(&self, reason: NotJudged) -> String {
        match reason {
            NotJudged::CreateCap => "at the --max-creates cap, as asked".into(),
            NotJudged::FailFast => "not started after the first failure (--fail-fast)".into(),
            NotJudged::Throttled => match self.gateway.longest_refused_retry_after {
                Some(after) => format!(
                    "throttled, a 429's Retry-After of {} s reaches past the time budget",
                    after.as_secs()
                ),
                None => "throttled, waiting out the 429s reaches past the time budget".into(),
            },
            NotJudged::Deadline => format!(
                "the time budget (--max-time {} s) ran out",
                self.max_time.as_secs()
            ),
            NotJudged::Unhealthy => "the target is unhealthy".into(),
            NotJudged::CreateRetryCap => {
                "a create's retry after a gateway failure would pass --max-creates".into()
            }
            NotJudged::Internal => "an internal error of the suite".into(),
        }
    }

    /// `judged 3 of 2000 cases (1997 not judged: throttled, …)`, with every reason and its count
    /// when there are several; `None` when every drawn case was judged.
    pub fn judged_line(&self) -> Option<String> {
        let reasons: Vec<(NotJudged, u64)> = self
            .not_judged
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(r, n)| (*r, *n))
            .collect();
        let total: u64 = reasons.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return None;
        }
        let why = match reasons.as_slice() {
            [(reason, _)] => self.not_judged_detail(*reason),
            _ => reasons
                .iter()
                .map(|(reason, n)| format!("{n} {}", self.not_judged_detail(*reason)))
                .collect::<Vec<_>>()
                .join("; "),
        };
        Some(format!(
            "{}judged {} of {} ({total} not judged: {why})",
            if self.incomplete() {
                "incomplete: "
            } else {
                ""
            },
            self.cases,
            crate::text::plural(self.drawn, "case", "cases")
        ))
    }

    /// One check's counts over every operation.
    pub(crate) fn check_counts(&self, check: &str) -> CheckCounts {
        let mut total = CheckCounts::default();
        for stats in self.per_operation.values() {
            if let Some(counts) = stats.checks.get(check) {
                total.add(counts);
            }
        }
        total
    }
}

/// The runner's side of the baseline: the triage reads a finished `Report`, which the baseline
/// (below the runner) never names.
impl Baseline {
    /// [`Baseline::triage`] on a finished run's findings and checks.
    pub fn triage_report(&self, report: &Report, today: chrono::NaiveDate) -> Triage {
        let keys: Vec<FindingKey<'_>> = report
            .findings
            .iter()
            .map(|f| FindingKey {
                check: f.check,
                operation: f.operation.id(),
                pointer: &f.mismatch.pointer,
                group: &f.group,
                pointers: &f.pointers,
            })
            .collect();
        self.triage(&keys, &report.checks_run, today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Triage;

    fn drawn(cases: u64, not_judged: &[(NotJudged, u64)]) -> Report {
        let not_judged: BTreeMap<NotJudged, u64> = not_judged.iter().copied().collect();
        Report {
            cases,
            drawn: cases + not_judged.values().sum::<u64>(),
            not_judged,
            max_time: Duration::from_secs(1800),
            ..Report::default()
        }
    }

    fn finding() -> Finding {
        Finding {
            check: "request_echo",
            operation: Operation::Create,
            mismatch: Mismatch {
                pointer: "/x".into(),
                expected: "1".into(),
                received: "2".into(),
            },
            request: Request {
                operation: Operation::Create,
                method: "POST".into(),
                path_and_query: "/workflows/v1/simulations".into(),
                content_type: None,
                body: crate::request::Body::Empty,
                auth: crate::request::Auth::Primary,
            },
            curl: String::new(),
            status: Some(200),
            seed_hex: String::new(),
            occurrences: 1,
            shrink_steps: 0,
            flaky: false,
            shrink_cut_short: false,
            sequence: Vec::new(),
            group: "/x".into(),
            pointers: Vec::new(),
            not_shrunk: false,
            shrink_capped: false,
        }
    }

    #[test]
    fn every_drawn_case_judged_passes_and_the_users_own_caps_do_not_make_it_incomplete() {
        let all = drawn(2000, &[]);
        assert_eq!(all.verdict(), Verdict::Pass);
        assert_eq!(all.judged_line(), None);
        let capped = drawn(300, &[(NotJudged::CreateCap, 367)]);
        assert_eq!(capped.verdict(), Verdict::Pass);
        assert_eq!(
            capped.judged_line().as_deref(),
            Some("judged 300 of 667 cases (367 not judged: at the --max-creates cap, as asked)")
        );
    }

    #[test]
    fn a_case_not_judged_for_any_other_reason_makes_the_run_incomplete() {
        for reason in [
            NotJudged::Throttled,
            NotJudged::Deadline,
            NotJudged::Unhealthy,
            NotJudged::CreateRetryCap,
            NotJudged::Internal,
        ] {
            let report = drawn(1999, &[(reason, 1)]);
            assert_eq!(report.verdict(), Verdict::Incomplete, "{reason:?}");
            assert!(
                report
                    .judged_line()
                    .unwrap()
                    .starts_with("incomplete: judged 1999 of 2000 cases (1 not judged: "),
                "{reason:?}"
            );
        }
        let mut throttled = drawn(
            3,
            &[(NotJudged::Throttled, 1990), (NotJudged::CreateCap, 7)],
        );
        throttled.gateway.longest_refused_retry_after = Some(Duration::from_secs(3600));
        assert_eq!(throttled.verdict(), Verdict::Incomplete);
        assert_eq!(
            throttled.judged_line().as_deref(),
            Some(
                "incomplete: judged 3 of 2000 cases (1997 not judged: 7 at the --max-creates cap, as asked; 1990 throttled, a 429's Retry-After of 3600 s reaches past the time budget)"
            )
        );
    }

    #[test]
    fn failures_outrank_an_incomplete_run_and_an_unhealthy_target_is_incomplete() {
        let mut failed = drawn(3, &[(NotJudged::Throttled, 1997)]);
        failed.findings.push(finding());
        assert_eq!(failed.verdict(), Verdict::Fail);
        assert!(failed.incomplete(), "and the incompleteness is still said");
        let mut known = failed.clone();
        known.baseline = Some(Triage {
            known: [(
                0,
                Entry {
                    check: "request_echo".into(),
                    operation: "create_simulation".into(),
                    pointer: "/x".into(),
                    reason: "known".into(),
                    expires: chrono::NaiveDate::from_ymd_opt(2999, 1, 1).unwrap(),
                },
            )]
            .into(),
            ..Triage::default()
        });
        assert_eq!(
            known.verdict(),
            Verdict::Incomplete,
            "a known failure does not fail it"
        );
        let mut unhealthy = drawn(10, &[]);
        unhealthy.gateway.unhealthy = Some(crate::gateway::Unhealthy {
            first: "GET /x: timeout on all 4 attempts".into(),
            requests: 1,
        });
        assert_eq!(unhealthy.verdict(), Verdict::Incomplete);
    }

    #[test]
    fn pointers_differing_by_an_index_or_a_key_the_spec_does_not_name_group_together() {
        let spec = serde_json::json!({"components": {"schemas": {
            "Sim": {"properties": {"simulation": {"properties": {
                "simulation_config": {"properties": {"status": {}, "a/b": {}}},
                "updated_at": {}
            }}, "simulations": {"items": {"$ref": "#"}}}}
        }}});
        let known = spec_property_names(&spec);
        assert!(known.contains("a~1b"), "{known:?}");
        let group = |p: &str| group_pointer(p, &known);
        assert_eq!(
            group("/simulation/simulation_config/x-unknown-ab"),
            "/simulation/simulation_config/*"
        );
        assert_eq!(
            group("/simulation/simulation_config/x-unknown-ab"),
            group("/simulation/simulation_config/x-unknown-")
        );
        assert_eq!(
            group("/simulations/12/updated_at"),
            "/simulations/*/updated_at"
        );
        assert_eq!(group(""), "");
        assert_eq!(
            group("/simulation/simulation_config/a~1b"),
            "/simulation/simulation_config/a~1b"
        );
        assert_ne!(
            group("/simulation/simulation_config/status"),
            group("/simulation/updated_at"),
            "fields the spec names stay apart"
        );
        assert_ne!(
            group("/simulation/simulation_config/status"),
            group("/simulation/simulation_config/x-unknown-a"),
            "a named field is not an unknown key"
        );
    }
}
