//! Every operation of the typed client against the reference server: its success and its typed errors.
//!
//! Errors are checked as the client delivers them: `Error::ErrorResponse` with the status and the
//! decoded `types::ApiError` (a `detail` string, or a 422's list of validation errors). A 422 is
//! reachable through the typed values only on the list (a date the server cannot read): the
//! body and id types refuse what the server would, so those operations' bad input is shown as
//! `Error::InvalidRequest`, raised before anything is sent.

use std::fmt::Debug;

use chrono::{TimeZone, Utc};
use interactly_simulations_client::{Client, Error, ResponseValue, client_with_api_key, types};
use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, RunningServer};

const UNKNOWN_ID: &str = "0123456789abcdef01234567";

async fn server() -> (RunningServer, Client) {
    let server = reference_server::spawn(Config::development())
        .await
        .expect("the reference server starts");
    let client = client_with_api_key(&server.base_url(), DEV_KEY).unwrap();
    (server, client)
}

fn wrong_key(server: &RunningServer) -> Client {
    client_with_api_key(&server.base_url(), "not-a-key").unwrap()
}

/// The status and decoded body of an error response; panics on anything else.
fn error_response<T: Debug>(
    result: Result<ResponseValue<T>, Error<types::ApiError>>,
) -> (u16, types::ApiError) {
    match result {
        Err(Error::ErrorResponse(response)) => (response.status().as_u16(), response.into_inner()),
        other => panic!("expected an error response, got {other:?}"),
    }
}

/// The `detail` string of an error response with `status`.
fn detail<T: Debug>(
    result: Result<ResponseValue<T>, Error<types::ApiError>>,
    status: u16,
) -> String {
    match error_response(result) {
        (s, types::ApiError::Error(types::HttpError { detail })) if s == status => detail,
        other => panic!("expected {status} with a detail string, got {other:?}"),
    }
}

/// The validation errors of a 422, as `(type, loc joined by '.')`.
fn validation_errors<T: Debug>(
    result: Result<ResponseValue<T>, Error<types::ApiError>>,
) -> Vec<(String, String)> {
    match error_response(result) {
        (422, types::ApiError::ValidationError(types::HttpValidationError { detail })) => detail
            .into_iter()
            .map(|e| {
                let loc: Vec<String> = e.loc.iter().map(ToString::to_string).collect();
                (e.type_, loc.join("."))
            })
            .collect(),
        other => panic!("expected 422 with validation errors, got {other:?}"),
    }
}

