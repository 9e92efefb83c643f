//! Property-based contract suite for the Simulations API: generates requests from the spec, sends them to any server over HTTP, and judges every response.

pub mod baseline;
pub mod cases;
pub mod checks;
pub mod coverage;
pub mod error;
pub mod gateway;
pub mod hazard;
pub mod http;
pub mod listing;
pub mod numbers;
pub mod partition;
pub mod pointer;
pub mod redact;
pub mod report;
pub mod request;
pub mod response;
pub mod rules;
pub mod run_state;
pub mod runner;
pub mod scenario;
pub mod spec;
pub mod text;
pub mod values;
pub mod verdict;

pub use error::RunError;
pub use spec::{Operation, Spec};

#[cfg(test)]
mod tests;
