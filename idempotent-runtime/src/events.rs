//! `tracing` events for every decision, under the target `idempotent`.
//!
//! Each event carries `operation`, `token` and `outcome` (one of `executed`, `replayed`,
//! `mismatch`, `in_progress`, `taken_over`, `released`, `lease_lost`, `store_error`), so
//! mismatches and in-progress rejections can be counted and alerted on.

use crate::{Key, StoreError};

pub(crate) const TARGET: &str = "idempotent";

macro_rules! decision {
    ($level:ident, $key:expr, $outcome:literal $(, $field:ident = $value:expr)* ; $message:literal) => {
        tracing::$level!(
            target: "idempotent",
            operation = %$key.operation(),
            token = $key.token(),
            outcome = $outcome,
            $($field = $value,)*
            $message
        )
    };
}

pub(crate) fn executed(key: &Key) {
    decision!(debug, key, "executed"; "handler ran and its result was recorded");
}

pub(crate) fn replayed(key: &Key) {
    decision!(debug, key, "replayed"; "replayed the recorded result");
}

pub(crate) fn mismatch(key: &Key, mismatched: &[String]) {
    let mismatched = mismatched.join(",");
    decision!(warn, key, "mismatch", mismatched = mismatched.as_str(); "token reused with other parameters");
}

pub(crate) fn in_progress(key: &Key) {
    decision!(info, key, "in_progress"; "a request with this token is still running");
}

pub(crate) fn taken_over(key: &Key) {
    decision!(warn, key, "taken_over"; "took over a record whose lease had ended");
}

pub(crate) fn released(key: &Key) {
    decision!(debug, key, "released"; "handler failed or was cancelled; token released");
}

pub(crate) fn lease_lost(key: &Key) {
    decision!(warn, key, "lease_lost"; "the lease was taken over while the handler ran; its result was not recorded");
}

pub(crate) fn store_error(key: &Key, err: &StoreError) {
    decision!(error, key, "store_error", error = tracing::field::display(err); "idempotency store failed");
}

pub(crate) fn unrecorded(key: &Key, err: &StoreError) {
    decision!(error, key, "store_error", error = tracing::field::display(err); "handler ran but its result could not be recorded");
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_target_is_the_crate_name() {
        assert_eq!(super::TARGET, "idempotent");
    }
}
