//! What a Redis failure means to the caller: transient (retry with the same token) or not,
//! decided by the error's kind and the server's error code, with Redis's own words in the
//! error's Display.

use redis::{ErrorKind, RedisError, ServerErrorKind};

use crate::{StoreError, StoreErrorKind};

/// Maps a Redis error met while doing `doing`.
pub(super) fn error(doing: &str, err: RedisError) -> StoreError {
    StoreError::from_driver(classify(&err), format!("redis: could not {doing}"), err)
}

fn classify(err: &RedisError) -> StoreErrorKind {
    match err.kind() {
        // No answer, or a server that cannot answer yet: loading its data, failing over, a
        // cluster resharding or down, a busy script, a replica promoted mid-write.
        ErrorKind::Io | ErrorKind::ClusterConnectionNotFound => StoreErrorKind::Unavailable,
        ErrorKind::Server(
            ServerErrorKind::BusyLoading
            | ServerErrorKind::TryAgain
            | ServerErrorKind::ClusterDown
            | ServerErrorKind::MasterDown
            | ServerErrorKind::ReadOnly
            | ServerErrorKind::Moved
            | ServerErrorKind::Ask,
        ) => StoreErrorKind::Unavailable,
        // `maxmemory` reached with a policy that refuses writes: full, as a memory store can be.
        _ if err.code() == Some("OOM") => StoreErrorKind::Capacity,
        _ if err.code() == Some("BUSY") => StoreErrorKind::Unavailable,
        // Refused credentials or permissions, a bad URL, an answer we did not expect: no
        // retry will fix these.
        _ => StoreErrorKind::Other,
    }
}
