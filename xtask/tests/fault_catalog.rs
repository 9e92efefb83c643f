//! The reference server's fault catalog covers CONTRACT.md: every rule id has a fault that breaks it, and every id a fault names is a rule id, so `cargo xtask mutants`'s kill table has no empty row and no stray name.

use std::collections::BTreeSet;
use std::process::Command;

use reference_server::Fault;

fn rule_ids() -> BTreeSet<String> {
    contract_tests::rules::all()
        .into_iter()
        .map(|rule| rule.id)
        .collect()
}

#[test]
fn every_rule_id_has_a_fault() {
    let named: BTreeSet<&str> = Fault::ALL
        .iter()
        .flat_map(|fault| fault.rules().iter().copied())
        .collect();
    let without: Vec<String> = rule_ids()
        .into_iter()
        .filter(|id| !named.contains(id.as_str()))
        .collect();
    assert!(without.is_empty(), "rule ids no fault breaks: {without:?}");
}

#[test]
fn every_rule_a_fault_names_is_a_rule_id() {
    let ids = rule_ids();
    assert!(ids.len() >= 40, "{ids:?}");
    for fault in Fault::ALL {
        assert!(!fault.rules().is_empty(), "{fault} names no rule");
        let mut seen = BTreeSet::new();
        for rule in fault.rules() {
            assert!(ids.contains(*rule), "{fault} names {rule:?}");
            assert!(seen.insert(rule), "{fault} names {rule:?} twice");
        }
    }
}

#[test]
fn mutants_refuses_a_seed_count_out_of_range_in_one_line() {
    for seeds in ["0", "-1", "x", "1001"] {
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["mutants", "--seeds", seeds])
            .env("XTASK_ALLOW_DEBUG", "1")
            .output()
            .expect("xtask runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--seeds {seeds}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "--seeds {seeds}: {stderr}");
        assert!(stderr.contains("--seeds"), "{stderr}");
    }
}
