//! `IdempotencyService`: one request through the layer. Requests the layer does not handle
//! pass untouched; the others are read (within the body limit), keyed, fingerprinted and run
//! through the same engine as `#[idempotent]`, and their responses recorded and replayed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::HeaderValue;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use tower_service::Service;

use super::body::{BoxError, RequestBody, ResponseBody};
use super::key::read_key;
use super::layer::Config;
use super::problem::Problem;
use super::recorded::{capture, Captured, PassThrough, Recorded};
use crate::bounds::Fingerprinted;
use crate::codec::{Codec, Serde};
use crate::engine::drive_async;
use crate::key::Operation;
use crate::request::{Request as Prepared, Scope};
use crate::{AsyncStore, MAX_HTTP_KEY_LEN};

/// A service wrapped by [`IdempotencyLayer`](super::IdempotencyLayer).
pub struct IdempotencyService<S, St> {
    inner: S,
    config: Arc<Config<St>>,
}

impl<S, St> IdempotencyService<S, St> {
    pub(crate) fn new(inner: S, config: Arc<Config<St>>) -> Self {
        Self { inner, config }
    }
}

impl<S: Clone, St> Clone for IdempotencyService<S, St> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: Arc::clone(&self.config),
        }
    }
}

impl<S: std::fmt::Debug, St> std::fmt::Debug for IdempotencyService<S, St> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyService")
            .field("inner", &self.inner)
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

/// The future of one request through the layer.
pub type ResponseFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody<B>>, E>> + Send>>;

impl<S, St, ReqBody, ResBody> Service<Request<ReqBody>> for IdempotencyService<S, St>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    St: AsyncStore + Send + Sync + 'static,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's usual hand-over).
        let fresh = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, fresh);
        Box::pin(handle(inner, Arc::clone(&self.config), request))
    }
}

/// What ended a request that was not recorded.
enum Failure<B, E> {
    /// Answer this response as it is; the key was released.
    PassThrough(Response<ResponseBody<B>>),
    /// The inner service failed; the key was released.
    Inner(E),
}

async fn handle<S, St, ReqBody, ResBody>(
    mut inner: S,
    config: Arc<Config<St>>,
    request: Request<ReqBody>,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
    St: AsyncStore,
    ReqBody: Body<Data = Bytes>,
    ReqBody::Error: Into<BoxError>,
    ResBody: Body<Data = Bytes>,
    ResBody::Error: Into<BoxError>,
{
    if !config.methods.contains(request.method()) {
        return pass(inner, request).await;
    }
    let key = match read_key(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) if config.require_key => return Ok(problem(&Problem::MissingKey)),
        Ok(None) => return pass(inner, request).await,
        Err(reason) => {
            return Ok(problem(&Problem::InvalidKey {
                reason: reason.to_string(),
            }))
        }
    };
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, config.body_limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<LengthLimitError>() => {
            return Ok(problem(&Problem::BodyTooLarge {
                limit: config.body_limit,
            }))
        }
        Err(err) => {
            return Ok(problem(&Problem::UnreadableBody {
                reason: err.to_string(),
            }))
        }
    };
    let scope = config.scope.as_ref().and_then(|scope| scope(&parts));
    let prepared = prepare(&config, &parts, &body, scope.as_deref(), &key);
    let codec = Codec::<Recorded, Failure<ResBody, S::Error>>::ok_only(Serde::new());
    let forwarded = Request::from_parts(parts, RequestBody::bytes(body));
    let run = async {
        let response = inner.call(forwarded).await.map_err(Failure::Inner)?;
        let record = (config.record)(response.status());
        match capture(response, record, config.body_limit, &config.replayed).await {
            Captured::Recorded(recorded) => Ok(recorded),
            Captured::PassThrough { response, why } => {
                if why != PassThrough::Status {
                    tracing::error!(
                        target: "idempotent",
                        operation = config.name,
                        token = %key,
                        outcome = "not_recorded",
                        reason = ?why,
                        "the response was answered but not recorded, and the key released"
                    );
                }
                Err(Failure::PassThrough(response))
            }
        }
    };
    match drive_async(&config.store, &prepared, &codec, run).await {
        Ok(outcome) => {
            let replayed = outcome.replayed();
            Ok(outcome.into_inner().into_response(replayed))
        }
        Err(err) => match Problem::of_error(err) {
            Ok(answer) => Ok(problem(&answer)),
            Err(Failure::PassThrough(response)) => Ok(response),
            Err(Failure::Inner(err)) => Err(err),
        },
    }
}

/// A request the layer does not handle, on to the inner service untouched.
async fn pass<S, ReqBody, ResBody>(
    mut inner: S,
    request: Request<ReqBody>,
) -> Result<Response<ResponseBody<ResBody>>, S::Error>
where
    S: Service<Request<RequestBody<ReqBody>>, Response = Response<ResBody>>,
{
    let response = inner.call(request.map(RequestBody::untouched)).await?;
    Ok(response.map(|body| ResponseBody::streamed(Bytes::new(), Box::pin(body))))
}

/// Bytes fingerprinted as bytes.
struct Raw<'a>(&'a [u8]);

impl Serialize for Raw<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// The key and fingerprint: method, path, query, the chosen headers (every value, in order)
/// and the body bytes, in that fixed order, with the attribute's encoding.
fn prepare<St>(
    config: &Config<St>,
    parts: &http::request::Parts,
    body: &[u8],
    scope: Option<&str>,
    key: &str,
) -> Prepared {
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let query = parts.uri.query();
    let headers: Vec<Vec<Raw<'_>>> = config
        .fingerprinted
        .iter()
        .map(|(name, _)| {
            parts
                .headers
                .get_all(name)
                .iter()
                .map(|value: &HeaderValue| Raw(value.as_bytes()))
                .collect()
        })
        .collect();
    let body = Raw(body);
    let mut params: Vec<(&'static str, &dyn Fingerprinted)> =
        vec![("method", &method), ("path", &path), ("query", &query)];
    for ((_, label), values) in config.fingerprinted.iter().zip(&headers) {
        params.push((label, values));
    }
    params.push(("body", &body));
    Prepared::with_token_limit(
        Operation::Named(config.name),
        &config.options,
        scope.map(|scope| Scope::of(&scope)),
        Some(key),
        MAX_HTTP_KEY_LEN,
        &params,
    )
}

fn problem<B>(problem: &Problem) -> Response<ResponseBody<B>> {
    problem.response().map(ResponseBody::bytes)
}
