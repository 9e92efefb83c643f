//! Conformance of the faithful server: every rule of CONTRACT.md, exact statuses and bodies,
//! and every response checked against spec/openapi.json.

use crate::support;

use axum::http::{Method, StatusCode};
use reference_server::{DEV_KEY, DEV_OTHER_TEAM_KEY, app};
use serde_json::{Value, json};
use support::*;

const SOME_ID: &str = "5eb7cf5a86d9755df3a6c593";
const ENUM_MSG: &str = "Input should be 'pending', 'running', 'completed', 'failed' or 'cancelled'";
const ENUM_EXPECTED: &str = "'pending', 'running', 'completed', 'failed' or 'cancelled'";

fn every_operation(id: &str) -> Vec<Call> {
    vec![
        Call::post(&json!({})),
        Call::get(COLLECTION),
        Call::get(item(id)),
        Call::patch(id, &json!({})),
        Call::delete(item(id)),
    ]
}

// ---------------------------------------------------------------- authentication and tenancy

#[tokio::test]
async fn missing_or_malformed_authorization_is_401_not_authenticated() {
    let app = app(config());
    let id = create(&app, &json!({})).await["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad_headers: [Option<&[u8]>; 6] = [
        None,
        Some(b"Basic abc"),
        Some(b"Bearer"),
        Some(b"Bearer "),
        Some(b"Token dev-key-team-a"),
        Some(b"dev-key-team-a"),
    ];
    for header in bad_headers {
        for call in every_operation(&id) {
            let mut call = call.key(None);
            if let Some(value) = header {
                call = call.header("authorization", value);
            }
            let reply = send(&app, call).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{header:?}");
            assert_eq!(reply.body, json!({"detail": "Not authenticated"}));
            assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        }
    }
}

