//! The fault catalog: each fault is a real, detectable contract violation. For every fault a
//! probe checks the rule it breaks: the faithful server passes it, the faulty one fails it.
//! Only with the `faults` feature (`cargo test -p reference-server --features faults`).
#![cfg(feature = "faults")]

use crate::support;

use std::collections::HashSet;

use axum::Router;
use axum::http::{Method, StatusCode};
use reference_server::{DEV_KEY, Fault};
use serde_json::{Value, json};
use support::*;

const WF_ID: &str = "5eb7cf5a86d9755df3a6c593";

async fn post(app: &Router, body: &Value) -> Reply {
    send_raw(app, Call::post(body)).await
}

/// The id a create answered with, if it answered with one (a fault may refuse the body).
fn created(reply: &Reply) -> String {
    reply.body["simulation"]["_id"]
        .as_str()
        .unwrap_or("no-id")
        .to_owned()
}

async fn list(app: &Router, query: &str) -> Reply {
    send_raw(app, Call::get(format!("{COLLECTION}?{query}"))).await
}

async fn stored(app: &Router, id: &str) -> Value {
    send_raw(app, Call::get(item(id))).await.simulation()["simulation_config"].clone()
}

/// The created record's `created_at` moved by `hours`, written without an offset.
fn naive_created_at(reply: &Reply, hours: i64) -> String {
    // Read as written, with or without its `Z` (the naive-timestamps fault drops it).
    let text = reply.simulation()["created_at"].as_str().unwrap_or("");
    chrono::NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| {
            (t + chrono::Duration::hours(hours))
                .format("%Y-%m-%dT%H:%M:%S%.6f")
                .to_string()
        })
        .unwrap_or_default()
}

