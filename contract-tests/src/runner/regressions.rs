//! Regression seeds: the seeds of failures kept in `proptest-regressions/contract.txt`, replayed first on every run and written after the shrinking phase, redacted.

use std::path::PathBuf;

use super::Finding;
use crate::error::RunError;
use crate::redact::Secrets;

pub(super) fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

const REGRESSIONS_HEADER: &str = "# Seeds of failures the contract suite has found. Each `cc` line is replayed first on every run.\n\
# It is automatically read and written by `cargo xtask contract`; commit it.\n";

pub(super) fn load_regressions(path: Option<&PathBuf>) -> Vec<[u8; 32]> {
    let Some(text) = path.and_then(|p| std::fs::read_to_string(p).ok()) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("cc "))
        .filter_map(|rest| unhex(rest.split_whitespace().next()?))
        .collect()
}

pub(super) fn save_regressions(
    path: &PathBuf,
    findings: &[Finding],
    secrets: &Secrets,
) -> Result<(), RunError> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut text = if existing.is_empty() {
        REGRESSIONS_HEADER.to_owned()
    } else {
        existing.clone()
    };
    let mut changed = false;
    for f in findings {
        if f.seed_hex.is_empty() || existing.contains(&f.seed_hex) || text.contains(&f.seed_hex) {
            continue;
        }
        let body = String::from_utf8_lossy(&f.request.body.bytes()).into_owned();
        let line = format!(
            "cc {} # {} on {}: {} {}\n",
            f.seed_hex,
            f.check,
            f.operation.id(),
            f.request.method,
            body
        );
        text.push_str(&secrets.redact(&line));
        changed = true;
    }
    if changed {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| RunError::Output {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        std::fs::write(path, text).map_err(|e| RunError::Output {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::case_seed;

    #[test]
    fn case_seeds_differ_and_round_trip() {
        let a = case_seed(1, 0);
        assert_ne!(a, case_seed(1, 1));
        assert_ne!(a, case_seed(2, 0));
        assert_eq!(unhex(&hex(&a)), Some(a));
    }
}
