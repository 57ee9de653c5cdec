//! Helpers for tests that run the real `prow` binary as processes talking over loopback HTTP.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (SIGKILL) when dropped.
pub struct Proc {
    pub child: Child,
    pub name: &'static str,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Path of the built `prow` binary.
pub fn prow_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_prow"))
}

/// Starts `prow <args>`, logging to `<dir>/<name>.log`.
pub fn spawn(name: &'static str, dir: &Path, args: &[String]) -> Proc {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .unwrap();
    let child = Command::new(prow_bin())
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("spawning prow {name}: {e}"));
    Proc { child, name }
}

/// A currently free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `url` answers 200 (any status when `any_status`).
pub async fn wait_ok(url: &str, proc_log: &Path) {
    wait_http(url, proc_log, false).await
}

/// Waits until something answers HTTP at `url`.
pub async fn wait_up(url: &str, proc_log: &Path) {
    wait_http(url, proc_log, true).await
}

async fn wait_http(url: &str, proc_log: &Path, any_status: bool) {
    let c = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = c.get(url).send().await
            && (any_status || r.status() == 200)
        {
            return;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(proc_log).unwrap_or_default();
            panic!("{url} never became ready; log:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The corpus folder (tests need `shared/` beside the checkout).
pub fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        p.is_dir(),
        "corpus missing at {} (shared/ must sit beside the checkout)",
        p.display()
    );
    p
}
