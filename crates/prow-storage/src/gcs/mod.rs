//! `gs://` buckets through the GCS JSON API (`/storage/v1/b/{bucket}/o`,
//! `/upload/storage/v1/b/{bucket}/o?uploadType=multipart|resumable`, `alt=media` downloads).
//!
//! Endpoint and credentials, in order: [`Credentials::gcs_endpoint`] (with the GCS
//! credentials when given, else anonymous); `STORAGE_EMULATOR_HOST` (anonymous, like Google's
//! client libraries); otherwise the public endpoint with `--gcs-credentials-file`, else
//! `GOOGLE_APPLICATION_CREDENTIALS`, else the metadata server (workload identity), else
//! anonymous, which is Prow's own fallback order.
//!
//! Downloads send `Accept-Encoding: gzip` so GCS does not transcode gzip-encoded objects: a
//! read returns the stored bytes, as from every other backend.

pub mod auth;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::credentials::{Credentials, GoogleCredentials};
use crate::error::{Result, StorageError};
use crate::key::{strip_root, validate_key, validate_prefix};
use crate::location::{Provider, StorageUrl};
use crate::{Attributes, ListPage, ObjectInfo, PutOptions, Storage};

pub use auth::TokenSource;

/// The public GCS endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";
/// Files up to this size go up in one multipart request; larger ones through a resumable
/// upload in chunks of this size (a multiple of 256 KiB, as the API requires).
pub const DEFAULT_CHUNK_SIZE: usize = 8 * 1024 * 1024;
const CHUNK_QUANTUM: usize = 256 * 1024;
/// Attempts for requests that can be repeated safely (429, 5xx, connection failures).
const ATTEMPTS: u32 = 3;

/// A GCS bucket.
#[derive(Debug)]
pub struct GcsStorage {
    url: StorageUrl,
    root: String,
    base: String,
    http: reqwest::Client,
    auth: Arc<TokenSource>,
    chunk_size: usize,
}

/// GCS object resource (the fields we use).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectResource {
    #[serde(default)]
    name: String,
    #[serde(default)]
    size: Option<serde_json::Value>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    content_encoding: Option<String>,
    #[serde(default)]
    cache_control: Option<String>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    #[serde(default)]
    updated: Option<String>,
    #[serde(default)]
    etag: Option<String>,
}

impl ObjectResource {
    fn size(&self) -> u64 {
        match &self.size {
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0),
            _ => 0,
        }
    }

    fn updated(&self) -> Option<DateTime<Utc>> {
        self.updated
            .as_deref()
            .and_then(|u| DateTime::parse_from_rfc3339(u).ok())
            .map(|d| d.with_timezone(&Utc))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectList {
    #[serde(default)]
    items: Vec<ObjectResource>,
    #[serde(default)]
    prefixes: Vec<String>,
    #[serde(default)]
    next_page_token: Option<String>,
}

/// The metadata part of an upload.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadMetadata<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_encoding: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<&'a str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: &'a BTreeMap<String, String>,
}

