//! Contract coverage: for each rule of CONTRACT.md, the situations that separate a right server from its nearest wrong ones, and how often a check asserted the rule in each.
//!
//! A rule is not "exercised" by being touched. For every rule, [`RULES`] lists the situations
//! CONTRACT.md's words call for (category partition and boundary values: each operation the
//! rule covers, each documented number and the side of it a wrong server gets wrong, zero, one,
//! a page and more than a page, each identity, absent and present and null), and marks the
//! few the suite cannot reach, with why. An exchange credits a situation when two things hold:
//! the request was in that situation (read off the request, its [`Expect`] and, for what only
//! the sequence knows, [`Observation::exercises`]), and a check compared something the rule
//! demands on that response and found it right or wrong ([`crate::verdict::Applied::Passed`]
//! carries the rules a check asserted; a check that did not apply, or passed without comparing,
//! asserted nothing). A request that got no response credits nothing.
//!
//! The summary counts situations; `--coverage FILE` lists each rule's situations with their
//! counts, the ones never asserted, and the unreachable ones with why.

use serde_json::{Map, Value};

use crate::listing::{self, ListExpectation, ListFilter};
use crate::request::{Auth, Body, Elsewhere, Exercise, Expect, Locus, Request, exercise};
use crate::rules::{Rule, RuleSet};
use crate::spec::Operation;
use crate::verdict::Observation;

/// One situation of a rule: a name (unique within the rule), what it is, and, for the few the
/// suite cannot arrange over HTTP, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Situation {
    pub name: &'static str,
    pub text: &'static str,
    pub unreachable: Option<&'static str>,
}

const fn s(name: &'static str, text: &'static str) -> Situation {
    Situation {
        name,
        text,
        unreachable: None,
    }
}

const fn unreachable(name: &'static str, text: &'static str, why: &'static str) -> Situation {
    Situation {
        name,
        text,
        unreachable: Some(why),
    }
}

/// A rule and the situations that separate it from its nearest wrong implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definition {
    pub rule: Rule,
    pub situations: &'static [Situation],
}

const fn rule(rule: Rule, situations: &'static [Situation]) -> Definition {
    Definition { rule, situations }
}

/// The situation a delete's sequence names for every request after it; coverage names the
/// operation (`get-after-delete`, …).
pub(crate) const AFTER_DELETE: &str = "after-delete";

