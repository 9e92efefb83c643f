//! The request bodies as the models declare them: `SimulationConfig` for create (fields, types,
//! defaults, nested `SimulationWorkflowDetails`) and the plain object of update, walked field by
//! field with pydantic's lax rules.

use serde_json::{Map, Value, json};

use super::coerce::{self, lax_bool, lax_int};
use super::{STATUSES, enum_error, len24_error, loc_with};
use crate::errors::{ApiError, FieldError};

const MSG_STRING_TYPE: &str = "Input should be a valid string";
const MSG_DICT_TYPE: &str = "Input should be a valid dictionary";
const MSG_MODEL_ATTRIBUTES: &str =
    "Input should be a valid dictionary or object to extract fields from";

/// The type of one field, as the models declare it.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    /// A string of exactly [`ID_LEN`] characters.
    Str24,
    Int,
    Bool,
    Status,
    /// `Dict[str, Any]`: any JSON object, stored as sent.
    Dict,
    /// The nested `SimulationWorkflowDetails` model (not nullable).
    Workflow,
}

const CONFIG_FIELDS: [(&str, Kind); 9] = [
    ("logical_id", Kind::Str),
    ("description", Kind::Str),
    ("selected_workflow", Kind::Workflow),
    ("counter_workflow", Kind::Workflow),
    ("timeout_seconds", Kind::Int),
    ("max_events", Kind::Int),
    ("number_of_simulations", Kind::Int),
    ("stop_on_failure", Kind::Bool),
    ("status", Kind::Status),
];

const WORKFLOW_FIELDS: [(&str, Kind); 7] = [
    ("workflow_id", Kind::Str24),
    ("dynamic_variables", Kind::Dict),
    ("name", Kind::Str),
    ("total_events", Kind::Int),
    ("total_nodes", Kind::Int),
    ("total_duration_seconds", Kind::Int),
    ("run_id", Kind::Str24),
];

/// The default stored for an absent `SimulationWorkflowDetails` field.
fn workflow_default(field: &str) -> Value {
    match field {
        "dynamic_variables" => Value::Object(Map::new()),
        "total_events" | "total_nodes" | "total_duration_seconds" => Value::from(0),
        _ => Value::Null,
    }
}

/// A complete `SimulationWorkflowDetails` with every default.
fn default_workflow() -> Value {
    let object = WORKFLOW_FIELDS
        .iter()
        .map(|(name, _)| ((*name).to_owned(), workflow_default(name)))
        .collect();
    Value::Object(object)
}

/// The default stored for an absent `SimulationConfig` field, as the model declares it.
pub(crate) fn config_default(field: &str) -> Value {
    match field {
        "selected_workflow" | "counter_workflow" => default_workflow(),
        "max_events" => Value::from(500),
        "number_of_simulations" => Value::from(1),
        "stop_on_failure" => Value::Bool(false),
        "status" => Value::from("pending"),
        _ => Value::Null,
    }
}

/// Validates the create body (`SimulationConfig`) and returns the canonical stored config:
/// every field present, defaults for what was absent, unknown keys dropped.
pub(crate) fn create_body(body: &Value) -> Result<Map<String, Value>, ApiError> {
    let loc = [Value::from("body")];
    let Value::Object(object) = body else {
        return Err(ApiError::validation(vec![FieldError::new(
            "model_attributes_type",
            &loc,
            MSG_MODEL_ATTRIBUTES,
            body.clone(),
        )]));
    };
    let mut errors = Vec::new();
    let mut fields = Fields {
        errors: &mut errors,
    };
    let mut config = Map::new();
    for (name, kind) in CONFIG_FIELDS {
        let value = match object.get(name) {
            None => config_default(name),
            Some(value) => match fields.check(kind, value, &loc_with(&loc, name)) {
                Some(value) => value,
                None => continue,
            },
        };
        config.insert(name.to_owned(), value);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(config)
}

/// Nesting depth of containers; bounded by serde_json's recursion limit, so recursion is safe.
/// The nesting of `dynamic_variables` (the object itself is level 1) from which stock FastAPI
/// answers 500 (CONTRACT.md), and which is refused here instead.
const DEEP_NESTING: usize = 255;
const MSG_TOO_DEEP: &str = "Value error, nested 255 levels or deeper";

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The fields an update may change; `None` means absent (left as it is).
#[derive(Debug, Default)]
pub(crate) struct Update {
    pub description: Option<Value>,
    pub status: Option<Value>,
}

/// Validates the update body, a plain JSON object; errors go to `errors` so that they join the
/// path parameter's errors in one 422, as FastAPI reports them.
pub(crate) fn update_body(body: &Value, errors: &mut Vec<FieldError>) -> Update {
    let loc = [Value::from("body")];
    let Value::Object(object) = body else {
        errors.push(FieldError::new(
            "dict_type",
            &loc,
            MSG_DICT_TYPE,
            body.clone(),
        ));
        return Update::default();
    };
    let mut fields = Fields { errors };
    let mut update = Update::default();
    if let Some(value) = object.get("description") {
        update.description = fields.check(Kind::Str, value, &loc_with(&loc, "description"));
    }
    if let Some(value) = object.get("status") {
        update.status = fields.check(Kind::Status, value, &loc_with(&loc, "status"));
    }
    update
}

/// One body's walk: the errors found so far, in field order.
struct Fields<'e> {
    errors: &'e mut Vec<FieldError>,
}

