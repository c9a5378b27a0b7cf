//! Binary gradient-boosted trees (`forust-ml`) shared by the credit scorer and the supervised
//! anomaly detector: monotone constraints, categorical encoding, class weighting, tuning by
//! cross-validation ([`tune`]), Platt calibration, exact TreeSHAP contributions, and a
//! serialisable model.

mod params;
mod tune;

pub(crate) use params::GbdtParamsV1;
pub use params::{GbdtParams, GridPoint, MAX_ROUNDS, TuneMetric, TuneRow, TuneSpec, Tuning};

use crate::tabular::{ColumnKind, Schema, Tabular};
use crate::{ModelError, Params};
use forust_ml::constraints::{Constraint, ConstraintMap};
use forust_ml::gradientbooster::ContributionsMethod;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use nivesh_core::rng::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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

/// Weight of the positive rows relative to their own: `(negative weight / positive weight) ^
/// balance`, 1 when either class is absent.
fn positive_weight(y: &[f64], w: Option<&[f64]>, balance: f64) -> f64 {
    if balance == 0.0 {
        return 1.0;
    }
    let (mut pos, mut neg) = (0.0, 0.0);
    for (i, &v) in y.iter().enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        if v > 0.5 {
            pos += wi;
        } else {
            neg += wi;
        }
    }
    if pos > 0.0 && neg > 0.0 { (neg / pos).powf(balance) } else { 1.0 }
}

/// Train a booster; returns it with the positive-class weight it was trained with.
fn train_booster(data: &Tabular, p: &GbdtParams) -> Result<(GradientBooster, f64), ModelError> {
    let y = data.y.as_ref().ok_or_else(|| ModelError::Data("no label column".into()))?;
    let mut booster = booster_for(&data.schema, p)?;
    let cm = column_major(data);
    let m = Matrix::new(&cm, data.rows, data.n_cols());
    let pw = positive_weight(y, data.weight.as_deref(), p.class_balance);
    let w: Vec<f64> = (0..data.rows)
        .map(|i| data.weight.as_ref().map_or(1.0, |w| w[i]) * if y[i] > 0.5 { pw } else { 1.0 })
        .collect();
    booster.fit(&m, y, &w, None).map_err(|e| ModelError::training("forust", e))?;
    Ok((booster, pw))
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
    /// The parameters it was trained with (the tuned values when tuned).
    pub params: GbdtParams,
    /// The cross-validation that chose them, when tuned.
    pub tuning: Option<Tuning>,
}

#[derive(Serialize, Deserialize)]
struct GbdtRepr {
    schema: Schema,
    features: Vec<String>,
    /// forust's own JSON form, which postcard cannot carry directly.
    booster_json: String,
    platt: (f64, f64),
    params: GbdtParams,
    tuning: Option<Tuning>,
}

/// [`GbdtRepr`] as format version 1 of the credit and anomaly artifacts stored it.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
pub(crate) struct GbdtReprV1 {
    schema: Schema,
    features: Vec<String>,
    booster_json: String,
    platt: (f64, f64),
    params: params::GbdtParamsV1,
}

/// A booster read from format version 1 (no class weighting, no tuning).
#[derive(Deserialize)]
#[serde(try_from = "GbdtReprV1")]
pub(crate) struct BinaryGbdtV1(pub BinaryGbdt);

impl TryFrom<GbdtReprV1> for BinaryGbdtV1 {
    type Error = String;
    fn try_from(r: GbdtReprV1) -> Result<Self, String> {
        BinaryGbdt::try_from(GbdtRepr {
            schema: r.schema,
            features: r.features,
            booster_json: r.booster_json,
            platt: r.platt,
            params: r.params.into(),
            tuning: None,
        })
        .map(BinaryGbdtV1)
    }
}

