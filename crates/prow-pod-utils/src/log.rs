//! A tiny structured logger in the shape of Prow's logrus JSON output
//! (`{"component":…,"level":…,"msg":…,"severity":…,"time":…}`, keys sorted).
//!
//! The utilities are single-purpose processes; pulling in a logging framework buys nothing.
//! What matters is *where* lines go: entrypoint logs into the test's own process log, and
//! sidecar uploads its own log as `sidecar-logs.json`, so a logger can tee into extra sinks.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};

/// Log severity, spelled as logrus spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `debug`
    Debug,
    /// `info`
    Info,
    /// `warning`
    Warn,
    /// `error`
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
        }
    }
}

/// A writer shared between the logger and other users (for example the process-log tee).
pub type SharedSink = Arc<Mutex<dyn Write + Send>>;

/// A JSON-lines logger for one component.
#[derive(Clone)]
pub struct Logger {
    component: String,
    to_stderr: bool,
    sinks: Arc<Mutex<Vec<SharedSink>>>,
    captured: Arc<Mutex<Vec<u8>>>,
    capture: bool,
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("component", &self.component)
            .finish_non_exhaustive()
    }
}

impl Logger {
    /// A logger writing to stderr.
    pub fn new(component: &str) -> Self {
        Logger {
            component: component.to_string(),
            to_stderr: true,
            sinks: Arc::new(Mutex::new(Vec::new())),
            captured: Arc::new(Mutex::new(Vec::new())),
            capture: false,
        }
    }

    /// A logger that writes nowhere except to sinks added later (for tests).
    pub fn silent(component: &str) -> Self {
        let mut l = Logger::new(component);
        l.to_stderr = false;
        l
    }

    /// Also keep every line in memory (see [`Logger::captured`]).
    pub fn capturing(mut self) -> Self {
        self.capture = true;
        self
    }

    /// Stop writing to stderr (the sinks take over).
    pub fn without_stderr(mut self) -> Self {
        self.to_stderr = false;
        self
    }

    /// Add a sink that receives every line from now on.
    pub fn add_sink(&self, sink: SharedSink) {
        if let Ok(mut s) = self.sinks.lock() {
            s.push(sink);
        }
    }

    /// Remove all extra sinks.
    pub fn clear_sinks(&self) {
        if let Ok(mut s) = self.sinks.lock() {
            s.clear();
        }
    }

    /// Everything logged so far when capturing.
    pub fn captured(&self) -> Vec<u8> {
        self.captured.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Log a message with extra fields.
    pub fn log(&self, level: Level, msg: &str, fields: &[(&str, String)]) {
        let mut m = Map::new();
        for (k, v) in fields {
            m.insert((*k).to_string(), Value::String(v.clone()));
        }
        m.insert("component".into(), Value::String(self.component.clone()));
        m.insert("level".into(), Value::String(level.as_str().into()));
        m.insert("severity".into(), Value::String(level.as_str().into()));
        m.insert("msg".into(), Value::String(msg.to_string()));
        m.insert(
            "time".into(),
            Value::String(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
        );
        // serde_json's Map is ordered by key, like logrus' JSON formatter.
        let mut line = Value::Object(m).to_string();
        line.push('\n');
        if self.to_stderr {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        if self.capture
            && let Ok(mut c) = self.captured.lock()
        {
            c.extend_from_slice(line.as_bytes());
        }
        if let Ok(sinks) = self.sinks.lock() {
            for s in sinks.iter() {
                if let Ok(mut w) = s.lock() {
                    let _ = w.write_all(line.as_bytes());
                    let _ = w.flush();
                }
            }
        }
    }

    /// Debug message.
    pub fn debug(&self, msg: &str) {
        self.log(Level::Debug, msg, &[]);
    }

    /// Info message.
    pub fn info(&self, msg: &str) {
        self.log(Level::Info, msg, &[]);
    }

    /// Warning message.
    pub fn warn(&self, msg: &str) {
        self.log(Level::Warn, msg, &[]);
    }

    /// Error message.
    pub fn error(&self, msg: &str) {
        self.log(Level::Error, msg, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sorted_json() {
        let l = Logger::silent("sidecar").capturing();
        l.log(Level::Warn, "hello", &[("dest", "a/b".into())]);
        let out = String::from_utf8(l.captured()).unwrap();
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["component"], "sidecar");
        assert_eq!(v["level"], "warning");
        assert_eq!(v["msg"], "hello");
        assert_eq!(v["dest"], "a/b");
        assert!(out.starts_with(r#"{"component":"sidecar","dest":"a/b","level""#));
    }
}
