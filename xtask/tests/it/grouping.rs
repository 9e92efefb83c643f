//! Findings are grouped by what they mean, and the grouping hides no fault: faults of the catalog that fail at the same checks and fields, each run alone, still differ in at least one group whenever their exact failures differ.

use crate::support;

use std::collections::BTreeSet;

use support::{text, xtask};

/// A run's findings, from `--message-format json`: (check, operation, group) of each, and
/// (check, operation, exact pointer) of every pointer of every group.
type Keys = BTreeSet<(String, String, String)>;

fn run(fault: &str) -> (Keys, Keys) {
    let out = xtask(
        &[
            "contract",
            "--no-regressions",
            "--no-baseline",
            "--seed",
            "3",
            "--cases",
            "150",
            "--quiet",
            "--shrink",
            "none",
            "--message-format",
            "json",
            "--fault",
            fault,
        ],
        None,
    );
    let stdout = text(&out.stdout);
    let (mut groups, mut exact) = (Keys::new(), Keys::new());
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        if v["reason"] != "finding" {
            continue;
        }
        let field = |name: &str| v[name].as_str().unwrap_or_default().to_owned();
        let (check, operation) = (field("check"), field("operation"));
        groups.insert((check.clone(), operation.clone(), field("group")));
        let pointers = v["pointers"].as_array().expect("pointers");
        if pointers.is_empty() {
            exact.insert((check.clone(), operation.clone(), field("pointer")));
        }
        for p in pointers {
            let pointer = p["pointer"].as_str().unwrap_or_default().to_owned();
            exact.insert((check.clone(), operation.clone(), pointer));
        }
    }
    assert_eq!(out.status.code(), Some(1), "{fault}: {stdout}");
    (groups, exact)
}

/// Faults that all fail on what the server stores and echoes, several at the same checks:
/// pairs of them whose exact failures differ must differ in their groups too.
#[test]
fn faults_that_fail_differently_still_differ_in_their_groups() {
    let faults = [
        "unknown-keys-echoed",
        "keys-case-insensitive",
        "null-stored-as-default",
        "raw-body-stored",
        "missing-updated-by",
        "naive-timestamps",
    ];
    let runs: Vec<(&str, Keys, Keys)> = faults
        .iter()
        .map(|f| {
            let (groups, exact) = run(f);
            (*f, groups, exact)
        })
        .collect();
    for (i, (a, a_groups, a_exact)) in runs.iter().enumerate() {
        for (b, b_groups, b_exact) in &runs[i + 1..] {
            if a_exact != b_exact {
                assert_ne!(
                    a_groups, b_groups,
                    "{a} and {b} fail differently ({a_exact:?} / {b_exact:?}) but read alike"
                );
            }
        }
    }
    let (_, groups, exact) = &runs[0];
    assert!(
        groups.len() < exact.len(),
        "unknown keys at several pointers read as fewer findings: {groups:?} / {exact:?}"
    );
}
