//! The one error type of the crate; callers branch on its variants.

/// A boxed cause from a backend library.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The bucket URL cannot be parsed.
    #[error("invalid storage URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The URL names a provider this crate does not speak.
    #[error("unsupported storage provider {0:?} (expected gs, s3 or file)")]
    UnsupportedProvider(String),
    /// The object name (or list prefix) is not portable across providers.
    #[error("invalid object name {key:?}: {reason}")]
    InvalidKey {
        /// The name as given.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A range read asked for nothing, or for bytes past the end of the object.
    #[error("{url}: invalid range {start}..{end}")]
    InvalidRange {
        /// Full URL of the object.
        url: String,
        /// First byte asked for.
        start: u64,
        /// One past the last byte asked for.
        end: u64,
    },
    /// A credentials file is unreadable or malformed, or a token exchange failed.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The object does not exist.
    #[error("{url}: object not found")]
    NotFound {
        /// Full URL of the object.
        url: String,
    },
    /// A create-only write found the object already there (Prow's
    /// `PreconditionDoesNotExist`); usually expected and ignored by callers.
    #[error("{url}: object already exists")]
    AlreadyExists {
        /// Full URL of the object.
        url: String,
    },
    /// The provider refused the credentials (HTTP 401/403).
    #[error("{url}: permission denied: {message}")]
    PermissionDenied {
        /// Full URL of the object or bucket.
        url: String,
        /// The provider's explanation.
        message: String,
    },
    /// Local file I/O failed (file backend, or reading a file to upload).
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing.
        op: &'static str,
        /// The local path involved.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Any other provider failure (HTTP status, transport error, bad response).
    #[error("{provider} {op} {url}: {message}")]
    Backend {
        /// `gcs`, `s3` or `file`.
        provider: &'static str,
        /// The operation (`put`, `get`, `list`...).
        op: &'static str,
        /// Full URL of the object or bucket.
        url: String,
        /// HTTP status, when there was a response.
        status: Option<u16>,
        /// What went wrong.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
}

impl StorageError {
    /// The object was missing (like Prow's `io.IsNotExist`).
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound { .. })
    }

    /// A create-only write lost because the object exists.
    pub fn is_already_exists(&self) -> bool {
        matches!(self, StorageError::AlreadyExists { .. })
    }

    /// A short, stable label for failure counters.
    pub fn metric_label(&self) -> &'static str {
        match self {
            StorageError::InvalidUrl { .. } => "invalid_url",
            StorageError::UnsupportedProvider(_) => "unsupported_provider",
            StorageError::InvalidKey { .. } => "invalid_key",
            StorageError::InvalidRange { .. } => "invalid_range",
            StorageError::Credentials(_) => "credentials",
            StorageError::NotFound { .. } => "not_found",
            StorageError::AlreadyExists { .. } => "already_exists",
            StorageError::PermissionDenied { .. } => "permission_denied",
            StorageError::Io { .. } => "io",
            StorageError::Backend { .. } => "backend",
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl std::fmt::Display,
        source: std::io::Error,
    ) -> Self {
        StorageError::Io {
            op,
            path: path.to_string(),
            source,
        }
    }
}

/// Result alias.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;
