//! The generated types' JSON Schemas (schemars) against the spec's components: which constraints the Rust types do not carry.
//!
//! Every constraint of a spec component that the derived schema lacks is probed: a sample that
//! breaks it is decoded into the Rust type. The resulting table is `SCHEMA_GAPS.md`, which the
//! crate docs include; regenerate it with `SNAPSHOTS=overwrite cargo test -p interactly-simulations-client`.

use std::collections::BTreeSet;

use interactly_simulations_client::types;
use serde_json::{Value, json};

type Decode = fn(Value) -> Result<Value, String>;

fn decode<T: serde::de::DeserializeOwned + serde::Serialize>(v: Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v).map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(typed).expect("generated types serialise"))
}

struct Covered {
    component: &'static str,
    rust_name: &'static str,
    schema: Value,
    sample: Value,
    decode: Decode,
}

macro_rules! covered {
    ($component:literal, $ty:ty, $sample:expr) => {
        Covered {
            component: $component,
            rust_name: stringify!($ty),
            schema: serde_json::to_value(schemars::schema_for!($ty)).unwrap(),
            sample: $sample,
            decode: decode::<$ty>,
        }
    };
}

fn workflow_out() -> Value {
    json!({"workflow_id": null, "dynamic_variables": {}, "name": null, "total_events": 0,
           "total_nodes": 0, "total_duration_seconds": 0, "run_id": null})
}

fn config_out() -> Value {
    json!({"logical_id": null, "description": null, "selected_workflow": workflow_out(), "counter_workflow": workflow_out(),
           "timeout_seconds": null, "max_events": 500, "number_of_simulations": 1, "stop_on_failure": false, "status": "pending"})
}

fn simulation() -> Value {
    json!({"team_id": "t", "created_by": "u", "updated_by": "u", "created_at": "2023-11-07T05:31:56Z",
           "updated_at": "2023-11-07T05:31:56Z", "_id": "5eb7cf5a86d9755df3a6c593", "simulation_config": config_out()})
}

fn validation_error() -> Value {
    json!({"loc": ["body"], "msg": "Field required", "type": "missing", "input": null})
}

fn covered_types() -> Vec<Covered> {
    vec![
        covered!(
            "SimulationStatus",
            types::SimulationStatus,
            json!("pending")
        ),
        covered!(
            "SimulationWorkflowDetails-Input",
            types::SimulationWorkflowDetailsInput,
            json!({})
        ),
        covered!(
            "SimulationWorkflowDetails-Output",
            types::SimulationWorkflowDetailsOutput,
            workflow_out()
        ),
        covered!(
            "SimulationConfig-Input",
            types::SimulationConfigInput,
            json!({})
        ),
        covered!(
            "SimulationConfig-Output",
            types::SimulationConfigOutput,
            config_out()
        ),
        covered!("SimulationsModel", types::SimulationsModel, simulation()),
        covered!(
            "SimulationResponse",
            types::SimulationResponse,
            json!({"simulation": simulation()})
        ),
        covered!(
            "SimulationsListResponse",
            types::SimulationsListResponse,
            json!({"simulations": [simulation()], "total": 1})
        ),
        covered!(
            "DeleteSimulationResponse",
            types::DeleteSimulationResponse,
            json!({"message": "deleted"})
        ),
        covered!("SimulationUpdate", types::SimulationUpdate, json!({})),
        covered!(
            "HTTPError",
            types::HttpError,
            json!({"detail": "Not authenticated"})
        ),
        covered!(
            "HTTPValidationError",
            types::HttpValidationError,
            json!({"detail": [validation_error()]})
        ),
        covered!(
            "ValidationError",
            types::ValidationError,
            validation_error()
        ),
    ]
}

const CONSTRAINTS: [&str; 8] = [
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "format",
    "enum",
    "default",
];

/// One constraint at a property path (`a.b`, `[]` for array items; empty for the root).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Fact {
    path: String,
    keyword: String,
    value: String,
}

