use idempotent_runtime::idempotent;

struct RouteTable {
    id: String,
}

#[idempotent(token = "client_token")]
fn create_route_table(vpc_id: String, client_token: String) -> Result<RouteTable, String> {
    Ok(RouteTable { id: vpc_id })
}

fn main() {}
