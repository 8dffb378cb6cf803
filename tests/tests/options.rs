//! `name`, `scope`, the default operation name, and `crate = "path"`.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use idempotent_runtime::idempotent;

mod first {
    use super::*;
    pub(crate) static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    pub(crate) fn create(size: u32, token: &str) -> u32 {
        RUNS.fetch_add(1, SeqCst);
        size
    }
}

mod second {
    use super::*;
    pub(crate) static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token")]
    pub(crate) fn create(size: u32, token: &str) -> u32 {
        RUNS.fetch_add(1, SeqCst);
        size + 100
    }
}

#[test]
fn two_create_fns_in_two_modules_never_share_tokens() {
    assert_eq!(first::create(1, "shared-token").unwrap(), 1);
    assert_eq!(second::create(1, "shared-token").unwrap(), 101);
    assert_eq!(
        (first::RUNS.load(SeqCst), second::RUNS.load(SeqCst)),
        (1, 1)
    );
}

static NAMED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[idempotent(token = "token", name = "CreateVolume")]
fn create_volume(size: u32, token: &str) -> u32 {
    NAMED_RUNS.fetch_add(1, SeqCst);
    size
}

#[idempotent(token = "token", name = "CreateVolume")]
fn create_volume_v2(size: u32, token: &str) -> u32 {
    NAMED_RUNS.fetch_add(1, SeqCst);
    size * 1000
}

#[test]
fn handlers_with_one_name_share_tokens() {
    assert_eq!(create_volume(8, "named").unwrap(), 8);
    assert_eq!(
        create_volume_v2(8, "named").unwrap(),
        8,
        "replayed from create_volume's record"
    );
    assert_eq!(NAMED_RUNS.load(SeqCst), 1);
    let err = create_volume_v2(9, "named").unwrap_err();
    assert!(err
        .to_string()
        .starts_with("Wrong arguments for request with token named"));
}

#[test]
fn a_scope_namespaces_tokens() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    #[idempotent(token = "token", scope = "account")]
    fn create(account: u64, size: u32, token: &str) -> String {
        RUNS.fetch_add(1, SeqCst);
        format!("{account}:{size}")
    }
    assert_eq!(create(1, 5, "scoped").unwrap(), "1:5");
    assert_eq!(
        create(2, 5, "scoped").unwrap(),
        "2:5",
        "another account's token is another token"
    );
    assert_eq!(create(1, 5, "scoped").unwrap(), "1:5");
    assert_eq!(RUNS.load(SeqCst), 2);
}

mod reexport {
    pub(crate) use idempotent_runtime as runtime;
}

#[test]
fn crate_points_at_the_runtime_through_a_reexport() {
    #[idempotent(token = "token", crate = "crate::reexport::runtime")]
    fn create(size: u32, token: &str) -> u32 {
        size
    }
    assert_eq!(create(3, "crate-path").unwrap(), 3);
}

#[test]
fn the_error_alias_can_be_renamed() {
    #[idempotent(token = "token", error = "VolumeFailure")]
    fn create(size: u32, token: &str) -> Result<u32, String> {
        Err(format!("no room for {size}"))
    }
    let err: VolumeFailure = create(3, "alias").unwrap_err();
    assert_eq!(err.to_string(), "no room for 3");
}
