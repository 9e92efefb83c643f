//! The spec at run time: response validators compiled once, and the request models the strategies are derived from.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::error::RunError;

/// The five operations of the API, by the spec's operation ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    Create,
    List,
    Get,
    Update,
    Delete,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Self::Create,
        Self::List,
        Self::Get,
        Self::Update,
        Self::Delete,
    ];

    /// The position in [`Operation::ALL`], for per-operation tables.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn id(self) -> &'static str {
        match self {
            Self::Create => "create_simulation",
            Self::List => "list_simulations",
            Self::Get => "get_simulation",
            Self::Update => "update_simulation",
            Self::Delete => "delete_simulation",
        }
    }

    pub fn method(self) -> &'static str {
        match self {
            Self::Create => "POST",
            Self::List | Self::Get => "GET",
            Self::Update => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    pub fn path_template(self) -> &'static str {
        match self {
            Self::Create | Self::List => "/workflows/v1/simulations",
            _ => "/workflows/v1/simulations/{simulation_id}",
        }
    }
}

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
    pub fn field_at(&self, pointer: &str) -> Option<&FieldModel> {
        let (first, rest) = match pointer.strip_prefix('/')?.split_once('/') {
            Some((first, rest)) => (first, Some(rest)),
            None => (pointer.strip_prefix('/')?, None),
        };
        let field = self.fields.iter().find(|f| f.name == first)?;
        match (rest, &field.kind) {
            (None, _) => Some(field),
            (Some(rest), Kind::Object(inner)) => inner.field_at(&format!("/{rest}")),
            (Some(_), _) => None,
        }
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
}

/// One compiled response validator per (operation, status).
pub struct Oracle {
    validators: BTreeMap<(Operation, u16), (String, jsonschema::Validator)>,
}

impl std::fmt::Debug for Oracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oracle")
            .field("responses", &self.validators.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The loaded spec: raw document, oracle and request models.
#[derive(Debug)]
pub struct Spec {
    pub document: Value,
    pub oracle: Oracle,
    pub create_body: ObjectModel,
    pub update_body: ObjectModel,
}

impl Spec {
    pub fn load(path: &Path) -> Result<Spec, RunError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunError::SpecUnreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let document: Value =
            serde_json::from_str(&text).map_err(|e| RunError::SpecUnreadable {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Spec::from_document(document)
    }

    pub fn from_document(document: Value) -> Result<Spec, RunError> {
        let version = document["openapi"].as_str().unwrap_or_default();
        if !version.starts_with("3.1.") {
            return Err(RunError::Spec(format!("OpenAPI {version:?} is not 3.1")));
        }
        let oracle = Oracle::compile(&document)?;
        let create_schema = operation(&document, Operation::Create)?
            .pointer("/requestBody/content/application~1json/schema")
            .ok_or_else(|| RunError::Spec("create_simulation has no JSON request body".into()))?;
        let update_schema = operation(&document, Operation::Update)?
            .pointer("/requestBody/content/application~1json/schema")
            .ok_or_else(|| RunError::Spec("update_simulation has no JSON request body".into()))?;
        let create_body = object_model(&document, create_schema, 0)?;
        let update_body = object_model(&document, update_schema, 0)?;
        Ok(Spec {
            document,
            oracle,
            create_body,
            update_body,
        })
    }

    /// The response statuses the spec documents for an operation.
    pub fn documented_statuses(&self, op: Operation) -> Vec<u16> {
        self.oracle
            .validators
            .keys()
            .filter(|(o, _)| *o == op)
            .map(|(_, s)| *s)
            .collect()
    }
}

impl Oracle {
    fn compile(document: &Value) -> Result<Oracle, RunError> {
        let mut validators = BTreeMap::new();
        for op in Operation::ALL {
            let responses = operation(document, op)?
                .get("responses")
                .and_then(Value::as_object)
                .ok_or_else(|| RunError::Spec(format!("{} has no responses", op.id())))?;
            for (status, response) in responses {
                let Ok(code) = status.parse::<u16>() else {
                    continue;
                };
                let Some(schema) = response.pointer("/content/application~1json/schema") else {
                    continue;
                };
                // The whole document is the root resource, so `#/components/...` refs resolve as written.
                let mut root = document.clone();
                root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
                root["$ref"] = match schema.get("$ref") {
                    Some(r) if schema.as_object().is_some_and(|m| m.len() == 1) => r.clone(),
                    _ => json!(format!(
                        "#/paths/{}/{}/responses/{status}/content/application~1json/schema",
                        crate::pointer::escape(op.path_template()),
                        op.method().to_lowercase()
                    )),
                };
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&root)
                    .map_err(|e| {
                        RunError::Spec(format!("response {status} of {}: {e}", op.id()))
                    })?;
                validators.insert((op, code), (response_schema_name(schema), validator));
            }
        }
        Ok(Oracle { validators })
    }

    /// The schema violations of a response body, or `None` when the status is not documented.
    pub fn violations(
        &self,
        op: Operation,
        status: u16,
        body: &Value,
    ) -> Option<Vec<(String, String)>> {
        let (_, validator) = self.validators.get(&(op, status))?;
        // Nearly every response is valid: the boolean pass skips building error reports.
        if validator.is_valid(body) {
            return Some(Vec::new());
        }
        Some(
            validator
                .iter_errors(body)
                .map(|e| (e.instance_path().to_string(), e.to_string()))
                .collect(),
        )
    }

    pub fn schema_name(&self, op: Operation, status: u16) -> Option<&str> {
        self.validators.get(&(op, status)).map(|(n, _)| n.as_str())
    }
}

fn response_schema_name(schema: &Value) -> String {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("inline schema")
        .to_owned()
}

fn operation(document: &Value, op: Operation) -> Result<&Value, RunError> {
    document
        .get("paths")
        .and_then(|p| p.get(op.path_template()))
        .and_then(|item| item.get(op.method().to_lowercase()))
        .filter(|o| o["operationId"] == op.id())
        .ok_or_else(|| {
            RunError::Spec(format!(
                "no operation {} at {} {}",
                op.id(),
                op.method(),
                op.path_template()
            ))
        })
}

fn resolve<'a>(document: &'a Value, schema: &'a Value) -> Result<&'a Value, RunError> {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => document
            .pointer(r.trim_start_matches('#'))
            .ok_or_else(|| RunError::Spec(format!("broken $ref {r}"))),
        None => Ok(schema),
    }
}

