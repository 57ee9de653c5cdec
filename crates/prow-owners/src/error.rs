//! Typed errors. Every variant names the file it came from so that callers
//! (e.g. `verify-owners`) can point users at the broken file.

use thiserror::Error;

/// An error found while parsing OWNERS-related files or configuration.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OwnersError {
    /// The file is not valid YAML.
    #[error("{path}: invalid YAML: {message}")]
    Yaml {
        /// Repository-relative path of the offending file.
        path: String,
        /// Parser message.
        message: String,
    },
    /// The YAML is well-formed but a field has the wrong shape.
    #[error("{path}: {message}")]
    Schema {
        /// Repository-relative path of the offending file.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A `filters` key of a full-form OWNERS file is not a valid regex.
    #[error("{path}: invalid filter regexp {pattern:?}: {message}")]
    InvalidFilterRegex {
        /// Repository-relative path of the OWNERS file.
        path: String,
        /// The pattern as written.
        pattern: String,
        /// Regex compiler message.
        message: String,
    },
    /// An `owners_dir_denylist` entry is not a valid regex.
    #[error("invalid OWNERS dir denylist regexp {pattern:?}: {message}")]
    InvalidDenylistRegex {
        /// The pattern as configured.
        pattern: String,
        /// Regex compiler message.
        message: String,
    },
}

impl OwnersError {
    /// The file the error refers to, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Yaml { path, .. }
            | Self::Schema { path, .. }
            | Self::InvalidFilterRegex { path, .. } => Some(path),
            Self::InvalidDenylistRegex { .. } => None,
        }
    }
}
