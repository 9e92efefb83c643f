//! Tests of the crate as a whole, kept inside it so they can reach what the public facade leaves out: the checks against crafted responses, the spec-driven properties, and the embedded CONTRACT.md against the shared one.

mod checks;
mod contract_copy;
mod spec_driven;
