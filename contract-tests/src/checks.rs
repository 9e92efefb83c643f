//! The checks: one function each, named for what it asserts, in one registry the CLI lists and selects from.
//!
//! A check looks at one exchange (a request, what the contract expects of it, and the response)
//! and either passes, does not apply, or reports a mismatch as "expected … / received …".
//! Defaults and echo are judged on the raw JSON: decoded into the generated types, a field left
//! out and a null one both read `None` and unknown keys are dropped, which would hide a server
//! that leaves fields out or echoes keys back.

use serde_json::{Value, json};

use crate::hazard;
use crate::numbers::{self, Decimal};
use crate::pointer;
use crate::request::{Expect, Locus};
use crate::response::Response;
use crate::rules::{Rule, RuleSet};
use crate::run_state::ClientLimit;
use crate::spec::{FieldModel, Kind, ObjectModel, Operation};
use crate::text::{list, or_absent, quoted, quoted_or_absent};
use crate::verdict::{Applied, Exchange, Mismatch, Verdict};

/// The pseudo-check for a request that got no response (refused, reset, timed out).
pub(crate) const RESPONSE_RECEIVED: &str = "response_received";
/// The pseudo-check for a response body over `--max-response-bytes`.
pub(crate) const RESPONSE_WITHIN_SIZE_CAP: &str = "response_within_size_cap";
/// The pseudo-check for a cleanup search that returned records without the run's tag.
pub const CLEANUP_SEARCH_MATCHES_TAG: &str = "cleanup_search_matches_tag";

fn mismatch(
    pointer: impl Into<String>,
    expected: impl Into<String>,
    received: impl Into<String>,
) -> Mismatch {
    Mismatch {
        pointer: pointer.into(),
        expected: expected.into(),
        received: received.into(),
    }
}

/// Passed, having compared everything the check asserts (the runner keeps the rules it names).
const PASSED: Verdict = Ok(Applied::Passed(RuleSet::ALL));

/// Passed, having compared what `rules` demand and nothing else the check names.
fn passed(rules: RuleSet) -> Verdict {
    if rules.is_empty() {
        NOT_APPLICABLE
    } else {
        Ok(Applied::Passed(rules))
    }
}
const NOT_APPLICABLE: Verdict = Ok(Applied::NotApplicable);

/// The outcome of a part of a check: the check decides whether it applied.
type Checked = Result<(), Mismatch>;

/// One entry of the registry.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub name: &'static str,
    pub asserts: &'static str,
    /// CONTRACT.md's rules whose demand this check may judge: on each exchange it returns the
    /// ones it compared ([`Applied::Passed`]), and coverage credits only those
    /// (`crate::coverage`).
    pub rules: &'static [Rule],
    pub run: fn(&Exchange<'_>) -> Verdict,
}

