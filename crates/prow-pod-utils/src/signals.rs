//! Delivering SIGINT and SIGTERM to a thread as channel messages, without `unsafe`.
//!
//! The signals are blocked in the calling thread (and so in every thread it spawns later) and
//! a dedicated thread collects them with `sigwait`. Child processes start with an empty signal
//! mask because the standard library resets it when spawning.

use std::sync::mpsc::{self, Receiver};

use nix::sys::signal::SigSet;
pub use nix::sys::signal::Signal;

/// Start collecting SIGINT and SIGTERM. Call it from `main` before any other thread starts.
pub fn interrupts() -> Result<Receiver<Signal>, String> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()
        .map_err(|e| format!("block interrupt signals: {e}"))?;
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            while let Ok(sig) = set.wait() {
                if tx.send(sig).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| format!("start signal thread: {e}"))?;
    Ok(rx)
}

/// The name Go prints for a signal (`interrupt`, `terminated`).
pub fn describe(sig: Signal) -> &'static str {
    match sig {
        Signal::SIGINT => "interrupt",
        Signal::SIGTERM => "terminated",
        Signal::SIGKILL => "killed",
        Signal::SIGHUP => "hangup",
        Signal::SIGQUIT => "quit",
        _ => sig.as_str(),
    }
}
