use idempotent_runtime::idempotent;

struct Catalog {
    name: String,
}

impl Catalog {
    #[idempotent(token = "client_token")]
    pub fn create_entry(&self, client_token: String) -> Result<&str, String> {
        Ok(&self.name)
    }
}

fn main() {}
