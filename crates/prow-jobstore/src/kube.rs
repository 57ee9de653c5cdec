//! [`KubeStore`]: ProwJobs as `prow.k8s.io/v1` objects in a Kubernetes API server, through
//! kube-rs (`kube::Api<ProwJob>`), so users keep their ProwJob CRD and existing objects.
//!
//! Mapping of the [`JobStore`] contract onto the API:
//! * jobs live in one namespace (Prow's `prowjob_namespace`), given to [`KubeStore::new`];
//! * `list` sends the label selector to the server and filters `spec.job` / `status.state` here
//!   (CRDs have no field selectors for them), then orders by `creationTimestamp` (whole seconds;
//!   jobs created in the same second keep the server's name order);
//! * `update` is a PUT with the caller's `resourceVersion`; an empty one means "unconditional",
//!   which CRDs refuse, so the store reads the current version and retries on a conflict;
//! * `update_status` is one JSON patch that replaces `.status` and, when the caller gave a
//!   `resourceVersion`, sets it too: the API server then rejects the patch with 409 if the object
//!   moved on, so the write is atomic and never touches the spec. Upstream's CRD has no status
//!   subresource, so the patch goes to the object itself; with
//!   [`KubeStore::with_status_subresource`] it goes to `/status`;
//! * `watch` resumes from the last version it saw when the server ends the stream (watch
//!   timeouts), and reports `410 Gone` as [`StoreError::Gone`]; callers relist.
//!
//! Errors map by HTTP status: 404 → NotFound, 409 → AlreadyExists / Conflict (by reason),
//! 410 → Gone, 400 / 422 → Invalid, anything else → Backend.

use ::kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchParams};
use ::kube::core::WatchEvent as KubeEvent;
use async_trait::async_trait;
use futures::stream::{self, BoxStream, StreamExt};
use prow_api::ProwJob;

use crate::{JobList, JobStore, ListParams, Result, StoreError, WatchEvent};

/// How often an unconditional update re-reads after losing a race.
const UNCONDITIONAL_RETRIES: usize = 8;

/// A [`JobStore`] backed by the Kubernetes API. Cheap to clone.
#[derive(Clone)]
pub struct KubeStore {
    client: ::kube::Client,
    namespace: String,
    status_subresource: bool,
}

impl std::fmt::Debug for KubeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeStore")
            .field("namespace", &self.namespace)
            .field("status_subresource", &self.status_subresource)
            .finish_non_exhaustive()
    }
}

/// Maps a kube-rs error for the object `name`.
fn map_err(name: &str, e: ::kube::Error) -> StoreError {
    match e {
        ::kube::Error::Api(status) => map_status(name, &status),
        other => StoreError::Backend(other.to_string()),
    }
}

fn map_status(name: &str, s: &::kube::core::Status) -> StoreError {
    match (s.code, s.reason.as_str()) {
        (404, _) | (_, "NotFound") => StoreError::NotFound(name.to_owned()),
        (_, "AlreadyExists") => StoreError::AlreadyExists(name.to_owned()),
        (409, _) | (_, "Conflict") => StoreError::Conflict(name.to_owned()),
        (410, _) | (_, "Expired") | (_, "Gone") => StoreError::Gone(s.message.clone()),
        (400, _) | (422, _) | (_, "Invalid") | (_, "BadRequest") => {
            StoreError::Invalid(s.message.clone())
        }
        _ => StoreError::Backend(format!("{} ({}): {}", s.code, s.reason, s.message)),
    }
}

impl KubeStore {
    /// A store for ProwJobs in `namespace` (normally the config's `prowjob_namespace`), assuming
    /// upstream's CRD (no status subresource).
    pub fn new(client: ::kube::Client, namespace: &str) -> Self {
        KubeStore {
            client,
            namespace: namespace.to_owned(),
            status_subresource: false,
        }
    }

    /// Whether the installed CRD has a `/status` subresource. Then status writes go to it, and
    /// [`JobStore::create`] / [`JobStore::update`] write the status with a second request
    /// (the server ignores `.status` on the main resource).
    pub fn with_status_subresource(mut self, enabled: bool) -> Self {
        self.status_subresource = enabled;
        self
    }

