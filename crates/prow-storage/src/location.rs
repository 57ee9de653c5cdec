//! Bucket URLs as Prow accepts them in `gcs_configuration.bucket`, `--gcs-path`-style flags and
//! job URLs: `gs://bucket[/prefix]`, `s3://bucket[/prefix]`, `file:///dir` and the deprecated
//! bare `bucket[/prefix]` (= GCS).

use std::fmt;

use crate::error::{Result, StorageError};
use crate::key;

/// Which kind of store a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Google Cloud Storage (`gs://`).
    Gcs,
    /// Amazon S3 or any S3-compatible service (`s3://`).
    S3,
    /// A local directory (`file://`).
    File,
}

impl Provider {
    /// The URL scheme, which is also the provider segment of Deck URLs (`/view/gs/...`).
    pub fn scheme(self) -> &'static str {
        match self {
            Provider::Gcs => "gs",
            Provider::S3 => "s3",
            Provider::File => "file",
        }
    }

    /// The name Prow shows to people (`providers.DisplayName`).
    pub fn display_name(self) -> &'static str {
        match self {
            Provider::Gcs => "GCS",
            Provider::S3 => "S3",
            Provider::File => "File",
        }
    }
}

/// A parsed bucket URL: provider, bucket (a directory for `file://`) and a key prefix every
/// object of the opened store lives under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StorageUrl {
    provider: Provider,
    bucket: String,
    prefix: String,
}

impl StorageUrl {
    /// Parse a bucket URL the way Prow does (`prowv1.ParsePath`, `providers.ParseStoragePath`):
    /// no `://` means a bare GCS bucket name; a leading `/` is a local directory (Prow's opener
    /// treats such paths as files); `file://` keeps everything after the scheme as the path.
    pub fn parse(raw: &str) -> Result<Self> {
        let invalid = |reason: &str| StorageError::InvalidUrl {
            url: raw.to_string(),
            reason: reason.to_string(),
        };
        if raw.is_empty() {
            return Err(invalid("empty"));
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(invalid("contains control characters"));
        }
        if raw.starts_with('/') {
            return Ok(StorageUrl {
                provider: Provider::File,
                bucket: raw.to_string(),
                prefix: String::new(),
            });
        }
        let (scheme, rest) = match raw.split_once("://") {
            Some((scheme, rest)) => (scheme, rest),
            None => ("gs", raw),
        };
        if scheme.is_empty() {
            return Err(invalid("missing protocol scheme"));
        }
        let valid_scheme = scheme.chars().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || (i > 0 && (c.is_ascii_digit() || "+-.".contains(c)))
        });
        if !valid_scheme {
            return Err(invalid("malformed scheme"));
        }
        let provider = match scheme.to_ascii_lowercase().as_str() {
            "gs" => Provider::Gcs,
            "s3" => Provider::S3,
            "file" => Provider::File,
            other => return Err(StorageError::UnsupportedProvider(other.to_string())),
        };
        if provider == Provider::File {
            if rest.is_empty() {
                return Err(invalid("file URL without a path"));
            }
            return Ok(StorageUrl {
                provider,
                bucket: rest.to_string(),
                prefix: String::new(),
            });
        }
        if rest.contains(['?', '#']) {
            return Err(invalid("query strings and fragments are not allowed"));
        }
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("could not find bucket"));
        }
        if bucket.contains(|c: char| c.is_whitespace() || c == '\\') {
            return Err(invalid("malformed bucket name"));
        }
        let prefix = key::clean_prefix(prefix).map_err(invalid)?;
        Ok(StorageUrl {
            provider,
            bucket: bucket.to_string(),
            prefix,
        })
    }

    /// The provider.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The bucket name, or the directory of a `file://` URL.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Key prefix inside the bucket, without leading or trailing `/` (empty for none).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key inside the bucket of an object named relative to this URL.
    pub fn bucket_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else if key.is_empty() {
            format!("{}/", self.prefix)
        } else {
            format!("{}/{}", self.prefix, key)
        }
    }

    /// Full URL of an object named relative to this URL, e.g. `gs://bucket/prefix/key`;
    /// the form Prow writes into alias files and logs.
    pub fn object_url(&self, key: &str) -> String {
        let base = self.to_string();
        if key.is_empty() {
            base
        } else {
            format!("{}/{}", base.trim_end_matches('/'), key)
        }
    }
}

impl fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.provider.scheme(), self.bucket)?;
        if !self.prefix.is_empty() {
            write!(f, "/{}", self.prefix)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for StorageUrl {
    type Err = StorageError;

    fn from_str(s: &str) -> Result<Self> {
        StorageUrl::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> (Provider, String, String) {
        let u = StorageUrl::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        (u.provider(), u.bucket().to_string(), u.prefix().to_string())
    }

    #[test]
    fn schemes_and_bare_names() {
        let cases = [
            ("gs://bucket", Provider::Gcs, "bucket", ""),
            ("gs://bucket/", Provider::Gcs, "bucket", ""),
            (
                "gs://bucket/some/prefix/",
                Provider::Gcs,
                "bucket",
                "some/prefix",
            ),
            ("GS://bucket", Provider::Gcs, "bucket", ""),
            ("s3://istio-prow", Provider::S3, "istio-prow", ""),
            ("s3://b/p", Provider::S3, "b", "p"),
            (
                "kubernetes-jenkins",
                Provider::Gcs,
                "kubernetes-jenkins",
                "",
            ),
            (
                "kubernetes-jenkins/logs",
                Provider::Gcs,
                "kubernetes-jenkins",
                "logs",
            ),
            (
                "file:///tmp/artifacts",
                Provider::File,
                "/tmp/artifacts",
                "",
            ),
            ("file://relative/dir", Provider::File, "relative/dir", ""),
            ("/var/artifacts", Provider::File, "/var/artifacts", ""),
        ];
        for (raw, p, b, pre) in cases {
            assert_eq!(ok(raw), (p, b.to_string(), pre.to_string()), "{raw}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for raw in [
            "",
            "://bucket",
            "gs://",
            "gs:///x",
            "s3://",
            "file://",
            "1x://b",
            "gs://b/a/../c",
            "gs://b?x=1",
            "gs://b c",
            "gs://b/\n",
        ] {
            let e = StorageUrl::parse(raw).unwrap_err();
            assert!(matches!(e, StorageError::InvalidUrl { .. }), "{raw}: {e:?}");
        }
        assert!(matches!(
            StorageUrl::parse("azblob://c").unwrap_err(),
            StorageError::UnsupportedProvider(p) if p == "azblob"
        ));
    }

    #[test]
    fn display_and_object_urls() {
        let u = StorageUrl::parse("bucket").unwrap();
        assert_eq!(u.to_string(), "gs://bucket");
        assert_eq!(
            u.object_url("pr-logs/pull/1/job/2"),
            "gs://bucket/pr-logs/pull/1/job/2"
        );
        let u = StorageUrl::parse("s3://b/pre/fix/").unwrap();
        assert_eq!(u.to_string(), "s3://b/pre/fix");
        assert_eq!(u.object_url("logs/x"), "s3://b/pre/fix/logs/x");
        assert_eq!(u.bucket_key("logs/x"), "pre/fix/logs/x");
        assert_eq!(u.bucket_key(""), "pre/fix/");
        let f = StorageUrl::parse("file:///tmp/a").unwrap();
        assert_eq!(f.to_string(), "file:///tmp/a");
        assert_eq!(f.object_url("k"), "file:///tmp/a/k");
        assert_eq!(Provider::Gcs.display_name(), "GCS");
        assert_eq!(Provider::S3.scheme(), "s3");
    }
}