/// Percent-encode everything but RFC 3986 unreserved characters (object names go into one
/// path segment, `/` included).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Body of a `multipart/related` upload: the JSON metadata part, then the media part.
pub fn multipart_body(
    metadata_json: &[u8],
    content_type: &str,
    data: &[u8],
    boundary: &str,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(data.len() + metadata_json.len() + 256);
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(metadata_json);
    body.extend_from_slice(
        format!("\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// A boundary that does not occur in `data`.
fn boundary_for(data: &[u8]) -> String {
    loop {
        let b = format!("prow-storage-{:032x}", rand::random::<u128>());
        if !data.windows(b.len()).any(|w| w == b.as_bytes()) {
            return b;
        }
    }
}

/// `Content-Range` of a resumable-upload chunk.
pub fn content_range(offset: u64, len: u64, total: u64) -> String {
    if len == 0 {
        format!("bytes */{total}")
    } else {
        format!("bytes {offset}-{}/{total}", offset + len - 1)
    }
}

/// Next offset from a `308` answer's `Range: bytes=0-N` header (`0` when absent: nothing
/// persisted yet).
pub fn next_offset(range_header: Option<&str>) -> Option<u64> {
    match range_header {
        None => Some(0),
        Some(r) => {
            let (_, end) = r.strip_prefix("bytes=")?.split_once('-')?;
            end.trim().parse::<u64>().ok().map(|e| e + 1)
        }
    }
}

fn normalise_endpoint(e: &str) -> String {
    let e = e.trim().trim_end_matches('/');
    if e.contains("://") {
        e.to_string()
    } else {
        format!("http://{e}")
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

impl GcsStorage {
    /// A store for a `gs://` URL (see the module docs for endpoint and credential selection).
    pub fn new(url: StorageUrl, creds: &Credentials) -> Result<Self> {
        if url.provider() != Provider::Gcs {
            return Err(StorageError::InvalidUrl {
                url: url.to_string(),
                reason: "not a gs:// URL".into(),
            });
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()
            .map_err(|e| StorageError::Credentials(format!("build HTTP client: {e}")))?;
        let (base, auth) = Self::resolve(creds, &http)?;
        Ok(GcsStorage {
            root: url.prefix().to_string(),
            url,
            base,
            http,
            auth: Arc::new(auth),
            chunk_size: DEFAULT_CHUNK_SIZE,
        })
    }

    fn resolve(creds: &Credentials, http: &reqwest::Client) -> Result<(String, TokenSource)> {
        let from = |c: &GoogleCredentials| TokenSource::from_credentials(c, http.clone());
        if let Some(ep) = creds
            .gcs_endpoint
            .as_deref()
            .filter(|e| !e.trim().is_empty())
        {
            let auth = match &creds.gcs {
                Some(c) => from(c)?,
                None => TokenSource::anonymous(http.clone()),
            };
            return Ok((normalise_endpoint(ep), auth));
        }
        if let Some(host) = creds.env.get("STORAGE_EMULATOR_HOST") {
            return Ok((
                normalise_endpoint(host),
                TokenSource::anonymous(http.clone()),
            ));
        }
        let base = DEFAULT_ENDPOINT.to_string();
        if let Some(c) = &creds.gcs {
            return Ok((base, from(c)?));
        }
        if let Some(path) = creds.env.get("GOOGLE_APPLICATION_CREDENTIALS") {
            match GoogleCredentials::from_file(Path::new(path)).and_then(|c| from(&c)) {
                Ok(t) => return Ok((base, t)),
                // Prow falls back to an anonymous client when default credentials fail.
                Err(e) => {
                    tracing::warn!(error = %e, "GOOGLE_APPLICATION_CREDENTIALS unusable; using anonymous GCS access");
                    return Ok((base, TokenSource::anonymous(http.clone())));
                }
            }
        }
        let host = creds
            .env
            .get("GCE_METADATA_HOST")
            .unwrap_or(auth::DEFAULT_METADATA_HOST);
        Ok((base, TokenSource::metadata_server(host, http.clone())))
    }

    /// Use chunks of about `bytes` (rounded up to a multiple of 256 KiB) for resumable uploads.
    pub fn with_chunk_size(mut self, bytes: usize) -> Self {
        self.chunk_size = bytes.max(1).div_ceil(CHUNK_QUANTUM) * CHUNK_QUANTUM;
        self
    }

    /// The API endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        &self.base
    }

    fn bucket_path(&self) -> String {
        format!(
            "{}/storage/v1/b/{}/o",
            self.base,
            encode_segment(self.url.bucket())
        )
    }

    fn upload_path(&self) -> String {
        format!(
            "{}/upload/storage/v1/b/{}/o",
            self.base,
            encode_segment(self.url.bucket())
        )
    }

    fn object_path(&self, k: &str) -> String {
        format!(
            "{}/{}",
            self.bucket_path(),
            encode_segment(&self.url.bucket_key(k))
        )
    }

    fn backend(
        &self,
        op: &'static str,
        k: &str,
        status: Option<u16>,
        message: String,
    ) -> StorageError {
        StorageError::Backend {
            provider: "gcs",
            op,
            url: self.object_url(k),
            status,
            message,
            source: None,
        }
    }

    /// Send a request built by `build`, with the bearer token; repeat on 429/5xx and
    /// connection failures when `idempotent`.
    async fn send(
        &self,
        op: &'static str,
        k: &str,
        idempotent: bool,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = build();
            if let Some(token) = self.auth.token().await? {
                req = req.bearer_auth(token);
            }
            let last = !idempotent || attempt >= ATTEMPTS;
            match req.send().await {
                Ok(resp) if retryable(resp.status()) && !last => {}
                Ok(resp) => {
                    if resp.status() == StatusCode::UNAUTHORIZED {
                        // Maybe revoked or expired early: fetch a fresh token next time.
                        self.auth.invalidate().await;
                    }
                    return Ok(resp);
                }
                Err(e) if (e.is_connect() || e.is_timeout()) && !last => {
                    tracing::debug!(error = %e, op, "retrying GCS request");
                }
                Err(e) => {
                    return Err(StorageError::Backend {
                        provider: "gcs",
                        op,
                        url: self.object_url(k),
                        status: None,
                        message: e.to_string(),
                        source: Some(Box::new(e)),
                    });
                }
            }
            tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempt - 1))).await;
        }
    }

    /// Turn an unsuccessful answer into the matching error.
    async fn fail(&self, op: &'static str, k: &str, resp: Response) -> StorageError {
        let status = resp.status();
        let body = resp.bytes().await.unwrap_or_default();
        let message = error_message(&body).unwrap_or_else(|| {
            let t = String::from_utf8_lossy(&body);
            if t.trim().is_empty() {
                status.to_string()
            } else {
                t.chars().take(500).collect()
            }
        });
        let url = self.object_url(k);
        match status {
            StatusCode::NOT_FOUND => StorageError::NotFound { url },
            StatusCode::PRECONDITION_FAILED => StorageError::AlreadyExists { url },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                StorageError::PermissionDenied { url, message }
            }
            _ => self.backend(op, k, Some(status.as_u16()), message),
        }
    }

    async fn json<T: for<'de> Deserialize<'de>>(
        &self,
        op: &'static str,
        k: &str,
        resp: Response,
    ) -> Result<T> {
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.backend(op, k, None, format!("read response: {e}")))?;
        serde_json::from_slice(&body)
            .map_err(|e| self.backend(op, k, None, format!("decode response: {e}")))
    }

    fn metadata_json(&self, k: &str, opts: &PutOptions) -> Result<Vec<u8>> {
        let full = self.url.bucket_key(k);
        serde_json::to_vec(&UploadMetadata {
            name: &full,
            content_type: opts.content_type.as_deref(),
            content_encoding: opts.content_encoding.as_deref(),
            cache_control: opts.cache_control.as_deref(),
            metadata: &opts.metadata,
        })
        .map_err(|e| self.backend("put", k, None, format!("encode metadata: {e}")))
    }

    fn precondition(opts: &PutOptions) -> Vec<(&'static str, &'static str)> {
        if opts.if_not_exists {
            vec![("ifGenerationMatch", "0")]
        } else {
            Vec::new()
        }
    }

    async fn put_multipart(&self, k: &str, data: &[u8], opts: &PutOptions) -> Result<()> {
        let meta = self.metadata_json(k, opts)?;
        let boundary = boundary_for(data);
        let media_type = opts
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        let body = Bytes::from(multipart_body(&meta, media_type, data, &boundary));
        let url = self.upload_path();
        let pre = Self::precondition(opts);
        let resp = self
            .send("put", k, true, || {
                self.http
                    .post(&url)
                    .query(&[("uploadType", "multipart")])
                    .query(&pre)
                    .header(
                        "Content-Type",
                        format!("multipart/related; boundary={boundary}"),
                    )
                    .body(body.clone())
            })
            .await?;
        if !resp.status().is_success() {
            return Err(self.fail("put", k, resp).await);
        }
        Ok(())
    }

    async fn put_resumable(&self, k: &str, src: &Path, size: u64, opts: &PutOptions) -> Result<()> {
        if opts.if_not_exists && self.exists(k).await? {
            // GCS enforces `ifGenerationMatch=0` itself, atomically; fake-gcs-server ignores it
            // on resumable uploads, so check first as well (and fail early, before sending).
            return Err(StorageError::AlreadyExists {
                url: self.object_url(k),
            });
        }
        let meta = Bytes::from(self.metadata_json(k, opts)?);
        let url = self.upload_path();
        let pre = Self::precondition(opts);
        let resp = self
            .send("put", k, true, || {
                let mut r = self
                    .http
                    .post(&url)
                    .query(&[("uploadType", "resumable")])
                    .query(&pre)
                    .header("Content-Type", "application/json; charset=UTF-8")
                    .header("X-Upload-Content-Length", size.to_string())
                    .body(meta.clone());
                if let Some(ct) = &opts.content_type {
                    r = r.header("X-Upload-Content-Type", ct);
                }
                r
            })
            .await?;
        if !resp.status().is_success() {
            return Err(self.fail("put", k, resp).await);
        }
        let session = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| {
                self.backend(
                    "put",
                    k,
                    None,
                    "resumable upload without a session URL".into(),
                )
            })?;
        let result = self.send_chunks(k, src, size, &session).await;
        if result.is_err() {
            // Free the session; its partial data would otherwise linger for a week.
            let _ = self.http.delete(&session).send().await;
        }
        result
    }

    async fn send_chunks(&self, k: &str, src: &Path, size: u64, session: &str) -> Result<()> {
        let io = |op, e| StorageError::io(op, src.display(), e);
        let mut f = crate::safe_fs::open_regular_nofollow_async(src)
            .await
            .map_err(|e| io("open", e))?;
        let mut offset = 0u64;
        // Each round either advances or fails; bound it anyway against a server that keeps
        // answering 308 without taking data.
        let max_rounds = size / self.chunk_size as u64 + 16;
        for _ in 0..max_rounds {
            f.seek(std::io::SeekFrom::Start(offset))
                .await
                .map_err(|e| io("seek", e))?;
            let want = (size - offset).min(self.chunk_size as u64);
            let mut chunk = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
            (&mut f)
                .take(want)
                .read_to_end(&mut chunk)
                .await
                .map_err(|e| io("read", e))?;
            if (chunk.len() as u64) < want {
                return Err(self.backend(
                    "put",
                    k,
                    None,
                    format!("{} shrank while uploading", src.display()),
                ));
            }
            let mut req = self
                .http
                .put(session)
                .header("Content-Range", content_range(offset, want, size))
                .body(chunk);
            if let Some(token) = self.auth.token().await? {
                req = req.bearer_auth(token);
            }
            let resp = req.send().await.map_err(|e| StorageError::Backend {
                provider: "gcs",
                op: "put",
                url: self.object_url(k),
                status: None,
                message: e.to_string(),
                source: Some(Box::new(e)),
            })?;
            match resp.status().as_u16() {
                200 | 201 => return Ok(()),
                308 => {
                    let range = resp.headers().get("range").and_then(|v| v.to_str().ok());
                    offset = next_offset(range).ok_or_else(|| {
                        self.backend("put", k, Some(308), format!("bad Range header {range:?}"))
                    })?;
                    if offset > size {
                        return Err(self.backend(
                            "put",
                            k,
                            Some(308),
                            "server claims more bytes than sent".into(),
                        ));
                    }
                }
                _ => return Err(self.fail("put", k, resp).await),
            }
        }
        Err(self.backend("put", k, None, "resumable upload made no progress".into()))
    }

    async fn download(&self, k: &str, range: Option<&Range<u64>>) -> Result<Response> {
        let url = self.object_path(k);
        let resp = self
            .send("get", k, true, || {
                let mut r = self
                    .http
                    .request(Method::GET, &url)
                    .query(&[("alt", "media")])
                    // Ask for the stored bytes: no decompressive transcoding.
                    .header("Accept-Encoding", "gzip");
                if let Some(range) = range {
                    r = r.header("Range", format!("bytes={}-{}", range.start, range.end - 1));
                }
                r
            })
            .await?;
        Ok(resp)
    }
}

