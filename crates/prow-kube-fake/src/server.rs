//! HTTP layer: URL routing, discovery, verbs, patch formats, pod logs and watch streams.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::FakeKube;
use crate::failure::{RecordedRequest, Verb};
use crate::resource::ResourceDef;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, json_response};
use crate::store::{EventKind, LogEvent, Store, meta_str};

/// Largest request body accepted (the real server's default limit is 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Builds the axum `Router` serving the fake API.
pub fn router(fake: FakeKube) -> Router {
    Router::new().fallback(handle).with_state(fake)
}

async fn handle(State(fake): State<FakeKube>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                413,
                "RequestEntityTooLarge",
                "the request body is too large",
            )
            .into_response();
        }
    };
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    fake.lock().record(RecordedRequest {
        method: parts.method.to_string(),
        path: path.clone(),
        query: query.clone(),
        content_type,
    });
    let ctx = Ctx {
        fake: &fake,
        method: &parts.method,
        headers: &parts.headers,
        query: parse_query(&query),
        body,
    };
    match ctx.route(&path) {
        Ok(resp) => resp,
        Err(e) => {
            tracing::debug!(code = e.code, reason = %e.reason, message = %e.message, %path, "fake kube error");
            e.into_response()
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("0");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

fn is_true(v: Option<&String>) -> bool {
    v.is_some_and(|v| v == "true" || v == "1")
}

/// Which part of an object URL a request addresses.
enum Target {
    Collection {
        res: ResourceDef,
        ns: Option<String>,
    },
    Object {
        res: ResourceDef,
        ns: String,
        name: String,
        sub: Option<String>,
    },
}

struct Ctx<'a> {
    fake: &'a FakeKube,
    method: &'a Method,
    headers: &'a HeaderMap,
    query: HashMap<String, String>,
    body: Bytes,
}

fn text(code: StatusCode, body: String) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn ok_json(v: &Value) -> Response {
    json_response(StatusCode::OK, v)
}

/// Converts an object to `PartialObjectMetadata` (what `Api::get_metadata` / metadata watches ask for).
fn to_partial(v: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": v["metadata"],
    })
}

/// One version of a group in aggregated discovery, with its resource entries.
type VersionEntries = (String, Vec<Value>);

