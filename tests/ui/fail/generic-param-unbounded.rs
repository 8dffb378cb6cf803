use idempotent_runtime::idempotent;

#[idempotent(token = "client_token")]
fn create<T>(item: T, client_token: String) -> u32 {
    let _ = item;
    1
}

#[idempotent(token = "client_token")]
fn load<T>(client_token: String) -> Result<T, String> {
    Err(client_token)
}

fn main() {}