/// The `error.message` of a Google API error body.
fn error_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Body {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        message: String,
    }
    serde_json::from_slice::<Body>(body)
        .ok()
        .map(|b| b.error.message)
}

#[async_trait]
impl Storage for GcsStorage {
    fn url(&self) -> &StorageUrl {
        &self.url
    }

    async fn put(&self, k: &str, data: Bytes, opts: &PutOptions) -> Result<()> {
        validate_key(k)?;
        self.put_multipart(k, &data, opts).await
    }

    async fn put_file(&self, k: &str, src: &Path, opts: &PutOptions) -> Result<()> {
        validate_key(k)?;
        // Never a link's target, never a FIFO (see `safe_fs`); the resumable path reopens
        // the same way.
        let mut f = crate::safe_fs::open_regular_nofollow_async(src)
            .await
            .map_err(|e| StorageError::io("open", src.display(), e))?;
        let size = f
            .metadata()
            .await
            .map_err(|e| StorageError::io("stat", src.display(), e))?
            .len();
        if size <= self.chunk_size as u64 {
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            f.read_to_end(&mut data)
                .await
                .map_err(|e| StorageError::io("read", src.display(), e))?;
            return self.put_multipart(k, &data, opts).await;
        }
        self.put_resumable(k, src, size, opts).await
    }

