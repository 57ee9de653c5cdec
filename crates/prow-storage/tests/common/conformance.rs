//! One behaviour contract, run against every backend (local directory, moto's S3, fake-gcs-server).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use prow_storage::upload::{self, UploadPolicy};
use prow_storage::{PutOptions, Storage, StorageError};

/// Deterministic incompressible bytes (xorshift), so large-object checks compare real data.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn keys(l: &prow_storage::Listing) -> Vec<&str> {
    l.objects.iter().map(|o| o.key.as_str()).collect()
}

/// The whole contract. `label` names the backend in failure messages.
pub async fn run(s: Arc<dyn Storage>, label: &str) {
    missing_objects(s.as_ref(), label).await;
    put_get_attributes(s.as_ref(), label).await;
    create_only(s.as_ref(), label).await;
    ranges(s.as_ref(), label).await;
    listing(s.as_ref(), label).await;
    gzip_round_trip(s.as_ref(), label).await;
    large_objects(s.as_ref(), label).await;
}

async fn missing_objects(s: &dyn Storage, label: &str) {
    let k = "logs/none/1/started.json";
    assert!(s.get(k).await.unwrap_err().is_not_found(), "{label}: get");
    assert!(
        s.attributes(k).await.unwrap_err().is_not_found(),
        "{label}: attributes"
    );
    assert!(
        s.get_range(k, 0..4).await.unwrap_err().is_not_found(),
        "{label}: range"
    );
    assert!(!s.exists(k).await.unwrap(), "{label}: exists");
    s.delete(k)
        .await
        .unwrap_or_else(|e| panic!("{label}: delete missing: {e}"));
    let e = s
        .put("a//b", Bytes::new(), &PutOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, StorageError::InvalidKey { .. }),
        "{label}: {e:?}"
    );
}

async fn put_get_attributes(s: &dyn Storage, label: &str) {
    let k = "pr-logs/directory/pull-test/42.txt";
    let link = s.object_url("pr-logs/pull/org_repo/1/pull-test/42");
    let mut o = PutOptions::content_type(upload::TEXT_PLAIN);
    o.metadata.insert("x-goog-meta-link".into(), link.clone());
    o.cache_control = Some("no-cache".into());
    s.put(k, Bytes::from(link.clone()), &o).await.unwrap();
    assert_eq!(s.get(k).await.unwrap(), link.as_bytes(), "{label}");
    assert!(s.exists(k).await.unwrap(), "{label}");
    let a = s.attributes(k).await.unwrap();
    assert_eq!(a.size, link.len() as u64, "{label}");
    assert_eq!(
        a.content_type.as_deref(),
        Some(upload::TEXT_PLAIN),
        "{label}"
    );
    assert_eq!(a.cache_control.as_deref(), Some("no-cache"), "{label}");
    assert_eq!(
        a.metadata,
        BTreeMap::from([("x-goog-meta-link".to_string(), link.clone())]),
        "{label}"
    );
    assert!(a.updated.is_some(), "{label}: modification time");

    // Overwrite replaces bytes and attributes.
    s.put(
        k,
        Bytes::from_static(b"{}"),
        &PutOptions::content_type(upload::APPLICATION_JSON),
    )
    .await
    .unwrap();
    assert_eq!(&s.get(k).await.unwrap()[..], b"{}", "{label}");
    let a = s.attributes(k).await.unwrap();
    assert_eq!(
        a.content_type.as_deref(),
        Some(upload::APPLICATION_JSON),
        "{label}"
    );
    assert!(a.metadata.is_empty(), "{label}: {:?}", a.metadata);

    // Empty objects exist (Prow always creates the object, even for empty content).
    s.put("empty", Bytes::new(), &PutOptions::default())
        .await
        .unwrap();
    assert_eq!(s.get("empty").await.unwrap().len(), 0, "{label}");
    assert_eq!(s.attributes("empty").await.unwrap().size, 0, "{label}");

    // Names with characters that need escaping on the wire (Prow escapes `#` as `%23`).
    let odd = "artifacts/escape%23me/a b+c=d&e@f.txt";
    s.put(odd, Bytes::from_static(b"odd"), &PutOptions::default())
        .await
        .unwrap();
    assert_eq!(&s.get(odd).await.unwrap()[..], b"odd", "{label}");
    let l = s.list("artifacts/escape%23me/", None).await.unwrap();
    assert_eq!(keys(&l), vec![odd], "{label}");

    for k in [k, "empty", odd] {
        s.delete(k).await.unwrap();
        assert!(!s.exists(k).await.unwrap(), "{label}: {k} deleted");
    }
}

