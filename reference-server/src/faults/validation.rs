//! The faults that bend validation, each a validation step (create body, list query, path id)
//! that wraps the faithful one: it rewrites the input before the faithful step reads it, or
//! the result after, so every error the faithful step reports keeps its place in the list.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Fault;
use crate::errors::{ApiError, FieldError};
use crate::handlers::{CreateBody, ListQueryStep, Parts, PathId};
use crate::validate::{Int, Reading, params, parse_datetime_as, str_as_int};

/// The integer fields of the create body, at the top level.
const INT_FIELDS: [&str; 3] = ["timeout_seconds", "max_events", "number_of_simulations"];
/// The integer fields of a workflow object.
const WORKFLOW_INT_FIELDS: [&str; 3] = ["total_events", "total_nodes", "total_duration_seconds"];
const WORKFLOWS: [&str; 2] = ["selected_workflow", "counter_workflow"];
const ID_FIELDS: [&str; 2] = ["workflow_id", "run_id"];
const ID_LEN: usize = 24;

/// `parts` with `fault`'s validation step, if it bends validation.
pub(super) fn decorate(mut parts: Parts, fault: Fault) -> Parts {
    if let Some(step) = create_body(Arc::clone(&parts.create_body), fault) {
        parts.create_body = step;
    }
    if let Some(step) = list_query(Arc::clone(&parts.list_query), fault) {
        parts.list_query = step;
    }
    if let Some(step) = path_id(Arc::clone(&parts.path_id), fault) {
        parts.path_id = step;
    }
    parts
}

/// Each field of `body` named in `fields`, and each of those fields in the body's workflow
/// objects named in `workflow_fields`, as a mutable value with its `loc`.
fn each_field(
    body: &mut Value,
    fields: &[&str],
    workflow_fields: &[&str],
    mut visit: impl FnMut(&mut Value, Vec<Value>),
) {
    let Some(object) = body.as_object_mut() else {
        return;
    };
    for name in fields {
        if let Some(value) = object.get_mut(*name) {
            visit(value, vec![json!("body"), json!(name)]);
        }
    }
    for workflow in WORKFLOWS {
        let Some(Value::Object(fields)) = object.get_mut(workflow) else {
            continue;
        };
        for name in workflow_fields {
            if let Some(value) = fields.get_mut(*name) {
                visit(value, vec![json!("body"), json!(workflow), json!(name)]);
            }
        }
    }
}

/// A copy of `body` with the named fields `swap` answers for replaced, and each replaced
/// field's location (as a validation error's `loc`) with its original value.
fn swapped(
    body: &Value,
    fields: &[&str],
    workflow_fields: &[&str],
    swap: impl Fn(&Value) -> Option<Value>,
) -> (Value, Vec<(Vec<Value>, Value)>) {
    let mut swapped = body.clone();
    let mut originals = Vec::new();
    each_field(&mut swapped, fields, workflow_fields, |value, loc| {
        if let Some(replacement) = swap(value) {
            originals.push((loc, std::mem::replace(value, replacement)));
        }
    });
    (swapped, originals)
}

/// `inner` run on `body` with some fields swapped for stand-ins that draw the error the fault
/// wants (`swap` answers the stand-in); the errors then show the original input again.
fn with_stand_ins(
    inner: &CreateBody,
    body: &Value,
    fields: &[&str],
    workflow_fields: &[&str],
    swap: impl Fn(&Value) -> Option<Value>,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let (swapped, originals) = swapped(body, fields, workflow_fields, swap);
    match inner(&swapped) {
        Err(ApiError::Validation(mut errors)) => {
            for error in &mut errors {
                if let Some((_, original)) = originals.iter().find(|(loc, _)| *loc == error.loc) {
                    error.input = original.clone();
                }
            }
            Err(ApiError::Validation(errors))
        }
        other => other,
    }
}

