//! Every check fails on a response crafted to break it and passes on a correct one.

use std::path::Path;

use crate::Spec;
use crate::checks::{self, CHECKS};
use crate::hazard::{self, Hazard};
use crate::request::{Case, Expect, Locus};
use crate::response::Response;
use crate::rules::{Rule, RuleSet};
use crate::run_state::{Identity, RunState};
use crate::verdict::{Applied, Exchange, Verdict};
use serde_json::{Value, json};

fn spec() -> Spec {
    Spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json")).unwrap()
}

fn caller() -> Identity {
    Identity {
        team: Some("team-a".into()),
        user: Some("user-a".into()),
    }
}

fn workflow(id: Value) -> Value {
    json!({"workflow_id": id, "dynamic_variables": {}, "name": null, "total_events": 0, "total_nodes": 0,
           "total_duration_seconds": 0, "run_id": null})
}

/// A create that sends max_events as the lax "7", a null description, a workflow id and an unknown key.
fn valid_create() -> Case {
    let sent = json!({"max_events": "7", "description": null, "selected_workflow": {"workflow_id": "aaaaaaaaaaaaaaaaaaaaaaaa"},
                      "x-unknown-key": 1});
    let stored = json!({"logical_id": null, "description": null, "selected_workflow": workflow(json!("aaaaaaaaaaaaaaaaaaaaaaaa")),
        "counter_workflow": workflow(Value::Null), "timeout_seconds": null, "max_events": 7, "number_of_simulations": 1,
        "stop_on_failure": false, "status": "pending"});
    Case {
        request: spec().api.create(sent.clone()),
        expect: Expect::Accept { sent, stored },
    }
}

fn good_simulation() -> Value {
    let Expect::Accept { stored, .. } = valid_create().expect else {
        unreachable!()
    };
    json!({"simulation": {"team_id": "team-a", "created_by": "user-a", "updated_by": "user-a",
        "created_at": "2026-11-28T12:00:00.123456Z", "updated_at": "2026-11-28T12:00:00.123456Z",
        "_id": "5eb7cf5a86d9755df3a6c593", "simulation_config": stored}})
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::new(
        status,
        Some("application/json".into()),
        serde_json::to_vec(body).unwrap(),
    )
}

/// A pass, whatever it asserted: [`verdict`] folds every non-empty asserted set into this, and
/// `a_check_asserts_only_what_it_compared` looks at the sets themselves.
const PASSED: Verdict = Ok(Applied::Passed(RuleSet::ALL));
const NOT_APPLICABLE: Verdict = Ok(Applied::NotApplicable);

fn verdict(check: &str, case: &Case, response: &Response) -> Verdict {
    match asserted(check, case, response) {
        Ok(Applied::Passed(rules)) => {
            assert!(!rules.is_empty(), "{check} passed having asserted nothing");
            PASSED
        }
        other => other,
    }
}

/// The check's own verdict, with the rules it says it asserted.
fn asserted(check: &str, case: &Case, response: &Response) -> Verdict {
    let spec = spec();
    let state = RunState::new(caller());
    let exchange = Exchange {
        spec: &spec,
        case,
        response,
        state: &state,
    };
    (checks::find(check).unwrap().run)(&exchange)
}

/// Asserts the check passes on the good response and fails on the broken one.
fn assert_catches(check: &str, case: &Case, good: &Response, broken: &Response) {
    assert_eq!(
        verdict(check, case, good),
        PASSED,
        "{check} must pass on the correct response"
    );
    let failure = verdict(check, case, broken)
        .expect_err(&format!("{check} must fail on the broken response"));
    assert!(
        !failure.expected.is_empty() && !failure.received.is_empty(),
        "{failure:?}"
    );
}

/// [`assert_catches`] with each of `broken` as the body of a 200.
fn assert_catches_each(
    check: &str,
    case: &Case,
    good: &Response,
    broken: impl IntoIterator<Item = Value>,
) {
    for body in broken {
        assert_catches(check, case, good, &json_response(200, &body));
    }
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .insert(key.to_owned(), value);
    body
}

fn without(mut body: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    body.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    body
}

fn rejected(mutation: &'static str, pointer: &str, status: u16, locus: Option<Locus>) -> Case {
    Case {
        request: spec().api.create(json!({})),
        expect: Expect::Reject {
            mutation,
            pointer: pointer.into(),
            status,
            locus,
        },
    }
}

/// A JSON number with exactly these digits (serde_json's `arbitrary_precision` keeps them).
fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// A valid create of `{field: sent}` that must store `stored` there.
fn create_storing(field: &str, sent: Value, stored: Value) -> Case {
    let Expect::Accept {
        stored: mut config, ..
    } = valid_create().expect
    else {
        unreachable!()
    };
    config[field] = stored;
    let sent = json!({ field: sent });
    Case {
        request: spec().api.create(sent.clone()),
        expect: Expect::Accept {
            sent,
            stored: config,
        },
    }
}

/// A create probing `max_events` with an unspecified input.
fn probe(value: Value) -> Case {
    Case {
        request: spec().api.create(json!({ "max_events": value })),
        expect: Expect::Probe {
            pointer: "/max_events".into(),
            value,
        },
    }
}

fn max_events(value: Value) -> Response {
    json_response(
        200,
        &with(
            good_simulation(),
            "/simulation/simulation_config/max_events",
            value,
        ),
    )
}

