//! Contract coverage: which of CONTRACT.md's rules a run exercised, on which side, and how often, derived from every judged exchange.
//!
//! A rule is exercised **positively** when a request the rule applies to is sent and a check
//! that asserts the rule judged the response: `auth.required` is exercised positively by a
//! keyed request that a check found served. It is exercised **negatively** when the suite sends
//! the nearest request on the other side of the rule's condition and a check judged that the
//! rule's demand was not over- or under-applied: for `auth.required`, a request without a
//! usable key that a check found refused; for `length.24`, a 23- or 25-character value refused
//! beside the 24-character value accepted on the positive side; for `list.search`, a record
//! without the searched text left out beside a record with it listed. A rule whose demand has
//! no condition (`schema.response`, `never.5xx`) has no negative side. [`RULES`] says, for each
//! rule id, what counts on each side.
//!
//! [`exercises`] derives an exchange's exercises in two parts: what can be read off the request
//! and its [`Expect`] (the operation, the key, the expectation, a refusal's mutation and
//! pointer, which fields a create left out, nulled, sent unknown or sent non-canonical, which
//! list filters and page a list used and whether its expected page holds matches), and what
//! the scenario names in [`Observation::exercises`] because only the sequence knows it (a read
//! after another team's refused update). Either is kept only when a check that names the rule
//! (`Check::rules`) applied to the response: a check that did not apply exercised nothing, and
//! a request that got no response exercised nothing at all.

use serde_json::{Map, Value};

use crate::checks::Check;
use crate::exchange::{Auth, Body, Exercise, Expect, Observation, negative, positive};
use crate::listing::{self, ListExpectation, ListFilter};
use crate::spec::Operation;

/// What counts as exercising one rule of CONTRACT.md, on each side it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    pub id: &'static str,
    pub positive: &'static str,
    /// `None` for a rule without a condition to be on the other side of.
    pub negative: Option<&'static str>,
}

impl Definition {
    pub fn has_negative(&self) -> bool {
        self.negative.is_some()
    }
}

const fn rule(
    id: &'static str,
    positive: &'static str,
    negative: Option<&'static str>,
) -> Definition {
    Definition {
        id,
        positive,
        negative,
    }
}

/// One row per rule id of CONTRACT.md, in its order.
pub const RULES: &[Definition] = &[
    rule(
        "auth.required",
        "a request with a key is served",
        Some("a request without a usable key is refused with 401"),
    ),
    rule(
        "auth.missing",
        "no header, another scheme or an empty credential: 401 Not authenticated",
        Some("a well-formed unknown key is not answered Not authenticated"),
    ),
    rule(
        "auth.unknown",
        "a well-formed unknown key: 401 Invalid API key",
        Some("a missing or malformed key is not answered Invalid API key"),
    ),
    rule(
        "tenancy.item",
        "another team's get, update or delete of a record is 404, and the record reads back unchanged",
        Some("the owner's read of that record is served"),
    ),
    rule(
        "tenancy.list",
        "another team's list leaves the record out",
        Some("the owner's scoped list holds its own records"),
    ),
    rule(
        "schema.response",
        "a 2xx body judged against the spec",
        None,
    ),
    rule(
        "schema.errors",
        "an error body judged against the spec",
        None,
    ),
    rule(
        "create.status",
        "a valid create answered 200 with a simulation",
        None,
    ),
    rule(
        "create.server-fields",
        "an accepted create's ids, owners and timestamps judged",
        None,
    ),
    rule(
        "create.defaults",
        "an absent field stored as its default",
        Some("a present field not replaced by the default"),
    ),
    rule(
        "create.null-kept",
        "an explicit null stored as null",
        Some("an absent field with a non-null default not stored as null"),
    ),
    rule(
        "create.echo",
        "a sent field stored canonicalised",
        Some("an unknown key sent and not stored"),
    ),
    rule(
        "create.workflow-not-null",
        "a null workflow object refused with 422",
        Some("a workflow object sent and accepted"),
    ),
    rule(
        "coerce.accepted",
        "a non-canonical value of the accepted set stored canonicalised",
        Some("a canonical number or boolean stored unchanged"),
    ),
    rule(
        "coerce.rejected",
        "a value of the always-rejected set refused with 422 at its loc",
        None,
    ),
    rule(
        "coerce.unspecified",
        "an unspecified input: no 5xx, and if accepted typed and read back the same",
        None,
    ),
    rule(
        "length.24",
        "a 24-character workflow id, run id, list filter or path id accepted",
        Some("a shorter or longer one refused with 422"),
    ),
    rule(
        "body.missing",
        "no body: 422 missing",
        Some("an empty object body accepted"),
    ),
    rule(
        "body.json-invalid",
        "JSON that does not parse: 422 json_invalid at its offset",
        None,
    ),
    rule(
        "body.not-object",
        "JSON that is not an object, or a body not declared JSON: 422",
        None,
    ),
    rule("body.not-utf8", "a body that is not UTF-8: 400", None),
    rule(
        "body.too-large",
        "a body over 1 MiB: 413 or accepted, never a 5xx",
        None,
    ),
    rule(
        "list.defaults",
        "a list without size and page holds the first page of up to 100",
        Some("a list whose page is given (2 or more) is not answered with page 1"),
    ),
    rule(
        "list.search",
        "a record containing the searched text, in any case, listed",
        Some("a record without it left out"),
    ),
    rule(
        "list.time-bounds",
        "a record created within start and end listed",
        Some("a record created outside them left out"),
    ),
    rule(
        "list.exact-filters",
        "a record with the filter's exact value listed",
        Some("a record with another value left out"),
    ),
    rule(
        "list.and",
        "a record matching two or more filters listed",
        Some("a record matching some of the filters but not all left out"),
    ),
    rule(
        "list.order",
        "a page of two or more records judged newest first",
        None,
    ),
    rule(
        "list.total",
        "a total counting matches beyond the page",
        None,
    ),
    rule(
        "list.window",
        "a page after the first holding its window of the matches",
        Some("a page past the last match empty, with the full total"),
    ),
    rule(
        "list.param-invalid",
        "a query parameter breaking its rule: 422 at [\"query\", name]",
        Some("a page or size at its bound, 1, accepted"),
    ),
    rule("get.found", "a stored record read back as stored", None),
    rule(
        "item.not-found",
        "an unknown 24-character id: 404 Simulation not found",
        Some("a known id served"),
    ),
    rule(
        "update.fields",
        "description or status changed by an update",
        Some("other keys of an update ignored"),
    ),
    rule(
        "update.invalid",
        "an invalid update value: 422 at [\"body\", key], and the record reads back unchanged",
        None,
    ),
    rule(
        "update.null-and-empty",
        "a null or empty string stored by an update",
        None,
    ),
    rule(
        "update.timestamps",
        "an update's updated_at, updated_by and unchanged fields judged",
        None,
    ),
    rule(
        "update.persisted",
        "a read after an update shows it (and concurrent updates of different fields both survive)",
        None,
    ),
    rule(
        "delete.gone",
        "a delete answered 200, then get and delete 404 and lists leave it out",
        None,
    ),
    rule(
        "method.not-allowed",
        "an unsupported method: 405 with the path's Allow",
        None,
    ),
    rule("never.5xx", "any response judged below 500", None),
    rule(
        "never.lost",
        "a stored record read back unchanged after what must not change it",
        None,
    ),
];