const DISCOVERY_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl Ctx<'_> {
    fn accept(&self) -> &str {
        self.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn wants_partial(&self) -> bool {
        self.accept().contains("as=PartialObjectMetadata")
    }

    fn wants_aggregated(&self) -> bool {
        self.accept().contains("as=APIGroupDiscoveryList")
    }

    fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|v| v == "All")
    }

    fn object_response(&self, code: StatusCode, v: &Value) -> Response {
        if self.wants_partial() {
            json_response(code, &to_partial(v))
        } else {
            json_response(code, v)
        }
    }

    fn body_json(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        let yaml = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("yaml"));
        if yaml {
            // The real server also accepts YAML request bodies (kubectl --raw, curl).
            return serde_saphyr::from_slice(&self.body)
                .map_err(|e| ApiError::bad_request(format!("invalid YAML body: {e}")));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }

    fn route(&self, path: &str) -> Result<Response, ApiError> {
        let segs: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let get_only = || {
            if self.method == Method::GET {
                Ok(())
            } else {
                Err(ApiError::method_not_allowed())
            }
        };
        match s.as_slice() {
            [] => {
                get_only()?;
                Ok(ok_json(
                    &json!({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]}),
                ))
            }
            ["version"] => {
                get_only()?;
                Ok(ok_json(&json!({
                    "major": "1",
                    "minor": "33",
                    "gitVersion": "v1.33.0-prow-kube-fake",
                    "gitCommit": "0000000000000000000000000000000000000000",
                    "gitTreeState": "clean",
                    "buildDate": "2025-01-01T00:00:00Z",
                    "goVersion": "go1.24.0",
                    "compiler": "gc",
                    "platform": "linux/amd64",
                })))
            }
            ["healthz" | "livez" | "readyz", ..] => Ok(text(StatusCode::OK, "ok".into())),
            ["api"] => {
                get_only()?;
                if self.wants_aggregated() {
                    return Ok(self.aggregated(true));
                }
                Ok(ok_json(&json!({
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
                })))
            }
            ["apis"] => {
                get_only()?;
                if self.wants_aggregated() {
                    return Ok(self.aggregated(false));
                }
                let groups = self.groups();
                let items: Vec<Value> = groups.iter().map(|(g, vs)| api_group(g, vs)).collect();
                Ok(ok_json(
                    &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": items}),
                ))
            }
            ["api", v] => {
                get_only()?;
                self.resource_list("", v)
            }
            ["apis", g] => {
                get_only()?;
                let groups = self.groups();
                let (_, vs) = groups
                    .iter()
                    .find(|(name, _)| name == g)
                    .ok_or_else(ApiError::no_route)?;
                let mut v = api_group(g, vs);
                v["kind"] = json!("APIGroup");
                v["apiVersion"] = json!("v1");
                Ok(ok_json(&v))
            }
            ["apis", g, v] => {
                get_only()?;
                self.resource_list(g, v)
            }
            ["api", v, rest @ ..] => self.resource_request("", v, rest),
            ["apis", g, v, rest @ ..] => self.resource_request(g, v, rest),
            _ => Err(ApiError::no_route()),
        }
    }

    /// Groups (other than core) with their versions, sorted.
    fn groups(&self) -> Vec<(String, Vec<String>)> {
        let store = self.fake.lock();
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in store.resources.iter().filter(|r| !r.group.is_empty()) {
            match out.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, vs)) if !vs.contains(&r.version) => vs.push(r.version.clone()),
                Some(_) => {}
                None => out.push((r.group.clone(), vec![r.version.clone()])),
            }
        }
        out.sort();
        out
    }

    fn resource_list(&self, group: &str, version: &str) -> Result<Response, ApiError> {
        let store = self.fake.lock();
        let defs: Vec<&ResourceDef> = store
            .resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .collect();
        if defs.is_empty() {
            return Err(ApiError::no_route());
        }
        let mut resources = Vec::new();
        for r in defs {
            resources.push(json!({
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": VERBS,
                "shortNames": r.short_names,
            }));
            if r.status_subresource {
                resources.push(json!({
                    "name": format!("{}/status", r.plural),
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": ["get", "patch", "update"],
                }));
            }
            if is_pods(r) {
                resources.push(json!({
                    "name": "pods/log",
                    "singularName": "",
                    "namespaced": true,
                    "kind": "Pod",
                    "verbs": ["get"],
                }));
                resources.push(json!({
                    "name": "pods/eviction",
                    "singularName": "",
                    "namespaced": true,
                    "group": "policy",
                    "version": "v1",
                    "kind": "Eviction",
                    "verbs": ["create"],
                }));
            }
        }
        let gv = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        Ok(ok_json(&json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv,
            "resources": resources,
        })))
    }

    /// Aggregated discovery (`apidiscovery.k8s.io/v2`), used by `Discovery::run_aggregated`.
    fn aggregated(&self, core: bool) -> Response {
        let store = self.fake.lock();
        let mut groups: Vec<(String, Vec<VersionEntries>)> = Vec::new();
        for r in store
            .resources
            .iter()
            .filter(|r| r.group.is_empty() == core)
        {
            let mut subs = Vec::new();
            let kind = json!({"group": r.group, "version": r.version, "kind": r.kind});
            if r.status_subresource {
                subs.push(json!({"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}));
            }
            if is_pods(r) {
                subs.push(json!({"subresource": "log", "responseKind": kind, "verbs": ["get"]}));
            }
            let entry = json!({
                "resource": r.plural,
                "responseKind": kind,
                "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": r.singular,
                "verbs": VERBS,
                "shortNames": r.short_names,
                "subresources": subs,
            });
            let gi = match groups.iter().position(|(g, _)| *g == r.group) {
                Some(i) => i,
                None => {
                    groups.push((r.group.clone(), Vec::new()));
                    groups.len() - 1
                }
            };
            let versions = &mut groups[gi].1;
            match versions.iter_mut().find(|(v, _)| *v == r.version) {
                Some((_, list)) => list.push(entry),
                None => versions.push((r.version.clone(), vec![entry])),
            }
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let items: Vec<Value> = groups
            .into_iter()
            .map(|(g, versions)| {
                json!({
                    "metadata": {"name": g},
                    "versions": versions.into_iter().map(|(v, resources)| json!({
                        "version": v,
                        "resources": resources,
                        "freshness": "Current",
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let body = json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": items,
        });
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, DISCOVERY_V2)],
            serde_json::to_vec(&body).unwrap_or_default(),
        )
            .into_response()
    }

    fn resource_request(
        &self,
        group: &str,
        version: &str,
        rest: &[&str],
    ) -> Result<Response, ApiError> {
        let lookup = |plural: &str| self.fake.lock().resource(group, version, plural);
        let target = match rest {
            ["namespaces", ns, plural, tail @ ..]
                if tail.len() <= 2 && lookup(plural).is_some_and(|r| r.namespaced) =>
            {
                let res = lookup(plural).ok_or_else(ApiError::no_route)?;
                match tail {
                    [] => Target::Collection {
                        res,
                        ns: Some((*ns).to_string()),
                    },
                    [name] => Target::Object {
                        res,
                        ns: (*ns).to_string(),
                        name: (*name).to_string(),
                        sub: None,
                    },
                    [name, sub] => Target::Object {
                        res,
                        ns: (*ns).to_string(),
                        name: (*name).to_string(),
                        sub: Some((*sub).to_string()),
                    },
                    _ => return Err(ApiError::no_route()),
                }
            }
            [plural] => Target::Collection {
                res: lookup(plural).ok_or_else(ApiError::no_route)?,
                ns: None,
            },
            [plural, name, sub @ ..] if sub.len() <= 1 => {
                let res = lookup(plural)
                    .filter(|r| !r.namespaced)
                    .ok_or_else(ApiError::no_route)?;
                Target::Object {
                    res,
                    ns: String::new(),
                    name: (*name).to_string(),
                    sub: sub.first().map(|s| (*s).to_string()),
                }
            }
            _ => return Err(ApiError::no_route()),
        };
        match target {
            Target::Collection { res, ns } => self.collection(&res, ns.as_deref()),
            Target::Object { res, ns, name, sub } => self.object(&res, &ns, &name, sub.as_deref()),
        }
    }

    fn check_failure(
        &self,
        verb: Verb,
        res: &ResourceDef,
        sub: Option<&str>,
        ns: Option<&str>,
        name: Option<&str>,
    ) -> Result<(), ApiError> {
        match self.fake.lock().take_failure(verb, res, sub, ns, name) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn selectors(&self, res: &ResourceDef) -> Result<(LabelSelector, FieldSelector), ApiError> {
        let labels = LabelSelector::parse(self.query.get("labelSelector").map_or("", |s| s))?;
        let fields = FieldSelector::parse(self.query.get("fieldSelector").map_or("", |s| s), res)?;
        Ok((labels, fields))
    }

    fn collection(&self, res: &ResourceDef, ns: Option<&str>) -> Result<Response, ApiError> {
        match *self.method {
            Method::GET if is_true(self.query.get("watch")) => {
                self.check_failure(Verb::Watch, res, None, ns, None)?;
                self.watch(res, ns)
            }
            Method::GET => {
                self.check_failure(Verb::List, res, None, ns, None)?;
                let (labels, fields) = self.selectors(res)?;
                let limit = match self.query.get("limit").filter(|s| !s.is_empty()) {
                    Some(l) => Some(
                        l.parse::<usize>()
                            .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
                    ),
                    None => None,
                };
                let store = self.fake.lock();
                if self
                    .query
                    .get("resourceVersionMatch")
                    .is_some_and(|m| m == "Exact")
                {
                    let rv = self.query.get("resourceVersion").map_or("", |s| s);
                    let rv: u64 = rv.parse().map_err(|_| {
                        ApiError::bad_request(format!("invalid resourceVersion {rv:?}"))
                    })?;
                    if rv != store.rv {
                        // Only the latest snapshot is kept; older exact reads are gone.
                        return Err(ApiError::expired(format!(
                            "too old resource version: {rv} ({})",
                            store.rv
                        )));
                    }
                }
                let mut list = store.list(
                    res,
                    ns,
                    &labels,
                    &fields,
                    limit,
                    self.query.get("continue").map(String::as_str),
                )?;
                drop(store);
                if self.wants_partial() {
                    let items: Vec<Value> = list["items"]
                        .as_array()
                        .map(|a| a.iter().map(to_partial).collect())
                        .unwrap_or_default();
                    list["items"] = json!(items);
                    list["kind"] = json!("PartialObjectMetadataList");
                    list["apiVersion"] = json!("meta.k8s.io/v1");
                }
                Ok(ok_json(&list))
            }
            Method::POST => {
                let Some(ns) = ns.or((!res.namespaced).then_some("")) else {
                    return Err(ApiError::method_not_allowed());
                };
                let body = self.body_json()?;
                let name = meta_str(&body, "name").to_string();
                self.check_failure(Verb::Create, res, None, Some(ns), Some(&name))?;
                let created = self.fake.lock().create(res, ns, body, self.dry_run())?;
                Ok(self.object_response(StatusCode::CREATED, &created))
            }
            Method::DELETE => {
                self.check_failure(Verb::DeleteCollection, res, None, ns, None)?;
                let (labels, fields) = self.selectors(res)?;
                let opts = self.body_json()?;
                let mut store = self.fake.lock();
                let keys = store.select(res, ns, &labels, &fields);
                let mut items = Vec::new();
                for (k, _) in keys {
                    items.push(store.delete(res, &k.namespace, &k.name, &opts, self.dry_run())?);
                }
                Ok(ok_json(&json!({
                    "kind": format!("{}List", res.kind),
                    "apiVersion": res.api_version(),
                    "metadata": {"resourceVersion": store.rv.to_string()},
                    "items": items,
                })))
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    fn object(
        &self,
        res: &ResourceDef,
        ns: &str,
        name: &str,
        sub: Option<&str>,
    ) -> Result<Response, ApiError> {
        let status = match sub {
            None => false,
            Some("status") if res.status_subresource => true,
            Some("log") if is_pods(res) => {
                if *self.method != Method::GET {
                    return Err(ApiError::method_not_allowed());
                }
                self.check_failure(Verb::Get, res, sub, Some(ns), Some(name))?;
                return self.pod_log(res, ns, name);
            }
            Some("eviction") if is_pods(res) => {
                if *self.method != Method::POST {
                    return Err(ApiError::method_not_allowed());
                }
                self.check_failure(Verb::Create, res, sub, Some(ns), Some(name))?;
                // The Eviction API deletes the pod (no PodDisruptionBudgets in the fake).
                let opts = self.body_json()?;
                let opts = opts.get("deleteOptions").cloned().unwrap_or(Value::Null);
                self.fake
                    .lock()
                    .delete(res, ns, name, &opts, self.dry_run())?;
                return Ok(json_response(
                    StatusCode::CREATED,
                    &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
                ));
            }
            Some(_) => return Err(ApiError::no_route()),
        };
        let fail = |verb| self.check_failure(verb, res, sub, Some(ns), Some(name));
        match *self.method {
            Method::GET => {
                fail(Verb::Get)?;
                let obj = self.fake.lock().get(res, ns, name)?;
                Ok(self.object_response(StatusCode::OK, &obj))
            }
            Method::PUT => {
                fail(Verb::Update)?;
                let body = self.body_json()?;
                let obj = self
                    .fake
                    .lock()
                    .update(res, ns, name, body, status, self.dry_run())?;
                Ok(self.object_response(StatusCode::OK, &obj))
            }
            Method::PATCH => {
                fail(Verb::Patch)?;
                let (code, obj) = self.patch(res, ns, name, status)?;
                Ok(self.object_response(code, &obj))
            }
            Method::DELETE if !status => {
                fail(Verb::Delete)?;
                let opts = self.body_json()?;
                let obj = self
                    .fake
                    .lock()
                    .delete(res, ns, name, &opts, self.dry_run())?;
                Ok(self.object_response(StatusCode::OK, &obj))
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    fn patch(
        &self,
        res: &ResourceDef,
        ns: &str,
        name: &str,
        status: bool,
    ) -> Result<(StatusCode, Value), ApiError> {
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let ct = ct.split(';').next().unwrap_or("").trim();
        let apply = ct == "application/apply-patch+yaml";
        if apply && self.query.get("fieldManager").is_none_or(|m| m.is_empty()) {
            return Err(ApiError::new(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ));
        }
        let mut store = self.fake.lock();
        let old = match store.get(res, ns, name) {
            Ok(o) => o,
            Err(_) if apply && !status => {
                // Server-side apply creates missing objects.
                let mut obj = parse_patch_body(&self.body, true)?;
                if !obj.is_object() {
                    return Err(ApiError::bad_request("apply patch body must be an object"));
                }
                crate::store::meta_mut(&mut obj).insert("name".into(), json!(name));
                let created = store.create(res, ns, obj, self.dry_run())?;
                return Ok((StatusCode::CREATED, created));
            }
            Err(e) => return Err(e),
        };
        let patched = apply_patch(res, &old, ct, &self.body)?;
        let obj = store.update(res, ns, name, patched, status, self.dry_run())?;
        Ok((StatusCode::OK, obj))
    }

    fn pod_log(&self, res: &ResourceDef, ns: &str, name: &str) -> Result<Response, ApiError> {
        let store = self.fake.lock();
        let pod = store.get(res, ns, name)?;
        let names = |list: &str| -> Vec<String> {
            pod["spec"][list]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = names("containers");
        let mut all = names("initContainers");
        all.extend(containers.iter().cloned());
        all.extend(names("ephemeralContainers"));
        let container = match self.query.get("container").filter(|c| !c.is_empty()) {
            Some(c) => c.clone(),
            None if containers.len() == 1 => containers[0].clone(),
            None => {
                return Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    containers.join(" ")
                )));
            }
        };
        if !all.contains(&container) {
            return Err(ApiError::bad_request(format!(
                "container {container} is not valid for pod {name}"
            )));
        }
        let logs = store
            .pod_logs
            .get(&(ns.to_string(), name.to_string(), container.clone()))
            .cloned();
        let mut log = match logs {
            Some(l) => l,
            None if pod["status"]["phase"].as_str().unwrap_or("Pending") == "Pending" => {
                return Err(ApiError::bad_request(format!(
                    "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
                )));
            }
            None => String::new(),
        };
        if let Some(n) = self
            .query
            .get("tailLines")
            .and_then(|t| t.parse::<usize>().ok())
        {
            let lines: Vec<&str> = log.split_inclusive('\n').collect();
            log = lines[lines.len().saturating_sub(n)..].concat();
        }
        if let Some(n) = self
            .query
            .get("limitBytes")
            .and_then(|t| t.parse::<usize>().ok())
            && log.len() > n
        {
            let mut cut = n;
            while !log.is_char_boundary(cut) {
                cut -= 1;
            }
            log.truncate(cut);
        }
        Ok(text(StatusCode::OK, log))
    }

    fn watch(&self, res: &ResourceDef, ns: Option<&str>) -> Result<Response, ApiError> {
        let (labels, fields) = self.selectors(res)?;
        let filter = WatchFilter {
            res: res.clone(),
            ns: ns.map(str::to_string),
            labels,
            fields,
            partial: self.wants_partial(),
        };
        let bookmarks = is_true(self.query.get("allowWatchBookmarks"));
        let send_initial = is_true(self.query.get("sendInitialEvents"));
        let deadline = match self.query.get("timeoutSeconds").filter(|s| !s.is_empty()) {
            Some(t) => {
                let secs: u64 = t
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds {t:?}")))?;
                Some(Instant::now() + Duration::from_secs(secs))
            }
            None => None,
        };
        let rv = match self.query.get("resourceVersion").map(String::as_str) {
            None | Some("") | Some("0") => None,
            Some(s) => Some(
                s.parse::<u64>()
                    .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion {s:?}")))?,
            ),
        };
        let shared = &self.fake.shared;
        let mut pending = VecDeque::new();
        let mut done = false;
        let mut rv_rx = shared.rv_rx.clone();
        let store = self.fake.lock();
        let last_rv = match rv {
            Some(rv) if !send_initial => {
                if rv < store.compacted_rv {
                    pending.push_back(too_old(rv, store.compacted_rv));
                    done = true;
                }
                rv
            }
            _ => {
                for (_, obj) in store.select(res, ns, &filter.labels, &filter.fields) {
                    pending.push_back(filter.event("ADDED", &obj));
                }
                if send_initial && bookmarks {
                    let mut bm = filter.bookmark(store.rv);
                    bm["object"]["metadata"]["annotations"] =
                        json!({"k8s.io/initial-events-end": "true"});
                    pending.push_back(bm);
                }
                store.rv
            }
        };
        rv_rx.borrow_and_update();
        drop(store);
        let interval = shared.bookmark_interval;
        let cursor = WatchCursor {
            fake: self.fake.clone(),
            filter,
            last_rv,
            pending,
            done,
            rv_rx,
            bookmark_rx: shared.bookmark_tx.subscribe(),
            close_rx: shared.close_tx.subscribe(),
            bookmarks,
            deadline,
            interval,
            next_bookmark: interval.map(|i| Instant::now() + i),
        };
        let stream = futures::stream::unfold(cursor, WatchCursor::next);
        Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(stream),
        )
            .into_response())
    }
}

fn is_pods(r: &ResourceDef) -> bool {
    !r.custom && r.group.is_empty() && r.plural == "pods"
}

fn api_group(g: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
        .collect();
    json!({
        "name": g,
        "versions": vs,
        "preferredVersion": vs.first().cloned().unwrap_or(Value::Null),
    })
}

/// Parses a PATCH body; apply bodies may be YAML (JSON is tried first).
fn parse_patch_body(body: &[u8], yaml: bool) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Ok(v),
        Err(e) if !yaml => Err(ApiError::bad_request(format!("invalid patch body: {e}"))),
        Err(_) => serde_saphyr::from_slice::<Value>(body)
            .map_err(|e| ApiError::bad_request(format!("invalid apply patch body: {e}"))),
    }
}

/// Applies a PATCH body of the given content type to `old`.
fn apply_patch(res: &ResourceDef, old: &Value, ct: &str, body: &[u8]) -> Result<Value, ApiError> {
    let mut doc = old.clone();
    match ct {
        "application/json-patch+json" => {
            let patch: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut doc, &patch.0).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
        }
        "application/merge-patch+json" => {
            let patch = parse_patch_body(body, false)?;
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "merge patch body must be a JSON object",
                ));
            }
            json_patch::merge(&mut doc, &patch);
        }
        "application/strategic-merge-patch+json" => {
            if res.custom {
                return Err(ApiError::unsupported_media_type(ct));
            }
            // Approximation: lists are replaced instead of merged by key.
            let patch = parse_patch_body(body, false)?;
            if !patch.is_object() {
                return Err(ApiError::bad_request("patch body must be a JSON object"));
            }
            json_patch::merge(&mut doc, &patch);
        }
        "application/apply-patch+yaml" => {
            // Approximation: server-side apply is a merge patch without field ownership.
            let patch = parse_patch_body(body, true)?;
            if !patch.is_object() {
                return Err(ApiError::bad_request("apply patch body must be an object"));
            }
            json_patch::merge(&mut doc, &patch);
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    }
    Ok(doc)
}

fn too_old(rv: u64, compacted: u64) -> Value {
    json!({
        "type": "ERROR",
        "object": ApiError::expired(format!("too old resource version: {rv} ({})", compacted + 1)).to_status(),
    })
}

/// What one watch request selects.
struct WatchFilter {
    res: ResourceDef,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    partial: bool,
}

impl WatchFilter {
    fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    fn event(&self, kind: &str, obj: &Value) -> Value {
        let object = if self.partial {
            to_partial(obj)
        } else {
            obj.clone()
        };
        json!({"type": kind, "object": object})
    }

    fn bookmark(&self, rv: u64) -> Value {
        let (kind, api_version) = if self.partial {
            (
                "PartialObjectMetadata".to_string(),
                "meta.k8s.io/v1".to_string(),
            )
        } else {
            (self.res.kind.clone(), self.res.api_version())
        };
        json!({
            "type": "BOOKMARK",
            "object": {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": rv.to_string()}},
        })
    }

    /// The event this watcher sees for a logged write, if any. A modification that moves an
    /// object into or out of the selection becomes ADDED or DELETED, like the real watch cache.
    fn render(&self, ev: &LogEvent) -> Option<Value> {
        let k = &ev.key;
        if k.group != self.res.group || k.version != self.res.version || k.plural != self.res.plural
        {
            return None;
        }
        if self.ns.as_deref().is_some_and(|n| n != k.namespace) {
            return None;
        }
        let now = self.matches(&ev.object);
        let kind = match ev.kind {
            EventKind::Added | EventKind::Deleted => now.then_some(ev.kind.as_str()),
            EventKind::Modified => {
                let before = ev.prev.as_deref().is_some_and(|p| self.matches(p));
                match (before, now) {
                    (true, true) => Some("MODIFIED"),
                    (false, true) => Some("ADDED"),
                    (true, false) => Some("DELETED"),
                    (false, false) => None,
                }
            }
        }?;
        Some(self.event(kind, &ev.object))
    }
}

/// State of one open watch stream.
struct WatchCursor {
    fake: FakeKube,
    filter: WatchFilter,
    last_rv: u64,
    pending: VecDeque<Value>,
    done: bool,
    rv_rx: watch::Receiver<u64>,
    bookmark_rx: watch::Receiver<u64>,
    close_rx: watch::Receiver<u64>,
    bookmarks: bool,
    deadline: Option<Instant>,
    interval: Option<Duration>,
    next_bookmark: Option<Instant>,
}

impl WatchCursor {
    fn catch_up(&mut self, store: &Store) {
        if self.last_rv < store.compacted_rv {
            self.pending
                .push_back(too_old(self.last_rv, store.compacted_rv));
            self.done = true;
            return;
        }
        let start = store.log.partition_point(|e| e.rv <= self.last_rv);
        for ev in store.log.range(start..) {
            if let Some(v) = self.filter.render(ev) {
                self.pending.push_back(v);
            }
        }
        self.last_rv = self.last_rv.max(store.rv);
    }

    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                let mut line = serde_json::to_vec(&ev).unwrap_or_default();
                line.push(b'\n');
                return Some((Ok(Bytes::from(line)), self));
            }
            if self.done {
                return None;
            }
            {
                let fake = self.fake.clone();
                let store = fake.lock();
                // Mark the notification seen while holding the lock: any later write
                // happens after we release it and will wake us again.
                self.rv_rx.borrow_and_update();
                self.catch_up(&store);
            }
            if !self.pending.is_empty() || self.done {
                continue;
            }
            let deadline = self.deadline;
            let next_bm = self.next_bookmark;
            tokio::select! {
                r = self.rv_rx.changed() => if r.is_err() { self.done = true },
                r = self.bookmark_rx.changed() => match r {
                    Ok(()) if self.bookmarks => {
                        let bm = self.filter.bookmark(self.last_rv);
                        self.pending.push_back(bm);
                    }
                    Ok(()) => {}
                    Err(_) => self.done = true,
                },
                _ = self.close_rx.changed() => self.done = true,
                () = sleep_opt(deadline) => self.done = true,
                () = sleep_opt(next_bm) => {
                    if self.bookmarks {
                        let bm = self.filter.bookmark(self.last_rv);
                        self.pending.push_back(bm);
                    }
                    self.next_bookmark = self.interval.map(|i| Instant::now() + i);
                }
            }
        }
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = parse_query("&watch=true&labelSelector=app%3Dweb%2Cx+in+(a)&flag");
        assert_eq!(q["watch"], "true");
        assert_eq!(q["labelSelector"], "app=web,x in (a)");
        assert_eq!(q["flag"], "");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
