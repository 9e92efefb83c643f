//! Single requests judged on their own, beyond create: list queries with parameters that break the spec's types and bounds, ids on the item path of the wrong length or unknown, methods a path does not have, and lists with arbitrary valid filters judged for soundness.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;

use super::{Exec, Scenario, arb_unknown_id, sim_id};
use crate::listing::{self, ListExpectation, ListFilter};
use crate::request::{Case, Expect, Locus, exercise};
use crate::rules::Rule;
use crate::spec::{Operation, ParamKind, Parameter, Spec, percent_encode};
use crate::values::{arb_hex_id, arb_text, plain_object, wrong_length_patterns};

/// The methods a 405 case tries on each path: the five this API's operations use, OPTIONS, and
/// HEAD (FastAPI's routes do not answer it for GET, as Starlette's own routes do). A method
/// the spec gives the path is left out; the rest must be refused with the path's `Allow`.
const TRIED_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];

/// A value for a query string as written: `%20` is a space already encoded.
const ENCODED_SPACE: &str = "%20";

/// Integer query values the contract always rejects, whatever the bounds: not integers.
const NOT_INTEGERS: [&str; 4] = ["abc", "1.5", "1e3", ENCODED_SPACE];

/// Date-time query values the contract always rejects: words, and dates that do not exist.
const NOT_DATE_TIMES: [&str; 6] = [
    "yesterday",
    "tomorrow",
    "2024-13-01T00:00:00Z",
    "2024-01-01T25:00:00Z",
    "2024-02-30T00:00:00Z",
    "abc",
];

pub(super) async fn run(x: &mut Exec<'_>, case: &Case) {
    run_owned(x, case.clone()).await;
}

/// [`run`] for a case the caller gives up.
pub(super) async fn run_owned(x: &mut Exec<'_>, case: Case) {
    let Case { request, expect } = case;
    if !matches!(expect, Expect::Probe { .. }) {
        x.send_unread(request, expect).await;
        return;
    }
    let answer = x.send(request, expect).await;
    // An accepted unspecified input must read back as the create stored it.
    if let Some(answer) = answer {
        let created = &answer["simulation"];
        let stable = [exercise(Rule::CoerceUnspecified, "stable-read-back")];
        x.read_back_exercising(&sim_id(created), created, &stable)
            .await;
    }
}

/// Values one query parameter refuses by its type and bounds in the spec, if it refuses any.
fn arb_refused_value(parameter: &Parameter) -> Option<BoxedStrategy<String>> {
    match &parameter.kind {
        ParamKind::Integer { minimum, maximum } => {
            // The value just past a bound is the one an off-by-one bound (`gt` for `ge`, no
            // bound at all) accepts, so it weighs most.
            let just_past: Vec<String> = [minimum.map(|m| m - 1), maximum.map(|m| m + 1)]
                .into_iter()
                .flatten()
                .map(|v| v.to_string())
                .collect();
            // Further past a bound (a negative page or size) is its own situation: a server
            // that checks `== 0` rather than `< 1` accepts it.
            let further: Vec<String> = [minimum.map(|m| m - 2), maximum.map(|m| m + 2)]
                .into_iter()
                .flatten()
                .map(|v| v.to_string())
                .collect();
            let not_integers = select(NOT_INTEGERS.map(str::to_owned).to_vec());
            if just_past.is_empty() {
                return Some(not_integers.boxed());
            }
            Some(
                prop_oneof![3 => select(just_past), 1 => select(further), 2 => not_integers]
                    .boxed(),
            )
        }
        ParamKind::String { min_len, max_len } => {
            let patterns = wrong_length_patterns((*min_len, *max_len));
            let strategies: Vec<BoxedStrategy<String>> = patterns
                .iter()
                .map(|p| {
                    proptest::string::string_regex(p)
                        .expect("a valid pattern")
                        .boxed()
                })
                .collect();
            (!strategies.is_empty()).then(|| proptest::strategy::Union::new(strategies).boxed())
        }
        ParamKind::DateTime => Some(select(NOT_DATE_TIMES.map(str::to_owned).to_vec()).boxed()),
        ParamKind::Enum(values) => Some(select(not_in_enum(values)).boxed()),
    }
}

