//! `prow local`'s `/artifacts/...`: the local `file://` bucket over HTTP, read-only.
//!
//! The URL path is untrusted: it goes through the one key validator of `prow-storage`
//! ([`prow_storage::key::safe_relative_path`]) before it touches the file system, so an absolute
//! path (`/artifacts//etc/passwd`, `%2Fetc%2Fpasswd` once decoded), `.`/`..`/empty segments, a
//! backslash or a control character (`%00`) is a 400 that says why. Files and directories are
//! then opened without following any symbolic link below the bucket
//! ([`prow_storage::safe_fs`]): a link planted in the bucket is "not found", like in an object
//! store. Names reserved by the file backend (`.prow-storage-*`) stay hidden.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use prow_storage::file::RESERVED_PREFIX;
use prow_storage::safe_fs::{self, EntryKind};
use tokio::io::AsyncReadExt as _;

/// Bytes read per chunk when streaming a file.
const CHUNK: usize = 64 * 1024;

#[derive(Clone)]
struct Bucket {
    root: PathBuf,
}

/// The `/artifacts/` routes over the bucket directory `root`.
pub fn router(root: PathBuf) -> Router {
    Router::new()
        .route("/artifacts", get(root_listing))
        .route("/artifacts/", get(root_listing))
        .route("/artifacts/{*path}", get(artifact))
        .with_state(Bucket { root })
}

/// What a request path names, decided before any file is touched.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// The bucket root.
    Root,
    /// A validated relative path.
    Path(PathBuf),
    /// A name the file backend reserves: reported as missing.
    Hidden,
}

/// Map the (already percent-decoded) path after `/artifacts/` to a [`Target`], or the reason
/// it is refused.
fn target(path: &str) -> Result<Target, String> {
    if path.is_empty() {
        return Ok(Target::Root);
    }
    let rel = prow_storage::key::safe_relative_path(path).map_err(|e| e.to_string())?;
    if path.split('/').any(|s| s.starts_with(RESERVED_PREFIX)) {
        return Ok(Target::Hidden);
    }
    Ok(Target::Path(rel))
}

fn with_nosniff(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn not_found() -> Response {
    with_nosniff((StatusCode::NOT_FOUND, "not found\n").into_response())
}

async fn root_listing(State(b): State<Bucket>) -> Response {
    serve(b.root, String::new(), Target::Root).await
}

async fn artifact(State(b): State<Bucket>, UrlPath(path): UrlPath<String>) -> Response {
    match target(&path) {
        Ok(t) => serve(b.root, path, t).await,
        Err(reason) => {
            tracing::debug!(path = %path, reason = %reason, "refusing artifact path");
            with_nosniff(
                (
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    format!("bad artifact path: {reason}\n"),
                )
                    .into_response(),
            )
        }
    }
}

/// What the blocking part found.
enum Found {
    Listing(Vec<String>),
    File(std::fs::File),
    Missing,
}

fn look(root: &Path, rel: &Path) -> std::io::Result<Found> {
    match safe_fs::kind_beneath(root, rel)? {
        Some(EntryKind::Dir) => {
            let names = safe_fs::read_dir_beneath(root, rel)?
                .into_iter()
                // Only what the bucket serves: real files and directories, nothing reserved.
                .filter(|e| matches!(e.kind, EntryKind::File | EntryKind::Dir))
                .filter(|e| !e.name.starts_with(RESERVED_PREFIX))
                .map(|e| e.name)
                .collect();
            Ok(Found::Listing(names))
        }
        Some(EntryKind::File) => Ok(Found::File(safe_fs::open_beneath(root, rel)?)),
        // Links and special files are not objects; nothing there is nothing there.
        Some(EntryKind::Symlink | EntryKind::Other) | None => Ok(Found::Missing),
    }
}

async fn serve(root: PathBuf, path: String, t: Target) -> Response {
    let rel = match t {
        Target::Root => PathBuf::new(),
        Target::Path(p) => p,
        Target::Hidden => return not_found(),
    };
    let found = tokio::task::spawn_blocking(move || look(&root, &rel)).await;
    match found {
        Ok(Ok(Found::Listing(names))) => with_nosniff(listing(&path, &names).into_response()),
        Ok(Ok(Found::File(f))) => {
            let ct = if path.ends_with(".json") {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            let body = Body::from_stream(file_stream(tokio::fs::File::from_std(f)));
            with_nosniff(([(header::CONTENT_TYPE, ct)], body).into_response())
        }
        Ok(Ok(Found::Missing)) => not_found(),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => not_found(),
        Ok(Err(e)) => {
            tracing::debug!(path = %path, error = %e, "artifact not served");
            not_found()
        }
        Err(e) => {
            tracing::warn!(error = %e, "artifact lookup task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A file's bytes in chunks, so a large artifact is never held in memory.
fn file_stream(f: tokio::fs::File) -> impl futures::Stream<Item = std::io::Result<Vec<u8>>> + Send {
    futures::stream::unfold(Some(f), |state| async move {
        let mut f = state?;
        let mut buf = vec![0u8; CHUNK];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(f)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Percent-encode one path segment for a link (anything but unreserved characters).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn listing(dir: &str, names: &[String]) -> Html<String> {
    let prefix: String = dir
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", encode_segment(s)))
        .collect();
    let links: String = names
        .iter()
        .map(|n| {
            let href = format!("/artifacts{prefix}/{}", encode_segment(n));
            format!("<li><a href=\"{}\">{}</a></li>", esc(&href), esc(n))
        })
        .collect();
    Html(format!("<!doctype html><ul>{links}</ul>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_validated_before_any_file_access() {
        for bad in [
            "/etc/passwd",
            "//etc/passwd",
            "/",
            "..",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a\\..\\b",
            "a\u{0}b",
            "logs/",
        ] {
            let reason = target(bad).unwrap_err();
            assert!(reason.contains("invalid object name"), "{bad:?}: {reason}");
        }
        assert_eq!(target("").unwrap(), Target::Root);
        assert_eq!(
            target("logs/job/1/build-log.txt").unwrap(),
            Target::Path(PathBuf::from("logs/job/1/build-log.txt"))
        );
        assert_eq!(
            target(".prow-storage-attrs/a.json").unwrap(),
            Target::Hidden
        );
        assert_eq!(target("a/.prow-storage-tmp-1").unwrap(), Target::Hidden);
    }

    #[test]
    fn listing_links_are_encoded() {
        let html = listing("logs/a b", &["x#1".into(), "<y>".into()]).0;
        assert!(
            html.contains("href=\"/artifacts/logs/a%20b/x%231\""),
            "{html}"
        );
        assert!(html.contains("&lt;y&gt;"), "{html}");
    }
}
