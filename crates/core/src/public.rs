//! Readers for the public benchmark datasets, so that they run through the same code as the
//! project's own records:
//!
//! - CLINC150 `data_full.json` (Larson et al. 2019): an object of splits (`train`, `val`,
//!   `test`, `oos_train`, `oos_val`, `oos_test`), each a list of `[text, intent]` pairs;
//!   out-of-scope examples carry the intent `oos`.
//! - NLU++ folds (Casanueva et al. 2022): a list of `{text, intents, slots}` where each slot has
//!   a character `span` `[start, end)`. Slots map to our labels: `amount_of_money` → MONEY,
//!   `date`/`date_period`/`date_from`/`date_to` → DATE, `company_name` → MERCHANT,
//!   `shopping_category` → CATEGORY; other slots are dropped.

use crate::dataset::{DataError, Location, RecordError};
use crate::records::{EntitySpan, NerExample, Record, Utterance};
use serde_json::Value;
use std::path::Path;

/// The label CLINC150 gives out-of-scope queries.
pub const CLINC_OOS: &str = "oos";

/// Which public format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicFormat {
    Clinc150,
    NluPlusPlus,
}

fn io(path: &Path, e: std::io::Error) -> DataError {
    DataError::Io { path: path.display().to_string(), source: e }
}

fn bad(path: &Path, location: Location, field: Option<String>, message: impl Into<String>) -> DataError {
    DataError::Record(RecordError { path: path.display().to_string(), location, field, message: message.into() })
}

fn read_json(path: &Path) -> Result<Value, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    serde_json::from_str(&text).map_err(|e| bad(path, Location::Line(e.line() as u64), None, e.to_string()))
}

/// Detect a public format from a JSON file's shape; `None` for anything else.
pub fn detect(path: &Path) -> Option<PublicFormat> {
    if path.extension().and_then(|e| e.to_str()) != Some("json") {
        return None;
    }
    let v = read_json(path).ok()?;
    match &v {
        Value::Object(m) if m.contains_key("train") && m.contains_key("test") => Some(PublicFormat::Clinc150),
        Value::Array(items)
            if items.first().is_some_and(|x| x.get("intents").is_some() || x.get("slots").is_some()) =>
        {
            Some(PublicFormat::NluPlusPlus)
        }
        _ => None,
    }
}

/// One split of CLINC150 (e.g. `train`, `test`, `oos_test`) as utterances.
pub fn read_clinc150(path: &Path, split: &str) -> Result<Vec<Utterance>, DataError> {
    let v = read_json(path)?;
    let splits = v.as_object().ok_or_else(|| bad(path, Location::Line(1), None, "expected an object of splits"))?;
    let items = splits.get(split).and_then(Value::as_array).ok_or_else(|| {
        bad(
            path,
            Location::Line(1),
            Some(split.to_string()),
            format!("no such split (available: {})", splits.keys().cloned().collect::<Vec<_>>().join(", ")),
        )
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let pair = item.as_array().filter(|a| a.len() == 2);
            let (text, intent) = match pair.map(|a| (a[0].as_str(), a[1].as_str())) {
                Some((Some(t), Some(l))) => (t, l),
                _ => {
                    return Err(bad(path, Location::Index(i), Some(split.to_string()), "expected [text, intent]"));
                }
            };
            let u = Utterance { text: text.to_string(), intent: intent.to_string() };
            u.validate().map_err(|e| bad(path, Location::Index(i), Some(format!("{split}.{}", e.field)), e.message))?;
            Ok(u)
        })
        .collect()
}

/// Map an NLU++ slot name to our label.
pub fn nlupp_label(slot: &str) -> Option<&'static str> {
    match slot {
        "amount_of_money" => Some("MONEY"),
        "date" | "date_period" | "date_from" | "date_to" => Some("DATE"),
        "company_name" => Some("MERCHANT"),
        "shopping_category" => Some("CATEGORY"),
        _ => None,
    }
}

/// One NLU++ fold file as NER examples (every utterance, with or without mapped slots).
pub fn read_nlupp(path: &Path) -> Result<Vec<NerExample>, DataError> {
    let v = read_json(path)?;
    let items = v.as_array().ok_or_else(|| bad(path, Location::Line(1), None, "expected a JSON array"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let text = item
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(path, Location::Index(i), Some("text".into()), "missing"))?;
        let mut entities = Vec::new();
        if let Some(slots) = item.get("slots").and_then(Value::as_object) {
            for (name, slot) in slots {
                let Some(label) = nlupp_label(name) else { continue };
                let span = slot.get("span").and_then(Value::as_array);
                let (start, end) =
                    match span.map(|s| (s.first().and_then(Value::as_u64), s.get(1).and_then(Value::as_u64))) {
                        Some((Some(s), Some(e))) => (s as usize, e as usize),
                        _ => {
                            return Err(bad(
                                path,
                                Location::Index(i),
                                Some(format!("slots.{name}.span")),
                                "expected [start, end]",
                            ));
                        }
                    };
                entities.push(EntitySpan { start, end, label: label.to_string(), value: None });
            }
        }
        entities.sort_by_key(|e| (e.start, e.end));
        let ex = NerExample { text: text.to_string(), entities, reference_date: None };
        ex.validate().map_err(|e| bad(path, Location::Index(i), Some(e.field), e.message))?;
        out.push(ex);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinc_splits_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("data_full.json");
        std::fs::write(&p, r#"{"train": [["book a flight", "book_flight"]], "test": [["hi", "greeting"]], "oos_test": [["how tall is k2", "oos"]]}"#).unwrap();
        assert_eq!(detect(&p), Some(PublicFormat::Clinc150));
        let train = read_clinc150(&p, "train").unwrap();
        assert_eq!(train, vec![Utterance { text: "book a flight".into(), intent: "book_flight".into() }]);
        assert_eq!(read_clinc150(&p, "oos_test").unwrap()[0].intent, CLINC_OOS);
        let e = read_clinc150(&p, "validation").unwrap_err().to_string();
        assert!(e.contains("validation: no such split (available: train, test, oos_test)"), "{e}");
        std::fs::write(&p, r#"{"train": [["only text"]], "test": []}"#).unwrap();
        assert!(
            read_clinc150(&p, "train").unwrap_err().to_string().contains("record 0: train: expected [text, intent]")
        );
    }

    #[test]
    fn nlupp_slots_map_to_labels_with_character_spans() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fold0.json");
        std::fs::write(
            &p,
            r#"[{"text": "I paid £50 to Amazon yesterday at 5pm", "intents": ["pay"], "slots": {
                "amount_of_money": {"text": "£50", "span": [7, 10]},
                "company_name": {"text": "Amazon", "span": [14, 20]},
                "date": {"text": "yesterday", "span": [21, 30]},
                "time": {"text": "5pm", "span": [34, 37]}}},
               {"text": "hello", "intents": ["greet"]}]"#,
        )
        .unwrap();
        assert_eq!(detect(&p), Some(PublicFormat::NluPlusPlus));
        let ex = read_nlupp(&p).unwrap();
        assert_eq!(ex.len(), 2);
        let labels: Vec<(&str, String)> =
            ex[0].entities.iter().map(|e| (e.label.as_str(), ex[0].span_text(e))).collect();
        assert_eq!(
            labels,
            vec![("MONEY", "£50".to_string()), ("MERCHANT", "Amazon".into()), ("DATE", "yesterday".into())]
        );
        assert!(ex[1].entities.is_empty());
    }
}
