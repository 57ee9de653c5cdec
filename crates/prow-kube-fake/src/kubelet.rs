//! Test-side stand-in for the kubelet and scheduler: moves pods through their phases and
//! provides their logs. These are plain Rust calls, not HTTP.

use serde_json::{Value, json};

use crate::FakeKube;
use crate::resource::ResourceDef;
use crate::status::ApiError;
use crate::store::{meta_str, now};

/// How one container ended, for [`FakeKube::finish_pod`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerExit {
    /// Container this applies to; `None` applies to every container without its own entry.
    pub container: Option<String>,
    /// Exit code.
    pub exit_code: i32,
    /// `state.terminated.reason` (`Completed`, `Error`, `OOMKilled`, ...).
    pub reason: String,
    /// Optional `state.terminated.message` (the termination message).
    pub message: Option<String>,
}

impl ContainerExit {
    /// Exit 0, reason `Completed`.
    pub fn success() -> Self {
        ContainerExit {
            container: None,
            exit_code: 0,
            reason: "Completed".into(),
            message: None,
        }
    }

    /// Non-zero exit, reason `Error`.
    pub fn failure(exit_code: i32) -> Self {
        ContainerExit {
            exit_code,
            reason: "Error".into(),
            ..Self::success()
        }
    }

    /// Killed for exceeding its memory limit: exit 137, reason `OOMKilled`.
    pub fn oom_killed() -> Self {
        ContainerExit {
            exit_code: 137,
            reason: "OOMKilled".into(),
            ..Self::success()
        }
    }

    /// Restricts this outcome to one container.
    pub fn container(mut self, name: &str) -> Self {
        self.container = Some(name.to_string());
        self
    }

    /// Sets the termination message.
    pub fn message(mut self, message: &str) -> Self {
        self.message = Some(message.to_string());
        self
    }
}

