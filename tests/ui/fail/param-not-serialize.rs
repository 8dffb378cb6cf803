use idempotent_runtime::idempotent;

struct Pool;

#[idempotent(token = "client_token")]
fn create_route_table(pool: Pool, vpc_id: String, client_token: String) -> String {
    let _ = pool;
    vpc_id
}

fn main() {}
