//! Storage paths as Prow writes them in `gcs_configuration.bucket` and Deck URLs.

use std::fmt;

/// A parsed `<provider>://<bucket>[/<path>]`; a bare name means GCS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoragePath {
    /// `gs`, `s3` or `file`.
    pub provider: String,
    /// Bucket (for `file`, the directory root's first component).
    pub bucket: String,
    /// Path inside the bucket, without a leading slash.
    pub path: String,
}

impl StoragePath {
    /// Parse a bucket string the way Prow's `ParsePath` does (bare names default to `gs`).
    pub fn parse_bucket(bucket: &str) -> Result<StoragePath, String> {
        let full = if bucket.contains("://") {
            bucket.to_string()
        } else {
            format!("gs://{bucket}")
        };
        let (provider, rest) = full
            .split_once("://")
            .ok_or_else(|| format!("path {bucket:?} has invalid format"))?;
        if provider.is_empty()
            || !provider
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        {
            return Err(format!(
                "path {bucket:?} has invalid format, expected either <bucket-name>[/<path>] or <storage-provider>://<bucket-name>[/<path>]"
            ));
        }
        let (b, p) = rest.split_once('/').unwrap_or((rest, ""));
        Ok(StoragePath {
            provider: provider.to_string(),
            bucket: b.to_string(),
            path: p.trim_start_matches('/').to_string(),
        })
    }

    /// `<provider>://<bucket>`.
    pub fn bucket_with_scheme(&self) -> String {
        format!("{}://{}", self.provider, self.bucket)
    }
}

impl fmt::Display for StoragePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.provider, self.bucket)?;
        if !self.path.is_empty() {
            write!(f, "/{}", self.path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_forms() {
        let p = StoragePath::parse_bucket("kubernetes-ci-logs").unwrap();
        assert_eq!(
            (p.provider.as_str(), p.bucket.as_str()),
            ("gs", "kubernetes-ci-logs")
        );
        let p = StoragePath::parse_bucket("s3://istio-prow/some/path").unwrap();
        assert_eq!(p.bucket_with_scheme(), "s3://istio-prow");
        assert_eq!(p.path, "some/path");
        assert_eq!(p.to_string(), "s3://istio-prow/some/path");
        assert!(StoragePath::parse_bucket("bad scheme://x").is_err());
    }
}
