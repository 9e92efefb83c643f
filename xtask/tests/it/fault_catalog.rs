//! The reference server's fault catalog covers CONTRACT.md: every rule has a fault that breaks it, so `cargo xtask mutants`'s kill table has no empty row.

use std::collections::BTreeSet;
use std::process::Command;

use reference_server::Fault;

use contract_tests::rules::Rule;

#[test]
fn every_rule_has_a_fault() {
    let named: BTreeSet<Rule> = Fault::ALL
        .iter()
        .flat_map(|fault| fault.rules().iter().copied())
        .collect();
    let without: Vec<&Rule> = Rule::ALL
        .iter()
        .filter(|rule| !named.contains(rule))
        .collect();
    assert!(without.is_empty(), "rules no fault breaks: {without:?}");
}

/// A fault's rules are typed (a misspelled one does not compile); each is named once.
#[test]
fn every_fault_names_rules_once() {
    for fault in Fault::ALL {
        assert!(!fault.rules().is_empty(), "{fault} names no rule");
        let mut seen = BTreeSet::new();
        for rule in fault.rules() {
            assert!(seen.insert(rule), "{fault} names {rule} twice");
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

/// `serve --list-faults` is the catalog's one table as text: a line per fault, in catalog
/// order, with its name, description, rule ids and where it acts.
#[test]
fn the_fault_listing_is_the_catalog() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["serve", "--list-faults"])
        .env("XTASK_ALLOW_DEBUG", "1")
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), Fault::ALL.len(), "{stdout}");
    for (line, fault) in lines.iter().zip(Fault::ALL) {
        let rules: Vec<&str> = fault.rules().iter().map(|r| r.id()).collect();
        assert!(line.starts_with(&format!("{} ", fault.name())), "{line}");
        assert!(
            line.ends_with(&format!(
                "{} [{}] ({})",
                fault.description(),
                rules.join(", "),
                fault.acts().name()
            )),
            "{line}"
        );
    }
}
