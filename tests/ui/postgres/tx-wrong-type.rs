use idempotent_runtime::store::postgres::tokio_postgres::Client;
use idempotent_runtime::{idempotent, PostgresStore};

struct Orders {
    store: PostgresStore,
}

impl Orders {
    #[idempotent(token = "token", store = self.store, tx = "tx")]
    async fn create(&self, item: String, token: &str, tx: &Client) -> u32 {
        1
    }
}

fn main() {}
