//! Hyper-parameters of the binary booster and of its tuning by cross-validation, checked before
//! anything is fitted.

use crate::{ModelError, Params};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of a binary booster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtParams {
    /// Boosting rounds.
    pub iterations: usize,
    pub learning_rate: f32,
    pub max_depth: usize,
    /// L2 regularisation of leaf weights.
    pub l2: f32,
    /// Minimum hessian sum in a leaf.
    pub min_leaf_weight: f32,
    /// Row subsample per tree.
    pub subsample: f32,
    /// Share of the data held out to fit the Platt calibration (0 disables it). Skipped when
    /// that share would be under [`super::MIN_CALIBRATION_ROWS`] rows: a calibrator fitted on a
    /// few hundred rows, for a booster trained without them, did worse than none (German Credit).
    pub calibration_fraction: f64,
    /// One-hot encode categorical columns (else they are ordinal codes in sorted level order).
    pub one_hot: bool,
    /// Features whose increase may never lower the score.
    pub increasing: Vec<String>,
    /// Features whose increase may never raise the score.
    pub decreasing: Vec<String>,
    pub seed: u64,
    /// Class weighting in [0, 1]: positive rows weigh `(negative weight / positive weight) ^
    /// class_balance` times their own weight (0: as given, 1: both classes weigh the same, 0.5:
    /// halfway on a log scale). Probabilities are corrected back to the data's prevalence.
    pub class_balance: f64,
    /// Choose depth, learning rate, min leaf weight, class balance and rounds by stratified
    /// k-fold cross-validation on the training rows before fitting (the values above are then
    /// replaced by the chosen ones; the tuning stays, so a refit tunes again).
    pub tune: Option<TuneSpec>,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            iterations: 200,
            learning_rate: 0.075,
            max_depth: 2,
            l2: 1.0,
            min_leaf_weight: 5.0,
            subsample: 0.8,
            calibration_fraction: 0.2,
            one_hot: false,
            increasing: Vec::new(),
            decreasing: Vec::new(),
            seed: 42,
            class_balance: 0.0,
            tune: None,
        }
    }
}

impl Params for GbdtParams {
    fn validate(&self) -> Result<(), ModelError> {
        if self.iterations == 0 || self.iterations > MAX_ROUNDS {
            return Err(ModelError::param("iterations", format!("{} is outside 1-{MAX_ROUNDS}", self.iterations)));
        }
        check_learning_rate("learning_rate", self.learning_rate)?;
        check_depth("max_depth", self.max_depth)?;
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return Err(ModelError::param("subsample", format!("{} is outside (0, 1]", self.subsample)));
        }
        if self.l2.is_nan() || self.l2 < 0.0 {
            return Err(ModelError::param("l2", format!("{} is negative", self.l2)));
        }
        check_min_leaf_weight("min_leaf_weight", self.min_leaf_weight)?;
        check_class_balance("class_balance", self.class_balance)?;
        if !(0.0..0.5).contains(&self.calibration_fraction) {
            return Err(ModelError::param(
                "calibration_fraction",
                format!("{} is outside [0, 0.5)", self.calibration_fraction),
            ));
        }
        if let Some(t) = &self.tune {
            t.validate()?;
        }
        Ok(())
    }
}

/// Most boosting rounds accepted (also the tuning's ceiling).
pub const MAX_ROUNDS: usize = 10_000;

fn check_learning_rate(field: &'static str, v: f32) -> Result<(), ModelError> {
    if v > 0.0 && v <= 1.0 { Ok(()) } else { Err(ModelError::param(field, format!("{v} is outside (0, 1]"))) }
}

fn check_depth(field: &'static str, v: usize) -> Result<(), ModelError> {
    if (1..=16).contains(&v) { Ok(()) } else { Err(ModelError::param(field, format!("{v} is outside 1-16"))) }
}

fn check_min_leaf_weight(field: &'static str, v: f32) -> Result<(), ModelError> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(ModelError::param(field, format!("{v} is not a finite weight >= 0")))
    }
}

fn check_class_balance(field: &'static str, v: f64) -> Result<(), ModelError> {
    if (0.0..=1.0).contains(&v) { Ok(()) } else { Err(ModelError::param(field, format!("{v} is outside [0, 1]"))) }
}