/// The definition of one rule id.
pub fn definition(id: &str) -> Option<&'static Definition> {
    RULES.iter().find(|d| d.id == id)
}

/// `create.workflow-not-null`: the create body's workflow objects, as the rule names them.
const WORKFLOW_FIELDS: [&str; 2] = ["selected_workflow", "counter_workflow"];
/// `length.24`: the workflow objects' fields of exactly 24 characters.
const LENGTH_24_FIELDS: [&str; 2] = ["workflow_id", "run_id"];
/// `update.fields`: what an update may change. A test holds it to the spec's update body.
const UPDATE_FIELDS: [&str; 2] = ["description", "status"];
/// `body.too-large`: the size above which a body may be refused with 413.
const LARGE_BODY: usize = 1 << 20;
/// `auth.missing` / `auth.unknown`: the scheme whose non-empty credential is a key.
const BEARER: &str = "Bearer ";

/// The rules `observation` exercised, each once per side, given the checks that applied to its
/// response. No response, no exercise.
pub fn exercises(observation: &Observation, applied: &[&Check]) -> Vec<Exercise> {
    let Ok(response) = &observation.response else {
        return Vec::new();
    };
    let mut out = Vec::new();
    candidates(observation, response.status, &mut out);
    out.extend_from_slice(&observation.exercises);
    out.sort_unstable();
    out.dedup();
    out.retain(|e| applied.iter().any(|c| c.rules.contains(&e.rule)));
    out
}

