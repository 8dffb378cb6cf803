//! The `#[idempotent]` attribute. Depend on `idempotent-runtime`, which re-exports it and holds
//! everything the expansion calls; this crate only parses, validates and expands.
//!
//! The pipeline is one file a stage: `args.rs` (typed options), `input.rs` (the analysed fn),
//! `validate.rs` (checks, resolved into a plan) and `expand.rs` (the generated code).

mod alias;
mod args;
mod companion;
mod crate_path;
mod duration;
mod errors;
mod expand;
mod fallback;
mod input;
mod operation;
mod store_borrow;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Makes a handler idempotent: a retry with the same client token and parameters replays the
/// first result; the same token with other parameters fails with
/// `IdempotentParameterMismatch`; concurrent copies never both run.
///
/// ```ignore
/// use idempotent_runtime::idempotent;
///
/// #[idempotent(token = "client_token")]
/// fn create_route_table(vpc_id: String, client_token: Option<String>) -> Result<RouteTable, Ec2Error> {
///     /* runs at most once per token */
/// }
/// // becomes
/// // pub type CreateRouteTableError = idempotent_runtime::IdempotencyError<Ec2Error>;
/// // fn create_route_table(..) -> Result<RouteTable, CreateRouteTableError>
/// ```
///
/// Options (all but `token` optional):
///
/// | option | meaning | default |
/// |---|---|---|
/// | `token = "param"` | the parameter holding the token: `AsRef<str>` or an `Option` of one (`None` runs without idempotency) | required |
/// | `store = <expr>` | the store, evaluated and cloned once per call (`self.store`, `&*STORE`) | the process-wide `MemoryStore` |
/// | `name = "Op"` | the operation name tokens are scoped to | module path, `Self` type and fn name |
/// | `scope = "param"` | a parameter whose value namespaces tokens (account, tenant) | none |
/// | `skip(a, b)` | parameters left out of the fingerprint | none |
/// | `ttl = "24h"` | how long a completed result is replayed | `24h` |
/// | `lease = "30s"` | how long a running request blocks others before a retry may take over | `60s` |
/// | `concurrent = "wait"` | a duplicate waits for the first run instead of failing with `RequestInProgress` | `"reject"` |
/// | `cache_errors` | also record and replay `Err` results (the error must be serde) | off |
/// | `error = "Name"` | the name of the error alias emitted beside a free fn | `{FnName}Error` |
/// | `in_impl` | an associated fn inside an `impl` that neither takes `self` nor names `Self` (no alias is emitted); one that names `Self`, such as `fn create(..) -> Result<Self, E>`, is found without it | off |
/// | `crate = "path"` | where `idempotent-runtime` is | found from `Cargo.toml` |
/// | `fallible` | the return type is a `Result` under another name (an alias such as `fmt::Result`); without it such a handler does not compile | off |
/// | `heartbeat = false` | do not renew the lease while the handler runs (by default it is renewed every lease/3, so only a crashed or hung worker loses its token) | renewed |
///
/// Durations are written `"500ms"`, `"30s"`, `"5m"`, `"24h"`, `"7d"`.
///
/// # The `{fn}_with_outcome` companion
///
/// Beside the handler the macro emits `{fn}_with_outcome`, with the same parameters, answering
/// `Result<Outcome<T>, ..>`: `outcome.replayed()` tells whether the result came from an
/// earlier call (Stripe's `Idempotent-Replayed`), `outcome.into_inner()` gives the value.
///
/// ```ignore
/// let outcome = create_route_table_with_outcome(vpc_id, Some(token))?;
/// if outcome.replayed() { /* the handler did not run this time */ }
/// let table = outcome.into_inner();
/// ```
///
/// Which handlers get one: every free fn, and every method with a visibility (`pub`,
/// `pub(crate)`, `pub(self)`, ...). A method without one may implement a trait, and a trait
/// impl cannot hold an extra method, so there the macro emits none; write `pub(self)` on a
/// private inherent method to get its companion.
///
/// # What the types must be
///
/// The token is text (`AsRef<str>`, or an `Option` of it written `Option<..>`); every
/// fingerprinted parameter and the `scope` are `serde::Serialize`; the output (and the error
/// under `cache_errors`) is `Serialize + DeserializeOwned` and owns its data (no `&str`: it is
/// decoded from the store on a replay). A type that does not fit is one error on that type,
/// naming the fix; the checks are the traits of `idempotent_runtime::bounds`.
///
/// In a trait impl, the trait declares the wrapped return type:
/// `fn create(&self, ..) -> Result<T, IdempotencyError<E>>`.
///
/// # When the attribute reports a mistake
///
/// It still emits the handler with the signature it would have had (and its error alias), with
/// a body that never runs, as thiserror does: tools that read on past the error, such as
/// rust-analyzer, see callers against the real signature instead of a cascade of type errors.
#[proc_macro_attribute]
pub fn idempotent(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::idempotent(args.into(), item.into()).into()
}
