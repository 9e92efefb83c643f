//! The executor: sends what the model predicts for each command through the scenario's `Exec` (which judges every answer against its expectation), and advances the model from the answers.

use std::time::Instant;

use serde_json::Value;

use super::command::{MachinePlan, Paging};
use super::model::{Model, Prediction, Step, apply};
use crate::scenario::Exec;

/// Runs a sequence: each command predicted from the model just before it is sent.
pub(in crate::scenario) async fn run(x: &mut Exec<'_>, plan: &MachinePlan) {
    let mut model = Model::new(x.spec, plan, x.tag(&plan.nonce), x.state.other_team);
    for command in &plan.commands {
        let prediction = apply(&model, command, Instant::now());
        execute(x, &mut model, prediction).await;
    }
}

/// Sends one step; its response's JSON when the status was 2xx.
async fn send(x: &mut Exec<'_>, step: Step) -> Option<Value> {
    x.send_exercising(step.request, step.expect, &step.exercises)
        .await
}

/// The `simulation` of each 2xx response.
fn simulations(responses: Vec<Option<Value>>) -> Vec<Option<Value>> {
    responses
        .into_iter()
        .map(|r| r.map(|mut j| j["simulation"].take()))
        .collect()
}

async fn execute(x: &mut Exec<'_>, model: &mut Model<'_>, prediction: Prediction) {
    match prediction {
        Prediction::Nothing => {}
        Prediction::Wait(gap) => tokio::time::sleep(gap).await,
        Prediction::Sends(steps) => {
            for step in steps {
                send(x, step).await;
            }
        }
        Prediction::Create { step, stored } => {
            if let Some(response) = send(x, step).await {
                model.observe_create(stored.as_ref(), &response["simulation"], Instant::now());
            }
        }
        Prediction::CreateThenDelete(step) => {
            // One record near 1 MiB alive at a time in the whole run (`RunState::large_record`).
            let state = x.state;
            let _alone = state.large_record.lock().await;
            if let Some(response) = send(x, step).await {
                send(x, model.delete_answered(&response["simulation"])).await;
            }
        }
        Prediction::Update { step, index, patch } => {
            if let Some(response) = send(x, step).await {
                model.observe_update(index, &patch, &response["simulation"], Instant::now());
            }
        }
        Prediction::Delete { step, index } => {
            if send(x, step).await.is_some() {
                model.observe_gone(index);
            }
        }
        Prediction::RaceUpdates {
            requests,
            index,
            description,
            status,
        } => {
            let answered = simulations(x.send_concurrently(requests, &[]).await);
            model.observe_race(index, &description, &status, &answered, Instant::now());
            if let Some(read) = model.read_back_raced(index) {
                send(x, read).await;
            }
        }
        Prediction::RaceUpdateDelete {
            requests,
            exercises,
            index,
            read,
        } => {
            x.send_concurrently(requests, &exercises).await;
            model.observe_gone(Some(index));
            send(x, read).await;
        }
        Prediction::Burst { requests, filter } => {
            let answered = simulations(x.send_concurrently(requests, &[]).await);
            model.observe_burst(&answered, Instant::now());
            send(x, model.list(filter, true, Paging::Defaults)).await;
        }
        Prediction::Foreign { create, operation } => {
            let Some(created) = send(x, create).await else {
                return;
            };
            let created = &created["simulation"];
            for step in model.foreign_checks(operation, created) {
                send(x, step).await;
            }
            let leftovers: Vec<Value> = send(x, model.foreign_leftovers(created))
                .await
                .and_then(|j| j["simulations"].as_array().cloned())
                .unwrap_or_default();
            for leftover in &leftovers {
                send(x, model.foreign_delete(leftover)).await;
            }
        }
    }
}
