//! The `buildlog` lens: shows the interesting lines of a build log and folds the rest.
//!
//! A build log can be gigabytes, so the whole object is never read. The first screen reads
//! the object's size, then a head window (first [`HEAD_BYTES`]) and a tail window (last
//! [`TAIL_BYTES`]); logs up to [`FULL_READ_MAX`] are read whole. Each window is scanned for the
//! highlight regexes; matching lines are shown with [`NEIGHBOR_LINES`] of context and the
//! other runs are folded into expanders that fetch their byte range on demand
//! ([`expand`], served at `/spyglass/buildlog/range`), at most [`EXPAND_BYTES`] per click.
//!
//! Line numbers: lines read from the start of the log (the head window, a whole small log,
//! and anything expanded downwards from a numbered line) carry exact 1-based numbers with
//! `#<artifact>:<n>` anchors, as in Prow. Lines in the tail window of a large log are reached
//! without reading what precedes them, so their number is unknown: they are anchored by byte
//! offset instead (`#<artifact>:@<offset>`) and show no number. No background line index is
//! built (that would mean reading the whole object from the bucket per view).

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use regex::Regex;
use serde_json::Value;

use crate::ansi;
use crate::html::{human_bytes, push_esc};

/// Prow's default highlight pattern (used when `highlight_regexes` is empty).
pub const DEFAULT_HIGHLIGHT: &str =
    r"timed out|ERROR:|(FAIL|Failure \[)\b|panic\b|^E\d{4} \d\d:\d\d:\d\d\.\d\d\d]";
/// Lines of context shown around a highlighted line.
pub const NEIGHBOR_LINES: usize = 5;
/// Hidden runs shorter than this are shown instead.
pub const MIN_LINES_SKIPPED: usize = 5;
/// Bytes read from the start of a large log for the first screen.
pub const HEAD_BYTES: u64 = 256 * 1024;
/// Bytes read from the end of a large log for the first screen.
pub const TAIL_BYTES: u64 = 1024 * 1024;
/// Logs up to this size are read whole (exact line numbers everywhere).
pub const FULL_READ_MAX: u64 = 2 * 1024 * 1024;
/// Most bytes one expander click reads.
pub const EXPAND_BYTES: u64 = 512 * 1024;
/// Most lines one expander click returns.
pub const MAX_EXPAND_LINES: usize = 2000;
/// Lines longer than this are cut when displayed (the raw log has them whole).
pub const MAX_DISPLAY_LINE: usize = 64 * 1024;
/// Prow's default `highlight_line_length_max`.
pub const DEFAULT_HIGHLIGHT_LINE_LENGTH_MAX: usize = 10_000;

/// Parsed lens configuration.
#[derive(Debug, Clone)]
pub struct BuildLogConfig {
    /// Highlight pattern (`None` disables highlighting).
    pub highlight: Option<Regex>,
    /// Show the "Raw build-log.txt" link.
    pub show_raw_log: bool,
    /// Lines longer than this are not scanned.
    pub highlight_line_length_max: usize,
    /// A configuration problem to show in the lens.
    pub warning: Option<String>,
}

impl Default for BuildLogConfig {
    fn default() -> Self {
        BuildLogConfig {
            highlight: Regex::new(DEFAULT_HIGHLIGHT).ok(),
            show_raw_log: true,
            highlight_line_length_max: DEFAULT_HIGHLIGHT_LINE_LENGTH_MAX,
            warning: None,
        }
    }
}

