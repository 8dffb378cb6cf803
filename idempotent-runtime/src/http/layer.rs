//! `IdempotencyLayer`: the layer's settings, set with builder methods, and the
//! `tower::Layer` that wraps a service in [`IdempotencyService`](super::IdempotencyService).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use http::request::Parts;
use http::{HeaderName, Method, StatusCode};
use tower_layer::Layer;

use super::service::IdempotencyService;
use crate::request::{Concurrent, Options};

/// The principal a request acts for, read from the request: its keys are its own.
pub type ScopeFn = dyn Fn(&Parts) -> Option<String> + Send + Sync;

/// Which responses are recorded (and replayed); the others release the key.
pub type RecordFn = dyn Fn(StatusCode) -> bool + Send + Sync;

/// The default recording policy: 2xx and 4xx, except 401, 403, 408, 409 and 429.
///
/// A 5xx, and those five, say the request may succeed if sent again (after a login, a
/// permission change, a timeout, a conflict cleared, a rate limit passed), so the key is
/// released and a retry runs the service again, as AWS Lambda Powertools does for failures.
/// Every other answer is the request's answer and is replayed, as Stripe replays a 400.
///
/// ```
/// use http::StatusCode;
/// use idempotent_runtime::http::records_by_default;
/// assert!(records_by_default(StatusCode::CREATED));
/// assert!(records_by_default(StatusCode::UNPROCESSABLE_ENTITY));
/// assert!(!records_by_default(StatusCode::TOO_MANY_REQUESTS));
/// assert!(!records_by_default(StatusCode::SERVICE_UNAVAILABLE));
/// ```
pub fn records_by_default(status: StatusCode) -> bool {
    let retry_may_help = [401, 403, 408, 409, 429].contains(&status.as_u16());
    (status.is_success() || status.is_client_error()) && !retry_may_help
}

/// Makes the requests of an HTTP service idempotent by their `Idempotency-Key` header.
///
/// ```
/// use std::time::Duration;
/// use http::{HeaderName, Method};
/// use idempotent_runtime::http::IdempotencyLayer;
/// use idempotent_runtime::MemoryStore;
///
/// let layer = IdempotencyLayer::new(MemoryStore::new())
///     .name("orders")
///     .methods([Method::POST])
///     .require_key(true)
///     .ttl(Duration::from_secs(24 * 3600))
///     .lease(Duration::from_secs(30))
///     .body_limit(64 * 1024)
///     .fingerprint_header(HeaderName::from_static("x-account"))
///     .scope(|parts| {
///         parts
///             .headers
///             .get("x-account")
///             .and_then(|v| v.to_str().ok())
///             .map(str::to_owned)
///     });
/// # let _ = layer;
/// ```
pub struct IdempotencyLayer<St> {
    config: Config<St>,
}

/// The settings one layer applies.
pub(crate) struct Config<St> {
    pub(crate) store: St,
    pub(crate) name: &'static str,
    pub(crate) methods: Vec<Method>,
    pub(crate) require_key: bool,
    pub(crate) options: Options,
    pub(crate) body_limit: usize,
    pub(crate) scope: Option<Arc<ScopeFn>>,
    /// Request headers in the fingerprint, each with the name a mismatch reports.
    pub(crate) fingerprinted: Vec<(HeaderName, &'static str)>,
    pub(crate) replayed: Vec<HeaderName>,
    pub(crate) record: Arc<RecordFn>,
}

impl<St: Clone> Clone for Config<St> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            name: self.name,
            methods: self.methods.clone(),
            require_key: self.require_key,
            options: self.options,
            body_limit: self.body_limit,
            scope: self.scope.clone(),
            fingerprinted: self.fingerprinted.clone(),
            replayed: self.replayed.clone(),
            record: self.record.clone(),
        }
    }
}

impl<St: Clone> Clone for IdempotencyLayer<St> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
        }
    }
}

impl<St> fmt::Debug for IdempotencyLayer<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.config;
        f.debug_struct("IdempotencyLayer")
            .field("name", &config.name)
            .field("methods", &config.methods)
            .field("require_key", &config.require_key)
            .field("options", &config.options)
            .field("body_limit", &config.body_limit)
            .field("scoped", &config.scope.is_some())
            .field("fingerprinted", &config.fingerprinted)
            .field("replayed", &config.replayed)
            .finish_non_exhaustive()
    }
}

