//! A stateful **fake** of the Kubernetes API server subset Prow's components use, for tests.
//!
//! It is not a cluster and runs no controllers: it stores objects as JSON, keeps a global
//! resourceVersion and an event log, and answers the REST/watch protocol the way
//! kube-apiserver does for the cases Prow relies on. Test code plays the missing actors
//! (kubelet, scheduler, garbage collector) through plain Rust helpers such as
//! [`FakeKube::set_pod_running`].
//!
//! Two ways to use it:
//! * in-process, without a socket: [`FakeKube::client`] gives a `kube::Client` whose
//!   transport is the axum [`Router`] itself;
//! * over TCP for black-box tests of built binaries: [`FakeKube::serve`] binds
//!   `127.0.0.1:0` and [`ServerHandle::write_kubeconfig`] writes a kubeconfig pointing at it.
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use prow_kube_fake::FakeKube;
//! let fake = FakeKube::new();
//! let client = fake.client();
//! # let _ = client;
//! # Ok(()) }
//! ```
//!
//! Known approximations: strategic-merge and server-side-apply patches are applied as JSON
//! merge patches (no list merge keys, no field ownership); there is no admission, defaulting
//! is limited to common Pod fields, namespaces need not exist, and deleting a namespace does
//! not delete its contents.

#![warn(missing_docs)]

mod failure;
mod kubeconfig;
mod kubelet;
mod resource;
mod selector;
mod server;
mod status;
mod store;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

pub use failure::{InjectedFailure, RecordedRequest, Verb};
pub use kubeconfig::{KubeconfigContext, ServerHandle, kubeconfig_yaml, serve, write_kubeconfig};
pub use kubelet::ContainerExit;
pub use resource::ResourceDef;
pub use selector::{FieldSelector, LabelSelector};
pub use server::router;
pub use status::ApiError;
pub use store::ObjectKey;

use store::Store;

/// One stored object, as returned by [`FakeKube::objects`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    /// Where the object is stored.
    pub key: ObjectKey,
    /// The object as the API would return it.
    pub object: Value,
}

pub(crate) struct Shared {
    store: Mutex<Store>,
    /// Latest resourceVersion; watch streams wait on it for new writes.
    rv_rx: watch::Receiver<u64>,
    /// Bumped by [`FakeKube::send_bookmarks`].
    bookmark_tx: watch::Sender<u64>,
    /// Bumped by [`FakeKube::close_watches`] and on server shutdown.
    close_tx: watch::Sender<u64>,
    bookmark_interval: Option<Duration>,
}

/// Handle to one fake API server's state. Cheap to clone; clones share the state.
#[derive(Clone)]
pub struct FakeKube {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeKube {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeKube")
            .field("resource_version", &self.resource_version())
            .finish_non_exhaustive()
    }
}

impl Default for FakeKube {
    fn default() -> Self {
        Self::new()
    }
}

/// Configures a [`FakeKube`].
#[derive(Debug, Clone)]
pub struct FakeKubeBuilder {
    resources: Vec<ResourceDef>,
    log_capacity: usize,
    bookmark_interval: Option<Duration>,
}

impl Default for FakeKubeBuilder {
    fn default() -> Self {
        FakeKubeBuilder {
            resources: ResourceDef::defaults(),
            log_capacity: 1000,
            bookmark_interval: None,
        }
    }
}

impl FakeKubeBuilder {
    /// Serves an extra resource (or replaces a default with the same group/version/plural).
    pub fn resource(mut self, def: ResourceDef) -> Self {
        self.resources.retain(|r| {
            !(r.group == def.group && r.version == def.version && r.plural == def.plural)
        });
        self.resources.push(def);
        self
    }

    /// How many writes the event log keeps; watches from older resourceVersions get 410 Gone.
    pub fn event_log_capacity(mut self, n: usize) -> Self {
        self.log_capacity = n.max(1);
        self
    }

    /// Sends a BOOKMARK on watches that allow them every `interval` (default: only on
    /// [`FakeKube::send_bookmarks`]).
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = Some(interval);
        self
    }

    /// Whether `prowjobs` has a `/status` subresource (default `true`; upstream Prow's CRD
    /// and ours have none, pass `false` to mirror them).
    pub fn prowjob_status_subresource(mut self, enabled: bool) -> Self {
        for r in &mut self.resources {
            if r.group == "prow.k8s.io" && r.plural == "prowjobs" {
                r.status_subresource = enabled;
            }
        }
        self
    }

    /// Builds the fake.
    pub fn build(self) -> FakeKube {
        let (rv_tx, rv_rx) = watch::channel(1);
        let (bookmark_tx, _) = watch::channel(0);
        let (close_tx, _) = watch::channel(0);
        FakeKube {
            shared: Arc::new(Shared {
                store: Mutex::new(Store::new(self.resources, self.log_capacity, rv_tx)),
                rv_rx,
                bookmark_tx,
                close_tx,
                bookmark_interval: self.bookmark_interval,
            }),
        }
    }
}

/// Splits `v1` / `group/version`.
fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

impl FakeKube {
    /// A fake with the default resources (pods, configmaps, secrets, events, namespaces,
    /// leases, prowjobs, CRDs).
    pub fn new() -> Self {
        FakeKubeBuilder::default().build()
    }

    /// Starts configuring a fake.
    pub fn builder() -> FakeKubeBuilder {
        FakeKubeBuilder::default()
    }

