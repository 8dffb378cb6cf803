//! Records written by the first release are still found and replayed after an upgrade: the
//! default operation names of free fns and inherent methods make the same keys as before, and
//! an output recorded in the first release's format (MessagePack) replays.

use std::sync::LazyLock;
use std::time::Duration;

use idempotent_runtime::fingerprint::Fingerprinter;
use idempotent_runtime::store::{Begin, ExistingState, Key, Operation};
use idempotent_runtime::{idempotent, MemoryStore, Store};

static STORE: LazyLock<MemoryStore> = LazyLock::new(MemoryStore::new);

#[idempotent(token = "token", store = &*STORE)]
fn create_volume(size: u32, token: &str) -> u32 {
    size
}

struct Volumes;

impl Volumes {
    #[idempotent(token = "token", store = &*STORE)]
    fn attach(&self, size: u32, token: &str) -> u32 {
        size
    }
}

/// The key the first release made for a default-named handler.
fn first_release_key(self_ty: Option<&'static str>, function: &'static str, token: &str) -> Key {
    let operation = Operation::Path {
        module: module_path!(),
        self_ty,
        function,
        generics: None,
        site: None,
    };
    Key::new(operation, None, token).unwrap()
}

fn fingerprint() -> idempotent_runtime::fingerprint::Fingerprint {
    let mut fp = Fingerprinter::new();
    fp.param("size", &8u32);
    fp.finish().unwrap()
}

fn is_completed(key: &Key) -> bool {
    match Store::begin(&*STORE, key, &fingerprint(), Duration::from_secs(60)).unwrap() {
        Begin::Existing(existing) => matches!(existing.state, ExistingState::Completed { .. }),
        Begin::Acquired { fence, .. } => {
            Store::release(&*STORE, key, fence).unwrap();
            false
        }
    }
}

#[test]
fn default_names_of_free_fns_and_inherent_methods_keep_their_keys() {
    assert_eq!(create_volume(8, "free-fn").unwrap(), 8);
    assert!(is_completed(&first_release_key(
        None,
        "create_volume",
        "free-fn"
    )));

    assert_eq!(Volumes.attach(8, "method").unwrap(), 8);
    let self_ty = std::any::type_name::<Volumes>();
    assert!(is_completed(&first_release_key(
        Some(self_ty),
        "attach",
        "method"
    )));

    // And the key is really the one the handler uses: a record made under it replays.
    let key = first_release_key(None, "create_volume", "made-by-hand");
    let Begin::Acquired { fence, .. } =
        Store::begin(&*STORE, &key, &fingerprint(), Duration::from_secs(60)).unwrap()
    else {
        panic!("a fresh key is free");
    };
    let first_release_output = [0x01, b'O', 0x2a]; // MessagePack 42
    Store::complete(
        &*STORE,
        &key,
        fence,
        &first_release_output,
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(
        create_volume(8, "made-by-hand").unwrap(),
        42,
        "replayed, not run"
    );
}
