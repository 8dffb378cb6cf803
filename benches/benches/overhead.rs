//! Benchmarks; see the package README.
fn main() {}