/// One row per rule of CONTRACT.md, in its order.
pub const RULES: &[Definition] = &[
    rule(
        Rule::AuthRequired,
        &[
            s("keyed", "a request with the run's key is served"),
            s(
                "respelled",
                "the run's key with the scheme in another case, or padded with white space, is served",
            ),
            s("other-team", "another team's key is served"),
            s(
                "no-key",
                "a request without a usable key is refused with 401",
            ),
            s(
                "refused-changed-nothing",
                "a read after a refused key's write shows the write changed nothing",
            ),
        ],
    ),
    rule(
        Rule::AuthMissing,
        &[
            s(
                "no-header",
                "no Authorization header: 401 Not authenticated",
            ),
            s(
                "other-scheme",
                "a scheme other than Bearer: 401 Not authenticated",
            ),
            s(
                "empty-credential",
                "Bearer with an empty credential: 401 Not authenticated",
            ),
            s(
                "key-in-other-header",
                "the run's key in another header (X-API-Key, Api-Key) and no Authorization: 401 Not authenticated",
            ),
            s(
                "key-in-query",
                "the run's key as a query parameter and no Authorization: 401 Not authenticated",
            ),
            s(
                "respelled-key-served",
                "the run's key respelled as the contract allows is not refused",
            ),
        ],
    ),
    rule(
        Rule::AuthUnknown,
        &[
            s(
                "unknown-key",
                "a well-formed unknown key: 401 Invalid API key",
            ),
            s(
                "altered-key",
                "the run's key in another letter case, with a character changed or cut short: 401 Invalid API key",
            ),
            s(
                "missing-not-unknown",
                "a missing or malformed key is not answered Invalid API key",
            ),
        ],
    ),
    rule(
        Rule::TenancyItem,
        &[
            s("get", "another team's get of a record: 404"),
            s("update", "another team's update of a record: 404"),
            s("delete", "another team's delete of a record: 404"),
            s(
                "own-key-foreign-record",
                "the run's key on another team's record: 404",
            ),
            s(
                "unchanged-after",
                "the record reads back unchanged after another team's attempts",
            ),
            s("owner-served", "the owner's read of that record is served"),
        ],
    ),
    rule(
        Rule::TenancyList,
        &[
            s(
                "other-team-list",
                "another team's list leaves the record out",
            ),
            s("owner-list", "the owner's exact list holds its own records"),
            unreachable(
                "unfiltered-total",
                "an unfiltered list's total counts the caller's team only",
                "needs every record of the team known; on a shared service other clients of the team write too",
            ),
        ],
    ),
    rule(
        Rule::SchemaResponse,
        &[
            s("create", "a create's 2xx body judged against the spec"),
            s("get", "a get's 2xx body judged against the spec"),
            s("update", "an update's 2xx body judged against the spec"),
            s("list", "a list's 2xx body judged against the spec"),
            s("delete", "a delete's 2xx body judged against the spec"),
        ],
    ),
    rule(
        Rule::SchemaErrors,
        &[
            s("400", "a 400 body judged"),
            s("401", "a 401 body judged"),
            s("404", "a 404 body judged"),
            s("405", "a 405 body judged"),
            s("422", "a 422 body judged"),
            s(
                "several-violations",
                "a 422 for several invalid fields: one entry per violation",
            ),
            unreachable(
                "413",
                "a 413 body judged",
                "a body over 1 MiB may be served; judged when the server refuses one",
            ),
        ],
    ),
    rule(
        Rule::CreateStatus,
        &[
            s(
                "empty-object",
                "a create of {} answered 200 with a simulation",
            ),
            s(
                "fields-sent",
                "a create with fields answered 200 with a simulation",
            ),
        ],
    ),
    rule(
        Rule::CreateServerFields,
        &[s(
            "create",
            "an accepted create's ids, owners and timestamps",
        )],
    ),
    rule(
        Rule::CreateDefaults,
        &[
            s(
                "absent-top",
                "an absent top-level field stored as its default",
            ),
            s(
                "absent-nested",
                "an absent field of a sent workflow object stored as its default",
            ),
            s("present-kept", "a sent field not replaced by its default"),
        ],
    ),
    rule(
        Rule::CreateNullKept,
        &[
            s("null-stored", "an explicit null stored as null"),
            s(
                "absent-not-null",
                "an absent field with a non-null default not stored as null",
            ),
        ],
    ),
    rule(
        Rule::CreateEcho,
        &[
            s("sent-stored", "a sent field stored canonicalised"),
            s("unknown-top", "an unknown top-level key not stored"),
            s(
                "unknown-nested",
                "an unknown key inside a workflow object not stored",
            ),
            s(
                "respelled-field",
                "a field's name respelled (camelCase, kebab-case, …) not read as the field",
            ),
        ],
    ),
    rule(
        Rule::CreateWorkflowNotNull,
        &[
            s("selected-null", "selected_workflow null: 422"),
            s("counter-null", "counter_workflow null: 422"),
            s("object-accepted", "a workflow object sent and accepted"),
        ],
    ),
    rule(
        Rule::CoerceAccepted,
        &[
            s(
                "non-canonical",
                "a non-canonical integer or boolean stored canonicalised",
            ),
            s(
                "canonical-unchanged",
                "a canonical number or boolean stored unchanged",
            ),
            s(
                "unix-time-query",
                "a number as a date-time query value read as Unix time",
            ),
        ],
    ),
    rule(
        Rule::CoerceRejected,
        &[
            s(
                "create-field",
                "a create field of the always-rejected set: 422 at its loc",
            ),
            s(
                "update-field",
                "an update field of the always-rejected set: 422 at its loc",
            ),
        ],
    ),
    rule(
        Rule::CoerceUnspecified,
        &[
            s("probe", "an unspecified input: no 5xx, typed if accepted"),
            s(
                "stable-read-back",
                "an accepted unspecified input reads back as the create stored it",
            ),
        ],
    ),
    rule(
        Rule::Length24,
        &[
            s(
                "body-accepted",
                "a 24-character workflow_id or run_id accepted",
            ),
            s("path-accepted", "a 24-character path id served"),
            s(
                "filter-accepted",
                "a 24-character workflow-id filter accepted",
            ),
            s(
                "body-shorter",
                "a workflow_id or run_id one character short: 422",
            ),
            s(
                "body-longer",
                "a workflow_id or run_id one character long: 422",
            ),
            s("path-shorter", "a path id one character short: 422"),
            s("path-longer", "a path id one character long: 422"),
            s(
                "filter-shorter",
                "a workflow-id filter one character short: 422",
            ),
            s(
                "filter-longer",
                "a workflow-id filter one character long: 422",
            ),
        ],
    ),
    rule(
        Rule::BodyMissing,
        &[
            s("create", "a create without a body: 422 missing"),
            s("update", "an update without a body: 422 missing"),
            s("empty-object-accepted", "a create of {} accepted"),
        ],
    ),
    rule(
        Rule::BodyJsonInvalid,
        &[
            s(
                "create",
                "a create whose JSON does not parse: 422 at its offset",
            ),
            s(
                "update",
                "an update whose JSON does not parse: 422 at its offset",
            ),
        ],
    ),
    rule(
        Rule::BodyNotObject,
        &[
            s(
                "create-non-object",
                "a create of JSON that is not an object: 422",
            ),
            s(
                "update-non-object",
                "an update of JSON that is not an object: 422",
            ),
            s("create-content-type", "a create not declared JSON: 422"),
            s("update-content-type", "an update not declared JSON: 422"),
        ],
    ),
    rule(
        Rule::BodyNotUtf8,
        &[
            s(
                "create",
                "a create body Python's JSON reader cannot decode: 400",
            ),
            s(
                "update",
                "an update body Python's JSON reader cannot decode: 400",
            ),
        ],
    ),
    rule(
        Rule::BodyTooLarge,
        &[
            s(
                "over-limit",
                "a body over 1 MiB: 413 or served, never a 5xx",
            ),
            s(
                "just-under",
                "a valid body between 10^6 bytes and 1 MiB served",
            ),
            s("at-limit", "a valid body of exactly 1 MiB served"),
        ],
    ),
    rule(
        Rule::ListDefaults,
        &[
            s(
                "no-size-no-page",
                "a list without size and page holds the first page",
            ),
            s(
                "page-given",
                "a list whose page is 2 or more is not answered with page 1",
            ),
            s(
                "more-than-a-default-page",
                "a list without size over more than 100 matches holds exactly 100",
            ),
        ],
    ),
    rule(
        Rule::ListSearch,
        &[
            s(
                "match-listed",
                "a record containing the searched text listed",
            ),
            s("non-match-left-out", "a record without it left out"),
            s(
                "null-field-not-text",
                "a record whose searched field is null left out of a search for `none` or `null` (a null is no text)",
            ),
            s(
                "spanning-needle-left-out",
                "a record left out of a search for the end of its logical_id, a space and the start of its description (each field is searched on its own)",
            ),
            s(
                "padded-needle-left-out",
                "a record left out of a search for text it holds wrapped in white space it does not hold (the needle is searched as sent, never stripped)",
            ),
        ],
    ),
    rule(
        Rule::ListTimeBounds,
        &[
            s(
                "within-listed",
                "a record created within start and end listed",
            ),
            s("outside-left-out", "a record created outside them left out"),
            s(
                "truncated-bound",
                "a record left out by a bound derived from a created_at (midnight of its day, its second, 1 µs or 1 s away), not any record's own",
            ),
            s(
                "other-offset",
                "a bound written with a non-zero UTC offset read at its instant",
            ),
            s(
                "unix-start-left-out",
                "a record left out by a start in Unix seconds (read as milliseconds, a day of January 1970, it would be listed)",
            ),
        ],
    ),
    rule(
        Rule::ListExactFilters,
        &[
            s(
                "logical_id",
                "a record with the logical_id filter's exact value listed",
            ),
            s(
                "status",
                "a record with the status filter's exact value listed",
            ),
            s(
                "selected_workflow_id",
                "a record with the selected_workflow_id filter's exact value listed",
            ),
            s(
                "counter_workflow_id",
                "a record with the counter_workflow_id filter's exact value listed",
            ),
            s(
                "other-value-left-out",
                "a record with another value left out",
            ),
        ],
    ),
    rule(
        Rule::ListAnd,
        &[
            s(
                "all-match-listed",
                "a record matching two or more filters listed",
            ),
            s(
                "some-match-left-out",
                "a record matching some of the filters but not all left out",
            ),
        ],
    ),
    rule(
        Rule::ListOrder,
        &[
            s("two-or-more", "a page of two or more records newest first"),
            s(
                "matched-different-ways",
                "a search's page where a record matched by its description alone is newer than one matched by its logical_id alone, and listed first",
            ),
            unreachable(
                "tie",
                "two records with one created_at ordered by _id descending",
                "two creates landing on one created_at cannot be arranged over HTTP; credited when it happens",
            ),
        ],
    ),
    rule(
        Rule::ListTotal,
        &[
            s("beyond-page", "a total counting matches beyond the page"),
            s("zero", "a total of 0 for no match"),
            s("whole-page", "a total equal to the page's matches"),
        ],
    ),
    rule(
        Rule::ListWindow,
        &[
            s(
                "later-page",
                "a page after the first holding its window of the matches",
            ),
            s(
                "partial-last-page",
                "a last page after the first, shorter than size",
            ),
            s(
                "past-last",
                "a page past the last match empty, with the full total",
            ),
            s(
                "over-100",
                "a page of size over 100 holding more than 100 matches",
            ),
        ],
    ),
    rule(
        Rule::ListParamInvalid,
        &[
            s(
                "page-zero",
                "page=0, just below its minimum: 422 at [query, page]",
            ),
            s("page-negative", "a negative page: 422 at [query, page]"),
            s(
                "page-not-integer",
                "a page that is not an integer: 422 at [query, page]",
            ),
            s(
                "size-zero",
                "size=0, just below its minimum: 422 at [query, size]",
            ),
            s("size-negative", "a negative size: 422 at [query, size]"),
            s(
                "size-not-integer",
                "a size that is not an integer: 422 at [query, size]",
            ),
            s("status", "a status not in the enum: 422 at [query, status]"),
            s(
                "date-time",
                "a start or end that is not a date-time: 422 at its name",
            ),
            s(
                "workflow-id",
                "a workflow-id filter that is not 24 characters: 422 at its name",
            ),
            s("bound-accepted", "a page or size of 1 accepted"),
        ],
    ),
    rule(
        Rule::GetFound,
        &[s("get", "a stored record read back as stored")],
    ),
    rule(
        Rule::ItemNotFound,
        &[
            s("get", "a get of an unknown 24-character id: 404"),
            s("update", "an update of an unknown 24-character id: 404"),
            s("delete", "a delete of an unknown 24-character id: 404"),
            s("non-hex", "an unknown 24-character id that is not hex: 404"),
            s(
                "upper-cased-id",
                "a known id upper-cased is another id: 404",
            ),
            s("known-served", "a known id served"),
        ],
    ),
    rule(
        Rule::UpdateFields,
        &[
            s("description", "description changed by an update"),
            s("status", "status changed by an update"),
            s("other-keys-ignored", "other keys of an update ignored"),
        ],
    ),
    rule(
        Rule::UpdateInvalid,
        &[
            s("refused", "an invalid update value: 422 at [\"body\", key]"),
            s(
                "unchanged-after",
                "the record reads back unchanged after it",
            ),
        ],
    ),
    rule(
        Rule::UpdateNullAndEmpty,
        &[
            s("null", "a null stored by an update"),
            s("empty-string", "an empty string stored by an update"),
        ],
    ),
    rule(
        Rule::UpdateTimestamps,
        &[s(
            "update",
            "an update's updated_at, updated_by and unchanged fields",
        )],
    ),
    rule(
        Rule::UpdatePersisted,
        &[
            s("read-after-update", "a read after an update shows it"),
            s(
                "concurrent",
                "after concurrent updates of different fields, both survive",
            ),
        ],
    ),
    rule(
        Rule::DeleteGone,
        &[
            s("delete", "a delete answered 200"),
            s("get-after-delete", "a get after the delete: 404"),
            s("update-after-delete", "an update after the delete: 404"),
            s("delete-after-delete", "a second delete: 404"),
            s("list-after-delete", "a list after the delete leaves it out"),
        ],
    ),
    rule(
        Rule::MethodNotAllowed,
        &[
            s(
                "collection",
                "an unsupported method on the collection: 405 with its Allow",
            ),
            s(
                "item",
                "an unsupported method on an item: 405 with its Allow",
            ),
            s("head", "HEAD: 405"),
            s("options", "OPTIONS: 405"),
        ],
    ),
    rule(
        Rule::Never5xx,
        &[
            s("any", "any response below 500"),
            s(
                "non-finite-number",
                "NaN, Infinity or 1e400 in a typed field (stock FastAPI answers 500)",
            ),
            s(
                "lone-surrogate",
                "a string holding a lone UTF-16 surrogate (stock FastAPI answers 500)",
            ),
            s(
                "deep-nesting",
                "dynamic_variables nested 255 levels or deeper (stock FastAPI answers 500)",
            ),
        ],
    ),
    rule(
        Rule::NeverLost,
        &[
            s(
                "after-refused-update",
                "a record reads back unchanged after a refused update",
            ),
            s(
                "after-other-team",
                "a record reads back unchanged after another team's attempts",
            ),
            s(
                "after-refused-key",
                "a record reads back unchanged after a refused key's attempts",
            ),
        ],
    ),
];

/// The definition of one rule.
pub(crate) fn definition(rule: Rule) -> &'static Definition {
    &RULES[rule.index()]
}

/// `create.workflow-not-null`: the create body's workflow objects, as the rule names them.
const WORKFLOW_FIELDS: [&str; 2] = ["selected_workflow", "counter_workflow"];
/// `length.24`: the workflow objects' fields of exactly 24 characters.
const LENGTH_24_FIELDS: [&str; 2] = ["workflow_id", "run_id"];
/// `update.fields`: what an update may change. A test holds it to the spec's update body.
const UPDATE_FIELDS: [&str; 2] = ["description", "status"];
/// `body.too-large`: the size above which a body may be refused with 413.
const LARGE_BODY: usize = 1 << 20;
/// `body.too-large`: a body above this and within [`LARGE_BODY`] must be served: a server
/// that took "1 MiB" for 10^6 bytes refuses it.
const JUST_UNDER: usize = 1_000_000;
/// `list.defaults`: the page size when `size` is absent.
const DEFAULT_PAGE: u64 = 100;
/// `auth.missing` / `auth.unknown`: the scheme whose non-empty credential is a key.
const BEARER: &str = "Bearer ";

