//! The durable webhook log: every accepted event is committed to SQLite (WAL, `synchronous=FULL`)
//! before hook answers 200, so a crash — even SIGKILL — loses nothing that GitHub was told we
//! received. A delivery ID seen before is acknowledged again but not stored or processed twice
//! (GitHub redelivers with the same `X-GitHub-Delivery`).
//!
//! One thread owns the connection and commits appends in groups: every append waiting when a
//! transaction starts shares its fsync, which keeps ack latency low under load.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

/// Errors of the event log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// SQLite failed.
    #[error("event log: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A group commit this request was part of failed.
    #[error("event log: {0}")]
    Batch(String),
    /// The writer thread is gone (shutdown).
    #[error("event log is closed")]
    Closed,
}

/// An event as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Log sequence number (assigned on append).
    pub seq: i64,
    /// `X-GitHub-Delivery`.
    pub delivery_id: String,
    /// `X-GitHub-Event`.
    pub event_type: String,
    /// The headers forwarded to external plugins, as (name, value).
    pub headers: Vec<(String, String)>,
    /// The raw payload (what the signature covers).
    pub body: bytes::Bytes,
}

/// A stored event with its processing state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The event.
    pub event: StoredEvent,
    /// Whether processing finished.
    pub done: bool,
    /// Processing attempts recorded when it finished.
    pub attempts: u32,
}

/// What [`EventLog::append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Stored as a new event with this sequence number.
    New(i64),
    /// The delivery ID was already in the log.
    Duplicate,
}

/// Counts by state, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogCounts {
    /// Stored, not yet processed.
    pub pending: u64,
    /// Processed.
    pub done: u64,
}

enum Cmd {
    Append(NewEvent, AppendReply),
    Done(i64, u32, DoneReply),
    Pending(oneshot::Sender<Result<Vec<StoredEvent>, LogError>>),
    Counts(oneshot::Sender<Result<LogCounts, LogError>>),
    Get(
        String,
        oneshot::Sender<Result<Option<EventRecord>, LogError>>,
    ),
    Requeue(String, oneshot::Sender<Result<bool, LogError>>),
    Prune(Duration, oneshot::Sender<Result<usize, LogError>>),
}

struct NewEvent {
    delivery_id: String,
    event_type: String,
    headers: Vec<(String, String)>,
    body: bytes::Bytes,
}

/// How hard a commit is pushed to disk before the 200 is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is fsynced at every (group) commit — survives process crashes
    /// and machine/power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: the commit is in the OS page cache — survives a crash of the process
    /// (SIGKILL, OOM kill) but not of the machine; lower ack latency on slow disks.
    Normal,
}

impl std::str::FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "full" => Ok(Durability::Full),
            "normal" => Ok(Durability::Normal),
            other => Err(format!("unknown durability {other:?}: want full or normal")),
        }
    }
}

/// Handle to the log; cheap to clone.
#[derive(Clone)]
pub struct EventLog {
    tx: mpsc::Sender<Cmd>,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id  TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    headers      TEXT NOT NULL,
    body         BLOB NOT NULL,
    received_at  INTEGER NOT NULL,
    done         INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    processed_at INTEGER
);
CREATE INDEX IF NOT EXISTS events_pending ON events(done, seq);
";

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl EventLog {
    /// Opens (creating if needed) the log at `path` with [`Durability::Full`].
    pub fn open(path: &Path) -> Result<Self, LogError> {
        Self::open_with(path, Durability::Full)
    }

    /// Opens the log with the given durability and starts its writer thread.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Self, LogError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("hook-event-log".into())
            .spawn(move || writer(conn, rx))
            .map_err(|e| LogError::Batch(format!("cannot start writer thread: {e}")))?;
        Ok(EventLog {
            tx,
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, LogError>>) -> Cmd,
    ) -> Result<T, LogError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| LogError::Closed)?;
        rx.await.map_err(|_| LogError::Closed)?
    }

    /// Durably stores an event; returns once it is committed.
    pub async fn append(
        &self,
        delivery_id: &str,
        event_type: &str,
        headers: Vec<(String, String)>,
        body: bytes::Bytes,
    ) -> Result<Appended, LogError> {
        let ev = NewEvent {
            delivery_id: delivery_id.to_owned(),
            event_type: event_type.to_owned(),
            headers,
            body,
        };
        self.call(|tx| Cmd::Append(ev, tx)).await
    }

    /// Records that processing of `seq` finished (after `attempts` tries).
    pub async fn mark_done(&self, seq: i64, attempts: u32) -> Result<(), LogError> {
        self.call(|tx| Cmd::Done(seq, attempts, tx)).await
    }

    /// Every stored event not processed yet, oldest first (resumed at start).
    pub async fn pending(&self) -> Result<Vec<StoredEvent>, LogError> {
        self.call(Cmd::Pending).await
    }

    /// Pending/done counts.
    pub async fn counts(&self) -> Result<LogCounts, LogError> {
        self.call(Cmd::Counts).await
    }

    /// One event by delivery ID, with whether it was processed and how many attempts it took.
    pub async fn get(&self, delivery_id: &str) -> Result<Option<EventRecord>, LogError> {
        let id = delivery_id.to_owned();
        self.call(|tx| Cmd::Get(id, tx)).await
    }

    /// Marks a stored event pending again so it is replayed (returns false if unknown).
    pub async fn requeue(&self, delivery_id: &str) -> Result<bool, LogError> {
        let id = delivery_id.to_owned();
        self.call(|tx| Cmd::Requeue(id, tx)).await
    }

    /// Deletes processed events received more than `older_than` ago; returns how many.
    pub async fn prune(&self, older_than: Duration) -> Result<usize, LogError> {
        self.call(|tx| Cmd::Prune(older_than, tx)).await
    }
}

