//! Binary gradient-boosted trees (`forust-ml`) shared by the credit scorer and the supervised
//! anomaly detector: monotone constraints, categorical encoding, Platt calibration, exact
//! TreeSHAP contributions, and a serialisable model.

use crate::tabular::{ColumnKind, Schema, Tabular};
use crate::{ModelError, Params};
use forust_ml::constraints::{Constraint, ConstraintMap};
use forust_ml::gradientbooster::ContributionsMethod;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use nivesh_core::rng::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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
    /// that share would be under [`MIN_CALIBRATION_ROWS`] rows: a calibrator fitted on a few
    /// hundred rows, for a booster trained without them, did worse than none (German Credit).
    pub calibration_fraction: f64,
    /// One-hot encode categorical columns (else they are ordinal codes in sorted level order).
    pub one_hot: bool,
    /// Features whose increase may never lower the score.
    pub increasing: Vec<String>,
    /// Features whose increase may never raise the score.
    pub decreasing: Vec<String>,
    pub seed: u64,
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
        }
    }
}

impl Params for GbdtParams {
    fn validate(&self) -> Result<(), ModelError> {
        if self.iterations == 0 {
            return Err(ModelError::param("iterations", "must be at least 1"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err(ModelError::param("learning_rate", format!("{} is outside (0, 1]", self.learning_rate)));
        }
        if self.max_depth == 0 || self.max_depth > 16 {
            return Err(ModelError::param("max_depth", format!("{} is outside 1-16", self.max_depth)));
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return Err(ModelError::param("subsample", format!("{} is outside (0, 1]", self.subsample)));
        }
        if !(self.l2 >= 0.0 && self.min_leaf_weight >= 0.0) {
            return Err(ModelError::param("l2", "l2 and min_leaf_weight must be >= 0"));
        }
        if !(0.0..0.5).contains(&self.calibration_fraction) {
            return Err(ModelError::param(
                "calibration_fraction",
                format!("{} is outside [0, 0.5)", self.calibration_fraction),
            ));
        }
        Ok(())
    }
}

/// Fewest held-out rows worth fitting a calibration on.
pub const MIN_CALIBRATION_ROWS: usize = 400;

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Fit `p = sigmoid(a * f + b)` to labels by Newton's method on the log-loss (Platt scaling).
pub fn fit_platt(f: &[f64], y: &[f64], w: Option<&[f64]>) -> (f64, f64) {
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..50 {
        let (mut g_a, mut g_b, mut h_aa, mut h_ab, mut h_bb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for i in 0..f.len() {
            let wi = w.map_or(1.0, |w| w[i]);
            let p = sigmoid(a * f[i] + b);
            let r = (p - y[i]) * wi;
            let s = (p * (1.0 - p)).max(1e-12) * wi;
            g_a += r * f[i];
            g_b += r;
            h_aa += s * f[i] * f[i];
            h_ab += s * f[i];
            h_bb += s;
        }
        h_aa += 1e-9;
        h_bb += 1e-9;
        let det = h_aa * h_bb - h_ab * h_ab;
        if det.abs() < 1e-18 {
            break;
        }
        let da = (h_bb * g_a - h_ab * g_b) / det;
        let db = (h_aa * g_b - h_ab * g_a) / det;
        a -= da;
        b -= db;
        if da.abs() < 1e-9 && db.abs() < 1e-9 {
            break;
        }
    }
    // A non-positive slope would reverse the ranking: keep the booster's own scale then.
    if a.is_finite() && b.is_finite() && a > 0.0 { (a, b) } else { (1.0, 0.0) }
}

fn booster_for(schema: &Schema, p: &GbdtParams) -> Result<GradientBooster, ModelError> {
    let mut constraints = ConstraintMap::new();
    for (names, c) in [(&p.increasing, Constraint::Positive), (&p.decreasing, Constraint::Negative)] {
        for n in names {
            if let Some(i) = schema.index_of(n) {
                constraints.insert(i, c);
            }
        }
    }
    let mut booster = GradientBooster::default()
        .set_objective_type(ObjectiveType::LogLoss)
        .set_iterations(p.iterations)
        .set_learning_rate(p.learning_rate)
        .set_max_depth(p.max_depth)
        .set_l2(p.l2)
        .set_min_leaf_weight(p.min_leaf_weight)
        .set_subsample(p.subsample)
        .set_seed(p.seed)
        .set_parallel(false)
        .set_monotone_constraints(if constraints.is_empty() { None } else { Some(constraints) });
    // Keep children inside their parent's bounds, so that constraints hold through the tree.
    booster.force_children_to_bound_parent = true;
    Ok(booster)
}

/// Categorical columns one-hot encoded (`name=level` indicators; a missing value is missing in
/// every indicator) or left as ordinal codes.
pub fn encode(data: &Tabular, one_hot_categoricals: bool) -> Tabular {
    if !one_hot_categoricals {
        let mut t = data.clone();
        t.schema.kinds = vec![ColumnKind::Numeric; t.schema.len()];
        return t;
    }
    let mut names = Vec::new();
    for (n, k) in data.schema.names.iter().zip(&data.schema.kinds) {
        match k {
            ColumnKind::Numeric => names.push(n.clone()),
            ColumnKind::Categorical(levels) => names.extend(levels.iter().map(|l| format!("{n}={l}"))),
        }
    }
    let mut x = Vec::with_capacity(data.rows * names.len());
    for i in 0..data.rows {
        x.extend(encode_row(&data.schema, data.row(i), true));
    }
    Tabular {
        schema: Schema { kinds: vec![ColumnKind::Numeric; names.len()], names },
        x,
        rows: data.rows,
        y: data.y.clone(),
        weight: data.weight.clone(),
        group: data.group.clone(),
    }
}

fn encode_row(schema: &Schema, row: &[f64], one_hot_categoricals: bool) -> Vec<f64> {
    if !one_hot_categoricals {
        return row.to_vec();
    }
    let mut out = Vec::with_capacity(row.len() * 2);
    for (v, k) in row.iter().zip(&schema.kinds) {
        match k {
            ColumnKind::Numeric => out.push(*v),
            ColumnKind::Categorical(levels) => out.extend((0..levels.len()).map(|l| {
                if v.is_nan() {
                    f64::NAN
                } else if *v as usize == l {
                    1.0
                } else {
                    0.0
                }
            })),
        }
    }
    out
}

/// forust's matrices are column-major; ours are row-major.
fn column_major(data: &Tabular) -> Vec<f64> {
    let (r, c) = (data.rows, data.n_cols());
    let mut out = vec![0.0; r * c];
    for i in 0..r {
        for j in 0..c {
            out[j * r + i] = data.x[i * c + j];
        }
    }
    out
}

fn train_booster(data: &Tabular, p: &GbdtParams) -> Result<GradientBooster, ModelError> {
    let y = data.y.as_ref().ok_or_else(|| ModelError::Data("no label column".into()))?;
    let mut booster = booster_for(&data.schema, p)?;
    let cm = column_major(data);
    let m = Matrix::new(&cm, data.rows, data.n_cols());
    let ones;
    let w = match &data.weight {
        Some(w) => w.as_slice(),
        None => {
            ones = vec![1.0; data.rows];
            &ones
        }
    };
    booster.fit(&m, y, w, None).map_err(|e| ModelError::training("forust", e))?;
    Ok(booster)
}

/// A trained binary booster: probabilities, log-odds and SHAP contributions of a table's rows.
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "GbdtRepr", try_from = "GbdtRepr")]
pub struct BinaryGbdt {
    /// The input columns.
    pub schema: Schema,
    /// The booster's columns (categoricals one-hot encoded when asked).
    pub features: Vec<String>,
    /// Shared: forust's booster is not `Clone`, and a clone of the model never changes it.
    booster: Arc<GradientBooster>,
    /// The same trees prepared for fast prediction and TreeSHAP.
    shap: Arc<crate::algo::treeshap::ShapForest>,
    platt: (f64, f64),
    pub params: GbdtParams,
}

#[derive(Serialize, Deserialize)]
struct GbdtRepr {
    schema: Schema,
    features: Vec<String>,
    /// forust's own JSON form, which postcard cannot carry directly.
    booster_json: String,
    platt: (f64, f64),
    params: GbdtParams,
}

impl From<BinaryGbdt> for GbdtRepr {
    fn from(m: BinaryGbdt) -> Self {
        GbdtRepr {
            schema: m.schema,
            features: m.features,
            booster_json: canonical_json(&m.booster.json_dump().unwrap_or_default()),
            platt: m.platt,
            params: m.params,
        }
    }
}

/// forust's JSON has maps in hash order; sort every object's keys so that the same model always
/// serialises to the same bytes (content-addressed artifacts then deduplicate).
fn canonical_json(text: &str) -> String {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(sort).collect()),
            other => other,
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => sort(v).to_string(),
        Err(_) => text.to_string(),
    }
}

