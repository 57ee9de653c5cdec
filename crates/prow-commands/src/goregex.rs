//! Compile Go (RE2) regular expressions with Go's semantics.
//!
//! Prow's command grammars and the user-supplied `trigger:` patterns in job
//! configs are Go `regexp` patterns. The Rust `regex` crate accepts almost
//! the same syntax, but a few constructs *mean* something different:
//!
//! | construct | Go | Rust `regex` (default) | what we emit |
//! |---|---|---|---|
//! | `\s` / `\S` | ASCII `[\t\n\f\r ]` | Unicode whitespace (incl. NBSP, `\v`) | `[\t\n\f\r ]` / `[^\t\n\f\r ]` |
//! | `\d` / `\D` | ASCII `[0-9]` | Unicode digits | `[0-9]` / `[^0-9]` |
//! | `\w` / `\W` | ASCII `[0-9A-Za-z_]` | Unicode word chars | `[0-9A-Za-z_]` / `[^0-9A-Za-z_]` |
//! | `\b` / `\B` | ASCII word boundary | Unicode word boundary | `(?-u:\b)` / `(?-u:\B)` |
//! | `\Q…\E` | literal text | unsupported | the escaped literal |
//! | `[` inside a class | literal | nested class | `\[` |
//! | `&&`, `--`, `~~` inside a class | literal | set operations | escaped |
//!
//! Why bother: a comment such as `/retest\u{a0}` (trailing non-breaking
//! space) must behave the way Prow behaves (no match, because Go's `\s` is
//! ASCII-only), otherwise we would run jobs Prow would not run.
//!
//! Everything else (flags such as `(?mi)`/`(?U)`/`(?s)`, `^`/`$`, `.`,
//! Unicode case folding under `(?i)`, `\pL`, POSIX `[[:alpha:]]` classes,
//! named groups) already agrees between the two engines and is passed
//! through untouched. Octal escapes (`\123`) are not translated; Rust rejects
//! them, so such a pattern fails to compile rather than silently differing.

use regex::Regex;

const SPACE: &str = r"\t\n\f\r ";
const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";

/// Rewrites a Go RE2 pattern into an equivalent pattern for the `regex` crate.
///
/// The translation is purely textual and never fails; invalid Go patterns
/// stay invalid (and are reported by [`compile`]).
#[must_use]
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                None => out.push('\\'),
                Some('Q') => {
                    let mut literal = String::new();
                    while let Some(c) = chars.next() {
                        if c == '\\' && chars.peek() == Some(&'E') {
                            chars.next();
                            break;
                        }
                        literal.push(c);
                    }
                    out.push_str(&regex::escape(&literal));
                }
                Some(e) => push_escape(&mut out, e, false),
            },
            '[' => translate_class(&mut chars, &mut out),
            _ => out.push(c),
        }
    }
    out
}

/// Compiles a Go RE2 pattern (see [`translate`]) into a [`Regex`].
///
/// # Errors
///
/// Returns the `regex` crate's error when the translated pattern is invalid.
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&translate(pattern))
}

/// Emits the Rust equivalent of the Go escape `\e`. `in_class` selects the
/// form that is valid between `[` and `]`.
fn push_escape(out: &mut String, e: char, in_class: bool) {
    let (set, negated) = match e {
        's' => (SPACE, false),
        'S' => (SPACE, true),
        'd' => (DIGIT, false),
        'D' => (DIGIT, true),
        'w' => (WORD, false),
        'W' => (WORD, true),
        'b' if !in_class => {
            out.push_str(r"(?-u:\b)");
            return;
        }
        'B' if !in_class => {
            out.push_str(r"(?-u:\B)");
            return;
        }
        other => {
            out.push('\\');
            out.push(other);
            return;
        }
    };
    match (in_class, negated) {
        (true, false) => out.push_str(set),
        (_, true) => {
            out.push_str("[^");
            out.push_str(set);
            out.push(']');
        }
        (false, false) => {
            out.push('[');
            out.push_str(set);
            out.push(']');
        }
    }
}

/// Translates a bracket expression; the opening `[` has been consumed.
fn translate_class(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, out: &mut String) {
    out.push('[');
    if chars.peek() == Some(&'^') {
        chars.next();
        out.push('^');
    }
    // In both dialects a `]` right after `[` or `[^` is a literal.
    if chars.peek() == Some(&']') {
        chars.next();
        out.push_str(r"\]");
    }
    while let Some(c) = chars.next() {
        match c {
            ']' => {
                out.push(']');
                return;
            }
            '\\' => match chars.next() {
                None => out.push('\\'),
                Some(e) => push_escape(out, e, true),
            },
            '[' if chars.peek() == Some(&':') => {
                // POSIX class such as `[:alpha:]`: identical in both engines.
                out.push('[');
                for c in chars.by_ref() {
                    out.push(c);
                    if c == ']' {
                        break;
                    }
                }
            }
            '[' => out.push_str(r"\["),
            '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                chars.next();
                out.push_str(r"-\-");
            }
            _ => out.push(c),
        }
    }
    // Unterminated class: leave it unterminated so compilation fails like Go.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_become_ascii() {
        assert_eq!(translate(r"^/retest\s*$"), r"^/retest[\t\n\f\r ]*$");
        assert_eq!(
            translate(r"\S+\w\W\d\D"),
            r"[^\t\n\f\r ]+[0-9A-Za-z_][^0-9A-Za-z_][0-9][^0-9]"
        );
        assert_eq!(translate(r"[-/\w]"), r"[-/0-9A-Za-z_]");
        assert_eq!(translate(r"[^\s]"), r"[^\t\n\f\r ]");
        assert_eq!(translate(r"[a\S]"), r"[a[^\t\n\f\r ]]");
    }

    #[test]
    fn class_literals_are_escaped() {
        assert_eq!(translate("[[]"), r"[\[]");
        assert_eq!(translate("[]a]"), r"[\]a]");
        assert_eq!(translate("[a&&b]"), r"[a\&\&b]");
        assert_eq!(translate("[[:alpha:]x]"), "[[:alpha:]x]");
        let re = compile("^[+--]$").unwrap();
        assert!(re.is_match(",") && re.is_match("-") && !re.is_match("a"));
    }

    #[test]
    fn quote_meta_and_boundaries() {
        assert_eq!(translate(r"\Qa.b\E+"), r"a\.b+");
        assert_eq!(translate(r"\Qa.b"), r"a\.b");
        assert!(compile(r"\bfoo\B").is_ok());
        assert_eq!(translate(r"\\s"), r"\\s");
    }

    #[test]
    fn semantics_match_go() {
        let re = compile(r"(?m)^/retest\s*$").unwrap();
        assert!(re.is_match("/retest \t"));
        assert!(!re.is_match("/retest\u{a0}"));
        let re = compile(r"^\w+$").unwrap();
        assert!(!re.is_match("é"));
        let re = compile(r"\bx").unwrap();
        assert!(re.is_match("éx"));
    }

    #[test]
    fn invalid_patterns_error() {
        assert!(compile("(").is_err());
        assert!(compile("[abc").is_err());
        assert!(compile("\\").is_err());
    }
}
