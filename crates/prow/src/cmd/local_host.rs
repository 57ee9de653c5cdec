//! `prow local`'s `Host` check, against DNS rebinding.
//!
//! A web page on `evil.example` can make its own name resolve to `127.0.0.1` and then read
//! `http://evil.example:8080/` as same-origin: the browser talks to the local Deck but sends
//! `Host: evil.example`. So the local listener answers only to the names it was started for
//! (`localhost`, `127.0.0.1`, `[::1]`, the `--address`, and each `--allowed-host`); any other
//! `Host` gets 421. `POST /hook` is exempt: real GitHub reaches a laptop through a tunnel whose
//! public name is the `Host`, and every delivery is HMAC-signed, so the name adds nothing there.

use std::collections::BTreeSet;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The webhook path, which answers to any `Host` (deliveries are authenticated by signature).
pub const HOOK_PATH: &str = "/hook";

/// The host names the local listener answers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHosts {
    any: bool,
    names: BTreeSet<String>,
}

/// The host part of an authority (`name`, `name:port`, `[v6]`, `[v6]:port`), lowercased,
/// without a trailing dot; `None` when it is not a well-formed authority.
pub fn host_name(authority: &str) -> Option<String> {
    let a = authority.trim();
    let host = if a.starts_with('[') {
        let end = a.find(']')?;
        let rest = &a[end + 1..];
        if !(rest.is_empty() || valid_port(rest.strip_prefix(':')?)) {
            return None;
        }
        &a[..=end]
    } else {
        match a.split_once(':') {
            Some((h, port)) if valid_port(port) => h,
            Some(_) => return None,
            None => a,
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'[' | b']' | b':')
        });
    ok.then_some(host)
}

fn valid_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// A configured name (`--address`, `--allowed-host`) as [`host_name`] would read it from a
/// `Host` header; a bare IPv6 address gets its brackets.
fn configured_name(value: &str) -> Option<String> {
    let v = value.trim();
    if v.contains(':') && !v.starts_with('[') && v.parse::<std::net::Ipv6Addr>().is_ok() {
        return host_name(&format!("[{v}]"));
    }
    host_name(v)
}

impl AllowedHosts {
    /// `localhost`, `127.0.0.1`, `[::1]`, `address`, and `extra` (names, `name:port`; `*`
    /// turns the check off).
    pub fn new(address: &str, extra: &[String]) -> Self {
        let mut names: BTreeSet<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        names.extend(configured_name(address));
        let mut any = false;
        for e in extra {
            if e.trim() == "*" {
                any = true;
            } else {
                names.extend(configured_name(e));
            }
        }
        AllowedHosts { any, names }
    }

    /// Whether a request naming `authority` (its `Host`) may be answered.
    pub fn allows(&self, authority: &str) -> bool {
        self.any || host_name(authority).is_some_and(|h| self.names.contains(&h))
    }

    /// The accepted names, for messages.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

/// Why a request is refused, or `None` to serve it.
pub fn check(
    allowed: &AllowedHosts,
    path: &str,
    host: Option<&str>,
    uri_authority: Option<&str>,
) -> Option<(StatusCode, String)> {
    if path == HOOK_PATH {
        return None;
    }
    if host.is_none() && uri_authority.is_none() {
        return Some((
            StatusCode::BAD_REQUEST,
            "400 Bad Request: missing Host header\n".to_owned(),
        ));
    }
    let refused = [host, uri_authority]
        .into_iter()
        .flatten()
        .find(|h| !allowed.allows(h))?;
    let names: Vec<&str> = allowed.names().collect();
    Some((
        StatusCode::MISDIRECTED_REQUEST,
        format!(
            "421 Misdirected Request: this prow local does not answer to host {refused:?} \
             (it answers to {}). To reach it under that name, restart it with \
             --allowed-host={}; see docs/security.md.\n",
            names.join(", "),
            host_name(refused).unwrap_or_else(|| "<name>".to_owned()),
        ),
    ))
}

/// Middleware refusing requests whose `Host` is not in `allowed` (see the module docs).
pub async fn guard(allowed: std::sync::Arc<AllowedHosts>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let authority = req.uri().authority().map(|a| a.as_str());
    if let Some((status, text)) = check(&allowed, req.uri().path(), host, authority) {
        tracing::debug!(host = ?host, path = %req.uri().path(), "request for a foreign host refused");
        return (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            text,
        )
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_normalized() {
        assert_eq!(host_name("LocalHost:8080").as_deref(), Some("localhost"));
        assert_eq!(host_name("localhost.").as_deref(), Some("localhost"));
        assert_eq!(host_name("[::1]:80").as_deref(), Some("[::1]"));
        assert_eq!(host_name("[::1]").as_deref(), Some("[::1]"));
        assert_eq!(host_name("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_name("a:b"), None);
        assert_eq!(host_name("[::1]x"), None);
        assert_eq!(host_name("::1"), None);
        assert_eq!(host_name(""), None);
        assert_eq!(host_name("a b"), None);
        assert_eq!(host_name("localhost:99999999"), None);
    }

    #[test]
    fn defaults_address_and_flags() {
        let a = AllowedHosts::new("127.0.0.1", &[]);
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "LOCALHOST",
        ] {
            assert!(a.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
            "0.0.0.0:8080",
        ] {
            assert!(!a.allows(bad), "{bad}");
        }
        let a = AllowedHosts::new("192.0.2.10", &["prow.example.com:443".into(), "::2".into()]);
        assert!(a.allows("192.0.2.10:8080"));
        assert!(a.allows("prow.example.com"));
        assert!(a.allows("[::2]:8080"));
        assert!(!a.allows("example.com"));
        assert!(AllowedHosts::new("::1", &[]).allows("[::1]"));
        assert!(AllowedHosts::new("127.0.0.1", &["*".into()]).allows("anything.example"));
    }

    #[test]
    fn hook_is_exempt_and_refusals_explain() {
        let a = AllowedHosts::new("127.0.0.1", &[]);
        assert_eq!(check(&a, "/hook", Some("tunnel.example"), None), None);
        assert_eq!(check(&a, "/", Some("localhost:8080"), None), None);
        let (status, text) = check(&a, "/hook/x", Some("evil.example"), None).unwrap();
        assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
        assert!(text.contains("--allowed-host=evil.example"), "{text}");
        let (status, _) = check(&a, "/", None, None).unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // An absolute-form target names the host too.
        assert!(check(&a, "/", Some("localhost"), Some("evil.example")).is_some());
        assert!(check(&a, "/", None, Some("127.0.0.1:1")).is_none());
    }
}
