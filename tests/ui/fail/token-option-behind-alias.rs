use idempotent_runtime::idempotent;

type MaybeToken = Option<String>;

#[idempotent(token = "client_token")]
fn create_route_table(vpc_id: String, client_token: MaybeToken) -> String {
    vpc_id
}

fn main() {}
