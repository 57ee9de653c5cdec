//! Request validation, as a pure function of method, headers and body (spec §1.3). Replies
//! match Prow's texts; unlike Prow, a payload that does not decode is refused with 400 and the
//! reason before it is acknowledged, instead of being acknowledged and dropped.

use http::{HeaderMap, Method, StatusCode};
use prow_github::events::{self, Event};
use prow_github::hmac::{self, HmacSecrets};
use serde::Deserialize;

/// The body Prow answers an accepted event with.
pub const ACCEPTED_BODY: &str = "Event received. Have a nice day.";

/// Headers forwarded to external plugins with the raw payload.
pub const FORWARDED_HEADERS: &[&str] = &[
    "X-GitHub-Event",
    "X-GitHub-Delivery",
    "X-Hub-Signature-256",
    "X-Hub-Signature",
    "X-GitHub-Hook-ID",
    "X-GitHub-Hook-Installation-Target-ID",
    "X-GitHub-Hook-Installation-Target-Type",
    "Content-Type",
    "User-Agent",
];

/// An event that passed every check.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// `X-GitHub-Event`.
    pub event_type: String,
    /// `X-GitHub-Delivery`.
    pub delivery_id: String,
    /// The decoded event.
    pub event: Event,
    /// Original headers to forward to external plugins.
    pub headers: Vec<(String, String)>,
}

/// Why a request was refused: the status and the plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status.
    pub status: StatusCode,
    /// Body text (Prow's wording).
    pub message: String,
}

fn reject(status: StatusCode, message: impl Into<String>) -> Rejection {
    Rejection {
        status,
        message: message.into(),
    }
}

/// Just enough of a signed payload to check the matching token applies to its repo/org.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Envelope {
    repository: Option<Named>,
    organization: Option<Named>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Named {
    full_name: Option<String>,
    login: Option<String>,
}

/// What the headers of a webhook request say, checked before any body byte is read.
#[derive(Debug, Clone)]
pub struct Head {
    /// `X-GitHub-Event`.
    pub event_type: String,
    /// `X-GitHub-Delivery`.
    pub delivery_id: String,
    /// `X-Hub-Signature-256`, well formed (`sha256=<hex>`).
    signature: String,
    /// Original headers to forward to external plugins.
    headers: Vec<(String, String)>,
}

/// Checks everything a request's method and headers decide: method, required headers,
/// content type and the signature header's shape. A request failing here is answered without
/// reading its body.
pub fn check_head(method: &Method, headers: &HeaderMap) -> Result<Head, Rejection> {
    if method != Method::POST {
        return Err(reject(
            StatusCode::METHOD_NOT_ALLOWED,
            "405 Method not allowed",
        ));
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim()
    };
    let event_type = header("X-GitHub-Event");
    if event_type.is_empty() {
        return Err(reject(
            StatusCode::BAD_REQUEST,
            "400 Bad Request: Missing X-GitHub-Event Header",
        ));
    }
    let delivery_id = header("X-GitHub-Delivery");
    if delivery_id.is_empty() {
        return Err(reject(
            StatusCode::BAD_REQUEST,
            "400 Bad Request: Missing X-GitHub-Delivery Header",
        ));
    }
    let sig = header("X-Hub-Signature-256");
    if sig.is_empty() {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "403 Forbidden: Missing X-Hub-Signature-256",
        ));
    }
    let content_type = header("content-type");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(reject(
            StatusCode::BAD_REQUEST,
            "400 Bad Request: Hook only accepts content-type: application/json - please reconfigure this hook on GitHub",
        ));
    }
    if signature_malformed(sig) {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "403 Forbidden: Invalid X-Hub-Signature-256 - invalid signature",
        ));
    }
    let forwarded = FORWARDED_HEADERS
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(|v| ((*name).to_owned(), v.to_owned()))
        })
        .collect();
    Ok(Head {
        event_type: event_type.to_owned(),
        delivery_id: delivery_id.to_owned(),
        signature: sig.to_owned(),
        headers: forwarded,
    })
}

