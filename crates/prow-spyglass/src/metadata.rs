//! The `metadata` lens: `started.json`, `finished.json`, `prowjob.json` and `podinfo.json`
//! summarised as "Test started … passed after …", with refs, repos, the metadata maps and a
//! hint explaining failures that happened before the test ran.
//!
//! Inputs are read as loose JSON, so files written by other tools (bootstrap, crier) with
//! extra or oddly typed fields still render.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::html::{esc, push_esc};

/// What the metadata files say about a run.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MetadataView {
    /// `started.json` timestamp.
    pub started: Option<DateTime<Utc>>,
    /// `finished.json` timestamp.
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether `finished.json` exists.
    pub finished: bool,
    /// `passed` (or `result == "SUCCESS"`).
    pub passed: bool,
    /// The ProwJob ended in `error`.
    pub errored: bool,
    /// `finished.json` result string.
    pub result: String,
    /// Run time (to now while running).
    pub elapsed: Option<chrono::Duration>,
    /// Why the job probably failed, from podinfo.json or prowjob.json.
    pub hint: String,
    /// Flattened `metadata` maps plus `node`, `revision`, `repo-version`, `pull`.
    pub metadata: BTreeMap<String, String>,
    /// `started.json` `repos`.
    pub repos: BTreeMap<String, String>,
    /// Refs of the ProwJob (`org/repo`, base, pulls), when prowjob.json is present.
    pub refs: Option<Value>,
    /// Problems reading the files.
    pub errors: Vec<String>,
}

fn timestamp(v: Option<&Value>) -> Option<DateTime<Utc>> {
    let v = v?;
    let secs = v
        .as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))?;
    DateTime::from_timestamp(secs, 0)
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
    let Some(map) = v.as_object() else {
        return;
    };
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(m) if !m.is_empty() => flatten(&key, v, out),
            Value::String(s) if !s.is_empty() => {
                out.insert(key, s.clone());
            }
            _ => {}
        }
    }
}

