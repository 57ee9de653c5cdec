//! `ConfigAgent`: the live config, reloaded when files change, keeping the last good config
//! when a new one does not load.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use crate::error::ConfigErrors;
use crate::load::{Config, LoadOptions, load};

/// Holds the current config; readers take cheap snapshots.
pub struct ConfigAgent {
    opts: LoadOptions,
    current: ArcSwap<Config>,
    fingerprint: std::sync::Mutex<Vec<(PathBuf, Option<SystemTime>, u64)>>,
}

impl ConfigAgent {
    /// Load the config once; fails if the first load fails.
    pub fn start(opts: LoadOptions) -> Result<Arc<ConfigAgent>, ConfigErrors> {
        let cfg = load(&opts)?;
        let fp = fingerprint(&opts);
        Ok(Arc::new(ConfigAgent {
            opts,
            current: ArcSwap::from_pointee(cfg),
            fingerprint: std::sync::Mutex::new(fp),
        }))
    }

    /// The config in force now.
    pub fn config(&self) -> Arc<Config> {
        self.current.load_full()
    }

    /// Reload now. On error the previous config stays live and the errors are returned.
    pub fn reload(&self) -> Result<(), ConfigErrors> {
        let fp = fingerprint(&self.opts);
        let cfg = load(&self.opts)?;
        self.current.store(Arc::new(cfg));
        if let Ok(mut g) = self.fingerprint.lock() {
            *g = fp;
        }
        Ok(())
    }

    /// Reload if any file under the config paths changed (mtime, size or set of files).
    /// Returns `Some(result)` when a reload was attempted.
    pub fn reload_if_changed(&self) -> Option<Result<(), ConfigErrors>> {
        let fp = fingerprint(&self.opts);
        let changed = self.fingerprint.lock().map(|g| *g != fp).unwrap_or(true);
        if !changed {
            return None;
        }
        let result = self.reload();
        if result.is_err()
            && let Ok(mut g) = self.fingerprint.lock()
        {
            // Remember the broken state so we do not retry until the files change again.
            *g = fp;
        }
        Some(result)
    }

    /// Poll for changes every `period` on a background thread until the handle is dropped.
    /// Polling (rather than inotify) also sees Kubernetes ConfigMap `..data` symlink swaps.
    pub fn watch(self: &Arc<Self>, period: Duration) -> WatchHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let agent = Arc::clone(self);
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::park_timeout(period);
                if flag.load(Ordering::Relaxed) {
                    break;
                }
                match agent.reload_if_changed() {
                    Some(Ok(())) => tracing::info!("config reloaded"),
                    Some(Err(e)) => {
                        tracing::error!(errors = %e, "config reload failed; keeping the previous config")
                    }
                    None => {}
                }
            }
        });
        WatchHandle {
            stop,
            thread: Some(thread),
        }
    }
}

/// Stops the watcher when dropped.
pub struct WatchHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

fn fingerprint(opts: &LoadOptions) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let mut out = Vec::new();
    let mut add = |p: &Path| {
        for e in ignore::WalkBuilder::new(p)
            .standard_filters(false)
            .follow_links(true)
            .build()
            .flatten()
        {
            if let Ok(md) = std::fs::metadata(e.path())
                && md.is_file()
            {
                out.push((e.path().to_path_buf(), md.modified().ok(), md.len()));
            }
        }
    };
    add(&opts.config_path);
    if let Some(j) = &opts.job_config_path {
        add(j);
    }
    for d in &opts.supplemental_prow_config_dirs {
        add(d);
    }
    out.sort();
    out
}