/// `true` when the rule that `fault` breaks is broken on `app`. Callers run on a paused clock
/// (`#[tokio::test(start_paused = true)]`): the racy probes order their requests in virtual time.
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
            let stored_value =
                send_raw(app, call).await.simulation()["simulation_config"]["max_events"]
                    .to_string();
            stored_value != big
        }
        Fault::DeleteWithoutKey => {
            let id = created(&post(app, &json!({})).await);
            send_raw(app, Call::delete(item(&id)).key(None))
                .await
                .status
                .is_success()
        }
        Fault::MissingKey403 => {
            let reply = send_raw(app, Call::get(COLLECTION).key(None)).await;
            reply.status != StatusCode::UNAUTHORIZED || reply.header("www-authenticate").is_none()
        }
        Fault::OtherTeamUpdateApplies => {
            let id = created(&post(app, &json!({})).await);
            let patch = Call::patch(&id, &json!({"description": "hijacked"})).other_team();
            let status = send_raw(app, patch).await.status;
            status != StatusCode::NOT_FOUND || stored(app, &id).await["description"] == "hijacked"
        }
        Fault::UpdatedAtAfterCreatedAt => {
            let reply = post(app, &json!({})).await;
            reply.simulation()["created_at"] != reply.simulation()["updated_at"]
        }
        Fault::NullWorkflowAccepted => {
            post(app, &json!({"selected_workflow": null})).await.status
                != StatusCode::UNPROCESSABLE_ENTITY
        }
        Fault::RawBodyStored => {
            // 5.0 is canonicalised to 5: the create answer says so, the store must too.
            let id = created(&post(app, &json!({"max_events": 5.0})).await);
            stored(app, &id).await["max_events"] != json!(5)
        }
        Fault::BodyMissingAsEmpty => {
            let call =
                Call::new(Method::POST, COLLECTION).raw(Vec::new(), Some("application/json"));
            send_raw(app, call).await.status != StatusCode::UNPROCESSABLE_ENTITY
        }
        Fault::InvalidJson400 => {
            let call = Call::new(Method::POST, COLLECTION).raw("{", Some("application/json"));
            send_raw(app, call).await.status != StatusCode::UNPROCESSABLE_ENTITY
        }
        Fault::AnyContentTypeParsed => {
            let call = Call::new(Method::POST, COLLECTION).raw("{}", Some("text/plain"));
            send_raw(app, call).await.status != StatusCode::UNPROCESSABLE_ENTITY
        }
        Fault::NonUtf8422 => {
            let body = b"{\"description\": \"\xff\"}".to_vec();
            let call = Call::new(Method::POST, COLLECTION).raw(body, Some("application/json"));
            send_raw(app, call).await.status != StatusCode::BAD_REQUEST
        }
        Fault::SmallBodyLimit => {
            let body = json!({"description": "x".repeat(300 * 1024)});
            post(app, &body).await.status == StatusCode::PAYLOAD_TOO_LARGE
        }
        Fault::ListDefaultSize10 => {
            for _ in 0..11 {
                post(app, &json!({})).await;
            }
            list(app, "").await.body["simulations"]
                .as_array()
                .map_or(0, Vec::len)
                != 11
        }
        Fault::ExclusiveEndBound => {
            let reply = post(app, &json!({})).await;
            let end = reply.simulation()["created_at"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            list(app, &format!("end={end}")).await.body["total"] != 1
        }
        Fault::NaiveBoundsLocalTime => {
            // An hour after the create, in UTC; read as UTC+02:00 it is an hour before.
            let end = naive_created_at(&post(app, &json!({})).await, 1);
            list(app, &format!("end={end}")).await.body["total"] != 1
        }
        Fault::UnixTimeAsMilliseconds => {
            post(app, &json!({})).await;
            let end = chrono::Utc::now().timestamp() + 3600;
            list(app, &format!("end={end}")).await.body["total"] != 1
        }
        Fault::LogicalIdPrefixMatch => {
            post(app, &json!({"logical_id": "abc-long"})).await;
            list(app, "logical_id=abc").await.body["total"] != 0
        }
        Fault::SearchAsRegex => {
            post(app, &json!({"logical_id": "abc"})).await;
            list(app, "search=a.c").await.body["total"] != 0
        }
        Fault::SearchLogicalIdOnly => {
            post(app, &json!({"description": "a needle here"})).await;
            list(app, "search=needle").await.body["total"] != 1
        }
        Fault::FiltersOr => {
            let other = "6eb7cf5a86d9755df3a6c594";
            post(
                app,
                &json!({"logical_id": "x", "selected_workflow": {"workflow_id": WF_ID}}),
            )
            .await;
            post(
                app,
                &json!({"logical_id": "y", "selected_workflow": {"workflow_id": other}}),
            )
            .await;
            list(app, &format!("logical_id=x&selected_workflow_id={other}"))
                .await
                .body["total"]
                != 0
        }
        Fault::PageBeyondEndRepeatsLast => {
            post(app, &json!({})).await;
            list(app, "page=2").await.body["simulations"] != json!([])
        }
        Fault::SizeZeroAccepted => {
            list(app, "size=0").await.status != StatusCode::UNPROCESSABLE_ENTITY
        }
        Fault::StaleGetAfterUpdate => {
            let id = created(&post(app, &json!({"description": "before"})).await);
            send_raw(app, Call::get(item(&id))).await;
            send_raw(app, Call::patch(&id, &json!({"description": "after"}))).await;
            stored(app, &id).await["description"] != "after"
        }
        Fault::NonHexId422 => {
            send_raw(app, Call::get(item(&"z".repeat(24)))).await.status != StatusCode::NOT_FOUND
        }
        Fault::InvalidUpdatePartiallyApplied => {
            let id = created(&post(app, &json!({})).await);
            let patch = json!({"description": "partial", "status": "bogus"});
            send_raw(app, Call::patch(&id, &patch)).await;
            stored(app, &id).await["description"] == "partial"
        }
        Fault::EmptyDescriptionSkipped => {
            let id = created(&post(app, &json!({"description": "old"})).await);
            let reply = send_raw(app, Call::patch(&id, &json!({"description": ""}))).await;
            reply.simulation()["simulation_config"]["description"] != ""
        }
        Fault::UpdatedAtNotMoved => {
            let reply = post(app, &json!({})).await;
            let before = reply.simulation()["updated_at"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            let patch = Call::patch(&created(&reply), &json!({"status": "running"}));
            let after = send_raw(app, patch).await.simulation()["updated_at"].clone();
            after.as_str().is_none_or(|after| after <= before.as_str())
        }
        Fault::LostUpdate => {
            let id = created(&post(app, &json!({})).await);
            tokio::join!(
                send_raw(app, Call::patch(&id, &json!({"description": "both"}))),
                send_raw(app, Call::patch(&id, &json!({"status": "running"}))),
            );
            let config = stored(app, &id).await;
            config["description"] != "both" || config["status"] != "running"
        }
        Fault::DeleteRaceResurrects => {
            let id = created(&post(app, &json!({})).await);
            tokio::join!(
                send_raw(app, Call::patch(&id, &json!({"description": "late"}))),
                async {
                    // 5 ms into the update's 25 ms window on the faulty server. The tests that
                    // probe run on a paused clock (`start_paused`): the runtime moves time only
                    // when every task waits on a timer, so the delete lands there however loaded
                    // the machine is, and no real time passes.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    send_raw(app, Call::delete(item(&id))).await
                },
            );
            send_raw(app, Call::get(item(&id))).await.status != StatusCode::NOT_FOUND
        }
        Fault::LogicalIdUpsert => {
            let first = created(&post(app, &json!({"logical_id": "dup"})).await);
            post(app, &json!({"logical_id": "dup"})).await;
            send_raw(app, Call::get(item(&first))).await.status != StatusCode::OK
        }
        Fault::AllowListsOneRoute => {
            send_raw(app, Call::new(Method::PUT, item(WF_ID)))
                .await
                .header("allow")
                != Some("DELETE, GET, PATCH")
        }
        Fault::BoolStringsCaseSensitive => {
            post(app, &json!({"stop_on_failure": "True"}))
                .await
                .simulation()["simulation_config"]["stop_on_failure"]
                != true
        }
        Fault::Accept25CharacterIds => {
            let body = json!({"counter_workflow": {"run_id": "a".repeat(25)}});
            post(app, &body).await.status != StatusCode::UNPROCESSABLE_ENTITY
        }
        Fault::ApiKeyHeaderAccepted => {
            let call = Call::get(COLLECTION).key(None).header("X-API-Key", DEV_KEY);
            send_raw(app, call).await.status.is_success()
        }
        Fault::KeysCaseInsensitive => {
            let upper = DEV_KEY.to_ascii_uppercase();
            send_raw(app, Call::get(COLLECTION).key(Some(&upper)))
                .await
                .status
                .is_success()
        }
    }
}

