//! Prow's upload semantics on top of any [`Storage`] (`pkg/pod-utils/gcs/upload.go`):
//!
//! * a destination whose extension is in `gcs_configuration.compress_file_types` (`*` = all;
//!   never `.gz`/`.gzip`) is gzipped when its content is larger than 1 KiB and not already
//!   gzip, and stored with `Content-Encoding: gzip` and the content type of its extension
//!   (`mediaTypes` first, then Go's built-in table, else `text/plain; charset=utf-8`);
//! * everything else is stored as given, with the caller's attributes.
//!
//! [`read_decoded`] is the reading side: it undoes `Content-Encoding: gzip`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::error::{Result, StorageError};
use crate::{PutOptions, Storage};

/// Content of at most this many bytes is never compressed (Prow looks at the first write).
pub const COMPRESS_MIN_SIZE: usize = 1024;
/// Content type of compressed objects whose extension has no known type.
pub const DEFAULT_COMPRESSED_CONTENT_TYPE: &str = "text/plain; charset=utf-8";
/// Content type of logs.
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
/// Content type of `started.json`, `finished.json`, `prowjob.json`...
pub const APPLICATION_JSON: &str = "application/json";

/// The `gcs_configuration` knobs that shape uploads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadPolicy {
    /// Extensions (without dot) to gzip; `*` means every file.
    pub compress_file_types: Vec<String>,
    /// Extra extension → media type mappings (`mediaTypes`).
    pub media_types: BTreeMap<String, String>,
}

/// Go's built-in extension table (`mime.TypeByExtension` without system files), plus `txt`,
/// which every system table maps to plain text.
fn builtin_media_type(ext: &str) -> Option<&'static str> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "avif" => "image/avif",
        "css" => "text/css; charset=utf-8",
        "gif" => "image/gif",
        "htm" | "html" => "text/html; charset=utf-8",
        "jpeg" | "jpg" => "image/jpeg",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => APPLICATION_JSON,
        "pdf" => "application/pdf",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "wasm" => "application/wasm",
        "webp" => "image/webp",
        "xml" => "text/xml; charset=utf-8",
        "txt" => TEXT_PLAIN,
        _ => return None,
    })
}

/// The extension of the last path segment, without the dot (`""` for none).
fn extension(dest: &str) -> &str {
    let base = dest.rsplit('/').next().unwrap_or(dest);
    base.rfind('.').map_or("", |i| &base[i + 1..])
}

impl UploadPolicy {
    /// Whether `dest`'s extension is configured for compression (Prow's
    /// `shouldCompressFileType`).
    pub fn should_compress(&self, dest: &str) -> bool {
        let ext = extension(dest);
        if ext == "gz" || ext == "gzip" {
            return false;
        }
        self.compress_file_types
            .iter()
            .any(|t| t == "*" || t == ext)
    }

    /// The media type of `dest`'s extension: `mediaTypes` first, then Go's built-ins.
    pub fn media_type(&self, dest: &str) -> Option<String> {
        let ext = extension(dest);
        if ext.is_empty() {
            return None;
        }
        self.media_types
            .get(ext)
            .cloned()
            .or_else(|| builtin_media_type(ext).map(str::to_string))
    }

    /// The options to store `dest` with, given its size and first bytes: `Some` with
    /// `Content-Encoding: gzip` and the extension's type when it must be compressed, `None`
    /// to store it as is.
    pub fn compression_for(
        &self,
        dest: &str,
        size: u64,
        head: &[u8],
        opts: &PutOptions,
    ) -> Option<PutOptions> {
        if !self.should_compress(dest) || size <= COMPRESS_MIN_SIZE as u64 || is_gzip(head) {
            return None;
        }
        Some(PutOptions {
            content_type: Some(
                self.media_type(dest)
                    .unwrap_or_else(|| DEFAULT_COMPRESSED_CONTENT_TYPE.to_string()),
            ),
            content_encoding: Some("gzip".to_string()),
            ..opts.clone()
        })
    }
}

/// Starts with the gzip magic (what Go's `http.DetectContentType` calls `application/x-gzip`).
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b, 0x08])
}

/// Gzip `data` (default level, like Go's `gzip.NewWriter`).
pub fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        Compression::default(),
    );
    enc.write_all(data)?;
    enc.finish()
}

/// Decompress gzip data (all members).
pub fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() * 4);
    MultiGzDecoder::new(data).read_to_end(&mut out)?;
    Ok(out)
}

/// Store `data` at `dest` with Prow's compression rule.
pub async fn upload_bytes(
    storage: &dyn Storage,
    dest: &str,
    data: Bytes,
    opts: &PutOptions,
    policy: &UploadPolicy,
) -> Result<()> {
    match policy.compression_for(dest, data.len() as u64, &data, opts) {
        Some(zopts) => {
            let zipped = tokio::task::spawn_blocking(move || gzip(&data))
                .await
                .map_err(|e| join_error(dest, e))?
                .map_err(|e| StorageError::io("compress", dest, e))?;
            storage.put(dest, Bytes::from(zipped), &zopts).await
        }
        None => storage.put(dest, data, opts).await,
    }
}

