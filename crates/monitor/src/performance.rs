//! Live performance: logged predictions joined with the outcomes fed back for them, scored
//! with each model's primary metric over consecutive windows — next to the metric the version
//! had on its evaluation data.
//!
//! | model | outcome | metric |
//! |---|---|---|
//! | intent | the right intent (string) | accuracy |
//! | ner | the right entities, `[{start, end, label}]` | micro F1 of spans |
//! | spending | the actual spend of the forecast month (number) | MASE against the 30-day-mean naive forecast |
//! | anomaly | a confirmed fraud or not (bool) | AUC-ROC |
//! | credit | a default or not (bool) | AUC-ROC |

use crate::log::Outcome;
use crate::sample::Value;
pub use nivesh_api::monitoring::{Performance, Window};
use nivesh_models::ModelKind;

/// Why an outcome is refused.
pub fn check_outcome(model: ModelKind, outcome: &serde_json::Value) -> Result<(), String> {
    let ok = match model {
        ModelKind::Intent => outcome.is_string(),
        ModelKind::Ner => outcome.as_array().is_some_and(|a| a.iter().all(|e| span(e).is_some())),
        ModelKind::Spending => outcome.as_f64().is_some_and(|x| x.is_finite() && x >= 0.0),
        ModelKind::Anomaly | ModelKind::Credit => outcome.is_boolean(),
    };
    if ok {
        return Ok(());
    }
    Err(match model {
        ModelKind::Intent => "expected the right intent, a string".into(),
        ModelKind::Ner => "expected the right entities, [{\"start\", \"end\", \"label\"}, ...]".into(),
        ModelKind::Spending => "expected the actual spend of the month, a number >= 0".into(),
        ModelKind::Anomaly => "expected true (a confirmed fraud) or false".into(),
        ModelKind::Credit => "expected true (the applicant defaulted) or false".into(),
    })
}

fn span(v: &serde_json::Value) -> Option<(u64, u64, String)> {
    // `3.0` is the whole number 3, as JSON Schema counts it
    let index = |v: &serde_json::Value| {
        v.as_u64().or_else(|| v.as_f64().filter(|x| x.fract() == 0.0 && (0.0..=1e15).contains(x)).map(|x| x as u64))
    };
    Some((index(v.get("start")?)?, index(v.get("end")?)?, v.get("label")?.as_str()?.to_string()))
}

fn prediction(o: &Outcome) -> Option<&Value> {
    o.observation.prediction.as_ref().map(|(_, v)| v)
}

fn number(v: Option<&Value>) -> Option<f64> {
    match v {
        Some(Value::Number(x)) => Some(*x),
        _ => None,
    }
}

fn feature<'a>(o: &'a Outcome, name: &str) -> Option<&'a Value> {
    o.observation.features.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// `model`'s primary metric on these outcomes.
pub fn metric(model: ModelKind, outcomes: &[Outcome]) -> Option<f64> {
    if outcomes.is_empty() {
        return None;
    }
    match model {
        ModelKind::Intent => {
            let right = outcomes
                .iter()
                .filter(
                    |o| matches!((prediction(o), o.outcome.as_str()), (Some(Value::Category(p)), Some(t)) if p == t),
                )
                .count();
            Some(right as f64 / outcomes.len() as f64)
        }
        ModelKind::Ner => {
            let (mut tp, mut predicted, mut actual) = (0usize, 0usize, 0usize);
            for o in outcomes {
                let gold: Vec<(u64, u64, String)> =
                    o.outcome.as_array().map(|a| a.iter().filter_map(span).collect()).unwrap_or_default();
                let out: serde_json::Value = serde_json::from_str(&o.output).unwrap_or_default();
                let pred: Vec<(u64, u64, String)> =
                    out["entities"].as_array().map(|a| a.iter().filter_map(span).collect()).unwrap_or_default();
                tp += pred.iter().filter(|p| gold.contains(p)).count();
                predicted += pred.len();
                actual += gold.len();
            }
            let (p, r) = (tp as f64 / predicted.max(1) as f64, tp as f64 / actual.max(1) as f64);
            Some(if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 })
        }
        ModelKind::Spending => {
            let (mut err, mut naive) = (0.0, 0.0);
            for o in outcomes {
                let (Some(actual), Some(forecast), Some(mean)) =
                    (o.outcome.as_f64(), number(prediction(o)), number(feature(o, "mean_daily_spend_30d")))
                else {
                    continue;
                };
                err += (actual - forecast).abs();
                naive += (actual - mean * 30.0).abs();
            }
            (naive > 0.0).then_some(err / naive)
        }
        ModelKind::Anomaly | ModelKind::Credit => {
            let (scores, labels): (Vec<f64>, Vec<bool>) =
                outcomes.iter().filter_map(|o| Some((number(prediction(o))?, o.outcome.as_bool()?))).unzip();
            let both = labels.iter().any(|&l| l) && labels.iter().any(|&l| !l);
            both.then(|| nivesh_core::stats::auc(&scores, &labels)).filter(|x| x.is_finite())
        }
    }
}

