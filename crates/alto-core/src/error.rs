//! The one error type of Alto.
//!
//! Every fallible call in the core, the backends and the bindings returns [`Error`]. Callers branch
//! on [`Error::kind`] (bindings map each kind to an exception class or an `err.code`), and
//! [`Error::is_retryable`] tells a worker whether trying again can help. The message always says
//! what was wrong and where: the file and line of a bad row, the rule and field of a bad rule, the
//! object and the state it was in.

use std::fmt;

/// What kind of failure an [`Error`] is. Stable: bindings expose these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The tenant, share, file, object or job does not exist (for this tenant).
    NotFound,
    /// A thing with this identity already exists.
    AlreadyExists,
    /// An optimistic-concurrency check failed: the row changed since it was read.
    Conflict,
    /// The rule set is invalid.
    InvalidRule,
    /// A lifecycle transition that the state machine refuses.
    InvalidTransition,
    /// Bad input: a file that is not an inventory, a bad argument, a malformed value.
    InvalidInput,
    /// The store's credentials may not do this: a tenant-bound login asked for another tenant.
    PermissionDenied,
    /// The backend or driver does not support this operation.
    Unsupported,
    /// The storage backend failed (connection, I/O, constraint).
    Backend,
    /// Reading or writing a local file failed.
    Io,
}

impl ErrorKind {
    /// The stable name of the kind, e.g. `"NotFound"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::InvalidRule => "InvalidRule",
            ErrorKind::InvalidTransition => "InvalidTransition",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::Backend => "Backend",
            ErrorKind::Io => "Io",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Alto error: a kind, a message that says what and where, and an optional cause.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    retryable: bool,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// The message is the source's own text (a [`RuleError`](alto_rules::RuleError)): `Display`
    /// does not repeat it.
    source_is_message: bool,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            retryable: false,
            source: None,
            source_is_message: false,
        }
    }

    /// Shorthand for [`ErrorKind::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// Shorthand for [`ErrorKind::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Shorthand for [`ErrorKind::Conflict`] (retryable after re-reading).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message).retryable(true)
    }

    /// An [`ErrorKind::Unsupported`] error naming the operation and the backend.
    pub fn unsupported(operation: &str, backend: &str) -> Self {
        Self::new(
            ErrorKind::Unsupported,
            format!("{operation} is not supported by the {backend} store"),
        )
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self.source_is_message = false;
        self
    }

    /// The refused rule set behind an [`ErrorKind::InvalidRule`] error, with the rule and field
    /// at fault (it is also the error's [`source`](std::error::Error::source)).
    pub fn rule_error(&self) -> Option<&alto_rules::RuleError> {
        self.source.as_deref()?.downcast_ref()
    }

    /// Mark whether trying the same call again may succeed.
    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Put context in front of the message: `cannot open scan.csv: No such file or directory`.
    pub fn prefixed(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether trying again may succeed (a conflict, a lost connection, a timeout).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            if !self.source_is_message {
                write!(f, ": {source}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// An [`ErrorKind::InvalidRule`] error whose message is the rule error's and whose source is the
/// rule error itself ([`Error::rule_error`]), so callers (and the bindings) still read the rule
/// and field at fault.
impl From<alto_rules::RuleError> for Error {
    fn from(e: alto_rules::RuleError) -> Self {
        let mut err = Error::new(ErrorKind::InvalidRule, e.to_string()).with_source(e);
        err.source_is_message = true;
        err
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        let retryable = matches!(
            e.kind(),
            std::io::ErrorKind::Interrupted | std::io::ErrorKind::TimedOut
        );
        Error::new(ErrorKind::Io, e.to_string()).retryable(retryable)
    }
}
