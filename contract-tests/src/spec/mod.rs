//! The spec at run time, the suite's one source of the API's shapes: routes and parameters ([`Api`]), request bodies ([`ObjectModel`]) and response validators ([`ResponseSchemas`]), all read from `spec/openapi.json` when a run starts.

mod api;
pub(crate) mod list_parameters;
mod model;
mod validator;

use std::path::Path;

use serde_json::Value;

use crate::error::RunError;

pub use api::Api;
pub(crate) use api::{ParamKind, Parameter, percent_encode};
pub(crate) use model::{FieldModel, Kind, ObjectModel, UnmodelledField};
pub(crate) use validator::ResponseSchemas;

/// The five operations of the API, by the spec's operation ids. Where each lives and what it
/// takes is the spec's, in [`Api`].
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
}

/// The loaded spec.
#[derive(Debug)]
pub struct Spec {
    pub document: Value,
    pub api: Api,
    pub responses: ResponseSchemas,
    pub create_body: ObjectModel,
    /// The fields PATCH may change: the properties of the update body.
    pub update_body: ObjectModel,
    /// One line per request field the suite cannot model (it gets the generic checks only):
    /// a spec that grew a field runs, and says what it could not judge.
    pub warnings: Vec<String>,
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

    pub(crate) fn from_document(document: Value) -> Result<Spec, RunError> {
        let version = document["openapi"].as_str().unwrap_or_default();
        if !version.starts_with("3.1.") {
            return Err(RunError::Spec(format!(
                "OpenAPI {} is not 3.1",
                crate::text::quoted(version)
            )));
        }
        let api = Api::read(&document)?;
        list_parameters::check_parameters(&api)?;
        let responses = ResponseSchemas::compile(&document, &api)?;
        let body_schema = |op: Operation| {
            let route = api.route(op);
            document["paths"][&route.template][route.method.to_lowercase()]
                .pointer("/requestBody/content/application~1json/schema")
                .ok_or_else(|| RunError::Spec(format!("{} has no JSON request body", op.id())))
        };
        let mut create_body =
            model::object_model(&document, body_schema(Operation::Create)?, 0, true)?;
        for name in response_only_fields(&document, &api, &create_body) {
            create_body.unmodelled.push(UnmodelledField {
                name,
                reason: "it is in responses only, not in the create body".into(),
                default: None,
            });
        }
        let update_body = model::object_model(&document, body_schema(Operation::Update)?, 0, true)?;
        require_core_fields(&create_body)?;
        let mut warnings = create_body.warnings("simulation_config");
        for line in update_body.warnings("update_simulation body") {
            if !warnings.contains(&line) {
                warnings.push(line);
            }
        }
        Ok(Spec {
            document,
            api,
            responses,
            create_body,
            update_body,
            warnings,
        })
    }

    /// The response statuses the spec documents for an operation.
    pub(crate) fn documented_statuses(&self, op: Operation) -> Vec<u16> {
        self.responses.documented_statuses(op)
    }
}

/// The create body's fields the suite's own mechanics stand on: the run's tag is written into
/// `logical_id` and `description` (the cleanup and `list.search` find records by it), and the
/// list's exact filters look in `status` and each workflow's `workflow_id`. A spec without one
/// of them is one the suite cannot use. (The update body may be narrower: the suite follows it.)
const CORE_CREATE_FIELDS: [&str; 5] = [
    "/logical_id",
    "/description",
    "/status",
    "/selected_workflow/workflow_id",
    "/counter_workflow/workflow_id",
];

fn require_core_fields(create: &ObjectModel) -> Result<(), RunError> {
    match CORE_CREATE_FIELDS
        .iter()
        .find(|at| create.field_at(at).is_none())
    {
        Some(at) => Err(RunError::Spec(format!(
            "the create body has no field {at}, which the suite needs (the contract names it)"
        ))),
        None => Ok(()),
    }
}

