//! `s3://` buckets through `object_store`'s S3 client, configured the way Prow configures the
//! AWS SDK from its S3 credentials file (`providers.getS3Bucket`): static keys when both are
//! given (else the AWS default chain from the environment: `AWS_*` variables, web identity,
//! container and instance credentials), the region when given, a custom endpoint, path-style
//! addressing when `s3_force_path_style`, and no certificate verification when `insecure`.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path as ObjPath;
use object_store::{
    Attribute, AttributeValue, ClientConfigKey, ClientOptions, GetOptions, GetRange, ObjectStore,
    ObjectStoreExt, PutMode, PutMultipartOptions, PutPayload,
};
use tokio::io::AsyncReadExt;

use crate::credentials::{Credentials, Env, S3Credentials};
use crate::error::{Result, StorageError};
use crate::key::{strip_root, validate_key, validate_prefix};
use crate::location::{Provider, StorageUrl};
use crate::{Attributes, ListPage, ObjectInfo, PutOptions, Storage};

/// Files up to this size are sent in one request; larger ones as a multipart upload of parts
/// this big (S3 wants at least 5 MiB per part).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// An S3 (or S3-compatible) bucket.
#[derive(Debug)]
pub struct S3Storage {
    url: StorageUrl,
    root: String,
    store: Arc<AmazonS3>,
}

/// How requests address the bucket: the endpoint handed to the client and whether the bucket
/// is already part of its host name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Addressing {
    pub endpoint: Option<String>,
    pub virtual_hosted: bool,
    pub allow_http: bool,
}

/// A bucket name that can be a DNS label (what the AWS SDK checks before putting it into the
/// host name).
fn dns_hostable(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-')
}

fn is_ip_literal(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.parse::<std::net::IpAddr>().is_ok()
}

/// Decide addressing like the AWS SDK v2 does for Prow: virtual-hosted style
/// (`bucket.endpoint-host`) unless path style is forced, the endpoint host is an IP address, or
/// the bucket name cannot be a host label.
pub(crate) fn addressing(bucket: &str, creds: Option<&S3Credentials>, env: &Env) -> Addressing {
    let force_path = creds.is_some_and(|c| c.s3_force_path_style);
    let endpoint = creds.map(|c| c.endpoint.trim()).filter(|e| !e.is_empty());
    let Some(endpoint) = endpoint else {
        // An endpoint from the environment is used as given (object_store's convention).
        let env_endpoint = env.get("AWS_ENDPOINT").or(env.get("AWS_ENDPOINT_URL"));
        return Addressing {
            endpoint: None,
            virtual_hosted: env_endpoint.is_none() && !force_path && dns_hostable(bucket),
            allow_http: env_endpoint.is_some_and(|e| e.starts_with("http://")),
        };
    };
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.is_empty() => h,
        _ => authority,
    };
    let path = path.trim_end_matches('/');
    let base = |auth: &str| {
        if path.is_empty() {
            format!("{scheme}://{auth}")
        } else {
            format!("{scheme}://{auth}/{path}")
        }
    };
    let virtual_hosted = !force_path && !is_ip_literal(host) && dns_hostable(bucket);
    Addressing {
        endpoint: Some(if virtual_hosted {
            base(&format!("{bucket}.{authority}"))
        } else {
            base(authority)
        }),
        virtual_hosted,
        allow_http: scheme.eq_ignore_ascii_case("http"),
    }
}

/// The `object_store` builder for `bucket` with Prow's S3 credentials and the environment.
pub(crate) fn builder(bucket: &str, creds: Option<&S3Credentials>, env: &Env) -> AmazonS3Builder {
    // Our defaults first, so the environment (`AWS_*`) can override them, and Prow's
    // credentials file last, so it wins over both.
    let mut b = AmazonS3Builder::new().with_client_options(
        ClientOptions::new()
            .with_timeout(Duration::from_secs(300))
            .with_connect_timeout(Duration::from_secs(10)),
    );
    for (k, v) in env.iter() {
        if k.starts_with("AWS_")
            && let Ok(key) = k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>()
        {
            b = b.with_config(key, v);
        }
    }
    b = b.with_bucket_name(bucket);
    let a = addressing(bucket, creds, env);
    if let Some(e) = &a.endpoint {
        b = b.with_endpoint(e);
    }
    b = b.with_virtual_hosted_style_request(a.virtual_hosted);
    if a.allow_http {
        b = b.with_allow_http(true);
    }
    if let Some(c) = creds {
        if !c.access_key.is_empty() && !c.secret_key.is_empty() {
            b = b
                .with_access_key_id(&c.access_key)
                .with_secret_access_key(&c.secret_key);
            if !c.session_token.is_empty() {
                b = b.with_token(&c.session_token);
            }
        }
        if !c.region.is_empty() {
            b = b.with_region(&c.region);
        }
        if c.insecure {
            b = b.with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::AllowInvalidCertificates),
                "true",
            );
        }
    }
    b
}

