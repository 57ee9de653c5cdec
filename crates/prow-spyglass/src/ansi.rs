//! ANSI escape sequences in logs: strip them from the text (so highlight regexes see what a
//! person sees) and keep the SGR colours and bold as style runs to render.

/// A styled run of the stripped text (byte offsets into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StyleRun {
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// Foreground colour 0–15 (`ansi-N` CSS class).
    pub fg: Option<u8>,
    /// Bold.
    pub bold: bool,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Style {
    fg: Option<u8>,
    bold: bool,
}

/// Remove escape sequences from `s`, returning the plain text and the styled runs.
pub fn parse(s: &str) -> (String, Vec<StyleRun>) {
    if !s.contains('\u{1b}') {
        return (s.to_string(), Vec::new());
    }
    let mut out = String::with_capacity(s.len());
    let mut runs = Vec::new();
    let mut style = Style::default();
    let mut run_start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    let flush = |out: &String, style: Style, run_start: &mut usize, runs: &mut Vec<StyleRun>| {
        if style != Style::default() && out.len() > *run_start {
            runs.push(StyleRun {
                start: *run_start,
                end: out.len(),
                fg: style.fg,
                bold: style.bold,
            });
        }
        *run_start = out.len();
    };
    while i < bytes.len() {
        if bytes[i] != 0x1b {
            // Copy up to the next escape in one go (keeps UTF-8 intact).
            let next = s[i..].find('\u{1b}').map_or(s.len(), |p| i + p);
            out.push_str(&s[i..next]);
            i = next;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'[') => {
                // CSI: parameters, then a final byte in 0x40..=0x7e.
                let mut j = i + 2;
                while j < bytes.len() && !(0x40..=0x7e).contains(&bytes[j]) {
                    j += 1;
                }
                if j >= bytes.len() {
                    break;
                }
                if bytes[j] == b'm' {
                    let params = &s[i + 2..j];
                    let mut next = style;
                    apply_sgr(&mut next, params);
                    if next != style {
                        flush(&out, style, &mut run_start, &mut runs);
                        style = next;
                    }
                }
                i = j + 1;
            }
            Some(b']') => {
                // OSC: until BEL or ESC \.
                let mut j = i + 2;
                while j < bytes.len() && bytes[j] != 0x07 && bytes[j] != 0x1b {
                    j += 1;
                }
                i = if j < bytes.len() && bytes[j] == 0x1b {
                    j + 2
                } else {
                    j + 1
                };
            }
            Some(_) => i += 2,
            None => i += 1,
        }
        // Skipped bytes may end inside a multi-byte character; resume at the next one.
        while i < bytes.len() && !s.is_char_boundary(i) {
            i += 1;
        }
    }
    flush(&out, style, &mut run_start, &mut runs);
    (out, runs)
}

fn apply_sgr(style: &mut Style, params: &str) {
    if params.is_empty() {
        *style = Style::default();
        return;
    }
    let mut it = params.split(';').map(|p| p.parse::<u16>().unwrap_or(0));
    while let Some(code) = it.next() {
        match code {
            0 => *style = Style::default(),
            1 => style.bold = true,
            22 => style.bold = false,
            30..=37 => style.fg = Some((code - 30) as u8),
            90..=97 => style.fg = Some((code - 90 + 8) as u8),
            39 => style.fg = None,
            // 256-colour and truecolour forms: skip their arguments.
            38 | 48 => match it.next() {
                Some(5) => {
                    it.next();
                }
                Some(2) => {
                    it.next();
                    it.next();
                    it.next();
                }
                _ => {}
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_and_styles() {
        let (t, r) = parse("plain");
        assert_eq!((t.as_str(), r.len()), ("plain", 0));
        let (t, r) = parse("\u{1b}[31mred\u{1b}[0m and \u{1b}[1;92mbold green\u{1b}[m.");
        assert_eq!(t, "red and bold green.");
        assert_eq!(
            r,
            vec![
                StyleRun {
                    start: 0,
                    end: 3,
                    fg: Some(1),
                    bold: false
                },
                StyleRun {
                    start: 8,
                    end: 18,
                    fg: Some(10),
                    bold: true
                }
            ]
        );
        let (t, _) = parse("a\u{1b}[2Kb\u{1b}]0;title\u{7}c\u{1b}[38;5;200md");
        assert_eq!(t, "abcd");
        // Truncated sequences never panic.
        for s in [
            "\u{1b}",
            "x\u{1b}[",
            "\u{1b}[31",
            "\u{1b}]abc",
            "é\u{1b}[1mé",
        ] {
            let _ = parse(s);
        }
    }
}
