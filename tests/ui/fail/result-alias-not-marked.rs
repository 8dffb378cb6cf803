use idempotent_runtime::idempotent;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct ApiError;

type ApiResult<T> = Result<T, ApiError>;

#[idempotent(token = "token")]
fn create(size: u32, token: &str) -> ApiResult<u32> {
    Ok(size)
}

fn main() {}
