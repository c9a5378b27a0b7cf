//! `nivesh-monitor`: watching the models — is today's input still like the training data, did
//! the predictions move, is the model still right?
//!
//! - [`stats`]: the statistics (KS with SciPy's exact p-value, chi-squared, Z, Wasserstein,
//!   Jensen-Shannon, PSI, NumPy/Evidently binning), checked against SciPy;
//! - [`sample`]: columns of observed features and predictions;
//! - [`drift`]: per-column drift with Evidently's default tests and thresholds, dataset drift.

pub mod drift;
pub mod sample;
pub mod stats;
