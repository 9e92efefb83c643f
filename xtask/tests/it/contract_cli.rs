//! `cargo xtask contract` as CI runs it: exit codes 0, 1 and 2, the summary line, JUnit, and a key that never leaks.

use crate::support;

use support::{runtime, temp_path, text, xtask};

use std::process::Command;

use reference_server::{ApiKey, Config, Fault};

/// One build: `contract` runs in the process `cargo xtask` started, whatever its profile; it
/// never builds xtask again (a release hand-over would print cargo's lines, or fail to find one).
#[test]
fn contract_runs_in_the_build_that_started_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "contract",
            "--cases",
            "20",
            "--seed",
            "3",
            "--no-regressions",
        ])
        .env_remove("XTASK_ALLOW_DEBUG")
        .env_remove("XTASK_IN_RELEASE")
        .env_remove("CONTRACT_TOKEN")
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for cargo_line in ["Compiling", "Finished", "Blocking", "release"] {
        assert!(!stderr.contains(cargo_line), "{stderr}");
    }
    assert!(
        text(&out.stdout).contains("summary: 20 cases"),
        "{}",
        text(&out.stdout)
    );
}

/// The default run (2000 cases, seed 1; shared with the coverage and cleanup-cost tests).
#[test]
fn a_clean_run_exits_0_with_the_summary_line_last_and_junit() {
    let run = support::runs::default_run();
    let stdout = &run.stdout;
    assert_eq!(
        run.code,
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        run.stderr
    );
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("summary: 2000 cases, ")
            && last.contains(" requests, 0 failures, ")
            && last.ends_with(" s"),
        "{last}"
    );
    let xml = &run.files[1];
    assert!(
        xml.contains("<testsuite name=\"contract\"") && xml.contains("failures=\"0\""),
        "{xml}"
    );
}

#[test]
fn a_violation_exits_1_and_prints_a_reproducer() {
    let run = support::runs::create_returns_201_run();
    let stdout = &run.stdout;
    assert_eq!(run.code, Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL 1. status_code_conformance on create_simulation"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected: ") && stdout.contains("received: 201"),
        "{stdout}"
    );
    assert!(stdout.contains("reproduce: curl -i -X POST"), "{stdout}");
    assert!(
        stdout.contains("\"Authorization: Bearer $CONTRACT_TOKEN\""),
        "{stdout}"
    );
}

/// The curl lines of a run against the embedded server point at a port closed once the run
/// ends: the terminal and the Markdown say so once, with the command that brings a server back
/// on that port (with the run's fault).
#[test]
fn curl_lines_of_an_embedded_run_say_how_to_bring_the_server_back() {
    let run = support::runs::create_returns_201_run();
    let stdout = &run.stdout;
    assert_eq!(run.code, Some(1), "{stdout}");
    let curl = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("reproduce: "))
        .expect("a curl line");
    let at = curl.find("http://127.0.0.1:").expect("a loopback URL") + "http://".len();
    let address: String = curl[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    let said = format!("the embedded reference server ran on {address} for this run only");
    let command = format!("`cargo xtask serve --addr {address} --fault create-returns-201`");
    assert_eq!(stdout.matches(&said).count(), 1, "{stdout}");
    assert!(stdout.contains(&command), "{stdout}");
    let markdown = &run.files[0];
    assert_eq!(markdown.matches(&said).count(), 1, "{markdown}");
    assert!(markdown.contains(&command), "{markdown}");
    // A clean run prints no curl line, and so no word about them.
    let clean = support::runs::default_run();
    assert_eq!(clean.code, Some(0), "{}", clean.stdout);
    assert!(!clean.stdout.contains("for this run only"));
}

#[test]
fn an_unreachable_target_exits_2_with_one_line() {
    // Bind and drop a listener to find a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = xtask(
        &[
            "contract",
            "--base-url",
            &url,
            "--cases",
            "5",
            "--no-regressions",
        ],
        Some("any-key-at-all"),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
}

