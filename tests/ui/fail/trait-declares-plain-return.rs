use idempotent_runtime::idempotent;

trait Vpcs {
    fn create(&self, cidr: String, client_token: String) -> String;
}

struct Cloud;

impl Vpcs for Cloud {
    #[idempotent(token = "client_token")]
    fn create(&self, cidr: String, client_token: String) -> String {
        cidr
    }
}

fn main() {}