/// Every check, in the order they run.
pub const CHECKS: &[Check] = &[
    Check {
        name: "not_a_server_error",
        asserts: "no response is a 5xx",
        // `coerce.unspecified` and `body.too-large` demand no more than "no 5xx" of a status.
        rules: &[Rule::Never5xx, Rule::CoerceUnspecified, Rule::BodyTooLarge],
        run: not_a_server_error,
    },
    Check {
        name: hazard::Hazard::NonFiniteNumber.check(),
        asserts: "NaN, Infinity or 1e400 in a typed field gets no 5xx (stock FastAPI answers 500)",
        rules: &[Rule::Never5xx],
        run: non_finite_number_handled,
    },
    Check {
        name: hazard::Hazard::LoneSurrogate.check(),
        asserts: "a string holding a lone UTF-16 surrogate gets no 5xx (stock FastAPI answers 500)",
        rules: &[Rule::Never5xx],
        run: lone_surrogate_handled,
    },
    Check {
        name: hazard::Hazard::DeepNesting.check(),
        asserts: "dynamic_variables nested 255 levels or deeper get no 5xx (stock FastAPI answers 500)",
        rules: &[Rule::Never5xx],
        run: deep_nesting_handled,
    },
    Check {
        name: "status_code_conformance",
        asserts: "the status is one the spec documents for the operation",
        // The spec's status set is the half of "a body that matches the spec for its status" that
        // the status carries.
        // A create's one documented success is 200: `create.status`'s status.
        rules: &[Rule::SchemaResponse, Rule::SchemaErrors, Rule::CreateStatus],
        run: status_code_conformance,
    },
    Check {
        name: "content_type_conformance",
        asserts: "a documented response has the documented media type",
        rules: &[Rule::SchemaResponse, Rule::SchemaErrors],
        run: content_type_conformance,
    },
    Check {
        name: "response_schema_conformance",
        asserts: "the body validates against the spec's schema for its status (formats included)",
        rules: &[Rule::SchemaResponse, Rule::SchemaErrors],
        run: response_schema_conformance,
    },
    Check {
        name: "positive_data_acceptance",
        asserts: "a valid request gets a 2xx",
        // A 2xx for a valid request is the side of each refusal rule where it must not refuse
        // (a respelled key served is `auth.missing` not over-applied, an explicit null
        // accepted is `create.null-kept`'s, a body within 1 MiB served `body.too-large`'s, a body
        // with unknown keys served `create.echo`'s).
        rules: &[
            Rule::AuthRequired,
            Rule::AuthMissing,
            Rule::CreateNullKept,
            Rule::CreateEcho,
            Rule::BodyTooLarge,
            Rule::CreateStatus,
            Rule::CreateWorkflowNotNull,
            Rule::CoerceAccepted,
            Rule::Length24,
            Rule::BodyMissing,
            Rule::ListParamInvalid,
            Rule::GetFound,
            Rule::ItemNotFound,
            Rule::DeleteGone,
        ],
        run: positive_data_acceptance,
    },
    Check {
        name: "negative_data_rejection",
        asserts: "an invalid request gets exactly the status the contract names (422, or 400 for non-UTF-8)",
        rules: &[
            Rule::CoerceRejected,
            Rule::CreateWorkflowNotNull,
            Rule::Length24,
            Rule::BodyMissing,
            Rule::BodyJsonInvalid,
            Rule::BodyNotObject,
            Rule::BodyNotUtf8,
            Rule::ListParamInvalid,
            Rule::UpdateInvalid,
        ],
        run: negative_data_rejection,
    },
    Check {
        name: "error_locus",
        asserts: "a 422's detail[].loc names the mutated field",
        // One `detail` entry per violation, each with its `loc`: `schema.errors`' shape.
        rules: &[
            Rule::SchemaErrors,
            Rule::CoerceRejected,
            Rule::CreateWorkflowNotNull,
            Rule::Length24,
            Rule::BodyMissing,
            Rule::BodyJsonInvalid,
            Rule::BodyNotObject,
            Rule::ListParamInvalid,
            Rule::UpdateInvalid,
        ],
        run: error_locus,
    },
    Check {
        name: "defaults_materialised",
        asserts: "every absent field comes back with the spec's default, an explicit null comes back null",
        rules: &[Rule::CreateDefaults, Rule::CreateNullKept],
        run: defaults_materialised,
    },
    Check {
        name: "request_echo",
        asserts: "every sent field comes back canonicalised, unknown keys are not stored; an accepted unspecified input has the field's type and, if already canonical, is stored unchanged",
        // A sent field that comes back as sent is also a default not applied over it.
        rules: &[
            Rule::CreateEcho,
            Rule::CreateDefaults,
            Rule::CoerceAccepted,
            Rule::CoerceUnspecified,
        ],
        run: request_echo,
    },
    Check {
        name: "server_fields",
        asserts: "_id is lowercase hex of the item path's id length and new; created_at == updated_at on create; RFC 3339 with offset; owner fields are the caller's",
        // `_id` and the date-times' form are `schema.response`'s, which the spec cannot state.
        rules: &[
            Rule::CreateServerFields,
            Rule::UpdateTimestamps,
            Rule::SchemaResponse,
        ],
        run: server_fields,
    },
    Check {
        name: "typed_client_decodes",
        asserts: "every 2xx body decodes into the generated client's types (an integer past i64 is a note about the client, not a failure)",
        rules: &[Rule::SchemaResponse],
        run: typed_client_decodes,
    },
    Check {
        name: "state_persisted",
        asserts: "a read after a write shows exactly what the write returned; a refused request changed nothing",
        // The read that follows a write or a refusal: what it shows unchanged is each rule's.
        rules: &[
            Rule::GetFound,
            Rule::NeverLost,
            Rule::UpdatePersisted,
            Rule::UpdateInvalid,
            Rule::TenancyItem,
            Rule::AuthRequired,
            Rule::CoerceUnspecified,
        ],
        run: state_persisted,
    },
    Check {
        name: "update_semantics",
        asserts: "PATCH changes only the fields of the spec's update body; ids, owners, creation and other fields stay; updated_at does not go back",
        rules: &[
            Rule::UpdateFields,
            Rule::UpdateNullAndEmpty,
            Rule::UpdateTimestamps,
        ],
        run: update_semantics,
    },
    Check {
        name: "list_conformance",
        asserts: "a list holds exactly the run's matching simulations, newest first, with the right total; never a non-match or a deleted one",
        rules: &[
            Rule::TenancyList,
            Rule::ListDefaults,
            Rule::ListSearch,
            Rule::ListTimeBounds,
            Rule::ListExactFilters,
            Rule::ListAnd,
            Rule::ListOrder,
            Rule::ListTotal,
            Rule::ListWindow,
            Rule::DeleteGone,
            // A record the run created and did not delete missing from an exact page is lost.
            Rule::NeverLost,
        ],
        run: list_conformance,
    },
    Check {
        name: "status_one_of",
        asserts: "a request the contract leaves open between statuses (a race, a body over 1 MiB) answers one of them",
        rules: &[Rule::UpdatePersisted, Rule::DeleteGone, Rule::BodyTooLarge],
        run: status_one_of,
    },
    Check {
        name: "not_found",
        asserts: "an unknown, deleted or other team's id is 404 Simulation not found",
        // A 404 rather than 401 or 422 also says the key was served and the id's length accepted.
        rules: &[
            Rule::ItemNotFound,
            Rule::TenancyItem,
            Rule::DeleteGone,
            Rule::AuthRequired,
            Rule::Length24,
        ],
        run: not_found,
    },
    Check {
        name: "auth_enforced",
        asserts: "a missing, malformed or unknown key is 401 with WWW-Authenticate: Bearer and the contract's detail",
        rules: &[Rule::AuthRequired, Rule::AuthMissing, Rule::AuthUnknown],
        run: auth_enforced,
    },
    Check {
        name: "method_not_allowed",
        asserts: "an unsupported method is 405 with an Allow header listing exactly the path's methods",
        // The 405's body is `{"detail": string}`, an error body the spec does not document.
        rules: &[Rule::MethodNotAllowed, Rule::SchemaErrors],
        run: method_not_allowed,
    },
];

pub fn find(name: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.name == name)
}

pub fn not_a_server_error(x: &Exchange<'_>) -> Verdict {
    // A hazard's case has a check of its own (below), so that a baseline can name it alone.
    if hazard::Hazard::of(x.case).is_some() {
        return NOT_APPLICABLE;
    }
    if x.response.status >= 500 {
        return Err(mismatch(
            "",
            "a status below 500",
            format!("{}", x.response.status),
        ));
    }
    PASSED
}

