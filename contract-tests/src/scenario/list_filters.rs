//! The list-filter scenario: records with chosen statuses, workflow ids and words, then list queries combining the filters, each of which must return exactly the records it matches, newest first.

use chrono::{DateTime, FixedOffset, TimeDelta, Timelike, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::{Exec, Scenario, arb_nonce, sim_id};
use crate::coverage;
use crate::listing::{
    self, COUNTER_WORKFLOW_FIELD, ListExpectation, ListFilter, SELECTED_WORKFLOW_FIELD,
    sort_newest_first,
};
use crate::pointer;
use crate::request::{Auth, Expect};
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
    /// Which searched fields carry the scenario's word, so one search matches some records
    /// by `logical_id` and others by `description`, in either creation order.
    pub word: WordPlace,
    /// A searched field the create leaves null (at most one, so the tag stays in the other).
    pub null_field: Option<NullField>,
}

/// The searched fields a record's word is written into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordPlace {
    Nowhere,
    Description,
    LogicalId,
    Both,
}

/// A searched field stored as null: left out of the create (its default is null) or sent as
/// an explicit null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NullField {
    pub logical_id: bool,
    pub explicit: bool,
}

/// What a query searches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needle {
    /// The scenario's word.
    Word,
    /// The scenario's nonce.
    Nonce,
    /// `none` or `null`, the text a null field becomes in a wrongly built searchable text,
    /// on the `of`-th record with a null searched field (or the `of`-th record).
    NullText { null: bool, of: usize },
    /// The last `left` characters of a record's `logical_id`, a space, and the first `right`
    /// of its `description` (a null field spelled `None`): a needle only a search over their
    /// concatenation matches.
    Spanning {
        of: usize,
        left: usize,
        right: usize,
    },
    /// The scenario's word between a tab and a space, which no record holds: the search is
    /// for the needle as sent, so a server that strips it (Python's `str.strip`) lists more.
    Padded,
}

/// The letter case a needle is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Lower,
    Upper,
    Title,
}

/// Which instant a time bound names, derived from a record's `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instant {
    Exact,
    /// Midnight (UTC) of the record's day: what a "date picker" server widens to the day.
    Day,
    /// Truncated to the whole second.
    Second,
    /// The whole second after it: an `end` there lists the record and a `start` there leaves it
    /// out, so a bound spelled in Unix seconds separates a server reading it as milliseconds
    /// (1970, which decides the other way); [`Instant::Second`] and [`Instant::Day`] are both on
    /// the record's near side, where either reading leaves it out of an `end` and keeps it in a
    /// `start`.
    SecondAfter,
    /// Moved by this many microseconds (±1) or seconds (±1_000_000 µs).
    Shift(i64),
}

/// How a time bound is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// The `created_at` text as returned (only for [`Instant::Exact`]; else as `Zulu`).
    Returned,
    /// Without offset, which the contract reads as UTC.
    Naive,
    Zulu,
    /// `+00:00`.
    UtcOffset,
    /// The same instant at `+05:30`.
    India,
    /// Unix seconds (only for a whole second; else as `Zulu`).
    Unix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBound {
    pub of: usize,
    pub instant: Instant,
    pub spelling: Spelling,
}

impl TimeBound {
    /// The bounds the suite drew before truncated instants: a record's own `created_at`.
    fn is_plain(&self) -> bool {
        self.instant == Instant::Exact
            && matches!(self.spelling, Spelling::Returned | Spelling::Naive)
    }
}

