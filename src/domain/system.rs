//! Operational facts anyone may see.

use serde::{Deserialize, Serialize};

/// What the database said when asked just now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseStatus {
    /// Every migration applied.
    pub schema_current: bool,
    pub round_trip_ms: u64,
}