    /// The namespace jobs are stored in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn api(&self, namespace: Option<&str>) -> Api<ProwJob> {
        Api::namespaced(self.client.clone(), namespace.unwrap_or(&self.namespace))
    }

    /// Refuses a job that names another namespace (the server would answer 400).
    fn check_namespace(&self, job: &ProwJob) -> Result<()> {
        match job.metadata.namespace.as_deref() {
            None | Some("") => Ok(()),
            Some(ns) if ns == self.namespace => Ok(()),
            Some(ns) => Err(StoreError::Invalid(format!(
                "prowjob namespace {ns:?} does not match the store's namespace {:?}",
                self.namespace
            ))),
        }
    }

    /// Replaces `.status` of `name`, conditionally on `resource_version` when it is non-empty.
    async fn patch_status(
        &self,
        name: &str,
        status: &prow_api::ProwJobStatus,
        resource_version: &str,
    ) -> Result<ProwJob> {
        let status = serde_json::to_value(status)
            .map_err(|e| StoreError::Backend(format!("encoding status: {e}")))?;
        // `add` replaces an existing member and creates a missing one, so it works whether or
        // not the stored object has a status yet.
        let mut ops = vec![serde_json::json!({"op": "add", "path": "/status", "value": status})];
        if !resource_version.is_empty() {
            // Setting metadata.resourceVersion in a patch makes it a precondition: the server
            // answers 409 if the object changed since.
            ops.push(serde_json::json!({"op": "add", "path": "/metadata/resourceVersion", "value": resource_version}));
        }
        let patch: json_patch::Patch = serde_json::from_value(serde_json::Value::Array(ops))
            .map_err(|e| StoreError::Backend(format!("building status patch: {e}")))?;
        let api = self.api(None);
        let pp = PatchParams::default();
        let res = if self.status_subresource {
            api.patch_status(name, &pp, &Patch::Json::<()>(patch)).await
        } else {
            api.patch(name, &pp, &Patch::Json::<()>(patch)).await
        };
        res.map_err(|e| map_err(name, e))
    }
}

#[async_trait]
impl JobStore for KubeStore {
    async fn create(&self, mut job: ProwJob) -> Result<ProwJob> {
        self.check_namespace(&job)?;
        if job.name().is_empty() {
            job.metadata.name = Some(uuid::Uuid::new_v4().to_string());
        }
        let name = job.name().to_owned();
        crate::fill_type_meta(&mut job);
        // The server owns these; a copy of an existing job must not carry them over.
        job.metadata.resource_version = None;
        job.metadata.uid = None;
        job.metadata.creation_timestamp = None;
        let created = self
            .api(None)
            .create(&PostParams::default(), &job)
            .await
            .map_err(|e| map_err(&name, e))?;
        if self.status_subresource && created.status != job.status {
            let rv = created
                .metadata
                .resource_version
                .clone()
                .unwrap_or_default();
            return self.patch_status(&name, &job.status, &rv).await;
        }
        Ok(created)
    }

    async fn get(&self, name: &str) -> Result<ProwJob> {
        self.api(None).get(name).await.map_err(|e| map_err(name, e))
    }

    async fn list(&self, params: &ListParams) -> Result<JobList> {
        let mut lp = ::kube::api::ListParams::default();
        if !params.labels.0.is_empty() {
            lp = lp.labels(&params.labels.to_query());
        }
        let list = self
            .api(params.namespace.as_deref())
            .list(&lp)
            .await
            .map_err(|e| map_err("", e))?;
        let resource_version = list.metadata.resource_version.clone().unwrap_or_default();
        let mut items: Vec<ProwJob> = list
            .items
            .into_iter()
            .filter(|j| params.matches(j))
            .collect();
        // Stable sort: same-second jobs keep the server's order.
        items.sort_by(|a, b| {
            a.metadata
                .creation_timestamp
                .cmp(&b.metadata.creation_timestamp)
        });
        Ok(JobList {
            items,
            resource_version,
        })
    }

