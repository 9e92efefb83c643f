//! All five operations of the typed client, and its typed errors: run it against any server.
//!
//! ```sh
//! SIMULATIONS_BASE_URL=http://127.0.0.1:8080 CONTRACT_TOKEN=dev-key-team-a \
//!     cargo run -p interactly-simulations-client --example simulations
//! ```
//!
//! It creates one simulation, finds it with list filters, reads it, updates it and deletes it,
//! then shows a 404 (reading it again) and a 422 (a `start` filter past year 9999, which the
//! server cannot read) as `Error::ErrorResponse` holding a `types::ApiError`.
//! `tests/it/example.rs` runs [`run`] against the reference server.

use chrono::{TimeZone, Utc};
use interactly_simulations_client::{Error, client_with_api_key, types};

/// What one run saw, for a caller (the test) to check.
#[derive(Debug)]
pub struct Outcome {
    pub id: String,
    pub listed: usize,
    pub not_found_detail: String,
    pub validation_errors: Vec<types::ValidationError>,
}

pub async fn run(base_url: &str, key: &str) -> Result<Outcome, Box<dyn std::error::Error>> {
    let client = client_with_api_key(base_url, key)?;
    let logical_id = format!("client-example-{}", std::process::id());

    let created = client
        .create_simulation()
        .body_map(|body| {
            body.logical_id(Some(logical_id.clone()))
                .description(Some("made by examples/simulations.rs".to_owned()))
                .max_events(Some(50))
        })
        .send()
        .await?;
    let id = created.simulation.id.to_string();
    println!(
        "created {id} (HTTP {}, logical_id {logical_id}), status {:?}",
        created.status().as_u16(),
        created.simulation.simulation_config.status
    );

    let page = client
        .list_simulations()
        .logical_id(logical_id.as_str())
        .status(types::SimulationStatus::Pending)
        .search("examples")
        .size(10u64)
        .send()
        .await?;
    println!(
        "listed {} of {} matching logical_id, status pending and search \"examples\"",
        page.simulations.len(),
        page.total
    );

    let read = client
        .get_simulation()
        .simulation_id(id.as_str())
        .send()
        .await?;
    println!(
        "read {id}: description {:?}",
        read.simulation.simulation_config.description
    );

    let updated = client
        .update_simulation()
        .simulation_id(id.as_str())
        .body_map(|body| body.status(Some(types::SimulationStatus::Running)))
        .send()
        .await?;
    println!(
        "updated {id}: status {:?}",
        updated.simulation.simulation_config.status
    );

    let deleted = client
        .delete_simulation()
        .simulation_id(id.as_str())
        .send()
        .await?;
    println!("deleted {id}: {}", deleted.message);

    // An error status is `Error::ErrorResponse`; its `types::ApiError` is `Error` for a
    // `{"detail": "..."}` body and `ValidationError` for a 422's list.
    let not_found_detail = match client
        .get_simulation()
        .simulation_id(id.as_str())
        .send()
        .await
    {
        Err(Error::ErrorResponse(response)) => match response.into_inner() {
            types::ApiError::Error(types::HttpError { detail }) => detail,
            other => return Err(format!("a 404 with an unexpected body: {other:?}").into()),
        },
        Err(other) => return Err(other.into()),
        Ok(_) => return Err("the deleted simulation can still be read".into()),
    };
    println!("read {id} again: 404 {not_found_detail:?}");

    // chrono writes year 10000 as `+10000-01-01T00:00:00Z`, which the server refuses.
    let far_future = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
    let validation_errors = match client.list_simulations().start(far_future).send().await {
        Err(Error::ErrorResponse(response)) => {
            let status = response.status();
            match response.into_inner() {
                types::ApiError::ValidationError(types::HttpValidationError { detail }) => {
                    println!("listed from year 10000: {}", status.as_u16());
                    for error in &detail {
                        let loc: Vec<String> = error.loc.iter().map(ToString::to_string).collect();
                        println!("  {} at {}: {}", error.type_, loc.join("."), error.msg);
                    }
                    detail
                }
                other => return Err(format!("a 422 with an unexpected body: {other:?}").into()),
            }
        }
        Err(other) => return Err(other.into()),
        Ok(_) => return Err("a start past year 9999 was accepted".into()),
    };

    Ok(Outcome {
        id,
        listed: page.simulations.len(),
        not_found_detail,
        validation_errors,
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base_url = std::env::var("SIMULATIONS_BASE_URL")
        .map_err(|_| "set SIMULATIONS_BASE_URL (e.g. http://127.0.0.1:8080)")?;
    let key = std::env::var("CONTRACT_TOKEN").map_err(|_| "set CONTRACT_TOKEN to an API key")?;
    run(&base_url, &key).await?;
    Ok(())
}
