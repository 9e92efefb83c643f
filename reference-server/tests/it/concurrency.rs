//! Parallel creates lose nothing: 8 tasks × 250 creates, then the list total is 2000 and every
//! id can be fetched.

use crate::support;

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_creates_are_all_stored() {
    let app = reference_server::app(config());
    let mut tasks = Vec::new();
    for task in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..250 {
                let body = json!({"logical_id": format!("t{task}-{n}")});
                let reply = send_raw(&app, Call::post(&body)).await;
                assert_eq!(reply.status, StatusCode::OK);
                ids.push(reply.id());
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.expect("task finished"));
    }
    assert_eq!(ids.len(), 2000);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        2000,
        "ids are unique"
    );

    let list = send(&app, Call::get(format!("{COLLECTION}?size=1"))).await;
    assert_eq!(list.body["total"], 2000);
    // Every id is listed exactly once, in a strict newest-first order.
    let mut listed = Vec::new();
    for page in 1..=20 {
        let reply = send(
            &app,
            Call::get(format!("{COLLECTION}?size=100&page={page}")),
        )
        .await;
        listed.extend(
            reply.body["simulations"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
    }
    let keys: Vec<(String, String)> = listed
        .iter()
        .map(|s| {
            (
                s["created_at"].as_str().unwrap().to_owned(),
                s["_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );
    let listed_ids: HashSet<&str> = keys.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(listed_ids, ids.iter().map(String::as_str).collect());

    // Every id can be fetched, concurrently with updates of others, and the team-b view is empty.
    let mut fetches = Vec::new();
    for chunk in ids.chunks(250) {
        let app = app.clone();
        let chunk = chunk.to_vec();
        fetches.push(tokio::spawn(async move {
            for id in chunk {
                let reply = send_raw(&app, Call::get(item(&id))).await;
                assert_eq!(reply.status, StatusCode::OK, "{id}");
                let patched = send_raw(&app, Call::patch(&id, &json!({"status": "running"}))).await;
                assert_eq!(patched.status, StatusCode::OK);
            }
        }));
    }
    for fetch in fetches {
        fetch.await.expect("task finished");
    }
    let running = send(
        &app,
        Call::get(format!("{COLLECTION}?status=running&size=1")),
    )
    .await;
    assert_eq!(running.body["total"], 2000, "no update was lost");
    let other = send(&app, Call::get(COLLECTION).other_team()).await;
    assert_eq!(other.body["total"], 0);
}