    async fn update(&self, mut job: ProwJob) -> Result<ProwJob> {
        self.check_namespace(&job)?;
        let name = job.name().to_owned();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "metadata.name is required for an update".into(),
            ));
        }
        crate::fill_type_meta(&mut job);
        let api = self.api(None);
        let unconditional = job
            .metadata
            .resource_version
            .as_deref()
            .is_none_or(str::is_empty);
        let mut attempts = 0;
        let updated = loop {
            if unconditional {
                let current = api.get(&name).await.map_err(|e| map_err(&name, e))?;
                job.metadata.resource_version = current.metadata.resource_version;
            }
            match api.replace(&name, &PostParams::default(), &job).await {
                Ok(updated) => break updated,
                Err(e) => match map_err(&name, e) {
                    StoreError::Conflict(_)
                        if unconditional && attempts + 1 < UNCONDITIONAL_RETRIES =>
                    {
                        attempts += 1;
                    }
                    other => return Err(other),
                },
            }
        };
        if self.status_subresource && updated.status != job.status {
            let rv = updated
                .metadata
                .resource_version
                .clone()
                .unwrap_or_default();
            return self.patch_status(&name, &job.status, &rv).await;
        }
        Ok(updated)
    }

    async fn update_status(&self, job: ProwJob) -> Result<ProwJob> {
        self.check_namespace(&job)?;
        let name = job.name().to_owned();
        if name.is_empty() {
            return Err(StoreError::Invalid(
                "metadata.name is required for an update".into(),
            ));
        }
        let rv = job.metadata.resource_version.clone().unwrap_or_default();
        self.patch_status(&name, &job.status, &rv).await
    }

    async fn delete(&self, name: &str) -> Result<()> {
        self.api(None)
            .delete(name, &DeleteParams::default())
            .await
            .map_err(|e| map_err(name, e))?;
        Ok(())
    }

    async fn watch(
        &self,
        params: &ListParams,
        resource_version: &str,
    ) -> Result<BoxStream<'static, Result<WatchEvent>>> {
        if resource_version.is_empty() {
            return Err(StoreError::Invalid(
                "a watch needs a resource version (from list)".into(),
            ));
        }
        let mut wp = WatchParams::default();
        if !params.labels.0.is_empty() {
            wp = wp.labels(&params.labels.to_query());
        }
        let mut cursor = KubeCursor {
            api: self.api(params.namespace.as_deref()),
            wp,
            params: params.clone(),
            last: resource_version.to_owned(),
            inner: None,
            done: false,
        };
        // Open the first request now so a bad or too-old version fails the call itself when the
        // server says so up front.
        cursor.open().await?;
        Ok(stream::unfold(cursor, KubeCursor::next).boxed())
    }
}

type KubeStream = BoxStream<'static, ::kube::Result<KubeEvent<ProwJob>>>;

/// State of one watch: the current server stream and the version to resume from.
struct KubeCursor {
    api: Api<ProwJob>,
    wp: WatchParams,
    params: ListParams,
    last: String,
    inner: Option<KubeStream>,
    done: bool,
}

impl KubeCursor {
    /// Names the version a Gone is about (the server's message does not, in a fixed form).
    fn gone_at_last(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::Gone(_) => StoreError::Gone(self.last.clone()),
            other => other,
        }
    }

    async fn open(&mut self) -> Result<()> {
        let s = self
            .api
            .watch(&self.wp, &self.last)
            .await
            .map_err(|e| self.gone_at_last(map_err("", e)))?;
        self.inner = Some(s.boxed());
        Ok(())
    }

    async fn next(mut self) -> Option<(Result<WatchEvent>, Self)> {
        loop {
            if self.done {
                return None;
            }
            let Some(inner) = self.inner.as_mut() else {
                // The server ended the previous request (timeout, restart): resume.
                if let Err(e) = self.open().await {
                    self.done = true;
                    return Some((Err(e), self));
                }
                continue;
            };
            let ev = match inner.next().await {
                None => {
                    self.inner = None;
                    continue;
                }
                Some(Err(e)) => {
                    self.done = true;
                    let e = self.gone_at_last(map_err("", e));
                    return Some((Err(e), self));
                }
                Some(Ok(ev)) => ev,
            };
            let (job, wrap): (ProwJob, fn(ProwJob) -> WatchEvent) = match ev {
                KubeEvent::Added(j) => (j, WatchEvent::Added),
                KubeEvent::Modified(j) => (j, WatchEvent::Modified),
                KubeEvent::Deleted(j) => (j, WatchEvent::Deleted),
                KubeEvent::Bookmark(b) => {
                    self.last = b.metadata.resource_version;
                    continue;
                }
                KubeEvent::Error(status) => {
                    self.done = true;
                    let e = self.gone_at_last(map_status("", &status));
                    return Some((Err(e), self));
                }
            };
            if let Some(rv) = job.metadata.resource_version.as_deref() {
                self.last = rv.to_owned();
            }
            if self.params.matches(&job) {
                return Some((Ok(wrap(job)), self));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str) -> ::kube::core::Status {
        ::kube::core::Status::failure("msg", reason).with_code(code)
    }

    #[test]
    fn api_errors_map_by_code_and_reason() {
        let cases = [
            (404, "NotFound", StoreError::NotFound("j".into())),
            (409, "AlreadyExists", StoreError::AlreadyExists("j".into())),
            (409, "Conflict", StoreError::Conflict("j".into())),
            (410, "Expired", StoreError::Gone("msg".into())),
            (410, "Gone", StoreError::Gone("msg".into())),
            (422, "Invalid", StoreError::Invalid("msg".into())),
            (400, "BadRequest", StoreError::Invalid("msg".into())),
            (
                500,
                "InternalError",
                StoreError::Backend("500 (InternalError): msg".into()),
            ),
            (
                403,
                "Forbidden",
                StoreError::Backend("403 (Forbidden): msg".into()),
            ),
        ];
        for (code, reason, want) in cases {
            assert_eq!(
                map_status("j", &status(code, reason)),
                want,
                "{code} {reason}"
            );
        }
    }
}
