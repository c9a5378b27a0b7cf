//! Credit-risk scoring: gradient-boosted trees (`forust-ml`) on the application's fields and
//! derived ratios (never identifiers), monotone where the domain demands it, Platt-calibrated
//! probabilities, exact TreeSHAP reason codes, and a fairness report.

use crate::metrics::BinaryReport;
use crate::tabular::{ColumnKind, Schema, Tabular};
use crate::{Fit, ModelError, Params, Persist, Predict};
use forust_ml::constraints::{Constraint, ConstraintMap};
use forust_ml::gradientbooster::ContributionsMethod;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use nivesh_core::CreditApplication;
use nivesh_core::rng::Rng;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the credit model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditParams {
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
    /// Probability at or above which `will_default` is true (`CREDIT_RISK_THRESHOLD`).
    pub threshold: f64,
    /// One-hot encode categorical columns (else they are ordinal codes in sorted level order).
    pub one_hot: bool,
    /// Features whose increase may never lower the risk.
    pub increasing: Vec<String>,
    /// Features whose increase may never raise the risk.
    pub decreasing: Vec<String>,
    pub seed: u64,
}

impl Default for CreditParams {
    fn default() -> Self {
        CreditParams {
            iterations: 300,
            learning_rate: 0.05,
            max_depth: 3,
            l2: 1.0,
            min_leaf_weight: 5.0,
            subsample: 0.8,
            calibration_fraction: 0.2,
            threshold: 0.5,
            one_hot: false,
            increasing: ["payments_missed", "payment_miss_rate", "debt_to_income", "utilization"]
                .map(String::from)
                .to_vec(),
            decreasing: Vec::new(),
            seed: 42,
        }
    }
}

impl Params for CreditParams {
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
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(ModelError::param("threshold", format!("{} is outside (0, 1)", self.threshold)));
        }
        Ok(())
    }
}

/// Fewest held-out rows worth fitting a calibration on.
pub const MIN_CALIBRATION_ROWS: usize = 400;

/// Feature names computed from a [`CreditApplication`], in column order.
pub const APPLICATION_FEATURES: [&str; 20] = [
    "age",
    "monthly_income",
    "monthly_debt",
    "credit_limit",
    "credit_used",
    "loan_amount",
    "payments_missed",
    "total_payments",
    "months_employed",
    "credit_history_months",
    "num_credit_accounts",
    "has_mortgage",
    "has_car_loan",
    "employment_type",
    "education",
    "debt_to_income",
    "utilization",
    "loan_to_income",
    "payment_miss_rate",
    "history_years",
];

/// The schema of [`application_features`].
pub fn application_schema() -> Schema {
    let kinds = APPLICATION_FEATURES
        .iter()
        .map(|&n| match n {
            "employment_type" => ColumnKind::Categorical(
                nivesh_core::EmploymentType::ALL.iter().map(|e| e.as_str().to_string()).collect(),
            ),
            "education" => {
                ColumnKind::Categorical(nivesh_core::Education::ALL.iter().map(|e| e.as_str().to_string()).collect())
            }
            _ => ColumnKind::Numeric,
        })
        .collect();
    Schema { names: APPLICATION_FEATURES.iter().map(|s| s.to_string()).collect(), kinds }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// The feature row of one application: raw fields plus derived ratios (missing as NaN).
pub fn application_features(a: &CreditApplication) -> Vec<f64> {
    let code = |all: &[&str], v: &str| all.iter().position(|x| *x == v).map_or(f64::NAN, |i| i as f64);
    let emp: Vec<&str> = nivesh_core::EmploymentType::ALL.iter().map(|e| e.as_str()).collect();
    let edu: Vec<&str> = nivesh_core::Education::ALL.iter().map(|e| e.as_str()).collect();
    vec![
        a.age as f64,
        a.monthly_income,
        a.monthly_debt,
        a.credit_limit,
        a.credit_used,
        a.loan_amount,
        a.payments_missed as f64,
        a.total_payments as f64,
        a.months_employed as f64,
        a.credit_history_months as f64,
        a.num_credit_accounts as f64,
        if a.has_mortgage { 1.0 } else { 0.0 },
        if a.has_car_loan { 1.0 } else { 0.0 },
        code(&emp, a.employment_type.as_str()),
        code(&edu, a.education.as_str()),
        ratio(a.monthly_debt, a.monthly_income),
        ratio(a.credit_used, a.credit_limit),
        ratio(a.loan_amount, a.monthly_income * 12.0),
        ratio(a.payments_missed as f64, a.total_payments as f64),
        a.credit_history_months as f64 / 12.0,
    ]
}

/// Applications as a training table (label: `default`).
pub fn applications_table(apps: &[CreditApplication]) -> Tabular {
    let mut x = Vec::with_capacity(apps.len() * APPLICATION_FEATURES.len());
    for a in apps {
        x.extend(application_features(a));
    }
    let labelled = apps.iter().all(|a| a.default.is_some());
    Tabular {
        schema: application_schema(),
        x,
        rows: apps.len(),
        y: labelled.then(|| apps.iter().map(|a| if a.default == Some(true) { 1.0 } else { 0.0 }).collect()),
        weight: None,
        group: None,
    }
}

/// One reason behind a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonCode {
    pub feature: String,
    pub value: Option<f64>,
    /// SHAP contribution to the log-odds of default.
    pub contribution: f64,
    /// `increases_risk` or `decreases_risk`.
    pub direction: String,
}