    /// Locks the store; a poisoned lock is recovered since every write is applied atomically.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.shared
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The axum `Router` serving this fake.
    pub fn router(&self) -> Router {
        router(self.clone())
    }

    /// A `kube::Client` talking to this fake in-process (no socket), default namespace `default`.
    pub fn client(&self) -> kube::Client {
        self.client_with_namespace("default")
    }

    /// Like [`FakeKube::client`] with another default namespace.
    pub fn client_with_namespace(&self, namespace: &str) -> kube::Client {
        kube::Client::new(self.router(), namespace)
    }

    /// Serves another resource from now on.
    pub fn register(&self, def: ResourceDef) {
        self.lock().register(def);
    }

    /// Serves the resources of a `#[derive(CustomResource)]` type.
    pub fn register_crd<K: kube::CustomResourceExt>(&self) {
        if let Ok(crd) = serde_json::to_value(K::crd()) {
            for def in ResourceDef::from_crd(&crd) {
                self.register(def);
            }
        }
    }

    /// The resources currently served.
    pub fn resources(&self) -> Vec<ResourceDef> {
        self.lock().resources.clone()
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    fn resolve(&self, api_version: &str, plural: &str) -> Result<ResourceDef, ApiError> {
        let (group, version) = split_api_version(api_version);
        self.lock()
            .resource(group, version, plural)
            .ok_or_else(ApiError::no_route)
    }

    /// Every stored object, sorted by group, version, resource, namespace and name.
    pub fn objects(&self) -> Vec<StoredObject> {
        self.lock()
            .objects
            .iter()
            .map(|(k, v)| StoredObject {
                key: k.clone(),
                object: v.clone(),
            })
            .collect()
    }

    /// Reads an object (`api_version` like `v1` or `prow.k8s.io/v1`; `namespace` `None` for
    /// cluster-scoped resources).
    pub fn get(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let res = self.resolve(api_version, plural).ok()?;
        self.lock().get(&res, namespace.unwrap_or(""), name).ok()
    }

    /// Reads an object as a typed resource (`Pod`, `ConfigMap`, a CRD type...).
    pub fn get_as<K>(&self, namespace: Option<&str>, name: &str) -> Option<K>
    where
        K: kube::Resource<DynamicType = ()> + DeserializeOwned,
    {
        let v = self.get(&K::api_version(&()), &K::plural(&()), namespace, name)?;
        serde_json::from_value(v).ok()
    }

    /// Creates an object with the same semantics as `POST` (uid, resourceVersion, defaults,
    /// AlreadyExists), without going through HTTP. Handy for seeding tests.
    pub fn create(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        object: Value,
    ) -> Result<Value, ApiError> {
        let res = self.resolve(api_version, plural)?;
        self.lock()
            .create(&res, namespace.unwrap_or(""), object, false)
    }

    /// Typed variant of [`FakeKube::create`].
    pub fn create_as<K>(&self, namespace: Option<&str>, object: &K) -> Result<K, ApiError>
    where
        K: kube::Resource<DynamicType = ()> + Serialize + DeserializeOwned,
    {
        let v = serde_json::to_value(object).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let created = self.create(&K::api_version(&()), &K::plural(&()), namespace, v)?;
        serde_json::from_value(created).map_err(|e| ApiError::internal(e.to_string()))
    }

    /// Changes a stored object in place with `f` and records a MODIFIED event. Bypasses the
    /// update rules (status subresource, immutability): this is what a controller the fake does
    /// not have (kubelet, scheduler) would do.
    pub fn update_with(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Result<Value, ApiError> {
        let res = self.resolve(api_version, plural)?;
        self.lock()
            .mutate(&res, namespace.unwrap_or(""), name, |v| {
                f(v);
                Ok(())
            })
    }

    /// Deletes an object like `DELETE` does (objects with finalizers only get a
    /// deletionTimestamp).
    pub fn delete(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let res = self.resolve(api_version, plural)?;
        self.lock()
            .delete(&res, namespace.unwrap_or(""), name, &Value::Null, false)
    }

    /// Removes an object at once, ignoring finalizers (like etcd surgery or a force delete).
    pub fn remove_now(
        &self,
        api_version: &str,
        plural: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ApiError> {
        let res = self.resolve(api_version, plural)?;
        self.lock().remove_now(&res, namespace.unwrap_or(""), name)
    }

    /// Makes matching future requests fail (see [`InjectedFailure`]).
    pub fn inject_failure(&self, failure: InjectedFailure) {
        self.lock().failures.push(failure);
    }

    /// Removes every injected failure.
    pub fn clear_failures(&self) {
        self.lock().failures.clear();
    }

    /// Requests answered so far (at most the last 10 000).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.iter().cloned().collect()
    }

    /// Forgets recorded requests.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Drops the whole watch event log, as etcd compaction would: a watch resuming from any
    /// older resourceVersion gets an `ERROR` event with a 410 `Expired` Status.
    pub fn compact_event_log(&self) {
        self.lock().compact();
    }

    /// Sends a BOOKMARK event on every open watch that set `allowWatchBookmarks=true`.
    pub fn send_bookmarks(&self) {
        self.shared.bookmark_tx.send_modify(|n| *n += 1);
    }

    /// Ends every open watch stream cleanly (as an API server restart would); clients are
    /// expected to re-watch from their last resourceVersion.
    pub fn close_watches(&self) {
        self.shared.close_tx.send_modify(|n| *n += 1);
    }
}
