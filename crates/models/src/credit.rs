//! Credit-risk scoring: gradient-boosted trees ([`crate::algo::gbdt`]) on the application's fields
//! and derived ratios (never identifiers), monotone where the domain demands it, calibrated
//! probabilities, exact TreeSHAP reason codes, and a fairness report.

use crate::algo::gbdt::{BinaryGbdt, GbdtParams};
use crate::bureau::BureauFeatures;
use crate::metrics::BinaryReport;
use crate::tabular::{ColumnKind, Schema, Tabular};
use crate::{Fit, ModelError, Params, Persist, Predict};
use nivesh_core::CreditApplication;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the credit model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditParams {
    pub gbdt: GbdtParams,
    /// Probability at or above which `will_default` is true (`CREDIT_RISK_THRESHOLD`).
    pub threshold: f64,
    /// Derive credit-bureau features (utilisation, payment-to-bill ratios, delinquency counts,
    /// [`crate::bureau`]) from the table's columns before training; the model keeps the recipe
    /// and applies it to every row it scores.
    #[serde(default)]
    pub bureau_features: bool,
}

impl Default for CreditParams {
    fn default() -> Self {
        CreditParams {
            gbdt: GbdtParams {
                increasing: ["payments_missed", "payment_miss_rate", "debt_to_income", "utilization"]
                    .map(String::from)
                    .to_vec(),
                ..GbdtParams::default()
            },
            threshold: 0.5,
            bureau_features: false,
        }
    }
}

impl Params for CreditParams {
    fn validate(&self) -> Result<(), ModelError> {
        self.gbdt.validate()?;
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(ModelError::param("threshold", format!("{} is outside (0, 1)", self.threshold)));
        }
        Ok(())
    }
}

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreditModel {
    gbdt: BinaryGbdt,
    threshold: f64,
    /// The credit-bureau features derived from the input columns, when trained with them (the
    /// booster's schema is then the input's plus these).
    bureau: Option<BureauFeatures>,
    /// How tuning chose between the table's columns alone and with the credit-bureau features
    /// (kept for the training run's summary; not stored in the artifact).
    #[serde(skip)]
    bureau_cv: Option<BureauCv>,
}

/// Tuning's comparison of the two column sets on the same folds: each one's best
/// cross-validated score over the grid, and whether the derived columns were kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BureauCv {
    pub metric: crate::algo::gbdt::TuneMetric,
    /// How many columns were derived.
    pub derived: usize,
    pub without: f64,
    pub with: f64,
    pub kept: bool,
}

/// [`CreditModel`] as format version 3 stored it (before the credit-bureau features).
#[derive(Deserialize)]
struct CreditModelV3 {
    gbdt: BinaryGbdt,
    threshold: f64,
}

/// [`CreditModel`] as format version 2 stored it (before class weighting and tuning).
#[derive(Deserialize)]
struct CreditModelV2 {
    gbdt: crate::algo::gbdt::BinaryGbdtV1,
    threshold: f64,
}

impl Persist for CreditModel {
    const KIND: &'static str = "credit";
    const FORMAT_VERSION: u32 = 4;

    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        match crate::artifact::header(bytes)?.0.format_version {
            2 => {
                let v2: CreditModelV2 = crate::artifact::decode(bytes, Self::KIND, 2)?;
                Ok(CreditModel { gbdt: v2.gbdt.0, threshold: v2.threshold, bureau: None, bureau_cv: None })
            }
            3 => {
                let v3: CreditModelV3 = crate::artifact::decode(bytes, Self::KIND, 3)?;
                Ok(CreditModel { gbdt: v3.gbdt, threshold: v3.threshold, bureau: None, bureau_cv: None })
            }
            _ => {
                let m: CreditModel = crate::artifact::decode(bytes, Self::KIND, Self::FORMAT_VERSION)?;
                if let Some(b) = &m.bureau {
                    b.check()?;
                    if b.output_schema() != m.gbdt.schema {
                        return Err(ModelError::Artifact(
                            "the credit-bureau features do not match the booster's columns".into(),
                        ));
                    }
                }
                Ok(m)
            }
        }
    }
}

impl Fit<Tabular> for CreditParams {
    type Model = CreditModel;