/// Checks the body of a request whose head passed [`check_head`]. The signature is checked on
/// the raw bytes against every configured token first, so a body no token signs is refused
/// without being parsed; only then is the payload decoded, and the token that signed it must be
/// one that applies to the payload's repository or organization (Prow's most-specific-key rule).
pub fn check_body(head: Head, body: &[u8], secrets: &HmacSecrets) -> Result<Accepted, Rejection> {
    let signed_by: Vec<&str> = every_token(secrets)
        .into_iter()
        .filter(|token| hmac::verify(token.as_bytes(), body, &head.signature))
        .collect();
    if signed_by.is_empty() {
        // Prow names the payload's org/repo here; we do not read an unsigned payload to find it.
        return Err(reject(
            StatusCode::FORBIDDEN,
            "403 Forbidden: Invalid X-Hub-Signature-256 - misconfigured webhook secret from organization/repo: unknown (an unsigned payload is not read)",
        ));
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        reject(
            StatusCode::BAD_REQUEST,
            format!("400 Bad Request: malformed JSON payload: {e}"),
        )
    })?;
    let repo = envelope
        .repository
        .and_then(|r| r.full_name)
        .filter(|s| !s.is_empty());
    let org = envelope
        .organization
        .and_then(|o| o.login)
        .filter(|s| !s.is_empty());
    let applicable = secrets.tokens_for(repo.as_deref(), org.as_deref());
    if applicable.is_empty() {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "403 Forbidden: Invalid X-Hub-Signature-256 - failed to get an appropriate hmac secret",
        ));
    }
    if !signed_by.iter().any(|t| applicable.contains(t)) {
        let who = repo.or(org).unwrap_or_default();
        return Err(reject(
            StatusCode::FORBIDDEN,
            format!(
                "403 Forbidden: Invalid X-Hub-Signature-256 - misconfigured webhook secret from organization/repo: {who}"
            ),
        ));
    }
    let event = events::parse(&head.event_type, body)
        .map_err(|e| reject(StatusCode::BAD_REQUEST, format!("400 Bad Request: {e}")))?;
    Ok(Accepted {
        event_type: head.event_type,
        delivery_id: head.delivery_id,
        event,
        headers: head.headers,
    })
}

/// Validates a whole webhook request: [`check_head`], then [`check_body`].
pub fn validate(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &HmacSecrets,
) -> Result<Accepted, Rejection> {
    check_body(check_head(method, headers)?, body, secrets)
}

/// Every distinct token of the secret file: the candidates a raw body is checked against
/// before anything in it is trusted.
fn every_token(secrets: &HmacSecrets) -> Vec<&str> {
    let mut tokens: Vec<&str> = match secrets {
        HmacSecrets::Single(t) => vec![t.as_str()],
        HmacSecrets::Map(map) => map.values().flatten().map(|t| t.value.as_str()).collect(),
    };
    tokens.sort_unstable();
    tokens.dedup();
    tokens
}

