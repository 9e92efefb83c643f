//! `ListSimulations::pages`: every page of a filtered list, in order, against the reference server.

use futures_util::StreamExt;
use interactly_simulations_client::client_with_api_key;
use reference_server::{Config, DEV_KEY};

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn pages_walks_every_page_of_a_filtered_list_and_stops() {
    let server = reference_server::spawn(Config::development())
        .await
        .expect("the reference server starts");
    let client = client_with_api_key(&server.base_url(), DEV_KEY).unwrap();
    let logical_id = format!("pages-{}", std::process::id());
    let mut created = Vec::new();
    for _ in 0..5 {
        let response = client
            .create_simulation()
            .body_map(|body| body.logical_id(Some(logical_id.clone())))
            .send()
            .await
            .unwrap();
        created.push(response.into_inner().simulation.id.to_string());
    }

    let pages: Vec<_> = client
        .list_simulations()
        .logical_id(logical_id.as_str())
        .size(2u64)
        .pages()
        .collect()
        .await;
    let pages: Vec<_> = pages.into_iter().map(Result::unwrap).collect();
    let sizes: Vec<usize> = pages.iter().map(|p| p.simulations.len()).collect();
    assert_eq!(
        sizes,
        [2, 2, 1],
        "three pages of 2, 2 and 1, then no fourth request"
    );
    let mut seen: Vec<String> = pages
        .iter()
        .flat_map(|p| p.simulations.iter().map(|s| s.id.to_string()))
        .collect();
    seen.sort();
    created.sort();
    assert_eq!(seen, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_refused_request_ends_the_stream_with_its_error() {
    let client = client_with_api_key("http://127.0.0.1:9", "a-key").unwrap();
    let pages: Vec<_> = client.list_simulations().size(0u64).pages().collect().await;
    assert_eq!(pages.len(), 1);
    assert!(pages[0].is_err());
}
