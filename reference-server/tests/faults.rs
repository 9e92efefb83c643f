//! The fault catalog: each fault is a real, detectable contract violation. For every fault a
//! probe checks the rule it breaks: the faithful server passes it, the faulty one fails it.

mod common;

use std::collections::HashSet;

use axum::Router;
use axum::http::{Method, StatusCode};
use common::*;
use reference_server::Fault;
use serde_json::{Value, json};

const WF_ID: &str = "5eb7cf5a86d9755df3a6c593";

async fn post(app: &Router, body: &Value) -> Reply {
    send_raw(app, Call::post(body)).await
}

/// `true` when the rule that `fault` breaks is broken on `app`.
async fn violated(app: &Router, fault: Fault) -> bool {
    match fault {
        Fault::WrongDefaultMaxEvents => {
            post(app, &json!({})).await.simulation()["simulation_config"]["max_events"] != 500
        }
        Fault::MissingUpdatedBy => post(app, &json!({}))
            .await
            .simulation()
            .get("updated_by")
            .is_none(),
        Fault::NaiveTimestamps => {
            let created = post(app, &json!({})).await.simulation()["created_at"].clone();
            chrono::DateTime::parse_from_rfc3339(created.as_str().unwrap_or("")).is_err()
        }
        Fault::NonObjectIdIds => {
            let id = post(app, &json!({})).await.id();
            id.len() != 24
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        }
        Fault::AcceptShortWorkflowId => {
            let body = json!({"selected_workflow": {"workflow_id": "a".repeat(23)}});
            post(app, &body).await.status != StatusCode::UNPROCESSABLE_ENTITY
        }
        Fault::AcceptFractionalInt => {
            post(app, &json!({"max_events": 5.5})).await.status != StatusCode::UNPROCESSABLE_ENTITY
        }
        Fault::RejectNumericStrings => {
            let reply = post(app, &json!({"max_events": "5"})).await;
            !reply.status.is_success() || reply.simulation()["simulation_config"]["max_events"] != 5
        }
        Fault::RejectNullDescription => !post(app, &json!({"description": null}))
            .await
            .status
            .is_success(),
        Fault::CrashOnDeepDynamicVariables => {
            let body =
                json!({"counter_workflow": {"dynamic_variables": {"a": {"b": {"c": {"d": 1}}}}}});
            post(app, &body).await.status.is_server_error()
        }
        Fault::CrashOnNonBmpLogicalId => post(app, &json!({"logical_id": "rocket 🚀"}))
            .await
            .status
            .is_server_error(),
        Fault::CreateReturns201 => post(app, &json!({})).await.status != StatusCode::OK,
        Fault::TextPlain404 => {
            let reply = send_raw(app, Call::get(item(WF_ID))).await;
            reply.header("content-type") != Some("application/json")
        }
        Fault::ValidationDetailString => {
            !post(app, &json!({"max_events": "x"})).await.body["detail"].is_array()
        }
        Fault::AuthNotEnforced => {
            send_raw(app, Call::get(COLLECTION).key(Some("not-a-key")))
                .await
                .status
                != StatusCode::UNAUTHORIZED
        }
        Fault::CrossTeamList => {
            send_raw(app, Call::post(&json!({})).other_team()).await;
            send_raw(app, Call::get(COLLECTION)).await.body["total"] != 0
        }
        Fault::StatusFilterIgnored => {
            post(app, &json!({"status": "running"})).await;
            post(app, &json!({"status": "failed"})).await;
            let reply = send_raw(app, Call::get(format!("{COLLECTION}?status=failed"))).await;
            reply.body["total"] != 1
        }
        Fault::TotalIsPageLength => {
            for _ in 0..3 {
                post(app, &json!({})).await;
            }
            send_raw(app, Call::get(format!("{COLLECTION}?size=1")))
                .await
                .body["total"]
                != 3
        }
        Fault::PatchResetsMaxEvents => {
            let id = post(app, &json!({"max_events": 7})).await.id();
            let reply = send_raw(app, Call::patch(&id, &json!({"status": "running"}))).await;
            reply.simulation()["simulation_config"]["max_events"] != 7
        }
        Fault::PatchNotPersisted => {
            let id = post(app, &json!({})).await.id();
            send_raw(app, Call::patch(&id, &json!({"description": "changed"}))).await;
            let reply = send_raw(app, Call::get(item(&id))).await;
            reply.simulation()["simulation_config"]["description"] != "changed"
        }
        Fault::DeleteNotDeleting => {
            let id = post(app, &json!({})).await.id();
            send_raw(app, Call::delete(item(&id))).await;
            send_raw(app, Call::get(item(&id))).await.status != StatusCode::NOT_FOUND
        }
        Fault::NullStoredAsDefault => {
            post(app, &json!({"max_events": null})).await.simulation()["simulation_config"]["max_events"]
                != Value::Null
        }
        Fault::UnknownKeysEchoed => {
            post(app, &json!({"surprise": 1})).await.simulation()["simulation_config"]
                .get("surprise")
                .is_some()
        }
        Fault::MissingAllowHeader => {
            send_raw(app, Call::new(Method::PUT, COLLECTION))
                .await
                .header("allow")
                != Some("GET, POST")
        }
        Fault::OldestFirst => {
            let first = post(app, &json!({})).await.id();
            post(app, &json!({})).await;
            send_raw(app, Call::get(COLLECTION)).await.body["simulations"][0]["_id"]
                == first.as_str()
        }
        Fault::SearchCaseSensitive => {
            post(app, &json!({"logical_id": "MiXeD"})).await;
            send_raw(app, Call::get(format!("{COLLECTION}?search=mixed")))
                .await
                .body["total"]
                != 1
        }
        Fault::BigIntegersThroughF64 => {
            let big = "99999999999999999999";
            let body = format!("{{\"max_events\": {big}}}");
            let call = Call::new(Method::POST, COLLECTION).raw(body, Some("application/json"));
            let stored = send_raw(app, call).await.simulation()["simulation_config"]["max_events"]
                .to_string();
            stored != big
        }
    }
}

