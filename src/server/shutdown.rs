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

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
