//! Pure URL helpers: path-segment escaping, `Link` header parsing and metric path templates.

/// Percent-encodes one path segment (a label name, a login): everything but RFC 3986
/// unreserved characters, so `do-not-merge/hold` stays one segment.
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a slash-separated path (a file path, `heads/main`) segment by segment.
pub(crate) fn encode_path(p: &str) -> String {
    p.split('/')
        .map(encode_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// The `rel="next"` target of a `Link` header, if any.
pub(crate) fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let part = part.trim();
        let url = part.strip_prefix('<')?.split_once('>')?;
        let is_next = url.1.split(';').any(|param| {
            let param = param.trim();
            param
                .strip_prefix("rel=")
                .map(|v| v.trim_matches('"').split_whitespace().any(|r| r == "next"))
                .unwrap_or(false)
        });
        is_next.then_some(url.0)
    })
}

/// Turns a `next` link into a path relative to our endpoints. GitHub builds links from its own
/// host (also when we talk to it through ghproxy), and under GitHub Enterprise they carry the
/// `/api/v3` prefix our endpoints already include, so we keep only the path and query and strip
/// the longest endpoint base path that prefixes it.
pub(crate) fn next_page_path(link: &str, endpoint_base_paths: &[String]) -> Option<String> {
    let url = reqwest::Url::parse(link).ok()?;
    let mut path = url.path().to_string();
    let prefix = endpoint_base_paths
        .iter()
        .filter(|p| !p.is_empty() && p.as_str() != "/")
        .filter(|p| {
            path.strip_prefix(p.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|p| p.len());
    if let Some(prefix) = prefix {
        path = path[prefix.len()..].to_string();
    }
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    Some(path)
}

/// The path part of an endpoint URL without trailing slash (`/api/v3`, or empty).
pub(crate) fn base_path(endpoint: &str) -> String {
    reqwest::Url::parse(endpoint)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// Appends `key=value` to a path that may already carry a query.
pub(crate) fn with_query(path: &str, key: &str, value: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{key}={}", encode_segment(value))
}

/// A metric-friendly template of a REST path, for requests whose route is not known statically
/// (the generic [`Client::request_json`](super::Client::request_json)): owner, repo, org and user
/// names and every number or SHA-like segment are collapsed, bounding label cardinality.
pub(crate) fn template_path(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = Vec::with_capacity(segs.len());
    let mut i = 0;
    while i < segs.len() {
        let seg = segs[i];
        match (seg, out.len()) {
            ("repos", 0) => {
                out.push("repos".to_string());
                if i + 1 < segs.len() {
                    out.push(":owner".into());
                }
                if i + 2 < segs.len() {
                    out.push(":repo".into());
                }
                i += 3;
                continue;
            }
            ("orgs", 0) | ("users", 0) => {
                out.push(seg.to_string());
                if i + 1 < segs.len() {
                    out.push(
                        if seg == "orgs" {
                            ":orgname"
                        } else {
                            ":username"
                        }
                        .into(),
                    );
                }
                i += 2;
                continue;
            }
            _ => {}
        }
        let prev = out.last().map(String::as_str);
        let collapse = seg.bytes().all(|b| b.is_ascii_digit())
            || (seg.len() >= 7 && seg.bytes().all(|b| b.is_ascii_hexdigit()))
            // Free-form names after these collections.
            || matches!(prev, Some("labels" | "collaborators" | "members" | "contents" | "teams" | "refs" | "heads" | "branches"));
        out.push(if collapse {
            ":id".to_string()
        } else {
            seg.to_string()
        });
        i += 1;
    }
    format!("/{}", out.join("/"))
}

/// Whether `path` (possibly under an endpoint prefix) is `…/orgs/{org}/members/{user}`, where
/// GitHub answers 302 to say "not a visible member" and the redirect must not be followed.
pub(crate) fn is_membership_check(path: &str) -> bool {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let n = segs.len();
    n >= 4 && segs[n - 4] == "orgs" && segs[n - 2] == "members"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_and_path_encoding() {
        assert_eq!(encode_segment("lgtm"), "lgtm");
        assert_eq!(encode_segment("do-not-merge/hold"), "do-not-merge%2Fhold");
        assert_eq!(encode_segment("kind/bug fix"), "kind%2Fbug%20fix");
        assert_eq!(encode_segment("ü"), "%C3%BC");
        assert_eq!(encode_path("docs/my file.md"), "docs/my%20file.md");
        assert_eq!(encode_path("heads/release-1.0"), "heads/release-1.0");
        assert_eq!(encode_path(""), "");
    }

    #[test]
    fn link_header_next() {
        let h = r#"<https://api.github.com/repositories/1000/issues?per_page=3&page=2>; rel="next", <https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last""#;
        assert_eq!(
            next_link(h),
            Some("https://api.github.com/repositories/1000/issues?per_page=3&page=2")
        );
        let last = r#"<https://x/a?page=1>; rel="first", <https://x/a?page=4>; rel="prev""#;
        assert_eq!(next_link(last), None);
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("garbage, <unterminated"), None);
        assert_eq!(
            next_link(r#"<https://x/b>; rel="next last""#),
            Some("https://x/b")
        );
    }

    #[test]
    fn next_page_path_strips_enterprise_prefix() {
        let bases = vec![String::new(), "/api/v3".to_string()];
        assert_eq!(
            next_page_path(
                "https://api.github.com/repositories/1/issues?page=2",
                &bases
            )
            .as_deref(),
            Some("/repositories/1/issues?page=2")
        );
        assert_eq!(
            next_page_path(
                "https://ghe.example.com/api/v3/repositories/1/pulls?page=3",
                &bases
            )
            .as_deref(),
            Some("/repositories/1/pulls?page=3")
        );
        // A prefix must end at a segment boundary.
        assert_eq!(
            next_page_path("https://h/api/v3x/a", &bases).as_deref(),
            Some("/api/v3x/a")
        );
        assert_eq!(next_page_path("not a url", &bases), None);
    }

    #[test]
    fn query_append() {
        assert_eq!(with_query("/a", "per_page", "100"), "/a?per_page=100");
        assert_eq!(
            with_query("/a?state=open", "per_page", "100"),
            "/a?state=open&per_page=100"
        );
        assert_eq!(
            with_query("/c", "ref", "refs/pull/1/head"),
            "/c?ref=refs%2Fpull%2F1%2Fhead"
        );
    }

    #[test]
    fn templates_collapse_names_and_ids() {
        assert_eq!(
            template_path("/repos/o/r/issues/12/labels/lgtm"),
            "/repos/:owner/:repo/issues/:id/labels/:id"
        );
        assert_eq!(
            template_path("/repos/o/r/statuses/0000000000000000000000000000000000000001"),
            "/repos/:owner/:repo/statuses/:id"
        );
        assert_eq!(
            template_path("/orgs/kubernetes/members/alice"),
            "/orgs/:orgname/members/:id"
        );
        assert_eq!(template_path("/user"), "/user");
        assert_eq!(template_path("/repos/o"), "/repos/:owner");
        assert_eq!(template_path("/"), "/");
        assert_eq!(
            template_path("/repositories/1000/issues?page=2"),
            "/repositories/:id/issues"
        );
    }

    #[test]
    fn membership_paths() {
        assert!(is_membership_check("/orgs/k8s/members/alice"));
        assert!(is_membership_check("/api/v3/orgs/k8s/members/alice"));
        assert!(!is_membership_check("/orgs/k8s/members"));
        assert!(!is_membership_check("/orgs/k8s/public_members/alice"));
        assert!(!is_membership_check("/repos/o/r/collaborators/alice"));
    }
}
