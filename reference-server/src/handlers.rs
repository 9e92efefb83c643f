//! Routing and the five operations, in FastAPI's order of checks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::body::{self, Received};
use crate::errors::{ApiError, FieldError, json_bytes_response, json_response};
use crate::store::{Snapshot, Store};
use crate::validate;
use crate::{Config, Fault};

/// The collection path; the item path is this plus `/{simulation_id}`.
pub(crate) const COLLECTION: &str = "/workflows/v1/simulations";
/// `Allow` of the collection path (alphabetical, as the item path's).
pub(crate) const ALLOW_COLLECTION: &str = "GET, POST";
/// `Allow` of the item path.
pub(crate) const ALLOW_ITEM: &str = "DELETE, GET, PATCH";

/// A list whose records weigh more than this (roughly bytes of JSON) is filtered and
/// serialised on tokio's blocking pool: megabytes of JSON take long enough, in a debug build
/// especially, that doing it on an async worker would stall every other connection that worker
/// serves.
const HEAVY_LIST: usize = 256 * 1024;
/// How many heavy lists are built at once; more wait their turn. Each holds its page's JSON
/// while it is built, so this bounds that memory and leaves cores for everyone else.
const HEAVY_LISTS_AT_ONCE: usize = 2;

/// Everything a request needs, shared by all connections.
#[derive(Debug)]
pub(crate) struct AppState {
    pub keys: crate::auth::Keys,
    pub store: Store,
    pub fault: Option<Fault>,
    pub latency: std::time::Duration,
    heavy_lists: tokio::sync::Semaphore,
}

impl AppState {
    pub fn new(config: Config) -> Self {
        AppState {
            keys: crate::auth::Keys::new(&config.keys),
            store: Store::default(),
            fault: config.fault,
            latency: config.latency,
            heavy_lists: tokio::sync::Semaphore::new(HEAVY_LISTS_AT_ONCE),
        }
    }
}

/// The one handler behind the router: routes, runs the operation, applies the latency knob and
/// logs one line. The key is never logged: only method, path, status and duration.
pub(crate) async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = match dispatch(&state, request).await {
        Ok(response) => response,
        Err(error) => error.render(state.fault),
    };
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    tracing::info!(
        "{method} {path} {} {:.3}ms",
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

enum Route {
    Collection,
    Item(String),
}

/// Starlette matches routes against the percent-decoded path; `{simulation_id}` is `[^/]+`.
fn route(decoded: &str) -> Option<Route> {
    let rest = decoded.strip_prefix(COLLECTION)?;
    if rest.is_empty() {
        return Some(Route::Collection);
    }
    let id = rest.strip_prefix('/')?;
    (!id.is_empty() && !id.contains('/')).then(|| Route::Item(id.to_owned()))
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let decoded = percent_decode(request.uri().path(), false);
    let Some(route) = route(&decoded) else {
        return Err(redirect_or_not_found(&decoded, &request));
    };
    let method = request.method().clone();
    match (route, method) {
        (Route::Collection, Method::GET) => list(state, request).await,
        (Route::Collection, Method::POST) => create(state, request).await,
        (Route::Collection, _) => Err(ApiError::MethodNotAllowed(ALLOW_COLLECTION)),
        (Route::Item(id), Method::GET) => get(state, request.headers(), &id),
        (Route::Item(id), Method::PATCH) => update(state, request, &id).await,
        (Route::Item(id), Method::DELETE) => delete(state, request.headers(), &id),
        (Route::Item(_), _) => Err(ApiError::MethodNotAllowed(ALLOW_ITEM)),
    }
}

/// Starlette's `redirect_slashes`: a known path with trailing slashes answers 307 to the path
/// without them; anything else is 404.
fn redirect_or_not_found(decoded: &str, request: &Request) -> ApiError {
    if decoded.ends_with('/') && route(decoded.trim_end_matches('/')).is_some() {
        let uri = request.uri();
        let mut location = uri.path().trim_end_matches('/').to_owned();
        if let Some(query) = uri.query() {
            location.push('?');
            location.push_str(query);
        }
        if let Some(host) = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            location = format!("http://{host}{location}");
        }
        return ApiError::Redirect(location);
    }
    ApiError::PathNotFound
}

fn simulation_response(
    state: &AppState,
    status: StatusCode,
    simulation: &crate::store::Simulation,
) -> Response {
    json_response(
        status,
        &json!({ "simulation": simulation.to_json(state.fault) }),
    )
}