#[test]
fn a_wrong_key_exits_2_with_one_line() {
    let rt = runtime();
    let server = rt
        .block_on(reference_server::spawn(Config::development()))
        .unwrap();
    let out = xtask(
        &[
            "contract",
            "--base-url",
            &server.base_url(),
            "--cases",
            "5",
            "--no-regressions",
        ],
        Some("wrong-key"),
    );
    rt.block_on(server.shutdown());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("refused the API key") && stderr.contains("401"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-key"));
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        vec!["contract", "--cases", "many"],
        vec!["contract", "--cases", "0"],
        vec!["contract", "--checks", "no_such_check"],
        vec!["contract", "--token", "x"],
        // Values that once crashed with exit 101 or were clamped without a word.
        vec!["contract", "--timeout", "inf"],
        vec!["contract", "--timeout", "1e30"],
        vec!["contract", "--timeout", "-5"],
        vec!["contract", "--timeout", "NaN"],
        vec!["contract", "--rate", "1e-30"],
        vec!["contract", "--rate", "0"],
        vec!["contract", "--max-time", "0"],
        vec!["contract", "--concurrency", "0"],
        vec!["contract", "--max-response-bytes", "12"],
        vec!["mutants", "--cases", "-1"],
    ] {
        let out = xtask(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            text(&out.stderr).lines().count(),
            1,
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // A key that cannot travel as a header is refused up front, by variable, never shown.
    for (variable, key) in [
        ("CONTRACT_TOKEN", "abc-key\n"),
        ("CONTRACT_OTHER_TEAM_TOKEN", "other\rkey"),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        let out = command
            .args([
                "contract",
                "--base-url",
                "http://127.0.0.1:9",
                "--cases",
                "1",
            ])
            .env("XTASK_ALLOW_DEBUG", "1")
            .env("CONTRACT_TOKEN", "fine-key")
            .env(variable, key)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "{variable} cannot be sent as an HTTP header value"
            )),
            "{stderr}"
        );
        assert!(!stderr.contains(key.trim()), "{stderr}");
    }
    let out = xtask(&["contract", "--base-url", "http://127.0.0.1:9"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("CONTRACT_TOKEN is not set"));
    let out = xtask(
        &["contract", "--base-url", "https://api.example.com"],
        Some("k"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--allow-host"),
        "{}",
        text(&out.stderr)
    );
}

/// The one line of stderr (exit 2) a refused command line gets.
fn refused(args: &[&str]) -> String {
    let out = xtask(args, None);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    stderr.trim_end().to_owned()
}

/// A typo gets clap's suggestion, on the same single line.
#[test]
fn a_typo_is_answered_with_what_was_meant() {
    let line = refused(&["contarct"]);
    assert!(line.contains("did you mean `contract`?"), "{line}");
    let line = refused(&["contract", "--seeed", "3"]);
    assert!(line.contains("did you mean `--seed`?"), "{line}");
    let line = refused(&["contract", "--color", "alway"]);
    assert!(line.contains("did you mean `always`?"), "{line}");
    // Nothing near: no suggestion, and no key is ever echoed.
    let line = refused(&["contract", "--token", "secret-typo"]);
    assert!(
        !line.contains("did you mean") && !line.contains("secret-typo"),
        "{line}"
    );
}

/// A number flag says whether the text is no number or a number out of range.
#[test]
fn a_number_flag_says_not_a_number_or_the_range() {
    for (args, says) in [
        (
            &["contract", "--cases", "abc"][..],
            "not a number: expected a whole number from 1 to 10000000",
        ),
        (&["contract", "--cases", ""], "not a number"),
        (
            &["contract", "--cases", "1.5"],
            "not a whole number: expected a whole number from 1 to 10000000",
        ),
        (
            &["contract", "--cases", "0"],
            "out of range: expected a whole number from 1 to 10000000",
        ),
        (
            &["contract", "--cases", "99999999999999999999999"],
            "out of range",
        ),
        (
            &["contract", "--timeout", "soon"],
            "not a number: expected a number from 0.01 to 3600",
        ),
        (&["contract", "--timeout", "NaN"], "not a number"),
        (
            &["contract", "--timeout", "0"],
            "out of range: expected a number from 0.01 to 3600",
        ),
        (&["mutants", "--seeds", "x"], "not a number"),
        (&["mutants", "--cases", "-1"], "out of range"),
    ] {
        let line = refused(args);
        assert!(line.contains(says), "{args:?}: {line}");
        assert!(
            !says.starts_with("not a number") || !line.contains("out of range"),
            "{args:?}: {line}"
        );
    }
}

/// A value outside a closed list names the allowed ones; the long fault catalog is named by
/// its first entries and where the rest are listed.
#[test]
fn an_invalid_choice_lists_the_allowed_values() {
    let line = refused(&["contract", "--color", "purple"]);
    assert!(
        line.contains("possible values: auto, always, never"),
        "{line}"
    );
    let line = refused(&["contract", "--message-format", "xml"]);
    assert!(line.contains("possible values: human, json"), "{line}");
    let line = refused(&["contract", "--fault", "no-such-fault"]);
    let first = Fault::ALL[0].name();
    assert!(line.contains(first), "{line}");
    assert!(line.contains("`cargo xtask serve --list-faults`"), "{line}");
    assert!(line.len() < 400, "{} characters: {line}", line.len());
}

/// `--color auto` follows the process's environment as no-color.org and bixense.com/clicolors
/// say (stdout is a pipe here, so only CLICOLOR_FORCE can turn colour on); `always` and `never`
/// win over the environment.
#[test]
fn colour_follows_the_flag_then_the_environment() {
    for (color, vars, coloured) in [
        ("auto", &[][..], false),
        ("auto", &[("CLICOLOR_FORCE", "1")], true),
        ("auto", &[("CLICOLOR_FORCE", "1"), ("TERM", "dumb")], true),
        ("auto", &[("CLICOLOR_FORCE", "0")], false),
        ("auto", &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], false),
        ("never", &[("CLICOLOR_FORCE", "1")], false),
        ("always", &[("NO_COLOR", "1"), ("TERM", "dumb")], true),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args([
                "contract",
                "--cases",
                "3",
                "--seed",
                "5",
                "--no-regressions",
            ])
            .args(["--no-baseline", "--quiet", "--color", color])
            .env("XTASK_ALLOW_DEBUG", "1")
            .env_remove("CONTRACT_TOKEN")
            .env_remove("CONTRACT_OTHER_TEAM_TOKEN");
        for name in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM"] {
            command.env_remove(name);
        }
        command.envs(vars.iter().copied());
        let out = command.output().unwrap();
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
        let last = stdout.lines().last().unwrap_or_default();
        assert!(last.contains("summary: 3 cases"), "{stdout}");
        assert_eq!(
            last.starts_with("\u{1b}["),
            coloured,
            "--color {color} {vars:?}: {last:?}"
        );
    }
}

