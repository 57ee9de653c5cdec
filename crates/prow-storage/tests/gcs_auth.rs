//! GCS credentials end to end on loopback: a service-account key generated for the test signs
//! the JWT, a local token endpoint verifies it with the public key and hands out tokens, and a
//! local stand-in for the JSON API records the `Authorization` headers it receives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use prow_storage::credentials::GoogleCredentials;
use prow_storage::gcs::TokenSource;
use prow_storage::gcs::auth::{AssertionClaims, SCOPE_FULL_CONTROL};
use prow_storage::{Credentials, StorageError, open};

const EMAIL: &str = "uploader@test-project.iam.gserviceaccount.com";

#[derive(Default)]
struct Seen {
    token_requests: Vec<HashMap<String, String>>,
    auth_headers: Vec<Option<String>>,
}

#[derive(Clone)]
struct AppState {
    public_key_der: Arc<Vec<u8>>,
    token_uri: String,
    seen: Arc<Mutex<Seen>>,
}

async fn token(
    State(s): State<AppState>,
    Form(form): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let n = {
        let mut seen = s.seen.lock().unwrap();
        seen.token_requests.push(form.clone());
        seen.token_requests.len()
    };
    let ok = match form.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
            v.set_audience(&[&s.token_uri]);
            v.set_issuer(&[EMAIL]);
            let key = jsonwebtoken::DecodingKey::from_rsa_der(&s.public_key_der);
            form.get("assertion")
                .and_then(|a| jsonwebtoken::decode::<AssertionClaims>(a, &key, &v).ok())
                .is_some_and(|t| {
                    t.claims.scope == SCOPE_FULL_CONTROL
                        && t.header.kid.as_deref() == Some("test-kid")
                })
        }
        Some("refresh_token") => {
            form.get("refresh_token").map(String::as_str) == Some("test-refresh")
                && form.get("client_secret").map(String::as_str) == Some("test-secret")
        }
        _ => false,
    };
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "invalid_grant"})),
        );
    }
    (
        StatusCode::OK,
        Json(
            serde_json::json!({"access_token": format!("tok-{n}"), "expires_in": 3600, "token_type": "Bearer"}),
        ),
    )
}

async fn object(
    State(s): State<AppState>,
    Path((bucket, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    s.seen.lock().unwrap().auth_headers.push(auth);
    if name == "revoked" {
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": {"code": 401, "message": "Invalid Credentials"}})),
        );
    }
    (
        StatusCode::OK,
        Json(
            serde_json::json!({"name": name, "bucket": bucket, "size": "3", "contentType": "text/plain"}),
        ),
    )
}

async fn metadata(headers: HeaderMap) -> impl IntoResponse {
    if headers.get("metadata-flavor").is_none_or(|v| v != "Google") {
        return (
            StatusCode::FORBIDDEN,
            [("metadata-flavor", "Google")],
            "missing header",
        )
            .into_response();
    }
    (
        [("metadata-flavor", "Google")],
        Json(serde_json::json!({"access_token": "workload-identity-token", "expires_in": 3599, "token_type": "Bearer"})),
    )
        .into_response()
}

/// Serve the fake token endpoint, metadata server and JSON API on a loopback port.
async fn serve(public_key_der: Vec<u8>) -> (String, Arc<Mutex<Seen>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = AppState {
        public_key_der: Arc::new(public_key_der),
        token_uri: format!("{base}/token"),
        seen: seen.clone(),
    };
    let app = Router::new()
        .route("/token", post(token))
        .route("/storage/v1/b/{bucket}/o/{name}", get(object))
        .route(
            "/computeMetadata/v1/instance/service-accounts/default/token",
            get(metadata),
        )
        .with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, seen)
}

/// A throwaway RSA key in the PKCS#8 PEM form Google puts into service-account files.
fn test_key() -> (String, Vec<u8>) {
    let kp = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let der = kp.as_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    (pem, kp.public_key().as_ref().to_vec())
}

