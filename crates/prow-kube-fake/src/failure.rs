//! Failure injection and request recording, for error-path tests.

use crate::resource::ResourceDef;
use crate::status::{ApiError, reason_for_code};

/// The API verb of a request, as in RBAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `POST` to a collection.
    Create,
    /// `GET` of one object (or its `/status` / `/log`).
    Get,
    /// `GET` of a collection.
    List,
    /// `GET` of a collection with `watch=true`.
    Watch,
    /// `PUT`.
    Update,
    /// `PATCH`.
    Patch,
    /// `DELETE` of one object.
    Delete,
    /// `DELETE` of a collection.
    DeleteCollection,
}

/// A rule that makes matching requests fail with a given HTTP code.
///
/// ```
/// use prow_kube_fake::{InjectedFailure, Verb};
/// // The next pod create fails with 500 InternalError, then things work again.
/// let rule = InjectedFailure::new(Verb::Create, 500).resource("pods");
/// # let _ = rule;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedFailure {
    /// Verb to match.
    pub verb: Verb,
    /// Plural resource to match (`None` matches every resource).
    pub resource: Option<String>,
    /// Subresource to match (`Some("")` only matches the main resource).
    pub subresource: Option<String>,
    /// Namespace to match.
    pub namespace: Option<String>,
    /// Object name to match.
    pub name: Option<String>,
    /// HTTP code to answer with; the reason is derived from it (409 on create is `AlreadyExists`).
    pub code: u16,
    /// Message override.
    pub message: Option<String>,
    /// How many more times to fire; `None` fires forever.
    pub remaining: Option<u32>,
}

impl InjectedFailure {
    /// Fails the next request with `verb` (any resource) once with `code`.
    pub fn new(verb: Verb, code: u16) -> Self {
        InjectedFailure {
            verb,
            resource: None,
            subresource: None,
            namespace: None,
            name: None,
            code,
            message: None,
            remaining: Some(1),
        }
    }

    /// Only match this plural resource (`pods`, `prowjobs`).
    pub fn resource(mut self, plural: &str) -> Self {
        self.resource = Some(plural.to_string());
        self
    }

    /// Only match this subresource (`status`, `log`); `""` means the main resource.
    pub fn subresource(mut self, sub: &str) -> Self {
        self.subresource = Some(sub.to_string());
        self
    }

    /// Only match this namespace.
    pub fn namespace(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.to_string());
        self
    }

    /// Only match this object name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Fire `n` times.
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// Fire on every matching request until cleared.
    pub fn always(mut self) -> Self {
        self.remaining = None;
        self
    }

    /// Use a custom message.
    pub fn message(mut self, msg: &str) -> Self {
        self.message = Some(msg.to_string());
        self
    }

    pub(crate) fn matches(
        &self,
        verb: Verb,
        res: &ResourceDef,
        subresource: Option<&str>,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> bool {
        self.verb == verb
            && self.resource.as_deref().is_none_or(|r| r == res.plural)
            && self
                .subresource
                .as_deref()
                .is_none_or(|s| s == subresource.unwrap_or(""))
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| Some(n) == namespace)
            && self.name.as_deref().is_none_or(|n| Some(n) == name)
    }

    pub(crate) fn error(&self, res: &ResourceDef, name: &str) -> ApiError {
        let mut err = match (self.code, self.verb) {
            (409, Verb::Create) => ApiError::already_exists(res, name),
            (409, _) => ApiError::conflict(res, name),
            (404, _) => ApiError::not_found(res, name),
            (code, _) => ApiError::new(
                code,
                reason_for_code(code),
                format!("injected failure for {} {name:?}", res.qualified_plural()),
            ),
        };
        if let Some(m) = &self.message {
            err.message = m.clone();
        }
        err
    }
}

/// One request the fake answered, for asserting on client behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
}