/// The situations `observation` asserted, each once, given the rules the checks asserted on
/// its response. No response, no exercise.
pub fn exercises(observation: &Observation, asserted: RuleSet) -> Vec<Exercise> {
    let Ok(response) = &observation.response else {
        return Vec::new();
    };
    let mut out = Vec::new();
    candidates(observation, response.status, &mut out);
    let operation = observation.case.request.operation;
    out.extend(observation.exercises.iter().map(|e| refine(*e, operation)));
    out.sort_unstable();
    out.dedup();
    out.retain(|e| asserted.contains(e.rule));
    out
}

/// A sequence's `after-delete` named by the operation that followed the delete.
fn refine(e: Exercise, operation: Operation) -> Exercise {
    if e.rule != Rule::DeleteGone || e.situation != AFTER_DELETE {
        return e;
    }
    let situation = match operation {
        Operation::Get => "get-after-delete",
        Operation::Update => "update-after-delete",
        Operation::Delete => "delete-after-delete",
        Operation::List => "list-after-delete",
        Operation::Create => return e,
    };
    exercise(Rule::DeleteGone, situation)
}

fn operation_name(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "create",
        Operation::Get => "get",
        Operation::Update => "update",
        Operation::List => "list",
        Operation::Delete => "delete",
    }
}

/// Every situation the request and its expectation were in, before the checks decide.
fn candidates(observation: &Observation, status: u16, out: &mut Vec<Exercise>) {
    let case = &observation.case;
    let request = &case.request;
    let operation = request.operation;
    let on_item = matches!(
        operation,
        Operation::Get | Operation::Update | Operation::Delete
    );
    out.push(exercise(Rule::Never5xx, "any"));
    if let Some(hazard) = crate::hazard::Hazard::of(case) {
        out.push(exercise(Rule::Never5xx, hazard.situation()));
    }
    if (200..300).contains(&status) {
        out.push(exercise(Rule::SchemaResponse, operation_name(operation)));
    } else if let Some(name) = error_status_name(status) {
        out.push(exercise(Rule::SchemaErrors, name));
    }
    match body_size(&request.body) {
        Size::Over => out.push(exercise(Rule::BodyTooLarge, "over-limit")),
        Size::JustUnder { exact } if matches!(case.expect, Expect::Accept { .. }) => {
            out.push(exercise(Rule::BodyTooLarge, "just-under"));
            if exact == LARGE_BODY {
                out.push(exercise(Rule::BodyTooLarge, "at-limit"));
            }
        }
        _ => {}
    }
    if let Expect::Unauthorized { .. } = &case.expect {
        out.push(exercise(Rule::AuthRequired, "no-key"));
        match &request.auth {
            auth if is_unknown_key(auth) => out.push(exercise(Rule::AuthUnknown, "unknown-key")),
            Auth::None => out.extend([
                exercise(Rule::AuthMissing, "no-header"),
                exercise(Rule::AuthUnknown, "missing-not-unknown"),
            ]),
            Auth::KeyElsewhere(elsewhere) => out.extend([
                exercise(
                    Rule::AuthMissing,
                    match elsewhere {
                        Elsewhere::Header(_) => "key-in-other-header",
                        Elsewhere::Query(_) => "key-in-query",
                    },
                ),
                exercise(Rule::AuthUnknown, "missing-not-unknown"),
            ]),
            Auth::KeyAltered(_) => out.push(exercise(Rule::AuthUnknown, "altered-key")),
            Auth::Literal(value) => {
                let situation = match value.get(..BEARER.len()) {
                    Some(scheme) if scheme.eq_ignore_ascii_case(BEARER) => "empty-credential",
                    _ if value.eq_ignore_ascii_case(BEARER.trim_end()) => "empty-credential",
                    _ => "other-scheme",
                };
                out.extend([
                    exercise(Rule::AuthMissing, situation),
                    exercise(Rule::AuthUnknown, "missing-not-unknown"),
                ]);
            }
            _ => {}
        }
        return;
    }
    let served = !matches!(
        case.expect,
        Expect::Reject { .. } | Expect::NotAllowed { .. } | Expect::Probe { .. }
    );
    match request.auth {
        Auth::Primary if served => out.push(exercise(Rule::AuthRequired, "keyed")),
        Auth::PrimaryRespelled { .. } if served => {
            out.push(exercise(Rule::AuthRequired, "respelled"));
        }
        Auth::OtherTeam if served => out.push(exercise(Rule::AuthRequired, "other-team")),
        _ => {}
    }
    let served_id = matches!(
        case.expect,
        Expect::NotFound | Expect::Simulation { .. } | Expect::Updated { .. } | Expect::Success
    );
    if on_item && served_id {
        out.push(exercise(Rule::Length24, "path-accepted"));
    }
    match &case.expect {
        Expect::Accept { sent, stored } if operation == Operation::Create => {
            if let (Value::Object(sent), Value::Object(stored)) = (sent, stored) {
                if sent.is_empty() {
                    out.extend([
                        exercise(Rule::CreateStatus, "empty-object"),
                        exercise(Rule::BodyMissing, "empty-object-accepted"),
                    ]);
                } else {
                    out.push(exercise(Rule::CreateStatus, "fields-sent"));
                }
                push_config(config(sent, stored, true), out);
            }
        }
        Expect::Probe { .. } => out.push(exercise(Rule::CoerceUnspecified, "probe")),
        Expect::Reject {
            mutation,
            pointer,
            locus,
            ..
        } => {
            rejected(request, mutation, pointer, out);
            if matches!(locus, Some(Locus::Every(_))) {
                out.push(exercise(Rule::SchemaErrors, "several-violations"));
            }
        }
        Expect::Simulation { .. } if operation == Operation::Get => {
            out.push(exercise(Rule::GetFound, "get"));
        }
        Expect::Updated { patch, .. } => {
            out.push(exercise(Rule::UpdateTimestamps, "update"));
            updated(patch, out);
        }
        Expect::Listed(expect) => listed(observation, expect, out),
        Expect::Success if operation == Operation::Delete => {
            out.push(exercise(Rule::DeleteGone, "delete"));
        }
        Expect::NotAllowed { .. } => {
            let situation = match request.method.as_str() {
                "HEAD" => "head",
                "OPTIONS" => "options",
                _ if on_item => "item",
                _ => "collection",
            };
            out.push(exercise(Rule::MethodNotAllowed, situation));
        }
        Expect::NotFound if on_item => match request.auth {
            Auth::OtherTeam => out.push(exercise(Rule::TenancyItem, operation_name(operation))),
            Auth::Primary | Auth::PrimaryRespelled { .. } => {
                out.push(exercise(Rule::ItemNotFound, operation_name(operation)));
                if path_id(&request.path_and_query)
                    .is_some_and(|id| !id.bytes().all(|b| b.is_ascii_hexdigit()))
                {
                    out.push(exercise(Rule::ItemNotFound, "non-hex"));
                }
            }
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
        out.push(exercise(Rule::ItemNotFound, "known-served"));
    }
    if operation == Operation::Create && (200..300).contains(&status) {
        out.push(exercise(Rule::CreateServerFields, "create"));
    }
}

/// The situation of `schema.errors` an error status is.
fn error_status_name(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "400",
        401 => "401",
        404 => "404",
        405 => "405",
        413 => "413",
        422 => "422",
        _ => return None,
    })
}

/// The id of an item path (its last segment, before any query).
fn path_id(path_and_query: &str) -> Option<&str> {
    let path = path_and_query.split('?').next()?;
    path.rsplit('/').next().filter(|id| !id.is_empty())
}

/// A literal `Authorization` of the bearer scheme with a non-empty credential: a key, unknown.
fn is_unknown_key(auth: &Auth) -> bool {
    matches!(auth, Auth::Literal(value)
        if value.strip_prefix(BEARER).is_some_and(|key| !key.trim().is_empty()))
}

/// How far from a bound [`body_size`]'s estimate must be to be trusted.
const NEAR: usize = 64;

/// A body's size on the wire, serialised: only for the rare body already near the limit.
fn exact_size(body: &Body) -> usize {
    match body {
        Body::Bytes(bytes) => bytes.len(),
        Body::Json(value) => serde_json::to_vec(value).map_or(0, |b| b.len()),
        Body::Empty => 0,
    }
}

/// Where a body stands against the size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    Small,
    /// Over [`JUST_UNDER`], within [`LARGE_BODY`]: `exact` bytes serialised (every size in this
    /// band is measured exactly, so the at-limit test needs no second serialisation).
    JustUnder {
        exact: usize,
    },
    Over,
}

