//! The server as a mock for other teams: several faults at once, the OpenAPI document where the
//! real service serves it, a health endpoint, and CORS as an option that is off by default.

use crate::support;

use axum::http::{Method, StatusCode};
use reference_server::Config;
#[cfg(feature = "faults")]
use reference_server::{Fault, FaultSet};
use serde_json::json;
use support::*;

/// Two faults of different rules, one a response layer and one a behaviour predicate, both act
/// in one server; each alone acts alone.
#[cfg(feature = "faults")]
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

const ORIGIN: &str = "http://localhost:3000";

/// A browser's preflight of a create from `origin`.
fn preflight(origin: &str) -> Call {
    Call::new(Method::OPTIONS, COLLECTION)
        .key(None)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
}

/// Off by default: a preflight is any other method, the contract's 405, and no answer carries
/// a CORS header.
#[tokio::test]
async fn cors_is_off_by_default() {
    let app = reference_server::app(config());
    let reply = send(&app, preflight(ORIGIN)).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    assert_eq!(reply.header("access-control-allow-origin"), None);
    let list = send(&app, Call::get(COLLECTION).header("origin", ORIGIN)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header("access-control-allow-origin"), None);
}

/// On, a listed origin's preflight is answered with the usual headers and its requests carry
/// `Access-Control-Allow-Origin`; another origin gets what it gets with CORS off.
#[tokio::test]
async fn cors_answers_the_listed_origins() {
    let app = reference_server::app(Config {
        cors_origins: vec![ORIGIN.to_owned(), "https://app.example.com".to_owned()],
        ..config()
    });
    let reply = send_raw(&app, preflight(ORIGIN)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        reply.header("access-control-allow-methods"),
        Some("DELETE, GET, HEAD, PATCH, POST")
    );
    assert_eq!(
        reply.header("access-control-allow-headers"),
        Some("Authorization, Content-Type")
    );
    assert_eq!(reply.header("access-control-max-age"), Some("600"));
    assert_eq!(reply.header("vary"), Some("Origin"));

    let created = send(&app, Call::post(&json!({})).header("origin", ORIGIN)).await;
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(created.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(created.header("vary"), Some("Origin"));
    // A refused key's answer is readable by the page too.
    let refused = send(
        &app,
        Call::get(COLLECTION).key(None).header("origin", ORIGIN),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.header("access-control-allow-origin"), Some(ORIGIN));

    for other in ["http://evil.example", "http://localhost:3001", "null"] {
        let reply = send(&app, preflight(other)).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{other}");
        assert_eq!(reply.header("access-control-allow-origin"), None, "{other}");
    }
    // OPTIONS without a preflight's request method is no preflight: 405 as ever.
    let plain = send(
        &app,
        Call::new(Method::OPTIONS, COLLECTION).header("origin", ORIGIN),
    )
    .await;
    assert_eq!(plain.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// `*` lets any origin in, answered `*` as the CORS protocol has it for requests without
/// credentials.
#[tokio::test]
async fn cors_any_origin() {
    let app = reference_server::app(Config {
        cors_origins: vec!["*".to_owned()],
        ..config()
    });
    let reply = send_raw(&app, preflight("http://anything.example:8000")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let list = send(&app, Call::get(COLLECTION).header("origin", ORIGIN)).await;
    assert_eq!(list.header("access-control-allow-origin"), Some("*"));
}
