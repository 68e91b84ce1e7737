//! Webhook intake and processing: verify the signature, store the delivery
//! durably and idempotently, acknowledge at once, then let workers (on any
//! instance) claim and process each event exactly once, in GitHub's order per
//! installation, retrying failures with backoff.

pub mod dispatcher;
pub mod event_log;
pub mod intake;
mod queries;
pub mod recovery;
pub mod retention;
pub mod signature;
pub mod worker;
pub mod writer;

pub use dispatcher::{Dispatcher, Outcome};
pub use queries::{queue_depth, retry, EventRecord, CHANNEL, STATUS_CHANNEL};
