use idempotent_runtime::idempotent;

#[derive(Debug)]
struct ApiError;

#[idempotent(token = "token", fallible)]
fn create(size: u32, token: &str) -> Result<u32, ApiError> {
    Ok(size)
}

fn main() {}
