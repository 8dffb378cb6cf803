//! The DynamoDB-compatible server the tests use: moto on 127.0.0.1:8000 (`scripts/test`
//! starts it from a virtual environment), or the endpoint in `IDEMPOTENT_TEST_DYNAMODB`; dummy
//! credentials, and a table of each test's own, deleted afterwards.

use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::config::{
    BehaviorVersion, Credentials, Region,
};
use idempotent_runtime::store::dynamodb::aws_sdk_dynamodb::{Client, Config};
use idempotent_runtime::DynamoDbStore;

/// The endpoint of the test server.
pub fn endpoint() -> String {
    std::env::var("IDEMPOTENT_TEST_DYNAMODB").unwrap_or_else(|_| "http://127.0.0.1:8000".into())
}

/// A client for `endpoint` with dummy credentials.
pub fn client_for(endpoint: &str) -> Client {
    let config = Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}

/// A client for the test server.
pub fn client() -> Client {
    client_for(&endpoint())
}

/// Checks that the server accepts connections; panics with how to start it if not. Tests
/// never skip silently.
pub fn require() {
    let address = endpoint()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    if let Err(err) = std::net::TcpStream::connect(&address) {
        panic!(
            "no DynamoDB-compatible server at {} ({err}). Run `scripts/test`, which starts moto \
             (`pip install 'moto[server]'` in a virtual environment, then `moto_server -H \
             127.0.0.1 -p 8000`), or set IDEMPOTENT_TEST_DYNAMODB to your endpoint.",
            endpoint()
        );
    }
}

/// A table name no other test or run uses (DynamoDB allows 3 to 255 of `[A-Za-z0-9_.-]`).
pub fn unique_table(label: &str) -> String {
    let label: String = label.chars().take(40).collect();
    format!("idempotent-test-{}", crate::stores::unique(&label))
}

/// A store in a fresh table, created now.
pub async fn store(table: &str) -> DynamoDbStore {
    let store = DynamoDbStore::new(client(), table);
    store.create_table().await.expect("creates the table");
    store
}

/// Deletes `table`, from any context (a test's drop included): on a thread with a runtime of
/// its own.
pub fn delete_table(table: &str) {
    let table = table.to_owned();
    let deleted = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let _ = client().delete_table().table_name(table).send().await;
        });
    });
    let _ = deleted.join();
}
