use idempotent_runtime::idempotent;

#[idempotent(token = "token")]
extern "C" fn create(size: u32, token: u64) -> u32 {
    size
}

fn main() {}
