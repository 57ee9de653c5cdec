//! [`SqliteStore`]: ProwJobs in one SQLite file, for the all-in-one mode.
//!
//! Layout (schema version 1, recorded in `PRAGMA user_version`):
//! * `prowjobs`: one row per job: the object as JSON plus indexed columns (namespace, name,
//!   `spec.job`, `status.state`, the version it was created at, its resourceVersion);
//! * `prowjob_labels`: one row per label, indexed by key and value, so label selectors run in SQL;
//! * `events`: the watch log, one row per write (`rv`, namespace, kind, object), trimmed to the
//!   newest [`SqliteOptions::event_log_capacity`] entries; a watch from an older version gets
//!   [`StoreError::Gone`], as from Kubernetes;
//! * `meta`: the resourceVersion counter and the highest version trimmed from `events`.
//!
//! The counter lives in the database and is read inside every write transaction, so versions stay
//! monotonic across restarts and a watch can resume from a version handed out before a restart.
//!
//! All SQLite work happens on one dedicated thread that owns the connection; async callers send
//! it closures and await the reply, so the tokio runtime never blocks on disk. The thread runs
//! whatever requests are queued as one transaction (each in its own savepoint, so one failing
//! request does not undo the others) and answers only after the commit: concurrent writers share
//! a commit. Watches get new events from an in-process broadcast and fall back to reading the
//! `events` table when they start or lag behind.
//!
//! One store owns a file at a time: `open` takes an exclusive lock on `<file>.lock`, because live
//! watch events are only seen by the process that wrote them.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use prow_api::ProwJob;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::selector::Requirement;
use crate::{JobList, JobStore, ListParams, Result, StoreError, WatchEvent};

/// File name [`SqliteStore::open_in_dir`] uses inside the data directory.
pub const DEFAULT_FILE_NAME: &str = "prowjobs.sqlite3";
/// Default number of events kept for watches to resume from.
pub const DEFAULT_EVENT_LOG_CAPACITY: u64 = 100_000;

const SCHEMA_VERSION: i64 = 1;
/// Most requests run in one transaction.
const MAX_BATCH: usize = 256;
/// Events read from the log per round trip while a watch catches up.
const WATCH_PAGE: i64 = 512;
/// Live events buffered per watcher before it falls back to the log.
const BROADCAST_CAPACITY: usize = 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', 0), ('compacted', 0);
CREATE TABLE IF NOT EXISTS prowjobs (
    id               INTEGER PRIMARY KEY,
    namespace        TEXT NOT NULL,
    name             TEXT NOT NULL,
    job              TEXT NOT NULL,
    state            TEXT NOT NULL,
    created_rv       INTEGER NOT NULL,
    resource_version INTEGER NOT NULL,
    object           TEXT NOT NULL,
    UNIQUE (namespace, name)
);
CREATE INDEX IF NOT EXISTS prowjobs_by_created ON prowjobs (namespace, created_rv);
CREATE INDEX IF NOT EXISTS prowjobs_by_state ON prowjobs (namespace, state, created_rv);
CREATE INDEX IF NOT EXISTS prowjobs_by_job ON prowjobs (namespace, job, created_rv);
CREATE TABLE IF NOT EXISTS prowjob_labels (
    job_id INTEGER NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (job_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS prowjob_labels_by_value ON prowjob_labels (key, value, job_id);
CREATE TABLE IF NOT EXISTS events (
    rv        INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    kind      INTEGER NOT NULL,
    object    TEXT NOT NULL
);
";

/// Tuning for [`SqliteStore::open_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How many events the watch log keeps (at least 1).
    pub event_log_capacity: u64,
    /// `PRAGMA synchronous = FULL` (fsync on every commit) instead of `NORMAL`. With WAL,
    /// `NORMAL` survives process crashes but may lose the last commits on power loss.
    pub synchronous_full: bool,
    /// How long to wait for a lock held by another connection to the file.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            event_log_capacity: DEFAULT_EVENT_LOG_CAPACITY,
            synchronous_full: false,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// A [`JobStore`] in a SQLite file. Cheap to clone; the file is closed when the last clone is
/// dropped (open watches then end).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("namespace", &self.inner.namespace)
            .finish_non_exhaustive()
    }
}

