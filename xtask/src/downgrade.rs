//! In-memory conversion of an OpenAPI 3.1 document to 3.0.3, because progenitor 0.15 reads only 3.0.
//!
//! The stored spec stays 3.1 (what FastAPI serves); only the generator sees the 3.0 form.
//! The rules, each with a unit test below:
//! - `anyOf`/`oneOf` with a `{"type": "null"}` branch becomes `nullable: true` on what remains;
//!   a lone remaining `$ref` goes inside `allOf`, since 3.0 ignores siblings of `$ref`;
//! - `type: [x, "null"]` becomes `type: x, nullable: true`;
//! - a `$ref` with sibling keywords becomes `allOf: [{$ref}]` beside those keywords;
//! - `examples: [a, …]` becomes `example: a`;
//! - `const: v` becomes `enum: [v]`;
//! - numeric `exclusiveMinimum`/`exclusiveMaximum` become `minimum`/`maximum` plus the 3.0 boolean.
//!
//! A further step, [`unify_error_responses`], is not a version rule but a progenitor limit: it
//! accepts one error type per operation, so differing error bodies are joined in one union.

use serde_json::{Map, Value, json};

use crate::spec::HTTP_METHODS;

pub const UNIFIED_ERROR_SCHEMA: &str = "ApiError";

/// Converts a validated 3.1 document to its 3.0.3 equivalent.
pub fn to_openapi_30(doc: &Value) -> Value {
    let mut out = doc.clone();
    out["openapi"] = json!("3.0.3");
    if let Some(schemas) = out
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.values_mut().for_each(downgrade_schema);
    }
    for kind in ["parameters", "requestBodies", "responses", "headers"] {
        if let Some(items) = out
            .pointer_mut(&format!("/components/{kind}"))
            .and_then(Value::as_object_mut)
        {
            items.values_mut().for_each(downgrade_schemas_below);
        }
    }
    if let Some(paths) = out.get_mut("paths").and_then(Value::as_object_mut) {
        paths.values_mut().for_each(downgrade_schemas_below);
    }
    out
}

/// Finds the `schema` members of parameters, bodies, responses and headers below `node`.
fn downgrade_schemas_below(node: &mut Value) {
    match node {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "schema" && child.is_object() {
                    downgrade_schema(child);
                } else {
                    downgrade_schemas_below(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(downgrade_schemas_below),
        _ => {}
    }
}

fn downgrade_schema(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    for key in ["properties", "patternProperties", "$defs", "definitions"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            children.values_mut().for_each(downgrade_schema);
        }
    }
    for key in [
        "items",
        "additionalProperties",
        "not",
        "contains",
        "propertyNames",
    ] {
        if let Some(child) = map.get_mut(key) {
            downgrade_schema(child);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            children.iter_mut().for_each(downgrade_schema);
        }
    }
    nullable_union(map);
    nullable_type_array(map);
    ref_with_siblings(map);
    examples_to_example(map);
    const_to_enum(map);
    exclusive_bound(map, "exclusiveMinimum", "minimum");
    exclusive_bound(map, "exclusiveMaximum", "maximum");
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
        && v.as_object().is_some_and(|m| m.len() == 1)
}

fn nullable_union(map: &mut Map<String, Value>) {
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = map.get(key) else {
            continue;
        };
        if !branches.iter().any(is_null_schema) {
            continue;
        }
        let rest: Vec<Value> = branches
            .iter()
            .filter(|b| !is_null_schema(b))
            .cloned()
            .collect();
        map.remove(key);
        map.insert("nullable".into(), Value::Bool(true));
        match <[Value; 1]>::try_from(rest) {
            Ok([Value::Object(only)]) if only.contains_key("$ref") && only.len() == 1 => {
                map.insert("allOf".into(), Value::Array(vec![Value::Object(only)]));
            }
            Ok([Value::Object(only)]) => {
                // The outer keys (title, description, default) describe the field; keep them.
                for (k, v) in only {
                    map.entry(k).or_insert(v);
                }
            }
            Ok([other]) => {
                map.insert(key.into(), Value::Array(vec![other]));
            }
            Err(rest) => {
                map.insert(key.into(), Value::Array(rest));
            }
        }
    }
}

