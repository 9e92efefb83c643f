//! `cargo xtask contract`'s baseline, `--message-format json`, `--summary-md` and `--partition` flags as CI uses them: exit codes, one-line errors, and a key that never leaks.

use crate::support;

use support::{temp_path, text, xtask};

use std::path::PathBuf;

use reference_server::{ApiKey, Config, Fault};
use serde_json::Value;

/// The fault `create-returns-201` fails exactly one distinct failure on this seed.
const FAULTY: [&str; 9] = [
    "contract",
    "--cases",
    "100",
    "--seed",
    "3",
    "--no-regressions",
    "--fault",
    "create-returns-201",
    "--baseline",
];

/// A date an entry may expire on: within the year ahead the suite allows.
fn in_a_month() -> String {
    (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string()
}

fn baseline(name: &str, expires: &str) -> PathBuf {
    let path = temp_path(name);
    std::fs::write(
        &path,
        format!(
            "[[known]]\ncheck = \"status_code_conformance\"\noperation = \"create_simulation\"\npointer = \"\"\nreason = \"WF-1\"\nexpires = {expires}\n\n\
             [[known]]\ncheck = \"request_echo\"\noperation = \"get_simulation\"\npointer = \"/nowhere\"\nreason = \"WF-2\"\nexpires = {}\n",
            in_a_month()
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_known_failure_passes_an_expired_entry_fails_and_a_stale_one_warns() {
    let current = baseline("current.toml", &in_a_month());
    let mut args = FAULTY.to_vec();
    args.push(current.to_str().unwrap());
    let out = xtask(&args, None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("KNOWN 1. status_code_conformance on create_simulation"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: stale baseline entry, it no longer fails: request_echo on get_simulation at /nowhere (WF-2)"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .contains(" requests, 0 failures, "),
        "{stdout}"
    );

    // Expired: the failure counts again, and the entry is named on one line.
    let expired = baseline("expired.toml", "2000-01-01");
    let mut args = FAULTY.to_vec();
    args.push(expired.to_str().unwrap());
    let out = xtask(&args, None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let named: Vec<&str> = stdout.lines().filter(|l| l.contains("EXPIRED")).collect();
    assert_eq!(
        named,
        [
            "baseline entry EXPIRED on 2000-01-01: status_code_conformance on create_simulation at (whole response) (WF-1)"
        ]
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .contains(" requests, 1 failure, "),
        "{stdout}"
    );

    // Without the baseline the failure is new.
    let mut args = FAULTY[..8].to_vec();
    args.push("--no-baseline");
    assert_eq!(xtask(&args, None).status.code(), Some(1));
    std::fs::remove_file(current).unwrap();
    std::fs::remove_file(expired).unwrap();
}

#[test]
fn json_lines_parse_the_last_is_the_summary_and_it_agrees_with_the_human_run() {
    let mut args = FAULTY[..8].to_vec();
    args.extend(["--no-baseline", "--message-format", "json"]);
    let out = xtask(&args, None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let objects: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (summary, findings) = objects.split_last().unwrap();
    assert_eq!(summary["reason"], "summary", "{stdout}");
    assert!(
        findings.iter().all(|f| f["reason"] == "finding"),
        "{stdout}"
    );
    assert_eq!(summary["failures"], findings.len());
    // The human lines went to stderr.
    assert!(text(&out.stderr).contains("contract: 100 cases against"));

    let mut args = FAULTY[..8].to_vec();
    args.push("--no-baseline");
    let human = text(&xtask(&args, None).stdout);
    let last = human.lines().last().unwrap();
    // Two runs of one seed: the same cases and failures (request counts may differ by a retry
    // of the cleanup, so they are compared within one run, in contract-tests' own test).
    assert!(
        last.starts_with(&format!("summary: {} cases, ", summary["cases"]))
            && last.contains(&format!(
                " requests, {} {}, ",
                summary["failures"],
                if summary["failures"] == 1 {
                    "failure"
                } else {
                    "failures"
                }
            )),
        "{last} vs {summary}"
    );
}

#[test]
fn json_and_markdown_never_show_the_key() {
    const SECRET: &str = "s3cret-Key-that-must-not-leak";
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut config = Config::development();
    config.keys.push(ApiKey::new(SECRET, "team-s", "user-s"));
    config.faults = Fault::WrongDefaultMaxEvents.into();
    let server = rt.block_on(reference_server::spawn(config)).unwrap();
    let md = temp_path("summary.md");
    let out = xtask(
        &[
            "contract",
            "--base-url",
            &server.base_url(),
            "--cases",
            "150",
            "--seed",
            "5",
            "--no-regressions",
            "--no-baseline",
            "--message-format",
            "json",
            "--summary-md",
            md.to_str().unwrap(),
        ],
        Some(SECRET),
    );
    rt.block_on(server.shutdown());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let markdown = std::fs::read_to_string(&md).unwrap();
    std::fs::remove_file(&md).unwrap();
    for (what, content) in [
        ("stdout", text(&out.stdout)),
        ("stderr", text(&out.stderr)),
        ("markdown", markdown.clone()),
    ] {
        assert!(!content.contains(SECRET), "the key leaked into {what}");
        assert!(
            content.contains("$CONTRACT_TOKEN") || what == "stderr",
            "{what}: {content}"
        );
    }
    assert!(
        markdown.starts_with("## ❌ Contract suite failed"),
        "{markdown}"
    );
    assert!(markdown.contains("```sh\ncurl "), "{markdown}");
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let broken = temp_path("broken.toml");
    std::fs::write(&broken, "[[known]]\ncheck = \"request_echo\"\n").unwrap();
    for args in [
        vec!["contract", "--seed", "1", "--partition", "0/3"],
        vec!["contract", "--seed", "1", "--partition", "4/3"],
        vec!["contract", "--seed", "1", "--partition", "x"],
        vec!["contract", "--partition", "1/3"],
        vec!["contract", "--message-format", "xml"],
        vec!["contract", "--baseline", "/no/such/baseline.toml"],
        vec!["contract", "--baseline", broken.to_str().unwrap()],
    ] {
        let out = xtask(&args, None);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    std::fs::remove_file(broken).unwrap();
}

/// What CI reporters read, from a real run that fails on a whole response (`create-returns-201`
/// fails the status, pointer empty) with a seed above 2^53 and GitHub's commit variable set:
/// every JUnit test case has a time, the `<testsuites>` tag carries nothing Jenkins' schema
/// rejects, the properties name the seed and the commit, and `jq` (which reads numbers as f64)
/// reads back the seed the run used.
#[test]
fn ci_reporters_get_times_properties_and_a_seed_that_survives_jq() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let seed = "1796588574283923364";
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let junit = temp_path("reporters.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "contract",
            "--cases",
            "100",
            "--seed",
            seed,
            "--no-regressions",
            "--fault",
            "create-returns-201",
            "--message-format",
            "json",
            "--junit",
            junit.to_str().unwrap(),
        ])
        .env("XTASK_ALLOW_DEBUG", "1")
        .env_remove("CONTRACT_TOKEN")
        .env_remove("CONTRACT_OTHER_TEAM_TOKEN")
        .env_remove("GIT_COMMIT")
        .env("GITHUB_SHA", sha)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let xml = std::fs::read_to_string(&junit).unwrap();
    std::fs::remove_file(&junit).unwrap();
    let cases: Vec<&str> = xml.split("<testcase ").skip(1).collect();
    assert!(cases.len() > 5, "{xml}");
    for case in &cases {
        let tag = &case[..case.find('>').unwrap()];
        assert!(tag.contains(" time=\""), "a testcase without a time: {tag}");
    }
    let testsuites = xml.split("<testsuites ").nth(1).unwrap();
    let testsuites = &testsuites[..testsuites.find('>').unwrap()];
    assert!(!testsuites.contains("skipped="), "{testsuites}");
    assert!(
        xml.contains(&format!("<property name=\"seed\" value=\"{seed}\"/>"))
            && xml.contains(&format!("<property name=\"commit\" value=\"{sha}\"/>")),
        "{xml}"
    );
    assert!(xml.contains(">at (whole response)\n"), "{xml}");
    assert!(!xml.contains(">at \n"), "{xml}");

    let summary = stdout.lines().last().unwrap();
    let mut jq = Command::new("jq")
        .args(["-r", ".seed"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("jq reads the JSON summary");
    jq.stdin
        .take()
        .unwrap()
        .write_all(summary.as_bytes())
        .unwrap();
    let read = jq.wait_with_output().unwrap();
    assert!(read.status.success(), "{read:?}");
    assert_eq!(text(&read.stdout).trim(), seed, "{summary}");
}