struct Inner {
    ops: mpsc::UnboundedSender<Box<dyn Operation>>,
    events: broadcast::Sender<Arc<Logged>>,
    namespace: String,
    path: PathBuf,
    /// Held for the store's lifetime; dropping it releases the file for the next `open`.
    _lock: File,
}

/// One committed write, as broadcast to live watches.
struct Logged {
    rv: u64,
    namespace: String,
    event: WatchEvent,
}

#[derive(Clone, Copy)]
enum Kind {
    Added = 0,
    Modified = 1,
    Deleted = 2,
}

impl Kind {
    fn event(self, job: ProwJob) -> WatchEvent {
        match self {
            Kind::Added => WatchEvent::Added(job),
            Kind::Modified => WatchEvent::Modified(job),
            Kind::Deleted => WatchEvent::Deleted(job),
        }
    }

    fn from_i64(k: i64) -> Option<Self> {
        Some(match k {
            0 => Kind::Added,
            1 => Kind::Modified,
            2 => Kind::Deleted,
            _ => return None,
        })
    }
}

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(format!("sqlite: {e}"))
}

fn closed() -> StoreError {
    StoreError::Backend("sqlite job store is closed".into())
}

/// Versions are `u64` in the API and `INTEGER` (i64) in SQLite; a negative or out-of-range
/// value means the file was edited by hand.
fn to_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Backend(format!("invalid version {v} in database")))
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("version {v} out of range")))
}

fn decode(name: &str, json: &str) -> Result<ProwJob> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Backend(format!("stored prowjob {name:?} is not valid: {e}")))
}

fn encode(job: &ProwJob) -> Result<String> {
    serde_json::to_string(job).map_err(|e| StoreError::Backend(format!("encoding prowjob: {e}")))
}

/// The connection plus the state of the transaction in progress.
struct Db {
    conn: Connection,
    capacity: u64,
    /// Latest version, read at the start of each batch and advanced by its writes.
    version: u64,
    version_at_begin: u64,
    compacted: u64,
    /// Writes of this batch, broadcast after the commit.
    pending: Vec<Arc<Logged>>,
}

/// Answers a request once the outcome of its batch's commit is known.
type Answer = Box<dyn FnOnce(&Result<()>) + Send>;

/// A request for the database thread.
trait Operation: Send {
    /// Runs in the batch's transaction and returns how to answer once the commit's outcome is
    /// known.
    fn run(self: Box<Self>, db: &mut Db) -> Answer;
    /// Answers without running (the transaction could not start).
    fn fail(self: Box<Self>, e: StoreError);
}

struct Call<T, F> {
    f: F,
    tx: oneshot::Sender<Result<T>>,
}

impl<T, F> Operation for Call<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut Db) -> Result<T> + Send,
{
    fn run(self: Box<Self>, db: &mut Db) -> Answer {
        let Call { f, tx } = *self;
        let result = db.in_savepoint(f);
        Box::new(move |commit| {
            let answer = match (result, commit) {
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) => Err(e.clone()),
                (Ok(v), Ok(())) => Ok(v),
            };
            // The caller may have given up waiting; nothing to do then.
            let _ = tx.send(answer);
        })
    }

    fn fail(self: Box<Self>, e: StoreError) {
        let _ = self.tx.send(Err(e));
    }
}

