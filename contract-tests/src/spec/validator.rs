//! The response validator: one JSON Schema 2020-12 validator per documented (operation, status), compiled once from the spec with formats on. (Not the FastAPI oracle of `oracle/`, which is a server.)

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Api, Operation};
use crate::error::RunError;
use crate::pointer;

/// One compiled response validator per (operation, status).
pub struct ResponseSchemas {
    validators: BTreeMap<(Operation, u16), (String, jsonschema::Validator)>,
}

impl std::fmt::Debug for ResponseSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseSchemas")
            .field("responses", &self.validators.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ResponseSchemas {
    pub(super) fn compile(document: &Value, api: &Api) -> Result<ResponseSchemas, RunError> {
        let mut validators = BTreeMap::new();
        for op in Operation::ALL {
            let route = api.route(op);
            let at = format!(
                "/paths/{}/{}",
                pointer::escape(&route.template),
                route.method.to_lowercase()
            );
            let responses = document
                .pointer(&format!("{at}/responses"))
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
                        "#{at}/responses/{status}/content/application~1json/schema"
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
        Ok(ResponseSchemas { validators })
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

    pub(crate) fn schema_name(&self, op: Operation, status: u16) -> Option<&str> {
        self.validators.get(&(op, status)).map(|(n, _)| n.as_str())
    }

    /// The response statuses the spec documents for an operation.
    pub(crate) fn documented_statuses(&self, op: Operation) -> Vec<u16> {
        self.validators
            .keys()
            .filter(|(o, _)| *o == op)
            .map(|(_, s)| *s)
            .collect()
    }
}

fn response_schema_name(schema: &Value) -> String {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("inline schema")
        .to_owned()
}