/// What the tuning maximises on the held-out folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TuneMetric {
    /// Weighted area under the ROC curve (ranking: fraud, anomalies).
    Auc,
    /// Weighted log-loss of the prevalence-corrected probabilities (ranking and calibration:
    /// credit decisions at a probability threshold). Lower is better.
    LogLoss,
}

impl TuneMetric {
    /// Whether `a` is a better value of this metric than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            TuneMetric::Auc => a > b,
            TuneMetric::LogLoss => a < b,
        }
    }

    /// Whether `a` is better than `b` by more than `margin` (a standard error, for the
    /// one-standard-error rule).
    pub fn better_by(self, a: f64, b: f64, margin: f64) -> bool {
        match self {
            TuneMetric::Auc => a - margin > b,
            TuneMetric::LogLoss => a + margin < b,
        }
    }
}

impl std::fmt::Display for TuneMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TuneMetric::Auc => "auc",
            TuneMetric::LogLoss => "log_loss",
        })
    }
}

impl std::str::FromStr for TuneMetric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auc" => Ok(TuneMetric::Auc),
            "log_loss" | "logloss" => Ok(TuneMetric::LogLoss),
            other => Err(format!("unknown tuning metric {other:?} (auc or log_loss)")),
        }
    }
}

/// The grid searched by stratified k-fold cross-validation; the number of rounds is chosen per
/// grid point from the held-out folds' score after each round (early stopping without refits).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneSpec {
    pub folds: usize,
    pub max_depth: Vec<usize>,
    pub learning_rate: Vec<f32>,
    pub min_leaf_weight: Vec<f32>,
    pub class_balance: Vec<f64>,
    /// Rounds trained per fold; the chosen number is at most this.
    pub max_rounds: usize,
    pub metric: TuneMetric,
}

impl Default for TuneSpec {
    fn default() -> Self {
        TuneSpec {
            folds: 5,
            max_depth: vec![2, 3, 4],
            learning_rate: vec![0.05, 0.1],
            min_leaf_weight: vec![1.0, 5.0],
            class_balance: vec![0.0, 0.5, 1.0],
            max_rounds: 500,
            metric: TuneMetric::Auc,
        }
    }
}

impl TuneSpec {
    /// The grid with `metric`.
    pub fn with_metric(metric: TuneMetric) -> Self {
        TuneSpec { metric, ..TuneSpec::default() }
    }

    /// Grid points in search order (shallow, slow and unweighted first: ties keep the simpler).
    pub fn grid(&self) -> Vec<GridPoint> {
        let mut out = Vec::new();
        for &max_depth in &self.max_depth {
            for &learning_rate in &self.learning_rate {
                for &min_leaf_weight in &self.min_leaf_weight {
                    for &class_balance in &self.class_balance {
                        out.push(GridPoint { max_depth, learning_rate, min_leaf_weight, class_balance });
                    }
                }
            }
        }
        out
    }
}

impl Params for TuneSpec {
    fn validate(&self) -> Result<(), ModelError> {
        if !(2..=20).contains(&self.folds) {
            return Err(ModelError::param("tune.folds", format!("{} is outside 2-20", self.folds)));
        }
        if self.max_rounds == 0 || self.max_rounds > MAX_ROUNDS {
            return Err(ModelError::param("tune.max_rounds", format!("{} is outside 1-{MAX_ROUNDS}", self.max_rounds)));
        }
        let empty = |field: &'static str, n: usize| {
            if n == 0 { Err(ModelError::param(field, "needs at least one value")) } else { Ok(()) }
        };
        empty("tune.max_depth", self.max_depth.len())?;
        empty("tune.learning_rate", self.learning_rate.len())?;
        empty("tune.min_leaf_weight", self.min_leaf_weight.len())?;
        empty("tune.class_balance", self.class_balance.len())?;
        for &v in &self.max_depth {
            check_depth("tune.max_depth", v)?;
        }
        for &v in &self.learning_rate {
            check_learning_rate("tune.learning_rate", v)?;
        }
        for &v in &self.min_leaf_weight {
            check_min_leaf_weight("tune.min_leaf_weight", v)?;
        }
        for &v in &self.class_balance {
            check_class_balance("tune.class_balance", v)?;
        }
        if self.grid().len() > 1_000 {
            return Err(ModelError::param("tune", format!("{} grid points (at most 1,000)", self.grid().len())));
        }
        Ok(())
    }
}

