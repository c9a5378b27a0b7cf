//! `nivesh-core`: what every other nivesh-ml crate shares.
//!
//! - [`records`]: the domain records (utterances, NER examples, transactions, credit
//!   applications) and their validation;
//! - [`dataset`]: reading/writing them as CSV, JSON and JSONL with precise errors;
//! - [`summary`]: column statistics for `data check`;
//! - [`config`]: layered configuration with provenance;
//! - [`redact`]: secret and personal-identifier redaction for logs;
//! - [`gazetteer`], [`calendar`]: domain word lists and festival dates shipped as data;
//! - [`rng`]: a seeded, version-stable random number generator;
//! - [`fsutil`]: atomic file writes.
//!
//! This crate does no network I/O and knows nothing of models or HTTP.

pub mod calendar;
pub mod config;
pub mod dataset;
pub mod fsutil;
pub mod gazetteer;
pub mod public;
pub mod records;
pub mod redact;
pub mod rng;
pub mod stats;
pub mod summary;

pub use records::{
    Channel, CreditApplication, Direction, Education, EmploymentType, EntitySpan, NerExample, Record, RecordKind,
    Transaction, Utterance,
};
