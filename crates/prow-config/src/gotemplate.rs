//! A pre-check for Go template text (`plank.job_url_template`, report templates, Tide's merge
//! templates) before it reaches the `gtmpl` engine, whose lexer has two input-driven faults:
//! it steps back one byte after reading past the end of the input, so an action left open at
//! the end lexes forever while queueing tokens without bound; and it steps back one byte over
//! multi-byte characters (inside actions, and before a `{{- ` trim marker), panicking on its
//! own thread. Both are refused here with the error Go
//! would give (`unclosed action`) or a clear one for non-ASCII text inside an action, which
//! Prow's job URL and report templates never need outside quoted strings.

/// Checks that every action (`{{ ... }}`) is closed and has no non-ASCII character outside
/// quoted strings, raw strings, character constants and comments, and that the text trimmed
/// by a `{{- ` marker does not end in a non-ASCII character.
pub fn check_template_text(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(open) = find(bytes, i, b"{{") {
        let before = &text[i..open];
        i = open + 2;
        let line = || text[..open].matches('\n').count() + 1;
        if bytes.get(i) == Some(&b'-') && bytes.get(i + 1).is_some_and(u8::is_ascii_whitespace) {
            if let Some(c) = before.trim_end().chars().last().filter(|c| !c.is_ascii()) {
                return Err(format!(
                    "template: {}: unsupported character {c:?} before a trim marker '{{{{- '",
                    line()
                ));
            }
            i += 2;
        }
        if bytes[i..].starts_with(b"/*") {
            // Comments may hold anything; the engine finds their end by search.
            match find(bytes, i + 2, b"*/") {
                Some(end) => i = end + 2,
                None => return Err(format!("template: {}: unclosed comment", line())),
            }
        }
        loop {
            let Some(&b) = bytes.get(i) else {
                return Err(format!("template: {}: unclosed action", line()));
            };
            match b {
                b'}' if bytes.get(i + 1) == Some(&b'}') => {
                    i += 2;
                    break;
                }
                b'"' | b'\'' | b'`' => {
                    // Quoted text: skip to the closing quote (backslash escapes, except in raw
                    // strings); the engine reads these forward only.
                    let mut j = i + 1;
                    loop {
                        match bytes.get(j) {
                            None => return Err(format!("template: {}: unclosed action", line())),
                            Some(b'\\') if b != b'`' => j += 2,
                            Some(&c) if c == b => break,
                            Some(_) => j += 1,
                        }
                    }
                    i = j + 1;
                }
                _ if !b.is_ascii() => {
                    let c = text[i..].chars().next().unwrap_or_default();
                    return Err(format!(
                        "template: {}: unsupported character {c:?} in action (only ASCII outside quoted strings)",
                        line()
                    ));
                }
                _ => i += 1,
            }
        }
    }
    Ok(())
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
}
