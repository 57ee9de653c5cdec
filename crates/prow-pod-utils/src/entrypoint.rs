//! entrypoint: runs the test command in place of the container's original command.
//!
//! It tees the command's output to the process log, enforces the timeout (SIGINT, then SIGKILL
//! after the grace period, to the command's whole process group), forwards SIGINT/SIGTERM, and
//! finally writes the exit code into the marker file the sidecar waits for.
//!
//! Exit codes, as in Prow: the command's own code; `127` when it could not start, timed out or
//! the marker could not be written; `130` when interrupted; `1130` when a previous step
//! (`previous_marker`) failed; `-1` (exit status 255) when the command died from a signal.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::gotime;
use crate::log::{Logger, SharedSink};
use crate::signals::describe;
use crate::wrapper::{self, CancelToken, WrapperOptions};

/// Env var holding entrypoint's options.
pub const ENTRYPOINT_OPTIONS_ENV: &str = "ENTRYPOINT_OPTIONS";
/// Offset of Prow's internal codes.
pub const INTERNAL_CODE: i32 = 1000;
/// Could not start, timed out, or internal failure.
pub const INTERNAL_ERROR_CODE: i32 = 127;
/// Interrupted by a signal.
pub const ABORTED_ERROR_CODE: i32 = 130;
/// The previous step failed, so this one did not run.
pub const PREVIOUS_ERROR_CODE: i32 = INTERNAL_CODE + ABORTED_ERROR_CODE;
/// Timeout when the options give none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120 * 60);
/// Grace period when the options give none.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(15);
/// Where `--copy-mode-only` copies the binary by default.
pub const DEFAULT_COPY_DST: &str = "/tools/entrypoint";

/// How long to wait for the output pipe to close after the command was killed (a process
/// that left the group may still hold it).
const OUTPUT_DRAIN_AFTER_KILL: Duration = Duration::from_secs(1);

/// Prow's `entrypoint.Options` (`ENTRYPOINT_OPTIONS`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrypointOptions {
    /// Time limit, integer nanoseconds on the wire; zero means 2h.
    #[serde(with = "gotime", default)]
    pub timeout: Duration,
    /// Time between SIGINT and SIGKILL, integer nanoseconds; zero means 15s.
    #[serde(with = "gotime", default)]
    pub grace_period: Duration,
    /// Directory created for the job's artifacts.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub artifact_dir: String,
    /// Marker of a previous step to wait for; a non-zero code there skips this step.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub previous_marker: String,
    /// Exit 0 whatever happens (the marker still records the real code).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub always_zero: bool,
    /// On timeout or interrupt, report the command's own exit code instead of 127/130.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub propagate_error_code: bool,
    /// Only copy this binary to `copy_dst` and exit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub copy_mode_only: bool,
    /// Destination of copy mode.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub copy_dst: String,
    /// Command, log, marker and metadata locations.
    #[serde(flatten)]
    pub wrapper: WrapperOptions,
}

impl EntrypointOptions {
    /// Prow's validation.
    pub fn validate(&self) -> Result<(), String> {
        if self.wrapper.args.is_empty() {
            return Err("no process to wrap specified".into());
        }
        if self.propagate_error_code && self.always_zero {
            return Err("cannot propagate error code and always exit zero".into());
        }
        self.wrapper.validate()
    }

    fn timeout_or_default(&self) -> Duration {
        if self.timeout.is_zero() {
            DEFAULT_TIMEOUT
        } else {
            self.timeout
        }
    }

    fn grace_or_default(&self) -> Duration {
        if self.grace_period.is_zero() {
            DEFAULT_GRACE_PERIOD
        } else {
            self.grace_period
        }
    }
}