impl TryFrom<GbdtRepr> for BinaryGbdt {
    type Error = String;
    fn try_from(r: GbdtRepr) -> Result<Self, String> {
        let booster = GradientBooster::from_json(&r.booster_json)
            .map(Arc::new)
            .map_err(|e| format!("booster does not decode: {e}"))?;
        let shap = Arc::new(crate::algo::treeshap::ShapForest::new(&booster));
        Ok(BinaryGbdt { schema: r.schema, features: r.features, booster, shap, platt: r.platt, params: r.params })
    }
}

impl std::fmt::Debug for BinaryGbdt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinaryGbdt")
            .field("features", &self.features)
            .field("trees", &self.booster.trees.len())
            .finish()
    }
}

impl BinaryGbdt {
    /// Train on a labelled table (1.0 = positive), calibrating on a held-out share when it
    /// is large enough.
    pub fn fit(data: &Tabular, p: &GbdtParams) -> Result<Self, ModelError> {
        p.validate()?;
        let y = data.y.as_ref().ok_or_else(|| ModelError::Data("training needs a label".into()))?;
        let positives = y.iter().filter(|&&v| v > 0.5).count();
        if positives < 5 || data.rows - positives < 5 {
            return Err(ModelError::Data(format!(
                "need at least 5 positive and 5 negative rows, found {positives} and {}",
                data.rows - positives
            )));
        }
        let input_schema = data.schema.clone();
        let data = &encode(data, p.one_hot);
        let n_cal = (data.rows as f64 * p.calibration_fraction) as usize;
        let platt = if n_cal >= MIN_CALIBRATION_ROWS {
            let mut idx: Vec<usize> = (0..data.rows).collect();
            Rng::new(p.seed).shuffle(&mut idx);
            let (cal, fit) = idx.split_at(n_cal);
            let inner = train_booster(&data.subset(fit), p)?;
            let held = data.subset(cal);
            let cm = column_major(&held);
            let f = inner.predict(&Matrix::new(&cm, held.rows, held.n_cols()), false);
            fit_platt(&f, held.y.as_deref().unwrap_or_default(), held.weight.as_deref())
        } else {
            (1.0, 0.0)
        };
        let booster = Arc::new(train_booster(data, p)?);
        let shap = Arc::new(crate::algo::treeshap::ShapForest::new(&booster));
        Ok(BinaryGbdt {
            schema: input_schema,
            features: data.schema.names.clone(),
            booster,
            shap,
            platt,
            params: p.clone(),
        })
    }

