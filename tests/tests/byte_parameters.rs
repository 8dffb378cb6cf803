//! Byte-sequence parameters: the macro hands a `Vec<u8>`, `&[u8]` or `[u8; N]` to the
//! fingerprint whole (one copy, not a call per byte), and the result is the fingerprint
//! serde's own path gives, so a handler whose type is spelled another way (an alias) agrees.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use idempotent_runtime::{idempotent, IdempotencyError, MemoryStore};

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