async fn create_only(s: &dyn Storage, label: &str) {
    let k = "logs/job/7/started.json";
    let create = PutOptions {
        if_not_exists: true,
        ..PutOptions::content_type(upload::APPLICATION_JSON)
    };
    s.put(k, Bytes::from_static(br#"{"a":1}"#), &create)
        .await
        .unwrap_or_else(|e| panic!("{label}: first create: {e}"));
    let e = s
        .put(k, Bytes::from_static(br#"{"b":2}"#), &create)
        .await
        .unwrap_err();
    assert!(e.is_already_exists(), "{label}: {e:?}");
    assert_eq!(
        &s.get(k).await.unwrap()[..],
        br#"{"a":1}"#,
        "{label}: not overwritten"
    );
    s.delete(k).await.unwrap();
}

async fn ranges(s: &dyn Storage, label: &str) {
    let k = "logs/job/8/build-log.txt";
    s.put(k, Bytes::from_static(b"0123456789"), &PutOptions::default())
        .await
        .unwrap();
    assert_eq!(&s.get_range(k, 0..4).await.unwrap()[..], b"0123", "{label}");
    assert_eq!(&s.get_range(k, 9..10).await.unwrap()[..], b"9", "{label}");
    assert_eq!(
        &s.get_range(k, 6..1000).await.unwrap()[..],
        b"6789",
        "{label}: cut at the end"
    );
    for bad in [10..12, 50..60, 3..3] {
        let e = s.get_range(k, bad.clone()).await.unwrap_err();
        assert!(
            matches!(e, StorageError::InvalidRange { .. }),
            "{label}: {bad:?}: {e:?}"
        );
    }
    s.delete(k).await.unwrap();
}

async fn listing(s: &dyn Storage, label: &str) {
    let names = [
        "logs/job/1/build-log.txt",
        "logs/job/1/finished.json",
        "logs/job/10/started.json",
        "logs/job/2/artifacts/junit.xml",
        "logs/job/latest-build.txt",
        "logs/other/3/started.json",
        "pr-logs/directory/job/5.txt",
    ];
    for (i, n) in names.iter().enumerate() {
        s.put(n, Bytes::from(vec![b'x'; i + 1]), &PutOptions::default())
            .await
            .unwrap();
    }
    let l = s.list("logs/job/", Some("/")).await.unwrap();
    assert_eq!(keys(&l), vec!["logs/job/latest-build.txt"], "{label}");
    assert_eq!(l.objects[0].size, 5, "{label}");
    assert_eq!(l.objects[0].name(), "latest-build.txt");
    assert_eq!(
        l.prefixes,
        vec!["logs/job/1/", "logs/job/10/", "logs/job/2/"],
        "{label}"
    );
    // A prefix is a string prefix, not a directory.
    let l = s.list("logs/job/1", Some("/")).await.unwrap();
    assert!(l.objects.is_empty(), "{label}");
    assert_eq!(l.prefixes, vec!["logs/job/1/", "logs/job/10/"], "{label}");
    let l = s.list("", Some("/")).await.unwrap();
    assert!(l.objects.is_empty(), "{label}: {:?}", l.objects);
    assert_eq!(l.prefixes, vec!["logs/", "pr-logs/"], "{label}");
    let l = s.list("logs/", None).await.unwrap();
    assert_eq!(keys(&l), names[..6].to_vec(), "{label}: flat listing");
    assert!(l.prefixes.is_empty(), "{label}");
    let l = s.list("nothing/", Some("/")).await.unwrap();
    assert_eq!(l, prow_storage::Listing::default(), "{label}");

    s.delete("logs/job/10/started.json").await.unwrap();
    let l = s.list("logs/job/", Some("/")).await.unwrap();
    assert_eq!(l.prefixes, vec!["logs/job/1/", "logs/job/2/"], "{label}");
    for n in names {
        s.delete(n).await.unwrap();
    }
    assert_eq!(
        s.list("", None).await.unwrap().objects,
        vec![],
        "{label}: all gone"
    );
}

async fn gzip_round_trip(s: &dyn Storage, label: &str) {
    let policy = UploadPolicy {
        compress_file_types: vec!["txt".into(), "log".into()],
        ..Default::default()
    };
    let log: Vec<u8> = (0..400)
        .flat_map(|i| format!("I1124 12:00:{i:02} step {i} passed\n").into_bytes())
        .collect();
    let k = "logs/job/9/build-log.txt";
    upload::upload_bytes(
        s,
        k,
        Bytes::from(log.clone()),
        &PutOptions::default(),
        &policy,
    )
    .await
    .unwrap();
    let a = s.attributes(k).await.unwrap();
    assert_eq!(a.content_encoding.as_deref(), Some("gzip"), "{label}");
    assert_eq!(
        a.content_type.as_deref(),
        Some("text/plain; charset=utf-8"),
        "{label}"
    );
    assert!(a.size < log.len() as u64, "{label}: stored compressed");
    let raw = s.get(k).await.unwrap();
    assert!(
        upload::is_gzip(&raw),
        "{label}: get returns the stored bytes"
    );
    assert_eq!(raw.len() as u64, a.size, "{label}");
    assert_eq!(upload::read_decoded(s, k).await.unwrap(), log, "{label}");

    // Small content and other types are stored as given.
    let small = "logs/job/9/small.txt";
    upload::upload_bytes(
        s,
        small,
        Bytes::from_static(b"tiny"),
        &PutOptions::default(),
        &policy,
    )
    .await
    .unwrap();
    assert_eq!(
        s.attributes(small).await.unwrap().content_encoding,
        None,
        "{label}"
    );
    assert_eq!(&upload::read_decoded(s, small).await.unwrap()[..], b"tiny");

    // A big log file streams through a compressed temporary file.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.log");
    let big: Vec<u8> = log.iter().copied().cycle().take(3 * 1024 * 1024).collect();
    std::fs::write(&src, &big).unwrap();
    let kf = "logs/job/9/artifacts/big.log";
    upload::upload_file(s, kf, &src, &PutOptions::default(), &policy)
        .await
        .unwrap();
    let a = s.attributes(kf).await.unwrap();
    assert_eq!(a.content_encoding.as_deref(), Some("gzip"), "{label}");
    assert_eq!(
        a.content_type.as_deref(),
        Some(upload::DEFAULT_COMPRESSED_CONTENT_TYPE)
    );
    assert_eq!(upload::read_decoded(s, kf).await.unwrap(), big, "{label}");
    for k in [k, small, kf] {
        s.delete(k).await.unwrap();
    }
}

async fn large_objects(s: &dyn Storage, label: &str) {
    // Larger than one chunk/part (8 MiB), so GCS goes resumable and S3 multipart.
    let len = 12 * 1024 * 1024 + 123;
    let data = noise(len, 0x5eed);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("artifact.bin");
    std::fs::write(&src, &data).unwrap();
    let k = "logs/job/11/artifacts/artifact.bin";
    let opts = PutOptions {
        content_type: Some("application/octet-stream".into()),
        metadata: BTreeMap::from([("origin".to_string(), "conformance".to_string())]),
        ..Default::default()
    };
    s.put_file(k, &src, &opts)
        .await
        .unwrap_or_else(|e| panic!("{label}: large put_file: {e}"));
    let a = s.attributes(k).await.unwrap();
    assert_eq!(a.size, len as u64, "{label}");
    assert_eq!(
        a.content_type.as_deref(),
        Some("application/octet-stream"),
        "{label}"
    );
    assert_eq!(
        a.metadata.get("origin").map(String::as_str),
        Some("conformance"),
        "{label}"
    );
    let got = s.get(k).await.unwrap();
    assert!(got[..] == data[..], "{label}: large object differs");
    // Across the 8 MiB boundary and at the tail.
    let b = 8 * 1024 * 1024u64;
    assert_eq!(
        s.get_range(k, b - 10..b + 10).await.unwrap()[..],
        data[(b - 10) as usize..(b + 10) as usize],
        "{label}"
    );
    assert_eq!(
        s.get_range(k, len as u64 - 3..len as u64 + 100)
            .await
            .unwrap()[..],
        data[len - 3..],
        "{label}"
    );
    // Create-only refuses even a large upload over an existing object.
    let create = PutOptions {
        if_not_exists: true,
        ..opts.clone()
    };
    let e = s.put_file(k, &src, &create).await.unwrap_err();
    assert!(e.is_already_exists(), "{label}: {e:?}");

    // A small file through put_file takes the single-request path.
    let small = dir.path().join("small.json");
    std::fs::write(&small, br#"{"passed":true}"#).unwrap();
    s.put_file(
        "logs/job/11/finished.json",
        &small,
        &PutOptions::content_type(upload::APPLICATION_JSON),
    )
    .await
    .unwrap();
    assert_eq!(
        &s.get("logs/job/11/finished.json").await.unwrap()[..],
        br#"{"passed":true}"#
    );
    let missing_src = dir.path().join("nope");
    assert!(matches!(
        s.put_file("x", &missing_src, &PutOptions::default()).await,
        Err(StorageError::Io { .. })
    ));
    s.delete(k).await.unwrap();
    s.delete("logs/job/11/finished.json").await.unwrap();
}