/// Parse what is present. `now` is used for the elapsed time of running jobs.
pub fn build(
    started: Option<Result<Value, String>>,
    finished: Option<Result<Value, String>>,
    prowjob: Option<Result<Value, String>>,
    podinfo: Option<Result<Value, String>>,
    now: DateTime<Utc>,
) -> MetadataView {
    let mut v = MetadataView::default();
    let mut take = |name: &str, r: Option<Result<Value, String>>| match r {
        Some(Ok(val)) => Some(val),
        Some(Err(e)) => {
            v.errors.push(format!("{name}: {e}"));
            None
        }
        None => None,
    };
    let started = take("started.json", started);
    let finished = take("finished.json", finished);
    let prowjob = take("prowjob.json", prowjob);
    let podinfo = take("podinfo.json", podinfo);
    if let Some(s) = &started {
        v.started = timestamp(s.get("timestamp"));
        if let Some(node) = s.get("node").and_then(Value::as_str) {
            v.metadata.insert("node".into(), node.to_string());
        }
        for k in ["pull", "repo-version", "repo-commit"] {
            if let Some(x) = s.get(k).and_then(Value::as_str).filter(|x| !x.is_empty()) {
                v.metadata.insert(k.into(), x.to_string());
            }
        }
        if let Some(repos) = s.get("repos").and_then(Value::as_object) {
            for (k, r) in repos {
                if let Some(r) = r.as_str() {
                    v.repos.insert(k.clone(), r.to_string());
                }
            }
        }
        if let Some(m) = s.get("metadata") {
            flatten("", m, &mut v.metadata);
        }
    }
    if let Some(f) = &finished {
        v.finished = true;
        v.finished_at = timestamp(f.get("timestamp"));
        v.result = f
            .get("result")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        v.passed = f
            .get("passed")
            .and_then(Value::as_bool)
            .unwrap_or(v.result == "SUCCESS");
        if let Some(rev) = f
            .get("revision")
            .and_then(Value::as_str)
            .filter(|x| !x.is_empty())
        {
            v.metadata.insert("revision".into(), rev.to_string());
        }
        if let Some(m) = f.get("metadata") {
            flatten("", m, &mut v.metadata);
        }
    }
    if let Some(s) = v.started {
        let end = v.finished_at.unwrap_or(now);
        v.elapsed = Some(end - s);
    }
    if let Some(p) = &podinfo {
        v.hint = hint_from_podinfo(p);
    }
    if let Some(pj) = &prowjob {
        if v.hint.is_empty() && pj.pointer("/status/state").and_then(Value::as_str) == Some("error")
        {
            v.errored = true;
            v.hint = format!(
                "Job execution failed: {}",
                pj.pointer("/status/description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            );
        }
        v.refs = pj.pointer("/spec/refs").cloned();
    }
    v
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

/// Prow's hints from the pod report (image pulls, volume mounts, scheduling, node trouble,
/// init containers).
pub fn hint_from_podinfo(report: &Value) -> String {
    let pod = report.get("pod").unwrap_or(&Value::Null);
    let phase = s(pod, "/status/phase");
    if phase == "Succeeded" {
        return String::new();
    }
    let mut events: Vec<&Value> = report
        .get("events")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    // Most recent first: later events are more likely to be relevant.
    events.sort_by(|a, b| s(b, "/lastTimestamp").cmp(s(a, "/lastTimestamp")));
    let statuses = |k: &str| -> Vec<&Value> {
        pod.pointer(&format!("/status/{k}"))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    let init = statuses("initContainerStatuses");
    let all: Vec<&Value> = init
        .iter()
        .copied()
        .chain(statuses("containerStatuses"))
        .collect();
    for st in &all {
        let reason = s(st, "/state/waiting/reason");
        if reason == "ImagePullBackOff" || reason == "ErrImagePull" {
            return format!(
                "The {} container could not start because it could not pull {:?}. Check your images. Full message: {:?}",
                s(st, "/name"),
                s(st, "/image"),
                s(st, "/state/waiting/message")
            );
        }
    }
    if phase == "Pending" {
        let mut failed_mount = false;
        for e in &events {
            if s(e, "/reason") == "FailedMount" {
                failed_mount = true;
                let msg = s(e, "/message");
                if let Some(rest) = msg.strip_prefix("MountVolume.SetUp failed for volume \"")
                    && let Some((vol, why)) = rest.split_once("\" : ")
                {
                    return format!(
                        "The pod could not start because it could not mount the volume {vol:?}: {why}"
                    );
                }
            }
        }
        if failed_mount {
            return "The job could not started because one or more of the volumes could not be mounted.".into();
        }
    }
    if phase == "Failed" && s(pod, "/status/reason") == "MatchNodeSelector" {
        return "The job could not start because it was scheduled to a node that does not satisfy its NodeSelector".into();
    }
    if phase == "Pending" {
        for e in &events {
            if s(e, "/reason") == "FailedScheduling" {
                return format!(
                    "There are no nodes that your pod can schedule to - check your requests, tolerations, and node selectors ({})",
                    s(e, "/message")
                );
            }
        }
    }
    for e in &events {
        let r = s(e, "/reason");
        if r == "FailedCreatePodSandbox" || r == "FailedSync" {
            return "The job may have executed on an unhealthy node. Contact your prow maintainers with a link to this page or check the detailed pod information.".into();
        }
    }
    let mut msgs = Vec::new();
    for ic in init {
        if ic.get("ready").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let msg = if ic.pointer("/state/terminated").is_some() {
            format!(
                "state: terminated, reason: {:?}, message: {:?}",
                s(ic, "/state/terminated/reason"),
                s(ic, "/state/terminated/message")
            )
        } else if ic.pointer("/state/waiting").is_some() {
            format!(
                "state: waiting, reason: {:?}, message: {:?}",
                s(ic, "/state/waiting/reason"),
                s(ic, "/state/waiting/message")
            )
        } else if ic.pointer("/state/running").is_some() {
            "state: running".into()
        } else {
            String::new()
        };
        msgs.push(format!(
            "Init container {} not ready: ({msg})",
            s(ic, "/name")
        ));
    }
    msgs.join("\n")
}

/// Go-style duration text (`1h2m3s`, negative allowed).
pub fn go_duration(d: chrono::Duration) -> String {
    let total = d.num_seconds();
    let neg = total < 0;
    let t = total.unsigned_abs();
    let (h, m, s) = (t / 3600, (t % 3600) / 60, t % 60);
    let body = if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    };
    if neg { format!("-{body}") } else { body }
}

fn time_text(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "unknown".to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

impl MetadataView {
    /// Render the lens body.
    pub fn render(&self) -> String {
        let mut out = String::from("<div class=\"metadata\">");
        for e in &self.errors {
            out.push_str("<p class=\"lens-error\">");
            push_esc(&mut out, e);
            out.push_str("</p>");
        }
        let elapsed = self.elapsed.map(go_duration).unwrap_or_else(|| "?".into());
        let _ = write!(
            out,
            "<p class=\"test-summary\">Test started <time datetime=\"{}\">{}</time> ",
            self.started.map(|t| t.to_rfc3339()).unwrap_or_default(),
            esc(&time_text(self.started))
        );
        if self.finished {
            if self.passed {
                out.push_str("<span class=\"st-success\">passed</span>");
            } else if self.errored {
                out.push_str("<span class=\"st-failure\">error</span>");
            } else if self.result == "ABORTED" {
                out.push_str("<span class=\"st-aborted\">aborted</span>");
            } else {
                out.push_str("<span class=\"st-failure\">failed</span>");
            }
        } else {
            out.push_str("<span class=\"st-pending\">is still running</span>");
        }
        let _ = write!(out, " after {}.</p>", esc(&elapsed));
        if self.elapsed.is_some_and(|d| d < chrono::Duration::zero()) {
            let _ = write!(
                out,
                "<p class=\"test-summary\">WARNING: The elapsed duration ({}) is negative. This can be caused by another process outside of Prow writing into the finished.json file. The file currently has a completion time of {}.</p>",
                esc(&elapsed),
                esc(&time_text(self.finished_at))
            );
        }
        if !self.hint.is_empty() {
            out.push_str("<p class=\"failure-hint\">");
            push_esc(&mut out, &self.hint);
            out.push_str("</p>");
        }
        out.push_str("<details class=\"more-info\"><summary>More info</summary><div class=\"table-wrap\"><table class=\"kv\"><tbody>");
        let mut row = |k: &str, v: &str| {
            out.push_str("<tr><th>");
            push_esc(&mut out, k);
            out.push_str("</th><td>");
            push_esc(&mut out, v);
            out.push_str("</td></tr>");
        };
        row("Started", &time_text(self.started));
        if self.finished {
            row("Finished", &time_text(self.finished_at));
        }
        row("Elapsed", &elapsed);
        if !self.result.is_empty() {
            row("Result", &self.result);
        }
        for (k, v) in &self.repos {
            row(&format!("repo {k}"), v);
        }
        for (k, v) in &self.metadata {
            row(k, v);
        }
        out.push_str("</tbody></table></div>");
        if let Some(refs) = &self.refs {
            render_refs(&mut out, refs);
        }
        out.push_str("</details></div>");
        out
    }
}

fn link_or_text(out: &mut String, text: &str, link: &str) {
    if link.starts_with("https://") || link.starts_with("http://") {
        out.push_str("<a href=\"");
        push_esc(out, link);
        out.push_str("\">");
        push_esc(out, text);
        out.push_str("</a>");
    } else {
        push_esc(out, text);
    }
}

fn render_refs(out: &mut String, refs: &Value) {
    out.push_str("<h4>Refs</h4><ul class=\"refs\"><li>");
    let repo = format!("{}/{}", s(refs, "/org"), s(refs, "/repo"));
    link_or_text(out, &repo, s(refs, "/repo_link"));
    out.push_str(" @ ");
    link_or_text(out, s(refs, "/base_ref"), s(refs, "/base_link"));
    let sha = s(refs, "/base_sha");
    if !sha.is_empty() {
        out.push_str(" (<code>");
        push_esc(out, &sha[..sha.len().min(12)]);
        out.push_str("</code>)");
    }
    out.push_str("</li>");
    for p in refs
        .get("pulls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push_str("<li>PR ");
        let num = p.get("number").and_then(Value::as_u64).unwrap_or(0);
        link_or_text(out, &format!("#{num}"), s(p, "/link"));
        let author = s(p, "/author");
        if !author.is_empty() {
            out.push_str(" by ");
            link_or_text(out, author, s(p, "/author_link"));
        }
        let sha = s(p, "/sha");
        if !sha.is_empty() {
            out.push_str(" at <code>");
            push_esc(out, &sha[..sha.len().min(12)]);
            out.push_str("</code>");
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_600, 0).unwrap()
    }

    #[test]
    fn finished_run() {
        let v = build(
            Some(Ok(
                json!({"timestamp": 1_700_000_000, "node": "n1", "repos": {"o/r": "main:abc"},
                "metadata": {"links": {"x": {"url": "https://example.com"}}, "empty": ""}}),
            )),
            Some(Ok(
                json!({"timestamp": 1_700_000_125, "passed": false, "result": "FAILURE",
                "revision": "abc", "metadata": {"infra": "k8s"}}),
            )),
            Some(Ok(
                json!({"spec": {"refs": {"org": "o", "repo": "r", "base_ref": "main",
                "pulls": [{"number": 7, "author": "dev", "link": "https://example.com/o/r/pull/7"}]}},
                "status": {"state": "failure"}}),
            )),
            None,
            now(),
        );
        assert!(v.finished && !v.passed);
        assert_eq!(v.elapsed.map(go_duration).as_deref(), Some("2m5s"));
        assert_eq!(v.metadata["node"], "n1");
        assert_eq!(v.metadata["links.x.url"], "https://example.com");
        assert_eq!(v.metadata["infra"], "k8s");
        assert!(!v.metadata.contains_key("empty"));
        let html = v.render();
        assert!(
            html.contains("<span class=\"st-failure\">failed</span> after 2m5s."),
            "{html}"
        );
        assert!(html.contains("href=\"https://example.com/o/r/pull/7\">#7</a>"));
    }

    #[test]
    fn running_and_errors() {
        let v = build(
            Some(Ok(json!({"timestamp": 1_700_000_000}))),
            None,
            Some(Ok(
                json!({"status": {"state": "error", "description": "bad <pod>"}}),
            )),
            Some(Err("too big".into())),
            now(),
        );
        assert!(!v.finished);
        assert_eq!(v.elapsed.map(go_duration).as_deref(), Some("10m0s"));
        assert!(v.errored);
        let html = v.render();
        assert!(html.contains("is still running"));
        assert!(html.contains("Job execution failed: bad &lt;pod&gt;"));
        assert!(html.contains("podinfo.json: too big"));
        // Oddly typed fields never panic.
        let v = build(
            Some(Ok(json!({"timestamp": "x", "repos": [1], "metadata": 5}))),
            Some(Ok(json!(["not", "an", "object"]))),
            None,
            None,
            now(),
        );
        assert!(v.started.is_none());
        let _ = v.render();
    }

    #[test]
    fn podinfo_hints() {
        let pull = json!({"pod": {"status": {"phase": "Pending", "containerStatuses": [
            {"name": "test", "image": "img:1", "state": {"waiting": {"reason": "ErrImagePull", "message": "nope"}}}]}}});
        assert!(
            hint_from_podinfo(&pull).starts_with(
                "The test container could not start because it could not pull \"img:1\""
            )
        );
        let mount = json!({"pod": {"status": {"phase": "Pending"}}, "events": [
            {"reason": "FailedMount", "message": "MountVolume.SetUp failed for volume \"creds\" : secret not found"}]});
        assert_eq!(
            hint_from_podinfo(&mount),
            "The pod could not start because it could not mount the volume \"creds\": secret not found"
        );
        let sched = json!({"pod": {"status": {"phase": "Pending"}}, "events": [
            {"reason": "FailedScheduling", "message": "0/3 nodes"}]});
        assert!(hint_from_podinfo(&sched).ends_with("(0/3 nodes)"));
        assert_eq!(
            hint_from_podinfo(&json!({"pod": {"status": {"phase": "Succeeded"}}})),
            ""
        );
        let init = json!({"pod": {"status": {"phase": "Failed", "initContainerStatuses": [
            {"name": "clonerefs", "ready": false, "state": {"terminated": {"reason": "Error", "message": "clone failed"}}}]}}});
        assert_eq!(
            hint_from_podinfo(&init),
            "Init container clonerefs not ready: (state: terminated, reason: \"Error\", message: \"clone failed\")"
        );
    }
}