/// A body's size against the limit. A JSON body is measured by what it holds (keys, strings,
/// the digits of numbers, its punctuation), not serialised, because this runs on every
/// exchange, and the count stops past the limit. Escapes are not counted, so a body near a
/// bound by this count may be on its other side on the wire; a body meant to test a bound is
/// built well inside its band.
fn body_size(body: &Body) -> Size {
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
    let mut n = match body {
        Body::Bytes(bytes) => bytes.len(),
        Body::Json(value) => size(value, LARGE_BODY + NEAR),
        Body::Empty => 0,
    };
    // Near a bound the estimate's few bytes of punctuation decide the side: serialise then.
    let near = (JUST_UNDER.saturating_sub(NEAR)..=LARGE_BODY + NEAR).contains(&n);
    if near {
        n = exact_size(body);
    }
    if n > LARGE_BODY {
        Size::Over
    } else if n > JUST_UNDER {
        debug_assert!(near, "the band lies inside the window measured exactly");
        Size::JustUnder { exact: n }
    } else {
        Size::Small
    }
}

/// What a valid create's fields can exercise, one bit each in [`config`]'s walk: a body of
/// twenty-odd fields would otherwise push the same few exercises over and over, and sorting
/// them away is most of the derivation's cost.
const CREATE_FIELD_EXERCISES: [Exercise; 13] = [
    exercise(Rule::CreateDefaults, "absent-top"),
    exercise(Rule::CreateDefaults, "present-kept"),
    exercise(Rule::CreateNullKept, "null-stored"),
    exercise(Rule::CreateNullKept, "absent-not-null"),
    exercise(Rule::CreateEcho, "sent-stored"),
    exercise(Rule::CreateEcho, "unknown-top"),
    exercise(Rule::CreateWorkflowNotNull, "object-accepted"),
    exercise(Rule::CoerceAccepted, "non-canonical"),
    exercise(Rule::CoerceAccepted, "canonical-unchanged"),
    exercise(Rule::Length24, "body-accepted"),
    exercise(Rule::CreateDefaults, "absent-nested"),
    exercise(Rule::CreateEcho, "unknown-nested"),
    exercise(Rule::CreateEcho, "respelled-field"),
];

