//! Secret hygiene: a full `prow local` run at debug/trace log level never prints a secret.
//!
//! `prow local` runs against a standalone `prow fake-github` (GitHub mode with an explicit
//! endpoint), so every secret is one the test planted: the bot's GitHub token file, the HMAC
//! secret file, the OAuth app's client secret, the simulator users' tokens, plus the cookie
//! secret `prow local` generates in its data dir. After driving activity (a `/test all` comment
//! that creates and runs jobs, a forged webhook, Deck pages, the login redirect), the process's
//! stdout and stderr are searched for each secret, raw and in its hex and base64 forms.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use common::*;

const HMAC: &str = "hmac-secret-5d41402abc4b2a76";
const BOT_TOKEN: &str = "ghp-bot-token-7c6a180b36896a0a";
const ALICE_TOKEN: &str = "ghp-alice-token-e4da3b7fbbce2345";
const CLIENT_SECRET: &str = "oauth-client-secret-1679091c5a880faf";

fn seed() -> String {
    format!(
        r#"
users:
  - {{login: prow-bot, token: {BOT_TOKEN}, type: Bot}}
  - {{login: alice, token: {ALICE_TOKEN}}}
orgs:
  - {{login: acme, members: [alice]}}
repos:
  - name: acme/widgets
    files: {{README.md: "widgets\n"}}
pull_requests:
  - {{repo: acme/widgets, number: 1, author: alice, title: Change, head: change, files: {{README.md: "better\n"}}}}
oauth_apps:
  - {{client_id: deck-client-id, client_secret: {CLIENT_SECRET}}}
"#
    )
}

const CONFIG: &str = r#"
prowjob_namespace: default
pod_namespace: test-pods
plank:
  default_decoration_config_entries:
  - config:
      timeout: 5m
      grace_period: 2s
      utility_images: {clonerefs: c, initupload: i, entrypoint: e, sidecar: s}
      gcs_configuration: {bucket: local-bucket, path_strategy: explicit}
"#;

const JOBS: &str = r#"
presubmits:
  acme/widgets:
  - name: pull-echo
    always_run: true
    decorate: true
    spec: {containers: [{image: alpine, command: [sh, -c, "echo hello"]}]}
"#;

const PLUGINS: &str =
    "plugins:\n  acme:\n    plugins: [trigger, lgtm, hold]\ntriggers:\n- repos: [acme]\n";

fn to_hex(raw: &[u8]) -> String {
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// One secret and the byte strings that would give it away.
struct Secret {
    name: String,
    forms: Vec<Vec<u8>>,
}

impl Secret {
    /// The raw value and its lowercase hex and standard/URL-safe base64 encodings; for binary
    /// secrets also Rust's `Debug` of the byte list.
    fn new(name: &str, raw: &[u8]) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let mut forms = vec![
            raw.to_vec(),
            to_hex(raw).into_bytes(),
            b64.trim_end_matches('=').as_bytes().to_vec(),
            b64url.into_bytes(),
        ];
        if std::str::from_utf8(raw).is_err() {
            forms.push(format!("{raw:?}").into_bytes());
            forms.push(format!("{raw:?}").replace(' ', "").into_bytes());
        }
        Secret {
            name: name.to_owned(),
            forms,
        }
    }
}

/// Names of the secrets any of whose forms occurs in `haystack`.
fn leaked(haystack: &[u8], secrets: &[Secret]) -> Vec<String> {
    secrets
        .iter()
        .filter(|s| {
            s.forms
                .iter()
                .filter(|f| f.len() >= 8)
                .any(|f| haystack.windows(f.len()).any(|w| w == f.as_slice()))
        })
        .map(|s| s.name.clone())
        .collect()
}

