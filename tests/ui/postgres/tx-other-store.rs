use idempotent_runtime::store::postgres::tokio_postgres::Transaction;
use idempotent_runtime::{idempotent, RedisStore};

struct Orders {
    store: RedisStore,
}

impl Orders {
    #[idempotent(token = "token", store = self.store, tx = "tx")]
    async fn create(&self, item: String, token: &str, tx: &Transaction<'_>) -> u32 {
        1
    }
}

fn main() {}
