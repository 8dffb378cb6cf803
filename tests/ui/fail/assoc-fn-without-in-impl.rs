use idempotent_runtime::idempotent;

struct Vpcs;

impl Vpcs {
    #[idempotent(token = "client_token")]
    pub fn create(cidr: String, client_token: String) -> String {
        cidr
    }
}

fn main() {}
