//! The client crate's integration tests as one binary (one link, not one per file): the client against the reference server, loopback listeners and its own schemas.

mod downstream;
mod example;
mod invalid_request;
mod pages;
mod reference_server;
mod schema_gaps;
mod tls;
mod transport;