/// Every exercise the request and its expectation could make, before the applied checks decide.
fn candidates(observation: &Observation, status: u16, out: &mut Vec<Exercise>) {
    let case = &observation.case;
    let request = &case.request;
    let operation = request.operation;
    let on_item = matches!(
        operation,
        Operation::Get | Operation::Update | Operation::Delete
    );
    out.push(positive("never.5xx"));
    out.push(if (200..300).contains(&status) {
        positive("schema.response")
    } else {
        positive("schema.errors")
    });
    if is_large(&request.body) {
        out.push(positive("body.too-large"));
    }
    let keyed = request.auth.is_primary() || request.auth == Auth::OtherTeam;
    match &case.expect {
        Expect::Unauthorized { .. } => {
            out.push(negative("auth.required"));
            if is_unknown_key(&request.auth) {
                out.extend([positive("auth.unknown"), negative("auth.missing")]);
            } else {
                out.extend([positive("auth.missing"), negative("auth.unknown")]);
            }
            return;
        }
        _ if keyed => out.push(positive("auth.required")),
        _ => {}
    }
    let served_id = matches!(
        case.expect,
        Expect::NotFound | Expect::Simulation { .. } | Expect::Updated { .. } | Expect::Success
    );
    if on_item && served_id {
        out.push(positive("length.24"));
    }
    match &case.expect {
        Expect::Accept { sent, stored } if operation == Operation::Create => {
            out.push(positive("create.status"));
            if let (Value::Object(sent), Value::Object(stored)) = (sent, stored) {
                if sent.is_empty() {
                    out.push(negative("body.missing"));
                }
                push_config(config(sent, stored, true), out);
            }
        }
        Expect::Probe { .. } => out.push(positive("coerce.unspecified")),
        Expect::Reject {
            mutation, pointer, ..
        } => rejected(operation, mutation, pointer, out),
        Expect::Simulation { .. } => {
            out.push(positive("never.lost"));
            if operation == Operation::Get {
                out.push(positive("get.found"));
            }
        }
        Expect::Updated { patch, .. } => {
            out.push(positive("update.timestamps"));
            updated(patch, out);
        }
        Expect::Listed(expect) => listed(observation, expect, out),
        Expect::Success if operation == Operation::Delete => out.push(positive("delete.gone")),
        Expect::NotAllowed { .. } => out.push(positive("method.not-allowed")),
        Expect::NotFound if on_item => match request.auth {
            Auth::OtherTeam => out.push(positive("tenancy.item")),
            Auth::Primary | Auth::PrimaryRespelled { .. } => out.push(positive("item.not-found")),
            _ => {}
        },
        _ => {}
    }
    if on_item
        && request.auth.is_primary()
        && matches!(
            case.expect,
            Expect::Simulation { .. } | Expect::Updated { .. } | Expect::Success
        )
    {
        out.push(negative("item.not-found"));
    }
    if operation == Operation::Create && (200..300).contains(&status) {
        out.push(positive("create.server-fields"));
    }
}

/// A literal `Authorization` of the bearer scheme with a non-empty credential: a key, unknown.
fn is_unknown_key(auth: &Auth) -> bool {
    matches!(auth, Auth::Literal(value)
        if value.strip_prefix(BEARER).is_some_and(|key| !key.trim().is_empty()))
}

/// Whether a body is over [`LARGE_BODY`]. A JSON body is measured by what it holds (keys,
/// strings, the digits of numbers, its punctuation), not serialised, because this runs on every
/// exchange. Escapes are not counted, so a body just under the limit by this count may be just
/// over it on the wire; a body meant to test the limit is far past it by content alone.
fn is_large(body: &Body) -> bool {
    fn size(value: &Value, limit: usize) -> usize {
        match value {
            Value::Null | Value::Bool(_) => 4,
            Value::Number(n) => n.as_str().len(),
            Value::String(s) => s.len() + 2,
            Value::Array(items) => {
                let mut total = 2;
                for item in items {
                    total += size(item, limit) + 1;
                    if total > limit {
                        break;
                    }
                }
                total
            }
            Value::Object(map) => {
                let mut total = 2;
                for (key, item) in map {
                    total += key.len() + 4 + size(item, limit);
                    if total > limit {
                        break;
                    }
                }
                total
            }
        }
    }
    match body {
        Body::Bytes(bytes) => bytes.len() > LARGE_BODY,
        Body::Json(value) => size(value, LARGE_BODY) > LARGE_BODY,
        Body::Empty => false,
    }
}

/// What a valid create's fields can exercise, one bit each in [`config`]'s walk: a body of
/// twenty-odd fields would otherwise push the same few exercises over and over, and sorting
/// them away is most of the derivation's cost.
const CREATE_FIELD_EXERCISES: [Exercise; 9] = [
    positive("create.defaults"),
    negative("create.defaults"),
    positive("create.null-kept"),
    negative("create.null-kept"),
    positive("create.echo"),
    negative("create.echo"),
    negative("create.workflow-not-null"),
    positive("coerce.accepted"),
    negative("coerce.accepted"),
];
const LENGTH_24_ACCEPTED: Exercise = positive("length.24");

/// A valid create's fields, sent against stored: which were absent, null, present, coerced;
/// each a bit of [`CREATE_FIELD_EXERCISES`] (the tenth: a 24-character field sent).
fn config(sent: &Map<String, Value>, stored: &Map<String, Value>, top: bool) -> u16 {
    let mut seen = 0u16;
    for (key, kept) in stored {
        seen |= match (sent.get(key), kept) {
            (None, Value::Null) => 1 << 0,
            (None, _) => 1 << 0 | 1 << 3,
            (Some(Value::Null), _) => 1 << 2,
            (Some(Value::Object(inner)), Value::Object(kept_inner))
                if top && WORKFLOW_FIELDS.contains(&key.as_str()) =>
            {
                1 << 6 | config(inner, kept_inner, false)
            }
            (Some(value), _) => {
                let mut bits = 1 << 1 | 1 << 4;
                if value != kept {
                    // Textually different: `5.0` for 5, `"yes"` for true.
                    bits |= 1 << 7;
                } else if value.is_number() || value.is_boolean() {
                    bits |= 1 << 8;
                }
                if !top && LENGTH_24_FIELDS.contains(&key.as_str()) && value.is_string() {
                    bits |= 1 << 9;
                }
                bits
            }
        };
    }
    if sent.keys().any(|k| !stored.contains_key(k)) {
        seen |= 1 << 5;
    }
    seen
}