#[tokio::test(start_paused = true)]
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

#[tokio::test(start_paused = true)]
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
/// 24 characters cannot be used in a path at all, and some faults break the same rule another
/// fault's probe looks at (`Allow`, a lost or stale update, a delete that does not stick).
fn overlaps(a: Fault, b: Fault) -> bool {
    const USE_IDS_IN_PATHS: &[Fault] = &[
        Fault::PatchResetsMaxEvents,
        Fault::PatchNotPersisted,
        Fault::DeleteNotDeleting,
        Fault::DeleteWithoutKey,
        Fault::OtherTeamUpdateApplies,
        Fault::RawBodyStored,
        Fault::StaleGetAfterUpdate,
        Fault::InvalidUpdatePartiallyApplied,
        Fault::EmptyDescriptionSkipped,
        Fault::UpdatedAtNotMoved,
        Fault::LostUpdate,
        Fault::DeleteRaceResurrects,
        Fault::LogicalIdUpsert,
    ];
    const PAIRS: &[(Fault, Fault)] = &[
        (Fault::NullStoredAsDefault, Fault::NullWorkflowAccepted),
        (Fault::MissingAllowHeader, Fault::AllowListsOneRoute),
        (Fault::AllowListsOneRoute, Fault::MissingAllowHeader),
        (Fault::PatchNotPersisted, Fault::LostUpdate),
        (Fault::StaleGetAfterUpdate, Fault::PatchNotPersisted),
        (Fault::StaleGetAfterUpdate, Fault::LostUpdate),
        (Fault::PatchNotPersisted, Fault::StaleGetAfterUpdate),
        (Fault::DeleteRaceResurrects, Fault::LostUpdate),
        (Fault::DeleteNotDeleting, Fault::DeleteRaceResurrects),
        // Every unknown key is served, the run's key upper-cased among them.
        (Fault::AuthNotEnforced, Fault::KeysCaseInsensitive),
    ];
    (a == Fault::NonObjectIdIds && USE_IDS_IN_PATHS.contains(&b)) || PAIRS.contains(&(a, b))
}

/// The regular-expression fault never turns a pattern that does not compile into a 5xx.
#[tokio::test]
async fn an_invalid_search_pattern_matches_nothing() {
    let app = faulty(Fault::SearchAsRegex);
    post(&app, &json!({"logical_id": "a(b"})).await;
    for search in ["%28", "a%5B", "%2A"] {
        let reply = list(&app, &format!("search={search}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{search}");
        assert_eq!(reply.body["total"], 0, "{search}");
    }
    let faithful = reference_server::app(config());
    post(&faithful, &json!({"logical_id": "a(b"})).await;
    assert_eq!(list(&faithful, "search=%28").await.body["total"], 1);
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

/// The racy faults undo a change that lands inside their window: two updates sent together (lost
/// update), a delete 5 ms into an update (resurrection); the faithful server keeps both changes.
/// On a paused clock the requests meet in the window on every run, so one run per fault decides.
#[tokio::test(start_paused = true)]
async fn races_inside_the_window_lose_a_change_only_on_the_faulty_server() {
    for fault in [Fault::LostUpdate, Fault::DeleteRaceResurrects] {
        let faithful = reference_server::app(config());
        assert!(!violated(&faithful, fault).await, "faithful: {fault}");
        assert!(
            violated(&faulty(fault), fault).await,
            "{fault} was not observed"
        );
    }
}