/// A case drawn to carry `hazard` (`crate::hazard`) gets no 5xx; what else it must get (a 422
/// at the field, a 4xx or an acceptance) the other checks judge, when it is not a 5xx.
fn hazard_handled(x: &Exchange<'_>, hazard: hazard::Hazard) -> Verdict {
    if hazard::Hazard::of(x.case) != Some(hazard) {
        return NOT_APPLICABLE;
    }
    if x.response.status >= 500 {
        return Err(mismatch(
            "",
            "a status below 500 (CONTRACT.md: stock FastAPI's 500s are faults of the service)",
            format!("{}", x.response.status),
        ));
    }
    PASSED
}

pub(crate) fn non_finite_number_handled(x: &Exchange<'_>) -> Verdict {
    hazard_handled(x, hazard::Hazard::NonFiniteNumber)
}

pub(crate) fn lone_surrogate_handled(x: &Exchange<'_>) -> Verdict {
    hazard_handled(x, hazard::Hazard::LoneSurrogate)
}

pub(crate) fn deep_nesting_handled(x: &Exchange<'_>) -> Verdict {
    hazard_handled(x, hazard::Hazard::DeepNesting)
}

pub fn status_code_conformance(x: &Exchange<'_>) -> Verdict {
    // 405 answers a method no operation has, and a 413 a body over 1 MiB: the contract, not
    // the spec, says what they hold.
    let documented = x.spec.documented_statuses(x.case.request.operation);
    match &x.case.expect {
        Expect::NotAllowed { .. } => return NOT_APPLICABLE,
        Expect::OneOf { statuses, .. }
            if statuses.contains(&x.response.status)
                && !documented.contains(&x.response.status) =>
        {
            return NOT_APPLICABLE;
        }
        _ => {}
    }
    if !documented.contains(&x.response.status) {
        return Err(mismatch(
            "",
            format!("one of {}", list(documented.iter())),
            format!("{}", x.response.status),
        ));
    }
    PASSED
}

pub(crate) fn content_type_conformance(x: &Exchange<'_>) -> Verdict {
    if x.spec
        .responses
        .schema_name(x.case.request.operation, x.response.status)
        .is_none()
    {
        return NOT_APPLICABLE;
    }
    let media = x.response.content_type.as_deref().map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    if media.as_deref() != Some("application/json") {
        return Err(mismatch(
            "",
            "Content-Type: application/json",
            media.unwrap_or_else(|| "no Content-Type".into()),
        ));
    }
    PASSED
}

pub(crate) fn response_schema_conformance(x: &Exchange<'_>) -> Verdict {
    let op = x.case.request.operation;
    let Some(name) = x.spec.responses.schema_name(op, x.response.status) else {
        return NOT_APPLICABLE;
    };
    let Some(body) = &x.response.json else {
        return Err(mismatch(
            "",
            format!("a JSON body matching {name}"),
            preview(&x.response.body),
        ));
    };
    let violations = x
        .spec
        .responses
        .violations(op, x.response.status, body)
        .unwrap_or_default();
    if let Some((pointer, message)) = violations.into_iter().next() {
        return Err(mismatch(
            pointer,
            format!("a body matching {name}"),
            message,
        ));
    }
    PASSED
}

pub(crate) fn positive_data_acceptance(x: &Exchange<'_>) -> Verdict {
    let wants_success = matches!(
        x.case.expect,
        Expect::Accept { .. }
            | Expect::Success
            | Expect::Simulation { .. }
            | Expect::Updated { .. }
            | Expect::Listed(_)
    );
    if !wants_success {
        return NOT_APPLICABLE;
    }
    if !x.response.is_success() {
        return Err(mismatch(
            "",
            "a 2xx for a valid request",
            describe(x.response),
        ));
    }
    PASSED
}

pub fn negative_data_rejection(x: &Exchange<'_>) -> Verdict {
    let Expect::Reject {
        status,
        mutation,
        pointer,
        ..
    } = &x.case.expect
    else {
        return NOT_APPLICABLE;
    };
    if x.response.status != *status {
        let at = if pointer.is_empty() {
            String::new()
        } else {
            format!(" at {pointer}")
        };
        return Err(mismatch(
            pointer.clone(),
            format!("{status} for {mutation}{at}"),
            describe(x.response),
        ));
    }
    PASSED
}

pub(crate) fn error_locus(x: &Exchange<'_>) -> Verdict {
    let Expect::Reject {
        status: 422,
        locus: Some(locus),
        pointer,
        ..
    } = &x.case.expect
    else {
        return NOT_APPLICABLE;
    };
    if x.response.status != 422 {
        return NOT_APPLICABLE;
    }
    let locs: Vec<&Value> = x
        .response
        .json
        .as_ref()
        .and_then(|b| b.get("detail"))
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(|e| e.get("loc")).collect())
        .unwrap_or_default();
    let received = || {
        if locs.is_empty() {
            "no detail[].loc".to_owned()
        } else {
            compact(&Value::Array(locs.iter().map(|l| (*l).clone()).collect()))
        }
    };
    if let Locus::Every(expected) = locus {
        let missing: Vec<Value> = expected
            .iter()
            .filter(|e| !locs.iter().any(|l| l.as_array() == Some(e)))
            .map(|e| Value::Array(e.clone()))
            .collect();
        if missing.is_empty() {
            return PASSED;
        }
        return Err(mismatch(
            pointer.clone(),
            format!(
                "an entry for each of the {} violations, detail[].loc including {}",
                expected.len(),
                compact(&Value::Array(missing))
            ),
            received(),
        ));
    }
    let wanted = match locus {
        Locus::Exact(loc) => Value::Array(loc.clone()),
        Locus::BodyOffset | Locus::Every(_) => json!(["body", "<byte offset>"]),
    };
    let matches = |loc: &Value| match locus {
        Locus::Exact(expected) => loc.as_array() == Some(expected),
        Locus::BodyOffset | Locus::Every(_) => loc
            .as_array()
            .is_some_and(|l| l.len() == 2 && l[0] == "body" && l[1].is_u64()),
    };
    if !locs.iter().any(|l| matches(l)) {
        return Err(mismatch(
            pointer.clone(),
            format!("detail[].loc {}", compact(&wanted)),
            received(),
        ));
    }
    PASSED
}