/// The run's key sent in another header or altered (issue 22) is written by variable in the
/// reproducer, and neither it nor its upper-cased or shortened form shows anywhere.
#[test]
fn a_key_in_another_header_or_altered_is_reproduced_by_variable_and_never_shown() {
    const SECRET: &str = "s3cret-key-that-must-not-leak";
    let rt = runtime();
    for (fault, reproducer) in [
        (
            Fault::ApiKeyHeaderAccepted,
            r#"-H 'X-API-Key: '"$CONTRACT_TOKEN""#,
        ),
        (
            Fault::KeysCaseInsensitive,
            r#"-H "Authorization: Bearer $(printf %s "$CONTRACT_TOKEN" | tr a-z A-Z)""#,
        ),
    ] {
        let mut config = Config::development();
        config.keys.push(ApiKey::new(SECRET, "team-s", "user-s"));
        config.faults = fault.into();
        let server = rt.block_on(reference_server::spawn(config)).unwrap();
        let junit = temp_path(&format!("{fault}.xml"));
        let out = xtask(
            &[
                "contract",
                "--base-url",
                &server.base_url(),
                // Seed 1 first catches api-key-header-accepted between case 71 and 80 (and
                // keys-case-insensitive sooner): 150 cases leave twice that, with the same eight
                // findings and their shrinking, whose reproducers are where a key would leak.
                "--cases",
                "150",
                "--seed",
                "1",
                "--no-regressions",
                "--junit",
                junit.to_str().unwrap(),
            ],
            Some(SECRET),
        );
        rt.block_on(server.shutdown());
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{fault}: {stdout}");
        assert!(stdout.contains(reproducer), "{fault}: {stdout}");
        let written = [
            stdout,
            text(&out.stderr),
            std::fs::read_to_string(&junit).unwrap(),
        ];
        std::fs::remove_file(junit).unwrap();
        for content in &written {
            // The key cut short by one character covers the key, the key with its last
            // character changed and the prefix the suite sends; lower case covers every case.
            let shown = content.to_ascii_lowercase();
            assert!(
                !shown.contains(&SECRET[..SECRET.len() - 1]),
                "{fault}: the key leaked: {content}"
            );
        }
    }
}