impl Fields<'_> {
    /// Records `error`; `None` stands for the field that failed.
    fn fail(&mut self, error: FieldError) -> Option<Value> {
        self.errors.push(error);
        None
    }

    /// Validates one present field and returns its canonical value; `None` means an error was
    /// recorded.
    fn check(&mut self, kind: Kind, value: &Value, loc: &[Value]) -> Option<Value> {
        match kind {
            Kind::Workflow => self.workflow(value, loc),
            _ if value.is_null() => Some(Value::Null),
            Kind::Str => match value {
                Value::String(_) => Some(value.clone()),
                _ => self.fail(string_type(loc, value)),
            },
            Kind::Str24 => match value {
                Value::String(s) => match len24_error(s, loc, value) {
                    None => Some(value.clone()),
                    Some(error) => self.fail(error),
                },
                _ => self.fail(string_type(loc, value)),
            },
            Kind::Int => match self.int(value) {
                Ok(int) => Some(int),
                Err((ty, msg)) => self.fail(FieldError::new(ty, loc, msg, value.clone())),
            },
            Kind::Bool => self.bool(value, loc),
            Kind::Status => match value {
                Value::String(s) if STATUSES.contains(&s.as_str()) => Some(value.clone()),
                _ => self.fail(enum_error(loc, value.clone())),
            },
            Kind::Dict => match value {
                // Stock FastAPI stores it but cannot write it back (pydantic's serialisation
                // depth): it answers 500 (CONTRACT.md). Refused here, without echoing it.
                Value::Object(_) if depth(value) >= DEEP_NESTING => self.fail(
                    FieldError::new("value_error", loc, MSG_TOO_DEEP, Value::Null)
                        .with_ctx(json!({"error": "nested 255 levels or deeper"})),
                ),
                // Stored as pydantic writes it: NaN and infinities become null.
                Value::Object(_) => Some(crate::body::as_written(value)),
                _ => self.fail(FieldError::new(
                    "dict_type",
                    loc,
                    MSG_DICT_TYPE,
                    value.clone(),
                )),
            },
        }
    }

    /// The nested `SimulationWorkflowDetails`: every field checked, so that all of its errors
    /// are reported, and defaults for the absent ones.
    fn workflow(&mut self, value: &Value, loc: &[Value]) -> Option<Value> {
        let Value::Object(object) = value else {
            return self.fail(FieldError::new(
                "model_attributes_type",
                loc,
                MSG_MODEL_ATTRIBUTES,
                value.clone(),
            ));
        };
        let mut workflow = Map::new();
        let mut ok = true;
        for (name, kind) in WORKFLOW_FIELDS {
            let stored = match object.get(name) {
                None => Some(workflow_default(name)),
                Some(field) => self.check(kind, field, &loc_with(loc, name)),
            };
            match stored {
                Some(stored) => {
                    workflow.insert(name.to_owned(), stored);
                }
                None => ok = false,
            }
        }
        ok.then_some(Value::Object(workflow))
    }

    /// pydantic's lax `bool`.
    fn bool(&mut self, value: &Value, loc: &[Value]) -> Option<Value> {
        match lax_bool(value) {
            Ok(b) => Some(Value::Bool(b)),
            Err((ty, msg)) => self.fail(FieldError::new(ty, loc, msg, value.clone())),
        }
    }

    /// pydantic's lax `int`.
    fn int(&self, value: &Value) -> Result<Value, coerce::Rejection> {
        Ok(lax_int(value)?.into_value())
    }
}

fn string_type(loc: &[Value], value: &Value) -> FieldError {
    FieldError::new("string_type", loc, MSG_STRING_TYPE, value.clone())
}