/// Called per scalar field: its pointer, what was sent, what must be stored, what came back.
type FieldVisitor<'v> = dyn FnMut(&str, Option<&Value>, &Value, Option<&Value>) -> Checked + 'v;

/// The fields of a create body the server must have stored, walked along the model.
fn walk_config(
    model: &ObjectModel,
    sent: Option<&Value>,
    stored: &Value,
    returned: &Value,
    pointer: &str,
    visit: &mut FieldVisitor<'_>,
) -> Checked {
    for field in &model.fields {
        let here = pointer::child(pointer, &field.name);
        let sent_value = sent.and_then(|s| s.get(&field.name));
        let stored_value = &stored[&field.name];
        let returned_value = returned.get(&field.name);
        match (&field.kind, sent_value) {
            (Kind::Object(inner), Some(Value::Object(_))) => walk_config(
                inner,
                sent_value,
                stored_value,
                returned_value.unwrap_or(&Value::Null),
                &here,
                visit,
            )?,
            (Kind::Object(inner), None) => walk_config(
                inner,
                None,
                stored_value,
                returned_value.unwrap_or(&Value::Null),
                &here,
                visit,
            )?,
            _ => visit(&here, sent_value, stored_value, returned_value)?,
        }
    }
    Ok(())
}

fn config_of<'a>(x: &Exchange<'a>) -> Option<(&'a Value, &'a Value, &'a Value)> {
    let Expect::Accept { sent, stored } = &x.case.expect else {
        return None;
    };
    if x.case.request.operation != Operation::Create || !x.response.is_success() {
        return None;
    }
    Some((
        sent,
        stored,
        x.response.simulation()?.get("simulation_config")?,
    ))
}

pub fn defaults_materialised(x: &Exchange<'_>) -> Verdict {
    let Some((sent, stored, returned)) = config_of(x) else {
        return NOT_APPLICABLE;
    };
    let mut asserted = RuleSet::EMPTY;
    walk_config(
        &x.spec.create_body,
        Some(sent),
        stored,
        returned,
        "/simulation/simulation_config",
        &mut |at, sent, stored, returned| {
            let rule = match sent {
                None => Rule::CreateDefaults,
                Some(Value::Null) => Rule::CreateNullKept,
                Some(_) => return Ok(()),
            };
            asserted = asserted.union(RuleSet::of(&[rule]));
            match returned {
                Some(r) if json_equal(r, stored) => Ok(()),
                Some(r) => Err(mismatch(at, compact(stored), compact(r))),
                None => Err(mismatch(at, compact(stored), "the field left out")),
            }
        },
    )?;
    // A field the suite cannot model is never sent: where the spec gives it a default, that
    // is what must be stored, compared as exact JSON values.
    for (at, field) in x.spec.create_body.unmodelled_paths() {
        let Some(default) = &field.default else {
            continue;
        };
        if sent.pointer(&at).is_some() {
            continue;
        }
        asserted = asserted.union(RuleSet::of(&[Rule::CreateDefaults]));
        let here = format!("/simulation/simulation_config{at}");
        match returned.pointer(&at) {
            Some(r) if json_equal(r, default) => {}
            Some(r) => return Err(mismatch(here, compact(default), compact(r))),
            None => return Err(mismatch(here, compact(default), "the field left out")),
        }
    }
    passed(asserted)
}

pub fn request_echo(x: &Exchange<'_>) -> Verdict {
    if let Expect::Probe { pointer, value } = &x.case.expect {
        return unspecified_input(x, pointer, value);
    }
    let Some((sent, stored, returned)) = config_of(x) else {
        return NOT_APPLICABLE;
    };
    // Unknown keys are compared on every accepted create (none may be stored); a sent field
    // compared against what must be stored is also the default not applied over it, and a
    // non-canonical one its coercion.
    let mut asserted = RuleSet::of(&[Rule::CreateEcho]);
    walk_config(
        &x.spec.create_body,
        Some(sent),
        stored,
        returned,
        "/simulation/simulation_config",
        &mut |at, sent, stored, returned| {
            if sent.is_some_and(|s| !s.is_null()) {
                asserted =
                    asserted.union(RuleSet::of(&[Rule::CreateDefaults, Rule::CoerceAccepted]));
            }
            match (sent, returned) {
                (Some(s), Some(r)) if !s.is_null() && !json_equal(r, stored) => {
                    let canonical = if s == stored {
                        String::new()
                    } else {
                        format!(" (sent {})", compact(s))
                    };
                    Err(mismatch(
                        at,
                        format!("{}{canonical}", compact(stored)),
                        compact(r),
                    ))
                }
                (Some(s), None) if !s.is_null() => {
                    Err(mismatch(at, compact(stored), "the field left out"))
                }
                _ => Ok(()),
            }
        },
    )?;
    unknown_keys(
        &x.spec.create_body,
        returned,
        "/simulation/simulation_config",
    )?;
    passed(asserted)
}

