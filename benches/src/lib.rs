//! The request, response and handler the benchmarks share, and two hand-written baselines:
//!
//! - [`tight`]: what a careful engineer writes by hand: postcard on the stack and one SHA-256,
//!   an inline key, one `foldhash` map, an in-progress record, postcard output; the same store
//!   also runs on the attribute's own encodings, to split the guarantees' cost from the
//!   machinery's;
//! - [`naive`]: what a hurried one writes: serde_json, a hex digest, a `format!` key,
//!   `Mutex<HashMap<String, String>>` of JSON records.
//!
//! Each takes the request by value and runs the handler it is given (the benchmarks give
//! [`handler`]), as `#[idempotent]` does, so they compare only what is wrapped around it. The
//! integration tests hold both to the same semantics as the attribute: a replay does not run the
//! handler, another request under a token is a mismatch, a duplicate of a running request is
//! refused; so neither can be faster by doing less (`tests/tests/baselines.rs`, which runs
//! under the workspace's `cargo test`).

pub mod naive;
pub mod phase;
pub mod tight;

use std::collections::BTreeMap;

use idempotent_runtime::{idempotent, MemoryStore};
use serde::{Deserialize, Serialize};

/// A ~200-byte create request: two UUID-sized strings, a u64, a bool, three tags, an Option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateRouteTable {
    /// The VPC.
    pub vpc_id: String,
    /// The caller's own request id.
    pub request_id: String,
    /// How many routes the table may hold.
    pub max_routes: u64,
    /// Whether gateway routes propagate into it.
    pub propagate: bool,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Free text, if any.
    pub description: Option<String>,
}

/// A ~200-byte response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteTable {
    /// The new table's id.
    pub route_table_id: String,
    /// The VPC.
    pub vpc_id: String,
    /// Routes, as CIDR blocks.
    pub routes: Vec<String>,
    /// The owner account.
    pub owner_id: String,
    /// Tags, copied from the request.
    pub tags: BTreeMap<String, String>,
}

/// The request the benchmarks send.
pub fn sample_request() -> CreateRouteTable {
    let tags = [
        ("env", "production"),
        ("team", "networking"),
        ("cost-center", "cc-4711"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    CreateRouteTable {
        vpc_id: "vpc-00c84bd9dcad1d728-4f7e-9a55-0c7a".into(),
        request_id: "8e03978e-40d5-43e8-bc93-6894a57f9324".into(),
        max_routes: 50,
        propagate: true,
        tags,
        description: Some("private subnets".into()),
    }
}

/// The handler's own work: builds the response from the request.
pub fn handler(request: CreateRouteTable) -> RouteTable {
    RouteTable {
        route_table_id: "rtb-0899b6226d3a3ef9a".into(),
        routes: vec!["10.0.0.0/16".into(), request.request_id],
        vpc_id: request.vpc_id,
        owner_id: "141035231386".into(),
        tags: request.tags,
    }
}

/// `#[idempotent]` around [`handler`], as every benchmark calls it.
#[derive(Default)]
pub struct Service {
    /// Its store.
    pub store: MemoryStore,
}

impl Service {
    /// [`handler`], made idempotent.
    #[idempotent(token = "token", store = self.store, name = "CreateRouteTable")]
    pub fn create(&self, request: CreateRouteTable, token: &str) -> RouteTable {
        handler(request)
    }

    /// [`handler`] as an async fn, made idempotent.
    #[idempotent(token = "token", store = self.store, name = "CreateRouteTableAsync")]
    pub async fn create_async(&self, request: CreateRouteTable, token: &str) -> RouteTable {
        handler(request)
    }
}
