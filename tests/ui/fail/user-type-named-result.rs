use idempotent_runtime::idempotent;

#[derive(serde::Serialize, serde::Deserialize)]
struct Result<T> {
    value: T,
}

#[idempotent(token = "client_token")]
fn create_route_table(vpc_id: String, client_token: String) -> Result<String> {
    Result { value: vpc_id }
}

fn main() {}