/// The stored config's properties that a create's 200 documents and its body does not take
/// (a field the service computes): the response schema judges them, and the suite must not
/// take them for unknown keys it sent and the server stored.
fn response_only_fields(document: &Value, api: &Api, body: &ObjectModel) -> Vec<String> {
    let route = api.route(Operation::Create);
    let step = |schema: &Value, key: &str| -> Option<Value> {
        let schema = model::resolve(document, schema).ok()?;
        schema.get("properties")?.get(key).cloned()
    };
    let config = document["paths"][&route.template][route.method.to_lowercase()]
        .pointer("/responses/200/content/application~1json/schema")
        .and_then(|s| step(s, "simulation"))
        .and_then(|s| step(&s, "simulation_config"));
    let Some(config) = config else {
        return Vec::new();
    };
    let Ok(config) = model::resolve(document, &config) else {
        return Vec::new();
    };
    config
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.keys())
        .filter(|k| body.field(k).is_none() && !body.unmodelled.iter().any(|u| &u.name == *k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn the_response_schemas_validate_formats_and_refs() {
        let spec = stored();
        let good = json!({"message": "gone"});
        assert_eq!(
            spec.responses.violations(Operation::Delete, 200, &good),
            Some(vec![])
        );
        assert!(
            !spec
                .responses
                .violations(Operation::Delete, 200, &json!({}))
                .unwrap()
                .is_empty()
        );
        let err =
            json!({"detail": [{"loc": ["body"], "msg": "m", "type": "missing", "input": null}]});
        assert_eq!(
            spec.responses.violations(Operation::Create, 422, &err),
            Some(vec![])
        );
        assert_eq!(
            spec.responses.violations(Operation::Create, 404, &err),
            None,
            "create documents no 404"
        );
        let mut sim = json!({"simulation": {"team_id": "t", "created_by": "u", "updated_by": "u",
            "created_at": "2023-11-07T05:31:56", "updated_at": "2023-11-07T05:31:56Z", "_id": "5eb7cf5a86d9755df3a6c593",
            "simulation_config": spec.create_body.all_defaults()}});
        let violations = spec
            .responses
            .violations(Operation::Create, 200, &sim)
            .unwrap();
        assert_eq!(
            violations.len(),
            1,
            "a timestamp without offset is not a date-time: {violations:?}"
        );
        sim["simulation"]["created_at"] = json!("2023-11-07T05:31:56+00:00");
        assert_eq!(
            spec.responses.violations(Operation::Create, 200, &sim),
            Some(vec![])
        );
    }

    #[test]
    fn a_spec_that_is_not_31_is_refused() {
        let mut doc = stored().document;
        doc["openapi"] = json!("3.0.3");
        assert!(matches!(Spec::from_document(doc), Err(RunError::Spec(_))));
    }

    #[test]
    fn routes_methods_and_parameters_come_from_the_spec() {
        let spec = stored();
        let api = &spec.api;
        assert_eq!(api.route(Operation::Update).method, "PATCH");
        assert_eq!(api.collection(), "/workflows/v1/simulations");
        assert_eq!(
            api.item_path("a b"),
            "/workflows/v1/simulations/a%20b",
            "the id is percent-encoded"
        );
        assert_eq!(
            api.methods()[api.item_template()],
            ["DELETE", "GET", "PATCH"]
        );
        assert_eq!(api.methods()[api.collection()], ["GET", "POST"]);
        assert_eq!(
            api.id().length_bounds(),
            Some((Some(24), Some(24))),
            "{:?}",
            api.id()
        );
        let size = api.query_parameter("size").unwrap();
        assert_eq!(size.integer_bounds(), Some((Some(1), None)));
        assert_eq!((size.clamp(0), size.clamp(10)), (1, 10));
        assert_eq!(
            api.query_parameter("status")
                .unwrap()
                .enum_values()
                .unwrap()
                .len(),
            5
        );
        assert_eq!(
            api.query_parameter("start").unwrap().kind,
            ParamKind::DateTime
        );
        let names: Vec<&str> = spec
            .update_body
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(names, ["description", "status"]);
    }

    #[test]
    fn a_constraint_the_suite_does_not_model_is_refused() {
        let mut doc = stored().document;
        doc["components"]["schemas"]["SimulationConfig-Input"]["properties"]["max_events"]["anyOf"]
            [0]["minimum"] = json!(0);
        let Err(RunError::Spec(why)) = Spec::from_document(doc) else {
            panic!("a body bound the strategies would ignore must be refused")
        };
        assert!(why.contains("minimum"), "{why}");
    }

    /// The stored spec with `property` added to the create body (and, optional, to its output).
    fn with_new_field(name: &str, property: Value) -> Result<Spec, RunError> {
        let mut doc = stored().document;
        for schema in ["SimulationConfig-Input", "SimulationConfig-Output"] {
            doc["components"]["schemas"][schema]["properties"][name] = property.clone();
        }
        Spec::from_document(doc)
    }

    fn warning(field: &str, why: &str) -> String {
        format!("simulation_config.{field}: {why}; it gets the generic checks only")
    }

    #[test]
    fn a_new_field_the_suite_cannot_model_is_a_warning_not_a_refusal() {
        for (property, why) in [
            (
                json!({"type": "array", "items": {"type": "string"}}),
                "type array is not modelled",
            ),
            (
                json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}),
                "`required` is not modelled by the suite",
            ),
            (
                json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
                "unions other than `T | null` are not modelled",
            ),
            (
                json!({"type": "integer", "minimum": 0}),
                "`minimum` is not modelled by the suite",
            ),
            (
                json!({"type": ["string", "null"]}),
                "a type list [string, null] is not modelled",
            ),
            (
                json!({"default": 3}),
                "a schema without a type is not modelled",
            ),
        ] {
            let spec = with_new_field("extra", property.clone())
                .unwrap_or_else(|e| panic!("{property}: {e}"));
            assert_eq!(spec.warnings, [warning("extra", why)], "{property}");
            assert!(spec.create_body.field("extra").is_none(), "never drawn");
            assert_eq!(spec.create_body.unmodelled[0].name, "extra");
            assert_eq!(spec.create_body.all_defaults().get("extra"), None);
        }
    }

    #[test]
    fn a_nested_new_field_is_named_by_its_dotted_path_and_keeps_its_default() {
        let mut doc = stored().document;
        doc["components"]["schemas"]["SimulationWorkflowDetails-Input"]["properties"]["labels"] =
            json!({"type": "array", "default": []});
        let spec = Spec::from_document(doc).unwrap();
        assert_eq!(
            spec.warnings,
            [
                warning("counter_workflow.labels", "type array is not modelled"),
                warning("selected_workflow.labels", "type array is not modelled"),
            ]
        );
        let paths: Vec<(String, Option<Value>)> = spec
            .create_body
            .unmodelled_paths()
            .into_iter()
            .map(|(at, u)| (at, u.default.clone()))
            .collect();
        assert_eq!(
            paths,
            [
                ("/counter_workflow/labels".to_owned(), Some(json!([]))),
                ("/selected_workflow/labels".to_owned(), Some(json!([]))),
            ]
        );
    }

    #[test]
    fn a_field_the_contract_names_changing_type_is_still_refused() {
        let mut doc = stored().document;
        doc["components"]["schemas"]["SimulationConfig-Input"]["properties"]["max_events"] =
            json!({"type": "array"});
        let Err(RunError::Spec(why)) = Spec::from_document(doc) else {
            panic!("max_events is the contract's; its rules could no longer be checked")
        };
        assert_eq!(why, "field max_events: type array is not modelled");
        // A field of a new object may share a contract field's name; it is not the contract's.
        let spec = with_new_field(
            "owner",
            json!({"type": "object", "properties": {"name": {"type": "array"}}}),
        )
        .unwrap();
        assert_eq!(
            spec.warnings,
            [warning("owner.name", "type array is not modelled")]
        );
    }

    #[test]
    fn a_field_only_in_responses_is_known_and_said() {
        let mut doc = stored().document;
        doc["components"]["schemas"]["SimulationConfig-Output"]["properties"]["progress"] =
            json!({"type": "integer"});
        let spec = Spec::from_document(doc).unwrap();
        assert_eq!(
            spec.warnings,
            [warning(
                "progress",
                "it is in responses only, not in the create body"
            )]
        );
        assert!(spec.create_body.field("progress").is_none());
    }

    #[test]
    fn a_spec_without_a_core_field_is_refused() {
        for (schema, field) in [
            ("SimulationConfig-Input", "logical_id"),
            ("SimulationConfig-Input", "description"),
            ("SimulationConfig-Input", "status"),
            ("SimulationWorkflowDetails-Input", "workflow_id"),
        ] {
            let mut doc = stored().document;
            doc["components"]["schemas"][schema]["properties"]
                .as_object_mut()
                .unwrap()
                .remove(field);
            let Err(RunError::Spec(why)) = Spec::from_document(doc) else {
                panic!("{schema} without {field} must be refused")
            };
            assert!(why.contains(field), "{why}");
        }
    }

    #[test]
    fn a_spec_without_warnings_says_none() {
        assert!(stored().warnings.is_empty());
    }

    #[test]
    fn a_list_rule_whose_parameter_is_gone_is_refused() {
        let mut doc = stored().document;
        let parameters = doc["paths"]["/workflows/v1/simulations"]["get"]["parameters"]
            .as_array_mut()
            .unwrap();
        parameters.retain(|p| p["name"] != "search");
        let Err(RunError::Spec(why)) = Spec::from_document(doc) else {
            panic!("the search rule has no parameter to bind to")
        };
        assert!(why.contains("search"), "{why}");
    }
}