impl Db {
    fn open(path: &Path, opts: &SqliteOptions) -> Result<Db> {
        let conn = Connection::open(path).map_err(db_err)?;
        conn.busy_timeout(opts.busy_timeout).map_err(db_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "sqlite: {} does not support WAL (journal_mode is {mode})",
                path.display()
            )));
        }
        let sync = if opts.synchronous_full {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(db_err)?;
        let user_version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db_err)?;
        if user_version > SCHEMA_VERSION {
            return Err(StoreError::Backend(format!(
                "{} has schema version {user_version}; this build understands up to {SCHEMA_VERSION}",
                path.display()
            )));
        }
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(db_err)?;
        Ok(Db {
            conn,
            capacity: opts.event_log_capacity.max(1),
            version: 0,
            version_at_begin: 0,
            compacted: 0,
            pending: Vec::new(),
        })
    }

    fn meta(&self, key: &str) -> Result<u64> {
        let v: i64 = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |r| r.get(0)))
            .map_err(db_err)?;
        to_u64(v)
    }

    fn set_meta(&self, key: &str, value: u64) -> Result<()> {
        let value = to_i64(value)?;
        self.conn
            .prepare_cached("UPDATE meta SET value = ?2 WHERE key = ?1")
            .and_then(|mut s| s.execute(params![key, value]))
            .map_err(db_err)?;
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
        let read = self
            .meta("version")
            .and_then(|v| Ok((v, self.meta("compacted")?)));
        match read {
            Ok((version, compacted)) => {
                self.version = version;
                self.version_at_begin = version;
                self.compacted = compacted;
                self.pending.clear();
                Ok(())
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Saves the counter, trims the event log and commits.
    fn commit(&mut self) -> Result<()> {
        let result = self.finish_batch();
        if result.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
            self.pending.clear();
        }
        result
    }

    fn finish_batch(&mut self) -> Result<()> {
        if self.version != self.version_at_begin {
            self.set_meta("version", self.version)?;
        }
        let keep_from = self.version.saturating_sub(self.capacity);
        if keep_from > self.compacted {
            let upto = to_i64(keep_from)?;
            self.conn
                .prepare_cached("DELETE FROM events WHERE rv <= ?1")
                .and_then(|mut s| s.execute([upto]))
                .map_err(db_err)?;
            self.set_meta("compacted", keep_from)?;
            self.compacted = keep_from;
        }
        self.conn.execute_batch("COMMIT").map_err(db_err)
    }

    /// Runs `f` so that its writes are undone if it fails.
    fn in_savepoint<T>(&mut self, f: impl FnOnce(&mut Db) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("SAVEPOINT op").map_err(db_err)?;
        let (version, pending) = (self.version, self.pending.len());
        let result = f(self).and_then(|v| {
            self.conn.execute_batch("RELEASE op").map_err(db_err)?;
            Ok(v)
        });
        if result.is_err() {
            self.version = version;
            self.pending.truncate(pending);
            let _ = self.conn.execute_batch("ROLLBACK TO op; RELEASE op");
        }
        result
    }

    /// `(id, resourceVersion, object)` of a stored job.
    fn find(&self, ns: &str, name: &str) -> Result<Option<(i64, u64, String)>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT id, resource_version, object FROM prowjobs WHERE namespace = ?1 AND name = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![ns, name], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                })
                .optional()
            })
            .map_err(db_err)?;
        row.map(|(id, rv, obj)| Ok((id, to_u64(rv)?, obj)))
            .transpose()
    }

    fn insert_labels(&self, id: i64, labels: Option<&BTreeMap<String, String>>) -> Result<()> {
        let Some(labels) = labels else { return Ok(()) };
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO prowjob_labels (job_id, key, value) VALUES (?1, ?2, ?3)")
            .map_err(db_err)?;
        for (k, v) in labels {
            stmt.execute(params![id, k, v]).map_err(db_err)?;
        }
        Ok(())
    }

    fn delete_labels(&self, id: i64) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM prowjob_labels WHERE job_id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(db_err)?;
        Ok(())
    }

    /// Appends to the watch log and queues the broadcast.
    fn log(&mut self, rv: u64, ns: &str, kind: Kind, json: &str, job: ProwJob) -> Result<()> {
        let rv_i = to_i64(rv)?;
        self.conn
            .prepare_cached(
                "INSERT INTO events (rv, namespace, kind, object) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![rv_i, ns, kind as i64, json]))
            .map_err(db_err)?;
        self.version = rv;
        self.pending.push(Arc::new(Logged {
            rv,
            namespace: ns.to_owned(),
            event: kind.event(job),
        }));
        Ok(())
    }

    fn create(&mut self, ns: &str, mut job: ProwJob) -> Result<ProwJob> {
        let name = match job.metadata.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        if self.find(ns, &name)?.is_some() {
            return Err(StoreError::AlreadyExists(name));
        }
        let rv = self.version + 1;
        crate::fill_type_meta(&mut job);
        job.metadata.name = Some(name.clone());
        job.metadata.namespace = Some(ns.to_owned());
        job.metadata.resource_version = Some(rv.to_string());
        job.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
        job.metadata.creation_timestamp = Some(crate::now_time());
        let json = encode(&job)?;
        // What callers get back is exactly what a later read decodes (timestamps in whole
        // seconds and so on).
        let stored = decode(&name, &json)?;
        let rv_i = to_i64(rv)?;
        self.conn
            .prepare_cached(
                "INSERT INTO prowjobs (namespace, name, job, state, created_rv, resource_version, object)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    ns,
                    name,
                    stored.spec.job,
                    stored.status.state.as_str(),
                    rv_i,
                    json
                ])
            })
            .map_err(db_err)?;
        let id = self.conn.last_insert_rowid();
        self.insert_labels(id, stored.metadata.labels.as_ref())?;
        self.log(rv, ns, Kind::Added, &json, stored.clone())?;
        Ok(stored)
    }

    fn update(&mut self, ns: &str, job: ProwJob, status_only: bool) -> Result<ProwJob> {
        let name = job.name().to_owned();
        let Some((id, current_rv, current_json)) = self.find(ns, &name)? else {
            return Err(StoreError::NotFound(name));
        };
        if let Some(rv) = job.metadata.resource_version.as_deref()
            && !rv.is_empty()
            && rv != current_rv.to_string()
        {
            return Err(StoreError::Conflict(name));
        }
        let current = decode(&name, &current_json)?;
        let mut new = if status_only {
            let mut j = current.clone();
            j.status = job.status;
            j
        } else {
            // Identity and bookkeeping fields belong to the store.
            let mut j = job;
            j.metadata.uid = current.metadata.uid.clone();
            j.metadata.creation_timestamp = current.metadata.creation_timestamp.clone();
            j.metadata.namespace = current.metadata.namespace.clone();
            crate::fill_type_meta(&mut j);
            j
        };
        new.metadata.resource_version = current.metadata.resource_version.clone();
        if new == current {
            // Like the Kubernetes API: a write that changes nothing keeps the version and sends
            // no event.
            return Ok(current);
        }
        let rv = self.version + 1;
        new.metadata.resource_version = Some(rv.to_string());
        let json = encode(&new)?;
        let stored = decode(&name, &json)?;
        let rv_i = to_i64(rv)?;
        self.conn
            .prepare_cached(
                "UPDATE prowjobs SET job = ?2, state = ?3, resource_version = ?4, object = ?5 WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.execute(params![
                    id,
                    stored.spec.job,
                    stored.status.state.as_str(),
                    rv_i,
                    json
                ])
            })
            .map_err(db_err)?;
        if stored.metadata.labels != current.metadata.labels {
            self.delete_labels(id)?;
            self.insert_labels(id, stored.metadata.labels.as_ref())?;
        }
        self.log(rv, ns, Kind::Modified, &json, stored.clone())?;
        Ok(stored)
    }

    fn delete(&mut self, ns: &str, name: &str) -> Result<()> {
        let Some((id, _, current_json)) = self.find(ns, name)? else {
            return Err(StoreError::NotFound(name.to_owned()));
        };
        let rv = self.version + 1;
        let mut job = decode(name, &current_json)?;
        // The DELETED event carries the deletion's version, as on Kubernetes.
        job.metadata.resource_version = Some(rv.to_string());
        let json = encode(&job)?;
        self.delete_labels(id)?;
        self.conn
            .prepare_cached("DELETE FROM prowjobs WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(db_err)?;
        self.log(rv, ns, Kind::Deleted, &json, job)?;
        Ok(())
    }

    fn get(&self, ns: &str, name: &str) -> Result<String> {
        self.find(ns, name)?
            .map(|(_, _, obj)| obj)
            .ok_or_else(|| StoreError::NotFound(name.to_owned()))
    }

    fn list(&self, ns: &str, params: &ListParams) -> Result<(u64, Vec<String>)> {
        let (sql, args) = list_query(ns, params);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db_err)?;
        let rows = stmt
            .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
            .map_err(db_err)?;
        Ok((self.version, rows))
    }

    /// Logged events of `ns` after `after`, oldest first, at most `limit`.
    fn events_after(&self, ns: &str, after: u64, limit: i64) -> Result<Vec<(u64, Kind, String)>> {
        if after < self.compacted {
            return Err(StoreError::Gone(after.to_string()));
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT rv, kind, object FROM events WHERE rv > ?1 AND namespace = ?2 ORDER BY rv LIMIT ?3",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![to_i64(after)?, ns, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(rv, kind, obj)| {
                let kind = Kind::from_i64(kind).ok_or_else(|| {
                    StoreError::Backend(format!("unknown event kind {kind} at version {rv}"))
                })?;
                Ok((to_u64(rv)?, kind, obj))
            })
            .collect()
    }
}