/// Collects the facts of a schema. `stop_at` holds the paths where a spec component `$ref`s
/// another component: that one is compared on its own, so neither side descends there.
fn collect(
    root: &Value,
    node: &Value,
    path: &str,
    stops: &mut BTreeSet<String>,
    follow_refs: bool,
    out: &mut BTreeSet<Fact>,
    depth: usize,
) {
    let Some(map) = node.as_object() else { return };
    if depth > 16 {
        return;
    }
    for keyword in CONSTRAINTS {
        if let Some(value) = map.get(keyword) {
            out.insert(Fact {
                path: path.to_owned(),
                keyword: keyword.to_owned(),
                value: value.to_string(),
            });
        }
    }
    if let Some(Value::Array(required)) = map.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            out.insert(Fact {
                path: join(path, name),
                keyword: "required".into(),
                value: "true".into(),
            });
        }
    }
    if let Some(Value::String(reference)) = map.get("$ref") {
        if !follow_refs {
            stops.insert(path.to_owned());
        } else if !stops.contains(path)
            && let Some(target) = root.pointer(reference.trim_start_matches('#'))
        {
            collect(root, target, path, stops, follow_refs, out, depth + 1);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get(key) {
            for branch in branches {
                collect(root, branch, path, stops, follow_refs, out, depth + 1);
            }
        }
    }
    if let Some(Value::Object(properties)) = map.get("properties") {
        for (name, child) in properties {
            collect(
                root,
                child,
                &join(path, name),
                stops,
                follow_refs,
                out,
                depth + 1,
            );
        }
    }
    if let Some(items) = map.get("items") {
        collect(
            root,
            items,
            &format!("{path}[]"),
            stops,
            follow_refs,
            out,
            depth + 1,
        );
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .flat_map(|s| match s.strip_suffix("[]") {
            Some(name) => vec![name.to_owned(), "[]".to_owned()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>(),
            None => vec![s.to_owned()],
        })
        .collect()
}

/// The value at `path`, created as an object along the way; `[]` means the first array item.
fn slot<'a>(mut value: &'a mut Value, path: &str) -> &'a mut Value {
    for seg in segments(path) {
        value = if seg == "[]" {
            if !value.is_array() || value.as_array().unwrap().is_empty() {
                *value = json!([{}]);
            }
            &mut value.as_array_mut().unwrap()[0]
        } else {
            if !value.is_object() {
                *value = json!({});
            }
            value
                .as_object_mut()
                .unwrap()
                .entry(seg)
                .or_insert(Value::Null)
        };
    }
    value
}

fn remove(value: &mut Value, path: &str) {
    let (parent, name) = path.rsplit_once('.').unwrap_or(("", path));
    if let Some(map) = slot(value, parent).as_object_mut() {
        map.remove(name);
    }
}

fn lookup<'a>(mut value: &'a Value, path: &str) -> Option<&'a Value> {
    for seg in segments(path) {
        value = if seg == "[]" {
            value.get(0)?
        } else {
            value.get(seg.as_str())?
        };
    }
    Some(value)
}

/// The generated types skip `None` when they serialise, so absent and null are the same to them.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// What decoding a sample that breaks `fact` into the Rust type does.
fn probe(t: &Covered, fact: &Fact, spec_facts: &BTreeSet<Fact>) -> &'static str {
    let mut sample = t.sample.clone();
    let number = || fact.value.parse::<i64>().unwrap_or(0);
    let length_here = spec_facts
        .iter()
        .find(|f| f.path == fact.path && f.keyword == "minLength")
        .map_or(1, |f| f.value.parse::<usize>().unwrap_or(1));
    let breaking = match fact.keyword.as_str() {
        "minLength" if number() > 0 => json!("a".repeat(number() as usize - 1)),
        "maxLength" => json!("a".repeat(number() as usize + 1)),
        "pattern" => json!("Z".repeat(length_here)),
        "minimum" => json!(number() - 1),
        "maximum" => json!(number() + 1),
        "format" => json!("not a date-time"),
        "enum" => json!("not-a-member"),
        "required" => {
            remove(&mut sample, &fact.path);
            return if (t.decode)(sample).is_err() {
                "rejects a body without it"
            } else {
                "accepts a body without it"
            };
        }
        "default" => {
            remove(&mut sample, &fact.path);
            let expected = without_nulls(serde_json::from_str(&fact.value).unwrap());
            return match (t.decode)(sample) {
                Ok(decoded)
                    if without_nulls(
                        lookup(&decoded, &fact.path).cloned().unwrap_or(Value::Null),
                    ) == expected =>
                {
                    "fills it in"
                }
                Ok(_) => "does not fill it in",
                Err(_) => "rejects a body without it",
            };
        }
        _ => return "not probed",
    };
    *slot(&mut sample, &fact.path) = breaking;
    if (t.decode)(sample).is_err() {
        "rejects a breaking value"
    } else {
        "accepts a breaking value"
    }
}

