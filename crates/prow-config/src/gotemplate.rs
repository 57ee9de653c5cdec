//! A pre-check for Go template text (`plank.job_url_template`, report templates, Tide's merge
//! templates) before it reaches the `gtmpl` engine, which has input-driven faults:
//!
//! - its lexer steps back one byte after reading past the end of the input, so an action left
//!   open at the end lexes forever while queueing tokens without bound;
//! - it steps back one byte over multi-byte characters (inside actions, and before a `{{- `
//!   trim marker) and panics on its own thread;
//! - it has no limit on template recursion (Go stops at a depth of 100 000), so
//!   `{{template ""}}` or `define`s calling each other overflow the stack and abort the
//!   process; its parser also recurses on nesting.
//!
//! All are refused here, with Go's wording where Go has an error (`unclosed action`), before
//! the text reaches the engine. Prow's templates never need non-ASCII outside quoted strings
//! inside an action, recursive templates, or nesting deeper than [`MAX_NESTING`].

use std::collections::{BTreeMap, BTreeSet};

/// Deepest nesting of blocks (`if`/`range`/`with`/`define`/`block`) or of parentheses.
pub const MAX_NESTING: usize = 64;

/// Checks that every action (`{{ ... }}`) is closed and has no non-ASCII character outside
/// quoted strings, raw strings, character constants and comments; that the text trimmed by a
/// `{{- ` marker does not end in a non-ASCII character; that blocks and parentheses nest at most
/// [`MAX_NESTING`] deep; and that no template can call itself, directly or not.
pub fn check_template_text(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    // Open blocks: `Some(name)` for `define`/`block`, `None` for `if`/`range`/`with`.
    let mut blocks: Vec<Option<String>> = Vec::new();
    // Template name -> templates it calls; "" is the top level.
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    while let Some(open) = find(bytes, i, b"{{") {
        let before = &text[i..open];
        i = open + 2;
        let line = text[..open].matches('\n').count() + 1;
        let err = |what: &str| Err(format!("template: {line}: {what}"));
        if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace) {
            if let Some(c) = before.trim_end().chars().last().filter(|c| !c.is_ascii()) {
                return err(&format!(
                    "unsupported character {c:?} before a trim marker '{{{{- '"
                ));
            }
            i += 2;
        }
        if bytes[i..].starts_with(b"/*") {
            // Comments may hold anything; the engine finds their end by search.
            match find(bytes, i + 2, b"*/") {
                Some(end) => i = end + 2,
                None => return err("unclosed comment"),
            }
        }
        let start = i;
        let mut parens = 0usize;
        loop {
            let Some(&b) = bytes.get(i) else {
                return err("unclosed action");
            };
            match b {
                b'}' if bytes.get(i + 1) == Some(&b'}') => break,
                b'"' | b'\'' | b'`' => {
                    // Quoted text: skip to the closing quote (backslash escapes, except in raw
                    // strings); the engine reads these forward only.
                    let mut j = i + 1;
                    loop {
                        match bytes.get(j) {
                            None => return err("unclosed action"),
                            Some(b'\\') if b != b'`' => j += 2,
                            Some(&c) if c == b => break,
                            Some(_) => j += 1,
                        }
                    }
                    i = j + 1;
                }
                b'(' => {
                    parens += 1;
                    if parens > MAX_NESTING {
                        return err("parentheses nested too deeply");
                    }
                    i += 1;
                }
                b')' => {
                    parens = parens.saturating_sub(1);
                    i += 1;
                }
                _ if !b.is_ascii() => {
                    let c = text[i..].chars().next().unwrap_or_default();
                    return err(&format!(
                        "unsupported character {c:?} in action (only ASCII outside quoted strings)"
                    ));
                }
                _ => i += 1,
            }
        }
        let action = text[start..i].trim().trim_end_matches('-').trim();
        i += 2;
        let (word, rest) = action
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((action, ""));
        let current = || {
            blocks
                .iter()
                .rev()
                .find_map(|b| b.clone())
                .unwrap_or_default()
        };
        match word {
            "if" | "range" | "with" | "define" | "block" => {
                let name = matches!(word, "define" | "block").then(|| literal(rest));
                if word == "block" {
                    let from = current();
                    calls.entry(from).or_default().insert(literal(rest));
                }
                blocks.push(name);
                if blocks.len() > MAX_NESTING {
                    return err("blocks nested too deeply");
                }
            }
            "end" => {
                blocks.pop();
            }
            "template" => {
                let from = current();
                calls.entry(from).or_default().insert(literal(rest));
            }
            _ => {}
        }
    }
    if let Some(cycle) = find_cycle(&calls) {
        return Err(format!(
            "template: recursive template call: {}",
            cycle
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(" -> ")
        ));
    }
    Ok(())
}

