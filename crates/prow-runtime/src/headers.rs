//! Browser security headers for every web response (Deck, Spyglass, `prow local`).
//!
//! Two policies:
//! * **Pages** ([`PAGE_CSP`]): scripts, styles and connections only from this origin, no
//!   inline script or style, no plugins, no `<base>` hijack, forms post only here, and no
//!   framing (also `X-Frame-Options: DENY` for old browsers). Added only when the handler did
//!   not set its own header, so a handler can be stricter.
//! * **Raw artifacts** ([`RAW_CSP`]): files a job wrote, served as they are. `sandbox` gives the
//!   document an opaque origin with scripts, forms and popups off, so an HTML artifact cannot
//!   act on Deck's origin (read its pages, post reruns with the user's cookies).
//!
//! Both get `X-Content-Type-Options: nosniff`, so a browser never second-guesses a
//! `text/plain` log into HTML or script.

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of Deck's and Spyglass's pages.
///
/// `img-src` also allows `https:` and `data:` so a configured branding logo or favicon (often
/// on another host) still shows; images cannot run script.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: https:; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

/// The Content-Security-Policy of artifacts served raw (untrusted job output).
pub const RAW_CSP: &str = "sandbox; frame-ancestors 'none'";

fn insert_if_absent(h: &mut HeaderMap, name: header::HeaderName, value: &'static str) {
    if !h.contains_key(&name) {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// Adds the page policy, `nosniff` and `X-Frame-Options: DENY` where the response has none.
pub fn set_page_headers(h: &mut HeaderMap) {
    insert_if_absent(h, header::CONTENT_SECURITY_POLICY, PAGE_CSP);
    insert_if_absent(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    insert_if_absent(h, header::X_FRAME_OPTIONS, "DENY");
}

/// Sets the raw-artifact policy (replacing any page policy), `nosniff` and
/// `X-Frame-Options: DENY`.
pub fn set_raw_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(RAW_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// Whether `path` is `prefix` itself or below it (`/artifacts` matches `/artifacts/x`, not
/// `/artifactsx`).
fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Wraps `router` so every response carries the page headers ([`set_page_headers`]), except
/// paths under one of `raw_prefixes`, which get the raw-artifact headers ([`set_raw_headers`]).
pub fn with_security_headers(router: Router, raw_prefixes: &'static [&'static str]) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| async move {
            let raw = raw_prefixes.iter().any(|p| under(req.uri().path(), p));
            let mut resp: Response = next.run(req).await;
            if raw {
                set_raw_headers(resp.headers_mut());
            } else {
                set_page_headers(resp.headers_mut());
            }
            resp
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_headers_fill_in_but_keep_the_handlers_own() {
        let mut h = HeaderMap::new();
        set_page_headers(&mut h);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], PAGE_CSP);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        let mut own = HeaderMap::new();
        own.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox"),
        );
        set_page_headers(&mut own);
        assert_eq!(own[header::CONTENT_SECURITY_POLICY], "sandbox");
    }

    #[test]
    fn raw_headers_replace_a_page_policy() {
        let mut h = HeaderMap::new();
        set_page_headers(&mut h);
        set_raw_headers(&mut h);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], RAW_CSP);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    #[test]
    fn page_policy_has_the_required_directives() {
        for d in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ] {
            assert!(PAGE_CSP.contains(d), "{d} missing from {PAGE_CSP}");
        }
        assert!(!PAGE_CSP.contains("unsafe-inline"), "{PAGE_CSP}");
        assert!(RAW_CSP.starts_with("sandbox"), "{RAW_CSP}");
    }

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(under("/artifacts", "/artifacts"));
        assert!(under("/artifacts/", "/artifacts"));
        assert!(under("/artifacts/a/b.html", "/artifacts/"));
        assert!(!under("/artifactsx", "/artifacts"));
        assert!(!under("/", "/artifacts"));
    }

    #[tokio::test]
    async fn layer_picks_the_policy_by_path() {
        use axum::routing::get;
        use tower::ServiceExt as _;
        let app = with_security_headers(
            Router::new()
                .route("/page", get(|| async { "p" }))
                .route("/artifacts/{*f}", get(|| async { "<script>x</script>" })),
            &["/artifacts"],
        );
        let get = |uri: &'static str| {
            let app = app.clone();
            async move {
                app.oneshot(Request::get(uri).body(axum::body::Body::empty()).unwrap())
                    .await
                    .unwrap()
            }
        };
        let page = get("/page").await;
        assert_eq!(page.headers()[header::CONTENT_SECURITY_POLICY], PAGE_CSP);
        let raw = get("/artifacts/x.html").await;
        assert_eq!(raw.headers()[header::CONTENT_SECURITY_POLICY], RAW_CSP);
        assert_eq!(raw.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        // Unrouted paths (404s) are covered too.
        let missing = get("/nope").await;
        assert_eq!(missing.headers()[header::X_FRAME_OPTIONS], "DENY");
    }
}
