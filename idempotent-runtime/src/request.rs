//! One call's request: its options, its key and its fingerprint, prepared before the handler.
//!
//! The macro builds a [`Request`] from the handler's arguments, then hands it with the body to
//! the engine. Everything that can be wrong with the request (an invalid token, a parameter
//! whose `Serialize` fails) is found here, before the store is touched.

use std::time::Duration;

use crate::bounds::Fingerprinted;
use crate::fingerprint::{Fingerprint, FingerprintError};
use crate::key::{Key, Operation};
use crate::token::InvalidTokenReason;

/// What a duplicate does while the first request with its token still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrent {
    /// Fail at once with `RequestInProgress` (the default).
    Reject,
    /// Wait (up to the lease) for the first run's result.
    Wait,
}

/// A handler's options, fixed at compile time by the attribute.
///
/// ```
/// use std::time::Duration;
/// use idempotent_runtime::__private::{Concurrent, Options};
/// let defaults = Options::DEFAULT;
/// assert_eq!(defaults.ttl, Duration::from_secs(24 * 3600));
/// assert_eq!(defaults.lease, Duration::from_secs(60));
/// assert_eq!(defaults.concurrent, Concurrent::Reject);
/// assert!(defaults.heartbeat);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// How long a completed record is kept and replayed.
    pub ttl: Duration,
    /// How long an in-progress record blocks others before a retry may take over.
    pub lease: Duration,
    /// What a concurrent duplicate does.
    pub concurrent: Concurrent,
    /// Whether a running handler's lease is renewed (every lease/3), so that only a crashed
    /// or hung worker loses its token.
    pub heartbeat: bool,
}

impl Options {
    /// 24 h TTL, 60 s lease, reject concurrent duplicates, heartbeat on.
    pub const DEFAULT: Options = Options {
        ttl: Duration::from_secs(24 * 60 * 60),
        lease: Duration::from_secs(60),
        concurrent: Concurrent::Reject,
        heartbeat: true,
    };
}

impl Default for Options {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A request prepared for the engine.
pub struct Request {
    pub(crate) options: Options,
    pub(crate) prepared: Prepared,
}

#[expect(
    clippy::large_enum_variant,
    reason = "built once per call; boxing would allocate"
)]
pub(crate) enum Prepared {
    /// No token was sent: run the handler without idempotency.
    Unkeyed,
    InvalidToken(InvalidTokenReason),
    Unfingerprintable(FingerprintError),
    Keyed(Key, Fingerprint),
}

impl Request {
    /// Prepares a request: checks the token, builds the key, and (only when there is a valid
    /// token) fingerprints `params`, which the macro passes sorted by name. `limit` is the
    /// token's longest length (64, or 255 for an HTTP key).
    ///
    /// ```
    /// use idempotent_runtime::__private::{Operation, Options, Request};
    /// let vpc_id = "vpc-00c84bd9dcad1d728";
    /// let request = Request::new(
    ///     Operation::Named("CreateRouteTable"),
    ///     &Options::DEFAULT,
    ///     None,
    ///     Some("abf653c2-09a2-426d-bd2d-acaac0c98a28"),
    ///     idempotent_runtime::MAX_TOKEN_LEN,
    ///     [("vpc_id", &vpc_id)],
    /// );
    /// assert!(request.token().is_some());
    /// ```
    pub fn new<const N: usize>(
        operation: Operation,
        options: &Options,
        scope: Option<Scope>,
        token: Option<&str>,
        limit: usize,
        params: [(&'static str, &dyn Fingerprinted); N],
    ) -> Self {
        Self::with_token_limit(operation, options, scope, token, limit, &params)
    }

    /// [`new`](Self::new), with `limit` as the token's longest length.
    pub(crate) fn with_token_limit(
        operation: Operation,
        options: &Options,
        scope: Option<Scope>,
        token: Option<&str>,
        limit: usize,
        params: &[(&'static str, &dyn Fingerprinted)],
    ) -> Self {
        let prepared = match token {
            None => Prepared::Unkeyed,
            Some(token) => prepare(operation, scope, token, limit, params),
        };
        Self {
            options: *options,
            prepared,
        }
    }

    /// The validated token, if the request has one.
    pub fn token(&self) -> Option<&str> {
        match &self.prepared {
            Prepared::Keyed(key, _) => Some(key.token()),
            _ => None,
        }
    }
}

fn prepare(
    operation: Operation,
    scope: Option<Scope>,
    token: &str,
    limit: usize,
    params: &[(&'static str, &dyn Fingerprinted)],
) -> Prepared {
    let scope_bytes = match scope.map(|scope| scope.0) {
        Some(Err(err)) => return Prepared::Unfingerprintable(err),
        Some(Ok(bytes)) => Some(bytes),
        None => None,
    };
    let key = match Key::with_limit(operation, scope_bytes.as_deref(), token, limit) {
        Ok(key) => key,
        Err(reason) => return Prepared::InvalidToken(reason),
    };
    match crate::fingerprint::of_params(params) {
        Ok(fingerprint) => Prepared::Keyed(key, fingerprint),
        Err(err) => Prepared::Unfingerprintable(err),
    }
}

/// The canonical encoding of a `scope` parameter's value, which becomes part of the key.
pub struct Scope(Result<Vec<u8>, FingerprintError>);

impl Scope {
    /// Encodes a scope value with the fingerprint's canonical encoding.
    pub fn of(value: &dyn Fingerprinted) -> Self {
        Self(value.encode_alone().map_err(FingerprintError::of_scope))
    }
}
