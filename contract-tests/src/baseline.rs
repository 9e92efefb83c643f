//! Known failures: the baseline file (`contract-tests/baseline.toml`), its parsing into entries keyed like the runner's distinct failures, and the triage of a run's findings into new, known, stale and expired.
//!
//! An entry names a failure by (check, operation, JSON pointer). The runner reports groups of
//! failures (`runner::group_pointer`: pointers that differ only by an array index or a key the
//! spec does not name): an entry knows the group of its check and operation whose pointer
//! (`/simulation/simulation_config/*`) it names, or that holds its exact pointer among those
//! the run saw, so entries written before the grouping keep matching.
//! Every entry carries a reason and an expiry date, so that nothing stays known forever: on the
//! day after `expires` the entry fails the run until someone fixes the failure or renews it.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::checks::{CLEANUP_SEARCH_MATCHES_TAG, RESPONSE_RECEIVED, RESPONSE_WITHIN_SIZE_CAP};
use crate::spec::Operation;
use crate::verdict::PointerSeen;

/// Why a baseline file cannot be used. Each reads as one line; xtask exits 2 on it.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("baseline {path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// One known failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub check: String,
    pub operation: String,
    /// `""` is the whole response, as in the runner's key.
    pub pointer: String,
    pub reason: String,
    /// The last day the entry holds; from the day after, it fails the run.
    pub expires: NaiveDate,
}

impl Entry {
    /// `check on operation at pointer`, as the human output names a failure.
    pub(crate) fn key_text(&self) -> String {
        let pointer = if self.pointer.is_empty() {
            "(whole response)"
        } else {
            &self.pointer
        };
        format!("{} on {} at {}", self.check, self.operation, pointer)
    }
}

/// The entries of a baseline file, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    pub entries: Vec<Entry>,
}

/// The file's shape; `deny_unknown_fields` turns a misspelt key into an error rather than an
/// entry that silently never matches.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    known: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    check: String,
    operation: String,
    pointer: String,
    reason: String,
    /// A TOML date (`2026-09-30`) or the same as a string.
    expires: toml::Value,
}

/// Names a finding can carry that are not in the check registry.
const PSEUDO_CHECKS: [&str; 3] = [
    RESPONSE_RECEIVED,
    RESPONSE_WITHIN_SIZE_CAP,
    CLEANUP_SEARCH_MATCHES_TAG,
];

/// How far ahead an entry may expire: a year, so that every known failure is looked at again.
pub(crate) const MAX_HORIZON_MONTHS: u32 = 12;

impl Baseline {
    /// Reads and validates the file as of `today` (UTC for the real run): besides what
    /// [`Baseline::parse`] checks, no entry may expire more than [`MAX_HORIZON_MONTHS`] after it.
    pub fn load(path: &Path, today: NaiveDate) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Unreadable {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Baseline::parse(&text)
            .and_then(|baseline| baseline.within_horizon(today).map(|()| baseline))
            .map_err(|reason| BaselineError::Invalid {
                path: path.display().to_string(),
                reason,
            })
    }