fn push_config(seen: u16, out: &mut Vec<Exercise>) {
    for (bit, exercise) in CREATE_FIELD_EXERCISES.iter().enumerate() {
        if seen & (1 << bit) != 0 {
            out.push(*exercise);
        }
    }
    if seen & (1 << 9) != 0 {
        out.push(LENGTH_24_ACCEPTED);
    }
}

/// A refusal, by its mutation and where it points.
fn rejected(operation: Operation, mutation: &str, pointer: &str, out: &mut Vec<Exercise>) {
    match mutation {
        "missing_body" => out.push(positive("body.missing")),
        "invalid_json" => out.push(positive("body.json-invalid")),
        "invalid_utf8" => out.push(positive("body.not-utf8")),
        "not_an_object" | "wrong_content_type" => out.push(positive("body.not-object")),
        "bad_query" => {
            out.push(positive("list.param-invalid"));
            let name = pointer.trim_start_matches('/');
            if [listing::SELECTED_WORKFLOW_ID, listing::COUNTER_WORKFLOW_ID].contains(&name) {
                out.push(negative("length.24"));
            }
        }
        "wrong_length" => {
            out.push(negative("length.24"));
            // A path id is the path's; a body field's is also the always-rejected set's.
            if operation == Operation::Create || operation == Operation::Update {
                out.push(positive("coerce.rejected"));
            }
        }
        "null_not_allowed"
            if operation == Operation::Create
                && WORKFLOW_FIELDS
                    .iter()
                    .any(|f| pointer.trim_start_matches('/') == *f) =>
        {
            out.extend([
                positive("create.workflow-not-null"),
                positive("coerce.rejected"),
            ]);
        }
        _ => out.push(positive("coerce.rejected")),
    }
    if operation == Operation::Update && !pointer.is_empty() {
        out.push(positive("update.invalid"));
    }
}

/// A valid update: which of its keys may change the record, and which must be ignored.
fn updated(patch: &Value, out: &mut Vec<Exercise>) {
    let Some(patch) = patch.as_object() else {
        return;
    };
    for (key, value) in patch {
        if UPDATE_FIELDS.contains(&key.as_str()) {
            out.push(positive("update.fields"));
            if value.is_null() || value.as_str() == Some("") {
                out.push(positive("update.null-and-empty"));
            }
        } else {
            out.push(negative("update.fields"));
        }
    }
}

/// The rules each list filter is read by.
fn filter_rules(filter: &ListFilter) -> Vec<&'static str> {
    let set = |v: &Option<String>| v.is_some();
    let mut rules = Vec::new();
    if [
        &filter.logical_id,
        &filter.status,
        &filter.selected_workflow_id,
        &filter.counter_workflow_id,
    ]
    .into_iter()
    .any(set)
    {
        rules.push("list.exact-filters");
    }
    if set(&filter.search) {
        rules.push("list.search");
    }
    if set(&filter.start) || set(&filter.end) {
        rules.push("list.time-bounds");
    }
    rules
}

/// How many filters a list used.
pub fn filter_count(filter: &ListFilter) -> usize {
    [
        &filter.logical_id,
        &filter.status,
        &filter.selected_workflow_id,
        &filter.counter_workflow_id,
        &filter.search,
        &filter.start,
        &filter.end,
    ]
    .into_iter()
    .filter(|v| v.is_some())
    .count()
}