#[tokio::test]
async fn every_fault_breaks_its_rule_and_only_when_switched_on() {
    for &fault in Fault::ALL {
        let faithful = reference_server::app(config());
        assert!(
            !violated(&faithful, fault).await,
            "the faithful server breaks the rule of {fault}"
        );
        assert!(
            violated(&faulty(fault), fault).await,
            "{fault} does not break its rule"
        );
    }
}

#[tokio::test]
async fn a_fault_breaks_nothing_else_a_quick_probe_sees() {
    // Each fault switches on exactly one violation: the other faults' probes pass.
    let mut collisions = Vec::new();
    for &fault in Fault::ALL {
        for &other in Fault::ALL {
            if other == fault || overlaps(fault, other) {
                continue;
            }
            if violated(&faulty(fault), other).await {
                collisions.push(format!("{fault} -> {other}"));
            }
        }
    }
    assert!(collisions.is_empty(), "{collisions:#?}");
}

/// Pairs where the first fault's symptom legitimately trips the second's probe: an id that is not
/// 24 characters cannot be used in a path at all.
fn overlaps(a: Fault, b: Fault) -> bool {
    const PAIRS: &[(Fault, Fault)] = &[
        (Fault::NonObjectIdIds, Fault::PatchResetsMaxEvents),
        (Fault::NonObjectIdIds, Fault::PatchNotPersisted),
        (Fault::NonObjectIdIds, Fault::DeleteNotDeleting),
    ];
    PAIRS.contains(&(a, b))
}

#[test]
fn the_catalog_is_complete_and_named() {
    assert!(Fault::ALL.len() >= 15);
    let names: HashSet<&str> = Fault::ALL.iter().map(Fault::name).collect();
    assert_eq!(names.len(), Fault::ALL.len(), "names are unique");
    for &fault in Fault::ALL {
        let name = fault.name();
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{name}"
        );
        assert!(
            !name.starts_with('-') && !name.ends_with('-') && !name.contains("--"),
            "{name}"
        );
        assert_eq!(name.parse::<Fault>(), Ok(fault));
        assert_eq!(fault.to_string(), name);
        let description = fault.description();
        assert!(
            !description.is_empty() && !description.contains('\n'),
            "{name}"
        );
    }
    let error = "no-such-fault".parse::<Fault>().expect_err("unknown");
    assert!(error.to_string().contains("no-such-fault"));
}
