//! Regression seeds: the seeds of failures kept in `proptest-regressions/contract.txt`, replayed first on every run and written after the shrinking phase, redacted, atomically (a temporary file renamed over it). A file that cannot be read as written (not UTF-8, a symbolic link) stops the run before anything is sent and is never overwritten.

use std::path::{Path, PathBuf};

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

/// The seeds kept at `path` (none when there is no path or no file yet). A file the suite
/// cannot read as it wrote it is refused, never skipped: skipping it would lose its seeds the
/// next time the file is written.
pub(super) fn load_regressions(path: Option<&Path>) -> Result<Vec<[u8; 32]>, RunError> {
    let Some(text) = path.map(read_existing).transpose()?.flatten() else {
        return Ok(Vec::new());
    };
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("cc "))
        .filter_map(|rest| unhex(rest.split_whitespace().next()?))
        .collect())
}

fn refused(path: &Path, reason: impl Into<String>) -> RunError {
    RunError::Regressions {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// The text of the file at `path`, `None` if there is none. Refused: a symbolic link (read or
/// written, it would act on a file somewhere else), anything but a regular file, and bytes that
/// are not UTF-8 (named by offset and line).
fn read_existing(path: &Path) -> Result<Option<String>, RunError> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refused(path, e.to_string())),
    };
    if metadata.file_type().is_symlink() {
        return Err(refused(
            path,
            "it is a symbolic link; the suite neither reads nor writes through one (give the real path)",
        ));
    }
    if !metadata.is_file() {
        return Err(refused(path, "it is not a regular file"));
    }
    let bytes = std::fs::read(path).map_err(|e| refused(path, e.to_string()))?;
    String::from_utf8(bytes).map(Some).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        refused(
            path,
            format!(
                "byte {offset} (line {line}) is not UTF-8; the file is left as it is (fix or remove that line)"
            ),
        )
    })
}

pub(super) fn save_regressions(
    path: &Path,
    findings: &[Finding],
    secrets: &Secrets,
) -> Result<(), RunError> {
    let existing = read_existing(path)?.unwrap_or_default();
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
        let comment = format!(
            "{} on {}: {} {}",
            f.check,
            f.operation.id(),
            f.request.method,
            body
        );
        // Escaped, a drawn body stays in its comment: a newline in it cannot add a `cc` line.
        let comment = crate::text::escape(&secrets.redact(&comment)).into_owned();
        text.push_str(&format!("cc {} # {comment}\n", f.seed_hex));
        changed = true;
    }
    if changed {
        write_atomically(path, &text)?;
    }
    Ok(())
}

/// Writes `text` to a new file beside `path` and renames it over `path`, so a reader (or a
/// crash) sees the old file or the new one, never a part; the rename replaces a link that
/// appeared meanwhile rather than writing through it.
fn write_atomically(path: &Path, text: &str) -> Result<(), RunError> {
    use std::io::Write as _;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let output = |at: &Path, e: std::io::Error| RunError::Output {
        path: at.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(|e| output(&dir, e))?;
    let name = path
        .file_name()
        .map_or("regressions".into(), |n| n.to_string_lossy().into_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".{name}.{}-{nanos}.tmp", std::process::id()));
    let written = (|| {
        // `create_new` refuses an existing file or link at the temporary name.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        output(path, e)
    })
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

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("regressions-{}-{name}", std::process::id()))
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_with_its_offset_and_line() {
        let path = temp("latin1.txt");
        let seed = format!("cc {}\n", "ab".repeat(32));
        let mut bytes = format!("# header\n{seed}").into_bytes();
        bytes.extend_from_slice(b"# caf\xe9\n");
        bytes.extend_from_slice(seed.replace("ab", "cd").as_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let err = load_regressions(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("byte 82 (line 3) is not UTF-8"), "{err}");
        let err = save_regressions(&path, &[], &Secrets::default()).unwrap_err();
        assert!(err.to_string().contains("byte 82"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        std::fs::remove_file(&path).unwrap();
        // No file yet is no seeds, not an error.
        assert_eq!(
            load_regressions(Some(&path)).unwrap(),
            Vec::<[u8; 32]>::new()
        );
    }

    #[test]
    fn the_file_is_replaced_whole_and_the_temporary_file_is_gone() {
        let dir = temp("atomic");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("contract.txt");
        write_atomically(&path, "one\n").unwrap();
        write_atomically(&path, "two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["contract.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