    /// With `bureau_features`, the derived columns are used. Without it but with tuning, a table
    /// from which columns can be derived is tuned twice — on its own columns and with the derived
    /// ones, on the same seeded folds — and the derived columns are kept only when their best
    /// cross-validated score beats the other's by more than one standard error of its folds
    /// ([`CreditModel::bureau_cv`] says which won). A model's [`CreditModel::params`] then say
    /// whether it uses them, so a refit from them keeps the choice rather than making it again.
    fn fit(&self, data: &Tabular) -> Result<CreditModel, ModelError> {
        self.validate()?;
        let model = |gbdt, bureau, bureau_cv| CreditModel { gbdt, threshold: self.threshold, bureau, bureau_cv };
        if self.bureau_features {
            let b = BureauFeatures::detect(data);
            return Ok(model(BinaryGbdt::fit(&b.apply(data), &self.gbdt)?, Some(b), None));
        }
        let plain = BinaryGbdt::fit(data, &self.gbdt)?;
        let Some(spec) = &self.gbdt.tune else { return Ok(model(plain, None, None)) };
        let b = BureauFeatures::detect(data);
        if b.columns.is_empty() {
            return Ok(model(plain, None, None));
        }
        let with = BinaryGbdt::fit(&b.apply(data), &self.gbdt)?;
        // each column set's best grid point: its score and standard error
        let top =
            |g: &BinaryGbdt| g.tuning.as_ref().and_then(|t| t.top().map(|r| (r.score, r.standard_error(t.folds))));
        let (without_score, se) = top(&plain).unwrap_or((f64::NAN, 0.0));
        let with_score = top(&with).map_or(f64::NAN, |(s, _)| s);
        // the one-standard-error rule, as for the grid: the derived columns must beat the
        // table's own by more than the noise of the folds
        let kept = spec.metric.better_by(with_score, without_score, se);
        let cv =
            BureauCv { metric: spec.metric, derived: b.columns.len(), without: without_score, with: with_score, kept };
        Ok(if kept { model(with, Some(b), Some(cv)) } else { model(plain, None, Some(cv)) })
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
    /// The columns a row to score has (the booster's, less any derived bureau features).
    pub fn schema(&self) -> &Schema {
        self.bureau.as_ref().map_or(&self.gbdt.schema, |b| &b.input)
    }
    /// The credit-bureau features the model derives, when trained with them.
    pub fn bureau_features(&self) -> Option<&BureauFeatures> {
        self.bureau.as_ref()
    }
    /// When tuning chose whether to derive credit-bureau features: how each column set scored.
    pub fn bureau_cv(&self) -> Option<&BureauCv> {
        self.bureau_cv.as_ref()
    }
    /// A row of [`CreditModel::schema`] as the booster's input row (the derived columns added).
    fn extended<'a>(&self, row: &'a [f64]) -> std::borrow::Cow<'a, [f64]> {
        match &self.bureau {
            Some(b) => std::borrow::Cow::Owned(b.extend_row(row)),
            None => std::borrow::Cow::Borrowed(row),
        }
    }
    /// A table of [`CreditModel::schema`] with the derived columns added.
    fn extended_table<'a>(&self, data: &'a Tabular) -> std::borrow::Cow<'a, Tabular> {
        match &self.bureau {
            Some(b) => std::borrow::Cow::Owned(b.apply(data)),
            None => std::borrow::Cow::Borrowed(data),
        }
    }
    /// The underlying booster.
    pub fn gbdt(&self) -> &BinaryGbdt {
        &self.gbdt
    }
    pub fn params(&self) -> CreditParams {
        CreditParams {
            gbdt: self.gbdt.params.clone(),
            threshold: self.threshold,
            bureau_features: self.bureau.is_some(),
        }
    }
    pub fn n_trees(&self) -> usize {
        self.gbdt.n_trees()
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

    /// Names of the booster's columns (categoricals as `name=level` when one-hot encoded, then
    /// any derived bureau features).
    pub fn feature_names(&self) -> &[String] {
        &self.gbdt.features
    }

    /// A table or row to score must have [`CreditModel::schema`]'s width.
    fn check_width(&self, n: usize) -> Result<(), ModelError> {
        let want = self.schema().len();
        if n == want { Ok(()) } else { Err(ModelError::input("features", format!("expected {want} values, got {n}"))) }
    }

    /// Raw log-odds of the booster for each row.
    pub fn log_odds(&self, data: &Tabular) -> Result<Vec<f64>, ModelError> {
        self.check_width(data.n_cols())?;
        Ok(self.gbdt.log_odds(&self.extended_table(data)))
    }

    /// Calibrated probabilities of default.
    pub fn probabilities(&self, data: &Tabular) -> Result<Vec<f64>, ModelError> {
        self.check_width(data.n_cols())?;
        Ok(self.gbdt.probabilities(&self.extended_table(data)))
    }

    /// SHAP contributions of one row, one per booster column, then the bias.
    pub fn contributions(&self, row: &[f64]) -> Result<Vec<f64>, ModelError> {
        self.check_width(row.len())?;
        Ok(self.gbdt.contributions(&self.extended(row)))
    }

    /// Score one encoded feature row.
    pub fn score_row(&self, row: &[f64]) -> Result<CreditScore, ModelError> {
        self.score_encoded(row, false).map(|(score, _, _)| score)
    }

    /// [`Self::score_row`], with the booster's input row and, when `tree_values`, each tree's
    /// value for it (empty otherwise).
    fn score_encoded(&self, row: &[f64], tree_values: bool) -> Result<(CreditScore, Vec<f64>, Vec<f64>), ModelError> {
        self.check_width(row.len())?;
        let row = self.extended(row);
        let contrib = self.gbdt.contributions(&row);
        let x = self.gbdt.encode_row(&row);
        // the probability from the trees themselves (the SHAP sum equals it up to rounding)
        let (values, log_odds) = if tree_values {
            let values = self.gbdt.tree_values_encoded(&x);
            let log_odds = self.gbdt.log_odds_of_tree_values(&values);
            (values, log_odds)
        } else {
            (Vec::new(), self.gbdt.log_odds_encoded(&x))
        };
        let p = self.gbdt.calibrate(log_odds);
        let names = self.feature_names();
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by(|&a, &b| contrib[b].abs().total_cmp(&contrib[a].abs()));
        let reason_codes = order
            .into_iter()
            .take(4)
            .filter(|&i| contrib[i] != 0.0)
            .map(|i| ReasonCode {
                feature: names[i].clone(),
                value: x[i].is_finite().then_some(x[i]),
                contribution: contrib[i],
                direction: if contrib[i] > 0.0 { "increases_risk" } else { "decreases_risk" }.into(),
            })
            .collect();
        Ok((self.summarise(p, reason_codes), x, values))
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
    pub fn fairness(&self, data: &Tabular) -> Result<Vec<GroupFairness>, ModelError> {
        let Some(y) = &data.y else { return Ok(Vec::new()) };
        let probs = self.probabilities(data)?;
        let mut out = Vec::new();
        let attrs: Vec<(String, GroupFn)> = [
            self.schema().index_of("age").or_else(|| self.schema().index_of("age_years")).map(|i| {
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
            self.schema().index_of("employment_type").map(|i| {
                let levels = match &self.schema().kinds[i] {
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
        Ok(out)
    }
}

impl Predict<CreditApplication> for CreditModel {
    type Output = CreditScore;
    fn predict(&self, a: &CreditApplication) -> Result<CreditScore, ModelError> {
        if self.schema().names != APPLICATION_FEATURES {
            return Err(ModelError::input(
                "applicant_data",
                "this model was trained on a generic table, not applications",
            ));
        }
        ModelError::check_record(a, "applicant_data")?;
        let (mut score, x0, values) = self.score_encoded(&application_features(a), a.payments_missed > 0)?;
        // forust bounds leaf weights only under splits on the constrained feature itself, so a
        // later split on another feature can still bend the curve. "More missed payments never
        // lowers risk" is therefore enforced here: the probability is the running maximum over
        // the same application with fewer missed payments (at most 64 evaluations, each walking
        // only the trees that split on a column the change of count moves; the same bits as a
        // full walk).
        let mut p = score.default_probability;
        for missed in (0..a.payments_missed).rev().take(64) {
            let fewer = CreditApplication { payments_missed: missed, ..a.clone() };
            let x = self.gbdt.encode_row(&self.extended(&application_features(&fewer)));
            p = p.max(self.gbdt.calibrate(self.gbdt.log_odds_encoded_from(&x0, &values, &x)));
        }
        if p > score.default_probability {
            score = self.summarise(p, score.reason_codes);
        }
        Ok(score)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::algo::gbdt::legacy_layout;
    use crate::bureau::Op;

    #[test]
    fn version_2_credit_models_still_load() {
        let apps = nivesh_datagen_free_table();
        let p = CreditParams {
            gbdt: GbdtParams { iterations: 20, ..CreditParams::default().gbdt },
            threshold: 0.4,
            bureau_features: false,
        };
        let m = p.fit(&apps).unwrap();
        #[derive(Serialize)]
        struct V2 {
            gbdt: legacy_layout::ReprV1,
            threshold: f64,
        }
        let payload = postcard::to_allocvec(&V2 { gbdt: legacy_layout::repr(&m.gbdt), threshold: 0.4 }).unwrap();
        let back = CreditModel::from_bytes(&crate::artifact::wrap("credit", 2, &payload)).unwrap();
        assert_eq!(back.probabilities(&apps).unwrap(), m.probabilities(&apps).unwrap());
        assert_eq!(back.threshold(), 0.4);
        assert_eq!(back.params(), m.params());
        // version 3: the same booster, no bureau features
        #[derive(Serialize)]
        struct V3<'a> {
            gbdt: &'a BinaryGbdt,
            threshold: f64,
        }
        let payload = postcard::to_allocvec(&V3 { gbdt: &m.gbdt, threshold: 0.4 }).unwrap();
        let back = CreditModel::from_bytes(&crate::artifact::wrap("credit", 3, &payload)).unwrap();
        assert_eq!((back.probabilities(&apps).unwrap(), back.params()), (m.probabilities(&apps).unwrap(), m.params()));
        // and the current version round-trips
        let again = CreditModel::from_bytes(&m.to_bytes().unwrap()).unwrap();
        assert_eq!(again.probabilities(&apps).unwrap(), m.probabilities(&apps).unwrap());
    }

    /// A bureau table whose default follows utilisation (bill over limit) and months late.
    fn bureau_table(rows: usize, seed: u64) -> Tabular {
        let names = ["LIMIT_BAL", "PAY_0", "PAY_2", "PAY_3", "BILL_AMT1", "BILL_AMT2", "BILL_AMT3", "PAY_AMT1"];
        let mut rng = nivesh_core::rng::Rng::new(seed);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..rows {
            let limit = (rng.uniform(1.0, 50.0).floor()) * 10_000.0;
            let util = rng.uniform(0.0, 1.0);
            let late: Vec<f64> = (0..3).map(|_| if rng.uniform(0.0, 1.0) < 0.2 { 2.0 } else { -1.0 }).collect();
            let bills: Vec<f64> = (0..3).map(|_| (limit * util * rng.uniform(0.8, 1.2)).round()).collect();
            let risk = 4.0 * util + late.iter().filter(|&&l| l > 0.0).count() as f64 - 2.5 + 0.5 * rng.normal();
            x.extend([limit, late[0], late[1], late[2], bills[0], bills[1], bills[2], (0.1 * bills[1]).round()]);
            y.push(if risk > 0.0 { 1.0 } else { 0.0 });
        }
        Tabular {
            schema: Schema { names: names.map(String::from).to_vec(), kinds: vec![ColumnKind::Numeric; names.len()] },
            x,
            rows,
            y: Some(y),
            weight: None,
            group: None,
        }
    }

    #[test]
    fn bureau_features_are_derived_for_every_row_scored_and_help_on_ratios() {
        let (train, test) = (bureau_table(1500, 1), bureau_table(1000, 2));
        let plain = CreditParams { gbdt: GbdtParams { iterations: 60, ..GbdtParams::default() }, ..Default::default() };
        let with = CreditParams { bureau_features: true, ..plain.clone() };
        let (p, b) = (plain.fit(&train).unwrap(), with.fit(&train).unwrap());
        assert!(p.bureau_features().is_none() && p.feature_names().len() == 8);
        // the caller's columns are the table's; the booster's add the derived ones
        assert_eq!(b.schema(), &train.schema);
        assert!(b.feature_names().iter().any(|n| n == "util_BILL_AMT1"), "{:?}", b.feature_names());
        assert!(b.feature_names().iter().any(|n| n == "PAY_months_late"));
        assert!(b.params().bureau_features && !p.params().bureau_features);
        // a raw row scores; its contributions cover the derived columns and sum to the log-odds
        let row = test.row(0);
        let score = b.score_row(row).unwrap();
        let c = b.contributions(row).unwrap();
        assert_eq!(c.len(), b.feature_names().len() + 1);
        let f: f64 = c.iter().sum();
        assert!((b.gbdt.calibrate(f) - score.default_probability).abs() < 1e-9);
        assert!(b.score_row(&row[..7]).is_err());
        // a row or a table of the wrong width is refused, naming what was expected
        assert!(b.contributions(&row[..7]).unwrap_err().to_string().contains("expected 8 values, got 7"));
        let narrow = Tabular { schema: Schema::default(), x: Vec::new(), rows: 0, y: None, weight: None, group: None };
        assert!(b.probabilities(&narrow).is_err() && b.log_odds(&narrow).is_err());
        // the ratio the trees could only approximate is given: better on unseen rows
        let y = test.y.clone().unwrap();
        let auc = |m: &CreditModel| credit_report(&m.probabilities(&test).unwrap(), &y, None).binary.auc_roc;
        assert!(auc(&b) > auc(&p), "with {} without {}", auc(&b), auc(&p));
        // the recipe travels with the model
        let back = CreditModel::from_bytes(&b.to_bytes().unwrap()).unwrap();
        assert_eq!(back.probabilities(&test).unwrap(), b.probabilities(&test).unwrap());
        assert_eq!(back.bureau_features(), b.bureau_features());
        // an artifact whose recipe does not fit (well-formed, checksummed, inconsistent) is refused
        let tampered = |edit: fn(&mut BureauFeatures)| {
            let mut m = b.clone();
            if let Some(f) = m.bureau.as_mut() {
                edit(f);
            }
            CreditModel::from_bytes(&m.to_bytes().unwrap()).unwrap_err().to_string()
        };
        assert!(tampered(|f| f.columns[0].op = Op::Ratio { num: 99, den: 0 }).contains("reads column 99"));
        assert!(tampered(|f| f.columns[0].name = "renamed".into()).contains("do not match"));
        assert!(tampered(|f| f.columns.truncate(1)).contains("do not match"));
        assert!(
            tampered(|f| f.columns[0].op = Op::SumRatio { num: vec![0, 1], den: vec![2] }).contains("pairs 2 payments")
        );
        // and a flipped byte fails its checksum
        let mut bytes = b.to_bytes().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(CreditModel::from_bytes(&bytes).is_err());
    }

    #[test]
    fn tuning_chooses_the_bureau_features_by_cross_validation() {
        use crate::algo::gbdt::{TuneMetric, TuneSpec};
        let spec = TuneSpec {
            folds: 3,
            max_depth: vec![2],
            learning_rate: vec![0.1],
            min_leaf_weight: vec![1.0],
            class_balance: vec![0.0],
            max_rounds: 40,
            metric: TuneMetric::Auc,
        };
        let p = CreditParams { gbdt: GbdtParams { tune: Some(spec), ..GbdtParams::default() }, ..Default::default() };
        // default follows utilisation and months late: the derived columns win on the folds
        let m = p.fit(&bureau_table(1200, 3)).unwrap();
        let cv = m.bureau_cv().unwrap().clone();
        assert!(cv.kept && cv.with > cv.without && cv.derived > 0, "{cv:?}");
        assert!(m.bureau_features().is_some() && m.params().bureau_features);
        // the same seed and data choose the same way
        assert_eq!(p.fit(&bureau_table(1200, 3)).unwrap().bureau_cv(), Some(&cv));
        // a table with nothing to derive is tuned once, and says nothing of it
        let mut anonymous = nivesh_datagen_free_table();
        anonymous.schema.names =
            (0..anonymous.schema.len()).map(|i| format!("x{}", char::from(b'a' + i as u8))).collect();
        let plain = p.fit(&anonymous).unwrap();
        assert!(plain.bureau_cv().is_none() && plain.bureau_features().is_none());
        // asked for explicitly, the features are used without the comparison
        let asked = CreditParams { bureau_features: true, ..p.clone() }.fit(&bureau_table(600, 4)).unwrap();
        assert!(asked.bureau_cv().is_none() && asked.bureau_features().is_some());
        // the choice is not stored in the artifact; the features are
        let back = CreditModel::from_bytes(&m.to_bytes().unwrap()).unwrap();
        assert!(back.bureau_cv().is_none() && back.bureau_features() == m.bureau_features());
    }

    /// A small application table whose default follows missed payments and utilisation.
    fn nivesh_datagen_free_table() -> Tabular {
        let mut x = Vec::new();
        let mut y = Vec::new();
        let mut rng = nivesh_core::rng::Rng::new(11);
        for _ in 0..400 {
            let mut row = vec![0.0; APPLICATION_FEATURES.len()];
            for v in row.iter_mut() {
                *v = rng.uniform(0.0, 3.0).floor();
            }
            let risk = row[6] + row[16] - 2.0 + rng.normal();
            y.push(if risk > 0.5 { 1.0 } else { 0.0 });
            x.extend(row);
        }
        Tabular { schema: application_schema(), x, rows: 400, y: Some(y), weight: None, group: None }
    }
}
