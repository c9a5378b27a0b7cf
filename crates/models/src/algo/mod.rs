//! General-purpose learning algorithms that the five models are built from; none of them knows
//! a domain record.
//!
//! - [`linear`]: sparse one-vs-rest linear SVM (dual coordinate descent) and temperature calibration;
//! - [`gbdt`]: binary gradient-boosted trees on `forust-ml` (monotone constraints, Platt calibration);
//! - [`treeshap`]: exact TreeSHAP and prediction over those trees;
//! - [`iforest`]: isolation forest over rows of any width;
//! - [`theta`]: the Theta forecasting method.

pub mod gbdt;
pub mod iforest;
pub mod linear;
pub mod theta;
pub mod treeshap;