#[tokio::test]
async fn unknown_key_is_401_invalid_api_key() {
    let app = app(config());
    for call in every_operation(SOME_ID) {
        let reply = send(&app, call.key(Some("no-such-key"))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.body, json!({"detail": "Invalid API key"}));
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    // Not latin-1-safe bytes are just an unknown key.
    let reply = send(
        &app,
        Call::get(COLLECTION)
            .key(None)
            .header("authorization", b"Bearer \xff\xfe".to_vec()),
    )
    .await;
    assert_eq!(reply.body, json!({"detail": "Invalid API key"}));
    // HTTPBearer strips the credential, as the FastAPI oracle shows: extra spaces are no
    // other key.
    let reply = send(
        &app,
        Call::get(COLLECTION).key(Some(&format!(" {DEV_KEY} "))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = app(config());
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let call = Call::get(COLLECTION)
            .key(None)
            .header("authorization", format!("{scheme} {DEV_KEY}"));
        assert_eq!(send(&app, call).await.status, StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn teams_never_see_each_others_simulations() {
    let app = app(config());
    let mine = create(&app, &json!({"logical_id": "a"})).await;
    let id = mine["_id"].as_str().unwrap();
    let theirs = send(&app, Call::post(&json!({"logical_id": "b"})).other_team()).await;
    assert_eq!(theirs.simulation()["team_id"], "team-b");
    assert_eq!(theirs.simulation()["created_by"], "user-b");
    let not_found = json!({"detail": "Simulation not found"});
    for call in [
        Call::get(item(id)),
        Call::patch(id, &json!({"description": "x"})),
        Call::delete(item(id)),
    ] {
        let reply = send(&app, call.other_team()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.body, not_found);
    }
    let list = send(&app, Call::get(COLLECTION).other_team()).await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["simulations"][0]["_id"], theirs.id());
    // Team A's simulation is untouched by team B's attempts.
    let again = send(&app, Call::get(item(id))).await;
    assert_eq!(again.body["simulation"], mine);
}

// ------------------------------------------------------------------------------------ create

#[tokio::test]
async fn create_with_an_empty_object_stores_every_default() {
    let app = app(config());
    let before = chrono::Utc::now();
    let reply = send(&app, Call::post(&json!({}))).await;
    assert_eq!(reply.status, StatusCode::OK);
    let simulation = reply.simulation();
    assert_eq!(simulation["simulation_config"], default_config());
    assert_eq!(simulation["team_id"], "team-a");
    assert_eq!(simulation["created_by"], "user-a");
    assert_eq!(simulation["updated_by"], "user-a");
    assert_eq!(simulation["created_at"], simulation["updated_at"]);
    let created =
        chrono::DateTime::parse_from_rfc3339(simulation["created_at"].as_str().unwrap()).unwrap();
    assert!(created >= before - chrono::Duration::seconds(1));
    let id = reply.id();
    assert_eq!(id.len(), 24);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(simulation.as_object().unwrap().len(), 7);
}

#[tokio::test]
async fn create_echoes_a_full_body_exactly() {
    let app = app(config());
    let workflow = json!({
        "workflow_id": SOME_ID, "dynamic_variables": {"k": [1, {"deep": null}], "f": 0.1},
        "name": "wf", "total_events": 3, "total_nodes": 4, "total_duration_seconds": 5,
        "run_id": "aaaaaaaaaaaaaaaaaaaaaaaa"
    });
    let body = json!({
        "logical_id": "logical", "description": "about", "selected_workflow": workflow,
        "counter_workflow": default_workflow(), "timeout_seconds": 60, "max_events": 7,
        "number_of_simulations": 2, "stop_on_failure": true, "status": "running"
    });
    let simulation = create(&app, &body).await;
    assert_eq!(simulation["simulation_config"], body);
    let ids: Vec<String> = futures_ids(&app, 3).await;
    assert!(!ids.contains(&simulation["_id"].as_str().unwrap().to_owned()));
}

async fn futures_ids(app: &axum::Router, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(
            create(app, &json!({})).await["_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), n, "ids are unique");
    ids
}

#[tokio::test]
async fn explicit_null_is_stored_as_null_not_as_the_default() {
    let app = app(config());
    let nulls = json!({
        "logical_id": null, "description": null, "timeout_seconds": null, "max_events": null,
        "number_of_simulations": null, "stop_on_failure": null, "status": null
    });
    let simulation = create(&app, &nulls).await;
    assert_eq!(simulation["simulation_config"], config_with(&nulls));
    let workflow_nulls = json!({
        "workflow_id": null, "dynamic_variables": null, "name": null, "total_events": null,
        "total_nodes": null, "total_duration_seconds": null, "run_id": null
    });
    let simulation = create(&app, &json!({"counter_workflow": workflow_nulls})).await;
    assert_eq!(
        simulation["simulation_config"]["counter_workflow"],
        workflow_nulls
    );
    assert_eq!(
        simulation["simulation_config"]["selected_workflow"],
        default_workflow()
    );
    // A partial workflow object gets the defaults of its absent fields.
    let simulation = create(&app, &json!({"selected_workflow": {"name": "n"}})).await;
    let mut expected = default_workflow();
    expected["name"] = json!("n");
    assert_eq!(
        simulation["simulation_config"]["selected_workflow"],
        expected
    );
}

#[tokio::test]
async fn workflow_objects_are_not_nullable() {
    let app = app(config());
    for field in ["selected_workflow", "counter_workflow"] {
        let reply = send(&app, Call::post(&json!({ field: null }))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            reply.body["detail"],
            json!([error(
                "model_attributes_type",
                json!(["body", field]),
                "Input should be a valid dictionary or object to extract fields from",
                Value::Null
            )])
        );
    }
}

#[tokio::test]
async fn unknown_keys_are_ignored_at_any_depth_but_dynamic_variables_keep_everything() {
    let app = app(config());
    let body = json!({
        "extra": 1, "nested": {"a": 1},
        "selected_workflow": {"bogus": true, "dynamic_variables": {"bogus": {"kept": [1]}}}
    });
    let simulation = create(&app, &body).await;
    let mut expected = default_workflow();
    expected["dynamic_variables"] = json!({"bogus": {"kept": [1]}});
    assert_eq!(
        simulation["simulation_config"],
        config_with(&json!({"selected_workflow": expected}))
    );
    let fetched = send(&app, Call::get(item(simulation["_id"].as_str().unwrap()))).await;
    assert_eq!(fetched.simulation(), &simulation);
}

/// (field, sent, stored) for the accepted, canonicalised set of CONTRACT.md.
fn accepted_coercions() -> Vec<(&'static str, Value, Value)> {
    let mut cases = Vec::new();
    for field in ["timeout_seconds", "max_events", "number_of_simulations"] {
        for (sent, stored) in [
            (json!(5.0), json!(5)),
            (json!("5"), json!(5)),
            (json!(" -7 "), json!(-7)),
            (json!("+3"), json!(3)),
            (json!("5.00"), json!(5)),
            (json!(true), json!(1)),
            (json!(false), json!(0)),
            (
                json!(-9223372036854775808i64),
                json!(-9223372036854775808i64),
            ),
            (json!(9223372036854775807i64), json!(9223372036854775807i64)),
        ] {
            cases.push((field, sent, stored));
        }
    }
    for (sent, stored) in [
        (json!(0), false),
        (json!(1), true),
        (json!(0.0), false),
        (json!(1.0), true),
        (json!("TRUE"), true),
        (json!("f"), false),
        (json!("Yes"), true),
        (json!("n"), false),
        (json!("on"), true),
        (json!("OFF"), false),
        (json!("1"), true),
        (json!("0"), false),
        (json!("t"), true),
        (json!("no"), false),
        (json!("y"), true),
        (json!("false"), false),
    ] {
        cases.push(("stop_on_failure", sent, json!(stored)));
    }
    cases
}

#[tokio::test]
async fn lax_inputs_are_accepted_and_stored_canonical() {
    let app = app(config());
    for (field, sent, stored) in accepted_coercions() {
        let simulation = create(&app, &json!({ field: sent })).await;
        assert_eq!(
            simulation["simulation_config"][field], stored,
            "{field}: {sent}"
        );
        // The same coercions apply inside the workflow objects.
        if field == "max_events" {
            let simulation =
                create(&app, &json!({"counter_workflow": {"total_nodes": sent}})).await;
            assert_eq!(
                simulation["simulation_config"]["counter_workflow"]["total_nodes"],
                stored
            );
        }
    }
}

const INT_PARSING: &str = "Input should be a valid integer, unable to parse string as an integer";
const INT_FROM_FLOAT: &str = "Input should be a valid integer, got a number with a fractional part";
const INT_TYPE: &str = "Input should be a valid integer";
const BOOL_PARSING: &str = "Input should be a valid boolean, unable to interpret input";
const BOOL_TYPE: &str = "Input should be a valid boolean";
const STRING_TYPE: &str = "Input should be a valid string";
const DICT_TYPE: &str = "Input should be a valid dictionary";
const MODEL_ATTRIBUTES: &str =
    "Input should be a valid dictionary or object to extract fields from";

/// (loc below "body", sent, type, msg, ctx) for the always-rejected set of CONTRACT.md.
/// (loc below "body", sent, type, msg, ctx).
type Rejected = (
    Vec<&'static str>,
    Value,
    &'static str,
    &'static str,
    Option<Value>,
);

fn rejected_inputs() -> Vec<Rejected> {
    let mut cases = Vec::new();
    for field in ["timeout_seconds", "max_events", "number_of_simulations"] {
        cases.push((
            vec![field],
            json!(5.5),
            "int_from_float",
            INT_FROM_FLOAT,
            None,
        ));
        cases.push((
            vec![field],
            json!(-0.5),
            "int_from_float",
            INT_FROM_FLOAT,
            None,
        ));
        // Underscore forms Python's int() refuses; pydantic refuses them too.
        for s in [
            "abc", "", "1e3", "0x10", "5.5", " ", "five", "_5", "5__0", "5_", "5.",
        ] {
            cases.push((vec![field], json!(s), "int_parsing", INT_PARSING, None));
        }
        cases.push((vec![field], json!([1]), "int_type", INT_TYPE, None));
        cases.push((vec![field], json!({"a": 1}), "int_type", INT_TYPE, None));
    }
    cases.push((
        vec!["selected_workflow", "total_events"],
        json!(1.25),
        "int_from_float",
        INT_FROM_FLOAT,
        None,
    ));
    // A number with a fraction is no boolean at all (the FastAPI oracle answers `bool_type`).
    for v in [json!(0.5), json!(1e-3)] {
        cases.push((vec!["stop_on_failure"], v, "bool_type", BOOL_TYPE, None));
    }
    for v in [
        json!(2),
        json!(2.0),
        json!(-1),
        json!(""),
        json!("maybe"),
        json!(" true"),
        json!("true "),
        json!("2"),
    ] {
        cases.push((
            vec!["stop_on_failure"],
            v,
            "bool_parsing",
            BOOL_PARSING,
            None,
        ));
    }
    cases.push((
        vec!["stop_on_failure"],
        json!([]),
        "bool_type",
        BOOL_TYPE,
        None,
    ));
    cases.push((
        vec!["stop_on_failure"],
        json!({}),
        "bool_type",
        BOOL_TYPE,
        None,
    ));
    for field in ["logical_id", "description"] {
        for v in [json!(1), json!(1.5), json!(true), json!([]), json!({})] {
            cases.push((vec![field], v, "string_type", STRING_TYPE, None));
        }
    }
    for field in ["workflow_id", "name", "run_id"] {
        cases.push((
            vec!["counter_workflow", field],
            json!(5),
            "string_type",
            STRING_TYPE,
            None,
        ));
    }
    let enum_ctx = Some(json!({"expected": ENUM_EXPECTED}));
    for v in [
        json!("Pending"),
        json!("PENDING"),
        json!(""),
        json!("done"),
        json!(" pending"),
        json!(1),
        json!(true),
        json!([]),
    ] {
        cases.push((vec!["status"], v, "enum", ENUM_MSG, enum_ctx.clone()));
    }
    for wf in ["selected_workflow", "counter_workflow"] {
        for v in [json!([]), json!("x"), json!(1), json!(true)] {
            cases.push((vec![wf], v, "model_attributes_type", MODEL_ATTRIBUTES, None));
        }
        for v in [json!([]), json!("x"), json!(1), json!(false)] {
            cases.push((
                vec![wf, "dynamic_variables"],
                v,
                "dict_type",
                DICT_TYPE,
                None,
            ));
        }
        for field in ["workflow_id", "run_id"] {
            cases.push((
                vec![wf, field],
                json!("a".repeat(23)),
                "string_too_short",
                "String should have at least 24 characters",
                Some(json!({"min_length": 24})),
            ));
            cases.push((
                vec![wf, field],
                json!("a".repeat(25)),
                "string_too_long",
                "String should have at most 24 characters",
                Some(json!({"max_length": 24})),
            ));
        }
    }
    cases
}

fn body_at(path: &[&str], value: Value) -> Value {
    path.iter()
        .rev()
        .fold(value, |inner, key| json!({ *key: inner }))
}

#[tokio::test]
async fn rejected_inputs_are_422_with_pydantic_errors() {
    let app = app(config());
    for (path, sent, ty, msg, ctx) in rejected_inputs() {
        let reply = send(&app, Call::post(&body_at(&path, sent.clone()))).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path:?} {sent}"
        );
        let mut loc = vec![json!("body")];
        loc.extend(path.iter().map(|p| json!(p)));
        let expected = match ctx {
            Some(ctx) => error_ctx(ty, Value::Array(loc), msg, sent.clone(), ctx),
            None => error(ty, Value::Array(loc), msg, sent.clone()),
        };
        assert_eq!(reply.body, json!({"detail": [expected]}), "{path:?} {sent}");
    }
    let listed = send(&app, Call::get(COLLECTION)).await;
    assert_eq!(listed.body["total"], 0, "nothing rejected was stored");
}

#[tokio::test]
async fn ids_of_24_characters_count_characters_not_bytes() {
    let app = app(config());
    let id = "é".repeat(24);
    let simulation = create(&app, &json!({"selected_workflow": {"workflow_id": id}})).await;
    assert_eq!(
        simulation["simulation_config"]["selected_workflow"]["workflow_id"],
        id.as_str()
    );
    let emoji = "😀".repeat(24);
    let simulation = create(
        &app,
        &json!({"logical_id": emoji, "counter_workflow": {"run_id": emoji}}),
    )
    .await;
    assert_eq!(
        simulation["simulation_config"]["logical_id"],
        emoji.as_str()
    );
}

#[tokio::test]
async fn every_violation_is_reported_in_field_order() {
    let app = app(config());
    let body = json!({
        "status": "nope", "max_events": "x", "logical_id": 1,
        "selected_workflow": {"run_id": "short", "total_events": 1.5}
    });
    let reply = send(&app, Call::post(&body)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let locs: Vec<&Value> = reply.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["loc"])
        .collect();
    assert_eq!(
        locs,
        [
            &json!(["body", "logical_id"]),
            &json!(["body", "selected_workflow", "total_events"]),
            &json!(["body", "selected_workflow", "run_id"]),
            &json!(["body", "max_events"]),
            &json!(["body", "status"]),
        ]
    );
}

#[tokio::test]
async fn body_problems_on_create() {
    let app = app(config());
    let post = || Call::new(Method::POST, COLLECTION);
    // No body.
    let reply = send(&app, post()).await;
    assert_eq!(
        reply.body,
        json!({"detail": [error("missing", json!(["body"]), "Field required", Value::Null)]})
    );
    let reply = send(&app, post().raw("", Some("application/json"))).await;
    assert_eq!(reply.detail_types(), ["missing"]);
    // Invalid JSON: json_invalid at ["body", offset] with Python's reason.
    for (text, offset, reason) in [
        ("{", 1, None),
        ("{\"a\": }", 6, Some("Expecting value")),
        ("{} x", 3, Some("Extra data")),
        ("[1,]", 3, None),
        ("nul", 0, None),
        ("{\"a\" 1}", 5, Some("Expecting ':' delimiter")),
        ("\"\u{1}\"", 1, Some("Invalid control character at")),
        ("NaNa", 3, Some("Extra data")),
        ("Infinit", 0, Some("Expecting value")),
        ("[-Inf]", 1, Some("Expecting value")),
    ] {
        let reply = send(&app, post().raw(text, Some("application/json"))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        let entry = &reply.body["detail"][0];
        assert_eq!(entry["type"], "json_invalid", "{text}");
        assert_eq!(entry["msg"], "JSON decode error");
        assert_eq!(entry["input"], json!({}));
        assert_eq!(entry["loc"][0], "body");
        let at = entry["loc"][1].as_u64().expect("an integer offset") as usize;
        assert!(at.abs_diff(offset) <= 1, "{text}: {at} vs {offset}");
        assert!(entry["ctx"]["error"].is_string());
        if let Some(reason) = reason {
            assert_eq!(entry["ctx"]["error"], reason, "{text}");
        }
    }
    // JSON that is not an object.
    for value in [json!([]), json!(1), json!("s"), json!(true), Value::Null] {
        let reply = send(&app, Call::post(&value)).await;
        assert_eq!(
            reply.body,
            json!({"detail": [error("model_attributes_type", json!(["body"]), MODEL_ATTRIBUTES, value.clone())]})
        );
    }
    // A JSON content type with parameters and +json suffixes is JSON; others are not.
    for content_type in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/vnd.api+json",
        "application/merge-patch+json",
    ] {
        let reply = send(&app, post().raw("{}", Some(content_type))).await;
        assert_eq!(reply.status, StatusCode::OK, "{content_type}");
    }
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/jsonx",
        "json",
        "multipart/form-data",
    ] {
        let reply = send(&app, post().raw("{}", Some(content_type))).await;
        assert_eq!(
            reply.body,
            json!({"detail": [error("model_attributes_type", json!(["body"]), MODEL_ATTRIBUTES, json!("{}"))]}),
            "{content_type}"
        );
    }
    // No content type at all is not JSON either, as FastAPI 0.165 answers (the oracle).
    assert_eq!(
        send(&app, post().raw("{}", None)).await.body,
        json!({"detail": [error("model_attributes_type", json!(["body"]), MODEL_ATTRIBUTES, json!("{}"))]})
    );
    // A UTF-8 byte order mark is skipped.
    assert_eq!(
        send(
            &app,
            post().raw(b"\xEF\xBB\xBF{}".to_vec(), Some("application/json"))
        )
        .await
        .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn undecodable_json_bodies_are_400() {
    let app = app(config());
    let expected = json!({"detail": "There was an error parsing the body"});
    // Broken UTF-8; UTF-16 cut in the middle of a unit or with a lone surrogate; UTF-32 past
    // U+10FFFF: what Python's `json.loads(bytes)` cannot decode.
    let utf16_odd = b"{\0}\0 ".to_vec();
    let utf16_lone: Vec<u8> = [0x22u16, 0xD800, 0x22]
        .iter()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let utf32_past: Vec<u8> = [0x22u32, 0x11_0000, 0x22]
        .iter()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    for body in [
        b"{\"logical_id\": \"\xc3\x28\"}".to_vec(),
        b"\x80".to_vec(),
        utf16_odd,
        utf16_lone,
        utf32_past,
    ] {
        for call in [
            Call::new(Method::POST, COLLECTION),
            Call::new(Method::PATCH, item(SOME_ID)),
        ] {
            let reply = send(&app, call.raw(body.clone(), Some("application/json"))).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body:?}");
            assert_eq!(reply.body, expected);
        }
        // A body that is not JSON by its content type is never decoded: FastAPI validates
        // the bytes, and they are no object.
        for content_type in [None, Some("text/plain")] {
            let reply = send(
                &app,
                Call::new(Method::POST, COLLECTION).raw(body.clone(), content_type),
            )
            .await;
            assert_eq!(reply.detail_types(), ["model_attributes_type"], "{body:?}");
            let reply = send(
                &app,
                Call::new(Method::PATCH, item(SOME_ID)).raw(body.clone(), content_type),
            )
            .await;
            assert_eq!(reply.detail_types(), ["dict_type"], "{body:?}");
        }
    }
    // A byte order mark alone is an empty text: not JSON.
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(b"\xff\xfe".to_vec(), Some("application/json")),
    )
    .await;
    assert_eq!(reply.detail_types(), ["json_invalid"]);
}

/// `json.detect_encoding`'s encodings of one body: UTF-8 with a BOM, UTF-16 and UTF-32 with a
/// BOM (either order) and without one (recognised from the zero bytes).
fn encodings(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let utf16 = |be: bool| -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
            .collect()
    };
    let utf32 = |be: bool| -> Vec<u8> {
        text.chars()
            .flat_map(|c| {
                let c = u32::from(c);
                if be { c.to_be_bytes() } else { c.to_le_bytes() }
            })
            .collect()
    };
    let with = |bom: &[u8], rest: Vec<u8>| [bom.to_vec(), rest].concat();
    vec![
        ("utf-8", text.as_bytes().to_vec()),
        ("utf-8-sig", with(b"\xEF\xBB\xBF", text.as_bytes().to_vec())),
        ("utf-16 (LE BOM)", with(b"\xFF\xFE", utf16(false))),
        ("utf-16 (BE BOM)", with(b"\xFE\xFF", utf16(true))),
        ("utf-16-le", utf16(false)),
        ("utf-16-be", utf16(true)),
        ("utf-32 (LE BOM)", with(b"\xFF\xFE\0\0", utf32(false))),
        ("utf-32 (BE BOM)", with(b"\0\0\xFE\xFF", utf32(true))),
        ("utf-32-le", utf32(false)),
        ("utf-32-be", utf32(true)),
    ]
}

#[tokio::test]
async fn bodies_in_every_encoding_pythons_json_reader_detects_are_json() {
    let app = app(config());
    let text = "{\"logical_id\": \"\u{e9}t\u{e9} \u{1F600}\", \"max_events\": 7}";
    for (encoding, bytes) in encodings(text) {
        let reply = send(
            &app,
            Call::new(Method::POST, COLLECTION).raw(bytes.clone(), Some("application/json")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{encoding}: {reply:?}");
        let config = &reply.simulation()["simulation_config"];
        assert_eq!(
            config["logical_id"], "\u{e9}t\u{e9} \u{1F600}",
            "{encoding}"
        );
        assert_eq!(config["max_events"], 7, "{encoding}");
    }
    // The offset of a JSON error counts characters of the decoded text, BOM excluded.
    for (encoding, bytes) in encodings("{\"a\": }") {
        let reply = send(
            &app,
            Call::new(Method::POST, COLLECTION).raw(bytes, Some("application/json")),
        )
        .await;
        assert_eq!(reply.detail_types(), ["json_invalid"], "{encoding}");
        assert_eq!(
            reply.body["detail"][0]["loc"],
            json!(["body", 6]),
            "{encoding}"
        );
    }
}

#[tokio::test]
async fn nan_and_infinities_are_null_in_dynamic_variables_and_invalid_in_typed_fields() {
    let app = app(config());
    // At every depth of dynamic_variables; 1e400 is Python's infinity too.
    let sent = r#"{"selected_workflow": {"dynamic_variables": {"a": NaN, "b": [Infinity,
        {"c": -Infinity, "d": [[1e400]]}], "e": -1e400, "f": 1.5, "g": "NaN"}}}"#;
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(sent, Some("application/json")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let stored = json!({"a": null, "b": [null, {"c": null, "d": [[null]]}], "e": null,
        "f": 1.5, "g": "NaN"});
    assert_eq!(
        reply.simulation()["simulation_config"]["selected_workflow"]["dynamic_variables"],
        stored
    );
    let id = reply.id();
    let reply = send(&app, Call::get(item(&id))).await;
    assert_eq!(
        reply.simulation()["simulation_config"]["selected_workflow"]["dynamic_variables"],
        stored
    );
    // In a typed field: pydantic's error for that field, the input written as pydantic's
    // JSON writer writes a non-finite float (null), never a 5xx.
    for token in ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"] {
        for (body, ty, loc) in [
            (
                format!("{{\"max_events\": {token}}}"),
                "finite_number",
                json!(["body", "max_events"]),
            ),
            (
                format!("{{\"timeout_seconds\": {token}}}"),
                "finite_number",
                json!(["body", "timeout_seconds"]),
            ),
            (
                format!("{{\"stop_on_failure\": {token}}}"),
                "bool_type",
                json!(["body", "stop_on_failure"]),
            ),
            (
                format!("{{\"logical_id\": {token}}}"),
                "string_type",
                json!(["body", "logical_id"]),
            ),
            (
                format!("{{\"status\": {token}}}"),
                "enum",
                json!(["body", "status"]),
            ),
            (
                format!("{{\"counter_workflow\": {token}}}"),
                "model_attributes_type",
                json!(["body", "counter_workflow"]),
            ),
            (
                format!("{{\"selected_workflow\": {{\"total_events\": {token}}}}}"),
                "finite_number",
                json!(["body", "selected_workflow", "total_events"]),
            ),
            (
                format!("{{\"selected_workflow\": {{\"dynamic_variables\": {token}}}}}"),
                "dict_type",
                json!(["body", "selected_workflow", "dynamic_variables"]),
            ),
            (token.to_owned(), "model_attributes_type", json!(["body"])),
        ] {
            let reply = send(
                &app,
                Call::new(Method::POST, COLLECTION).raw(body.clone(), Some("application/json")),
            )
            .await;
            assert_eq!(reply.detail_types(), [ty], "{body}: {reply:?}");
            assert_eq!(reply.body["detail"][0]["loc"], loc, "{body}");
            assert_eq!(reply.body["detail"][0]["input"], Value::Null, "{body}");
        }
        for (body, ty) in [
            (format!("{{\"description\": {token}}}"), "string_type"),
            (format!("{{\"status\": {token}}}"), "enum"),
            (token.to_owned(), "dict_type"),
        ] {
            let reply = send(
                &app,
                Call::new(Method::PATCH, item(&id)).raw(body.clone(), Some("application/json")),
            )
            .await;
            assert_eq!(reply.detail_types(), [ty], "{body}: {reply:?}");
        }
    }
}

