//! Test helpers: send a request to `app()` without a socket, and check every response against
//! the stored OpenAPI document with `jsonschema` (format validation on).
// Without the `faults` feature the fault tests are left out, and some helpers only they use.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
#[cfg(feature = "faults")]
use reference_server::Fault;
use reference_server::{ApiKey, Config, DEV_KEY, DEV_OTHER_TEAM_KEY};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const COLLECTION: &str = "/workflows/v1/simulations";
/// A second user of team-a, to see `updated_by` change.
pub const TEAM_A_OTHER_USER_KEY: &str = "team-a-second-user-key";

pub fn config() -> Config {
    let mut config = Config::development();
    config
        .keys
        .push(ApiKey::new(TEAM_A_OTHER_USER_KEY, "team-a", "user-c"));
    config
}

#[cfg(feature = "faults")]
pub fn faulty(fault: Fault) -> Router {
    reference_server::app(Config {
        faults: fault.into(),
        ..config()
    })
}

pub fn item(id: &str) -> String {
    format!("{COLLECTION}/{id}")
}

/// One request; `body` is sent as given, with `content_type` when set.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: Method,
    pub uri: String,
    pub key: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Call {
    pub fn new(method: Method, uri: impl Into<String>) -> Self {
        Call {
            method,
            uri: uri.into(),
            key: Some(DEV_KEY.to_owned()),
            content_type: None,
            body: Vec::new(),
            headers: Vec::new(),
        }
    }
    pub fn get(uri: impl Into<String>) -> Self {
        Call::new(Method::GET, uri)
    }
    pub fn delete(uri: impl Into<String>) -> Self {
        Call::new(Method::DELETE, uri)
    }
    pub fn post(body: &Value) -> Self {
        Call::new(Method::POST, COLLECTION).json(body)
    }
    pub fn patch(id: &str, body: &Value) -> Self {
        Call::new(Method::PATCH, item(id)).json(body)
    }
    pub fn json(mut self, body: &Value) -> Self {
        self.body = serde_json::to_vec(body).expect("serialisable");
        self.content_type = Some("application/json".into());
        self
    }
    pub fn raw(mut self, body: impl Into<Vec<u8>>, content_type: Option<&str>) -> Self {
        self.body = body.into();
        self.content_type = content_type.map(str::to_owned);
        self
    }
    pub fn key(mut self, key: Option<&str>) -> Self {
        self.key = key.map(str::to_owned);
        self
    }
    pub fn other_team(self) -> Self {
        self.key(Some(DEV_OTHER_TEAM_KEY))
    }
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn simulation(&self) -> &Value {
        &self.body["simulation"]
    }
    pub fn id(&self) -> String {
        self.body["simulation"]["_id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }
    pub fn detail_types(&self) -> Vec<&str> {
        self.body["detail"]
            .as_array()
            .map(|items| items.iter().filter_map(|i| i["type"].as_str()).collect())
            .unwrap_or_default()
    }
}

/// Sends without checking the response against the spec (for faulty servers).
pub async fn send_raw(app: &Router, call: Call) -> Reply {
    let mut request = Request::builder()
        .method(call.method.clone())
        .uri(&call.uri);
    if let Some(key) = &call.key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    if let Some(content_type) = &call.content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    for (name, value) in &call.headers {
        request = request.header(name.as_str(), value.as_slice());
    }
    let request = request
        .body(Body::from(call.body))
        .expect("a valid request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes()
        .to_vec();
    let body = json_of(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        bytes,
        body,
    }
}

/// Sends and checks what any faithful response must be: never 5xx, JSON (except the 307
/// redirect), and valid against the spec's schema for its operation and status.
pub async fn send(app: &Router, call: Call) -> Reply {
    let method = call.method.clone();
    let path = call.uri.split('?').next().unwrap_or("").to_owned();
    let reply = send_raw(app, call).await;
    assert!(!reply.status.is_server_error(), "5xx: {reply:?}");
    // Bodies of HEAD responses are dropped on the way out.
    if method == Method::HEAD {
        assert!(reply.bytes.is_empty());
        return reply;
    }
    if reply.status == StatusCode::TEMPORARY_REDIRECT {
        assert!(reply.bytes.is_empty());
        return reply;
    }
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{method} {path}: {reply:?}"
    );
    assert!(json_of(&reply.bytes).is_some(), "not JSON: {reply:?}");
    check_against_spec(&method, &path, &reply);
    reply
}

/// A body read as JSON without serde_json's 128-level limit: the server stores
/// `dynamic_variables` up to 254 levels deep, as FastAPI does, and writes them back.
fn json_of(bytes: &[u8]) -> Option<Value> {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    reader.disable_recursion_limit();
    let value = serde::Deserialize::deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    Some(value)
}

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/openapi.json");
        let text = std::fs::read_to_string(path).expect("spec/openapi.json");
        serde_json::from_str(&text).expect("the spec is JSON")
    })
}

