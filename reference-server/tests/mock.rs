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

const OPENAPI: &str = "/api-docs/workflows/api.json";

/// The stored spec, as the workspace holds it.
fn stored_spec() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/openapi.json"))
        .expect("spec/openapi.json")
}

/// The OpenAPI document is served where the real service serves it, byte for byte the stored
/// spec, as JSON, without a key; HEAD has its headers and no body.
#[tokio::test]
async fn the_openapi_document_is_served_where_the_service_serves_it() {
    let app = reference_server::app(config());
    for key in [None, Some("not-a-key")] {
        let reply = send_raw(&app, Call::get(OPENAPI).key(key)).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.bytes, stored_spec());
        let parsed: serde_json::Value = serde_json::from_slice(&reply.bytes).expect("JSON");
        assert_eq!(parsed["openapi"], "3.1.0");
    }
    let head = send_raw(&app, Call::new(Method::HEAD, OPENAPI).key(None)).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.bytes.is_empty());
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert_eq!(
        head.header("content-length"),
        Some(stored_spec().len().to_string().as_str())
    );
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
        let reply = send_raw(&app, Call::new(method.clone(), OPENAPI).key(None)).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(reply.body, json!({"detail": "Method Not Allowed"}));
        assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method}");
    }
    // Starlette's redirect_slashes holds here too; a neighbour is not served.
    let slash = send_raw(&app, Call::get(format!("{OPENAPI}/")).key(None)).await;
    assert_eq!(slash.status, StatusCode::TEMPORARY_REDIRECT);
    let other = send_raw(&app, Call::get("/api-docs/workflows/api.yaml").key(None)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

/// `/healthz` answers 200 `{"status": "ok"}` without a key, outside the API's routes.
#[tokio::test]
async fn the_health_endpoint_answers_without_a_key() {
    let app = reference_server::app(config());
    for key in [None, Some("not-a-key")] {
        let reply = send_raw(&app, Call::get("/healthz").key(key)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.body, json!({"status": "ok"}));
    }
    let head = send_raw(&app, Call::new(Method::HEAD, "/healthz").key(None)).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.bytes.is_empty());
    let post = send_raw(&app, Call::new(Method::POST, "/healthz").key(None)).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    // The API's own answers are unchanged: the collection still needs a key.
    let list = send_raw(&app, Call::get(COLLECTION).key(None)).await;
    assert_eq!(list.status, StatusCode::UNAUTHORIZED);
}
