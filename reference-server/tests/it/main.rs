//! The reference server's integration tests as one binary (one link, not one per file; `support` their one helper module): conformance, concurrency, robustness, load, the mock's extras, the binary, the Dockerfile, and with the `faults` feature the fault catalog.

mod binary;
mod concurrency;
mod conformance;
mod dockerfile;
mod faults;
mod load;
mod mock;
mod robustness;
mod support;