/// Not `sha256=` followed by an even number of hex digits (what a SHA-256 HMAC can be).
fn signature_malformed(sig: &str) -> bool {
    let Some(hex) = sig.strip_prefix("sha256=") else {
        return true;
    };
    hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn secrets() -> HmacSecrets {
        HmacSecrets::Single("s3cret".into())
    }

    fn signed(event: &str, body: &[u8]) -> HeaderMap {
        let sig = prow_github::hmac::sign(b"s3cret", body);
        headers(&[
            ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", "d-1"),
            ("X-Hub-Signature-256", &sig),
            ("Content-Type", "application/json"),
        ])
    }

    #[test]
    fn rejections_match_prow() {
        let body = br#"{"repository":{"full_name":"o/r"}}"#;
        let s = secrets();
        let e = validate(&Method::GET, &signed("push", body), body, &s).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, "405 Method not allowed")
        );
        let e = validate(&Method::POST, &headers(&[]), body, &s).unwrap_err();
        assert_eq!(e.message, "400 Bad Request: Missing X-GitHub-Event Header");
        let e = validate(
            &Method::POST,
            &headers(&[("X-GitHub-Event", "push")]),
            body,
            &s,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "400 Bad Request: Missing X-GitHub-Delivery Header"
        );
        let h = headers(&[("X-GitHub-Event", "push"), ("X-GitHub-Delivery", "x")]);
        let e = validate(&Method::POST, &h, body, &s).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (
                StatusCode::FORBIDDEN,
                "403 Forbidden: Missing X-Hub-Signature-256"
            )
        );
        let mut h = signed("push", body);
        h.insert(
            "Content-Type",
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        assert_eq!(
            validate(&Method::POST, &h, body, &s).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        let mut h = signed("push", body);
        h.insert(
            "X-Hub-Signature-256",
            prow_github::hmac::sign(b"wrong", body).parse().unwrap(),
        );
        let e = validate(&Method::POST, &h, body, &s).unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        // Prow names the org/repo from the payload; an unsigned payload is not read for it.
        assert!(
            e.message.starts_with(
                "403 Forbidden: Invalid X-Hub-Signature-256 - misconfigured webhook secret from organization/repo: "
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn unsigned_bodies_are_refused_before_they_are_parsed() {
        let s = secrets();
        // Not JSON and not signed: the signature decides (403), not the parser (400).
        for body in [&b"{\"repository\": "[..], b"\xff\xfe garbage", b""] {
            let mut h = signed("push", body);
            h.insert(
                "X-Hub-Signature-256",
                prow_github::hmac::sign(b"wrong", body).parse().unwrap(),
            );
            let e = validate(&Method::POST, &h, body, &s).unwrap_err();
            assert_eq!(e.status, StatusCode::FORBIDDEN, "{}", e.message);
            assert!(!e.message.contains("JSON"), "{}", e.message);
        }
        // A garbled signature header is refused from the headers alone.
        for garbled in ["sha256=zz", "sha256=", "sha256=abc", "sha1=00", "00"] {
            let mut h = signed("push", b"");
            h.insert("X-Hub-Signature-256", garbled.parse().unwrap());
            let e = check_head(&Method::POST, &h).unwrap_err();
            assert_eq!(
                (e.status, e.message.as_str()),
                (
                    StatusCode::FORBIDDEN,
                    "403 Forbidden: Invalid X-Hub-Signature-256 - invalid signature"
                ),
                "{garbled}"
            );
            let e = validate(&Method::POST, &h, b"not json", &s).unwrap_err();
            assert_eq!(e.status, StatusCode::FORBIDDEN, "{garbled}");
        }
    }

    #[test]
    fn map_secrets_check_the_signing_token_applies_to_the_payload() {
        let s = HmacSecrets::parse(
            "org1:\n- value: old\n- value: new\norg1/special:\n- value: repo\norg2:\n- value: two\n",
        )
        .unwrap();
        let send = |token: &[u8], body: &[u8]| {
            let mut h = signed("issue_comment", body);
            h.insert(
                "X-Hub-Signature-256",
                prow_github::hmac::sign(token, body).parse().unwrap(),
            );
            validate(&Method::POST, &h, body, &s)
        };
        let org1 = br#"{"action":"created","repository":{"full_name":"org1/x"}}"#;
        assert!(send(b"old", org1).is_ok());
        assert!(send(b"new", org1).is_ok());
        // Signed, but by a token of another org: Prow's reply, naming the payload's repo.
        let e = send(b"two", org1).unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (
                StatusCode::FORBIDDEN,
                "403 Forbidden: Invalid X-Hub-Signature-256 - misconfigured webhook secret from organization/repo: org1/x"
            )
        );
        // The most specific key wins: the org's tokens do not sign for org1/special.
        let special = br#"{"action":"created","repository":{"full_name":"org1/special"}}"#;
        assert!(send(b"repo", special).is_ok());
        assert_eq!(
            send(b"old", special).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
        // No key applies to org3 and there is no '*'.
        let org3 = br#"{"action":"created","organization":{"login":"org3"}}"#;
        let e = send(b"two", org3).unwrap_err();
        assert_eq!(
            e.message,
            "403 Forbidden: Invalid X-Hub-Signature-256 - failed to get an appropriate hmac secret"
        );
        // Signed by a known token but not JSON: the reason, as before.
        let e = send(b"two", b"{").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(
            e.message.contains("malformed JSON payload"),
            "{}",
            e.message
        );
        // Signed by no token at all.
        assert_eq!(
            send(b"nobody", org1).unwrap_err().status,
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn malformed_json_is_400_with_reason() {
        let body = b"{\"repository\": ";
        let e = validate(&Method::POST, &signed("push", body), body, &secrets()).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("EOF while parsing"), "{}", e.message);
        // Valid JSON, wrong shape for the event type.
        let body = br#"{"number": "seven"}"#;
        let e = validate(
            &Method::POST,
            &signed("pull_request", body),
            body,
            &secrets(),
        )
        .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(
            e.message.contains("failed to parse pull_request event"),
            "{}",
            e.message
        );
    }

    #[test]
    fn accepted_keeps_forward_headers() {
        let body = br#"{"action":"created","repository":{"full_name":"o/r"}}"#;
        let a = validate(
            &Method::POST,
            &signed("issue_comment", body),
            body,
            &secrets(),
        )
        .unwrap();
        assert_eq!(a.delivery_id, "d-1");
        assert!(a.headers.iter().any(|(k, _)| k == "X-Hub-Signature-256"));
    }

    proptest! {
        #[test]
        fn no_input_panics(
            method in prop::sample::select(vec!["GET", "POST", "PUT"]),
            event in "[a-z_]{0,30}",
            body in prop::collection::vec(any::<u8>(), 0..512),
            json_body in "\\{(\"[a-z_]{1,10}\": ?(\\d{1,3}|\"[a-z/]{0,8}\"|\\{\\}|\\[\\]|null),? ?){0,5}\\}",
            sign_it in any::<bool>(),
            use_json in any::<bool>(),
        ) {
            let body = if use_json { json_body.into_bytes() } else { body };
            let sig = if sign_it { prow_github::hmac::sign(b"s3cret", &body) } else { "sha256=00".into() };
            let mut h = HeaderMap::new();
            if let Ok(v) = event.parse() { h.insert("X-GitHub-Event", v); }
            h.insert("X-GitHub-Delivery", "d".parse().unwrap());
            h.insert("X-Hub-Signature-256", sig.parse().unwrap());
            h.insert("Content-Type", "application/json".parse().unwrap());
            let m: Method = method.parse().unwrap();
            let _ = validate(&m, &h, &body, &secrets());
        }
    }
}