fn validation_error(loc: Value) -> Value {
    json!({"detail": [{"type": "int_parsing", "loc": loc, "msg": "Input should be a valid integer", "input": "abc"}]})
}

#[test]
fn not_a_server_error() {
    let case = valid_create();
    assert_catches(
        "not_a_server_error",
        &case,
        &json_response(200, &good_simulation()),
        &json_response(500, &json!({"detail": "boom"})),
    );
}

/// A case drawn to carry `hazard`, as `cases::arb_create_hazard` draws it.
fn hazard_case(hazard: Hazard) -> Case {
    match hazard {
        Hazard::NonFiniteNumber => rejected(
            hazard::NON_FINITE,
            "/max_events",
            422,
            Some(Locus::Exact(vec![json!("body"), json!("max_events")])),
        ),
        Hazard::LoneSurrogate => Case {
            request: spec().api.create(json!({})),
            expect: Expect::OneOf {
                statuses: vec![400, 422, 200],
                because: hazard::LONE_SURROGATE_BECAUSE,
            },
        },
        Hazard::DeepNesting => Case {
            request: spec().api.create(json!({})),
            expect: Expect::OneOf {
                statuses: vec![400, 413, 422, 200],
                because: hazard::DEEP_NESTING_BECAUSE,
            },
        },
    }
}

/// Each hazard check fails on a 500 to its own hazard's case and applies to no other case,
/// so a baseline entry naming it cannot hide any other finding; `not_a_server_error` leaves
/// the hazards' cases to them and still fails on every other 500.
fn assert_hazard_check(hazard: Hazard) {
    let own = hazard_case(hazard);
    let error = json_response(500, &json!({"detail": "Internal Server Error"}));
    let refused = json_response(422, &validation_error(json!(["body", "max_events"])));
    assert_catches(hazard.check(), &own, &refused, &error);
    assert_eq!(verdict("not_a_server_error", &own, &error), NOT_APPLICABLE);
    let others = Hazard::ALL
        .into_iter()
        .filter(|h| *h != hazard)
        .map(hazard_case)
        .chain([
            valid_create(),
            rejected("wrong_type", "/max_events", 422, None),
            probe(json!(1.5)),
        ]);
    for other in others {
        assert_eq!(
            verdict(hazard.check(), &other, &error),
            NOT_APPLICABLE,
            "{other:?}"
        );
        if Hazard::of(&other).is_none() {
            assert!(verdict("not_a_server_error", &other, &error).is_err());
        }
    }
}

#[test]
fn non_finite_number_handled() {
    assert_hazard_check(Hazard::NonFiniteNumber);
}

#[test]
fn lone_surrogate_handled() {
    assert_hazard_check(Hazard::LoneSurrogate);
}

#[test]
fn deep_nesting_handled() {
    assert_hazard_check(Hazard::DeepNesting);
}

/// The baseline CI's oracle run reads (stock FastAPI's own 500s) names hazard checks only, one
/// entry per hazard at most: by `assert_hazard_check`, nothing else can match it.
#[test]
fn the_stock_fastapi_baseline_names_only_hazard_checks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../oracle/stock-fastapi.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let baseline = crate::baseline::Baseline::parse(&text).unwrap();
    assert!(!baseline.entries.is_empty());
    let mut named = Vec::new();
    for entry in &baseline.entries {
        let hazard = Hazard::ALL
            .into_iter()
            .find(|h| h.check() == entry.check)
            .unwrap_or_else(|| panic!("{} is not a hazard check", entry.key_text()));
        assert!(
            entry.reason.starts_with("stock FastAPI"),
            "{}",
            entry.reason
        );
        assert_eq!(entry.pointer, "", "{}", entry.key_text());
        assert!(!named.contains(&(hazard, entry.operation.clone())));
        named.push((hazard, entry.operation.clone()));
    }
}

#[test]
fn status_code_conformance() {
    let case = valid_create();
    assert_catches(
        "status_code_conformance",
        &case,
        &json_response(200, &good_simulation()),
        &json_response(201, &good_simulation()),
    );
}

#[test]
fn status_code_conformance_leaves_a_status_the_contract_allows_but_the_spec_omits_to_the_contract()
{
    let over_limit = Case {
        request: spec()
            .api
            .create(json!({"description": "x".repeat(1_100_000)})),
        expect: Expect::OneOf {
            statuses: vec![200, 413],
            because: "a body over 1 MiB may be refused with 413",
        },
    };
    let too_large = json_response(413, &json!({"detail": "Content Too Large"}));
    assert_eq!(
        verdict("status_code_conformance", &over_limit, &too_large),
        NOT_APPLICABLE
    );
    // The same 413 for an ordinary create is a status the spec does not document.
    assert!(verdict("status_code_conformance", &valid_create(), &too_large).is_err());
    assert!(
        verdict(
            "status_code_conformance",
            &over_limit,
            &json_response(201, &good_simulation())
        )
        .is_err()
    );
}

#[test]
fn content_type_conformance() {
    let case = valid_create();
    let good = json_response(200, &good_simulation());
    let mut broken = good.clone();
    broken.content_type = Some("text/plain; charset=utf-8".into());
    assert_catches("content_type_conformance", &case, &good, &broken);
}

