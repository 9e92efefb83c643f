//! The crate's integration tests as one binary (one link, not one per file): the checks against crafted responses, the module DAG, the embedded CONTRACT.md against the shared one, and the spec-driven properties.

mod checks;
mod layers;
mod rules;
mod spec_driven;
