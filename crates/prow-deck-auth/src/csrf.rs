//! CSRF tokens: HMAC-SHA256 of a per-browser random nonce kept in the `prow-csrf` cookie, keyed
//! by the CSRF key derived from the cookie secret.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine as _;
use hmac::Mac as _;
use rand::RngCore as _;

use crate::{Auth, CSRF_COOKIE};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The browser's nonce, if its cookie holds a well-formed one (64 hex digits).
pub(crate) fn nonce_from(jar: &CookieJar) -> Option<String> {
    let v = jar.get(CSRF_COOKIE)?.value().to_string();
    (v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())).then_some(v)
}

fn mac(key: &[u8; 32], nonce: &str) -> HmacSha256 {
    // A 32-byte key is always accepted by HMAC.
    let mut m = <HmacSha256 as hmac::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(b"prow-deck-auth/csrf/v1\0");
    m.update(nonce.as_bytes());
    m
}

/// The token for `nonce` (URL-safe base64, no padding).
pub(crate) fn token_for(key: &[u8; 32], nonce: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac(key, nonce).finalize().into_bytes())
}

/// Constant-time check of a token sent back by the browser.
pub(crate) fn verify(key: &[u8; 32], nonce: &str, sent: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sent.trim()) else {
        return false;
    };
    mac(key, nonce).verify_slice(&bytes).is_ok()
}

fn new_nonce() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Middleware: give a browser without a nonce one, visible to the handler in this very request.
pub(crate) async fn ensure_nonce(
    State(auth): State<Auth>,
    mut req: Request,
    next: Next,
) -> Response {
    if nonce_from(&CookieJar::from_headers(req.headers())).is_some() {
        return next.run(req).await;
    }
    let secure = auth.cookies_secure(req.headers());
    let nonce = new_nonce();
    if let Ok(v) = http::HeaderValue::from_str(&format!("{CSRF_COOKIE}={nonce}")) {
        req.headers_mut().append(http::header::COOKIE, v);
    }
    let mut resp = next.run(req).await;
    let cookie = Cookie::build((CSRF_COOKIE, nonce))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(30))
        .build();
    if let Ok(v) = http::HeaderValue::from_str(&cookie.to_string()) {
        resp.headers_mut().append(http::header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip_and_refusals() {
        let key = [3u8; 32];
        let n = new_nonce();
        let t = token_for(&key, &n);
        assert!(verify(&key, &n, &t));
        assert!(!verify(&key, &new_nonce(), &t), "other browser's nonce");
        assert!(!verify(&[4u8; 32], &n, &t), "other secret");
        assert!(!verify(&key, &n, "garbage!"));
        assert!(!verify(&key, &n, ""));
    }
}
