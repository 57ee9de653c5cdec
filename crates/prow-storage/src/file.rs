//! `file://` buckets: objects are plain files under a root directory, so a local Deck or a
//! person can read them directly.
//!
//! Writes go to a hidden temporary file in the destination directory and are renamed into
//! place, so readers never see a partial object. Attributes a file cannot carry (content
//! type and encoding, cache control, metadata) are kept as small JSON files under
//! `<root>/.prow-storage-attrs/`; names starting with `.prow-storage-` are reserved and never
//! listed.
//!
//! Symbolic links are never followed below the root (see [`crate::safe_fs`]): a link planted
//! in the bucket directory is not an object, is not listed, and cannot be read through, and a
//! write never goes through a linked directory. The root itself may be reached through links
//! (it is configuration).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StorageError};
use crate::key::{group_by_delimiter, safe_relative_path, validate_key, validate_prefix};
use crate::location::StorageUrl;
use crate::safe_fs::{self, Entry, EntryKind};
use crate::{Attributes, ListPage, ObjectInfo, PutOptions, Storage};

/// Prefix of every name this backend reserves for itself.
pub const RESERVED_PREFIX: &str = ".prow-storage-";
const ATTRS_DIR: &str = ".prow-storage-attrs";
const TMP_PREFIX: &str = ".prow-storage-tmp-";

/// A directory used as a bucket.
#[derive(Clone, Debug)]
pub struct FileStorage {
    url: StorageUrl,
    root: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
struct StoredAttrs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
}

impl StoredAttrs {
    fn from_put(o: &PutOptions) -> Self {
        StoredAttrs {
            content_type: o.content_type.clone(),
            content_encoding: o.content_encoding.clone(),
            cache_control: o.cache_control.clone(),
            metadata: o.metadata.clone(),
        }
    }
}

/// Where an object's bytes come from.
enum Payload<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

impl FileStorage {
    /// A store rooted at the directory of a `file://` URL (created on first write).
    pub fn new(url: StorageUrl) -> Self {
        let root = PathBuf::from(url.bucket());
        FileStorage { url, root }
    }

    /// A store rooted at `dir`.
    pub fn at(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        Ok(FileStorage::new(StorageUrl::parse(&format!(
            "file://{}",
            dir.display()
        ))?))
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn check_key(&self, k: &str) -> Result<()> {
        validate_key(k)?;
        if k.split('/').any(|s| s.starts_with(RESERVED_PREFIX)) {
            return Err(StorageError::InvalidKey {
                key: k.to_string(),
                reason: "names starting with .prow-storage- are reserved by the file backend",
            });
        }
        Ok(())
    }

    fn object_path(&self, k: &str) -> PathBuf {
        self.root.join(k)
    }

    fn attrs_path(&self, k: &str) -> PathBuf {
        self.root.join(ATTRS_DIR).join(format!("{k}.json"))
    }

    fn not_found(&self, k: &str) -> StorageError {
        StorageError::NotFound {
            url: self.object_url(k),
        }
    }

    /// Map an I/O error on an object path, turning "missing" into [`StorageError::NotFound`].
    fn io_err(&self, op: &'static str, k: &str, path: &Path, e: io::Error) -> StorageError {
        if e.kind() == io::ErrorKind::NotFound {
            self.not_found(k)
        } else {
            StorageError::io(op, path.display(), e)
        }
    }

    fn open_object(&self, k: &str) -> Result<(fs::File, u64)> {
        let path = self.object_path(k);
        let rel = safe_relative_path(k)?;
        // Object stores have no directories and no links: a directory, a link or a special
        // file at a key (or on the way to it) is "no such object".
        let f = safe_fs::open_beneath(&self.root, &rel).map_err(|e| match e.kind() {
            io::ErrorKind::InvalidInput | io::ErrorKind::NotADirectory => {
                tracing::debug!(key = k, error = %e, "file bucket: not an object");
                self.not_found(k)
            }
            _ => self.io_err("open", k, &path, e),
        })?;
        let meta = f.metadata().map_err(|e| self.io_err("stat", k, &path, e))?;
        Ok((f, meta.len()))
    }

    /// Refuse to write or delete through a directory that is a link (or not a directory):
    /// every existing directory on the way to `k` must be a real one.
    fn check_real_dirs(&self, k: &str) -> Result<()> {
        let rel = safe_relative_path(k)?;
        let mut so_far = PathBuf::new();
        let parts: Vec<_> = rel.iter().collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            so_far.push(part);
            match safe_fs::kind_beneath(&self.root, &so_far) {
                Ok(None) => return Ok(()),
                Ok(Some(EntryKind::Dir)) => {}
                Ok(Some(_)) => {
                    return Err(StorageError::InvalidKey {
                        key: k.to_string(),
                        reason: "a directory on the way is a symbolic link or a file",
                    });
                }
                Err(e) => {
                    return Err(StorageError::io(
                        "stat",
                        self.root.join(&so_far).display(),
                        e,
                    ));
                }
            }
        }
        Ok(())
    }

