//! Bounded request bodies: a size limit and a budget of body bytes held in memory across all
//! requests at once, taken before a byte is read. Webhook bodies are read (and so held) before
//! their signature can be checked; without a bound, concurrent unsigned posts can make the
//! process hold any amount of memory.
//!
//! Two pools, so that a few large bodies (pushes with many commits are the only big webhooks)
//! cannot keep the small everyday events waiting: bodies that declare at most
//! [`BodyBudget::small_max`] bytes draw from the small pool, all others from the large pool.
//! Bodies without `Content-Length` (chunked; GitHub always sends the length) draw from the
//! large pool as their chunks arrive. A request that cannot get its bytes within
//! [`BodyBudget::wait`] is answered 503 with `Retry-After`, its body unread.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, StatusCode, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// GitHub caps webhook payloads at 25 MB; a little slack over 25 MiB.
pub const MAX_BODY: usize = 25 * 1024 * 1024 + 64 * 1024;

/// Bytes of bodies held at once, over both pools: room for one largest body with the small
/// pool beside it, so a flood of large unsigned bodies adds well under 64 MiB to the process.
pub const TOTAL_BUDGET: usize = 48 * 1024 * 1024;

/// Bodies up to this size use the small pool.
pub const SMALL_MAX: usize = 1024 * 1024;

/// The small pool's share of [`TOTAL_BUDGET`].
pub const SMALL_POOL: usize = 8 * 1024 * 1024;

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Larger than the limit (declared or as it arrived).
    #[error("413 Payload Too Large: body over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The budget stayed exhausted for the whole wait.
    #[error("503 Service Unavailable: too many request bodies in flight, retry later")]
    Busy,
    /// The body did not arrive in time.
    #[error("408 Request Timeout: body not received in {0:?}")]
    Timeout(Duration),
    /// `Content-Length` is not a number.
    #[error("400 Bad Request: invalid Content-Length")]
    BadLength,
    /// The connection failed mid-body.
    #[error("400 Bad Request: failed to read request body")]
    Read(#[source] axum::Error),
}

impl BodyError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            BodyError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            BodyError::BadLength | BodyError::Read(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// A body read within the budget. Its bytes count against the budget until this is dropped.
#[derive(Debug)]
pub struct BoundedBody {
    /// The body.
    pub bytes: Bytes,
    _permits: Vec<OwnedSemaphorePermit>,
}

/// The shared limits; clones share the budget.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    small: Arc<Semaphore>,
    large: Arc<Semaphore>,
    max_body: usize,
    small_max: usize,
    wait: Duration,
    read_timeout: Duration,
}

impl Default for BodyBudget {
    fn default() -> Self {
        BodyBudget::new(
            MAX_BODY,
            TOTAL_BUDGET,
            SMALL_MAX,
            SMALL_POOL,
            Duration::from_secs(5),
            Duration::from_secs(30),
        )
    }
}

impl BodyBudget {
    /// A budget of `total` bytes, `small_pool` of them for bodies of at most `small_max` bytes;
    /// no body over `max_body`. Waits up to `wait` for budget, up to `read_timeout` for a body.
    pub fn new(
        max_body: usize,
        total: usize,
        small_max: usize,
        small_pool: usize,
        wait: Duration,
        read_timeout: Duration,
    ) -> Self {
        let small_pool = small_pool.min(total);
        // The large pool must fit one largest body, or large bodies could never be read.
        let large_pool = (total - small_pool).max(max_body);
        BodyBudget {
            small: Arc::new(Semaphore::new(small_pool)),
            large: Arc::new(Semaphore::new(large_pool)),
            max_body,
            small_max: small_max.min(small_pool),
            wait,
            read_timeout,
        }
    }

    /// The largest body accepted.
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Bodies up to this size use the small pool.
    pub fn small_max(&self) -> usize {
        self.small_max
    }

    /// How long a request waits for budget before a 503.
    pub fn wait(&self) -> Duration {
        self.wait
    }

