//! Credentials for the providers, read the way Prow reads them: `--gcs-credentials-file` (a
//! Google service-account or authorized-user JSON, mounted from the `service-account.json` key
//! of a secret at `/secrets/gcs`) and `--s3-credentials-file` (Prow's own JSON shape, mounted at
//! `/secrets/s3-storage`), plus a snapshot of the environment for the providers' defaults
//! (`AWS_*`, `STORAGE_EMULATOR_HOST`, `GOOGLE_APPLICATION_CREDENTIALS`, `GCE_METADATA_HOST`).
//!
//! The environment is captured once by the binary ([`Env::from_process`]) and handed down, so
//! library code and tests never read process-global state.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};

/// Prow's S3 credentials file (`providers.S3Credentials`). Every field is optional; with no
/// keys the AWS default chain applies (environment, web identity, container and instance
/// credentials).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Credentials {
    /// AWS region (`auto` for Cloudflare R2); the SDK default when empty.
    #[serde(default)]
    pub region: String,
    /// Custom endpoint (MinIO, R2...); AWS when empty.
    #[serde(default)]
    pub endpoint: String,
    /// Skip TLS certificate verification.
    #[serde(default)]
    pub insecure: bool,
    /// Path-style requests (`endpoint/bucket/key`) instead of virtual-hosted ones.
    #[serde(default)]
    pub s3_force_path_style: bool,
    /// Access key id.
    #[serde(default)]
    pub access_key: String,
    /// Secret access key.
    #[serde(default)]
    pub secret_key: String,
    /// Session token for temporary credentials.
    #[serde(default)]
    pub session_token: String,
}

impl S3Credentials {
    /// Parse the JSON of an S3 credentials file.
    pub fn from_json(data: &[u8]) -> Result<Self> {
        serde_json::from_slice(data).map_err(|e| {
            StorageError::Credentials(format!("error getting S3 credentials from JSON: {e}"))
        })
    }

    /// Read and parse an S3 credentials file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let data = std::fs::read(path).map_err(|e| StorageError::io("read", path.display(), e))?;
        S3Credentials::from_json(&data)
    }
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Credentials")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("insecure", &self.insecure)
            .field("s3_force_path_style", &self.s3_force_path_style)
            .field("access_key", &redact(&self.access_key))
            .field("secret_key", &redact(&self.secret_key))
            .field("session_token", &redact(&self.session_token))
            .finish()
    }
}

fn redact(s: &str) -> &'static str {
    if s.is_empty() { "" } else { "<redacted>" }
}

/// Google's default OAuth token endpoint, used when a credentials file names none.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// A service-account key (`"type": "service_account"`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct ServiceAccountKey {
    /// The account's e-mail; the JWT issuer.
    pub client_email: String,
    /// PEM-encoded RSA private key (PKCS#8).
    pub private_key: String,
    /// Key id, sent as the JWT `kid`.
    #[serde(default)]
    pub private_key_id: String,
    /// Where to exchange the signed JWT for an access token.
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
    /// Project the account belongs to.
    #[serde(default)]
    pub project_id: String,
}

/// A user's refresh token (`"type": "authorized_user"`, what `gcloud auth
/// application-default login` writes).
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct AuthorizedUser {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Token endpoint.
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
}

fn default_token_uri() -> String {
    GOOGLE_TOKEN_URI.to_string()
}

/// A Google credentials JSON file.
#[derive(Clone, PartialEq, Eq)]
pub enum GoogleCredentials {
    /// Sign JWTs with a service-account key.
    ServiceAccount(ServiceAccountKey),
    /// Refresh a user's token.
    AuthorizedUser(AuthorizedUser),
}

impl GoogleCredentials {
    /// Parse a credentials JSON file's content.
    pub fn from_json(data: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct Kind {
            #[serde(rename = "type", default)]
            kind: String,
        }
        let bad = |e: serde_json::Error| {
            StorageError::Credentials(format!("invalid GCS credentials JSON: {e}"))
        };
        let kind: Kind = serde_json::from_slice(data).map_err(bad)?;
        match kind.kind.as_str() {
            "service_account" => Ok(GoogleCredentials::ServiceAccount(
                serde_json::from_slice(data).map_err(bad)?,
            )),
            "authorized_user" => Ok(GoogleCredentials::AuthorizedUser(
                serde_json::from_slice(data).map_err(bad)?,
            )),
            other => Err(StorageError::Credentials(format!(
                "unsupported GCS credentials type {other:?} (expected service_account or authorized_user)"
            ))),
        }
    }