#[tokio::test]
async fn bodies_over_one_mib_are_413_and_up_to_one_mib_are_read() {
    let app = app(config());
    let padding = |total: usize| {
        let frame = "{\"description\":\"\"}".len();
        json!({"description": "x".repeat(total - frame)})
    };
    let exactly = serde_json::to_vec(&padding(1024 * 1024)).unwrap();
    assert_eq!(exactly.len(), 1024 * 1024);
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(exactly, Some("application/json")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let over = serde_json::to_vec(&padding(1024 * 1024 + 1)).unwrap();
    for method in [Method::POST, Method::PATCH] {
        let uri = if method == Method::POST {
            COLLECTION.to_owned()
        } else {
            item(SOME_ID)
        };
        let reply = send(
            &app,
            Call::new(method, uri).raw(over.clone(), Some("application/json")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(reply.body, json!({"detail": "Content Too Large"}));
    }
}

#[tokio::test]
async fn deep_nesting_and_huge_numbers_never_crash() {
    let app = app(config());
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(deep.clone(), Some("application/json")),
    )
    .await;
    assert_eq!(reply.detail_types(), ["json_invalid"]);
    let in_variables =
        format!("{{\"selected_workflow\": {{\"dynamic_variables\": {{\"x\": {deep}}}}}}}");
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(in_variables, Some("application/json")),
    )
    .await;
    assert_eq!(reply.detail_types(), ["json_invalid"]);
    let objects = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let reply = send(
        &app,
        Call::new(Method::PATCH, item(SOME_ID)).raw(objects, Some("application/json")),
    )
    .await;
    assert_eq!(reply.detail_types(), ["json_invalid"]);
    // Python reads past serde_json's 128 levels, and stock FastAPI stores dynamic_variables
    // up to 254 levels deep; from 255 it answers 500 (CONTRACT.md), which is refused here.
    let levels = |n: usize| format!("{}1{}", "{\"k\":".repeat(n), "}".repeat(n));
    let body = |n: usize| {
        format!(
            "{{\"selected_workflow\": {{\"dynamic_variables\": {}}}}}",
            levels(n)
        )
    };
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(body(254), Some("application/json")),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let mut stored =
        &reply.body["simulation"]["simulation_config"]["selected_workflow"]["dynamic_variables"];
    let mut depth = 0;
    while let Some(inner) = stored.get("k") {
        stored = inner;
        depth += 1;
    }
    assert_eq!((depth, stored), (254, &json!(1)));
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(body(255), Some("application/json")),
    )
    .await;
    assert_eq!(reply.detail_types(), ["value_error"]);
    assert_eq!(
        reply.body["detail"][0]["loc"],
        json!(["body", "selected_workflow", "dynamic_variables"])
    );
    // Moderate nesting inside dynamic_variables is stored as sent.
    let nested = json!({"a": [[[[{"b": [[[]]]}]]]]});
    let simulation = create(
        &app,
        &json!({"counter_workflow": {"dynamic_variables": nested}}),
    )
    .await;
    assert_eq!(
        simulation["simulation_config"]["counter_workflow"]["dynamic_variables"],
        nested
    );
    // Numbers outside f64 are Python's infinity: not an integer, never a crash.
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION)
            .raw("{\"max_events\": 1e400}", Some("application/json")),
    )
    .await;
    assert_eq!(reply.detail_types(), ["finite_number"]);
    // Floats past the 64-bit range are refused, as pydantic's float_as_int refuses them.
    for text in [
        "{\"max_events\": 1e300}",
        "{\"max_events\": 9223372036854775808.0}",
    ] {
        let reply = send(
            &app,
            Call::new(Method::POST, COLLECTION).raw(text, Some("application/json")),
        )
        .await;
        assert_eq!(reply.detail_types(), ["int_parsing_size"], "{text}");
    }
    // Within range, big values are kept exactly, and so are floats of any size.
    let exact =
        json!({"n": 18446744073709551615u64, "f": 1.7976931348623157e308, "g": 5e-324, "h": 1e20});
    let simulation = create(
        &app,
        &json!({"selected_workflow": {"dynamic_variables": exact}}),
    )
    .await;
    assert_eq!(
        simulation["simulation_config"]["selected_workflow"]["dynamic_variables"],
        exact
    );
}

