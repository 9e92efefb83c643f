//! The reference server against the FastAPI + pydantic oracle: the same requests, drawn by the suite's own strategies, sent to both in the same order. A divergence on an accepted or always-rejected input fails; divergences on unspecified inputs are written to `oracle/DIVERGENCES.md`, which is committed and compared.

use crate::support::oracle;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use contract_tests::http::{Pacer, Target};
use contract_tests::request::{Auth, Body, Case, Expect, Request};
use contract_tests::run_state::{Identity, RunState};
use contract_tests::runner::case_seed;
use contract_tests::scenario::{Bound, Command, Mix, Scenario, arb_scenario};
use contract_tests::spec::Api;
use contract_tests::verdict::Observation;
use contract_tests::{Operation, Spec};
use proptest::prelude::{Just, any, prop, prop_oneof};
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
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

/// How much of a body the report shows.
const SHOWN_BODY_CHARS: usize = 160;

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
    let bytes = request.body.bytes();
    // Deeply nested bodies would fill the report; their start says what they are.
    let body: String = String::from_utf8_lossy(&bytes)
        .chars()
        .take(SHOWN_BODY_CHARS)
        .chain(std::iter::repeat_n(
            '…',
            usize::from(bytes.len() > SHOWN_BODY_CHARS),
        ))
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
    /// Requests drawn here rather than by the suite, per kind.
    drawn: std::collections::BTreeMap<&'static str, usize>,
}

/// A client of `url` with both development keys, as the suite's runs make one.
fn target(url: &str) -> Target {
    Target::new(
        url,
        DEV_KEY.to_owned(),
        Some(DEV_OTHER_TEAM_KEY.to_owned()),
        Duration::from_secs(30),
        8 << 20,
    )
    .unwrap()
}

#[test]
fn the_reference_server_agrees_with_fastapi_on_the_drawn_requests_the_contract_specifies() {
    interactly_simulations_client::install_crypto_provider();
    let oracle = oracle::start();
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
    let mut stock_500s = Vec::new();
    runtime.block_on(async {
        let reference = reference_server::spawn(Config::development())
            .await
            .unwrap();
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
                if stock_fastapi_500(&left, &right) {
                    tainted = true;
                    stock_500s.push(line);
                } else if set == InputSet::Unspecified || tainted {
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
                // The reference server keeps the contract where stock FastAPI does not.
                Some(rule) if rule == "never.5xx" && !stock_fastapi_500(&left, &right) => {
                    specified_divergences.push(format!("edge, stock FastAPI's 500 expected: {line}"));
                }
                Some(rule) => contract_disagreements.push(format!("{line}\n  - rule: `{rule}`")),
            }
        }
        // Requests drawn here for what the suite's strategies do not draw: date-time query
        // values, body encodings, non-finite numbers, integers at the 64-bit edges. The
        // contract (or, where it says [fastapi], real FastAPI) fixes every answer, so each must
        // agree, but for stock FastAPI's own 500s.
        let mut runner = TestRunner::new_with_rng(
            ProptestConfig::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &case_seed(SEED, u64::MAX)),
        );
        // One record on each server, created now, so that a bound's reading shows in `total`.
        let mut seeded = Vec::new();
        for server in &servers {
            let reply = server.send(&spec.api.create(json!({"max_events": 1}))).await;
            seeded.push(
                reply
                    .ok()
                    .and_then(|r| r.json)
                    .and_then(|j| j["simulation"]["_id"].as_str().map(str::to_owned))
                    .expect("a create on each server"),
            );
        }
        for (kind, strategy, n) in fidelity_draws(&spec.api) {
            for _ in 0..n {
                let request = strategy.new_tree(&mut runner).unwrap().current();
                let (observation, left, right) = both(&servers, &spec.api, &request).await;
                count(&mut tally, &observation);
                *tally.drawn.entry(kind).or_default() += 1;
                if left == right {
                    continue;
                }
                let line = format!(
                    "- {kind} (`{}`)\n  - reference server: `{left}`\n  - FastAPI oracle: `{right}`",
                    shown_request(&observation)
                );
                if stock_fastapi_500(&left, &right) {
                    stock_500s.push(line);
                } else {
                    specified_divergences.push(format!("drawn: {line}"));
                }
            }
        }
        for (server, id) in servers.iter().zip(&seeded) {
            let _ = server.send(&spec.api.delete(id)).await;
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
    let report = render_report(
        &tally,
        &unspecified_divergences,
        &stock_500s,
        &contract_disagreements,
    );
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
    let deep = format!(
        "{{\"selected_workflow\": {{\"dynamic_variables\": {{\"x\": {}1{}}}}}}}",
        "{\"a\": ".repeat(300),
        "}".repeat(300)
    );
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
            what: "NaN inside dynamic_variables (Python's JSON reader takes it, stored as null)",
            request: create(
                Some("application/json"),
                br#"{"selected_workflow": {"dynamic_variables": {"x": NaN}}}"#,
            ),
            rule: None,
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
            what: "dynamic_variables nested 300 deep",
            request: create(Some("application/json"), deep.as_bytes()),
            rule: Some("never.5xx"),
        },
        Edge {
            what: "a UTF-16 body",
            request: create(Some("application/json"), &utf16),
            rule: None,
        },
        Edge {
            what: "an integral float past 64 bits",
            request: create(Some("application/json"), br#"{"max_events": 1e20}"#),
            rule: None,
        },
    ]
}

