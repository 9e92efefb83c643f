//! The suite follows the spec it loads: on a copy of the spec with other paths, another id length, another status enum, a higher page-size minimum and a narrower update body, the strategies draw the new values and the checks expect them, with no change of code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Spec;
use crate::checks;
use crate::request::{Case, Expect};
use crate::response::Response;
use crate::run_state::{Identity, RunState};
use crate::scenario::{Mix, Scenario, arb_scenario};
use crate::verdict::{Applied, Exchange, Verdict};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

const COLLECTION: &str = "/workflows/v2/runs";
const ITEM: &str = "/workflows/v2/runs/{run_id}";
const STATUSES: [&str; 3] = ["queued", "active", "done"];
const ID_LENGTH: usize = 12;
const SMALLEST_PAGE: u64 = 5;

fn stored_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json")
}

/// The stored spec with every fact the suite reads changed.
fn modified_document() -> Value {
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(stored_path()).unwrap()).unwrap();
    let paths = doc["paths"].as_object_mut().unwrap();
    let collection = paths.remove("/workflows/v1/simulations").unwrap();
    let mut item = paths
        .remove("/workflows/v1/simulations/{simulation_id}")
        .unwrap();
    for method in ["get", "patch", "delete"] {
        let id = &mut item[method]["parameters"][0];
        id["name"] = json!("run_id");
        id["schema"]["minLength"] = json!(ID_LENGTH);
        id["schema"]["maxLength"] = json!(ID_LENGTH);
    }
    paths.insert(COLLECTION.into(), collection);
    paths.insert(ITEM.into(), item);
    for parameter in doc["paths"][COLLECTION]["get"]["parameters"]
        .as_array_mut()
        .unwrap()
    {
        if parameter["name"] == "size" {
            parameter["schema"]["minimum"] = json!(SMALLEST_PAGE);
            parameter["schema"]["default"] = json!(10);
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    schemas["SimulationStatus"]["enum"] = json!(STATUSES);
    for config in ["SimulationConfig-Input", "SimulationConfig-Output"] {
        schemas[config]["properties"]["status"]["default"] = json!(STATUSES[0]);
    }
    // PATCH may change the status only; a description in a PATCH must now be ignored.
    schemas["SimulationUpdate"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    doc
}

/// The modified spec, written to a temporary file and read back as a run reads it.
fn modified() -> Spec {
    static COPIES: AtomicUsize = AtomicUsize::new(0);
    // One file per call: the tests run in parallel and each removes its own.
    let path = std::env::temp_dir().join(format!(
        "contract-tests-modified-spec-{}-{}.json",
        std::process::id(),
        COPIES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, serde_json::to_vec(&modified_document()).unwrap()).unwrap();
    let spec = Spec::load(&path);
    std::fs::remove_file(&path).unwrap();
    spec.unwrap()
}

fn stored() -> Spec {
    Spec::load(&stored_path()).unwrap()
}

fn draw(spec: &Spec, count: usize) -> Vec<Scenario> {
    let strategy = arb_scenario(spec, Mix::Full);
    let mut runner = TestRunner::deterministic();
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn query_value<'a>(path_and_query: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = path_and_query.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
}

#[test]
fn the_routes_come_from_the_spec() {
    let spec = modified();
    let api = &spec.api;
    assert_eq!(api.collection(), COLLECTION);
    assert_eq!(api.item_template(), ITEM);
    assert_eq!(api.id().name, "run_id");
    assert_eq!(api.get("abc").path_and_query, "/workflows/v2/runs/abc");
    assert_eq!(api.update("abc", json!({})).method, "PATCH");
    for scenario in draw(&spec, 3000) {
        if let Scenario::Single(case) = scenario {
            assert!(
                case.request.path_and_query.starts_with(COLLECTION),
                "{:?}",
                case.request
            );
        }
    }
}

#[test]
fn the_strategies_draw_what_the_modified_spec_allows() {
    let spec = modified();
    let mut seen = BTreeSet::new();
    for scenario in draw(&spec, 4000) {
        match scenario {
            Scenario::Listing(plan) => {
                for record in &plan.records {
                    // Absent: the create leaves it out and the record holds the default.
                    if let Some(status) = &record.status {
                        assert!(STATUSES.contains(&status.as_str()), "{record:?}");
                    }
                }
                seen.insert("listing statuses");
            }
            Scenario::Paging(plan) => {
                assert!(plan.size as u64 >= SMALLEST_PAGE, "{plan:?}");
                seen.insert("page sizes");
            }
            Scenario::Lifecycle(plan) => {
                if let Some(status) = plan.patch.get("status").filter(|s| !s.is_null()) {
                    assert!(STATUSES.contains(&status.as_str().unwrap()), "{plan:?}");
                    seen.insert("patched statuses");
                }
            }
            Scenario::Single(Case { request, expect }) => match expect {
                Expect::NotFound => {
                    let id = request.path_and_query.rsplit('/').next().unwrap();
                    assert_eq!(id.len(), ID_LENGTH, "{request:?}");
                    seen.insert("unknown ids");
                }
                Expect::Reject {
                    mutation: "wrong_length",
                    ..
                } => {
                    let id = request.path_and_query.rsplit('/').next().unwrap();
                    assert_ne!(id.len(), ID_LENGTH, "{request:?}");
                    assert!(id.len() <= ID_LENGTH + 1, "{request:?}");
                    seen.insert("ids of a wrong length");
                }
                Expect::Reject {
                    mutation: "bad_query",
                    ..
                } => {
                    if let Some(size) = query_value(&request.path_and_query, "size") {
                        let below_minimum =
                            size.parse::<i64>().is_ok_and(|n| n < SMALLEST_PAGE as i64);
                        let not_an_integer = size.parse::<i64>().is_err();
                        assert!(below_minimum || not_an_integer, "{request:?}");
                        if size == "4" {
                            seen.insert("a size just below the minimum");
                        }
                    }
                    if let Some(status) = query_value(&request.path_and_query, "status") {
                        assert!(!STATUSES.contains(&status), "{request:?}");
                        seen.insert("refused statuses");
                    }
                }
                Expect::Listed(expectation) => {
                    let size = query_value(&request.path_and_query, "size").unwrap();
                    assert!(size.parse::<u64>().unwrap() >= SMALLEST_PAGE, "{request:?}");
                    if let Some(status) = &expectation.filter.status {
                        assert!(STATUSES.contains(&status.as_str()), "{request:?}");
                        seen.insert("listed statuses");
                    }
                }
                Expect::NotAllowed { allow } => {
                    let on_item = request.path_and_query != COLLECTION;
                    let expected = if on_item {
                        ["DELETE", "GET", "PATCH"].as_slice()
                    } else {
                        ["GET", "POST"].as_slice()
                    };
                    assert_eq!(allow, expected, "{request:?}");
                    assert!(!allow.contains(&request.method), "{request:?}");
                    seen.insert("405s");
                }
                Expect::Accept { sent, .. } => {
                    if let Some(status) = sent.get("status").and_then(Value::as_str) {
                        assert!(STATUSES.contains(&status), "{sent}");
                        seen.insert("created statuses");
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    let every_kind = BTreeSet::from([
        "listing statuses",
        "page sizes",
        "patched statuses",
        "unknown ids",
        "ids of a wrong length",
        "a size just below the minimum",
        "refused statuses",
        "listed statuses",
        "405s",
        "created statuses",
    ]);
    assert_eq!(seen, every_kind);
}

fn verdict(spec: &Spec, check: &str, case: &Case, response: &Response) -> Verdict {
    let state = RunState::new(Identity::default());
    let exchange = Exchange {
        spec,
        case,
        response,
        state: &state,
    };
    (checks::find(check).unwrap().run)(&exchange)
}

fn simulation(id: &str, description: &str, status: &str) -> Value {
    let mut config = stored().create_body.all_defaults();
    config["description"] = json!(description);
    config["status"] = json!(status);
    json!({"team_id": "team-a", "created_by": "user-a", "updated_by": "user-a",
        "created_at": "2026-11-28T12:00:00Z", "updated_at": "2026-11-28T12:00:00Z",
        "_id": id, "simulation_config": config})
}

fn ok(body: &Value) -> Response {
    Response::new(
        200,
        Some("application/json".into()),
        serde_json::to_vec(body).unwrap(),
    )
}

#[test]
fn the_checks_expect_what_the_modified_spec_says() {
    let (modified, stored) = (modified(), stored());
    let short_id = "0123456789ab";
    let before = simulation(short_id, "old", "queued");
    let patch = json!({"description": "new", "status": "active"});
    let case = Case {
        request: modified.api.update(short_id, patch.clone()),
        expect: Expect::Updated {
            before: before.clone(),
            patch,
            strictly_later: false,
        },
    };
    // Only the status may change now: a description in the PATCH is ignored.
    let status_only = ok(&json!({"simulation": simulation(short_id, "old", "active")}));
    let both = ok(&json!({"simulation": simulation(short_id, "new", "active")}));
    assert!(matches!(
        verdict(&modified, "update_semantics", &case, &status_only),
        Ok(Applied::Passed(_))
    ));
    assert!(verdict(&modified, "update_semantics", &case, &both).is_err());
    assert!(
        verdict(&stored, "update_semantics", &case, &status_only).is_err(),
        "the stored spec lets PATCH change the description"
    );
    // An `_id` must fit the item path's id: 12 characters now, 24 in the stored spec.
    let read = Case {
        request: modified.api.get(short_id),
        expect: Expect::Success,
    };
    let long_id = ok(&json!({"simulation": simulation("0123456789abcdef01234567", "d", "queued")}));
    assert!(matches!(
        verdict(&modified, "server_fields", &read, &status_only),
        Ok(Applied::Passed(_))
    ));
    assert!(verdict(&modified, "server_fields", &read, &long_id).is_err());
    assert!(verdict(&stored, "server_fields", &read, &status_only).is_err());
    assert!(matches!(
        verdict(&stored, "server_fields", &read, &long_id),
        Ok(Applied::Passed(_))
    ));
    // A 405's Allow is the spec's methods of the path.
    let allow = modified.api.methods()[ITEM].clone();
    assert_eq!(allow, ["DELETE", "GET", "PATCH"]);
    let mut request = modified.api.get(short_id);
    request.method = "PUT".into();
    let not_allowed = Case {
        request,
        expect: Expect::NotAllowed { allow },
    };
    let mut refusal = Response::new(
        405,
        Some("application/json".into()),
        br#"{"detail": "Method Not Allowed"}"#.to_vec(),
    );
    refusal.allow = Some("GET, PATCH, DELETE".into());
    assert!(matches!(
        verdict(&modified, "method_not_allowed", &not_allowed, &refusal),
        Ok(Applied::Passed(_))
    ));
}
