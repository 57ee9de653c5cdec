//! Mapping of non-success HTTP answers onto [`GitHubError`] (pure).

use serde::Deserialize;

use crate::GitHubError;

/// Routes where a status means something specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Anything else.
    Default,
    /// `PUT /pulls/{n}/merge`: 405 not mergeable, 409 head moved.
    Merge,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorBody {
    message: Option<String>,
    errors: Vec<ErrorDetail>,
}

/// GitHub's `errors[]` entries are either objects (`{resource, field, code, message?}`) or,
/// on some routes, plain strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ErrorDetail {
    Text(String),
    Object {
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        resource: Option<String>,
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        code: Option<String>,
    },
}

impl ErrorDetail {
    fn describe(&self) -> Option<String> {
        match self {
            ErrorDetail::Text(s) => Some(s.clone()),
            ErrorDetail::Object {
                message: Some(m), ..
            } => Some(m.clone()),
            ErrorDetail::Object {
                resource,
                field,
                code,
                ..
            } => {
                let subject = match (resource, field) {
                    (Some(r), Some(f)) => format!("{r}.{f}"),
                    (Some(x), None) | (None, Some(x)) => x.clone(),
                    (None, None) => String::new(),
                };
                let text = format!("{subject} {}", code.as_deref().unwrap_or_default());
                let text = text.trim();
                (!text.is_empty()).then(|| text.to_string())
            }
        }
    }
}

/// GitHub's explanation in an error body: `message` followed by each `errors[]` entry
/// (`Validation Failed: Label.color invalid`). Falls back to the (truncated) body text.
pub(crate) fn github_message(body: &[u8]) -> String {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        let details: Vec<String> = parsed
            .errors
            .iter()
            .filter_map(ErrorDetail::describe)
            .collect();
        match (parsed.message, details.is_empty()) {
            (Some(m), true) => return m,
            (Some(m), false) => return format!("{m}: {}", details.join("; ")),
            (None, false) => return details.join("; "),
            (None, true) => {}
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(512) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// The error for a non-success `status` of `what` (`"GET /repos/o/r"`).
pub(crate) fn error_for(status: u16, body: &[u8], route: Route, what: &str) -> GitHubError {
    let message = github_message(body);
    let with_what = || {
        if message.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {message}")
        }
    };
    match (status, route) {
        (405, Route::Merge) => GitHubError::UnmergeablePr(message),
        (409, Route::Merge) => GitHubError::ModifiedHead(message),
        (404, _) => GitHubError::NotFound(with_what()),
        (401, _) => GitHubError::Unauthorized(with_what()),
        (403, _) => GitHubError::Forbidden(with_what()),
        (422, _) => GitHubError::Unprocessable(message),
        _ => GitHubError::Status {
            status,
            message: with_what(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_failed_details() {
        let body = br#"{"message":"Validation Failed","errors":[{"resource":"Label","code":"invalid","field":"color"}],"documentation_url":"https://docs.github.com/rest"}"#;
        assert_eq!(
            github_message(body),
            "Validation Failed: Label.color invalid"
        );
        let body = br#"{"message":"Validation Failed","errors":[{"message":"Reviews may only be requested from collaborators."}, "plain"]}"#;
        assert_eq!(
            github_message(body),
            "Validation Failed: Reviews may only be requested from collaborators.; plain"
        );
        assert_eq!(
            error_for(422, body, Route::Default, "POST /x"),
            GitHubError::Unprocessable(
                "Validation Failed: Reviews may only be requested from collaborators.; plain"
                    .into()
            )
        );
    }

    #[test]
    fn status_mapping() {
        let nf = br#"{"message":"Not Found"}"#;
        assert_eq!(
            error_for(404, nf, Route::Default, "GET /a"),
            GitHubError::NotFound("GET /a: Not Found".into())
        );
        assert!(
            matches!(error_for(401, b"", Route::Default, "GET /a"), GitHubError::Unauthorized(m) if m == "GET /a")
        );
        assert!(matches!(
            error_for(403, nf, Route::Merge, "x"),
            GitHubError::Forbidden(_)
        ));
        assert_eq!(
            error_for(
                405,
                br#"{"message":"Pull Request is not mergeable"}"#,
                Route::Merge,
                "x"
            ),
            GitHubError::UnmergeablePr("Pull Request is not mergeable".into())
        );
        assert_eq!(
            error_for(
                409,
                br#"{"message":"Head branch was modified. Review and try the merge again."}"#,
                Route::Merge,
                "x"
            ),
            GitHubError::ModifiedHead(
                "Head branch was modified. Review and try the merge again.".into()
            )
        );
        assert!(matches!(
            error_for(405, b"", Route::Default, "x"),
            GitHubError::Status { status: 405, .. }
        ));
        assert_eq!(
            error_for(502, b"<html>Bad gateway</html>", Route::Default, "GET /a"),
            GitHubError::Status {
                status: 502,
                message: "GET /a: <html>Bad gateway</html>".into()
            }
        );
    }

    #[test]
    fn long_bodies_are_truncated() {
        let body = "x".repeat(2000);
        let m = github_message(body.as_bytes());
        assert!(m.chars().count() <= 513, "{}", m.len());
    }
}
