//! Request bodies as the spec types them: each field's kind, bounds, nullability and default, for the value strategies to draw from and the checks to judge stored values by.

use serde_json::Value;

use crate::error::RunError;
use crate::pointer;

/// What a field of a request body may hold, as the spec says.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    String {
        min_len: Option<usize>,
        max_len: Option<usize>,
    },
    Integer,
    Boolean,
    Enum(Vec<String>),
    /// `additionalProperties: true` with no properties: any JSON object, stored as sent.
    AnyObject,
    Object(ObjectModel),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldModel {
    pub name: String,
    pub kind: Kind,
    pub nullable: bool,
    /// The spec's default, materialised by the server when the field is absent.
    pub default: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectModel {
    pub fields: Vec<FieldModel>,
    /// Properties whose schema the models cannot read. The strategies never send them; the
    /// checks judge them only generically (the response schema, no 5xx, the spec's default
    /// when it has one, the same value on every read).
    pub unmodelled: Vec<UnmodelledField>,
}

/// A property the suite cannot model, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct UnmodelledField {
    pub name: String,
    /// What the models do not read, e.g. "type array is not modelled".
    pub reason: String,
    /// The spec's default, which an absent field must be stored as.
    pub default: Option<Value>,
}

/// The fields the contract names, at any depth of the create and update bodies. A schema the
/// suite cannot read on one of them refuses the spec, since the contract's rules about that
/// field could no longer be checked; any other field is judged generically with a warning.
const CONTRACT_FIELDS: [&str; 16] = [
    "counter_workflow",
    "description",
    "logical_id",
    "max_events",
    "number_of_simulations",
    "selected_workflow",
    "status",
    "stop_on_failure",
    "timeout_seconds",
    "dynamic_variables",
    "name",
    "run_id",
    "total_duration_seconds",
    "total_events",
    "total_nodes",
    "workflow_id",
];

impl ObjectModel {
    /// What the server stores for a field that was not sent.
    pub(crate) fn default_of(field: &FieldModel) -> Value {
        match (&field.default, &field.kind) {
            (Some(d), _) => d.clone(),
            (None, Kind::Object(model)) => model.all_defaults(),
            (None, _) => Value::Null,
        }
    }

    /// The field a JSON pointer into a body of this model names (`/selected_workflow/total_nodes`).
    pub(crate) fn field_at(&self, at: &str) -> Option<&FieldModel> {
        let keys = pointer::keys(at)?;
        let (last, parents) = keys.split_last()?;
        let mut model = self;
        for key in parents {
            match &model.field(key)?.kind {
                Kind::Object(inner) => model = inner,
                _ => return None,
            }
        }
        model.field(last)
    }

    /// The field of this object called `name`.
    pub fn field(&self, name: &str) -> Option<&FieldModel> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The object stored for `{}`.
    pub(crate) fn all_defaults(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .map(|f| (f.name.clone(), Self::default_of(f)))
                .collect(),
        )
    }

    /// One line per unmodelled property at any depth, its path dotted after `prefix`:
    /// `simulation_config.tags: type array is not modelled; it gets the generic checks only`.
    pub fn warnings(&self, prefix: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .unmodelled
            .iter()
            .map(|u| {
                format!(
                    "{prefix}.{}: {}; it gets the generic checks only",
                    u.name, u.reason
                )
            })
            .collect();
        for field in &self.fields {
            if let Kind::Object(inner) = &field.kind {
                out.extend(inner.warnings(&format!("{prefix}.{}", field.name)));
            }
        }
        out
    }

    /// Every unmodelled property at any depth with its JSON pointer.
    pub(crate) fn unmodelled_paths(&self) -> Vec<(String, &UnmodelledField)> {
        let mut out: Vec<(String, &UnmodelledField)> = self
            .unmodelled
            .iter()
            .map(|u| (pointer::child("", &u.name), u))
            .collect();
        for field in &self.fields {
            if let Kind::Object(inner) = &field.kind {
                let at = pointer::child("", &field.name);
                out.extend(
                    inner
                        .unmodelled_paths()
                        .into_iter()
                        .map(|(below, u)| (format!("{at}{below}"), u)),
                );
            }
        }
        out
    }

    /// Every field with its JSON pointer, depth first: `(pointer, kind, nullable)`.
    pub(crate) fn field_paths(&self) -> Vec<(String, Kind, bool)> {
        let mut out = Vec::new();
        for field in &self.fields {
            let at = pointer::child("", &field.name);
            out.push((at.clone(), field.kind.clone(), field.nullable));
            if let Kind::Object(inner) = &field.kind {
                for (below, kind, nullable) in inner.field_paths() {
                    out.push((format!("{at}{below}"), kind, nullable));
                }
            }
        }
        out
    }
}

/// A schema keyword that constrains values in a way the models here do not read. Drawing from a
/// model that ignored one would send values the server must refuse and call it a failure, so a
/// spec that uses one is refused at load time instead.
const UNMODELLED: [&str; 11] = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "pattern",
    "format",
    "required",
    "const",
    "oneOf",
    "allOf",
];

pub(super) fn refuse_unmodelled(
    what: &str,
    schema: &Value,
    allowed: &[&str],
) -> Result<(), RunError> {
    match UNMODELLED
        .iter()
        .find(|k| !allowed.contains(k) && schema.get(**k).is_some())
    {
        Some(keyword) => Err(RunError::Spec(format!(
            "{what}: `{keyword}` is not modelled by the suite"
        ))),
        None => Ok(()),
    }
}

