//! Where the API lives and what its parameters accept, as the spec says: each operation's method and path, the methods of each path (a 405's `Allow`), the item path's id, and the list's query parameters with their types and bounds; and requests built the way the spec routes them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Operation;
use super::model::{enum_values, length_bounds, refuse_unmodelled, resolve, split_nullable};
use crate::error::RunError;

/// The methods a path item may hold, as OpenAPI names them.
const PATH_ITEM_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where one operation lives.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Upper case, as it is sent.
    pub method: String,
    /// The path as the spec writes it, `{name}` standing for a path parameter.
    pub template: String,
}

/// What a parameter accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    Integer {
        minimum: Option<i64>,
        maximum: Option<i64>,
    },
    String {
        min_len: Option<usize>,
        max_len: Option<usize>,
    },
    /// A string with `format: date-time`.
    DateTime,
    Enum(Vec<String>),
}

/// A query or path parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub kind: ParamKind,
    pub default: Option<Value>,
}

impl Parameter {
    /// `(minimum, maximum)` of an integer parameter.
    pub(crate) fn integer_bounds(&self) -> Option<(Option<i64>, Option<i64>)> {
        match self.kind {
            ParamKind::Integer { minimum, maximum } => Some((minimum, maximum)),
            _ => None,
        }
    }

    /// `(minLength, maxLength)` of a string parameter.
    pub(crate) fn length_bounds(&self) -> Option<(Option<usize>, Option<usize>)> {
        match self.kind {
            ParamKind::String { min_len, max_len } => Some((min_len, max_len)),
            _ => None,
        }
    }

    pub(crate) fn enum_values(&self) -> Option<&[String]> {
        match &self.kind {
            ParamKind::Enum(values) => Some(values),
            _ => None,
        }
    }

    /// The value nearest to `wanted` that an integer parameter accepts.
    pub fn clamp(&self, wanted: i64) -> i64 {
        let (minimum, maximum) = self.integer_bounds().unwrap_or_default();
        let at_least = minimum.map_or(wanted, |m| wanted.max(m));
        maximum.map_or(at_least, |m| at_least.min(m))
    }
}

/// The API's routes and parameters as the spec gives them. The suite's model, which
/// [`Api::read`] checks, is the contract's: one collection path (create, list) and one item
/// path (get, update, delete) with one id parameter.
#[derive(Debug, Clone)]
pub struct Api {
    /// Indexed by [`Operation::index`].
    routes: Vec<Route>,
    /// Every path with the methods it supports, upper case and sorted.
    methods: BTreeMap<String, Vec<String>>,
    /// The item path's parameter.
    id: Parameter,
    /// The list's query parameters, in the spec's order.
    query: Vec<Parameter>,
}