    /// Reads `body` within the limit and the budget.
    pub async fn read(&self, headers: &HeaderMap, body: Body) -> Result<BoundedBody, BodyError> {
        let declared = match headers.get(header::CONTENT_LENGTH) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .and_then(|s| s.trim().parse::<usize>().ok())
                    .ok_or(BodyError::BadLength)?,
            ),
        };
        match declared {
            Some(n) if n > self.max_body => Err(BodyError::TooLarge {
                limit: self.max_body,
            }),
            Some(n) => self.read_declared(n, body).await,
            None => self.read_chunked(body).await,
        }
    }

    async fn read_declared(&self, len: usize, body: Body) -> Result<BoundedBody, BodyError> {
        let pool = if len <= self.small_max {
            &self.small
        } else {
            &self.large
        };
        let permit = acquire(pool, len, self.wait).await?;
        let read = async {
            // One allocation of the declared size: no growth, no copies.
            let mut buf = Vec::with_capacity(capacity_for(len, self.small_max));
            let mut stream = body.into_data_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(BodyError::Read)?;
                if buf.len() + chunk.len() > len {
                    // Hyper enforces Content-Length; this only guards the allocation.
                    return Err(BodyError::TooLarge { limit: len });
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(buf)
        };
        let buf = tokio::time::timeout(self.read_timeout, read)
            .await
            .map_err(|_| BodyError::Timeout(self.read_timeout))??;
        Ok(BoundedBody {
            bytes: Bytes::from(buf),
            _permits: permit.into_iter().collect(),
        })
    }

    async fn read_chunked(&self, body: Body) -> Result<BoundedBody, BodyError> {
        let mut permits = Vec::new();
        let read = async {
            let mut buf: Vec<u8> = Vec::new();
            let mut stream = body.into_data_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(BodyError::Read)?;
                let need = buf.len() + chunk.len();
                if need > self.max_body {
                    return Err(BodyError::TooLarge {
                        limit: self.max_body,
                    });
                }
                if need > buf.capacity() {
                    // Grow geometrically, paying the budget for the new capacity first.
                    let new_cap = need.max(buf.capacity() * 2).min(self.max_body);
                    let extra = new_cap - buf.capacity();
                    permits.extend(acquire(&self.large, extra, self.wait).await?);
                    buf.reserve_exact(new_cap - buf.len());
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(buf)
        };
        let buf = tokio::time::timeout(self.read_timeout, read)
            .await
            .map_err(|_| BodyError::Timeout(self.read_timeout))??;
        Ok(BoundedBody {
            bytes: Bytes::from(buf),
            _permits: permits,
        })
    }
}

/// Capacity to allocate for a body of `len` bytes.
///
/// glibc's malloc serves blocks under 32 MiB from its heaps once a large block has been freed
/// (its mmap threshold adapts upwards, up to 32 MiB) and keeps freed heap memory resident, so
/// a stream of 25 MiB bodies left the process holding far more than the budget. A request
/// for more than that maximum is always its own mapping, given back to the system when the
/// request ends. Pages past `len` are never touched: they cost address space, not memory.
fn capacity_for(len: usize, small_max: usize) -> usize {
    const ALWAYS_MAPPED: usize = 33 * 1024 * 1024;
    if len > small_max {
        len.max(ALWAYS_MAPPED)
    } else {
        len
    }
}

/// `n` permits (bytes) from `pool`, waiting at most `wait`. `None` for zero bytes.
async fn acquire(
    pool: &Arc<Semaphore>,
    n: usize,
    wait: Duration,
) -> Result<Option<OwnedSemaphorePermit>, BodyError> {
    if n == 0 {
        return Ok(None);
    }
    let n = u32::try_from(n).map_err(|_| BodyError::Busy)?;
    match tokio::time::timeout(wait, pool.clone().acquire_many_owned(n)).await {
        Ok(Ok(p)) => Ok(Some(p)),
        // Closed never happens (we never close); timing out is the busy case.
        Ok(Err(_)) | Err(_) => Err(BodyError::Busy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(total: usize, small_pool: usize, wait_ms: u64) -> BodyBudget {
        BodyBudget::new(
            1000,
            total,
            100,
            small_pool,
            Duration::from_millis(wait_ms),
            Duration::from_secs(30),
        )
    }

    fn len(n: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, n.to_string().parse().unwrap());
        h
    }

    fn chunked(parts: Vec<Vec<u8>>) -> Body {
        Body::from_stream(futures::stream::iter(
            parts.into_iter().map(Ok::<_, std::io::Error>),
        ))
    }

    #[tokio::test]
    async fn declared_length_over_the_limit_is_refused_unread() {
        let b = budget(4000, 200, 10);
        let e = b.read(&len(1001), Body::empty()).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let ok = b.read(&len(3), Body::from("abc")).await.unwrap();
        assert_eq!(&ok.bytes[..], b"abc");
        let mut bad = HeaderMap::new();
        bad.insert(header::CONTENT_LENGTH, "-1".parse().unwrap());
        assert_eq!(
            b.read(&bad, Body::empty()).await.unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[tokio::test]
    async fn chunked_over_the_limit_is_refused_as_it_arrives() {
        let b = budget(4000, 200, 10);
        let body = chunked(vec![vec![b'x'; 600], vec![b'y'; 600]]);
        let e = b.read(&HeaderMap::new(), body).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = chunked(vec![vec![b'x'; 600], vec![b'y'; 400]]);
        let ok = b.read(&HeaderMap::new(), body).await.unwrap();
        assert_eq!(ok.bytes.len(), 1000);
    }

    #[tokio::test]
    async fn exhausted_budget_is_busy_until_bodies_are_dropped() {
        // Large pool: 1000 bytes (one largest body); small pool: 200.
        let b = budget(1200, 200, 50);
        let held = b
            .read(&len(1000), Body::from(vec![0u8; 1000]))
            .await
            .unwrap();
        let e = b
            .read(&len(500), Body::from(vec![0u8; 500]))
            .await
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        // Chunked bodies draw from the same pool.
        let e = b
            .read(&HeaderMap::new(), chunked(vec![vec![0u8; 10]]))
            .await
            .unwrap_err();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        // Small bodies have their own pool and are not held up by large ones.
        let small = b.read(&len(100), Body::from(vec![0u8; 100])).await.unwrap();
        let small2 = b.read(&len(100), Body::from(vec![0u8; 100])).await.unwrap();
        assert_eq!(
            b.read(&len(100), Body::from(vec![0u8; 100]))
                .await
                .unwrap_err()
                .status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        drop((held, small, small2));
        b.read(&len(1000), Body::from(vec![0u8; 1000]))
            .await
            .unwrap();
        b.read(&len(100), Body::from(vec![0u8; 100])).await.unwrap();
    }

    #[tokio::test]
    async fn a_waiting_request_gets_budget_freed_within_its_wait() {
        let b = budget(1200, 200, 30_000);
        let held = b
            .read(&len(1000), Body::from(vec![0u8; 1000]))
            .await
            .unwrap();
        let b2 = b.clone();
        let waiter =
            tokio::spawn(async move { b2.read(&len(800), Body::from(vec![1u8; 800])).await });
        tokio::task::yield_now().await;
        drop(held);
        let got = waiter.await.unwrap().unwrap();
        assert_eq!(got.bytes.len(), 800);
    }

    #[tokio::test]
    async fn slow_bodies_time_out() {
        let b = BodyBudget::new(
            1000,
            1200,
            100,
            200,
            Duration::from_secs(1),
            Duration::from_millis(50),
        );
        let never =
            Body::from_stream(futures::stream::pending::<Result<Vec<u8>, std::io::Error>>());
        let e = b.read(&len(10), never).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::REQUEST_TIMEOUT);
    }
}
