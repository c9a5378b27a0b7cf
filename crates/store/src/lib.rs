//! `nivesh-store`: what nivesh-ml keeps between runs.
//!
//! - [`artifacts`]: content-addressed files (SHA-256), written atomically, verified on every read;
//! - [`registry`]: experiments, runs (params, metrics with steps, tags, artifacts), registered
//!   model versions and aliases (`champion`, `challenger`, any name) with a promotion gate and
//!   an audit trail, in SQLite under the data directory or in PostgreSQL;
//! - [`db`]: the small SQL layer that lets both databases run the same statements.
//!
//! Order of writes makes a crash harmless: an artifact is stored before any row points at it,
//! and a version's row and its alias change are one transaction.

pub mod artifacts;
pub mod db;
pub mod error;
pub mod mlflow;
pub mod registry;

pub use artifacts::{ArtifactStore, Digest};
pub use error::StoreError;
pub use registry::{AliasEvent, Registry, RunFilter, RunSummary, SyncState};
