//! The list operation's query string: Starlette's parsing, then each parameter validated as
//! FastAPI declares it (`size`/`page` `int >= 1`, `start`/`end` `datetime`, the workflow ids 24
//! characters, `status` the enum).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::coerce::{Int, str_as_int};
use super::datetime::{Reading, parse_datetime_as};
use super::{STATUSES, enum_error, len24_error};
use crate::errors::{ApiError, FieldError};

/// The list operation's query, validated.
#[derive(Debug, Clone)]
pub(crate) struct ListQuery {
    pub size: u64,
    pub page: u64,
    pub search: Option<String>,
    /// `search` lowercased once, not once per record scanned.
    pub search_lowered: Option<String>,
    /// Inclusive bounds on `created_at`, in Unix microseconds.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub logical_id: Option<String>,
    pub selected_workflow_id: Option<String>,
    pub counter_workflow_id: Option<String>,
    pub status: Option<String>,
}

/// Validates the list query from the request's raw query string.
pub(crate) fn list_query(raw: &str) -> Result<ListQuery, ApiError> {
    let params = params(raw);
    let mut errors = Vec::new();
    let loc = |name: &str| [Value::from("query"), Value::from(name)];
    let mut positive = |name: &str, default: u64| -> u64 {
        let Some(raw) = params.get(name) else {
            return default;
        };
        match str_as_int(raw) {
            Ok(Int::Small(int)) if int >= 1 => int.unsigned_abs(),
            // No store holds 2^63 records: a page past i64 is as good as infinitely far.
            Ok(Int::Big(digits)) if !digits.starts_with('-') => u64::MAX,
            Ok(_) => {
                errors.push(
                    FieldError::new(
                        "greater_than_equal",
                        &loc(name),
                        "Input should be greater than or equal to 1",
                        Value::from(raw.as_str()),
                    )
                    .with_ctx(json!({ "ge": 1 })),
                );
                default
            }
            Err((ty, msg)) => {
                errors.push(FieldError::new(
                    ty,
                    &loc(name),
                    msg,
                    Value::from(raw.as_str()),
                ));
                default
            }
        }
    };
    let size = positive("size", 100);
    let page = positive("page", 1);
    let search = params.get("search").cloned();
    let reading = Reading::default();
    let mut datetime = |name: &str| -> Option<i64> {
        let raw = params.get(name)?;
        match parse_datetime_as(raw, reading) {
            Ok(micros) => Some(micros),
            Err(refusal) => {
                errors.push(
                    FieldError::new(
                        refusal.ty,
                        &loc(name),
                        refusal.message(),
                        Value::from(raw.as_str()),
                    )
                    .with_ctx(json!({ "error": refusal.reason })),
                );
                None
            }
        }
    };
    let start = datetime("start");
    let end = datetime("end");
    let logical_id = params.get("logical_id").cloned();
    let mut workflow_id = |name: &str| -> Option<String> {
        let raw = params.get(name)?;
        match len24_error(raw, &loc(name), &Value::from(raw.as_str())) {
            None => Some(raw.clone()),
            Some(error) => {
                errors.push(error);
                None
            }
        }
    };
    let selected_workflow_id = workflow_id("selected_workflow_id");
    let counter_workflow_id = workflow_id("counter_workflow_id");
    let status = match params.get("status") {
        Some(raw) if STATUSES.contains(&raw.as_str()) => Some(raw.clone()),
        Some(raw) => {
            errors.push(enum_error(&loc("status"), Value::from(raw.as_str())));
            None
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(ListQuery {
        size,
        page,
        search_lowered: search.as_deref().map(str::to_lowercase),
        search,
        start,
        end,
        logical_id,
        selected_workflow_id,
        counter_workflow_id,
        status,
    })
}

/// Starlette's `QueryParams` as FastAPI reads a scalar parameter: Python's
/// `parse_qsl(keep_blank_values=True)`, then the last value of each name.
///
/// `form_urlencoded` splits and decodes exactly as `parse_qsl` does: `&`-separated, empty pieces
/// skipped, a name without `=` has the value `""`, `+` is a space (before percent-decoding, so
/// `%2B` stays `+`), a `%` not followed by two hex digits is kept as it is, and invalid UTF-8
/// becomes U+FFFD. Collecting into a map keeps the last value of a repeated name.
pub(crate) fn params(raw: &str) -> HashMap<String, String> {
    form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_keeps_the_last_value_and_decodes() {
        let params = params("size=1&size=2&search=a+b%20c&flag&=x&bad=%zz%e2%82&&plus=%2B");
        assert_eq!(params["size"], "2");
        assert_eq!(params["search"], "a b c");
        assert_eq!(params["flag"], "");
        assert_eq!(params[""], "x");
        assert_eq!(params["bad"], "%zz\u{fffd}");
        assert_eq!(params["plus"], "+");
        assert_eq!(params.len(), 6);
    }
}