impl BuildLogConfig {
    /// From the lens's `config` (`highlight_regexes`, `hide_raw_log`,
    /// `highlight_line_length_max`); problems fall back to defaults with a warning.
    pub fn from_json(v: Option<&Value>) -> Self {
        let mut c = BuildLogConfig::default();
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return c;
        };
        c.show_raw_log = !v
            .get("hide_raw_log")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if let Some(n) = v.get("highlight_line_length_max").and_then(Value::as_u64) {
            c.highlight_line_length_max = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let regexes: Vec<&str> = v
            .get("highlight_regexes")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !regexes.is_empty() {
            let joined = regexes.join("|");
            match Regex::new(&joined) {
                Ok(re) => c.highlight = Some(re),
                Err(e) => {
                    tracing::warn!(error = %e, "buildlog: invalid highlight_regexes");
                    c.warning = Some(format!(
                        "highlight_regexes do not compile ({e}); using the default pattern"
                    ));
                }
            }
        }
        c
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Byte offset of the line's first byte in the log.
    pub offset: u64,
    /// Byte offset just past the line (after its newline, or the end of the log).
    pub end: u64,
    /// 1-based line number, when known.
    pub number: Option<u64>,
    /// Text with escape sequences removed (possibly cut at [`MAX_DISPLAY_LINE`]).
    pub text: String,
    /// Colour runs in `text`.
    pub styles: Vec<ansi::StyleRun>,
    /// Highlighted byte ranges in `text`.
    pub highlights: Vec<Range<usize>>,
    /// Whether `text` was cut.
    pub clipped: bool,
}

impl Line {
    /// Whether a highlight regex matched.
    pub fn highlighted(&self) -> bool {
        !self.highlights.is_empty()
    }
}

/// A folded run of lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// First byte (a line start).
    pub start: u64,
    /// One past the last byte (a line end or the end of the log).
    pub end: u64,
    /// Number of the first line, when known.
    pub first_line: Option<u64>,
    /// Number of lines, when known.
    pub count: Option<u64>,
}

/// Shown lines or a folded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group {
    /// Lines to display.
    Shown(Vec<Line>),
    /// Lines behind an expander.
    Skipped(Skip),
}

/// Random access to a log's bytes.
#[async_trait::async_trait]
pub trait LogReader: Send + Sync {
    /// Total size in bytes.
    fn size(&self) -> u64;
    /// Bytes in `range` (cut at the end of the log).
    async fn read(&self, range: Range<u64>) -> anyhow::Result<Bytes>;
}

/// A log already in memory (small or gzip-decoded logs).
pub struct MemLog(pub Bytes);

#[async_trait::async_trait]
impl LogReader for MemLog {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    async fn read(&self, range: Range<u64>) -> anyhow::Result<Bytes> {
        let len = self.0.len();
        let s = usize::try_from(range.start).unwrap_or(len).min(len);
        let e = usize::try_from(range.end).unwrap_or(len).min(len);
        Ok(self.0.slice(s..e.max(s)))
    }
}

/// A log object in a bucket, read by ranges.
pub struct StorageLog {
    /// The bucket.
    pub storage: Arc<dyn prow_storage::Storage>,
    /// Object name.
    pub key: String,
    /// Object size.
    pub size: u64,
}

#[async_trait::async_trait]
impl LogReader for StorageLog {
    fn size(&self) -> u64 {
        self.size
    }
    async fn read(&self, range: Range<u64>) -> anyhow::Result<Bytes> {
        let end = range.end.min(self.size);
        if range.start >= end {
            return Ok(Bytes::new());
        }
        Ok(self.storage.get_range(&self.key, range.start..end).await?)
    }
}

/// Split `data` (which starts at log offset `base`, on a line start) into lines. A final
/// segment without a newline is a line only when `at_eof`. Returns the lines and the offset
/// just past the last one.
pub fn split_lines(
    data: &[u8],
    base: u64,
    first_number: Option<u64>,
    at_eof: bool,
    cfg: &BuildLogConfig,
) -> (Vec<Line>, u64) {
    let mut lines = Vec::new();
    let mut pos = 0usize;
    let mut number = first_number;
    while pos < data.len() {
        let (line_end, next) = match data[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => (pos + i, pos + i + 1),
            None if at_eof => (data.len(), data.len()),
            None => break,
        };
        lines.push(make_line(
            &data[pos..line_end],
            base + pos as u64,
            base + next as u64,
            number,
            cfg,
        ));
        number = number.map(|n| n + 1);
        pos = next;
    }
    (lines, base + pos as u64)
}

