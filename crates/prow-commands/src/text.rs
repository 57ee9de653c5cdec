//! Comment-body preprocessing shared by the command families.
//!
//! Prow does **not** preprocess comment bodies uniformly; each plugin decides
//! for itself. We mirror that per family:
//!
//! | family | what Prow removes before matching |
//! |---|---|
//! | [`trigger`](crate::trigger) | fenced code blocks (```` ``` ```` and `~~~`), see [`drop_code_blocks`] |
//! | [`label`](crate::label) | HTML comments `<!-- … -->`, see [`strip_html_comments`] |
//! | every other family | nothing: the raw body is matched |
//!
//! So `/lgtm` inside a fenced code block *does* apply the `lgtm` label in
//! Prow, while `/retest` inside one does not retest. We reproduce that rather
//! than "fix" it, because a drop-in replacement must act on exactly the
//! comments Prow acts on.
//!
//! Removing text shifts byte offsets; the parsers keep enough
//! bookkeeping to map a position in the cleaned text back to the original
//! body so [`Located`] spans always refer to the caller's string.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::goregex;

/// Compiles one of this crate's built-in Go-syntax patterns.
///
/// The patterns are constants covered by unit tests, so failure is a bug in
/// this crate, never a consequence of user input.
pub(crate) fn builtin(pattern: &str) -> Regex {
    match goregex::compile(pattern) {
        Ok(re) => re,
        Err(err) => unreachable!("built-in pattern {pattern:?} is invalid: {err}"),
    }
}

/// A fenced code block as Prow's `markdown.DropCodeBlock` recognises it: an
/// opening fence at the start of a line (any info string), lazily extended to
/// the first closing fence that is alone on its line, followed by `\n` or the
/// end of the text. The trailing newline of the closing fence is removed too.
/// Consequence: with CRLF line endings the closing fence is never "alone"
/// (it is followed by `\r`), so CRLF code blocks are only dropped when the
/// closing fence ends the comment.
static CODE_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| builtin("(?msU)^```.*(\\n```\\n|\\n```$)|(?msU)^~~~.*(\\n~~~\\n|\\n~~~$)"));

/// An HTML comment, shortest match, may span lines.
static HTML_COMMENT: LazyLock<Regex> = LazyLock::new(|| builtin(r"(?s)<!--(.*?)-->"));

/// Removes fenced code blocks exactly like Prow's trigger plugin does.
#[must_use]
pub fn drop_code_blocks(body: &str) -> String {
    CODE_BLOCK.replace_all(body, "").into_owned()
}

/// Removes HTML comments exactly like Prow's label plugin does.
#[must_use]
pub fn strip_html_comments(body: &str) -> String {
    HTML_COMMENT.replace_all(body, "").into_owned()
}

/// A command (or any parsed value) together with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The parsed value.
    pub command: T,
    /// Byte range of the matched command text in the *original* comment
    /// body (before any preprocessing). A match may span several lines
    /// when Prow's pattern allows it (e.g. `/hold` followed by more text).
    pub span: Range<usize>,
}

impl<T> Located<T> {
    pub(crate) fn new(command: T, span: Range<usize>) -> Self {
        Self { command, span }
    }

    /// 1-based line number of the start of the match within `body` (the
    /// string that was parsed).
    #[must_use]
    pub fn line_in(&self, body: &str) -> usize {
        let end = self.span.start.min(body.len());
        body.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// Maps the value, keeping the span.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Located<U> {
        Located {
            command: f(self.command),
            span: self.span,
        }
    }
}

/// A body with some regions removed, plus the mapping back to the original.
pub(crate) struct Preprocessed<'a> {
    pub(crate) text: Cow<'a, str>,
    /// `(position in text, bytes removed before that position)`, ascending.
    cuts: Vec<(usize, usize)>,
}

impl<'a> Preprocessed<'a> {
    /// The body unchanged.
    pub(crate) fn raw(body: &'a str) -> Self {
        Self {
            text: Cow::Borrowed(body),
            cuts: Vec::new(),
        }
    }

