//! The cleanup against a loopback proxy that, once the cleanup's search for the run's tag begins, shows some of the run's records as another client's (an id the service reused): every way the cleanup reads them back, its search's pages included, must leave them alone.

use crate::support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

use support::{
    Incoming, accept_each, contract_with_keys, forward_to, read_request, run_blocking, runtime,
    team_ids, team_page, text, write_response,
};

const COLLECTION: &str = "/workflows/v1/simulations";

/// Where the proxy shows the reused records: in the search's pages, in reads by id, or both.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    Everywhere,
    InListsOnly,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    shown: Shown,
    /// Ids of the run's creates, in order.
    created: Mutex<Vec<String>>,
    /// Set once the cleanup's search for the bare run tag arrives.
    cleaning: AtomicBool,
    /// Every third record the run created that still existed when the cleanup began.
    reused: Mutex<BTreeSet<String>>,
    /// Deletes of a reused record after the cleanup began.
    reused_deletes: AtomicU64,
}

/// The `search` value of a list query, if it is a bare run tag (`ct` and eight hex digits):
/// what only the cleanup searches for (scenarios search for the tag and a nonce).
fn cleanup_search(path: &str) -> Option<&str> {
    let query = path.strip_prefix(COLLECTION)?.strip_prefix('?')?;
    query.split('&').find_map(|pair| {
        let tag = pair.strip_prefix("search=")?;
        let hex = tag.strip_prefix("ct")?;
        (hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(tag)
    })
}

fn is_cleanup_search(path: &str) -> bool {
    cleanup_search(path).is_some()
}

/// Whether a stored simulation holds `tag` where the run writes it.
fn carries(simulation: &Value, tag: &str) -> bool {
    ["logical_id", "description"].iter().any(|field| {
        simulation["simulation_config"][field]
            .as_str()
            .is_some_and(|text| text.contains(tag))
    })
}

/// Every record of the run's team, read straight from the server.
async fn team_records(upstream: &str) -> Vec<Value> {
    team_page(upstream, DEV_KEY, 1000).await["simulations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Rewrites `simulation` as another client's record under the same id.
fn disguise(simulation: &mut Value) {
    simulation["created_at"] = "2001-01-01T00:00:00Z".into();
    simulation["simulation_config"]["logical_id"] = "someone-else".into();
    simulation["simulation_config"]["description"] = "another client's record".into();
}

async fn serve(mut stream: TcpStream, proxy: Arc<Proxy>) -> std::io::Result<()> {
    let request: Incoming = read_request(&mut stream).await?;
    let id = request
        .path
        .strip_prefix(COLLECTION)
        .and_then(|p| p.strip_prefix('/'))
        .map(str::to_owned);
    if request.method == "GET"
        && is_cleanup_search(&request.path)
        && !proxy.cleaning.swap(true, Ordering::SeqCst)
    {
        let tag = cleanup_search(&request.path).unwrap_or_default().to_owned();
        let existing = team_records(&proxy.upstream).await;
        // Shown reused in lists only, a record must be one the search lists (one with the
        // tag): any other the cleanup rightly reads by id.
        let eligible = |id: &String| {
            existing.iter().any(|r| {
                r["_id"].as_str() == Some(id.as_str())
                    && (proxy.shown == Shown::Everywhere || carries(r, &tag))
            })
        };
        let created = proxy.created.lock().unwrap().clone();
        *proxy.reused.lock().unwrap() = created.into_iter().step_by(3).filter(eligible).collect();
    }
    let cleaning = proxy.cleaning.load(Ordering::SeqCst);
    let reused = proxy.reused.lock().unwrap().clone();
    if request.method == "DELETE" && cleaning && id.as_ref().is_some_and(|i| reused.contains(i)) {
        proxy.reused_deletes.fetch_add(1, Ordering::SeqCst);
    }
    let answer = forward_to(&proxy.client, &proxy.upstream, &request).await;
    let status = answer.status().as_u16();
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    if let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) {
        if request.method == "POST" && request.path == COLLECTION && (200..300).contains(&status) {
            if let Some(id) = json["simulation"]["_id"].as_str() {
                proxy.created.lock().unwrap().push(id.to_owned());
            }
        } else if request.method == "GET" && cleaning {
            let mut changed = false;
            if let Some(list) = json["simulations"].as_array_mut() {
                for simulation in list {
                    if simulation["_id"]
                        .as_str()
                        .is_some_and(|i| reused.contains(i))
                    {
                        disguise(simulation);
                        changed = true;
                    }
                }
            } else if proxy.shown == Shown::Everywhere
                && json["simulation"]["_id"]
                    .as_str()
                    .is_some_and(|i| reused.contains(i))
            {
                disguise(&mut json["simulation"]);
                changed = true;
            }
            if changed {
                bytes = serde_json::to_vec(&json).unwrap();
            }
        }
    }
    write_response(
        &mut stream,
        status,
        &[("content-type", content_type)],
        &bytes,
    )
    .await;
    Ok(())
}

/// Runs the suite through the proxy and checks that the reused records outlive the cleanup,
/// reported as no longer carrying the run's mark, and nothing else of the run's is left.
fn reused_records_survive(shown: Shown) {
    let rt = runtime();
    rt.block_on(async {
        let upstream = reference_server::spawn(Config::development())
            .await
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let proxy = Arc::new(Proxy {
            upstream: upstream.base_url(),
            client: reqwest::Client::new(),
            shown,
            created: Mutex::new(Vec::new()),
            cleaning: AtomicBool::new(false),
            reused: Mutex::new(BTreeSet::new()),
            reused_deletes: AtomicU64::new(0),
        });
        accept_each(listener, proxy.clone(), serve);
        let mut command = contract_with_keys(&url, (DEV_KEY, DEV_OTHER_TEAM_KEY));
        command.args([
            "--no-regressions",
            "--cases",
            "200",
            "--seed",
            "7",
            "--quiet",
        ]);
        let out = run_blocking(command).await;
        let stdout = text(&out.stdout);
        let reused = proxy.reused.lock().unwrap().clone();
        assert!(
            proxy.cleaning.load(Ordering::SeqCst) && reused.len() >= 5,
            "the cleanup searched, and some records were shown reused: {stdout}{}",
            text(&out.stderr)
        );
        assert_eq!(
            proxy.reused_deletes.load(Ordering::SeqCst),
            0,
            "the cleanup deleted a record that no longer carried the run's mark: {stdout}"
        );
        let left: BTreeSet<String> = team_ids(&upstream.base_url(), DEV_KEY)
            .await
            .into_iter()
            .collect();
        assert_eq!(left, reused, "exactly the reused records remain: {stdout}");
        assert!(
            stdout.contains(&format!(
                "cleanup did not delete {} {} whose record no longer carries the run's mark",
                reused.len(),
                if reused.len() == 1 { "id" } else { "ids" }
            )),
            "{stdout}"
        );
        upstream.shutdown().await;
    });
}

#[test]
fn records_shown_reused_everywhere_are_never_deleted() {
    reused_records_survive(Shown::Everywhere);
}

/// The search's page is the read-back the cleanup trusts: a record it shows as another
/// client's is left alone even when a read by id would still show the run's mark.
#[test]
fn a_record_whose_search_entry_lost_the_mark_is_never_deleted() {
    reused_records_survive(Shown::InListsOnly);
}
