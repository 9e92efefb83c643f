//! The suite's copy of CONTRACT.md stays identical to the contract the team maintains in `shared/`.

use std::path::Path;

#[test]
fn the_embedded_contract_is_the_shared_one() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/api/CONTRACT.md");
    let text = std::fs::read_to_string(&shared).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): the suite's copy of the contract is checked against it",
            shared.display()
        )
    });
    assert!(
        text == crate::rules::CONTRACT,
        "contract-tests/CONTRACT.md differs from {}: copy it over (cp {} contract-tests/CONTRACT.md) and review what changed",
        shared.display(),
        shared.display()
    );
}
