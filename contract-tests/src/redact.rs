//! The one place secrets are taken out of text: every key the run knows is replaced by the name of its environment variable before anything is cut, escaped, printed or written.
//!
//! Redaction happens twice on purpose. [`Secrets::response`] cleans every response as it arrives,
//! so no check, message or truncation ever holds a key, whatever escaping a server used to echo it.
//! [`Secrets::redact`] then runs over each finished output (stdout, stderr, JUnit, regressions) as a
//! second line of defence. [`cut`] shortens text that is already redacted without splitting a
//! placeholder, so a cut never leaves part of a secret's span behind.
//!
//! A key is found in any encoding a server may echo it in, character by character and mixed:
//! raw, JSON escapes, HTML character references, percent-encoding (see [`find_encoded`]), and
//! in any ASCII letter case. The run's key cut short by its last character is a secret too:
//! the suite sends it and the key altered in other ways (`request::Alteration`), all of which
//! are found through these two. Keys themselves are held in [`Key`], whose `Debug` never shows
//! them.

use serde_json::Value;

/// The placeholder written where the run's own key stood.
pub(crate) const TOKEN_PLACEHOLDER: &str = "$CONTRACT_TOKEN";
/// The placeholder written where the other team's key stood.
pub(crate) const OTHER_TEAM_PLACEHOLDER: &str = "$CONTRACT_OTHER_TEAM_TOKEN";
const PLACEHOLDERS: [&str; 2] = [TOKEN_PLACEHOLDER, OTHER_TEAM_PLACEHOLDER];