    pub fn n_trees(&self) -> usize {
        self.booster.trees.len()
    }

    /// Raw log-odds of the booster for each row.
    pub fn log_odds(&self, data: &Tabular) -> Vec<f64> {
        let data = &encode(data, self.params.one_hot);
        let cm = column_major(data);
        self.booster.predict(&Matrix::new(&cm, data.rows, data.n_cols()), data.rows > 256)
    }

    /// Calibrated probabilities.
    pub fn probabilities(&self, data: &Tabular) -> Vec<f64> {
        self.log_odds(data).into_iter().map(|f| self.calibrate(f)).collect()
    }

    /// Calibrated probability of a raw log-odds.
    pub fn calibrate(&self, f: f64) -> f64 {
        sigmoid(self.platt.0 * f + self.platt.1)
    }

    /// The booster's input for one row of the input schema.
    pub fn encode_row(&self, row: &[f64]) -> Vec<f64> {
        encode_row(&self.schema, row, self.params.one_hot)
    }

    /// Raw log-odds of one encoded row.
    pub fn log_odds_encoded(&self, x: &[f64]) -> f64 {
        self.shap.predict(x, self.booster.base_score)
    }

    /// SHAP contributions of one input row, one per booster column and then the bias; they
    /// sum to the booster's log-odds (exact TreeSHAP, [`crate::algo::treeshap`]).
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        self.shap.contributions(&self.encode_row(row))
    }

    /// forust's own TreeSHAP, for checking ours.
    pub fn contributions_reference(&self, row: &[f64]) -> Vec<f64> {
        let x = self.encode_row(row);
        self.booster.predict_contributions(&Matrix::new(&x, 1, x.len()), ContributionsMethod::Shapley, false)
    }
}
