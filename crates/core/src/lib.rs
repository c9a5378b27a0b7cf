//! `nivesh-core`: what every other nivesh-ml crate shares.
//!
//! - [`records`]: the domain records (utterances, NER examples, transactions, credit
//!   applications) and their validation;
//! - [`dataset`]: reading/writing them as CSV, JSON and JSONL with precise errors;
//! - [`summary`]: column statistics for `data check`;
//! - [`redact`]: secret and personal-identifier redaction for logs;
//! - [`gazetteer`], [`calendar`]: domain word lists and festival dates shipped as data;
//! - [`rng`]: a seeded, version-stable random number generator;
//! - [`fsutil`]: atomic file writes;
//! - [`hex`]: lower-case hex of digests and signatures;
//! - [`eigen`]: eigen-decomposition of a small symmetric matrix;
//! - [`error_chain`]: an error and its sources on one line.
//!
//! This crate does no network I/O and knows nothing of models or HTTP.

pub mod calendar;
pub mod dataset;
pub mod eigen;
pub mod fsutil;
pub mod gazetteer;
pub mod hex;
pub mod nan;
pub mod public;
pub mod records;
pub mod redact;
pub mod rng;
pub mod shard;
pub mod stats;
pub mod summary;

pub use records::{
    Channel, CreditApplication, Direction, Education, EmploymentType, EntitySpan, NerExample, Record, RecordKind,
    Transaction, Utterance,
};

/// An error followed by each of its sources, joined by ": " — what `{:#}` prints for an
/// `anyhow::Error`, for places that turn a typed error into one line (HTTP bodies, health checks).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        // a wrapper may already repeat its source's text; do not print it twice
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
