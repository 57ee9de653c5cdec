//! Artifact storage for Prow: one [`Storage`] trait over Google Cloud Storage, S3 (and
//! S3-compatible services such as MinIO or Cloudflare R2) and local directories.
//!
//! * [`open`] turns a bucket URL exactly as Prow accepts it (`gs://bucket[/prefix]`,
//!   `s3://bucket[/prefix]`, `file:///dir`, or a bare bucket name meaning GCS) plus
//!   [`Credentials`] (Prow's `--gcs-credentials-file` / `--s3-credentials-file`, the environment)
//!   into an `Arc<dyn Storage>`. Object names are relative to the URL's prefix.
//! * [`gcs::GcsStorage`] speaks the GCS JSON API over reqwest (service-account JWT, authorized
//!   user, metadata server/workload identity, or anonymous against an emulator given by
//!   `STORAGE_EMULATOR_HOST`); [`s3::S3Storage`] wraps `object_store`'s S3 client configured
//!   like Prow's S3 credentials file; [`file::FileStorage`] writes files atomically.
//! * [`upload`] carries Prow's upload semantics: gzip of `compress_file_types` with
//!   `Content-Encoding: gzip`, content types, and reading such objects back decoded.
//! * [`blocking::BlockingStorage`] is a synchronous facade for the pod utilities.
//!
//! The bucket layout itself (build directories, `latest-build.txt`, presubmit alias files)
//! lives in `prow-pod-utils`' `gcs` module, which depends on this crate, not the reverse.
//!
//! Semantics shared by all backends (checked by the conformance tests against real emulators):
//! `get` returns the stored bytes (a gzip-encoded object stays compressed; see
//! [`upload::read_decoded`]); a range is `start..end`, must be non-empty and start inside the
//! object, and is cut at the end of the object; `delete` of a missing object succeeds;
//! listings are sorted by name and common prefixes end with the delimiter.

pub mod blocking;
pub mod credentials;
pub mod error;
pub mod file;
pub mod gcs;
pub mod key;
pub mod location;
pub mod s3;
pub mod safe_fs;
pub mod upload;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

pub use credentials::{Credentials, Env, GoogleCredentials, S3Credentials};
pub use error::{Result, StorageError};
pub use location::{Provider, StorageUrl};

/// Object attributes to set on a write (Prow's `io.WriterOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding` (`gzip` for compressed uploads).
    pub content_encoding: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// Custom metadata (e.g. `x-goog-meta-link` on presubmit alias files).
    pub metadata: BTreeMap<String, String>,
    /// Only write when no object exists yet (Prow's `PreconditionDoesNotExist`); a lost race
    /// is [`StorageError::AlreadyExists`].
    pub if_not_exists: bool,
}

impl PutOptions {
    /// Options with just a content type.
    pub fn content_type(content_type: impl Into<String>) -> Self {
        PutOptions {
            content_type: Some(content_type.into()),
            ..Default::default()
        }
    }
}

/// What a provider knows about a stored object (Prow's `io.Attributes`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Stored size in bytes (of the compressed bytes for a gzip-encoded object).
    pub size: u64,
    /// `Content-Type`, when set.
    pub content_type: Option<String>,
    /// `Content-Encoding`, when set.
    pub content_encoding: Option<String>,
    /// `Cache-Control`, when set.
    pub cache_control: Option<String>,
    /// Custom metadata.
    pub metadata: BTreeMap<String, String>,
    /// Last modification time, when the provider reports one.
    pub updated: Option<DateTime<Utc>>,
    /// Provider ETag, when there is one.
    pub etag: Option<String>,
}

/// One object in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Name relative to the store's URL.
    pub key: String,
    /// Stored size in bytes.
    pub size: u64,
    /// Last modification time, when reported.
    pub updated: Option<DateTime<Utc>>,
}

impl ObjectInfo {
    /// The last `/`-separated segment of the name (Prow's `ObjName`).
    pub fn name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or(&self.key)
    }
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Objects on this page, sorted by name.
    pub objects: Vec<ObjectInfo>,
    /// Common prefixes ("directories") on this page, each ending with the delimiter.
    pub prefixes: Vec<String>,
    /// Pass to the next [`Storage::list_page`] call; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// A complete listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// Objects, sorted by name.
    pub objects: Vec<ObjectInfo>,
    /// Common prefixes, sorted, each ending with the delimiter.
    pub prefixes: Vec<String>,
}

/// A bucket (or directory) holding build artifacts. Keys are relative to [`Storage::url`] and
/// must pass [`key::validate_key`].
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug {
    /// The URL this store was opened with.
    fn url(&self) -> &StorageUrl;

    /// Full URL of an object, e.g. `gs://bucket/prefix/key`.
    fn object_url(&self, key: &str) -> String {
        self.url().object_url(key)
    }

    /// Write an object from memory, replacing any existing one unless
    /// [`PutOptions::if_not_exists`].
    async fn put(&self, key: &str, data: Bytes, opts: &PutOptions) -> Result<()>;

    /// Write an object from a local file without holding it in memory (large files go up in
    /// chunks: GCS resumable upload, S3 multipart upload).
    async fn put_file(&self, key: &str, path: &Path, opts: &PutOptions) -> Result<()>;

    /// Read a whole object (stored bytes; no decompression).
    async fn get(&self, key: &str) -> Result<Bytes>;

    /// Read `range` of an object; the range must be non-empty and start inside the object,
    /// and is cut at its end.
    async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes>;

    /// Size, content type/encoding, metadata and modification time of an object.
    async fn attributes(&self, key: &str) -> Result<Attributes>;

    /// Whether an object exists.
    async fn exists(&self, key: &str) -> Result<bool> {
        match self.attributes(key).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One page of the objects whose names start with `prefix` (any string, not only a
    /// directory). With a delimiter, names containing it after the prefix are folded into
    /// common prefixes, like S3 and GCS do.
    async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<ListPage>;

    /// All pages of [`Storage::list_page`].
    async fn list(&self, prefix: &str, delimiter: Option<&str>) -> Result<Listing> {
        let mut out = Listing::default();
        let mut token: Option<String> = None;
        loop {
            let page = self.list_page(prefix, delimiter, token.as_deref()).await?;
            out.objects.extend(page.objects);
            out.prefixes.extend(page.prefixes);
            match page.next_page_token {
                Some(t) if Some(&t) != token.as_ref() => token = Some(t),
                _ => break,
            }
        }
        out.objects.sort_by(|a, b| a.key.cmp(&b.key));
        out.prefixes.sort();
        out.prefixes.dedup();
        Ok(out)
    }

    /// Delete an object; deleting a missing object succeeds.
    async fn delete(&self, key: &str) -> Result<()>;
}

/// Open the store a bucket URL names (see [`StorageUrl::parse`] for the accepted forms).
///
/// Nothing is contacted yet: bad credentials surface on the first operation, as in Prow.
pub fn open(url: &str, creds: &Credentials) -> Result<Arc<dyn Storage>> {
    open_url(&StorageUrl::parse(url)?, creds)
}

/// [`open`] for an already parsed URL.
pub fn open_url(url: &StorageUrl, creds: &Credentials) -> Result<Arc<dyn Storage>> {
    Ok(match url.provider() {
        Provider::File => Arc::new(file::FileStorage::new(url.clone())),
        Provider::S3 => Arc::new(s3::S3Storage::new(url.clone(), creds)?),
        Provider::Gcs => Arc::new(gcs::GcsStorage::new(url.clone(), creds)?),
    })
}
