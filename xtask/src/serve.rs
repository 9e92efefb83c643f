//! `cargo xtask serve`: the reference server in the foreground, for curl sessions and the suite.
//! Its options and what it does are the `reference-server` binary's (`reference_server::cli`),
//! so that the two cannot drift apart.

use anyhow::Result;

pub use reference_server::cli::ServeArgs;

/// Serves until the process ends. A misconfiguration (a keys file, the address) is exit 2, as
/// the binary's.
pub fn run(args: ServeArgs) -> Result<()> {
    reference_server::cli::run(args).map_err(|error| {
        if error.exit_code() == 2 {
            anyhow::Error::new(contract_tests::RunError::Arguments(error.to_string()))
        } else {
            anyhow::Error::new(error)
        }
    })
}