/// `schema` itself, or what its `$ref` points to.
pub(super) fn resolve<'a>(document: &'a Value, schema: &'a Value) -> Result<&'a Value, RunError> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => document
            .pointer(r.trim_start_matches('#'))
            .ok_or_else(|| RunError::Spec(format!("broken $ref {r}"))),
        None => Ok(schema),
    }
}

/// The schema under a `T | null` union, and whether null is allowed; a schema without a
/// union as it is.
pub(super) fn split_nullable<'a>(
    what: &str,
    schema: &'a Value,
) -> Result<(&'a Value, bool), RunError> {
    let Some(branches) = schema.get("anyOf").and_then(Value::as_array) else {
        return Ok((schema, false));
    };
    let nullable = branches.iter().any(|b| b["type"] == "null");
    let rest: Vec<&Value> = branches.iter().filter(|b| b["type"] != "null").collect();
    match rest.as_slice() {
        [one] => Ok((*one, nullable)),
        _ => Err(RunError::Spec(format!(
            "{what}: unions other than `T | null` are not modelled"
        ))),
    }
}

/// The values of an enum schema, if it is one.
pub(super) fn enum_values(schema: &Value) -> Option<Vec<String>> {
    let values = schema.get("enum").and_then(Value::as_array)?;
    Some(
        values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
    )
}

/// A string schema's `minLength` and `maxLength`.
pub(super) fn length_bounds(schema: &Value) -> (Option<usize>, Option<usize>) {
    let bound = |key: &str| schema.get(key).and_then(Value::as_u64).map(|n| n as usize);
    (bound("minLength"), bound("maxLength"))
}

/// Reads an object schema into a model the strategies can walk. A property whose schema the
/// models cannot read is kept aside in [`ObjectModel::unmodelled`], unless the contract names it
/// (`contract`: this object is a body or a field the contract names, so its properties may be).
pub(super) fn object_model(
    document: &Value,
    schema: &Value,
    depth: usize,
    contract: bool,
) -> Result<ObjectModel, RunError> {
    if depth > 8 {
        return Err(RunError::Spec(
            "request schemas nest deeper than 8 levels".into(),
        ));
    }
    let schema = resolve(document, schema)?;
    refuse_unmodelled("a request body", schema, &[])?;
    let mut model = ObjectModel::default();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            let default = property.get("default").cloned();
            let named = contract && CONTRACT_FIELDS.contains(&name.as_str());
            match field_kind(document, property, depth, named)? {
                Ok((kind, nullable)) => model.fields.push(FieldModel {
                    name: name.clone(),
                    kind,
                    nullable,
                    default,
                }),
                Err(reason) if named => {
                    return Err(RunError::Spec(format!("field {name}: {reason}")));
                }
                Err(reason) => model.unmodelled.push(UnmodelledField {
                    name: name.clone(),
                    reason,
                    default,
                }),
            }
        }
    }
    Ok(model)
}

/// A property's kind and nullability, or (inner `Err`) why the models cannot read it. The outer
/// `Err` is a document the suite cannot use at all: a broken `$ref`, nesting too deep, or an
/// unusable schema inside a property the contract names.
fn field_kind(
    document: &Value,
    property: &Value,
    depth: usize,
    named: bool,
) -> Result<Result<(Kind, bool), String>, RunError> {
    let unmodelled = |e: RunError| match e {
        RunError::Spec(why) => why,
        other => other.to_string(),
    };
    let (inner, nullable) = match split_nullable("", property) {
        Ok(split) => split,
        Err(e) => return Ok(Err(strip_what(&unmodelled(e)))),
    };
    let inner = resolve(document, inner)?;
    if let Err(e) = refuse_unmodelled("", inner, &[]) {
        return Ok(Err(strip_what(&unmodelled(e))));
    }
    let kind = if let Some(values) = enum_values(inner) {
        Kind::Enum(values)
    } else {
        match inner.get("type") {
            Some(Value::String(t)) if t == "string" => {
                let (min_len, max_len) = length_bounds(inner);
                Kind::String { min_len, max_len }
            }
            Some(Value::String(t)) if t == "integer" => Kind::Integer,
            Some(Value::String(t)) if t == "boolean" => Kind::Boolean,
            Some(Value::String(t)) if t == "object" && inner.get("properties").is_some() => {
                Kind::Object(object_model(document, inner, depth + 1, named)?)
            }
            Some(Value::String(t)) if t == "object" => Kind::AnyObject,
            Some(Value::String(t)) => return Ok(Err(format!("type {t} is not modelled"))),
            Some(Value::Array(types)) => {
                let names: Vec<&str> = types.iter().map(|t| t.as_str().unwrap_or("?")).collect();
                return Ok(Err(format!(
                    "a type list [{}] is not modelled",
                    names.join(", ")
                )));
            }
            Some(_) => return Ok(Err("a `type` that is not a string is not modelled".into())),
            None => return Ok(Err("a schema without a type is not modelled".into())),
        }
    };
    Ok(Ok((kind, nullable)))
}

/// The helpers above say `"{what}: {why}"`; called with an empty `what`, this is the `why`.
fn strip_what(message: &str) -> String {
    message.trim_start_matches(": ").to_owned()
}
