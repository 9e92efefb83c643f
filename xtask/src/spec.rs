//! Loading and validating `spec/openapi.json`: the checks every command runs before it trusts the document.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde_json::Value;

/// One thing wrong with a spec document, phrased for a single line of output.
#[derive(Debug, PartialEq, Eq)]
pub enum SpecProblem {
    Unreadable {
        path: String,
        reason: String,
    },
    NotJson {
        path: String,
        reason: String,
    },
    NotAnObject,
    MissingVersion,
    UnsupportedVersion(String),
    NoPaths,
    MissingOperationId {
        method: String,
        path: String,
    },
    DuplicateOperationId {
        id: String,
        first: String,
        second: String,
    },
    BrokenRef {
        reference: String,
        at: String,
    },
    ExternalRef {
        reference: String,
        at: String,
    },
}

impl fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { path, reason } => write!(f, "cannot read spec {path}: {reason}"),
            Self::NotJson { path, reason } => write!(f, "spec {path} is not valid JSON: {reason}"),
            Self::NotAnObject => write!(f, "spec is not a JSON object"),
            Self::MissingVersion => write!(f, "spec has no `openapi` version field"),
            Self::UnsupportedVersion(v) => {
                write!(f, "unsupported OpenAPI version {v}: expected 3.1.x")
            }
            Self::NoPaths => write!(f, "spec has no `paths` object"),
            Self::MissingOperationId { method, path } => {
                write!(f, "operation {method} {path} has no operationId")
            }
            Self::DuplicateOperationId { id, first, second } => {
                write!(f, "duplicate operationId `{id}` on {first} and {second}")
            }
            Self::BrokenRef { reference, at } => {
                write!(f, "broken $ref `{reference}` at {at}: nothing there")
            }
            Self::ExternalRef { reference, at } => {
                write!(
                    f,
                    "external $ref `{reference}` at {at}: only local `#/...` refs are supported"
                )
            }
        }
    }
}

impl std::error::Error for SpecProblem {}

pub const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Reads and parses a spec file; it is not validated yet.
pub fn read_spec(path: &Path) -> Result<Value, SpecProblem> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SpecProblem::Unreadable {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| SpecProblem::NotJson {
        path: shown,
        reason: e.to_string(),
    })
}

/// Reads a spec and checks it: OpenAPI 3.1, an operationId on every operation and unique,
/// and every `$ref` pointing at something inside the document.
pub fn load_spec(path: &Path) -> Result<Value, SpecProblem> {
    let doc = read_spec(path)?;
    validate(&doc)?;
    Ok(doc)
}

pub fn validate(doc: &Value) -> Result<(), SpecProblem> {
    let obj = doc.as_object().ok_or(SpecProblem::NotAnObject)?;
    let version = obj
        .get("openapi")
        .or_else(|| obj.get("swagger"))
        .ok_or(SpecProblem::MissingVersion)?;
    let version = match version {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if !version.starts_with("3.1.") {
        return Err(SpecProblem::UnsupportedVersion(version));
    }
    let paths = obj
        .get("paths")
        .and_then(Value::as_object)
        .ok_or(SpecProblem::NoPaths)?;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (path, item) in paths {
        for method in HTTP_METHODS {
            let Some(op) = item.get(method) else { continue };
            let here = format!("{} {path}", method.to_uppercase());
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or_else(|| SpecProblem::MissingOperationId {
                    method: method.to_uppercase(),
                    path: path.clone(),
                })?;
            if let Some(first) = seen.insert(id.to_owned(), here.clone()) {
                return Err(SpecProblem::DuplicateOperationId {
                    id: id.to_owned(),
                    first,
                    second: here,
                });
            }
        }
    }
    check_refs(doc, doc, &mut String::from("#"))
}

fn check_refs(root: &Value, node: &Value, at: &mut String) -> Result<(), SpecProblem> {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let Some(pointer) = reference.strip_prefix('#') else {
                    return Err(SpecProblem::ExternalRef {
                        reference: reference.clone(),
                        at: at.clone(),
                    });
                };
                if root.pointer(pointer).is_none() {
                    return Err(SpecProblem::BrokenRef {
                        reference: reference.clone(),
                        at: at.clone(),
                    });
                }
            }
            for (key, child) in map {
                let len = at.len();
                at.push('/');
                at.push_str(&contract_tests::pointer::escape(key));
                check_refs(root, child, at)?;
                at.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                check_refs(root, child, at)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The stored form of a spec: keys sorted, two-space indent, one trailing newline.
/// Sorting keys makes every diff of the document read as a change of content, never of order.
pub fn normalised_text(doc: &Value) -> String {
    // serde_json's Map is a BTreeMap here (no preserve_order), so keys come out sorted.
    let mut text =
        serde_json::to_string_pretty(doc).expect("a serde_json::Value always serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}}}},
            "components": {"schemas": {"A": {"type": "object"}}}
        })
    }

    #[test]
    fn accepts_a_minimal_31_document() {
        assert_eq!(validate(&minimal()), Ok(()));
    }

    #[test]
    fn rejects_openapi_2() {
        let mut doc = minimal();
        doc["openapi"] = json!("2.0");
        assert_eq!(
            validate(&doc),
            Err(SpecProblem::UnsupportedVersion("2.0".into()))
        );
        let mut swagger = minimal();
        swagger.as_object_mut().unwrap().remove("openapi");
        swagger["swagger"] = json!("2.0");
        assert_eq!(
            validate(&swagger),
            Err(SpecProblem::UnsupportedVersion("2.0".into()))
        );
    }

    #[test]
    fn rejects_a_broken_ref_naming_where_it_is() {
        let mut doc = minimal();
        doc["components"]["schemas"]
            .as_object_mut()
            .unwrap()
            .remove("A");
        let err = validate(&doc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "broken $ref `#/components/schemas/A` at \
             #/paths/~1a/get/responses/200/content/application~1json/schema: nothing there"
        );
    }

    #[test]
    fn rejects_external_refs() {
        let mut doc = minimal();
        doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
            json!({"$ref": "other.json#/A"});
        assert!(matches!(
            validate(&doc),
            Err(SpecProblem::ExternalRef { .. })
        ));
    }

    #[test]
    fn rejects_duplicate_and_missing_operation_ids() {
        let mut doc = minimal();
        doc["paths"]["/b"] = doc["paths"]["/a"].clone();
        assert!(
            matches!(validate(&doc), Err(SpecProblem::DuplicateOperationId { id, .. }) if id == "a")
        );
        let mut doc = minimal();
        doc["paths"]["/a"]["get"]
            .as_object_mut()
            .unwrap()
            .remove("operationId");
        assert!(matches!(
            validate(&doc),
            Err(SpecProblem::MissingOperationId { .. })
        ));
    }

    #[test]
    fn the_stored_spec_is_valid_and_normalised() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
        let doc = load_spec(&path).expect("spec/openapi.json is valid");
        let stored = std::fs::read_to_string(&path).unwrap();
        assert!(
            stored == normalised_text(&doc),
            "spec/openapi.json is not in normalised form (sorted keys, 2-space indent)"
        );
    }
}
