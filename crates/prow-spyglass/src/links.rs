//! The `links` lens ("Debugging links"): each matching artifact is either a text file holding
//! one URL (`artifacts/foo-bar.link.txt` → "Foo bar") or a JSON file
//! `{"title": "...", "links": [{"name": "...", "url": "..."}]}`. At most [`BYTES_LIMIT`]
//! bytes of each file are read. `gs://` URLs become gcsweb links via `gcs_browser_prefix`.

use std::fmt::Write as _;

use serde::Deserialize;

use crate::html::esc;

/// Bytes read from each link file (Prow's limit).
pub const BYTES_LIMIT: u64 = 20 * 1024;

/// A link.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Link {
    /// Label.
    #[serde(default)]
    pub name: String,
    /// Target as written.
    #[serde(default)]
    pub url: String,
}

/// A titled group of links (one per file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LinkGroup {
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Links.
    #[serde(default)]
    pub links: Vec<Link>,
}

/// `foo-bar.link.txt` → `Foo bar`.
pub fn human_name(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    let base = base.strip_suffix(".link.txt").unwrap_or(base);
    let base = base.strip_suffix(".txt").unwrap_or(base);
    let mut words: Vec<String> = base.split('-').map(str::to_string).collect();
    if let Some(first) = words.first_mut() {
        let mut c = first.chars();
        if let Some(h) = c.next() {
            *first = h
                .to_uppercase()
                .chain(c.flat_map(char::to_lowercase))
                .collect();
        }
    }
    words.join(" ")
}

/// Parse one link file.
pub fn parse(file: &str, content: &[u8]) -> Result<LinkGroup, String> {
    if file.ends_with(".json") {
        return serde_json::from_slice(content).map_err(|e| e.to_string());
    }
    let url = String::from_utf8_lossy(content).trim().to_string();
    let name = human_name(file);
    Ok(LinkGroup {
        title: name.clone(),
        links: vec![Link { name, url }],
    })
}

/// Where a link points in the browser: `gs://` through gcsweb, http(s) as is, else nothing.
pub fn clickable(url: &str, gcs_browser_prefix: &str) -> Option<String> {
    if let Some(rest) = url.strip_prefix("gs://") {
        return (!gcs_browser_prefix.is_empty()).then(|| format!("{gcs_browser_prefix}{rest}"));
    }
    (url.starts_with("http://") || url.starts_with("https://")).then(|| url.to_string())
}

/// Render the lens body (groups sorted by title like Prow).
pub fn render(mut groups: Vec<LinkGroup>, errors: &[String], gcs_browser_prefix: &str) -> String {
    groups.sort_by(|a, b| a.title.cmp(&b.title));
    let mut out = String::from("<div class=\"links\">");
    for e in errors {
        let _ = write!(out, "<p class=\"lens-error\">{}</p>", esc(e));
    }
    for g in groups {
        let _ = write!(out, "<h4>{}</h4><ul>", esc(&g.title));
        for l in g.links {
            out.push_str("<li>");
            match clickable(&l.url, gcs_browser_prefix) {
                Some(href) => {
                    let _ = write!(
                        out,
                        "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{}</a>",
                        esc(&href),
                        esc(if l.name.is_empty() { &l.url } else { &l.name })
                    );
                }
                None => {
                    let _ = write!(out, "{}: <code>{}</code>", esc(&l.name), esc(&l.url));
                }
            }
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let g = parse(
            "artifacts/cluster-dashboard.link.txt",
            b" https://example.com/d \n",
        )
        .unwrap();
        assert_eq!(g.title, "Cluster dashboard");
        assert_eq!(g.links[0].url, "https://example.com/d");
        let g = parse(
            "artifacts/links.json",
            br#"{"title": "Logs", "links": [{"name": "a", "url": "gs://b/x"}]}"#,
        )
        .unwrap();
        assert_eq!(g.links[0].name, "a");
        assert!(parse("artifacts/l.json", b"{").is_err());
        assert_eq!(human_name("x/GCS-artifacts.txt"), "Gcs artifacts");
    }

    #[test]
    fn renders_safe_links() {
        let groups = vec![
            LinkGroup {
                title: "Z".into(),
                links: vec![Link {
                    name: "js".into(),
                    url: "javascript:alert(1)".into(),
                }],
            },
            LinkGroup {
                title: "A".into(),
                links: vec![Link {
                    name: "bucket".into(),
                    url: "gs://b/x".into(),
                }],
            },
        ];
        let html = render(groups, &[], "https://gcsweb.example.com/gcs/");
        assert!(html.find("<h4>A</h4>") < html.find("<h4>Z</h4>"));
        assert!(html.contains("href=\"https://gcsweb.example.com/gcs/b/x\""));
        assert!(!html.contains("href=\"javascript:"));
    }
}