/// Writes to stdout and the process log.
struct Tee {
    file: File,
    to_stdout: bool,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.to_stdout {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(buf);
            let _ = out.flush();
        }
        self.file.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

enum Event {
    Exited(ExitStatus),
    OutputClosed,
    Signal(Signal),
}

/// Runs one wrapped command.
#[derive(Debug)]
pub struct Entrypoint {
    opts: EntrypointOptions,
    log: Logger,
    to_stdout: bool,
}

/// Go's rendering of a start failure.
fn start_error(program: &str, e: &std::io::Error) -> String {
    if !program.contains('/') && e.kind() == std::io::ErrorKind::NotFound {
        return format!("exec: {program:?}: executable file not found in $PATH");
    }
    let mut msg = e.to_string();
    if let Some(i) = msg.find(" (os error") {
        msg.truncate(i);
    }
    let mut chars = msg.chars();
    let msg = match chars.next() {
        Some(c) => c.to_lowercase().collect::<String>() + chars.as_str(),
        None => msg,
    };
    format!("fork/exec {program}: {msg}")
}

/// Go's `ExitStatus()`: the code, or -1 when killed by a signal.
fn exit_code(status: &ExitStatus) -> i32 {
    status.code().unwrap_or(-1)
}

fn describe_status(status: &ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => match Signal::try_from(s) {
            Ok(sig) => format!("signal: {}", describe(sig)),
            Err(_) => format!("signal: {s}"),
        },
        _ => "unknown exit status".into(),
    }
}

impl Entrypoint {
    /// An entrypoint that logs to stdout and the process log, like Prow's.
    pub fn new(opts: EntrypointOptions) -> Self {
        Entrypoint {
            opts,
            log: Logger::new("entrypoint").without_stderr(),
            to_stdout: true,
        }
    }

    /// Do not echo output to our stdout (tests).
    pub fn quiet(mut self) -> Self {
        self.to_stdout = false;
        self
    }

    /// Run the command, write the marker, and return the code to exit with.
    pub fn run(&self, interrupts: Receiver<Signal>) -> i32 {
        let (code, err) = self.execute_process(interrupts);
        if let Some(e) = err {
            self.log.log(
                crate::log::Level::Error,
                "Error executing test process",
                &[("error", e)],
            );
        }
        if let Err(e) = self.mark(code) {
            self.log.log(
                crate::log::Level::Error,
                "Error writing exit code to marker file",
                &[("error", e)],
            );
            // The real code must be in the marker before we may pretend success.
            return INTERNAL_ERROR_CODE;
        }
        if self.opts.always_zero { 0 } else { code }
    }

    /// Run the command and work out its exit code (Prow's `ExecuteProcess`).
    pub fn execute_process(&self, interrupts: Receiver<Signal>) -> (i32, Option<String>) {
        let o = &self.opts;
        if !o.artifact_dir.is_empty()
            && let Err(e) = fs::create_dir_all(&o.artifact_dir)
        {
            return (
                INTERNAL_ERROR_CODE,
                Some(format!(
                    "could not create artifact directory({}): {e}",
                    o.artifact_dir
                )),
            );
        }
        let file = match File::create(&o.wrapper.process_log) {
            Ok(f) => f,
            Err(e) => {
                return (
                    INTERNAL_ERROR_CODE,
                    Some(format!(
                        "could not create process logfile({}): {e}",
                        o.wrapper.process_log
                    )),
                );
            }
        };
        let sink: Arc<Mutex<Tee>> = Arc::new(Mutex::new(Tee {
            file,
            to_stdout: self.to_stdout,
        }));
        self.log.add_sink(sink.clone() as SharedSink);
        let result = self.execute_with_sink(&sink, interrupts);
        self.log.clear_sinks();
        result
    }