fn render_gaps() -> String {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    let components = spec["components"]["schemas"].as_object().unwrap();
    let covered = covered_types();
    let names: BTreeSet<&str> = covered.iter().map(|c| c.component).collect();
    let listed: BTreeSet<&str> = components.keys().map(String::as_str).collect();
    assert_eq!(
        names, listed,
        "every spec component needs a row in covered_types()"
    );

    let mut out = String::from(
        "## Constraints the Rust types do not carry\n\n\
         The typed client is not a validator. Each row is a constraint of a spec component that the\n\
         type's derived JSON Schema (schemars) lacks, and what decoding a JSON value into the type does\n\
         about it. Defaults filled in on decode hide a server that omits a field: judge raw JSON.\n\
         Request types (`...Input`) carry no defaults on purpose: a request sends only what its\n\
         caller set, and the server applies its own defaults.\n\
         This table is produced by `tests/it/schema_gaps.rs`.\n\n\
         | Type | Where | Spec constraint | Decoding |\n|---|---|---|---|\n",
    );
    for t in &covered {
        let mut spec_facts = BTreeSet::new();
        let mut stops = BTreeSet::new();
        collect(
            &spec,
            &components[t.component],
            "",
            &mut stops,
            false,
            &mut spec_facts,
            0,
        );
        let mut rust_facts = BTreeSet::new();
        collect(
            &t.schema,
            &t.schema,
            "",
            &mut stops,
            true,
            &mut rust_facts,
            0,
        );
        for fact in spec_facts.difference(&rust_facts) {
            let place = if fact.path.is_empty() {
                "(the value)".to_owned()
            } else {
                format!("`{}`", fact.path)
            };
            out.push_str(&format!(
                "| `{}` | {place} | `{}: {}` | {} |\n",
                t.rust_name.trim_start_matches("types::"),
                fact.keyword,
                fact.value.replace('|', "\\|"),
                probe(t, fact, &spec_facts)
            ));
        }
    }
    out
}

#[test]
fn schema_gaps_are_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/SCHEMA_GAPS.md");
    let actual = render_gaps();
    // Not `expectorate`: its dependencies add features to rustix and console that the
    // workspace's normal build lacks, and a test build with other features than `cargo build`'s
    // rebuilds every crate above them.
    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        std::fs::write(path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap();
    if let Some((line, (want, got))) = expected
        .lines()
        .chain(["<end>"])
        .zip(actual.lines().chain(["<end>"]))
        .enumerate()
        .find(|(_, (want, got))| want != got)
    {
        panic!(
            "SCHEMA_GAPS.md differs from the probes (`SNAPSHOTS=overwrite` rewrites it), first at \
             line {}:\nexpected: {want}\nreceived: {got}",
            line + 1
        );
    }
    assert_eq!(
        expected, actual,
        "SCHEMA_GAPS.md: only the line endings differ"
    );
}

#[test]
fn the_probe_tells_enforced_from_unenforced() {
    let t = covered!("SimulationsModel", types::SimulationsModel, simulation());
    let fact = |keyword: &str, path: &str, value: &str| Fact {
        path: path.into(),
        keyword: keyword.into(),
        value: value.into(),
    };
    let none = BTreeSet::new();
    assert_eq!(
        probe(&t, &fact("pattern", "_id", "\"^[0-9a-f]{24}$\""), &none),
        "rejects a breaking value"
    );
    assert_eq!(
        probe(&t, &fact("required", "team_id", "true"), &none),
        "rejects a body without it"
    );
    // Request types carry no defaults (codegen drops them so that a request carries only what
    // its caller set): a spec default of 500 is not filled in.
    let input = covered!(
        "SimulationConfig-Input",
        types::SimulationConfigInput,
        json!({})
    );
    assert_eq!(
        probe(&input, &fact("default", "max_events", "500"), &none),
        "does not fill it in"
    );
    let details = covered!(
        "SimulationWorkflowDetails-Input",
        types::SimulationWorkflowDetailsInput,
        json!({})
    );
    assert_eq!(
        probe(&details, &fact("maxLength", "workflow_id", "24"), &none),
        "rejects a breaking value"
    );
    // A nullable field unset decodes to `None`, which is the spec's `default: null`.
    assert_eq!(
        probe(&details, &fact("default", "name", "null"), &none),
        "fills it in"
    );
    let update = covered!("SimulationUpdate", types::SimulationUpdate, json!({}));
    assert_eq!(
        probe(&update, &fact("maxLength", "description", "3"), &none),
        "accepts a breaking value"
    );
}
