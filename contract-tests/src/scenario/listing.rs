//! The list-filter scenario: records with chosen statuses, workflow ids and words, then list queries combining the filters, each of which must return exactly the records it matches, newest first.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::{Exec, Scenario, arb_nonce, sim_id};
use crate::coverage;
use crate::exchange::{Auth, Expect};
use crate::listing::{
    self, COUNTER_WORKFLOW_FIELD, ListExpectation, ListFilter, SELECTED_WORKFLOW_FIELD,
    sort_newest_first,
};
use crate::pointer;
use crate::spec::{Kind, Spec};
use crate::values::arb_hex_id;

/// One record of a list scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPlan {
    /// `None`: the create leaves `status` out, so the record holds the default, which a status
    /// filter must match like a status that was sent (a server that stores only the fields
    /// sent and fills defaults into responses fails that).
    pub status: Option<String>,
    pub selected: Option<usize>,
    pub counter: Option<usize>,
    pub has_word: bool,
}

/// Which filters one list query uses; the values come from the records at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    pub logical_id_of: Option<usize>,
    pub status_of: Option<usize>,
    pub selected: Option<usize>,
    pub counter: Option<usize>,
    /// Search for the word (true) or the scenario's nonce (false), in this letter case.
    pub search: Option<(bool, bool)>,
    pub start_of: Option<(usize, bool)>,
    pub end_of: Option<(usize, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListPlan {
    pub nonce: String,
    pub word: String,
    pub workflow_ids: [String; 2],
    pub records: Vec<RecordPlan>,
    pub queries: Vec<QueryPlan>,
}

/// The statuses a record may be created with and listed by: the list filter's enum, less any
/// value the create body would refuse.
pub(super) fn statuses(spec: &Spec) -> Vec<String> {
    let listed = spec
        .api
        .query_parameter(listing::STATUS)
        .and_then(|p| p.enum_values())
        .unwrap_or_default();
    let creatable = spec
        .create_body
        .field_at(listing::STATUS_FIELD)
        .map(|f| &f.kind);
    listed
        .iter()
        .filter(|s| !matches!(creatable, Some(Kind::Enum(values)) if !values.contains(s)))
        .cloned()
        .collect()
}

/// The length bounds of the workflow ids the records carry and the filters look for.
pub(super) fn workflow_id_bounds(spec: &Spec) -> (Option<usize>, Option<usize>) {
    match spec
        .create_body
        .field_at(SELECTED_WORKFLOW_FIELD)
        .map(|f| &f.kind)
    {
        Some(Kind::String { min_len, max_len }) => (*min_len, *max_len),
        _ => (None, None),
    }
}

pub(super) fn arb_listing(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    let listable = statuses(spec);
    // A record may leave `status` out only when the default it then holds is a value the list
    // filter takes, since the queries filter by the statuses the records hold.
    let default_listable = spec
        .create_body
        .all_defaults()
        .pointer(listing::STATUS_FIELD)
        .and_then(Value::as_str)
        .is_some_and(|d| listable.iter().any(|s| s == d));
    let status = if default_listable {
        proptest::option::weighted(0.8, select(listable)).boxed()
    } else {
        select(listable).prop_map(Some).boxed()
    };
    let record = (
        status,
        proptest::option::of(0usize..2),
        proptest::option::of(0usize..2),
        any::<bool>(),
    )
        .prop_map(|(status, selected, counter, has_word)| RecordPlan {
            status,
            selected,
            counter,
            has_word,
        });
    let index = || proptest::option::weighted(0.3, 0usize..6);
    let query = (
        index(),
        index(),
        proptest::option::weighted(0.3, 0usize..2),
        proptest::option::weighted(0.3, 0usize..2),
        proptest::option::weighted(0.4, (any::<bool>(), any::<bool>())),
        proptest::option::weighted(0.3, (0usize..6, any::<bool>())),
        proptest::option::weighted(0.3, (0usize..6, any::<bool>())),
    )
        .prop_map(
            |(logical_id_of, status_of, selected, counter, search, start_of, end_of)| QueryPlan {
                logical_id_of,
                status_of,
                selected,
                counter,
                search,
                start_of,
                end_of,
            },
        );
    let workflow_id = arb_hex_id(workflow_id_bounds(spec));
    (
        arb_nonce(),
        "[a-z]{8}",
        workflow_id.clone(),
        workflow_id,
        proptest::collection::vec(record, 1..6),
        proptest::collection::vec(query, 1..4),
    )
        .prop_map(|(nonce, word, a, b, records, queries)| {
            Scenario::Listing(ListPlan {
                nonce,
                word,
                workflow_ids: [a, b],
                records,
                queries,
            })
        })
}

fn with_case(text: &str, upper: bool) -> String {
    if upper {
        text.to_uppercase()
    } else {
        text.to_lowercase()
    }
}

/// The query-string form of a stored timestamp: as returned, or as naive UTC.
fn time_bound(sim: &Value, naive: bool) -> Option<String> {
    let at = listing::created_at(sim)?;
    Some(if naive {
        at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
    } else {
        sim["created_at"].as_str()?.to_owned()
    })
}

fn mixed_case(word: &str, seed: usize) -> String {
    word.chars()
        .enumerate()
        .map(|(i, c)| {
            if (i + seed).is_multiple_of(2) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

pub(super) async fn run(x: &mut Exec<'_>, plan: &ListPlan) {
    let spec = x.spec;
    let tag = x.tag(&plan.nonce);
    let mut sims = Vec::new();
    for (i, record) in plan.records.iter().enumerate() {
        let logical_id = format!("{tag}-{i}");
        let description = if record.has_word {
            format!("{tag} {}{i}", mixed_case(&plan.word, i))
        } else {
            tag.clone()
        };
        let workflow =
            |choice: Option<usize>| choice.map_or(Value::Null, |w| json!(plan.workflow_ids[w]));
        let mut sent = json!({"logical_id": logical_id, "description": description});
        if let Some(status) = &record.status {
            sent["status"] = json!(status);
        }
        let mut stored = spec.create_body.all_defaults();
        for key in ["logical_id", "description", "status"] {
            if let Some(value) = sent.get(key) {
                stored[key] = value.clone();
            }
        }
        for (at, choice) in [
            (SELECTED_WORKFLOW_FIELD, record.selected),
            (COUNTER_WORKFLOW_FIELD, record.counter),
        ] {
            pointer::set(&mut sent, at, workflow(choice));
            pointer::set(&mut stored, at, workflow(choice));
        }
        let request = spec.api.create(sent.clone());
        match x.send(request, Expect::Accept { sent, stored }).await {
            Some(j) => sims.push(j["simulation"].clone()),
            None => return,
        }
    }
    sort_newest_first(&mut sims);
    let nth = |i: usize| &sims[i % sims.len()];
    for query in &plan.queries {
        let pick = |i: Option<usize>| i.map(&nth);
        let config_text = |sim: &Value, at: &str| {
            sim["simulation_config"]
                .pointer(at)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let filter = ListFilter {
            logical_id: pick(query.logical_id_of)
                .and_then(|s| config_text(s, listing::LOGICAL_ID_FIELD)),
            status: pick(query.status_of).and_then(|s| config_text(s, listing::STATUS_FIELD)),
            selected_workflow_id: query.selected.map(|w| plan.workflow_ids[w].clone()),
            counter_workflow_id: query.counter.map(|w| plan.workflow_ids[w].clone()),
            search: query
                .search
                .map(|(word, upper)| with_case(if word { &plan.word } else { &plan.nonce }, upper)),
            start: query
                .start_of
                .and_then(|(i, naive)| time_bound(nth(i), naive)),
            end: query
                .end_of
                .and_then(|(i, naive)| time_bound(nth(i), naive)),
        };
        // Every scoping value is unique to this scenario, so the page must be exactly its matches.
        let scoped = filter.logical_id.is_some()
            || filter.selected_workflow_id.is_some()
            || filter.counter_workflow_id.is_some()
            || filter.search.is_some();
        let matching: Vec<String> = sims
            .iter()
            .filter(|s| filter.matches(s))
            .map(sim_id)
            .collect();
        let total = matching.len() as u64;
        // Which of the scenario's records each filter alone left out. Only an exact page judges
        // that: an unscoped one is a shared team's newest 100, which may end before the record.
        let excluded = if scoped {
            coverage::exclusions(&filter, &sims)
        } else {
            Vec::new()
        };
        x.list_exercising(
            Auth::Primary,
            100,
            1,
            ListExpectation {
                filter,
                exact: scoped,
                expected_ids: matching,
                total,
                absent: vec![],
            },
            &excluded,
        )
        .await;
    }
}
