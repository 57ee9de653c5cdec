//! Every item `/prowjobs.js` serves (full and with the jobs page's `omit=`) is a ProwJob that
//! Prow's own CRD schema accepts.

mod common;

use std::path::PathBuf;

use axum::body::Body;
use common::*;
use http::Request;
use serde_json::Value;
use tower::ServiceExt as _;

fn crd_schema() -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/prow-reference/prowjob_customresourcedefinition.yaml");
    assert!(
        p.exists(),
        "corpus file {} is missing: tests need ../shared/corpus beside the checkout",
        p.display()
    );
    let crd: Value = serde_saphyr::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

#[tokio::test]
async fn prowjobs_js_items_match_prows_crd() {
    let schema = crd_schema();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap();
    let s = deck().await;
    for uri in [
        "/prowjobs.js",
        "/prowjobs.js?omit=annotations,labels,decoration_config,pod_spec",
    ] {
        let resp = s
            .deck
            .router()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 7);
        for item in items {
            let errors: Vec<String> = validator
                .iter_errors(item)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{uri}: {errors:#?}");
        }
    }
}
