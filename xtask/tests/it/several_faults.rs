//! `cargo xtask contract --fault` takes several faults, as `serve --fault` does: each is
//! switched on in the embedded server, so the run fails on each one's rule.

use std::process::Command;

fn contract(faults: &[&str]) -> (Option<i32>, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args([
            "contract",
            "--cases",
            "20",
            "--seed",
            "3",
            "--no-regressions",
            // The two checks that catch these faults: shrinking every other check's
            // failures would take a minute a run in a debug build.
            "--checks",
            "status_code_conformance,server_fields",
        ])
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .env_remove("CONTRACT_OTHER_TEAM_TOKEN");
    for fault in faults {
        command.args(["--fault", fault]);
    }
    let out = command.output().expect("xtask runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A reshaping fault (create answers 201) and a field fault (no `updated_by`), given as one
/// comma-separated `--fault` and as two flags: both are caught in one run.
#[test]
fn two_faults_are_both_caught_in_one_run() {
    for faults in [
        &["create-returns-201,missing-updated-by"][..],
        &["create-returns-201", "missing-updated-by"],
    ] {
        let (code, stdout, stderr) = contract(faults);
        assert_eq!(code, Some(1), "{faults:?}: {stdout}{stderr}");
        assert!(
            stdout.contains("status_code_conformance on create_simulation"),
            "{stdout}"
        );
        assert!(
            stdout.contains("server_fields on create_simulation at /simulation/updated_by"),
            "{stdout}"
        );
    }
    let (code, _, stderr) = contract(&["create-returns-201,no-such-fault"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