    fn write_blocking(&self, k: &str, payload: Payload<'_>, opts: &PutOptions) -> Result<()> {
        // Open the source before touching anything, so a missing file changes nothing.
        let mut source: Box<dyn Read> = match payload {
            Payload::File(p) => Box::new(
                safe_fs::open_regular_nofollow(p)
                    .map_err(|e| StorageError::io("open", p.display(), e))?,
            ),
            Payload::Bytes(b) => Box::new(b),
        };
        self.check_real_dirs(k)?;
        let dest = self.object_path(k);
        let parent = dest.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent)
            .map_err(|e| StorageError::io("create directory", parent.display(), e))?;
        if opts.if_not_exists && dest.exists() {
            return Err(StorageError::AlreadyExists {
                url: self.object_url(k),
            });
        }
        let attrs = StoredAttrs::from_put(opts);
        // Replacing: attributes first, so a reader that sees the new bytes sees their
        // encoding. Create-only: bytes first, so losing the race leaves the winner's
        // attributes alone.
        if !opts.if_not_exists {
            self.write_attrs(k, &attrs)?;
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempfile_in(&parent)
            .map_err(|e| StorageError::io("create temporary file in", parent.display(), e))?;
        io::copy(&mut source, tmp.as_file_mut())
            .map_err(|e| StorageError::io("write", dest.display(), e))?;
        if opts.if_not_exists {
            tmp.persist_noclobber(&dest).map_err(|e| {
                if e.error.kind() == io::ErrorKind::AlreadyExists {
                    StorageError::AlreadyExists {
                        url: self.object_url(k),
                    }
                } else {
                    StorageError::io("rename into", dest.display(), e.error)
                }
            })?;
            self.write_attrs(k, &attrs)?;
        } else {
            tmp.persist(&dest)
                .map_err(|e| StorageError::io("rename into", dest.display(), e.error))?;
        }
        Ok(())
    }

