use idempotent_runtime::idempotent;

#[idempotent(token = "token", skip(ghost), concurrent = "maybe", colour = "red")]
fn create_route_table(vpc_id: String, client_token: String) -> String {
    vpc_id
}

fn main() {}
