//! A store behind `&`, `Arc` or `Box` serves both kinds of handler.
use std::sync::Arc;

use idempotent_runtime::{idempotent, MemoryStore};

struct Service {
    shared: Arc<MemoryStore>,
    boxed: Box<MemoryStore>,
}

impl Service {
    #[idempotent(token = "token", store = self.shared)]
    fn shared(&self, n: u32, token: &str) -> u32 {
        n
    }

    #[idempotent(token = "token", store = self.shared)]
    async fn shared_async(&self, n: u32, token: String) -> u32 {
        n
    }

    #[idempotent(token = "token", store = self.boxed)]
    fn boxed(&self, n: u32, token: &str) -> u32 {
        n
    }

    #[idempotent(token = "token", store = self.boxed)]
    async fn boxed_async(&self, n: u32, token: String) -> u32 {
        n
    }

    #[idempotent(token = "token", store = &*self.boxed)]
    async fn borrowed_async(&self, n: u32, token: String) -> u32 {
        n
    }
}

fn main() {
    let service = Service {
        shared: Arc::new(MemoryStore::new()),
        boxed: Box::new(MemoryStore::new()),
    };
    assert_eq!(service.shared(1, "a").unwrap(), 1);
    assert_eq!(service.boxed(2, "b").unwrap(), 2);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        assert_eq!(service.shared_async(3, "c".into()).await.unwrap(), 3);
        assert_eq!(service.boxed_async(4, "d".into()).await.unwrap(), 4);
        assert_eq!(service.borrowed_async(5, "e".into()).await.unwrap(), 5);
    });
}