#[test]
fn response_schema_conformance() {
    let case = valid_create();
    let good = json_response(200, &good_simulation());
    assert_catches_each(
        "response_schema_conformance",
        &case,
        &good,
        [
            without(good_simulation(), "/simulation/updated_by"),
            with(
                good_simulation(),
                "/simulation/created_at",
                json!("2026-11-28T12:00:00"),
            ),
            with(
                good_simulation(),
                "/simulation/_id",
                json!("not-an-object-id-at-all!"),
            ),
            with(
                good_simulation(),
                "/simulation/simulation_config/max_events",
                json!("7"),
            ),
            // Not an integer, though its nearest f64 (9007199254740994) is.
            with(
                good_simulation(),
                "/simulation/simulation_config/max_events",
                number("9007199254740993.5"),
            ),
        ],
    );
    let not_json = Response::new(200, Some("application/json".into()), b"<html>".to_vec());
    assert_catches("response_schema_conformance", &case, &good, &not_json);
    // An integer of any size is an integer, however it is written.
    for big in ["99999999999999999999", "1e+20", "-99999999999999999999.0"] {
        assert_eq!(
            verdict(
                "response_schema_conformance",
                &case,
                &max_events(number(big))
            ),
            PASSED,
            "{big}"
        );
    }
}

#[test]
fn positive_data_acceptance() {
    let case = valid_create();
    let refusal = json_response(422, &validation_error(json!(["body", "max_events"])));
    assert_catches(
        "positive_data_acceptance",
        &case,
        &json_response(200, &good_simulation()),
        &refusal,
    );
}

#[test]
fn negative_data_rejection() {
    let case = rejected("wrong_type", "/max_events", 422, None);
    let good = json_response(422, &validation_error(json!(["body", "max_events"])));
    assert_catches(
        "negative_data_rejection",
        &case,
        &good,
        &json_response(200, &good_simulation()),
    );
    assert_catches(
        "negative_data_rejection",
        &case,
        &good,
        &json_response(400, &json!({"detail": "bad"})),
    );
    let utf8 = rejected("invalid_utf8", "", 400, None);
    assert_catches(
        "negative_data_rejection",
        &utf8,
        &json_response(
            400,
            &json!({"detail": "There was an error parsing the body"}),
        ),
        &json_response(422, &validation_error(json!(["body", 0]))),
    );
}

#[test]
fn error_locus() {
    let case = rejected(
        "wrong_type",
        "/selected_workflow/total_events",
        422,
        Some(Locus::Exact(vec![
            json!("body"),
            json!("selected_workflow"),
            json!("total_events"),
        ])),
    );
    assert_catches(
        "error_locus",
        &case,
        &json_response(
            422,
            &validation_error(json!(["body", "selected_workflow", "total_events"])),
        ),
        &json_response(422, &validation_error(json!(["body", "selected_workflow"]))),
    );
    // Several violations: an entry for each, not only the first (a handler that keeps one).
    let several = rejected(
        "several_rejected",
        "/max_events",
        422,
        Some(Locus::Every(vec![
            vec![json!("body"), json!("max_events")],
            vec![json!("body"), json!("timeout_seconds")],
        ])),
    );
    let mut both = validation_error(json!(["body", "timeout_seconds"]));
    both["detail"]
        .as_array_mut()
        .unwrap()
        .push(validation_error(json!(["body", "max_events"]))["detail"][0].clone());
    assert_catches(
        "error_locus",
        &several,
        &json_response(422, &both),
        &json_response(422, &validation_error(json!(["body", "max_events"]))),
    );
    let offset = rejected("invalid_json", "", 422, Some(Locus::BodyOffset));
    assert_catches(
        "error_locus",
        &offset,
        &json_response(422, &validation_error(json!(["body", 12]))),
        &json_response(422, &json!({"detail": "JSON decode error"})),
    );
}

#[test]
fn defaults_materialised() {
    let case = valid_create();
    let good = json_response(200, &good_simulation());
    assert_catches_each(
        "defaults_materialised",
        &case,
        &good,
        [
            with(
                good_simulation(),
                "/simulation/simulation_config/number_of_simulations",
                json!(100),
            ),
            with(
                good_simulation(),
                "/simulation/simulation_config/counter_workflow/total_nodes",
                Value::Null,
            ),
            with(
                good_simulation(),
                "/simulation/simulation_config/description",
                json!(""),
            ),
            without(good_simulation(), "/simulation/simulation_config/status"),
            // The default is 1; an f64 reading would call this 1.
            with(
                good_simulation(),
                "/simulation/simulation_config/number_of_simulations",
                number("1.0000000000000000001"),
            ),
        ],
    );
    // The same value written another way is the default.
    let spelled = with(
        good_simulation(),
        "/simulation/simulation_config/number_of_simulations",
        number("1.0"),
    );
    assert_eq!(
        verdict(
            "defaults_materialised",
            &case,
            &json_response(200, &spelled)
        ),
        PASSED
    );
}