fn row_to_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    let headers: String = row.get(3)?;
    let body: Vec<u8> = row.get(4)?;
    Ok(StoredEvent {
        seq: row.get(0)?,
        delivery_id: row.get(1)?,
        event_type: row.get(2)?,
        headers: serde_json::from_str(&headers).unwrap_or_default(),
        body: body.into(),
    })
}

fn insert_events(
    tx: &rusqlite::Transaction<'_>,
    batch: &[&NewEvent],
) -> Result<Vec<Appended>, rusqlite::Error> {
    let mut out = Vec::with_capacity(batch.len());
    let mut insert = tx.prepare_cached(
        "INSERT INTO events (delivery_id, event_type, headers, body, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(delivery_id) DO NOTHING",
    )?;
    for ev in batch {
        let headers = serde_json::to_string(&ev.headers).unwrap_or_else(|_| "[]".into());
        let n = insert.execute(params![
            ev.delivery_id,
            ev.event_type,
            headers,
            &ev.body[..],
            now_millis()
        ])?;
        out.push(if n == 1 {
            Appended::New(tx.last_insert_rowid())
        } else {
            Appended::Duplicate
        });
    }
    Ok(out)
}

fn mark_events_done(tx: &rusqlite::Transaction<'_>, dones: &[(i64, u32)]) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "UPDATE events SET done = 1, attempts = ?2, processed_at = ?3 WHERE seq = ?1",
    )?;
    for (seq, attempts) in dones {
        st.execute(params![seq, attempts, now_millis()])?;
    }
    Ok(())
}

type DoneReply = oneshot::Sender<Result<(), LogError>>;
type AppendReply = oneshot::Sender<Result<Appended, LogError>>;

