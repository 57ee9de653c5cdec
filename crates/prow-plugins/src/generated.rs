//! Which changed files count as generated, for the size plugin: `.generated_files` at the repo
//! root (Prow's `pkg/genfiles`) and `linguist-generated=true` entries in `.gitattributes`
//! (Prow's `pkg/gitattributes`). Parsing and matching are pure; fetching is the caller's job.

use std::collections::BTreeSet;

/// A malformed `.generated_files` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse .generated_files line: {line:?}")]
pub struct GenfilesParseError {
    /// The offending line.
    pub line: String,
}

/// Parsed `.generated_files` (Prow's `genfiles.Group`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedFiles {
    /// Exact paths (from `paths-from-repo` files).
    pub paths: BTreeSet<String>,
    /// Base names (`file-name`, and `path`, which Prow also treats as a base name).
    pub file_names: BTreeSet<String>,
    /// Path prefixes (`prefix`, `path-prefix`).
    pub path_prefixes: BTreeSet<String>,
    /// Base-name prefixes (`file-prefix`).
    pub file_prefixes: BTreeSet<String>,
}

impl GeneratedFiles {
    /// Parses the config file; returns the `paths-from-repo` files to read with
    /// [`GeneratedFiles::load_paths`]. On a bad line, what was parsed before it is kept (as in
    /// Prow, the size plugin then continues with a partial group).
    pub fn load(&mut self, text: &str) -> (Vec<String>, Result<(), GenfilesParseError>) {
        let mut repo_paths = Vec::new();
        for raw in text.lines() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = l.split_whitespace().collect();
            let [kind, value] = fields.as_slice() else {
                return (repo_paths, Err(GenfilesParseError { line: l.to_owned() }));
            };
            let value = (*value).to_owned();
            match *kind {
                "prefix" | "path-prefix" => {
                    self.path_prefixes.insert(value);
                }
                "file-prefix" => {
                    self.file_prefixes.insert(value);
                }
                "file-name" | "path" => {
                    self.file_names.insert(value);
                }
                "paths-from-repo" => repo_paths.push(value),
                _ => return (repo_paths, Err(GenfilesParseError { line: l.to_owned() })),
            }
        }
        (repo_paths, Ok(()))
    }

    /// Adds the paths listed (one per line, `#` comments) in a `paths-from-repo` file.
    pub fn load_paths(&mut self, text: &str) {
        for raw in text.lines() {
            let l = raw.trim();
            if !l.is_empty() && !l.starts_with('#') {
                self.paths.insert(l.to_owned());
            }
        }
    }

    /// Whether `path` is generated.
    pub fn matches(&self, path: &str) -> bool {
        if self.paths.contains(path)
            || self
                .path_prefixes
                .iter()
                .any(|p| path.starts_with(p.as_str()))
        {
            return true;
        }
        let base = base_name(path);
        self.file_names.contains(base)
            || self
                .file_prefixes
                .iter()
                .any(|p| base.starts_with(p.as_str()))
    }
}

/// Go's `filepath.Base` for slash paths.
fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// A `.gitattributes` pattern that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error parsing pattern: {0}")]
pub struct GitattributesError(pub String);

/// A `.gitattributes` path pattern (Prow's subset: no negation, no trailing `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPattern {
    parts: Vec<String>,
    is_path: bool,
}

impl AttrPattern {
    /// Parses one pattern.
    pub fn parse(p: &str) -> Result<AttrPattern, GitattributesError> {
        if p.starts_with('!') {
            return Err(GitattributesError(format!(
                "negative patterns are forbidden: <{p}>"
            )));
        }
        let p = if p.ends_with("\\ ") {
            p
        } else {
            p.trim_end_matches(' ')
        };
        if p.ends_with('/') {
            return Err(GitattributesError(format!(
                "directory patterns are not matched recursively, use path/** instead: <{p}>"
            )));
        }
        Ok(AttrPattern {
            parts: p.split('/').map(str::to_owned).collect(),
            is_path: p.contains('/'),
        })
    }

    /// Whether `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        let elems: Vec<&str> = path.split('/').collect();
        if self.is_path {
            self.path_match(&elems)
        } else {
            let first = self.parts.first().map(String::as_str).unwrap_or_default();
            elems
                .iter()
                .any(|name| go_match(first, name).unwrap_or(false))
        }
    }

    // Mirrors Prow's algorithm, including its quirks (leftover path elements are ignored).
    fn path_match(&self, mut path: &[&str]) -> bool {
        let mut matched = false;
        let mut can_traverse = false;
        for (i, pat) in self.parts.iter().enumerate() {
            if pat.is_empty() {
                can_traverse = false;
                continue;
            }
            if pat == "**" {
                if i == self.parts.len() - 1 {
                    break;
                }
                can_traverse = true;
                continue;
            }
            if pat.contains("**") {
                return false;
            }
            if path.is_empty() {
                return false;
            }
            if can_traverse {
                can_traverse = false;
                while let Some((e, rest)) = path.split_first() {
                    path = rest;
                    match go_match(pat, e) {
                        Err(_) => return false,
                        Ok(true) => {
                            matched = true;
                            break;
                        }
                        Ok(false) if path.is_empty() => matched = false,
                        Ok(false) => {}
                    }
                }
            } else {
                match path.split_first() {
                    Some((e, rest)) if go_match(pat, e).unwrap_or(false) => {
                        matched = true;
                        path = rest;
                    }
                    _ => return false,
                }
            }
        }
        matched
    }
}

