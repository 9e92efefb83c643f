//! The model-based state machine: random sequences of commands over the whole API (creates, reads, lists, updates, deletes, refused and foreign keys, races), each response judged against a model of the records the sequence created.
//!
//! Four rooms, each readable alone:
//! - [`command`]: the command language, what a sequence is made of and how it reads in a finding;
//! - [`strategy`]: how sequences are drawn;
//! - [`model`]: the model, pure: [`model::apply`] turns a model and a command into a
//!   [`model::Prediction`] (the requests to send and what each must answer), and the model's
//!   `observe_*` functions advance it from what the server answered; no I/O, no async, unit
//!   tested without a server;
//! - [`executor`]: sends a prediction's requests through the scenario's `Exec`, which judges
//!   each answer against its expectation, and hands the answers back to the model.
//!
//! A command names the records it acts on by index into the model, so it stays meaningful when
//! shrinking drops the commands before it; an index past the end wraps, and an empty model
//! turns a record into an id nobody has. Every value that separates a correct server from its
//! nearest wrong ones is drawn on purpose, and each strategy's doc says which wrong server it
//! is for. What a command expects is computed from the model just before it is sent, so a
//! server that went wrong early is reported at the first response that shows it.
//!
//! Lists are judged exactly when a filter scopes them to this sequence (a value holding its
//! nonce, or one of its own workflow ids); otherwise only soundly: what is listed matches, in
//! order, and nothing the sequence deleted is there.
//!
//! # Why not proptest-state-machine
//!
//! Its shape is the one followed here (a reference model that predicts, a system under test
//! that is driven), but its runner does not fit this one:
//! - `StateMachineTest::apply` is synchronous, and every command here sends HTTP requests
//!   through the async `Exec` (pacing, retries, a shared deadline), some of them in flight
//!   together (races, bursts).
//! - `ReferenceStateMachine::apply` computes the next reference state from the transition alone;
//!   here the model learns from the answers (a create's id and timestamps, an update's
//!   `updated_at`), so it advances in two steps: [`model::apply`] before the send, an `observe_*`
//!   after it.
//! - Its transitions are drawn from the reference state, with preconditions, one at a time; here a
//!   sequence is one proptest value drawn without the model (records named by index, wrapping),
//!   so it is one [`crate::scenario::Scenario`] among the others of the run's mix, drawn from its
//!   case's own seed and shrunk by proptest's `ValueTree` like any of them.
//! - Its runner (proptest's `TestRunner`, through `prop_state_machine!`) runs one case after
//!   another, stops at the first failure and shrinks it within a count of iterations or a time;
//!   the suite's runner (`crate::runner`) runs cases concurrently, keeps every distinct failure,
//!   and shrinks each within request, time and create budgets, every simpler sequence replayed
//!   against the server.

mod command;
mod executor;
mod model;
mod strategy;

pub(crate) use command::MachinePlan;
pub use command::{Bound, Command};
pub(super) use executor::run;
pub(super) use strategy::arb_machine;
