use idempotent_runtime::idempotent;

#[idempotent(token = "client_token")]
fn create_route_table(vpc_id: impl AsRef<str>, client_token: String) -> String {
    vpc_id.as_ref().to_owned()
}

fn main() {}
