//! `nivesh-training`: training nivesh-ml's models, as a library the CLI and the server share.
//!
//! - [`spec`]: what to train, as data — [`ModelSpec`] for one model (parameters as a per-model
//!   enum, input files, split), [`TrainSpec`] for a pipeline run (data source, models, gate);
//! - [`train()`](train::train): one model from a [`ModelSpec`] → [`Trained`] (bytes, report, parameters);
//! - [`evaluate`]: typed [`Report`]s ([`report`]) of a model on labelled data, and `evaluate` of a saved model;
//! - [`items`]: a model's answers per labelled item, read by the reports and the comparisons;
//! - [`compare`]: a model against a baseline on the same items (paired intervals of the differences);
//! - [`plots`]: PNG plots of a report;
//! - [`pipeline`]: [`Pipeline::run`] — validate, train, evaluate, track, register and promote
//!   every model of a spec, reporting through [`Progress`]; then mirror to MLflow;
//! - [`inputs`]: reading the project's records and the public benchmark formats (CLINC150, NLU++,
//!   tabular CSV); [`validate`]: the pipeline's dataset check (the model's validation suite);
//! - [`profile`]: a trained model's profile on its evaluation data, for drift checks.
//!
//! Nothing here prints: callers show what [`Progress`] and the reports tell them.

pub mod compare;
pub mod evaluate;
pub mod inputs;
pub mod items;
pub mod pipeline;
pub mod plots;
pub mod profile;
pub mod report;
pub mod spec;
pub mod train;
pub mod validate;

pub use pipeline::{Alias, Features, Mirror, Outcome, Pipeline, Progress, Silent, Status};
pub use report::{Metric, Report};
pub use spec::{DataSource, Defaults, Input, InputFormat, ModelParams, ModelSpec, Split, TrainSpec};
pub use train::{Prepared, Previous, Trained, train, train_prepared};