impl S3Storage {
    /// A store for an `s3://` URL.
    pub fn new(url: StorageUrl, creds: &Credentials) -> Result<Self> {
        if url.provider() != Provider::S3 {
            return Err(StorageError::InvalidUrl {
                url: url.to_string(),
                reason: "not an s3:// URL".into(),
            });
        }
        let store = builder(url.bucket(), creds.s3.as_ref(), &creds.env)
            .build()
            .map_err(|e| StorageError::Credentials(format!("error creating s3 client: {e}")))?;
        Ok(S3Storage {
            root: url.prefix().to_string(),
            url,
            store: Arc::new(store),
        })
    }

    fn path(&self, k: &str) -> Result<ObjPath> {
        validate_key(k)?;
        let full = self.url.bucket_key(k);
        ObjPath::parse(&full).map_err(|_| StorageError::InvalidKey {
            key: k.to_string(),
            reason: "not a valid S3 object path",
        })
    }

    fn err(&self, op: &'static str, k: &str, e: object_store::Error) -> StorageError {
        let url = self.object_url(k);
        match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound { url },
            object_store::Error::AlreadyExists { .. }
            | object_store::Error::Precondition { .. } => StorageError::AlreadyExists { url },
            object_store::Error::PermissionDenied { source, .. }
            | object_store::Error::Unauthenticated { source, .. } => {
                StorageError::PermissionDenied {
                    url,
                    message: source.to_string(),
                }
            }
            other => StorageError::Backend {
                provider: "s3",
                op,
                url,
                status: None,
                message: other.to_string(),
                source: Some(Box::new(other)),
            },
        }
    }

    fn attributes_for(opts: &PutOptions) -> object_store::Attributes {
        let mut a = object_store::Attributes::new();
        let mut set = |k: Attribute, v: &Option<String>| {
            if let Some(v) = v {
                a.insert(k, AttributeValue::from(v.clone()));
            }
        };
        set(Attribute::ContentType, &opts.content_type);
        set(Attribute::ContentEncoding, &opts.content_encoding);
        set(Attribute::CacheControl, &opts.cache_control);
        for (k, v) in &opts.metadata {
            a.insert(
                Attribute::Metadata(k.clone().into()),
                AttributeValue::from(v.clone()),
            );
        }
        a
    }

    /// Create-only writes where the service has no conditional put: check first, as Prow's
    /// gocloud writer does (racy, but the best S3 offers there).
    async fn ensure_absent(&self, k: &str) -> Result<()> {
        match self.attributes(k).await {
            Ok(_) => Err(StorageError::AlreadyExists {
                url: self.object_url(k),
            }),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn put_payload(&self, k: &str, payload: PutPayload, opts: &PutOptions) -> Result<()> {
        let path = self.path(k)?;
        let mut po = object_store::PutOptions {
            attributes: Self::attributes_for(opts),
            ..Default::default()
        };
        if opts.if_not_exists {
            po.mode = PutMode::Create;
        }
        match self
            .store
            .put_opts(&path, payload.clone(), po.clone())
            .await
        {
            Ok(_) => Ok(()),
            Err(
                object_store::Error::NotImplemented { .. }
                | object_store::Error::NotSupported { .. },
            ) if opts.if_not_exists => {
                self.ensure_absent(k).await?;
                po.mode = PutMode::Overwrite;
                self.store
                    .put_opts(&path, payload, po)
                    .await
                    .map(|_| ())
                    .map_err(|e| self.err("put", k, e))
            }
            Err(e) => Err(self.err("put", k, e)),
        }
    }
}

async fn read_chunk(f: &mut tokio::fs::File, size: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(size);
    let mut taken = f.take(size as u64);
    taken.read_to_end(&mut buf).await?;
    Ok(buf)
}

#[async_trait]
impl Storage for S3Storage {
    fn url(&self) -> &StorageUrl {
        &self.url
    }

    async fn put(&self, k: &str, data: Bytes, opts: &PutOptions) -> Result<()> {
        self.put_payload(k, PutPayload::from(data), opts).await
    }

    async fn put_file(&self, k: &str, src: &Path, opts: &PutOptions) -> Result<()> {
        let path = self.path(k)?;
        let io = |op, e| StorageError::io(op, src.display(), e);
        // Never a link's target, never a FIFO (see `safe_fs`).
        let mut f = crate::safe_fs::open_regular_nofollow_async(src)
            .await
            .map_err(|e| io("open", e))?;
        let size = f.metadata().await.map_err(|e| io("stat", e))?.len();
        if size <= PART_SIZE as u64 {
            let data = read_chunk(&mut f, PART_SIZE)
                .await
                .map_err(|e| io("read", e))?;
            return self.put_payload(k, PutPayload::from(data), opts).await;
        }
        if opts.if_not_exists {
            self.ensure_absent(k).await?;
        }
        let mut upload = self
            .store
            .put_multipart_opts(
                &path,
                PutMultipartOptions {
                    attributes: Self::attributes_for(opts),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.err("put", k, e))?;
        let result: Result<()> = async {
            loop {
                let chunk = read_chunk(&mut f, PART_SIZE)
                    .await
                    .map_err(|e| io("read", e))?;
                if chunk.is_empty() {
                    break;
                }
                upload
                    .put_part(PutPayload::from(chunk))
                    .await
                    .map_err(|e| self.err("put", k, e))?;
            }
            upload.complete().await.map_err(|e| self.err("put", k, e))?;
            Ok(())
        }
        .await;
        if result.is_err()
            && let Err(e) = upload.abort().await
        {
            tracing::warn!(url = %self.object_url(k), error = %e, "aborting S3 multipart upload failed");
        }
        result
    }

    async fn get(&self, k: &str) -> Result<Bytes> {
        let path = self.path(k)?;
        let r = self
            .store
            .get(&path)
            .await
            .map_err(|e| self.err("get", k, e))?;
        r.bytes().await.map_err(|e| self.err("get", k, e))
    }

    async fn get_range(&self, k: &str, range: Range<u64>) -> Result<Bytes> {
        let path = self.path(k)?;
        let invalid = || StorageError::InvalidRange {
            url: self.object_url(k),
            start: range.start,
            end: range.end,
        };
        if range.start >= range.end {
            return Err(invalid());
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            ..Default::default()
        };
        match self.store.get_opts(&path, opts).await {
            Ok(r) => r.bytes().await.map_err(|e| self.err("get", k, e)),
            Err(e) => {
                let e = self.err("get", k, e);
                // S3 answers 416 for a range past the end; tell that apart from other failures.
                if matches!(e, StorageError::Backend { .. })
                    && let Ok(a) = self.attributes(k).await
                    && range.start >= a.size
                {
                    return Err(invalid());
                }
                Err(e)
            }
        }
    }

    async fn attributes(&self, k: &str) -> Result<Attributes> {
        let path = self.path(k)?;
        let r = self
            .store
            .get_opts(
                &path,
                GetOptions {
                    head: true,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.err("head", k, e))?;
        let mut out = Attributes {
            size: r.meta.size,
            updated: Some(r.meta.last_modified),
            etag: r.meta.e_tag.clone(),
            ..Default::default()
        };
        for (key, value) in r.attributes.iter() {
            let v = value.as_ref().to_string();
            match key {
                Attribute::ContentType => out.content_type = Some(v),
                Attribute::ContentEncoding => out.content_encoding = Some(v),
                Attribute::CacheControl => out.cache_control = Some(v),
                Attribute::Metadata(m) => {
                    out.metadata.insert(m.to_string(), v);
                }
                _ => {}
            }
        }
        Ok(out)
    }

    async fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        page_token: Option<&str>,
    ) -> Result<ListPage> {
        validate_prefix(prefix)?;
        let full = self.url.bucket_key(prefix);
        let opts = PaginatedListOptions {
            delimiter: delimiter.map(|d| d.to_string().into()),
            page_token: page_token.map(str::to_string),
            ..Default::default()
        };
        let r = self
            .store
            .list_paginated((!full.is_empty()).then_some(full.as_str()), opts)
            .await
            .map_err(|e| self.err("list", prefix, e))?;
        let mut page = ListPage {
            next_page_token: r.page_token,
            ..Default::default()
        };
        for o in r.result.objects {
            if let Some(k) = strip_root(&self.root, o.location.as_ref()) {
                page.objects.push(ObjectInfo {
                    key: k.to_string(),
                    size: o.size,
                    updated: Some(o.last_modified),
                });
            }
        }
        let delim = delimiter.unwrap_or("");
        for p in r.result.common_prefixes {
            if let Some(k) = strip_root(&self.root, p.as_ref()) {
                // object_store drops the trailing delimiter of common prefixes.
                let mut k = k.to_string();
                if !k.ends_with(delim) {
                    k.push_str(delim);
                }
                page.prefixes.push(k);
            }
        }
        page.objects.sort_by(|a, b| a.key.cmp(&b.key));
        page.prefixes.sort();
        Ok(page)
    }

    async fn delete(&self, k: &str) -> Result<()> {
        let path = self.path(k)?;
        match self.store.delete(&path).await {
            Ok(()) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("delete", k, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(endpoint: &str, path_style: bool) -> S3Credentials {
        S3Credentials {
            endpoint: endpoint.into(),
            s3_force_path_style: path_style,
            ..Default::default()
        }
    }

    #[test]
    fn addressing_like_the_aws_sdk() {
        let env = Env::default();
        let a = |bucket, c: Option<&S3Credentials>| addressing(bucket, c, &env);
        // AWS itself: virtual-hosted unless forced.
        let got = a("prow-artifacts", None);
        assert_eq!((got.endpoint, got.virtual_hosted), (None, true));
        let got = a("prow-artifacts", Some(&creds("", true)));
        assert!(!got.virtual_hosted);
        // Custom endpoint, virtual-hosted: the bucket becomes a host label.
        let got = a(
            "istio-prow",
            Some(&creds("https://account.r2.example.com", false)),
        );
        assert_eq!(
            got.endpoint.as_deref(),
            Some("https://istio-prow.account.r2.example.com")
        );
        assert!(got.virtual_hosted && !got.allow_http);
        // Path style keeps the endpoint.
        let got = a(
            "istio-prow",
            Some(&creds("https://account.r2.example.com/", true)),
        );
        assert_eq!(
            got.endpoint.as_deref(),
            Some("https://account.r2.example.com")
        );
        assert!(!got.virtual_hosted);
        // An IP endpoint (MinIO in a cluster, an emulator) is always path style; http allowed.
        let got = a("b-1", Some(&creds("http://127.0.0.1:9000", false)));
        assert_eq!(got.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(!got.virtual_hosted && got.allow_http);
        // Dotted bucket names cannot be host labels.
        assert!(!a("my.bucket", Some(&creds("https://s3.example.com", false))).virtual_hosted);
        // Missing scheme means https; ports are kept.
        let got = a("bkt", Some(&creds("minio.example.com:9000", false)));
        assert_eq!(
            got.endpoint.as_deref(),
            Some("https://bkt.minio.example.com:9000")
        );
        // An endpoint from the environment is used as given.
        let env: Env = [("AWS_ENDPOINT_URL", "http://127.0.0.1:1")]
            .into_iter()
            .collect();
        let got = addressing("bkt", None, &env);
        assert!(!got.virtual_hosted && got.allow_http && got.endpoint.is_none());
    }

    #[test]
    fn hostable_names() {
        for ok in ["abc", "istio-prow", "a1-b2"] {
            assert!(dns_hostable(ok), "{ok}");
        }
        for bad in ["ab", "Upper", "a.b", "-a", "a-", "a_b", &"x".repeat(64)] {
            assert!(!dns_hostable(bad), "{bad}");
        }
        assert!(is_ip_literal("10.0.0.1") && is_ip_literal("[::1]") && !is_ip_literal("minio"));
    }

    #[test]
    fn rejects_non_s3_urls_and_builds_clients() {
        let gs = StorageUrl::parse("gs://b").unwrap();
        assert!(S3Storage::new(gs, &Credentials::default()).is_err());
        let c = Credentials {
            s3: Some(S3Credentials {
                region: "auto".into(),
                endpoint: "https://account.r2.example.com".into(),
                access_key: "test-only".into(),
                secret_key: "test-only".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let s = S3Storage::new(StorageUrl::parse("s3://istio-prow/pre").unwrap(), &c).unwrap();
        assert_eq!(s.object_url("logs/x"), "s3://istio-prow/pre/logs/x");
        assert_eq!(s.path("logs/x").unwrap().as_ref(), "pre/logs/x");
        assert!(s.path("a//b").is_err());
    }
}
