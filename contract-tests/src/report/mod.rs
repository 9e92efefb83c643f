//! What a run tells: one model of its outcome ([`model`]: the findings as the outputs tell them and the sentences they share), rendered for the terminal ([`human`]), Markdown ([`markdown`]), JSON lines ([`json`]) and JUnit XML ([`junit`]); and [`ended`], the same three machine outputs for a run that ended before any case. Every output passes the run's [`Secrets`] before it is escaped or written.
//!
//! Each renderer escapes text from outside the suite for its own reader: the terminal escapes
//! control characters per value and per line, the Markdown puts such text in code spans and
//! fences it cannot close, serde_json and quick-junit escape for JSON and XML, and the
//! characters they leave raw are escaped after them.

pub mod ended;
mod human;
mod json;
mod junit;
mod markdown;
mod model;
#[cfg(test)]
mod tests;

use std::path::Path;

use crate::error::RunError;
use crate::redact::Secrets;

pub use human::{render_findings, render_summary};
pub use json::json_lines;
#[cfg(test)]
pub(crate) use junit::junit_xml;
pub use junit::write_junit;
#[cfg(test)]
pub(crate) use markdown::summary_markdown;
pub use markdown::{write_coverage, write_summary_markdown};
pub use model::commit_from_env;
#[cfg(test)]
pub(crate) use model::{commit_from, coverage_line};

/// Every file a run writes goes through here: redacted once more, whatever the caller did.
pub(crate) fn write_output(path: &Path, text: &str, secrets: &Secrets) -> Result<(), RunError> {
    std::fs::write(path, secrets.redact(text)).map_err(|e| RunError::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