fn container_names(pod: &Value, list: &str) -> Vec<(String, String)> {
    pod["spec"][list]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap_or("").to_string(),
                        c["image"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn base_status(pod: &Value, name: &str, image: &str) -> Value {
    json!({
        "name": name,
        "image": image,
        "imageID": format!("{image}@sha256:{}", "0".repeat(64)),
        "containerID": format!("containerd://{}-{name}", meta_str(pod, "uid")),
        "restartCount": 0,
        "lastState": {},
    })
}

fn condition(kind: &str, ok: bool, reason: Option<&str>, at: &str) -> Value {
    let mut c = json!({
        "type": kind,
        "status": if ok { "True" } else { "False" },
        "lastProbeTime": null,
        "lastTransitionTime": at,
    });
    if let Some(r) = reason {
        c["reason"] = json!(r);
    }
    c
}

/// Fills in what scheduling and starting a pod set: node, IPs, start time.
fn schedule(pod: &mut Value, at: &str) {
    if !pod["spec"].is_object() {
        pod["spec"] = json!({});
    }
    if pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty) {
        pod["spec"]["nodeName"] = json!("fake-node");
    }
    let st = &mut pod["status"];
    if !st.is_object() {
        *st = json!({});
    }
    if st["startTime"].is_null() {
        st["startTime"] = json!(at);
    }
    st["hostIP"] = json!("10.0.0.1");
    st["hostIPs"] = json!([{"ip": "10.0.0.1"}]);
    st["podIP"] = json!("10.244.0.10");
    st["podIPs"] = json!([{"ip": "10.244.0.10"}]);
}

impl FakeKube {
    fn pods_def(&self) -> ResourceDef {
        self.lock()
            .resource("", "v1", "pods")
            .unwrap_or_else(ResourceDef::pods)
    }

    fn mutate_pod(
        &self,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Result<Value, ApiError> {
        let res = self.pods_def();
        self.lock().mutate(&res, namespace, name, |v| {
            f(v);
            Ok(())
        })
    }

    /// Schedules the pod and moves it to `Running` with every container running and ready
    /// (init containers completed).
    pub fn set_pod_running(&self, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.mutate_pod(namespace, name, |pod| {
            let at = now();
            schedule(pod, &at);
            let inits: Vec<Value> = container_names(pod, "initContainers")
                .iter()
                .map(|(n, i)| {
                    let mut s = base_status(pod, n, i);
                    s["ready"] = json!(true);
                    s["started"] = json!(false);
                    s["state"] = json!({"terminated": {
                        "exitCode": 0, "reason": "Completed", "startedAt": at, "finishedAt": at,
                        "containerID": s["containerID"],
                    }});
                    s
                })
                .collect();
            let mains: Vec<Value> = container_names(pod, "containers")
                .iter()
                .map(|(n, i)| {
                    let mut s = base_status(pod, n, i);
                    s["ready"] = json!(true);
                    s["started"] = json!(true);
                    s["state"] = json!({"running": {"startedAt": at}});
                    s
                })
                .collect();
            let st = &mut pod["status"];
            st["phase"] = json!("Running");
            st["conditions"] = json!([
                condition("PodReadyToStartContainers", true, None, &at),
                condition("Initialized", true, None, &at),
                condition("Ready", true, None, &at),
                condition("ContainersReady", true, None, &at),
                condition("PodScheduled", true, None, &at),
            ]);
            if !inits.is_empty() {
                st["initContainerStatuses"] = json!(inits);
            }
            st["containerStatuses"] = json!(mains);
        })
    }

    /// Terminates every container with exit 0: phase `Succeeded`.
    pub fn set_pod_succeeded(&self, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.finish_pod(namespace, name, &[ContainerExit::success()])
    }

    /// Terminates every container with `exit_code` and `reason` (e.g. `Error`, `OOMKilled`):
    /// phase `Failed` (or `Succeeded` if `exit_code` is 0).
    pub fn set_pod_failed(
        &self,
        namespace: &str,
        name: &str,
        exit_code: i32,
        reason: &str,
    ) -> Result<Value, ApiError> {
        let exit = ContainerExit {
            exit_code,
            reason: reason.to_string(),
            ..ContainerExit::failure(exit_code)
        };
        self.finish_pod(namespace, name, &[exit])
    }

    /// Terminates the containers as described by `exits` (containers without an entry and no
    /// catch-all entry exit 0). The phase is `Succeeded` when every exit code is 0, else
    /// `Failed`.
    pub fn finish_pod(
        &self,
        namespace: &str,
        name: &str,
        exits: &[ContainerExit],
    ) -> Result<Value, ApiError> {
        self.mutate_pod(namespace, name, |pod| {
            let at = now();
            schedule(pod, &at);
            let started = pod["status"]["startTime"]
                .as_str()
                .unwrap_or(&at)
                .to_string();
            let mut all_ok = true;
            let mains: Vec<Value> = container_names(pod, "containers")
                .iter()
                .map(|(n, i)| {
                    let exit = exits
                        .iter()
                        .find(|e| e.container.as_deref() == Some(n.as_str()))
                        .or_else(|| exits.iter().find(|e| e.container.is_none()))
                        .cloned()
                        .unwrap_or_else(ContainerExit::success);
                    all_ok &= exit.exit_code == 0;
                    let mut s = base_status(pod, n, i);
                    s["ready"] = json!(false);
                    s["started"] = json!(false);
                    let mut term = json!({
                        "exitCode": exit.exit_code,
                        "reason": exit.reason,
                        "startedAt": started,
                        "finishedAt": at,
                        "containerID": s["containerID"],
                    });
                    if let Some(m) = &exit.message {
                        term["message"] = json!(m);
                    }
                    s["state"] = json!({"terminated": term});
                    s
                })
                .collect();
            let st = &mut pod["status"];
            st["phase"] = json!(if all_ok { "Succeeded" } else { "Failed" });
            st["conditions"] = json!([
                condition("PodReadyToStartContainers", false, None, &at),
                condition("Initialized", true, Some("PodCompleted"), &at),
                condition("Ready", false, Some("PodCompleted"), &at),
                condition("ContainersReady", false, Some("PodCompleted"), &at),
                condition("PodScheduled", true, None, &at),
            ]);
            st["containerStatuses"] = json!(mains);
        })
    }

    /// Leaves the pod `Pending` with a container waiting for `reason` (`ErrImagePull`,
    /// `ImagePullBackOff`, `CreateContainerConfigError`...). `container` `None` means all.
    pub fn set_pod_waiting(
        &self,
        namespace: &str,
        name: &str,
        container: Option<&str>,
        reason: &str,
        message: &str,
    ) -> Result<Value, ApiError> {
        self.mutate_pod(namespace, name, |pod| {
            let at = now();
            schedule(pod, &at);
            let mains: Vec<Value> = container_names(pod, "containers")
                .iter()
                .map(|(n, i)| {
                    let mut s = base_status(pod, n, i);
                    s["ready"] = json!(false);
                    s["started"] = json!(false);
                    s["state"] = if container.is_none_or(|c| c == n) {
                        json!({"waiting": {"reason": reason, "message": message}})
                    } else {
                        json!({"waiting": {"reason": "ContainerCreating"}})
                    };
                    s
                })
                .collect();
            let st = &mut pod["status"];
            st["phase"] = json!("Pending");
            st["conditions"] = json!([
                condition("Initialized", true, None, &at),
                condition("Ready", false, Some("ContainersNotReady"), &at),
                condition("ContainersReady", false, Some("ContainersNotReady"), &at),
                condition("PodScheduled", true, None, &at),
            ]);
            st["containerStatuses"] = json!(mains);
        })
    }

    /// Marks the pod as evicted by the kubelet: phase `Failed`, `status.reason` `Evicted`,
    /// containers killed (exit 137). The pod object stays, as in a real eviction.
    pub fn evict_pod(&self, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.finish_pod(namespace, name, &[ContainerExit::failure(137)])?;
        self.mutate_pod(namespace, name, |pod| {
            pod["status"]["phase"] = json!("Failed");
            pod["status"]["reason"] = json!("Evicted");
            pod["status"]["message"] = json!(
                "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi."
            );
        })
    }

    /// Replaces `.status` of a pod wholesale.
    pub fn set_pod_status(
        &self,
        namespace: &str,
        name: &str,
        status: Value,
    ) -> Result<Value, ApiError> {
        self.mutate_pod(namespace, name, |pod| pod["status"] = status)
    }

    /// Sets the log text served by `GET .../pods/{name}/log?container={container}`.
    pub fn set_pod_logs(&self, namespace: &str, name: &str, container: &str, logs: &str) {
        self.lock().pod_logs.insert(
            (
                namespace.to_string(),
                name.to_string(),
                container.to_string(),
            ),
            logs.to_string(),
        );
    }

    /// Deletes a pod as the API would on `DELETE` (finalizers respected).
    pub fn delete_pod(&self, namespace: &str, name: &str) -> Result<Value, ApiError> {
        let res = self.pods_def();
        self.lock()
            .delete(&res, namespace, name, &Value::Null, false)
    }

    /// Marks the pod evicted and then deletes it (like node-pressure eviction followed by
    /// the pod garbage collector), so controllers see the pod vanish.
    pub fn evict_and_delete_pod(&self, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.evict_pod(namespace, name)?;
        self.delete_pod(namespace, name)
    }
}
