//! Rate limits: reading GitHub's verdict from a response (pure) and the client-side token bucket
//! behind `--github-hourly-tokens` / `--github-allowed-burst`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// GitHub's documented minimum wait for a secondary limit that names no `retry-after`.
const SECONDARY_DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// What a response says about rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not a rate-limit response.
    NotLimited,
    /// Limited; sleeping this long and retrying is worth it.
    Retry(Duration),
    /// Limited for longer than we are willing to wait.
    GiveUp {
        /// Seconds GitHub wants us to wait, when it said.
        retry_after_secs: Option<u64>,
    },
}

/// Classifies a response. Only 403 and 429 can be rate limits:
/// - `retry-after: N` (secondary limit): wait N seconds;
/// - `X-RateLimit-Remaining: 0` (primary limit): wait until `X-RateLimit-Reset` (+1 s for clock
///   skew);
/// - 429, or a 403 whose message mentions a secondary/abuse limit, without either header: wait
///   GitHub's documented minute.
///
/// A 403 with none of these is a permission problem, not a limit.
pub(crate) fn classify(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    now_unix: i64,
    max_wait: Duration,
) -> Verdict {
    if status != 403 && status != 429 {
        return Verdict::NotLimited;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let decide = |wait: Duration| {
        if wait <= max_wait {
            Verdict::Retry(wait)
        } else {
            Verdict::GiveUp {
                retry_after_secs: Some(wait.as_secs()),
            }
        }
    };
    if let Some(secs) = header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
    {
        return decide(Duration::from_secs(secs));
    }
    if header("x-ratelimit-remaining") == Some("0") {
        return match header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok()) {
            Some(reset) => {
                let secs = u64::try_from(reset.saturating_sub(now_unix)).unwrap_or(0);
                decide(Duration::from_secs(secs.saturating_add(1)))
            }
            None => Verdict::GiveUp {
                retry_after_secs: None,
            },
        };
    }
    let message = String::from_utf8_lossy(body).to_ascii_lowercase();
    if status == 429 || message.contains("secondary rate limit") || message.contains("abuse") {
        return decide(SECONDARY_DEFAULT_WAIT);
    }
    Verdict::NotLimited
}

/// One token bucket: `capacity` tokens, refilled at `rate_per_sec`. Reservations may drive the
/// balance negative; the caller then sleeps for the deficit, which keeps waiting requests in
/// FIFO order without holding a lock across the sleep.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    tokens: f64,
    capacity: f64,
    rate_per_sec: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(hourly_tokens: u32, burst: u32, now: Instant) -> Self {
        let capacity = f64::from(burst.max(1));
        Bucket {
            tokens: capacity,
            capacity,
            rate_per_sec: f64::from(hourly_tokens) / 3600.0,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate_per_sec).min(self.capacity);
        self.last = now;
    }

    /// Takes one token; returns how long to wait before using it.
    pub(crate) fn reserve(&mut self, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 || self.rate_per_sec <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate_per_sec)
        }
    }

    /// Gives a token back (the response was free: a 304 or a ghproxy cache hit).
    pub(crate) fn refund(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = (self.tokens + 1.0).min(self.capacity);
    }
}

