//! The `junit` lens: parses JUnit XML files and groups tests into failed, flaky, passed and
//! skipped, as Prow does (a test that both failed and passed in one file is flaky).
//!
//! Parsing is event-based (quick-xml), tolerant of unknown elements and attributes, and
//! reports malformed files as errors shown in the lens, never as panics.

use std::collections::HashMap;
use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use regex::Regex;
use serde_json::Value;

use crate::html::{esc, push_esc};

/// Longest captured text (failure body, stdout...) kept per field.
const MAX_TEXT: usize = 256 * 1024;

/// One `<testcase>` run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestCase {
    /// Enclosing (innermost) suite name.
    pub suite: String,
    /// `classname`.
    pub class_name: String,
    /// `name`.
    pub name: String,
    /// `time` in seconds.
    pub time: f64,
    /// `<failure>`: message attribute and body.
    pub failure: Option<(String, String)>,
    /// `<error>`: message attribute and body.
    pub error: Option<(String, String)>,
    /// `<skipped>` message.
    pub skipped: Option<String>,
    /// `<system-out>`.
    pub stdout: String,
    /// `<system-err>`.
    pub stderr: String,
    /// `<properties><property name value/>`.
    pub properties: Vec<(String, String)>,
}

/// Outcome of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Passed.
    Passed,
    /// Failed or errored.
    Failed,
    /// Skipped.
    Skipped,
}

impl TestCase {
    /// Status as Prow computes it (skipped wins over failed).
    pub fn status(&self) -> Status {
        if self.skipped.is_some() {
            Status::Skipped
        } else if self.failure.is_some() || self.error.is_some() {
            Status::Failed
        } else {
            Status::Passed
        }
    }

    /// Display name `class: name` (Prow's format), or just the name.
    pub fn display_name(&self) -> String {
        if self.class_name.is_empty() {
            self.name.clone()
        } else {
            format!("{}: {}", self.class_name, self.name)
        }
    }

    fn failure_text(&self) -> String {
        let mut parts = Vec::new();
        for (m, body) in [&self.failure, &self.error].into_iter().flatten() {
            if !m.is_empty() {
                parts.push(m.clone());
            }
            if !body.trim().is_empty() && body.trim() != m.trim() {
                parts.push(body.clone());
            }
        }
        parts.join("\n")
    }
}

