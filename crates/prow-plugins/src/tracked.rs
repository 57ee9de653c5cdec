//! A [`GitHub`] wrapper that records whether a plugin talked to GitHub at all, which becomes the
//! `took_action` label of Prow's plugin metrics (Prow's client `Used()`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use prow_github::{Forward, GitHub, Result, User};

/// Delegates every call and sets a shared flag.
pub struct TrackedGitHub {
    inner: Arc<dyn GitHub>,
    used: Arc<AtomicBool>,
}

impl TrackedGitHub {
    /// Wraps `inner`; `used` turns true on the first call.
    pub fn new(inner: Arc<dyn GitHub>, used: Arc<AtomicBool>) -> Self {
        TrackedGitHub { inner, used }
    }
}

#[async_trait]
impl Forward for TrackedGitHub {
    /// Every forwarded operation counts as the plugin using GitHub.
    fn target(&self) -> &dyn GitHub {
        self.used.store(true, Ordering::Relaxed);
        self.inner.as_ref()
    }

    async fn bot_user(&self) -> Result<User> {
        // Identity lookups are not actions (Prow resolves the bot once, outside plugins).
        self.inner.bot_user().await
    }
}
