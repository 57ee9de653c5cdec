//! Leader election, so two replicas of a controller never act at once.
//!
//! * [`LeaseLock`] (feature `kube`): a `coordination.k8s.io/v1` Lease like client-go's
//!   `leaderelection` writes (`holderIdentity`, `leaseDurationSeconds`, `acquireTime`,
//!   `renewTime`, `leaseTransitions`). Every write carries the `resourceVersion` that was read, so
//!   two candidates racing for an expired lease cannot both win: the API server rejects the
//!   second write with 409.
//! * [`FileLock`]: an exclusive `flock` on a file, for the all-in-one mode on one machine.
//!
//! [`run_as_leader`] drives a lock: wait to acquire, run the work with a child cancellation
//! token, keep renewing, and stop the work as soon as a renewal fails.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

/// Leader-election failures.
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// The backend (API server, file system) failed.
    #[error("leader election backend: {0}")]
    Backend(String),
}

/// A lock only one holder can have.
#[async_trait]
pub trait LeaderLock: Send + Sync {
    /// Acquires the lock, or renews it if this candidate holds it. `Ok(false)` means someone
    /// else holds it.
    async fn try_acquire_or_renew(&self) -> Result<bool, LeaderError>;
    /// Gives the lock up (if held), so another candidate can take over at once.
    async fn release(&self) -> Result<(), LeaderError>;
    /// This candidate's identity (for logs).
    fn identity(&self) -> &str;
}

/// Timing of [`run_as_leader`].
#[derive(Debug, Clone, Copy)]
pub struct LeaderTiming {
    /// How often a holder renews (client-go: every 2s with a 15s lease).
    pub renew_every: Duration,
    /// How often a candidate retries.
    pub retry_every: Duration,
}

impl Default for LeaderTiming {
    fn default() -> Self {
        LeaderTiming {
            renew_every: Duration::from_secs(2),
            retry_every: Duration::from_secs(2),
        }
    }
}

/// Runs `work` only while holding `lock`, until `shutdown`. When leadership is lost the work's
/// token is cancelled and awaited, and this candidate goes back to waiting. On shutdown the lock
/// is released.
pub async fn run_as_leader<F, Fut>(
    lock: &dyn LeaderLock,
    timing: LeaderTiming,
    shutdown: CancellationToken,
    mut work: F,
) where
    F: FnMut(CancellationToken) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    while !shutdown.is_cancelled() {
        match lock.try_acquire_or_renew().await {
            Ok(true) => {}
            Ok(false) => {
                tokio::select! {
                    () = tokio::time::sleep(timing.retry_every) => continue,
                    () = shutdown.cancelled() => break,
                }
            }
            Err(e) => {
                tracing::warn!(identity = lock.identity(), error = %e, "acquiring leadership failed");
                tokio::select! {
                    () = tokio::time::sleep(timing.retry_every) => continue,
                    () = shutdown.cancelled() => break,
                }
            }
        }
        tracing::info!(identity = lock.identity(), "became leader");
        let token = shutdown.child_token();
        let mut handle = tokio::spawn(work(token.clone()));
        loop {
            tokio::select! {
                _ = &mut handle => break,
                () = tokio::time::sleep(timing.renew_every) => {
                    match lock.try_acquire_or_renew().await {
                        Ok(true) => continue,
                        Ok(false) => tracing::error!(identity = lock.identity(), "leadership lost"),
                        Err(e) => tracing::error!(identity = lock.identity(), error = %e, "renewing leadership failed"),
                    }
                    break;
                }
                () = shutdown.cancelled() => break,
            }
        }
        token.cancel();
        let _ = handle.await;
        if shutdown.is_cancelled() {
            break;
        }
    }
    if let Err(e) = lock.release().await {
        tracing::warn!(identity = lock.identity(), error = %e, "releasing leadership failed");
    }
}

/// An exclusive lock on a file (all-in-one mode). Held while the file handle is open.
pub struct FileLock {
    path: PathBuf,
    identity: String,
    held: Mutex<Option<std::fs::File>>,
}

impl std::fmt::Debug for FileLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileLock")
            .field("path", &self.path)
            .field("identity", &self.identity)
            .finish()
    }
}

impl FileLock {
    /// A lock on `path` (created if missing).
    pub fn new(path: impl Into<PathBuf>, identity: &str) -> Self {
        FileLock {
            path: path.into(),
            identity: identity.to_owned(),
            held: Mutex::new(None),
        }
    }
}

#[async_trait]
impl LeaderLock for FileLock {
    async fn try_acquire_or_renew(&self) -> Result<bool, LeaderError> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_some() {
            return Ok(true);
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.path)
            .map_err(|e| LeaderError::Backend(format!("{}: {e}", self.path.display())))?;
        match f.try_lock() {
            Ok(()) => {
                *held = Some(f);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(LeaderError::Backend(format!(
                "{}: {e}",
                self.path.display()
            ))),
        }
    }

    async fn release(&self) -> Result<(), LeaderError> {
        // Closing the file drops the lock.
        self.held.lock().unwrap_or_else(|p| p.into_inner()).take();
        Ok(())
    }

    fn identity(&self) -> &str {
        &self.identity
    }
}

#[cfg(feature = "kube")]
pub use lease::LeaseLock;

#[cfg(feature = "kube")]
mod lease {
    use super::*;
    use chrono::{DateTime, Utc};
    use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
    use kube::api::{Api, PostParams};