#[tokio::test]
async fn service_account_jwt_exchange_and_token_reuse() {
    let (pem, public) = test_key();
    let (base, seen) = serve(public).await;
    let file = serde_json::json!({
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "test-kid",
        "private_key": pem,
        "client_email": EMAIL,
        "token_uri": format!("{base}/token"),
    });
    let creds = Credentials {
        gcs: Some(GoogleCredentials::from_json(file.to_string().as_bytes()).unwrap()),
        ..Default::default()
    }
    .with_gcs_endpoint(&base);
    let s = open("gs://bucket", &creds).unwrap();

    let a = s.attributes("build-log.txt").await.unwrap();
    assert_eq!((a.size, a.content_type.as_deref()), (3, Some("text/plain")));
    s.attributes("finished.json").await.unwrap();
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.token_requests.len(), 1, "the token is cached");
        assert_eq!(
            seen.auth_headers,
            vec![
                Some("Bearer tok-1".to_string()),
                Some("Bearer tok-1".to_string())
            ]
        );
    }
    // A rejected token is dropped, and the next request gets a fresh one.
    let e = s.attributes("revoked").await.unwrap_err();
    assert!(matches!(e, StorageError::PermissionDenied { .. }), "{e:?}");
    s.attributes("started.json").await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.token_requests.len(), 2);
    assert_eq!(
        seen.auth_headers.last(),
        Some(&Some("Bearer tok-2".to_string()))
    );
}

#[tokio::test]
async fn wrong_key_is_a_credentials_error() {
    let (_, public) = test_key();
    let (other_pem, _) = test_key();
    let (base, seen) = serve(public).await;
    let file = serde_json::json!({
        "type": "service_account", "private_key_id": "test-kid", "private_key": other_pem,
        "client_email": EMAIL, "token_uri": format!("{base}/token"),
    });
    let creds = Credentials {
        gcs: Some(GoogleCredentials::from_json(file.to_string().as_bytes()).unwrap()),
        ..Default::default()
    }
    .with_gcs_endpoint(&base);
    let s = open("gs://bucket", &creds).unwrap();
    let e = s.attributes("x").await.unwrap_err();
    assert!(
        matches!(&e, StorageError::Credentials(m) if m.contains("400")),
        "{e:?}"
    );
    assert!(
        seen.lock().unwrap().auth_headers.is_empty(),
        "no API call without a token"
    );
}

#[tokio::test]
async fn authorized_user_refresh() {
    let (base, seen) = serve(Vec::new()).await;
    let file = serde_json::json!({
        "type": "authorized_user", "client_id": "test-client", "client_secret": "test-secret",
        "refresh_token": "test-refresh", "token_uri": format!("{base}/token"),
    });
    let creds = Credentials {
        gcs: Some(GoogleCredentials::from_json(file.to_string().as_bytes()).unwrap()),
        ..Default::default()
    }
    .with_gcs_endpoint(&base);
    let s = open("gs://bucket", &creds).unwrap();
    s.attributes("x").await.unwrap();
    assert_eq!(
        seen.lock().unwrap().auth_headers,
        vec![Some("Bearer tok-1".to_string())]
    );
}

#[tokio::test]
async fn metadata_server_token_and_anonymous_emulator() {
    let (base, seen) = serve(Vec::new()).await;
    let host = base.trim_start_matches("http://");
    let t = TokenSource::metadata_server(host, reqwest::Client::new());
    assert_eq!(
        t.token().await.unwrap().as_deref(),
        Some("workload-identity-token")
    );
    // Through an emulator endpoint with no credentials: no Authorization header at all.
    let s = open(
        "gs://bucket",
        &Credentials::default().with_env(prow_storage::Env::from_iter([(
            "STORAGE_EMULATOR_HOST",
            host,
        )])),
    )
    .unwrap();
    s.attributes("x").await.unwrap();
    assert_eq!(seen.lock().unwrap().auth_headers, vec![None]);
}
