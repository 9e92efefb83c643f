//! The embedded reference implementation of the Simulations API contract (being built).