    fn execute_with_sink(
        &self,
        sink: &Arc<Mutex<Tee>>,
        interrupts: Receiver<Signal>,
    ) -> (i32, Option<String>) {
        let o = &self.opts;
        let (tx, events) = mpsc::channel::<Event>();
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for sig in interrupts {
                    if tx.send(Event::Signal(sig)).is_err() {
                        break;
                    }
                }
            });
        }

        if !o.previous_marker.is_empty() {
            match self.wait_previous(&events) {
                Err(e) => return (INTERNAL_ERROR_CODE, Some(e)),
                Ok(0) => {}
                Ok(code) => {
                    self.log
                        .info(&format!("Skipping as previous step exited {code}"));
                    return (PREVIOUS_ERROR_CODE, None);
                }
            }
        }

        let program = &o.wrapper.args[0];
        let (reader, writer) = match std::io::pipe() {
            Ok(p) => p,
            Err(e) => {
                return (
                    INTERNAL_ERROR_CODE,
                    Some(format!("create output pipe: {e}")),
                );
            }
        };
        let writer2 = match writer.try_clone() {
            Ok(w) => w,
            Err(e) => {
                return (
                    INTERNAL_ERROR_CODE,
                    Some(format!("create output pipe: {e}")),
                );
            }
        };
        let mut cmd = Command::new(program);
        cmd.args(&o.wrapper.args[1..])
            .stdin(Stdio::inherit())
            .stdout(writer)
            .stderr(writer2)
            // Own process group, so timeouts reach everything the command started.
            .process_group(0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("could not start the process: {}", start_error(program, &e));
                let mut errs = msg.clone();
                if let Ok(mut s) = sink.lock()
                    && let Err(we) = s.file.write_all(msg.as_bytes())
                {
                    errs = format!("[{msg}, {we}]");
                }
                return (INTERNAL_ERROR_CODE, Some(errs));
            }
        };
        // Drop our copies of the write end so EOF arrives when the command's side closes.
        drop(cmd);
        let pgid = Pid::from_raw(child.id() as i32);

        {
            let tx = tx.clone();
            let sink = sink.clone();
            std::thread::spawn(move || copy_output(reader, &sink, &tx));
        }
        std::thread::spawn(move || {
            if let Ok(status) = child.wait() {
                let _ = tx.send(Event::Exited(status));
            }
        });

        let timeout = o.timeout_or_default();
        let grace = o.grace_or_default();
        let deadline = Instant::now() + timeout;
        let mut status: Option<ExitStatus> = None;
        let mut closed = false;
        let mut cancelled = false;
        let mut aborted = false;
        while status.is_none() || !closed {
            let left = deadline.saturating_duration_since(Instant::now());
            match events.recv_timeout(left) {
                Ok(Event::Exited(s)) => status = Some(s),
                Ok(Event::OutputClosed) => closed = true,
                Ok(Event::Signal(sig)) => {
                    self.log
                        .error(&format!("Entrypoint received interrupt: {}", describe(sig)));
                    cancelled = true;
                    aborted = true;
                    self.terminate(pgid, &events, grace, Some(sig), &mut status, &mut closed);
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.log.error(&format!(
                        "Process did not finish before {} timeout",
                        gotime::format(timeout)
                    ));
                    cancelled = true;
                    self.terminate(pgid, &events, grace, None, &mut status, &mut closed);
                    break;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }

        let reported = |s: &Option<ExitStatus>| s.as_ref().map_or(-1, exit_code);
        if cancelled {
            let (code, err) = if aborted {
                (ABORTED_ERROR_CODE, "process aborted")
            } else {
                (INTERNAL_ERROR_CODE, "process timed out")
            };
            let code = if o.propagate_error_code {
                reported(&status)
            } else {
                code
            };
            return (code, Some(err.to_string()));
        }
        match status {
            Some(s) => {
                let code = exit_code(&s);
                let err =
                    (code != 0).then(|| format!("wrapped process failed: {}", describe_status(&s)));
                (code, err)
            }
            None => (1, Some("lost track of the wrapped process".into())),
        }
    }

    /// Wait for the previous step's marker; an interrupt cancels the wait.
    fn wait_previous(&self, events: &Receiver<Event>) -> Result<i32, String> {
        let marker = self.opts.previous_marker.clone();
        let cancel = CancelToken::new();
        let result = std::thread::scope(|s| {
            let c = cancel.clone();
            let m = marker.clone();
            let h = s.spawn(move || {
                wrapper::wait_for_markers(
                    std::slice::from_ref(&m),
                    &c,
                    wrapper::DEFAULT_POLL_INTERVAL,
                )
            });
            while !h.is_finished() {
                if let Ok(Event::Signal(sig)) = events.recv_timeout(Duration::from_millis(50)) {
                    self.log.error(&format!(
                        "Received interrupt {}, cancelling...",
                        describe(sig)
                    ));
                    cancel.cancel();
                }
            }
            h.join().unwrap_or_default()
        });
        match result.get(&marker) {
            Some(r) => match &r.error {
                Some(e) => Err(format!("wait for previous marker {marker}: {e}")),
                None => Ok(r.return_code),
            },
            None => Err(format!("wait for previous marker {marker}: no result")),
        }
    }

    /// SIGINT (plus the received signal) to the group, SIGKILL after the grace period.
    fn terminate(
        &self,
        pgid: Pid,
        events: &Receiver<Event>,
        grace: Duration,
        signal: Option<Signal>,
        status: &mut Option<ExitStatus>,
        closed: &mut bool,
    ) {
        if let Err(e) = killpg(pgid, Signal::SIGINT) {
            self.log.log(
                crate::log::Level::Error,
                "Could not interrupt process after timeout",
                &[("error", e.to_string())],
            );
        }
        if let Some(sig) = signal
            && sig != Signal::SIGINT
            && let Err(e) = killpg(pgid, sig)
        {
            self.log.log(
                crate::log::Level::Error,
                &format!(
                    "Could not send signal {} to process after timeout",
                    describe(sig)
                ),
                &[("error", e.to_string())],
            );
        }
        let deadline = Instant::now() + grace;
        // Further interrupts while we wait change nothing.
        let drain = |until: Instant, status: &mut Option<ExitStatus>, closed: &mut bool| {
            while status.is_none() || !*closed {
                match events.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(Event::Exited(s)) => *status = Some(s),
                    Ok(Event::OutputClosed) => *closed = true,
                    Ok(Event::Signal(_)) => {}
                    Err(_) => return false,
                }
            }
            true
        };
        if drain(deadline, status, closed) {
            self.log.error(&format!(
                "Process gracefully exited before {} grace period",
                gotime::format(grace)
            ));
            return;
        }
        self.log.error(&format!(
            "Process did not exit before {} grace period",
            gotime::format(grace)
        ));
        if let Err(e) = killpg(pgid, Signal::SIGKILL) {
            self.log.log(
                crate::log::Level::Error,
                "Could not kill process after grace period",
                &[("error", e.to_string())],
            );
        }
        // SIGKILL cannot be ignored, so the exit status arrives promptly.
        while status.is_none() {
            match events.recv_timeout(Duration::from_secs(5)) {
                Ok(Event::Exited(s)) => *status = Some(s),
                Ok(Event::OutputClosed) => *closed = true,
                Ok(Event::Signal(_)) => {}
                Err(_) => break,
            }
        }
        drain(Instant::now() + OUTPUT_DRAIN_AFTER_KILL, status, closed);
    }

    /// Write the exit code into the marker file atomically (temp file + rename), world-readable
    /// so a sidecar running as another user can read it.
    pub fn mark(&self, code: i32) -> Result<(), String> {
        let marker = Path::new(&self.opts.wrapper.marker_file);
        let dir = marker.parent().unwrap_or_else(|| Path::new("."));
        let tmp = dir.join(format!(
            ".{}-temp-marker-{}",
            self.opts.wrapper.container_name,
            std::process::id()
        ));
        let write = || -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(code.to_string().as_bytes())?;
            f.sync_all()?;
            drop(f);
            fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o777))?;
            fs::rename(&tmp, marker)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            format!(
                "could not write marker file ({}): {e}",
                self.opts.wrapper.marker_file
            )
        })
    }
}

