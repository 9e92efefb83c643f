//! Every check fails on a response crafted to break it and passes on a correct one.

use std::path::Path;

use contract_tests::cases::{Case, Expect, Locus, Request};
use contract_tests::checks::{self, CHECKS, Exchange, Identity, Response, RunState, Verdict};
use contract_tests::{Operation, Spec};
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
        request: Request::json(
            Operation::Create,
            "/workflows/v1/simulations".into(),
            sent.clone(),
        ),
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

fn verdict(check: &str, case: &Case, response: &Response) -> Verdict {
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
        Ok(()),
        "{check} must pass on the correct response"
    );
    let failure = verdict(check, case, broken)
        .expect_err(&format!("{check} must fail on the broken response"));
    assert!(
        !failure.expected.is_empty() && !failure.received.is_empty(),
        "{failure:?}"
    );
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
        request: Request::json(
            Operation::Create,
            "/workflows/v1/simulations".into(),
            json!({}),
        ),
        expect: Expect::Reject {
            mutation,
            pointer: pointer.into(),
            status,
            locus,
        },
    }
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
    for broken in [
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
    ] {
        assert_catches(
            "response_schema_conformance",
            &case,
            &good,
            &json_response(200, &broken),
        );
    }
    let not_json = Response::new(200, Some("application/json".into()), b"<html>".to_vec());
    assert_catches("response_schema_conformance", &case, &good, &not_json);
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
    for broken in [
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
    ] {
        assert_catches(
            "defaults_materialised",
            &case,
            &good,
            &json_response(200, &broken),
        );
    }
}

#[test]
fn request_echo() {
    let case = valid_create();
    let good = json_response(200, &good_simulation());
    for broken in [
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
    ] {
        assert_catches("request_echo", &case, &good, &json_response(200, &broken));
    }
    let probe = Case {
        request: Request::json(
            Operation::Create,
            "/workflows/v1/simulations".into(),
            json!({"max_events": "5_000"}),
        ),
        expect: Expect::Probe {
            pointer: "/max_events".into(),
            value: json!("5_000"),
        },
    };
    let stored_as_sent = with(
        good_simulation(),
        "/simulation/simulation_config/max_events",
        json!("5_000"),
    );
    let rewritten = with(
        good_simulation(),
        "/simulation/simulation_config/max_events",
        json!(5000),
    );
    assert_catches(
        "request_echo",
        &probe,
        &json_response(200, &stored_as_sent),
        &json_response(200, &rewritten),
    );
    assert_eq!(
        verdict(
            "request_echo",
            &probe,
            &json_response(422, &validation_error(json!(["body", "max_events"])))
        ),
        Ok(()),
        "rejecting an unspecified input is allowed"
    );
}

#[test]
fn server_fields() {
    let case = valid_create();
    let good = json_response(200, &good_simulation());
    for broken in [
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
    ] {
        assert_catches("server_fields", &case, &good, &json_response(200, &broken));
    }
    // The same _id from two creates is not new.
    let spec = spec();
    let state = RunState::new(caller());
    let exchange = Exchange {
        spec: &spec,
        case: &case,
        response: &good,
        state: &state,
    };
    assert_eq!(checks::server_fields(&exchange), Ok(()));
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
}

#[test]
fn every_registered_check_has_a_test_here() {
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
        request: Request::bare(
            Operation::Get,
            "/workflows/v1/simulations/5eb7cf5a86d9755df3a6c593".into(),
        ),
        expect,
    }
}

#[test]
fn state_persisted() {
    let case = read_case(Expect::Simulation {
        expected: good_simulation()["simulation"].clone(),
    });
    let good = json_response(200, &good_simulation());
    for broken in [
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
    ] {
        assert_catches(
            "state_persisted",
            &case,
            &good,
            &json_response(200, &broken),
        );
    }
}

#[test]
fn update_semantics() {
    let before = good_simulation()["simulation"].clone();
    let patch = json!({"status": "running", "max_events": 1, "x-unknown": true});
    let case = Case {
        request: Request::json(
            Operation::Update,
            "/workflows/v1/simulations/5eb7cf5a86d9755df3a6c593".into(),
            patch.clone(),
        ),
        expect: Expect::Updated { before, patch },
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
    for broken in [
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
    ] {
        assert_catches(
            "update_semantics",
            &case,
            &good,
            &json_response(200, &broken),
        );
    }
}

#[test]
fn list_conformance() {
    use contract_tests::listing::{ListExpectation, ListFilter};
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
    let case = read_case(Expect::NotAllowed {
        allow: vec!["DELETE", "GET", "PATCH"],
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
}