/// Strings an enum refuses: each value in other letter cases (case matters), and words that
/// are not values.
fn not_in_enum(values: &[String]) -> Vec<String> {
    let mut wrong: Vec<String> = Vec::new();
    for value in values {
        let mut capitalised = value.chars();
        let capitalised = capitalised
            .next()
            .map(|first| first.to_uppercase().chain(capitalised).collect::<String>())
            .unwrap_or_default();
        wrong.extend([value.to_uppercase(), capitalised]);
    }
    wrong.extend(["unknown".to_owned(), "done".to_owned()]);
    wrong.extend(crate::values::NEAR_ENUM_WORDS.map(str::to_owned));
    wrong.retain(|w| !w.is_empty() && !values.contains(w));
    wrong.sort();
    wrong.dedup();
    wrong
}

/// `list.param-invalid`: list queries whose one parameter breaks its type or bounds in the
/// spec: 422 at `["query", name]`.
pub(super) fn arb_bad_query(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    let api = spec.api.clone();
    let arms: Vec<BoxedStrategy<(String, String)>> = spec
        .api
        .query_parameters()
        .iter()
        .filter_map(|p| {
            let name = p.name.clone();
            arb_refused_value(p).map(|values| values.prop_map(move |v| (name.clone(), v)).boxed())
        })
        .collect();
    proptest::strategy::Union::new(arms).prop_map(move |(name, value)| {
        let value = if value == ENCODED_SPACE {
            value
        } else {
            percent_encode(&value)
        };
        let request = api.list(&format!("{name}={value}"));
        let expect = rejected_at("bad_query", "query", &name);
        Scenario::Single(Case { request, expect })
    })
}

/// A 422 for the parameter `name` in `location` (`query` or `path`), as FastAPI locates it.
fn rejected_at(mutation: &'static str, location: &str, name: &str) -> Expect {
    Expect::Reject {
        mutation,
        pointer: crate::pointer::child("", name),
        status: 422,
        locus: Some(Locus::Exact(vec![json!(location), json!(name)])),
    }
}

/// `length.24` and `item.not-found` on the item path: ids whose length the spec's id
/// parameter refuses (422 at `["path", <name>]`), or that fit it and name nothing (404).
pub(super) fn arb_bad_path(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    let api = spec.api.clone();
    let id = spec.api.id();
    let bounds = id.length_bounds().unwrap_or_default();
    let mut wrong: Vec<BoxedStrategy<String>> = wrong_length_patterns(bounds)
        .iter()
        .map(|p| {
            proptest::string::string_regex(p)
                .expect("a valid pattern")
                .boxed()
        })
        .collect();
    // Much shorter than the shortest id, where the shortest leaves room for one.
    if let Some(shortest) = bounds.0.filter(|min| *min > 2) {
        let pattern = format!("[a-z0-9]{{1,{}}}", (shortest - 2).min(5));
        wrong.push(
            proptest::string::string_regex(&pattern)
                .expect("a valid pattern")
                .boxed(),
        );
    }
    let known_lengths = arb_unknown_id(spec).prop_map(|id| (id, true)).boxed();
    let ids = if wrong.is_empty() {
        known_lengths
    } else {
        prop_oneof![
            proptest::strategy::Union::new(wrong).prop_map(|id| (id, false)),
            known_lengths,
        ]
        .boxed()
    };
    let id_name = id.name.clone();
    let patch = plain_object(&spec.update_body, "x");
    let operation = select(vec![Operation::Get, Operation::Update, Operation::Delete]);
    (operation, ids).prop_map(move |(operation, (id, well_formed))| {
        let request = match operation {
            Operation::Update => api.update(&id, patch.clone()),
            _ => api.request(operation, &id),
        };
        let expect = if well_formed {
            Expect::NotFound
        } else {
            rejected_at("wrong_length", "path", &id_name)
        };
        Scenario::Single(Case { request, expect })
    })
}