#[test]
fn the_search_finds_planted_secrets_in_every_form() {
    let raw = [7u8, 200, 13, 99, 0, 255, 31, 64, 1, 2];
    let secrets = [
        Secret::new("token", b"t0ken-value-42"),
        Secret::new("key", &raw),
    ];
    let clean = b"INFO hook: event received delivery=abc token=<redacted>".to_vec();
    assert!(leaked(&clean, &secrets).is_empty());
    let planted = [
        b"DEBUG auth header=Bearer t0ken-value-42".to_vec(),
        format!("x={}", to_hex(b"t0ken-value-42")).into_bytes(),
        format!(
            "cookie={}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
        .into_bytes(),
        format!(
            "cfg=AuthConfig {{ cookie_secret: Some({:?}) }}",
            raw.to_vec()
        )
        .into_bytes(),
    ];
    for (p, want) in planted.iter().zip(["token", "token", "key", "key"]) {
        assert_eq!(
            leaked(p, &secrets),
            vec![want],
            "{}",
            String::from_utf8_lossy(p)
        );
    }
}

async fn comment(api: &str, body: &str) {
    let r = reqwest::Client::new()
        .post(format!("{api}/repos/acme/widgets/issues/1/comments"))
        .header("Authorization", format!("token {ALICE_TOKEN}"))
        .json(&serde_json::json!({ "body": body }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

async fn final_jobs(base: &str) -> Option<usize> {
    let v: serde_json::Value = reqwest::get(format!("{base}/prowjobs.js"))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    let items = v["items"].as_array()?;
    let done = items
        .iter()
        .filter(|j| {
            matches!(
                j["status"]["state"].as_str(),
                Some("success" | "failure" | "error" | "aborted")
            )
        })
        .count();
    (done > 0).then_some(done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_prow_local_run_logs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = |p: &Path| p.to_string_lossy().into_owned();
    std::fs::write(d.join("seed.yaml"), seed()).unwrap();
    std::fs::write(d.join("config.yaml"), CONFIG).unwrap();
    std::fs::create_dir(d.join("jobs")).unwrap();
    std::fs::write(d.join("jobs/jobs.yaml"), JOBS).unwrap();
    std::fs::write(d.join("plugins.yaml"), PLUGINS).unwrap();
    std::fs::write(d.join("hmac"), format!("{HMAC}\n")).unwrap();
    std::fs::write(d.join("bot-token"), format!("{BOT_TOKEN}\n")).unwrap();
    let (pf, p, ph, pm) = (free_port(), free_port(), free_port(), free_port());
    std::fs::write(
        d.join("oauth.yaml"),
        format!(
            "client_id: deck-client-id\nclient_secret: {CLIENT_SECRET}\nredirect_url: http://127.0.0.1:{p}/github-login/redirect\nscopes: []\n"
        ),
    )
    .unwrap();

    let _fake = spawn(
        "fake-github",
        d,
        &[
            "fake-github".into(),
            format!("--listen=127.0.0.1:{pf}"),
            format!("--seed={}", s(&d.join("seed.yaml"))),
            format!("--webhook-url=http://127.0.0.1:{p}/hook"),
            format!("--hmac-secret-file={}", s(&d.join("hmac"))),
        ],
    );
    let api = format!("http://127.0.0.1:{pf}");
    wait_up(&format!("{api}/"), &d.join("fake-github.log")).await;

    // prow local, everything at debug and Prow's own crates at trace, stdout and stderr kept.
    let out_path = d.join("local.out");
    let out = std::fs::File::create(&out_path).unwrap();
    let child = Command::new(prow_bin())
        .args([
            "local".into(),
            format!("--config-path={}", s(&d.join("config.yaml"))),
            format!("--job-config-path={}", s(&d.join("jobs"))),
            format!("--plugin-config={}", s(&d.join("plugins.yaml"))),
            format!("--data-dir={}", s(&d.join("data"))),
            format!("--port={p}"),
            format!("--health-port={ph}"),
            format!("--metrics-port={pm}"),
            format!("--hmac-secret-file={}", s(&d.join("hmac"))),
            format!("--github-oauth-config-file={}", s(&d.join("oauth.yaml"))),
            format!("--github-endpoint={api}"),
            format!("--github-token-path={}", s(&d.join("bot-token"))),
        ])
        .env(
            "RUST_LOG",
            "debug,prow=trace,prow_hook=trace,prow_github=trace,prow_deck=trace,prow_deck_auth=trace,prow_plugins=trace,prow_controller=trace,prow_crier=trace,prow_executor=trace",
        )
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap();
    let mut local = Proc {
        child,
        name: "local",
    };
    let base = format!("http://127.0.0.1:{p}");
    wait_ok(&format!("http://127.0.0.1:{ph}/healthz/ready"), &out_path).await;

    // Activity: a comment that triggers a job through the signed webhook, a job run to the end,
    // a forged webhook, Deck pages, the login and its redirect.
    comment(&api, "/test all\n/hold").await;
    let done = eventually(
        "a job reaches a final state",
        Duration::from_secs(120),
        || final_jobs(&base),
    )
    .await;
    assert!(done >= 1);
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let forged = c
        .post(format!("{base}/hook"))
        .header("X-GitHub-Event", "issue_comment")
        .header("X-GitHub-Delivery", "forged-1")
        .header("X-Hub-Signature-256", format!("sha256={}", "0".repeat(64)))
        .header("Content-Type", "application/json")
        .body(r#"{"action":"created","repository":{"full_name":"acme/widgets"}}"#)
        .send()
        .await
        .unwrap();
    assert!(forged.status().is_client_error(), "{}", forged.status());
    for path in [
        "/",
        "/prowjobs.js",
        "/pr",
        "/github-login?dest=%2Fpr",
        "/github-login/redirect?code=bogus&state=bogus",
        "/plugin-help",
        "/tide",
    ] {
        let _ = c.get(format!("{base}{path}")).send().await.unwrap();
    }

    // The cookie secret prow local generated and keeps in its data dir.
    let cookie_b64 = std::fs::read_to_string(d.join("data/cookie-secret"))
        .expect("prow local keeps its cookie secret in the data dir");
    let cookie = prow_deck_auth::decode_cookie_secret(&cookie_b64).unwrap();

    let _ = local.child.kill();
    let _ = local.child.wait();
    let log = std::fs::read(&out_path).unwrap();
    assert!(
        log.len() > 10_000,
        "suspiciously little output ({} bytes): is RUST_LOG honoured?",
        log.len()
    );
    let text = String::from_utf8_lossy(&log);
    assert!(
        text.contains("DEBUG") || text.contains("debug"),
        "no debug lines in the output"
    );
    // The activity is in the log, so the search below looks at the code paths that hold the
    // secrets (webhook validation, GitHub calls, job runs).
    for expected in ["pull-echo", "acme/widgets"] {
        assert!(text.contains(expected), "{expected:?} never logged");
    }
    eprintln!("searched {} bytes of prow local output", log.len());

    let secrets = [
        Secret::new("HMAC secret", HMAC.as_bytes()),
        Secret::new("bot token", BOT_TOKEN.as_bytes()),
        Secret::new("simulator user token", ALICE_TOKEN.as_bytes()),
        Secret::new("OAuth client secret", CLIENT_SECRET.as_bytes()),
        Secret::new("cookie secret", &cookie),
        Secret::new("cookie secret file", cookie_b64.trim().as_bytes()),
    ];
    let found = leaked(&log, &secrets);
    assert!(
        found.is_empty(),
        "secrets in prow local's output: {found:?} (full output in {})",
        out_path.display()
    );
    drop(dir);
}