/// A key (`CONTRACT_TOKEN`, `CONTRACT_OTHER_TEAM_TOKEN`): `Debug` prints `[redacted]`, so a
/// struct that holds one can derive `Debug` without ever printing it. [`Key::expose`] is the
/// one way to the value, for the `Authorization` header and for [`Secrets`].
#[derive(Clone, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    pub fn new(value: impl Into<String>) -> Key {
        Key(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Key {
    fn from(value: String) -> Key {
        Key(value)
    }
}

impl From<&str> for Key {
    fn from(value: &str) -> Key {
        Key(value.to_owned())
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The secrets of a run, each with the placeholder that replaces it.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Longest first, so a key that contains another is replaced whole.
    entries: Vec<(String, &'static str)>,
    /// The bytes a span of any entry can start with, made once: [`Secrets::shows_any`] runs on
    /// every header and on every string and key of every response's JSON. Shared, not inline:
    /// the secrets are cloned into every target, and errors carry them.
    starts: std::sync::Arc<Starts>,
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
        }
        // The run's key without its last character: the prefix the suite sends as an unknown
        // key, and all but the last character of the key with that character changed, so
        // neither shows (the changed character may, after the placeholder).
        if let Some((at, _)) = token.char_indices().last()
            && !token[..at].trim().is_empty()
        {
            entries.push((token[..at].to_owned(), TOKEN_PLACEHOLDER));
        }
        entries.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
        let starts = Starts::of(entries.iter().map(|(secret, _)| secret.as_bytes())).into();
        Secrets { entries, starts }
    }

    /// `text` with every secret replaced by its placeholder, in any of the encodings
    /// [`find_encoded`] reads.
    pub fn redact(&self, text: &str) -> String {
        self.redacted(text).unwrap_or_else(|| text.to_owned())
    }

    /// [`Secrets::redact`], or `None` when `text` shows no secret (nothing to copy).
    fn redacted(&self, text: &str) -> Option<String> {
        let bytes = self.redacted_bytes(text.as_bytes())?;
        Some(match String::from_utf8(bytes) {
            Ok(out) => out,
            // Unreachable for UTF-8 input (a match starts and ends on character boundaries),
            // kept total rather than trusted.
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Bytes with every secret replaced; bytes that are not UTF-8 are searched as bytes.
    pub fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        self.redacted_bytes(bytes).unwrap_or_else(|| bytes.to_vec())
    }

    /// [`Secrets::redact_bytes`] taking the bytes: when they show no secret they come back
    /// as they are, without a copy (a response body on arrival, which almost never does).
    pub fn redact_vec(&self, bytes: Vec<u8>) -> Vec<u8> {
        self.redacted_bytes(&bytes).unwrap_or(bytes)
    }

    /// The bytes redacted, or `None` when no secret shows in them. Each secret in turn, over
    /// what the previous ones left.
    fn redacted_bytes(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        if !self.shows_any(bytes) {
            return None;
        }
        let mut out: Option<Vec<u8>> = None;
        for (secret, placeholder) in &self.entries {
            let current = out.as_deref().unwrap_or(bytes);
            if let Some(replaced) =
                replace_encoded(current, secret.as_bytes(), placeholder.as_bytes())
            {
                out = Some(replaced);
            }
        }
        out
    }

    /// Whether any secret shows in `bytes`: one walk ([`next_encoded`]) for all of them. Most
    /// text shows none, and is then walked once instead of once per secret.
    fn shows_any(&self, bytes: &[u8]) -> bool {
        let needles = self.entries.iter().map(|(secret, _)| secret.as_bytes());
        next_encoded_with(bytes, 0, needles, &self.starts).is_some()
    }

    /// Every string and key of a JSON value redacted; true when anything changed. This catches
    /// keys a server wrote with `\u` escapes, which only show once the JSON is parsed.
    pub fn redact_json(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => match self.redacted(s) {
                Some(redacted) => {
                    let changed = redacted != *s;
                    *s = redacted;
                    changed
                }
                None => false,
            },
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
                if map
                    .keys()
                    .any(|k| self.redacted(k).is_some_and(|r| r != *k))
                {
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

/// `haystack` with every span that decodes to `needle` replaced by `with`, or `None` when no
/// span does (the haystack as it is: a placeholder already written stays whole either way).
fn replace_encoded(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let (mut start, mut end) = next_encoded(haystack, 0, &[needle])?;
    let mut out = Vec::with_capacity(haystack.len());
    let mut copied = 0;
    loop {
        out.extend_from_slice(&haystack[copied..start]);
        out.extend_from_slice(with);
        copied = end;
        match next_encoded(haystack, end, &[needle]) {
            Some(found) => (start, end) = found,
            None => break,
        }
    }
    out.extend_from_slice(&haystack[copied..]);
    Some(out)
}

/// The first span from `from` on that decodes to one of `needles` (its start and end),
/// scanning as a replacement does: a placeholder already written is stepped over whole, though a
/// secret compared in any case (`token`) may be spelled inside it, so redacting twice changes
/// nothing.
fn next_encoded(haystack: &[u8], from: usize, needles: &[&[u8]]) -> Option<(usize, usize)> {
    next_encoded_with(
        haystack,
        from,
        needles.iter().copied(),
        &Starts::of(needles.iter().copied()),
    )
}

/// The bytes a span or a placeholder can start with; all others are passed over in one scan,
/// which is most of a body (1 MiB bodies made this walk half of a machine run's CPU).
#[derive(Clone)]
struct Starts([bool; 256]);

impl Starts {
    fn of<'a>(needles: impl IntoIterator<Item = &'a [u8]>) -> Starts {
        let mut starts = [false; 256];
        for b in [b'$', b'\\', b'&', b'%', b'+'] {
            starts[usize::from(b)] = true;
        }
        for first in needles.into_iter().filter_map(|n| n.first()) {
            starts[usize::from(first.to_ascii_lowercase())] = true;
            starts[usize::from(first.to_ascii_uppercase())] = true;
        }
        Starts(starts)
    }
}

impl Default for Starts {
    /// No secret: only the encodings' and placeholders' first bytes.
    fn default() -> Starts {
        Starts::of([])
    }
}

/// [`next_encoded`] with `starts` made from `needles` already. The needles come as an iterator
/// (walked again at each candidate byte), so a caller holding them in other shapes, as
/// [`Secrets`] does, passes them all without collecting them first.
fn next_encoded_with<'n>(
    haystack: &[u8],
    from: usize,
    needles: impl Iterator<Item = &'n [u8]> + Clone,
    starts: &Starts,
) -> Option<(usize, usize)> {
    let starts = &starts.0;
    let mut i = from;
    while i < haystack.len() {
        i += haystack[i..].iter().position(|&b| starts[usize::from(b)])?;
        if haystack[i] == b'$'
            && let Some(placeholder) = PLACEHOLDERS
                .iter()
                .find(|p| haystack[i..].starts_with(p.as_bytes()))
        {
            i += placeholder.len();
            continue;
        }
        let encoded = matches!(haystack[i], b'\\' | b'&' | b'%' | b'+');
        for needle in needles.clone() {
            // An empty needle decodes from nothing, so it is never found.
            let Some(first) = needle.first() else {
                continue;
            };
            let could_start = encoded || haystack[i].eq_ignore_ascii_case(first);
            if could_start && let Some(end) = find_encoded(haystack, i, needle) {
                return Some((i, end));
            }
        }
        i += 1;
    }
    None
}

/// Where a span of `text` starting at `start` that decodes to `needle`, ASCII letters in any
/// case, ends (the longest such span), if there is one. Each character of the span may be written in any of the forms a
/// server echoing a key can produce, mixed freely: raw; a JSON escape (`\\"`, `\\\\`, `\\/`,
/// `\\n`…, `\\u0041` in either case, surrogate pairs); an HTML character reference (named, such
/// as `&amp;` and HTML5's ASCII punctuation names, or numeric, decimal or hex, with or without
/// the `;` browsers forgive); percent-encoding in either case (`%26`, `%e2%82%ac`); `+` for a
/// space. The search walks each (position, bytes matched) pair at most once, so however many
/// ways a run of backslashes can be split, one start costs at most the key's length times the
/// longest encoding (12 bytes) steps.
pub(crate) fn find_encoded(text: &[u8], start: usize, needle: &[u8]) -> Option<usize> {
    // A plain byte (one that starts no encoding) decodes only to itself, so a span of plain
    // bytes has one reading: most candidates fail on it within a byte or two, before the
    // search below allocates anything (it was a tenth of a case's CPU).
    let mut at = start;
    for want in needle {
        match text.get(at) {
            Some(b'\\' | b'&' | b'%' | b'+') => return search_encoded(text, start, needle),
            Some(b) if b.eq_ignore_ascii_case(want) => at += 1,
            _ => return None,
        }
    }
    Some(at)
}

/// [`find_encoded`] through every way the span can be read.
fn search_encoded(text: &[u8], start: usize, needle: &[u8]) -> Option<usize> {
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![(start, 0usize)];
    let mut best = None;
    while let Some((at, matched)) = stack.pop() {
        if matched == needle.len() {
            best = best.max(Some(at));
            continue;
        }
        if !seen.insert((at, matched)) {
            continue;
        }
        for (decoded, len) in units(text, at) {
            let decoded = decoded.as_slice();
            if needle[matched..]
                .get(..decoded.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(decoded))
            {
                stack.push((at + len, matched + decoded.len()));
            }
        }
    }
    best
}

/// Up to four bytes one encoded unit stands for.
#[derive(Clone, Copy)]
struct Decoded {
    bytes: [u8; 4],
    len: usize,
}

impl Decoded {
    fn byte(b: u8) -> Decoded {
        Decoded {
            bytes: [b, 0, 0, 0],
            len: 1,
        }
    }

    fn char(c: char) -> Decoded {
        let mut bytes = [0; 4];
        let len = c.encode_utf8(&mut bytes).len();
        Decoded { bytes, len }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// HTML5's named references for ASCII characters (the `;` is part of each name).
const HTML_NAMED: &[(&str, u8)] = &[
    ("Tab;", b'\t'),
    ("NewLine;", b'\n'),
    ("excl;", b'!'),
    ("quot;", b'"'),
    ("QUOT;", b'"'),
    ("num;", b'#'),
    ("dollar;", b'$'),
    ("percnt;", b'%'),
    ("amp;", b'&'),
    ("AMP;", b'&'),
    ("apos;", b'\''),
    ("lpar;", b'('),
    ("rpar;", b')'),
    ("ast;", b'*'),
    ("midast;", b'*'),
    ("plus;", b'+'),
    ("comma;", b','),
    ("period;", b'.'),
    ("sol;", b'/'),
    ("colon;", b':'),
    ("semi;", b';'),
    ("lt;", b'<'),
    ("LT;", b'<'),
    ("equals;", b'='),
    ("gt;", b'>'),
    ("GT;", b'>'),
    ("quest;", b'?'),
    ("commat;", b'@'),
    ("lsqb;", b'['),
    ("lbrack;", b'['),
    ("bsol;", b'\\'),
    ("rsqb;", b']'),
    ("rbrack;", b']'),
    ("Hat;", b'^'),
    ("lowbar;", b'_'),
    ("UnderBar;", b'_'),
    ("grave;", b'`'),
    ("DiacriticalGrave;", b'`'),
    ("lcub;", b'{'),
    ("lbrace;", b'{'),
    ("verbar;", b'|'),
    ("vert;", b'|'),
    ("VerticalLine;", b'|'),
    ("rcub;", b'}'),
    ("rbrace;", b'}'),
];

/// The legacy names browsers read without their `;`.
const HTML_LEGACY: &[(&str, u8)] = &[
    ("amp", b'&'),
    ("AMP", b'&'),
    ("lt", b'<'),
    ("LT", b'<'),
    ("gt", b'>'),
    ("GT", b'>'),
    ("quot", b'"'),
    ("QUOT", b'"'),
];

/// Every way the text at `at` can be read as one unit: the raw byte, and the escape starting
/// there if there is one.
fn units(text: &[u8], at: usize) -> Vec<(Decoded, usize)> {
    let Some(&b) = text.get(at) else {
        return Vec::new();
    };
    let rest = &text[at + 1..];
    let mut out = vec![(Decoded::byte(b), 1)];
    match b {
        b'\\' => out.extend(json_escape(rest).map(|(d, len)| (d, len + 1))),
        b'&' => out.extend(html_reference(rest).map(|(d, len)| (d, len + 1))),
        b'%' => {
            if let Some(byte) = hex_value(rest.get(..2).unwrap_or_default()) {
                out.push((Decoded::byte(byte as u8), 3));
            }
        }
        b'+' => out.push((Decoded::byte(b' '), 1)),
        _ => {}
    }
    out
}

/// The value of 1–8 hex digits (any case), if that is all `digits` holds.
fn hex_value(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// A JSON escape after its backslash: what it stands for and its length.
fn json_escape(rest: &[u8]) -> Option<(Decoded, usize)> {
    let short = match rest.first()? {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 8,
        b'f' => 12,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let unit = hex_value(rest.get(1..5)?)?;
            if (0xD800..0xDC00).contains(&unit) {
                // A high surrogate stands for a character only with the low one after it.
                let low = rest.get(5..7).filter(|p| *p == b"\\u").and(rest.get(7..11));
                let low = hex_value(low?)?;
                if !(0xDC00..0xE000).contains(&low) {
                    return None;
                }
                let c = char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?;
                return Some((Decoded::char(c), 11));
            }
            return Some((Decoded::char(char::from_u32(unit)?), 5));
        }
        _ => return None,
    };
    Some((Decoded::byte(short), 1))
}

/// An HTML character reference after its `&`: what it stands for and its length.
fn html_reference(rest: &[u8]) -> Option<(Decoded, usize)> {
    if let Some(number) = rest.strip_prefix(b"#") {
        let (digits_from, radix) = match number.first() {
            Some(b'x' | b'X') => (1, 16),
            _ => (0, 10),
        };
        let digits = number[digits_from..]
            .iter()
            .take_while(|b| {
                if radix == 16 {
                    b.is_ascii_hexdigit()
                } else {
                    b.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 || digits > 8 {
            return None;
        }
        let text = std::str::from_utf8(&number[digits_from..digits_from + digits]).ok()?;
        let c = char::from_u32(u32::from_str_radix(text, radix).ok()?)?;
        let semicolon = usize::from(number.get(digits_from + digits) == Some(&b';'));
        return Some((Decoded::char(c), 1 + digits_from + digits + semicolon));
    }
    HTML_NAMED
        .iter()
        .chain(HTML_LEGACY)
        .find(|(name, _)| rest.starts_with(name.as_bytes()))
        .map(|(name, byte)| (Decoded::byte(*byte), name.len()))
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

    /// Every text of three of `fragments` in a row, repeats allowed.
    fn three_fragments<'a>(fragments: &'a [&str]) -> impl Iterator<Item = String> + 'a {
        fragments.iter().flat_map(move |a| {
            fragments
                .iter()
                .flat_map(move |b| fragments.iter().map(move |c| format!("{a}{b}{c}")))
        })
    }

    /// [`next_encoded`] as a walk that tries every byte: the scan that passes over bytes no span
    /// starts with must find what this finds.
    fn next_encoded_byte_by_byte(
        haystack: &[u8],
        from: usize,
        needles: &[&[u8]],
    ) -> Option<(usize, usize)> {
        let mut i = from;
        while i < haystack.len() {
            if let Some(p) = PLACEHOLDERS
                .iter()
                .find(|p| haystack[i..].starts_with(p.as_bytes()))
            {
                i += p.len();
                continue;
            }
            for needle in needles.iter().filter(|n| !n.is_empty()) {
                if let Some(end) = find_encoded(haystack, i, needle) {
                    return Some((i, end));
                }
            }
            i += 1;
        }
        None
    }

    #[test]
    fn the_scan_finds_what_a_walk_over_every_byte_finds() {
        // Needles starting with a letter (either case matches), a digit and an encoded byte.
        let needles: [&[u8]; 3] = [b"team_tokenx", b"9key", b"+Plus"];
        let fragments = [
            "x",
            "T",
            "9",
            "$",
            "$CONTRACT_TOKEN",
            "team_tokenx",
            "TEAM_TOKENX",
            r"\u0074eam",
            "%74eam_tokenx",
            "&#116;eam_tokenx",
            "%39key",
            "9KEY",
            " plus",
            "%2Bplus",
            "\\",
            "é",
        ];
        let mut found = 0;
        for text in three_fragments(&fragments) {
            let bytes = text.as_bytes();
            for from in 0..bytes.len() {
                for chosen in [&needles[..], &needles[..1], &needles[1..]] {
                    let expected = next_encoded_byte_by_byte(bytes, from, chosen);
                    assert_eq!(next_encoded(bytes, from, chosen), expected, "{text} {from}");
                    found += usize::from(expected.is_some());
                }
            }
        }
        assert!(found > 10_000, "{found}");
    }

    #[test]
    fn one_walk_finds_a_secret_exactly_when_that_secrets_own_walk_does() {
        // The run key's prefix, `team_token`, is spelled inside a placeholder: a walk steps over it.
        let secrets = Secrets::new("team_tokenx", Some("Other+Team&Key"));
        let fragments = [
            "x",
            "t",
            "$",
            "$CONTRACT_TOKEN",
            "$CONTRACT_OTHER_TEAM_TOKEN",
            "team_tokenx",
            "TEAM_TOKEN",
            r"\u0074eam_tokenx",
            "%74eam_token",
            "&#116;eam_tokenx",
            "other+team&amp;key",
            "Other%2BTeam%26Key",
            r"\\",
            "+",
            "%",
        ];
        let mut shown = 0;
        for text in three_fragments(&fragments) {
            let each = secrets.entries.iter().any(|(secret, _)| {
                next_encoded(text.as_bytes(), 0, &[secret.as_bytes()]).is_some()
            });
            assert_eq!(secrets.shows_any(text.as_bytes()), each, "{text}");
            // A text that shows nothing comes back as it is.
            if !each {
                assert_eq!(secrets.redact(&text), text);
            }
            shown += usize::from(each);
        }
        // Both outcomes were tried, many times each.
        assert!(
            shown > 500 && shown < fragments.len().pow(3) - 500,
            "{shown}"
        );
    }

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

    /// Each character of `key` written by `form`, concatenated.
    fn each_char(key: &str, form: impl Fn(usize, char) -> String) -> String {
        key.chars().enumerate().map(|(i, c)| form(i, c)).collect()
    }

    #[test]
    fn encoded_forms_of_a_key_are_replaced_whole_and_mixed() {
        let key = r#"Qa7&vX2#kP9!zM4~tR<"'\>é"#;
        let secrets = Secrets::new(key, None);
        let html_named = |c: char| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&GT;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            '\\' => "&bsol;".to_owned(),
            '#' => "&num;".to_owned(),
            '!' => "&excl;".to_owned(),
            c => c.to_string(),
        };
        let percent = |c: char, upper: bool| {
            let mut buf = [0; 4];
            c.encode_utf8(&mut buf)
                .bytes()
                .map(|b| {
                    if upper {
                        format!("%{b:02X}")
                    } else {
                        format!("%{b:02x}")
                    }
                })
                .collect::<String>()
        };
        let forms = [
            each_char(key, |_, c| format!("\\u{:04x}", c as u32)),
            each_char(key, |_, c| format!("\\u{:04X}", c as u32)),
            each_char(key, |_, c| html_named(c)),
            each_char(key, |_, c| format!("&#{};", c as u32)),
            each_char(key, |_, c| format!("&#x{:X};", c as u32)),
            each_char(key, |_, c| format!("&#{}", c as u32)),
            each_char(key, |_, c| percent(c, true)),
            each_char(key, |_, c| percent(c, false)),
            // Mixtures: every character in the next form of the cycle.
            each_char(key, |i, c| match i % 5 {
                0 => format!("\\u{:04x}", c as u32),
                1 => html_named(c),
                2 => percent(c, i % 2 == 0),
                3 => format!("&#x{:x};", c as u32),
                _ => c.to_string(),
            }),
            serde_json::to_string(key)
                .unwrap()
                .trim_matches('"')
                .to_owned(),
        ];
        for form in forms {
            let body = format!("<p>before {form} after</p>");
            assert_eq!(
                secrets.redact(&body),
                "<p>before $CONTRACT_TOKEN after</p>",
                "{form}"
            );
            assert_eq!(
                secrets.redact_bytes(body.as_bytes()),
                b"<p>before $CONTRACT_TOKEN after</p>",
                "{form}"
            );
        }
        // A character outside the BMP, as a JSON surrogate pair.
        let secrets = Secrets::new("k\u{1F600}y", None);
        assert_eq!(secrets.redact("[k\\ud83d\\ude00y]"), "[$CONTRACT_TOKEN]");
        // Text that only resembles the key stays (its last character alone differing is the
        // key's prefix, a secret: see `the_keys_altered_as_the_suite_sends_them_are_redacted`).
        let near = "Qa7&amp;vX2#kP9!zM4~tR&lt;&quot;'&gt;é";
        assert_eq!(Secrets::new(key, None).redact(near), near);
    }

    #[test]
    fn backslashes_that_split_many_ways_are_searched_once_each() {
        // Backslashes that could be raw or escapes at every step: the search visits each
        // (position, matched) pair once instead of every way to split them.
        let key = "\\".repeat(30);
        let body = "\\".repeat(4000) + "x";
        let secrets = Secrets::new(&key, None);
        assert!(secrets.redact(&body).contains(TOKEN_PLACEHOLDER));
    }

    #[test]
    fn the_keys_altered_as_the_suite_sends_them_are_redacted() {
        use crate::request::Alteration;
        let key = "dev-key-team-a";
        let secrets = Secrets::new(key, Some("dev-key-team-b"));
        for alteration in [
            Alteration::OtherCase,
            Alteration::LastChanged,
            Alteration::Prefix,
            Alteration::Suffixed,
        ] {
            let (altered, _) = alteration.apply(key, Some("dev-key-team-b")).unwrap();
            for echo in [
                format!("Invalid API key {altered}"),
                format!(r#"{{"detail":"{}"}}"#, altered.replace('-', r"\u002d")),
                format!("?api_key={}", altered.replace('-', "%2D")),
            ] {
                let out = secrets.redact(&echo);
                assert!(out.contains(TOKEN_PLACEHOLDER), "{echo} -> {out}");
                assert!(
                    !out.to_ascii_lowercase().contains("key-team"),
                    "{echo} -> {out}"
                );
            }
        }
        assert_eq!(secrets.redact("DEV-KEY-TEAM-B"), OTHER_TEAM_PLACEHOLDER);
    }

    #[test]
    fn redacting_twice_leaves_placeholders_whole() {
        // Keys spelled inside a placeholder, in some case.
        for key in ["token", "contract", "TEAM_TOKEN", "$CONTRACT"] {
            let secrets = Secrets::new(key, Some("other"));
            let once = secrets.redact(&format!("a {key} b other"));
            assert_eq!(
                once, "a $CONTRACT_TOKEN b $CONTRACT_OTHER_TEAM_TOKEN",
                "{key}"
            );
            assert_eq!(secrets.redact(&once), once, "{key}");
        }
    }

    #[test]
    fn a_key_never_shows_through_debug() {
        let key = Key::new("s3cret");
        assert_eq!(format!("{key:?}"), "[redacted]");
        assert_eq!(key.expose(), "s3cret");
    }

    #[test]
    fn empty_keys_redact_nothing() {
        assert_eq!(Secrets::new("", Some("")).redact("text"), "text");
    }
}