fn writer(mut conn: Connection, rx: mpsc::Receiver<Cmd>) {
    while let Ok(first) = rx.recv() {
        // Group commit: take everything already queued and write it in one transaction, so
        // appends and completion marks arriving together share one fsync.
        let mut cmds = vec![first];
        while cmds.len() < 512 {
            match rx.try_recv() {
                Ok(c) => cmds.push(c),
                Err(_) => break,
            }
        }
        let mut appends: Vec<(NewEvent, AppendReply)> = Vec::new();
        let mut dones: Vec<(i64, u32, DoneReply)> = Vec::new();
        let mut others = Vec::new();
        for c in cmds {
            match c {
                Cmd::Append(ev, reply) => appends.push((ev, reply)),
                Cmd::Done(seq, attempts, reply) => dones.push((seq, attempts, reply)),
                other => others.push(other),
            }
        }
        if !appends.is_empty() || !dones.is_empty() {
            let batch: Vec<&NewEvent> = appends.iter().map(|(e, _)| e).collect();
            let marks: Vec<(i64, u32)> = dones.iter().map(|(s, a, _)| (*s, *a)).collect();
            let res = (|| -> rusqlite::Result<Vec<Appended>> {
                let tx = conn.transaction()?;
                let appended = insert_events(&tx, &batch)?;
                mark_events_done(&tx, &marks)?;
                tx.commit()?;
                Ok(appended)
            })();
            match res {
                Ok(results) => {
                    for ((_, reply), r) in appends.into_iter().zip(results) {
                        let _ = reply.send(Ok(r));
                    }
                    for (_, _, reply) in dones {
                        let _ = reply.send(Ok(()));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    for (_, reply) in appends {
                        let _ = reply.send(Err(LogError::Batch(msg.clone())));
                    }
                    for (_, _, reply) in dones {
                        let _ = reply.send(Err(LogError::Batch(msg.clone())));
                    }
                }
            }
        }
        for c in others {
            handle_other(&conn, c);
        }
    }
}

fn handle_other(conn: &Connection, c: Cmd) {
    match c {
        Cmd::Pending(reply) => {
            let r = (|| {
                let mut st = conn.prepare(
                    "SELECT seq, delivery_id, event_type, headers, body FROM events WHERE done = 0 ORDER BY seq",
                )?;
                let rows = st.query_map([], row_to_event)?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })();
            let _ = reply.send(r.map_err(LogError::Sqlite));
        }
        Cmd::Counts(reply) => {
            let r = conn.query_row(
                "SELECT COALESCE(SUM(done = 0), 0), COALESCE(SUM(done = 1), 0) FROM events",
                [],
                |row| {
                    Ok(LogCounts {
                        pending: row.get::<_, i64>(0)? as u64,
                        done: row.get::<_, i64>(1)? as u64,
                    })
                },
            );
            let _ = reply.send(r.map_err(LogError::Sqlite));
        }
        Cmd::Get(id, reply) => {
            let r = conn
                .query_row(
                    "SELECT seq, delivery_id, event_type, headers, body, done, attempts FROM events WHERE delivery_id = ?1",
                    [&id],
                    |row| {
                        Ok(EventRecord {
                            event: row_to_event(row)?,
                            done: row.get::<_, i64>(5)? == 1,
                            attempts: row.get::<_, i64>(6)? as u32,
                        })
                    },
                )
                .optional();
            let _ = reply.send(r.map_err(LogError::Sqlite));
        }
        Cmd::Requeue(id, reply) => {
            let r = conn.execute("UPDATE events SET done = 0 WHERE delivery_id = ?1", [&id]);
            let _ = reply.send(r.map(|n| n == 1).map_err(LogError::Sqlite));
        }
        Cmd::Prune(age, reply) => {
            let cutoff = now_millis() - age.as_millis() as i64;
            let r = conn.execute(
                "DELETE FROM events WHERE done = 1 AND received_at < ?1",
                [cutoff],
            );
            let _ = reply.send(r.map_err(LogError::Sqlite));
        }
        Cmd::Append(..) | Cmd::Done(..) => unreachable!("handled in batches"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn append_dedupe_done_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.sqlite");
        let log = EventLog::open(&path).unwrap();
        let h = vec![("X-GitHub-Event".to_string(), "push".to_string())];
        let a = log
            .append("d1", "push", h.clone(), "{}".into())
            .await
            .unwrap();
        let Appended::New(seq) = a else {
            panic!("{a:?}")
        };
        assert_eq!(
            log.append("d1", "push", h.clone(), "{}".into())
                .await
                .unwrap(),
            Appended::Duplicate
        );
        log.append("d2", "issues", h.clone(), "{\"a\":1}".into())
            .await
            .unwrap();
        log.mark_done(seq, 1).await.unwrap();
        assert_eq!(
            log.counts().await.unwrap(),
            LogCounts {
                pending: 1,
                done: 1
            }
        );
        drop(log);

        let log = EventLog::open(&path).unwrap();
        let pending = log.pending().await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].delivery_id, "d2");
        assert_eq!(&pending[0].body[..], b"{\"a\":1}");
        assert_eq!(pending[0].headers, h);
        assert!(log.requeue("d1").await.unwrap());
        assert_eq!(log.pending().await.unwrap().len(), 2);
        assert!(!log.requeue("nope").await.unwrap());
        let rec = log.get("d2").await.unwrap().unwrap();
        assert_eq!(rec.event.event_type, "issues");
        assert!(!rec.done);
        assert_eq!(log.prune(Duration::ZERO).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn concurrent_appends_share_commits() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::open(&dir.path().join("e.sqlite")).unwrap();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                log.append(&format!("d{i}"), "push", vec![], "{}".into())
                    .await
                    .unwrap()
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            let Appended::New(s) = t.await.unwrap() else {
                panic!()
            };
            seqs.push(s);
        }
        seqs.sort();
        seqs.dedup();
        assert_eq!(seqs.len(), 200);
        assert_eq!(log.counts().await.unwrap().pending, 200);
    }
}
