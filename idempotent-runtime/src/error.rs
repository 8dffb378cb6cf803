//! The one error type every `#[idempotent]` handler returns, and the store's error.
//!
//! [`IdempotencyError<E>`] wraps the handler's own error `E` beside the framework's outcomes
//! (parameter mismatch, request in progress, invalid token, store failure), so one function
//! can map the errors of every handler, and `?` into `Box<dyn Error + Send + Sync>` works.

use std::convert::Infallible;
use std::error::Error;
use std::fmt;
use std::time::Duration;

use crate::token::InvalidTokenReason;

/// What an `#[idempotent]` handler returns in place of its own error type.
///
/// `E` is the handler's error; a handler returning a plain `T` uses `E = Infallible`.
/// The macro emits an alias beside each free fn (`CreateRouteTableError` for
/// `create_route_table`), so callers match `CreateRouteTableError::IdempotentParameterMismatch { .. }`.
///
/// The enum is `#[non_exhaustive]`: a `match` on it needs a wildcard arm (`_ =>`), so a later
/// release can add a variant without breaking your code.
///
/// Behind HTTP, the IETF Idempotency-Key draft answers a key reused with another request with
/// 422 and a request still in progress with 409:
///
/// ```
/// use idempotent_runtime::IdempotencyError;
///
/// fn status<E>(err: &IdempotencyError<E>) -> u16 {
///     match err {
///         IdempotencyError::IdempotentParameterMismatch { .. } => 422, // Unprocessable Content
///         IdempotencyError::RequestInProgress { .. } => 409,           // Conflict; retry later
///         IdempotencyError::InvalidToken { .. } => 400,
///         IdempotencyError::Store(_) => 503,
///         IdempotencyError::Handler(_) => 500, // or your own error's status
///         _ => 500,                            // non_exhaustive: variants may be added
///     }
/// }
/// let in_progress: IdempotencyError<std::io::Error> = IdempotencyError::RequestInProgress {
///     operation: "CreateRouteTable".into(),
///     token: "abc".into(),
///     retry_after: std::time::Duration::from_secs(30),
/// };
/// assert_eq!(status(&in_progress), 409);
/// assert!(in_progress.is_retryable());
///
/// let mismatch: IdempotencyError<std::io::Error> = IdempotencyError::IdempotentParameterMismatch {
///     operation: "CreateRouteTable".into(),
///     token: "abc".into(),
///     mismatched: vec!["vpc_id".into()],
/// };
/// assert_eq!(status(&mismatch), 422);
/// assert!(!mismatch.is_retryable());
/// ```
#[non_exhaustive]
pub enum IdempotencyError<E = Infallible> {
    /// The token was first used with other parameters.
    IdempotentParameterMismatch {
        /// The operation the token belongs to.
        operation: String,
        /// The client token.
        token: String,
        /// Names of the parameters whose values differ from the first request's.
        mismatched: Vec<String>,
    },
    /// A request with this token is still running; retry later with the same token.
    RequestInProgress {
        /// The operation the token belongs to.
        operation: String,
        /// The client token.
        token: String,
        /// How long until the running request's lease ends (at most the handler's lease):
        /// by then it has finished, or a retry may take over. HTTP's `Retry-After`.
        retry_after: Duration,
    },
    /// The client token breaks the token rules; nothing was stored.
    InvalidToken {
        /// Which rule the token broke.
        reason: InvalidTokenReason,
    },
    /// The store failed or could not be reached; the handler did not run.
    Store(StoreError),
    /// The handler's own error.
    Handler(E),
}

impl<E> IdempotencyError<E> {
    /// Whether retrying the same request with the same token may succeed.
    ///
    /// True for [`RequestInProgress`](Self::RequestInProgress) and transient store errors;
    /// false for a mismatch, an invalid token and the handler's own error.
    ///
    /// ```
    /// use idempotent_runtime::IdempotencyError;
    /// let err: IdempotencyError = IdempotencyError::IdempotentParameterMismatch {
    ///     operation: "CreateRouteTable".into(),
    ///     token: "abc".into(),
    ///     mismatched: vec!["vpc_id".into()],
    /// };
    /// assert!(!err.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RequestInProgress { .. } => true,
            Self::Store(store) => store.is_transient(),
            _ => false,
        }
    }

    /// The handler's own error, if this is one.
    ///
    /// ```
    /// use idempotent_runtime::IdempotencyError;
    /// let err = IdempotencyError::from("boom");
    /// assert_eq!(err.handler_error(), Some(&"boom"));
    /// ```
    pub fn handler_error(&self) -> Option<&E> {
        match self {
            Self::Handler(err) => Some(err),
            _ => None,
        }
    }
}

impl<E> From<E> for IdempotencyError<E> {
    fn from(err: E) -> Self {
        Self::Handler(err)
    }
}