/// What real pydantic does with the two cases CONTRACT.md leaves unspecified: underscores in
/// integer strings, and integers past 64 bits.
#[tokio::test]
async fn unspecified_integers_are_read_as_pydantic_reads_them() {
    let app = app(config());
    for (sent, stored) in [
        ("\"5_000\"", "5000"),
        ("\" -1_000 \"", "-1000"),
        ("\"5_000.00\"", "5000"),
        ("99999999999999999999", "99999999999999999999"),
        ("-99999999999999999999", "-99999999999999999999"),
        ("9223372036854775808", "9223372036854775808"),
        ("\"99999999999999999999\"", "99999999999999999999"),
        (
            "\"1_000_000_000_000_000_000_000\"",
            "1000000000000000000000",
        ),
        ("\"18446744073709551616.0\"", "18446744073709551616"),
    ] {
        let text = format!(
            "{{\"max_events\": {sent}, \"selected_workflow\": {{\"total_nodes\": {sent}}}}}"
        );
        let reply = send(
            &app,
            Call::new(Method::POST, COLLECTION).raw(text, Some("application/json")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{sent}");
        let simulation = reply.simulation().clone();
        let config = &simulation["simulation_config"];
        assert_eq!(config["max_events"].to_string(), stored, "{sent}");
        assert_eq!(
            config["selected_workflow"]["total_nodes"].to_string(),
            stored,
            "{sent}"
        );
        // Written back with every digit, on create and on every read.
        let fetched = send(&app, Call::get(item(simulation["_id"].as_str().unwrap()))).await;
        assert_eq!(fetched.simulation(), &simulation, "{sent}");
        assert!(
            String::from_utf8_lossy(&fetched.bytes).contains(&format!("\"max_events\":{stored}")),
            "{sent}"
        );
    }
    // dynamic_variables keeps big integers exactly too, and floats as the nearest f64.
    let text = "{\"counter_workflow\": {\"dynamic_variables\": {\"n\": [123456789012345678901234567890, -0], \"f\": 0.1000000000000000055511151231257827}}}";
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(text, Some("application/json")),
    )
    .await;
    assert_eq!(
        reply.simulation()["simulation_config"]["counter_workflow"]["dynamic_variables"]
            .to_string(),
        "{\"f\":0.1,\"n\":[123456789012345678901234567890,0]}"
    );
    // Python's int() stops at 4300 digits: json.loads raises a plain ValueError, FastAPI a 400.
    let text = format!("{{\"max_events\": {}}}", "9".repeat(4301));
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(text, Some("application/json")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({"detail": "There was an error parsing the body"})
    );
    // A numeric string that long is int_parsing_size; a list page past 64 bits is just empty.
    let text = format!("{{\"max_events\": \"{}\"}}", "9".repeat(4301));
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION).raw(text, Some("application/json")),
    )
    .await;
    assert_eq!(reply.detail_types(), ["int_parsing_size"]);
    let reply = send(
        &app,
        Call::get(format!("{COLLECTION}?page=99999999999999999999&size=1_0")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["simulations"], json!([]));
}