/// The SQL for a list: namespace, `spec.job` and `status.state` through the indexed columns,
/// each label requirement as an `IN` / `NOT IN` over the label index.
fn list_query(ns: &str, params: &ListParams) -> (String, Vec<SqlValue>) {
    let mut sql = String::from("SELECT object FROM prowjobs WHERE namespace = ?");
    let mut args = vec![SqlValue::Text(ns.to_owned())];
    if let Some(job) = &params.job_name {
        sql.push_str(" AND job = ?");
        args.push(SqlValue::Text(job.clone()));
    }
    if let Some(state) = &params.state {
        sql.push_str(" AND state = ?");
        args.push(SqlValue::Text(state.clone()));
    }
    for req in &params.labels.0 {
        let (negated, key, values): (bool, &String, Option<&[String]>) = match req {
            Requirement::Equals(k, v) => (false, k, Some(std::slice::from_ref(v))),
            Requirement::NotEquals(k, v) => (true, k, Some(std::slice::from_ref(v))),
            Requirement::Exists(k) => (false, k, None),
            Requirement::NotExists(k) => (true, k, None),
            Requirement::In(k, vs) => (false, k, Some(vs.as_slice())),
            Requirement::NotIn(k, vs) => (true, k, Some(vs.as_slice())),
        };
        sql.push_str(if negated {
            " AND id NOT IN"
        } else {
            " AND id IN"
        });
        sql.push_str(" (SELECT job_id FROM prowjob_labels WHERE key = ?");
        args.push(SqlValue::Text(key.clone()));
        if let Some(values) = values {
            // `value IN ()` is valid SQLite and matches nothing, like an empty set selector.
            let marks = vec!["?"; values.len()].join(", ");
            sql.push_str(&format!(" AND value IN ({marks})"));
            args.extend(values.iter().map(|v| SqlValue::Text(v.clone())));
        }
        sql.push(')');
    }
    sql.push_str(" ORDER BY created_rv");
    (sql, args)
}

