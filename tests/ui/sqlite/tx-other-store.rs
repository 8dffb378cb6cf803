use idempotent_runtime::{idempotent, MemoryStore};

struct Orders {
    store: MemoryStore,
}

impl Orders {
    #[idempotent(token = "token", store = self.store, tx = "tx")]
    fn create(&self, item: String, token: &str, tx: &rusqlite::Transaction<'_>) -> u32 {
        1
    }
}

fn main() {}