impl From<BinaryGbdt> for GbdtRepr {
    fn from(m: BinaryGbdt) -> Self {
        GbdtRepr {
            schema: m.schema,
            features: m.features,
            booster_json: canonical_json(&m.booster.json_dump().unwrap_or_default()),
            platt: m.platt,
            params: m.params,
            tuning: m.tuning,
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
        Ok(BinaryGbdt {
            schema: r.schema,
            features: r.features,
            booster,
            shap,
            platt: r.platt,
            params: r.params,
            tuning: r.tuning,
        })
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
        let (p, tuning) = match &p.tune {
            Some(spec) => {
                let t = tune::tune(data, p, spec)?;
                let best = t
                    .best()
                    .filter(|b| b.score.is_finite())
                    .ok_or_else(|| ModelError::training_message("tuning", "no grid point could be scored"))?;
                (best.point.apply(p, best.rounds), Some(t))
            }
            None => (p.clone(), None),
        };
        let (booster, pw) = train_booster(data, &p)?;
        let n_cal = (data.rows as f64 * p.calibration_fraction) as usize;
        let platt = if n_cal >= MIN_CALIBRATION_ROWS {
            let mut idx: Vec<usize> = (0..data.rows).collect();
            Rng::new(p.seed).shuffle(&mut idx);
            let (cal, fit) = idx.split_at(n_cal);
            let (inner, _) = train_booster(&data.subset(fit), &p)?;
            let held = data.subset(cal);
            let cm = column_major(&held);
            let f = inner.predict(&Matrix::new(&cm, held.rows, held.n_cols()), false);
            fit_platt(&f, held.y.as_deref().unwrap_or_default(), held.weight.as_deref())
        } else {
            // trained with positives weighted pw, the booster's odds are pw times the data's
            (1.0, 0.0 - pw.ln())
        };
        let booster = Arc::new(booster);
        let shap = Arc::new(crate::algo::treeshap::ShapForest::new(&booster));
        Ok(BinaryGbdt {
            schema: input_schema,
            features: data.schema.names.clone(),
            booster,
            shap,
            platt,
            params: p,
            tuning,
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

    /// Each tree's value for one encoded row.
    pub fn tree_values_encoded(&self, x: &[f64]) -> Vec<f64> {
        self.shap.tree_values(x)
    }

    /// [`Self::log_odds_encoded`] of the row whose [`Self::tree_values_encoded`] these are, bit
    /// for bit.
    pub fn log_odds_of_tree_values(&self, values: &[f64]) -> f64 {
        values.iter().fold(self.booster.base_score, |total, v| total + v)
    }

    /// [`Self::log_odds_encoded`] of `x`, bit for bit, given `base`'s tree values: only the
    /// trees that split on a column where `x` differs from `base` are walked.
    pub fn log_odds_encoded_from(&self, base: &[f64], base_values: &[f64], x: &[f64]) -> f64 {
        self.shap.predict_from(base, base_values, x, self.booster.base_score)
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

/// The layout of format version 1 (credit ≤ 2, anomaly 1), written by tests of the legacy readers.
#[cfg(test)]
pub(crate) mod legacy_layout {
    use super::{BinaryGbdt, GbdtReprV1};

    pub type ReprV1 = GbdtReprV1;
    pub type ParamsV1 = super::GbdtParamsV1;

    pub fn params(p: &super::GbdtParams) -> ParamsV1 {
        p.into()
    }

    /// A model trained without class weighting or tuning, as version 1 stored it.
    pub fn repr(m: &BinaryGbdt) -> ReprV1 {
        GbdtReprV1 {
            schema: m.schema.clone(),
            features: m.features.clone(),
            booster_json: super::canonical_json(&m.booster.json_dump().unwrap_or_default()),
            platt: m.platt,
            params: params(&m.params),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Two informative columns and one of noise; positives are ~`rate` of the rows.
    pub(crate) fn toy(n: usize, rate: f64, seed: u64) -> Tabular {
        let mut rng = Rng::new(seed);
        let mut x = Vec::with_capacity(n * 3);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let (a, b, c) = (rng.normal(), rng.normal(), rng.normal());
            let logit = 2.0 * a - 1.5 * b + (rate / (1.0 - rate)).ln();
            y.push(if rng.f64() < sigmoid(logit) { 1.0 } else { 0.0 });
            x.extend([a, b, c]);
        }
        Tabular {
            schema: Schema { names: vec!["a".into(), "b".into(), "c".into()], kinds: vec![ColumnKind::Numeric; 3] },
            x,
            rows: n,
            y: Some(y),
            weight: None,
            group: None,
        }
    }

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    #[test]
    fn positive_weight_balances_the_classes_by_the_given_power() {
        let y = [1.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(positive_weight(&y, None, 0.0), 1.0);
        assert_eq!(positive_weight(&y, None, 1.0), 4.0);
        assert_eq!(positive_weight(&y, None, 0.5), 2.0);
        // row weights count: the negatives weigh 2 each
        assert_eq!(positive_weight(&y, Some(&[1.0, 2.0, 2.0, 2.0, 2.0]), 1.0), 8.0);
        // one class absent: no weighting
        assert_eq!(positive_weight(&[0.0, 0.0], None, 1.0), 1.0);
    }

    #[test]
    fn class_weighted_probabilities_are_corrected_back_to_the_prevalence() {
        let data = toy(3000, 0.1, 3);
        let prevalence = mean(data.y.as_deref().unwrap());
        let p = GbdtParams { calibration_fraction: 0.0, ..GbdtParams::default() };
        let plain = BinaryGbdt::fit(&data, &p).unwrap();
        let balanced = BinaryGbdt::fit(&data, &GbdtParams { class_balance: 1.0, ..p }).unwrap();
        let (m_plain, m_balanced) = (mean(&plain.probabilities(&data)), mean(&balanced.probabilities(&data)));
        assert!((m_plain - prevalence).abs() < 0.02, "{m_plain} vs {prevalence}");
        // uncorrected, balancing would put the mean near 0.5
        assert!((m_balanced - prevalence).abs() < 0.05, "{m_balanced} vs {prevalence}");
        assert!(balanced.platt.1 < -1.0, "the correction is -ln(weight): {:?}", balanced.platt);
    }

    #[test]
    fn tree_values_sum_to_the_prediction() {
        let data = toy(500, 0.3, 4);
        let m = BinaryGbdt::fit(&data, &GbdtParams { iterations: 30, ..GbdtParams::default() }).unwrap();
        for i in 0..20 {
            let row = data.row(i);
            let last = (0..m.shap.len()).fold(m.booster.base_score, |total, t| total + m.shap.tree_value(t, row));
            assert!((last - m.log_odds_encoded(row)).abs() < 1e-9);
            assert_eq!(m.shap.tree_value(m.shap.len(), row), 0.0, "past the last tree");
        }
    }

    #[test]
    fn log_odds_from_a_base_row_equals_the_full_walk() {
        let data = toy(500, 0.3, 5);
        let m = BinaryGbdt::fit(&data, &GbdtParams { iterations: 40, max_depth: 3, ..GbdtParams::default() }).unwrap();
        let bits = |v: f64| v.to_bits();
        for i in 0..30 {
            let base = data.row(i).to_vec();
            let values = m.tree_values_encoded(&base);
            assert_eq!(bits(m.log_odds_of_tree_values(&values)), bits(m.log_odds_encoded(&base)));
            for (j, v) in [(0, 3.0), (1, -2.0), (2, f64::NAN), (0, 0.25), (1, base[1])] {
                let mut x = base.clone();
                x[j] = v;
                // the same additions in the same order: the same bits
                assert_eq!(
                    bits(m.log_odds_encoded_from(&base, &values, &x)),
                    bits(m.log_odds_encoded(&x)),
                    "row {i} column {j}"
                );
            }
            // a row of another width, or values of another forest: the full walk
            assert_eq!(bits(m.log_odds_encoded_from(&base, &values, &base[..2])), bits(m.log_odds_encoded(&base[..2])));
            assert_eq!(bits(m.log_odds_encoded_from(&base, &values[1..], &base)), bits(m.log_odds_encoded(&base)));
        }
    }

    #[test]
    fn tabled_treeshap_equals_the_recursion() {
        let mut data = toy(800, 0.3, 8);
        // missing values, so that the missing branches are exercised
        for i in (0..data.rows).step_by(7) {
            data.x[i * 3 + (i % 3)] = f64::NAN;
        }
        for depth in [1, 2, 3, 4, 6] {
            let p = GbdtParams { iterations: 40, max_depth: depth, min_leaf_weight: 1.0, ..GbdtParams::default() };
            let m = BinaryGbdt::fit(&data, &p).unwrap();
            assert!(m.shap.tabled_trees() > 0, "depth {depth}: no tree has tables");
            if depth <= 3 {
                // at most seven internal nodes: every tree sums its leaves per route pattern
                assert_eq!(m.shap.patterned_trees(), m.shap.len(), "depth {depth}");
            }
            if depth == 6 {
                assert!(m.shap.patterned_trees() < m.shap.len(), "depth 6: some trees keep leaf tables or recurse");
            }
            for i in 0..60 {
                let (fast, slow) = (m.shap.contributions(data.row(i)), m.shap.contributions_recursive(data.row(i)));
                for (a, b) in fast.iter().zip(&slow) {
                    assert!((a - b).abs() < 1e-9, "depth {depth} row {i}: {fast:?} vs {slow:?}");
                }
                let sum: f64 = fast.iter().sum();
                assert!((sum - m.log_odds_encoded(data.row(i))).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn stratified_folds_share_out_both_classes() {
        let y: Vec<f64> = (0..103).map(|i| if i % 10 == 0 { 1.0 } else { 0.0 }).collect();
        let folds = tune::stratified_folds(&y, 5, 1);
        for f in 0..5 {
            let pos = (0..y.len()).filter(|&i| folds[i] == f && y[i] > 0.5).count();
            let all = folds.iter().filter(|&&g| g == f).count();
            assert!((2..=3).contains(&pos), "fold {f}: {pos} positives");
            assert!((20..=21).contains(&all), "fold {f}: {all} rows");
        }
        assert_eq!(folds, tune::stratified_folds(&y, 5, 1), "seeded");
    }

    #[test]
    fn tuning_is_reproducible_and_keeps_the_simplest_within_noise() {
        let data = toy(600, 0.3, 5);
        let spec = TuneSpec {
            folds: 3,
            max_depth: vec![1, 3],
            learning_rate: vec![0.1],
            min_leaf_weight: vec![1.0],
            class_balance: vec![0.0, 1.0],
            max_rounds: 60,
            metric: TuneMetric::Auc,
        };
        let p = GbdtParams { tune: Some(spec.clone()), ..GbdtParams::default() };
        let a = BinaryGbdt::fit(&data, &p).unwrap();
        let b = BinaryGbdt::fit(&data, &p).unwrap();
        let t = a.tuning.clone().unwrap();
        assert_eq!(Some(&t), b.tuning.as_ref());
        assert_eq!(t.rows.len(), 4);
        let best = t.best().unwrap();
        assert_eq!(a.params.iterations, best.rounds);
        assert_eq!(a.params.max_depth, best.point.max_depth);
        assert_eq!(a.n_trees(), best.rounds);
        assert!(best.rounds >= 1 && best.rounds <= 60);
        // the data is additive in its columns: depth 1 is within noise of the best
        assert_eq!(best.point.max_depth, 1, "{t:?}");
        assert!(best.score > 0.8);
        // the tuning stays in the parameters, so a refit tunes again
        assert_eq!(a.params.tune, Some(spec));
    }

    #[test]
    fn the_one_standard_error_rule_picks_the_shallowest_within_noise() {
        let row = |depth, score, sd| TuneRow {
            point: GridPoint { max_depth: depth, learning_rate: 0.1, min_leaf_weight: 1.0, class_balance: 0.0 },
            rounds: 10,
            score,
            fold_sd: sd,
        };
        // best is depth 4 at 0.90 ± 0.02/√4 = 0.01: depth 3 at 0.895 is within, depth 2 is not
        let rows = vec![row(2, 0.88, 0.02), row(3, 0.893, 0.02), row(3, 0.895, 0.02), row(4, 0.90, 0.02)];
        assert_eq!(tune::choose(&rows, TuneMetric::Auc, 4), 2);
        // log-loss: lower is better
        let rows = vec![row(2, 0.52, 0.02), row(4, 0.50, 0.02)];
        assert_eq!(tune::choose(&rows, TuneMetric::LogLoss, 4), 1);
        let rows = vec![row(2, 0.505, 0.02), row(4, 0.50, 0.02)];
        assert_eq!(tune::choose(&rows, TuneMetric::LogLoss, 4), 0);
        // NaN scores are never chosen
        let rows = vec![row(2, f64::NAN, f64::NAN), row(3, 0.7, 0.0)];
        assert_eq!(tune::choose(&rows, TuneMetric::Auc, 4), 1);
    }

    #[test]
    fn bad_tuning_specs_name_their_field() {
        let bad =
            |t: TuneSpec| GbdtParams { tune: Some(t), ..GbdtParams::default() }.validate().unwrap_err().to_string();
        assert!(bad(TuneSpec { folds: 1, ..TuneSpec::default() }).contains("tune.folds"));
        assert!(bad(TuneSpec { max_depth: vec![], ..TuneSpec::default() }).contains("tune.max_depth"));
        assert!(bad(TuneSpec { learning_rate: vec![0.0], ..TuneSpec::default() }).contains("tune.learning_rate"));
        assert!(bad(TuneSpec { class_balance: vec![1.5], ..TuneSpec::default() }).contains("tune.class_balance"));
        assert!(bad(TuneSpec { max_rounds: 0, ..TuneSpec::default() }).contains("tune.max_rounds"));
        let e = GbdtParams { class_balance: -0.1, ..GbdtParams::default() }.validate().unwrap_err().to_string();
        assert!(e.contains("class_balance"), "{e}");
    }

    #[test]
    fn tuning_with_too_few_positives_for_the_folds_is_an_error() {
        let mut data = toy(200, 0.5, 6);
        let y = data.y.as_mut().unwrap();
        for (i, v) in y.iter_mut().enumerate() {
            *v = if i < 6 { 1.0 } else { 0.0 };
        }
        let spec = TuneSpec { folds: 10, ..TuneSpec::default() };
        let p = GbdtParams { tune: Some(spec), ..GbdtParams::default() };
        let e = BinaryGbdt::fit(&data, &p).unwrap_err();
        assert!(e.to_string().contains("positive row in every fold"), "{e}");
        // and the same for negatives
        for v in data.y.as_mut().unwrap().iter_mut() {
            *v = 1.0 - *v;
        }
        let e = BinaryGbdt::fit(&data, &p).unwrap_err();
        assert!(e.to_string().contains("negative row in every fold"), "{e}");
    }

    #[test]
    fn version_1_boosters_still_decode() {
        let data = toy(400, 0.3, 7);
        let m = BinaryGbdt::fit(&data, &GbdtParams { iterations: 20, ..GbdtParams::default() }).unwrap();
        let bytes = postcard::to_allocvec(&legacy_layout::repr(&m)).unwrap();
        let back: BinaryGbdtV1 = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.0.probabilities(&data), m.probabilities(&data));
        assert_eq!(back.0.params, m.params);
        assert!(back.0.tuning.is_none());
    }
}