impl Api {
    pub(super) fn read(document: &Value) -> Result<Api, RunError> {
        let paths = document
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| RunError::Spec("no paths".into()))?;
        let mut routes = Vec::new();
        for op in Operation::ALL {
            let found: Vec<Route> = paths
                .iter()
                .flat_map(|(template, item)| {
                    PATH_ITEM_METHODS
                        .iter()
                        .filter(|m| item[**m]["operationId"] == op.id())
                        .map(|m| Route {
                            method: m.to_uppercase(),
                            template: template.clone(),
                        })
                })
                .collect();
            match <[Route; 1]>::try_from(found) {
                Ok([route]) => routes.push(route),
                Err(found) => {
                    return Err(RunError::Spec(format!(
                        "operation {} appears {} times, not once",
                        op.id(),
                        found.len()
                    )));
                }
            }
        }
        let methods = paths
            .iter()
            .map(|(template, item)| {
                let mut supported: Vec<String> = PATH_ITEM_METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_uppercase())
                    .collect();
                supported.sort();
                (template.clone(), supported)
            })
            .collect();
        let route = |op: Operation| &routes[op.index()];
        for (op, same_as) in [
            (Operation::List, Operation::Create),
            (Operation::Update, Operation::Get),
            (Operation::Delete, Operation::Get),
        ] {
            if route(op).template != route(same_as).template {
                return Err(RunError::Spec(format!(
                    "{} is at {} but {} at {}: the suite models one collection path (create, list) and one item path (get, update, delete)",
                    op.id(),
                    route(op).template,
                    same_as.id(),
                    route(same_as).template
                )));
            }
        }
        if route(Operation::Create).template.contains('{') {
            return Err(RunError::Spec(format!(
                "the collection path {} has a path parameter",
                route(Operation::Create).template
            )));
        }
        let item_parameter = |op: Operation| -> Result<Parameter, RunError> {
            let r = route(op);
            let item = &paths[&r.template];
            let declared = item[r.method.to_lowercase()]["parameters"]
                .as_array()
                .into_iter()
                .chain(item["parameters"].as_array())
                .flatten()
                .filter(|p| p["in"] == "path");
            let parsed = declared
                .map(|p| parameter(document, op, p))
                .collect::<Result<Vec<_>, _>>()?;
            match <[Parameter; 1]>::try_from(parsed) {
                Ok([id]) if r.template.contains(&format!("{{{}}}", id.name)) => Ok(id),
                _ => Err(RunError::Spec(format!(
                    "{} at {}: the suite models an item path with exactly one path parameter",
                    op.id(),
                    r.template
                ))),
            }
        };
        let id = item_parameter(Operation::Get)?;
        for op in [Operation::Update, Operation::Delete] {
            if item_parameter(op)? != id {
                return Err(RunError::Spec(format!(
                    "{} describes the item path's id unlike get_simulation does",
                    op.id()
                )));
            }
        }
        let list = route(Operation::List);
        let query = paths[&list.template][list.method.to_lowercase()]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| parameter(document, Operation::List, p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Api {
            routes,
            methods,
            id,
            query,
        })
    }

    pub fn route(&self, op: Operation) -> &Route {
        &self.routes[op.index()]
    }

    /// The path of create and list.
    pub fn collection(&self) -> &str {
        &self.route(Operation::Create).template
    }

    /// The item path with its id parameter.
    pub(crate) fn item_template(&self) -> &str {
        &self.route(Operation::Get).template
    }

    /// The item path's id parameter (`simulation_id`).
    pub fn id(&self) -> &Parameter {
        &self.id
    }

    /// Every path with the methods the spec gives it, upper case and sorted.
    pub(crate) fn methods(&self) -> &BTreeMap<String, Vec<String>> {
        &self.methods
    }

    /// The list's query parameters, in the spec's order.
    pub(crate) fn query_parameters(&self) -> &[Parameter] {
        &self.query
    }

    pub(crate) fn query_parameter(&self, name: &str) -> Option<&Parameter> {
        self.query.iter().find(|p| p.name == name)
    }

    /// The item path for `id`, percent-encoded, whatever its length.
    pub(crate) fn item_path(&self, id: &str) -> String {
        self.item_template()
            .replace(&format!("{{{}}}", self.id.name), &percent_encode(id))
    }

    /// Where `op` is sent: the collection, or the item path for `id`.
    pub fn path(&self, op: Operation, id: &str) -> String {
        if self.route(op).template == self.collection() {
            self.collection().to_owned()
        } else {
            self.item_path(id)
        }
    }
}

/// Reads one parameter. A keyword the suite does not model is refused, as for bodies.
fn parameter(document: &Value, op: Operation, declared: &Value) -> Result<Parameter, RunError> {
    let name = declared["name"]
        .as_str()
        .ok_or_else(|| RunError::Spec(format!("a parameter of {} has no name", op.id())))?;
    let what = format!("parameter {name} of {}", op.id());
    let schema = declared
        .get("schema")
        .ok_or_else(|| RunError::Spec(format!("{what} has no schema")))?;
    let (inner, _) = split_nullable(&what, schema)?;
    let inner = resolve(document, inner)?;
    let kind = if let Some(values) = enum_values(inner) {
        refuse_unmodelled(&what, inner, &[])?;
        ParamKind::Enum(values)
    } else {
        match (inner["type"].as_str(), inner["format"].as_str()) {
            (Some("integer"), _) => {
                refuse_unmodelled(&what, inner, &["minimum", "maximum"])?;
                let bound = |key: &str| match inner.get(key) {
                    None => Ok(None),
                    Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                        RunError::Spec(format!("{what}: {key} {v} is not an integer"))
                    }),
                };
                ParamKind::Integer {
                    minimum: bound("minimum")?,
                    maximum: bound("maximum")?,
                }
            }
            (Some("string"), Some("date-time")) => {
                refuse_unmodelled(&what, inner, &["format"])?;
                ParamKind::DateTime
            }
            (Some("string"), _) => {
                refuse_unmodelled(&what, inner, &[])?;
                let (min_len, max_len) = length_bounds(inner);
                ParamKind::String { min_len, max_len }
            }
            (other, _) => {
                return Err(RunError::Spec(format!(
                    "{what}: type {} is not modelled",
                    other.unwrap_or("(none)")
                )));
            }
        }
    };
    Ok(Parameter {
        name: name.to_owned(),
        kind,
        default: schema.get("default").cloned(),
    })
}

/// Percent-encodes a path segment or a query value (RFC 3986 unreserved characters stay).
pub(crate) fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
