//! Webhook intake. Input: the `X-GitHub-Event` value on the first line, optional
//! `Name: value` header lines ending at an empty line, then the body. Unless the input sets
//! `X-Hub-Signature-256`, the body is signed with the target's secret so mutations reach the
//! typed event decoding behind the HMAC check.

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use prow_github::hmac::{HmacSecrets, sign};

/// Signing key the target uses (the fuzzer knows it, as a real sender would).
const SECRET: &str = "fuzz-hmac-secret";

/// Mutation tokens.
pub const DICT: &[&str] = &[
    "issue_comment\n\n",
    "pull_request\n\n",
    "issues\n\n",
    "push\n\n",
    "status\n\n",
    "pull_request_review\n\n",
    "pull_request_review_comment\n\n",
    "X-Hub-Signature-256: sha256=00\n",
    "Content-Type: text/plain\n",
    "X-GitHub-Delivery: \n",
    "\"action\":",
    "\"repository\":{\"full_name\":\"org/repo\",\"name\":\"repo\",\"owner\":{\"login\":\"org\"}}",
    "\"organization\":{\"login\":\"org\"}",
    "\"number\":",
    "\"comment\":{\"body\":\"/lgtm\",\"user\":{\"login\":\"u\"}}",
    "\"pull_request\":{",
    "\"issue\":{",
    "\"ref\":\"refs/heads/main\"",
    "\"commits\":[",
    "\"sha\":",
    "\"labels\":[{\"name\":\"l\"}]",
    "null",
    "true",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "[]",
    "{}",
];

/// Runs one input.
pub fn run(data: &[u8]) {
    let (event_type, headers, body) = split(data);
    let secrets = HmacSecrets::Single(SECRET.to_owned());
    let mut map = HeaderMap::new();
    map.insert(
        "x-github-delivery",
        HeaderValue::from_static("fuzz-delivery"),
    );
    map.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_bytes(event_type) {
        map.insert("x-github-event", v);
    }
    if let Ok(v) = HeaderValue::from_str(&sign(SECRET.as_bytes(), body)) {
        map.insert("x-hub-signature-256", v);
    }
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim_ascii()),
            HeaderValue::from_bytes(value.trim_ascii()),
        ) {
            map.insert(n, v);
        }
    }
    // A non-POST method is checked first; exercise it on a cheap subset of inputs.
    let method = if body.first() == Some(&b'G') {
        Method::GET
    } else {
        Method::POST
    };
    match prow_hook::intake::validate(&method, &map, body, &secrets) {
        Ok(accepted) => {
            let sent = map
                .get("x-github-event")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert_eq!(accepted.event_type, sent.trim(), "event type changed");
            let _ = accepted.event.repo_full_name();
        }
        Err(rejection) => {
            // Bad input is the client's fault: always a 4xx with a reason, never a 5xx.
            assert!(
                rejection.status.is_client_error(),
                "rejection with status {}",
                rejection.status
            );
            assert!(!rejection.message.is_empty(), "rejection without a reason");
        }
    }
    // The decoder alone, for bodies the intake refused before decoding.
    if let Ok(t) = std::str::from_utf8(event_type)
        && let Ok(event) = prow_github::events::parse(t, body)
    {
        let _ = event.repo_full_name();
    }
}

type Headers<'a> = Vec<(&'a [u8], &'a [u8])>;

fn split(data: &[u8]) -> (&[u8], Headers<'_>, &[u8]) {
    let (event_type, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Some(body) = rest.strip_prefix(b"\n") {
        return (event_type, Vec::new(), body);
    }
    // Header block: lines up to the first empty line, each with a ':'; otherwise all body.
    if let Some(end) = rest.windows(2).position(|w| w == b"\n\n") {
        let lines: Vec<&[u8]> = rest[..end].split(|&b| b == b'\n').collect();
        if lines
            .iter()
            .all(|l| l.contains(&b':') && l.first() != Some(&b'{'))
        {
            let headers = lines
                .iter()
                .filter_map(|l| {
                    let i = l.iter().position(|&b| b == b':')?;
                    Some((&l[..i], &l[i + 1..]))
                })
                .collect();
            return (event_type, headers, &rest[end + 2..]);
        }
    }
    (event_type, Vec::new(), rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_reads_event_headers_and_body() {
        let (e, h, b) = split(b"push\nX-A: 1\nX-B:2\n\n{\"x\":1}");
        assert_eq!(e, b"push");
        assert_eq!(h, vec![(&b"X-A"[..], &b" 1"[..]), (&b"X-B"[..], &b"2"[..])]);
        assert_eq!(b, b"{\"x\":1}");
        let (e, h, b) = split(b"push\n\n{}");
        assert_eq!((e, h.len(), b), (&b"push"[..], 0, &b"{}"[..]));
        let (_, h, b) = split(b"push\n{\"a\":\n\n1}");
        assert_eq!((h.len(), b), (0, &b"{\"a\":\n\n1}"[..]));
    }
}
