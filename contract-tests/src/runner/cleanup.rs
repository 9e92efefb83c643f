//! The cleanup phase: delete what the run created, and only that. Every candidate is read back first and deleted only if it still carries the run's mark; a searched record without the tag is a finding.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tokio::task::JoinSet;

use super::{CLEANUP_SEARCH_MATCHES_TAG, Cleanup, CutShort, Finding, Run};
use crate::exchange::{Created, Mismatch};
use crate::http::{Pacer, Target, curl_line};
use crate::listing::{ListFilter, page_size};
use crate::spec::{Api, Operation};

impl Run {
    /// Deletes what the run created, and only that, within the time budget.
    ///
    /// Candidates are the ids the run's creates answered with, plus records a search for the
    /// run's tag returns that carry the tag (a create whose response was lost). A create whose
    /// answer was lost and whose body had no tag may have left a record that nothing tells from
    /// a same-key client's identical one: it is reported (`Cleanup::unproven`), never looked
    /// for or deleted (the rule in `exchange::Unproven`). Before each delete
    /// the record is read back: it must still carry the run's mark (the tag, or the `created_at`
    /// its create answered with), else it is reported and left alone. A searched record without
    /// the tag is a finding, never something to delete.
    pub(super) async fn cleanup(&self, cut_short: &mut CutShort) -> (Cleanup, Vec<Finding>) {
        let recorded: Vec<Created> = self.state.created.lock().expect("not poisoned").clone();
        let mut candidates: BTreeMap<String, Option<String>> =
            recorded.into_iter().map(|c| (c.id, c.created_at)).collect();
        let mut outcome = Cleanup::default();
        let mut findings = Vec::new();
        let mut pending: BTreeSet<String> = BTreeSet::new();
        let finished = tokio::time::timeout_at(self.deadline, async {
            let (stranger, complete) = self.search_own_records(&mut candidates).await;
            findings.extend(stranger);
            outcome.search_incomplete = !complete;
            pending.extend(candidates.keys().cloned());
            self.delete_all(candidates, &mut outcome, &mut pending)
                .await;
        })
        .await;
        if finished.is_err() {
            cut_short.cleanup = true;
            outcome.left_over.extend(pending);
        }
        outcome.left_over.sort();
        outcome.not_ours.sort();
        // Never looked for, never deleted: see `exchange::Unproven`.
        outcome.unproven = self.state.unproven.lock().expect("not poisoned").clone();
        (outcome, findings)
    }

    /// Lists the run's tag and adds the tagged records to `candidates`; any record the search
    /// returns without the tag comes back as a finding. Also says whether the search went to
    /// its last page (a failed or malformed page ends it early).
    async fn search_own_records(
        &self,
        candidates: &mut BTreeMap<String, Option<String>>,
    ) -> (Option<Finding>, bool) {
        let mut complete = false;
        let tag = self.state.run_tag.as_str();
        let mut strangers: Vec<String> = Vec::new();
        let mut first_request = None;
        let size = page_size(&self.spec.api, 100);
        for page in 1..=20 {
            let filter = ListFilter {
                search: Some(tag.to_owned()),
                ..Default::default()
            };
            let request = self.spec.api.list(&filter.query(size, page));
            self.pacer.wait().await;
            let Ok(response) = self.target.send(&request).await else {
                break;
            };
            first_request.get_or_insert(request);
            let Some(listed) = response
                .json
                .as_ref()
                .filter(|_| response.is_success())
                .and_then(|j| j["simulations"].as_array().cloned())
            else {
                break;
            };
            for record in &listed {
                let Some(id) = record["_id"].as_str() else {
                    continue;
                };
                if candidates.contains_key(id) {
                    continue;
                }
                if carries_tag(record, tag) {
                    candidates.insert(id.to_owned(), None);
                } else {
                    strangers.push(id.to_owned());
                }
            }
            if (listed.len() as u64) < size {
                complete = true;
                break;
            }
        }
        if strangers.is_empty() {
            return (None, complete);
        }
        let request = first_request.expect("a record came from some page");
        let shown: Vec<&str> = strangers.iter().take(5).map(String::as_str).collect();
        let finding = Finding {
            check: CLEANUP_SEARCH_MATCHES_TAG,
            operation: Operation::List,
            mismatch: Mismatch {
                pointer: "/simulations".into(),
                expected: format!(
                    "only simulations whose logical_id or description contains {} (none of the others was deleted)",
                    crate::text::quoted(tag)
                ),
                received: format!(
                    "{} without it, e.g. {}",
                    crate::text::plural(strangers.len(), "simulation", "simulations"),
                    shown.join(", ")
                ),
            },
            curl: curl_line(
                &self.options.base_url,
                &request,
                &self.options.token,
                self.options.other_team_token.as_ref(),
            ),
            status: Some(200),
            request,
            seed_hex: String::new(),
            occurrences: strangers.len() as u64,
            shrink_steps: 0,
            flaky: false,
            shrink_cut_short: false,
            sequence: Vec::new(),
        };
        (Some(finding), complete)
    }