fn make_line(raw: &[u8], offset: u64, end: u64, number: Option<u64>, cfg: &BuildLogConfig) -> Line {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let clipped = raw.len() > MAX_DISPLAY_LINE;
    let raw = if clipped {
        &raw[..MAX_DISPLAY_LINE]
    } else {
        raw
    };
    let lossy = String::from_utf8_lossy(raw);
    let (text, styles) = ansi::parse(&lossy);
    let mut highlights = Vec::new();
    if let Some(re) = &cfg.highlight
        && text.len() <= cfg.highlight_line_length_max
    {
        highlights = re
            .find_iter(&text)
            .filter(|m| !m.is_empty())
            .map(|m| m.range())
            .collect();
    }
    Line {
        offset,
        end,
        number,
        text,
        styles,
        highlights,
        clipped,
    }
}

/// Append a group, merging adjacent folded runs.
fn push_group(groups: &mut Vec<Group>, g: Group) {
    match (groups.last_mut(), g) {
        (Some(Group::Skipped(a)), Group::Skipped(b)) if a.end == b.start => {
            a.end = b.end;
            a.count = match (a.count, b.count) {
                (Some(x), Some(y)) => Some(x + y),
                _ => None,
            };
        }
        (Some(Group::Shown(a)), Group::Shown(b)) => a.extend(b),
        (_, Group::Shown(b)) if b.is_empty() => {}
        (_, g) => groups.push(g),
    }
}

/// Prow's grouping: highlighted lines and their neighbours are shown, other runs of at least
/// [`MIN_LINES_SKIPPED`] lines are folded.
pub fn group_lines(lines: Vec<Line>) -> Vec<Group> {
    let n = lines.len();
    let mut show = vec![false; n];
    for (i, l) in lines.iter().enumerate() {
        if l.highlighted() {
            let lo = i.saturating_sub(NEIGHBOR_LINES);
            let hi = (i + NEIGHBOR_LINES).min(n.saturating_sub(1));
            for s in &mut show[lo..=hi] {
                *s = true;
            }
        }
    }
    let mut groups = Vec::new();
    let mut iter = lines.into_iter().zip(show).peekable();
    while let Some((line, shown)) = iter.next() {
        let mut run = vec![line];
        while let Some((_, s)) = iter.peek() {
            if *s != shown {
                break;
            }
            if let Some((l, _)) = iter.next() {
                run.push(l);
            }
        }
        if shown || run.len() < MIN_LINES_SKIPPED {
            push_group(&mut groups, Group::Shown(run));
        } else {
            let first = &run[0];
            let last = &run[run.len() - 1];
            push_group(
                &mut groups,
                Group::Skipped(Skip {
                    start: first.offset,
                    end: last.end,
                    first_line: first.number,
                    count: first.number.map(|_| run.len() as u64),
                }),
            );
        }
    }
    groups
}

/// The first screen of a log: whole for small logs, head and tail windows otherwise.
pub async fn initial_groups(
    reader: &dyn LogReader,
    cfg: &BuildLogConfig,
) -> anyhow::Result<Vec<Group>> {
    let size = reader.size();
    if size == 0 {
        return Ok(Vec::new());
    }
    if size <= FULL_READ_MAX {
        let data = reader.read(0..size).await?;
        let (lines, _) = split_lines(&data, 0, Some(1), true, cfg);
        return Ok(group_lines(lines));
    }
    let head = reader.read(0..HEAD_BYTES).await?;
    let (head_lines, head_end) = split_lines(&head, 0, Some(1), false, cfg);
    let head_count = head_lines.len() as u64;
    // One byte before the tail window tells whether it starts on a line boundary.
    let tail_from = size - TAIL_BYTES - 1;
    let tail = reader.read(tail_from..size).await?;
    let (tail_lines, tail_start) = match tail.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let start = i + 1;
            let (lines, _) = split_lines(&tail[start..], tail_from + start as u64, None, true, cfg);
            (lines, tail_from + start as u64)
        }
        None => (Vec::new(), size),
    };
    let mut groups = Vec::new();
    for g in group_lines(head_lines) {
        push_group(&mut groups, g);
    }
    if tail_start > head_end {
        push_group(
            &mut groups,
            Group::Skipped(Skip {
                start: head_end,
                end: tail_start,
                first_line: Some(head_count + 1),
                count: None,
            }),
        );
    }
    for g in group_lines(tail_lines) {
        push_group(&mut groups, g);
    }
    Ok(groups)
}