/// A list page: what its filters, page and expectation exercise.
fn listed(observation: &Observation, expect: &ListExpectation, out: &mut Vec<Exercise>) {
    let request = &observation.case.request;
    let query = request
        .path_and_query
        .split_once('?')
        .map_or("", |(_, q)| q);
    let parameter = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    };
    let page = parameter(listing::PAGE).and_then(|p| p.parse::<u64>().ok());
    if parameter(listing::PAGE) == Some("1") || parameter(listing::PAGE_SIZE) == Some("1") {
        out.push(negative("list.param-invalid"));
    }
    if expect.filter.selected_workflow_id.is_some() || expect.filter.counter_workflow_id.is_some() {
        out.push(positive("length.24"));
    }
    let shown = observation
        .response
        .as_ref()
        .ok()
        .and_then(|r| r.json.as_ref())
        .and_then(|j| j.get("simulations"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if shown >= 2 {
        out.push(positive("list.order"));
    }
    if request.auth == Auth::OtherTeam && !expect.absent.is_empty() {
        out.push(positive("tenancy.list"));
    }
    if !expect.exact {
        return;
    }
    let matches = !expect.expected_ids.is_empty();
    if matches {
        for rule in filter_rules(&expect.filter) {
            out.push(positive(rule));
        }
        if filter_count(&expect.filter) >= 2 {
            out.push(positive("list.and"));
        }
        if request.auth == Auth::Primary {
            out.push(negative("tenancy.list"));
        }
    }
    if expect.total > expect.expected_ids.len() as u64 {
        out.push(positive("list.total"));
    }
    match page {
        None if parameter(listing::PAGE_SIZE).is_none() => out.push(positive("list.defaults")),
        Some(p) if p >= 2 => {
            out.push(negative("list.defaults"));
            if matches {
                out.push(positive("list.window"));
            }
        }
        _ => {}
    }
    if !matches && expect.total > 0 {
        out.push(negative("list.window"));
    }
}

/// The filters of `filter` each applied alone, with the rule that reads it.
pub fn single_filters(filter: &ListFilter) -> Vec<(&'static str, ListFilter)> {
    let alone = |set: &dyn Fn(&mut ListFilter)| {
        let mut only = ListFilter::default();
        set(&mut only);
        only
    };
    let mut out = Vec::new();
    let exact = "list.exact-filters";
    if let Some(v) = &filter.logical_id {
        out.push((exact, alone(&|f| f.logical_id = Some(v.clone()))));
    }
    if let Some(v) = &filter.status {
        out.push((exact, alone(&|f| f.status = Some(v.clone()))));
    }
    if let Some(v) = &filter.selected_workflow_id {
        out.push((exact, alone(&|f| f.selected_workflow_id = Some(v.clone()))));
    }
    if let Some(v) = &filter.counter_workflow_id {
        out.push((exact, alone(&|f| f.counter_workflow_id = Some(v.clone()))));
    }
    if let Some(v) = &filter.search {
        out.push(("list.search", alone(&|f| f.search = Some(v.clone()))));
    }
    if let Some(v) = &filter.start {
        out.push(("list.time-bounds", alone(&|f| f.start = Some(v.clone()))));
    }
    if let Some(v) = &filter.end {
        out.push(("list.time-bounds", alone(&|f| f.end = Some(v.clone()))));
    }
    out
}

/// The negative exercises of a list `filter` over records the scenario knows all of: a filter
/// whose only failure on some record left that record out (the nearest record on the other
/// side of that filter alone), and, with two or more filters, a record matching some but not
/// all of them.
pub fn exclusions(filter: &ListFilter, records: &[Value]) -> Vec<Exercise> {
    let singles = single_filters(filter);
    let mut out = Vec::new();
    for record in records {
        let failed: Vec<&'static str> = singles
            .iter()
            .filter(|(_, f)| !f.matches(record))
            .map(|(rule, _)| *rule)
            .collect();
        if let [rule] = failed[..] {
            out.push(negative(rule));
        }
        if singles.len() >= 2 && !failed.is_empty() && failed.len() < singles.len() {
            out.push(negative("list.and"));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::checks::{CHECKS, find};
    use crate::exchange::{Case, Request, Response, Side};
    use crate::http::{Failure, TransportError};
    use crate::spec::{Kind, Spec};

    fn spec() -> Spec {
        Spec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json"))
            .unwrap()
    }

    fn request(operation: Operation, path_and_query: &str, body: Body, auth: Auth) -> Request {
        Request {
            operation,
            method: "GET".into(),
            path_and_query: path_and_query.into(),
            content_type: Some("application/json".into()),
            body,
            auth,
        }
    }

    fn observed(request: Request, expect: Expect, status: u16, body: Value) -> Observation {
        Observation {
            case: Case { request, expect },
            response: Ok(Response::new(
                status,
                Some("application/json".into()),
                serde_json::to_vec(&body).unwrap(),
            )),
            exercises: Vec::new(),
        }
    }

    fn every_check() -> Vec<&'static Check> {
        CHECKS.iter().collect()
    }

    fn checks(names: &[&str]) -> Vec<&'static Check> {
        names.iter().map(|n| find(n).unwrap()).collect()
    }

    /// The exercises as `+id` / `-id`, to compare with a list.
    fn shown(exercises: &[Exercise]) -> Vec<String> {
        exercises
            .iter()
            .map(|e| {
                let sign = if e.side == Side::Positive { '+' } else { '-' };
                format!("{sign}{}", e.rule)
            })
            .collect()
    }

    fn has(exercises: &[Exercise], wanted: &str) -> bool {
        shown(exercises).iter().any(|e| e == wanted)
    }

    #[test]
    fn the_table_has_exactly_the_contracts_rules_in_its_order() {
        let table: Vec<&str> = RULES.iter().map(|d| d.id).collect();
        let contract: Vec<String> = crate::rules::all().into_iter().map(|r| r.id).collect();
        assert_eq!(table, contract);
        for d in RULES {
            assert!(!d.positive.is_empty(), "{}", d.id);
            assert!(d.negative.is_none_or(|n| !n.is_empty()), "{}", d.id);
        }
    }

    #[test]
    fn every_rule_is_asserted_by_a_check_and_every_check_names_rules_of_the_table() {
        for check in CHECKS {
            assert!(!check.rules.is_empty(), "{} names no rule", check.name);
            for id in check.rules {
                assert!(
                    definition(id).is_some(),
                    "{}: {id} is not a rule",
                    check.name
                );
            }
        }
        for d in RULES {
            assert!(
                CHECKS.iter().any(|c| c.rules.contains(&d.id)),
                "no check asserts {}",
                d.id
            );
        }
    }

    #[test]
    fn the_field_names_the_rules_read_are_the_specs() {
        let spec = spec();
        let patchable: Vec<&str> = spec
            .update_body
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(patchable, UPDATE_FIELDS);
        let mut not_nullable_objects: Vec<&str> = spec
            .create_body
            .fields
            .iter()
            .filter(|f| matches!(f.kind, Kind::Object(_)) && !f.nullable)
            .map(|f| f.name.as_str())
            .collect();
        not_nullable_objects.sort_unstable();
        let mut workflows = WORKFLOW_FIELDS;
        workflows.sort_unstable();
        assert_eq!(not_nullable_objects, workflows);
        for workflow in WORKFLOW_FIELDS {
            let Some(Kind::Object(inner)) = spec.create_body.field(workflow).map(|f| &f.kind)
            else {
                panic!("{workflow}")
            };
            let mut of_24: Vec<&str> = inner
                .fields
                .iter()
                .filter(|f| {
                    matches!(
                        f.kind,
                        Kind::String {
                            min_len: Some(24),
                            max_len: Some(24)
                        }
                    )
                })
                .map(|f| f.name.as_str())
                .collect();
            of_24.sort_unstable();
            let mut wanted = LENGTH_24_FIELDS;
            wanted.sort_unstable();
            assert_eq!(of_24, wanted, "{workflow}");
        }
    }

    fn create(sent: Value, stored: Value) -> Observation {
        let response = json!({"simulation": {"simulation_config": stored.clone()}});
        observed(
            request(
                Operation::Create,
                "/s",
                Body::Json(sent.clone()),
                Auth::Primary,
            ),
            Expect::Accept { sent, stored },
            200,
            response,
        )
    }

    #[test]
    fn a_create_exercises_each_side_of_defaults_nulls_echo_and_coercion_by_its_fields() {
        let id = "a".repeat(24);
        let o = create(
            json!({"max_events": "5.0", "number_of_simulations": 2, "description": null,
                   "selected_workflow": {"workflow_id": id}, "x-unknown": 1}),
            json!({"max_events": 5, "number_of_simulations": 2, "description": null,
                   "timeout_seconds": null, "stop_on_failure": false,
                   "selected_workflow": {"workflow_id": id, "run_id": null}}),
        );
        let got = exercises(&o, &every_check());
        for wanted in [
            "+create.defaults",
            "-create.defaults",
            "+create.null-kept",
            "-create.null-kept",
            "+create.echo",
            "-create.echo",
            "-create.workflow-not-null",
            "+coerce.accepted",
            "-coerce.accepted",
            "+length.24",
            "+create.status",
            "+create.server-fields",
            "+auth.required",
            "+never.5xx",
            "+schema.response",
        ] {
            assert!(has(&got, wanted), "{wanted} in {:?}", shown(&got));
        }
        // Nearest wrong derivation: a body with every field present, canonical, and no unknown key.
        let full = create(
            json!({"timeout_seconds": null, "stop_on_failure": false}),
            json!({"timeout_seconds": null, "stop_on_failure": false}),
        );
        let got = exercises(&full, &every_check());
        for unwanted in [
            "+create.defaults",
            "-create.null-kept",
            "-create.echo",
            "+coerce.accepted",
            "-body.missing",
            "+length.24",
        ] {
            assert!(!has(&got, unwanted), "{unwanted} in {:?}", shown(&got));
        }
        assert!(has(&got, "-coerce.accepted") && has(&got, "+create.null-kept"));
        let empty = create(json!({}), json!({"timeout_seconds": null}));
        assert!(has(&exercises(&empty, &every_check()), "-body.missing"));
    }

    #[test]
    fn only_a_check_that_applied_and_names_the_rule_keeps_an_exercise() {
        let o = create(json!({}), json!({"max_events": 500}));
        // The schema and 5xx checks applied, the create's own checks did not.
        let got = exercises(
            &o,
            &checks(&["not_a_server_error", "response_schema_conformance"]),
        );
        assert_eq!(shown(&got), ["+never.5xx", "+schema.response"]);
        let mut with_scenario = o.clone();
        with_scenario.exercises = vec![positive("never.lost"), negative("tenancy.item")];
        // The read-back check keeps the scenario's words and the keyed request it judged served.
        let got = exercises(&with_scenario, &checks(&["state_persisted"]));
        assert_eq!(
            shown(&got),
            ["+auth.required", "+never.lost", "-tenancy.item"]
        );
        assert!(exercises(&with_scenario, &checks(&["method_not_allowed"])).is_empty());
    }

    #[test]
    fn a_request_without_a_response_exercises_nothing() {
        let mut o = create(json!({}), json!({"max_events": 500}));
        o.response = Err(TransportError {
            kind: Failure::NoResponse,
            message: "reset".into(),
            lost_attempts: 0,
        });
        o.exercises = vec![positive("never.lost")];
        assert!(exercises(&o, &every_check()).is_empty());
    }

    fn refused(auth: Auth) -> Vec<String> {
        let o = observed(
            request(Operation::List, "/s", Body::Empty, auth),
            Expect::Unauthorized { detail: "x" },
            401,
            json!({"detail": "x"}),
        );
        shown(&exercises(&o, &checks(&["auth_enforced"])))
    }

    #[test]
    fn a_refused_key_is_missing_or_unknown_by_what_was_sent() {
        let missing = ["+auth.missing", "-auth.required", "-auth.unknown"];
        assert_eq!(refused(Auth::None), missing);
        assert_eq!(refused(Auth::Literal("Token abc".into())), missing);
        // An empty credential is not a key, even after the scheme.
        assert_eq!(refused(Auth::Literal("Bearer ".into())), missing);
        assert_eq!(refused(Auth::Literal("Bearer".into())), missing);
        assert_eq!(
            refused(Auth::Literal("Bearer unknown-1".into())),
            ["-auth.missing", "-auth.required", "+auth.unknown"]
        );
    }

    fn reject(operation: Operation, mutation: &'static str, pointer: &str) -> Vec<String> {
        let o = observed(
            request(operation, "/s", Body::Empty, Auth::Primary),
            Expect::Reject {
                mutation,
                pointer: pointer.into(),
                status: 422,
                locus: None,
            },
            422,
            json!({"detail": []}),
        );
        let got = exercises(&o, &checks(&["negative_data_rejection"]));
        shown(&got)
    }

    #[test]
    fn a_refusal_exercises_the_rule_its_mutation_breaks() {
        assert_eq!(
            reject(Operation::Get, "wrong_length", "/simulation_id"),
            ["-length.24"]
        );
        assert_eq!(
            reject(
                Operation::Create,
                "wrong_length",
                "/selected_workflow/run_id"
            ),
            ["+coerce.rejected", "-length.24"]
        );
        assert_eq!(
            reject(Operation::Create, "null_not_allowed", "/counter_workflow"),
            ["+coerce.rejected", "+create.workflow-not-null"]
        );
        assert_eq!(
            reject(Operation::Create, "wrong_type", "/max_events"),
            ["+coerce.rejected"]
        );
        assert_eq!(
            reject(Operation::List, "bad_query", "/selected_workflow_id"),
            ["-length.24", "+list.param-invalid"]
        );
        assert_eq!(
            reject(Operation::List, "bad_query", "/size"),
            ["+list.param-invalid"]
        );
        assert_eq!(
            reject(Operation::Update, "enum_violation", "/status"),
            ["+coerce.rejected", "+update.invalid"]
        );
        // A body-level refusal of an update is the body's rule, not a value's.
        assert_eq!(
            reject(Operation::Update, "not_an_object", ""),
            ["+body.not-object"]
        );
        assert_eq!(
            reject(Operation::Create, "invalid_utf8", ""),
            ["+body.not-utf8"]
        );
    }

    fn update(patch: Value) -> Vec<String> {
        let before = json!({"simulation_config": {}});
        let o = observed(
            request(
                Operation::Update,
                "/s/x",
                Body::Json(patch.clone()),
                Auth::Primary,
            ),
            Expect::Updated {
                before,
                patch,
                strictly_later: false,
            },
            200,
            json!({"simulation": {}}),
        );
        shown(&exercises(&o, &checks(&["update_semantics"])))
    }

    #[test]
    fn an_update_changes_the_patchable_fields_and_ignores_the_rest() {
        assert_eq!(
            update(json!({"status": "running"})),
            ["+update.fields", "+update.timestamps"]
        );
        assert_eq!(
            update(json!({"description": "", "max_events": 3})),
            [
                "+update.fields",
                "-update.fields",
                "+update.null-and-empty",
                "+update.timestamps"
            ]
        );
        assert_eq!(
            update(json!({"x-unknown-a": true})),
            ["-update.fields", "+update.timestamps"]
        );
    }

    fn list(query: &str, auth: Auth, expect: ListExpectation, shown_ids: usize) -> Vec<String> {
        let page: Vec<Value> = (0..shown_ids).map(|i| json!({"_id": i})).collect();
        let o = observed(
            request(Operation::List, &format!("/s?{query}"), Body::Empty, auth),
            Expect::Listed(expect),
            200,
            json!({"simulations": page, "total": 0}),
        );
        shown(&exercises(&o, &checks(&["list_conformance"])))
    }

    fn search_and_status() -> ListFilter {
        ListFilter {
            search: Some("w".into()),
            status: Some("running".into()),
            ..ListFilter::default()
        }
    }

    #[test]
    fn a_list_exercises_its_filters_only_when_judged_exactly_with_matches() {
        let expect = |exact, ids: Vec<&str>, total| ListExpectation {
            filter: search_and_status(),
            exact,
            expected_ids: ids.into_iter().map(str::to_owned).collect(),
            total,
            absent: vec![],
        };
        assert_eq!(
            list(
                "size=1&page=1",
                Auth::Primary,
                expect(true, vec!["a"], 3),
                1
            ),
            [
                "+list.and",
                "+list.exact-filters",
                "+list.search",
                "+list.total",
                "-tenancy.list"
            ]
        );
        // Only sound: the page may miss matches, so no filter's positive side was judged.
        assert_eq!(
            list("size=5&page=1", Auth::Primary, expect(false, vec![], 0), 2),
            ["+list.order"]
        );
        assert_eq!(
            list(
                "size=2&page=2",
                Auth::Primary,
                expect(true, vec!["c"], 3),
                1
            ),
            [
                "+list.and",
                "-list.defaults",
                "+list.exact-filters",
                "+list.search",
                "+list.total",
                "+list.window",
                "-tenancy.list"
            ]
        );
        // Past the last match: the window's other side, and no filter matched anything.
        assert_eq!(
            list("size=2&page=3", Auth::Primary, expect(true, vec![], 3), 0),
            ["-list.defaults", "+list.total", "-list.window"]
        );
        assert_eq!(
            list("", Auth::Primary, expect(true, vec!["a"], 1), 1),
            [
                "+list.and",
                "+list.defaults",
                "+list.exact-filters",
                "+list.search",
                "-tenancy.list"
            ]
        );
        let other_team = ListExpectation {
            absent: vec!["a".into()],
            ..expect(true, vec![], 0)
        };
        assert_eq!(
            list("size=10&page=1", Auth::OtherTeam, other_team, 0),
            ["+tenancy.list"]
        );
    }

    fn record(description: &str, status: &str) -> Value {
        json!({"_id": "a", "created_at": "2026-01-01T00:00:00Z",
               "simulation_config": {"logical_id": "l", "description": description, "status": status}})
    }

    #[test]
    fn a_record_left_out_by_one_filter_alone_is_that_filters_negative_side() {
        let filter = search_and_status();
        let shown_of = |records: &[Value]| shown(&exclusions(&filter, records));
        assert!(shown_of(&[record("w", "running")]).is_empty());
        assert_eq!(
            shown_of(&[record("none", "running")]),
            ["-list.and", "-list.search"]
        );
        assert_eq!(
            shown_of(&[record("w", "pending")]),
            ["-list.and", "-list.exact-filters"]
        );
        // Failing every filter says nothing about AND, nor about which filter left it out.
        assert!(shown_of(&[record("none", "pending")]).is_empty());
        let search_only = ListFilter {
            search: Some("w".into()),
            ..ListFilter::default()
        };
        assert_eq!(
            shown(&exclusions(&search_only, &[record("none", "running")])),
            ["-list.search"]
        );
    }

    fn item(operation: Operation, auth: Auth, expect: Expect) -> Vec<String> {
        let o = observed(
            request(operation, "/s/x", Body::Empty, auth),
            expect,
            404,
            json!({"detail": "Simulation not found"}),
        );
        shown(&exercises(
            &o,
            &checks(&["not_found", "positive_data_acceptance"]),
        ))
    }

    #[test]
    fn a_404_is_tenancy_for_another_team_and_not_found_for_the_owner() {
        assert_eq!(
            item(Operation::Delete, Auth::OtherTeam, Expect::NotFound),
            ["+auth.required", "+length.24", "+tenancy.item"]
        );
        assert_eq!(
            item(Operation::Get, Auth::Primary, Expect::NotFound),
            ["+auth.required", "+item.not-found", "+length.24"]
        );
        assert_eq!(
            item(Operation::Delete, Auth::Primary, Expect::Success),
            [
                "+auth.required",
                "+delete.gone",
                "-item.not-found",
                "+length.24"
            ]
        );
    }

    #[test]
    fn a_large_body_is_measured_without_serialising_it() {
        let big = "x".repeat(LARGE_BODY);
        assert!(is_large(&Body::Json(json!({ "description": big }))));
        assert!(!is_large(&Body::Json(json!({"description": "x"}))));
        assert!(is_large(&Body::Bytes(vec![b' '; LARGE_BODY + 1])));
        assert!(!is_large(&Body::Bytes(vec![b' '; LARGE_BODY])));
    }
}
