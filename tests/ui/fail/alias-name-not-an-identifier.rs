use idempotent_runtime::idempotent;

// Found by the `attribute` fuzz target: the alias `0idError` made the macro panic.
#[idempotent(token = "token")]
fn _0id(size: u32, token: &str) -> u32 {
    size
}

fn main() {}
