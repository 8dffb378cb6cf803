use idempotent_runtime::idempotent;

#[idempotent(token = "client_token", retries = 3)]
fn create_route_table(vpc_id: String, client_token: Option<String>) -> String {
    vpc_id
}

fn main() {}
