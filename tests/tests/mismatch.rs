//! The same token with other parameters fails with `IdempotentParameterMismatch`, naming the
//! parameters that differ; skipped parameters never cause one.

use idempotent_runtime::{idempotent, IdempotencyError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
struct Tags {
    env: String,
}

#[idempotent(token = "client_token", skip(trace_id))]
fn create_route_table(
    vpc_id: String,
    tags: Tags,
    trace_id: u64,
    client_token: String,
) -> Result<String, std::convert::Infallible> {
    let _ = trace_id; // logged in a real service
    Ok(format!("rtb-for-{vpc_id}-{}", tags.env))
}

fn tags(env: &str) -> Tags {
    Tags { env: env.into() }
}

#[test]
fn other_arguments_fail_with_ec2s_sentence_and_the_differing_names() {
    let token = "abf653c2-09a2-426d-bd2d-acaac0c98a28".to_string();
    create_route_table(
        "vpc-00c84bd9dcad1d728".into(),
        tags("prod"),
        1,
        token.clone(),
    )
    .unwrap();
    let err = create_route_table(
        "vpc-03683f950edba6643".into(),
        tags("prod"),
        1,
        token.clone(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Wrong arguments for request with token abf653c2-09a2-426d-bd2d-acaac0c98a28\nparameters that differ: vpc_id"
    );
    match err {
        CreateRouteTableError::IdempotentParameterMismatch {
            operation,
            token: seen,
            mismatched,
        } => {
            assert_eq!(seen, token);
            assert_eq!(mismatched, ["vpc_id"]);
            assert!(
                operation.ends_with("mismatch::create_route_table"),
                "{operation}"
            );
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert!(!create_route_table("x".into(), tags("prod"), 1, token)
        .unwrap_err()
        .is_retryable());
}

#[test]
fn every_differing_parameter_is_named() {
    let token = "mismatch-two".to_string();
    create_route_table("vpc-1".into(), tags("prod"), 1, token.clone()).unwrap();
    let err = create_route_table("vpc-2".into(), tags("dev"), 1, token).unwrap_err();
    let IdempotencyError::IdempotentParameterMismatch { mismatched, .. } = err else {
        panic!("expected a mismatch, got {err:?}");
    };
    assert_eq!(mismatched, ["tags", "vpc_id"]);
}

#[test]
fn a_skipped_parameter_never_causes_a_mismatch() {
    let token = "mismatch-skip".to_string();
    let first = create_route_table("vpc-1".into(), tags("prod"), 1, token.clone()).unwrap();
    let retry = create_route_table("vpc-1".into(), tags("prod"), 999, token).unwrap();
    assert_eq!(first, retry);
}
