//! The benchmarks' hand-written baselines follow the attribute's semantics, so their figures
//! compare like with like: a replay does not run the handler, another request under a token is
//! a mismatch, a duplicate of a running request is refused.

use std::cell::Cell;

use idempotent_benches::{handler, naive, sample_request, tight, CreateRouteTable, RouteTable};

/// A baseline's call: request, token, handler.
type Call<'a, E> = &'a dyn Fn(
    CreateRouteTable,
    &str,
    &dyn Fn(CreateRouteTable) -> RouteTable,
) -> Result<RouteTable, E>;

fn follows_the_semantics<E: std::fmt::Debug>(call: Call<'_, E>) {
    let runs = Cell::new(0);
    let counted = |request: CreateRouteTable| {
        runs.set(runs.get() + 1);
        handler(request)
    };
    let first = call(sample_request(), "t-1", &counted).expect("runs");
    let replay = call(sample_request(), "t-1", &counted).expect("replays");
    assert_eq!(
        (first, runs.get()),
        (replay, 1),
        "a replay does not run the handler"
    );
    let mut other = sample_request();
    other.max_routes += 1;
    assert!(call(other, "t-1", &counted).is_err(), "a mismatch");
    assert_eq!(runs.get(), 1);
    // A duplicate arriving while the handler runs (here: from inside it) is refused.
    let reentrant = |request: CreateRouteTable| {
        assert!(call(sample_request(), "t-2", &counted).is_err());
        handler(request)
    };
    call(sample_request(), "t-2", &reentrant).expect("runs");
    assert_eq!(runs.get(), 1, "the duplicate did not run");
}

#[test]
fn the_tight_baseline_follows_the_semantics() {
    let tight = tight::Tight::<tight::Postcard>::default();
    follows_the_semantics(&|request, token, handler| tight.call(request, token, handler));
}

#[test]
fn the_tight_baseline_on_the_attributes_encodings_follows_the_semantics() {
    let tight = tight::Tight::<tight::SameEncodings>::default();
    follows_the_semantics(&|request, token, handler| tight.call(request, token, handler));
}

#[test]
fn the_naive_baseline_follows_the_semantics() {
    let naive = naive::Naive::default();
    follows_the_semantics(&|request, token, handler| naive.call(request, token, handler));
}

#[test]
fn the_request_and_the_response_are_about_two_hundred_bytes() {
    let request = serde_json::to_vec(&sample_request()).map(|v| v.len());
    let response = serde_json::to_vec(&handler(sample_request())).map(|v| v.len());
    assert!(matches!(request, Ok(150..=300)), "{request:?}");
    assert!(matches!(response, Ok(150..=300)), "{response:?}");
}
