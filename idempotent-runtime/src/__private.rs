//! What the `#[idempotent]` expansion calls. Not a public API: names here may change in any
//! release. Generated code reaches it as `{runtime}::__private`, where `{runtime}` is the path
//! the macro found for this crate (`::idempotent_runtime`, a renamed dependency, or
//! `crate = "..."`).

use std::convert::Infallible;
use std::future::Future;
use std::sync::OnceLock;

pub use crate::fingerprint::Fingerprinter;
pub use crate::key::Operation;
pub use crate::request::{Concurrent, Options, Request, Scope};
pub use crate::Outcome;
pub use core::any::type_name;
pub use core::time::Duration;

pub use crate::codec::{Codec, Serde};
use crate::engine::{drive_async, drive_sync};
use crate::{AsyncStore, IdempotencyError, MemoryStore, Store};

/// The process-wide store used when `store = ...` is not given.
pub fn default_store() -> &'static MemoryStore {
    static DEFAULT: OnceLock<MemoryStore> = OnceLock::new();
    DEFAULT.get_or_init(MemoryStore::new)
}

/// The `site` of an [`Operation::Path`]: `type_name` of a marker type declared in the fn
/// holding the call, without the `suffix` that names that fn and the marker, when the module
/// and `Self` do not already say where the handler is.
pub fn site(
    marker: &'static str,
    suffix: &str,
    module: &str,
    self_ty: Option<&str>,
) -> Option<&'static str> {
    Operation::site(
        marker.strip_suffix(suffix).unwrap_or(marker),
        module,
        self_ty,
    )
}

/// Types that spell a const generic argument in `type_name` (`consts::U8<3>`), one per type a
/// const parameter may have.
pub mod consts {
    macro_rules! kinds {
        ($($name:ident: $ty:ty),*) => {$(
            #[doc = concat!("A `", stringify!($ty), "` const argument.")]
            pub struct $name<const V: $ty>;
        )*};
    }
    kinds!(
        U8: u8, U16: u16, U32: u32, U64: u64, U128: u128, Usize: usize,
        I8: i8, I16: i16, I32: i32, I64: i64, I128: i128, Isize: isize,
        Bool: bool, Char: char
    );
}

pub use crate::return_type::{IsPlain, IsResult, PlainReturnType, Probe};

/// The longest token a token parameter's type allows, found by autoref: [`HttpKeyLimit`]
/// (255) for an `IdempotencyKey`, [`DefaultLimit`] (64) for every other type.
pub struct TokenLimit<T: ?Sized>(core::marker::PhantomData<T>);

impl<T: ?Sized> TokenLimit<T> {
    /// The probe for `T`.
    pub const fn new() -> Self {
        Self(core::marker::PhantomData)
    }
}

impl<T: ?Sized> Default for TokenLimit<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// An HTTP key's limit, [`MAX_HTTP_KEY_LEN`](crate::MAX_HTTP_KEY_LEN).
pub trait HttpKeyLimit {
    /// The limit.
    fn limit(&self) -> usize {
        crate::MAX_HTTP_KEY_LEN
    }
}

#[cfg(feature = "axum")]
impl HttpKeyLimit for TokenLimit<crate::axum::IdempotencyKey> {}
#[cfg(feature = "axum")]
impl HttpKeyLimit for TokenLimit<Option<crate::axum::IdempotencyKey>> {}
#[cfg(feature = "axum")]
impl HttpKeyLimit for TokenLimit<&crate::axum::IdempotencyKey> {}

/// Every other token's limit, [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN).
pub trait DefaultLimit {
    /// The limit.
    fn limit(&self) -> usize {
        crate::MAX_TOKEN_LEN
    }
}

impl<T: ?Sized> DefaultLimit for &TokenLimit<T> {}

/// A parameter whose type is spelled as a byte sequence (`Vec<u8>`, `&[u8]`, `[u8; N]`,
/// `Box<[u8]>`): fingerprinted with one copy, to the bytes serde's element-by-element path
/// gives ([`Fingerprinter::byte_param`]).
pub struct ByteSeq<'a>(&'a [u8]);