    fn write_attrs(&self, k: &str, attrs: &StoredAttrs) -> Result<()> {
        let path = self.attrs_path(k);
        if *attrs == StoredAttrs::default() {
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    Err(StorageError::io("remove", path.display(), e))
                }
                _ => Ok(()),
            };
        }
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&parent)
            .map_err(|e| StorageError::io("create directory", parent.display(), e))?;
        let json = serde_json::to_vec(attrs).map_err(|e| StorageError::Backend {
            provider: "file",
            op: "put",
            url: self.object_url(k),
            status: None,
            message: format!("encode attributes: {e}"),
            source: None,
        })?;
        let mut tmp = tempfile::Builder::new()
            .prefix(TMP_PREFIX)
            .tempfile_in(&parent)
            .map_err(|e| StorageError::io("create temporary file in", parent.display(), e))?;
        tmp.write_all(&json)
            .map_err(|e| StorageError::io("write", path.display(), e))?;
        tmp.persist(&path)
            .map_err(|e| StorageError::io("rename into", path.display(), e.error))?;
        Ok(())
    }

    fn read_attrs(&self, k: &str) -> StoredAttrs {
        let path = self.attrs_path(k);
        match fs::read(&path) {
            Ok(data) => serde_json::from_slice(&data).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unreadable object attributes");
                StoredAttrs::default()
            }),
            Err(_) => StoredAttrs::default(),
        }
    }

    fn attributes_blocking(&self, k: &str) -> Result<Attributes> {
        let (f, size) = self.open_object(k)?;
        let updated = f
            .metadata()
            .ok()
            .and_then(|m| m.modified().ok())
            .map(DateTime::<Utc>::from);
        let a = self.read_attrs(k);
        Ok(Attributes {
            size,
            content_type: a.content_type,
            content_encoding: a.content_encoding,
            cache_control: a.cache_control,
            metadata: a.metadata,
            updated,
            etag: None,
        })
    }

    fn range_blocking(&self, k: &str, range: Range<u64>) -> Result<Bytes> {
        let (mut f, size) = self.open_object(k)?;
        if range.start >= range.end || range.start >= size {
            return Err(StorageError::InvalidRange {
                url: self.object_url(k),
                start: range.start,
                end: range.end,
            });
        }
        let end = range.end.min(size);
        let path = self.object_path(k);
        f.seek(SeekFrom::Start(range.start))
            .map_err(|e| StorageError::io("seek", path.display(), e))?;
        let mut buf = Vec::with_capacity(usize::try_from(end - range.start).unwrap_or(0));
        f.take(end - range.start)
            .read_to_end(&mut buf)
            .map_err(|e| StorageError::io("read", path.display(), e))?;
        Ok(buf.into())
    }

    fn list_blocking(&self, prefix: &str, delimiter: Option<&str>) -> Result<ListPage> {
        validate_prefix(prefix)?;
        let (dir, _) = prefix.rsplit_once('/').unwrap_or(("", prefix));
        let rel = Path::new(dir);
        let mut page = ListPage::default();
        if delimiter == Some("/") {
            // One directory level is enough: this is how Deck walks job history.
            for e in read_dir_sorted(&self.root, rel)? {
                let k = if dir.is_empty() {
                    e.name.clone()
                } else {
                    format!("{dir}/{}", e.name)
                };
                if !k.starts_with(prefix) {
                    continue;
                }
                match e.kind {
                    EntryKind::File => page.objects.push(object_info(k, &e)),
                    EntryKind::Dir if contains_file(&self.root, &rel.join(&e.name)) => {
                        page.prefixes.push(format!("{k}/"));
                    }
                    _ => {}
                }
            }
            return Ok(page);
        }
        let mut all = Vec::new();
        walk(&self.root, dir, &mut all)?;
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let (objects, prefixes) = group_by_delimiter(
            all.iter().map(|(k, _)| k.as_str()),
            prefix,
            delimiter.unwrap_or(""),
        );
        let by_key: BTreeMap<&str, &Entry> = all.iter().map(|(k, m)| (k.as_str(), m)).collect();
        page.objects = objects
            .into_iter()
            .filter_map(|k| by_key.get(k).map(|m| object_info(k.to_string(), m)))
            .collect();
        page.prefixes = prefixes;
        Ok(page)
    }

    fn delete_blocking(&self, k: &str) -> Result<()> {
        self.check_real_dirs(k)?;
        let path = self.object_path(k);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io("remove", path.display(), e)),
        }
        let attrs = self.attrs_path(k);
        if let Err(e) = fs::remove_file(&attrs)
            && e.kind() != io::ErrorKind::NotFound
        {
            return Err(StorageError::io("remove", attrs.display(), e));
        }
        // Like object stores, leave no empty "directories" behind (best effort: a
        // concurrent writer may have just created one).
        for start in [path.as_path(), attrs.as_path()] {
            let stop = if start == attrs.as_path() {
                self.root.join(ATTRS_DIR)
            } else {
                self.root.clone()
            };
            let mut dir = start.parent();
            while let Some(d) = dir {
                if d == stop || !d.starts_with(&stop) || fs::remove_dir(d).is_err() {
                    break;
                }
                dir = d.parent();
            }
        }
        Ok(())
    }
}

fn object_info(k: String, e: &Entry) -> ObjectInfo {
    ObjectInfo {
        key: k,
        size: e.size,
        updated: e.modified.map(DateTime::<Utc>::from),
    }
}

fn reserved(name: &str) -> bool {
    name.starts_with(RESERVED_PREFIX)
}

/// Entries of the directory `rel` below `root`, sorted, without reserved names, reached and
/// described without following links; a missing directory (or a link where one was expected)
/// is empty.
fn read_dir_sorted(root: &Path, rel: &Path) -> Result<Vec<Entry>> {
    let entries = match safe_fs::read_dir_beneath(root, rel) {
        Ok(e) => e,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new());
        }
        Err(e) => return Err(StorageError::io("list", root.join(rel).display(), e)),
    };
    Ok(entries
        .into_iter()
        .filter(|e| !reserved(&e.name))
        .filter(|e| {
            // Object stores have no links: a link is neither an object nor a directory to
            // descend into (which also rules out link loops).
            if e.kind == EntryKind::Symlink {
                tracing::debug!(dir = %root.join(rel).display(), name = %e.name, "file bucket: skipping a symbolic link");
            }
            matches!(e.kind, EntryKind::File | EntryKind::Dir)
        })
        .collect())
}

