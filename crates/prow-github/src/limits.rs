//! GitHub's limits on what the bot writes. GitHub refuses an issue, pull request, review or
//! comment body over [`MAX_BODY_CHARS`] characters (Unicode scalar values, not bytes) with
//! `422 Validation Failed`, so a reply built from user input (quoted comments, lists of
//! labels, job tables) must be cut to fit or it is lost.

use std::borrow::Cow;

/// The most characters GitHub accepts in an issue, pull request, review or comment body.
pub const MAX_BODY_CHARS: usize = 65_536;

/// Appended to a body cut by [`cap_body`]; it counts towards the limit.
pub const TRUNCATION_NOTE: &str =
    "\n\n…\n\n(This comment was truncated: it exceeded GitHub's 65536-character limit.)";

/// `body` if it fits GitHub's limit, else its longest prefix (cut at a character boundary)
/// that still fits with [`TRUNCATION_NOTE`] appended. The result never exceeds
/// [`MAX_BODY_CHARS`] characters.
pub fn cap_body(body: &str) -> Cow<'_, str> {
    cap_chars(body, MAX_BODY_CHARS)
}

/// [`cap_body`] with any limit (the note is dropped if even it does not fit).
pub fn cap_chars(body: &str, max_chars: usize) -> Cow<'_, str> {
    // A body of at most `max_chars` bytes has at most that many characters: no counting.
    if body.len() <= max_chars || body.chars().nth(max_chars).is_none() {
        return Cow::Borrowed(body);
    }
    let note_chars = TRUNCATION_NOTE.chars().count();
    let (keep, note) = if note_chars > max_chars {
        (max_chars, "")
    } else {
        (max_chars - note_chars, TRUNCATION_NOTE)
    };
    let end = body.char_indices().nth(keep).map_or(body.len(), |(i, _)| i);
    let mut out = String::with_capacity(end + note.len());
    out.push_str(&body[..end]);
    out.push_str(note);
    Cow::Owned(out)
}

/// Whether `body` is over GitHub's limit (what the simulator refuses).
pub fn body_too_long(body: &str) -> bool {
    body.len() > MAX_BODY_CHARS && body.chars().nth(MAX_BODY_CHARS).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> usize {
        s.chars().count()
    }

    #[test]
    fn fits_exactly_at_the_limit_and_is_cut_one_past_it() {
        let exact = "a".repeat(MAX_BODY_CHARS);
        assert!(matches!(cap_body(&exact), Cow::Borrowed(_)));
        assert!(!body_too_long(&exact));

        let over = "a".repeat(MAX_BODY_CHARS + 1);
        assert!(body_too_long(&over));
        let capped = cap_body(&over);
        assert_eq!(chars(&capped), MAX_BODY_CHARS);
        assert!(capped.ends_with(TRUNCATION_NOTE), "note visible at the end");
        assert!(capped.starts_with("aaaa"));
        assert!(!body_too_long(&capped));
    }

    #[test]
    fn counts_characters_not_bytes() {
        // 65 536 four-byte characters: 262 144 bytes, but within GitHub's limit.
        let emoji = "🦀".repeat(MAX_BODY_CHARS);
        assert!(!body_too_long(&emoji));
        assert!(matches!(cap_body(&emoji), Cow::Borrowed(_)));
        // One more and it is cut at a character boundary (slicing would panic otherwise).
        let over = format!("{emoji}é");
        assert!(body_too_long(&over));
        let capped = cap_body(&over);
        assert_eq!(chars(&capped), MAX_BODY_CHARS);
        assert!(capped.ends_with(TRUNCATION_NOTE));
        let kept = capped.strip_suffix(TRUNCATION_NOTE).unwrap();
        assert!(kept.chars().all(|c| c == '🦀'));
        // Mixed widths around the cut.
        for pad in 0..4 {
            let s = format!("{}{}", "x".repeat(pad), "ü€🦀".repeat(MAX_BODY_CHARS / 2));
            let c = cap_body(&s);
            assert!(chars(&c) <= MAX_BODY_CHARS);
            assert!(c.ends_with(TRUNCATION_NOTE));
        }
    }

    #[test]
    fn a_megabyte_is_cut_to_the_limit() {
        let big = "/label foo\n".repeat(100_000);
        let c = cap_body(&big);
        assert_eq!(chars(&c), MAX_BODY_CHARS);
        assert!(c.contains("This comment was truncated"));
    }

    #[test]
    fn short_and_tiny_limits() {
        assert_eq!(cap_chars("hello", 5), "hello");
        assert_eq!(cap_chars("", 0), "");
        // The note does not fit: a plain cut.
        assert_eq!(cap_chars("hello", 3), "hel");
        let long = "b".repeat(200);
        let c = cap_chars(&long, 100);
        assert_eq!(chars(&c), 100);
        assert!(c.ends_with(TRUNCATION_NOTE));
    }
}
