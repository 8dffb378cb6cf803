//! Regression: generated code reaches the runtime through the name the user's manifest gives
//! it (`idem = { package = "idempotent-runtime" }`), not a hard-coded `::idempotent_runtime`.

#[test]
fn a_renamed_runtime_dependency_still_expands_and_replays() {
    assert_eq!(idempotent_renamed_test::double(4, "renamed").unwrap(), 8);
    let err: idempotent_renamed_test::DoubleError =
        idempotent_renamed_test::double(5, "renamed").unwrap_err();
    assert!(matches!(
        err,
        idem::IdempotencyError::IdempotentParameterMismatch { .. }
    ));
}
