//! The faults that only reshape a finished response, each a `map_response` layer that `app()`
//! adds when that fault is on: the handlers always answer as the faithful server does, and the
//! layer rewrites status, headers or JSON fields afterwards.
//!
//! A fault belongs here only if the faulty answer can be computed from the faithful one alone.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Fault;
use crate::errors::ApiError;

/// `router` wrapped in `fault`'s layer if `fault` only reshapes responses, else unchanged.
pub(crate) fn with_layer(router: Router, fault: Fault) -> Router {
    match fault {
        Fault::CreateReturns201 => router.layer(map_response(create_returns_201)),
        Fault::TextPlain404 => router.layer(map_response(text_plain_404)),
        Fault::ValidationDetailString => router.layer(map_response(validation_detail_string)),
        Fault::MissingAllowHeader => router.layer(map_response(missing_allow_header)),
        Fault::MissingUpdatedBy => router.layer(map_response(missing_updated_by)),
        Fault::NaiveTimestamps => router.layer(map_response(naive_timestamps)),
        Fault::TotalIsPageLength => router.layer(map_response(total_is_page_length)),
        Fault::MissingKey403 => router.layer(map_response(missing_key_403)),
        Fault::InvalidJson400 => router.layer(map_response(invalid_json_400)),
        Fault::AllowListsOneRoute => router.layer(map_response(allow_lists_one_route)),
        _ => router,
    }
}

/// A POST answered 200 is always a create: every other POST is 307, 404 or 405.
async fn create_returns_201(method: Method, mut response: Response) -> Response {
    if method == Method::POST && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::CREATED;
    }
    response
}

async fn text_plain_404(mut response: Response) -> Response {
    if response.status() == StatusCode::NOT_FOUND {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    response
}

async fn missing_allow_header(mut response: Response) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().remove(header::ALLOW);
    }
    response
}

/// FastAPI before 0.115: `HTTPBearer` refused a missing or malformed credential with 403 and
/// no challenge. An unknown key's 401 comes from the service's own check and stays.
async fn missing_key_403(response: Response) -> Response {
    if response.status() != StatusCode::UNAUTHORIZED {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return ApiError::Internal.into_response();
    };
    if serde_json::from_slice::<Value>(&bytes).is_ok_and(|b| b["detail"] == "Not authenticated") {
        parts.status = StatusCode::FORBIDDEN;
        parts.headers.remove(header::WWW_AUTHENTICATE);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A service-wide handler for `JSONDecodeError` that answers 400 with its own message; only a
/// 422 whose one error is `json_invalid` is rewritten.
async fn invalid_json_400(response: Response) -> Response {
    if response.status() != StatusCode::UNPROCESSABLE_ENTITY {
        return response;
    }
    let mut json_invalid = false;
    let mut response = rewrite_json(response, |body| {
        if body["detail"][0]["type"] == "json_invalid" {
            json_invalid = true;
            *body = json!({ "detail": "Invalid JSON" });
        }
    })
    .await;
    if json_invalid {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

/// Plain FastAPI answers a 405 from the first route whose path matches, and lists only that
/// route's methods; both paths declare their GET route first.
async fn allow_lists_one_route(mut response: Response) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
    }
    response
}

/// The messages of a 422's error list joined into one string.
async fn validation_detail_string(response: Response) -> Response {
    if response.status() != StatusCode::UNPROCESSABLE_ENTITY {
        return response;
    }
    rewrite_json(response, |body| {
        if let Some(Value::Array(errors)) = body.get("detail") {
            let text = errors
                .iter()
                .filter_map(|error| error.get("msg").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("; ");
            *body = json!({ "detail": text });
        }
    })
    .await
}

async fn missing_updated_by(response: Response) -> Response {
    rewrite_simulations(response, |simulation| {
        simulation.remove("updated_by");
    })
    .await
}

/// The same instants without their `Z`, which leaves a date-time with no offset.
async fn naive_timestamps(response: Response) -> Response {
    rewrite_simulations(response, |simulation| {
        for field in ["created_at", "updated_at"] {
            if let Some(Value::String(text)) = simulation.get_mut(field)
                && text.ends_with('Z')
            {
                text.pop();
            }
        }
    })
    .await
}

async fn total_is_page_length(response: Response) -> Response {
    if !response.status().is_success() {
        return response;
    }
    rewrite_json(response, |body| {
        let Some(length) = body
            .get("simulations")
            .and_then(Value::as_array)
            .map(Vec::len)
        else {
            return;
        };
        if let Some(total) = body.get_mut("total") {
            *total = Value::from(length);
        }
    })
    .await
}

/// Applies `edit` to every simulation a successful answer carries: the one of create, get and
/// update, or each of a list's page.
async fn rewrite_simulations(
    response: Response,
    edit: impl Fn(&mut Map<String, Value>),
) -> Response {
    if !response.status().is_success() {
        return response;
    }
    rewrite_json(response, |body| {
        if let Some(Value::Object(simulation)) = body.get_mut("simulation") {
            edit(simulation);
        }
        if let Some(Value::Array(simulations)) = body.get_mut("simulations") {
            for simulation in simulations.iter_mut().filter_map(Value::as_object_mut) {
                edit(simulation);
            }
        }
    })
    .await
}

/// Reads the JSON body, applies `edit` and writes it back as serde_json wrote the original:
/// numbers keep their digits (`arbitrary_precision`) and untouched fields their bytes. A body
/// that is not JSON is left as it is.
async fn rewrite_json(response: Response, edit: impl FnOnce(&mut Value)) -> Response {
    let (mut parts, body) = response.into_parts();
    // The handlers' bodies are already in memory, so reading them cannot fail; if it did, a
    // faulty server may well answer 500.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return ApiError::Internal.into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    edit(&mut value);
    let rewritten = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    // The length changed; hyper writes the new one from the body.
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(rewritten))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer rewrites only what its fault names: everything else comes back byte for byte,
    /// so the faulty answer is the faithful one with that one change.
    #[tokio::test]
    async fn a_rewrite_keeps_every_other_byte() {
        let original = concat!(
            r#"{"simulations":[{"_id":"6b0aceba0000000000000000","created_at":"2026-01-01T00:00:00.000001Z","#,
            r#""simulation_config":{"a":[99999999999999999999,-0.0,0.1,100.0,1e-7],"#,
            r#""b":"\"é\\\u001f🚀"},"updated_by":"u"}],"total":7}"#
        );
        let response = (StatusCode::OK, original).into_response();
        let rewritten = rewrite_json(response, |_| {}).await;
        let bytes = to_bytes(rewritten.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&bytes), original);

        let response = (StatusCode::OK, original).into_response();
        let faulty =
            total_is_page_length(naive_timestamps(missing_updated_by(response).await).await).await;
        let bytes = to_bytes(faulty.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        let expected = original
            .replace(r#","updated_by":"u""#, "")
            .replace("000001Z", "000001")
            .replace(r#""total":7"#, r#""total":1"#);
        assert_eq!(String::from_utf8_lossy(&bytes), expected);
    }
}
