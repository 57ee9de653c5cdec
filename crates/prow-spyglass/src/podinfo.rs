//! The `podinfo` lens: the test pod as crier's gcsk8sreporter saved it in `podinfo.json`
//! (`{"pod", "events", "node"}`): phase, node, containers with their state and exit codes,
//! and the pod's events. `runner_configs{<cluster>: {pod_link_template}}` adds a link to the
//! pod in the cluster's console.

use std::fmt::Write as _;

use serde_json::Value;

use crate::html::{esc, push_esc};

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

/// Render `pod_link_template` for a pod. Prow executes it as a Go template over the Pod; the
/// fields such templates use are the pod's name and namespace, which are substituted here.
pub fn pod_link(template: &str, pod: &Value) -> String {
    let name = s(pod, "/metadata/name");
    let ns = s(pod, "/metadata/namespace");
    let mut out = template.to_string();
    for (k, v) in [
        ("{{.Name}}", name),
        ("{{ .Name }}", name),
        ("{{.ObjectMeta.Name}}", name),
        ("{{.Namespace}}", ns),
        ("{{ .Namespace }}", ns),
        ("{{.ObjectMeta.Namespace}}", ns),
    ] {
        out = out.replace(k, v);
    }
    out
}

fn state_text(st: &Value) -> (String, &'static str) {
    if let Some(t) = st.pointer("/state/terminated") {
        let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
        let reason = s(t, "/reason");
        let cls = if code == 0 {
            "st-success"
        } else {
            "st-failure"
        };
        (format!("Terminated: {reason} (exit code {code})"), cls)
    } else if st.pointer("/state/waiting").is_some() {
        (
            format!(
                "Waiting: {} {}",
                s(st, "/state/waiting/reason"),
                s(st, "/state/waiting/message")
            ),
            "st-pending",
        )
    } else if st.pointer("/state/running").is_some() {
        (
            format!("Running since {}", s(st, "/state/running/startedAt")),
            "st-pending",
        )
    } else {
        ("Unknown".into(), "st-aborted")
    }
}

/// Render the lens body from `podinfo.json` and, when present, `prowjob.json` (for the
/// cluster of the pod link).
pub fn render(podinfo: &Value, prowjob: Option<&Value>, config: Option<&Value>) -> String {
    let pod = podinfo.get("pod").unwrap_or(&Value::Null);
    let mut out = String::from(
        "<div class=\"podinfo\"><div class=\"table-wrap\"><table class=\"kv\"><tbody>",
    );
    let row = |out: &mut String, k: &str, v: &str| {
        let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    };
    row(&mut out, "Pod name", s(pod, "/metadata/name"));
    let cluster = prowjob.map(|p| s(p, "/spec/cluster")).unwrap_or_default();
    if !cluster.is_empty()
        && let Some(tpl) = config
            .and_then(|c| {
                c.pointer(&format!(
                    "/runner_configs/{}/pod_link_template",
                    cluster.replace('~', "~0").replace('/', "~1")
                ))
            })
            .and_then(Value::as_str)
    {
        let link = pod_link(tpl, pod);
        if link.starts_with("https://") || link.starts_with("http://") {
            let _ = write!(
                out,
                "<tr><th>Pod link</th><td><a href=\"{}\">Click to pod</a></td></tr>",
                esc(&link)
            );
        }
    }
    row(&mut out, "Start time", s(pod, "/status/startTime"));
    row(&mut out, "Pod status", s(pod, "/status/phase"));
    let reason = s(pod, "/status/reason");
    if !reason.is_empty() {
        row(&mut out, "Reason", reason);
    }
    row(
        &mut out,
        "Node",
        &format!(
            "{} / {}",
            s(pod, "/spec/nodeName"),
            s(pod, "/status/hostIP")
        ),
    );
    out.push_str("</tbody></table></div>");

    // Containers (init first), with the status matched by name.
    out.push_str("<h4>Containers</h4><div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>Container</th><th>Image</th><th>State</th><th>Restarts</th></tr></thead><tbody>");
    for (spec_key, status_key) in [
        ("/spec/initContainers", "/status/initContainerStatuses"),
        ("/spec/containers", "/status/containerStatuses"),
    ] {
        let statuses = pod
            .pointer(status_key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in pod
            .pointer(spec_key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = s(c, "/name");
            let Some(st) = statuses.iter().find(|st| s(st, "/name") == name) else {
                continue;
            };
            let (text, cls) = state_text(st);
            let _ = write!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td class=\"{cls}\">{}</td><td>{}</td></tr>",
                esc(name),
                esc(s(c, "/image")),
                esc(&text),
                st.get("restartCount").and_then(Value::as_i64).unwrap_or(0)
            );
        }
    }
    out.push_str("</tbody></table></div>");

    let events: Vec<&Value> = podinfo
        .get("events")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    out.push_str("<h4>Events</h4>");
    if events.is_empty() {
        out.push_str("<p class=\"muted\">No events.</p>");
    } else {
        out.push_str("<div class=\"table-wrap\"><table class=\"grid\"><thead><tr><th>Type</th><th>Reason</th><th>Last seen</th><th>Count</th><th>Message</th></tr></thead><tbody>");
        for e in events {
            let t = s(e, "/type");
            let cls = if t == "Warning" {
                " class=\"st-failure\""
            } else {
                ""
            };
            out.push_str("<tr>");
            let _ = write!(out, "<td{cls}>{}</td>", esc(t));
            for k in ["/reason", "/lastTimestamp"] {
                out.push_str("<td>");
                push_esc(&mut out, s(e, k));
                out.push_str("</td>");
            }
            let _ = write!(
                out,
                "<td>{}</td><td>{}</td></tr>",
                e.get("count").and_then(Value::as_i64).unwrap_or(1),
                esc(s(e, "/message"))
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str("</div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_pod_containers_events() {
        let info = json!({
            "pod": {"metadata": {"name": "abc-123", "namespace": "test-pods"},
                "spec": {"nodeName": "node-1",
                    "initContainers": [{"name": "clonerefs", "image": "clonerefs:v1"}],
                    "containers": [{"name": "test", "image": "golang:1"}, {"name": "sidecar", "image": "sidecar:v1"}]},
                "status": {"phase": "Failed", "hostIP": "10.0.0.1",
                    "initContainerStatuses": [{"name": "clonerefs", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                    "containerStatuses": [{"name": "test", "restartCount": 0,
                        "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]}},
            "events": [{"type": "Warning", "reason": "BackOff", "message": "<restart>", "count": 3}]
        });
        let pj = json!({"spec": {"cluster": "default"}});
        let cfg = json!({"runner_configs": {"default": {"pod_link_template": "https://console.example.com/{{.Namespace}}/{{.Name}}"}}});
        let html = render(&info, Some(&pj), Some(&cfg));
        assert!(html.contains("abc-123"));
        assert!(html.contains("href=\"https://console.example.com/test-pods/abc-123\""));
        assert!(html.contains("Terminated: Error (exit code 2)"));
        assert!(html.contains("Terminated: Completed (exit code 0)"));
        // A container without a status is left out, like Prow.
        assert!(!html.contains("sidecar:v1"));
        assert!(html.contains("&lt;restart&gt;"));
        // Garbage never panics.
        let _ = render(&json!([1, 2]), None, None);
        let _ = render(
            &json!({"pod": {"spec": {"containers": "x"}}, "events": 3}),
            None,
            None,
        );
    }
}