/// Which part of a folded run to reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The first `n` lines.
    Down(usize),
    /// The last `n` lines.
    Up(usize),
    /// As much as one request may return, from the top.
    All,
}

/// A request to reveal part of a folded run (what an expander sends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandRequest {
    /// The run.
    pub skip: Skip,
    /// What to reveal.
    pub dir: Direction,
}

/// Why an expand request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    /// The byte range is empty or outside the log.
    #[error("invalid range {start}..{end} for a log of {size} bytes")]
    BadRange {
        /// Start byte.
        start: u64,
        /// End byte.
        end: u64,
        /// Log size.
        size: u64,
    },
    /// Reading failed.
    #[error("reading the log: {0}")]
    Read(#[from] anyhow::Error),
}

/// Reveal part of a folded run: returns the shown lines and what stays folded.
pub async fn expand(
    reader: &dyn LogReader,
    req: &ExpandRequest,
    cfg: &BuildLogConfig,
) -> Result<Vec<Group>, ExpandError> {
    let size = reader.size();
    let mut skip = req.skip.clone();
    skip.end = skip.end.min(size);
    if skip.start >= skip.end {
        return Err(ExpandError::BadRange {
            start: req.skip.start,
            end: req.skip.end,
            size,
        });
    }
    let (dir, n) = match req.dir {
        Direction::Down(n) => (true, n.clamp(1, MAX_EXPAND_LINES)),
        Direction::Up(n) => (false, n.clamp(1, MAX_EXPAND_LINES)),
        Direction::All => (true, MAX_EXPAND_LINES),
    };
    let mut groups = Vec::new();
    if dir {
        let read_end = skip.end.min(skip.start + EXPAND_BYTES);
        let data = reader.read(skip.start..read_end).await?;
        let at_end = skip.start + data.len() as u64 >= skip.end;
        let (mut lines, _) = split_lines(&data, skip.start, skip.first_line, at_end, cfg);
        if lines.is_empty() {
            // A single line longer than the window: show what was read of it.
            lines.push(make_line(
                &data,
                skip.start,
                skip.start + data.len() as u64,
                skip.first_line,
                cfg,
            ));
            lines[0].clipped = true;
        }
        lines.truncate(n);
        let taken = lines.len() as u64;
        let after = lines.last().map_or(skip.start, |l| l.end);
        let mid_line = lines.last().is_some_and(|l| l.clipped && l.end < skip.end);
        push_group(&mut groups, Group::Shown(lines));
        if after < skip.end {
            push_group(
                &mut groups,
                Group::Skipped(Skip {
                    start: after,
                    end: skip.end,
                    first_line: if mid_line {
                        None
                    } else {
                        skip.first_line.map(|f| f + taken)
                    },
                    count: if mid_line {
                        None
                    } else {
                        skip.count.map(|c| c.saturating_sub(taken))
                    },
                }),
            );
        }
        return Ok(groups);
    }
    // Upwards: read the window before `end`, starting one byte early to find a line start.
    let from = skip.end.saturating_sub(EXPAND_BYTES).max(skip.start);
    let lines = if from == skip.start {
        let data = reader.read(from..skip.end).await?;
        split_lines(&data, from, None, true, cfg).0
    } else {
        let data = reader.read(from - 1..skip.end).await?;
        match data.iter().position(|&b| b == b'\n') {
            Some(i) if (i + 1) < data.len() => {
                let base = from + i as u64;
                split_lines(&data[i + 1..], base, None, true, cfg).0
            }
            _ => {
                // No line start inside the window: fall back to revealing from the top.
                let down = ExpandRequest {
                    skip,
                    dir: Direction::Down(n),
                };
                return Box::pin(expand(reader, &down, cfg)).await;
            }
        }
    };
    let keep_from = lines.len().saturating_sub(n);
    let mut shown: Vec<Line> = lines.into_iter().skip(keep_from).collect();
    let taken = shown.len() as u64;
    // Numbers are known when the run's first number and length are.
    if let (Some(first), Some(count)) = (skip.first_line, skip.count) {
        let first_shown = first + count.saturating_sub(taken);
        for (i, l) in shown.iter_mut().enumerate() {
            l.number = Some(first_shown + i as u64);
        }
    }
    let before = shown.first().map_or(skip.end, |l| l.offset);
    if before > skip.start {
        push_group(
            &mut groups,
            Group::Skipped(Skip {
                start: skip.start,
                end: before,
                first_line: skip.first_line,
                count: skip.count.map(|c| c.saturating_sub(taken)),
            }),
        );
    }
    push_group(&mut groups, Group::Shown(std::mem::take(&mut shown)));
    Ok(groups)
}

