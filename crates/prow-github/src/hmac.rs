//! Webhook signatures (`X-Hub-Signature-256: sha256=<hex>`) and Prow's HMAC secret file format
//! (spec §1.3): either one raw token, or a YAML map from `*`, `org` or `org/repo` to a list of
//! `{value, created_at}` tokens, any of which validates (rotation).

use hmac::{KeyInit, Mac};
use serde::Deserialize;
use std::collections::BTreeMap;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// `sha256=<hex>` for `body` under `key`.
pub fn sign(key: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Constant-time check of an `X-Hub-Signature-256` header value against one key.
pub fn verify(key: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// One token of the map form. `Debug` never shows the value.
#[derive(Clone, Deserialize, PartialEq, Eq)]
pub struct HmacToken {
    /// The shared secret.
    pub value: String,
    /// When it was created (informational; rotation keeps old ones valid until removed).
    #[serde(default)]
    pub created_at: Option<String>,
}

/// The parsed HMAC secret file. `Debug` shows the keys and dates, never a token.
#[derive(Clone, PartialEq, Eq)]
pub enum HmacSecrets {
    /// One token for every repository.
    Single(String),
    /// `*` / `org` / `org/repo` → tokens.
    Map(BTreeMap<String, Vec<HmacToken>>),
}

/// Stands in for a secret in `Debug` output.
struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Debug for HmacToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacToken")
            .field("value", &Redacted)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl std::fmt::Debug for HmacSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HmacSecrets::Single(_) => f.debug_tuple("Single").field(&Redacted).finish(),
            HmacSecrets::Map(map) => f.debug_tuple("Map").field(map).finish(),
        }
    }
}

impl HmacSecrets {
    /// Parses the file contents. Like Prow, content that is a YAML map of lists is the map form;
    /// anything else is one raw token (trailing newline trimmed).
    pub fn parse(contents: &str) -> Result<Self, String> {
        if let Ok(map) = serde_saphyr::from_str::<BTreeMap<String, Vec<HmacToken>>>(contents)
            && !map.is_empty()
        {
            return Ok(HmacSecrets::Map(map));
        }
        let token = contents.trim_end_matches(['\n', '\r']);
        if token.is_empty() {
            return Err("HMAC secret file is empty".into());
        }
        Ok(HmacSecrets::Single(token.to_owned()))
    }

    /// The tokens that may sign an event of `repo_full_name` (`org/repo`) or, without a
    /// repository, of `org`: the most specific key present wins.
    pub fn tokens_for(&self, repo_full_name: Option<&str>, org: Option<&str>) -> Vec<&str> {
        match self {
            HmacSecrets::Single(t) => vec![t.as_str()],
            HmacSecrets::Map(map) => {
                let org = org.or_else(|| repo_full_name.and_then(|r| r.split('/').next()));
                let keys = [repo_full_name, org, Some("*")];
                for key in keys.into_iter().flatten() {
                    if let Some(tokens) = map.get(key) {
                        return tokens.iter().map(|t| t.value.as_str()).collect();
                    }
                }
                Vec::new()
            }
        }
    }

    /// Whether `header` is a valid signature of `body` for the event's repository/org.
    pub fn validate(
        &self,
        body: &[u8],
        header: &str,
        repo_full_name: Option<&str>,
        org: Option<&str>,
    ) -> bool {
        self.tokens_for(repo_full_name, org)
            .into_iter()
            .any(|t| verify(t.as_bytes(), body, header))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_token() {
        let single = HmacSecrets::Single("single-hmac-value".into());
        let map = HmacSecrets::parse(
            "'*':\n- value: star-hmac-value\n  created_at: 2020-01-01T00:00:00Z\norg1/repo:\n- value: repo-hmac-value\n",
        )
        .unwrap();
        for (shown, secret) in [
            (format!("{single:?}"), "single-hmac-value"),
            (format!("{map:?}"), "star-hmac-value"),
            (format!("{map:#?}"), "repo-hmac-value"),
            (
                format!(
                    "{:?}",
                    HmacToken {
                        value: "token-value".into(),
                        created_at: None
                    }
                ),
                "token-value",
            ),
        ] {
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
        // What is not secret stays visible for debugging.
        assert!(format!("{map:?}").contains("org1/repo"));
        assert!(format!("{map:?}").contains("2020-01-01T00:00:00Z"));
    }

    #[test]
    fn sign_and_verify() {
        let sig = sign(b"secret", b"{}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify(b"secret", b"{}", &sig));
        assert!(!verify(b"other", b"{}", &sig));
        assert!(!verify(b"secret", b"{ }", &sig));
        assert!(!verify(b"secret", b"{}", "sha1=abc"));
        assert!(!verify(b"secret", b"{}", "sha256=zz"));
    }

    #[test]
    fn map_form_picks_most_specific_and_accepts_rotation() {
        let s = HmacSecrets::parse(
            "'*':\n- value: global\n  created_at: 2020-01-01T00:00:00Z\norg1:\n- value: old\n- value: new\norg1/special:\n- value: repo\n",
        )
        .unwrap();
        assert_eq!(s.tokens_for(Some("org1/special"), None), vec!["repo"]);
        assert_eq!(s.tokens_for(Some("org1/other"), None), vec!["old", "new"]);
        assert_eq!(s.tokens_for(Some("org2/x"), None), vec!["global"]);
        assert_eq!(s.tokens_for(None, Some("org1")), vec!["old", "new"]);
        let body = b"payload";
        assert!(s.validate(body, &sign(b"old", body), Some("org1/x"), None));
        assert!(s.validate(body, &sign(b"new", body), Some("org1/x"), None));
        assert!(!s.validate(body, &sign(b"global", body), Some("org1/x"), None));
    }

    #[test]
    fn single_token_form() {
        assert_eq!(
            HmacSecrets::parse("abc123\n").unwrap(),
            HmacSecrets::Single("abc123".into())
        );
        assert!(HmacSecrets::parse("\n").is_err());
    }
}