impl<E: fmt::Display> fmt::Display for IdempotencyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IdempotentParameterMismatch {
                token, mismatched, ..
            } => {
                write!(f, "Wrong arguments for request with token {token}")?;
                if !mismatched.is_empty() {
                    write!(f, "\nparameters that differ: {}", mismatched.join(", "))?;
                }
                Ok(())
            }
            Self::RequestInProgress { token, .. } => write!(
                f,
                "a request with token {token} is still in progress; retry later with the same token"
            ),
            Self::InvalidToken { reason } => write!(f, "invalid client token: {reason}"),
            Self::Store(err) => fmt::Display::fmt(err, f),
            Self::Handler(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for IdempotencyError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IdempotentParameterMismatch {
                operation,
                token,
                mismatched,
            } => f
                .debug_struct("IdempotentParameterMismatch")
                .field("operation", operation)
                .field("token", token)
                .field("mismatched", mismatched)
                .finish(),
            Self::RequestInProgress {
                operation,
                token,
                retry_after,
            } => f
                .debug_struct("RequestInProgress")
                .field("operation", operation)
                .field("token", token)
                .field("retry_after", retry_after)
                .finish(),
            Self::InvalidToken { reason } => f
                .debug_struct("InvalidToken")
                .field("reason", reason)
                .finish(),
            Self::Store(err) => f.debug_tuple("Store").field(err).finish(),
            Self::Handler(err) => f.debug_tuple("Handler").field(err).finish(),
        }
    }
}

impl<E: Error + 'static> Error for IdempotencyError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            // `Store` and `Handler` are transparent: their Display is the inner error's,
            // so the chain continues with the inner error's own source.
            Self::Store(err) => err.source(),
            Self::Handler(err) => err.source(),
            _ => None,
        }
    }
}

/// What kind of failure a [`StoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store could not be reached or timed out (transient).
    Unavailable,
    /// The store is full and holds no expired record to drop (transient).
    Capacity,
    /// A record in the store could not be decoded: corrupt, or written by another program.
    Corrupt,
    /// A value could not be encoded. On the way in, a parameter's (or the scope's) `Serialize`
    /// failed, so the request could not be fingerprinted and the handler did not run. On the
    /// way out, the handler's result could not be encoded: the caller still gets the result,
    /// but it was not recorded (the token is released and an `error` event is emitted). The
    /// message says which side. (A stored result that does not decode is [`Corrupt`](Self::Corrupt).)
    Codec,
    /// The handler's result, encoded, is larger than the store keeps in one record (a
    /// DynamoDB item holds at most 400 KB). The caller still gets the result, but it was not
    /// recorded: the token is released, so a retry runs the handler again.
    TooLarge,
    /// Any other failure of the store.
    Other,
}

/// A store failed; the handler did not run (or its result could not be recorded).
///
/// It says whether it is transient ([`is_transient`](Self::is_transient)), which
/// [`IdempotencyError::is_retryable`] reports.
///
/// ```
/// use idempotent_runtime::{StoreError, StoreErrorKind};
/// let err = StoreError::new(StoreErrorKind::Unavailable, "connection refused");
/// assert!(err.is_transient());
/// assert_eq!(err.to_string(), "idempotency store unavailable: connection refused");
/// ```
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// A store error of `kind` with a message for humans.
    pub fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error (a driver's error, say).
    ///
    /// ```
    /// use idempotent_runtime::{StoreError, StoreErrorKind};
    /// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    /// let err = StoreError::new(StoreErrorKind::Unavailable, "redis").with_source(io);
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    pub fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// Whether the same call may succeed later (store unreachable or full).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            StoreErrorKind::Unavailable | StoreErrorKind::Capacity
        )
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Self {
        Self::new(StoreErrorKind::Corrupt, message)
    }

    /// A driver's error, its own words (and those of its sources) in the message, so the
    /// Display says what the server said; the error itself stays the `source`.
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "redis", feature = "postgres")),
        allow(dead_code)
    )]
    pub(crate) fn from_driver(
        kind: StoreErrorKind,
        context: impl Into<String>,
        err: impl Error + Send + Sync + 'static,
    ) -> Self {
        let mut message = context.into();
        let mut next: Option<&(dyn Error + 'static)> = Some(&err);
        while let Some(cause) = next {
            let text = cause.to_string();
            if !text.is_empty() && !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            next = cause.source();
        }
        Self::new(kind, message).with_source(err)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            StoreErrorKind::Unavailable => "idempotency store unavailable",
            StoreErrorKind::Capacity => "idempotency store full",
            StoreErrorKind::Corrupt => "corrupt idempotency record",
            StoreErrorKind::Codec => "idempotency encoding failed",
            StoreErrorKind::TooLarge => "idempotency record too large",
            StoreErrorKind::Other => "idempotency store failed",
        };
        write!(f, "{what}: {}", self.message)
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source
            .as_deref()
            .map(|err| err as &(dyn Error + 'static))
    }
}
