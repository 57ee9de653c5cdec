//! Tide's HTTP data (spec §7.4): `GET /` (pools) and `GET /history`.

use axum::Router;
use axum::extract::State;
use axum::response::Json;
use axum::routing::get;

use crate::sync::Tide;

async fn pools(State(t): State<Tide>) -> Json<serde_json::Value> {
    Json(t.pools_json())
}

async fn history(State(t): State<Tide>) -> Json<serde_json::Value> {
    Json(t.history_json())
}

/// `GET /` → `[Pool…]`, `GET /history` → `{"org/repo:branch": [Record…]}`.
pub fn router(tide: Tide) -> Router {
    Router::new()
        .route("/", get(pools))
        .route("/history", get(history))
        .with_state(tide)
}