fn copy_output(mut reader: std::io::PipeReader, sink: &Arc<Mutex<Tee>>, tx: &Sender<Event>) {
    let mut buf = [0u8; 32 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Ok(mut s) = sink.lock() {
                    let _ = s.write_all(&buf[..n]);
                }
            }
        }
    }
    let _ = tx.send(Event::OutputClosed);
}

/// `--copy-mode-only`: copy this binary to `dst` with its permissions (into the shared
/// `/tools` volume).
pub fn copy_self(dst: &str) -> Result<(), String> {
    let src = std::env::current_exe().map_err(|e| format!("locate own binary: {e}"))?;
    let body = fs::read(&src).map_err(|e| format!("read file '{}': {e}", src.display()))?;
    let mode = fs::metadata(&src)
        .map_err(|e| format!("read info '{}': {e}", src.display()))?
        .permissions();
    let dst = Path::new(dst);
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent)
            .map_err(|e| format!("create dir '{}': {e}", parent.display()))?;
    }
    fs::write(dst, body).map_err(|e| format!("write file '{}': {e}", dst.display()))?;
    fs::set_permissions(dst, mode).map_err(|e| format!("chmod '{}': {e}", dst.display()))
}

/// Flags accepted when `ENTRYPOINT_OPTIONS` is not set.
pub const FLAGS: &[crate::flags::FlagDef] = &[
    crate::flags::FlagDef::value("timeout"),
    crate::flags::FlagDef::value("grace-period"),
    crate::flags::FlagDef::value("artifact-dir"),
    crate::flags::FlagDef::boolean("copy-mode-only"),
    crate::flags::FlagDef::value("copy-destination"),
    crate::flags::FlagDef::boolean("propagate-error-code"),
    crate::flags::FlagDef::value("process-log"),
    crate::flags::FlagDef::value("marker-file"),
    crate::flags::FlagDef::value("metadata-file"),
];