/// A valid create's fields, sent against stored: which were absent, null, present, coerced;
/// each a bit of [`CREATE_FIELD_EXERCISES`]. Inside a workflow object (`top` false) an absent
/// field and an unknown key are their nested situations.
fn config(sent: &Map<String, Value>, stored: &Map<String, Value>, top: bool) -> u16 {
    let absent = if top { 1 << 0 } else { 1 << 10 };
    let mut seen = 0u16;
    for (key, kept) in stored {
        seen |= match (sent.get(key), kept) {
            (None, Value::Null) => absent,
            (None, _) => absent | 1 << 3,
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
    for key in sent.keys().filter(|k| !stored.contains_key(*k)) {
        seen |= if top { 1 << 5 } else { 1 << 11 };
        if stored.keys().any(|field| same_name(field, key)) {
            seen |= 1 << 12;
        }
    }
    seen
}

/// Whether two keys are one name in two naming conventions (`max_events`, `maxEvents`).
fn same_name(a: &str, b: &str) -> bool {
    let folded = |s: &str| {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    folded(a) == folded(b)
}

fn push_config(seen: u16, out: &mut Vec<Exercise>) {
    for (bit, exercise) in CREATE_FIELD_EXERCISES.iter().enumerate() {
        if seen & (1 << bit) != 0 {
            out.push(*exercise);
        }
    }
}

/// `length.24`: whether a refused value of `request` (a query parameter's when `query_name`
/// is given, else the body's at `pointer`, else the path id) is shorter than 24 (`Some(true)`)
/// or longer; `None` when it is 24 long (the refusal is another rule's).
fn length_side(request: &Request, pointer: &str, query_name: Option<&str>) -> Option<bool> {
    let length = match (query_name, &request.body) {
        (Some(name), _) => query_value(&request.path_and_query, name)?.chars().count(),
        (None, Body::Json(body)) if !pointer.is_empty() => {
            body.pointer(pointer)?.as_str()?.chars().count()
        }
        _ => path_id(&request.path_and_query)?.chars().count(),
    };
    match length.cmp(&LENGTH_24) {
        std::cmp::Ordering::Less => Some(true),
        std::cmp::Ordering::Greater => Some(false),
        std::cmp::Ordering::Equal => None,
    }
}

/// `length.24`: the one length the rule's values have.
const LENGTH_24: usize = 24;

/// A query parameter's value as sent.
fn query_value<'a>(path_and_query: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = path_and_query.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// `list.param-invalid`: the situation of a refused query parameter, by its name and the value
/// sent: for page and size, just below the minimum, further below, or not an integer.
fn bad_query_situation(request: &Request, name: &str) -> Option<&'static str> {
    let integer = |zero, negative, other| {
        let value = query_value(&request.path_and_query, name)?;
        Some(match value.parse::<i128>() {
            Ok(0) => zero,
            Ok(n) if n < 0 => negative,
            _ => other,
        })
    };
    match name {
        listing::PAGE => integer("page-zero", "page-negative", "page-not-integer"),
        listing::PAGE_SIZE => integer("size-zero", "size-negative", "size-not-integer"),
        listing::STATUS => Some("status"),
        listing::START | listing::END => Some("date-time"),
        listing::SELECTED_WORKFLOW_ID | listing::COUNTER_WORKFLOW_ID => Some("workflow-id"),
        _ => None,
    }
}

/// A refusal, by its mutation and where it points.
fn rejected(request: &Request, mutation: &str, pointer: &str, out: &mut Vec<Exercise>) {
    let operation = request.operation;
    let on_create = operation == Operation::Create;
    let body_situation = |create: &'static str, update: &'static str| {
        if on_create { create } else { update }
    };
    let field = pointer.trim_start_matches('/');
    // A refusal of the whole body: its rule, and its situation on a create and on an update.
    let whole_body = match mutation {
        "missing_body" => Some((Rule::BodyMissing, "create", "update")),
        "invalid_json" => Some((Rule::BodyJsonInvalid, "create", "update")),
        "invalid_utf8" => Some((Rule::BodyNotUtf8, "create", "update")),
        "not_an_object" => Some((
            Rule::BodyNotObject,
            "create-non-object",
            "update-non-object",
        )),
        "wrong_content_type" => Some((
            Rule::BodyNotObject,
            "create-content-type",
            "update-content-type",
        )),
        _ => None,
    };
    if let Some((rule, create, update)) = whole_body {
        out.push(exercise(rule, body_situation(create, update)));
        return;
    }
    match mutation {
        "bad_query" => {
            if let Some(situation) = bad_query_situation(request, field) {
                out.push(exercise(Rule::ListParamInvalid, situation));
            }
            if [listing::SELECTED_WORKFLOW_ID, listing::COUNTER_WORKFLOW_ID].contains(&field) {
                match length_side(request, pointer, Some(field)) {
                    Some(true) => out.push(exercise(Rule::Length24, "filter-shorter")),
                    Some(false) => out.push(exercise(Rule::Length24, "filter-longer")),
                    None => {}
                }
            }
        }
        "wrong_length" => {
            // A path id is the path's; a body field's is also the always-rejected set's.
            let in_body = on_create || operation == Operation::Update && !pointer.is_empty();
            let side = length_side(request, if in_body { pointer } else { "" }, None);
            let situation = match (in_body, side) {
                (true, Some(true)) => Some("body-shorter"),
                (true, Some(false)) => Some("body-longer"),
                (false, Some(true)) => Some("path-shorter"),
                (false, Some(false)) => Some("path-longer"),
                (_, None) => None,
            };
            if let Some(situation) = situation {
                out.push(exercise(Rule::Length24, situation));
            }
            if in_body {
                out.push(exercise(
                    Rule::CoerceRejected,
                    body_situation("create-field", "update-field"),
                ));
            }
        }
        "null_not_allowed" if on_create && WORKFLOW_FIELDS.contains(&field) => {
            let situation = if field == WORKFLOW_FIELDS[0] {
                "selected-null"
            } else {
                "counter-null"
            };
            out.extend([
                exercise(Rule::CreateWorkflowNotNull, situation),
                exercise(Rule::CoerceRejected, "create-field"),
            ]);
        }
        _ => out.push(exercise(
            Rule::CoerceRejected,
            body_situation("create-field", "update-field"),
        )),
    }
    if operation == Operation::Update && !pointer.is_empty() {
        out.push(exercise(Rule::UpdateInvalid, "refused"));
    }
}

/// A valid update: which of its keys may change the record, and which must be ignored.
fn updated(patch: &Value, out: &mut Vec<Exercise>) {
    let Some(patch) = patch.as_object() else {
        return;
    };
    for (key, value) in patch {
        match UPDATE_FIELDS.iter().find(|f| **f == key) {
            Some(field) => {
                out.push(exercise(Rule::UpdateFields, field));
                if value.is_null() {
                    out.push(exercise(Rule::UpdateNullAndEmpty, "null"));
                } else if value.as_str() == Some("") {
                    out.push(exercise(Rule::UpdateNullAndEmpty, "empty-string"));
                }
            }
            None => out.push(exercise(Rule::UpdateFields, "other-keys-ignored")),
        }
    }
}

/// The situations each list filter given puts its rule in, when the page holds matches.
fn filter_exercises(filter: &ListFilter, out: &mut Vec<Exercise>) {
    for (value, situation) in [
        (&filter.logical_id, "logical_id"),
        (&filter.status, "status"),
        (&filter.selected_workflow_id, "selected_workflow_id"),
        (&filter.counter_workflow_id, "counter_workflow_id"),
    ] {
        if value.is_some() {
            out.push(exercise(Rule::ListExactFilters, situation));
        }
    }
    if filter.search.is_some() {
        out.push(exercise(Rule::ListSearch, "match-listed"));
    }
    if filter.start.is_some() || filter.end.is_some() {
        out.push(exercise(Rule::ListTimeBounds, "within-listed"));
    }
}

/// How many filters a list used.
pub(crate) fn filter_count(filter: &ListFilter) -> usize {
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
    let parameter = |name: &str| query_value(&request.path_and_query, name);
    let page = parameter(listing::PAGE).and_then(|p| p.parse::<u64>().ok());
    let size = parameter(listing::PAGE_SIZE).and_then(|p| p.parse::<u64>().ok());
    if parameter(listing::PAGE) == Some("1") || parameter(listing::PAGE_SIZE) == Some("1") {
        out.push(exercise(Rule::ListParamInvalid, "bound-accepted"));
    }
    if expect.filter.selected_workflow_id.is_some() || expect.filter.counter_workflow_id.is_some() {
        out.push(exercise(Rule::Length24, "filter-accepted"));
    }
    if [listing::START, listing::END]
        .into_iter()
        .filter_map(parameter)
        .any(|v| v.parse::<f64>().is_ok())
    {
        out.push(exercise(Rule::CoerceAccepted, "unix-time-query"));
    }
    let shown: &[Value] = observation
        .response
        .as_ref()
        .ok()
        .and_then(|r| r.json.as_ref())
        .and_then(|j| j.get("simulations"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if shown.len() >= 2 {
        out.push(exercise(Rule::ListOrder, "two-or-more"));
        if shown
            .windows(2)
            .any(|w| listing::created_at(&w[0]) == listing::created_at(&w[1]))
        {
            out.push(exercise(Rule::ListOrder, "tie"));
        }
    }
    if request.auth == Auth::OtherTeam && !expect.absent.is_empty() {
        out.push(exercise(Rule::TenancyList, "other-team-list"));
    }
    if !expect.exact {
        return;
    }
    let expected = expect.expected_ids.len() as u64;
    let matches = expected > 0;
    if matches {
        filter_exercises(&expect.filter, out);
        if filter_count(&expect.filter) >= 2 {
            out.push(exercise(Rule::ListAnd, "all-match-listed"));
        }
        if request.auth == Auth::Primary {
            out.push(exercise(Rule::TenancyList, "owner-list"));
        }
    }
    out.push(exercise(
        Rule::ListTotal,
        match expect.total {
            0 => "zero",
            t if t > expected => "beyond-page",
            _ => "whole-page",
        },
    ));
    match page {
        None if size.is_none() => {
            out.push(exercise(Rule::ListDefaults, "no-size-no-page"));
            if expect.total > DEFAULT_PAGE {
                out.push(exercise(Rule::ListDefaults, "more-than-a-default-page"));
            }
        }
        Some(p) if p >= 2 => {
            out.push(exercise(Rule::ListDefaults, "page-given"));
            if matches {
                out.push(exercise(Rule::ListWindow, "later-page"));
                if size.is_some_and(|s| expected < s) {
                    out.push(exercise(Rule::ListWindow, "partial-last-page"));
                }
            }
        }
        _ => {}
    }
    if size.is_some_and(|s| s > DEFAULT_PAGE) && expected > DEFAULT_PAGE {
        out.push(exercise(Rule::ListWindow, "over-100"));
    }
    if !matches && expect.total > 0 {
        out.push(exercise(Rule::ListWindow, "past-last"));
    }
    if [&expect.filter.start, &expect.filter.end]
        .into_iter()
        .flatten()
        .filter_map(|b| chrono::DateTime::parse_from_rfc3339(b).ok())
        .any(|b| b.offset().local_minus_utc() != 0)
    {
        out.push(exercise(Rule::ListTimeBounds, "other-offset"));
    }
    if let Some(needle) = &expect.filter.search {
        // A logical-id-first server lists a description match after a logical_id match, however new.
        let only = |sim: &Value| match listing::search_hits(needle, sim) {
            [true, false] => Some(true),
            [false, true] => Some(false),
            _ => None,
        };
        let ways: Vec<bool> = shown.iter().filter_map(only).collect();
        if ways.iter().skip_while(|by_id| **by_id).any(|by_id| *by_id) {
            out.push(exercise(Rule::ListOrder, "matched-different-ways"));
        }
    }
}

/// The filters of `filter` each applied alone, with the rule that reads it.
pub(crate) fn single_filters(filter: &ListFilter) -> Vec<(Rule, ListFilter)> {
    let alone = |set: &dyn Fn(&mut ListFilter)| {
        let mut only = ListFilter::default();
        set(&mut only);
        only
    };
    let mut out = Vec::new();
    let exact = Rule::ListExactFilters;
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
        out.push((Rule::ListSearch, alone(&|f| f.search = Some(v.clone()))));
    }
    if let Some(v) = &filter.start {
        out.push((Rule::ListTimeBounds, alone(&|f| f.start = Some(v.clone()))));
    }
    if let Some(v) = &filter.end {
        out.push((Rule::ListTimeBounds, alone(&|f| f.end = Some(v.clone()))));
    }
    out
}

/// The situation of a filter's rule where a record fails that filter alone and is left out.
fn left_out(rule: Rule) -> Exercise {
    let situation = match rule {
        Rule::ListSearch => "non-match-left-out",
        Rule::ListTimeBounds => "outside-left-out",
        _ => "other-value-left-out",
    };
    exercise(rule, situation)
}

/// The finer situations of a record that one filter, `alone`, left out: a search a wrongly
/// built searchable text (`f"{logical_id} {description}"`, a null spelled as text) would have
/// matched, or a bound at no record's own instant.
fn left_out_how(
    alone: &ListFilter,
    record: &Value,
    own_times: &[chrono::DateTime<chrono::Utc>],
) -> Vec<Exercise> {
    let mut out = Vec::new();
    if let Some(needle) = &alone.search {
        let needle = needle.to_lowercase();
        let config = &record["simulation_config"];
        let fields = listing::SEARCHED_FIELDS.map(|f| config[f].as_str().map(str::to_lowercase));
        if fields.iter().any(Option::is_none)
            && !needle.is_empty()
            && ["none", "null"].iter().any(|t| t.contains(&needle))
        {
            out.push(exercise(Rule::ListSearch, "null-field-not-text"));
        }
        let spanned = ["none", "null"].iter().any(|null| {
            let [first, second] = fields
                .clone()
                .map(|f| f.unwrap_or_else(|| (*null).to_owned()));
            format!("{first} {second}").contains(&needle)
                && !first.contains(&needle)
                && !second.contains(&needle)
        });
        if spanned {
            out.push(exercise(Rule::ListSearch, "spanning-needle-left-out"));
        }
        let stripped = needle.trim();
        if stripped != needle
            && !stripped.is_empty()
            && fields.iter().flatten().any(|f| f.contains(stripped))
        {
            out.push(exercise(Rule::ListSearch, "padded-needle-left-out"));
        }
    }
    let bound = alone.start.as_ref().or(alone.end.as_ref());
    if let Some(at) = bound.and_then(|b| listing::parse_query_time(b))
        && !own_times.contains(&at)
    {
        out.push(exercise(Rule::ListTimeBounds, "truncated-bound"));
    }
    // Left out by the start alone, the record was created before it; read as milliseconds the
    // same digits are a day of January 1970, before every record.
    if alone
        .start
        .as_ref()
        .is_some_and(|b| !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()))
    {
        out.push(exercise(Rule::ListTimeBounds, "unix-start-left-out"));
    }
    out
}

/// The exclusions of a list `filter` over records the scenario knows all of: a filter whose
/// only failure on some record left that record out (the nearest record on the other side of
/// that filter alone), and, with two or more filters, a record matching some but not all of
/// them.
pub(crate) fn exclusions(filter: &ListFilter, records: &[Value]) -> Vec<Exercise> {
    let singles = single_filters(filter);
    let mut out = Vec::new();
    let own_times: Vec<_> = records.iter().filter_map(listing::created_at).collect();
    for record in records {
        let failed: Vec<&(Rule, ListFilter)> =
            singles.iter().filter(|(_, f)| !f.matches(record)).collect();
        if let [(rule, alone)] = failed[..] {
            out.push(left_out(*rule));
            out.extend(left_out_how(alone, record, &own_times));
        }
        if singles.len() >= 2 && !failed.is_empty() && failed.len() < singles.len() {
            out.push(exercise(Rule::ListAnd, "some-match-left-out"));
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
    use crate::http::{Failure, TransportError};
    use crate::request::{Alteration, Case, Request};
    use crate::response::Response;
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

    /// What the named checks assert when each compared everything it names.
    fn asserted_by(names: &[&str]) -> RuleSet {
        names.iter().fold(RuleSet::EMPTY, |set, name| {
            set.union(RuleSet::of(find(name).unwrap().rules))
        })
    }

    fn every_rule() -> RuleSet {
        RuleSet::ALL
    }

    /// The exercises as `rule situation`, sorted, to compare with a list.
    fn shown(exercises: &[Exercise]) -> Vec<String> {
        let mut out: Vec<String> = exercises
            .iter()
            .map(|e| format!("{} {}", e.rule, e.situation))
            .collect();
        out.sort();
        out
    }

    fn sorted(wanted: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = wanted.iter().map(|w| (*w).to_owned()).collect();
        out.sort();
        out
    }

    fn has(exercises: &[Exercise], wanted: &str) -> bool {
        shown(exercises).iter().any(|e| e == wanted)
    }

    #[test]
    fn the_table_has_every_rule_in_the_contracts_order_with_distinct_situations() {
        let table: Vec<Rule> = RULES.iter().map(|d| d.rule).collect();
        assert_eq!(table, Rule::ALL);
        for d in RULES {
            assert!(!d.situations.is_empty(), "{}", d.rule);
            for (i, situation) in d.situations.iter().enumerate() {
                assert!(!situation.text.is_empty(), "{} {}", d.rule, situation.name);
                assert!(
                    !d.situations[..i].iter().any(|o| o.name == situation.name),
                    "{} {} twice",
                    d.rule,
                    situation.name
                );
            }
            // A rule the suite cannot put to the test at all would be a gap hidden as a reason.
            assert!(
                d.situations.iter().any(|s| s.unreachable.is_none()),
                "{}",
                d.rule
            );
        }
    }

    /// Every situation the derivation or a scenario can name is one of the table's: a misspelled
    /// one would never be credited and show as a false gap.
    #[test]
    fn every_situation_the_suite_names_is_in_the_table() {
        let known = |e: &Exercise| {
            definition(e.rule)
                .situations
                .iter()
                .any(|s| s.name == e.situation)
        };
        for e in CREATE_FIELD_EXERCISES {
            assert!(known(&e), "{e:?}");
        }
        let source = [
            include_str!("coverage.rs"),
            include_str!("scenario/machine/model.rs"),
            include_str!("scenario/single.rs"),
            include_str!("scenario/bad_update.rs"),
            include_str!("scenario/tenancy.rs"),
            include_str!("scenario/refused.rs"),
            include_str!("scenario/lifecycle.rs"),
        ]
        .concat();
        let mut named = 0;
        for (i, _) in source.match_indices("exercise(Rule::") {
            let rest = &source[i + "exercise(Rule::".len()..];
            let Some((variant, rest)) = rest.split_once(',') else {
                continue;
            };
            let Some(literal) = rest.trim_start().strip_prefix('"') else {
                continue;
            };
            let name = literal.split('"').next().unwrap();
            let rule = Rule::ALL
                .iter()
                .find(|r| format!("{r:?}") == variant)
                .unwrap_or_else(|| panic!("{variant}"));
            assert!(
                known(&exercise(*rule, leak(name))),
                "{rule} {name} is not in the table"
            );
            named += 1;
        }
        assert!(named > 60, "{named}");
    }

    fn leak(name: &str) -> &'static str {
        Box::leak(name.to_owned().into_boxed_str())
    }

    #[test]
    fn every_rule_is_asserted_by_a_check() {
        for check in CHECKS {
            assert!(!check.rules.is_empty(), "{} names no rule", check.name);
        }
        for rule in Rule::ALL {
            assert!(
                CHECKS.iter().any(|c| c.rules.contains(rule)),
                "no check asserts {rule}"
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
    fn a_create_is_in_the_situations_of_its_fields() {
        let id = "a".repeat(24);
        let o = create(
            json!({"max_events": "5.0", "number_of_simulations": 2, "description": null,
                   "selected_workflow": {"workflow_id": id, "x-nested": 1}, "x-unknown": 1,
                   "stopOnFailure": true}),
            json!({"max_events": 5, "number_of_simulations": 2, "description": null,
                   "timeout_seconds": null, "stop_on_failure": false,
                   "selected_workflow": {"workflow_id": id, "run_id": null}}),
        );
        let got = exercises(&o, every_rule());
        for wanted in [
            "create.defaults absent-top",
            "create.defaults absent-nested",
            "create.defaults present-kept",
            "create.null-kept null-stored",
            "create.null-kept absent-not-null",
            "create.echo sent-stored",
            "create.echo unknown-top",
            "create.echo unknown-nested",
            "create.echo respelled-field",
            "create.workflow-not-null object-accepted",
            "coerce.accepted non-canonical",
            "coerce.accepted canonical-unchanged",
            "length.24 body-accepted",
            "create.status fields-sent",
            "create.server-fields create",
            "auth.required keyed",
            "never.5xx any",
            "schema.response create",
        ] {
            assert!(has(&got, wanted), "{wanted} in {:?}", shown(&got));
        }
        // The nearest body in other situations: every field present, canonical, nothing unknown.
        let full = create(
            json!({"timeout_seconds": null, "stop_on_failure": false}),
            json!({"timeout_seconds": null, "stop_on_failure": false}),
        );
        let got = exercises(&full, every_rule());
        for unwanted in [
            "create.defaults absent-top",
            "create.null-kept absent-not-null",
            "create.echo unknown-top",
            "coerce.accepted non-canonical",
            "body.missing empty-object-accepted",
            "length.24 body-accepted",
        ] {
            assert!(!has(&got, unwanted), "{unwanted} in {:?}", shown(&got));
        }
        assert!(
            has(&got, "coerce.accepted canonical-unchanged")
                && has(&got, "create.null-kept null-stored")
        );
        let empty = create(json!({}), json!({"timeout_seconds": null}));
        let got = exercises(&empty, every_rule());
        assert!(has(&got, "body.missing empty-object-accepted"));
        assert!(has(&got, "create.status empty-object"));
    }

    #[test]
    fn only_a_rule_a_check_asserted_keeps_its_situations() {
        let o = create(json!({}), json!({"max_events": 500}));
        // The schema and 5xx checks compared, the create's own checks did not.
        let got = exercises(
            &o,
            asserted_by(&["not_a_server_error", "response_schema_conformance"]),
        );
        assert_eq!(shown(&got), ["never.5xx any", "schema.response create"]);
        let mut with_scenario = o.clone();
        with_scenario.exercises = vec![
            exercise(Rule::NeverLost, "after-other-team"),
            exercise(Rule::TenancyItem, "owner-served"),
        ];
        let got = exercises(&with_scenario, asserted_by(&["state_persisted"]));
        assert_eq!(
            shown(&got),
            sorted(&[
                "auth.required keyed",
                "never.lost after-other-team",
                "tenancy.item owner-served"
            ])
        );
        assert!(exercises(&with_scenario, asserted_by(&["method_not_allowed"])).is_empty());
        assert!(exercises(&with_scenario, RuleSet::EMPTY).is_empty());
    }

    /// A plain read of a live record is not `never.lost`: only a read after something that must
    /// not have changed the record separates a server that loses or alters records.
    #[test]
    fn a_read_alone_credits_get_found_not_never_lost() {
        let o = observed(
            request(Operation::Get, "/s/x", Body::Empty, Auth::Primary),
            Expect::Simulation {
                expected: json!({}),
            },
            200,
            json!({"simulation": {}}),
        );
        let got = exercises(&o, every_rule());
        assert!(has(&got, "get.found get"), "{:?}", shown(&got));
        assert!(
            !got.iter().any(|e| e.rule == Rule::NeverLost),
            "{:?}",
            shown(&got)
        );
    }

    #[test]
    fn a_request_without_a_response_exercises_nothing() {
        let mut o = create(json!({}), json!({"max_events": 500}));
        o.response = Err(TransportError {
            kind: Failure::NoResponse,
            message: "reset".into(),
            lost_attempts: 0,
        });
        o.exercises = vec![exercise(Rule::NeverLost, "after-other-team")];
        assert!(exercises(&o, every_rule()).is_empty());
    }

    fn refused(auth: Auth) -> Vec<String> {
        let o = observed(
            request(Operation::List, "/s", Body::Empty, auth),
            Expect::Unauthorized { detail: "x" },
            401,
            json!({"detail": "x"}),
        );
        shown(&exercises(&o, asserted_by(&["auth_enforced"])))
    }

    #[test]
    fn a_refused_key_is_in_the_situation_of_what_was_sent() {
        let missing = |situation: &str| {
            sorted(&[
                &format!("auth.missing {situation}"),
                "auth.required no-key",
                "auth.unknown missing-not-unknown",
            ])
        };
        assert_eq!(refused(Auth::None), missing("no-header"));
        assert_eq!(
            refused(Auth::Literal("Token abc".into())),
            missing("other-scheme")
        );
        // An empty credential is not a key, even after the scheme.
        assert_eq!(
            refused(Auth::Literal("Bearer ".into())),
            missing("empty-credential")
        );
        assert_eq!(
            refused(Auth::Literal("Bearer".into())),
            missing("empty-credential")
        );
        assert_eq!(
            refused(Auth::Literal("Bearer unknown-1".into())),
            sorted(&["auth.required no-key", "auth.unknown unknown-key"])
        );
        assert_eq!(
            refused(Auth::KeyElsewhere(Elsewhere::Header("X-API-Key"))),
            missing("key-in-other-header")
        );
        assert_eq!(
            refused(Auth::KeyElsewhere(Elsewhere::Query("api_key"))),
            missing("key-in-query")
        );
        for alteration in [
            Alteration::OtherCase,
            Alteration::LastChanged,
            Alteration::Prefix,
            Alteration::Suffixed,
        ] {
            assert_eq!(
                refused(Auth::KeyAltered(alteration)),
                sorted(&["auth.required no-key", "auth.unknown altered-key"])
            );
        }
    }

    fn reject(operation: Operation, mutation: &'static str, pointer: &str) -> Vec<String> {
        reject_sent(operation, "/s", Body::Empty, mutation, pointer)
    }

    fn reject_sent(
        operation: Operation,
        path: &str,
        body: Body,
        mutation: &'static str,
        pointer: &str,
    ) -> Vec<String> {
        let o = observed(
            request(operation, path, body, Auth::Primary),
            Expect::Reject {
                mutation,
                pointer: pointer.into(),
                status: 422,
                locus: None,
            },
            422,
            json!({"detail": []}),
        );
        shown(&exercises(&o, asserted_by(&["negative_data_rejection"])))
    }

    #[test]
    fn a_refusal_is_in_the_situation_its_mutation_makes() {
        let id = |n: usize| "a".repeat(n);
        assert_eq!(
            reject_sent(
                Operation::Get,
                &format!("/s/{}", id(23)),
                Body::Empty,
                "wrong_length",
                ""
            ),
            ["length.24 path-shorter"]
        );
        assert_eq!(
            reject_sent(
                Operation::Delete,
                &format!("/s/{}", id(25)),
                Body::Empty,
                "wrong_length",
                ""
            ),
            ["length.24 path-longer"]
        );
        assert_eq!(
            reject_sent(
                Operation::Create,
                "/s",
                Body::Json(json!({"selected_workflow": {"run_id": id(25)}})),
                "wrong_length",
                "/selected_workflow/run_id"
            ),
            sorted(&["coerce.rejected create-field", "length.24 body-longer"])
        );
        assert_eq!(
            reject_sent(
                Operation::Update,
                "/s/x",
                Body::Json(json!({"counter_workflow": {"workflow_id": id(23)}})),
                "wrong_length",
                "/counter_workflow/workflow_id"
            ),
            sorted(&[
                "coerce.rejected update-field",
                "length.24 body-shorter",
                "update.invalid refused"
            ])
        );
        assert_eq!(
            reject(Operation::Create, "null_not_allowed", "/counter_workflow"),
            sorted(&[
                "coerce.rejected create-field",
                "create.workflow-not-null counter-null"
            ])
        );
        assert_eq!(
            reject(Operation::Create, "wrong_type", "/max_events"),
            ["coerce.rejected create-field"]
        );
        assert_eq!(
            reject_sent(
                Operation::List,
                &format!("/s?size=5&selected_workflow_id={}", id(23)),
                Body::Empty,
                "bad_query",
                "/selected_workflow_id"
            ),
            sorted(&["length.24 filter-shorter", "list.param-invalid workflow-id"])
        );
        // A 24-character filter refused for another reason is not the length's refusal.
        assert_eq!(
            reject_sent(
                Operation::List,
                &format!("/s?counter_workflow_id={}", id(24)),
                Body::Empty,
                "bad_query",
                "/counter_workflow_id"
            ),
            ["list.param-invalid workflow-id"]
        );
        for (query, situation) in [
            ("size=0", "size-zero"),
            ("size=-1", "size-negative"),
            ("size=1.5", "size-not-integer"),
            ("page=0&size=3", "page-zero"),
            ("page=abc", "page-not-integer"),
        ] {
            let name = query.split('=').next().unwrap();
            assert_eq!(
                reject_sent(
                    Operation::List,
                    &format!("/s?{query}"),
                    Body::Empty,
                    "bad_query",
                    &format!("/{name}")
                ),
                [format!("list.param-invalid {situation}")],
                "{query}"
            );
        }
        assert_eq!(
            reject(Operation::Update, "enum_violation", "/status"),
            sorted(&["coerce.rejected update-field", "update.invalid refused"])
        );
        // A body-level refusal of an update is the body's rule, not a value's.
        assert_eq!(
            reject(Operation::Update, "not_an_object", ""),
            ["body.not-object update-non-object"]
        );
        assert_eq!(
            reject(Operation::Create, "wrong_content_type", ""),
            ["body.not-object create-content-type"]
        );
        assert_eq!(
            reject(Operation::Create, "invalid_utf8", ""),
            ["body.not-utf8 create"]
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
        shown(&exercises(&o, asserted_by(&["update_semantics"])))
    }

    #[test]
    fn an_update_is_in_the_situation_of_each_key() {
        assert_eq!(
            update(json!({"status": "running"})),
            sorted(&["update.fields status", "update.timestamps update"])
        );
        assert_eq!(
            update(json!({"description": "", "max_events": 3})),
            sorted(&[
                "update.fields description",
                "update.fields other-keys-ignored",
                "update.null-and-empty empty-string",
                "update.timestamps update"
            ])
        );
        assert_eq!(
            update(json!({"description": null})),
            sorted(&[
                "update.fields description",
                "update.null-and-empty null",
                "update.timestamps update"
            ])
        );
    }

    fn list(query: &str, auth: Auth, expect: ListExpectation, shown_ids: usize) -> Vec<String> {
        let page: Vec<Value> = (0..shown_ids)
            .map(|i| json!({"_id": i, "created_at": format!("2026-01-01T00:00:0{i}Z")}))
            .collect();
        let o = observed(
            request(Operation::List, &format!("/s?{query}"), Body::Empty, auth),
            Expect::Listed(expect),
            200,
            json!({"simulations": page, "total": 0}),
        );
        shown(&exercises(&o, asserted_by(&["list_conformance"])))
    }

    fn search_and_status() -> ListFilter {
        ListFilter {
            search: Some("w".into()),
            status: Some("running".into()),
            ..ListFilter::default()
        }
    }

    #[test]
    fn a_list_is_in_its_filters_situations_only_when_judged_exactly_with_matches() {
        let expect = |exact, ids: Vec<String>, total| ListExpectation {
            filter: search_and_status(),
            exact,
            expected_ids: ids,
            total,
            absent: vec![],
        };
        let ids = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        let filters = [
            "list.and all-match-listed",
            "list.exact-filters status",
            "list.search match-listed",
            "tenancy.list owner-list",
        ];
        let with = |more: &[&str]| {
            let mut all: Vec<&str> = filters.to_vec();
            all.extend_from_slice(more);
            sorted(&all)
        };
        assert_eq!(
            list("size=1&page=1", Auth::Primary, expect(true, ids(1), 3), 1),
            // `page=1` and `size=1` accepted is the status check's to assert, not this one's.
            with(&["list.total beyond-page"])
        );
        // Only sound: the page may miss matches, so no filter's listing was judged.
        assert_eq!(
            list("size=5&page=1", Auth::Primary, expect(false, vec![], 0), 2),
            ["list.order two-or-more"]
        );
        assert_eq!(
            list("size=2&page=2", Auth::Primary, expect(true, ids(1), 3), 1),
            with(&[
                "list.defaults page-given",
                "list.total beyond-page",
                "list.window later-page",
                "list.window partial-last-page"
            ])
        );
        // Past the last match: the window's empty page, and no filter matched anything.
        assert_eq!(
            list("size=2&page=3", Auth::Primary, expect(true, vec![], 3), 0),
            sorted(&[
                "list.defaults page-given",
                "list.total beyond-page",
                "list.window past-last"
            ])
        );
        assert_eq!(
            list("", Auth::Primary, expect(true, ids(1), 1), 1),
            with(&["list.defaults no-size-no-page", "list.total whole-page"])
        );
        // More than any default page: the page of 150 holds them all.
        assert!(
            list("size=150", Auth::Primary, expect(true, ids(101), 101), 101)
                .contains(&"list.window over-100".to_owned())
        );
        assert!(
            list("", Auth::Primary, expect(true, ids(100), 101), 100)
                .contains(&"list.defaults more-than-a-default-page".to_owned())
        );
        let other_team = ListExpectation {
            absent: vec!["a".into()],
            ..expect(true, vec![], 0)
        };
        assert_eq!(
            list("size=10&page=1", Auth::OtherTeam, other_team, 0),
            sorted(&["list.total zero", "tenancy.list other-team-list"])
        );
    }

    fn record(description: &str, status: &str) -> Value {
        json!({"_id": "a", "created_at": "2026-01-01T00:00:00Z",
               "simulation_config": {"logical_id": "l", "description": description, "status": status}})
    }

    #[test]
    fn a_record_left_out_by_one_filter_alone_is_that_filters_exclusion() {
        let filter = search_and_status();
        let shown_of = |records: &[Value]| shown(&exclusions(&filter, records));
        assert!(shown_of(&[record("w", "running")]).is_empty());
        assert_eq!(
            shown_of(&[record("none", "running")]),
            [
                "list.and some-match-left-out",
                "list.search non-match-left-out"
            ]
        );
        assert_eq!(
            shown_of(&[record("w", "pending")]),
            [
                "list.and some-match-left-out",
                "list.exact-filters other-value-left-out"
            ]
        );
        // Failing every filter says nothing about AND, nor about which filter left it out.
        assert!(shown_of(&[record("none", "pending")]).is_empty());
        let search_only = ListFilter {
            search: Some("w".into()),
            ..ListFilter::default()
        };
        assert_eq!(
            shown(&exclusions(&search_only, &[record("none", "running")])),
            ["list.search non-match-left-out"]
        );
    }

    fn searched(logical_id: Option<&str>, description: Option<&str>, at: &str) -> Value {
        json!({"_id": "a", "created_at": at,
               "simulation_config": {"logical_id": logical_id, "description": description}})
    }

    #[test]
    fn a_search_only_a_concatenation_would_match_is_its_own_exclusion() {
        let at = "2026-01-01T10:00:00Z";
        let scoped = |search: &str, record: &Value| {
            let filter = ListFilter {
                logical_id: record["simulation_config"]["logical_id"]
                    .as_str()
                    .map(str::to_owned),
                selected_workflow_id: None,
                search: Some(search.into()),
                ..ListFilter::default()
            };
            shown(&exclusions(&filter, std::slice::from_ref(record)))
        };
        let no_description = searched(Some("run-7"), None, at);
        assert_eq!(
            scoped("NONE", &no_description),
            sorted(&[
                "list.and some-match-left-out",
                "list.search non-match-left-out",
                "list.search null-field-not-text"
            ])
        );
        assert!(
            scoped("7 No", &no_description)
                .contains(&"list.search spanning-needle-left-out".into())
        );
        assert_eq!(
            scoped("ul", &no_description),
            sorted(&[
                "list.and some-match-left-out",
                "list.search non-match-left-out",
                "list.search null-field-not-text"
            ])
        );
        let both = searched(Some("run-7"), Some("Hello there"), at);
        assert!(scoped("7 hel", &both).contains(&"list.search spanning-needle-left-out".into()));
        // A needle in neither field nor across them, or a record without a null: only the plain one.
        let plain = sorted(&[
            "list.and some-match-left-out",
            "list.search non-match-left-out",
        ]);
        assert_eq!(scoped("7  hel", &both), plain);
        assert_eq!(scoped("none", &both), plain);
        // Matched, so nothing was left out.
        assert!(scoped("-7", &both).is_empty());
    }

    #[test]
    fn a_bound_at_no_records_own_instant_leaving_one_out_is_a_truncated_bound() {
        let records = [
            searched(Some("a"), None, "2026-01-01T10:00:00.5Z"),
            searched(Some("b"), None, "2026-01-01T10:00:01Z"),
        ];
        let with_end = |end: &str| {
            shown(&exclusions(
                &ListFilter {
                    end: Some(end.into()),
                    ..ListFilter::default()
                },
                &records,
            ))
        };
        let truncated = sorted(&[
            "list.time-bounds outside-left-out",
            "list.time-bounds truncated-bound",
        ]);
        assert_eq!(with_end("2026-01-01T00:00:00Z"), truncated);
        assert_eq!(with_end("2026-01-01T10:00:00"), truncated);
        assert_eq!(with_end("2026-01-01T15:30:00.499999+05:30"), truncated);
        // Another record's own created_at is the suite's older draw, not a truncated one.
        assert_eq!(
            with_end("2026-01-01T10:00:00.5Z"),
            ["list.time-bounds outside-left-out"]
        );
        assert!(with_end("2026-01-02T00:00:00Z").is_empty());
    }

    #[test]
    fn a_record_left_out_by_a_start_in_unix_seconds_is_unix_start_left_out() {
        let records = [searched(Some("a"), None, "2026-01-01T10:00:00.5Z")];
        let filter = |start: Option<&str>, end: Option<&str>| ListFilter {
            start: start.map(Into::into),
            end: end.map(Into::into),
            ..ListFilter::default()
        };
        let situations = |f: ListFilter| shown(&exclusions(&f, &records));
        let unix = "list.time-bounds unix-start-left-out".to_owned();
        // 2026-01-01T10:00:01Z, the second after the record.
        assert!(situations(filter(Some("1767261601"), None)).contains(&unix));
        // The same instant spelled as a date-time, or a Unix start the record is not before.
        assert!(!situations(filter(Some("2026-01-01T10:00:01Z"), None)).contains(&unix));
        assert!(situations(filter(Some("1767261600"), None)).is_empty());
        // A Unix end leaving the record out is on the side a millisecond reading agrees with.
        assert!(!situations(filter(None, Some("1767261600"))).contains(&unix));
    }

    #[test]
    fn a_bound_in_another_offset_on_an_exact_page_is_other_offset() {
        let expect = |end: &str| {
            ListExpectation::exactly(
                ListFilter {
                    end: Some(end.into()),
                    ..ListFilter::default()
                },
                vec![],
            )
        };
        let situations = |end: &str| list("size=5&page=1", Auth::Primary, expect(end), 0);
        assert!(
            situations("2026-01-01T15:30:00+05:30")
                .contains(&"list.time-bounds other-offset".into())
        );
        for same in [
            "2026-01-01T10:00:00+00:00",
            "2026-01-01T10:00:00Z",
            "2026-01-01T10:00:00",
        ] {
            assert!(!situations(same).contains(&"list.time-bounds other-offset".into()));
        }
    }

    #[test]
    fn a_description_match_listed_before_a_logical_id_match_is_matched_different_ways() {
        let situations = |page: Vec<Value>| {
            let ids: Vec<String> = (0..page.len()).map(|i| i.to_string()).collect();
            let o = observed(
                request(
                    Operation::List,
                    "/s?size=5&page=1&search=w",
                    Body::Empty,
                    Auth::Primary,
                ),
                Expect::Listed(ListExpectation::exactly(
                    ListFilter {
                        search: Some("W".into()),
                        ..ListFilter::default()
                    },
                    ids,
                )),
                200,
                json!({"simulations": page, "total": 0}),
            );
            shown(&exercises(&o, asserted_by(&["list_conformance"])))
        };
        let by_id = searched(Some("x-w"), Some("x"), "2026-01-01T10:00:00Z");
        let by_description = searched(Some("x"), Some("x w"), "2026-01-01T10:00:01Z");
        let by_both = searched(Some("w"), Some("w"), "2026-01-01T10:00:02Z");
        let different = "list.order matched-different-ways".to_owned();
        assert!(
            situations(vec![by_description.clone(), by_both.clone(), by_id.clone()])
                .contains(&different)
        );
        // The order a logical-id-first server gets right anyway, and a record matched both ways.
        assert!(!situations(vec![by_id.clone(), by_description.clone()]).contains(&different));
        assert!(!situations(vec![by_both, by_id]).contains(&different));
    }

    fn item(operation: Operation, path: &str, auth: Auth, expect: Expect) -> Vec<String> {
        let o = observed(
            request(operation, path, Body::Empty, auth),
            expect,
            404,
            json!({"detail": "Simulation not found"}),
        );
        shown(&exercises(
            &o,
            asserted_by(&["not_found", "positive_data_acceptance"]),
        ))
    }

    #[test]
    fn a_404_is_tenancy_for_another_team_and_not_found_for_the_owner() {
        let hex = format!("/s/{}", "a".repeat(24));
        assert_eq!(
            item(Operation::Delete, &hex, Auth::OtherTeam, Expect::NotFound),
            sorted(&[
                "auth.required other-team",
                "length.24 path-accepted",
                "tenancy.item delete"
            ])
        );
        assert_eq!(
            item(Operation::Get, &hex, Auth::Primary, Expect::NotFound),
            sorted(&[
                "auth.required keyed",
                "item.not-found get",
                "length.24 path-accepted"
            ])
        );
        assert!(
            item(
                Operation::Update,
                &format!("/s/{}", "z".repeat(24)),
                Auth::Primary,
                Expect::NotFound
            )
            .contains(&"item.not-found non-hex".to_owned())
        );
        assert_eq!(
            item(Operation::Delete, &hex, Auth::Primary, Expect::Success),
            sorted(&[
                "auth.required keyed",
                "delete.gone delete",
                "item.not-found known-served",
                "length.24 path-accepted"
            ])
        );
    }

    #[test]
    fn after_a_delete_each_operation_is_its_own_situation() {
        let mut o = observed(
            request(Operation::Update, "/s/x", Body::Empty, Auth::Primary),
            Expect::NotFound,
            404,
            json!({"detail": "Simulation not found"}),
        );
        o.exercises = vec![exercise(Rule::DeleteGone, AFTER_DELETE)];
        assert!(has(
            &exercises(&o, asserted_by(&["not_found"])),
            "delete.gone update-after-delete"
        ));
    }

    #[test]
    fn a_valid_body_of_exactly_the_limit_is_its_own_situation() {
        let fill = |n: usize| {
            let bare = serde_json::to_vec(&json!({"description": ""}))
                .unwrap()
                .len();
            json!({"description": "x".repeat(n - bare)})
        };
        let at = |n: usize| {
            let body = fill(n);
            shown(&exercises(&create(body.clone(), body), every_rule()))
        };
        assert!(at(LARGE_BODY).contains(&"body.too-large at-limit".to_owned()));
        assert!(at(LARGE_BODY - 1).contains(&"body.too-large just-under".to_owned()));
        assert!(!at(LARGE_BODY - 1).contains(&"body.too-large at-limit".to_owned()));
    }

    #[test]
    fn a_body_is_measured_against_both_bounds_without_serialising_it() {
        let big = "x".repeat(LARGE_BODY);
        assert_eq!(
            body_size(&Body::Json(json!({ "description": big }))),
            Size::Over
        );
        assert_eq!(
            body_size(&Body::Json(json!({"description": "x"}))),
            Size::Small
        );
        assert_eq!(
            body_size(&Body::Bytes(vec![b' '; LARGE_BODY + 1])),
            Size::Over
        );
        assert_eq!(
            body_size(&Body::Bytes(vec![b' '; LARGE_BODY])),
            Size::JustUnder { exact: LARGE_BODY }
        );
        assert_eq!(body_size(&Body::Bytes(vec![b' '; JUST_UNDER])), Size::Small);
        assert_eq!(
            body_size(&Body::Bytes(vec![b' '; JUST_UNDER + 1])),
            Size::JustUnder {
                exact: JUST_UNDER + 1
            }
        );
    }
}
