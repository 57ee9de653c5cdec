//! Running one container's command as a local process: its own process group, output to the
//! build log, and Prow entrypoint's timeout discipline (signal the group, wait the grace
//! period, then SIGKILL), with entrypoint's exit codes and log messages.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use prow_pod_utils::entrypoint::{ABORTED_ERROR_CODE, INTERNAL_ERROR_CODE};
use prow_pod_utils::gotime;
use prow_pod_utils::log::{Logger, SharedSink};
use tokio::process::{Child, Command};
use tokio::sync::watch;

/// What the executor asks of a running job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stop {
    /// Keep running.
    No,
    /// Stop gracefully (SIGTERM, SIGKILL after the grace period) and report as aborted.
    Abort,
    /// Stop now (SIGKILL): the run is being deleted.
    Kill,
}

/// One process to run.
#[derive(Clone, Debug)]
pub struct ProcessSpec {
    /// Full argv (already wrapped in the sandbox, when there is one).
    pub argv: Vec<String>,
    /// The complete environment.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Log file receiving stdout and stderr.
    pub log: PathBuf,
}

/// How a process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Entrypoint's exit code: the process's own, `127` when it could not start or timed out,
    /// `130` when aborted, `-1` when killed by a signal.
    pub code: i32,
    /// Why it failed, in entrypoint's words, for the run's message.
    pub message: Option<String>,
    /// Stopped by an abort or delete.
    pub aborted: bool,
}

/// A log sink appending to the build log (the job writes to the same file; `O_APPEND` keeps
/// both writers' lines whole).
fn log_sink(path: &PathBuf) -> std::io::Result<(Logger, File)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let logger = Logger::silent("entrypoint");
    let sink: SharedSink = Arc::new(Mutex::new(file.try_clone()?));
    logger.add_sink(sink);
    Ok((logger, file))
}

/// Start the process in its own process group with stdout and stderr appended to its log.
pub fn spawn(spec: &ProcessSpec) -> Result<(Child, Logger), String> {
    let (logger, file) =
        log_sink(&spec.log).map_err(|e| format!("could not create process log: {e}"))?;
    let Some((program, args)) = spec.argv.split_first() else {
        return Err("no process to run".into());
    };
    let stderr = file
        .try_clone()
        .map_err(|e| format!("could not create process log: {e}"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(&spec.env)
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(stderr))
        // Own group, so timeouts and aborts reach everything the command started.
        .process_group(0);
    match cmd.spawn() {
        Ok(child) => Ok((child, logger)),
        Err(e) => {
            let msg = format!("could not start the process: {program}: {e}");
            logger.error(&msg);
            Err(msg)
        }
    }
}

fn signal_group(pgid: Pid, sig: Signal, log: &Logger) {
    // ESRCH only means everything in the group is gone already.
    if let Err(e) = killpg(pgid, sig)
        && e != nix::errno::Errno::ESRCH
    {
        log.error(&format!("Could not send {sig} to process group: {e}"));
    }
}

/// Go's rendering of an exit status: `exit status 3`, `signal: killed`.
fn describe_status(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => match Signal::try_from(s) {
            Ok(sig) => format!("signal: {}", prow_pod_utils::signals::describe(sig)),
            Err(_) => format!("signal: {s}"),
        },
        _ => "unknown exit status".into(),
    }
}

fn code_of(status: &std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(-1)
}

/// Wait for the process, enforcing `timeout` (none for undecorated jobs) and reacting to
/// `stop`. Whatever happens, the whole group is SIGKILLed at the end: like a pod's
/// containers, nothing the job started outlives it.
pub async fn supervise(
    mut child: Child,
    log: &Logger,
    timeout: Option<Duration>,
    grace: Duration,
    mut stop: watch::Receiver<Stop>,
) -> Outcome {
    let Some(pid) = child.id() else {
        return Outcome {
            code: INTERNAL_ERROR_CODE,
            message: Some("lost track of the process".into()),
            aborted: false,
        };
    };
    let pgid = Pid::from_raw(pid as i32);
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let timed_out = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    let stop_requested = async {
        loop {
            let s = *stop.borrow_and_update();
            if s != Stop::No {
                return s;
            }
            if stop.changed().await.is_err() {
                // The executor is gone; nobody will ask again.
                std::future::pending::<()>().await;
            }
        }
    };
    enum Why {
        Exited(std::io::Result<std::process::ExitStatus>),
        Timeout,
        Stop(Stop),
    }
    let why = tokio::select! {
        s = child.wait() => Why::Exited(s),
        _ = timed_out => Why::Timeout,
        s = stop_requested => Why::Stop(s),
    };
    let outcome = match why {
        Why::Exited(Ok(status)) => {
            let code = code_of(&status);
            Outcome {
                code,
                message: (code != 0)
                    .then(|| format!("wrapped process failed: {}", describe_status(&status))),
                aborted: false,
            }
        }
        Why::Exited(Err(e)) => Outcome {
            code: INTERNAL_ERROR_CODE,
            message: Some(format!("lost track of the process: {e}")),
            aborted: false,
        },
        Why::Timeout => {
            let msg = format!(
                "Process did not finish before {} timeout",
                gotime::format(timeout.unwrap_or_default())
            );
            log.error(&msg);
            let grace_msg = terminate(&mut child, pgid, grace, log, false).await;
            Outcome {
                code: INTERNAL_ERROR_CODE,
                message: Some(match grace_msg {
                    Some(g) => format!("{msg}; {g}"),
                    None => msg,
                }),
                aborted: false,
            }
        }
        Why::Stop(s) => {
            log.error("Entrypoint received interrupt: terminated");
            let grace_msg = terminate(&mut child, pgid, grace, log, s == Stop::Kill).await;
            let msg = "process aborted".to_string();
            Outcome {
                code: ABORTED_ERROR_CODE,
                message: Some(match grace_msg {
                    Some(g) => format!("{msg}; {g}"),
                    None => msg,
                }),
                aborted: true,
            }
        }
    };
    signal_group(pgid, Signal::SIGKILL, log);
    outcome
}

/// SIGTERM the group (or SIGKILL at once when `now`), SIGKILL after `grace`. Returns
/// entrypoint's message when the grace period ran out.
async fn terminate(
    child: &mut Child,
    pgid: Pid,
    grace: Duration,
    log: &Logger,
    now: bool,
) -> Option<String> {
    if now {
        signal_group(pgid, Signal::SIGKILL, log);
        let _ = child.wait().await;
        return None;
    }
    signal_group(pgid, Signal::SIGTERM, log);
    if tokio::time::timeout(grace, child.wait()).await.is_ok() {
        log.error(&format!(
            "Process gracefully exited before {} grace period",
            gotime::format(grace)
        ));
        return None;
    }
    let msg = format!(
        "Process did not exit before {} grace period",
        gotime::format(grace)
    );
    log.error(&msg);
    signal_group(pgid, Signal::SIGKILL, log);
    let _ = child.wait().await;
    Some(msg)
}