#[test]
fn request_echo() {
    let case = valid_create();
    let good = json_response(200, &good_simulation());
    assert_catches_each(
        "request_echo",
        &case,
        &good,
        [
            with(
                good_simulation(),
                "/simulation/simulation_config/max_events",
                json!("7"),
            ),
            with(
                good_simulation(),
                "/simulation/simulation_config/selected_workflow/workflow_id",
                Value::Null,
            ),
            with(
                good_simulation(),
                "/simulation/simulation_config/x-unknown-key",
                json!(1),
            ),
        ],
    );
    // Numbers are compared exactly: 9007199254740992 is what an f64 makes of ...993.
    let beyond_f64 = create_storing(
        "max_events",
        number("9007199254740993"),
        number("9007199254740993"),
    );
    assert_catches(
        "request_echo",
        &beyond_f64,
        &max_events(number("9007199254740993")),
        &max_events(number("9007199254740992")),
    );
    // An integral float is stored as its integer; 5 and 5.0 are the same value.
    let float = create_storing("max_events", number("5.0"), json!(5));
    assert_catches(
        "request_echo",
        &float,
        &max_events(json!(5)),
        &max_events(json!(6)),
    );
    assert_eq!(
        verdict("request_echo", &float, &max_events(number("5.0"))),
        PASSED
    );
}

/// CONTRACT.md's weak oracle for unspecified inputs: if accepted, typed, and a value that was
/// already canonical is unchanged; nothing about what a non-canonical one becomes.
#[test]
fn request_echo_judges_unspecified_inputs_weakly() {
    let rejected = json_response(422, &validation_error(json!(["body", "max_events"])));
    // "5_000": real pydantic stores 5000. Any integer passes; a string is not the field's type.
    let underscores = probe(json!("5_000"));
    assert_catches(
        "request_echo",
        &underscores,
        &max_events(json!(5000)),
        &max_events(json!("5_000")),
    );
    assert_eq!(
        verdict("request_echo", &underscores, &max_events(json!(5))),
        PASSED,
        "the contract leaves the value of \"5_000\" unspecified, only its type is asserted"
    );
    assert_eq!(
        verdict("request_echo", &underscores, &rejected),
        NOT_APPLICABLE,
        "a rejected probe leaves nothing stored to judge"
    );
    // 99999999999999999999 is already canonical: stored exactly, compared without an f64.
    let big = probe(number("99999999999999999999"));
    for broken in [
        number("1e+20"),
        number("100000000000000000000"),
        json!("99999999999999999999"),
        json!(99),
    ] {
        assert_catches(
            "request_echo",
            &big,
            &max_events(number("99999999999999999999")),
            &max_events(broken),
        );
    }
    assert_eq!(
        verdict(
            "request_echo",
            &big,
            &max_events(number("99999999999999999999.0"))
        ),
        PASSED,
        "the same value, written as a float"
    );
    assert_eq!(verdict("request_echo", &big, &rejected), NOT_APPLICABLE);
    // A big integer as a string is not canonical: any integer (or null, the field allows it).
    let big_string = probe(json!("99999999999999999999"));
    assert_catches(
        "request_echo",
        &big_string,
        &max_events(number("99999999999999999999")),
        &max_events(number("99999999999999999999.5")),
    );
    assert_eq!(
        verdict("request_echo", &big_string, &max_events(Value::Null)),
        PASSED
    );
    // A float is not canonical for an integer field: which integer 9007199254740993.0 is
    // depends on the reader (Python's float says ...992), so only the type is asserted.
    let float = probe(number("9007199254740993.0"));
    for either in ["9007199254740992", "9007199254740993"] {
        assert_eq!(
            verdict("request_echo", &float, &max_events(number(either))),
            PASSED,
            "{either}"
        );
    }
    assert!(
        verdict(
            "request_echo",
            &float,
            &max_events(number("9007199254740992.5"))
        )
        .is_err()
    );
    // A probe whose field is missing from the response is not stored at all.
    let missing = json_response(
        200,
        &without(
            good_simulation(),
            "/simulation/simulation_config/max_events",
        ),
    );
    assert!(verdict("request_echo", &big, &missing).is_err());
}

#[test]
fn server_fields() {
    let case = valid_create();
    let good = json_response(200, &good_simulation());
    assert_catches_each(
        "server_fields",
        &case,
        &good,
        [
            with(
                good_simulation(),
                "/simulation/_id",
                json!("5EB7CF5A86D9755DF3A6C593"),
            ),
            with(
                good_simulation(),
                "/simulation/updated_at",
                json!("2026-11-28T12:00:01Z"),
            ),
            with(
                good_simulation(),
                "/simulation/created_at",
                json!("2026-11-28 12:00:00"),
            ),
            with(good_simulation(), "/simulation/team_id", json!("team-b")),
            with(
                good_simulation(),
                "/simulation/created_by",
                json!("someone-else"),
            ),
        ],
    );
    // The same _id from two creates is not new.
    let spec = spec();
    let state = RunState::new(caller());
    let exchange = Exchange {
        spec: &spec,
        case: &case,
        response: &good,
        state: &state,
    };
    assert!(matches!(
        checks::server_fields(&exchange),
        Ok(Applied::Passed(_))
    ));
    assert!(
        checks::server_fields(&exchange).is_err(),
        "a repeated _id must fail"
    );
}

#[test]
fn typed_client_decodes() {
    let case = valid_create();
    let good = json_response(200, &good_simulation());
    let broken = with(
        good_simulation(),
        "/simulation/simulation_config/selected_workflow/workflow_id",
        json!("short"),
    );
    assert_catches(
        "typed_client_decodes",
        &case,
        &good,
        &json_response(200, &broken),
    );
    // An integer written as a float is the server's doing: the client's i64 cannot read 5.0.
    assert_catches(
        "typed_client_decodes",
        &case,
        &good,
        &max_events(number("5.0")),
    );
}

