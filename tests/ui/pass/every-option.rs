use idempotent_runtime::{idempotent, MemoryStore};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

static STORE: LazyLock<MemoryStore> = LazyLock::new(MemoryStore::new);

#[derive(Debug, Serialize, Deserialize)]
pub struct Ec2Error;

/// Every option at once, on a generic fn.
#[idempotent(
    token = "client_token",
    store = &*STORE,
    name = "CreateRouteTable",
    scope = "account",
    skip(trace),
    ttl = "7d",
    lease = "500ms",
    concurrent = "wait",
    cache_errors,
    heartbeat = false,
    error = "RouteTableFailure",
)]
pub fn create_route_table<T: Serialize>(
    account: u64,
    vpc_id: T,
    trace: &str,
    client_token: Option<&str>,
) -> Result<String, Ec2Error> {
    let _ = (account, trace);
    serde_json_free(&vpc_id)
}

fn serde_json_free<T: Serialize>(_: &T) -> Result<String, Ec2Error> {
    Ok("rtb-1".into())
}

fn main() {
    let first: Result<String, RouteTableFailure> = create_route_table(1, "vpc-1", "t", Some("tok"));
    assert_eq!(first.unwrap(), "rtb-1");
}