/// `method.not-allowed`: a method a path does not have, on each path of the spec: 405 with
/// exactly the path's methods in `Allow`.
pub(super) fn arb_not_allowed(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    let api = spec.api.clone();
    let arms: Vec<BoxedStrategy<Scenario>> = spec
        .api
        .methods()
        .iter()
        .filter_map(|(template, allow)| {
            let refused: Vec<&'static str> = TRIED_METHODS
                .into_iter()
                .filter(|m| !allow.iter().any(|a| a == m))
                .collect();
            if refused.is_empty() {
                return None;
            }
            let on_item = template == api.item_template();
            // Counted under the path's read: list for the collection, get for the item.
            let operation = if on_item {
                Operation::Get
            } else {
                Operation::List
            };
            let (allow, template, api) = (allow.clone(), template.clone(), api.clone());
            let ids = if on_item {
                arb_unknown_id(spec).prop_map(Some).boxed()
            } else {
                Just(None).boxed()
            };
            Some(
                (select(refused), ids)
                    .prop_map(move |(method, id)| {
                        let mut request = api.request(operation, "");
                        request.path_and_query = match &id {
                            Some(id) => api.item_path(id),
                            None => template.clone(),
                        };
                        request.method = method.to_owned();
                        Scenario::Single(Case {
                            request,
                            expect: Expect::NotAllowed {
                                allow: allow.clone(),
                            },
                        })
                    })
                    .boxed(),
            )
        })
        .collect();
    proptest::strategy::Union::new(arms)
}

/// A list with arbitrary valid filters and paging, judged for soundness: every returned
/// record matches. Values come from the parameters' types and bounds in the spec.
pub(super) fn arb_open_list(spec: &Spec) -> impl Strategy<Value = Scenario> + use<> {
    let api = spec.api.clone();
    let parameter = |name| {
        spec.api
            .query_parameter(name)
            .expect("check_parameters made sure it exists")
    };
    let statuses: Vec<String> = parameter(listing::STATUS)
        .enum_values()
        .unwrap_or_default()
        .to_vec();
    let workflow_id = |name| arb_hex_id(parameter(name).length_bounds().unwrap_or_default());
    // Up to twenty sizes and four pages from the smallest each allows.
    let range = |name, span: i64| {
        let p = parameter(name);
        let low = p.clamp(1);
        let high = p.clamp(low.saturating_add(span - 1)).max(low);
        low.unsigned_abs()..high.unsigned_abs() + 1
    };
    let time = || {
        proptest::option::weighted(
            0.3,
            (0i64..2_000_000_000, any::<bool>()).prop_map(|(secs, naive)| {
                let t = chrono::DateTime::from_timestamp(secs, 0).expect("in range");
                if naive {
                    t.format("%Y-%m-%dT%H:%M:%S").to_string()
                } else {
                    t.to_rfc3339()
                }
            }),
        )
    };
    (
        proptest::option::weighted(0.3, select(statuses)),
        proptest::option::weighted(0.2, workflow_id(listing::SELECTED_WORKFLOW_ID)),
        proptest::option::weighted(0.2, workflow_id(listing::COUNTER_WORKFLOW_ID)),
        // An empty search is left unspecified: whether "" is a substring of a null field differs by store.
        proptest::option::weighted(0.3, arb_text(1, 4)),
        time(),
        time(),
        range(listing::PAGE_SIZE, 19),
        range(listing::PAGE, 3),
    )
        .prop_map(
            move |(status, selected, counter, search, start, end, size, page)| {
                let filter = ListFilter {
                    logical_id: None,
                    status,
                    selected_workflow_id: selected,
                    counter_workflow_id: counter,
                    search,
                    start,
                    end,
                };
                let request = api.list(&filter.query(size, page));
                let expect = Expect::Listed(ListExpectation {
                    filter,
                    exact: false,
                    expected_ids: vec![],
                    total: 0,
                    absent: vec![],
                });
                Scenario::Single(Case { request, expect })
            },
        )
}