#[test]
fn the_key_never_appears_in_output_junit_or_regressions() {
    const SECRET: &str = "s3cret-Key-that-must-not-leak";
    let rt = runtime();
    let mut config = Config::development();
    config.keys.push(ApiKey::new(SECRET, "team-s", "user-s"));
    // A fault makes the run fail, so findings, curl lines, JUnit failures and regressions are all written.
    config.faults = Fault::WrongDefaultMaxEvents.into();
    let server = rt.block_on(reference_server::spawn(config)).unwrap();
    let junit = temp_path("leak.xml");
    let regressions = temp_path("leak-regressions.txt");
    let out = xtask(
        &[
            "contract",
            "--base-url",
            &server.base_url(),
            "--cases",
            "200",
            "--seed",
            "5",
            "--junit",
            junit.to_str().unwrap(),
            "--regressions",
            regressions.to_str().unwrap(),
        ],
        Some(SECRET),
    );
    rt.block_on(server.shutdown());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let written = [
        text(&out.stdout),
        text(&out.stderr),
        std::fs::read_to_string(&junit).unwrap(),
        std::fs::read_to_string(&regressions).unwrap(),
    ];
    for (what, content) in ["stdout", "stderr", "junit", "regressions"]
        .iter()
        .zip(&written)
    {
        assert!(!content.contains(SECRET), "the key leaked into {what}");
    }
    assert!(
        written[3].contains("cc "),
        "a regression seed was recorded: {}",
        written[3]
    );
    assert!(written[0].contains("$CONTRACT_TOKEN"));

    // The next run replays the recorded seeds before drawing new cases.
    let mut config = Config::development();
    config.keys.push(ApiKey::new(SECRET, "team-s", "user-s"));
    config.faults = Fault::WrongDefaultMaxEvents.into();
    let server = rt.block_on(reference_server::spawn(config)).unwrap();
    let replay = xtask(
        &[
            "contract",
            "--base-url",
            &server.base_url(),
            "--cases",
            "1",
            "--seed",
            "99",
            "--regressions",
            regressions.to_str().unwrap(),
        ],
        Some(SECRET),
    );
    rt.block_on(server.shutdown());
    let stdout = text(&replay.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with("replayed ")
            && (l.ends_with(" regression seed first") || l.ends_with(" regression seeds first"))),
        "{stdout}"
    );
    assert_eq!(
        replay.status.code(),
        Some(1),
        "the replayed seed finds the fault again: {stdout}"
    );
    std::fs::remove_file(junit).unwrap();
    std::fs::remove_file(regressions).unwrap();
}

#[test]
fn the_summary_says_which_checks_did_not_run_and_whether_the_identity_was_learned() {
    let rt = runtime();
    let server = rt
        .block_on(reference_server::spawn(Config::development()))
        .unwrap();
    let url = server.base_url();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "contract",
            "--base-url",
            &url,
            // The notes come from the first responses and the first create: 20 cases give the
            // same three summaries as 150 did.
            "--cases",
            "20",
            "--seed",
            "4",
            "--no-regressions",
        ];
        args.extend_from_slice(extra);
        xtask(&args, Some(reference_server::DEV_KEY))
    };
    // No other team's key and no pinned identity: both are said.
    let learned = run(&[]);
    let stdout = text(&learned.stdout);
    assert_eq!(learned.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("tenancy checks did not run: CONTRACT_OTHER_TEAM_TOKEN is not set"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("identity learned from the responses, not pinned: team team-a, user user-a"),
        "{stdout}"
    );
    // Pinned and right: nothing to say about learning.
    let pinned = run(&["--expect-team", "team-a", "--expect-user", "user-a"]);
    let stdout = text(&pinned.stdout);
    assert_eq!(pinned.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("identity learned"), "{stdout}");
    // Pinned and wrong: server_fields judges against the pin instead of learning.
    let wrong = run(&["--expect-team", "team-z"]);
    let stdout = text(&wrong.stdout);
    assert_eq!(wrong.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("server_fields on create_simulation"),
        "{stdout}"
    );
    assert!(stdout.contains("team-z"), "{stdout}");
    rt.block_on(server.shutdown());
}
