//! Hand-written baselines the benchmarks compare `#[idempotent]` with.
