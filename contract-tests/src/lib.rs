//! Property-based contract suite for the Simulations API: generates requests from the spec, sends them to any server over HTTP, and judges every response.
//!
//! The modules form layers, each naming only the layers below it: base → api → transport →
//! judge → generate → run → report (grouped below; ARCHITECTURE.md says what each holds).
//! `tests/it/layers.rs` reads every source file's paths and holds the crate to that order, and
//! inside a layer to an order of its modules (`LAYERS`), so that no two modules name each other.
//!
//! The public facade is what xtask (its commands, its tests and the bench) names: a `pub mod`
//! below is one xtask reaches into, and inside it only the items xtask uses (and the types
//! their fields and variants expose) are `pub`, the rest `pub(crate)`. The other modules are private. Tests that need more are unit tests (`tests/`).

// base: no knowledge of the API.
pub mod error;
mod numbers;
pub mod pointer;
pub mod rules;
pub mod text;

// api: what the API is (the spec at run time) and what the contract asks of one request.
mod hazard;
mod listing;
pub mod request;
pub mod spec;

// transport: sending a request and reading its answer.
mod gateway;
pub mod http;
pub mod redact;
pub mod response;

// judge: one exchange judged, and what a run's findings are known as.
pub mod baseline;
pub mod checks;
pub mod coverage;
pub mod run_state;
pub mod verdict;

// generate: the values, cases and scenarios a run draws.
mod cases;
pub mod scenario;
mod values;

// run: a run against one target, its slices and its outcome.
pub mod partition;
pub mod runner;

// report: every output of a run.
pub mod report;

pub use error::RunError;
pub use spec::{Operation, Spec};

#[cfg(test)]
mod tests;