/// An integer past i64 is what FastAPI stores; the generated client's `i64` cannot hold it.
/// That is a note about the client, kept in the run state for the report, not a failure.
#[test]
fn typed_client_decodes_notes_integers_the_client_cannot_hold() {
    let spec = spec();
    let state = RunState::new(caller());
    let case = probe(number("99999999999999999999"));
    let judge = |response: &Response| {
        checks::typed_client_decodes(&Exchange {
            spec: &spec,
            case: &case,
            response,
            state: &state,
        })
    };
    let big = with(
        with(
            good_simulation(),
            "/simulation/simulation_config/max_events",
            number("99999999999999999999"),
        ),
        "/simulation/simulation_config/counter_workflow/total_nodes",
        number("-1e30"),
    );
    assert_eq!(judge(&json_response(200, &big)), PASSED);
    assert_eq!(judge(&json_response(200, &big)), PASSED, "noted once");
    let noted: Vec<(String, String, &str)> = state
        .client_limits()
        .into_iter()
        .map(|l| (l.pointer, l.value, l.client_type))
        .collect();
    assert_eq!(
        noted,
        [
            (
                "/simulation/simulation_config/counter_workflow/total_nodes".to_owned(),
                "-1e+30".to_owned(),
                "i64"
            ),
            (
                "/simulation/simulation_config/max_events".to_owned(),
                "99999999999999999999".to_owned(),
                "i64"
            ),
        ]
    );
    // Anything else the client cannot decode still fails, big integers or not.
    let broken = with(
        big,
        "/simulation/simulation_config/selected_workflow/workflow_id",
        json!("short"),
    );
    assert!(judge(&json_response(200, &broken)).is_err());
    assert_eq!(
        state.client_limits().len(),
        2,
        "nothing noted for a failure"
    );
}

#[test]
fn every_registered_check_has_a_test_function_named_after_it() {
    let source = include_str!("checks.rs");
    for check in CHECKS {
        assert!(
            source.contains(&format!("fn {}()", check.name)),
            "no test for check {}",
            check.name
        );
    }
}

fn read_case(expect: Expect) -> Case {
    Case {
        request: spec().api.get("5eb7cf5a86d9755df3a6c593"),
        expect,
    }
}

#[test]
fn state_persisted() {
    let case = read_case(Expect::Simulation {
        expected: good_simulation()["simulation"].clone(),
    });
    let good = json_response(200, &good_simulation());
    assert_catches_each(
        "state_persisted",
        &case,
        &good,
        [
            with(
                good_simulation(),
                "/simulation/simulation_config/description",
                json!("changed"),
            ),
            with(
                good_simulation(),
                "/simulation/simulation_config/extra",
                json!(1),
            ),
            without(
                good_simulation(),
                "/simulation/simulation_config/max_events",
            ),
        ],
    );
    // A read after a probe: the big integer the create stored, exactly, on every read.
    let stored = with(
        good_simulation(),
        "/simulation/simulation_config/max_events",
        number("99999999999999999999"),
    );
    let reread = read_case(Expect::Simulation {
        expected: stored["simulation"].clone(),
    });
    assert_catches(
        "state_persisted",
        &reread,
        &json_response(200, &stored),
        &max_events(number("100000000000000000000")),
    );
}

#[test]
fn update_semantics() {
    let before = good_simulation()["simulation"].clone();
    let patch = json!({"status": "running", "max_events": 1, "x-unknown": true});
    let case = Case {
        request: spec().api.update("5eb7cf5a86d9755df3a6c593", patch.clone()),
        expect: Expect::Updated {
            before,
            patch,
            strictly_later: false,
        },
    };
    let after = with(
        with(
            good_simulation(),
            "/simulation/simulation_config/status",
            json!("running"),
        ),
        "/simulation/updated_at",
        json!("2026-11-28T12:00:01Z"),
    );
    let good = json_response(200, &after);
    assert_catches_each(
        "update_semantics",
        &case,
        &good,
        [
            with(
                after.clone(),
                "/simulation/simulation_config/max_events",
                json!(1),
            ),
            with(
                after.clone(),
                "/simulation/simulation_config/status",
                json!("pending"),
            ),
            with(
                after.clone(),
                "/simulation/created_at",
                json!("2026-11-28T12:00:01Z"),
            ),
            with(
                after.clone(),
                "/simulation/updated_at",
                json!("2026-11-28T11:59:59Z"),
            ),
            with(
                after.clone(),
                "/simulation/simulation_config/x-unknown",
                json!(true),
            ),
            with(
                after.clone(),
                "/simulation/simulation_config/description",
                json!(""),
            ),
        ],
    );
}

