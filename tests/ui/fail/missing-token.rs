use idempotent_runtime::idempotent;

#[idempotent(name = "CreateRouteTable")]
fn create_route_table(vpc_id: String, client_token: Option<String>) -> String {
    vpc_id
}

fn main() {}
