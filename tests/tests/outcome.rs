//! Replays are visible: the `{fn}_with_outcome` companion says whether a result was replayed,
//! without the handler's signature changing.

use idempotent_runtime::{idempotent, MemoryStore, Outcome};

#[idempotent(token = "token")]
fn create_share(name: String, token: &str) -> Result<String, String> {
    Ok(format!("share-{name}"))
}

#[test]
fn the_first_call_is_fresh_and_the_retry_replayed() {
    let first: Outcome<String> = create_share_with_outcome("data".into(), "o-1").unwrap();
    assert!(!first.replayed());
    let retry = create_share_with_outcome("data".into(), "o-1").unwrap();
    assert!(retry.replayed());
    assert_eq!(retry.value(), first.value());
    // The handler itself still answers the plain value, from the same record.
    assert_eq!(create_share("data".into(), "o-1").unwrap(), "share-data");
    // No token: nothing to replay.
    assert!(!create_share_with_outcome_no_token());
}

fn create_share_with_outcome_no_token() -> bool {
    #[idempotent(token = "token")]
    fn ping(token: Option<String>) -> u8 {
        1
    }
    ping_with_outcome(None).unwrap().replayed()
}

struct Shares {
    store: MemoryStore,
}

impl Shares {
    #[idempotent(token = "token", store = self.store)]
    pub async fn create(&self, name: String, token: String) -> String {
        format!("share-{name}")
    }
}

#[tokio::test]
async fn a_public_async_method_has_a_companion_too() {
    let shares = Shares {
        store: MemoryStore::new(),
    };
    assert!(!shares
        .create_with_outcome("a".into(), "o-2".into())
        .await
        .unwrap()
        .replayed());
    let again = shares
        .create_with_outcome("a".into(), "o-2".into())
        .await
        .unwrap();
    assert!(again.replayed());
    assert_eq!(again.into_inner(), "share-a");
}
