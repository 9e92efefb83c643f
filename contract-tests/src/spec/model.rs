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
}

impl ObjectModel {
    /// What the server stores for a field that was not sent.
    pub fn default_of(field: &FieldModel) -> Value {
        match (&field.default, &field.kind) {
            (Some(d), _) => d.clone(),
            (None, Kind::Object(model)) => model.all_defaults(),
            (None, _) => Value::Null,
        }
    }

    /// The field a JSON pointer into a body of this model names (`/selected_workflow/total_nodes`).
    pub fn field_at(&self, at: &str) -> Option<&FieldModel> {
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
    pub fn all_defaults(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .map(|f| (f.name.clone(), Self::default_of(f)))
                .collect(),
        )
    }

    /// Every field with its JSON pointer, depth first: `(pointer, kind, nullable)`.
    pub fn field_paths(&self) -> Vec<(String, Kind, bool)> {
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

/// Reads an object schema into a model the strategies can walk.
pub(super) fn object_model(
    document: &Value,
    schema: &Value,
    depth: usize,
) -> Result<ObjectModel, RunError> {
    if depth > 8 {
        return Err(RunError::Spec(
            "request schemas nest deeper than 8 levels".into(),
        ));
    }
    let schema = resolve(document, schema)?;
    refuse_unmodelled("a request body", schema, &[])?;
    let mut fields = Vec::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            fields.push(field_model(document, name, property, depth)?);
        }
    }
    Ok(ObjectModel { fields })
}

fn field_model(
    document: &Value,
    name: &str,
    property: &Value,
    depth: usize,
) -> Result<FieldModel, RunError> {
    let what = format!("field {name}");
    let default = property.get("default").cloned();
    let (inner, nullable) = split_nullable(&what, property)?;
    let inner = resolve(document, inner)?;
    refuse_unmodelled(&what, inner, &[])?;
    let kind = if let Some(values) = enum_values(inner) {
        Kind::Enum(values)
    } else {
        match inner.get("type").and_then(Value::as_str) {
            Some("string") => {
                let (min_len, max_len) = length_bounds(inner);
                Kind::String { min_len, max_len }
            }
            Some("integer") => Kind::Integer,
            Some("boolean") => Kind::Boolean,
            Some("object") if inner.get("properties").is_some() => {
                Kind::Object(object_model(document, inner, depth + 1)?)
            }
            Some("object") => Kind::AnyObject,
            other => {
                return Err(RunError::Spec(format!(
                    "{what}: type {other:?} is not modelled"
                )));
            }
        }
    };
    Ok(FieldModel {
        name: name.to_owned(),
        kind,
        nullable,
        default,
    })
}
