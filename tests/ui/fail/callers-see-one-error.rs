use idempotent_runtime::idempotent;

#[idempotent(token = "client_tokn")]
fn create_route_table(vpc_id: String, client_token: String) -> Result<String, std::io::Error> {
    Ok(vpc_id)
}

fn caller() -> Result<String, CreateRouteTableError> {
    let id = create_route_table("vpc-1".into(), "token".into())?;
    Ok(id)
}

fn main() {
    let _ = caller();
}
