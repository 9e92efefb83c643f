//! The shrinking phase: each group of failures replayed, one simpler case at a time, while the same check keeps failing in the same group, every replay under a tag of its own and within the shrink, time and create budgets.
//!
//! By default ([`ShrinkScope::Budgeted`]) the first [`SHRINK_GROUPS`] groups are shrunk, each
//! within [`SHRINK_REQUESTS`] requests, and the whole phase within the case phase's requests;
//! the other groups are reported as first seen and counted, so the report can say so.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use futures_util::FutureExt as _;
use proptest::strategy::ValueTree;
use tokio::time::Instant;

use super::cleanup::{Deletion, delete_if_ours};
use super::regressions::hex;
use super::{
    FailureKey, Finding, FirstSeen, Judged, PointerSeen, RESPONSE_RECEIVED, Report, Run,
    SHRINK_GROUPS, SHRINK_REQUESTS, ShrinkScope, group_pointer, judge, tree_for,
};
use crate::http::curl_line;
use crate::run_state::{Created, RunState};
use crate::scenario::Scenario;
use crate::verdict::{Mismatch, Observation};

impl Run {
    /// Shrinks each group of failures in turn, within the shrink budget (`case_requests`, the
    /// case phase's requests, or one group's [`SHRINK_REQUESTS`] if more, bounds the whole
    /// phase by default) and the time budget.
    pub(super) async fn shrink_all(
        &self,
        report: &mut Report,
        distinct: BTreeMap<FailureKey, FirstSeen>,
        case_requests: u64,
    ) {
        let budgeted = self.options.shrink_scope == ShrinkScope::Budgeted;
        // At least one group's worth: a run cut short after a few cases (`--fail-fast`, a
        // deadline) still shrinks its first finding.
        let case_requests = case_requests.max(SHRINK_REQUESTS);
        let started = self.target.sent().total();
        for (n, (key, first)) in distinct.into_iter().enumerate() {
            let spent = self.target.sent().total() - started;
            // The requests this group may spend: `None` is unbounded (`--shrink all`).
            let allowance =
                budgeted.then(|| SHRINK_REQUESTS.min(case_requests - spent.min(case_requests)));
            if budgeted && (n >= SHRINK_GROUPS || allowance == Some(0)) {
                let mut unshrunk = self.unshrunk(&key, first);
                unshrunk.not_shrunk = true;
                report.shrink_skipped.not_shrunk += 1;
                report.findings.push(unshrunk);
                continue;
            }
            // An unhealthy target would make every replay's verdict the gateway's, not the
            // service's: its findings are reported as first seen.
            let shrunk = if Instant::now() < self.work_deadline && !self.target.unhealthy() {
                let shrinking =
                    std::panic::AssertUnwindSafe(self.shrink(&key, first.clone(), allowance));
                match tokio::time::timeout_at(self.work_deadline, shrinking.catch_unwind()).await {
                    Ok(Ok(found)) => Some(found),
                    // A panic while shrinking is the suite's bug: the failure is reported as
                    // first seen, and the run goes on to its cleanup.
                    Ok(Err(payload)) => {
                        report
                            .internal_errors
                            .push(super::panic_text(payload, "shrinking a failure"));
                        None
                    }
                    Err(_) => None,
                }
            } else {
                None
            };
            let found = shrunk.unwrap_or_else(|| {
                let mut unshrunk = self.unshrunk(&key, first);
                unshrunk.shrink_cut_short = true;
                unshrunk
            });
            if found.shrink_cut_short {
                report.cut_short.shrinks_cut += 1;
            }
            if found.shrink_capped {
                report.shrink_skipped.capped += 1;
            }
            report.findings.push(found);
        }
    }

    /// A group reported as first seen.
    fn unshrunk(&self, key: &FailureKey, first: FirstSeen) -> Finding {
        let mut unshrunk = self.finding(key, first.mismatch.clone(), first.observation.clone());
        grouped(&mut unshrunk, &first);
        unshrunk
    }

    /// Replays simpler versions of a failing case, one at a time, while the same check keeps
    /// failing in the same group, and while the group's `allowance` of requests lasts. A
    /// failure that does not recur on replay is reported as first seen, marked flaky.
    async fn shrink(&self, key: &FailureKey, first: FirstSeen, allowance: Option<u64>) -> Finding {
        let (check, operation, group) = (key.0, key.1, key.2.as_str());
        let started = self.target.sent().total();
        let spent_all = || allowance.is_some_and(|a| self.target.sent().total() - started >= a);
        let mut tree = tree_for(&self.strategy, &first.seed);
        let fails = |judged: &Judged| {
            judged
                .failures
                .iter()
                .find(|(c, o, m, _)| {
                    *c == check
                        && *o == operation
                        && (check == RESPONSE_RECEIVED
                            || group_pointer(&m.pointer, &self.known_keys) == group)
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
        let mut best_scenario = tree.current();
        let mut steps = 0;
        let mut cut_short = false;
        let mut capped = false;
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
                if spent_all() {
                    capped = true;
                    break;
                }
                steps += 1;
                let Some(judged) = run_once(tree.current()).await else {
                    cut_short = true;
                    break;
                };
                if let Some(smaller) = fails(&judged) {
                    best = smaller;
                    best_scenario = tree.current();
                    if !tree.simplify() {
                        break;
                    }
                } else if !tree.complicate() {
                    break;
                }
            }
        }
        let mut found = self.finding(key, best.0, best.1);
        grouped(&mut found, &first);
        found.shrink_steps = steps;
        found.shrink_capped = capped;
        found.flaky = self.options.shrink_budget > 0 && !recurs && !cut_short;
        found.shrink_cut_short = cut_short;
        found.sequence = best_scenario.sequence();
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
        // What a replay's lost creates may have left is the final report's to name.
        let unproven = std::mem::take(&mut *replay.unproven.lock().expect("not poisoned"));
        self.state
            .unproven
            .lock()
            .expect("not poisoned")
            .extend(unproven);
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
            curl: curl_line(
                &self.options.base_url,
                &observation.case.request,
                &self.options.token,
                self.options.other_team_token.as_ref(),
            ),
            status: observation.response.as_ref().ok().map(|r| r.status),
            request: observation.case.request,
            group: key.2.clone(),
            pointers: Vec::new(),
            not_shrunk: false,
            shrink_capped: false,
            seed_hex: String::new(),
            occurrences: 1,
            shrink_steps: 0,
            flaky: false,
            shrink_cut_short: false,
            sequence: Vec::new(),
        }
    }
}

/// Gives `finding` its group's first seed, occurrences and exact pointers.
fn grouped(finding: &mut Finding, first: &FirstSeen) {
    finding.seed_hex = hex(&first.seed);
    finding.occurrences = first.occurrences;
    finding.pointers = first
        .pointers
        .iter()
        .map(|(pointer, (occurrences, seed))| PointerSeen {
            pointer: pointer.clone(),
            occurrences: *occurrences,
            seed_hex: hex(seed),
        })
        .collect();
}
