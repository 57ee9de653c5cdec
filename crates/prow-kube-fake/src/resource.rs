//! Resource types the fake knows how to serve.

use serde_json::Value;

/// Describes one served resource (a group/version/plural), like an `APIResource` in discovery.
///
/// The flags pick which server-side behaviour of the real type the fake copies
/// (status subresource, generation tracking, built-in vs custom resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDef {
    /// API group, empty for the core group.
    pub group: String,
    /// API version (`v1`).
    pub version: String,
    /// Plural resource name used in URLs (`pods`).
    pub plural: String,
    /// Singular name (`pod`).
    pub singular: String,
    /// Kind (`Pod`).
    pub kind: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// Whether a `/status` subresource exists. When it does, writes to the main resource keep the
    /// old `.status` and writes to `/status` only change `.status`, as on a real server.
    pub status_subresource: bool,
    /// Whether `metadata.generation` is maintained (CRDs and workload types; not ConfigMaps).
    pub tracks_generation: bool,
    /// Whether this is a custom resource (CRDs reject strategic-merge patches and drop
    /// `.status` on create when they have a status subresource).
    pub custom: bool,
    /// Field selector keys accepted besides `metadata.name` and `metadata.namespace`.
    pub field_selectors: Vec<String>,
    /// Short names for discovery (`po`).
    pub short_names: Vec<String>,
}

impl ResourceDef {
    /// A namespaced custom resource with generation tracking and no status subresource.
    pub fn namespaced(group: &str, version: &str, plural: &str, kind: &str) -> Self {
        ResourceDef {
            group: group.to_string(),
            version: version.to_string(),
            plural: plural.to_string(),
            singular: kind.to_lowercase(),
            kind: kind.to_string(),
            namespaced: true,
            status_subresource: false,
            tracks_generation: true,
            custom: true,
            field_selectors: Vec::new(),
            short_names: Vec::new(),
        }
    }

    /// A cluster-scoped custom resource.
    pub fn cluster_scoped(group: &str, version: &str, plural: &str, kind: &str) -> Self {
        ResourceDef {
            namespaced: false,
            ..Self::namespaced(group, version, plural, kind)
        }
    }

    /// Marks the resource as built into the API server (not a CRD).
    fn builtin(mut self, tracks_generation: bool) -> Self {
        self.custom = false;
        self.tracks_generation = tracks_generation;
        self
    }

    /// Enables or disables the `/status` subresource.
    pub fn with_status_subresource(mut self, enabled: bool) -> Self {
        self.status_subresource = enabled;
        self
    }

    /// Adds extra field selector keys (dotted JSON paths, e.g. `spec.nodeName`).
    pub fn with_field_selectors(mut self, keys: &[&str]) -> Self {
        self.field_selectors
            .extend(keys.iter().map(|k| (*k).to_string()));
        self
    }

