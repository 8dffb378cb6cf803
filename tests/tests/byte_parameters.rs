//! Byte-sequence parameters: the macro hands a `Vec<u8>`, `&[u8]` or `[u8; N]` to the
//! fingerprint whole (one copy, not a call per byte), and the result is the fingerprint
//! serde's own path gives, so a handler whose type is spelled another way (an alias) agrees.
//! A record written before fingerprint version 2 still replays (feature `fingerprint-v1`).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use std::time::Duration;

use idempotent_runtime::fingerprint::Fingerprint;
use idempotent_runtime::store::{Begin, Key, Operation};
use idempotent_runtime::{idempotent, IdempotencyError, MemoryStore, Store};

/// Spelled so that the macro cannot see the bytes: serde's path, element by element.
type Blob = Vec<u8>;

struct Uploads {
    store: MemoryStore,
    runs: AtomicUsize,
}

impl Uploads {
    fn new() -> Self {
        Self {
            store: MemoryStore::new(),
            runs: AtomicUsize::new(0),
        }
    }

    #[idempotent(token = "token", store = self.store, name = "Upload")]
    fn upload(&self, data: Vec<u8>, digest: [u8; 4], token: &str) -> usize {
        self.runs.fetch_add(1, SeqCst) + data.len() + digest.len()
    }

    #[idempotent(token = "token", store = self.store, name = "Upload")]
    fn upload_aliased(&self, data: Blob, digest: (u8, u8, u8, u8), token: &str) -> usize {
        let _ = digest;
        self.runs.fetch_add(1, SeqCst) + data.len() + 4
    }

    #[idempotent(token = "token", store = self.store, name = "Upload")]
    fn upload_borrowed(&self, data: &[u8], digest: &[u8; 4], token: &str) -> usize {
        self.runs.fetch_add(1, SeqCst) + data.len() + digest.len()
    }
}

fn payload() -> Vec<u8> {
    (0..70_000u32).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_byte_parameter_given_whole_matches_one_written_another_way() {
    let uploads = Uploads::new();
    let first = uploads.upload(payload(), [1, 0, 2, 3], "bytes-1").unwrap();
    let aliased = uploads
        .upload_aliased(payload(), (1, 0, 2, 3), "bytes-1")
        .unwrap();
    let borrowed = uploads
        .upload_borrowed(&payload(), &[1, 0, 2, 3], "bytes-1")
        .unwrap();
    assert_eq!((first, aliased, borrowed), (first, first, first));
    assert_eq!(uploads.runs.load(SeqCst), 1, "the retries replayed");
}

#[test]
fn one_changed_byte_is_a_mismatch_that_names_its_parameter() {
    let uploads = Uploads::new();
    uploads.upload(payload(), [1, 0, 2, 3], "bytes-2").unwrap();
    let mut changed = payload();
    changed[69_999] ^= 1;
    match uploads.upload_borrowed(&changed, &[1, 0, 2, 3], "bytes-2") {
        Err(IdempotencyError::IdempotentParameterMismatch { mismatched, .. }) => {
            assert_eq!(mismatched, ["data"]);
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    match uploads.upload(payload(), [1, 0, 2, 4], "bytes-2") {
        Err(IdempotencyError::IdempotentParameterMismatch { mismatched, .. }) => {
            assert_eq!(mismatched, ["digest"]);
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert_eq!(uploads.runs.load(SeqCst), 1);
}

#[test]
fn an_empty_byte_sequence_is_a_parameter_like_any_other() {
    let uploads = Uploads::new();
    let first = uploads.upload(Vec::new(), [0; 4], "bytes-3").unwrap();
    let aliased = uploads
        .upload_aliased(Blob::new(), (0, 0, 0, 0), "bytes-3")
        .unwrap();
    assert_eq!(first, aliased);
    assert!(matches!(
        uploads.upload_borrowed(&[0], &[0; 4], "bytes-3"),
        Err(IdempotencyError::IdempotentParameterMismatch { .. })
    ));
}

/// A record the first release wrote for `upload(data: [1, 200], digest: [0, 0, 0, 255])`:
/// version 1's fingerprint (the bytes as integers, hashed outside Rust from `01`,
/// `06 "data" 00 0a 03 01 03 c8 01 0b`, `06 "digest" 00 0a 03 00 03 00 03 00 03 ff 01 0b`)
/// and the output 4242. The handler replays it after the upgrade instead of answering a
/// mismatch, and does not run.
#[test]
fn a_record_written_before_version_2_still_replays() {
    let uploads = Uploads::new();
    let key = Key::new(Operation::Named("Upload"), None, "bytes-v1").expect("a key");
    let version_1 = [
        153, 114, 200, 149, 5, 130, 6, 229, 150, 95, 89, 227, 30, 117, 223, 58, 163, 6, 248, 196,
        169, 148, 183, 189, 106, 196, 42, 174, 53, 120, 26, 123,
    ];
    let written = Fingerprint::from_parts(version_1, Vec::new());
    let Ok(Begin::Acquired { fence, .. }) =
        Store::begin(&uploads.store, &key, &written, Duration::from_secs(60))
    else {
        panic!("a fresh store acquires");
    };
    let output = [0x02, b'O', 0x05, 0x92, 0x21]; // Ok(4242usize), format 02
    Store::complete(
        &uploads.store,
        &key,
        fence,
        &output,
        Duration::from_secs(3600),
    )
    .expect("completes");
    assert_eq!(
        uploads
            .upload(vec![1, 200], [0, 0, 0, 255], "bytes-v1")
            .unwrap(),
        4242
    );
    assert_eq!(
        uploads
            .upload_borrowed(&[1, 200], &[0, 0, 0, 255], "bytes-v1")
            .unwrap(),
        4242
    );
    assert_eq!(uploads.runs.load(SeqCst), 0, "replayed, not run");
    assert!(matches!(
        uploads.upload(vec![1, 201], [0, 0, 0, 255], "bytes-v1"),
        Err(IdempotencyError::IdempotentParameterMismatch { .. })
    ));
}
