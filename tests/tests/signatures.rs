//! Signature shapes a user writes, each pinned by what went wrong with it before (issue 8):
//! a `Result` behind an alias, handlers that shared an operation name, generic fns, parameters
//! configured out, `ref` and `mut` patterns, lints on the user's body, tokens and return types
//! written through `macro_rules!` and const generics. The whole file compiles under
//! `deny(warnings)`.
#![deny(warnings)]

use std::num::ParseIntError;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use idempotent_runtime::{idempotent, IdempotencyError};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct ApiError(String);

type MyResult<T> = Result<T, ApiError>;

static ALIAS_RUNS: AtomicUsize = AtomicUsize::new(0);

/// An `Err` through an alias releases the token, as a spelled-out `Result` does.
#[idempotent(token = "token", fallible)]
fn through_an_alias(fail: bool, token: &str) -> MyResult<u32> {
    ALIAS_RUNS.fetch_add(1, SeqCst);
    if fail {
        Err(ApiError("boom".into()))
    } else {
        Ok(7)
    }
}

#[test]
fn an_err_through_an_alias_is_not_cached() {
    let err = through_an_alias(true, "alias").unwrap_err();
    assert!(
        matches!(err, IdempotencyError::Handler(ApiError(_))),
        "{err:?}"
    );
    let err = through_an_alias(true, "alias").unwrap_err();
    assert!(matches!(err, IdempotencyError::Handler(_)), "{err:?}");
    assert_eq!(ALIAS_RUNS.load(SeqCst), 2, "the retry ran again");
    assert_eq!(through_an_alias(true, "alias-ok").ok(), None);
}

macro_rules! fallible_handler {
    ($out:ty, $token:ty) => {
        static FRAGMENT_RUNS: AtomicUsize = AtomicUsize::new(0);

        #[idempotent(token = "token")]
        fn through_a_fragment(fail: bool, token: $token) -> $out {
            FRAGMENT_RUNS.fetch_add(1, SeqCst);
            if fail {
                Err(ApiError("boom".into()))
            } else {
                Ok(1)
            }
        }
    };
}

fallible_handler!(Result<u32, ApiError>, Option<String>);

#[test]
fn a_return_type_and_token_through_a_macro_fragment_keep_their_shape() {
    assert!(through_a_fragment(true, Some("fragment".into())).is_err());
    assert!(through_a_fragment(true, Some("fragment".into())).is_err());
    assert_eq!(FRAGMENT_RUNS.load(SeqCst), 2, "an Err is not cached");
    // An `Option` token: `None` runs without idempotency.
    assert_eq!(through_a_fragment(false, None).unwrap(), 1);
    assert_eq!(through_a_fragment(false, None).unwrap(), 1);
    assert_eq!(FRAGMENT_RUNS.load(SeqCst), 4);
}

struct Cloud;

trait Vpcs {
    fn create(&self, token: &str) -> Result<String, IdempotencyError>;
}

trait Subnets {
    fn create(&self, token: &str) -> Result<String, IdempotencyError>;
}

impl Vpcs for Cloud {
    #[idempotent(token = "token")]
    fn create(&self, token: &str) -> String {
        "vpc".into()
    }
}

impl Subnets for Cloud {
    #[idempotent(token = "token")]
    fn create(&self, token: &str) -> String {
        "subnet".into()
    }
}

impl Cloud {
    #[idempotent(token = "token")]
    fn create(&self, token: &str) -> String {
        "inherent".into()
    }
}

fn nested_a(token: &str) -> String {
    #[idempotent(token = "token")]
    fn nested(token: &str) -> String {
        "a".into()
    }
    nested(token).unwrap()
}

fn nested_b(token: &str) -> String {
    #[idempotent(token = "token")]
    fn nested(token: &str) -> String {
        "b".into()
    }
    nested(token).unwrap()
}

#[test]
fn handlers_of_one_name_never_share_tokens() {
    let cloud = Cloud;
    assert_eq!(Vpcs::create(&cloud, "shared").unwrap(), "vpc");
    assert_eq!(Subnets::create(&cloud, "shared").unwrap(), "subnet");
    assert_eq!(cloud.create("shared").unwrap(), "inherent");
    assert_eq!(nested_a("shared"), "a");
    assert_eq!(nested_b("shared"), "b");
}

#[idempotent(token = "token")]
fn scale<const N: u32>(x: u32, token: &str) -> u32 {
    x * N
}

#[test]
fn each_const_argument_is_its_own_operation() {
    assert_eq!(scale::<3>(2, "scale").unwrap(), 6);
    assert_eq!(scale::<4>(2, "scale").unwrap(), 8);
    assert_eq!(scale::<3>(2, "scale").unwrap(), 6);
}

#[idempotent(token = "token")]
fn convert<E: From<ParseIntError>>(text: String, token: &str) -> Result<u32, E> {
    Ok(text.parse::<u32>()?)
}

