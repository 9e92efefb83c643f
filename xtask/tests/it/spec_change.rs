//! A spec that grew a field the suite cannot model still runs: the field gets the generic checks and one warning line, never an exit 2.

use crate::support;

use std::path::PathBuf;
use std::sync::Arc;

use support::{text, xtask};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/spec-change/{name}"))
}

const TAGS_WARNING: &str =
    "warning: simulation_config.tags: type array is not modelled; it gets the generic checks only";

/// `spec diff` calls the change non-breaking, so the gate must not turn red on it.
#[test]
fn an_optional_array_field_is_a_non_breaking_change() {
    let stored = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
    let new = fixture("tags-array.json");
    let out = xtask(
        &[
            "spec",
            "diff",
            stored.to_str().unwrap(),
            new.to_str().unwrap(),
        ],
        None,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("/tags: optional property added"),
        "{stdout}"
    );
    assert!(!stdout.contains("BREAKING"), "{stdout}");
}

#[test]
fn a_spec_with_an_unmodellable_field_runs_clean_with_one_warning() {
    let spec = fixture("tags-array.json");
    let out = xtask(
        &[
            "contract",
            "--spec",
            spec.to_str().unwrap(),
            "--cases",
            "300",
            "--seed",
            "11",
            "--no-regressions",
            "--no-baseline",
            "--quiet",
        ],
        None,
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings, [TAGS_WARNING], "{stderr}");
    assert!(stdout.contains("summary: 300 cases"), "{stdout}");
}

/// The warnings reach the JSON summary, which CI reads, as well as stderr.
#[test]
fn the_json_summary_carries_the_warnings() {
    let spec = fixture("tags-array.json");
    let out = xtask(
        &[
            "contract",
            "--spec",
            spec.to_str().unwrap(),
            "--cases",
            "50",
            "--seed",
            "5",
            "--no-regressions",
            "--no-baseline",
            "--quiet",
            "--message-format",
            "json",
        ],
        None,
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["warnings"],
        serde_json::json!([TAGS_WARNING.trim_start_matches("warning: ")]),
        "{summary}"
    );
}

/// A spec the suite cannot use at all is still a run not made: the item path gone, a core field
/// gone, a document that does not parse.
#[test]
fn a_spec_the_suite_cannot_use_is_still_exit_2() {
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("tags-array.json")).unwrap())
            .unwrap();
    let mut no_item_path = stored.clone();
    no_item_path["paths"]
        .as_object_mut()
        .unwrap()
        .retain(|p, _| !p.contains('{'));
    let mut no_logical_id = stored;
    no_logical_id["components"]["schemas"]["SimulationConfig-Input"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("logical_id");
    for (name, document, says) in [
        ("no-item-path", no_item_path.to_string(), "get_simulation"),
        ("no-logical-id", no_logical_id.to_string(), "/logical_id"),
        ("not-json", "{ nope".to_owned(), "spec"),
    ] {
        let path = support::temp_path(&format!("{name}.json"));
        std::fs::write(&path, document).unwrap();
        let out = xtask(
            &[
                "contract",
                "--spec",
                path.to_str().unwrap(),
                "--cases",
                "5",
                "--no-regressions",
            ],
            None,
        );
        let _ = std::fs::remove_file(&path);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        let errors = support::error_lines(&stderr);
        assert_eq!(errors.len(), 1, "{name}: {stderr}");
        assert!(errors[0].contains(says), "{name}: {stderr}");
    }
}

/// A server that stores a `tags` value of its own on every record (derived from the id, the
/// same on every read): the service after the spec change, which the suite never sends `tags`
/// to. The proxy adds it to every simulation it relays.
async fn tagging_proxy(upstream: String) -> String {
    use axum::extract::{Request, State};
    use axum::http::header;
    use axum::response::Response;

    async fn forward(
        State(upstream): State<Arc<(reqwest::Client, String)>>,
        request: Request,
    ) -> Response {
        let (client, upstream) = &*upstream;
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 16 << 20).await.unwrap();
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut sent = client.request(parts.method, format!("{upstream}{path}"));
        for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
            if let Some(value) = parts.headers.get(&name) {
                sent = sent.header(name, value);
            }
        }
        if !body.is_empty() {
            sent = sent.body(body);
        }
        let answer = sent.send().await.expect("the upstream answers");
        let (status, headers) = (answer.status(), answer.headers().clone());
        let bytes = answer.bytes().await.unwrap().to_vec();
        let tag = |sim: &mut serde_json::Value| {
            if let Some(id) = sim["_id"].as_str() {
                let tags = serde_json::json!([format!("t-{}", &id[..id.len().min(6)])]);
                sim["simulation_config"]["tags"] = tags;
            }
        };
        let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(mut doc) if status.is_success() => {
                if doc.get("simulation").is_some() {
                    tag(&mut doc["simulation"]);
                }
                if let Some(list) = doc["simulations"].as_array_mut() {
                    list.iter_mut().for_each(tag);
                }
                doc.to_string().into_bytes()
            }
            _ => bytes,
        };
        support::relayed(status, &headers, bytes)
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(Arc::new((reqwest::Client::new(), upstream)));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The stateful scenarios expect every read to return the `tags` the create answered with, and
/// no check takes it for an unknown key: a run against such a server passes.
#[test]
fn a_server_storing_the_unmodelled_field_passes_and_keeps_it_stable() {
    use contract_tests::run_state::Identity;
    use contract_tests::runner::{Options, run};
    use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY};

    let runtime = support::runtime();
    runtime.block_on(async {
        let server = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let url = tagging_proxy(server.base_url()).await;
        let mut options = Options::new(fixture("tags-array.json"), url, DEV_KEY.to_owned());
        options.other_team_token = Some(DEV_OTHER_TEAM_KEY.into());
        options.identity = Identity {
            team: Some("team-a".into()),
            user: Some("user-a".into()),
        };
        options.cases = 200;
        options.seed = 23;
        // A failure is the test's answer; its shrunk form would only cost time.
        options.fail_fast = true;
        options.shrink_budget = 10;
        let report = run(options).await.unwrap();
        assert_eq!(report.failures(), 0, "{:#?}", report.findings);
        assert_eq!(
            report.spec_warnings,
            [TAGS_WARNING.trim_start_matches("warning: ")]
        );
        server.shutdown().await;
    });
}
