//! Colour for the human summary and `mutants`' closing lines only: FAIL lines red, KNOWN lines yellow, the closing `summary:` line (and each closing line of `mutants`) green when the run is clean and red when not; JSON, JUnit, Markdown and files stay plain.

use anstyle::{AnsiColor, Style};

const RED: Style = AnsiColor::Red.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default();

/// `line` in `style`, or as it is when colour is off.
pub fn styled(line: &str, style: Style, enabled: bool) -> String {
    if enabled {
        format!("{}{line}{}", style.render(), style.render_reset())
    } else {
        line.to_owned()
    }
}

/// The verdict's style: green when clean, red when not.
pub fn verdict(clean: bool) -> Style {
    if clean { GREEN } else { RED }
}

/// The human report with its FAIL, KNOWN and summary lines coloured (when `enabled`).
pub fn paint_report(text: &str, clean: bool, enabled: bool) -> String {
    if !enabled {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let style = if body.starts_with("FAIL ") {
            Some(RED)
        } else if body.starts_with("KNOWN ") {
            Some(YELLOW)
        } else if body.starts_with("summary: ") {
            Some(verdict(clean))
        } else {
            None
        };
        match style {
            Some(style) => out.push_str(&styled(body, style, true)),
            None => out.push_str(body),
        }
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "FAIL 1. status_code_conformance on create_simulation at (whole response)\n  expected: 200\nKNOWN 2. x on y at /z\nsummary: 3 cases, 9 requests, 1 failure, 0.10 s\n";

    #[test]
    fn off_leaves_the_text_as_it_is() {
        assert_eq!(paint_report(REPORT, false, false), REPORT);
    }

    #[test]
    fn on_colours_fail_known_and_the_summary_only() {
        let painted = paint_report(REPORT, false, true);
        let lines: Vec<&str> = painted.lines().collect();
        assert_eq!(
            lines[0],
            "\u{1b}[1m\u{1b}[31mFAIL 1. status_code_conformance on create_simulation at (whole response)\u{1b}[0m"
        );
        assert_eq!(lines[1], "  expected: 200");
        assert!(lines[2].starts_with("\u{1b}[33mKNOWN 2."), "{}", lines[2]);
        assert!(
            lines[3].starts_with("\u{1b}[1m\u{1b}[31msummary:"),
            "{}",
            lines[3]
        );
        let clean = paint_report("summary: 1 case\n", true, true);
        assert_eq!(clean, "\u{1b}[1m\u{1b}[32msummary: 1 case\u{1b}[0m\n");
    }
}