impl<'a> ByteSeq<'a> {
    /// The parameter's bytes.
    pub fn new<B: AsRef<[u8]> + ?Sized>(bytes: &'a B) -> Self {
        Self(bytes.as_ref())
    }
}

impl crate::bounds::Fingerprinted for ByteSeq<'_> {
    fn add_to(&self, fingerprinter: &mut Fingerprinter, name: &'static str) {
        fingerprinter.byte_param(name, self.0);
    }

    fn encode_alone(&self) -> Result<Vec<u8>, crate::fingerprint::FingerprintError> {
        crate::fingerprint::encode_alone(self.0)
    }
}

/// How many bytes a store keeps for `value` as a recorded output (format, tag and value), for
/// the benchmarks' memory-per-record figure; `0` if it cannot be encoded.
pub fn recorded_len<T: serde::Serialize + serde::de::DeserializeOwned>(value: T) -> usize {
    record_output(value).map_or(0, |(bytes, _)| bytes.len())
}

/// `value` as a store records an output (format, tag and value), for the benchmarks' baseline
/// that wraps the attribute's encodings around a hand-written store; `None` if it cannot be
/// encoded.
pub fn record_output<T: serde::Serialize + serde::de::DeserializeOwned>(
    value: T,
) -> Option<(Vec<u8>, T)> {
    let codec: Codec<T, Infallible> = Codec::ok_only(Serde::new());
    let result = Ok(value);
    let bytes = codec.encode(&result)?.ok()?;
    result.ok().map(|value| (bytes, value))
}

/// The output [`record_output`] recorded; `None` if the bytes do not hold one.
pub fn replay_output<T: serde::Serialize + serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    let codec: Codec<T, Infallible> = Codec::ok_only(Serde::new());
    codec.decode(bytes).ok()?.ok()
}

/// Wraps a handler returning a plain `T`.
pub fn plain<T>(body: impl FnOnce() -> T) -> impl FnOnce() -> Result<T, Infallible> {
    move || Ok(body())
}

/// Wraps an async handler returning a plain `T`.
pub async fn plain_async<T>(body: impl Future<Output = T>) -> Result<T, Infallible> {
    Ok(body.await)
}

/// Runs a sync handler and says whether its result was replayed.
pub fn run_sync<S, T, E>(
    store: &S,
    request: Request,
    codec: Codec<T, E>,
    body: impl FnOnce() -> Result<T, E>,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: Store + ?Sized,
{
    drive_sync(store, &request, &codec, body)
}

/// Runs a sync handler in transactional mode: every write of the record goes into `tx`.
pub fn run_sync_in_tx<S, Tx, T, E>(
    store: &S,
    tx: Tx,
    request: Request,
    codec: Codec<T, E>,
    body: impl FnOnce() -> Result<T, E>,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: crate::store::InTransaction<Tx> + ?Sized,
    Tx: Copy,
{
    crate::engine::drive_sync_in_tx(store, tx, &request, &codec, body)
}

/// Runs an async handler in transactional mode: every write of the record goes into `tx`.
pub async fn run_async_in_tx<S, Tx, T, E>(
    store: &S,
    tx: Tx,
    request: Request,
    codec: Codec<T, E>,
    body: impl Future<Output = Result<T, E>>,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: crate::store::AsyncInTransaction<Tx> + ?Sized,
    Tx: Copy,
{
    crate::engine::drive_async_in_tx(store, tx, &request, &codec, body).await
}

/// Runs an async handler and says whether its result was replayed.
pub async fn run_async<S, T, E>(
    store: &S,
    request: Request,
    codec: Codec<T, E>,
    body: impl Future<Output = Result<T, E>>,
) -> Result<Outcome<T>, IdempotencyError<E>>
where
    S: AsyncStore + ?Sized,
{
    drive_async(store, &request, &codec, body).await
}

/// Pins an async body's output type, so `?` and `return` in it infer like in the original fn.
pub fn returning<R, F: Future<Output = R>>(body: F) -> F {
    body
}