    /// Read and parse a credentials file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let data = std::fs::read(path).map_err(|e| StorageError::io("read", path.display(), e))?;
        GoogleCredentials::from_json(&data)
    }
}

impl fmt::Debug for GoogleCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoogleCredentials::ServiceAccount(k) => f
                .debug_struct("ServiceAccount")
                .field("client_email", &k.client_email)
                .field("private_key_id", &k.private_key_id)
                .field("token_uri", &k.token_uri)
                .finish_non_exhaustive(),
            GoogleCredentials::AuthorizedUser(u) => f
                .debug_struct("AuthorizedUser")
                .field("client_id", &u.client_id)
                .field("token_uri", &u.token_uri)
                .finish_non_exhaustive(),
        }
    }
}

/// A snapshot of environment variables. `Debug` shows every name but only the values that
/// are not secret (regions, endpoints, the credentials file path).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Env(BTreeMap<String, String>);

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: &[&str] = &[
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT",
            "AWS_ENDPOINT_URL",
            "AWS_ALLOW_HTTP",
            "STORAGE_EMULATOR_HOST",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "GCE_METADATA_HOST",
        ];
        let mut m = f.debug_map();
        for (k, v) in &self.0 {
            if SHOWN.contains(&k.as_str()) {
                m.entry(k, v);
            } else {
                m.entry(k, &redact(v));
            }
        }
        m.finish()
    }
}

impl Env {
    /// The variables this crate looks at, read from the process environment. Call once, in
    /// `main`.
    pub fn from_process() -> Self {
        Env(std::env::vars().filter(|(k, _)| Env::relevant(k)).collect())
    }

    fn relevant(name: &str) -> bool {
        name.starts_with("AWS_")
            || matches!(
                name,
                "STORAGE_EMULATOR_HOST" | "GOOGLE_APPLICATION_CREDENTIALS" | "GCE_METADATA_HOST"
            )
    }

    /// A non-empty variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// All variables, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Env {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Env(iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect())
    }
}

/// Everything [`crate::open`] may need to reach a bucket.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// Parsed `--gcs-credentials-file`.
    pub gcs: Option<GoogleCredentials>,
    /// Parsed `--s3-credentials-file`.
    pub s3: Option<S3Credentials>,
    /// GCS API endpoint override (an emulator or proxy), e.g. `http://127.0.0.1:4443`. Without
    /// GCS credentials, requests to it are anonymous.
    pub gcs_endpoint: Option<String>,
    /// Environment snapshot for provider defaults.
    pub env: Env,
}

impl Credentials {
    /// Read the credentials files Prow's components take as flags; `None` or an empty path
    /// means "not given". Fails like Prow's `NewOpener` when a given file is unreadable.
    pub fn load(
        gcs_credentials_file: Option<&Path>,
        s3_credentials_file: Option<&Path>,
    ) -> Result<Self> {
        fn given(p: Option<&Path>) -> Option<&Path> {
            p.filter(|p| !p.as_os_str().is_empty())
        }
        Ok(Credentials {
            gcs: given(gcs_credentials_file)
                .map(GoogleCredentials::from_file)
                .transpose()?,
            s3: given(s3_credentials_file)
                .map(S3Credentials::from_file)
                .transpose()?,
            gcs_endpoint: None,
            env: Env::default(),
        })
    }

    /// Use this environment snapshot for provider defaults.
    pub fn with_env(mut self, env: Env) -> Self {
        self.env = env;
        self
    }

