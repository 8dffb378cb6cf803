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

/// A store that cannot be cloned: the handler borrows it (a clone would write the shared
/// reference count on every call, which threads on other cores then fight over).
struct Unshared {
    records: MemoryStore,
}

impl idempotent_runtime::Store for Unshared {
    fn begin(
        &self,
        key: &idempotent_runtime::store::Key,
        fingerprint: &idempotent_runtime::fingerprint::Fingerprint,
        lease: std::time::Duration,
    ) -> Result<idempotent_runtime::store::Begin, idempotent_runtime::StoreError> {
        self.records.begin(key, fingerprint, lease)
    }

    fn complete(
        &self,
        key: &idempotent_runtime::store::Key,
        fence: idempotent_runtime::store::Fence,
        output: &[u8],
        ttl: std::time::Duration,
    ) -> Result<idempotent_runtime::store::Finish, idempotent_runtime::StoreError> {
        self.records.complete(key, fence, output, ttl)
    }

    fn release(
        &self,
        key: &idempotent_runtime::store::Key,
        fence: idempotent_runtime::store::Fence,
    ) -> Result<idempotent_runtime::store::Finish, idempotent_runtime::StoreError> {
        self.records.release(key, fence)
    }

    fn renew(
        &self,
        key: &idempotent_runtime::store::Key,
        fence: idempotent_runtime::store::Fence,
        lease: std::time::Duration,
    ) -> Result<idempotent_runtime::store::Finish, idempotent_runtime::StoreError> {
        self.records.renew(key, fence, lease)
    }
}

struct Subnets {
    store: Unshared,
    created: AtomicUsize,
}

impl Subnets {
    #[idempotent(token = "token", store = self.store)]
    fn create(&self, cidr: String, token: &str) -> String {
        format!("subnet-{}-{cidr}", self.created.fetch_add(1, SeqCst))
    }

    #[idempotent(token = "token", store = *store, skip(store), in_impl)]
    fn create_in(store: &Unshared, cidr: String, token: &str) -> String {
        format!("subnet-{cidr}")
    }
}

#[test]
fn a_store_that_cannot_be_cloned_is_borrowed() {
    let subnets = Subnets {
        store: Unshared {
            records: MemoryStore::new(),
        },
        created: AtomicUsize::new(0),
    };
    let first = subnets.create("10.0.1.0/24".into(), "s-1").unwrap();
    assert_eq!(subnets.create("10.0.1.0/24".into(), "s-1").unwrap(), first);
    assert_eq!(subnets.created.load(SeqCst), 1);
    assert_eq!(
        Subnets::create_in(&subnets.store, "10.0.2.0/24".into(), "s-2").unwrap(),
        "subnet-10.0.2.0/24"
    );
}

/// A method taking `self` by value may move it in its body: its store is cloned first.
#[derive(Clone)]
struct Gateway {
    store: MemoryStore,
    name: String,
}

impl Gateway {
    #[idempotent(token = "token", store = self.store)]
    fn attach(self, vpc: String, token: &str) -> String {
        let Gateway { name, .. } = self;
        format!("{name}-{vpc}")
    }
}

#[test]
fn a_method_taking_self_by_value_still_works() {
    let gateway = Gateway {
        store: MemoryStore::new(),
        name: "igw".into(),
    };
    assert_eq!(
        gateway.clone().attach("vpc-1".into(), "g-1").unwrap(),
        "igw-vpc-1"
    );
    let renamed = Gateway {
        name: "other".into(),
        ..gateway
    };
    assert_eq!(
        renamed.attach("vpc-1".into(), "g-1").unwrap(),
        "igw-vpc-1",
        "replayed from the shared store"
    );
}
