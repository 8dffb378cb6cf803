//! Compile-time checks: every misuse of `#[idempotent]` is an error spanned on the user's
//! own tokens, saying what to write instead (`ui/fail`); valid uses compile and run (`ui/pass`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
    cases.pass("ui/pass/*.rs");
    // Cases that need axum, a dependency only under the `axum` feature.
    #[cfg(feature = "axum")]
    cases.compile_fail("ui/axum/*.rs");
    // Transactional mode, on SQLite and on PostgreSQL (`RedisStore` stands for a store of
    // another kind). The messages list every store's transaction types and spell a type's
    // path by what else is in scope, so they are checked with every store on.
    #[cfg(all(
        feature = "sqlite",
        feature = "postgres",
        feature = "redis",
        feature = "dynamodb"
    ))]
    {
        cases.compile_fail("ui/sqlite/*.rs");
        cases.compile_fail("ui/postgres/*.rs");
    }
}