    /// Sets discovery short names.
    pub fn with_short_names(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|k| (*k).to_string()).collect();
        self
    }

    /// `apiVersion` string (`v1` or `group/version`).
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural` or `plural.group`, as used in server messages.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Core v1 `pods`, with `/status` and `/log`.
    pub fn pods() -> Self {
        Self::namespaced("", "v1", "pods", "Pod")
            .builtin(false)
            .with_status_subresource(true)
            .with_short_names(&["po"])
            .with_field_selectors(&[
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "spec.hostNetwork",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            ])
    }

    /// Core v1 `configmaps`.
    pub fn configmaps() -> Self {
        Self::namespaced("", "v1", "configmaps", "ConfigMap")
            .builtin(false)
            .with_short_names(&["cm"])
    }

    /// Core v1 `secrets`.
    pub fn secrets() -> Self {
        Self::namespaced("", "v1", "secrets", "Secret")
            .builtin(false)
            .with_field_selectors(&["type"])
    }

    /// Core v1 `events`.
    pub fn events() -> Self {
        Self::namespaced("", "v1", "events", "Event")
            .builtin(false)
            .with_short_names(&["ev"])
            .with_field_selectors(&[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            ])
    }

    /// `events.k8s.io/v1` `events` (what kube-runtime's event recorder writes).
    pub fn events_k8s_io() -> Self {
        Self::namespaced("events.k8s.io", "v1", "events", "Event")
            .builtin(false)
            .with_short_names(&["ev"])
    }

    /// Core v1 `namespaces` (cluster scoped, with `/status`).
    pub fn namespaces() -> Self {
        Self::cluster_scoped("", "v1", "namespaces", "Namespace")
            .builtin(false)
            .with_status_subresource(true)
            .with_short_names(&["ns"])
            .with_field_selectors(&["status.phase"])
    }

    /// `coordination.k8s.io/v1` `leases` (leader election).
    pub fn leases() -> Self {
        Self::namespaced("coordination.k8s.io", "v1", "leases", "Lease").builtin(false)
    }

    /// `prow.k8s.io/v1` `prowjobs`, served with a `/status` subresource by default.
    ///
    /// Note: upstream Prow's CRD (`prowjob_customresourcedefinition.yaml`) and ours declare
    /// `subresources: {}`; use [`FakeKubeBuilder::prowjob_status_subresource`](crate::FakeKubeBuilder::prowjob_status_subresource)
    /// with `false` to mirror them exactly (the controller's tests should).
    pub fn prowjobs() -> Self {
        Self::namespaced("prow.k8s.io", "v1", "prowjobs", "ProwJob")
            .with_status_subresource(true)
            .with_short_names(&["pj"])
    }

    /// `apiextensions.k8s.io/v1` `customresourcedefinitions`; creating one registers its resources.
    pub fn custom_resource_definitions() -> Self {
        Self::cluster_scoped(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
        )
        .builtin(true)
        .with_status_subresource(true)
        .with_short_names(&["crd", "crds"])
    }

    /// Everything the fake serves out of the box.
    pub fn defaults() -> Vec<Self> {
        vec![
            Self::pods(),
            Self::configmaps(),
            Self::secrets(),
            Self::events(),
            Self::namespaces(),
            Self::events_k8s_io(),
            Self::leases(),
            Self::prowjobs(),
            Self::custom_resource_definitions(),
        ]
    }

    /// The resources (one per served version) a `CustomResourceDefinition` object declares.
    pub fn from_crd(crd: &Value) -> Vec<Self> {
        let spec = &crd["spec"];
        let (Some(group), Some(plural), Some(kind)) = (
            spec["group"].as_str(),
            spec["names"]["plural"].as_str(),
            spec["names"]["kind"].as_str(),
        ) else {
            return Vec::new();
        };
        let namespaced = spec["scope"].as_str() != Some("Cluster");
        let singular = spec["names"]["singular"]
            .as_str()
            .map_or_else(|| kind.to_lowercase(), str::to_string);
        let short_names: Vec<String> = spec["names"]["shortNames"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let versions = spec["versions"].as_array().cloned().unwrap_or_default();
        versions
            .iter()
            .filter(|v| v["served"].as_bool().unwrap_or(true))
            .filter_map(|v| {
                let version = v["name"].as_str()?;
                let mut def = ResourceDef::namespaced(group, version, plural, kind);
                def.namespaced = namespaced;
                def.singular = singular.clone();
                def.short_names = short_names.clone();
                def.status_subresource = v["subresources"]["status"].is_object();
                def.field_selectors = v["selectableFields"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f["jsonPath"].as_str())
                            .map(|p| p.trim_start_matches('.').to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                Some(def)
            })
            .collect()
    }

    /// Whether `key` may be used in a field selector for this resource.
    pub(crate) fn supports_field(&self, key: &str) -> bool {
        key == "metadata.name"
            || (key == "metadata.namespace" && self.namespaced)
            || self.field_selectors.iter().any(|f| f == key)
    }
}
