//! A retry with the same token and parameters replays the first result; the body runs once.
//! Every output replays faithfully, empty and zero values included.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use idempotent_runtime::idempotent;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RouteTable {
    id: String,
    vpc_id: String,
    routes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    owner: Option<String>,
}

static CREATED: AtomicUsize = AtomicUsize::new(0);

#[idempotent(token = "client_token")]
fn create_route_table(vpc_id: String, client_token: Option<String>) -> Result<RouteTable, String> {
    let n = CREATED.fetch_add(1, SeqCst);
    Ok(RouteTable {
        id: format!("rtb-{n}"),
        vpc_id,
        routes: vec![],
        owner: None,
    })
}

#[test]
fn a_retry_returns_the_first_result_without_running_again() {
    let token = Some("replay-1".to_string());
    let first = create_route_table("vpc-a".into(), token.clone()).unwrap();
    let retry = create_route_table("vpc-a".into(), token.clone()).unwrap();
    let again = create_route_table("vpc-a".into(), token).unwrap();
    // Every run mints a new id: equal results mean the handler did not run again.
    assert_eq!(first, retry);
    assert_eq!(first, again);
}

#[test]
fn another_token_runs_the_handler_again() {
    let first = create_route_table("vpc-a".into(), Some("replay-2a".into())).unwrap();
    let second = create_route_table("vpc-a".into(), Some("replay-2b".into())).unwrap();
    assert_ne!(first.id, second.id);
}

#[test]
fn no_token_runs_the_handler_every_time() {
    let first = create_route_table("vpc-a".into(), None).unwrap();
    let second = create_route_table("vpc-a".into(), None).unwrap();
    assert_ne!(first.id, second.id);
}

macro_rules! replays_faithfully {
    ($test:ident, $handler:ident, $ty:ty, $value:expr) => {
        #[test]
        fn $test() {
            static RUNS: AtomicUsize = AtomicUsize::new(0);
            #[idempotent(token = "token")]
            fn $handler(token: &str) -> $ty {
                RUNS.fetch_add(1, SeqCst);
                $value
            }
            let first = $handler("faithful").unwrap();
            let replayed = $handler("faithful").unwrap();
            let expected: $ty = $value;
            assert_eq!(first, expected);
            assert_eq!(replayed, expected);
            assert_eq!(RUNS.load(SeqCst), 1, "the replay ran the handler");
        }
    };
}

replays_faithfully!(unit_replays, make_unit, (), ());
replays_faithfully!(none_replays, make_none, Option<u32>, None);
replays_faithfully!(some_zero_replays, make_some_zero, Option<u32>, Some(0));
replays_faithfully!(zero_replays, make_zero, u64, 0);
replays_faithfully!(false_replays, make_false, bool, false);
replays_faithfully!(
    empty_string_replays,
    make_empty_string,
    String,
    String::new()
);
replays_faithfully!(empty_vec_replays, make_empty_vec, Vec<String>, Vec::new());
replays_faithfully!(empty_map_replays, make_empty_map, BTreeMap<String, u8>, BTreeMap::new());
replays_faithfully!(
    nested_replays,
    make_nested,
    (Option<bool>, Vec<Option<i8>>),
    (Some(false), vec![None, Some(-1)])
);

#[test]
fn a_handler_without_return_type_replays_unit() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn touch(token: String) {
        RUNS.fetch_add(1, SeqCst);
    }
    touch("unit-fn".into()).unwrap();
    touch("unit-fn".into()).unwrap();
    assert_eq!(RUNS.load(SeqCst), 1);
}

#[test]
fn a_one_argument_result_alias_is_fallible() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    fn read_config(path: String, token: &str) -> std::io::Result<u32> {
        RUNS.fetch_add(1, SeqCst);
        if path.is_empty() {
            return Err(std::io::Error::other("empty path"));
        }
        Ok(7)
    }
    let err: ReadConfigError = read_config(String::new(), "io-alias").unwrap_err();
    assert_eq!(
        err.handler_error().map(|e| e.to_string()),
        Some("empty path".into())
    );
    assert_eq!(read_config("a".into(), "io-alias").unwrap(), 7);
    assert_eq!(read_config("a".into(), "io-alias").unwrap(), 7);
    assert_eq!(
        RUNS.load(SeqCst),
        2,
        "the error released the token; the success was replayed"
    );
}
