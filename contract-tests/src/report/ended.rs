//! The outputs of a run that ended before any case once the target was contacted (a misconfigured target, a refused key, a second key of the same team: exit 2; a target that cannot be tested now: exit 3): `--junit`, `--summary-md` and `--message-format json` still say why, so a CI page shows the reason instead of nothing.
//!
//! Apart from the other renderers, which render a [`crate::runner::Report`]: here
//! no case ran, and the only facts are the reason, the exit code and the run's seed. Every text
//! passes the run's [`Secrets`], as everywhere.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

use super::write_output;
use crate::error::RunError;
use crate::partition::Partition;
use crate::redact::Secrets;
use crate::text::{code_span, json_escape_unsafe};

/// Why a run ended before any case, and how it exits.
#[derive(Debug, Clone)]
pub struct Ended {
    /// The error line's text, without `error: `.
    pub why: String,
    pub exit_code: u8,
    pub seed: u64,
    pub partition: Option<Partition>,
    pub elapsed: Duration,
}

impl Ended {
    /// `incomplete` for exit 3 (the target could not be tested now), `error` otherwise.
    fn verdict(&self) -> &'static str {
        if self.exit_code == 3 {
            "incomplete"
        } else {
            "error"
        }
    }
}

/// JUnit XML: one suite (named as a full run's), with one errored test case
/// `contract.run / run_started` whose message is the reason, so a JUnit reader counts an error
/// and shows why.
pub(crate) fn junit_xml(ended: &Ended, secrets: &Secrets) -> String {
    let name = ended
        .partition
        .map_or("contract".to_owned(), |p| format!("contract partition {p}"));
    let mut suite = TestSuite::new(name);
    suite.set_time(ended.elapsed);
    let mut error = TestCaseStatus::non_success(NonSuccessKind::Error);
    error
        .set_message(secrets.redact(&ended.why))
        .set_type(format!("run_ended_exit_{}", ended.exit_code));
    let mut case = TestCase::new("run_started", error);
    case.set_classname("contract.run");
    suite.add_test_case(case);
    suite.add_property(("exit_code", ended.exit_code.to_string().as_str()));
    suite.add_property(("seed", ended.seed.to_string().as_str()));
    suite.add_property(("cases_judged", "0"));
    let mut junit = quick_junit::Report::new("contract");
    junit.set_time(ended.elapsed).add_test_suite(suite);
    let xml = junit
        .to_string()
        .expect("writing XML into memory cannot fail");
    secrets.redact(&xml)
}

/// `--summary-md`: a heading that is never "passed", the reason as a code span (it may quote
/// the target's answer) and the exit code.
pub(crate) fn summary_markdown(ended: &Ended, secrets: &Secrets) -> String {
    let heading = if ended.exit_code == 3 {
        "⚠️ Contract suite incomplete: judged 0 cases"
    } else {
        "⛔ Contract suite not run"
    };
    let partition = ended
        .partition
        .map_or(String::new(), |p| format!(", partition {p}"));
    let mut out = String::new();
    let _ = writeln!(out, "## {heading}\n");
    let _ = writeln!(
        out,
        "The run ended before any case, exit code {} (seed {}{partition}):\n",
        ended.exit_code, ended.seed
    );
    let _ = writeln!(out, "{}", code_span(&secrets.redact(&ended.why), false));
    secrets.redact(&out)
}

/// `--message-format json`: the summary line (`"reason": "summary"`) of a run that judged
/// nothing, with `ended_because` and `exit_code`; the seed as a string, since it may exceed
/// what a JSON reader's doubles hold.
pub fn json_line(ended: &Ended, secrets: &Secrets) -> String {
    let summary = json!({
        "reason": "summary",
        "verdict": ended.verdict(),
        "exit_code": ended.exit_code,
        "ended_because": secrets.redact(&ended.why),
        "cases": 0,
        "cases_judged": 0,
        "seed": ended.seed.to_string(),
        "partition": ended.partition.map(|p| p.to_string()),
        "elapsed_seconds": ended.elapsed.as_secs_f64(),
    });
    let mut line = json_escape_unsafe(&secrets.redact(&summary.to_string())).into_owned();
    line.push('\n');
    line
}

pub fn write_junit(path: &Path, ended: &Ended, secrets: &Secrets) -> Result<(), RunError> {
    write_output(path, &junit_xml(ended, secrets), secrets)
}

pub fn write_summary_markdown(
    path: &Path,
    ended: &Ended,
    secrets: &Secrets,
) -> Result<(), RunError> {
    write_output(path, &summary_markdown(ended, secrets), secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-live-key-<&\"`";

    fn ended(why: &str, exit_code: u8) -> Ended {
        Ended {
            why: why.to_owned(),
            exit_code,
            seed: u64::MAX,
            partition: None,
            elapsed: Duration::from_millis(5),
        }
    }

    #[test]
    fn every_output_names_the_reason_and_never_the_key() {
        let secrets = Secrets::new(KEY, None);
        let e = ended(&format!("answered 404 `{KEY}` ```<b>"), 2);
        let outputs = [
            junit_xml(&e, &secrets),
            summary_markdown(&e, &secrets),
            json_line(&e, &secrets),
        ];
        for out in &outputs {
            assert!(!out.contains("sk-live-key"), "{out}");
            assert!(out.contains("answered 404"), "{out}");
        }
        assert!(
            outputs[0].contains("<error message=\"answered 404"),
            "{}",
            outputs[0]
        );
        assert!(outputs[1].contains("exit code 2"), "{}", outputs[1]);
        assert!(
            !outputs[1].contains("<b>\n"),
            "a code span holds it: {}",
            outputs[1]
        );
        let json: serde_json::Value = serde_json::from_str(&outputs[2]).unwrap();
        assert_eq!(json["seed"], u64::MAX.to_string());
        assert_eq!(json["verdict"], "error");
        assert!(json_line(&ended("x", 3), &secrets).contains("\"incomplete\""));
    }
}