/// Split `outcomes` (oldest first) into `windows` consecutive windows of `width_ms` ending at
/// `to_ms`, and score each.
pub fn windows(model: ModelKind, outcomes: &[Outcome], to_ms: i64, width_ms: i64, windows: usize) -> Vec<Window> {
    let rfc = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default();
    (0..windows)
        .rev()
        .map(|k| {
            let to = to_ms - k as i64 * width_ms;
            let from = to - width_ms;
            let inside: Vec<Outcome> = outcomes.iter().filter(|o| o.ts >= from && o.ts < to).cloned().collect();
            Window { from: rfc(from), to: rfc(to), n: inside.len(), value: metric(model, &inside) }
        })
        .collect()
}

/// The most units a window may have: `999999d` (2,700 years) fits any log and any `Duration`.
pub const MAX_WINDOW_DIGITS: usize = 6;

/// The query-string pattern of exactly what [`parse_window`] accepts (the OpenAPI document says
/// it, so a generated client or a fuzzer knows the grammar).
pub const WINDOW_PATTERN: &str = "^0*[1-9][0-9]{0,5}[smhd]?$";

/// A window length: a whole number and a unit, `7d`, `24h`, `90m`, `3600s` (a bare number is
/// seconds), longer than zero and at most [`MAX_WINDOW_DIGITS`] digits; nothing around it.
pub fn parse_window(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{s:?}: expected a whole number and a unit, such as 7d, 24h, 30m or 3600s");
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let per: u64 = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" | "" => 1,
        _ => return Err(bad()),
    };
    if num.is_empty() {
        return Err(bad());
    }
    let digits = num.trim_start_matches('0');
    if digits.is_empty() {
        return Err(format!("{s:?}: must be longer than zero"));
    }
    if digits.len() > MAX_WINDOW_DIGITS {
        return Err(format!("{s:?}: at most {MAX_WINDOW_DIGITS} digits"));
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    Ok(std::time::Duration::from_secs(n * per))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Observation;
    use serde_json::json;

    fn o(ts: i64, prediction: Value, outcome: serde_json::Value) -> Outcome {
        Outcome {
            ts,
            observation: Observation {
                features: vec![("mean_daily_spend_30d".into(), Value::Number(10.0))],
                prediction: Some(("p".into(), prediction)),
            },
            output: r#"{"entities": [{"start": 0, "end": 4, "label": "MONEY"}]}"#.into(),
            outcome,
        }
    }

    #[test]
    fn each_model_is_scored_with_its_metric() {
        let intent = [o(1, Value::Category("a".into()), json!("a")), o(2, Value::Category("a".into()), json!("b"))];
        assert_eq!(metric(ModelKind::Intent, &intent), Some(0.5));
        let credit = [o(1, Value::Number(0.9), json!(true)), o(2, Value::Number(0.1), json!(false))];
        assert_eq!(metric(ModelKind::Credit, &credit), Some(1.0));
        assert_eq!(metric(ModelKind::Anomaly, &credit[..1]), None, "one class has no AUC");
        // forecast 280 vs naive 300 for an actual 290: 10 / 10
        let spend = [o(1, Value::Number(280.0), json!(290.0))];
        assert_eq!(metric(ModelKind::Spending, &spend), Some(1.0));
        let ner = [o(
            1,
            Value::Number(1.0),
            json!([{"start": 0, "end": 4, "label": "MONEY"}, {"start": 5, "end": 9, "label": "DATE"}]),
        )];
        let f1 = metric(ModelKind::Ner, &ner).unwrap();
        assert!((f1 - 2.0 / 3.0).abs() < 1e-12, "{f1}");
        let w = windows(ModelKind::Intent, &intent, 3, 1, 3);
        assert_eq!(w.iter().map(|w| w.n).collect::<Vec<_>>(), [0, 1, 1]);
        assert!(check_outcome(ModelKind::Credit, &json!("yes")).is_err());
        assert!(check_outcome(ModelKind::Ner, &json!([{"start": 1, "end": 2, "label": "X"}])).is_ok());
        assert_eq!(parse_window("7d").unwrap().as_secs(), 604_800);
        assert!(parse_window("7w").is_err() && parse_window("0h").is_err());
        // too long for a Duration: an error, not a panic
        assert!(parse_window("99999999999999999999999999d").unwrap_err().contains("at most 6 digits"));
        assert_eq!(parse_window("999999d").unwrap().as_secs(), 999_999 * 86_400);
        assert_eq!(parse_window("0042").unwrap().as_secs(), 42);
        for bad in ["", "d", "1.5h", " 7d", "7d ", "-1d", "7dd", "000", "1e3s"] {
            assert!(parse_window(bad).is_err(), "{bad:?}");
        }
        // the OpenAPI pattern says the same grammar
        let re = regex::Regex::new(WINDOW_PATTERN).unwrap();
        for s in ["7d", "24h", "90m", "3600", "0042", "999999d", "1000000d", "0", "1.5h", " 7d", "7w", "", "00"] {
            assert_eq!(re.is_match(s), parse_window(s).is_ok(), "{s:?}");
        }
    }
}
