//! `nivesh-models`: the models of nivesh-ml behind one small set of traits.
//!
//! - [`Fit`]: validated hyper-parameters + a dataset → a model;
//! - [`Predict`]: a model + one input → one output;
//! - [`Persist`]: a model ↔ bytes, in a versioned, checksummed envelope ([`artifact`]).
//!
//! Models do no file or network I/O of their own.

pub mod anomaly;
pub mod artifact;
pub mod credit;
pub mod error;
pub mod forecast;
pub mod gbdt;
pub mod iforest;
pub mod intent;
pub mod linear;
pub mod metrics;
pub mod ner;
pub mod tabular;
pub mod text;
pub mod treeshap;

pub use artifact::Persist;
pub use error::ModelError;

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