/// Body first (400/413/422 json_invalid), then auth (401), then validation (422).
async fn create(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let received = body::read(&parts.headers, body).await?;
    let caller = state.keys.authenticate(&parts.headers, state.fault)?;
    if let Received::Missing = received {
        return Err(missing_body());
    }
    let config = validate::create_body(&received.value(), state.fault)?;
    let simulation = state.store.create(&caller, config, state.fault);
    let status = if state.fault == Some(Fault::CreateReturns201) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(simulation_response(state, status, &simulation))
}

fn missing_body() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "missing",
        &[Value::from("body")],
        "Field required",
        Value::Null,
    )])
}

async fn list(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let caller = state.keys.authenticate(request.headers(), state.fault)?;
    let params = parse_query(request.uri().query().unwrap_or(""));
    let query = validate::list_query(&params)?;
    let fault = state.fault;
    let snapshot = state.store.snapshot(&caller.team, fault);
    let build = move |snapshot: &Snapshot| snapshot.page(&query, fault).to_json_bytes(fault);
    if snapshot.weight() <= HEAVY_LIST {
        return Ok(json_bytes_response(StatusCode::OK, build(&snapshot)));
    }
    // The semaphore is never closed; if it were, building without a turn is still correct.
    let _turn = state.heavy_lists.acquire().await;
    let snapshot = Arc::new(snapshot);
    let shared = Arc::clone(&snapshot);
    let build_shared = build.clone();
    let bytes = match tokio::task::spawn_blocking(move || build_shared(&shared)).await {
        Ok(bytes) => bytes,
        // Only a cancelled task (the runtime shutting down) or a panic in the build, which does
        // not panic, gets here; building on this worker still answers the request.
        Err(_) => build(&snapshot),
    };
    Ok(json_bytes_response(StatusCode::OK, bytes))
}

fn get(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Response, ApiError> {
    let caller = state.keys.authenticate(headers, state.fault)?;
    check_id(id)?;
    let simulation = state
        .store
        .get(&caller.team, id)
        .ok_or(ApiError::SimulationNotFound)?;
    Ok(simulation_response(state, StatusCode::OK, &simulation))
}

fn check_id(id: &str) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    validate::path_id(id, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

async fn update(state: &AppState, request: Request, id: &str) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let received = body::read(&parts.headers, body).await?;
    let caller = state.keys.authenticate(&parts.headers, state.fault)?;
    // Path errors come first in FastAPI's list, then the body's.
    let mut errors = Vec::new();
    validate::path_id(id, &mut errors);
    let changes = match received {
        Received::Missing => {
            errors.push(FieldError::new(
                "missing",
                &[Value::from("body")],
                "Field required",
                Value::Null,
            ));
            validate::Update::default()
        }
        received => validate::update_body(&received.value(), &mut errors),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let simulation = state
        .store
        .update(&caller, id, &changes, state.fault)
        .ok_or(ApiError::SimulationNotFound)?;
    Ok(simulation_response(state, StatusCode::OK, &simulation))
}

fn delete(state: &AppState, headers: &HeaderMap, id: &str) -> Result<Response, ApiError> {
    let caller = state.keys.authenticate(headers, state.fault)?;
    check_id(id)?;
    if !state.store.delete(&caller.team, id, state.fault) {
        return Err(ApiError::SimulationNotFound);
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({ "message": "Simulation deleted successfully" }),
    ))
}

/// Python's `parse_qsl(keep_blank_values=True)`; the last value of a name wins, as FastAPI
/// reads a scalar query parameter.
fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

/// Percent-decoding with invalid UTF-8 replaced, as Python's `unquote` does; `plus` also
/// turns `+` into a space (query strings).
fn percent_decode(input: &str, plus: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => match (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_keeps_the_last_value_and_decodes() {
        let params = parse_query("size=1&size=2&search=a+b%20c&flag&=x&bad=%zz%e2%82");
        assert_eq!(params["size"], "2");
        assert_eq!(params["search"], "a b c");
        assert_eq!(params["flag"], "");
        assert_eq!(params["bad"], "%zz\u{fffd}");
    }

    #[test]
    fn routes_match_decoded_paths() {
        assert!(matches!(route(COLLECTION), Some(Route::Collection)));
        assert!(matches!(route("/workflows/v1/simulations/x"), Some(Route::Item(id)) if id == "x"));
        assert!(route("/workflows/v1/simulations/").is_none());
        assert!(route("/workflows/v1/simulations/a/b").is_none());
        assert!(route("/workflows/v1/simulationsx").is_none());
    }
}