fn invalid_request<T: Debug>(result: Result<ResponseValue<T>, Error<types::ApiError>>) -> String {
    match result {
        Err(Error::InvalidRequest(message)) => message,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

async fn create(client: &Client, logical_id: &str) -> String {
    let created = client
        .create_simulation()
        .body_map(|b| b.logical_id(Some(logical_id.to_owned())))
        .send()
        .await
        .unwrap();
    created.simulation.id.to_string()
}

#[tokio::test]
async fn create_answers_the_stored_simulation_or_a_typed_error() {
    let (server, client) = server().await;
    let created = client
        .create_simulation()
        .body_map(|b| {
            b.logical_id(Some("run-1".to_owned()))
                .max_events(Some(7))
                .status(Some(types::SimulationStatus::Running))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 200);
    let config = &created.simulation.simulation_config;
    assert_eq!(config.logical_id.as_deref(), Some("run-1"));
    assert_eq!(config.max_events, Some(7));
    assert_eq!(
        config.number_of_simulations,
        Some(1),
        "the default is stored"
    );
    assert_eq!(config.status, Some(types::SimulationStatus::Running));
    assert_eq!(created.simulation.team_id, "team-a");

    let refused = wrong_key(&server).create_simulation().send().await;
    assert_eq!(detail(refused, 401), "Invalid API key");

    // No create body the types can hold is one the server refuses: a 422 needs a raw request.
    server.shutdown().await;
}

#[tokio::test]
async fn list_filters_on_the_server_and_answers_a_typed_422() {
    let (server, client) = server().await;
    let id = create(&client, "nightly run").await;
    create(&client, "other").await;
    client_with_api_key(&server.base_url(), DEV_OTHER_TEAM_KEY)
        .unwrap()
        .create_simulation()
        .body_map(|b| b.logical_id(Some("nightly run".to_owned())))
        .send()
        .await
        .unwrap();

    let page = client
        .list_simulations()
        .logical_id("nightly run")
        .status(types::SimulationStatus::Pending)
        .size(10u64)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.total, 1, "one match in this team");
    assert_eq!(page.simulations[0].id.as_str(), id);

    let all = client.list_simulations().send().await.unwrap();
    assert_eq!(all.total, 2);
    let second = client
        .list_simulations()
        .size(1u64)
        .page(2u64)
        .send()
        .await
        .unwrap();
    assert_eq!((second.total, second.simulations.len()), (2, 1));
    let none = client
        .list_simulations()
        .status(types::SimulationStatus::Failed)
        .send()
        .await
        .unwrap();
    assert_eq!(none.total, 0);

    let refused = wrong_key(&server).list_simulations().send().await;
    assert_eq!(detail(refused, 401), "Invalid API key");

    // chrono writes year 10000 as `+10000-01-01T00:00:00Z`, which pydantic's parser refuses.
    let year_10000 = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
    let errors = validation_errors(
        client
            .list_simulations()
            .start(year_10000)
            .end(year_10000)
            .send()
            .await,
    );
    assert_eq!(
        errors,
        [
            (
                "datetime_from_date_parsing".to_owned(),
                "query.start".to_owned()
            ),
            (
                "datetime_from_date_parsing".to_owned(),
                "query.end".to_owned()
            ),
        ]
    );

    // `size` is a NonZeroU64: 0 never leaves the client.
    let message = invalid_request(client.list_simulations().size(0u64).send().await);
    assert!(message.contains("size"), "{message}");
    server.shutdown().await;
}

#[tokio::test]
async fn get_answers_the_simulation_or_a_typed_error() {
    let (server, client) = server().await;
    let id = create(&client, "get-me").await;
    let read = client
        .get_simulation()
        .simulation_id(id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 200);
    assert_eq!(read.simulation.id.as_str(), id);
    assert_eq!(
        read.simulation.simulation_config.logical_id.as_deref(),
        Some("get-me")
    );

    let refused = wrong_key(&server)
        .get_simulation()
        .simulation_id(id.as_str())
        .send()
        .await;
    assert_eq!(detail(refused, 401), "Invalid API key");

    let unknown = client
        .get_simulation()
        .simulation_id(UNKNOWN_ID)
        .send()
        .await;
    assert_eq!(detail(unknown, 404), "Simulation not found");
    let other_team = client_with_api_key(&server.base_url(), DEV_OTHER_TEAM_KEY)
        .unwrap()
        .get_simulation()
        .simulation_id(id.as_str())
        .send()
        .await;
    assert_eq!(detail(other_team, 404), "Simulation not found");

    // The server answers 422 to an id that is not 24 characters; the id type refuses it first.
    let message = invalid_request(client.get_simulation().simulation_id("short").send().await);
    assert!(message.contains("SimulationId"), "{message}");
    let message = invalid_request(client.get_simulation().send().await);
    assert!(message.contains("not initialized"), "{message}");
    server.shutdown().await;
}

#[tokio::test]
async fn update_changes_the_simulation_or_answers_a_typed_error() {
    let (server, client) = server().await;
    let id = create(&client, "update-me").await;
    let updated = client
        .update_simulation()
        .simulation_id(id.as_str())
        .body_map(|b| {
            b.description(Some("changed".to_owned()))
                .status(Some(types::SimulationStatus::Completed))
        })
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status().as_u16(), 200);
    let config = &updated.simulation.simulation_config;
    assert_eq!(config.description.as_deref(), Some("changed"));
    assert_eq!(config.status, Some(types::SimulationStatus::Completed));
    assert_eq!(config.logical_id.as_deref(), Some("update-me"), "unchanged");

    let refused = wrong_key(&server)
        .update_simulation()
        .simulation_id(id.as_str())
        .body(types::SimulationUpdate::default())
        .send()
        .await;
    assert_eq!(detail(refused, 401), "Invalid API key");

    let unknown = client
        .update_simulation()
        .simulation_id(UNKNOWN_ID)
        .body(types::SimulationUpdate::default())
        .send()
        .await;
    assert_eq!(detail(unknown, 404), "Simulation not found");

    let message = invalid_request(
        client
            .update_simulation()
            .simulation_id("x".repeat(25))
            .send()
            .await,
    );
    assert!(message.contains("SimulationId"), "{message}");
    server.shutdown().await;
}

#[tokio::test]
async fn delete_removes_the_simulation_or_answers_a_typed_error() {
    let (server, client) = server().await;
    let id = create(&client, "delete-me").await;

    let refused = wrong_key(&server)
        .delete_simulation()
        .simulation_id(id.as_str())
        .send()
        .await;
    assert_eq!(detail(refused, 401), "Invalid API key");

    let deleted = client
        .delete_simulation()
        .simulation_id(id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    assert_eq!(deleted.message, "Simulation deleted successfully");

    let again = client
        .delete_simulation()
        .simulation_id(id.as_str())
        .send()
        .await;
    assert_eq!(detail(again, 404), "Simulation not found");
    let read = client
        .get_simulation()
        .simulation_id(id.as_str())
        .send()
        .await;
    assert_eq!(detail(read, 404), "Simulation not found");
    server.shutdown().await;
}
