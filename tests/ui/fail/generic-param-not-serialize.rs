use idempotent_runtime::idempotent;

#[idempotent(token = "client_token")]
fn create<T: Clone>(item: T, client_token: String) -> u32 {
    let _ = item.clone();
    1
}

fn main() {}
