//! Repository path helpers. Prow keys directories by their repo-relative path
//! with the root spelled `""` (GitHub's convention), never `.` or `/`.

/// Cleans a repo-relative path: drops empty and `.` segments so that `./a//b/`
/// and `a/b` compare equal. `..` is kept verbatim; GitHub never sends it.
pub(crate) fn clean(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." {
            continue;
        }
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(seg);
    }
    out
}

/// Parent directory of a cleaned path; the parent of a top-level entry (and
/// of the root) is the root `""`. Always strictly shortens a non-empty path,
/// which keeps every upward walk finite.
pub(crate) fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// `path` relative to its ancestor directory `dir` (both cleaned), as Go's
/// `filepath.Rel` would render it: `.` when they are equal.
pub(crate) fn rel<'a>(dir: &str, path: &'a str) -> &'a str {
    if dir == path {
        return ".";
    }
    if dir.is_empty() {
        return if path.is_empty() { "." } else { path };
    }
    match path.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) {
        Some(r) => r,
        None => path,
    }
}

/// Path of the OWNERS file for an OWNERS directory key, as shown to users.
/// Markdown keys (front-matter owners) are the file itself.
pub(crate) fn owners_file_path(dir: &str, owners_filename: &str) -> String {
    if dir.ends_with(".md") {
        dir.to_owned()
    } else if dir.is_empty() {
        owners_filename.to_owned()
    } else {
        format!("{dir}/{owners_filename}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(clean("./a//b/"), "a/b");
        assert_eq!(clean("."), "");
        assert_eq!(clean("/x"), "x");
        assert_eq!(parent("a/b/c.go"), "a/b");
        assert_eq!(parent("c.go"), "");
        assert_eq!(parent(""), "");
        assert_eq!(rel("", "a/b"), "a/b");
        assert_eq!(rel("", ""), ".");
        assert_eq!(rel("a", "a/b/c"), "b/c");
        assert_eq!(rel("a/b", "a/b"), ".");
        assert_eq!(owners_file_path("", "OWNERS"), "OWNERS");
        assert_eq!(owners_file_path("a/b", "OWNERS"), "a/b/OWNERS");
        assert_eq!(owners_file_path("b/README.md", "OWNERS"), "b/README.md");
    }
}