/// Store the file `src` at `dest` with Prow's compression rule, streaming: a file to compress
/// is gzipped into a temporary file first, never held in memory.
pub async fn upload_file(
    storage: &dyn Storage,
    dest: &str,
    src: &Path,
    opts: &PutOptions,
    policy: &UploadPolicy,
) -> Result<()> {
    if !policy.should_compress(dest) {
        return storage.put_file(dest, src, opts).await;
    }
    let src_buf: PathBuf = src.to_path_buf();
    let (size, head) = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, Vec<u8>)> {
        let mut f = crate::safe_fs::open_regular_nofollow(&src_buf)?;
        let size = f.metadata()?.len();
        let mut head = Vec::with_capacity(3);
        (&mut f).take(3).read_to_end(&mut head)?;
        Ok((size, head))
    })
    .await
    .map_err(|e| join_error(dest, e))?
    .map_err(|e| StorageError::io("read", src.display(), e))?;
    let Some(zopts) = policy.compression_for(dest, size, &head, opts) else {
        return storage.put_file(dest, src, opts).await;
    };
    let src_buf = src.to_path_buf();
    let tmp = tokio::task::spawn_blocking(move || -> std::io::Result<tempfile::NamedTempFile> {
        let mut input = crate::safe_fs::open_regular_nofollow(&src_buf)?;
        let tmp = tempfile::Builder::new().prefix("prow-upload-").tempfile()?;
        let mut enc = GzEncoder::new(tmp.reopen()?, Compression::default());
        std::io::copy(&mut input, &mut enc)?;
        enc.finish()?.sync_all()?;
        Ok(tmp)
    })
    .await
    .map_err(|e| join_error(dest, e))?
    .map_err(|e| StorageError::io("compress", src.display(), e))?;
    storage.put_file(dest, tmp.path(), &zopts).await
}

/// Read an object and undo `Content-Encoding: gzip` (what a browser or Go's HTTP client does
/// transparently when Deck serves an artifact).
pub async fn read_decoded(storage: &dyn Storage, key: &str) -> Result<Bytes> {
    let attrs = storage.attributes(key).await?;
    let data = storage.get(key).await?;
    if !attrs
        .content_encoding
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case("gzip"))
    {
        return Ok(data);
    }
    let url = storage.object_url(key);
    tokio::task::spawn_blocking(move || gunzip(&data))
        .await
        .map_err(|e| join_error(key, e))?
        .map(Bytes::from)
        .map_err(|e| StorageError::io("decompress", url, e))
}

fn join_error(dest: &str, e: tokio::task::JoinError) -> StorageError {
    StorageError::Backend {
        provider: "upload",
        op: "join",
        url: dest.to_string(),
        status: None,
        message: e.to_string(),
        source: Some(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(types: &[&str]) -> UploadPolicy {
        UploadPolicy {
            compress_file_types: types.iter().map(|s| s.to_string()).collect(),
            media_types: BTreeMap::new(),
        }
    }

    #[test]
    fn compress_decision_matches_prow() {
        let p = policy(&["txt", "json"]);
        assert!(p.should_compress("a/build-log.txt"));
        assert!(p.should_compress("finished.json"));
        assert!(!p.should_compress("a/junit.xml"));
        assert!(!policy(&["*"]).should_compress("x.tar.gz"));
        assert!(!policy(&["gz"]).should_compress("x.gz"));
        assert!(policy(&["*"]).should_compress("Makefile"));
        assert!(!policy(&[]).should_compress("a.txt"));
        // Directories with dots do not give extensions.
        assert!(!p.should_compress("v1.txt/log"));

        let big = vec![b'a'; COMPRESS_MIN_SIZE + 1];
        let o = p
            .compression_for(
                "build-log.txt",
                big.len() as u64,
                &big,
                &PutOptions::default(),
            )
            .unwrap();
        assert_eq!(o.content_type.as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(o.content_encoding.as_deref(), Some("gzip"));
        // Exactly 1 KiB stays as is, as do gzip files under another name.
        assert!(
            p.compression_for("a.txt", 1024, &big, &PutOptions::default())
                .is_none()
        );
        assert!(
            p.compression_for("a.txt", 5000, &[0x1f, 0x8b, 0x08], &PutOptions::default())
                .is_none()
        );
        // The caller's metadata survives; its type is replaced like Prow's later writer options.
        let mut caller = PutOptions::content_type("application/octet-stream");
        caller.metadata.insert("k".into(), "v".into());
        let o = policy(&["*"])
            .compression_for("x.log", 5000, b"abc", &caller)
            .unwrap();
        assert_eq!(
            o.content_type.as_deref(),
            Some(DEFAULT_COMPRESSED_CONTENT_TYPE)
        );
        assert_eq!(o.metadata["k"], "v");
    }

    #[test]
    fn media_types() {
        let mut p = policy(&[]);
        assert_eq!(
            p.media_type("finished.json").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            p.media_type("x.HTML").as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(p.media_type("x.log"), None);
        assert_eq!(p.media_type("noext"), None);
        p.media_types.insert("log".into(), "text/plain".into());
        assert_eq!(p.media_type("a/b.log").as_deref(), Some("text/plain"));
    }

    #[test]
    fn gzip_round_trip() {
        let data = b"hello hello hello hello".repeat(100);
        let z = gzip(&data).unwrap();
        assert!(is_gzip(&z) && z.len() < data.len());
        assert_eq!(gunzip(&z).unwrap(), data);
        assert!(gunzip(b"not gzip").is_err());
    }
}