/// A validator for one schema of the spec, with the document's components resolvable.
fn validator(schema: &Value) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": spec()["components"],
        "allOf": [schema],
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .expect("the spec's schemas compile")
}

fn validators() -> &'static std::sync::Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>
{
    static CACHE: OnceLock<
        std::sync::Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
    > = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The spec's schema for a response; statuses the spec does not list for the operation (404
/// for unknown paths, 405, 413) must still be the generic `{"detail": string}` error.
fn response_schema(method: &Method, path: &str, status: StatusCode) -> Value {
    let template = if path == COLLECTION {
        Some(COLLECTION.to_owned())
    } else if path.starts_with(&format!("{COLLECTION}/")) {
        Some(format!("{COLLECTION}/{{simulation_id}}"))
    } else {
        None
    };
    let listed = template.and_then(|t| {
        spec()["paths"][t][method.as_str().to_ascii_lowercase()]["responses"]
            [status.as_str()]["content"]["application/json"]["schema"]
            .as_object()
            .cloned()
    });
    match listed {
        Some(schema) => Value::Object(schema),
        None => {
            assert!(
                matches!(status.as_u16(), 404 | 405 | 413),
                "{method} {path} answered {status}, which the spec does not list"
            );
            json!({ "$ref": "#/components/schemas/HTTPError" })
        }
    }
}

fn check_against_spec(method: &Method, path: &str, reply: &Reply) {
    let schema = response_schema(method, path, reply.status);
    let key = schema.to_string();
    let validator = {
        let mut cache = validators().lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| std::sync::Arc::new(validator(&schema)))
            .clone()
    };
    let errors: Vec<String> = validator
        .iter_errors(&reply.body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {}: response does not match the spec: {errors:?}\n{}",
        reply.status,
        reply.body
    );
}

/// Creates a simulation and returns the stored object.
pub async fn create(app: &Router, body: &Value) -> Value {
    let reply = send(app, Call::post(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["simulation"].clone()
}

/// One 422 entry, for exact comparison.
pub fn error(ty: &str, loc: Value, msg: &str, input: Value) -> Value {
    json!({ "type": ty, "loc": loc, "msg": msg, "input": input })
}

pub fn error_ctx(ty: &str, loc: Value, msg: &str, input: Value, ctx: Value) -> Value {
    json!({ "type": ty, "loc": loc, "msg": msg, "input": input, "ctx": ctx })
}

pub fn default_workflow() -> Value {
    json!({
        "workflow_id": null, "dynamic_variables": {}, "name": null, "total_events": 0,
        "total_nodes": 0, "total_duration_seconds": 0, "run_id": null
    })
}

pub fn default_config() -> Value {
    json!({
        "logical_id": null, "description": null,
        "selected_workflow": default_workflow(), "counter_workflow": default_workflow(),
        "timeout_seconds": null, "max_events": 500, "number_of_simulations": 1,
        "stop_on_failure": false, "status": "pending"
    })
}

/// The default config with `changes` merged in at the top level.
pub fn config_with(changes: &Value) -> Value {
    let mut config = default_config();
    for (key, value) in changes.as_object().expect("an object") {
        config[key] = value.clone();
    }
    config
}
