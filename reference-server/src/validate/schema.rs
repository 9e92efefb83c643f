//! The request bodies as the models declare them: `SimulationConfig` for create (fields, types,
//! defaults, nested `SimulationWorkflowDetails`) and the plain object of update, walked field by
//! field with pydantic's lax rules. The faults that change what a body may hold or how it is
//! stored act here, each through its `Faults` predicate.

use serde_json::{Map, Value, json};

use super::coerce::{self, Int, lax_bool, lax_int};
use super::{ID_LEN, STATUSES, enum_error, len24_error, loc_with};
use crate::errors::{ApiError, FieldError};
use crate::faults::Faults;

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
pub(crate) fn create_body(body: &Value, faults: Faults) -> Result<Map<String, Value>, ApiError> {
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
        faults,
        errors: &mut errors,
    };
    let mut config = Map::new();
    for (name, kind) in CONFIG_FIELDS {
        let value = match object.get(name) {
            None => fields.config_default(name),
            Some(Value::Null) if name == "description" && faults.rejects_null_description() => {
                fields.errors.push(FieldError::new(
                    "string_type",
                    &loc_with(&loc, name),
                    MSG_STRING_TYPE,
                    Value::Null,
                ));
                continue;
            }
            Some(Value::Null) if faults.stores_null_as_default() => fields.config_default(name),
            Some(Value::Null)
                if matches!(kind, Kind::Workflow) && faults.accepts_null_workflow() =>
            {
                fields.config_default(name)
            }
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
    if faults.stores_unknown_keys() {
        for (key, value) in object {
            config.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    if faults.crashes_on_non_bmp_logical_id()
        && let Some(Value::String(id)) = config.get("logical_id")
        && id.chars().any(|c| u32::from(c) > 0xFFFF)
    {
        return Err(ApiError::Internal);
    }
    if faults.crashes_on_deep_dynamic_variables() {
        for workflow in ["selected_workflow", "counter_workflow"] {
            if let Some(dv) = config
                .get(workflow)
                .and_then(|w| w.get("dynamic_variables"))
                && depth(dv) > 3
            {
                return Err(ApiError::Internal);
            }
        }
    }
    Ok(config)
}

/// Under [`Faults::stores_raw_body`]: `config` with each top-level field that validation
/// changed (a coerced `"5"`, `5.0`, `"yes"`) replaced by what the client sent, as a handler
/// that validates the model but saves the request's own dict would store it. The workflow
/// objects keep their validated form: the raw ones may hold unknown keys.
pub(crate) fn with_raw_scalars(config: &Map<String, Value>, body: &Value) -> Map<String, Value> {
    let mut stored = config.clone();
    for (name, kind) in CONFIG_FIELDS {
        if matches!(kind, Kind::Workflow) {
            continue;
        }
        if let (Some(raw), Some(canonical)) = (body.get(name), stored.get_mut(name))
            && raw != canonical
        {
            *canonical = raw.clone();
        }
    }
    stored
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
/// path parameter's errors in one 422, as FastAPI reports them. No fault bends an update's
/// validation.
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
    let mut fields = Fields {
        faults: Faults::NONE,
        errors,
    };
    let mut update = Update::default();
    if let Some(value) = object.get("description") {
        update.description = fields.check(Kind::Str, value, &loc_with(&loc, "description"));
    }
    if let Some(value) = object.get("status") {
        update.status = fields.check(Kind::Status, value, &loc_with(&loc, "status"));
    }
    update
}

/// One body's walk: the server's faults and the errors found so far, in field order.
struct Fields<'e> {
    faults: Faults,
    errors: &'e mut Vec<FieldError>,
}

impl Fields<'_> {
    /// [`config_default`], but for the fault that changes a default.
    fn config_default(&self, field: &str) -> Value {
        if field == "max_events" && self.faults.defaults_max_events_to_100() {
            return Value::from(100);
        }
        config_default(field)
    }

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
                Value::String(s)
                    if self.faults.accepts_23_character_ids()
                        && s.chars().count() == ID_LEN - 1 =>
                {
                    Some(value.clone())
                }
                Value::String(s)
                    if self.faults.accepts_long_ids() && s.chars().count() > ID_LEN =>
                {
                    Some(value.clone())
                }
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
            Kind::Bool => match value {
                Value::String(s)
                    if self.faults.bool_strings_case_sensitive() && s.to_lowercase() != *s =>
                {
                    let (ty, msg) = coerce::BOOL_PARSING;
                    self.fail(FieldError::new(ty, loc, msg, value.clone()))
                }
                _ => self.bool(value, loc),
            },
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
                Some(Value::Null) if self.faults.stores_null_as_default() => {
                    Some(workflow_default(name))
                }
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

    /// pydantic's lax `int`, and the three faults that bend it.
    fn int(&self, value: &Value) -> Result<Value, coerce::Rejection> {
        if value.is_string() && self.faults.rejects_numeric_strings() {
            return Err(coerce::INT_TYPE);
        }
        let int = match lax_int(value) {
            Err(("int_from_float", _)) if self.faults.accepts_fractional_ints() => {
                // Only a finite number with a fraction gets `int_from_float`.
                let float = value.as_f64().unwrap_or_default();
                coerce::float_as_int(float.trunc())?
            }
            int => int?,
        };
        Ok(match int {
            // Decimal digits always read as an f64; the rounding is the fault.
            Int::Big(digits) if self.faults.rounds_big_integers_through_f64() => {
                digits.parse::<f64>().map_or(Value::Null, Value::from)
            }
            int => int.into_value(),
        })
    }
}

fn string_type(loc: &[Value], value: &Value) -> FieldError {
    FieldError::new("string_type", loc, MSG_STRING_TYPE, value.clone())
}
