//! pydantic v2 lax-mode validation of request bodies, query and path parameters, with FastAPI's
//! error `type`, `msg`, `loc` and `ctx`.
//!
//! Each room holds one concern: `schema` the create and update bodies (fields and defaults),
//! `coerce` pydantic's lax `int` and `bool`, `query` the list's
//! query string, `datetime` the date-time parser behind `start` and `end`. This file holds the
//! rules a body field, a query parameter and the path parameter share. Errors accumulate: one
//! entry per violation, in declaration order, as FastAPI lists them.

mod coerce;
mod datetime;
mod query;
mod schema;

use serde_json::{Value, json};

use crate::errors::FieldError;

pub(crate) use query::{ListQuery, list_query};
pub(crate) use schema::{Update, create_body, update_body};
// What the `faults` feature's validation steps build on.
#[cfg(feature = "faults")]
pub(crate) use {
    coerce::{Int, str_as_int},
    datetime::{Reading, parse_datetime_as},
    query::params,
    schema::config_default,
};

/// The values of `SimulationStatus`, in the enum's order.
const STATUSES: [&str; 5] = ["pending", "running", "completed", "failed", "cancelled"];
const ENUM_EXPECTED: &str = "'pending', 'running', 'completed', 'failed' or 'cancelled'";
/// Length of `workflow_id`, `run_id`, the filters on them and the path id.
const ID_LEN: usize = 24;

/// `loc` with one more key, for a field inside the value at `loc`.
fn loc_with(loc: &[Value], key: &str) -> Vec<Value> {
    let mut out = loc.to_vec();
    out.push(Value::from(key));
    out
}

/// `SimulationStatus`: exactly one of [`STATUSES`], case included.
fn enum_error(loc: &[Value], input: Value) -> FieldError {
    FieldError::new(
        "enum",
        loc,
        format!("Input should be {ENUM_EXPECTED}"),
        input,
    )
    .with_ctx(json!({ "expected": ENUM_EXPECTED }))
}

/// `min_length=24, max_length=24`, counted in characters as Python's `len` does.
fn len24_error(s: &str, loc: &[Value], input: &Value) -> Option<FieldError> {
    let len = s.chars().count();
    if len < ID_LEN {
        Some(
            FieldError::new(
                "string_too_short",
                loc,
                format!("String should have at least {ID_LEN} characters"),
                input.clone(),
            )
            .with_ctx(json!({ "min_length": ID_LEN })),
        )
    } else if len > ID_LEN {
        Some(
            FieldError::new(
                "string_too_long",
                loc,
                format!("String should have at most {ID_LEN} characters"),
                input.clone(),
            )
            .with_ctx(json!({ "max_length": ID_LEN })),
        )
    } else {
        None
    }
}

/// Validates the `simulation_id` path parameter.
pub(crate) fn path_id(id: &str, errors: &mut Vec<FieldError>) {
    let loc = [Value::from("path"), Value::from("simulation_id")];
    if let Some(error) = len24_error(id, &loc, &Value::from(id)) {
        errors.push(error);
    }
}