/// Buckets keyed by budget (one for a token; one per org under App auth, since every installation
/// has its own GitHub limit).
#[derive(Debug)]
pub(crate) struct Throttle {
    hourly_tokens: u32,
    burst: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Throttle {
    /// `None` when throttling is off (`hourly_tokens == 0`).
    pub(crate) fn new(hourly_tokens: u32, burst: u32) -> Option<Self> {
        (hourly_tokens > 0).then(|| Throttle {
            hourly_tokens,
            burst,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn reserve(&self, budget: &str) -> Duration {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets
            .entry(budget.to_string())
            .or_insert_with(|| Bucket::new(self.hourly_tokens, self.burst, now))
            .reserve(now)
    }

    pub(crate) fn refund(&self, budget: &str) {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = buckets.get_mut(budget) {
            b.refund(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("test header value"));
        }
        h
    }

    const MAX: Duration = Duration::from_secs(120);

    #[test]
    fn non_limit_statuses() {
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "100")]);
        assert_eq!(classify(200, &h, b"", 50, MAX), Verdict::NotLimited);
        assert_eq!(classify(404, &h, b"", 50, MAX), Verdict::NotLimited);
        let plain = headers(&[("x-ratelimit-remaining", "4999")]);
        assert_eq!(
            classify(
                403,
                &plain,
                br#"{"message":"Resource not accessible by integration"}"#,
                0,
                MAX
            ),
            Verdict::NotLimited
        );
    }

    #[test]
    fn secondary_limit_retry_after() {
        let h = headers(&[("retry-after", "30"), ("x-ratelimit-remaining", "4000")]);
        assert_eq!(
            classify(403, &h, b"", 0, MAX),
            Verdict::Retry(Duration::from_secs(30))
        );
        assert_eq!(
            classify(429, &h, b"", 0, MAX),
            Verdict::Retry(Duration::from_secs(30))
        );
        let long = headers(&[("retry-after", "600")]);
        assert_eq!(
            classify(403, &long, b"", 0, MAX),
            Verdict::GiveUp {
                retry_after_secs: Some(600)
            }
        );
        // retry-after: 0 is no hint; a bare 429 falls back to the documented minute.
        let zero = headers(&[("retry-after", "0")]);
        assert_eq!(
            classify(429, &zero, b"", 0, MAX),
            Verdict::Retry(Duration::from_secs(60))
        );
        let body = br#"{"message":"You have exceeded a secondary rate limit. Please wait."}"#;
        assert_eq!(
            classify(403, &HeaderMap::new(), body, 0, MAX),
            Verdict::Retry(Duration::from_secs(60))
        );
        assert_eq!(
            classify(403, &HeaderMap::new(), body, 0, Duration::from_secs(10)),
            Verdict::GiveUp {
                retry_after_secs: Some(60)
            }
        );
    }

    #[test]
    fn primary_limit_waits_until_reset() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1000"),
        ]);
        assert_eq!(
            classify(403, &h, b"", 990, MAX),
            Verdict::Retry(Duration::from_secs(11))
        );
        // Reset already passed: retry almost at once.
        assert_eq!(
            classify(403, &h, b"", 2000, MAX),
            Verdict::Retry(Duration::from_secs(1))
        );
        assert_eq!(
            classify(403, &h, b"", 0, MAX),
            Verdict::GiveUp {
                retry_after_secs: Some(1001)
            }
        );
        let bad = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "soon"),
        ]);
        assert_eq!(
            classify(403, &bad, b"", 0, MAX),
            Verdict::GiveUp {
                retry_after_secs: None
            }
        );
    }

    #[test]
    fn bucket_burst_then_rate() {
        let t0 = Instant::now();
        // 3600/h = 1 per second, burst 2.
        let mut b = Bucket::new(3600, 2, t0);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        let w = b.reserve(t0);
        assert!((w.as_secs_f64() - 1.0).abs() < 1e-6, "{w:?}");
        // A second waiter queues behind the first.
        let w = b.reserve(t0);
        assert!((w.as_secs_f64() - 2.0).abs() < 1e-6, "{w:?}");
        // After 10 s the bucket is full again (capped at burst).
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.reserve(t1), Duration::ZERO);
        assert_eq!(b.reserve(t1), Duration::ZERO);
        assert!(b.reserve(t1) > Duration::ZERO);
    }

    #[test]
    fn bucket_refund_caps_at_capacity() {
        let t0 = Instant::now();
        let mut b = Bucket::new(3600, 1, t0);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        b.refund(t0);
        assert_eq!(b.reserve(t0), Duration::ZERO, "refunded token is usable");
        b.refund(t0);
        b.refund(t0);
        assert_eq!(b.reserve(t0), Duration::ZERO);
        assert!(
            b.reserve(t0) > Duration::ZERO,
            "refunds never exceed the burst"
        );
    }

    #[test]
    fn throttle_off_and_per_budget() {
        assert!(Throttle::new(0, 100).is_none());
        let t = Throttle::new(1, 1).expect("enabled");
        assert_eq!(t.reserve("org-a"), Duration::ZERO);
        assert_eq!(t.reserve("org-b"), Duration::ZERO, "separate budget");
        assert!(t.reserve("org-a") > Duration::from_secs(3000));
    }
}