/// Parse one JUnit file into its test runs, in document order.
pub fn parse(data: &[u8]) -> Result<Vec<TestCase>, String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let mut reader = Reader::from_str(text);
    let mut suites: Vec<String> = Vec::new();
    let mut saw_root = false;
    let mut cur: Option<TestCase> = None;
    let mut out = Vec::new();
    #[derive(Clone, Copy, PartialEq)]
    enum Cap {
        None,
        Failure,
        Error,
        Skipped,
        Stdout,
        Stderr,
    }
    let mut cap = Cap::None;
    let mut buf = String::new();
    let attrs = |e: &BytesStart| -> HashMap<String, String> {
        e.attributes()
            .flatten()
            .filter_map(|a| {
                let k = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                a.normalized_value(quick_xml::XmlVersion::default())
                    .ok()
                    .map(|v| (k, v.into_owned()))
            })
            .collect()
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.error_position()))?;
        match ev {
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let local = e.local_name();
                let name = local.as_ref();
                match name {
                    b"testsuites" => saw_root = true,
                    b"testsuite" => {
                        saw_root = true;
                        if !empty {
                            suites.push(attrs(e).remove("name").unwrap_or_default());
                        }
                    }
                    b"testcase" => {
                        let mut a = attrs(e);
                        let tc = TestCase {
                            suite: suites.last().cloned().unwrap_or_default(),
                            class_name: a.remove("classname").unwrap_or_default(),
                            name: a.remove("name").unwrap_or_default(),
                            time: a
                                .get("time")
                                .and_then(|t| t.replace(',', "").parse().ok())
                                .unwrap_or(0.0),
                            ..Default::default()
                        };
                        if empty {
                            out.push(tc);
                        } else {
                            cur = Some(tc);
                        }
                    }
                    b"failure" | b"error" | b"skipped" if cur.is_some() => {
                        let msg = attrs(e).remove("message").unwrap_or_default();
                        if let Some(tc) = cur.as_mut() {
                            match name {
                                b"failure" => {
                                    tc.failure = Some((msg, String::new()));
                                    cap = Cap::Failure;
                                }
                                b"error" => {
                                    tc.error = Some((msg, String::new()));
                                    cap = Cap::Error;
                                }
                                _ => {
                                    tc.skipped = Some(msg);
                                    cap = Cap::Skipped;
                                }
                            }
                        }
                        buf.clear();
                        if empty {
                            cap = Cap::None;
                        }
                    }
                    b"system-out" | b"system-err" if cur.is_some() && !empty => {
                        cap = if name == b"system-out" {
                            Cap::Stdout
                        } else {
                            Cap::Stderr
                        };
                        buf.clear();
                    }
                    b"property" => {
                        if let Some(tc) = cur.as_mut() {
                            let mut a = attrs(e);
                            tc.properties.push((
                                a.remove("name").unwrap_or_default(),
                                a.remove("value").unwrap_or_default(),
                            ));
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => {
                let local = e.local_name();
                match local.as_ref() {
                    b"testsuite" => {
                        suites.pop();
                    }
                    b"testcase" => {
                        if let Some(tc) = cur.take() {
                            out.push(tc);
                        }
                        cap = Cap::None;
                    }
                    b"failure" | b"error" | b"skipped" | b"system-out" | b"system-err" => {
                        if let Some(tc) = cur.as_mut() {
                            let text = std::mem::take(&mut buf);
                            match cap {
                                Cap::Failure => {
                                    if let Some(f) = tc.failure.as_mut() {
                                        f.1 = text;
                                    }
                                }
                                Cap::Error => {
                                    if let Some(f) = tc.error.as_mut() {
                                        f.1 = text;
                                    }
                                }
                                Cap::Skipped => {
                                    if let Some(s) = tc.skipped.as_mut()
                                        && s.is_empty()
                                    {
                                        *s = text;
                                    }
                                }
                                Cap::Stdout => tc.stdout = text,
                                Cap::Stderr => tc.stderr = text,
                                Cap::None => {}
                            }
                        }
                        cap = Cap::None;
                    }
                    _ => {}
                }
            }
            Event::Text(t) if cap != Cap::None => {
                let s = t.decode().map_err(|e| format!("bad text: {e}"))?;
                push_capped(&mut buf, &s);
            }
            Event::CData(t) if cap != Cap::None => {
                let s = t.decode().map_err(|e| format!("bad CDATA: {e}"))?;
                push_capped(&mut buf, &s);
            }
            Event::GeneralRef(r) if cap != Cap::None => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    buf.push(c);
                } else {
                    let name = r.decode().map_err(|e| format!("bad reference: {e}"))?;
                    let c = match name.as_ref() {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    };
                    if c.is_empty() {
                        push_capped(&mut buf, &format!("&{name};"));
                    } else {
                        push_capped(&mut buf, c);
                    }
                }
            }
            _ => {}
        }
    }
    if !saw_root {
        return Err("no <testsuites> or <testsuite> element".into());
    }
    Ok(out)
}

fn push_capped(buf: &mut String, s: &str) {
    if buf.len() >= MAX_TEXT {
        return;
    }
    let room = MAX_TEXT - buf.len();
    if s.len() <= room {
        buf.push_str(s);
    } else {
        let mut cut = room;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        buf.push_str(&s[..cut]);
        buf.push_str("\n[truncated]");
    }
}

/// A test (all runs of one suite/class/name in one file).
#[derive(Debug, Clone, PartialEq)]
pub struct TestResult {
    /// The runs, in file order.
    pub runs: Vec<TestCase>,
    /// The file it came from (relative artifact name).
    pub file: String,
}

/// Classified tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buckets {
    /// Distinct tests counted.
    pub num_tests: usize,
    /// Failed.
    pub failed: Vec<TestResult>,
    /// Failed and passed.
    pub flaky: Vec<TestResult>,
    /// Passed.
    pub passed: Vec<TestResult>,
    /// Skipped.
    pub skipped: Vec<TestResult>,
}

impl Buckets {
    /// Prow's `classifyTests`.
    pub fn classify(&mut self, tests: Vec<TestResult>) {
        let prev = self.passed.len() + self.failed.len() + self.flaky.len() + self.skipped.len();
        let mut duplicates = 0;
        for tr in tests {
            let (mut skipped, mut passed, mut failed, mut flaky) = (false, false, false, false);
            for t in &tr.runs {
                match t.status() {
                    Status::Skipped => skipped = true,
                    Status::Failed => {
                        if passed {
                            passed = false;
                            failed = false;
                            flaky = true;
                        }
                        if !flaky {
                            failed = true;
                        }
                    }
                    Status::Passed if failed => {
                        passed = false;
                        failed = false;
                        flaky = true;
                    }
                    Status::Passed if !flaky => passed = true,
                    Status::Passed => {}
                }
            }
            if skipped {
                if failed {
                    self.failed.push(tr.clone());
                    duplicates += 1;
                }
                self.skipped.push(tr);
            } else if failed {
                self.failed.push(tr);
            } else if flaky {
                self.flaky.push(tr);
            } else {
                self.passed.push(tr);
            }
        }
        let now = self.passed.len() + self.failed.len() + self.flaky.len() + self.skipped.len();
        self.num_tests += now - prev - duplicates;
    }
}

