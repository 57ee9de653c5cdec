//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use prow_github_fake::{Delivery, FakeGitHub};
use tokio::sync::broadcast;

/// The example seed shipped with the crate.
pub fn example_seed() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/seed.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A fake built from the example seed.
pub fn example() -> FakeGitHub {
    FakeGitHub::from_seed_yaml(&example_seed()).expect("example seed loads")
}

/// `shared/corpus`, failing clearly when it is missing.
pub fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        root.is_dir(),
        "corpus missing at {} (shared/ must sit beside the checkout)",
        root.display()
    );
    root
}

/// Every delivery currently queued on `rx`, without waiting.
pub fn drain(rx: &mut broadcast::Receiver<Delivery>) -> Vec<Delivery> {
    let mut out = Vec::new();
    while let Ok(d) = rx.try_recv() {
        out.push(d);
    }
    out
}

/// `(event type, action)` of each delivery.
pub fn kinds(deliveries: &[Delivery]) -> Vec<(String, String)> {
    deliveries
        .iter()
        .map(|d| {
            let v: serde_json::Value = serde_json::from_slice(&d.body).expect("payload is JSON");
            let action = v
                .get("action")
                .and_then(|a| a.as_str())
                .unwrap_or("")
                .to_owned();
            (d.event_type.clone(), action)
        })
        .collect()
}

/// Waits (bounded) for the next delivery.
pub async fn next(rx: &mut broadcast::Receiver<Delivery>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery within 10s")
        .expect("channel open")
}