    fn micro(t: DateTime<Utc>) -> MicroTime {
        MicroTime(
            k8s_openapi::jiff::Timestamp::from_microsecond(t.timestamp_micros())
                .unwrap_or_default(),
        )
    }

    fn from_micro(t: &MicroTime) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_micros(t.0.as_microsecond())
    }

    fn backend(e: kube::Error) -> LeaderError {
        LeaderError::Backend(e.to_string())
    }

    fn is_status(e: &kube::Error, code: u16) -> bool {
        matches!(e, kube::Error::Api(s) if s.code == code)
    }

    /// A Kubernetes Lease lock.
    pub struct LeaseLock {
        api: Api<Lease>,
        name: String,
        identity: String,
        duration: Duration,
        clock: crate::controller::Clock,
    }

    impl std::fmt::Debug for LeaseLock {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("LeaseLock")
                .field("name", &self.name)
                .field("identity", &self.identity)
                .field("duration", &self.duration)
                .finish()
        }
    }

    impl LeaseLock {
        /// The Lease `name` in `namespace` (e.g. `prow-sinker-leaderlock`), held for `duration`
        /// after each renewal.
        pub fn new(
            client: kube::Client,
            namespace: &str,
            name: &str,
            identity: &str,
            duration: Duration,
        ) -> Self {
            LeaseLock {
                api: Api::namespaced(client, namespace),
                name: name.to_owned(),
                identity: identity.to_owned(),
                duration,
                clock: std::sync::Arc::new(Utc::now),
            }
        }

        /// Replaces the clock (tests).
        pub fn with_clock(mut self, clock: crate::controller::Clock) -> Self {
            self.clock = clock;
            self
        }

        fn seconds(&self) -> i32 {
            i32::try_from(self.duration.as_secs().max(1)).unwrap_or(i32::MAX)
        }

        /// Whether `spec` is held by someone else and not expired at `now`.
        fn held_by_other(&self, spec: &LeaseSpec, now: DateTime<Utc>) -> bool {
            let holder = spec.holder_identity.as_deref().unwrap_or("");
            if holder.is_empty() || holder == self.identity {
                return false;
            }
            let Some(renewed) = spec.renew_time.as_ref().and_then(from_micro) else {
                return false;
            };
            let secs = i64::from(spec.lease_duration_seconds.unwrap_or(0));
            renewed + chrono::Duration::seconds(secs) > now
        }
    }

    #[async_trait]
    impl LeaderLock for LeaseLock {
        async fn try_acquire_or_renew(&self) -> Result<bool, LeaderError> {
            let now = (self.clock)();
            let current = match self.api.get_opt(&self.name).await.map_err(backend)? {
                Some(l) => l,
                None => {
                    let mut lease = Lease::default();
                    lease.metadata.name = Some(self.name.clone());
                    lease.spec = Some(LeaseSpec {
                        holder_identity: Some(self.identity.clone()),
                        lease_duration_seconds: Some(self.seconds()),
                        acquire_time: Some(micro(now)),
                        renew_time: Some(micro(now)),
                        lease_transitions: Some(0),
                        ..Default::default()
                    });
                    return match self.api.create(&PostParams::default(), &lease).await {
                        Ok(_) => Ok(true),
                        Err(e) if is_status(&e, 409) => Ok(false),
                        Err(e) => Err(backend(e)),
                    };
                }
            };
            let spec = current.spec.clone().unwrap_or_default();
            if self.held_by_other(&spec, now) {
                return Ok(false);
            }
            let mine = spec.holder_identity.as_deref() == Some(self.identity.as_str());
            let mut next = current;
            let mut s = spec;
            if !mine {
                s.acquire_time = Some(micro(now));
                s.lease_transitions = Some(s.lease_transitions.unwrap_or(0) + 1);
                s.holder_identity = Some(self.identity.clone());
            }
            s.renew_time = Some(micro(now));
            s.lease_duration_seconds = Some(self.seconds());
            next.spec = Some(s);
            // `next` keeps the resourceVersion we read: a concurrent writer makes this a 409.
            match self
                .api
                .replace(&self.name, &PostParams::default(), &next)
                .await
            {
                Ok(_) => Ok(true),
                Err(e) if is_status(&e, 409) => Ok(false),
                Err(e) => Err(backend(e)),
            }
        }

        async fn release(&self) -> Result<(), LeaderError> {
            let Some(mut lease) = self.api.get_opt(&self.name).await.map_err(backend)? else {
                return Ok(());
            };
            let mut spec = lease.spec.clone().unwrap_or_default();
            if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
                return Ok(());
            }
            // client-go's release: no holder, 1s duration, so others take over at once.
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
            spec.renew_time = Some(micro((self.clock)()));
            lease.spec = Some(spec);
            match self
                .api
                .replace(&self.name, &PostParams::default(), &lease)
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if is_status(&e, 409) => Ok(()),
                Err(e) => Err(backend(e)),
            }
        }

        fn identity(&self) -> &str {
            &self.identity
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_lock_is_exclusive_until_released() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("controller.lock");
        let a = FileLock::new(&path, "a");
        let b = FileLock::new(&path, "b");
        assert!(a.try_acquire_or_renew().await.unwrap_or(false));
        assert!(a.try_acquire_or_renew().await.unwrap_or(false), "renewal");
        assert!(!b.try_acquire_or_renew().await.unwrap_or(true));
        a.release().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(b.try_acquire_or_renew().await.unwrap_or(false));
        assert!(!a.try_acquire_or_renew().await.unwrap_or(true));
    }
}
