use idempotent_runtime::store::postgres::tokio_postgres::Transaction;
use idempotent_runtime::{idempotent, PostgresStore};

struct Orders {
    store: PostgresStore,
}

impl Orders {
    #[idempotent(token = "token", store = self.store, tx = "tx")]
    fn create(&self, item: String, token: &str, tx: &Transaction<'_>) -> u32 {
        1
    }
}

fn main() {}