/// Reads an object schema into a model the strategies can walk.
fn object_model(document: &Value, schema: &Value, depth: usize) -> Result<ObjectModel, RunError> {
    if depth > 8 {
        return Err(RunError::Spec(
            "request schemas nest deeper than 8 levels".into(),
        ));
    }
    let schema = resolve(document, schema)?;
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
    let default = property.get("default").cloned();
    let (inner, nullable) = match property.get("anyOf").and_then(Value::as_array) {
        Some(branches) => {
            let nullable = branches.iter().any(|b| b["type"] == "null");
            let rest: Vec<&Value> = branches.iter().filter(|b| b["type"] != "null").collect();
            match rest.as_slice() {
                [one] => (*one, nullable),
                _ => {
                    return Err(RunError::Spec(format!(
                        "field {name}: unions other than `T | null` are not modelled"
                    )));
                }
            }
        }
        None => (property, false),
    };
    let inner = resolve(document, inner)?;
    let kind = if let Some(values) = inner.get("enum").and_then(Value::as_array) {
        Kind::Enum(
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )
    } else {
        match inner.get("type").and_then(Value::as_str) {
            Some("string") => Kind::String {
                min_len: inner
                    .get("minLength")
                    .and_then(Value::as_u64)
                    .map(|n| n as usize),
                max_len: inner
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .map(|n| n as usize),
            },
            Some("integer") => Kind::Integer,
            Some("boolean") => Kind::Boolean,
            Some("object") if inner.get("properties").is_some() => {
                Kind::Object(object_model(document, inner, depth + 1)?)
            }
            Some("object") => Kind::AnyObject,
            other => {
                return Err(RunError::Spec(format!(
                    "field {name}: type {other:?} is not modelled"
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> Spec {
        Spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json")).unwrap()
    }

    #[test]
    fn the_create_model_follows_the_spec() {
        let spec = stored();
        let names: Vec<&str> = spec
            .create_body
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names.len(), 9, "{names:?}");
        let selected = spec
            .create_body
            .fields
            .iter()
            .find(|f| f.name == "selected_workflow")
            .unwrap();
        assert!(!selected.nullable);
        let Kind::Object(inner) = &selected.kind else {
            panic!("selected_workflow is an object")
        };
        let workflow_id = inner
            .fields
            .iter()
            .find(|f| f.name == "workflow_id")
            .unwrap();
        assert_eq!(
            workflow_id.kind,
            Kind::String {
                min_len: Some(24),
                max_len: Some(24)
            }
        );
        let status = spec
            .create_body
            .fields
            .iter()
            .find(|f| f.name == "status")
            .unwrap();
        assert!(matches!(&status.kind, Kind::Enum(v) if v.len() == 5));
        assert_eq!(status.default, Some(json!("pending")));
        assert_eq!(spec.create_body.all_defaults()["max_events"], json!(500));
        let nested = spec
            .create_body
            .field_at("/counter_workflow/total_nodes")
            .unwrap();
        assert_eq!(
            (nested.name.as_str(), &nested.kind),
            ("total_nodes", &Kind::Integer)
        );
        assert!(spec.create_body.field_at("/max_events/x").is_none());
        assert!(spec.create_body.field_at("/nothing").is_none());
    }

    #[test]
    fn the_oracle_validates_formats_and_refs() {
        let spec = stored();
        let good = json!({"message": "gone"});
        assert_eq!(
            spec.oracle.violations(Operation::Delete, 200, &good),
            Some(vec![])
        );
        assert!(
            !spec
                .oracle
                .violations(Operation::Delete, 200, &json!({}))
                .unwrap()
                .is_empty()
        );
        let err =
            json!({"detail": [{"loc": ["body"], "msg": "m", "type": "missing", "input": null}]});
        assert_eq!(
            spec.oracle.violations(Operation::Create, 422, &err),
            Some(vec![])
        );
        assert_eq!(
            spec.oracle.violations(Operation::Create, 404, &err),
            None,
            "create documents no 404"
        );
        let mut sim = json!({"simulation": {"team_id": "t", "created_by": "u", "updated_by": "u",
            "created_at": "2023-11-07T05:31:56", "updated_at": "2023-11-07T05:31:56Z", "_id": "5eb7cf5a86d9755df3a6c593",
            "simulation_config": spec.create_body.all_defaults()}});
        let violations = spec
            .oracle
            .violations(Operation::Create, 200, &sim)
            .unwrap();
        assert_eq!(
            violations.len(),
            1,
            "a timestamp without offset is not a date-time: {violations:?}"
        );
        sim["simulation"]["created_at"] = json!("2023-11-07T05:31:56+00:00");
        assert_eq!(
            spec.oracle.violations(Operation::Create, 200, &sim),
            Some(vec![])
        );
    }

    #[test]
    fn a_spec_that_is_not_31_is_refused() {
        let mut doc = stored().document;
        doc["openapi"] = json!("3.0.3");
        assert!(matches!(Spec::from_document(doc), Err(RunError::Spec(_))));
    }
}