/// A scored application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditScore {
    pub default_probability: f64,
    pub will_default: bool,
    /// 0-100, the probability in percent.
    pub risk_score: u32,
    /// 300-900, higher is safer.
    pub credit_score: u32,
    /// low, medium or high.
    pub risk_category: String,
    pub reason_codes: Vec<ReasonCode>,
}

/// A trained credit model.
#[derive(Clone, Serialize, Deserialize)]
#[serde(into = "CreditRepr", try_from = "CreditRepr")]
pub struct CreditModel {
    /// The input columns.
    schema: Schema,
    /// The booster's columns (categoricals one-hot encoded).
    features: Vec<String>,
    /// Shared: forust's booster is not `Clone`, and a clone of the model never changes it.
    booster: std::sync::Arc<GradientBooster>,
    platt: (f64, f64),
    threshold: f64,
    params: CreditParams,
}

#[derive(Serialize, Deserialize)]
struct CreditRepr {
    schema: Schema,
    features: Vec<String>,
    /// forust's own JSON form, which postcard cannot carry directly.
    booster_json: String,
    platt: (f64, f64),
    threshold: f64,
    params: CreditParams,
}

impl From<CreditModel> for CreditRepr {
    fn from(m: CreditModel) -> Self {
        CreditRepr {
            schema: m.schema,
            features: m.features,
            booster_json: m.booster.json_dump().unwrap_or_default(),
            platt: m.platt,
            threshold: m.threshold,
            params: m.params,
        }
    }
}

impl TryFrom<CreditRepr> for CreditModel {
    type Error = String;
    fn try_from(r: CreditRepr) -> Result<Self, String> {
        let booster = GradientBooster::from_json(&r.booster_json)
            .map(std::sync::Arc::new)
            .map_err(|e| format!("booster does not decode: {e}"))?;
        Ok(CreditModel {
            schema: r.schema,
            features: r.features,
            booster,
            platt: r.platt,
            threshold: r.threshold,
            params: r.params,
        })
    }
}

impl std::fmt::Debug for CreditModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreditModel").field("schema", &self.schema).field("trees", &self.booster.trees.len()).finish()
    }
}

impl Persist for CreditModel {
    const KIND: &'static str = "credit";
    const FORMAT_VERSION: u32 = 1;
}

