//! Browser test: Deck served on 127.0.0.1 over a seeded store, driven by headless Chromium
//! through `tests/browser/deck.mjs` (playwright-core). Writes screenshots to
//! `docs/screenshots/` at the workspace root.
//!
//! Needs `/usr/bin/chromium` and `npm` (run `bash scripts/test.sh`, which installs both);
//! set `PROW_SKIP_BROWSER_TESTS=1` to skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::routing::post;
use common::*;
use prow_api::{ProwJobState, ProwJobType};
use prow_deck::DeckOptions;

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Installs playwright-core from the lock file on first run.
fn ensure_node_modules() {
    let dir = browser_dir();
    if dir.join("node_modules/playwright-core").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "`npm ci` in {} failed ({other:?}); run `bash scripts/test.sh` to install the browser test tools",
            dir.display()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_tide_pages_in_chromium() {
    if std::env::var("PROW_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
        eprintln!("PROW_SKIP_BROWSER_TESTS=1: skipping the browser test");
        return;
    }
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run `bash scripts/test.sh` (it installs Chromium), \
         or set PROW_SKIP_BROWSER_TESTS=1 to skip the browser test"
    );
    ensure_node_modules();

    let opts = DeckOptions {
        refresh_secs: 1,
        ..Default::default()
    };
    // Seed times end a few minutes ago so running durations look real in the screenshots
    // (the page's script measures them with the browser's clock).
    let by = chrono::Utc::now() - t(1000);
    let jobs = seed_jobs().into_iter().map(|j| shift(j, by)).collect();
    let s = deck_with_jobs(config(), opts, None, no_storage(), jobs).await;
    let store = s.store.clone();
    let test_routes = axum::Router::new().route(
        "/__test/add-job",
        post(move || {
            let store = store.clone();
            async move {
                let j = shift(
                    job(
                        "pj-new",
                        "pull-gamma-new",
                        ProwJobType::Presubmit,
                        ProwJobState::Pending,
                        "acme/alpha",
                        900,
                    ),
                    by,
                );
                match store.create(j).await {
                    Ok(_) => http::StatusCode::OK,
                    Err(_) => http::StatusCode::CONFLICT,
                }
            }
        }),
    );
    let app = s.deck.router().merge(test_routes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let token = s.token.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
    });

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    let base = format!("http://{addr}");
    let out = tokio::task::spawn_blocking({
        let shots = shots.clone();
        move || {
            Command::new("node")
                .arg(browser_dir().join("deck.mjs"))
                .arg(&base)
                .arg(&shots)
                .output()
        }
    })
    .await
    .unwrap()
    .expect("running node");
    s.token.cancel();
    let _ = server.await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "browser checks failed:\n{stdout}\n{stderr}"
    );
    for f in [
        "deck-jobs-desktop-light.png",
        "deck-jobs-desktop-dark.png",
        "deck-jobs-phone-light.png",
        "deck-jobs-phone-dark.png",
        "deck-tide-desktop-light.png",
    ] {
        assert!(shots.join(f).exists(), "screenshot {f} missing");
    }
}
