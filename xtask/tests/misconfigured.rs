//! `cargo xtask contract` when something around the run is misconfigured: a regressions path that cannot be written (the findings are still printed, the cleanup still runs, every other output is still written, then one error line and exit 2).

mod support;

use support::{run_blocking, runtime, team_ids, temp_path, text};

use std::process::{Command, Stdio};

use reference_server::{Config, DEV_KEY, DEV_OTHER_TEAM_KEY, Fault};

fn contract(url: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(["contract", "--base-url", url, "--quiet"])
        .args(args)
        .env("XTASK_ALLOW_DEBUG", "1")
        .env("CONTRACT_TOKEN", DEV_KEY)
        .env("CONTRACT_OTHER_TEAM_TOKEN", DEV_OTHER_TEAM_KEY)
        .stdin(Stdio::null());
    command
}

#[test]
fn an_unwritable_regressions_path_still_reports_cleans_up_and_writes_the_rest_then_exits_2() {
    let rt = runtime();
    rt.block_on(async {
        let mut config = Config::development();
        config.fault = Some(Fault::CreateReturns201);
        let upstream = reference_server::spawn(config).await.unwrap();
        // A regressions path whose parent is a file: no directory can be made there.
        let blocker = temp_path("blocker");
        std::fs::write(&blocker, "a file, not a directory\n").unwrap();
        let regressions = blocker.join("contract.txt");
        let junit = temp_path("unwritable.xml");
        let md = temp_path("unwritable.md");
        let out = run_blocking(contract(
            &upstream.base_url(),
            &[
                "--cases",
                "60",
                "--seed",
                "2",
                "--regressions",
                regressions.to_str().unwrap(),
                "--junit",
                junit.to_str().unwrap(),
                "--summary-md",
                md.to_str().unwrap(),
            ],
        ))
        .await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        let context = format!("{stdout}{stderr}");
        assert_eq!(out.status.code(), Some(2), "{context}");
        assert!(
            stdout.contains("FAIL 1.") && stdout.contains("status_code_conformance"),
            "the findings are printed: {context}"
        );
        assert!(
            stdout.lines().any(|l| l.starts_with("summary: ")),
            "{context}"
        );
        assert!(stdout.contains("cleanup (run tag"), "{context}");
        for key in [DEV_KEY, DEV_OTHER_TEAM_KEY] {
            let left = team_ids(&upstream.base_url(), key).await;
            assert!(left.is_empty(), "{} record(s) left: {context}", left.len());
        }
        assert!(
            std::fs::read_to_string(&junit)
                .unwrap()
                .contains("<failure"),
            "JUnit is written: {context}"
        );
        assert!(
            std::fs::read_to_string(&md).unwrap().contains("failed"),
            "the Markdown is written: {context}"
        );
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{context}");
        assert!(
            errors[0].contains("cannot write") && errors[0].contains("blocker"),
            "{context}"
        );
        assert_eq!(
            std::fs::read_to_string(&blocker).unwrap(),
            "a file, not a directory\n"
        );
        for path in [blocker, junit, md] {
            std::fs::remove_file(path).unwrap();
        }
        upstream.shutdown().await;
    });
}
