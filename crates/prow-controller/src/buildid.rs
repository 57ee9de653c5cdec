//! Build IDs (Prow's `pjutil.GetBuildID`): from tot (`GET <tot-url>/vend/<job>`, 10 tries with
//! doubling back-off from 100ms) when `--tot-url` is set, else a snowflake ID with the layout of
//! `bwmarrin/snowflake` node 1 (milliseconds since the Twitter epoch, 10 node bits, 12 sequence
//! bits), so IDs sort like Prow's and keep their 19-digit shape.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

/// `bwmarrin/snowflake`'s default epoch (2010-11-04T01:42:54.657Z) in Unix milliseconds.
pub const SNOWFLAKE_EPOCH_MS: i64 = 1_288_834_974_657;
/// Tries of a tot request.
pub const TOT_RETRIES: usize = 10;

/// Errors from vending an ID.
#[derive(Debug, thiserror::Error)]
pub enum BuildIdError {
    /// `--tot-url` is not a valid URL.
    #[error("invalid tot url: {0}")]
    InvalidUrl(String),
    /// tot did not answer with a number after all tries.
    #[error("tot: {0}")]
    Tot(String),
}

/// Vends build IDs.
#[async_trait]
pub trait BuildIds: Send + Sync {
    /// The next build ID for `job`.
    async fn next(&self, job: &str) -> Result<String, BuildIdError>;
}

/// Monotonic snowflake IDs, unique within this process.
#[derive(Debug)]
pub struct Snowflake {
    node: i64,
    /// (last millisecond used, sequence within it)
    state: Mutex<(i64, i64)>,
}

impl Default for Snowflake {
    fn default() -> Self {
        Snowflake::new(1)
    }
}

impl Snowflake {
    /// A generator for `node` (0..1024; Prow's plank uses 1).
    pub fn new(node: u16) -> Self {
        Snowflake {
            node: i64::from(node & 0x3ff),
            state: Mutex::new((0, 0)),
        }
    }

    /// The next ID for the wall-clock millisecond `now_ms`; never repeats or goes backwards,
    /// even when the clock does (the sequence then borrows from the last millisecond used).
    pub fn generate_at(&self, now_ms: i64) -> i64 {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (last, seq) = *st;
        let (ms, seq) = if now_ms > last {
            (now_ms, 0)
        } else if seq < 0xfff {
            (last, seq + 1)
        } else {
            (last + 1, 0)
        };
        *st = (ms, seq);
        ((ms - SNOWFLAKE_EPOCH_MS) << 22) | (self.node << 12) | seq
    }

    /// The next ID now.
    pub fn generate(&self) -> i64 {
        self.generate_at(chrono::Utc::now().timestamp_millis())
    }
}

#[async_trait]
impl BuildIds for Snowflake {
    async fn next(&self, _job: &str) -> Result<String, BuildIdError> {
        Ok(self.generate().to_string())
    }
}

/// A tot client.
#[derive(Debug, Clone)]
pub struct TotClient {
    base: reqwest::Url,
    http: reqwest::Client,
    first_backoff: Duration,
}

impl TotClient {
    /// A client for the tot at `url` (e.g. `http://tot`).
    pub fn new(url: &str) -> Result<Self, BuildIdError> {
        let base = reqwest::Url::parse(url).map_err(|e| BuildIdError::InvalidUrl(e.to_string()))?;
        Ok(TotClient {
            base,
            http: reqwest::Client::new(),
            first_backoff: Duration::from_millis(100),
        })
    }

    /// Changes the first retry delay (tests).
    pub fn with_backoff(mut self, first: Duration) -> Self {
        self.first_backoff = first;
        self
    }

    fn vend_url(&self, job: &str) -> reqwest::Url {
        let mut u = self.base.clone();
        let path = format!("{}/vend/{job}", u.path().trim_end_matches('/'));
        u.set_path(&path);
        u
    }
}

#[async_trait]
impl BuildIds for TotClient {
    async fn next(&self, job: &str) -> Result<String, BuildIdError> {
        let url = self.vend_url(job);
        let mut delay = self.first_backoff;
        let mut last = String::from("no attempt");
        for attempt in 0..TOT_RETRIES {
            if attempt > 0 {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            match self.http.get(url.clone()).send().await {
                Err(e) => last = e.to_string(),
                Ok(resp) if resp.status() != reqwest::StatusCode::OK => {
                    last = format!("got unexpected response from tot: {}", resp.status());
                }
                Ok(resp) => {
                    return resp
                        .text()
                        .await
                        .map_err(|e| BuildIdError::Tot(e.to_string()));
                }
            }
        }
        Err(BuildIdError::Tot(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflake_layout_and_monotonicity() {
        let s = Snowflake::new(1);
        let t = 1_700_000_000_000;
        let a = s.generate_at(t);
        assert_eq!(a >> 22, t - SNOWFLAKE_EPOCH_MS);
        assert_eq!((a >> 12) & 0x3ff, 1);
        assert_eq!(a.to_string().len(), 19);
        let b = s.generate_at(t);
        assert_eq!(b, a + 1, "same millisecond: next sequence number");
        let c = s.generate_at(t - 5);
        assert!(c > b, "clock going back never repeats");
        let mut prev = c;
        for _ in 0..10_000 {
            let n = s.generate_at(t);
            assert!(n > prev);
            prev = n;
        }
    }

    #[test]
    fn vend_url_keeps_base_path() {
        let c = TotClient::new("http://tot.example.com/base/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.vend_url("ci-job").as_str(),
            "http://tot.example.com/base/vend/ci-job"
        );
        assert!(TotClient::new("not a url").is_err());
    }
}
