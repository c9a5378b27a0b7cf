//! What monitoring records of a prediction, per model: the features as the model saw them and
//! the prediction. The server observes every logged request with these functions and training
//! observes the evaluation data with them, so a training profile and the prediction log always
//! describe the same columns.
//!
//! | model | features | prediction |
//! |---|---|---|
//! | intent | `query_chars`, `query_words`, `oov_share` | `intent` (category) |
//! | ner | `text_chars`, `text_words` | `entities` (count) |
//! | spending | `history_days`, `mean_daily_spend_30d` | `next_month_spend` |
//! | anomaly | the detector's 15 transaction features | `anomaly_score` |
//! | credit | the 20 application features (employment type and education as categories) | `default_probability` |

use crate::sample::{Name, Observation, Value};
use nivesh_core::CreditApplication;
use nivesh_models::anomaly::TRANSACTION_FEATURES;
use nivesh_models::credit::{application_features, application_schema};
use nivesh_models::tabular::{ColumnKind, Schema};

/// The name of `model`'s prediction column.
pub fn prediction_name(model: nivesh_models::ModelKind) -> &'static str {
    use nivesh_models::ModelKind;
    match model {
        ModelKind::Intent => "intent",
        ModelKind::Ner => "entities",
        ModelKind::Spending => "next_month_spend",
        ModelKind::Anomaly => "anomaly_score",
        ModelKind::Credit => "default_probability",
    }
}

fn num(name: impl Into<Name>, v: f64) -> (Name, Value) {
    (name.into(), if v.is_finite() { Value::Number(v) } else { Value::Missing })
}

fn words(text: &str) -> f64 {
    text.split_whitespace().count() as f64
}

/// An intent query, the intent predicted for it and the share of its words never seen in
/// training (from [`nivesh_models::intent::IntentClassifier::predict_with_oov`], which analyses
/// the query once for both).
pub fn intent(query: &str, predicted: &str, oov_share: f64) -> Observation {
    Observation {
        features: vec![
            num("query_chars", query.chars().count() as f64),
            num("query_words", words(query)),
            num("oov_share", oov_share),
        ],
        prediction: Some(("intent".into(), Value::Category(predicted.to_string()))),
    }
}

/// A NER text and how many entities were found in it.
pub fn ner(text: &str, entities: usize) -> Observation {
    Observation {
        features: vec![num("text_chars", text.chars().count() as f64), num("text_words", words(text))],
        prediction: Some(num("entities", entities as f64)),
    }
}

/// A spending forecast: the daily history it was fitted on (from the user's first spend) and
/// the forecast spend of the next month.
pub fn spending(daily: &[f64], next_month: f64) -> Observation {
    let recent = &daily[daily.len().saturating_sub(30)..];
    let mean = if recent.is_empty() { f64::NAN } else { recent.iter().sum::<f64>() / recent.len() as f64 };
    Observation {
        features: vec![num("history_days", daily.len() as f64), num("mean_daily_spend_30d", mean)],
        prediction: Some(num("next_month_spend", next_month)),
    }
}

/// A scored transaction: the detector's feature row ([`TRANSACTION_FEATURES`]) and its score.
pub fn anomaly(features: &[f64], score: f64) -> Observation {
    row(&TRANSACTION_FEATURES, features, ("anomaly_score", score))
}

/// A scored credit application: its features
/// ([`nivesh_models::credit::APPLICATION_FEATURES`], employment type and
/// education as categories) and the default probability.
pub fn credit(application: &CreditApplication, default_probability: f64) -> Observation {
    static SCHEMA: std::sync::LazyLock<Schema> = std::sync::LazyLock::new(application_schema);
    let schema: &'static Schema = &SCHEMA;
    named_table(schema, &application_features(application), ("default_probability", default_probability), |n| {
        Name::Borrowed(n)
    })
}

/// A row of a model's table (the model's own encoding) and the prediction made for it:
/// numeric columns as numbers, categorical ones as their level's name (the model encodes them
/// as codes; tested as numbers they would drift on any change of level order).
pub fn table(schema: &Schema, values: &[f64], prediction: (&'static str, f64)) -> Observation {
    named_table(schema, values, prediction, |n| Name::Owned(n.to_string()))
}

/// [`table`], with the column names made by `name`: borrowed from a `'static` schema (a request's
/// observation then builds no name), else copied.
fn named_table<'s>(
    schema: &'s Schema,
    values: &[f64],
    prediction: (&'static str, f64),
    name: impl Fn(&'s str) -> Name,
) -> Observation {
    let features = schema
        .names
        .iter()
        .zip(&schema.kinds)
        .zip(values)
        .map(|((n, kind), &v)| match kind {
            ColumnKind::Numeric => num(name(n), v),
            ColumnKind::Categorical(levels) => {
                let level = (v.is_finite() && v >= 0.0).then(|| levels.get(v as usize)).flatten();
                (name(n), level.map_or(Value::Missing, |l| Value::Category(l.clone())))
            }
        })
        .collect();
    Observation { features, prediction: Some(num(prediction.0, prediction.1)) }
}

/// A table row with its column names (a model's schema) and the prediction made for it.
pub fn row(names: &[&'static str], values: &[f64], prediction: (&'static str, f64)) -> Observation {
    Observation {
        features: names.iter().zip(values).map(|(&n, &v)| num(n, v)).collect(),
        prediction: Some(num(prediction.0, prediction.1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_name_categorical_levels() {
        let schema = Schema {
            names: vec!["income".into(), "job".into()],
            kinds: vec![ColumnKind::Numeric, ColumnKind::Categorical(vec!["salaried".into(), "student".into()])],
        };
        let o = table(&schema, &[5.0, 1.0], ("p", 0.25));
        assert_eq!(o.features[0], ("income".into(), Value::Number(5.0)));
        assert_eq!(o.features[1], ("job".into(), Value::Category("student".into())));
        // an unknown or missing code is missing, not a made-up level
        assert_eq!(table(&schema, &[5.0, 7.0], ("p", 0.0)).features[1].1, Value::Missing);
        assert_eq!(table(&schema, &[5.0, f64::NAN], ("p", 0.0)).features[1].1, Value::Missing);
    }

    #[test]
    fn observations_name_their_columns() {
        let o = ner("Paid ₹500 to Swiggy", 2);
        assert_eq!(o.features[0], ("text_chars".into(), Value::Number(19.0)));
        assert_eq!(o.prediction, Some(("entities".into(), Value::Number(2.0))));
        let o = spending(&[10.0; 40], 900.0);
        assert_eq!(o.features[1].1, Value::Number(10.0));
        let o = anomaly(&[f64::NAN; 15], 0.4);
        assert_eq!(o.features.len(), 15);
        assert_eq!(o.features[0].1, Value::Missing);
    }
}
