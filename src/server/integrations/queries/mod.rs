//! The integrations domain's SQL, one file per table (or pair of tables).

pub mod follows;
pub mod installations;
pub mod repositories;
