//! The in-memory object store: the semantics of create/get/list/update/patch/delete, the global
//! resourceVersion counter and the bounded event log that watches replay from.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::failure::{InjectedFailure, RecordedRequest, Verb};
use crate::resource::ResourceDef;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;

/// Identifies one stored object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// API group (empty for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource name.
    pub plural: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

impl ObjectKey {
    pub(crate) fn new(res: &ResourceDef, namespace: &str, name: &str) -> Self {
        ObjectKey {
            group: res.group.clone(),
            version: res.version.clone(),
            plural: res.plural.clone(),
            namespace: if res.namespaced {
                namespace.to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }

    fn same_resource(&self, res: &ResourceDef) -> bool {
        self.group == res.group && self.version == res.version && self.plural == res.plural
    }
}

/// Watch event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Added,
    Modified,
    Deleted,
}

impl EventKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One write, as kept in the event log.
#[derive(Debug, Clone)]
pub(crate) struct LogEvent {
    pub rv: u64,
    pub kind: EventKind,
    pub key: ObjectKey,
    pub object: Arc<Value>,
    /// The object before a modification, so filtered watches can turn a change that leaves or
    /// enters the selector into DELETED/ADDED, as the real watch cache does.
    pub prev: Option<Arc<Value>>,
}

/// All mutable state of one fake server.
pub(crate) struct Store {
    pub rv: u64,
    pub resources: Vec<ResourceDef>,
    pub objects: BTreeMap<ObjectKey, Value>,
    pub log: VecDeque<LogEvent>,
    pub log_capacity: usize,
    /// Highest resourceVersion dropped from the log; watches from below it get 410.
    pub compacted_rv: u64,
    pub pod_logs: HashMap<(String, String, String), String>,
    pub failures: Vec<InjectedFailure>,
    pub requests: VecDeque<RecordedRequest>,
    pub notify: watch::Sender<u64>,
}

const MAX_RECORDED_REQUESTS: usize = 10_000;

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn meta(obj: &Value) -> &Value {
    &obj["metadata"]
}

pub(crate) fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj["metadata"][field].as_str().unwrap_or("")
}

/// `metadata` as a mutable map, creating it when missing.
pub(crate) fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        // Stored objects and checked bodies are always objects; this only guards indexing.
        *obj = json!({});
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    match &mut obj["metadata"] {
        Value::Object(m) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)["finalizers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn is_pods(res: &ResourceDef) -> bool {
    !res.custom && res.group.is_empty() && res.plural == "pods"
}

/// DNS-1123 subdomain check used for object names.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Random suffix for `generateName`, from the same alphabet as the API server.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    uuid::Uuid::new_v4().as_bytes()[..5]
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// The object minus metadata and status, for generation bumps and no-op detection.
fn spec_part(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
    }
    v
}

fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Checks `apiVersion`/`kind` of a request body and fills them in when absent.
fn check_type_meta(res: &ResourceDef, obj: &mut Value) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    let api_version = res.api_version();
    match obj["apiVersion"].as_str() {
        Some(v) if !v.is_empty() && v != api_version => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
        _ => obj["apiVersion"] = json!(api_version),
    }
    match obj["kind"].as_str() {
        Some(k) if !k.is_empty() && k != res.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                res.kind
            )));
        }
        _ => obj["kind"] = json!(res.kind),
    }
    Ok(())
}

/// Checks the parts of a pod the real server would reject outright, so the defaulting
/// below only ever sees well-formed containers.
fn validate_pod(res: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    let name = meta_str(obj, "name");
    let containers = obj["spec"]["containers"].as_array();
    if containers.is_none_or(Vec::is_empty) {
        return Err(ApiError::invalid(
            res,
            name,
            "spec.containers: Required value",
        ));
    }
    let mut seen = Vec::new();
    for list in ["initContainers", "containers"] {
        let Some(cs) = obj["spec"].get(list) else {
            continue;
        };
        let Some(cs) = cs.as_array() else {
            return Err(ApiError::invalid(
                res,
                name,
                &format!("spec.{list}: Invalid value: must be a list"),
            ));
        };
        for (i, c) in cs.iter().enumerate() {
            let cname = c["name"].as_str().unwrap_or("");
            if cname.is_empty() {
                return Err(ApiError::invalid(
                    res,
                    name,
                    &format!("spec.{list}[{i}].name: Required value"),
                ));
            }
            if c["image"].as_str().is_none_or(str::is_empty) {
                return Err(ApiError::invalid(
                    res,
                    name,
                    &format!("spec.{list}[{i}].image: Required value"),
                ));
            }
            if seen.contains(&cname) {
                return Err(ApiError::invalid(
                    res,
                    name,
                    &format!("spec.{list}[{i}].name: Duplicate value: {cname:?}"),
                ));
            }
            seen.push(cname);
        }
    }
    Ok(())
}

