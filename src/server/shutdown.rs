//! Stopping in order: on SIGTERM live streams end (so browsers do not hold the
//! server open), workers claim nothing more and let their batch finish or
//! release its claims, the intake answers what it holds, and the process is
//! gone within 10 s whatever is still connected.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;

/// From the signal to the process gone.
pub const DEADLINE: Duration = Duration::from_secs(10);
/// What a worker's batch in progress is given before its claims are released.
pub const DRAIN: Duration = Duration::from_secs(8);

/// Whether the server is stopping; cheap to clone, heard by every task.
#[derive(Clone, Debug)]
pub struct Stopping(Arc<watch::Sender<bool>>);

impl Default for Stopping {
    fn default() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }
}

impl Stopping {
    pub fn begin(&self) {
        self.0.send_replace(true);
    }

    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once stopping has begun.
    pub async fn begun(&self) {
        let mut stopping = self.0.subscribe();
        let _ = stopping.wait_for(|s| *s).await;
    }

    /// Completes `after` once stopping has begun.
    pub async fn begun_for(&self, after: Duration) {
        self.begun().await;
        tokio::time::sleep(after).await;
    }
}
