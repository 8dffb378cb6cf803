//! AWS RAM's `CreateResourceShare` with a `clientToken`, and a client that follows the advice
//! for `IdempotentParameterMismatchException`: keep the same token across retries, retry with
//! exponential backoff, never retry a parameter mismatch, and monitor every occurrence.
//!
//! 1. A client sends a request; the network loses the response; the client retries with the
//!    same token under the retry policy and gets the original share (replayed, not re-created).
//! 2. Eight clients send the same request at once: exactly one share exists afterwards.
//! 3. A client changes a parameter under the same token: `IdempotentParameterMismatch` names
//!    it, and the client does not retry.
//! 4. The log lines (target `idempotent`) and the outcome counters show each decision.
//!
//! Run it with `cargo run --example resource_share`.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use idempotent_runtime::monitor::{set_decision_hook, OutcomeCounters};
use idempotent_runtime::{
    idempotent, retry_async, ClientToken, IdempotencyError, MemoryStore, RetryPolicy, Retryable,
};
use serde::{Deserialize, Serialize};

/// A resource share, as RAM answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceShare {
    resource_share_arn: String,
    name: String,
    principals: Vec<String>,
    status: String,
}

/// RAM's own errors.
#[derive(Debug)]
enum RamError {
    /// The share's name is empty.
    InvalidParameter,
}

impl fmt::Display for RamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvalidParameterException: the share needs a name")
    }
}

impl std::error::Error for RamError {}

/// The service: shares it created, and its idempotency store.
struct Ram {
    store: MemoryStore,
    shares: Mutex<Vec<ResourceShare>>,
}

impl Ram {
    /// `CreateResourceShare`; a duplicate arriving while the first runs waits for its result.
    #[idempotent(token = "client_token", store = self.store, name = "CreateResourceShare", concurrent = "wait")]
    pub async fn create_resource_share(
        &self,
        name: String,
        principals: Vec<String>,
        client_token: String,
    ) -> Result<ResourceShare, RamError> {
        if name.is_empty() {
            return Err(RamError::InvalidParameter);
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // the work takes a while
        let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
        let share = ResourceShare {
            resource_share_arn: format!(
                "arn:aws:ram:us-east-1:141035231386:resource-share/{:04}",
                shares.len() + 1
            ),
            name,
            principals,
            status: "ACTIVE".into(),
        };
        shares.push(share.clone());
        Ok(share)
    }

    fn share_count(&self) -> usize {
        self.shares.lock().map(|shares| shares.len()).unwrap_or(0)
    }
}

/// What a client sees: the service's answer, or a lost response.
#[derive(Debug)]
enum CallError {
    /// The request may or may not have run; retry with the same token.
    Timeout,
    Service(IdempotencyError<RamError>),
}

impl Retryable for CallError {
    fn is_retryable(&self) -> bool {
        match self {
            CallError::Timeout => true,
            CallError::Service(err) => err.is_retryable(),
        }
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Timeout => f.write_str("timed out waiting for the response"),
            CallError::Service(err) => write!(f, "{err}"),
        }
    }
}

/// A network that loses the first response it carries, once.
struct FlakyNetwork {
    lose_next: AtomicBool,
}

impl FlakyNetwork {
    async fn call(
        &self,
        ram: &Ram,
        name: &str,
        principals: &[&str],
        token: &ClientToken,
    ) -> Result<ResourceShare, CallError> {
        let principals = principals.iter().map(|p| p.to_string()).collect();
        let answer = ram
            .create_resource_share(name.into(), principals, token.to_string())
            .await;
        if self.lose_next.swap(false, Ordering::SeqCst) {
            return Err(CallError::Timeout); // the share was created, but the client never hears
        }
        answer.map_err(CallError::Service)
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .base(Duration::from_millis(50))
        .max_attempts(5)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_target(true)
        .without_time()
        .init();
    let counters = Arc::new(OutcomeCounters::default());
    if set_decision_hook(Arc::clone(&counters)).is_err() {
        eprintln!("a decision hook was already set");
    }
    let ram = Arc::new(Ram {
        store: MemoryStore::new(),
        shares: Mutex::new(Vec::new()),
    });
    let network = Arc::new(FlakyNetwork {
        lose_next: AtomicBool::new(true),
    });

    println!("\n== 1. The response is lost; the client retries with the same token");
    let token = ClientToken::new();
    let attempts = AtomicU32::new(0);
    let share = retry_async(&policy(), |attempt| {
        attempts.store(attempt, Ordering::SeqCst);
        network.call(&ram, "prod-subnets", &["111122223333"], &token)
    })
    .await;
    match &share {
        Ok(share) => println!(
            "attempt {} got {} (shares that exist: {})",
            attempts.load(Ordering::SeqCst),
            share.resource_share_arn,
            ram.share_count()
        ),
        Err(err) => println!("gave up: {err}"),
    }

    println!("\n== 2. Eight clients send the same request at once");
    let token = ClientToken::new();
    let before = ram.share_count();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (ram, network, token) = (Arc::clone(&ram), Arc::clone(&network), token.clone());
            tokio::spawn(async move {
                network
                    .call(&ram, "analytics", &["444455556666"], &token)
                    .await
            })
        })
        .collect();
    let mut arns = std::collections::BTreeSet::new();
    for client in clients {
        if let Ok(Ok(share)) = client.await {
            arns.insert(share.resource_share_arn);
        }
    }
    println!(
        "8 answers, {} distinct share(s): {:?}; shares created: {}",
        arns.len(),
        arns,
        ram.share_count() - before
    );

    println!("\n== 3. The same token with another principal");
    let attempts = AtomicU32::new(0);
    let changed = retry_async(&policy(), |attempt| {
        attempts.store(attempt, Ordering::SeqCst);
        network.call(&ram, "analytics", &["777788889999"], &token)
    })
    .await;
    match changed {
        Err(CallError::Service(err @ IdempotencyError::IdempotentParameterMismatch { .. })) => {
            println!("An error occurred (IdempotentParameterMismatchException) when calling the CreateResourceShare operation: {err}");
            println!(
                "attempts made: {} (a mismatch is never retried)",
                attempts.load(Ordering::SeqCst)
            );
        }
        other => println!("unexpected: {other:?}"),
    }

    println!("\n== 4. Monitoring: decisions counted by outcome");
    for (outcome, count) in counters.snapshot() {
        if count > 0 {
            println!("{outcome:>12}: {count}");
        }
    }
}
