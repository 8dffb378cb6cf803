//! Inherent methods (`&self`, `&mut self`), associated fns (`in_impl`) and trait-impl methods,
//! each with `store = self.store` or a store of its own.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use idempotent_runtime::{idempotent, IdempotencyError, MemoryStore};

struct Vpcs {
    store: MemoryStore,
    created: AtomicUsize,
    total: u32,
}

impl Vpcs {
    fn new() -> Self {
        Self {
            store: MemoryStore::new(),
            created: AtomicUsize::new(0),
            total: 0,
        }
    }

    /// Doc comments and visibility stay on the method.
    #[idempotent(token = "token", store = self.store)]
    pub fn create(&self, cidr: String, token: &str) -> Result<String, String> {
        let n = self.created.fetch_add(1, SeqCst);
        Ok(format!("vpc-{n}-{cidr}"))
    }

    #[idempotent(token = "token", store = self.store.clone())]
    fn add(&mut self, by: u32, token: String) -> u32 {
        self.total += by;
        self.total
    }

    #[idempotent(token = "token", in_impl)]
    fn describe(size: u32, token: &str) -> u32 {
        size
    }
}

#[test]
fn a_shared_ref_method_uses_its_own_store() {
    let vpcs = Vpcs::new();
    let first = vpcs.create("10.0.0.0/16".into(), "m-1").unwrap();
    assert_eq!(vpcs.create("10.0.0.0/16".into(), "m-1").unwrap(), first);
    assert_eq!(vpcs.created.load(SeqCst), 1);

    let other = Vpcs::new();
    other.create("10.0.0.0/16".into(), "m-1").unwrap();
    assert_eq!(
        other.created.load(SeqCst),
        1,
        "another store holds other records"
    );
}

#[test]
fn a_mut_ref_method_mutates_once() {
    let mut vpcs = Vpcs::new();
    assert_eq!(vpcs.add(5, "add-1".into()).unwrap(), 5);
    assert_eq!(vpcs.add(5, "add-1".into()).unwrap(), 5);
    assert_eq!(vpcs.add(5, "add-2".into()).unwrap(), 10);
    assert_eq!(vpcs.total, 10);
}

#[test]
fn an_associated_fn_marked_in_impl_works() {
    assert_eq!(Vpcs::describe(4, "assoc").unwrap(), 4);
}

trait Volumes {
    fn create_volume(
        &self,
        size: u32,
        token: Option<String>,
    ) -> Result<u64, IdempotencyError<String>>;
}

struct Ebs {
    store: MemoryStore,
    made: AtomicUsize,
}

impl Volumes for Ebs {
    #[idempotent(token = "token", store = self.store)]
    fn create_volume(&self, size: u32, token: Option<String>) -> Result<u64, String> {
        if size == 0 {
            return Err("size must be positive".into());
        }
        Ok(self.made.fetch_add(1, SeqCst) as u64)
    }
}

struct OtherEbs {
    store: MemoryStore,
}

impl Volumes for OtherEbs {
    #[idempotent(token = "token", store = self.store)]
    fn create_volume(&self, size: u32, token: Option<String>) -> Result<u64, String> {
        Ok(u64::from(size) + 1000)
    }
}

#[test]
fn trait_impl_methods_match_the_trait_and_replay() {
    let ebs = Ebs {
        store: MemoryStore::new(),
        made: AtomicUsize::new(0),
    };
    let volumes: &dyn Volumes = &ebs;
    assert_eq!(volumes.create_volume(8, Some("vol".into())).unwrap(), 0);
    assert_eq!(volumes.create_volume(8, Some("vol".into())).unwrap(), 0);
    assert!(matches!(
        volumes.create_volume(0, Some("bad".into())),
        Err(IdempotencyError::Handler(_))
    ));
    assert_eq!(ebs.made.load(SeqCst), 1);
}

#[test]
fn two_impls_sharing_a_store_do_not_share_tokens() {
    let store = MemoryStore::new();
    let ebs = Ebs {
        store: store.clone(),
        made: AtomicUsize::new(0),
    };
    let other = OtherEbs { store };
    assert_eq!(ebs.create_volume(8, Some("same".into())).unwrap(), 0);
    assert_eq!(other.create_volume(8, Some("same".into())).unwrap(), 1008);
}
