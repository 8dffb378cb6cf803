//! Every decision is a `tracing` event under the target `idempotent` carrying `operation`,
//! `token` and `outcome`, so mismatches can be counted and alerted on.

use idempotent_runtime::idempotent;
use idempotent_tests::captured::Captured;

#[idempotent(token = "token", name = "CreateRouteTable")]
fn create(vpc_id: String, token: &str) -> Result<String, String> {
    if vpc_id.is_empty() {
        return Err("no vpc".into());
    }
    Ok(vpc_id)
}

#[test]
fn each_decision_is_an_event_with_operation_token_and_outcome() {
    let captured = Captured::default();
    tracing::subscriber::with_default(captured.subscriber(), || {
        create("vpc-1".into(), "ev-1").unwrap();
        create("vpc-1".into(), "ev-1").unwrap();
        create("vpc-2".into(), "ev-1").unwrap_err();
        create(String::new(), "ev-2").unwrap_err();
        create("vpc-1".into(), "").unwrap_err();
    });
    let log = captured.text();
    let lines: Vec<&str> = log.lines().collect();
    let find = |outcome: &str| {
        lines
            .iter()
            .find(|line| line.contains(&format!("outcome=\"{outcome}\"")))
            .unwrap_or_else(|| panic!("no {outcome} event in:\n{log}"))
            .to_string()
    };
    for outcome in ["executed", "replayed", "mismatch", "released"] {
        let line = find(outcome);
        assert!(line.contains("idempotent:"), "{line}");
        assert!(line.contains("operation=CreateRouteTable"), "{line}");
        assert!(line.contains("token=\"ev-"), "{line}");
        assert!(line.contains("elapsed_us="), "{line}");
    }
    assert!(find("mismatch").contains("WARN"));
    assert!(find("mismatch").contains("mismatched=\"vpc_id\""));
    assert!(find("invalid_token").contains("the token is empty"));
}
