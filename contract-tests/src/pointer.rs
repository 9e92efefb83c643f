//! JSON pointers (RFC 6901), the suite's one way to name a place in a body or a response: built from keys, read back into keys, and used to set a value, all through `jsonptr`; xtask calls these too.

use jsonptr::{Pointer, PointerBuf, Token};
use serde_json::Value;

/// `key` as one segment of a pointer: `~` becomes `~0` and `/` becomes `~1`.
pub fn escape(key: &str) -> String {
    Token::new(key).encoded().to_owned()
}

/// The key one segment of a pointer names. A segment that is not valid RFC 6901 (a `~` that
/// is not `~0` or `~1`) is taken as written, so a report never fails on an odd document.
pub fn unescape(segment: &str) -> String {
    Token::from_encoded(segment).map_or_else(|_| segment.to_owned(), |t| t.decoded().into_owned())
}

/// The pointer to `key` inside the value `parent` points to.
pub fn child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", escape(key))
}

/// The keys a pointer names, in order and unescaped; `None` when the text is not a pointer.
pub fn keys(pointer: &str) -> Option<Vec<String>> {
    Some(
        Pointer::parse(pointer)
            .ok()?
            .tokens()
            .map(|t| t.decoded().into_owned())
            .collect(),
    )
}

/// Sets `value` at `pointer`, creating objects where the way is missing and replacing any
/// scalar that stands on it. The suite's pointers name object keys only (field names of the
/// spec's bodies), so jsonptr's one guess, that a segment `0` or `-` means an array index,
/// never applies.
pub fn set(target: &mut Value, pointer: &str, value: Value) {
    let pointer = PointerBuf::parse(pointer).expect("the suite builds pointers with `child`");
    pointer
        .assign(target, value)
        .expect("object keys only: no array index can be out of bounds");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_with_slashes_and_tildes_round_trip() {
        let pointer = child(&child("", "a/b"), "~c");
        assert_eq!(pointer, "/a~1b/~0c");
        assert_eq!(
            keys(&pointer),
            Some(vec!["a/b".to_owned(), "~c".to_owned()])
        );
        assert_eq!(unescape("a~1b"), "a/b");
        assert_eq!(unescape("odd~2"), "odd~2");
        assert_eq!(keys("no leading slash"), None);
    }

    #[test]
    fn set_creates_the_objects_on_the_way() {
        let mut v = json!({"keep": 1, "a": 7});
        set(&mut v, "/a/b", json!(1));
        set(&mut v, "/c/d", json!(2));
        assert_eq!(v, json!({"keep": 1, "a": {"b": 1}, "c": {"d": 2}}));
    }
}