/// Render groups as the HTML fragment the page and the expanders use. `range_url` is the
/// expander endpoint with `src` and `artifact` already in its query.
pub fn render_groups(out: &mut String, artifact: &str, range_url: &str, groups: &[Group]) {
    for g in groups {
        match g {
            Group::Shown(lines) => {
                out.push_str("<div class=\"shown\">");
                for l in lines {
                    render_line(out, artifact, l);
                }
                out.push_str("</div>");
            }
            Group::Skipped(s) => render_skip(out, range_url, s),
        }
    }
}

fn render_line(out: &mut String, artifact: &str, l: &Line) {
    let anchor = match l.number {
        Some(n) => format!("{artifact}:{n}"),
        None => format!("{artifact}:@{}", l.offset),
    };
    out.push_str("<div class=\"line");
    if l.highlighted() {
        out.push_str(" hl");
    }
    out.push_str("\" id=\"");
    push_esc(out, &anchor);
    out.push_str("\"><a class=\"ln\" href=\"#");
    push_esc(out, &anchor);
    out.push('"');
    match l.number {
        Some(n) => {
            out.push_str(" data-line=\"");
            out.push_str(&n.to_string());
            out.push_str("\">");
            out.push_str(&n.to_string());
        }
        None => {
            out.push_str(" title=\"byte offset ");
            out.push_str(&l.offset.to_string());
            out.push_str(" (line number not known without reading the whole log)\">&#183;");
        }
    }
    out.push_str("</a><span class=\"lt\">");
    render_text(out, l);
    if l.clipped {
        out.push_str("<span class=\"clip\"> [line cut; see the raw log]</span>");
    }
    out.push_str("</span></div>");
}

/// Text with highlight `<mark>`s and colour spans, escaped.
fn render_text(out: &mut String, l: &Line) {
    if l.styles.is_empty() && l.highlights.is_empty() {
        push_esc(out, &l.text);
        return;
    }
    let mut cuts: Vec<usize> = vec![0, l.text.len()];
    for r in &l.highlights {
        cuts.extend([r.start, r.end]);
    }
    for s in &l.styles {
        cuts.extend([s.start, s.end]);
    }
    cuts.retain(|&c| c <= l.text.len() && l.text.is_char_boundary(c));
    cuts.sort_unstable();
    cuts.dedup();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let Some(seg) = l.text.get(a..b) else {
            continue;
        };
        let mark = l.highlights.iter().any(|r| r.start <= a && b <= r.end);
        let style = l.styles.iter().find(|s| s.start <= a && b <= s.end);
        let mut classes = String::new();
        if let Some(s) = style {
            if let Some(fg) = s.fg {
                classes.push_str(&format!("ansi-{fg} "));
            }
            if s.bold {
                classes.push_str("ansi-b ");
            }
        }
        let classes = classes.trim_end();
        if mark {
            out.push_str("<mark>");
        }
        if !classes.is_empty() {
            out.push_str("<span class=\"");
            out.push_str(classes);
            out.push_str("\">");
        }
        push_esc(out, seg);
        if !classes.is_empty() {
            out.push_str("</span>");
        }
        if mark {
            out.push_str("</mark>");
        }
    }
}

