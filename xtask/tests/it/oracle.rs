//! `cargo xtask oracle` as a developer runs it: the FastAPI oracle serves all five operations and the contract's 401, 404, 405 and 422 on loopback, with bodies that match the spec.

use crate::support::oracle;

use std::path::Path;
use std::process::Command;

use oracle::{Running, start};

use contract_tests::{Operation, Spec};
use serde_json::{Value, json};

const KEY_A: &str = "dev-key-team-a";
const KEY_B: &str = "dev-key-team-b";
const COLLECTION: &str = "/workflows/v1/simulations";
fn spec() -> Spec {
    Spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json")).unwrap()
}

/// One exchange, as much of it as the assertions need.
#[derive(Debug)]
struct Reply {
    status: u16,
    allow: Option<String>,
    www_authenticate: Option<String>,
    body: Value,
}

struct Client {
    http: reqwest::Client,
    base_url: String,
    spec: Spec,
}

impl Client {
    fn new(oracle: &Running) -> Client {
        interactly_simulations_client::install_crypto_provider();
        Client {
            http: reqwest::Client::new(),
            base_url: oracle.base_url.clone(),
            spec: spec(),
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the oracle answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (allow, www_authenticate) = (header("allow"), header("www-authenticate"));
        let status = response.status().as_u16();
        let body = response.json().await.expect("a JSON body");
        Reply {
            status,
            allow,
            www_authenticate,
            body,
        }
    }

    /// Sends as team A and checks the body against the spec's schema for its status.
    async fn checked(&self, op: Operation, path: &str, body: Option<Value>) -> Reply {
        let method = self.spec.api.route(op).method.clone();
        let reply = self.send(&method, path, Some(KEY_A), body).await;
        let violations = self
            .spec
            .responses
            .violations(op, reply.status, &reply.body)
            .unwrap_or_else(|| panic!("{} answered undocumented {reply:?}", op.id()));
        assert!(violations.is_empty(), "{violations:?} in {reply:?}");
        reply
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn all_five_operations_over_loopback() {
    let oracle = start();
    let client = Client::new(&oracle);
    runtime().block_on(async {
        let tag = format!("oracle-test-{}", std::process::id());
        let created = client
            .checked(
                Operation::Create,
                COLLECTION,
                Some(json!({
                    "logical_id": tag,
                    "max_events": "250",
                    "selected_workflow": {"workflow_id": "5eb7cf5a86d9755df3a6c593", "x-unknown": 1},
                    "x-unknown": true,
                })),
            )
            .await;
        assert_eq!(created.status, 200, "{created:?}");
        let sim = &created.body["simulation"];
        let id = sim["_id"].as_str().unwrap().to_owned();
        assert_eq!(sim["created_at"], sim["updated_at"]);
        assert_eq!(
            (&sim["team_id"], &sim["created_by"]),
            (&json!("team-a"), &json!("user-a"))
        );
        let config = &sim["simulation_config"];
        assert_eq!(config["max_events"], 250, "canonicalised");
        assert_eq!(config["status"], "pending", "defaulted");
        assert_eq!(config["counter_workflow"]["total_events"], 0);
        assert_eq!(config["selected_workflow"]["dynamic_variables"], json!({}));
        assert!(config.get("x-unknown").is_none() && config["selected_workflow"].get("x-unknown").is_none());

        let item = format!("{COLLECTION}/{id}");
        let got = client.checked(Operation::Get, &item, None).await;
        assert_eq!((got.status, &got.body["simulation"]), (200, sim));

        let listed = client
            .checked(
                Operation::List,
                &format!("{COLLECTION}?search={}&size=5", tag.to_uppercase()),
                None,
            )
            .await;
        assert_eq!(listed.status, 200);
        assert_eq!(listed.body["total"], 1);
        assert_eq!(listed.body["simulations"][0], *sim);

        let updated = client
            .checked(
                Operation::Update,
                &item,
                Some(json!({"status": "running", "description": null, "max_events": 1})),
            )
            .await;
        assert_eq!(updated.status, 200, "{updated:?}");
        let after = &updated.body["simulation"];
        assert_eq!(after["simulation_config"]["status"], "running");
        assert_eq!(after["simulation_config"]["max_events"], 250, "ignored");
        assert_eq!(after["created_at"], sim["created_at"]);
        assert!(after["updated_at"].as_str() > sim["updated_at"].as_str());
        let reread = client.checked(Operation::Get, &item, None).await;
        assert_eq!(reread.body["simulation"], *after, "stored");

        let deleted = client.checked(Operation::Delete, &item, None).await;
        assert_eq!(
            (deleted.status, deleted.body),
            (200, json!({"message": "Simulation deleted successfully"}))
        );
        let gone = client.checked(Operation::Get, &item, None).await;
        assert_eq!(
            (gone.status, gone.body),
            (404, json!({"detail": "Simulation not found"}))
        );
    });
}

#[test]
fn refusals_401_404_405_and_422() {
    let oracle = start();
    let client = Client::new(&oracle);
    runtime().block_on(async {
        for (key, detail) in [
            (None, "Not authenticated"),
            (Some("not-a-key"), "Invalid API key"),
        ] {
            let reply = client.send("GET", COLLECTION, key, None).await;
            assert_eq!(
                (reply.status, &reply.body, reply.www_authenticate.as_deref()),
                (401, &json!({"detail": detail}), Some("Bearer"))
            );
        }

        let created = client
            .checked(Operation::Create, COLLECTION, Some(json!({})))
            .await;
        let item = format!(
            "{COLLECTION}/{}",
            created.body["simulation"]["_id"].as_str().unwrap()
        );
        for method in ["GET", "PATCH", "DELETE"] {
            let body = (method == "PATCH").then(|| json!({"status": "failed"}));
            let other_team = client.send(method, &item, Some(KEY_B), body).await;
            assert_eq!(
                (other_team.status, other_team.body),
                (404, json!({"detail": "Simulation not found"})),
                "{method} by another team"
            );
        }
        let unknown = client
            .checked(
                Operation::Get,
                &format!("{COLLECTION}/{}", "0".repeat(24)),
                None,
            )
            .await;
        assert_eq!(unknown.status, 404);

        for (method, path, allow) in [
            ("PUT", COLLECTION.to_owned(), "GET, POST"),
            ("DELETE", COLLECTION.to_owned(), "GET, POST"),
            ("POST", item.clone(), "DELETE, GET, PATCH"),
            ("PUT", item.clone(), "DELETE, GET, PATCH"),
        ] {
            let reply = client.send(method, &path, Some(KEY_A), None).await;
            assert_eq!(
                (reply.status, &reply.body, reply.allow.as_deref()),
                (405, &json!({"detail": "Method Not Allowed"}), Some(allow)),
                "{method} {path}"
            );
        }

        let loc = |reply: &Reply| reply.body["detail"][0]["loc"].clone();
        let bad_field = client
            .checked(
                Operation::Create,
                COLLECTION,
                Some(json!({"selected_workflow": {"run_id": "short"}})),
            )
            .await;
        assert_eq!(bad_field.status, 422);
        assert_eq!(
            loc(&bad_field),
            json!(["body", "selected_workflow", "run_id"])
        );
        let bad_id = client
            .checked(Operation::Get, &format!("{COLLECTION}/abc"), None)
            .await;
        assert_eq!(
            (bad_id.status, loc(&bad_id)),
            (422, json!(["path", "simulation_id"]))
        );
        let bad_query = client
            .checked(Operation::List, &format!("{COLLECTION}?size=0"), None)
            .await;
        assert_eq!(
            (bad_query.status, loc(&bad_query)),
            (422, json!(["query", "size"]))
        );
        let not_object = client
            .checked(Operation::Update, &item, Some(json!([1])))
            .await;
        assert_eq!(not_object.status, 422);
        assert_eq!(not_object.body["detail"][0]["type"], "dict_type");
        let bad_status = client
            .checked(Operation::Update, &item, Some(json!({"status": "Running"})))
            .await;
        assert_eq!(
            (bad_status.status, loc(&bad_status)),
            (422, json!(["body", "status"]))
        );
    });
}

/// The environment of the process whose command line names serve.py and `--port PORT`.
#[cfg(target_os = "linux")]
fn serve_py_environ(port: &str) -> Vec<String> {
    let split = |bytes: Vec<u8>| -> Vec<String> {
        bytes
            .split(|b| *b == 0)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    };
    let found: Vec<Vec<String>> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let cmdline = split(std::fs::read(entry.path().join("cmdline")).ok()?);
            let serves = cmdline.iter().any(|a| a.ends_with("serve.py"))
                && cmdline.windows(2).any(|w| w[0] == "--port" && w[1] == port);
            serves.then(|| Some(split(std::fs::read(entry.path().join("environ")).ok()?)))?
        })
        .collect();
    assert_eq!(found.len(), 1, "one serve.py on port {port}");
    found.into_iter().next().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn the_python_process_does_not_see_the_keys() {
    let oracle = start();
    let port = oracle.base_url.rsplit(':').next().unwrap().to_owned();
    let environ = serve_py_environ(&port);
    assert!(
        environ.iter().any(|v| v.starts_with("PATH=")),
        "{environ:?}"
    );
    for variable in &environ {
        assert!(
            !variable.starts_with("CONTRACT_") && !variable.contains(oracle::PLANTED_KEY),
            "serve.py sees {variable}"
        );
    }
}

/// The differences `spec/README.md` justifies, from the bullets of its section "What FastAPI
/// generates and what the stored spec says": each item's first code span is the report's group,
/// its second the change line; white space is collapsed, as the report aligns with spaces.
fn justified_differences() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let heading = "## What FastAPI generates and what the stored spec says\n";
    let start = readme
        .find(heading)
        .expect("spec/README.md has the section")
        + heading.len();
    let section = readme[start..].split("\n## ").next().unwrap();
    let items: Vec<(String, String)> = section
        .lines()
        .filter_map(|line| line.strip_prefix("- `"))
        .map(|item| {
            let (group, rest) = item.split_once("` `").expect("`group` `change`");
            let (change, why) = rest.split_once("`: ").expect("`change`: why");
            assert!(!why.trim().is_empty(), "no reason given for {change}");
            (collapse(group), collapse(change))
        })
        .collect();
    items
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The changes `spec pull --check` printed, as (group, change line), and its two counts.
fn reported_differences(stdout: &str) -> (Vec<(String, String)>, usize, usize) {
    let mut found = Vec::new();
    let mut group = String::new();
    for line in stdout.lines() {
        if let Some((breaking, rest)) = line.split_once(" breaking, ") {
            let ok = rest.strip_suffix(" non-breaking").expect("the counts line");
            return (found, breaking.parse().unwrap(), ok.parse().unwrap());
        }
        if line.is_empty() {
            continue;
        }
        match line.strip_prefix("  ") {
            Some(change) => found.push((group.clone(), collapse(change))),
            None => group = line.split("  (used by ").next().unwrap().to_owned(),
        }
    }
    panic!("no counts line in {stdout}");
}

/// The oracle serves the document FastAPI generates from its declarations; it differs from the
/// stored spec exactly where spec/README.md says why, so a new difference (a change of the
/// oracle, of FastAPI or of the spec) or a justified one that vanished fails here.
#[test]
fn the_served_document_differs_from_the_stored_spec_only_as_listed() {
    let oracle = start();
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/openapi.json");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["spec", "pull", "--check", "--out"])
        .arg(&spec)
        .arg("--url")
        .arg(format!("{}/api-docs/workflows/api.json", oracle.base_url))
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let justified = justified_differences();
    if justified.is_empty() {
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        return;
    }
    let (mut reported, breaking, ok) = reported_differences(&stdout);
    assert_eq!(breaking + ok, reported.len(), "{stdout}");
    let mut expected = justified.clone();
    reported.sort();
    expected.sort();
    let unexplained: Vec<_> = reported.iter().filter(|d| !expected.contains(d)).collect();
    let vanished: Vec<_> = expected.iter().filter(|d| !reported.contains(d)).collect();
    assert!(
        unexplained.is_empty() && vanished.is_empty(),
        "not justified in spec/README.md: {unexplained:#?}\njustified but not reported: {vanished:#?}"
    );
    assert_eq!(reported, expected, "a difference listed twice");
    let any_breaking = justified
        .iter()
        .any(|(_, change)| change.starts_with("BREAKING "));
    assert_eq!(
        out.status.code(),
        Some(if any_breaking { 1 } else { 3 }),
        "{stderr}"
    );
}

#[test]
fn a_non_loopback_addr_is_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["oracle", "--addr", "0.0.0.0:8081"])
        .output()
        .expect("xtask runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("loopback"), "{stderr}");
}

#[test]
fn a_missing_python3_is_one_plain_line() {
    let empty = std::env::temp_dir().join(format!("xtask-oracle-no-python-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["oracle", "--addr", "127.0.0.1:0"])
        .env("PATH", &empty)
        .output()
        .expect("xtask runs");
    std::fs::remove_dir(&empty).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "error: python3 is not installed; the oracle needs Python 3 with its venv module"
    );
}
