//! Raw HTTP against the router: every error is a `Status` object with the right code.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use prow_kube_fake::FakeKube;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::guard;

async fn call(
    fake: &FakeKube,
    method: Method,
    uri: &str,
    ct: &str,
    body: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", ct)
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = guard(fake.router().oneshot(req)).await.unwrap();
    let code = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let v = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (code, v)
}

fn assert_status(v: &Value, code: u16, reason: &str) {
    assert_eq!(v["kind"], "Status", "{v}");
    assert_eq!(v["status"], "Failure");
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["reason"], reason, "{v}");
}

#[tokio::test]
async fn errors_are_status_objects() {
    let fake = FakeKube::new();
    let j = "application/json";
    let cases: Vec<(Method, &str, &str, &str, u16, &str)> = vec![
        (
            Method::GET,
            "/api/v1/namespaces/ns/widgets",
            j,
            "",
            404,
            "NotFound",
        ),
        (Method::GET, "/nope", j, "", 404, "NotFound"),
        (
            Method::GET,
            "/api/v1/namespaces/ns/pods/p/exec",
            j,
            "",
            404,
            "NotFound",
        ),
        (
            Method::POST,
            "/api/v1/pods",
            j,
            "{}",
            405,
            "MethodNotAllowed",
        ),
        (
            Method::PUT,
            "/api/v1/namespaces/ns/pods",
            j,
            "{}",
            405,
            "MethodNotAllowed",
        ),
        (
            Method::POST,
            "/api/v1/namespaces/ns/configmaps",
            j,
            "{not json",
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            "/api/v1/namespaces/ns/configmaps",
            j,
            "[1]",
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            "/api/v1/namespaces/ns/configmaps",
            j,
            r#"{"kind":"Secret","metadata":{"name":"a"}}"#,
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            "/api/v1/namespaces/ns/configmaps",
            j,
            r#"{"metadata":{}}"#,
            422,
            "Invalid",
        ),
        (
            Method::POST,
            "/api/v1/namespaces/ns/configmaps",
            j,
            r#"{"metadata":{"name":"a","resourceVersion":"3"}}"#,
            500,
            "InternalError",
        ),
        (
            Method::POST,
            "/api/v1/namespaces/ns/pods",
            j,
            r#"{"metadata":{"name":"p"},"spec":{"containers":[1]}}"#,
            422,
            "Invalid",
        ),
        (
            Method::POST,
            "/api/v1/namespaces/ns/pods",
            j,
            r#"{"metadata":{"name":"p"},"spec":{}}"#,
            422,
            "Invalid",
        ),
        (
            Method::GET,
            "/api/v1/namespaces/ns/pods?labelSelector=a+in+(",
            j,
            "",
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            "/api/v1/namespaces/ns/pods?watch=true&resourceVersion=abc",
            j,
            "",
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            "/api/v1/namespaces/ns/pods?limit=x",
            j,
            "",
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            "/api/v1/namespaces/ns/pods?continue=garbage",
            j,
            "",
            400,
            "BadRequest",
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/ns/pods/missing",
            "application/merge-patch+json",
            "{}",
            404,
            "NotFound",
        ),
        (
            Method::DELETE,
            "/api/v1/namespaces/ns/pods/missing/status",
            j,
            "",
            405,
            "MethodNotAllowed",
        ),
        (
            Method::GET,
            "/apis/prow.k8s.io/v2/namespaces/ns/prowjobs",
            j,
            "",
            404,
            "NotFound",
        ),
    ];
    for (method, uri, ct, body, code, reason) in cases {
        let (got, v) = call(&fake, method.clone(), uri, ct, body).await;
        assert_eq!(got.as_u16(), code, "{method} {uri}: {v}");
        assert_status(&v, code, reason);
    }
    assert!(fake.objects().is_empty());
}

#[tokio::test]
async fn yaml_bodies_pod_rules_and_discovery_docs() {
    let fake = FakeKube::new();
    let (code, pod) = call(
        &fake,
        Method::POST,
        "/api/v1/namespaces/ns/pods",
        "application/yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: ypod\nspec:\n  containers:\n  - name: c\n    image: busybox\n",
    )
    .await;
    assert_eq!(code, StatusCode::CREATED, "{pod}");
    assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");

    // Labels may change; most of the pod spec may not.
    let (code, _) = call(
        &fake,
        Method::PATCH,
        "/api/v1/namespaces/ns/pods/ypod",
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"a":"b"}}}"#,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let (code, v) = call(
        &fake,
        Method::PATCH,
        "/api/v1/namespaces/ns/pods/ypod",
        "application/merge-patch+json",
        r#"{"spec":{"restartPolicy":"Never"}}"#,
    )
    .await;
    assert_eq!(code.as_u16(), 422);
    assert_status(&v, 422, "Invalid");
    // Image changes are allowed (lists are replaced by a merge patch; defaults are re-applied).
    let (code, v) = call(
        &fake,
        Method::PATCH,
        "/api/v1/namespaces/ns/pods/ypod",
        "application/strategic-merge-patch+json",
        r#"{"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}"#,
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{v}");

    // Discovery documents.
    let (_, api) = call(&fake, Method::GET, "/api", "", "").await;
    assert_eq!(api["versions"], json!(["v1"]));
    let (_, apis) = call(&fake, Method::GET, "/apis", "", "").await;
    assert!(
        apis["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "prow.k8s.io")
    );
    let (_, core) = call(&fake, Method::GET, "/api/v1", "", "").await;
    let names: Vec<&str> = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.contains(&"pods/log")
            && names.contains(&"pods/status")
            && names.contains(&"configmaps")
    );
    let (_, pj) = call(&fake, Method::GET, "/apis/prow.k8s.io/v1", "", "").await;
    assert_eq!(pj["groupVersion"], "prow.k8s.io/v1");
    let (code, body) = call(&fake, Method::GET, "/healthz", "", "").await;
    assert_eq!((code, body), (StatusCode::OK, json!("ok")));
}
