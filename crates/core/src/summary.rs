//! A column-by-column summary of a dataset, for `data check`: rows, missing values per column,
//! numeric ranges, distinct strings, and label counts.

use crate::records::Record;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Statistics of one top-level field.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ColumnSummary {
    pub name: String,
    pub present: usize,
    pub missing: usize,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    /// Distinct values for string and boolean columns.
    pub distinct: Option<usize>,
    /// Total items for list columns (e.g. entities).
    pub items: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DatasetSummary {
    pub rows: usize,
    pub columns: Vec<ColumnSummary>,
    pub labels: BTreeMap<String, usize>,
}

#[derive(Default)]
struct Acc {
    present: usize,
    sum: f64,
    numeric: usize,
    min: f64,
    max: f64,
    distinct: BTreeSet<String>,
    stringy: bool,
    items: Option<usize>,
}

impl DatasetSummary {
    pub fn of<T: Record>(records: &[T]) -> Self {
        let mut order: Vec<String> = Vec::new();
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        let mut labels = BTreeMap::new();
        for r in records {
            for l in r.labels() {
                *labels.entry(l).or_insert(0) += 1;
            }
            let Ok(Value::Object(map)) = serde_json::to_value(r) else { continue };
            for (k, v) in map {
                if !acc.contains_key(&k) {
                    order.push(k.clone());
                }
                let a = acc.entry(k).or_default();
                match v {
                    Value::Null => continue,
                    Value::Number(n) => {
                        let x = n.as_f64().unwrap_or(f64::NAN);
                        if a.numeric == 0 {
                            a.min = x;
                            a.max = x;
                        }
                        a.min = a.min.min(x);
                        a.max = a.max.max(x);
                        a.sum += x;
                        a.numeric += 1;
                    }
                    Value::String(s) => {
                        a.stringy = true;
                        if s.trim().is_empty() {
                            continue;
                        }
                        a.distinct.insert(s);
                    }
                    Value::Bool(b) => {
                        a.stringy = true;
                        a.distinct.insert(b.to_string());
                    }
                    Value::Array(items) => *a.items.get_or_insert(0) += items.len(),
                    Value::Object(_) => {}
                }
                a.present += 1;
            }
        }
        let rows = records.len();
        let columns = order
            .into_iter()
            .filter_map(|name| {
                let a = acc.remove(&name)?;
                let numeric = a.numeric > 0;
                Some(ColumnSummary {
                    present: a.present,
                    missing: rows - a.present,
                    min: numeric.then_some(a.min),
                    max: numeric.then_some(a.max),
                    mean: numeric.then(|| a.sum / a.numeric as f64),
                    distinct: a.stringy.then_some(a.distinct.len()),
                    items: a.items,
                    name,
                })
            })
            .collect();
        DatasetSummary { rows, columns, labels }
    }
}