#[idempotent(token = "token")]
fn load<T: Default + Serialize + serde::de::DeserializeOwned>(
    size: u32,
    token: &str,
) -> std::io::Result<T> {
    let _ = size;
    Ok(T::default())
}

#[test]
fn generic_free_fns_get_generic_aliases() {
    let parsed: Result<u32, ConvertError<ParseIntError>> = convert("12".into(), "convert");
    assert_eq!(parsed.unwrap(), 12);
    let failed: Result<u32, ConvertError<ParseIntError>> = convert("x".into(), "convert-x");
    assert!(matches!(failed, Err(IdempotencyError::Handler(_))));
    let loaded: Result<String, LoadError<String>> = load(1, "load");
    assert_eq!(loaded.unwrap(), "");
}

#[idempotent(token = "token")]
fn configured(
    size: u32,
    #[cfg(not(test))] never: u32,
    #[cfg(test)] always: u32,
    token: &str,
) -> u32 {
    size + always
}

#[test]
fn a_parameter_configured_out_is_left_out() {
    assert_eq!(configured(1, 2, "cfg").unwrap(), 3);
}

#[allow(clippy::toplevel_ref_arg)]
#[idempotent(token = "token")]
fn patterns(ref name: String, mut count: u32, token: &str) -> String {
    count += 1;
    format!("{name}{count}")
}

struct Counter {
    runs: AtomicUsize,
}

impl Counter {
    #[idempotent(token = "token")]
    pub fn consume(mut self, token: &str) -> usize {
        self.runs = AtomicUsize::new(self.runs.load(SeqCst) + 1);
        self.runs.load(SeqCst)
    }

    #[allow(clippy::needless_return, unused_variables)]
    #[idempotent(token = "token")]
    pub fn allowed(&self, token: &str) -> u32 {
        let unused = 1;
        return 2;
    }
}

#[test]
fn ref_and_mut_patterns_and_lints_stay_with_the_body() {
    assert_eq!(patterns("n".into(), 1, "patterns").unwrap(), "n2");
    let counter = Counter {
        runs: AtomicUsize::new(0),
    };
    assert_eq!(counter.allowed("allowed").unwrap(), 2);
    assert_eq!(counter.consume("consume").unwrap(), 1);
}

/// Constants named like the names an expansion could bind: a binding is a pattern, and a
/// pattern meeting a constant matches it (E0530) whatever the hygiene, so the expansion binds
/// nothing.
mod traps {
    #![allow(non_upper_case_globals, dead_code, unreachable_pub)]

    use idempotent_runtime::{idempotent, MemoryStore};

    const __idempotent_store: u8 = 0;
    const __idempotent_request: u8 = 0;
    const __idempotent_fingerprint: u8 = 0;
    const __idempotent_fp: u8 = 0;
    const store: u8 = 0;
    const request: u8 = 0;
    const fp: u8 = 0;
    const body: u8 = 0;
    const OPTIONS: u8 = 0;

    pub struct Service {
        pub store: MemoryStore,
    }

    #[idempotent(token = "token", scope = "account")]
    pub fn free(account: &str, size: u32, token: &str) -> u32 {
        size * 2
    }

    impl Service {
        #[idempotent(token = "token", store = self.store)]
        pub fn method(&self, size: u32, token: &str) -> u32 {
            size * 3
        }

        #[idempotent(token = "token", store = self.store)]
        pub async fn asynchronous(&self, size: u32, token: &str) -> Result<u32, String> {
            Ok(size * 4)
        }
    }
}

#[tokio::test]
async fn constants_named_like_internals_change_nothing() {
    let service = traps::Service {
        store: idempotent_runtime::MemoryStore::new(),
    };
    assert_eq!(traps::free("acct", 2, "trap").ok(), Some(4));
    assert_eq!(traps::free("acct", 2, "trap").ok(), Some(4));
    assert_eq!(service.method(2, "trap").ok(), Some(6));
    let call = service.asynchronous(2, "trap");
    fn sent<F: Send>(future: F) -> F {
        future
    }
    assert_eq!(sent(call).await.ok(), Some(8));
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Vpc {
    cidr: String,
}

impl Vpc {
    /// An associated fn that names `Self` is known to be in an impl: no `in_impl` needed.
    #[idempotent(token = "token")]
    pub fn create(cidr: String, token: &str) -> Result<Self, ApiError> {
        Ok(Self { cidr })
    }
}

#[test]
fn an_associated_fn_naming_self_needs_no_in_impl() {
    let first = Vpc::create("10.0.0.0/16".into(), "self-vpc");
    assert_eq!(first.ok().map(|vpc| vpc.cidr), Some("10.0.0.0/16".into()));
    let replay = Vpc::create_with_outcome("10.0.0.0/16".into(), "self-vpc");
    assert!(replay.is_ok_and(|outcome| outcome.replayed()));
}
