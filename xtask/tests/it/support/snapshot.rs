//! Snapshot files: a test's output against a file kept in the repository; `SNAPSHOTS=overwrite` rewrites the file instead.
//!
//! Included by xtask's unit tests too (`#[path]`), so the crate has one copy. Not `expectorate`:
//! its dependencies add features to rustix and console that the workspace's normal build lacks,
//! and a test build with other features than `cargo build`'s rebuilds everything above them.

use std::path::Path;

/// Passes when `actual` is the content of `path` (relative to the crate's directory); fails with
/// a line diff otherwise. With `SNAPSHOTS=overwrite` it writes `actual` there and passes.
#[track_caller]
pub fn assert_snapshot(path: impl AsRef<Path>, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        std::fs::write(&path, actual)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); `SNAPSHOTS=overwrite` writes it",
            path.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(&expected, actual)
            .unified_diff()
            .header("expected", "received")
            .to_string();
        panic!(
            "{} differs (`SNAPSHOTS=overwrite` rewrites it):\n{diff}",
            path.display()
        );
    }
}
