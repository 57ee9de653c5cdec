//! Prometheus metrics of Prow's `pkg/github/ghmetrics`, with its names and labels (spec §13).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus::{GaugeVec, HistogramOpts, HistogramVec, Opts, Registry};
use reqwest::header::HeaderMap;

/// The client-side GitHub metrics. Cheap to clone (the vectors are shared); register once per
/// registry with [`GitHubMetrics::register`] and hand clones to every client that should report
/// into it.
#[derive(Clone, Debug)]
pub struct GitHubMetrics {
    token_usage: GaugeVec,
    token_reset: GaugeVec,
    request_duration: HistogramVec,
    request_timeouts: HistogramVec,
    request_wait: HistogramVec,
    user_info: GaugeVec,
}

impl GitHubMetrics {
    /// Unregistered metrics (recorded but exported nowhere).
    pub fn new() -> Self {
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            GaugeVec::new(Opts::new(name, help), labels)
                .unwrap_or_else(|e| unreachable!("static metric {name}: {e}"))
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>, labels: &[&str]| {
            HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
                .unwrap_or_else(|e| unreachable!("static metric {name}: {e}"))
        };
        let rate_labels = &["token_hash", "api_version", "ratelimit_resource"];
        GitHubMetrics {
            token_usage: gauge(
                "github_token_usage",
                "How many GitHub token requests are remaining for the current hour.",
                rate_labels,
            ),
            token_reset: gauge(
                "github_token_reset",
                "Last reported GitHub token reset time.",
                rate_labels,
            ),
            request_duration: histogram(
                "github_request_duration",
                "GitHub request duration by API path.",
                vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
                &["token_hash", "path", "status", "user_agent"],
            ),
            request_timeouts: histogram(
                "github_request_timeouts",
                "GitHub request timeout by API path.",
                vec![45.0, 60.0, 90.0, 120.0, 300.0],
                &["token_hash", "path", "user_agent"],
            ),
            request_wait: histogram(
                "github_request_wait_duration_seconds",
                "GitHub request wait duration before sending to API in seconds",
                vec![
                    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0, 15.0, 20.0, 25.0, 30.0, 45.0, 60.0,
                    90.0, 120.0, 150.0, 180.0,
                ],
                &["token_hash", "request_type", "api"],
            ),
            user_info: gauge(
                "github_user_info",
                "Metadata about a user, tied to their token hash.",
                &["token_hash", "login", "email"],
            ),
        }
    }

    /// Creates the metrics and registers them into `registry`. Fails if they are already
    /// registered there (share one [`GitHubMetrics`] between clients instead).
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self::new();
        registry.register(Box::new(m.token_usage.clone()))?;
        registry.register(Box::new(m.token_reset.clone()))?;
        registry.register(Box::new(m.request_duration.clone()))?;
        registry.register(Box::new(m.request_timeouts.clone()))?;
        registry.register(Box::new(m.request_wait.clone()))?;
        registry.register(Box::new(m.user_info.clone()))?;
        Ok(m)
    }

    pub(crate) fn observe_request(
        &self,
        token_hash: &str,
        path: &str,
        status: u16,
        user_agent: &str,
        took: Duration,
    ) {
        self.request_duration
            .with_label_values(&[token_hash, path, &status.to_string(), user_agent])
            .observe(took.as_secs_f64());
    }

    pub(crate) fn observe_timeout(
        &self,
        token_hash: &str,
        path: &str,
        user_agent: &str,
        took: Duration,
    ) {
        self.request_timeouts
            .with_label_values(&[token_hash, path, user_agent])
            .observe(took.as_secs_f64());
    }

    pub(crate) fn observe_wait(&self, token_hash: &str, method: &str, api: &str, waited: Duration) {
        self.request_wait
            .with_label_values(&[token_hash, method, api])
            .observe(waited.as_secs_f64());
    }

    pub(crate) fn user_info(&self, token_hash: &str, login: &str, email: &str) {
        self.user_info
            .with_label_values(&[token_hash, login, email])
            .set(1.0);
    }

    /// Records `X-RateLimit-Remaining` and the time until `X-RateLimit-Reset` (in nanoseconds,
    /// as Prow does) when the response carries them.
    pub(crate) fn observe_rate_limit(
        &self,
        token_hash: &str,
        api_version: &str,
        headers: &HeaderMap,
        now: SystemTime,
    ) {
        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
        let Some(remaining) = header("x-ratelimit-remaining").and_then(|v| v.parse::<f64>().ok())
        else {
            return;
        };
        let resource = header("x-ratelimit-resource").unwrap_or_default();
        let labels = [token_hash, api_version, resource];
        self.token_usage.with_label_values(&labels).set(remaining);
        if let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.parse::<f64>().ok()) {
            let now = now
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            self.token_reset
                .with_label_values(&labels)
                .set((reset - now) * 1e9);
        }
    }
}

impl Default for GitHubMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// `hook/v1.2` → `hook`, like Prow's label (versions would multiply series).
pub(crate) fn user_agent_label(user_agent: &str) -> String {
    user_agent.split('/').next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_names_exactly_once() {
        let r = Registry::new();
        let m = GitHubMetrics::register(&r).expect("first registration");
        assert!(
            GitHubMetrics::register(&r).is_err(),
            "second registration conflicts"
        );
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "4321".parse().expect("static"));
        h.insert("x-ratelimit-reset", "100".parse().expect("static"));
        h.insert("x-ratelimit-resource", "core".parse().expect("static"));
        m.observe_rate_limit("abc", "v3", &h, UNIX_EPOCH + Duration::from_secs(40));
        m.observe_request("abc", "/user", 200, "hook", Duration::from_millis(3));
        m.observe_timeout("abc", "/user", "hook", Duration::from_secs(300));
        m.observe_wait("abc", "GET", "v3", Duration::from_millis(100));
        m.user_info("abc", "bot", "");
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&r.gather())
            .expect("encode");
        for want in [
            r#"github_token_usage{api_version="v3",ratelimit_resource="core",token_hash="abc"} 4321"#,
            r#"github_token_reset{api_version="v3",ratelimit_resource="core",token_hash="abc"} 60000000000"#,
            r#"github_request_duration_count{path="/user",status="200",token_hash="abc",user_agent="hook"} 1"#,
            r#"github_request_timeouts_count{path="/user",token_hash="abc",user_agent="hook"} 1"#,
            r#"github_request_wait_duration_seconds_count{api="v3",request_type="GET",token_hash="abc"} 1"#,
            r#"github_user_info{email="",login="bot",token_hash="abc"} 1"#,
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
    }

    #[test]
    fn user_agent_without_version() {
        assert_eq!(user_agent_label("hook/v20240101-abc"), "hook");
        assert_eq!(user_agent_label("tide"), "tide");
    }
}
