//! The EC2 CLI session of `CreateRouteTable` with `--client-token`, reproduced:
//!
//! 1. create a route table with a token: it is created and printed with its `ClientToken`;
//! 2. retry with the same token and arguments: the same `RouteTableId` comes back, nothing new
//!    is created;
//! 3. the same token with another VPC: `IdempotentParameterMismatch`.
//!
//! Run it with `cargo run --example route_table`.

use std::sync::atomic::{AtomicU64, Ordering};

use idempotent_runtime::{idempotent, IdempotencyError};
use serde::{Deserialize, Serialize};

/// The route table EC2 answers with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RouteTable {
    associations: Vec<String>,
    propagating_vgws: Vec<String>,
    route_table_id: String,
    routes: Vec<Route>,
    tags: Vec<String>,
    vpc_id: String,
    owner_id: String,
}

/// One route of a route table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Route {
    destination_cidr_block: String,
    gateway_id: String,
    origin: String,
    state: String,
}

/// The response of `CreateRouteTable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRouteTableResponse {
    route_table: RouteTable,
    client_token: Option<String>,
}

/// The service's own errors.
#[derive(Debug)]
enum Ec2Error {
    /// The VPC does not exist.
    InvalidVpcId(String),
}

impl std::fmt::Display for Ec2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ec2Error::InvalidVpcId(id) => write!(f, "The vpc ID '{id}' does not exist"),
        }
    }
}

impl std::error::Error for Ec2Error {}

/// How many route tables were really created (the side effect that must happen once).
static CREATED: AtomicU64 = AtomicU64::new(0);

/// `aws ec2 create-route-table --vpc-id .. --client-token ..`
#[idempotent(token = "client_token", name = "CreateRouteTable")]
fn create_route_table(
    vpc_id: String,
    client_token: Option<String>,
) -> Result<CreateRouteTableResponse, Ec2Error> {
    if !vpc_id.starts_with("vpc-") {
        return Err(Ec2Error::InvalidVpcId(vpc_id));
    }
    let serial = CREATED.fetch_add(1, Ordering::SeqCst) + 1;
    let route_table = RouteTable {
        associations: vec![],
        propagating_vgws: vec![],
        route_table_id: format!(
            "rtb-{:017x}",
            (u128::from(serial) * 0x0_899b_6226_d3a3_ef9a) % (1 << 68)
        ),
        routes: vec![Route {
            destination_cidr_block: "10.0.0.0/16".into(),
            gateway_id: "local".into(),
            origin: "CreateRouteTable".into(),
            state: "active".into(),
        }],
        tags: vec![],
        vpc_id,
        owner_id: "141035231386".into(),
    };
    Ok(CreateRouteTableResponse {
        route_table,
        client_token,
    })
}

/// The error code the AWS CLI prints for each outcome.
fn error_code(err: &CreateRouteTableError) -> &'static str {
    match err {
        IdempotencyError::IdempotentParameterMismatch { .. } => "IdempotentParameterMismatch",
        IdempotencyError::RequestInProgress { .. } => "IdempotentRequestInProgress",
        IdempotencyError::InvalidToken { .. } => "InvalidClientToken",
        IdempotencyError::Handler(Ec2Error::InvalidVpcId(_)) => "InvalidVpcID.NotFound",
        _ => "InternalError",
    }
}

/// Runs one CLI command and prints what the CLI would.
fn cli(vpc_id: &str, client_token: &str) {
    println!("$ aws ec2 create-route-table --vpc-id {vpc_id} --client-token {client_token}");
    match create_route_table_with_outcome(vpc_id.to_owned(), Some(client_token.to_owned())) {
        Ok(outcome) => {
            let replayed = outcome.replayed();
            match serde_json::to_string_pretty(&outcome.into_inner()) {
                Ok(json) => println!("{json}"),
                Err(err) => eprintln!("could not print the response: {err}"),
            }
            if replayed {
                println!("(replayed, the handler did not run)");
            }
            println!();
        }
        Err(err) => {
            let first_line = err.to_string();
            let first_line = first_line.lines().next().unwrap_or_default();
            println!(
                "\nAn error occurred ({}) when calling the CreateRouteTable operation: {first_line}",
                error_code(&err)
            );
            if let IdempotencyError::IdempotentParameterMismatch { mismatched, .. } = &err {
                println!("(parameters that differ: {})", mismatched.join(", "));
            }
            println!();
        }
    }
}

fn main() {
    let token = "abf653c2-09a2-426d-bd2d-acaac0c98a28";
    cli("vpc-00c84bd9dcad1d728", token);
    cli("vpc-00c84bd9dcad1d728", token);
    cli("vpc-03683f950edba6643", token);
    println!("route tables created: {}", CREATED.load(Ordering::SeqCst));
}
