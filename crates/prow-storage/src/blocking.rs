//! A synchronous facade over a [`Storage`] for programs without an async runtime of their own
//! (the pod utilities). Each call blocks the calling thread until the operation is done.
//!
//! Do not call these methods from inside an async task (tokio refuses to block there); from
//! async code, use the [`Storage`] directly or go through `spawn_blocking`.

use std::future::Future;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use tokio::runtime::{Handle, Runtime};

use crate::credentials::Credentials;
use crate::error::{Result, StorageError};
use crate::upload::{self, UploadPolicy};
use crate::{Attributes, Listing, PutOptions, Storage};

#[derive(Debug, Clone)]
enum Rt {
    Owned(Arc<Runtime>),
    Borrowed(Handle),
}

/// A [`Storage`] with blocking methods.
#[derive(Debug, Clone)]
pub struct BlockingStorage {
    inner: Arc<dyn Storage>,
    rt: Rt,
}

impl BlockingStorage {
    /// Wrap `inner`, with a small private runtime to drive it.
    pub fn new(inner: Arc<dyn Storage>) -> Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("prow-storage")
            .enable_all()
            .build()
            .map_err(|e| StorageError::io("start runtime", "tokio", e))?;
        Ok(BlockingStorage {
            inner,
            rt: Rt::Owned(Arc::new(rt)),
        })
    }

    /// Wrap `inner`, driving it on an existing multi-threaded runtime.
    pub fn with_handle(inner: Arc<dyn Storage>, handle: Handle) -> Self {
        BlockingStorage {
            inner,
            rt: Rt::Borrowed(handle),
        }
    }

    /// [`crate::open`] plus [`BlockingStorage::new`].
    pub fn open(url: &str, creds: &Credentials) -> Result<Self> {
        BlockingStorage::new(crate::open(url, creds)?)
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn Storage> {
        &self.inner
    }

    /// Run any future on this facade's runtime.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        match &self.rt {
            Rt::Owned(rt) => rt.block_on(f),
            Rt::Borrowed(h) => h.block_on(f),
        }
    }

    /// Full URL of an object.
    pub fn object_url(&self, key: &str) -> String {
        self.inner.object_url(key)
    }

    /// [`Storage::put`].
    pub fn put(&self, key: &str, data: impl Into<Bytes>, opts: &PutOptions) -> Result<()> {
        self.block_on(self.inner.put(key, data.into(), opts))
    }

    /// [`Storage::put_file`].
    pub fn put_file(&self, key: &str, src: &Path, opts: &PutOptions) -> Result<()> {
        self.block_on(self.inner.put_file(key, src, opts))
    }

    /// [`upload::upload_bytes`]: put with Prow's compression rule.
    pub fn upload_bytes(
        &self,
        key: &str,
        data: impl Into<Bytes>,
        opts: &PutOptions,
        policy: &UploadPolicy,
    ) -> Result<()> {
        self.block_on(upload::upload_bytes(
            self.inner.as_ref(),
            key,
            data.into(),
            opts,
            policy,
        ))
    }

    /// [`upload::upload_file`]: put a file with Prow's compression rule.
    pub fn upload_file(
        &self,
        key: &str,
        src: &Path,
        opts: &PutOptions,
        policy: &UploadPolicy,
    ) -> Result<()> {
        self.block_on(upload::upload_file(
            self.inner.as_ref(),
            key,
            src,
            opts,
            policy,
        ))
    }

    /// [`Storage::get`].
    pub fn get(&self, key: &str) -> Result<Bytes> {
        self.block_on(self.inner.get(key))
    }

    /// [`Storage::get_range`].
    pub fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes> {
        self.block_on(self.inner.get_range(key, range))
    }

    /// [`Storage::attributes`].
    pub fn attributes(&self, key: &str) -> Result<Attributes> {
        self.block_on(self.inner.attributes(key))
    }

    /// [`Storage::exists`].
    pub fn exists(&self, key: &str) -> Result<bool> {
        self.block_on(self.inner.exists(key))
    }

    /// [`Storage::list`].
    pub fn list(&self, prefix: &str, delimiter: Option<&str>) -> Result<Listing> {
        self.block_on(self.inner.list(prefix, delimiter))
    }

    /// [`Storage::delete`].
    pub fn delete(&self, key: &str) -> Result<()> {
        self.block_on(self.inner.delete(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::FileStorage;

    #[test]
    fn blocking_round_trip_on_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = BlockingStorage::new(Arc::new(FileStorage::at(dir.path()).unwrap())).unwrap();
        s.put(
            "a/b.txt",
            "hello",
            &PutOptions::content_type(upload::TEXT_PLAIN),
        )
        .unwrap();
        assert_eq!(&s.get("a/b.txt").unwrap()[..], b"hello");
        assert_eq!(&s.get_range("a/b.txt", 1..3).unwrap()[..], b"el");
        assert!(s.exists("a/b.txt").unwrap());
        let policy = UploadPolicy {
            compress_file_types: vec!["*".into()],
            ..Default::default()
        };
        s.upload_bytes("big.log", vec![b'x'; 4096], &PutOptions::default(), &policy)
            .unwrap();
        let a = s.attributes("big.log").unwrap();
        assert_eq!(a.content_encoding.as_deref(), Some("gzip"));
        assert!(a.size < 4096);
        assert_eq!(s.list("", Some("/")).unwrap().prefixes, vec!["a/"]);
        s.delete("a/b.txt").unwrap();
        assert!(!s.exists("a/b.txt").unwrap());
        assert!(s.object_url("k").starts_with("file://"));
    }
}