/// Server-side defaults of common pod fields (applied on every write, like the real
/// server's defaulting on decode).
fn default_pod_spec(obj: &mut Value) {
    let spec = &mut obj["spec"];
    if !spec.is_object() {
        *spec = json!({});
    }
    for (k, v) in [
        ("restartPolicy", json!("Always")),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("securityContext", json!({})),
        ("enableServiceLinks", json!(true)),
        ("priority", json!(0)),
    ] {
        if spec.get(k).is_none() {
            spec[k] = v;
        }
    }
    for list in ["initContainers", "containers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter(|c| c.is_object()) {
                let image = c["image"].as_str().unwrap_or("").to_string();
                let tag = image.rsplit('/').next().unwrap_or("");
                let pull = if !tag.contains(':') && !tag.contains('@') || tag.ends_with(":latest") {
                    "Always"
                } else {
                    "IfNotPresent"
                };
                for (k, v) in [
                    ("terminationMessagePath", json!("/dev/termination-log")),
                    ("terminationMessagePolicy", json!("File")),
                    ("imagePullPolicy", json!(pull)),
                    ("resources", json!({})),
                ] {
                    if c.get(k).is_none() {
                        c[k] = v;
                    }
                }
            }
        }
    }
}

/// Copies defaulted container fields from the stored pod into an update that omits them.
/// A merge patch replaces container lists wholesale where the real strategic merge would merge
/// by name; this keeps e.g. `imagePullPolicy` from being re-defaulted on an image change.
fn inherit_container_defaults(old: &Value, new: &mut Value) {
    for list in ["initContainers", "containers"] {
        let Some(old_cs) = old["spec"][list].as_array() else {
            continue;
        };
        let Some(new_cs) = new["spec"].get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in new_cs.iter_mut().filter(|c| c.is_object()) {
            let Some(prev) = old_cs.iter().find(|o| o["name"] == c["name"]) else {
                continue;
            };
            for k in [
                "terminationMessagePath",
                "terminationMessagePolicy",
                "imagePullPolicy",
                "resources",
            ] {
                if c.get(k).is_none()
                    && let Some(v) = prev.get(k)
                {
                    c[k] = v.clone();
                }
            }
        }
    }
}

/// The status a new pod starts with, whatever the request said.
fn initial_pod_status(obj: &mut Value) {
    let has_resources = ["initContainers", "containers"].iter().any(|list| {
        obj["spec"][list].as_array().is_some_and(|cs| {
            cs.iter().any(|c| {
                let r = &c["resources"];
                r["requests"].as_object().is_some_and(|m| !m.is_empty())
                    || r["limits"].as_object().is_some_and(|m| !m.is_empty())
            })
        })
    });
    let qos = if has_resources {
        "Burstable"
    } else {
        "BestEffort"
    };
    obj["status"] = json!({"phase": "Pending", "qosClass": qos});
}

/// Pod spec fields that may change after creation (everything else is immutable).
fn mutable_pod_spec(spec: &Value) -> Value {
    let mut s = spec.clone();
    if let Some(m) = s.as_object_mut() {
        m.remove("activeDeadlineSeconds");
        m.remove("tolerations");
        m.remove("terminationGracePeriodSeconds");
        for list in ["containers", "initContainers"] {
            if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
                for c in cs {
                    if let Some(c) = c.as_object_mut() {
                        c.remove("image");
                    }
                }
            }
        }
    }
    s
}

/// Moves a Secret's `stringData` into base64 `data`, as the API server does.
fn fold_string_data(obj: &mut Value) {
    if let Some(Value::Object(sd)) = obj.as_object_mut().and_then(|m| m.remove("stringData")) {
        if !obj["data"].is_object() {
            obj["data"] = json!({});
        }
        for (k, v) in sd {
            let s = v.as_str().unwrap_or("").as_bytes().to_vec();
            obj["data"][k] = json!(base64(&s));
        }
    }
    if obj["type"].as_str().is_none_or(str::is_empty) {
        obj["type"] = json!("Opaque");
    }
}

