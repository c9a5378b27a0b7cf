//! The training profile stored with every registered model version (`profile.json`): for each
//! input feature and the prediction, on the version's evaluation data, its missing share and
//! either quantiles and a histogram (numbers) or category frequencies; and a reference sample
//! of at most [`REFERENCE_ROWS`] rows that drift checks compare the served traffic with.

use crate::sample::{Column, Observation, Sample, Values};
use crate::stats::{self, Kind};
use nivesh_models::ModelKind;
use serde::{Deserialize, Serialize};

/// Rows of evaluation data kept as the reference sample (evenly picked when there are more).
pub const REFERENCE_ROWS: usize = 5_000;

/// Most categories listed per column.
const MAX_CATEGORIES: usize = 50;

/// Summary statistics of a numerical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Numeric {
    pub min: f64,
    pub p05: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub max: f64,
    pub mean: f64,
    pub std: f64,
    /// Sturges bin edges and the count in each bin.
    pub edges: Vec<f64>,
    pub counts: Vec<f64>,
}

/// One column of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub kind: Kind,
    pub rows: usize,
    pub missing_share: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numeric: Option<Numeric>,
    /// The most frequent categories with their share of the rows present.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub frequencies: Vec<(String, f64)>,
}

/// Linear-interpolated quantile of sorted values (NumPy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl Summary {
    pub fn of(column: &Column) -> Summary {
        let mut s = Summary {
            name: column.name.clone(),
            kind: column.kind,
            rows: column.len(),
            missing_share: column.missing_share(),
            numeric: None,
            frequencies: Vec::new(),
        };
        match &column.values {
            Values::Numbers(v) => {
                let mut x: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
                if !x.is_empty() {
                    x.sort_by(f64::total_cmp);
                    let edges = stats::sturges_edges(&x);
                    s.numeric = Some(Numeric {
                        min: x[0],
                        p05: quantile(&x, 0.05),
                        p25: quantile(&x, 0.25),
                        p50: quantile(&x, 0.5),
                        p75: quantile(&x, 0.75),
                        p95: quantile(&x, 0.95),
                        max: x[x.len() - 1],
                        mean: x.iter().sum::<f64>() / x.len() as f64,
                        std: stats::std_dev(&x),
                        counts: stats::histogram(&x, &edges),
                        edges,
                    });
                }
            }
            Values::Categories(v) => {
                let present: Vec<&String> = v.iter().flatten().filter(|s| !s.is_empty()).collect();
                let mut counts: std::collections::BTreeMap<&String, usize> = Default::default();
                for c in &present {
                    *counts.entry(c).or_default() += 1;
                }
                let mut f: Vec<(String, f64)> =
                    counts.into_iter().map(|(k, n)| (k.clone(), n as f64 / present.len() as f64)).collect();
                f.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                f.truncate(MAX_CATEGORIES);
                s.frequencies = f;
            }
        }
        s
    }
}

/// A model version's profile on its evaluation data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub model: ModelKind,
    /// Evaluation rows observed.
    pub rows: usize,
    pub features: Vec<Summary>,
    pub prediction: Option<Summary>,
    /// The name of the prediction column in `reference`.
    pub prediction_name: Option<String>,
    /// At most [`REFERENCE_ROWS`] of the observed rows, every feature and the prediction.
    pub reference: Sample,
}

impl Profile {
    /// The profile of `observations` (of `model`'s evaluation data).
    pub fn build(model: ModelKind, observations: &[Observation]) -> Profile {
        let sample = Sample::from_observations(observations);
        let prediction_name = observations.iter().find_map(|o| o.prediction.as_ref().map(|(n, _)| n.to_string()));
        let (mut features, mut prediction) = (Vec::new(), None);
        for c in &sample.columns {
            let s = Summary::of(c);
            if Some(&c.name) == prediction_name.as_ref() {
                prediction = Some(s);
            } else {
                features.push(s);
            }
        }
        Profile {
            model,
            rows: observations.len(),
            features,
            prediction,
            prediction_name,
            reference: sample.thin(REFERENCE_ROWS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Value;

    #[test]
    fn profiles_summarise_numbers_categories_and_the_prediction() {
        let obs: Vec<Observation> = (0..200)
            .map(|i| Observation {
                features: vec![
                    ("amount".into(), if i % 10 == 0 { Value::Missing } else { Value::Number(i as f64) }),
                    ("channel".into(), Value::Category(if i % 4 == 0 { "card" } else { "upi" }.into())),
                ],
                prediction: Some(("score".into(), Value::Number(i as f64 / 200.0))),
            })
            .collect();
        let p = Profile::build(ModelKind::Anomaly, &obs);
        assert_eq!(p.rows, 200);
        assert_eq!(p.prediction_name.as_deref(), Some("score"));
        let amount = &p.features[0];
        assert_eq!(amount.missing_share, 0.1);
        let n = amount.numeric.as_ref().unwrap();
        assert_eq!((n.min, n.max), (1.0, 199.0));
        assert_eq!(n.counts.iter().sum::<f64>(), 180.0);
        assert_eq!(p.features[1].frequencies, vec![("upi".to_string(), 0.75), ("card".to_string(), 0.25)]);
        assert_eq!(p.reference.rows(), 200);
        assert!((quantile(&[1.0, 2.0, 3.0, 4.0], 0.5) - 2.5).abs() < 1e-12);
    }
}
