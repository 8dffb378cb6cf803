//! The HTTP layer reports its decisions as the attribute does: to the decision hook (and as
//! `tracing` events, from the same place). The hook is process-wide, so this file is its own
//! test binary.
#![cfg(feature = "http")]

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use idempotent_runtime::http::IdempotencyLayer;
use idempotent_runtime::monitor::{set_decision_hook, Decision, DecisionHook, DecisionKind};
use idempotent_runtime::MemoryStore;
use idempotent_tests::http::{HttpClient, Server};

/// The decisions taken for the layer's operation, in order, with their keys.
#[derive(Default)]
struct Recorder(Mutex<Vec<(DecisionKind, String)>>);

impl DecisionHook for Recorder {
    fn record(&self, decision: &Decision<'_>) {
        if decision.operation.map(|op| op.to_string()) == Some("MonitoredOrders".into()) {
            let mut seen = self.0.lock().unwrap();
            seen.push((decision.kind, decision.token.to_owned()));
        }
    }
}

#[tokio::test]
async fn the_layers_decisions_reach_the_hook() {
    let recorder = Arc::new(Recorder::default());
    set_decision_hook(Arc::clone(&recorder)).expect("the first hook");
    let app = Router::new()
        .route("/orders", post(|| async { StatusCode::CREATED }))
        .layer(IdempotencyLayer::new(MemoryStore::new()).name("MonitoredOrders"));
    let server = Server::start(app).await;
    let client = HttpClient::default();
    let url = server.url("/orders");
    client.post(&url, Some("order-1"), "{}").await;
    client.post(&url, Some("order-1"), "{}").await;
    client.post(&url, Some("order-1"), "{\"other\": 1}").await;
    let seen = recorder.0.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            (DecisionKind::Executed, "order-1".to_owned()),
            (DecisionKind::Replayed, "order-1".to_owned()),
            (DecisionKind::Mismatch, "order-1".to_owned()),
        ]
    );
}
