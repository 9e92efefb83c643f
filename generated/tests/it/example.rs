//! `examples/simulations.rs` run against the reference server, so `cargo test --workspace` keeps it working.

#[allow(dead_code)] // the example's `main`, which reads the environment instead
#[path = "../../examples/simulations.rs"]
mod simulations;

use reference_server::{Config, DEV_KEY};

#[tokio::test]
async fn the_example_runs_every_operation_and_handles_a_404_and_a_422() {
    let server = reference_server::spawn(Config::development())
        .await
        .expect("the reference server starts");
    let outcome = simulations::run(&server.base_url(), DEV_KEY)
        .await
        .expect("the example runs");
    assert_eq!(outcome.id.len(), 24);
    assert_eq!(
        outcome.listed, 1,
        "the filters find the one simulation made"
    );
    assert_eq!(outcome.not_found_detail, "Simulation not found");
    let [error] = outcome.validation_errors.as_slice() else {
        panic!("one validation error, got {:?}", outcome.validation_errors);
    };
    assert_eq!(error.type_, "datetime_from_date_parsing");
    assert_eq!(
        error
            .loc
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["query", "start"]
    );
    server.shutdown().await;
}
