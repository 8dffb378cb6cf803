//! What a handler's types must be, as traits the compiler can name in an error.
//!
//! `#[idempotent]` checks a handler's types through these traits, so a type that does not fit
//! gets one error that says what to write, on the user's own type. You never implement or call
//! them: every type that fits already has them.
//!
//! | trait | implemented for | needed by |
//! |---|---|---|
//! | [`TokenText`] | every `T: AsRef<str>` (`String`, `&str`, [`ClientToken`](crate::ClientToken), ...) | the `token` parameter (or the `T` of an `Option<T>` token) |
//! | [`Fingerprinted`] | every `T: serde::Serialize` | each parameter that is fingerprinted, and `scope` |
//! | [`Replayable`] | every `T: Serialize + DeserializeOwned` | the output, and the error under `cache_errors` |
//! | [`HandlerResult`] | `core::result::Result<T, E>` | a return type spelled `Result<..>` (`io::Result<T>`) or marked `fallible` |
//!
//! ```
//! use idempotent_runtime::bounds::{TokenText, Fingerprinted, Replayable};
//!
//! fn fits<T: Fingerprinted + Replayable + ?Sized>() {}
//! fits::<Vec<String>>();
//! assert_eq!(TokenText::token_text(&String::from("abc")), "abc");
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::Serde;
use crate::fingerprint::{FingerprintError, Fingerprinter};

/// A type a client token can be read from: any `T: AsRef<str>`.
///
/// ```
/// use idempotent_runtime::bounds::TokenText;
/// assert_eq!(TokenText::token_text(&"abc"), "abc");
/// ```
#[diagnostic::on_unimplemented(
    message = "a client token must be a string, and `{Self}` is not `AsRef<str>`",
    label = "the `token` parameter",
    note = "declare the token parameter as `String`, `&str` or `Option<String>` (an optional token is recognised when its type is written `Option<..>`)"
)]
pub trait TokenText {
    /// The token as text.
    fn token_text(&self) -> &str;
}

#[diagnostic::do_not_recommend]
impl<T: AsRef<str> + ?Sized> TokenText for T {
    fn token_text(&self) -> &str {
        self.as_ref()
    }
}

/// An optional token: `None` runs the handler without idempotency.
///
/// ```
/// use idempotent_runtime::bounds::optional_token;
/// assert_eq!(optional_token(&Some("abc")), Some("abc"));
/// assert_eq!(optional_token::<String>(&None), None);
/// ```
pub fn optional_token<T: TokenText>(token: &Option<T>) -> Option<&str> {
    token.as_ref().map(TokenText::token_text)
}

/// A value that can be part of a fingerprint: any `T: serde::Serialize`.
///
/// ```
/// use idempotent_runtime::bounds::Fingerprinted;
/// let parameters: [&dyn Fingerprinted; 2] = [&"vpc-1", &42u32];
/// # let _ = parameters;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be fingerprinted: it does not implement `serde::Serialize`",
    label = "this parameter is fingerprinted",
    note = "derive `serde::Serialize` for `{Self}`; a parameter that is not part of the request (a pool, a clock) can be left out with `skip(name)`"
)]
pub trait Fingerprinted {
    /// Adds the value to `fingerprinter` as the parameter `name`.
    #[doc(hidden)]
    fn add_to(&self, fingerprinter: &mut Fingerprinter, name: &'static str);

    /// The value's canonical encoding on its own (a scope value, which is part of the key).
    #[doc(hidden)]
    fn encode_alone(&self) -> Result<Vec<u8>, FingerprintError>;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized> Fingerprinted for T {
    fn add_to(&self, fingerprinter: &mut Fingerprinter, name: &'static str) {
        fingerprinter.param(name, self);
    }

    fn encode_alone(&self) -> Result<Vec<u8>, FingerprintError> {
        crate::fingerprint::encode_alone(self)
    }
}

/// A parameter whose type names a generic parameter, as a [`Fingerprinted`] value; a missing
/// bound is reported as `T: serde::Serialize`, the bound to add.
///
/// ```
/// use idempotent_runtime::bounds::fingerprinted;
/// fn parameter<T: serde::Serialize>(value: &T) {
///     let _ = fingerprinted(value);
/// }
/// parameter(&7u8);
/// ```
pub fn fingerprinted<T: Serialize>(value: &T) -> &dyn Fingerprinted {
    value
}

/// A value that can be recorded and replayed: any `T: Serialize + DeserializeOwned`.
///
/// ```
/// use idempotent_runtime::bounds::Replayable;
/// fn output<T: Replayable>() {}
/// output::<Option<String>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be replayed: it must implement `serde::Serialize` and `serde::Deserialize`",
    label = "recorded, then decoded on a replay",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to `{Self}`; a borrowed type (`&str`) cannot be decoded: return an owned one (`String`)"
)]
pub trait Replayable: Sized {
    /// Its encode and decode functions.
    #[doc(hidden)]
    fn serde() -> Serde<Self>;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize + DeserializeOwned> Replayable for T {
    fn serde() -> Serde<Self> {
        Serde::new()
    }
}

/// An output whose type names a generic parameter, as [`Replayable`]; a missing bound is
/// reported as the serde bound to add.
///
/// ```
/// use idempotent_runtime::bounds::replayable;
/// let _ = replayable::<Vec<u8>>();
/// ```
#[doc(hidden)]
pub fn replayable<T: Serialize + DeserializeOwned>() -> Serde<T> {
    Serde::new()
}

/// A fallible handler's return type, read through its real type, so `io::Result<T>` and an
/// alias marked `fallible` work: only `core::result::Result<T, E>`.
///
/// ```
/// use idempotent_runtime::bounds::HandlerResult;
/// fn error_of<R: HandlerResult>() -> &'static str {
///     std::any::type_name::<R::Err>()
/// }
/// assert_eq!(error_of::<std::io::Result<u8>>(), "std::io::error::Error");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not `core::result::Result`, as the handler's return type must be here",
    label = "read as a `Result` because of its spelling, or because of `fallible`",
    note = "a type of your own named `Result` is not one: rename it, or if `fallible` is written, remove it (a handler returning a plain value cannot fail)"
)]
pub trait HandlerResult {
    /// The handler's success type.
    type Ok;
    /// The handler's error type.
    type Err;

    /// The value as the `Result` it is.
    #[doc(hidden)]
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
}

#[diagnostic::do_not_recommend]
impl<T, E> HandlerResult for Result<T, E> {
    type Ok = T;
    type Err = E;

    fn into_result(self) -> Result<T, E> {
        self
    }
}
