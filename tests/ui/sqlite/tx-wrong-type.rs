use idempotent_runtime::{idempotent, SqliteStore};

struct Orders {
    store: SqliteStore,
}

impl Orders {
    #[idempotent(token = "token", store = self.store, tx = "tx")]
    fn create(&self, item: String, token: &str, tx: &rusqlite::Connection) -> u32 {
        1
    }
}

fn main() {}