    /// Send GCS requests to `endpoint` (an emulator or proxy).
    pub fn with_gcs_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.gcs_endpoint = Some(endpoint.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_and_credentials_debug_never_show_secret_values() {
        let env: Env = [
            ("AWS_SECRET_ACCESS_KEY", "aws-secret-value"),
            ("AWS_SESSION_TOKEN", "aws-session-value"),
            ("AWS_ACCESS_KEY_ID", "aws-access-key-id-value"),
            ("AWS_REGION", "eu-example-1"),
            ("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443"),
        ]
        .into_iter()
        .collect();
        let creds = Credentials {
            s3: Some(S3Credentials {
                access_key: "s3-access-value".into(),
                secret_key: "s3-secret-value".into(),
                ..Default::default()
            }),
            env: env.clone(),
            ..Default::default()
        };
        let shown = format!("{env:?} {creds:?} {creds:#?}");
        for secret in [
            "aws-secret-value",
            "aws-session-value",
            "aws-access-key-id-value",
            "s3-access-value",
            "s3-secret-value",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // Names, and values that are not secret, still help debugging.
        for visible in [
            "AWS_SECRET_ACCESS_KEY",
            "eu-example-1",
            "http://127.0.0.1:4443",
        ] {
            assert!(shown.contains(visible), "{visible} missing from {shown}");
        }
    }

    #[test]
    fn s3_file_shape() {
        // Field names as in Prow's `providers.S3Credentials` and its documentation.
        let raw = br#"{"region":"minio","endpoint":"https://minio.example.com:9000","insecure":true,
            "s3_force_path_style":true,"access_key":"AKIDEXAMPLE","secret_key":"secret","session_token":"tok"}"#;
        let c = S3Credentials::from_json(raw).unwrap();
        assert_eq!(c.region, "minio");
        assert_eq!(c.endpoint, "https://minio.example.com:9000");
        assert!(c.insecure && c.s3_force_path_style);
        assert_eq!(
            (
                c.access_key.as_str(),
                c.secret_key.as_str(),
                c.session_token.as_str()
            ),
            ("AKIDEXAMPLE", "secret", "tok")
        );
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("secret\"") && !dbg.contains("AKIDEXAMPLE"),
            "{dbg}"
        );
        assert_eq!(
            S3Credentials::from_json(b"{}").unwrap(),
            S3Credentials::default()
        );
        assert!(matches!(
            S3Credentials::from_json(b"{\"insecure\":\"yes\"}"),
            Err(StorageError::Credentials(_))
        ));
    }

    #[test]
    fn google_file_types() {
        let sa = br#"{"type":"service_account","project_id":"p","private_key_id":"k1",
            "private_key":"-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n",
            "client_email":"uploader@p.iam.gserviceaccount.com","client_id":"1"}"#;
        match GoogleCredentials::from_json(sa).unwrap() {
            GoogleCredentials::ServiceAccount(k) => {
                assert_eq!(k.client_email, "uploader@p.iam.gserviceaccount.com");
                assert_eq!(k.private_key_id, "k1");
                assert_eq!(k.token_uri, GOOGLE_TOKEN_URI);
            }
            other => panic!("{other:?}"),
        }
        let user =
            br#"{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r",
            "token_uri":"http://127.0.0.1:1/token"}"#;
        let u = GoogleCredentials::from_json(user).unwrap();
        assert!(
            matches!(&u, GoogleCredentials::AuthorizedUser(a) if a.token_uri == "http://127.0.0.1:1/token")
        );
        assert!(!format!("{u:?}").contains("\"s\""));
        for bad in [
            &br#"{"type":"external_account"}"#[..],
            br#"{"type":"service_account"}"#,
            b"not json",
        ] {
            assert!(matches!(
                GoogleCredentials::from_json(bad),
                Err(StorageError::Credentials(_))
            ));
        }
    }

    #[test]
    fn load_files_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let s3 = dir.path().join("service-account.json");
        std::fs::write(
            &s3,
            r#"{"region":"auto","access_key":"a","secret_key":"b"}"#,
        )
        .unwrap();
        let c = Credentials::load(Some(Path::new("")), Some(&s3)).unwrap();
        assert!(c.gcs.is_none());
        assert_eq!(c.s3.as_ref().map(|s| s.region.as_str()), Some("auto"));
        let missing = dir.path().join("missing.json");
        assert!(matches!(
            Credentials::load(Some(&missing), None),
            Err(StorageError::Io { .. })
        ));
        let env: Env = [("STORAGE_EMULATOR_HOST", "127.0.0.1:1"), ("EMPTY", "")]
            .into_iter()
            .collect();
        assert_eq!(env.get("STORAGE_EMULATOR_HOST"), Some("127.0.0.1:1"));
        assert_eq!(env.get("EMPTY"), None);
        assert!(Env::relevant("AWS_REGION") && !Env::relevant("HOME"));
    }
}
