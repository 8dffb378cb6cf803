use idempotent_runtime::idempotent;

#[idempotent(token = "client_token", lease = 30, ttl = 86400)]
fn create_route_table(vpc_id: String, client_token: String) -> String {
    vpc_id
}

fn main() {}