fn contains_file(root: &Path, rel: &Path) -> bool {
    read_dir_sorted(root, rel).is_ok_and(|entries| {
        entries.iter().any(|e| {
            e.kind == EntryKind::File
                || (e.kind == EntryKind::Dir && contains_file(root, &rel.join(&e.name)))
        })
    })
}

fn walk(root: &Path, rel: &str, out: &mut Vec<(String, Entry)>) -> Result<()> {
    for e in read_dir_sorted(root, Path::new(rel))? {
        let k = if rel.is_empty() {
            e.name.clone()
        } else {
            format!("{rel}/{}", e.name)
        };
        match e.kind {
            EntryKind::Dir => walk(root, &k, out)?,
            EntryKind::File => out.push((k, e)),
            _ => {}
        }
    }
    Ok(())
}

/// Run blocking file work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Backend {
            provider: "file",
            op: "join",
            url: String::new(),
            status: None,
            message: e.to_string(),
            source: Some(Box::new(e)),
        })?
}

#[async_trait]
impl Storage for FileStorage {
    fn url(&self) -> &StorageUrl {
        &self.url
    }

    async fn put(&self, k: &str, data: Bytes, opts: &PutOptions) -> Result<()> {
        self.check_key(k)?;
        let (this, k, opts) = (self.clone(), k.to_string(), opts.clone());
        blocking(move || this.write_blocking(&k, Payload::Bytes(&data), &opts)).await
    }

    async fn put_file(&self, k: &str, path: &Path, opts: &PutOptions) -> Result<()> {
        self.check_key(k)?;
        let (this, k, opts, src) = (
            self.clone(),
            k.to_string(),
            opts.clone(),
            path.to_path_buf(),
        );
        blocking(move || this.write_blocking(&k, Payload::File(&src), &opts)).await
    }

    async fn get(&self, k: &str) -> Result<Bytes> {
        self.check_key(k)?;
        let (this, k) = (self.clone(), k.to_string());
        blocking(move || {
            let (mut f, size) = this.open_object(&k)?;
            let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            f.read_to_end(&mut buf)
                .map_err(|e| StorageError::io("read", this.object_path(&k).display(), e))?;
            Ok(Bytes::from(buf))
        })
        .await
    }

    async fn get_range(&self, k: &str, range: Range<u64>) -> Result<Bytes> {
        self.check_key(k)?;
        let (this, k) = (self.clone(), k.to_string());
        blocking(move || this.range_blocking(&k, range)).await
    }

    async fn attributes(&self, k: &str) -> Result<Attributes> {
        self.check_key(k)?;
        let (this, k) = (self.clone(), k.to_string());
        blocking(move || this.attributes_blocking(&k)).await
    }

