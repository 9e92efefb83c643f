//! The reference server against the FastAPI + pydantic oracle: the same requests, drawn by the suite's own strategies, sent to both in the same order. A divergence on an accepted or always-rejected input fails; divergences on unspecified inputs are written to `oracle/DIVERGENCES.md`, which is committed and compared.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use contract_tests::exchange::{
    Auth, Body, Case, Expect, Identity, Observation, Request, RunState,
};
use contract_tests::http::{Pacer, Target};
use contract_tests::runner::case_seed;
use contract_tests::scenario::{Bound, Command, Mix, Scenario, arb_scenario};
use contract_tests::spec::Api;
use contract_tests::{Operation, Spec};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY};
use serde_json::{Value, json};

/// The run's seed: the same seed draws the same requests, so the report is stable.
const SEED: u64 = 20_261_129;
/// At least this many requests of the full mix go to each server.
const MIN_REQUESTS: usize = 2000;
/// Then this many single creates, where most of the coercion rules live.
const CREATES: u64 = 2000;
const REPORT: &str = "oracle/DIVERGENCES.md";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// What the contract says of the input behind a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum InputSet {
    /// Valid values, canonical or lax, and everything the contract's rules fix.
    Specified,
    /// CONTRACT.md's unspecified set: servers may differ.
    Unspecified,
}

fn input_set(expect: &Expect) -> InputSet {
    match expect {
        Expect::Probe { .. } => InputSet::Unspecified,
        _ => InputSet::Specified,
    }
}

/// The parts of a response both servers must agree on: status, the `(type, loc)` set of a 422,
/// the detail of other errors, the `Allow` of a 405, and what a 2xx stored (ids and times apart).
fn comparable(observation: &Observation) -> Value {
    // A 5xx breaks the contract whatever it says, and uvicorn sometimes drops the connection
    // instead of sending its 500: both read the same, so the report stays stable.
    let server_error = json!({"status": "5xx or no response"});
    let Ok(response) = &observation.response else {
        return server_error;
    };
    if response.status >= 500 {
        return server_error;
    }
    let body = response.json.clone().unwrap_or(Value::Null);
    let status = response.status;
    let mut out = json!({"status": status});
    match status {
        422 => {
            let pairs: BTreeSet<String> = body["detail"]
                .as_array()
                .map(|errors| {
                    errors
                        .iter()
                        .map(|e| {
                            let mut loc = e["loc"].clone();
                            // JSON offsets are counted differently by serde_json and Python.
                            if e["type"] == "json_invalid"
                                && let Some(parts) = loc.as_array_mut()
                            {
                                for part in parts.iter_mut().skip(1) {
                                    *part = json!("<offset>");
                                }
                            }
                            format!("{} at {loc}", e["type"].as_str().unwrap_or("?"))
                        })
                        .collect()
                })
                .unwrap_or_default();
            out["errors"] = json!(pairs);
        }
        200..=299 => {
            let simulation = |s: &Value| {
                json!({
                    "simulation_config": s["simulation_config"],
                    "team_id": s["team_id"],
                    "created_by": s["created_by"],
                    "updated_by": s["updated_by"],
                })
            };
            if let Some(s) = body.get("simulation") {
                out["simulation"] = simulation(s);
            }
            if let Some(list) = body.get("simulations").and_then(Value::as_array) {
                out["simulations"] = list.iter().map(simulation).collect();
                out["total"] = body["total"].clone();
            }
            if let Some(message) = body.get("message") {
                out["message"] = message.clone();
            }
        }
        _ => {
            out["detail"] = body.get("detail").cloned().unwrap_or(body);
            if status == 405 {
                out["allow"] = json!(response.allow);
            }
        }
    }
    out
}

