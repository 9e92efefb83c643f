//! The crate's integration tests as one binary: the module DAG, read from the source. Tests that need the crate's internals are unit tests (`src/tests/`), so the public facade stays what xtask uses.

mod layers;