/// CONTRACT.md's weak oracle for an unspecified input, on the create response: if accepted, the
/// stored value has the field's type, and a value that was already canonical is unchanged.
/// Nothing more: not "stored as sent", not any particular canonical form. Stability across
/// later reads is `state_persisted`'s, on the read that follows every accepted probe.
fn unspecified_input(x: &Exchange<'_>, pointer: &str, sent: &Value) -> Verdict {
    if !x.response.is_success() {
        return NOT_APPLICABLE;
    }
    let Some(config) = x
        .response
        .simulation()
        .and_then(|s| s.get("simulation_config"))
    else {
        return NOT_APPLICABLE;
    };
    let Some(field) = x.spec.create_body.field_at(pointer) else {
        return NOT_APPLICABLE;
    };
    let at = format!("/simulation/simulation_config{pointer}");
    let Some(stored) = config.pointer(pointer) else {
        return Err(mismatch(
            at,
            format!("a value of the field's type (sent {})", compact(sent)),
            "the field left out",
        ));
    };
    if !has_type(field, stored) {
        return Err(mismatch(
            at,
            format!("{} (sent {})", type_name(field), compact(sent)),
            compact(stored),
        ));
    }
    if is_canonical(&field.kind, sent) && !json_equal(stored, sent) {
        return Err(mismatch(
            at,
            format!("{} (already canonical, so stored unchanged)", compact(sent)),
            compact(stored),
        ));
    }
    PASSED
}

/// Whether a stored value has the field's type, as JSON Schema decides it: an integer is any
/// number with an integral exact value (`5.0` is one, `9007199254740993.5` is not).
fn has_type(field: &FieldModel, value: &Value) -> bool {
    match (&field.kind, value) {
        (_, Value::Null) => field.nullable,
        (Kind::Integer, Value::Number(n)) => Decimal::of(n).is_integer(),
        (Kind::Object(_), Value::Object(_)) => true,
        (kind, _) => is_canonical(kind, value),
    }
}

fn type_name(field: &FieldModel) -> String {
    let name = match &field.kind {
        Kind::String { .. } => "a string",
        Kind::Integer => "an integer",
        Kind::Boolean => "a boolean",
        Kind::Enum(_) => "one of the enum's values",
        Kind::AnyObject | Kind::Object(_) => "an object",
    };
    if field.nullable {
        format!("{name} or null")
    } else {
        name.to_owned()
    }
}

/// Whether a value is already in the form the server stores for this kind, so that storing it
/// unchanged is the only right answer: an integer literal of any size for an integer, a string
/// of the allowed length, and so on. A float is not canonical for an integer even when its text
/// is integral: Python reads `9007199254740993.0` as the float 9007199254740992.0, so which
/// integer it stands for depends on the reader.
pub(crate) fn is_canonical(kind: &Kind, value: &Value) -> bool {
    match (kind, value) {
        (Kind::Integer, Value::Number(n)) => !n.as_str().contains(['.', 'e', 'E']),
        (Kind::Boolean, Value::Bool(_)) => true,
        (Kind::String { min_len, max_len }, Value::String(s)) => {
            let len = s.chars().count();
            min_len.is_none_or(|m| len >= m) && max_len.is_none_or(|m| len <= m)
        }
        (Kind::Enum(values), Value::String(s)) => values.contains(s),
        (Kind::AnyObject, Value::Object(_)) => true,
        _ => false,
    }
}

/// Keys the model does not know must not have been stored.
fn unknown_keys(model: &ObjectModel, returned: &Value, pointer: &str) -> Checked {
    let Some(map) = returned.as_object() else {
        return Ok(());
    };
    for (key, value) in map {
        match model.fields.iter().find(|f| &f.name == key) {
            // Known to the spec, though not modelled: the response schema judges it.
            None if model.unmodelled.iter().any(|u| &u.name == key) => {}
            None => {
                return Err(mismatch(
                    pointer::child(pointer, key),
                    "unknown keys ignored, not stored",
                    format!("{key}: {}", compact(value)),
                ));
            }
            Some(field) => {
                if let Kind::Object(inner) = &field.kind {
                    unknown_keys(inner, value, &pointer::child(pointer, key))?;
                }
            }
        }
    }
    Ok(())
}

