use idempotent_runtime::{idempotent, SqliteStore};

struct Orders {
    store: SqliteStore,
}

impl Orders {
    #[idempotent(token = "token", store = self.store, tx = "tx")]
    async fn create(&self, item: String, token: String, tx: &rusqlite::Transaction<'_>) -> u32 {
        1
    }
}

fn main() {}