impl<St> IdempotencyLayer<St> {
    /// A layer over `store` (any store: `MemoryStore`, `SqliteStore`, `RedisStore`,
    /// `PostgresStore`, or `Arc`/`&'static` of one) with the defaults: POST and PATCH need
    /// handling, a request without a key passes through, 24 h TTL, 60 s lease, duplicates
    /// rejected, 1 MiB body limit, no scope, `content-type` and `location` replayed,
    /// [`records_by_default`].
    pub fn new(store: St) -> Self {
        Self {
            config: Config {
                store,
                name: "http",
                methods: vec![Method::POST, Method::PATCH],
                require_key: false,
                options: Options::DEFAULT,
                body_limit: 1024 * 1024,
                scope: None,
                fingerprinted: Vec::new(),
                replayed: vec![CONTENT_TYPE, LOCATION],
                record: Arc::new(records_by_default),
            },
        }
    }

    /// The operation name keys belong to (default `"http"`): two layers with one name on one
    /// store share keys, so give each service its own.
    pub fn name(mut self, name: &'static str) -> Self {
        self.config.name = name;
        self
    }

    /// The methods whose requests are made idempotent (default POST and PATCH); others pass.
    pub fn methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.config.methods = methods.into_iter().collect();
        self
    }

    /// Whether a request of those methods without `Idempotency-Key` is refused with 400
    /// (default `false`: it passes through and runs, as EC2 runs a call without a token).
    pub fn require_key(mut self, required: bool) -> Self {
        self.config.require_key = required;
        self
    }

    /// How long a recorded response is replayed (default 24 h).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.config.options.ttl = ttl;
        self
    }

    /// How long a running request holds its key before a retry may take over (default
    /// 60 s); renewed while it runs unless [`heartbeat`](Self::heartbeat) is off.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config.options.lease = lease;
        self
    }

    /// Whether the lease is renewed while the service runs (default `true`).
    pub fn heartbeat(mut self, renewed: bool) -> Self {
        self.config.options.heartbeat = renewed;
        self
    }

    /// What a duplicate arriving while the first request runs gets: 409 at once
    /// ([`Concurrent::Reject`], the default) or, after waiting up to the lease, the first
    /// request's response ([`Concurrent::Wait`]).
    pub fn concurrent(mut self, concurrent: Concurrent) -> Self {
        self.config.options.concurrent = concurrent;
        self
    }

    /// The longest request body, and the longest response body recorded, in bytes (default
    /// 1 MiB). A longer request is refused with 413 and nothing stored; a longer response
    /// is answered as the service produced it and not recorded.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.config.body_limit = bytes;
        self
    }

    /// Keys are per principal: `scope` reads the authenticated principal from the request
    /// (`None`: unscoped), so two tenants sending one key never see each other's responses.
    pub fn scope(
        mut self,
        scope: impl Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.config.scope = Some(Arc::new(scope));
        self
    }

    /// Adds a request header to the fingerprint (method, path, query and body always are):
    /// the same key with another value of it is a 422.
    pub fn fingerprint_header(mut self, name: HeaderName) -> Self {
        if self
            .config
            .fingerprinted
            .iter()
            .all(|(known, _)| *known != name)
        {
            // A fingerprint part is named by a `&'static str`; one short string per header
            // configured, once per layer built.
            let label: &'static str = Box::leak(format!("header {name}").into_boxed_str());
            self.config.fingerprinted.push((name, label));
        }
        self
    }

    /// Adds a response header to those recorded and replayed (`content-type` and `location`
    /// always are). `set-cookie` is never recorded: a replay must not hand one client's
    /// session to another request.
    pub fn replay_header(mut self, name: HeaderName) -> Self {
        if name != SET_COOKIE && !self.config.replayed.contains(&name) {
            self.config.replayed.push(name);
        }
        self
    }

    /// Which responses are recorded (default [`records_by_default`]); the others release
    /// the key, so a retry runs again.
    pub fn record_when(
        mut self,
        record: impl Fn(StatusCode) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.config.record = Arc::new(record);
        self
    }
}

impl<S, St: Clone> Layer<S> for IdempotencyLayer<St> {
    type Service = IdempotencyService<S, St>;

    fn layer(&self, inner: S) -> Self::Service {
        IdempotencyService::new(inner, Arc::new(self.config.clone()))
    }
}