// -------------------------------------------------------------------------------------- list

async fn seed(app: &axum::Router) -> Vec<Value> {
    let bodies = [
        json!({"logical_id": "alpha", "description": "First ONE", "status": "pending",
               "selected_workflow": {"workflow_id": "aaaaaaaaaaaaaaaaaaaaaaaa"}}),
        json!({"logical_id": "beta", "description": null, "status": "running",
               "counter_workflow": {"workflow_id": "bbbbbbbbbbbbbbbbbbbbbbbb"}}),
        json!({"logical_id": "Gamma-one", "status": "completed",
               "selected_workflow": {"workflow_id": "aaaaaaaaaaaaaaaaaaaaaaaa"}}),
        json!({"description": "nothing", "status": "failed"}),
        json!({"logical_id": "alpha", "status": null}),
    ];
    let mut created = Vec::new();
    for body in bodies {
        created.push(create(app, &body).await);
    }
    created
}

fn ids(reply: &Reply) -> Vec<String> {
    reply.body["simulations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["_id"].as_str().unwrap().to_owned())
        .collect()
}

fn id_of(simulations: &[Value], index: usize) -> String {
    simulations[index]["_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn list_is_newest_first_with_total_and_pages() {
    let app = app(config());
    let created = seed(&app).await;
    let newest_first: Vec<String> = (0..created.len())
        .rev()
        .map(|i| id_of(&created, i))
        .collect();
    let reply = send(&app, Call::get(COLLECTION)).await;
    assert_eq!(reply.body["total"], 5);
    assert_eq!(ids(&reply), newest_first);
    assert_eq!(reply.body["simulations"][4], created[0]);
    // created_at descending, ties by _id descending: the order is total.
    let sims = reply.body["simulations"].as_array().unwrap();
    for pair in sims.windows(2) {
        let key = |s: &Value| {
            (
                s["created_at"].as_str().unwrap().to_owned(),
                s["_id"].as_str().unwrap().to_owned(),
            )
        };
        assert!(key(&pair[0]) > key(&pair[1]));
    }
    for (size, page, expected) in [
        (2, 1, &newest_first[0..2]),
        (2, 2, &newest_first[2..4]),
        (2, 3, &newest_first[4..5]),
        (2, 4, &newest_first[5..5]),
        (5, 1, &newest_first[..]),
        (100, 1, &newest_first[..]),
        (1, 5, &newest_first[4..5]),
    ] {
        let reply = send(
            &app,
            Call::get(format!("{COLLECTION}?size={size}&page={page}")),
        )
        .await;
        assert_eq!(reply.body["total"], 5, "size {size} page {page}");
        assert_eq!(ids(&reply), expected, "size {size} page {page}");
    }
    // Lax integers in the query; a huge page is just empty.
    let reply = send(
        &app,
        Call::get(format!("{COLLECTION}?size=%202.0%20&page=+1")),
    )
    .await;
    assert_eq!(ids(&reply), &newest_first[0..2]);
    let reply = send(
        &app,
        Call::get(format!(
            "{COLLECTION}?size=9223372036854775807&page=9223372036854775807"
        )),
    )
    .await;
    assert_eq!(reply.body, json!({"simulations": [], "total": 5}));
}

#[tokio::test]
async fn list_defaults_to_100_per_page() {
    let app = app(config());
    for _ in 0..101 {
        create(&app, &json!({})).await;
    }
    let reply = send(&app, Call::get(COLLECTION)).await;
    assert_eq!(reply.body["total"], 101);
    assert_eq!(reply.body["simulations"].as_array().unwrap().len(), 100);
    let reply = send(&app, Call::get(format!("{COLLECTION}?page=2"))).await;
    assert_eq!(reply.body["simulations"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn list_filters_combine_with_and() {
    let app = app(config());
    let c = seed(&app).await;
    let id = |i: usize| id_of(&c, i);
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("search=ALPHA", vec![id(4), id(0)]),
        ("search=one", vec![id(2), id(0)]),
        ("search=NoThInG", vec![id(3)]),
        ("search=", vec![id(4), id(3), id(2), id(1), id(0)]),
        ("search=zzz", vec![]),
        ("logical_id=alpha", vec![id(4), id(0)]),
        ("logical_id=ALPHA", vec![]),
        ("logical_id=Gamma-one", vec![id(2)]),
        ("status=running", vec![id(1)]),
        ("status=pending", vec![id(0)]),
        ("status=cancelled", vec![]),
        (
            "selected_workflow_id=aaaaaaaaaaaaaaaaaaaaaaaa",
            vec![id(2), id(0)],
        ),
        ("counter_workflow_id=bbbbbbbbbbbbbbbbbbbbbbbb", vec![id(1)]),
        ("counter_workflow_id=aaaaaaaaaaaaaaaaaaaaaaaa", vec![]),
        (
            "selected_workflow_id=aaaaaaaaaaaaaaaaaaaaaaaa&status=completed",
            vec![id(2)],
        ),
        ("search=one&logical_id=alpha", vec![id(0)]),
        ("status=running&status=failed", vec![id(3)]),
        ("unknown=1&status=failed", vec![id(3)]),
        ("search=first+one", vec![id(0)]),
        ("search=first%20one", vec![id(0)]),
    ];
    for (query, expected) in cases {
        let reply = send(&app, Call::get(format!("{COLLECTION}?{query}"))).await;
        assert_eq!(ids(&reply), expected, "{query}");
        assert_eq!(reply.body["total"], expected.len(), "{query}");
    }
    // Pagination applies after filtering, and total counts every match.
    let reply = send(
        &app,
        Call::get(format!("{COLLECTION}?logical_id=alpha&size=1&page=2")),
    )
    .await;
    assert_eq!(ids(&reply), vec![id(0)]);
    assert_eq!(reply.body["total"], 2);
}

#[tokio::test]
async fn start_and_end_are_inclusive_bounds_on_created_at() {
    let app = app(config());
    let c = seed(&app).await;
    let at = |i: usize| c[i]["created_at"].as_str().unwrap().to_owned();
    let enc = |s: &str| s.replace('+', "%2B");
    let reply = send(
        &app,
        Call::get(format!(
            "{COLLECTION}?start={}&end={}",
            enc(&at(1)),
            enc(&at(3))
        )),
    )
    .await;
    assert_eq!(ids(&reply), vec![id_of(&c, 3), id_of(&c, 2), id_of(&c, 1)]);
    let reply = send(
        &app,
        Call::get(format!("{COLLECTION}?start={}", enc(&at(4)))),
    )
    .await;
    assert_eq!(ids(&reply), vec![id_of(&c, 4)]);
    let reply = send(&app, Call::get(format!("{COLLECTION}?end={}", enc(&at(0))))).await;
    assert_eq!(ids(&reply), vec![id_of(&c, 0)]);
    // The same instant with an offset, without one (UTC), and as Unix time.
    let first = chrono::DateTime::parse_from_rfc3339(&at(0)).unwrap();
    let plus_two = first.with_timezone(&chrono::FixedOffset::east_opt(7200).unwrap());
    let naive = first
        .naive_utc()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string();
    let unix = format!(
        "{}.{:06}",
        first.timestamp(),
        first.timestamp_subsec_micros()
    );
    for end in [
        enc(&plus_two.to_rfc3339()),
        naive.clone(),
        naive.replace('T', "%20"),
        unix,
    ] {
        let reply = send(&app, Call::get(format!("{COLLECTION}?end={end}"))).await;
        assert_eq!(ids(&reply), vec![id_of(&c, 0)], "{end}");
    }
    for (query, total) in [
        ("start=0", 5),
        ("end=0.5", 0),
        ("start=2000-01-01", 5),
        ("end=2000-01-01T00:00Z", 0),
        ("start=9999-12-31", 0),
    ] {
        let reply = send(&app, Call::get(format!("{COLLECTION}?{query}"))).await;
        assert_eq!(reply.body["total"], total, "{query}");
    }
    // End before start is simply empty.
    let reply = send(
        &app,
        Call::get(format!(
            "{COLLECTION}?start={}&end={}",
            enc(&at(3)),
            enc(&at(1))
        )),
    )
    .await;
    assert_eq!(reply.body["total"], 0);
}

#[tokio::test]
async fn invalid_query_parameters_are_422_at_query_name() {
    let app = app(config());
    let ge = |name: &str, input: &str| {
        error_ctx(
            "greater_than_equal",
            json!(["query", name]),
            "Input should be greater than or equal to 1",
            json!(input),
            json!({"ge": 1}),
        )
    };
    let cases = vec![
        ("size=0", vec![ge("size", "0")]),
        ("page=-1", vec![ge("page", "-1")]),
        (
            "size=abc",
            vec![error(
                "int_parsing",
                json!(["query", "size"]),
                INT_PARSING,
                json!("abc"),
            )],
        ),
        (
            "size=",
            vec![error(
                "int_parsing",
                json!(["query", "size"]),
                INT_PARSING,
                json!(""),
            )],
        ),
        (
            "page=1.5",
            vec![error(
                "int_parsing",
                json!(["query", "page"]),
                INT_PARSING,
                json!("1.5"),
            )],
        ),
        (
            "status=Running",
            vec![error_ctx(
                "enum",
                json!(["query", "status"]),
                ENUM_MSG,
                json!("Running"),
                json!({"expected": ENUM_EXPECTED}),
            )],
        ),
        (
            "status=",
            vec![error_ctx(
                "enum",
                json!(["query", "status"]),
                ENUM_MSG,
                json!(""),
                json!({"expected": ENUM_EXPECTED}),
            )],
        ),
        (
            "selected_workflow_id=abc",
            vec![error_ctx(
                "string_too_short",
                json!(["query", "selected_workflow_id"]),
                "String should have at least 24 characters",
                json!("abc"),
                json!({"min_length": 24}),
            )],
        ),
        (
            "counter_workflow_id=aaaaaaaaaaaaaaaaaaaaaaaaa",
            vec![error_ctx(
                "string_too_long",
                json!(["query", "counter_workflow_id"]),
                "String should have at most 24 characters",
                json!("aaaaaaaaaaaaaaaaaaaaaaaaa"),
                json!({"max_length": 24}),
            )],
        ),
        (
            "start=abc",
            vec![error_ctx(
                "datetime_from_date_parsing",
                json!(["query", "start"]),
                "Input should be a valid datetime or date, input is too short",
                json!("abc"),
                json!({"error": "input is too short"}),
            )],
        ),
        (
            "end=2024-02-30",
            vec![error_ctx(
                "datetime_from_date_parsing",
                json!(["query", "end"]),
                "Input should be a valid datetime or date, day value is outside expected range",
                json!("2024-02-30"),
                json!({"error": "day value is outside expected range"}),
            )],
        ),
        ("size=1&size=0", vec![ge("size", "0")]),
        ("page=0&size=0", vec![ge("size", "0"), ge("page", "0")]),
    ];
    for (query, expected) in cases {
        let reply = send(&app, Call::get(format!("{COLLECTION}?{query}"))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(reply.body, json!({"detail": expected}), "{query}");
    }
    // A later valid value overrides an earlier invalid one.
    assert_eq!(
        send(&app, Call::get(format!("{COLLECTION}?size=0&size=3")))
            .await
            .status,
        StatusCode::OK
    );
}

// ------------------------------------------------------------------------------ get, by id

#[tokio::test]
async fn get_returns_the_stored_simulation_or_404_or_422() {
    let app = app(config());
    let simulation = create(&app, &json!({"logical_id": "x"})).await;
    let id = simulation["_id"].as_str().unwrap();
    let reply = send(&app, Call::get(item(id))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"simulation": simulation}));
    let reply = send(&app, Call::get(item(SOME_ID))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, json!({"detail": "Simulation not found"}));
    // 24 characters that are not hex are just not found.
    let reply = send(&app, Call::get(item(&"z".repeat(24)))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    for method in [Method::GET, Method::DELETE] {
        for (bad, ty, msg, ctx) in [
            (
                "abc",
                "string_too_short",
                "String should have at least 24 characters",
                json!({"min_length": 24}),
            ),
            (
                &"a".repeat(25)[..],
                "string_too_long",
                "String should have at most 24 characters",
                json!({"max_length": 24}),
            ),
        ] {
            let reply = send(&app, Call::new(method.clone(), item(bad))).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(
                reply.body,
                json!({"detail": [error_ctx(ty, json!(["path", "simulation_id"]), msg, json!(bad), ctx)]})
            );
        }
    }
    // The path id is percent-decoded before its length is checked.
    let reply = send(&app, Call::get(item("%20"))).await;
    assert_eq!(reply.body["detail"][0]["input"], " ");
}

// ------------------------------------------------------------------------------------ update

#[tokio::test]
async fn update_changes_only_description_and_status() {
    let app = app(config());
    let body = json!({"logical_id": "l", "description": "d", "max_events": 9, "selected_workflow": {"name": "w"}});
    let before = create(&app, &body).await;
    let id = before["_id"].as_str().unwrap();
    let patch = json!({"description": "new", "status": "completed", "logical_id": "ignored",
                       "max_events": 1, "team_id": "team-b", "_id": "x", "created_by": "me"});
    let reply = send(
        &app,
        Call::patch(id, &patch).key(Some(TEAM_A_OTHER_USER_KEY)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let after = reply.simulation().clone();
    let mut expected_config = before["simulation_config"].clone();
    expected_config["description"] = json!("new");
    expected_config["status"] = json!("completed");
    assert_eq!(after["simulation_config"], expected_config);
    for same in ["_id", "created_at", "created_by", "team_id"] {
        assert_eq!(after[same], before[same], "{same}");
    }
    assert_eq!(after["updated_by"], "user-c");
    assert!(after["updated_at"].as_str().unwrap() > before["updated_at"].as_str().unwrap());
    // Stored: a following get shows it, and a second update moves updated_at on again.
    let fetched = send(&app, Call::get(item(id))).await;
    assert_eq!(fetched.simulation(), &after);
    let again = send(&app, Call::patch(id, &json!({}))).await;
    assert_eq!(again.simulation()["simulation_config"], expected_config);
    assert_eq!(again.simulation()["updated_by"], "user-a");
    assert!(
        again.simulation()["updated_at"].as_str().unwrap() > after["updated_at"].as_str().unwrap()
    );
}

#[tokio::test]
async fn update_with_null_stores_null_and_absent_leaves_alone() {
    let app = app(config());
    let id = create(&app, &json!({"description": "d", "status": "failed"})).await["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = send(&app, Call::patch(&id, &json!({"description": null}))).await;
    assert_eq!(
        reply.simulation()["simulation_config"]["description"],
        Value::Null
    );
    assert_eq!(reply.simulation()["simulation_config"]["status"], "failed");
    let reply = send(&app, Call::patch(&id, &json!({"status": null}))).await;
    assert_eq!(
        reply.simulation()["simulation_config"]["status"],
        Value::Null
    );
    for status in ["pending", "running", "completed", "failed", "cancelled"] {
        let reply = send(&app, Call::patch(&id, &json!({"status": status}))).await;
        assert_eq!(reply.simulation()["simulation_config"]["status"], status);
    }
}

#[tokio::test]
async fn update_validation_errors() {
    let app = app(config());
    let id = create(&app, &json!({})).await["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let enum_error = |input: Value| {
        error_ctx(
            "enum",
            json!(["body", "status"]),
            ENUM_MSG,
            input,
            json!({"expected": ENUM_EXPECTED}),
        )
    };
    let cases = vec![
        (
            json!({"description": 5}),
            vec![error(
                "string_type",
                json!(["body", "description"]),
                STRING_TYPE,
                json!(5),
            )],
        ),
        (json!({"status": "Done"}), vec![enum_error(json!("Done"))]),
        (
            json!({"status": 1, "description": []}),
            vec![
                error(
                    "string_type",
                    json!(["body", "description"]),
                    STRING_TYPE,
                    json!([]),
                ),
                enum_error(json!(1)),
            ],
        ),
    ];
    for (body, expected) in cases {
        let reply = send(&app, Call::patch(&id, &body)).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.body, json!({"detail": expected}), "{body}");
    }
    for value in [json!([]), json!("s"), json!(1), Value::Null] {
        let reply = send(&app, Call::patch(&id, &value)).await;
        assert_eq!(
            reply.body,
            json!({"detail": [error("dict_type", json!(["body"]), DICT_TYPE, value.clone())]})
        );
    }
    let reply = send(
        &app,
        Call::new(Method::PATCH, item(&id)).raw("{}", Some("text/plain")),
    )
    .await;
    assert_eq!(
        reply.body,
        json!({"detail": [error("dict_type", json!(["body"]), DICT_TYPE, json!("{}"))]})
    );
    let reply = send(&app, Call::new(Method::PATCH, item(&id))).await;
    assert_eq!(
        reply.body,
        json!({"detail": [error("missing", json!(["body"]), "Field required", Value::Null)]})
    );
    let reply = send(
        &app,
        Call::new(Method::PATCH, item(&id)).raw("{\"status\": ", Some("application/json")),
    )
    .await;
    assert_eq!(reply.detail_types(), ["json_invalid"]);
    // Path and body errors together, path first.
    let reply = send(&app, Call::patch("short", &json!({"status": 3}))).await;
    let locs: Vec<&Value> = reply.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["loc"])
        .collect();
    assert_eq!(
        locs,
        [
            &json!(["path", "simulation_id"]),
            &json!(["body", "status"])
        ]
    );
    // Body errors come before the 404.
    let reply = send(&app, Call::patch(SOME_ID, &json!({"status": 3}))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = send(&app, Call::patch(SOME_ID, &json!({"status": "failed"}))).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, json!({"detail": "Simulation not found"}));
    // Nothing rejected was stored.
    let fetched = send(&app, Call::get(item(&id))).await;
    assert_eq!(fetched.simulation()["simulation_config"], default_config());
}

// ------------------------------------------------------------------------------------ delete

#[tokio::test]
async fn delete_removes_for_good() {
    let app = app(config());
    let keep = create(&app, &json!({"logical_id": "keep"})).await;
    let gone = create(&app, &json!({"logical_id": "gone"})).await;
    let id = gone["_id"].as_str().unwrap();
    let reply = send(&app, Call::delete(item(id))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"message": "Simulation deleted successfully"})
    );
    assert_eq!(
        send(&app, Call::get(item(id))).await.status,
        StatusCode::NOT_FOUND
    );
    let list = send(&app, Call::get(COLLECTION)).await;
    assert_eq!(list.body, json!({"simulations": [keep], "total": 1}));
    let again = send(&app, Call::delete(item(id))).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body, json!({"detail": "Simulation not found"}));
    assert_eq!(
        send(&app, Call::patch(id, &json!({}))).await.status,
        StatusCode::NOT_FOUND
    );
}

// ---------------------------------------------------------------------- methods and paths

#[tokio::test]
async fn other_methods_are_405_with_an_exact_allow_header() {
    let app = app(config());
    let cases = [
        (
            COLLECTION.to_owned(),
            "GET, POST",
            vec![
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::HEAD,
                Method::OPTIONS,
                Method::TRACE,
            ],
        ),
        (
            item(SOME_ID),
            "DELETE, GET, PATCH",
            vec![Method::PUT, Method::POST, Method::HEAD, Method::OPTIONS],
        ),
        (item("short"), "DELETE, GET, PATCH", vec![Method::PUT]),
    ];
    for (uri, allow, methods) in cases {
        for method in methods {
            // Without a key: routing answers before authentication.
            let reply = send(&app, Call::new(method.clone(), uri.clone()).key(None)).await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}"
            );
            assert_eq!(reply.header("allow"), Some(allow), "{method} {uri}");
            if method != Method::HEAD {
                assert_eq!(reply.body, json!({"detail": "Method Not Allowed"}));
            }
        }
    }
    let custom = Method::from_bytes(b"BREW").unwrap();
    let reply = send(&app, Call::new(custom, COLLECTION)).await;
    assert_eq!(reply.header("allow"), Some("GET, POST"));
}

