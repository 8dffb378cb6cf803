//! Compile-time checks: every misuse of `#[idempotent]` is an error spanned on the user's
//! own tokens, saying what to write instead (`ui/fail`); valid uses compile and run (`ui/pass`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
    cases.pass("ui/pass/*.rs");
}

/// The store-interface errors list the stores that do implement the interface, which depends
/// on the store features; they are pinned for the feature set CI tests (every feature).
#[test]
#[cfg(feature = "sqlite")]
fn ui_store_interfaces() {
    trybuild::TestCases::new().compile_fail("ui/stores/*.rs");
}