fn nullable_type_array(map: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = map.get("type") else {
        return;
    };
    let nullable = types.iter().any(|t| t == "null");
    let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
    map.remove("type");
    if nullable {
        map.insert("nullable".into(), Value::Bool(true));
    }
    match <[Value; 1]>::try_from(rest) {
        Ok([only]) => {
            map.insert("type".into(), only);
        }
        Err(rest) if rest.is_empty() => {}
        Err(rest) => {
            let branches = rest.into_iter().map(|t| json!({ "type": t })).collect();
            map.insert("anyOf".into(), Value::Array(branches));
        }
    }
}

fn ref_with_siblings(map: &mut Map<String, Value>) {
    if map.len() > 1 && map.contains_key("$ref") {
        let reference = map.remove("$ref").expect("checked above");
        map.insert("allOf".into(), json!([{ "$ref": reference }]));
    }
}

fn examples_to_example(map: &mut Map<String, Value>) {
    if let Some(Value::Array(examples)) = map.remove("examples")
        && let Some(first) = examples.into_iter().next()
    {
        map.entry("example").or_insert(first);
    }
}

fn const_to_enum(map: &mut Map<String, Value>) {
    if let Some(value) = map.remove("const") {
        map.insert("enum".into(), Value::Array(vec![value]));
    }
}

fn exclusive_bound(map: &mut Map<String, Value>, exclusive: &str, inclusive: &str) {
    if let Some(bound @ Value::Number(_)) = map.get(exclusive).cloned() {
        map.insert(inclusive.into(), bound);
        map.insert(exclusive.into(), Value::Bool(true));
    }
}