/// The database thread: runs queued requests in batches until every store handle is gone.
fn serve(
    mut db: Db,
    mut rx: mpsc::UnboundedReceiver<Box<dyn Operation>>,
    events: broadcast::Sender<Arc<Logged>>,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        if let Err(e) = db.begin() {
            tracing::error!(error = %e, "sqlite job store: cannot start a transaction");
            for op in batch {
                op.fail(e.clone());
            }
            continue;
        }
        let answers: Vec<_> = batch.into_iter().map(|op| op.run(&mut db)).collect();
        let commit = db.commit();
        if let Err(e) = &commit {
            tracing::error!(error = %e, "sqlite job store: commit failed");
        }
        for logged in db.pending.drain(..) {
            // No receivers is fine: nobody is watching.
            let _ = events.send(logged);
        }
        for answer in answers {
            answer(&commit);
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store file at `path`; jobs live in `namespace`.
    pub async fn open(path: impl AsRef<Path>, namespace: &str) -> Result<Self> {
        Self::open_with(path, namespace, SqliteOptions::default()).await
    }

    /// Opens `<dir>/`[`DEFAULT_FILE_NAME`], creating `dir` if needed.
    pub async fn open_in_dir(dir: impl AsRef<Path>, namespace: &str) -> Result<Self> {
        Self::open(dir.as_ref().join(DEFAULT_FILE_NAME), namespace).await
    }

    /// [`SqliteStore::open`] with explicit options.
    pub async fn open_with(
        path: impl AsRef<Path>,
        namespace: &str,
        opts: SqliteOptions,
    ) -> Result<Self> {
        if namespace.is_empty() {
            return Err(StoreError::Invalid("namespace must not be empty".into()));
        }
        let path = path.as_ref().to_path_buf();
        let (ops_tx, ops_rx) = mpsc::unbounded_channel::<Box<dyn Operation>>();
        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        let (ready_tx, ready_rx) = oneshot::channel::<Result<File>>();
        let thread_events = events.clone();
        let thread_path = path.clone();
        std::thread::Builder::new()
            .name("prow-jobstore-sqlite".into())
            .spawn(move || {
                let opened = lock_file(&thread_path)
                    .and_then(|lock| Ok((lock, Db::open(&thread_path, &opts)?)));
                match opened {
                    Ok((lock, db)) => {
                        if ready_tx.send(Ok(lock)).is_ok() {
                            serve(db, ops_rx, thread_events);
                        }
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| StoreError::Backend(format!("starting the sqlite thread: {e}")))?;
        let lock = ready_rx.await.map_err(|_| closed())??;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                ops: ops_tx,
                events,
                namespace: namespace.to_owned(),
                path,
                _lock: lock,
            }),
        })
    }

    /// The namespace jobs are stored in.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on the database thread, inside the current batch's transaction.
    async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T> + Send + 'static,
    {
        call(&self.inner.ops, f).await
    }

    /// The namespace a written job goes to: the store's; a job naming another one is refused
    /// (Kubernetes refuses a body whose namespace differs from the request's).
    fn namespace_of(&self, job: &ProwJob) -> Result<String> {
        match job.metadata.namespace.as_deref() {
            None | Some("") => Ok(self.inner.namespace.clone()),
            Some(ns) if ns == self.inner.namespace => Ok(ns.to_owned()),
            Some(ns) => Err(StoreError::Invalid(format!(
                "prowjob namespace {ns:?} does not match the store's namespace {:?}",
                self.inner.namespace
            ))),
        }
    }

    fn list_namespace(&self, params: &ListParams) -> String {
        params
            .namespace
            .clone()
            .unwrap_or_else(|| self.inner.namespace.clone())
    }
}