/// One point of the tuning grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GridPoint {
    pub max_depth: usize,
    pub learning_rate: f32,
    pub min_leaf_weight: f32,
    pub class_balance: f64,
}

impl GridPoint {
    /// `base` with this point's values and `rounds` boosting rounds.
    pub fn apply(&self, base: &GbdtParams, rounds: usize) -> GbdtParams {
        GbdtParams {
            iterations: rounds,
            max_depth: self.max_depth,
            learning_rate: self.learning_rate,
            min_leaf_weight: self.min_leaf_weight,
            class_balance: self.class_balance,
            ..base.clone()
        }
    }
}

/// One grid point's cross-validated result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneRow {
    pub point: GridPoint,
    /// Rounds at which the folds' mean score was best.
    pub rounds: usize,
    /// That mean score.
    pub score: f64,
    /// Standard deviation of the folds' scores at those rounds.
    pub fold_sd: f64,
}

impl TuneRow {
    /// The standard error of its score over `folds` folds (0 when the spread is unknown).
    pub fn standard_error(&self, folds: usize) -> f64 {
        if self.fold_sd.is_finite() { self.fold_sd / (folds as f64).sqrt() } else { 0.0 }
    }
}

/// The row with the best finite score (the first on ties), whatever the rule then chose.
pub(crate) fn top_row(rows: &[TuneRow], metric: TuneMetric) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, r) in rows.iter().enumerate() {
        if r.score.is_finite() && best.is_none_or(|b| metric.better(r.score, rows[b].score)) {
            best = Some(i);
        }
    }
    best
}

/// The outcome of a tuning: every grid point's score and the one chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    pub metric: TuneMetric,
    pub folds: usize,
    pub rows: Vec<TuneRow>,
    /// Index of the chosen row.
    pub chosen: usize,
}

impl Tuning {
    pub fn best(&self) -> Option<&TuneRow> {
        self.rows.get(self.chosen)
    }
    /// The grid point with the best score (the chosen one may be simpler, within noise of it).
    pub fn top(&self) -> Option<&TuneRow> {
        top_row(&self.rows, self.metric).map(|i| &self.rows[i])
    }
}

/// The parameters as format version 1 of the credit and anomaly artifacts stored them (before
/// class weighting and tuning).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
pub(crate) struct GbdtParamsV1 {
    iterations: usize,
    learning_rate: f32,
    max_depth: usize,
    l2: f32,
    min_leaf_weight: f32,
    subsample: f32,
    calibration_fraction: f64,
    one_hot: bool,
    increasing: Vec<String>,
    decreasing: Vec<String>,
    seed: u64,
}

impl From<GbdtParamsV1> for GbdtParams {
    fn from(v: GbdtParamsV1) -> Self {
        GbdtParams {
            iterations: v.iterations,
            learning_rate: v.learning_rate,
            max_depth: v.max_depth,
            l2: v.l2,
            min_leaf_weight: v.min_leaf_weight,
            subsample: v.subsample,
            calibration_fraction: v.calibration_fraction,
            one_hot: v.one_hot,
            increasing: v.increasing,
            decreasing: v.decreasing,
            seed: v.seed,
            class_balance: 0.0,
            tune: None,
        }
    }
}

/// Written by the tests of the legacy readers: `p` as version 1 stored it.
#[cfg(test)]
impl From<&GbdtParams> for GbdtParamsV1 {
    fn from(p: &GbdtParams) -> Self {
        GbdtParamsV1 {
            iterations: p.iterations,
            learning_rate: p.learning_rate,
            max_depth: p.max_depth,
            l2: p.l2,
            min_leaf_weight: p.min_leaf_weight,
            subsample: p.subsample,
            calibration_fraction: p.calibration_fraction,
            one_hot: p.one_hot,
            increasing: p.increasing.clone(),
            decreasing: p.decreasing.clone(),
            seed: p.seed,
        }
    }
}