    /// Reads, checks, deletes and reads back each candidate, `concurrency` at a time.
    async fn delete_all(
        &self,
        candidates: BTreeMap<String, Option<String>>,
        outcome: &mut Cleanup,
        pending: &mut BTreeSet<String>,
    ) {
        let mut queue = candidates.into_iter();
        let mut in_flight = JoinSet::new();
        loop {
            while in_flight.len() < self.options.concurrency.max(1) {
                let Some((id, created_at)) = queue.next() else {
                    break;
                };
                let (target, pacer) = (self.target.clone(), self.pacer.clone());
                let (spec, tag) = (self.spec.clone(), self.state.run_tag.clone());
                in_flight.spawn(async move {
                    let verdict =
                        delete_if_ours(&target, &pacer, &spec.api, &id, &tag, created_at).await;
                    (id, verdict)
                });
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            let Ok((id, verdict)) = joined else {
                continue;
            };
            pending.remove(&id);
            match verdict {
                Deletion::Deleted => outcome.deleted += 1,
                Deletion::AlreadyGone => outcome.already_gone += 1,
                Deletion::NotOurs => outcome.not_ours.push(id),
                Deletion::LeftOver => outcome.left_over.push(id),
            }
        }
    }
}

/// What became of one cleanup candidate.
pub(super) enum Deletion {
    Deleted,
    AlreadyGone,
    NotOurs,
    LeftOver,
}

/// Whether a listed or read simulation carries the run's tag where the run writes it: in the
/// fields a search looks in.
fn carries_tag(simulation: &Value, tag: &str) -> bool {
    crate::exchange::config_carries_tag(&simulation["simulation_config"], tag)
}

/// Reads `id` back and deletes it only if it is still the record the run made, then reads
/// again to see it gone.
pub(super) async fn delete_if_ours(
    target: &Target,
    pacer: &Pacer,
    api: &Api,
    id: &str,
    tag: &str,
    created_at: Option<String>,
) -> Deletion {
    pacer.wait().await;
    let before = target.send(&api.get(id)).await;
    let record = match before {
        Ok(r) if r.status == 404 => return Deletion::AlreadyGone,
        Ok(r) if r.is_success() => r.json.map(|j| j["simulation"].clone()),
        _ => return Deletion::LeftOver,
    };
    let Some(record) = record else {
        return Deletion::LeftOver;
    };
    let same_id = record["_id"].as_str() == Some(id);
    let same_creation =
        created_at.is_some() && record["created_at"].as_str() == created_at.as_deref();
    if !same_id || !(same_creation || carries_tag(&record, tag)) {
        return Deletion::NotOurs;
    }
    pacer.wait().await;
    let deleted = target.send(&api.delete(id)).await.map(|r| r.status);
    pacer.wait().await;
    let after = target.send(&api.get(id)).await.map(|r| r.status);
    match (deleted, after) {
        (Ok(200..=299), Ok(404)) => Deletion::Deleted,
        (Ok(404), Ok(404)) => Deletion::AlreadyGone,
        _ => Deletion::LeftOver,
    }
}