/// A request as the report shows it: ids folded, so the report does not change between runs.
fn shown_request(observation: &Observation) -> String {
    let request = &observation.case.request;
    let path = request
        .path_and_query
        .split('/')
        .map(|part| {
            if part.len() == 24 && part.bytes().all(|b| b.is_ascii_hexdigit()) {
                "{id}"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    let body: String = String::from_utf8_lossy(&request.body.bytes())
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    let key = match &request.auth {
        Auth::Primary => String::new(),
        Auth::PrimaryRespelled {
            scheme,
            before,
            after,
        } => {
            format!(" (the key as {scheme:?}, padded with {before:?} and {after:?})")
        }
        Auth::OtherTeam => " (other team's key)".into(),
        Auth::Literal(value) => format!(" (Authorization: {value})"),
        Auth::KeyElsewhere(elsewhere) => format!(" (the key in {elsewhere:?}, no Authorization)"),
        Auth::KeyAltered(alteration) => format!(" (the key altered: {alteration:?})"),
        Auth::None => " (no key)".into(),
    };
    format!("{} {path}{key} {body}", request.method)
}

/// Deletes what a scenario created on one server, so every scenario starts from an empty team
/// and a divergence in one cannot spill into the next.
async fn clear(target: &Target, api: &Api, state: &RunState) {
    let created: Vec<String> = state
        .created
        .lock()
        .unwrap()
        .drain(..)
        .map(|c| c.id)
        .collect();
    for id in created {
        let _ = target.send(&api.delete(&id)).await;
    }
}

#[derive(Default)]
struct Tally {
    requests: usize,
    per_operation: std::collections::BTreeMap<Operation, usize>,
    lax: usize,
    rejected: usize,
    unspecified: usize,
    refused_keys: usize,
    other_team: usize,
    unknown_ids: usize,
}

#[test]
fn the_reference_server_agrees_with_fastapi_on_everything_the_contract_specifies() {
    interactly_simulations_client::install_crypto_provider();
    let oracle = common::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let spec = Spec::load(&workspace().join("spec/openapi.json")).unwrap();
    let full = arb_scenario(&spec, Mix::Full);
    let creates = arb_scenario(&spec, Mix::CreateOnly);
    let mut tally = Tally::default();
    let mut specified_divergences = Vec::new();
    let mut unspecified_divergences = Vec::new();
    let mut contract_disagreements = Vec::new();
    runtime.block_on(async {
        let reference = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let target = |url: &str| {
            Target::new(
                url,
                DEV_KEY.to_owned(),
                Some(DEV_OTHER_TEAM_KEY.to_owned()),
                Duration::from_secs(30),
                8 << 20,
            )
            .unwrap()
        };
        let servers = [target(&reference.base_url()), target(&oracle.base_url)];
        let pacer = Pacer::new(None);
        let state = || RunState::tagged(Identity::default(), "ctdiff".into(), true);
        let states = [state(), state()];
        let mut index = 0;
        let mut creates_drawn = 0;
        while tally.requests < MIN_REQUESTS || creates_drawn < CREATES {
            let strategy = if tally.requests < MIN_REQUESTS {
                &full
            } else {
                creates_drawn += 1;
                &creates
            };
            let mut runner = TestRunner::new_with_rng(
                ProptestConfig::default(),
                TestRng::from_seed(RngAlgorithm::ChaCha, &case_seed(SEED, index)),
            );
            index += 1;
            let mut scenario: Scenario = strategy.new_tree(&mut runner).unwrap().current();
            // Requests in flight together answer in an order only timing decides; the suite's
            // own checks judge them against every serial order, this comparison cannot.
            // Whole Unix seconds as bounds likewise: which neighbours of a record fall inside
            // them depends on where each server's clock crossed a second.
            if let Scenario::Machine(plan) = &mut scenario {
                plan.commands.retain(|c| !c.is_concurrent());
                for command in &mut plan.commands {
                    if let Command::List(query) = command {
                        for bound in [&mut query.start, &mut query.end] {
                            if matches!(bound, Some((_, Bound::UnixFloor | Bound::UnixNext))) {
                                *bound = None;
                            }
                        }
                    }
                }
            }
            let ours = scenario
                .execute(&spec, &servers[0], &pacer, &states[0])
                .await;
            let theirs = scenario
                .execute(&spec, &servers[1], &pacer, &states[1])
                .await;
            for (server, state) in servers.iter().zip(&states) {
                clear(server, &spec.api, state).await;
            }
            // Once an unspecified input diverges, what follows in the scenario is its echo.
            let mut tainted = false;
            for pair in 0..ours.len().max(theirs.len()) {
                let (Some(a), Some(b)) = (ours.get(pair), theirs.get(pair)) else {
                    let line = format!(
                        "scenario {index}: the reference server sent {} requests, the oracle {}",
                        ours.len(),
                        theirs.len()
                    );
                    if tainted {
                        unspecified_divergences.push(line);
                    } else {
                        specified_divergences.push(line);
                    }
                    break;
                };
                count(&mut tally, a);
                let (left, right) = (comparable(a), comparable(b));
                if left == right {
                    continue;
                }
                let set = input_set(&a.case.expect);
                let line = format!(
                    "- `{}`\n  - reference server: `{left}`\n  - FastAPI oracle: `{right}`",
                    shown_request(a)
                );
                if set == InputSet::Unspecified || tainted {
                    tainted = true;
                    unspecified_divergences.push(line);
                } else {
                    specified_divergences.push(format!("scenario {index}, {set:?}: {line}"));
                }
            }
        }
        for edge in edges(&spec.api) {
            let observations: Vec<Observation> = {
                let mut both = Vec::new();
                for server in &servers {
                    both.push(Observation {
                        case: Case {
                            request: edge.request.clone(),
                            expect: Expect::Success,
                        },
                        response: server.send(&edge.request).await,
                        exercises: Vec::new(),
                    });
                }
                both
            };
            let (left, right) = (comparable(&observations[0]), comparable(&observations[1]));
            // Anything an edge request created is removed, as after every drawn scenario.
            for (server, observation) in servers.iter().zip(&observations) {
                if let Ok(response) = &observation.response
                    && let Some(id) = response
                        .json
                        .as_ref()
                        .and_then(|j| j["simulation"]["_id"].as_str())
                {
                    let _ = server.send(&spec.api.delete(id)).await;
                }
            }
            let line = format!(
                "- {} (`{}`)\n  - reference server: `{left}`\n  - FastAPI oracle: `{right}`",
                edge.what,
                shown_request(&observations[0])
            );
            match edge.rule {
                None if left != right => specified_divergences.push(format!("edge: {line}")),
                None => {}
                Some(rule) => contract_disagreements.push(format!("{line}\n  - rule: `{rule}`")),
            }
        }
        reference.shutdown().await;
    });
    drop(oracle);

    assert!(
        specified_divergences.is_empty(),
        "{} divergence(s) on inputs the contract specifies:\n{}",
        specified_divergences.len(),
        specified_divergences.join("\n")
    );
    for operation in Operation::ALL {
        assert!(
            tally.per_operation.get(&operation).copied().unwrap_or(0) >= 10,
            "{} got too few requests: {:?}",
            operation.id(),
            tally.per_operation
        );
    }
    for (what, n) in [
        ("lax values", tally.lax),
        ("always-rejected values", tally.rejected),
        ("unspecified values", tally.unspecified),
        ("refused keys", tally.refused_keys),
        ("the other team's key", tally.other_team),
        ("unknown ids", tally.unknown_ids),
    ] {
        assert!(n > 0, "no request with {what}");
    }
    let report = render_report(&tally, &unspecified_divergences, &contract_disagreements);
    let path = workspace().join(REPORT);
    if std::env::var_os("UPDATE_DIVERGENCES").is_some() {
        std::fs::write(&path, &report).unwrap();
    } else {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == report,
            "{REPORT} is stale: the divergences on unspecified inputs changed; rerun with \
             UPDATE_DIVERGENCES=1, review the diff and commit it.\nNew report:\n{report}"
        );
    }
}

fn count(tally: &mut Tally, observation: &Observation) {
    tally.requests += 1;
    *tally
        .per_operation
        .entry(observation.case.request.operation)
        .or_default() += 1;
    match &observation.case.expect {
        Expect::Accept { sent, stored } if is_lax(sent, stored) => tally.lax += 1,
        Expect::Reject { .. } => tally.rejected += 1,
        Expect::Probe { .. } => tally.unspecified += 1,
        Expect::Unauthorized { .. } => tally.refused_keys += 1,
        Expect::NotFound => tally.unknown_ids += 1,
        _ => {}
    }
    if observation.case.request.auth == Auth::OtherTeam {
        tally.other_team += 1;
    }
}

/// Whether a valid body holds a value the server must canonicalise (`"5"` for 5, `"yes"` for
/// true): some field sent differs from what must be stored there.
fn is_lax(sent: &Value, stored: &Value) -> bool {
    match (sent, stored) {
        (Value::Object(sent), Value::Object(stored)) => sent
            .iter()
            .any(|(key, value)| stored.get(key).is_some_and(|s| is_lax(value, s))),
        (Value::Object(_), _) => false,
        _ => sent != stored,
    }
}

/// A request written by hand where FastAPI is known to surprise: from the oracle's README.
struct Edge {
    what: &'static str,
    request: Request,
    /// `None`: the contract fixes the answer, so the servers must agree. `Some(rule)`: real
    /// FastAPI breaks that CONTRACT.md rule; both answers go to the report.
    rule: Option<&'static str>,
}

fn edges(api: &Api) -> Vec<Edge> {
    let create = |content_type: Option<&str>, body: &[u8]| Request {
        content_type: content_type.map(str::to_owned),
        body: Body::Bytes(body.to_vec()),
        ..api.request(Operation::Create, "")
    };
    let list = |query: &str| api.list(query);
    let mut spaced_key = list("size=1");
    spaced_key.auth = Auth::Literal(format!("Bearer  {DEV_KEY} "));
    let mut patch_without_type = api.request(Operation::Update, "0123456789abcdef01234567");
    patch_without_type.body = Body::Bytes(b"{}".to_vec());
    let utf16: Vec<u8> = "{\"logical_id\": \"utf16\"}"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    vec![
        Edge {
            what: "a create body without a content type",
            request: create(None, br#"{"logical_id": "no-type"}"#),
            rule: None,
        },
        Edge {
            what: "an update body without a content type",
            request: patch_without_type,
            rule: None,
        },
        Edge {
            what: "a key with spaces around it",
            request: spaced_key,
            rule: None,
        },
        Edge {
            what: "a page past 64 bits",
            request: list("size=1&page=99999999999999999999999"),
            rule: None,
        },
        Edge {
            what: "a size past 64 bits",
            request: list("size=99999999999999999999"),
            rule: None,
        },
        Edge {
            what: "NaN inside dynamic_variables (Python's JSON reader takes it)",
            request: create(
                Some("application/json"),
                br#"{"selected_workflow": {"dynamic_variables": {"x": NaN}}}"#,
            ),
            rule: Some("body.json-invalid"),
        },
        Edge {
            what: "NaN in an integer field",
            request: create(Some("application/json"), br#"{"max_events": NaN}"#),
            rule: Some("never.5xx"),
        },
        Edge {
            what: "a lone surrogate in a string",
            request: create(Some("application/json"), br#"{"logical_id": "\ud800"}"#),
            rule: Some("never.5xx"),
        },
        Edge {
            what: "a UTF-16 body",
            request: create(Some("application/json"), &utf16),
            rule: Some("body.not-utf8"),
        },
        Edge {
            what: "an integral float past 64 bits",
            request: create(Some("application/json"), br#"{"max_events": 1e20}"#),
            rule: Some("coerce.accepted"),
        },
    ]
}

fn render_report(tally: &Tally, divergences: &[String], disagreements: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Reference server against the FastAPI oracle: divergences on unspecified inputs\n"
    );
    let _ = writeln!(
        out,
        "Generated by `cargo test -p xtask --test differential` (rewrite it with \
         `UPDATE_DIVERGENCES=1`). The test sends the same {} requests, drawn by the suite's \
         strategies from seed {SEED} (the full mix, then {CREATES} single creates), to the reference server and to the FastAPI + pydantic \
         oracle in `oracle/`, and compares status, the `(type, loc)` set of each 422, the \
         detail of other errors and the stored configs. A divergence on an input CONTRACT.md \
         specifies fails the test; the ones below are on inputs it leaves unspecified, where \
         either answer keeps the contract.\n",
        tally.requests
    );
    let _ = writeln!(
        out,
        "Requests per operation: {}. Lax values {}, always-rejected {}, unspecified {}, \
         refused keys {}, other team's key {}, unknown ids {}.\n",
        tally
            .per_operation
            .iter()
            .map(|(op, n)| format!("{} {n}", op.id()))
            .collect::<Vec<_>>()
            .join(", "),
        tally.lax,
        tally.rejected,
        tally.unspecified,
        tally.refused_keys,
        tally.other_team,
        tally.unknown_ids
    );
    if divergences.is_empty() {
        let _ = writeln!(out, "No divergences.");
    } else {
        let _ = writeln!(out, "{} divergence(s):\n", divergences.len());
        for line in divergences {
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(
        out,
        "\n## Where real FastAPI breaks a rule of CONTRACT.md\n\nHand-written requests from \
         `oracle/README.md`. The reference server keeps the contract; these are for the \
         contract's owners to settle.\n"
    );
    for line in disagreements {
        let _ = writeln!(out, "{line}");
    }
    out
}