/// `linguist-generated=true` patterns of a `.gitattributes` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitAttributes {
    /// Patterns marking generated files.
    pub linguist_generated: Vec<AttrPattern>,
}

impl GitAttributes {
    /// Parses the file; a bad pattern on a `linguist-generated=true` line is an error.
    pub fn parse(text: &str) -> Result<GitAttributes, GitattributesError> {
        let mut out = GitAttributes::default();
        for raw in text.lines() {
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = l.split_whitespace().collect();
            let Some((pattern, attrs)) = fields.split_first() else {
                continue;
            };
            if attrs.is_empty() {
                continue;
            }
            if attrs.contains(&"linguist-generated=true") {
                out.linguist_generated.push(AttrPattern::parse(pattern)?);
            }
        }
        Ok(out)
    }

    /// Whether `path` is marked generated.
    pub fn is_linguist_generated(&self, path: &str) -> bool {
        self.linguist_generated.iter().any(|p| p.matches(path))
    }
}

/// Malformed glob (Go's `filepath.ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

/// Go's `path/filepath.Match` with `/` as separator: `*`, `?`, `[...]` classes (`^` negates,
/// ranges), `\` escapes. A port of Go's chunk algorithm, including its error reporting.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern: Vec<char> = pattern.chars().collect();
    let name_chars: Vec<char> = name.chars().collect();
    let mut name: &[char] = &name_chars;
    'outer: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(&pattern);
        let (chunk, rest) = (chunk.to_vec(), rest.to_vec());
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&'/'));
        }
        let (t, ok) = match_chunk(&chunk, name)?;
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != '/' {
                let (t, ok) = match_chunk(&chunk, &name[i + 1..])?;
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'outer;
                }
                i += 1;
            }
        }
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(&pattern);
            let (chunk, rest) = (chunk.to_vec(), rest.to_vec());
            pattern = rest;
            match_chunk(&chunk, &[])?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Splits off leading stars and the next chunk up to an unbracketed `*`.
