//! Response helpers shared by the handlers: Prow's no-cache headers, the `?var=` JavaScript
//! wrapper, YAML bodies, and the `omit=` field stripping of `/prowjobs.js`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use prow_api::ProwJob;
use prow_api::k8s_openapi::api::core::v1::{Container, PodSpec};

/// Which fields `/prowjobs.js?omit=` strips.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Omit {
    pub annotations: bool,
    pub labels: bool,
    pub decoration_config: bool,
    pub pod_spec: bool,
}

impl Omit {
    /// Parses Prow's comma-separated list; unknown names are ignored as Prow does.
    pub fn parse(s: &str) -> Self {
        let mut o = Omit::default();
        for part in s.split(',') {
            match part {
                "annotations" => o.annotations = true,
                "labels" => o.labels = true,
                "decoration_config" => o.decoration_config = true,
                "pod_spec" => o.pod_spec = true,
                _ => {}
            }
        }
        o
    }

    /// Everything omitted (what the jobs page asks for).
    pub fn all() -> Self {
        Omit {
            annotations: true,
            labels: true,
            decoration_config: true,
            pod_spec: true,
        }
    }
}

/// A copy of `pj` with the omitted fields removed. `pod_spec` keeps one empty container per
/// real one, because Prow's UI counts containers to choose its log link.
pub fn omit_fields(pj: &ProwJob, omit: &Omit) -> ProwJob {
    let mut j = pj.clone();
    j.metadata.managed_fields = None;
    if omit.annotations {
        j.metadata.annotations = None;
    }
    if omit.labels {
        j.metadata.labels = None;
    }
    if omit.decoration_config {
        j.spec.decoration_config = None;
    }
    if omit.pod_spec
        && let Some(ps) = &j.spec.pod_spec
    {
        j.spec.pod_spec = Some(PodSpec {
            containers: vec![Container::default(); ps.containers.len()],
            ..Default::default()
        });
    }
    j
}

/// Prow's `setHeadersNoCaching`.
pub fn no_cache(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, must-revalidate"),
    );
    h.insert(header::EXPIRES, HeaderValue::from_static("0"));
}

/// Whether `v` is a safe JavaScript identifier for the `?var=` wrapper (Prow writes it
/// verbatim; we refuse anything that could inject script).
fn valid_var(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.')
}

/// A no-cache JSON body, or `var <name> = <json>;` as `application/javascript` when `var` is
/// given (Prow's `writeJSONResponse`).
pub fn json_response(var: Option<&str>, body: Bytes) -> Response {
    let mut resp = match var.filter(|v| !v.is_empty()) {
        Some(v) if valid_var(v) => {
            let mut out = Vec::with_capacity(body.len() + v.len() + 10);
            out.extend_from_slice(b"var ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b" = ");
            out.extend_from_slice(&body);
            out.extend_from_slice(b";");
            (
                [(header::CONTENT_TYPE, "application/javascript")],
                Bytes::from(out),
            )
                .into_response()
        }
        Some(_) => (StatusCode::BAD_REQUEST, "invalid var parameter").into_response(),
        None => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
    };
    no_cache(&mut resp);
    resp
}

/// Serializes `v` to JSON for [`json_response`].
pub fn json_value<T: serde::Serialize>(var: Option<&str>, v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(b) => json_response(var, Bytes::from(b)),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding JSON: {e}"),
        ),
    }
}

/// A no-cache `text/plain` YAML body (Prow's `handleSerialize`).
pub fn yaml_response<T: serde::Serialize>(name: &str, v: &T) -> Response {
    let mut resp = match serde_saphyr::to_string(v) {
        Ok(s) => ([(header::CONTENT_TYPE, "text/plain")], s).into_response(),
        Err(e) => {
            tracing::error!(error = %e, name, "YAML serialization failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Error marshaling {name:?}."),
            )
        }
    };
    no_cache(&mut resp);
    resp
}

/// A plain-text response with a status.
pub fn text(status: StatusCode, msg: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        msg.into(),
    )
        .into_response()
}

/// An HTML page (askama output) or a 500 on a template error.
pub fn html(r: Result<String, askama::Error>) -> Response {
    match r {
        Ok(s) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            s,
        )
            .into_response(),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("rendering page: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omit_parse_ignores_unknown() {
        let o = Omit::parse("labels,foo,pod_spec");
        assert!(o.labels && o.pod_spec && !o.annotations && !o.decoration_config);
    }

    #[test]
    fn var_must_be_an_identifier() {
        assert!(valid_var("allBuilds"));
        assert!(valid_var("window.x_1"));
        assert!(!valid_var("a;alert(1)"));
        assert!(!valid_var("1a"));
    }
}