#[test]
fn list_conformance() {
    use crate::listing::{ListExpectation, ListFilter};
    let sim = |id: &str, at: &str, status: &str| {
        let mut s = good_simulation()["simulation"].clone();
        s["_id"] = json!(id);
        s["created_at"] = json!(at);
        s["updated_at"] = json!(at);
        s["simulation_config"]["status"] = json!(status);
        s
    };
    let newer = sim(
        "bbbbbbbbbbbbbbbbbbbbbbbb",
        "2026-11-28T12:00:02Z",
        "running",
    );
    let older = sim(
        "aaaaaaaaaaaaaaaaaaaaaaaa",
        "2026-11-28T12:00:01Z",
        "running",
    );
    let other = sim("cccccccccccccccccccccccc", "2026-11-28T12:00:03Z", "failed");
    let filter = ListFilter {
        status: Some("running".into()),
        ..ListFilter::default()
    };
    let exact = read_case(Expect::Listed(ListExpectation {
        filter: filter.clone(),
        exact: true,
        expected_ids: vec![
            "bbbbbbbbbbbbbbbbbbbbbbbb".into(),
            "aaaaaaaaaaaaaaaaaaaaaaaa".into(),
        ],
        total: 2,
        absent: vec!["dddddddddddddddddddddddd".into()],
    }));
    let page = |sims: Vec<&Value>, total: u64| {
        json_response(200, &json!({"simulations": sims, "total": total}))
    };
    let good = page(vec![&newer, &older], 2);
    assert_catches(
        "list_conformance",
        &exact,
        &good,
        &page(vec![&older, &newer], 2),
    );
    assert_catches(
        "list_conformance",
        &exact,
        &good,
        &page(vec![&newer, &older], 7),
    );
    assert_catches("list_conformance", &exact, &good, &page(vec![&newer], 2));
    assert_catches(
        "list_conformance",
        &exact,
        &good,
        &page(vec![&other, &newer, &older], 3),
    );
    let deleted = sim(
        "dddddddddddddddddddddddd",
        "2026-11-28T12:00:00Z",
        "running",
    );
    assert_catches(
        "list_conformance",
        &exact,
        &good,
        &page(vec![&newer, &older, &deleted], 3),
    );
    let sound = read_case(Expect::Listed(ListExpectation {
        filter,
        exact: false,
        expected_ids: vec![],
        total: 0,
        absent: vec![],
    }));
    assert_catches(
        "list_conformance",
        &sound,
        &page(vec![&newer], 40),
        &page(vec![&other], 40),
    );
}

#[test]
fn update_semantics_wants_a_later_updated_at_only_when_told_the_update_came_well_after() {
    let before = good_simulation()["simulation"].clone();
    let patch = json!({"status": "running"});
    let unchanged_clock = with(
        good_simulation(),
        "/simulation/simulation_config/status",
        json!("running"),
    );
    let moved_clock = with(
        unchanged_clock.clone(),
        "/simulation/updated_at",
        json!("2026-11-28T12:00:00.123457Z"),
    );
    let case = |strictly_later| Case {
        request: spec().api.update("5eb7cf5a86d9755df3a6c593", patch.clone()),
        expect: Expect::Updated {
            before: before.clone(),
            patch: patch.clone(),
            strictly_later,
        },
    };
    // Equal timestamps are "not before": a coarse clock may give them to quick writes.
    assert_eq!(
        verdict(
            "update_semantics",
            &case(false),
            &json_response(200, &unchanged_clock)
        ),
        PASSED
    );
    assert_catches(
        "update_semantics",
        &case(true),
        &json_response(200, &moved_clock),
        &json_response(200, &unchanged_clock),
    );
}

#[test]
fn status_one_of() {
    let case = Case {
        request: spec()
            .api
            .update("5eb7cf5a86d9755df3a6c593", json!({"status": "failed"})),
        expect: Expect::OneOf {
            statuses: vec![200, 404],
            because: "as a serial order of the racing requests gives",
        },
    };
    let not_found = json!({"detail": "Simulation not found"});
    assert_catches(
        "status_one_of",
        &case,
        &json_response(404, &not_found),
        &json_response(422, &validation_error(json!(["body", "status"]))),
    );
    assert_eq!(
        verdict(
            "status_one_of",
            &case,
            &json_response(200, &good_simulation())
        ),
        PASSED
    );
}

#[test]
fn not_found() {
    let case = read_case(Expect::NotFound);
    assert_catches(
        "not_found",
        &case,
        &json_response(404, &json!({"detail": "Simulation not found"})),
        &json_response(200, &good_simulation()),
    );
}

#[test]
fn auth_enforced() {
    let case = read_case(Expect::Unauthorized {
        detail: "Not authenticated",
    });
    let mut good = json_response(401, &json!({"detail": "Not authenticated"}));
    good.www_authenticate = Some("Bearer".into());
    let mut no_header = good.clone();
    no_header.www_authenticate = None;
    assert_catches("auth_enforced", &case, &good, &no_header);
    assert_catches(
        "auth_enforced",
        &case,
        &good,
        &json_response(200, &good_simulation()),
    );
    let mut wrong_detail = json_response(401, &json!({"detail": "Invalid API key"}));
    wrong_detail.www_authenticate = Some("Bearer".into());
    assert_catches("auth_enforced", &case, &good, &wrong_detail);
}

#[test]
fn method_not_allowed() {
    let spec = spec();
    let case = read_case(Expect::NotAllowed {
        allow: spec.api.methods()[spec.api.item_template()].clone(),
    });
    let mut good = json_response(405, &json!({"detail": "Method Not Allowed"}));
    good.allow = Some("GET, PATCH, DELETE".into());
    let mut partial = good.clone();
    partial.allow = Some("GET".into());
    assert_catches("method_not_allowed", &case, &good, &partial);
    let mut missing = good.clone();
    missing.allow = None;
    assert_catches("method_not_allowed", &case, &good, &missing);
    assert_catches(
        "method_not_allowed",
        &case,
        &good,
        &json_response(404, &json!({"detail": "Not Found"})),
    );
    // HEAD: no body on the wire, so the status and Allow are all there is to judge.
    let mut head_case = case.clone();
    head_case.request.method = "HEAD".into();
    let mut head = Response::new(405, Some("application/json".into()), Vec::new());
    head.allow = Some("GET, PATCH, DELETE".into());
    let mut head_served = Response::new(200, Some("application/json".into()), Vec::new());
    head_served.allow = head.allow.clone();
    assert_catches("method_not_allowed", &head_case, &head, &head_served);
    let mut head_partial = head.clone();
    head_partial.allow = Some("GET, HEAD".into());
    assert_catches("method_not_allowed", &head_case, &head, &head_partial);
    assert_eq!(
        asserted("method_not_allowed", &head_case, &head),
        Ok(Applied::Passed(RuleSet::of(&[Rule::MethodNotAllowed])))
    );
}