    async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        _page_token: Option<&str>,
    ) -> Result<ListPage> {
        let (this, prefix, delimiter) = (
            self.clone(),
            prefix.to_string(),
            delimiter.map(str::to_string),
        );
        blocking(move || this.list_blocking(&prefix, delimiter.as_deref())).await
    }

    async fn delete(&self, k: &str) -> Result<()> {
        self.check_key(k)?;
        let (this, k) = (self.clone(), k.to_string());
        blocking(move || this.delete_blocking(&k)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, FileStorage) {
        let dir = tempfile::tempdir().unwrap();
        let s = FileStorage::at(dir.path()).unwrap();
        (dir, s)
    }

    #[tokio::test]
    async fn reserved_names_and_hidden_files() {
        let (dir, s) = store();
        s.put(
            "a/x",
            Bytes::from_static(b"1"),
            &PutOptions::content_type("text/plain"),
        )
        .await
        .unwrap();
        assert!(dir.path().join(ATTRS_DIR).join("a/x.json").is_file());
        for bad in [".prow-storage-attrs/a/x.json", "a/.prow-storage-tmp-1"] {
            assert!(matches!(
                s.put(bad, Bytes::new(), &PutOptions::default()).await,
                Err(StorageError::InvalidKey { .. })
            ));
        }
        // A stray temporary file (a crashed writer) is never listed.
        fs::write(dir.path().join("a/.prow-storage-tmp-zzz"), "partial").unwrap();
        let l = s.list("", None).await.unwrap();
        let keys: Vec<_> = l.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, vec!["a/x"]);
        let l = s.list("", Some("/")).await.unwrap();
        assert_eq!(l.prefixes, vec!["a/"]);
    }

    #[tokio::test]
    async fn overwrite_without_attributes_clears_them() {
        let (dir, s) = store();
        let mut o = PutOptions::content_type("application/json");
        o.metadata.insert("k".into(), "v".into());
        s.put("x.json", Bytes::from_static(b"{}"), &o)
            .await
            .unwrap();
        s.put("x.json", Bytes::from_static(b"[]"), &PutOptions::default())
            .await
            .unwrap();
        let a = s.attributes("x.json").await.unwrap();
        assert_eq!(a.content_type, None);
        assert!(a.metadata.is_empty());
        assert!(!dir.path().join(ATTRS_DIR).join("x.json.json").exists());
    }

    #[tokio::test]
    async fn directories_are_not_objects_and_deletes_prune() {
        let (dir, s) = store();
        s.put(
            "d/e/f",
            Bytes::from_static(b"1"),
            &PutOptions::content_type("t"),
        )
        .await
        .unwrap();
        assert!(s.get("d/e").await.unwrap_err().is_not_found());
        // An empty directory is not a common prefix.
        fs::create_dir_all(dir.path().join("empty/sub")).unwrap();
        let l = s.list("", Some("/")).await.unwrap();
        assert_eq!(l.prefixes, vec!["d/"]);
        s.delete("d/e/f").await.unwrap();
        assert!(!dir.path().join("d").exists());
        assert!(!dir.path().join(ATTRS_DIR).join("d").exists());
        s.delete("d/e/f").await.unwrap();
    }

    /// A link planted in the bucket directory is not an object: not listed, not readable,
    /// not a directory to read or write through, whatever it points to.
    #[tokio::test]
    async fn symlinks_are_never_followed() {
        let (dir, s) = store();
        let outside = tempfile::tempdir().unwrap();
        let marker = "host-file-marker-5b1f";
        fs::write(outside.path().join("secret"), marker).unwrap();
        s.put("real/f", Bytes::from_static(b"1"), &PutOptions::default())
            .await
            .unwrap();
        let root = dir.path();
        std::os::unix::fs::symlink(root.join("real/f"), root.join("real/link")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("real/leak")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
        // A loop back to the root must not be followed.
        std::os::unix::fs::symlink(root, root.join("real/loop")).unwrap();
        let l = s.list("", None).await.unwrap();
        let keys: Vec<_> = l.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, vec!["real/f"]);
        let l = s.list("", Some("/")).await.unwrap();
        assert_eq!(l.prefixes, vec!["real/"]);
        assert!(s.list("out/", None).await.unwrap().objects.is_empty());
        assert!(s.list("out/", Some("/")).await.unwrap().objects.is_empty());
        for k in ["real/link", "real/leak", "out/secret", "real/loop/real/f"] {
            let e = s.get(k).await.unwrap_err();
            assert!(e.is_not_found(), "{k}: {e}");
            assert!(
                s.get_range(k, 0..10).await.unwrap_err().is_not_found(),
                "{k}"
            );
            assert!(s.attributes(k).await.unwrap_err().is_not_found(), "{k}");
            assert!(!s.exists(k).await.unwrap(), "{k}");
        }
        // Writing or deleting through a linked directory is refused; nothing lands outside.
        assert!(
            s.put("out/new", Bytes::from_static(b"x"), &PutOptions::default())
                .await
                .is_err()
        );
        assert!(!outside.path().join("new").exists());
        assert!(s.delete("out/secret").await.is_err());
        assert!(outside.path().join("secret").exists());
        // put_file never reads a link's target.
        let src = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), src.path().join("l")).unwrap();
        assert!(
            s.put_file("up", &src.path().join("l"), &PutOptions::default())
                .await
                .is_err()
        );
        assert!(!s.exists("up").await.unwrap());
    }

    #[tokio::test]
    async fn attack_keys_are_refused() {
        let (_dir, s) = store();
        for bad in [
            "/etc/passwd",
            "//etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a\\..\\b",
            "a\u{0}b",
            "a/",
        ] {
            for e in [
                s.get(bad).await.unwrap_err(),
                s.get_range(bad, 0..1).await.unwrap_err(),
                s.attributes(bad).await.unwrap_err(),
                s.put(bad, Bytes::new(), &PutOptions::default())
                    .await
                    .unwrap_err(),
                s.delete(bad).await.unwrap_err(),
            ] {
                assert_eq!(e.metric_label(), "invalid_key", "{bad:?}: {e}");
            }
        }
        for bad in ["/etc", "../", "a/../", "a\\b", "a\u{0}"] {
            assert!(s.list(bad, None).await.is_err(), "{bad:?}");
            assert!(s.list(bad, Some("/")).await.is_err(), "{bad:?}");
        }
    }
}
