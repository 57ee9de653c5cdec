//! Kubernetes glue for the ProwJob type (feature `crd`): `kube::Resource` so `kube::Api<ProwJob>`
//! works, and the CustomResourceDefinition generated from the Rust types with schemars.

use std::borrow::Cow;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::schema::{OptionalEnum, OptionalIntOrString, StructuralSchemaRewriter};
use schemars::generate::SchemaSettings;

use crate::prowjob::{GROUP, KIND, PLURAL, ProwJob, VERSION};

impl kube::Resource for ProwJob {
    type DynamicType = ();
    type Scope = kube::core::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        KIND.into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        GROUP.into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        VERSION.into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        PLURAL.into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// The `prowjobs.prow.k8s.io` CRD with a structural schema derived from [`ProwJob`] and Prow's
/// printer columns.
pub fn crd() -> CustomResourceDefinition {
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(OptionalEnum)
        .with_transform(OptionalIntOrString)
        .with_transform(StructuralSchemaRewriter)
        .into_generator();
    let mut schema = serde_json::to_value(generator.into_root_schema_for::<ProwJob>())
        .expect("schemas serialize");
    if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        // The API server owns metadata's schema; CRDs only declare it as an object.
        props.insert("metadata".into(), serde_json::json!({"type": "object"}));
    }
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("title");
        obj.insert(
            "description".into(),
            "ProwJob contains the spec as well as runtime metadata.".into(),
        );
    }
    let col = |name: &str, ty: &str, path: &str, desc: &str| serde_json::json!({"name": name, "type": ty, "jsonPath": path, "description": desc});
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{PLURAL}.{GROUP}")},
        "spec": {
            "group": GROUP,
            "names": {"kind": KIND, "listKind": "ProwJobList", "plural": PLURAL, "singular": "prowjob"},
            "scope": "Namespaced",
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": schema},
                // Upstream declares no status subresource; status is written with the object.
                "subresources": {},
                "additionalPrinterColumns": [
                    col("Job", "string", ".spec.job", "The name of the job being run"),
                    col("BuildId", "string", ".status.build_id", "The ID of the job being run."),
                    col("Type", "string", ".spec.type", "The type of job being run."),
                    col("Org", "string", ".spec.refs.org", "The org for which the job is running."),
                    col("Repo", "string", ".spec.refs.repo", "The repo for which the job is running."),
                    col("Pulls", "string", ".spec.refs.pulls[*].number", "The pulls for which the job is running."),
                    col("StartTime", "date", ".status.startTime", "When the job started running."),
                    col("CompletionTime", "date", ".status.completionTime", "When the job finished running."),
                    col("State", "string", ".status.state", "The state of the job."),
                ]
            }]
        }
    }))
    .expect("the CRD literal matches the CRD type")
}