/// Group tests by suite/class/name, keeping first-seen order.
pub fn dedupe(file: &str, cases: Vec<TestCase>) -> Vec<TestResult> {
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    let mut out: Vec<TestResult> = Vec::new();
    for c in cases {
        let k = (c.suite.clone(), c.class_name.clone(), c.name.clone());
        match index.get(&k) {
            Some(&i) => out[i].runs.push(c),
            None => {
                index.insert(k, out.len());
                out.push(TestResult {
                    runs: vec![c],
                    file: file.to_string(),
                });
            }
        }
    }
    out
}

/// A configured group: tests whose properties match go into it.
#[derive(Debug, Clone)]
pub struct GroupSelector {
    /// Title.
    pub name: String,
    /// Collapsed by default.
    pub collapsed: bool,
    /// `(name, value)` predicates; empty strings match anything.
    preds: Vec<(String, String)>,
}

impl GroupSelector {
    /// Parse Prow's selector syntax `properties/property[@name='k' and @value='v']...`.
    pub fn parse(name: &str, selector: &str, collapsed: bool) -> Result<Self, String> {
        let prop = Regex::new(r"properties/property\[([^\]]+)\]").map_err(|e| e.to_string())?;
        let attr = Regex::new(r"@(\w+)\s*=\s*'([^']*)'").map_err(|e| e.to_string())?;
        let mut preds = Vec::new();
        for m in prop.captures_iter(selector) {
            let (mut n, mut v) = (String::new(), String::new());
            let mut any = false;
            for a in attr.captures_iter(&m[1]) {
                any = true;
                match &a[1] {
                    "name" => n = a[2].to_string(),
                    "value" => v = a[2].to_string(),
                    other => return Err(format!("unsupported attribute: @{other}")),
                }
            }
            if !any {
                return Err(format!("no attribute predicates found in: {}", &m[1]));
            }
            preds.push((n, v));
        }
        if preds.is_empty() {
            return Err(format!("unsupported selector syntax: {selector}"));
        }
        Ok(GroupSelector {
            name: name.to_string(),
            collapsed,
            preds,
        })
    }

    fn matches(&self, t: &TestCase) -> bool {
        !t.properties.is_empty()
            && self.preds.iter().all(|(n, v)| {
                t.properties
                    .iter()
                    .any(|(pn, pv)| (n.is_empty() || pn == n) && (v.is_empty() || pv == v))
            })
    }
}

