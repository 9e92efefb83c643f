//! Text from outside (a server's keys, values and bodies, a baseline's reasons, the suite's own drawn strings) made safe to print on a terminal and to embed in Markdown.
//!
//! A terminal acts on control characters: ESC starts CSI and OSC sequences (erase a line, move
//! the cursor, an OSC-8 link), CR returns to the start of the line, U+009B is a one-byte CSI, and
//! the bidi controls reorder what is shown. A server that controls a JSON key could therefore
//! print a forged `summary: … 0 failures` over the real FAIL line. Every such character is
//! written as a visible escape instead (`\u{1b}`, `\r`). The escape uses printable ASCII only and
//! leaves backslashes alone, so escaping is idempotent: a value escaped where it is rendered and
//! again over the whole output comes out the same.
//!
//! People read values, not Rust: [`quoted`], [`or_absent`], [`list`] and [`plural`] are how a
//! string, a missing value, a list and a count are written in every output (terminal, Markdown,
//! JSON, JUnit), never `{:?}` (`Some("…")`, `[Some(0), None]`, `1 failures`).

use std::borrow::Cow;

/// Whether a terminal (or a Markdown renderer) would act on `c` rather than show it: C0, DEL,
/// C1, the bidi controls, and the Unicode line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

fn escape_where(text: &str, unsafe_here: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_here(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
        }
    }
    Cow::Owned(out)
}

/// One value on one line: every unsafe character escaped, `\n` and `\t` included, so a value
/// can never start a line of its own.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_where(text, is_unsafe)
}

/// A whole rendered output: every unsafe character escaped except the newlines that separate
/// its lines. Values are escaped with [`escape`] where they are rendered; this is the second
/// line of defence for anything that was not.
pub fn escape_keeping_lines(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c != '\n' && is_unsafe(c))
}

/// An inline Markdown code span holding `text` literally: unsafe characters escaped (so no CR
/// or LF ends the span's line or a table row), a backtick fence longer than any run of backticks
/// inside, and a space either side when the text starts or ends with a backtick (CommonMark
/// strips one). With `in_table`, `|` is written `\|`, which GitHub's tables read as a literal
/// pipe even inside a code span.
pub fn code_span(text: &str, in_table: bool) -> String {
    let escaped = escape(text);
    let longest = escaped.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let body = if in_table {
        escaped.replace('|', "\\|")
    } else {
        escaped.into_owned()
    };
    if body.is_empty() {
        // A span of spaces only keeps them: this is a code span holding one space.
        return "` `".to_owned();
    }
    let pad = if body.starts_with('`') || body.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// A serialised JSON document with every unsafe character [`serde_json`] leaves raw (DEL, C1,
/// the bidi controls; it escapes only C0) written as a `\uXXXX` escape: outside strings a
/// compact document holds ASCII only, so the value parsed back is the same, and a JSON line
/// shown on a terminal acts on nothing.
pub fn json_escape_unsafe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A fence for a fenced code block around `text`: longer than any run of backticks in it, so no
/// line of the text can close the block.
pub(crate) fn block_fence(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// A string as a person reads a quoted value: in double quotes, with `"`, `\` and control
/// characters escaped as JSON writes them (`"a\"b"`), never Rust's debug form.
pub fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// What a value that may be missing reads as: the value, or `(absent)`.
pub fn or_absent<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| ABSENT.to_owned(), |v| v.to_string())
}

/// A string that may be missing: [`quoted`], or `(absent)`.
pub(crate) fn quoted_or_absent(text: Option<&str>) -> String {
    text.map_or_else(|| ABSENT.to_owned(), quoted)
}

/// How a missing value is written wherever people read a run's results.
pub(crate) const ABSENT: &str = "(absent)";

/// Items as a person lists them, `a, b, c`; `(none)` when there are none.
pub fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

/// A count and its noun in the right number: `1 failure`, `0 failures`, `2 entries`.
pub fn plural<N>(n: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8>,
{
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_is_shown_escaped_and_printable_text_is_untouched() {
        let hostile =
            "a\u{1b}[2K\rsummary\u{9b}1m\u{7f}\u{0}\u{202e}b\u{2066}\u{61c}\u{200f}\u{2028}\n\t";
        assert_eq!(
            escape(hostile),
            "a\\u{1b}[2K\\rsummary\\u{9b}1m\\u{7f}\\u{0}\\u{202e}b\\u{2066}\\u{61c}\\u{200f}\\u{2028}\\n\\t"
        );
        assert!(escape(hostile).chars().all(|c| !is_unsafe(c)));
        let plain = "plain é ✅ \\u{1b} \"quoted\" `tick` | pipe";
        assert!(matches!(escape(plain), Cow::Borrowed(p) if p == plain));
    }

    #[test]
    fn escaping_twice_changes_nothing_more() {
        let hostile = "x\u{1b}]8;;http://evil\u{7}y\r\n";
        let once = escape(hostile).into_owned();
        assert_eq!(escape(&once), once);
        assert_eq!(escape_keeping_lines(&once), once);
    }

    #[test]
    fn a_whole_output_keeps_its_newlines() {
        assert_eq!(
            escape_keeping_lines("FAIL 1.\u{1b}[2K\r\nsummary"),
            "FAIL 1.\\u{1b}[2K\\r\nsummary"
        );
    }

    #[test]
    fn json_keeps_its_value_and_shows_no_control() {
        let value = serde_json::json!({"k\u{9b}": "a\u{1b}[2K\u{7f}\u{202e}\n"});
        let line = serde_json::to_string(&value).unwrap();
        assert!(
            line.chars().any(is_unsafe),
            "serde_json leaves some raw: {line}"
        );
        let safe = json_escape_unsafe(&line);
        assert!(!safe.chars().any(is_unsafe), "{safe}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&safe).unwrap(),
            value
        );
    }

    #[test]
    fn values_read_as_a_person_writes_them() {
        assert_eq!(quoted("2026-12-06T10:00:00Z"), "\"2026-12-06T10:00:00Z\"");
        assert_eq!(quoted("a\"b\\"), "\"a\\\"b\\\\\"");
        assert_eq!(quoted_or_absent(None), "(absent)");
        assert_eq!(quoted_or_absent(Some("x")), "\"x\"");
        assert_eq!(or_absent(Some(3)), "3");
        assert_eq!(or_absent(None::<u64>), "(absent)");
        assert_eq!(list([200, 404]), "200, 404");
        assert_eq!(list(Vec::<&str>::new()), "(none)");
    }

    #[test]
    fn a_count_takes_its_noun_in_the_right_number() {
        assert_eq!(plural(0u64, "failure", "failures"), "0 failures");
        assert_eq!(plural(1u64, "failure", "failures"), "1 failure");
        assert_eq!(plural(2usize, "entry", "entries"), "2 entries");
        assert_eq!(plural(1usize, "entry", "entries"), "1 entry");
    }

    #[test]
    fn a_code_span_is_longer_than_any_backtick_run_and_escapes_pipes_in_tables() {
        assert_eq!(code_span("plain", false), "`plain`");
        assert_eq!(code_span("a``b", false), "```a``b```");
        assert_eq!(code_span("`x", false), "`` `x ``");
        assert_eq!(code_span("", false), "` `");
        assert_eq!(code_span("a|b\r\n", true), "`a\\|b\\r\\n`");
        assert_eq!(block_fence("plain"), "```");
        assert_eq!(block_fence("a ```` b"), "`````");
    }
}