#[tokio::test]
async fn unknown_paths_are_404_not_found_and_trailing_slashes_redirect() {
    let app = app(config());
    for uri in [
        "/",
        "/workflows",
        "/workflows/v1/simulationsx",
        "/workflows/v1/simulations/a/b",
        "/workflows/v2/simulations",
        "/workflows/v1/simulations/a%2Fb",
    ] {
        let reply = send(&app, Call::get(uri).key(None)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.body, json!({"detail": "Not Found"}));
    }
    let reply = send(
        &app,
        Call::get(format!("{COLLECTION}/?size=1")).header("host", "example.test"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        reply.header("location"),
        Some("http://example.test/workflows/v1/simulations?size=1")
    );
    let reply = send(&app, Call::get(format!("{}//", item(SOME_ID)))).await;
    assert_eq!(reply.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(reply.header("location"), Some(item(SOME_ID).as_str()));
}

// ---------------------------------------------------------------------------- check order

#[tokio::test]
async fn checks_run_in_fastapi_order() {
    let app = app(config());
    let post = |body: &str| Call::new(Method::POST, COLLECTION).raw(body, Some("application/json"));
    // Body parsing happens before authentication.
    assert_eq!(
        send(&app, post("{").key(None)).await.detail_types(),
        ["json_invalid"]
    );
    assert_eq!(
        send(&app, post("\u{0}").key(Some("bad"))).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let reply = send(
        &app,
        Call::new(Method::POST, COLLECTION)
            .raw(b"\xff".to_vec(), Some("application/json"))
            .key(None),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let big = vec![b' '; 2 * 1024 * 1024];
    let reply = send(
        &app,
        Call::new(Method::PATCH, item("x")).raw(big, None).key(None),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Authentication before validation, and validation before lookup.
    assert_eq!(
        send(&app, post("{\"max_events\": \"x\"}").key(None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, post("[]").key(Some("bad"))).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, Call::new(Method::POST, COLLECTION).key(None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, Call::get(format!("{COLLECTION}?size=0")).key(None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, Call::get(item("short")).key(None)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, Call::patch("short", &json!([])).key(None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // GET and DELETE never read a body.
    let reply = send(
        &app,
        Call::get(COLLECTION).raw(b"\xff{".to_vec(), Some("application/json")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(
        &app,
        Call::delete(item(SOME_ID)).raw(b"\xff{".to_vec(), Some("application/json")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dev_keys_are_two_teams() {
    let config = reference_server::Config::development();
    assert_eq!(config.keys.len(), 2);
    assert_eq!(config.keys[0].key, DEV_KEY);
    assert_eq!(config.keys[1].key, DEV_OTHER_TEAM_KEY);
    assert_ne!(config.keys[0].team, config.keys[1].team);
    #[cfg(feature = "faults")]
    assert!(config.faults.is_empty());
    assert!(config.latency.is_zero());
}
