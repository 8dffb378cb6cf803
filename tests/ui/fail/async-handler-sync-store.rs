use std::time::Duration;

use idempotent_runtime::fingerprint::Fingerprint;
use idempotent_runtime::store::{Begin, Fence, Finish, Key, Store};
use idempotent_runtime::{idempotent, StoreError};

#[derive(Clone)]
struct BlockingOnly;

impl Store for BlockingOnly {
    fn begin(&self, _: &Key, _: &Fingerprint, _: Duration) -> Result<Begin, StoreError> {
        unimplemented!()
    }
    fn complete(&self, _: &Key, _: Fence, _: &[u8], _: Duration) -> Result<Finish, StoreError> {
        unimplemented!()
    }
    fn release(&self, _: &Key, _: Fence) -> Result<Finish, StoreError> {
        unimplemented!()
    }
    fn renew(&self, _: &Key, _: Fence, _: Duration) -> Result<Finish, StoreError> {
        unimplemented!()
    }
}

#[idempotent(token = "client_token", store = BlockingOnly)]
async fn create_route_table(vpc_id: String, client_token: String) -> String {
    vpc_id
}

fn main() {}