fn render_skip(out: &mut String, range_url: &str, s: &Skip) {
    let mut url = format!("{range_url}&start={}&end={}", s.start, s.end);
    if let Some(f) = s.first_line {
        url.push_str(&format!("&line={f}"));
    }
    if let Some(c) = s.count {
        url.push_str(&format!("&count={c}"));
    }
    out.push_str("<div class=\"skipped\" data-url=\"");
    push_esc(out, &url);
    out.push_str("\">");
    let bytes = s.end - s.start;
    let label = match s.count {
        Some(c) => format!("{c} skipped lines"),
        None => format!("{} of log not shown", human_bytes(bytes)),
    };
    let small = s.count.is_some_and(|c| c as usize <= MAX_EXPAND_LINES) && bytes <= EXPAND_BYTES;
    out.push_str("<button type=\"button\" data-dir=\"down\" data-n=\"20\" title=\"Show the next lines\">&#9660; more</button>");
    if small {
        out.push_str("<button type=\"button\" data-dir=\"all\" class=\"all\">Show ");
        push_esc(out, &label);
        out.push_str("</button>");
    } else {
        out.push_str("<span class=\"skip-label\">");
        push_esc(out, &label);
        out.push_str("</span>");
    }
    out.push_str("<button type=\"button\" data-dir=\"up\" data-n=\"20\" title=\"Show the previous lines\">&#9650; more</button>");
    out.push_str("</div>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BuildLogConfig {
        BuildLogConfig::default()
    }

    fn log(lines: &[&str]) -> Bytes {
        Bytes::from(lines.iter().map(|l| format!("{l}\n")).collect::<String>())
    }

    fn numbered(n: usize, errors: &[usize]) -> Bytes {
        let v: Vec<String> = (1..=n)
            .map(|i| {
                if errors.contains(&i) {
                    format!("line {i} ERROR: broken")
                } else {
                    format!("line {i} fine")
                }
            })
            .collect();
        log(&v.iter().map(String::as_str).collect::<Vec<_>>())
    }

    #[test]
    fn split_keeps_offsets_and_numbers() {
        let data = b"ab\ncd\r\nlast";
        let (lines, end) = split_lines(data, 10, Some(1), false, &cfg());
        assert_eq!(lines.len(), 2);
        assert_eq!(
            (lines[0].offset, lines[0].end, lines[0].number),
            (10, 13, Some(1))
        );
        assert_eq!((lines[1].text.as_str(), lines[1].end), ("cd", 17));
        assert_eq!(end, 17);
        let (lines, end) = split_lines(data, 0, None, true, &cfg());
        assert_eq!(lines.len(), 3);
        assert_eq!(
            (lines[2].text.as_str(), lines[2].number, end),
            ("last", None, 11)
        );
    }

    #[test]
    fn default_regex_matches_prow_patterns() {
        let c = cfg();
        for (line, hit) in [
            ("ERROR: x", true),
            ("--- FAIL: TestX", true),
            ("panic: runtime error", true),
            ("E0102 12:34:56.789] boom", true),
            ("request timed out", true),
            ("all fine", false),
            ("FAILURES", false),
        ] {
            let (l, _) = split_lines(line.as_bytes(), 0, Some(1), true, &c);
            assert_eq!(l[0].highlighted(), hit, "{line}");
        }
    }

    #[test]
    fn config_parsing() {
        let c = BuildLogConfig::from_json(Some(&serde_json::json!({
            "highlight_regexes": ["SUSPICIOUS:", "boom"],
            "hide_raw_log": true,
            "highlight_line_length_max": 5,
        })));
        assert!(!c.show_raw_log);
        assert_eq!(c.highlight_line_length_max, 5);
        let re = c.highlight.unwrap();
        assert!(re.is_match("SUSPICIOUS: x") && !re.is_match("ERROR:"));
        let bad = BuildLogConfig::from_json(Some(&serde_json::json!({"highlight_regexes": ["("]})));
        assert!(bad.warning.is_some());
        assert!(bad.highlight.unwrap().is_match("ERROR:"));
        // Long lines are not scanned.
        let c =
            BuildLogConfig::from_json(Some(&serde_json::json!({"highlight_line_length_max": 5})));
        let (l, _) = split_lines(b"ERROR: long line", 0, Some(1), true, &c);
        assert!(!l[0].highlighted());
    }

    #[test]
    fn grouping_follows_prow() {
        // 30 lines, error on 15: lines 10..=20 shown, 1..=9 and 21..=30 folded.
        let data = numbered(30, &[15]);
        let (lines, _) = split_lines(&data, 0, Some(1), true, &cfg());
        let groups = group_lines(lines);
        assert_eq!(groups.len(), 3);
        let Group::Skipped(a) = &groups[0] else {
            panic!("{groups:?}")
        };
        assert_eq!((a.first_line, a.count, a.start), (Some(1), Some(9), 0));
        let Group::Shown(s) = &groups[1] else {
            panic!()
        };
        assert_eq!(s.first().unwrap().number, Some(10));
        assert_eq!(s.last().unwrap().number, Some(20));
        let Group::Skipped(b) = &groups[2] else {
            panic!()
        };
        assert_eq!(
            (b.first_line, b.count, b.end),
            (Some(21), Some(10), data.len() as u64)
        );
        // Short hidden runs are shown: an error on line 8 of 12 shows everything.
        let (lines, _) = split_lines(&numbered(12, &[8]), 0, Some(1), true, &cfg());
        let groups = group_lines(lines);
        assert!(
            matches!(&groups[..], [Group::Shown(l)] if l.len() == 12),
            "{groups:?}"
        );
        // No errors: everything folded.
        let (lines, _) = split_lines(&numbered(40, &[]), 0, Some(1), true, &cfg());
        assert!(matches!(&group_lines(lines)[..], [Group::Skipped(s)] if s.count == Some(40)));
    }

    #[tokio::test]
    async fn expand_down_up_all_return_the_right_lines() {
        let data = numbered(100, &[]);
        let reader = MemLog(data.clone());
        let (lines, _) = split_lines(&data, 0, Some(1), true, &cfg());
        let whole = Skip {
            start: 0,
            end: data.len() as u64,
            first_line: Some(1),
            count: Some(100),
        };
        // Down 10.
        let g = expand(
            &reader,
            &ExpandRequest {
                skip: whole.clone(),
                dir: Direction::Down(10),
            },
            &cfg(),
        )
        .await
        .unwrap();
        let [Group::Shown(shown), Group::Skipped(rest)] = &g[..] else {
            panic!("{g:?}")
        };
        assert_eq!(shown.len(), 10);
        assert_eq!(shown[0].text, "line 1 fine");
        assert_eq!(shown[9].number, Some(10));
        assert_eq!(rest.start, lines[10].offset);
        assert_eq!((rest.first_line, rest.count), (Some(11), Some(90)));
        // Up 5 from the rest.
        let g = expand(
            &reader,
            &ExpandRequest {
                skip: rest.clone(),
                dir: Direction::Up(5),
            },
            &cfg(),
        )
        .await
        .unwrap();
        let [Group::Skipped(before), Group::Shown(shown)] = &g[..] else {
            panic!("{g:?}")
        };
        assert_eq!(shown.len(), 5);
        assert_eq!(shown[0].text, "line 96 fine");
        assert_eq!(shown[0].number, Some(96));
        assert_eq!(shown[4].number, Some(100));
        assert_eq!((before.start, before.end), (rest.start, lines[95].offset));
        assert_eq!(before.count, Some(85));
        // All of the remainder.
        let g = expand(
            &reader,
            &ExpandRequest {
                skip: before.clone(),
                dir: Direction::All,
            },
            &cfg(),
        )
        .await
        .unwrap();
        let [Group::Shown(shown)] = &g[..] else {
            panic!("{g:?}")
        };
        assert_eq!(shown.len(), 85);
        assert_eq!(shown[0].text, "line 11 fine");
        assert_eq!(shown[84].number, Some(95));
        // Bad ranges are refused.
        let bad = ExpandRequest {
            skip: Skip {
                start: 10_000,
                end: 20_000,
                first_line: None,
                count: None,
            },
            dir: Direction::All,
        };
        assert!(matches!(
            expand(&reader, &bad, &cfg()).await,
            Err(ExpandError::BadRange { .. })
        ));
    }

    #[tokio::test]
    async fn expand_up_without_numbers_finds_line_starts() {
        // Window smaller than the run: the first partial line must be dropped.
        let line = "x".repeat(1000);
        let data: String = (0..2000).map(|i| format!("{i:05} {line}\n")).collect();
        let data = Bytes::from(data);
        let reader = MemLog(data.clone());
        let skip = Skip {
            start: 0,
            end: data.len() as u64,
            first_line: None,
            count: None,
        };
        let g = expand(
            &reader,
            &ExpandRequest {
                skip,
                dir: Direction::Up(3),
            },
            &cfg(),
        )
        .await
        .unwrap();
        let [Group::Skipped(_), Group::Shown(shown)] = &g[..] else {
            panic!("{g:?}")
        };
        let texts: Vec<&str> = shown.iter().map(|l| &l.text[..5]).collect();
        assert_eq!(texts, ["01997", "01998", "01999"]);
        assert!(shown.iter().all(|l| l.number.is_none()));
    }

    #[tokio::test]
    async fn initial_small_and_large() {
        let c = cfg();
        let small = MemLog(numbered(50, &[25]));
        let g = initial_groups(&small, &c).await.unwrap();
        assert_eq!(g.len(), 3);
        // Large: errors near both ends, fine lines in between.
        let mut s = String::new();
        s.push_str("start\nERROR: early failure\n");
        let filler = "y".repeat(99);
        while s.len() < 5 * 1024 * 1024 {
            s.push_str(&filler);
            s.push('\n');
        }
        s.push_str("panic: late failure\nend\n");
        let big = MemLog(Bytes::from(s.clone()));
        let g = initial_groups(&big, &c).await.unwrap();
        let shown: Vec<&Line> = g
            .iter()
            .filter_map(|g| match g {
                Group::Shown(l) => Some(l),
                _ => None,
            })
            .flatten()
            .collect();
        let early = shown
            .iter()
            .find(|l| l.text == "ERROR: early failure")
            .unwrap();
        assert_eq!(early.number, Some(2));
        let late = shown
            .iter()
            .find(|l| l.text == "panic: late failure")
            .unwrap();
        assert_eq!(late.number, None);
        assert_eq!(late.offset, s.find("panic: late").unwrap() as u64);
        // The folded runs cover every byte exactly once, in order.
        let mut pos = 0;
        for grp in &g {
            match grp {
                Group::Shown(lines) => {
                    for l in lines {
                        assert_eq!(l.offset, pos);
                        pos = l.end;
                    }
                }
                Group::Skipped(sk) => {
                    assert_eq!(sk.start, pos);
                    pos = sk.end;
                }
            }
        }
        assert_eq!(pos, s.len() as u64);
    }

    #[test]
    fn rendering_escapes_and_marks() {
        let (lines, _) = split_lines(
            b"<script>ERROR: \x1b[31mred</script>\n",
            0,
            Some(1),
            true,
            &cfg(),
        );
        let mut out = String::new();
        render_groups(&mut out, "build-log.txt", "/r?x=1", &[Group::Shown(lines)]);
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"));
        assert!(out.contains("<mark>ERROR:</mark>"));
        assert!(out.contains("class=\"ansi-1\""));
        assert!(out.contains("id=\"build-log.txt:1\""));
        let mut out = String::new();
        render_groups(
            &mut out,
            "a",
            "/r?x=1",
            &[Group::Skipped(Skip {
                start: 5,
                end: 900,
                first_line: Some(3),
                count: Some(7),
            })],
        );
        assert!(out.contains("data-url=\"/r?x=1&amp;start=5&amp;end=900&amp;line=3&amp;count=7\""));
        assert!(out.contains("Show 7 skipped lines"));
    }
}