    /// Refuses the first entry whose `expires` is more than [`MAX_HORIZON_MONTHS`] after
    /// `today`, naming it; an entry in 9999 would be known forever.
    pub(crate) fn within_horizon(&self, today: NaiveDate) -> Result<(), String> {
        let latest = today
            .checked_add_months(chrono::Months::new(MAX_HORIZON_MONTHS))
            .unwrap_or(NaiveDate::MAX);
        match self
            .entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.expires > latest)
        {
            Some((i, e)) => Err(format!(
                "entry {} ({}): expires {} is more than a year after today ({today}); the latest allowed is {latest}",
                i + 1,
                crate::text::escape(&e.key_text()),
                e.expires
            )),
            None => Ok(()),
        }
    }

    /// Parses and validates the text of a baseline file; the error is one line.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let file: File = toml::from_str(text).map_err(|e| {
            // toml's Display draws the line with a caret over several lines; one line is wanted.
            let place = e.span().map_or(String::new(), |span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {column}: ")
            });
            format!("{place}{}", e.message().trim().replace('\n', " "))
        })?;
        let mut entries: Vec<Entry> = Vec::new();
        for (i, raw) in file.known.into_iter().enumerate() {
            let n = i + 1;
            if crate::checks::find(&raw.check).is_none()
                && !PSEUDO_CHECKS.contains(&raw.check.as_str())
            {
                return Err(format!(
                    "entry {n}: unknown check {} (`cargo xtask contract --list-checks`)",
                    crate::text::quoted(&raw.check)
                ));
            }
            if !Operation::ALL.iter().any(|op| op.id() == raw.operation) {
                let ids: Vec<&str> = Operation::ALL.iter().map(|op| op.id()).collect();
                return Err(format!(
                    "entry {n}: unknown operation {} (one of {})",
                    crate::text::quoted(&raw.operation),
                    ids.join(", ")
                ));
            }
            if !raw.pointer.is_empty() && !raw.pointer.starts_with('/') {
                return Err(format!(
                    "entry {n}: pointer {} is not a JSON pointer (\"\" or starting with /)",
                    crate::text::quoted(&raw.pointer)
                ));
            }
            if raw.reason.trim().is_empty() {
                return Err(format!("entry {n}: reason is empty"));
            }
            let expires = parse_date(&raw.expires).ok_or_else(|| {
                let shown = match &raw.expires {
                    toml::Value::Datetime(d) => d.to_string(),
                    toml::Value::String(s) => crate::text::quoted(s),
                    other => format!("(a {})", other.type_str()),
                };
                format!("entry {n}: expires {shown} is not a date YYYY-MM-DD")
            })?;
            let entry = Entry {
                check: raw.check,
                operation: raw.operation,
                pointer: raw.pointer,
                reason: raw.reason,
                expires,
            };
            if let Some(first) = entries.iter().position(|e| same_key(e, &entry)) {
                return Err(format!(
                    "entry {n} repeats entry {} ({})",
                    first + 1,
                    entry.key_text()
                ));
            }
            entries.push(entry);
        }
        Ok(Baseline { entries })
    }

    /// Sorts a run's findings against the entries as of `today` (injected, so tests choose it).
    /// `checks_run` are the checks the run made: an entry for another check was not judged, so
    /// it is not stale.
    pub(crate) fn triage(
        &self,
        findings: &[FindingKey<'_>],
        checks_run: &[&str],
        today: NaiveDate,
    ) -> Triage {
        let mut triage = Triage::default();
        for entry in &self.entries {
            let matches: Vec<usize> = findings
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    f.check == entry.check
                        && f.operation == entry.operation
                        && f.names(&entry.pointer)
                })
                .map(|(i, _)| i)
                .collect();
            if entry.expires < today {
                // An expired entry knows nothing: its failures count as new, and it fails the run.
                triage.expired.push(entry.clone());
            } else if matches.is_empty() {
                let judged = checks_run.contains(&entry.check.as_str())
                    || PSEUDO_CHECKS.contains(&entry.check.as_str());
                if judged {
                    triage.stale.push(entry.clone());
                }
            } else {
                for i in matches {
                    triage.known.insert(i, entry.clone());
                }
            }
        }
        triage
    }
}

/// Today's date in UTC, for the real run; tests pass their own day to [`Baseline::triage`].
pub fn today_utc() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// What a finding is matched by: its check, operation, and the pointers of its group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FindingKey<'a> {
    pub check: &'a str,
    pub operation: &'a str,
    /// The example's exact pointer.
    pub pointer: &'a str,
    /// The group's pointer.
    pub group: &'a str,
    /// Every exact pointer of the group the run saw.
    pub pointers: &'a [PointerSeen],
}

impl FindingKey<'_> {
    /// Whether an entry's `pointer` names this finding: the group's pointer, or one of its
    /// exact pointers.
    fn names(&self, pointer: &str) -> bool {
        self.group == pointer
            || self.pointer == pointer
            || self.pointers.iter().any(|p| p.pointer == pointer)
    }
}

fn same_key(a: &Entry, b: &Entry) -> bool {
    a.check == b.check && a.operation == b.operation && a.pointer == b.pointer
}

fn parse_date(value: &toml::Value) -> Option<NaiveDate> {
    let text = match value {
        // A local date only: a time or an offset would make "expires" ambiguous.
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => return None,
    };
    // chrono accepts `2026-9-3` for %m and %d; the file's format is exactly YYYY-MM-DD.
    (text.len() == 10)
        .then(|| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok())
        .flatten()
}

