use idempotent_runtime::idempotent;

#[derive(Debug)]
struct Ec2Error;

#[idempotent(token = "client_token", cache_errors)]
fn create_route_table(vpc_id: String, client_token: String) -> Result<String, Ec2Error> {
    Ok(vpc_id)
}

fn main() {}
