//! The request, response and handler the benchmarks share, and two hand-written baselines:
//!
//! - [`tight`]: what a careful engineer writes by hand: a compact serde encoding staged on the
//!   stack and one SHA-256, one map insert, a compact output encoding;
//! - [`naive`]: what a hurried one writes: serde_json, a hex digest, `Mutex<HashMap<String, String>>`.
//!
//! Each takes the request by value and runs [`handler`], as `#[idempotent]` does, so the
//! benchmarks compare only what is wrapped around the handler.

pub mod naive;
pub mod tight;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A ~200-byte create request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateRouteTable {
    /// The VPC.
    pub vpc_id: String,
    /// The table's CIDR block.
    pub cidr: String,
    /// Free text.
    pub description: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
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
        vpc_id: "vpc-00c84bd9dcad1d728".into(),
        cidr: "10.0.0.0/16".into(),
        description: "route table for the private subnets of the payments service".into(),
        tags,
    }
}

/// The handler's own work: builds the response from the request.
pub fn handler(request: CreateRouteTable) -> RouteTable {
    RouteTable {
        route_table_id: "rtb-0899b6226d3a3ef9a".into(),
        routes: vec![request.cidr],
        vpc_id: request.vpc_id,
        owner_id: "141035231386".into(),
        tags: request.tags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_response_are_about_two_hundred_bytes() {
        let request = serde_json::to_vec(&sample_request())
            .unwrap_or_default()
            .len();
        let response = serde_json::to_vec(&handler(sample_request()))
            .unwrap_or_default()
            .len();
        assert!((150..300).contains(&request), "{request}");
        assert!((150..300).contains(&response), "{response}");
    }
}