#[test]
fn checks_that_do_not_apply_say_so_instead_of_passing() {
    let case = Case {
        request: spec().api.delete("0123456789abcdef01234567"),
        expect: Expect::Success,
    };
    let deleted = json_response(200, &json!({"message": "Simulation deleted successfully"}));
    let applying = [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "positive_data_acceptance",
        "typed_client_decodes",
    ];
    for check in CHECKS {
        let expected = if applying.contains(&check.name) {
            PASSED
        } else {
            NOT_APPLICABLE
        };
        assert_eq!(
            verdict(check.name, &case, &deleted),
            expected,
            "{} on a successful delete",
            check.name
        );
    }
}

/// A check credits coverage only with what it compared: a create that sent every field asserted
/// no default, one that left fields out did; a page that is not judged exactly asserts no total.
#[test]
fn a_check_asserts_only_what_it_compared() {
    let rules =
        |check: &str, case: &Case, response: &Response| match asserted(check, case, response) {
            Ok(Applied::Passed(set)) => set,
            other => panic!("{check}: {other:?}"),
        };
    let good = json_response(200, &good_simulation());
    let defaults = rules("defaults_materialised", &valid_create(), &good);
    assert!(defaults.contains(Rule::CreateDefaults) && defaults.contains(Rule::CreateNullKept));
    // Every field sent, none null: nothing was left to a default.
    let config = good_simulation()["simulation"]["simulation_config"].clone();
    let full = Case {
        request: spec().api.create(config.clone()),
        expect: Expect::Accept {
            sent: config.clone(),
            stored: config,
        },
    };
    let mut stored_nulls = false;
    if let Ok(Applied::Passed(set)) = asserted("defaults_materialised", &full, &good) {
        stored_nulls = set.contains(Rule::CreateNullKept);
        assert!(!set.contains(Rule::CreateDefaults), "{set:?}");
    }
    // The good simulation stores nulls the full body sent: those are `create.null-kept`'s.
    assert!(stored_nulls);
    let echo = rules("request_echo", &valid_create(), &good);
    assert!(echo.contains(Rule::CreateEcho) && echo.contains(Rule::CoerceAccepted));
    let read = Case {
        request: spec().api.get("aaaaaaaaaaaaaaaaaaaaaaaa"),
        expect: Expect::Success,
    };
    let on_read = rules("server_fields", &read, &good);
    assert!(on_read.contains(Rule::SchemaResponse));
    assert!(
        !on_read.contains(Rule::CreateServerFields) && !on_read.contains(Rule::UpdateTimestamps)
    );
    let on_create = rules("server_fields", &valid_create(), &good);
    assert!(on_create.contains(Rule::CreateServerFields));
}

/// A list page that is not judged exactly and shows nothing compared nothing.
#[test]
fn a_page_that_shows_nothing_and_is_not_exact_asserts_nothing() {
    use crate::listing::{ListExpectation, ListFilter};
    let case = Case {
        request: spec().api.list("size=5"),
        expect: Expect::Listed(ListExpectation {
            filter: ListFilter::default(),
            exact: false,
            expected_ids: vec![],
            total: 0,
            absent: vec![],
        }),
    };
    let empty = json_response(200, &json!({"simulations": [], "total": 0}));
    assert_eq!(asserted("list_conformance", &case, &empty), NOT_APPLICABLE);
}

