//! The one place secrets are taken out of text: every key the run knows is replaced by the name of its environment variable before anything is cut, escaped, printed or written.
//!
//! Redaction happens twice on purpose. [`Secrets::response`] cleans every response as it arrives,
//! so no check, message or truncation ever holds a key, whatever escaping a server used to echo it.
//! [`Secrets::redact`] then runs over each finished output (stdout, stderr, JUnit, regressions) as a
//! second line of defence. [`cut`] shortens text that is already redacted without splitting a
//! placeholder, so a cut never leaves part of a secret's span behind.

use serde_json::Value;

/// The placeholder written where the run's own key stood.
pub const TOKEN_PLACEHOLDER: &str = "$CONTRACT_TOKEN";
/// The placeholder written where the other team's key stood.
pub const OTHER_TEAM_PLACEHOLDER: &str = "$CONTRACT_OTHER_TEAM_TOKEN";
const PLACEHOLDERS: [&str; 2] = [TOKEN_PLACEHOLDER, OTHER_TEAM_PLACEHOLDER];

/// The secrets of a run, each with the placeholder that replaces it.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Longest first, so a key that contains another is replaced whole.
    entries: Vec<(String, &'static str)>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} redacted)", self.entries.len())
    }
}

impl Secrets {
    pub fn new(token: &str, other_team_token: Option<&str>) -> Secrets {
        let mut entries = Vec::new();
        for (secret, placeholder) in [
            (Some(token), TOKEN_PLACEHOLDER),
            (other_team_token, OTHER_TEAM_PLACEHOLDER),
        ] {
            let Some(secret) = secret.filter(|s| !s.is_empty()) else {
                continue;
            };
            entries.push((secret.to_owned(), placeholder));
            // A server that echoes a key inside JSON escapes it; that form must go too.
            let escaped = serde_json::to_string(secret).expect("a string serialises");
            let escaped = &escaped[1..escaped.len() - 1];
            if escaped != secret {
                entries.push((escaped.to_owned(), placeholder));
            }
        }
        entries.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
        Secrets { entries }
    }

    /// `text` with every secret replaced by its placeholder.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (secret, placeholder) in &self.entries {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), placeholder);
            }
        }
        out
    }

    /// Bytes with every secret replaced; bytes that are not UTF-8 are searched as bytes.
    pub fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return self.redact(text).into_bytes();
        }
        let mut out = bytes.to_vec();
        for (secret, placeholder) in &self.entries {
            out = replace_bytes(&out, secret.as_bytes(), placeholder.as_bytes());
        }
        out
    }

    /// Every string and key of a JSON value redacted; true when anything changed. This catches
    /// keys a server wrote with `\u` escapes, which only show once the JSON is parsed.
    pub fn redact_json(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => {
                let redacted = self.redact(s);
                let changed = redacted != *s;
                *s = redacted;
                changed
            }
            Value::Array(items) => {
                // Every item is visited: `any` would stop at the first change.
                let mut changed = false;
                for item in items {
                    changed |= self.redact_json(item);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                if map.keys().any(|k| self.redact(k) != *k) {
                    let entries = std::mem::take(map);
                    *map = entries
                        .into_iter()
                        .map(|(k, v)| (self.redact(&k), v))
                        .collect();
                    changed = true;
                }
                for item in map.values_mut() {
                    changed |= self.redact_json(item);
                }
                changed
            }
            _ => false,
        }
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// The first `max_chars` characters of redacted `text`, never ending inside a placeholder: a cut
/// that would fall inside one ends before it. Returns the text and whether anything was cut.
pub fn cut(text: &str, max_chars: usize) -> (String, bool) {
    let Some((end, _)) = text.char_indices().nth(max_chars) else {
        return (text.to_owned(), false);
    };
    let mut end = end;
    for placeholder in PLACEHOLDERS {
        let mut from = 0;
        while let Some(found) = text[from..].find(placeholder) {
            let start = from + found;
            if start < end && end < start + placeholder.len() {
                end = start;
            }
            from = start + placeholder.len();
            if from >= end {
                break;
            }
        }
    }
    (text[..end].to_owned(), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_keys_are_replaced_longest_first() {
        let secrets = Secrets::new("abc", Some("abcdef"));
        assert_eq!(
            secrets.redact("abcdef abc"),
            "$CONTRACT_OTHER_TEAM_TOKEN $CONTRACT_TOKEN"
        );
    }

    #[test]
    fn json_escaped_and_unicode_escaped_keys_are_replaced() {
        let secrets = Secrets::new(r#"k"e\y&1"#, None);
        // As a server writes it inside a JSON string.
        assert_eq!(
            secrets.redact(r#"{"detail":"k\"e\\y&1"}"#),
            r#"{"detail":"$CONTRACT_TOKEN"}"#
        );
        let mut parsed: Value = serde_json::from_str(r#"{"d":"\u006b\"e\\y\u00261"}"#).unwrap();
        assert!(secrets.redact_json(&mut parsed));
        assert_eq!(parsed, json!({"d": "$CONTRACT_TOKEN"}));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_redacted_too() {
        let secrets = Secrets::new("s3cret", None);
        let mut body = vec![0xFF];
        body.extend_from_slice(b"Bearer s3cret");
        let mut expected = vec![0xFF];
        expected.extend_from_slice(b"Bearer $CONTRACT_TOKEN");
        assert_eq!(secrets.redact_bytes(&body), expected);
    }

    #[test]
    fn a_cut_inside_a_placeholder_drops_the_whole_span() {
        let text = "0123456789$CONTRACT_TOKEN tail";
        assert_eq!(cut(text, 14), ("0123456789".to_owned(), true));
        assert_eq!(
            cut(text, 25),
            ("0123456789$CONTRACT_TOKEN".to_owned(), true)
        );
        assert_eq!(cut("short", 10), ("short".to_owned(), false));
    }

    #[test]
    fn empty_keys_redact_nothing() {
        assert_eq!(Secrets::new("", Some("")).redact("text"), "text");
    }
}