/// `inner` run on `body` with some fields swapped for values it accepts (`swap`); the stored
/// config then holds the originals again.
fn accepting(
    inner: &CreateBody,
    body: &Value,
    fields: &[&str],
    workflow_fields: &[&str],
    swap: impl Fn(&Value) -> Option<Value>,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let (swapped, originals) = swapped(body, fields, workflow_fields, swap);
    let mut config = Value::Object(inner(&swapped)?);
    for (loc, original) in originals {
        let mut at = &mut config;
        for key in loc.iter().skip(1).filter_map(Value::as_str) {
            at = &mut at[key];
        }
        *at = original;
    }
    Ok(match config {
        Value::Object(config) => config,
        _ => serde_json::Map::new(),
    })
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn create_body(inner: CreateBody, fault: Fault) -> Option<CreateBody> {
    let step: CreateBody = match fault {
        Fault::WrongDefaultMaxEvents => Arc::new(move |body| {
            let mut config = inner(body)?;
            if body.get("max_events").is_none() {
                config.insert("max_events".into(), Value::from(100));
            }
            Ok(config)
        }),
        // A null is read as if the field were absent, at the top level and in workflows.
        Fault::NullStoredAsDefault => Arc::new(move |body| {
            let mut body = body.clone();
            if let Some(object) = body.as_object_mut() {
                object.retain(|_, v| !v.is_null());
                for workflow in WORKFLOWS {
                    if let Some(Value::Object(fields)) = object.get_mut(workflow) {
                        fields.retain(|_, v| !v.is_null());
                    }
                }
            }
            inner(&body)
        }),
        Fault::NullWorkflowAccepted => Arc::new(move |body| {
            let mut body = body.clone();
            if let Some(object) = body.as_object_mut() {
                object.retain(|name, v| !(v.is_null() && WORKFLOWS.contains(&name.as_str())));
            }
            inner(&body)
        }),
        // A stand-in that is no string draws `string_type` at the field.
        Fault::RejectNullDescription => Arc::new(move |body| {
            with_stand_ins(&inner, body, &["description"], &[], |v| {
                v.is_null().then(|| Value::from(0))
            })
        }),
        // An array draws `int_type`, the error of a string under strict integers.
        Fault::RejectNumericStrings => Arc::new(move |body| {
            with_stand_ins(&inner, body, &INT_FIELDS, &WORKFLOW_INT_FIELDS, |v| {
                v.is_string().then(|| json!([]))
            })
        }),
        // A string that is no boolean draws `bool_parsing`.
        Fault::BoolStringsCaseSensitive => Arc::new(move |body| {
            with_stand_ins(&inner, body, &["stop_on_failure"], &[], |v| {
                v.as_str()
                    .filter(|s| s.to_lowercase() != *s)
                    .map(|_| Value::from("not a boolean"))
            })
        }),
        // The truncated float validates as the integer it is.
        Fault::AcceptFractionalInt => Arc::new(move |body| {
            let mut body = body.clone();
            each_field(&mut body, &INT_FIELDS, &WORKFLOW_INT_FIELDS, |value, _| {
                if let Some(float) = value.as_f64().filter(|f| f.is_finite() && f.fract() != 0.0) {
                    *value = Value::from(float.trunc());
                }
            });
            inner(&body)
        }),
        Fault::AcceptShortWorkflowId => Arc::new(move |body| {
            accepting(&inner, body, &[], &ID_FIELDS, |v| {
                let s = v.as_str().filter(|s| s.chars().count() == ID_LEN - 1)?;
                Some(Value::from(format!("{s}0")))
            })
        }),
        Fault::Accept25CharacterIds => Arc::new(move |body| {
            accepting(&inner, body, &[], &ID_FIELDS, |v| {
                let s = v.as_str().filter(|s| s.chars().count() > ID_LEN)?;
                Some(Value::from(s.chars().take(ID_LEN).collect::<String>()))
            })
        }),
        Fault::UnknownKeysEchoed => Arc::new(move |body| {
            let mut config = inner(body)?;
            if let Some(object) = body.as_object() {
                for (key, value) in object {
                    config.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
            Ok(config)
        }),
        Fault::CrashOnNonBmpLogicalId => Arc::new(move |body| {
            let config = inner(body)?;
            if let Some(Value::String(id)) = config.get("logical_id")
                && id.chars().any(|c| u32::from(c) > 0xFFFF)
            {
                return Err(ApiError::Internal);
            }
            Ok(config)
        }),
        Fault::CrashOnDeepDynamicVariables => Arc::new(move |body| {
            let config = inner(body)?;
            for workflow in WORKFLOWS {
                if let Some(dv) = config
                    .get(workflow)
                    .and_then(|w| w.get("dynamic_variables"))
                    && depth(dv) > 3
                {
                    return Err(ApiError::Internal);
                }
            }
            Ok(config)
        }),
        // An integer past 64 bits (the faithful step keeps its digits) becomes the nearest
        // `f64`.
        Fault::BigIntegersThroughF64 => Arc::new(move |body| {
            let mut config = Value::Object(inner(body)?);
            each_field(
                &mut config,
                &INT_FIELDS,
                &WORKFLOW_INT_FIELDS,
                |value, _| {
                    if let Value::Number(n) = value
                        && n.as_i64().is_none()
                        && !n.as_str().contains(['.', 'e', 'E'])
                    {
                        *value = n.as_str().parse::<f64>().map_or(Value::Null, Value::from);
                    }
                },
            );
            Ok(match config {
                Value::Object(config) => config,
                _ => serde_json::Map::new(),
            })
        }),
        _ => return None,
    };
    Some(step)
}

fn list_query(inner: ListQueryStep, fault: Fault) -> Option<ListQueryStep> {
    let step: ListQueryStep = match fault {
        Fault::ListDefaultSize10 => Arc::new(move |raw| {
            let mut query = inner(raw)?;
            if !params(raw).contains_key("size") {
                query.size = 10;
            }
            Ok(query)
        }),
        // `ge=0` where `ge=1` was meant: the faithful step sees `size=1`, the page is empty.
        Fault::SizeZeroAccepted => Arc::new(move |raw| {
            let mut params = params(raw);
            let zero = params
                .get("size")
                .is_some_and(|size| matches!(str_as_int(size), Ok(Int::Small(0))));
            if !zero {
                return inner(raw);
            }
            params.insert("size".into(), "1".into());
            let raw = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            let mut query = inner(&raw)?;
            query.size = 0;
            Ok(query)
        }),
        Fault::NaiveBoundsLocalTime => bounds_read_as(
            inner,
            Reading {
                naive_offset_seconds: 2 * 3600,
                ..Reading::default()
            },
        ),
        Fault::UnixTimeAsMilliseconds => bounds_read_as(
            inner,
            Reading {
                numbers_as_milliseconds: true,
                ..Reading::default()
            },
        ),
        _ => return None,
    };
    Some(step)
}

/// The faithful step, then `start` and `end` read again as `reading` says.
fn bounds_read_as(inner: ListQueryStep, reading: Reading) -> ListQueryStep {
    Arc::new(move |raw| {
        let mut query = inner(raw)?;
        let params = params(raw);
        let read = |name: &str| {
            params
                .get(name)
                .and_then(|text| parse_datetime_as(text, reading).ok())
        };
        query.start = read("start").or(query.start);
        query.end = read("end").or(query.end);
        Ok(query)
    })
}

fn path_id(inner: PathId, fault: Fault) -> Option<PathId> {
    match fault {
        // What a `PydanticObjectId` path parameter answers: bson's `ObjectId.is_valid`.
        Fault::NonHexId422 => Some(Arc::new(move |id, errors| {
            let before = errors.len();
            inner(id, errors);
            if errors.len() == before && !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                errors.push(
                    FieldError::new(
                        "value_error",
                        &[Value::from("path"), Value::from("simulation_id")],
                        "Value error, Id must be of type PydanticObjectId",
                        Value::from(id),
                    )
                    .with_ctx(json!({ "error": {} })),
                );
            }
        })),
        _ => None,
    }
}