/// What a failure says it expected and received is read by people (terminal, Markdown, JSON,
/// JUnit): values as JSON writes them or `(absent)`, lists joined by commas, never Rust's debug
/// text (`Some("…")`, `None`, `["a", "b"]`).
#[test]
fn expected_and_received_read_as_text_not_rust_debug() {
    let debug_marks = ["Some(", "None", "[\""];
    let said = |check: &str, case: &Case, response: &Response| {
        let failure = verdict(check, case, response)
            .expect_err(&format!("{check} must fail on the broken response"));
        for text in [&failure.expected, &failure.received] {
            for mark in debug_marks {
                assert!(!text.contains(mark), "{check}: {mark} in {failure:?}");
            }
        }
        (failure.expected, failure.received)
    };
    let create = valid_create();
    let broken = |pointer: &str, value: Option<Value>| {
        let body = match value {
            Some(v) => with(good_simulation(), pointer, v),
            None => without(good_simulation(), pointer),
        };
        json_response(200, &body)
    };
    let (expected, received) = said(
        "server_fields",
        &create,
        &broken(
            "/simulation/updated_at",
            Some(json!("2026-11-28T12:00:09Z")),
        ),
    );
    assert_eq!(
        (expected.as_str(), received.as_str()),
        (
            "equal to created_at \"2026-11-28T12:00:00.123456Z\"",
            "\"2026-11-28T12:00:09Z\""
        )
    );
    let (_, received) = said(
        "server_fields",
        &create,
        &broken("/simulation/created_at", None),
    );
    assert_eq!(received, "(absent)");
    let (_, received) = said(
        "server_fields",
        &create,
        &broken("/simulation/created_at", Some(json!(1764331200))),
    );
    assert_eq!(received, "1764331200");
    let (expected, received) = said(
        "server_fields",
        &create,
        &broken("/simulation/updated_by", Some(json!("user-b"))),
    );
    assert_eq!(
        (expected.as_str(), received.as_str()),
        ("equal to created_by \"user-a\"", "\"user-b\"")
    );
    let (expected, received) = said(
        "server_fields",
        &create,
        &broken("/simulation/team_id", None),
    );
    assert_eq!(
        (expected.as_str(), received.as_str()),
        ("the caller's team \"team-a\"", "(absent)")
    );
    let (_, received) = said(
        "server_fields",
        &create,
        &broken("/simulation/_id", Some(json!(null))),
    );
    assert_eq!(received, "null");
    let (expected, _) = said(
        "status_code_conformance",
        &create,
        &json_response(418, &json!({"detail": "teapot"})),
    );
    assert!(
        expected.starts_with("one of ") && expected.contains(", ") && !expected.contains('['),
        "{expected}"
    );
    let unauthorized = read_case(Expect::Unauthorized {
        detail: "Not authenticated",
    });
    let (_, received) = said(
        "auth_enforced",
        &unauthorized,
        &json_response(401, &json!({"detail": "Not authenticated"})),
    );
    assert_eq!(received, "(absent)");
    let mut basic = json_response(401, &json!({"detail": "Not authenticated"}));
    basic.www_authenticate = Some("Basic".into());
    let (_, received) = said("auth_enforced", &unauthorized, &basic);
    assert_eq!(received, "\"Basic\"");
}

/// The stored spec with a `tags` array (which the suite cannot model) in the create body and,
/// optional, in its output; with `default` when given.
fn spec_with_tags(default: Option<Value>) -> Spec {
    let mut doc = spec().document;
    let mut tags = json!({"type": "array", "items": {"type": "string"}});
    if let Some(d) = default {
        tags["default"] = d;
    }
    for schema in ["SimulationConfig-Input", "SimulationConfig-Output"] {
        doc["components"]["schemas"][schema]["properties"]["tags"] = tags.clone();
    }
    Spec::from_document(doc).unwrap()
}

fn judged_by(spec: &Spec, check: &str, case: &Case, body: &Value) -> Verdict {
    let state = RunState::new(caller());
    let response = json_response(200, body);
    let exchange = Exchange {
        spec,
        case,
        response: &response,
        state: &state,
    };
    match (checks::find(check).unwrap().run)(&exchange) {
        Ok(Applied::Passed(_)) => PASSED,
        other => other,
    }
}

/// A field the suite cannot model gets the generic checks: the response schema, its default
/// compared exactly where the spec gives one, and it is no unknown key.
#[test]
fn an_unmodelled_field_gets_the_generic_checks() {
    let case = valid_create();
    let tagged = |tags: Value| {
        with(
            good_simulation(),
            "/simulation/simulation_config/tags",
            tags,
        )
    };
    let defaulted = spec_with_tags(Some(json!([])));
    for check in [
        "defaults_materialised",
        "request_echo",
        "response_schema_conformance",
    ] {
        assert_eq!(
            judged_by(&defaulted, check, &case, &tagged(json!([]))),
            PASSED,
            "{check}"
        );
    }
    for broken in [tagged(json!(["x"])), good_simulation()] {
        assert!(
            judged_by(&defaulted, "defaults_materialised", &case, &broken).is_err(),
            "an absent field is stored as the spec's default: {broken}"
        );
    }
    let plain = spec_with_tags(None);
    for body in [good_simulation(), tagged(json!(["a"]))] {
        for check in [
            "defaults_materialised",
            "request_echo",
            "response_schema_conformance",
        ] {
            assert_eq!(
                judged_by(&plain, check, &case, &body),
                PASSED,
                "{check}: {body}"
            );
        }
    }
    assert!(
        judged_by(
            &plain,
            "response_schema_conformance",
            &case,
            &tagged(json!(5))
        )
        .is_err(),
        "the response schema still judges it"
    );
}

/// A field the service computes (in the output schema, not in the create body) is a
/// non-breaking change: it is judged by the response schema, not taken for a stored unknown key.
#[test]
fn a_field_only_in_responses_is_no_unknown_key() {
    let mut doc = spec().document;
    doc["components"]["schemas"]["SimulationConfig-Output"]["properties"]["progress"] =
        json!({"type": "integer"});
    let spec = Spec::from_document(doc).unwrap();
    let case = valid_create();
    let with_progress = |v: Value| {
        with(
            good_simulation(),
            "/simulation/simulation_config/progress",
            v,
        )
    };
    for check in ["request_echo", "response_schema_conformance"] {
        assert_eq!(
            judged_by(&spec, check, &case, &with_progress(json!(3))),
            PASSED,
            "{check}"
        );
    }
    assert!(
        judged_by(
            &spec,
            "response_schema_conformance",
            &case,
            &with_progress(json!("x"))
        )
        .is_err()
    );
}