/// Whether a returned `_id` is lowercase hex (an ObjectId, the contract's `schema.response`) of
/// a length the item path's id accepts: a client addresses the record with it.
pub(crate) fn is_object_id(id: &str, id_lengths: (Option<usize>, Option<usize>)) -> bool {
    let (min, max) = id_lengths;
    let fits = min.is_none_or(|m| id.len() >= m) && max.is_none_or(|m| id.len() <= m);
    fits && id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn server_fields(x: &Exchange<'_>) -> Verdict {
    // The identity the run knows is its own key's; another team's requests answer with theirs.
    if !x.response.is_success() || !x.case.request.auth.is_primary() {
        return NOT_APPLICABLE;
    }
    let Some(body) = &x.response.json else {
        return NOT_APPLICABLE;
    };
    let simulations: Vec<(String, &Value)> = match (
        body.get("simulation"),
        body.get("simulations").and_then(Value::as_array),
    ) {
        (Some(s), _) => vec![("/simulation".to_owned(), s)],
        (None, Some(list)) => list
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("/simulations/{i}"), s))
            .collect(),
        _ => return NOT_APPLICABLE,
    };
    if simulations.is_empty() {
        return NOT_APPLICABLE;
    }
    let id_lengths = x.spec.api.id().length_bounds().unwrap_or_default();
    for (at, sim) in simulations {
        let text = |k: &str| sim.get(k).and_then(Value::as_str);
        // What the server sent at a key, as JSON writes it (a number is no string), or `(absent)`.
        let shown = |k: &str| or_absent(sim.get(k).map(compact));
        match text("_id") {
            Some(id) if is_object_id(id, id_lengths) => {
                if x.case.request.operation == Operation::Create
                    && !x
                        .state
                        .seen_ids
                        .lock()
                        .expect("not poisoned")
                        .insert(id.to_owned())
                {
                    return Err(mismatch(
                        format!("{at}/_id"),
                        "a new _id",
                        format!("{id}, already returned by an earlier create"),
                    ));
                }
            }
            _ => {
                let count = match id_lengths {
                    (Some(min), Some(max)) if min == max => min.to_string(),
                    (min, max) => format!(
                        "{}..{}",
                        min.map(|m| m.to_string()).unwrap_or_default(),
                        max.map(|m| m.to_string()).unwrap_or_default()
                    ),
                };
                return Err(mismatch(
                    format!("{at}/_id"),
                    format!("{count} lowercase hex characters"),
                    shown("_id"),
                ));
            }
        }
        for key in ["created_at", "updated_at"] {
            let value = text(key);
            if value
                .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                .is_none()
            {
                return Err(mismatch(
                    format!("{at}/{key}"),
                    "an RFC 3339 date-time with a UTC offset",
                    shown(key),
                ));
            }
        }
        if x.case.request.operation == Operation::Create {
            let parse =
                |k: &str| text(k).and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok());
            if parse("created_at") != parse("updated_at") {
                return Err(mismatch(
                    format!("{at}/updated_at"),
                    format!("equal to created_at {}", shown("created_at")),
                    shown("updated_at"),
                ));
            }
            if text("created_by") != text("updated_by") {
                return Err(mismatch(
                    format!("{at}/updated_by"),
                    format!("equal to created_by {}", shown("created_by")),
                    shown("updated_by"),
                ));
            }
        }
        let mut identity = x.state.identity.lock().expect("not poisoned");
        // A run that was not told who the key belongs to learns it from the first simulation it sees.
        if identity.team.is_none() {
            identity.team = text("team_id").map(str::to_owned);
        }
        if identity.user.is_none() && x.case.request.operation == Operation::Create {
            identity.user = text("created_by").map(str::to_owned);
        }
        if let Some(team) = &identity.team
            && text("team_id") != Some(team.as_str())
        {
            return Err(mismatch(
                format!("{at}/team_id"),
                format!("the caller's team {}", quoted(team)),
                shown("team_id"),
            ));
        }
        let writer_key = if x.case.request.operation == Operation::Create {
            "created_by"
        } else {
            "updated_by"
        };
        if matches!(
            x.case.request.operation,
            Operation::Create | Operation::Update
        ) && let Some(user) = &identity.user
            && text(writer_key) != Some(user.as_str())
        {
            return Err(mismatch(
                format!("{at}/{writer_key}"),
                format!("the caller {}", quoted(user)),
                shown(writer_key),
            ));
        }
    }
    // The id's and date-times' form on every 2xx; the owners and timestamps of a create or an
    // update are that operation's own rule.
    let own = match x.case.request.operation {
        Operation::Create => RuleSet::of(&[Rule::SchemaResponse, Rule::CreateServerFields]),
        Operation::Update => RuleSet::of(&[Rule::SchemaResponse, Rule::UpdateTimestamps]),
        _ => RuleSet::of(&[Rule::SchemaResponse]),
    };
    passed(own)
}

pub(crate) fn typed_client_decodes(x: &Exchange<'_>) -> Verdict {
    use interactly_simulations_client::types;
    if !x.response.is_success() {
        return NOT_APPLICABLE;
    }
    let operation = x.case.request.operation;
    let decode = |body: &[u8]| match operation {
        Operation::Create | Operation::Get | Operation::Update => {
            serde_json::from_slice::<types::SimulationResponse>(body).map(drop)
        }
        Operation::List => serde_json::from_slice::<types::SimulationsListResponse>(body).map(drop),
        Operation::Delete => {
            serde_json::from_slice::<types::DeleteSimulationResponse>(body).map(drop)
        }
    };
    let Err(error) = decode(&x.response.body) else {
        return PASSED;
    };
    let failure = || mismatch("", "a body the generated client decodes", error.to_string());
    // Integers past i64 are the client's limit: if they are all that stops it, note them and pass.
    let Some(body) = &x.response.json else {
        return Err(failure());
    };
    let limits = client_limits(&x.spec.create_body, operation, body);
    if limits.is_empty() {
        return Err(failure());
    }
    let mut within = body.clone();
    for limit in &limits {
        if let Some(slot) = within.pointer_mut(&limit.pointer) {
            *slot = json!(0);
        }
    }
    let bytes = serde_json::to_vec(&within).expect("a Value serialises");
    decode(&bytes).map_err(|_| failure())?;
    x.state
        .client_limits
        .lock()
        .expect("not poisoned")
        .extend(limits);
    PASSED
}

