//! Every output replays as it was first returned, on every store: nested options
//! (`Some(None)`, issue 7's second defect, which MessagePack replayed as `None`), `Option<()>`,
//! and a PATCH-style body whose field is explicitly null.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use idempotent_runtime::{idempotent, AsyncStore};
use idempotent_tests::on_every_store;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Patched {
    id: u32,
    /// Absent, explicitly null, or a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<Option<String>>,
}

struct Service<S> {
    store: S,
    runs: AtomicUsize,
}

impl<S: AsyncStore + Clone> Service<S> {
    #[idempotent(token = "token", store = self.store, name = "Nested")]
    async fn nested(&self, which: u8, token: String) -> Option<Option<u32>> {
        self.runs.fetch_add(1, SeqCst);
        match which {
            0 => None,
            1 => Some(None),
            _ => Some(Some(7)),
        }
    }

    #[idempotent(token = "token", store = self.store, name = "Unit")]
    async fn unit(&self, present: bool, token: String) -> Option<()> {
        self.runs.fetch_add(1, SeqCst);
        present.then_some(())
    }

    #[idempotent(token = "token", store = self.store, name = "Patch")]
    async fn patch(&self, id: u32, description: Option<Option<String>>, token: String) -> Patched {
        self.runs.fetch_add(1, SeqCst);
        Patched { id, description }
    }
}

async fn nested_options_replay_faithfully<S: AsyncStore + Clone>(store: S) {
    let service = Service {
        store,
        runs: AtomicUsize::new(0),
    };
    for (which, expected) in [(0, None), (1, Some(None)), (2, Some(Some(7)))] {
        let token = format!("nested-{which}");
        assert_eq!(
            service.nested(which, token.clone()).await.unwrap(),
            expected
        );
        assert_eq!(
            service.nested(which, token).await.unwrap(),
            expected,
            "the replay of {expected:?} differs"
        );
    }
    for present in [false, true] {
        let token = format!("unit-{present}");
        let first = service.unit(present, token.clone()).await.unwrap();
        assert_eq!(service.unit(present, token).await.unwrap(), first);
    }
    for description in [None, Some(None), Some(Some("gp3".to_string()))] {
        let token = format!("patch-{description:?}").replace(' ', "_");
        let first = service
            .patch(1, description.clone(), token.clone())
            .await
            .unwrap();
        assert_eq!(first.description, description);
        assert_eq!(
            service.patch(1, description, token).await.unwrap(),
            first,
            "the explicit null was lost on replay"
        );
    }
    assert_eq!(service.runs.load(SeqCst), 8, "every replay ran the handler");
}

on_every_store!(nested_options_replay_faithfully);