fn render_report(
    tally: &Tally,
    divergences: &[String],
    stock_500s: &[String],
    disagreements: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Reference server against the FastAPI oracle: divergences on unspecified inputs\n"
    );
    let _ = writeln!(
        out,
        "Generated by `cargo test -p xtask --test it differential` (rewrite it with \
         `UPDATE_DIVERGENCES=1`). The test sends the same {} requests, drawn by the suite's \
         strategies from seed {SEED} (the full mix, then {CREATES} single creates, then {} \
         requests drawn by the test itself: {}), to the reference server and to the FastAPI + \
         pydantic oracle in `oracle/`, and compares status, the `(type, loc)` set of each 422, \
         the detail of other errors and the stored configs. A divergence on an input \
         CONTRACT.md specifies fails the test; the ones below are on inputs it leaves \
         unspecified, where either answer keeps the contract. Where the oracle answers 5xx and \
         the reference server the contract's 4xx, the request is one of stock FastAPI's own \
         faults (CONTRACT.md's last section: NaN, infinities or `1e400` in a typed field, a \
         lone surrogate, deep nesting): not a divergence of the reference server, and listed \
         apart below.\n",
        tally.requests,
        tally.drawn.values().sum::<usize>(),
        tally
            .drawn
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
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
    let mut distinct = std::collections::BTreeMap::<&str, usize>::new();
    for line in stock_500s {
        *distinct.entry(line).or_default() += 1;
    }
    let _ = writeln!(
        out,
        "\n## Stock FastAPI's 500s among the drawn requests\n\n{} request(s), {} distinct, the \
         oracle answered with 5xx and the reference server with the contract's 4xx.\n",
        stock_500s.len(),
        distinct.len()
    );
    for (line, n) in distinct {
        let times = if n > 1 {
            format!(" ({n} times)")
        } else {
            String::new()
        };
        let (first, rest) = line.split_once('\n').unwrap_or((line, ""));
        let _ = writeln!(out, "{first}{times}\n{rest}");
    }
    let _ = writeln!(
        out,
        "\n## Where real FastAPI breaks a rule of CONTRACT.md\n\nHand-written requests from \
         `oracle/README.md`: stock FastAPI's own faults, which CONTRACT.md's last section names. \
         The reference server keeps the contract.\n"
    );
    for line in disagreements {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// Whether a pair of answers is one of stock FastAPI's own faults (CONTRACT.md's last
/// section: NaN or infinities in a typed field, a lone surrogate, deep nesting): the oracle
/// answers 5xx where the reference server answers the contract's 4xx. Not a divergence of the
/// reference server; such pairs are listed apart in the report.
fn stock_fastapi_500(ours: &Value, theirs: &Value) -> bool {
    theirs["status"] == "5xx or no response"
        && ours["status"]
            .as_u64()
            .is_some_and(|status| (400..500).contains(&status))
}

/// Percent-encodes every byte but ASCII letters and digits, so `+` stays a plus sign.
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A create request with these exact bytes as its JSON body.
fn create_bytes(api: &Api, body: Vec<u8>) -> Request {
    Request {
        content_type: Some("application/json".into()),
        body: Body::Bytes(body),
        ..api.request(Operation::Create, "")
    }
}

/// A date-time text of every shape pydantic's parser meets: separators, fractions of 1 to 9
/// digits, offsets of every shape (and some it refuses), years 0 to 9999, bare dates. Its
/// instant is never within a day of now, so a record created now is on the same side of it on
/// both servers.
fn arb_datetime_text() -> impl Strategy<Value = String> {
    let year = prop_oneof![
        select(vec![0u32, 1, 1969, 1970, 2038, 9999]),
        2000u32..2020,
        2100u32..9999,
    ];
    let date = (year, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"));
    let fraction = prop_oneof![
        Just(String::new()),
        (1usize..=9, any::<u64>())
            .prop_map(|(n, x)| format!(".{:0>9}", x % 1_000_000_000)[..=n].to_owned()),
        Just(",5".to_owned()),
        Just(".".to_owned()),
    ];
    let offset = select(vec![
        "", "Z", "z", "+05", "+0530", "+05:30", "-00:00", "+00:00", "-23:59", "+23:59", "+24:00",
        "+05:3", "-0800",
    ]);
    let time = (
        0u32..=24,
        0u32..=60,
        prop_oneof![Just(None), (0u32..=60).prop_map(Some)],
        fraction,
    )
        .prop_map(|(h, m, s, fraction)| match s {
            Some(s) => format!("{h:02}:{m:02}:{s:02}{fraction}"),
            None => format!("{h:02}:{m:02}"),
        });
    prop_oneof![
        date.clone(),
        (date, select(vec!["T", "t", " ", "_"]), time, offset)
            .prop_map(|(date, sep, time, offset)| format!("{date}{sep}{time}{offset}")),
    ]
}

/// Numbers and numeric strings read as Unix time: seconds below 2×10^10 and milliseconds above,
/// both signs, the edges of the rule and of years 1 to 9999, fractions, `.5`, `+1000`, and
/// forms pydantic refuses.
fn arb_unix_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Seconds, before 2020 or after 2030 (never near now), either sign.
        (
            any::<bool>(),
            prop_oneof![0i64..1_577_836_800, 1_893_456_000i64..20_000_000_000]
        )
            .prop_map(|(neg, s)| if neg { format!("-{s}") } else { s.to_string() }),
        // Milliseconds, likewise.
        (
            any::<bool>(),
            prop_oneof![
                20_000_000_001i64..1_577_836_800_000,
                1_893_456_000_000i64..253_402_300_800_000
            ]
        )
            .prop_map(|(neg, ms)| if neg {
                format!("-{ms}")
            } else {
                ms.to_string()
            }),
        (0i64..1_500_000_000, 1usize..=9).prop_map(|(s, n)| format!("{s}.{}", "5".repeat(n))),
        select(vec![
            "0",
            "-0",
            ".5",
            "-.5",
            "+1000",
            "+-1",
            "1000.",
            "1e3",
            "1.5e10",
            " 5",
            "5 ",
            "0x10",
            "19999999999",
            "20000000000",
            "20000000001",
            "-20000000000",
            "-20000000001",
            "253402300799",
            "253402300800",
            "253402300799999",
            "253402300800000",
            "-62135596800",
            "-62135596800000",
            "-62135596801000",
            "99999999999999999999",
            "NaN",
            "inf",
            "",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Python's non-finite number tokens, as they appear in a body.
const NON_FINITE: [&str; 5] = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"];

/// `dynamic_variables` with a non-finite number at some depth, in arrays and objects.
fn arb_non_finite_variables() -> impl Strategy<Value = String> {
    (
        select(NON_FINITE.to_vec()),
        prop::collection::vec(any::<bool>(), 0..8),
    )
        .prop_map(|(token, path)| {
            let mut text = token.to_owned();
            for (depth, in_array) in path.iter().enumerate() {
                text = if *in_array {
                    format!("[1, {text}]")
                } else {
                    format!("{{\"k{depth}\": {text}, \"n\": null}}")
                };
            }
            format!(
                "{{\"selected_workflow\": {{\"dynamic_variables\": {{\"x\": {text}}}}}, \
                 \"max_events\": 3}}"
            )
        })
}

/// A typed field holding a non-finite number: stock FastAPI's 500, the contract's 422.
fn arb_non_finite_field() -> impl Strategy<Value = String> {
    let field = select(vec![
        "max_events",
        "timeout_seconds",
        "number_of_simulations",
        "stop_on_failure",
        "logical_id",
        "status",
        "counter_workflow",
    ]);
    (field, select(NON_FINITE.to_vec()))
        .prop_map(|(field, token)| format!("{{\"{field}\": {token}}}"))
}

/// Integers at ±2^63, as floats and as strings, in an integer field.
fn arb_int_edge() -> impl Strategy<Value = String> {
    let field = select(vec![
        "max_events",
        "timeout_seconds",
        "number_of_simulations",
    ]);
    let value = select(vec![
        "9223372036854775808.0",
        "-9223372036854775808.0",
        "9223372036854775807.0",
        "-9223372036854774784.0",
        "9223372036854774784.0",
        "9.223372036854776e18",
        "-9.223372036854776e18",
        "1e19",
        "\"9223372036854775807\"",
        "\"9223372036854775808\"",
        "\"-9223372036854775808\"",
        "\"-9223372036854775809\"",
        "\"9223372036854775808.0\"",
        "\"-9223372036854775808.00\"",
        "\"5.\"",
        "\"5.0\"",
        "5.0",
        "\" -7 \"",
    ]);
    (field, value).prop_map(|(field, value)| format!("{{\"{field}\": {value}}}"))
}

/// A body in one of the encodings Python's JSON reader detects, or broken in one of the ways
/// it cannot decode. Returns the encoding's name and the bytes.
fn arb_encoded_body() -> impl Strategy<Value = (String, Vec<u8>)> {
    let text = (
        "[a-z]{0,6}",
        select(vec!["", "\u{e9}", "\u{1F600}", "\u{4e2d}\u{6587}"]),
        0u32..1000,
    )
        .prop_map(|(word, wide, n)| {
            format!("{{\"logical_id\": \"{word}{wide}\", \"max_events\": {n}}}")
        });
    let encoding = select(vec![
        "utf-8",
        "utf-8-sig",
        "utf-16",
        "utf-16-be-bom",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "utf-32-be-bom",
        "utf-32-le",
        "utf-32-be",
        "utf-16-le-odd",
        "utf-16-le-lone-surrogate",
        "utf-32-le-past-10ffff",
        "utf-8-broken",
    ]);
    (text, encoding).prop_map(|(text, encoding)| {
        let utf16 = |be: bool, units: Vec<u16>| -> Vec<u8> {
            units
                .into_iter()
                .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect()
        };
        let utf32 = |be: bool, points: Vec<u32>| -> Vec<u8> {
            points
                .into_iter()
                .flat_map(|c| if be { c.to_be_bytes() } else { c.to_le_bytes() })
                .collect()
        };
        let units: Vec<u16> = text.encode_utf16().collect();
        let points: Vec<u32> = text.chars().map(u32::from).collect();
        let bytes = match encoding {
            "utf-8" => text.into_bytes(),
            "utf-8-sig" => [b"\xEF\xBB\xBF".to_vec(), text.into_bytes()].concat(),
            "utf-16" => [vec![0xFF, 0xFE], utf16(false, units)].concat(),
            "utf-16-be-bom" => [vec![0xFE, 0xFF], utf16(true, units)].concat(),
            "utf-16-le" => utf16(false, units),
            "utf-16-be" => utf16(true, units),
            "utf-32" => [vec![0xFF, 0xFE, 0, 0], utf32(false, points)].concat(),
            "utf-32-be-bom" => [vec![0, 0, 0xFE, 0xFF], utf32(true, points)].concat(),
            "utf-32-le" => utf32(false, points),
            "utf-32-be" => utf32(true, points),
            "utf-16-le-odd" => [utf16(false, units), vec![b' ']].concat(),
            "utf-16-le-lone-surrogate" => {
                let units = "{\"logical_id\": \"x\"}".encode_utf16().flat_map(|u| {
                    if u == u16::from(b'x') {
                        vec![0xD800]
                    } else {
                        vec![u]
                    }
                });
                utf16(false, units.collect())
            }
            "utf-32-le-past-10ffff" => {
                let mut points = points;
                points.insert(16, 0x11_0000);
                utf32(false, points)
            }
            _ => {
                let mut bytes = text.into_bytes();
                bytes.insert(16, 0xC3);
                bytes.insert(17, 0x28);
                bytes
            }
        };
        (encoding.to_owned(), bytes)
    })
}

/// Sends one request to both servers, removes whatever it created, and returns the comparable
/// answers (reference server first).
async fn both(servers: &[Target; 2], api: &Api, request: &Request) -> (Observation, Value, Value) {
    let mut observations = Vec::new();
    for server in servers {
        let response = server.send(request).await;
        if let Ok(response) = &response
            && let Some(id) = response
                .json
                .as_ref()
                .and_then(|j| j["simulation"]["_id"].as_str())
            && request.operation == Operation::Create
        {
            let _ = server.send(&api.delete(id)).await;
        }
        observations.push(Observation {
            case: Case {
                request: request.clone(),
                expect: Expect::Success,
            },
            response,
            exercises: Vec::new(),
        });
    }
    let (ours, theirs) = (comparable(&observations[0]), comparable(&observations[1]));
    (observations.swap_remove(0), ours, theirs)
}

/// What the test draws itself, per kind, with how many of each.
fn fidelity_draws(api: &Api) -> Vec<(&'static str, BoxedStrategy<Request>, usize)> {
    let list = {
        let api = api.clone();
        move |(name, value): (&str, String)| api.list(&format!("{name}={}", query_escape(&value)))
    };
    let bound = || select(vec!["start", "end"]);
    let create = |api: &Api| {
        let api = api.clone();
        move |text: String| create_bytes(&api, text.into_bytes())
    };
    let encoded = {
        let api = api.clone();
        move |(_, bytes): (String, Vec<u8>)| create_bytes(&api, bytes)
    };
    vec![
        (
            "date-time texts",
            (bound(), arb_datetime_text())
                .prop_map({
                    let list = list.clone();
                    move |(name, value)| list((name, value))
                })
                .boxed(),
            300,
        ),
        (
            "Unix times",
            (bound(), arb_unix_text())
                .prop_map(move |(name, value)| list((name, value)))
                .boxed(),
            150,
        ),
        (
            "body encodings",
            arb_encoded_body().prop_map(encoded).boxed(),
            150,
        ),
        (
            "non-finite numbers in dynamic_variables",
            arb_non_finite_variables().prop_map(create(api)).boxed(),
            80,
        ),
        (
            "non-finite numbers in typed fields",
            arb_non_finite_field().prop_map(create(api)).boxed(),
            40,
        ),
        (
            "integers at 2^63",
            arb_int_edge().prop_map(create(api)).boxed(),
            80,
        ),
    ]
}

/// The issue's probes, written out: date-time query values, body encodings, NaN and
/// infinities, integers at the 64-bit edges, the bearer credential's white space. Each is sent
/// to both servers; each must agree (for stock FastAPI's own 500s, the reference server's 4xx
/// counts as agreeing with the contract).
fn probes(api: &Api) -> Vec<(String, Request)> {
    let mut out = Vec::new();
    for value in [
        "2024-05-06T07:08:09Z",
        "2024-05-06T07:08:09z",
        "2024-05-06T07:08:09+05",
        "2024-05-06T07:08:09+0530",
        "2024-05-06T07:08:09+05:30",
        "2024-05-06T07:08:09-00:00",
        "2024-05-06T07:08:09-23:59",
        "2024-05-06T07:08:09+24:00",
        "2024-05-06T07:08:09+05:3",
        "2024-05-06T07:08:09 +05:30",
        "2024-05-06T07:08:09.1Z",
        "2024-05-06T07:08:09.123Z",
        "2024-05-06T07:08:09.123456Z",
        "2024-05-06T07:08:09.1234567Z",
        "2024-05-06T07:08:09.123456789Z",
        "2024-05-06T07:08:09,5Z",
        "2024-05-06T07:08:09.Z",
        "2024-05-06 07:08:09",
        "2024-05-06t07:08:09",
        "2024-05-06_07:08:09",
        "2024-05-06T07:08",
        "2024-05-06T07:08Z",
        "2024-05-06T07",
        "2024-05-06",
        "2024-02-30",
        "2024-13-01",
        "0000-01-01",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "9999-12-31",
        "10000-01-01",
        "2024-05-06T24:00:00",
        "2024-05-06T23:59:60",
        "2024-05-06T07:08:09junk",
        "0",
        "1",
        "-1",
        "0.5",
        ".5",
        "+1000",
        "-1000",
        "1000.",
        "1e3",
        " 5",
        "19999999999",
        "20000000000",
        "20000000001",
        "-20000000000",
        "-20000000001",
        "1715000000000",
        "-1715000000000",
        "253402300799",
        "253402300800",
        "253402300799999",
        "253402300800000",
        "-62135596800",
        "-62135596800000",
        "-62135596801000",
        "99999999999999999999",
        "1.5e10",
        "NaN",
        "inf",
        "",
        "abc",
        "2024-05-06T07:08:09+05:30:00",
        "2024-05-06T07:08:09-0800",
    ] {
        out.push((
            format!("start={value:?}"),
            api.list(&format!("start={}", query_escape(value))),
        ));
    }
    let text = "{\"logical_id\": \"\u{e9}t\u{e9} \u{1F600}\", \"max_events\": 7}";
    let units: Vec<u16> = text.encode_utf16().collect();
    let points: Vec<u32> = text.chars().map(u32::from).collect();
    let utf16 = |be: bool, units: &[u16]| -> Vec<u8> {
        units
            .iter()
            .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
            .collect()
    };
    let utf32 = |be: bool, points: &[u32]| -> Vec<u8> {
        points
            .iter()
            .flat_map(|c| if be { c.to_be_bytes() } else { c.to_le_bytes() })
            .collect()
    };
    let lone: Vec<u16> = "{\"logical_id\": \"x\"}"
        .encode_utf16()
        .map(|u| if u == u16::from(b'x') { 0xD800 } else { u })
        .collect();
    let mut past = points.clone();
    past.insert(16, 0x11_0000);
    for (what, bytes) in [
        ("UTF-8", text.as_bytes().to_vec()),
        (
            "UTF-8 with BOM",
            [b"\xEF\xBB\xBF".to_vec(), text.into()].concat(),
        ),
        (
            "UTF-16 LE BOM",
            [vec![0xFF, 0xFE], utf16(false, &units)].concat(),
        ),
        (
            "UTF-16 BE BOM",
            [vec![0xFE, 0xFF], utf16(true, &units)].concat(),
        ),
        ("UTF-16 LE", utf16(false, &units)),
        ("UTF-16 BE", utf16(true, &units)),
        (
            "UTF-32 LE BOM",
            [vec![0xFF, 0xFE, 0, 0], utf32(false, &points)].concat(),
        ),
        (
            "UTF-32 BE BOM",
            [vec![0, 0, 0xFE, 0xFF], utf32(true, &points)].concat(),
        ),
        ("UTF-32 LE", utf32(false, &points)),
        ("UTF-32 BE", utf32(true, &points)),
        (
            "UTF-16 of odd length",
            [utf16(false, &units), vec![b' ']].concat(),
        ),
        ("UTF-16 with a lone surrogate", utf16(false, &lone)),
        ("UTF-32 past U+10FFFF", utf32(false, &past)),
        ("broken UTF-8", b"{\"logical_id\": \"\xc3\x28\"}".to_vec()),
    ] {
        out.push((format!("a body in {what}"), create_bytes(api, bytes)));
    }
    for body in [
        r#"{"selected_workflow": {"dynamic_variables": {"x": NaN}}}"#,
        r#"{"selected_workflow": {"dynamic_variables": {"x": Infinity}}}"#,
        r#"{"selected_workflow": {"dynamic_variables": {"x": -Infinity}}}"#,
        r#"{"selected_workflow": {"dynamic_variables": {"x": 1e400}}}"#,
        r#"{"counter_workflow": {"dynamic_variables": {"a": [1, {"b": [NaN, -1e400]}]}}}"#,
        r#"{"max_events": NaN}"#,
        r#"{"max_events": 1e400}"#,
        r#"{"stop_on_failure": Infinity}"#,
        r#"{"max_events": 9223372036854775808.0}"#,
        r#"{"max_events": -9223372036854775808.0}"#,
        r#"{"max_events": -9223372036854774784.0}"#,
        r#"{"max_events": "9223372036854775808"}"#,
        r#"{"max_events": "-9223372036854775809"}"#,
        r#"{"max_events": "9223372036854775807"}"#,
        r#"{"max_events": "-9223372036854775808"}"#,
        r#"{"max_events": "5."}"#,
        r#"{"max_events": "5.0"}"#,
    ] {
        out.push((body.to_owned(), create_bytes(api, body.as_bytes().to_vec())));
    }
    for (scheme, before, after) in [
        ("Bearer", " ", " "),
        ("bearer", "", "  "),
        ("BEARER", "  ", ""),
    ] {
        let mut request = api.list("size=1");
        request.auth = Auth::PrimaryRespelled {
            scheme,
            before,
            after,
        };
        out.push((
            format!("{scheme} with {before:?} and {after:?} around the key"),
            request,
        ));
    }
    out
}

#[test]
fn the_issues_probes_agree_with_fastapi() {
    interactly_simulations_client::install_crypto_provider();
    let oracle = oracle::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let spec = Spec::load(&workspace().join("spec/openapi.json")).unwrap();
    let probes = probes(&spec.api);
    assert_eq!(probes.len(), 101, "the issue's 101 probes");
    let (agreed, differ) = runtime.block_on(async {
        let reference = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let servers = [target(&reference.base_url()), target(&oracle.base_url)];
        // A record on each server, so that a bound's reading shows in `total`.
        let mut seeded = Vec::new();
        for server in &servers {
            let reply = server.send(&spec.api.create(json!({}))).await.unwrap();
            seeded.push(
                reply.json.unwrap()["simulation"]["_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let mut agreed = 0;
        let mut differ = Vec::new();
        for (what, request) in &probes {
            let (_, ours, theirs) = both(&servers, &spec.api, request).await;
            if ours == theirs || stock_fastapi_500(&ours, &theirs) {
                agreed += 1;
            } else {
                differ.push(format!(
                    "{what}\n  reference server: {ours}\n  FastAPI oracle: {theirs}"
                ));
            }
        }
        for (server, id) in servers.iter().zip(&seeded) {
            let _ = server.send(&spec.api.delete(id)).await;
        }
        reference.shutdown().await;
        (agreed, differ)
    });
    drop(oracle);
    assert!(
        differ.is_empty(),
        "{agreed} of {} probes agree; the rest:\n{}",
        probes.len(),
        differ.join("\n")
    );
}