/// The integers of a response that the generated client's types cannot hold: config integers
/// (`i64` there) past the 64-bit range, and a list `total` past `u64`.
fn client_limits(model: &ObjectModel, operation: Operation, body: &Value) -> Vec<ClientLimit> {
    fn walk(
        model: &ObjectModel,
        config: &Value,
        at: &str,
        operation: Operation,
        out: &mut Vec<ClientLimit>,
    ) {
        for field in &model.fields {
            let here = pointer::child(at, &field.name);
            match (&field.kind, config.get(&field.name)) {
                (Kind::Integer, Some(Value::Number(n))) if numbers::beyond_i64(n) => {
                    out.push(ClientLimit {
                        operation,
                        pointer: here,
                        value: n.to_string(),
                        client_type: "i64",
                    });
                }
                (Kind::Object(inner), Some(nested)) => walk(inner, nested, &here, operation, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    if let Some(config) = body.pointer("/simulation/simulation_config") {
        walk(
            model,
            config,
            "/simulation/simulation_config",
            operation,
            &mut out,
        );
    }
    for (i, simulation) in body
        .get("simulations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(config) = simulation.get("simulation_config") {
            let at = format!("/simulations/{i}/simulation_config");
            walk(model, config, &at, operation, &mut out);
        }
    }
    if let Some(Value::Number(total)) = body.get("total")
        && numbers::beyond_u64(total)
    {
        out.push(ClientLimit {
            operation,
            pointer: "/total".into(),
            value: total.to_string(),
            client_type: "u64",
        });
    }
    out
}

/// `item.not-found`: the detail of a 404 for an id the caller's team does not have.
const ITEM_NOT_FOUND: &str = "Simulation not found";
/// `method.not-allowed`: the detail of a 405, as Starlette writes it.
const METHOD_NOT_ALLOWED: &str = "Method Not Allowed";

/// `update.timestamps`: the fields of a stored simulation an update leaves as they were. The
/// spec types them; that an update must not touch them is the contract's rule.
const UNCHANGED_BY_UPDATE: [&str; 4] = ["_id", "created_at", "created_by", "team_id"];

pub fn state_persisted(x: &Exchange<'_>) -> Verdict {
    let Expect::Simulation { expected } = &x.case.expect else {
        return NOT_APPLICABLE;
    };
    if !x.response.is_success() {
        return NOT_APPLICABLE;
    }
    let Some(got) = x.response.simulation() else {
        return Err(mismatch(
            "/simulation",
            compact(expected),
            describe(x.response),
        ));
    };
    first_difference(expected, got, "/simulation")
        .map_or(PASSED, |(at, want, have)| Err(mismatch(at, want, have)))
}

/// The first place where two JSON values differ, as (pointer, expected, received).
fn first_difference(expected: &Value, got: &Value, at: &str) -> Option<(String, String, String)> {
    match (expected, got) {
        (Value::Object(e), Value::Object(g)) => {
            for (k, v) in e {
                let here = pointer::child(at, k);
                match g.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(v, w, &here) {
                            return Some(d);
                        }
                    }
                    None => return Some((here, compact(v), "the field left out".into())),
                }
            }
            g.iter()
                .find(|(k, _)| !e.contains_key(*k))
                .map(|(k, v)| (pointer::child(at, k), "no such field".into(), compact(v)))
        }
        _ if json_equal(expected, got) => None,
        _ => Some((at.to_owned(), compact(expected), compact(got))),
    }
}

pub(crate) fn update_semantics(x: &Exchange<'_>) -> Verdict {
    let Expect::Updated {
        before,
        patch,
        strictly_later,
    } = &x.case.expect
    else {
        return NOT_APPLICABLE;
    };
    if !x.response.is_success() {
        return NOT_APPLICABLE;
    }
    let Some(after) = x.response.simulation() else {
        return NOT_APPLICABLE;
    };
    for key in UNCHANGED_BY_UPDATE {
        if after.get(key) != before.get(key) {
            return Err(mismatch(
                format!("/simulation/{key}"),
                compact(&before[key]),
                after.get(key).map_or("the field left out".into(), compact),
            ));
        }
    }
    // `update.fields`: what PATCH may change is the spec's update body.
    let patchable: Vec<&str> = x
        .spec
        .update_body
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let mut expected_config = before["simulation_config"].clone();
    for key in &patchable {
        if let Some(value) = patch.get(*key) {
            expected_config[*key] = value.clone();
        }
    }
    if let Some((at, want, have)) = first_difference(
        &expected_config,
        &after["simulation_config"],
        "/simulation/simulation_config",
    ) {
        let sent = patchable
            .iter()
            .filter(|k| patch.get(**k).is_some())
            .copied()
            .collect::<Vec<_>>();
        return Err(mismatch(
            at,
            format!("{want} (the PATCH sent only {})", list(sent)),
            have,
        ));
    }
    let time = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    match (time(before, "updated_at"), time(after, "updated_at")) {
        (Some(b), Some(a)) if a < b => {
            return Err(mismatch(
                "/simulation/updated_at",
                format!("not before the previous {}", before["updated_at"]),
                compact(&after["updated_at"]),
            ));
        }
        (Some(b), Some(a)) if *strictly_later && a == b => {
            return Err(mismatch(
                "/simulation/updated_at",
                format!(
                    "later than the previous {} (the update was sent well after that write)",
                    before["updated_at"]
                ),
                compact(&after["updated_at"]),
            ));
        }
        _ => {}
    }
    PASSED
}

pub(crate) fn list_conformance(x: &Exchange<'_>) -> Verdict {
    let Expect::Listed(expect) = &x.case.expect else {
        return NOT_APPLICABLE;
    };
    if !x.response.is_success() {
        return NOT_APPLICABLE;
    }
    let Some(page) = x
        .response
        .json
        .as_ref()
        .and_then(|b| b.get("simulations"))
        .and_then(Value::as_array)
    else {
        return NOT_APPLICABLE;
    };
    // What this page lets the check compare: absent ids, each shown record against the
    // filters, the order of two or more, and, for a page whose every id is known, the page
    // and its total.
    let mut asserted = RuleSet::EMPTY;
    if !expect.absent.is_empty() {
        asserted = asserted.union(RuleSet::of(&[Rule::TenancyList, Rule::DeleteGone]));
    }
    if !page.is_empty() {
        asserted = asserted.union(RuleSet::of(&[
            Rule::ListSearch,
            Rule::ListTimeBounds,
            Rule::ListExactFilters,
            Rule::ListAnd,
        ]));
    }
    if page.len() >= 2 {
        asserted = asserted.union(RuleSet::of(&[Rule::ListOrder]));
    }
    if expect.exact {
        asserted = RuleSet::ALL;
    }
    let ids: Vec<&str> = page
        .iter()
        .map(|s| s["_id"].as_str().unwrap_or_default())
        .collect();
    if let Some(id) = ids.iter().find(|id| expect.absent.iter().any(|a| a == *id)) {
        return Err(mismatch(
            "/simulations",
            format!("{id} left out (deleted, or another team's)"),
            format!("{id} listed"),
        ));
    }
    if let Some((i, sim)) = page
        .iter()
        .enumerate()
        .find(|(_, s)| !expect.filter.matches(s))
    {
        return Err(mismatch(
            format!("/simulations/{i}"),
            format!("only simulations matching {}", expect.filter.filters()),
            compact(sim),
        ));
    }
    for pair in page.windows(2) {
        let key = |s: &Value| {
            (
                crate::listing::created_at(s),
                s["_id"].as_str().unwrap_or_default().to_owned(),
            )
        };
        if key(&pair[0]) < key(&pair[1]) {
            return Err(mismatch(
                "/simulations",
                "newest first (created_at, then _id, descending)",
                format!("{} before {}", pair[0]["_id"], pair[1]["_id"]),
            ));
        }
    }
    if expect.exact {
        let expected: Vec<&str> = expect.expected_ids.iter().map(String::as_str).collect();
        if ids != expected {
            return Err(mismatch(
                "/simulations",
                format!("the ids {}, in this order", list(expected)),
                format!("the ids {}", list(ids)),
            ));
        }
        let total = x.response.json.as_ref().and_then(|b| b.get("total"));
        if total.and_then(Value::as_u64) != Some(expect.total) {
            return Err(mismatch(
                "/total",
                format!("{}", expect.total),
                or_absent(total.map(compact)),
            ));
        }
    }
    passed(asserted)
}

pub(crate) fn status_one_of(x: &Exchange<'_>) -> Verdict {
    let Expect::OneOf { statuses, because } = &x.case.expect else {
        return NOT_APPLICABLE;
    };
    if !statuses.contains(&x.response.status) {
        return Err(mismatch(
            "",
            format!("one of {}, {because}", list(statuses)),
            describe(x.response),
        ));
    }
    PASSED
}

pub fn not_found(x: &Exchange<'_>) -> Verdict {
    if !matches!(x.case.expect, Expect::NotFound) {
        return NOT_APPLICABLE;
    }
    let wanted = json!({ "detail": ITEM_NOT_FOUND });
    if x.response.status != 404 || x.response.json.as_ref() != Some(&wanted) {
        return Err(mismatch("", format!("404 {wanted}"), describe(x.response)));
    }
    PASSED
}

pub fn auth_enforced(x: &Exchange<'_>) -> Verdict {
    let Expect::Unauthorized { detail } = &x.case.expect else {
        return NOT_APPLICABLE;
    };
    let wanted = json!({ "detail": detail });
    if x.response.status != 401 || x.response.json.as_ref() != Some(&wanted) {
        return Err(mismatch("", format!("401 {wanted}"), describe(x.response)));
    }
    if x.response.www_authenticate.as_deref() != Some("Bearer") {
        return Err(mismatch(
            "",
            "WWW-Authenticate: Bearer",
            quoted_or_absent(x.response.www_authenticate.as_deref()),
        ));
    }
    PASSED
}

pub fn method_not_allowed(x: &Exchange<'_>) -> Verdict {
    let Expect::NotAllowed { allow } = &x.case.expect else {
        return NOT_APPLICABLE;
    };
    let wanted = json!({ "detail": METHOD_NOT_ALLOWED });
    // A response to HEAD has no body (RFC 9110 §9.3.2): only its status and Allow are judged.
    let head = x.case.request.method.eq_ignore_ascii_case("HEAD");
    if head {
        if x.response.status != 405 {
            return Err(mismatch("", "405", describe(x.response)));
        }
    } else if x.response.status != 405 || x.response.json.as_ref() != Some(&wanted) {
        return Err(mismatch("", format!("405 {wanted}"), describe(x.response)));
    }
    let mut got: Vec<String> = x
        .response
        .allow
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    got.sort();
    let mut expected: Vec<String> = allow.clone();
    expected.sort();
    if got != expected {
        return Err(mismatch(
            "",
            format!("Allow: {}", expected.join(", ")),
            format!("Allow: {}", x.response.allow.as_deref().unwrap_or("(none)")),
        ));
    }
    if head {
        passed(RuleSet::of(&[Rule::MethodNotAllowed]))
    } else {
        PASSED
    }
}

/// JSON equality that compares numbers by their exact value: `1.0 == 1` and `1e2 == 100`, but
/// `99999999999999999999 != 1e20` and `9007199254740993 != 9007199254740992`, which an `f64`
/// would call equal.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers::same_value(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A value as one line of at most 200 characters. Responses are redacted on arrival, and the
/// cut keeps their placeholders whole.
pub fn compact(v: &Value) -> String {
    match crate::redact::cut(&v.to_string(), 200) {
        (text, true) => format!("{text}…"),
        (text, false) => text,
    }
}

fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let (cut, _) = crate::redact::cut(&text, 120);
    if body.is_empty() {
        "an empty body".into()
    } else {
        format!("a body that is not JSON: {}", quoted(&cut))
    }
}

fn describe(r: &Response) -> String {
    match &r.json {
        Some(body) => format!("{} {}", r.status, compact(body)),
        None => format!("{} {}", r.status, preview(&r.body)),
    }
}