/// The string literal a `define`/`template`/`block` action starts with (its name).
fn literal(rest: &str) -> String {
    let rest = rest.trim_start();
    let Some(q) = rest.chars().next().filter(|c| matches!(c, '"' | '`')) else {
        return String::new();
    };
    let body = &rest[1..];
    let end = body.find(q).unwrap_or(body.len());
    body[..end].to_owned()
}

/// A call path that comes back to one of its templates, if any.
fn find_cycle(calls: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        calls: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node.to_owned()) {
            return None;
        }
        path.push(node.to_owned());
        for next in calls.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, calls, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    calls
        .keys()
        .find_map(|start| visit(start, calls, &mut Vec::new(), &mut done))
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_templates() {
        for ok in [
            "",
            "plain text é",
            "https://x/view/{{.Spec.Job}}/{{.Status.BuildID}}",
            "{{- if .Spec.Refs -}}{{ (index .Spec.Refs.Pulls 0).Number }}{{end}}",
            r#"{{"}}" }}{{'}'}}{{`}}é`}}{{"\"é"}}"#,
            "{{/* é }} */}}{{- /* c */ -}}",
            "é {{ .X -}} é",
            r#"{{define "a"}}x{{end}}{{define "b"}}{{template "a"}}{{end}}{{template "b" .}}"#,
            r#"{{block "c" .}}{{if .X}}{{template "d"}}{{end}}{{end}}{{define "d"}}y{{end}}"#,
        ] {
            assert_eq!(check_template_text(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn refuses_open_actions_and_non_ascii_in_actions() {
        for (bad, why) in [
            ("{{x ", "unclosed action"),
            ("a\n{{.Spec.Job}}{{ ", "2: unclosed action"),
            ("{{\"abc}}", "unclosed action"),
            ("{{`abc}}", "unclosed action"),
            ("{{\"a\\", "unclosed action"),
            ("{{/* x }}", "unclosed comment"),
            ("{{.Spéc}}", "unsupported character 'é'"),
            ("{{ \u{a0}}}", "unsupported character"),
            ("{{.Spec.Job}}{{", "unclosed action"),
            (
                "é \n{{- .X}}",
                "unsupported character 'é' before a trim marker",
            ),
        ] {
            let err = check_template_text(bad).expect_err(bad);
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn refuses_recursion_and_deep_nesting() {
        let deep_blocks = "{{if 1}}".repeat(MAX_NESTING + 1);
        let deep_parens = format!(
            "{{{{{}1{}}}}}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        for (bad, why) in [
            (r#"{{template ""}}"#, r#"recursive template call: "" -> """#),
            (
                r#"{{define "a"}}{{template "b"}}{{end}}{{define "b"}}{{if 1}}{{template "a"}}{{end}}{{end}}"#,
                r#""a" -> "b" -> "a""#,
            ),
            (
                r#"{{block "x" .}}{{template "x"}}{{end}}"#,
                "recursive template call",
            ),
            (deep_blocks.as_str(), "blocks nested too deeply"),
            (deep_parens.as_str(), "parentheses nested too deeply"),
        ] {
            let err = check_template_text(bad).expect_err(bad);
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        let ok_depth = "{{if 1}}".repeat(MAX_NESTING) + &"{{end}}".repeat(MAX_NESTING);
        assert_eq!(check_template_text(&ok_depth), Ok(()));
    }
}