    /// The body with every match of `re` removed (Go `ReplaceAllString(s, "")`).
    fn without(body: &'a str, re: &Regex) -> Self {
        let mut text = String::new();
        let mut cuts = Vec::new();
        let mut last = 0;
        let mut removed = 0;
        for m in re.find_iter(body) {
            text.push_str(&body[last..m.start()]);
            removed += m.len();
            cuts.push((text.len(), removed));
            last = m.end();
        }
        if cuts.is_empty() {
            return Self::raw(body);
        }
        text.push_str(&body[last..]);
        Self {
            text: Cow::Owned(text),
            cuts,
        }
    }

    pub(crate) fn without_code_blocks(body: &'a str) -> Self {
        Self::without(body, &CODE_BLOCK)
    }

    pub(crate) fn without_html_comments(body: &'a str) -> Self {
        Self::without(body, &HTML_COMMENT)
    }

    /// Maps a byte offset in [`Self::text`] to the original body.
    pub(crate) fn original(&self, pos: usize) -> usize {
        let idx = self.cuts.partition_point(|&(at, _)| at <= pos);
        match idx.checked_sub(1).and_then(|i| self.cuts.get(i)) {
            Some(&(_, removed)) => pos + removed,
            None => pos,
        }
    }

    /// Maps a byte range in [`Self::text`] to the original body.
    pub(crate) fn original_span(&self, span: Range<usize>) -> Range<usize> {
        let start = self.original(span.start);
        // An end offset that coincides with a cut belongs before the cut.
        let end = if span.end > span.start {
            self.original(span.end - 1) + 1
        } else {
            start
        };
        start..end
    }

    /// Wraps a value found at `span` (in cleaned-text coordinates).
    pub(crate) fn locate<T>(&self, command: T, span: Range<usize>) -> Located<T> {
        Located::new(command, self.original_span(span))
    }
}

/// Go's `strings.ToLower`: per-character simple lowercase mapping. Rust's
/// `str::to_lowercase` differs only for `U+0130` (which it expands to two
/// characters) and for the context-sensitive final sigma.
pub(crate) fn go_lower(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{130}' => 'i',
            _ => c.to_lowercase().next().unwrap_or(c),
        })
        .collect()
}

/// Go's regexp `\s`: ASCII whitespace without vertical tab.
pub(crate) fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_follow_prow() {
        assert_eq!(drop_code_blocks("a\n```\n/retest\n```\nb"), "a\nb");
        assert_eq!(drop_code_blocks("```sh\nx\n```"), "");
        assert_eq!(drop_code_blocks("~~~\nx\n~~~\n"), "");
        // Closing fence with trailing text does not close the block.
        assert_eq!(drop_code_blocks("```\nx\n``` extra"), "```\nx\n``` extra");
        // Unterminated block stays.
        assert_eq!(drop_code_blocks("```\nx"), "```\nx");
        // CRLF closing fence in the middle of a comment is not recognised.
        assert_eq!(
            drop_code_blocks("```\r\nx\r\n```\r\n/retest"),
            "```\r\nx\r\n```\r\n/retest"
        );
        // Inline fences are not blocks.
        assert_eq!(drop_code_blocks("say ```/retest```"), "say ```/retest```");
    }

    #[test]
    fn html_comments_are_removed() {
        assert_eq!(strip_html_comments("a<!-- /kind bug -->b"), "ab");
        assert_eq!(
            strip_html_comments("<!--\n/kind bug\n-->\n/kind x"),
            "\n/kind x"
        );
    }

    #[test]
    fn offsets_map_back() {
        let body = "x<!--c-->yz<!--d-->w";
        let p = Preprocessed::without_html_comments(body);
        assert_eq!(p.text, "xyzw");
        assert_eq!(p.original(0), 0);
        assert_eq!(p.original(1), 9);
        assert_eq!(p.original(2), 10);
        assert_eq!(p.original(3), 19);
        assert_eq!(p.original_span(1..3), 9..11);
        assert_eq!(p.original_span(0..1), 0..1);
    }

    #[test]
    fn go_lowercase() {
        assert_eq!(go_lower("KIND/Bug"), "kind/bug");
        assert_eq!(go_lower("\u{130}"), "i");
    }
}
