use idempotent_runtime::idempotent;

struct Vpcs;

impl Vpcs {
    #[idempotent(token = "client_token", skip(self))]
    fn create_route_table(&self, vpc_id: String, client_token: String) -> String {
        vpc_id
    }
}

fn main() {}