/// progenitor 0.15 panics when one operation's error responses have different body types.
/// Every such response is pointed at one union schema of all the error bodies the spec uses,
/// which generates an untagged enum the client can still match on.
pub fn unify_error_responses(doc: &mut Value) -> Result<(), String> {
    let mut operations: Vec<(String, String)> = Vec::new();
    let mut union: Vec<Value> = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Ok(());
    };
    for (path, item) in paths {
        for method in HTTP_METHODS {
            let Some(responses) = item
                .pointer(&format!("/{method}/responses"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            let schemas: Vec<&Value> = responses
                .iter()
                .filter(|(status, _)| !status.starts_with('2'))
                .filter_map(|(_, r)| r.pointer("/content/application~1json/schema"))
                .collect();
            let mut distinct: Vec<&Value> = Vec::new();
            for s in schemas {
                if !distinct.contains(&s) {
                    distinct.push(s);
                }
            }
            if distinct.len() > 1 {
                operations.push((path.clone(), method.to_owned()));
                for s in distinct {
                    if !union.contains(s) {
                        union.push(s.clone());
                    }
                }
            }
        }
    }
    if operations.is_empty() {
        return Ok(());
    }
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or("the spec has error bodies to unify but no components/schemas")?;
    if schemas.contains_key(UNIFIED_ERROR_SCHEMA) {
        return Err(format!(
            "components/schemas/{UNIFIED_ERROR_SCHEMA} is reserved for the unified error body"
        ));
    }
    schemas.insert(
        UNIFIED_ERROR_SCHEMA.into(),
        json!({
            "title": UNIFIED_ERROR_SCHEMA,
            "description": "Any error body this API answers with.",
            "oneOf": union,
        }),
    );
    let unified = json!({ "$ref": format!("#/components/schemas/{UNIFIED_ERROR_SCHEMA}") });
    for (path, method) in operations {
        let responses = doc["paths"][&path][&method]["responses"]
            .as_object_mut()
            .expect("found above");
        for (status, response) in responses.iter_mut() {
            if status.starts_with('2') {
                continue;
            }
            if let Some(schema) = response.pointer_mut("/content/application~1json/schema") {
                *schema = unified.clone();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(schema: Value) -> Value {
        let doc =
            json!({"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"S": schema}}});
        to_openapi_30(&doc)["components"]["schemas"]["S"].clone()
    }

    #[test]
    fn version_becomes_303() {
        assert_eq!(
            to_openapi_30(&json!({"openapi": "3.1.0"}))["openapi"],
            "3.0.3"
        );
    }

    #[test]
    fn nullable_any_of_becomes_nullable() {
        assert_eq!(
            one(
                json!({"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}], "title": "T"})
            ),
            json!({"type": "string", "maxLength": 3, "nullable": true, "title": "T"})
        );
    }

    #[test]
    fn nullable_lone_ref_goes_inside_all_of() {
        assert_eq!(
            one(
                json!({"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}], "default": "a"})
            ),
            json!({"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": true, "default": "a"})
        );
    }

    #[test]
    fn nullable_one_of_with_several_branches_keeps_the_rest() {
        assert_eq!(
            one(json!({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]})),
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
        );
    }

    #[test]
    fn type_array_with_null_becomes_nullable() {
        assert_eq!(
            one(json!({"type": ["integer", "null"]})),
            json!({"type": "integer", "nullable": true})
        );
        assert_eq!(
            one(json!({"type": ["integer", "string"]})),
            json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})
        );
    }

    #[test]
    fn ref_with_siblings_goes_inside_all_of() {
        assert_eq!(
            one(json!({"$ref": "#/components/schemas/X", "description": "d"})),
            json!({"allOf": [{"$ref": "#/components/schemas/X"}], "description": "d"})
        );
        assert_eq!(
            one(json!({"$ref": "#/components/schemas/X"})),
            json!({"$ref": "#/components/schemas/X"})
        );
    }

    #[test]
    fn examples_becomes_example() {
        assert_eq!(
            one(json!({"type": "string", "examples": ["a", "b"]})),
            json!({"type": "string", "example": "a"})
        );
    }

    #[test]
    fn const_becomes_enum() {
        assert_eq!(one(json!({"const": "x"})), json!({"enum": ["x"]}));
    }

    #[test]
    fn numeric_exclusive_bounds_become_boolean() {
        assert_eq!(
            one(json!({"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10})),
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": true})
        );
    }

    #[test]
    fn rules_apply_at_every_depth_and_in_parameters_and_bodies() {
        let doc = json!({"openapi": "3.1.0", "paths": {"/a": {"post": {
            "parameters": [{"name": "q", "in": "query", "schema": {"type": ["string", "null"]}}],
            "requestBody": {"content": {"application/json": {"schema":
                {"type": "object", "properties": {"p": {"type": "array", "items": {"const": 1}}}}}}}
        }}}});
        let out = to_openapi_30(&doc);
        assert_eq!(
            out.pointer("/paths/~1a/post/parameters/0/schema"),
            Some(&json!({"type": "string", "nullable": true}))
        );
        assert_eq!(
            out.pointer(
                "/paths/~1a/post/requestBody/content/application~1json/schema/properties/p/items"
            ),
            Some(&json!({"enum": [1]}))
        );
    }

    #[test]
    fn property_names_that_look_like_keywords_are_left_alone() {
        let schema = json!({"type": "object", "properties": {"const": {"type": "string"}, "examples": {"type": "integer"}}});
        assert_eq!(one(schema.clone()), schema);
    }

    #[test]
    fn differing_error_bodies_are_unified() {
        let r = |n: &str| json!({"content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{n}")}}}});
        let mut doc = json!({"paths": {"/a": {"get": {"responses": {"200": r("Ok"), "401": r("E1"), "422": r("E2")}},
                                             "put": {"responses": {"200": r("Ok"), "422": r("E2")}}}},
                             "components": {"schemas": {}}});
        unify_error_responses(&mut doc).unwrap();
        let unified = json!({"$ref": "#/components/schemas/ApiError"});
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/401/content/application~1json/schema"),
            Some(&unified)
        );
        assert_eq!(
            doc.pointer("/paths/~1a/get/responses/422/content/application~1json/schema"),
            Some(&unified)
        );
        assert_eq!(doc.pointer("/paths/~1a/get/responses/200"), Some(&r("Ok")));
        assert_eq!(
            doc.pointer("/paths/~1a/put/responses/422"),
            Some(&r("E2")),
            "one error type needs no union"
        );
        assert_eq!(
            doc.pointer("/components/schemas/ApiError/oneOf"),
            Some(
                &json!([{"$ref": "#/components/schemas/E1"}, {"$ref": "#/components/schemas/E2"}])
            )
        );
    }
}