async fn call<T, F>(ops: &mpsc::UnboundedSender<Box<dyn Operation>>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Db) -> Result<T> + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    ops.send(Box::new(Call { f, tx })).map_err(|_| closed())?;
    rx.await.map_err(|_| closed())?
}

/// Takes the exclusive lock that makes this process the file's only user.
fn lock_file(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("creating {}: {e}", dir.display())))?;
    }
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::Backend(format!("opening {}: {e}", lock_path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Backend(format!(
            "{} is already open in another job store",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(StoreError::Backend(format!(
            "locking {}: {e}",
            lock_path.display()
        ))),
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn create(&self, job: ProwJob) -> Result<ProwJob> {
        let ns = self.namespace_of(&job)?;
        self.call(move |db| db.create(&ns, job)).await
    }

    async fn get(&self, name: &str) -> Result<ProwJob> {
        let (ns, n) = (self.inner.namespace.clone(), name.to_owned());
        let json = self.call(move |db| db.get(&ns, &n)).await?;
        decode(name, &json)
    }

    async fn list(&self, params: &ListParams) -> Result<JobList> {
        let ns = self.list_namespace(params);
        let p = params.clone();
        let (version, rows) = self.call(move |db| db.list(&ns, &p)).await?;
        // Decoding happens here, not on the database thread, so big lists do not hold up writes.
        let items = rows
            .iter()
            .map(|json| decode("(listed)", json))
            .collect::<Result<Vec<_>>>()?;
        Ok(JobList {
            items,
            resource_version: version.to_string(),
        })
    }

    async fn update(&self, job: ProwJob) -> Result<ProwJob> {
        let ns = self.namespace_of(&job)?;
        if job.name().is_empty() {
            return Err(StoreError::Invalid(
                "metadata.name is required for an update".into(),
            ));
        }
        self.call(move |db| db.update(&ns, job, false)).await
    }

    async fn update_status(&self, job: ProwJob) -> Result<ProwJob> {
        let ns = self.namespace_of(&job)?;
        if job.name().is_empty() {
            return Err(StoreError::Invalid(
                "metadata.name is required for an update".into(),
            ));
        }
        self.call(move |db| db.update(&ns, job, true)).await
    }

    async fn delete(&self, name: &str) -> Result<()> {
        let (ns, n) = (self.inner.namespace.clone(), name.to_owned());
        self.call(move |db| db.delete(&ns, &n)).await
    }

    async fn watch(
        &self,
        params: &ListParams,
        resource_version: &str,
    ) -> Result<BoxStream<'static, Result<WatchEvent>>> {
        let from: u64 = resource_version.parse().map_err(|_| {
            StoreError::Invalid(format!("bad resource version {resource_version:?}"))
        })?;
        // Subscribe before reading the log so no write falls between the two.
        let rx = self.inner.events.subscribe();
        let mut cursor = Cursor {
            ops: self.inner.ops.downgrade(),
            rx,
            namespace: self.list_namespace(params),
            params: params.clone(),
            last: from,
            buffer: VecDeque::new(),
            catching_up: true,
            done: false,
        };
        // The first page is read now so a too-old version fails the call itself.
        cursor.catch_up().await?;
        Ok(stream::unfold(cursor, Cursor::next).boxed())
    }
}

/// State of one watch stream.
struct Cursor {
    /// Weak, so open watches do not keep a dropped store's thread alive.
    ops: mpsc::WeakUnboundedSender<Box<dyn Operation>>,
    rx: broadcast::Receiver<Arc<Logged>>,
    namespace: String,
    params: ListParams,
    /// Highest version delivered or skipped.
    last: u64,
    buffer: VecDeque<WatchEvent>,
    /// Reading the log instead of the broadcast (at the start and after lagging).
    catching_up: bool,
    done: bool,
}

impl Cursor {
    /// Reads the next page of the log into the buffer.
    async fn catch_up(&mut self) -> Result<()> {
        let Some(ops) = self.ops.upgrade() else {
            self.done = true;
            return Ok(());
        };
        let (ns, after) = (self.namespace.clone(), self.last);
        let page = call(&ops, move |db| db.events_after(&ns, after, WATCH_PAGE)).await?;
        if (page.len() as i64) < WATCH_PAGE {
            self.catching_up = false;
        }
        for (rv, kind, json) in page {
            self.last = rv;
            let job = decode("(watched)", &json)?;
            if self.params.matches(&job) {
                self.buffer.push_back(kind.event(job));
            }
        }
        Ok(())
    }

    async fn next(mut self) -> Option<(Result<WatchEvent>, Self)> {
        loop {
            if let Some(ev) = self.buffer.pop_front() {
                return Some((Ok(ev), self));
            }
            if self.done {
                return None;
            }
            if self.catching_up {
                if let Err(e) = self.catch_up().await {
                    self.done = true;
                    return Some((Err(e), self));
                }
                continue;
            }
            match self.rx.recv().await {
                Ok(logged) => {
                    if logged.rv <= self.last {
                        continue;
                    }
                    self.last = logged.rv;
                    if logged.namespace == self.namespace && self.params.matches(logged.event.job())
                    {
                        return Some((Ok(logged.event.clone()), self));
                    }
                }
                // Missed live events are still in the log.
                Err(broadcast::error::RecvError::Lagged(_)) => self.catching_up = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LabelSelector;

    #[test]
    fn list_query_shapes() {
        let params = ListParams {
            labels: LabelSelector::parse("a=1,b!=2,c,!d,e in (x,y),f notin ()").unwrap(),
            job_name: Some("j".into()),
            state: Some("pending".into()),
            ..Default::default()
        };
        let (sql, args) = list_query("ns", &params);
        assert_eq!(
            sql,
            "SELECT object FROM prowjobs WHERE namespace = ? AND job = ? AND state = ? \
             AND id IN (SELECT job_id FROM prowjob_labels WHERE key = ? AND value IN (?)) \
             AND id NOT IN (SELECT job_id FROM prowjob_labels WHERE key = ? AND value IN (?)) \
             AND id IN (SELECT job_id FROM prowjob_labels WHERE key = ?) \
             AND id NOT IN (SELECT job_id FROM prowjob_labels WHERE key = ?) \
             AND id IN (SELECT job_id FROM prowjob_labels WHERE key = ? AND value IN (?, ?)) \
             AND id NOT IN (SELECT job_id FROM prowjob_labels WHERE key = ? AND value IN ()) \
             ORDER BY created_rv"
        );
        assert_eq!(args.len(), 13);
    }
}
