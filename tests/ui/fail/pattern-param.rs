use idempotent_runtime::idempotent;

#[idempotent(token = "client_token")]
fn create_route_table((vpc_id, cidr): (String, String), client_token: String) -> String {
    vpc_id + &cidr
}

fn main() {}
