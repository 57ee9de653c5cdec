//! Request validation, as a pure function of method, headers and body (spec §1.3). Replies
//! match Prow's texts; unlike Prow, a payload that does not decode is refused with 400 and the
//! reason before it is acknowledged, instead of being acknowledged and dropped.

use http::{HeaderMap, Method, StatusCode};
use prow_github::events::{self, Event};
use prow_github::hmac::HmacSecrets;
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

/// Just enough of any payload to pick the HMAC token.
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

/// Validates a webhook request: method, required headers, content type, JSON, HMAC signature,
/// and typed decoding of the payload.
pub fn validate(
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &HmacSecrets,
) -> Result<Accepted, Rejection> {
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
    if !sig.starts_with("sha256=") || hex_part_invalid(sig) {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "403 Forbidden: Invalid X-Hub-Signature-256 - invalid signature",
        ));
    }
    if secrets
        .tokens_for(repo.as_deref(), org.as_deref())
        .is_empty()
    {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "403 Forbidden: Invalid X-Hub-Signature-256 - failed to get an appropriate hmac secret",
        ));
    }
    if !secrets.validate(body, sig, repo.as_deref(), org.as_deref()) {
        let who = repo.or(org).unwrap_or_default();
        return Err(reject(
            StatusCode::FORBIDDEN,
            format!(
                "403 Forbidden: Invalid X-Hub-Signature-256 - misconfigured webhook secret from organization/repo: {who}"
            ),
        ));
    }
    let event = events::parse(event_type, body)
        .map_err(|e| reject(StatusCode::BAD_REQUEST, format!("400 Bad Request: {e}")))?;
    let forwarded = FORWARDED_HEADERS
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(|v| ((*name).to_owned(), v.to_owned()))
        })
        .collect();
    Ok(Accepted {
        event_type: event_type.to_owned(),
        delivery_id: delivery_id.to_owned(),
        event,
        headers: forwarded,
    })
}

fn hex_part_invalid(sig: &str) -> bool {
    let hex = &sig["sha256=".len()..];
    hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit())
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
        assert!(
            e.message
                .ends_with("misconfigured webhook secret from organization/repo: o/r"),
            "{}",
            e.message
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
