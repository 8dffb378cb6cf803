use std::time::Duration;

use idempotent_runtime::store::{AsyncStore, Begin, Fence, Finish};
use idempotent_runtime::{idempotent, StoreError};
use idempotent_runtime::fingerprint::Fingerprint;
use idempotent_runtime::store::Key;

#[derive(Clone)]
struct AsyncOnly;

impl AsyncStore for AsyncOnly {
    async fn begin(&self, _: &Key, _: &Fingerprint, _: Duration) -> Result<Begin, StoreError> {
        unimplemented!()
    }
    async fn complete(&self, _: &Key, _: Fence, _: &[u8], _: Duration) -> Result<Finish, StoreError> {
        unimplemented!()
    }
    async fn release(&self, _: &Key, _: Fence) -> Result<Finish, StoreError> {
        unimplemented!()
    }
    async fn renew(&self, _: &Key, _: Fence, _: Duration) -> Result<Finish, StoreError> {
        unimplemented!()
    }
    fn release_detached(&self, _: Key, _: Fence) {}
}

#[idempotent(token = "client_token", store = AsyncOnly)]
fn create_route_table(vpc_id: String, client_token: String) -> String {
    vpc_id
}

fn main() {}
