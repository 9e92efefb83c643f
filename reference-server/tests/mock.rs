//! The server as a mock for other teams: several faults at once, the OpenAPI document where the
//! real service serves it, a health endpoint, and CORS as an option that is off by default.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use reference_server::{Config, Fault, FaultSet};
use serde_json::json;

/// Two faults of different rules, one a response layer and one a behaviour predicate, both act
/// in one server; each alone acts alone.
#[tokio::test]
async fn several_faults_act_at_once() {
    let both: FaultSet = [Fault::CreateReturns201, Fault::WrongDefaultMaxEvents]
        .into_iter()
        .collect();
    assert_eq!(both.len(), 2);
    let app = reference_server::app(Config {
        faults: both,
        ..config()
    });
    let created = send_raw(&app, Call::post(&json!({}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.simulation()["simulation_config"]["max_events"], 100);

    let one = reference_server::app(Config {
        faults: Fault::CreateReturns201.into(),
        ..config()
    });
    let created = send_raw(&one, Call::post(&json!({}))).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.simulation()["simulation_config"]["max_events"], 500);

    // A fault named twice is one fault.
    let twice: FaultSet = [Fault::OldestFirst, Fault::OldestFirst]
        .into_iter()
        .collect();
    assert_eq!(twice.len(), 1);
    assert_eq!(twice.iter().collect::<Vec<_>>(), [Fault::OldestFirst]);
    let faithful = reference_server::app(config());
    let created = send(&faithful, Call::post(&json!({}))).await;
    assert_eq!(created.status, StatusCode::OK);
    assert!(Config::development().faults.is_empty());
}