/// Options from `ENTRYPOINT_OPTIONS`, else from flags (Prow's defaults apply to flags).
pub fn load_options(args: &[String]) -> Result<EntrypointOptions, String> {
    use crate::flags::{OptionSource, from_json, load};
    match load(ENTRYPOINT_OPTIONS_ENV, args, FLAGS)? {
        OptionSource::Json(j) => from_json(ENTRYPOINT_OPTIONS_ENV, &j),
        OptionSource::Flags(p) => {
            let dur = |name: &str, def: Duration| -> Result<Duration, String> {
                match p.get(name) {
                    None => Ok(def),
                    Some(v) => prow_api::Duration::parse_go(v)
                        .map(|d| d.get())
                        .map_err(|e| format!("invalid value {v:?} for flag -{name}: {e}")),
                }
            };
            let s = |name: &str| p.get(name).unwrap_or_default().to_string();
            Ok(EntrypointOptions {
                timeout: dur("timeout", DEFAULT_TIMEOUT)?,
                grace_period: dur("grace-period", DEFAULT_GRACE_PERIOD)?,
                artifact_dir: s("artifact-dir"),
                copy_mode_only: p.bool("copy-mode-only")?,
                copy_dst: p
                    .get("copy-destination")
                    .unwrap_or(DEFAULT_COPY_DST)
                    .to_string(),
                propagate_error_code: p.bool("propagate-error-code")?,
                wrapper: WrapperOptions {
                    args: p.args.clone(),
                    process_log: s("process-log"),
                    marker_file: s("marker-file"),
                    metadata_file: s("metadata-file"),
                    ..Default::default()
                },
                ..Default::default()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_json_shape_and_validation() {
        let raw = r#"{"timeout":7200000000000,"grace_period":10000000000,"artifact_dir":"/logs/artifacts","args":["/bin/thing","some","args"],"container_name":"test","process_log":"/logs/process-log.txt","marker_file":"/logs/marker-file.txt","metadata_file":"/logs/artifacts/metadata.json"}"#;
        let o: EntrypointOptions = serde_json::from_str(raw).unwrap();
        assert_eq!(o.timeout, Duration::from_secs(7200));
        assert_eq!(o.grace_period, Duration::from_secs(10));
        assert_eq!(o.wrapper.container_name, "test");
        assert_eq!(serde_json::to_string(&o).unwrap(), raw);
        assert!(o.validate().is_ok());
        let mut bad = o.clone();
        bad.wrapper.args.clear();
        assert_eq!(bad.validate().unwrap_err(), "no process to wrap specified");
        let mut bad = o.clone();
        bad.always_zero = true;
        bad.propagate_error_code = true;
        assert!(bad.validate().unwrap_err().contains("cannot propagate"));
        assert!(serde_json::from_str::<EntrypointOptions>(r#"{"timeout":"soon"}"#).is_err());
    }

    #[test]
    fn go_style_errors() {
        let e = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            start_error("nope", &e),
            "exec: \"nope\": executable file not found in $PATH"
        );
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(
            start_error("./nope", &e),
            "fork/exec ./nope: no such file or directory"
        );
    }
}
