//! The bytes the typed client puts on the wire, seen by a throwaway loopback listener: method, path,
//! query pairs (unset filters absent, spaces as `+`), the exact `Authorization` value and the JSON
//! body. `tests/it/reference_server.rs` proves the same calls work against a real server; this file
//! pins what that cannot see.

use interactly_simulations_client::{client_with_api_key, types};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// What the listener saw of one request.
#[derive(Debug)]
struct SeenRequest {
    method: String,
    target: String,
    authorization: Option<String>,
    body: String,
}

const SIMULATION: &str = r#"{"simulation": {"team_id": "t", "created_by": "u", "updated_by": "u",
  "created_at": "2023-11-07T05:31:56Z", "updated_at": "2023-11-07T05:31:56Z", "_id": "5eb7cf5a86d9755df3a6c593",
  "simulation_config": {"logical_id": null, "description": null, "timeout_seconds": null, "max_events": 500,
    "number_of_simulations": 1, "stop_on_failure": false, "status": "pending",
    "selected_workflow": {"workflow_id": null, "dynamic_variables": {}, "name": null, "total_events": 0,
      "total_nodes": 0, "total_duration_seconds": 0, "run_id": null},
    "counter_workflow": {"workflow_id": null, "dynamic_variables": {}, "name": null, "total_events": 0,
      "total_nodes": 0, "total_duration_seconds": 0, "run_id": null}}}}"#;

fn canned_body(method: &str, target: &str) -> String {
    match method {
        "GET"
            if target.starts_with("/workflows/v1/simulations?")
                || target == "/workflows/v1/simulations" =>
        {
            let one = &SIMULATION[SIMULATION.find(": ").unwrap() + 2..SIMULATION.len() - 1];
            format!(r#"{{"simulations": [{one}], "total": 1}}"#)
        }
        "DELETE" => r#"{"message": "Simulation deleted"}"#.to_owned(),
        _ => SIMULATION.to_owned(),
    }
}

/// Serves canned 200 answers on 127.0.0.1:0 and reports every request it reads.
async fn spawn_listener() -> (String, mpsc::UnboundedReceiver<SeenRequest>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut raw = Vec::new();
            let mut buf = [0u8; 4096];
            let head_end = loop {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "client closed before the end of the head");
                raw.extend_from_slice(&buf[..n]);
                if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8(raw[..head_end].to_vec()).unwrap();
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| {
                        l.split_once(':')
                            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    })
                    .map(|(_, v)| v.trim().to_owned())
            };
            let length: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
            while raw.len() < head_end + length {
                let n = socket.read(&mut buf).await.unwrap();
                raw.extend_from_slice(&buf[..n]);
            }
            let mut request_line = head.lines().next().unwrap().split(' ');
            let seen = SeenRequest {
                method: request_line.next().unwrap().to_owned(),
                target: request_line.next().unwrap().to_owned(),
                authorization: header("authorization"),
                body: String::from_utf8(raw[head_end..head_end + length].to_vec()).unwrap(),
            };
            let body = canned_body(&seen.method, &seen.target);
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(reply.as_bytes()).await.unwrap();
            tx.send(seen).unwrap();
        }
    });
    (base, rx)
}

#[tokio::test]
async fn every_operation_goes_out_with_method_path_query_and_bearer_key() {
    let (base, mut seen) = spawn_listener().await;
    let client = client_with_api_key(&base, "test-key-123").unwrap();
    let id: types::SimulationId = "5eb7cf5a86d9755df3a6c593".parse().unwrap();

    let body = types::SimulationConfigInput {
        logical_id: Some("run-1".into()),
        ..Default::default()
    };
    let created = client.create_simulation().body(body).send().await.unwrap();
    assert_eq!(created.simulation.id.as_str(), "5eb7cf5a86d9755df3a6c593");
    let req = seen.recv().await.unwrap();
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("POST", "/workflows/v1/simulations")
    );
    assert_eq!(req.authorization.as_deref(), Some("Bearer test-key-123"));
    let sent: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(sent["logical_id"], "run-1");

    let workflow: types::SelectedWorkflowId = "aaaaaaaaaaaaaaaaaaaaaaaa".parse().unwrap();
    let listed = client
        .list_simulations()
        .logical_id("run 1")
        .page(2u64)
        .selected_workflow_id(workflow)
        .size(10u64)
        .status(types::SimulationStatus::Running)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    let req = seen.recv().await.unwrap();
    assert_eq!(req.method, "GET");
    let (path, query) = req.target.split_once('?').expect("list sends a query");
    assert_eq!(path, "/workflows/v1/simulations");
    let mut pairs: Vec<&str> = query.split('&').collect();
    pairs.sort_unstable();
    assert_eq!(
        pairs,
        [
            "logical_id=run+1",
            "page=2",
            "selected_workflow_id=aaaaaaaaaaaaaaaaaaaaaaaa",
            "size=10",
            "status=running"
        ]
    );
    assert_eq!(req.authorization.as_deref(), Some("Bearer test-key-123"));

    client
        .get_simulation()
        .simulation_id(id.clone())
        .send()
        .await
        .unwrap();
    let req = seen.recv().await.unwrap();
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        ("GET", "/workflows/v1/simulations/5eb7cf5a86d9755df3a6c593")
    );
    assert_eq!(req.authorization.as_deref(), Some("Bearer test-key-123"));

    let update = types::SimulationUpdate {
        description: Some("d".into()),
        status: Some(types::SimulationStatus::Completed),
    };
    client
        .update_simulation()
        .simulation_id(id.clone())
        .body(update)
        .send()
        .await
        .unwrap();
    let req = seen.recv().await.unwrap();
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        (
            "PATCH",
            "/workflows/v1/simulations/5eb7cf5a86d9755df3a6c593"
        )
    );
    assert_eq!(req.authorization.as_deref(), Some("Bearer test-key-123"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&req.body).unwrap(),
        serde_json::json!({"description": "d", "status": "completed"})
    );

    let deleted = client
        .delete_simulation()
        .simulation_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.message, "Simulation deleted");
    let req = seen.recv().await.unwrap();
    assert_eq!(
        (req.method.as_str(), req.target.as_str()),
        (
            "DELETE",
            "/workflows/v1/simulations/5eb7cf5a86d9755df3a6c593"
        )
    );
    assert_eq!(req.authorization.as_deref(), Some("Bearer test-key-123"));
}

#[test]
fn a_key_that_cannot_be_a_header_is_refused() {
    assert!(client_with_api_key("http://127.0.0.1:1", "bad\nkey").is_err());
}

/// A create that sets only `logical_id` sends only `logical_id`: the server applies its own
/// defaults, so a client default that drifts from the server's never overrides them.
#[tokio::test]
async fn a_create_sends_only_what_the_caller_set() {
    let (base, mut seen) = spawn_listener().await;
    let client = client_with_api_key(&base, "test-key-123").unwrap();
    client
        .create_simulation()
        .body_map(|body| body.logical_id(Some("run-2".to_owned())))
        .send()
        .await
        .unwrap();
    let req = seen.recv().await.unwrap();
    let sent: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(sent, serde_json::json!({"logical_id": "run-2"}));
}
