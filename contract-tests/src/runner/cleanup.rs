//! The cleanup phase: delete what the run created, and only that. A search for the run's tag reads the run's records back a page at a time; each is deleted only if its entry still carries the run's mark, and a second search checks them gone. Records the run saw deleted need nothing, and the few ids the search does not list are read back one by one. A searched record without the tag is a finding.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use tokio::task::JoinSet;

use super::{CLEANUP_SEARCH_MATCHES_TAG, Cleanup, CutShort, Finding, Run};
use crate::http::{Pacer, Target, curl_line};
use crate::listing::{ListFilter, page_size};
use crate::run_state::Created;
use crate::spec::{Api, Operation};
use crate::verdict::Mismatch;

impl Run {
    /// Deletes what the run created, and only that, within the time budget.
    ///
    /// Candidates are the ids the run's creates answered with, plus records a search for the
    /// run's tag returns that carry the tag (a create whose response was lost). A create whose
    /// answer was lost and whose body had no tag may have left a record that nothing tells from
    /// a same-key client's identical one: it is reported (`Cleanup::unproven`), never looked
    /// for or deleted (the rule in `run_state::Unproven`).
    ///
    /// Nothing is deleted that was not read back first, carrying the run's mark (the tag, or
    /// the `created_at` its create answered with); else it is reported and left alone. The
    /// search's pages are that read-back for every record they list (a hundred a request);
    /// once every page is read, those records are deleted and a second search must no longer
    /// list them. An id the search does not list and whose delete the run saw answered (2xx or
    /// 404, its own key) is gone already; any other is read back, deleted and read again one
    /// by one. A searched record without the tag is a finding, never something to delete.
    pub(super) async fn cleanup(&self, cut_short: &mut CutShort) -> (Cleanup, Vec<Finding>) {
        let recorded: Vec<Created> = self.state.created.lock().expect("not poisoned").clone();
        let created: BTreeMap<String, Option<String>> =
            recorded.into_iter().map(|c| (c.id, c.created_at)).collect();
        let mut outcome = Cleanup::default();
        let mut findings = Vec::new();
        let mut pending: BTreeSet<String> = created.keys().cloned().collect();
        let finished = tokio::time::timeout_at(self.deadline, async {
            let search = self.search_own_records(created.len()).await;
            outcome.search_incomplete = !search.complete;
            let (listed, stranger) = self.sort_listed(search, &created);
            findings.extend(stranger);
            pending.extend(listed.keys().cloned());
            let gone = self.state.deleted.lock().expect("not poisoned").clone();
            let mut one_by_one = BTreeMap::new();
            for (id, created_at) in created {
                if listed.contains_key(&id) {
                    continue;
                }
                if gone.contains(&self.spec.api.delete(&id).path_and_query) {
                    pending.remove(&id);
                    outcome.already_gone += 1;
                } else {
                    one_by_one.insert(id, created_at);
                }
            }
            let ours = self.judge_listed(listed, &mut outcome, &mut pending);
            let deleted = self.delete_listed(ours, &mut outcome, &mut pending).await;
            self.confirm_gone(deleted, &mut outcome, &mut pending).await;
            self.delete_all(one_by_one, &mut outcome, &mut pending)
                .await;
        })
        .await;
        if finished.is_err() {
            cut_short.cleanup = true;
            outcome.left_over.extend(pending);
        }
        outcome.left_over.sort();
        outcome.left_over.dedup();
        outcome.not_ours.sort();
        // Never looked for, never deleted: see `run_state::Unproven`.
        outcome.unproven = self.state.unproven.lock().expect("not poisoned").clone();
        (outcome, findings)
    }

    /// Lists the run's tag, every page of it up to a bound that the run's own creates set (a
    /// broken search that answers with the whole team is not read to its end). Says whether the
    /// search went to its last page (a failed or malformed page ends it early).
    async fn search_own_records(&self, created: usize) -> Search {
        let tag = self.state.run_tag.as_str();
        let size = page_size(&self.spec.api, 100);
        let pages = (created as u64 / size).saturating_add(20);
        let mut search = Search::default();
        for page in 1..=pages {
            let filter = ListFilter {
                search: Some(tag.to_owned()),
                ..Default::default()
            };
            let request = self.spec.api.list(&filter.query(size, page));
            self.pacer.wait().await;
            let Ok(response) = self.target.send(&request).await else {
                break;
            };
            search.first_request.get_or_insert(request);
            let Some(listed) = response
                .json
                .as_ref()
                .filter(|_| response.is_success())
                .and_then(|j| j["simulations"].as_array().cloned())
            else {
                break;
            };
            let full = listed.len() as u64 >= size;
            search.records.extend(listed);
            if !full {
                search.complete = true;
                break;
            }
        }
        search
    }