    async fn get(&self, k: &str) -> Result<Bytes> {
        validate_key(k)?;
        let resp = self.download(k, None).await?;
        if !resp.status().is_success() {
            return Err(self.fail("get", k, resp).await);
        }
        resp.bytes()
            .await
            .map_err(|e| self.backend("get", k, None, format!("read body: {e}")))
    }

    async fn get_range(&self, k: &str, range: Range<u64>) -> Result<Bytes> {
        validate_key(k)?;
        let invalid = || StorageError::InvalidRange {
            url: self.object_url(k),
            start: range.start,
            end: range.end,
        };
        if range.start >= range.end {
            return Err(invalid());
        }
        let resp = self.download(k, Some(&range)).await?;
        let status = resp.status();
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            return Err(invalid());
        }
        if !status.is_success() {
            return Err(self.fail("get", k, resp).await);
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.backend("get", k, None, format!("read body: {e}")))?;
        if status == StatusCode::PARTIAL_CONTENT {
            return Ok(body);
        }
        // The server sent the whole object: cut the range out ourselves.
        let len = body.len() as u64;
        if range.start >= len {
            return Err(invalid());
        }
        let (s, e) = (range.start as usize, range.end.min(len) as usize);
        Ok(body.slice(s..e))
    }

    async fn attributes(&self, k: &str) -> Result<Attributes> {
        validate_key(k)?;
        let url = self.object_path(k);
        let resp = self.send("head", k, true, || self.http.get(&url)).await?;
        if !resp.status().is_success() {
            return Err(self.fail("head", k, resp).await);
        }
        let o: ObjectResource = self.json("head", k, resp).await?;
        Ok(Attributes {
            size: o.size(),
            updated: o.updated(),
            content_type: o.content_type,
            content_encoding: o.content_encoding,
            cache_control: o.cache_control,
            metadata: o.metadata.unwrap_or_default(),
            etag: o.etag,
        })
    }

    async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<ListPage> {
        validate_prefix(prefix)?;
        let full = self.url.bucket_key(prefix);
        let url = self.bucket_path();
        let mut query: Vec<(&str, &str)> = vec![("prefix", &full)];
        if let Some(d) = delimiter {
            query.push(("delimiter", d));
        }
        if let Some(t) = page_token {
            query.push(("pageToken", t));
        }
        let resp = self
            .send("list", prefix, true, || self.http.get(&url).query(&query))
            .await?;
        if !resp.status().is_success() {
            return Err(self.fail("list", prefix, resp).await);
        }
        let l: ObjectList = self.json("list", prefix, resp).await?;
        let mut page = ListPage {
            next_page_token: l.next_page_token.filter(|t| !t.is_empty()),
            ..Default::default()
        };
        for o in &l.items {
            if let Some(k) = strip_root(&self.root, &o.name) {
                page.objects.push(ObjectInfo {
                    key: k.to_string(),
                    size: o.size(),
                    updated: o.updated(),
                });
            }
        }
        page.prefixes = l
            .prefixes
            .iter()
            .filter_map(|p| strip_root(&self.root, p).map(str::to_string))
            .collect();
        page.objects.sort_by(|a, b| a.key.cmp(&b.key));
        page.prefixes.sort();
        Ok(page)
    }

    async fn delete(&self, k: &str) -> Result<()> {
        validate_key(k)?;
        let url = self.object_path(k);
        let resp = self
            .send("delete", k, true, || self.http.delete(&url))
            .await?;
        if resp.status().is_success() || resp.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(self.fail("delete", k, resp).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Env;

    #[test]
    fn segment_encoding() {
        assert_eq!(
            encode_segment("logs/job/1/build-log.txt"),
            "logs%2Fjob%2F1%2Fbuild-log.txt"
        );
        assert_eq!(encode_segment("a%23b c+é"), "a%2523b%20c%2B%C3%A9");
        assert_eq!(encode_segment("A-z_0.9~"), "A-z_0.9~");
    }

    #[test]
    fn multipart_layout() {
        let body = multipart_body(br#"{"name":"k"}"#, "text/plain", b"data", "BND");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--BND\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"k\"}\r\n--BND\r\nContent-Type: text/plain\r\n\r\ndata\r\n--BND--\r\n"
        );
        let data = b"xx prow-storage-";
        let b = boundary_for(data);
        assert!(b.starts_with("prow-storage-") && b.len() > 20);
    }

    #[test]
    fn resumable_helpers() {
        assert_eq!(
            content_range(0, 262144, 1_000_000),
            "bytes 0-262143/1000000"
        );
        assert_eq!(
            content_range(262144, 10, 262154),
            "bytes 262144-262153/262154"
        );
        assert_eq!(content_range(5, 0, 5), "bytes */5");
        assert_eq!(next_offset(None), Some(0));
        assert_eq!(next_offset(Some("bytes=0-262143")), Some(262144));
        assert_eq!(next_offset(Some("garbage")), None);
    }

    #[test]
    fn endpoint_and_auth_selection() {
        let url = StorageUrl::parse("gs://bucket/pre").unwrap();
        let env: Env = [("STORAGE_EMULATOR_HOST", "127.0.0.1:4443")]
            .into_iter()
            .collect();
        let s =
            GcsStorage::new(url.clone(), &Credentials::default().with_env(env.clone())).unwrap();
        assert_eq!(s.endpoint(), "http://127.0.0.1:4443");
        assert!(format!("{:?}", s.auth).contains("anonymous"));
        // An explicit endpoint wins over the environment.
        let c = Credentials::default()
            .with_env(env)
            .with_gcs_endpoint("https://gcs.example.com/");
        let s = GcsStorage::new(url.clone(), &c).unwrap();
        assert_eq!(s.endpoint(), "https://gcs.example.com");
        // Nothing configured: the public endpoint and the metadata server.
        let s = GcsStorage::new(url.clone(), &Credentials::default()).unwrap();
        assert_eq!(s.endpoint(), DEFAULT_ENDPOINT);
        assert!(format!("{:?}", s.auth).contains("metadata server 169.254.169.254"));
        assert_eq!(
            s.object_path("a/b"),
            "https://storage.googleapis.com/storage/v1/b/bucket/o/pre%2Fa%2Fb"
        );
        assert_eq!(
            s.with_chunk_size(1).chunk_size,
            256 * 1024,
            "chunks are whole multiples of 256 KiB"
        );
        assert!(
            GcsStorage::new(
                StorageUrl::parse("s3://b").unwrap(),
                &Credentials::default()
            )
            .is_err()
        );
    }

    #[test]
    fn object_resource_shapes() {
        let o: ObjectResource = serde_json::from_str(
            r#"{"name":"a","size":"12","contentType":"text/plain","updated":"2024-01-02T03:04:05.678Z","metadata":{"x-goog-meta-link":"gs://b/x"}}"#,
        )
        .unwrap();
        assert_eq!(o.size(), 12);
        assert_eq!(
            o.updated().unwrap().to_rfc3339(),
            "2024-01-02T03:04:05.678+00:00"
        );
        let o: ObjectResource = serde_json::from_str(r#"{"name":"a","size":7}"#).unwrap();
        assert_eq!(o.size(), 7);
        assert_eq!(
            error_message(br#"{"error":{"code":404,"message":"No such object: b/a"}}"#).as_deref(),
            Some("No such object: b/a")
        );
    }
}