impl Store {
    pub(crate) fn new(
        resources: Vec<ResourceDef>,
        log_capacity: usize,
        notify: watch::Sender<u64>,
    ) -> Self {
        Store {
            rv: 1,
            resources,
            objects: BTreeMap::new(),
            log: VecDeque::new(),
            log_capacity: log_capacity.max(1),
            compacted_rv: 0,
            pod_logs: HashMap::new(),
            failures: Vec::new(),
            requests: VecDeque::new(),
            notify,
        }
    }

    /// Looks up a served resource.
    pub(crate) fn resource(&self, group: &str, version: &str, plural: &str) -> Option<ResourceDef> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    /// Adds (or replaces) a served resource.
    pub(crate) fn register(&mut self, def: ResourceDef) {
        self.resources.retain(|r| {
            !(r.group == def.group && r.version == def.version && r.plural == def.plural)
        });
        self.resources.push(def);
    }

    pub(crate) fn record(&mut self, req: RecordedRequest) {
        if self.requests.len() >= MAX_RECORDED_REQUESTS {
            self.requests.pop_front();
        }
        self.requests.push_back(req);
    }

    /// Returns the error of the first matching injected failure, consuming one use of it.
    pub(crate) fn take_failure(
        &mut self,
        verb: Verb,
        res: &ResourceDef,
        subresource: Option<&str>,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Option<ApiError> {
        let idx = self
            .failures
            .iter()
            .position(|f| f.matches(verb, res, subresource, namespace, name))?;
        let f = &mut self.failures[idx];
        let err = f.error(res, name.unwrap_or(""));
        if let Some(left) = f.remaining.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.failures.remove(idx);
            }
        }
        Some(err)
    }

    /// Stores a write: bumps the resourceVersion, appends to the event log, wakes watchers.
    fn commit(
        &mut self,
        key: ObjectKey,
        mut obj: Value,
        kind: EventKind,
        prev: Option<Value>,
    ) -> Value {
        self.rv += 1;
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(self.rv.to_string()));
        if kind == EventKind::Deleted {
            self.objects.remove(&key);
            if key.group.is_empty() && key.plural == "pods" {
                self.pod_logs
                    .retain(|(ns, pod, _), _| !(*ns == key.namespace && *pod == key.name));
            }
        } else {
            self.objects.insert(key.clone(), obj.clone());
        }
        self.log.push_back(LogEvent {
            rv: self.rv,
            kind,
            key,
            object: Arc::new(obj.clone()),
            prev: prev.map(Arc::new),
        });
        while self.log.len() > self.log_capacity {
            if let Some(old) = self.log.pop_front() {
                self.compacted_rv = old.rv;
            }
        }
        self.notify.send_replace(self.rv);
        obj
    }

    /// Drops the whole event log, so any watch from an older resourceVersion gets 410 Gone.
    pub(crate) fn compact(&mut self) {
        self.log.clear();
        self.compacted_rv = self.rv;
    }

    pub(crate) fn get(&self, res: &ResourceDef, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&ObjectKey::new(res, ns, name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(res, name))
    }

    pub(crate) fn create(
        &mut self,
        res: &ResourceDef,
        ns: &str,
        mut obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        check_type_meta(res, &mut obj)?;
        let ns = if res.namespaced { ns } else { "" };
        let m = meta_mut(&mut obj);
        let body_ns = m.get("namespace").and_then(Value::as_str).unwrap_or("");
        if res.namespaced {
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            m.insert("namespace".into(), json!(ns));
        } else {
            m.remove("namespace");
        }
        if m.get("resourceVersion")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
        {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        let mut name = m
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            let prefix = m
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    res,
                    "",
                    "metadata.name: Required value: name or generateName is required",
                ));
            }
            // Retry on the unlikely collision instead of failing the create.
            for _ in 0..8 {
                name = format!("{prefix}{}", random_suffix());
                if !self.objects.contains_key(&ObjectKey::new(res, ns, &name)) {
                    break;
                }
            }
        }
        if !valid_name(&name) {
            return Err(ApiError::invalid(
                res,
                &name,
                &format!(
                    "metadata.name: Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
                ),
            ));
        }
        let key = ObjectKey::new(res, ns, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(res, &name));
        }
        let m = meta_mut(&mut obj);
        m.insert("name".into(), json!(name));
        m.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        m.insert("creationTimestamp".into(), json!(now()));
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        m.remove("resourceVersion");
        if res.tracks_generation {
            m.insert("generation".into(), json!(1));
        } else {
            m.remove("generation");
        }
        if is_pods(res) {
            validate_pod(res, &obj)?;
            default_pod_spec(&mut obj);
            initial_pod_status(&mut obj);
        } else if !res.custom && res.group.is_empty() && res.plural == "secrets" {
            fold_string_data(&mut obj);
        } else if !res.custom && res.group.is_empty() && res.plural == "namespaces" {
            obj["status"] = json!({"phase": "Active"});
        } else if res.custom && res.status_subresource {
            // CRDs with a status subresource ignore .status on create.
            if let Some(m) = obj.as_object_mut() {
                m.remove("status");
            }
        }
        if dry_run {
            return Ok(obj);
        }
        let created = self.commit(key, obj, EventKind::Added, None);
        if res.group == "apiextensions.k8s.io" && res.plural == "customresourcedefinitions" {
            for def in ResourceDef::from_crd(&created) {
                self.register(def);
            }
        }
        Ok(created)
    }

    /// The shared part of PUT, PATCH and `/status` writes.
    pub(crate) fn update(
        &mut self,
        res: &ResourceDef,
        ns: &str,
        name: &str,
        mut new: Value,
        status_only: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        check_type_meta(res, &mut new)?;
        let body_name = meta_str(&new, "name");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let key = ObjectKey::new(res, ns, name);
        let old = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(res, name))?;
        let body_ns = meta_str(&new, "namespace");
        if res.namespaced && !body_ns.is_empty() && body_ns != key.namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let old_rv = meta_str(&old, "resourceVersion").to_string();
        let new_rv = meta_str(&new, "resourceVersion");
        if !new_rv.is_empty() && new_rv != old_rv {
            return Err(ApiError::conflict(res, name));
        }

        let mut result = if status_only {
            let mut r = old.clone();
            match new.get("status") {
                Some(s) => r["status"] = s.clone(),
                None => {
                    if let Some(m) = r.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            r
        } else {
            let mut r = new;
            if res.status_subresource {
                match old.get("status") {
                    Some(s) => r["status"] = s.clone(),
                    None => {
                        if let Some(m) = r.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
            }
            // Fields only the server owns.
            let old_meta = meta(&old).clone();
            let m = meta_mut(&mut r);
            for f in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "namespace",
                "name",
            ] {
                match old_meta.get(f) {
                    Some(v) => m.insert(f.to_string(), v.clone()),
                    None => m.remove(f),
                };
            }
            if !res.custom && res.group.is_empty() && res.plural == "secrets" {
                fold_string_data(&mut r);
            }
            if is_pods(res) {
                validate_pod(res, &r)?;
                inherit_container_defaults(&old, &mut r);
                default_pod_spec(&mut r);
            }
            r
        };
        meta_mut(&mut result).insert("resourceVersion".into(), json!(old_rv));

        if !status_only
            && is_pods(res)
            && mutable_pod_spec(&old["spec"]) != mutable_pod_spec(&result["spec"])
        {
            return Err(ApiError::invalid(
                res,
                name,
                "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`",
            ));
        }
        let deleting = !meta(&old)["deletionTimestamp"].is_null();
        let old_fin = finalizers(&old);
        let new_fin = finalizers(&result);
        if deleting && new_fin.iter().any(|f| !old_fin.contains(f)) {
            return Err(ApiError::invalid(
                res,
                name,
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted",
            ));
        }
        if res.tracks_generation && spec_part(&old) != spec_part(&result) {
            let generation = meta(&old)["generation"].as_i64().unwrap_or(1) + 1;
            meta_mut(&mut result).insert("generation".into(), json!(generation));
        }
        if result == old {
            // No-op writes keep the resourceVersion and send no watch event.
            return Ok(old);
        }
        if dry_run {
            return Ok(result);
        }
        if deleting && new_fin.is_empty() {
            return Ok(self.commit(key, result, EventKind::Deleted, Some(old)));
        }
        Ok(self.commit(key, result, EventKind::Modified, Some(old)))
    }

    pub(crate) fn delete(
        &mut self,
        res: &ResourceDef,
        ns: &str,
        name: &str,
        options: &Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let key = ObjectKey::new(res, ns, name);
        let old = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(res, name))?;
        let pre = &options["preconditions"];
        if let Some(uid) = pre["uid"].as_str()
            && uid != meta_str(&old, "uid")
        {
            return Err(ApiError::conflict_msg(
                res,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&old, "uid")
                ),
            ));
        }
        if let Some(rv) = pre["resourceVersion"].as_str()
            && rv != meta_str(&old, "resourceVersion")
        {
            return Err(ApiError::conflict_msg(
                res,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta_str(&old, "resourceVersion")
                ),
            ));
        }
        if dry_run {
            return Ok(old);
        }
        if !finalizers(&old).is_empty() {
            if !meta(&old)["deletionTimestamp"].is_null() {
                return Ok(old);
            }
            let mut marked = old.clone();
            let m = meta_mut(&mut marked);
            m.insert("deletionTimestamp".into(), json!(now()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
            return Ok(self.commit(key, marked, EventKind::Modified, Some(old)));
        }
        Ok(self.commit(key, old.clone(), EventKind::Deleted, Some(old)))
    }

    /// Matching objects, sorted by namespace then name.
    pub(crate) fn select(
        &self,
        res: &ResourceDef,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<(ObjectKey, Value)> {
        self.objects
            .iter()
            .filter(|(k, _)| k.same_resource(res))
            .filter(|(k, _)| ns.is_none_or(|n| k.namespace == n))
            .filter(|(_, v)| labels.matches(v) && fields.matches(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub(crate) fn list(
        &self,
        res: &ResourceDef,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut items = self.select(res, ns, labels, fields);
        let mut list_rv = self.rv;
        if let Some(tok) = continue_token.filter(|t| !t.is_empty()) {
            // Token: "<rv>:<namespace>:<name>" of the last item already returned.
            let mut parts = tok.splitn(3, ':');
            let (Some(rv), Some(last_ns), Some(last_name)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(ApiError::bad_request(format!(
                    "continue key is not valid: {tok}"
                )));
            };
            list_rv = rv
                .parse()
                .map_err(|_| ApiError::bad_request("continue key is not valid"))?;
            items.retain(|(k, _)| (k.namespace.as_str(), k.name.as_str()) > (last_ns, last_name));
        }
        let mut list_meta = json!({"resourceVersion": list_rv.to_string()});
        if let Some(limit) = limit.filter(|l| *l > 0)
            && items.len() > limit
        {
            let remaining = items.len() - limit;
            items.truncate(limit);
            if let Some((last, _)) = items.last() {
                list_meta["continue"] =
                    json!(format!("{list_rv}:{}:{}", last.namespace, last.name));
                list_meta["remainingItemCount"] = json!(remaining);
            }
        }
        Ok(json!({
            "kind": format!("{}List", res.kind),
            "apiVersion": res.api_version(),
            "metadata": list_meta,
            "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        }))
    }

    /// Runs `f` on a stored object and commits the result as a MODIFIED event, bypassing
    /// the update strategy (for the test-side "kubelet" and other direct mutations).
    pub(crate) fn mutate(
        &mut self,
        res: &ResourceDef,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value) -> Result<(), ApiError>,
    ) -> Result<Value, ApiError> {
        let key = ObjectKey::new(res, ns, name);
        let old = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(res, name))?;
        let mut new = old.clone();
        f(&mut new)?;
        if new == old {
            return Ok(old);
        }
        Ok(self.commit(key, new, EventKind::Modified, Some(old)))
    }

    /// Removes an object immediately, ignoring finalizers.
    pub(crate) fn remove_now(
        &mut self,
        res: &ResourceDef,
        ns: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        let key = ObjectKey::new(res, ns, name);
        let old = self
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(res, name))?;
        Ok(self.commit(key, old.clone(), EventKind::Deleted, Some(old)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn names() {
        assert!(valid_name("a-b.c1"));
        assert!(!valid_name("A"));
        assert!(!valid_name("-a"));
        assert!(!valid_name(""));
        assert_eq!(random_suffix().len(), 5);
    }
}
