//! `nivesh-models`: the models of nivesh-ml behind one small set of traits.
//!
//! - [`Fit`]: validated hyper-parameters + a dataset → a model;
//! - [`Predict`]: a model + one input → one output;
//! - [`Persist`]: a model ↔ bytes, in a versioned, checksummed envelope ([`artifact`]).
//!
//! - [`ModelKind`]: the five models as one enum, with every per-model fact (names, artifact
//!   file, primary metric, cache TTL, data file), so that adding a model is a new variant and
//!   the compiler lists every `match` that must learn it.
//!
//! The five models are [`intent`], [`ner`], [`forecast`] (spending), [`anomaly`] and [`credit`];
//! [`algo`] holds the general algorithms they are built from, [`text`] the text processing,
//! [`tabular`] generic tables and [`metrics`] the evaluation metrics.
//!
//! Models do no file or network I/O of their own.

pub mod algo;
pub mod anomaly;
pub mod artifact;
pub mod bureau;
pub mod credit;
pub mod error;
pub mod forecast;
pub mod intent;
pub mod kind;
pub mod metrics;
pub mod ner;
pub mod tabular;
pub mod text;

pub use artifact::Persist;
pub use error::ModelError;
pub use kind::{ModelKind, PrimaryMetric};

/// Hyper-parameters that can be checked before training.
pub trait Params {
    /// Reject values that cannot train (a negative regularisation strength, n-gram ranges the
    /// wrong way round, ...), naming the field.
    fn validate(&self) -> Result<(), ModelError>;
}

/// Training: hyper-parameters fitted to a dataset give a model.
pub trait Fit<D: ?Sized>: Params {
    type Model;
    fn fit(&self, data: &D) -> Result<Self::Model, ModelError>;
}

/// Inference on one input.
pub trait Predict<I: ?Sized> {
    type Output;
    fn predict(&self, input: &I) -> Result<Self::Output, ModelError>;
}