/// A run's findings against the baseline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Triage {
    /// Index into the report's findings, and the entry that knows it.
    pub known: BTreeMap<usize, Entry>,
    /// Entries that did not fail this run although their check ran: a warning, not a failure.
    pub stale: Vec<Entry>,
    /// Entries past their date: each fails the run.
    pub expired: Vec<Entry>,
}

impl Triage {
    /// The warning or failure line of each stale or expired entry; the file's strings are
    /// escaped, so each line stays one line and prints no control character.
    pub fn lines(&self) -> Vec<String> {
        use crate::text::escape;
        let mut lines = Vec::new();
        for e in &self.expired {
            lines.push(format!(
                "baseline entry EXPIRED on {}: {} ({})",
                e.expires,
                escape(&e.key_text()),
                escape(&e.reason)
            ));
        }
        for e in &self.stale {
            lines.push(format!(
                "warning: stale baseline entry, it no longer fails: {} ({})",
                escape(&e.key_text()),
                escape(&e.reason)
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const FILE: &str = r#"
[[known]]
check = "status_code_conformance"
operation = "create_simulation"
pointer = ""
reason = "QA answers 201; WF-1"
expires = 2026-06-30

[[known]]
check = "request_echo"
operation = "update_simulation"
pointer = "/simulation/simulation_config/status"
reason = "WF-2"
expires = "2026-06-01"

[[known]]
check = "error_locus"
operation = "get_simulation"
pointer = "/detail"
reason = "WF-3"
expires = 2026-07-01
"#;

    fn key<'a>(check: &'a str, operation: &'a str, pointer: &'a str) -> FindingKey<'a> {
        FindingKey {
            check,
            operation,
            pointer,
            group: pointer,
            pointers: &[],
        }
    }

    #[test]
    fn an_entry_knows_the_group_holding_its_exact_pointer_or_named_by_the_groups_pointer() {
        let baseline = Baseline::parse(FILE).unwrap();
        let seen = |pointer: &str| PointerSeen {
            pointer: pointer.into(),
            occurrences: 1,
            seed_hex: "ab".into(),
        };
        let pointers = [
            seen("/simulation/simulation_config/stat"),
            seen("/simulation/simulation_config/status"),
        ];
        let grouped = FindingKey {
            check: "request_echo",
            operation: "update_simulation",
            pointer: "/simulation/simulation_config/stat",
            group: "/simulation/simulation_config/*",
            pointers: &pointers,
        };
        let other = FindingKey {
            pointers: &pointers[..1],
            ..grouped
        };
        let checks = ["status_code_conformance", "request_echo", "error_locus"];
        let triage = baseline.triage(&[grouped, other], &checks, date("2026-06-01"));
        assert_eq!(triage.known.keys().copied().collect::<Vec<_>>(), [0]);
        let by_group = Baseline::parse(&FILE.replace(
            "\"/simulation/simulation_config/status\"",
            "\"/simulation/simulation_config/*\"",
        ))
        .unwrap();
        let triage = by_group.triage(&[other], &checks, date("2026-06-01"));
        assert_eq!(triage.known.keys().copied().collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn findings_are_known_stale_or_expired_as_of_the_day_given() {
        let baseline = Baseline::parse(FILE).unwrap();
        assert_eq!(baseline.entries.len(), 3);
        assert_eq!(baseline.entries[1].expires, date("2026-06-01"));
        let findings = [
            key("status_code_conformance", "create_simulation", ""),
            key(
                "request_echo",
                "update_simulation",
                "/simulation/simulation_config/status",
            ),
            // Same check and operation, another pointer: a different failure, not known.
            key(
                "status_code_conformance",
                "create_simulation",
                "/simulation",
            ),
        ];
        let checks = ["status_code_conformance", "request_echo", "error_locus"];
        // On its expiry date an entry still holds.
        let triage = baseline.triage(&findings, &checks, date("2026-06-01"));
        assert_eq!(triage.known.keys().copied().collect::<Vec<_>>(), [0, 1]);
        assert!(triage.expired.is_empty());
        assert_eq!(triage.stale.len(), 1);
        assert_eq!(triage.stale[0].check, "error_locus");
        // The day after, it is expired: its finding is no longer known.
        let triage = baseline.triage(&findings, &checks, date("2026-06-02"));
        assert_eq!(triage.known.keys().copied().collect::<Vec<_>>(), [0]);
        assert_eq!(triage.expired.len(), 1);
        assert_eq!(
            triage.lines()[0],
            "baseline entry EXPIRED on 2026-06-01: request_echo on update_simulation at /simulation/simulation_config/status (WF-2)"
        );
        // A check the run did not make leaves its entries unjudged, not stale.
        let triage = baseline.triage(&findings, &checks[..2], date("2026-06-01"));
        assert!(triage.stale.is_empty());
    }

    #[test]
    fn a_bad_file_is_one_line_naming_the_problem() {
        let bad = [
            ("[[known]]\ncheck = \"x\"", "line "),
            (
                &FILE.replace("reason = \"WF-2\"", "reason = \"WF-2\"\nreasn = \"typo\""),
                "unknown field `reasn`",
            ),
            (&FILE.replace("\"error_locus\"", "\"no_such\""), "entry 3: unknown check \"no_such\""),
            (&FILE.replace("\"get_simulation\"", "\"get\""), "entry 3: unknown operation \"get\""),
            (&FILE.replace("\"/detail\"", "\"detail\""), "entry 3: pointer \"detail\""),
            (&FILE.replace("2026-07-01", "2026-07-01T10:00:00"), "entry 3: expires"),
            (&FILE.replace("\"2026-06-01\"", "\"2026-6-1\""), "entry 2: expires"),
            (&FILE.replace("\"WF-3\"", "\" \""), "entry 3: reason is empty"),
            (
                &FILE.replace(
                    "check = \"error_locus\"\noperation = \"get_simulation\"\npointer = \"/detail\"",
                    "check = \"request_echo\"\noperation = \"update_simulation\"\npointer = \"/simulation/simulation_config/status\"",
                ),
                "entry 3 repeats entry 2",
            ),
        ];
        for (text, wanted) in bad {
            let err = Baseline::parse(text).unwrap_err();
            assert!(err.contains(wanted), "{wanted:?} not in {err:?}");
            assert!(!err.contains('\n'), "{err:?}");
        }
    }

    #[test]
    fn an_entry_expiring_more_than_a_year_ahead_is_refused_naming_it() {
        let today = date("2026-12-06");
        let far = FILE.replace("2026-07-01", "9999-12-31");
        let err = Baseline::parse(&far)
            .unwrap()
            .within_horizon(today)
            .unwrap_err();
        assert_eq!(
            err,
            "entry 3 (error_locus on get_simulation at /detail): expires 9999-12-31 is more than a year after today (2026-12-06); the latest allowed is 2027-12-06"
        );
        // A year to the day is allowed, a day more is not.
        let edge = FILE.replace("2026-07-01", "2027-12-06");
        assert!(
            Baseline::parse(&edge)
                .unwrap()
                .within_horizon(today)
                .is_ok()
        );
        let past = FILE.replace("2026-07-01", "2027-12-07");
        assert!(
            Baseline::parse(&past)
                .unwrap()
                .within_horizon(today)
                .is_err()
        );
        // Through `load`, the error names the file and is one line.
        let path = std::env::temp_dir().join(format!("baseline-{}.toml", std::process::id()));
        std::fs::write(&path, &far).unwrap();
        let err = Baseline::load(&path, today).unwrap_err().to_string();
        std::fs::remove_file(&path).unwrap();
        assert!(
            err.starts_with("baseline ") && err.contains("entry 3 ("),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn the_lines_of_stale_and_expired_entries_escape_the_file_s_strings() {
        let hostile = FILE.replace(
            "\"WF-3\"",
            "\"WF-3\\u001b[2K\\rsummary: 0 failures\\u202e\"",
        );
        let baseline = Baseline::parse(&hostile).unwrap();
        let triage = baseline.triage(&[], &["error_locus"], date("2026-06-01"));
        let lines = triage.lines();
        assert_eq!(
            lines,
            [
                "warning: stale baseline entry, it no longer fails: error_locus on get_simulation at /detail (WF-3\\u{1b}[2K\\rsummary: 0 failures\\u{202e})"
            ]
        );
    }

    #[test]
    fn the_committed_baseline_parses_and_is_empty() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("baseline.toml");
        let baseline = Baseline::load(&path, today_utc()).unwrap();
        assert_eq!(baseline, Baseline::default());
        // Its commented example is a valid entry once uncommented.
        let text = std::fs::read_to_string(&path).unwrap();
        let example: String = text
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.starts_with('[') || l.contains(" = "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            Baseline::parse(&example).unwrap().entries.len(),
            1,
            "{example}"
        );
    }
}