/// Groups from the lens config (`groups: [{name, selector, collapsed}]`); invalid ones are
/// skipped with a warning.
pub fn groups_from_config(cfg: Option<&Value>) -> (Vec<GroupSelector>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let groups = cfg
        .and_then(|c| c.get("groups"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for g in groups {
        let name = g.get("name").and_then(Value::as_str).unwrap_or_default();
        let sel = g
            .get("selector")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let collapsed = g.get("collapsed").and_then(Value::as_bool).unwrap_or(false);
        match GroupSelector::parse(name, sel, collapsed) {
            Ok(s) => out.push(s),
            Err(e) => warnings.push(format!("group {name:?} ignored: {e}")),
        }
    }
    (out, warnings)
}

/// Everything the lens shows.
#[derive(Debug, Default)]
pub struct JunitView {
    /// Ungrouped tests.
    pub main: Buckets,
    /// Configured groups with their tests.
    pub groups: Vec<(GroupSelector, Buckets)>,
    /// Per-file problems (unreadable, too big, malformed).
    pub errors: Vec<String>,
}

impl JunitView {
    /// Build the view from parsed files (sorted by name like Prow).
    pub fn build(
        mut files: Vec<(String, Result<Vec<TestCase>, String>)>,
        selectors: Vec<GroupSelector>,
    ) -> Self {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut view = JunitView {
            groups: selectors
                .into_iter()
                .map(|s| (s, Buckets::default()))
                .collect(),
            ..Default::default()
        };
        for (file, parsed) in files {
            let cases = match parsed {
                Ok(c) => c,
                Err(e) => {
                    view.errors.push(format!("{file}: {e}"));
                    continue;
                }
            };
            let tests = dedupe(&file, cases);
            if view.groups.is_empty() {
                view.main.classify(tests);
                continue;
            }
            let mut parts: Vec<Vec<TestResult>> = vec![Vec::new(); view.groups.len()];
            let mut default = Vec::new();
            for t in tests {
                match view
                    .groups
                    .iter()
                    .position(|(s, _)| t.runs.first().is_some_and(|r| s.matches(r)))
                {
                    Some(i) => parts[i].push(t),
                    None => default.push(t),
                }
            }
            view.main.classify(default);
            for (i, p) in parts.into_iter().enumerate() {
                view.groups[i].1.classify(p);
            }
        }
        view
    }

    /// Total distinct tests.
    pub fn total(&self) -> usize {
        self.main.num_tests + self.groups.iter().map(|g| g.1.num_tests).sum::<usize>()
    }

    /// Render the lens body.
    pub fn render(&self) -> String {
        let mut out = String::from("<div class=\"junit\">");
        for e in &self.errors {
            out.push_str("<p class=\"lens-error\">Could not read JUnit file ");
            push_esc(&mut out, e);
            out.push_str("</p>");
        }
        if self.total() == 0 {
            out.push_str("<p class=\"muted\">No tests were recorded.</p></div>");
            return out;
        }
        render_buckets(&mut out, &self.main, "Tests ", false);
        for (sel, b) in &self.groups {
            if b.num_tests == 0 {
                continue;
            }
            let _ = write!(
                out,
                "<details class=\"junit-group\"{}><summary><h3>{}</h3></summary>",
                if sel.collapsed { "" } else { " open" },
                esc(&sel.name)
            );
            render_buckets(&mut out, b, "", sel.collapsed);
            out.push_str("</details>");
        }
        out.push_str("</div>");
        out
    }
}

fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs <= 0.0 {
        return "0s".into();
    }
    let s = secs.round() as u64;
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

fn render_buckets(out: &mut String, b: &Buckets, word: &str, collapsed: bool) {
    let n = b.num_tests;
    let sections: [(&str, &Vec<TestResult>, &str, bool); 4] = [
        ("failed", &b.failed, "Failed.", !collapsed),
        ("flaky", &b.flaky, "Flaky.", !collapsed),
        ("passed", &b.passed, "Passed!", false),
        ("skipped", &b.skipped, "Skipped.", false),
    ];
    for (class, tests, verb, open) in sections {
        if tests.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<details class=\"jsection {class}\"{}><summary>{}/{} {word}{verb}</summary><ul class=\"tests\">",
            if open { " open" } else { "" },
            tests.len(),
            n
        );
        for t in tests {
            render_test(out, class, t);
        }
        out.push_str("</ul></details>");
    }
}

fn render_test(out: &mut String, class: &str, t: &TestResult) {
    let Some(first) = t.runs.first() else {
        return;
    };
    let detailed = matches!(class, "failed" | "flaky" | "skipped");
    out.push_str("<li>");
    if !detailed {
        let _ = write!(
            out,
            "<span class=\"tname\">{}</span> <span class=\"dur\">{}</span></li>",
            esc(&first.display_name()),
            duration(first.time)
        );
        return;
    }
    let _ = write!(
        out,
        "<details{}><summary><span class=\"tname\">{}</span> <span class=\"dur\">{}</span></summary>",
        if class == "failed" { " open" } else { "" },
        esc(&first.display_name()),
        duration(first.time)
    );
    let many = t.runs.len() > 1;
    for (i, run) in t.runs.iter().enumerate() {
        if many {
            let st = match run.status() {
                Status::Passed => "Passed",
                Status::Failed => "Failed",
                Status::Skipped => "Skipped",
            };
            let _ = write!(
                out,
                "<div class=\"run\">Run #{i}: {st} <span class=\"dur\">{}</span></div>",
                duration(run.time)
            );
        }
        let text = match run.status() {
            Status::Skipped => run.skipped.clone().unwrap_or_default(),
            _ => run.failure_text(),
        };
        if !text.is_empty() {
            out.push_str("<pre class=\"failure-text\">");
            push_esc(out, &text);
            out.push_str("</pre>");
        }
        for (label, body) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            if !body.trim().is_empty() {
                let _ = write!(out, "<details class=\"io\"><summary>{label}</summary><pre>");
                push_esc(out, body);
                out.push_str("</pre></details>");
            }
        }
    }
    let _ = write!(out, "<div class=\"muted small\">{}</div>", esc(&t.file));
    out.push_str("</details></li>");
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="pkg/a" tests="5">
    <testcase classname="a" name="TestOK" time="1.2"/>
    <testcase classname="a" name="TestBad" time="0.5">
      <failure message="expected 1, got 2">a_test.go:10: expected 1 &lt;&amp;&gt; got 2</failure>
      <system-out><![CDATA[some <output>]]></system-out>
    </testcase>
    <testcase classname="a" name="TestFlake"><failure message="first"/></testcase>
    <testcase classname="a" name="TestFlake"/>
    <testcase classname="a" name="TestSkip"><skipped message="not on linux"/></testcase>
    <testcase classname="a" name="TestErr"><error>boom&#33;</error></testcase>
  </testsuite>
</testsuites>"#;

    #[test]
    fn parses_and_classifies() {
        let cases = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(cases.len(), 6);
        let bad = &cases[1];
        assert_eq!(bad.suite, "pkg/a");
        assert_eq!(
            bad.failure.as_ref().unwrap(),
            &(
                "expected 1, got 2".to_string(),
                "a_test.go:10: expected 1 <&> got 2".to_string()
            )
        );
        assert_eq!(bad.stdout, "some <output>");
        assert_eq!(cases[5].error.as_ref().unwrap().1, "boom!");
        let view = JunitView::build(vec![("junit_01.xml".into(), Ok(cases))], vec![]);
        let b = &view.main;
        assert_eq!(b.num_tests, 5);
        let names =
            |v: &Vec<TestResult>| v.iter().map(|t| t.runs[0].name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&b.failed), ["TestBad", "TestErr"]);
        assert_eq!(names(&b.flaky), ["TestFlake"]);
        assert_eq!(names(&b.passed), ["TestOK"]);
        assert_eq!(names(&b.skipped), ["TestSkip"]);
        let html = view.render();
        assert!(html.contains("2/5 Tests Failed."), "{html}");
        assert!(html.contains("1/5 Tests Flaky."));
        assert!(html.contains("1/5 Tests Passed!"));
        assert!(html.contains("1/5 Tests Skipped."));
        assert!(html.contains("expected 1 &lt;&amp;&gt; got 2"));
        assert!(html.contains("not on linux"));
    }

    #[test]
    fn single_testsuite_root_and_nested_suites() {
        let x = r#"<testsuite name="outer"><testsuite name="inner"><testcase name="t"/></testsuite><testcase name="u"/></testsuite>"#;
        let cases = parse(x.as_bytes()).unwrap();
        assert_eq!(cases[0].suite, "inner");
        assert_eq!(cases[1].suite, "outer");
    }

    #[test]
    fn malformed_inputs_are_errors() {
        for bad in [
            &b"<testsuites><testcase name='x'></testsuite>"[..],
            b"not xml at all",
            b"<html><body/></html>",
            b"\xff\xfe<testsuite/>",
            b"",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let view = JunitView::build(
            vec![("junit_bad.xml".into(), parse(b"<testsuites><x></y>"))],
            vec![],
        );
        let html = view.render();
        assert!(
            html.contains("Could not read JUnit file junit_bad.xml"),
            "{html}"
        );
        assert!(html.contains("No tests were recorded."));
    }

    #[test]
    fn skipped_and_failed_counts_once() {
        let x = r#"<testsuite><testcase name="t"><failure/></testcase><testcase name="t"><skipped/></testcase></testsuite>"#;
        let view = JunitView::build(vec![("j.xml".into(), parse(x.as_bytes()))], vec![]);
        assert_eq!(view.main.num_tests, 1);
        assert_eq!((view.main.failed.len(), view.main.skipped.len()), (1, 1));
    }

    #[test]
    fn groups_by_property_selector() {
        let x = r#"<testsuite>
            <testcase name="slow"><properties><property name="kind" value="e2e"/></properties><failure/></testcase>
            <testcase name="fast"/></testsuite>"#;
        let (sels, warns) = groups_from_config(Some(&serde_json::json!({"groups": [
            {"name": "E2E", "selector": "properties/property[@name='kind' and @value='e2e']", "collapsed": true},
            {"name": "Bad", "selector": "//testcase"}
        ]})));
        assert_eq!(sels.len(), 1);
        assert_eq!(warns.len(), 1);
        let view = JunitView::build(vec![("j.xml".into(), parse(x.as_bytes()))], sels);
        assert_eq!(view.main.passed.len(), 1);
        assert_eq!(view.groups[0].1.failed.len(), 1);
        assert!(view.render().contains("1/1 Failed."));
    }
}