fn sigmoid(x: f64) -> f64 {
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

fn booster_for(schema: &Schema, p: &CreditParams) -> Result<GradientBooster, ModelError> {
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

fn train_booster(data: &Tabular, p: &CreditParams) -> Result<GradientBooster, ModelError> {
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
    booster.fit(&m, y, w, None).map_err(|e| ModelError::Training(format!("forust: {e}")))?;
    Ok(booster)
}

impl Fit<Tabular> for CreditParams {
    type Model = CreditModel;

    fn fit(&self, data: &Tabular) -> Result<CreditModel, ModelError> {
        self.validate()?;
        let y = data.y.as_ref().ok_or_else(|| ModelError::Data("credit training needs a label".into()))?;
        let positives = y.iter().filter(|&&v| v > 0.5).count();
        if positives < 5 || data.rows - positives < 5 {
            return Err(ModelError::Data(format!(
                "need at least 5 defaults and 5 repaid loans, found {positives} and {}",
                data.rows - positives
            )));
        }
        let input_schema = data.schema.clone();
        let data = &encode(data, self.one_hot);
        let n_cal = (data.rows as f64 * self.calibration_fraction) as usize;
        let platt = if n_cal >= MIN_CALIBRATION_ROWS {
            let mut idx: Vec<usize> = (0..data.rows).collect();
            Rng::new(self.seed).shuffle(&mut idx);
            let (cal, fit) = idx.split_at(n_cal);
            let inner = train_booster(&data.subset(fit), self)?;
            let held = data.subset(cal);
            let cm = column_major(&held);
            let f = inner.predict(&Matrix::new(&cm, held.rows, held.n_cols()), false);
            fit_platt(&f, held.y.as_deref().unwrap_or_default(), held.weight.as_deref())
        } else {
            (1.0, 0.0)
        };
        let booster = std::sync::Arc::new(train_booster(data, self)?);
        Ok(CreditModel {
            schema: input_schema,
            features: data.schema.names.clone(),
            booster,
            platt,
            threshold: self.threshold,
            params: self.clone(),
        })
    }
}

/// Maps a feature row to its group for one fairness attribute.
type GroupFn = Box<dyn Fn(&[f64]) -> Option<String>>;

/// Fairness of decisions for one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFairness {
    pub attribute: String,
    pub group: String,
    pub n: usize,
    pub auc: f64,
    /// Share approved (predicted probability below the threshold).
    pub approval_rate: f64,
    /// This group's approval rate over the highest group's of the same attribute.
    pub approval_ratio: f64,
    /// Four-fifths rule: flagged when the ratio is below 0.8.
    pub four_fifths_flag: bool,
}

impl CreditModel {
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
    pub fn params(&self) -> &CreditParams {
        &self.params
    }
    pub fn n_trees(&self) -> usize {
        self.booster.trees.len()
    }
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
    pub fn set_threshold(&mut self, t: f64) -> Result<(), ModelError> {
        if !(t > 0.0 && t < 1.0) {
            return Err(ModelError::param("threshold", format!("{t} is outside (0, 1)")));
        }
        self.threshold = t;
        Ok(())
    }

    /// Raw log-odds of the booster for each row.
    pub fn log_odds(&self, data: &Tabular) -> Vec<f64> {
        let data = &encode(data, self.params.one_hot);
        let cm = column_major(data);
        self.booster.predict(&Matrix::new(&cm, data.rows, data.n_cols()), data.rows > 256)
    }

    /// Calibrated probabilities of default.
    pub fn probabilities(&self, data: &Tabular) -> Vec<f64> {
        self.log_odds(data).into_iter().map(|f| sigmoid(self.platt.0 * f + self.platt.1)).collect()
    }

    /// Names of the booster's columns (categoricals as `name=level`).
    pub fn feature_names(&self) -> &[String] {
        &self.features
    }

    /// SHAP contributions of one input row, one per booster column and then the bias; they
    /// sum to the booster's log-odds.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        let x = encode_row(&self.schema, row, self.params.one_hot);
        self.booster.predict_contributions(&Matrix::new(&x, 1, x.len()), ContributionsMethod::Shapley, false)
    }

    /// Score one encoded feature row.
    pub fn score_row(&self, row: &[f64]) -> Result<CreditScore, ModelError> {
        if row.len() != self.schema.len() {
            return Err(ModelError::input(
                "features",
                format!("expected {} values, got {}", self.schema.len(), row.len()),
            ));
        }
        let contrib = self.contributions(row);
        let x = encode_row(&self.schema, row, self.params.one_hot);
        // the probability from the trees themselves (the SHAP sum equals it up to rounding)
        let f = self.booster.predict(&Matrix::new(&x, 1, x.len()), false).first().copied().unwrap_or(f64::NAN);
        let p = sigmoid(self.platt.0 * f + self.platt.1);
        let mut order: Vec<usize> = (0..self.features.len()).collect();
        order.sort_by(|&a, &b| contrib[b].abs().total_cmp(&contrib[a].abs()));
        let reason_codes = order
            .into_iter()
            .take(4)
            .filter(|&i| contrib[i] != 0.0)
            .map(|i| ReasonCode {
                feature: self.features[i].clone(),
                value: x[i].is_finite().then_some(x[i]),
                contribution: contrib[i],
                direction: if contrib[i] > 0.0 { "increases_risk" } else { "decreases_risk" }.into(),
            })
            .collect();
        Ok(self.summarise(p, reason_codes))
    }

    fn summarise(&self, p: f64, reason_codes: Vec<ReasonCode>) -> CreditScore {
        let risk_category = if p >= self.threshold {
            "high"
        } else if p >= self.threshold / 2.0 {
            "medium"
        } else {
            "low"
        };
        CreditScore {
            default_probability: p,
            will_default: p >= self.threshold,
            risk_score: (p * 100.0).round() as u32,
            credit_score: (900.0 - 600.0 * p).round() as u32,
            risk_category: risk_category.into(),
            reason_codes,
        }
    }

    /// Fairness by group for each attribute present: `age` (bucketed) and `employment_type`.
    pub fn fairness(&self, data: &Tabular) -> Vec<GroupFairness> {
        let Some(y) = &data.y else { return Vec::new() };
        let probs = self.probabilities(data);
        let mut out = Vec::new();
        let attrs: Vec<(String, GroupFn)> = [
            self.schema.index_of("age").or_else(|| self.schema.index_of("age_years")).map(|i| {
                (
                    "age".to_string(),
                    Box::new(move |r: &[f64]| {
                        let a = r[i];
                        (!a.is_nan()).then(|| {
                            match a {
                                a if a < 25.0 => "18-24",
                                a if a < 40.0 => "25-39",
                                a if a < 60.0 => "40-59",
                                _ => "60+",
                            }
                            .to_string()
                        })
                    }) as GroupFn,
                )
            }),
            self.schema.index_of("employment_type").map(|i| {
                let levels = match &self.schema.kinds[i] {
                    ColumnKind::Categorical(l) => l.clone(),
                    ColumnKind::Numeric => Vec::new(),
                };
                (
                    "employment_type".to_string(),
                    Box::new(move |r: &[f64]| levels.get(r[i] as usize).filter(|_| !r[i].is_nan()).cloned()) as GroupFn,
                )
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (attr, group_of) in attrs {
            let mut groups: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
            for i in 0..data.rows {
                if let Some(g) = group_of(data.row(i)) {
                    groups.entry(g).or_default().push(i);
                }
            }
            let mut rows: Vec<GroupFairness> = groups
                .into_iter()
                .map(|(g, idx)| {
                    let s: Vec<f64> = idx.iter().map(|&i| probs[i]).collect();
                    let l: Vec<bool> = idx.iter().map(|&i| y[i] > 0.5).collect();
                    let approved = s.iter().filter(|&&p| p < self.threshold).count();
                    GroupFairness {
                        attribute: attr.clone(),
                        group: g,
                        n: idx.len(),
                        auc: nivesh_core::stats::auc(&s, &l),
                        approval_rate: approved as f64 / idx.len() as f64,
                        approval_ratio: 0.0,
                        four_fifths_flag: false,
                    }
                })
                .collect();
            let best = rows.iter().map(|r| r.approval_rate).fold(0.0, f64::max);
            for r in &mut rows {
                r.approval_ratio = if best > 0.0 { r.approval_rate / best } else { 1.0 };
                r.four_fifths_flag = r.approval_ratio < 0.8;
            }
            out.extend(rows);
        }
        out
    }
}

impl Predict<CreditApplication> for CreditModel {
    type Output = CreditScore;
    fn predict(&self, a: &CreditApplication) -> Result<CreditScore, ModelError> {
        if self.schema.names != APPLICATION_FEATURES {
            return Err(ModelError::input(
                "applicant_data",
                "this model was trained on a generic table, not applications",
            ));
        }
        a.validate_application()?;
        let mut score = self.score_row(&application_features(a))?;
        // forust bounds leaf weights only under splits on the constrained feature itself, so a
        // later split on another feature can still bend the curve. "More missed payments never
        // lowers risk" is therefore enforced here: the probability is the running maximum over
        // the same application with fewer missed payments (at most 64 evaluations).
        let mut p = score.default_probability;
        for missed in (0..a.payments_missed).rev().take(64) {
            let fewer = CreditApplication { payments_missed: missed, ..a.clone() };
            let x = application_features(&fewer);
            let cm = encode_row(&self.schema, &x, self.params.one_hot);
            let f = self.booster.predict(&Matrix::new(&cm, 1, cm.len()), false).first().copied().unwrap_or(f64::NAN);
            p = p.max(sigmoid(self.platt.0 * f + self.platt.1));
        }
        if p > score.default_probability {
            score = self.summarise(p, score.reason_codes);
        }
        Ok(score)
    }
}

trait ValidateApplication {
    fn validate_application(&self) -> Result<(), ModelError>;
}

impl ValidateApplication for CreditApplication {
    fn validate_application(&self) -> Result<(), ModelError> {
        use nivesh_core::Record;
        self.validate().map_err(|e| ModelError::InvalidInput { field: "applicant_data", message: e.to_string() })
    }
}

/// Evaluation of default probabilities against labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditReport {
    #[serde(flatten)]
    pub binary: BinaryReport,
    pub brier: f64,
    /// Statlog cost at the Bayes threshold P(bad) > 1/6.
    pub statlog_cost: f64,
}

pub fn credit_report(probs: &[f64], y: &[f64], w: Option<&[f64]>) -> CreditReport {
    let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
    CreditReport {
        binary: BinaryReport::new(probs, &labels, w),
        brier: crate::metrics::brier(probs, &labels, w),
        statlog_cost: crate::metrics::statlog_cost(probs, &labels, w, 1.0 / 6.0),
    }
}