    /// Splits what the search listed into the run's records by id (a created id, or any
    /// record carrying the tag) and a finding for every other record.
    fn sort_listed(
        &self,
        search: Search,
        created: &BTreeMap<String, Option<String>>,
    ) -> (BTreeMap<String, Value>, Option<Finding>) {
        let tag = self.state.run_tag.as_str();
        let mut listed = BTreeMap::new();
        let mut strangers: Vec<String> = Vec::new();
        for record in search.records {
            let Some(id) = record["_id"].as_str().map(str::to_owned) else {
                continue;
            };
            if created.contains_key(&id) || carries_tag(&record, tag) {
                listed.insert(id, record);
            } else if !strangers.contains(&id) {
                strangers.push(id);
            }
        }
        if strangers.is_empty() {
            return (listed, None);
        }
        let request = search.first_request.expect("a record came from some page");
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
            group: "/simulations".into(),
            pointers: Vec::new(),
            not_shrunk: false,
            shrink_capped: false,
        };
        (listed, Some(finding))
    }

    /// The listed records whose entry still carries the run's mark; the others are reported
    /// as not the run's and left alone.
    fn judge_listed(
        &self,
        listed: BTreeMap<String, Value>,
        outcome: &mut Cleanup,
        pending: &mut BTreeSet<String>,
    ) -> Vec<String> {
        let created: BTreeMap<String, Option<String>> = self
            .state
            .created
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|c| (c.id.clone(), c.created_at.clone()))
            .collect();
        let tag = self.state.run_tag.as_str();
        let mut ours = Vec::new();
        for (id, record) in listed {
            let created_at = created.get(&id).cloned().flatten();
            if carries_mark(&record, &id, tag, created_at.as_deref()) {
                ours.push(id);
            } else {
                pending.remove(&id);
                outcome.not_ours.push(id);
            }
        }
        ours
    }

    /// Deletes each of `ids`, `concurrency` at a time, and returns those the service said it
    /// deleted (2xx), still pending until a read shows them gone.
    async fn delete_listed(
        &self,
        ids: Vec<String>,
        outcome: &mut Cleanup,
        pending: &mut BTreeSet<String>,
    ) -> Vec<String> {
        let mut queue = ids.into_iter();
        let mut in_flight = JoinSet::new();
        let mut deleted = Vec::new();
        loop {
            while in_flight.len() < self.options.concurrency.max(1) {
                let Some(id) = queue.next() else {
                    break;
                };
                let (target, pacer, spec) =
                    (self.target.clone(), self.pacer.clone(), self.spec.clone());
                in_flight.spawn(async move {
                    pacer.wait().await;
                    let status = target.send(&spec.api.delete(&id)).await.map(|r| r.status);
                    (id, status)
                });
            }
            let Some(joined) = in_flight.join_next().await else {
                break;
            };
            let Ok((id, status)) = joined else {
                continue;
            };
            match status {
                Ok(200..=299) => deleted.push(id),
                Ok(404) => {
                    pending.remove(&id);
                    outcome.already_gone += 1;
                }
                _ => {
                    pending.remove(&id);
                    outcome.left_over.push(id);
                }
            }
        }
        deleted
    }

    /// Checks that what the service said it deleted is gone: a second search for the tag must
    /// no longer list it. If that search does not finish, each is read back on its own.
    async fn confirm_gone(
        &self,
        deleted: Vec<String>,
        outcome: &mut Cleanup,
        pending: &mut BTreeSet<String>,
    ) {
        if deleted.is_empty() {
            return;
        }
        let search = self.search_own_records(deleted.len()).await;
        if !search.complete {
            for id in deleted {
                self.pacer.wait().await;
                let after = self.target.send(&self.spec.api.get(&id)).await;
                pending.remove(&id);
                match after {
                    Ok(r) if r.status == 404 => outcome.deleted += 1,
                    _ => outcome.left_over.push(id),
                }
            }
            return;
        }
        let still: BTreeSet<&str> = search
            .records
            .iter()
            .filter_map(|r| r["_id"].as_str())
            .collect();
        for id in deleted {
            pending.remove(&id);
            if still.contains(id.as_str()) {
                outcome.left_over.push(id);
            } else {
                outcome.deleted += 1;
            }
        }
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

/// What a search for the run's tag listed, page after page.
#[derive(Default)]
struct Search {
    records: Vec<Value>,
    /// It reached a page shorter than the page size.
    complete: bool,
    first_request: Option<crate::request::Request>,
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
    crate::run_state::config_carries_tag(&simulation["simulation_config"], tag)
}

/// Whether a simulation, read back or listed, is still the record `id` the run made: its id,
/// and the run's tag or the `created_at` its create answered with.
fn carries_mark(record: &Value, id: &str, tag: &str, created_at: Option<&str>) -> bool {
    let same_creation = created_at.is_some() && record["created_at"].as_str() == created_at;
    record["_id"].as_str() == Some(id) && (same_creation || carries_tag(record, tag))
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
    if !carries_mark(&record, id, tag, created_at.as_deref()) {
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

#[cfg(test)]
mod tests {
    use super::carries_mark;
    use serde_json::json;

    const TAG: &str = "ct0000beef";
    const MADE: &str = "2026-12-06T18:00:00Z";

    fn record(id: &str, created_at: &str, logical_id: &str) -> serde_json::Value {
        json!({"_id": id, "created_at": created_at,
               "simulation_config": {"logical_id": logical_id, "description": null}})
    }

    #[test]
    fn a_record_carries_the_mark_by_its_tag_or_its_creation_and_only_under_its_id() {
        assert!(carries_mark(
            &record("a", "2001-01-01T00:00:00Z", "ct0000beef-n1"),
            "a",
            TAG,
            Some(MADE)
        ));
        assert!(carries_mark(
            &record("a", MADE, "someone-else"),
            "a",
            TAG,
            Some(MADE)
        ));
        assert!(carries_mark(
            &record("a", MADE, "ct0000beef-n1"),
            "a",
            TAG,
            None
        ));
    }

    #[test]
    fn a_reused_id_or_another_record_does_not_carry_the_mark() {
        // Another creation under the same id, without the tag: another client's.
        assert!(!carries_mark(
            &record("a", "2001-01-01T00:00:00Z", "someone-else"),
            "a",
            TAG,
            Some(MADE)
        ));
        // No creation time to compare and no tag: nothing proves it.
        assert!(!carries_mark(
            &record("a", MADE, "someone-else"),
            "a",
            TAG,
            None
        ));
        // An entry for another id proves nothing about this one.
        assert!(!carries_mark(
            &record("b", MADE, "ct0000beef-n1"),
            "a",
            TAG,
            Some(MADE)
        ));
    }
}