/// Which filters one list query uses; the values come from the records at run time.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPlan {
    pub logical_id_of: Option<usize>,
    pub status_of: Option<usize>,
    pub selected: Option<usize>,
    pub counter: Option<usize>,
    pub search: Option<(Needle, Case)>,
    pub start_of: Option<TimeBound>,
    pub end_of: Option<TimeBound>,
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
    let word = prop_oneof![
        3 => Just(WordPlace::Nowhere),
        3 => Just(WordPlace::Description),
        3 => Just(WordPlace::LogicalId),
        1 => Just(WordPlace::Both),
    ];
    let null_field = proptest::option::weighted(
        0.3,
        (any::<bool>(), any::<bool>()).prop_map(|(logical_id, explicit)| NullField {
            logical_id,
            explicit,
        }),
    );
    let record = (
        status,
        proptest::option::of(0usize..2),
        proptest::option::of(0usize..2),
        word,
        null_field,
    )
        .prop_map(|(status, selected, counter, word, null_field)| {
            // The word cannot sit in a null field; a record without logical_id carries a
            // workflow id, so a query can still scope itself to it.
            let word = match (null_field.map(|n| n.logical_id), word) {
                (Some(true), WordPlace::LogicalId | WordPlace::Both) => WordPlace::Description,
                (Some(false), WordPlace::Description | WordPlace::Both) => WordPlace::LogicalId,
                (_, word) => word,
            };
            let needs_workflow = null_field.is_some_and(|n| n.logical_id) && counter.is_none();
            RecordPlan {
                status,
                selected: selected.or(needs_workflow.then_some(0)),
                counter,
                word,
                null_field,
            }
        });
    let index = || proptest::option::weighted(0.3, 0usize..6);
    let needle = prop_oneof![
        3 => Just(Needle::Word),
        1 => Just(Needle::Nonce),
        2 => (any::<bool>(), 0usize..6).prop_map(|(null, of)| Needle::NullText { null, of }),
        2 => (0usize..6, 1usize..5, 1usize..5)
            .prop_map(|(of, left, right)| Needle::Spanning { of, left, right }),
        3 => Just(Needle::Padded),
    ];
    let case = prop_oneof![Just(Case::Lower), Just(Case::Upper), Just(Case::Title)];
    let instant = prop_oneof![
        3 => Just(Instant::Exact),
        3 => Just(Instant::Day),
        2 => Just(Instant::Second),
        2 => Just(Instant::SecondAfter),
        2 => select(vec![-1_000_000i64, -1, 1, 1_000_000]).prop_map(Instant::Shift),
    ];
    let spelling = prop_oneof![
        3 => Just(Spelling::Returned),
        2 => Just(Spelling::Naive),
        1 => Just(Spelling::Zulu),
        1 => Just(Spelling::UtcOffset),
        2 => Just(Spelling::India),
        1 => Just(Spelling::Unix),
    ];
    let bound = (0usize..6, instant, spelling).prop_map(|(of, instant, spelling)| TimeBound {
        of,
        instant,
        spelling,
    });
    let query = (
        index(),
        index(),
        proptest::option::weighted(0.3, 0usize..2),
        proptest::option::weighted(0.3, 0usize..2),
        proptest::option::weighted(0.5, (needle, case)),
        proptest::option::weighted(0.3, bound.clone()),
        proptest::option::weighted(0.35, bound),
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

fn with_case(text: &str, case: Case) -> String {
    match case {
        Case::Lower => text.to_lowercase(),
        Case::Upper => text.to_uppercase(),
        Case::Title => {
            let lower = text.to_lowercase();
            let mut chars = lower.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    }
}

/// The query-string form of a bound derived from a stored timestamp (`list.time-bounds`).
fn time_bound(sim: &Value, bound: TimeBound) -> Option<String> {
    let at = listing::created_at(sim)?;
    let instant = match bound.instant {
        Instant::Exact => at,
        Instant::Day => at.date_naive().and_hms_opt(0, 0, 0)?.and_utc(),
        Instant::Second => at.with_nanosecond(0)?,
        Instant::SecondAfter => at
            .with_nanosecond(0)?
            .checked_add_signed(TimeDelta::seconds(1))?,
        Instant::Shift(micros) => at.checked_add_signed(TimeDelta::microseconds(micros))?,
    };
    let naive = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
    Some(match bound.spelling {
        Spelling::Returned if bound.instant == Instant::Exact => {
            sim["created_at"].as_str()?.to_owned()
        }
        Spelling::Naive => naive(instant),
        Spelling::Unix if instant.timestamp_subsec_nanos() == 0 => instant.timestamp().to_string(),
        Spelling::UtcOffset => format!("{}+00:00", naive(instant)),
        Spelling::India => instant
            .with_timezone(&FixedOffset::east_opt(5 * 3600 + 30 * 60)?)
            .format("%Y-%m-%dT%H:%M:%S%.f%:z")
            .to_string(),
        Spelling::Returned | Spelling::Zulu | Spelling::Unix => format!("{}Z", naive(instant)),
    })
}

/// A record's searched field as text, a null one spelled as Python prints `None`.
fn rendered(sim: &Value, field: &str) -> String {
    sim["simulation_config"][field]
        .as_str()
        .unwrap_or("None")
        .to_owned()
}

/// The needle only a search over `f"{logical_id} {description}"` finds in this record.
fn spanning(sim: &Value, left: usize, right: usize) -> String {
    let [first, second] =
        listing::SEARCHED_FIELDS.map(|f| rendered(sim, f).chars().collect::<Vec<_>>());
    let tail: String = first[first.len().saturating_sub(left)..].iter().collect();
    let head: String = second[..right.min(second.len())].iter().collect();
    format!("{tail} {head}")
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

/// Whether a record holds a searched field as null.
fn has_null_field(sim: &Value) -> bool {
    listing::SEARCHED_FIELDS
        .iter()
        .any(|f| sim["simulation_config"][f].is_null())
}

pub(super) async fn run(x: &mut Exec<'_>, plan: &ListPlan) {
    let spec = x.spec;
    let tag = x.tag(&plan.nonce);
    let mut sims = Vec::new();
    for (i, record) in plan.records.iter().enumerate() {
        let carries = |place: WordPlace| record.word == place || record.word == WordPlace::Both;
        let logical_id = if carries(WordPlace::LogicalId) {
            format!("{tag}-{}{i}", mixed_case(&plan.word, i + 1))
        } else {
            format!("{tag}-{i}")
        };
        let description = if carries(WordPlace::Description) {
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
        if let Some(null) = record.null_field {
            let key = if null.logical_id {
                "logical_id"
            } else {
                "description"
            };
            match sent.as_object_mut() {
                Some(fields) if !null.explicit => drop(fields.remove(key)),
                _ => sent[key] = Value::Null,
            }
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
        let mut filter = ListFilter {
            logical_id: pick(query.logical_id_of)
                .and_then(|s| config_text(s, listing::LOGICAL_ID_FIELD)),
            status: pick(query.status_of).and_then(|s| config_text(s, listing::STATUS_FIELD)),
            selected_workflow_id: query.selected.map(|w| plan.workflow_ids[w].clone()),
            counter_workflow_id: query.counter.map(|w| plan.workflow_ids[w].clone()),
            search: query.search.map(|(needle, case)| {
                let text = match needle {
                    Needle::Word => plan.word.clone(),
                    Needle::Nonce => plan.nonce.clone(),
                    Needle::NullText { null, .. } => (if null { "null" } else { "none" }).into(),
                    Needle::Spanning { of, left, right } => spanning(nth(of), left, right),
                    Needle::Padded => format!("\t{} ", plan.word),
                };
                with_case(&text, case)
            }),
            start: query.start_of.and_then(|b| time_bound(nth(b.of), b)),
            end: query.end_of.and_then(|b| time_bound(nth(b.of), b)),
        };
        // A needle any team's records may hold is scoped to the record it was drawn for, by a
        // value the scenario owns, so the page is exact and that record's fate judged.
        let target = match query.search.map(|(needle, _)| needle) {
            Some(Needle::NullText { of, .. }) => {
                let nulled: Vec<&Value> = sims.iter().filter(|s| has_null_field(s)).collect();
                Some(if nulled.is_empty() {
                    nth(of)
                } else {
                    nulled[of % nulled.len()]
                })
            }
            Some(Needle::Spanning { of, .. }) => Some(nth(of)),
            _ => None,
        };
        if let Some(target) = target {
            filter.logical_id = config_text(target, listing::LOGICAL_ID_FIELD);
            filter.selected_workflow_id = None;
            filter.counter_workflow_id = None;
            if filter.logical_id.is_none() {
                filter.selected_workflow_id = config_text(target, SELECTED_WORKFLOW_FIELD);
                filter.counter_workflow_id = config_text(target, COUNTER_WORKFLOW_FIELD);
            }
        }
        // Every scoping value is unique to this scenario, so the page must be exactly its matches.
        let owned_search = matches!(query.search, Some((Needle::Word | Needle::Nonce, _)));
        let mut scoped = filter.logical_id.is_some()
            || filter.selected_workflow_id.is_some()
            || filter.counter_workflow_id.is_some()
            || owned_search;
        // A bound that is not a record's own timestamp judges only on an exact page.
        let new_bound = [query.start_of, query.end_of]
            .into_iter()
            .flatten()
            .any(|b| !b.is_plain());
        if new_bound && !scoped && filter.search.is_none() {
            filter.search = Some(plan.nonce.clone());
            scoped = true;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(logical_id: Option<&str>, description: Option<&str>) -> Value {
        json!({"created_at": "2026-01-01T10:00:00.5Z",
               "simulation_config": {"logical_id": logical_id, "description": description}})
    }

    fn bound(instant: Instant, spelling: Spelling) -> Option<String> {
        time_bound(
            &sim(Some("l"), None),
            TimeBound {
                of: 0,
                instant,
                spelling,
            },
        )
    }

    #[test]
    fn bounds_are_derived_by_truncation_and_shift_and_spelled_each_way() {
        use Instant::*;
        use Spelling::*;
        let at = |i, s| bound(i, s).unwrap();
        assert_eq!(at(Exact, Returned), "2026-01-01T10:00:00.5Z");
        assert_eq!(at(Exact, Naive), "2026-01-01T10:00:00.500");
        assert_eq!(at(Day, Returned), "2026-01-01T00:00:00Z");
        assert_eq!(at(Day, Unix), "1767225600");
        assert_eq!(at(Second, UtcOffset), "2026-01-01T10:00:00+00:00");
        assert_eq!(at(SecondAfter, Unix), "1767261601");
        assert_eq!(at(SecondAfter, Naive), "2026-01-01T10:00:01");
        assert_eq!(at(Shift(-1), Zulu), "2026-01-01T10:00:00.499999Z");
        assert_eq!(at(Shift(1_000_000), India), "2026-01-01T15:30:01.500+05:30");
        // Unix time only for a whole second.
        assert_eq!(at(Exact, Unix), "2026-01-01T10:00:00.500Z");
        for i in [Exact, Day, Second, SecondAfter, Shift(1), Shift(-1_000_000)] {
            for s in [Returned, Naive, Zulu, UtcOffset, India, Unix] {
                let text = at(i, s);
                let model = listing::parse_query_time(&text).unwrap();
                assert_eq!(
                    model,
                    listing::parse_query_time(&at(i, Zulu)).unwrap(),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn a_spanning_needle_joins_the_fields_as_python_formats_them() {
        let both = sim(Some("run-7"), Some("Hello"));
        assert_eq!(spanning(&both, 2, 3), "-7 Hel");
        assert_eq!(spanning(&both, 9, 9), "run-7 Hello");
        assert_eq!(spanning(&sim(None, Some("Hi")), 2, 1), "ne H");
        assert_eq!(spanning(&sim(Some("x"), None), 1, 4), "x None");
        assert_eq!(with_case("none", Case::Title), "None");
        assert_eq!(with_case("NuLl", Case::Lower), "null");
    }
}