fn scan_chunk(p: &[char]) -> (bool, &[char], &[char]) {
    let mut p = p;
    let mut star = false;
    while let Some(('*', rest)) = p.split_first() {
        p = rest;
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' if i + 1 < p.len() => i += 1,
            '[' => in_range = true,
            ']' => in_range = false,
            '*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &p[..i], &p[i..])
}

/// Matches `chunk` at the start of `s`; returns the rest of `s` and whether it matched. Keeps
/// parsing after a mismatch so malformed patterns are always reported.
fn match_chunk<'a>(chunk: &[char], s: &'a [char]) -> Result<(&'a [char], bool), BadPattern> {
    let mut chunk = chunk;
    let mut s = s;
    let mut failed = false;
    while let Some(&c0) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match c0 {
            '[' => {
                let mut r = '\u{0}';
                if !failed {
                    r = s[0];
                    s = &s[1..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk.first() == Some(&'-') {
                        let (h, rest) = get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            '?' => {
                if !failed {
                    if s[0] == '/' {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if c0 == '\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(BadPattern);
                    }
                }
                if !failed {
                    if chunk[0] != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        Ok((&[], false))
    } else {
        Ok((s, true))
    }
}

/// One possibly escaped character of a class.
fn get_esc(chunk: &[char]) -> Result<(char, &[char]), BadPattern> {
    let mut chunk = chunk;
    match chunk.first() {
        None | Some('-') | Some(']') => return Err(BadPattern),
        Some('\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(BadPattern);
            }
        }
        Some(_) => {}
    }
    let r = chunk[0];
    let rest = &chunk[1..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_filepath_match_table() {
        // Cases from Go's path/filepath match_test.go.
        let cases: &[(&str, &str, Result<bool, BadPattern>)] = &[
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*", "abc", Ok(true)),
            ("a*", "ab/c", Ok(false)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("a*b?c*x", "abxbbxdbxebxczzy", Ok(false)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[e-g]", "abc", Ok(false)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abc", Ok(false)),
            ("ab[^e-g]", "abc", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a☺b", Ok(true)),
            ("a[^a]b", "a☺b", Ok(true)),
            ("a???b", "a☺b", Ok(false)),
            ("a[^a][^a][^a]b", "a☺b", Ok(false)),
            ("[a-ζ]*", "α", Ok(true)),
            ("*[a-ζ]", "A", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[\\-]", "-", Ok(true)),
            ("[x\\-]", "x", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[x\\-]", "z", Ok(false)),
            ("[\\-x]", "x", Ok(true)),
            ("[\\-x]", "-", Ok(true)),
            ("[\\-x]", "a", Ok(false)),
            ("[]a]", "]", Err(BadPattern)),
            ("[-]", "-", Err(BadPattern)),
            ("[x-]", "x", Err(BadPattern)),
            ("[x-]", "-", Err(BadPattern)),
            ("[x-]", "z", Err(BadPattern)),
            ("[-x]", "x", Err(BadPattern)),
            ("[-x]", "-", Err(BadPattern)),
            ("[-x]", "a", Err(BadPattern)),
            ("\\", "a", Err(BadPattern)),
            ("[a-b-c]", "a", Err(BadPattern)),
            ("[", "a", Err(BadPattern)),
            ("[^", "a", Err(BadPattern)),
            ("[^bc", "a", Err(BadPattern)),
            ("a[", "a", Err(BadPattern)),
            ("a[", "ab", Err(BadPattern)),
            ("a[", "x", Err(BadPattern)),
            ("a/b[", "x", Err(BadPattern)),
            ("*x", "xxx", Ok(true)),
        ];
        for (pat, name, want) in cases {
            assert_eq!(go_match(pat, name), *want, "Match({pat:?}, {name:?})");
        }
    }

    #[test]
    fn gitattributes_patterns_from_prow_tests() {
        for (pat, path, want) in [
            ("abc.json", "abc.json", true),
            ("abc.json", "a/abc.json", true),
            ("abc.js", "abc.json", false),
            ("*.json", "abc.json", true),
            ("a/*.json", "a/abc.json", true),
            ("*/abc.json", "a/abc.json", true),
            ("*/abc.json", "a/b/abc.json", false),
            ("**/abc.json", "a/b/abc.json", true),
            ("**/abc.js", "a/b/abc.json", false),
            ("a/**", "a/b/abc.json", true),
        ] {
            let p = AttrPattern::parse(pat).expect("valid pattern");
            assert_eq!(p.matches(path), want, "{pat} vs {path}");
        }
        for bad in ["!foo", "dir/"] {
            assert!(AttrPattern::parse(bad).is_err(), "{bad}");
        }
        assert!(AttrPattern::parse("foo\\ ").is_ok());
    }

    #[test]
    fn gitattributes_file() {
        let ga = GitAttributes::parse(
            "# comment\n*.pb.go linguist-generated=true\nzz_generated.* linguist-generated=true -diff\nvendor/** -linguist-generated\nlonely\n",
        )
        .expect("parses");
        assert!(ga.is_linguist_generated("pkg/api/types.pb.go"));
        assert!(ga.is_linguist_generated("zz_generated.deepcopy.go"));
        assert!(!ga.is_linguist_generated("vendor/x.go"));
        assert!(GitAttributes::parse("!x linguist-generated=true").is_err());
    }

    #[test]
    fn genfiles_like_prow() {
        let mut g = GeneratedFiles::default();
        let (repo_paths, r) = g.load(
            "# comment\nprefix api/\npath-prefix docs/gen/\nfile-prefix zz_generated\nfile-name BUILD\npath generated.go\npaths-from-repo docs/.generated_docs\n",
        );
        assert!(r.is_ok());
        assert_eq!(repo_paths, vec!["docs/.generated_docs"]);
        g.load_paths("docs/a.md\n# x\n\ndocs/b.md\n");
        for (path, want) in [
            ("api/v1/types.go", true),
            ("docs/gen/x", true),
            ("pkg/zz_generated.deepcopy.go", true),
            ("pkg/BUILD", true),
            ("pkg/generated.go", true),
            ("docs/a.md", true),
            ("docs/c.md", false),
            ("pkg/main.go", false),
        ] {
            assert_eq!(g.matches(path), want, "{path}");
        }
        let mut partial = GeneratedFiles::default();
        let (_, r) = partial.load("prefix a/\nbogus line here\nprefix b/\n");
        assert!(r.is_err());
        assert!(partial.matches("a/x"));
        assert!(!partial.matches("b/x"));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // Patterns come from repositories: matching must never panic, whatever the input.
        #[test]
        fn go_match_never_panics(p in "[a-z*?\\[\\]\\\\^/-]{0,12}", n in "[a-z/\\-\\]]{0,12}") {
            let _ = go_match(&p, &n);
            if let Ok(ap) = AttrPattern::parse(&p) {
                let _ = ap.matches(&n);
            }
        }

        #[test]
        fn parsers_never_panic(text in "\\PC{0,200}") {
            let _ = GitAttributes::parse(&text);
            let mut g = GeneratedFiles::default();
            let _ = g.load(&text);
            g.load_paths(&text);
        }
    }
}
