//! Samples of a model's inputs and predictions, by column: the reference kept in a training
//! profile and the current window read from the prediction log.

use crate::stats::{Key, Kind};
use serde::{Deserialize, Serialize};

/// A column's values: numbers (NaN for missing, stored as `null`) or categories (`None` for
/// missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Values {
    Numbers(#[serde(with = "crate::nan::vec")] Vec<f64>),
    Categories(Vec<Option<String>>),
}

/// One named column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    pub values: Values,
}

impl Column {
    pub fn numbers(name: impl Into<String>, values: Vec<f64>) -> Self {
        Column { name: name.into(), kind: Kind::Numerical, values: Values::Numbers(values) }
    }

    pub fn categories(name: impl Into<String>, values: Vec<Option<String>>) -> Self {
        Column { name: name.into(), kind: Kind::Categorical, values: Values::Categories(values) }
    }

    pub fn len(&self) -> usize {
        match &self.values {
            Values::Numbers(v) => v.len(),
            Values::Categories(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values present (finite numbers, non-empty categories) as keys, and the numbers
    /// themselves for a numerical column.
    pub fn present(&self) -> (Vec<Key>, Option<Vec<f64>>) {
        match &self.values {
            Values::Numbers(v) => {
                let nums: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
                (nums.iter().map(|&x| Key::num(x)).collect(), Some(nums))
            }
            Values::Categories(v) => {
                (v.iter().flatten().filter(|s| !s.is_empty()).map(|s| Key::Cat(s.clone())).collect(), None)
            }
        }
    }

    /// Share of values missing.
    pub fn missing_share(&self) -> f64 {
        let n = self.len();
        if n == 0 {
            return 0.0;
        }
        let missing = match &self.values {
            Values::Numbers(v) => v.iter().filter(|x| !x.is_finite()).count(),
            Values::Categories(v) => v.iter().filter(|s| s.as_deref().is_none_or(str::is_empty)).count(),
        };
        missing as f64 / n as f64
    }

    /// Keep the rows at `rows` (in that order).
    pub fn select(&self, rows: &[usize]) -> Column {
        let values = match &self.values {
            Values::Numbers(v) => Values::Numbers(rows.iter().filter_map(|&i| v.get(i).copied()).collect()),
            Values::Categories(v) => Values::Categories(rows.iter().filter_map(|&i| v.get(i).cloned()).collect()),
        };
        Column { name: self.name.clone(), kind: self.kind, values }
    }
}

/// One observed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Category(String),
    Missing,
}

/// What monitoring records of one prediction: the features as the model saw them and the
/// prediction, each a named value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Observation {
    pub features: Vec<(Name, Value)>,
    pub prediction: Option<(Name, Value)>,
}

impl Observation {
    /// About the bytes it holds: its vector's slots and the text its names and values own.
    pub fn size(&self) -> usize {
        let owned = |(n, v): &(Name, Value)| {
            let name = match n {
                Name::Borrowed(_) => 0,
                Name::Owned(s) => s.len(),
            };
            name + if let Value::Category(s) = v { s.len() } else { 0 }
        };
        std::mem::size_of::<Observation>()
            + self.features.capacity() * std::mem::size_of::<(Name, Value)>()
            + self.features.iter().chain(&self.prediction).map(owned).sum::<usize>()
    }
}

/// The name of an observed value: borrowed when it is a `'static` name (every served model's:
/// a request then builds no name), owned when read back or taken from a runtime schema.
pub type Name = std::borrow::Cow<'static, str>;

/// Columns of equal length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Sample {
    pub columns: Vec<Column>,
}

impl Sample {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// A sample from observations: a column per feature (and the prediction), its kind from
    /// the first value present; a value of the other kind counts as missing.
    pub fn from_observations<'a>(observations: impl IntoIterator<Item = &'a Observation>) -> Sample {
        let mut names: Vec<String> = Vec::new();
        let mut cols: Vec<(Option<Kind>, Vec<Value>)> = Vec::new();
        let mut n = 0usize;
        for o in observations {
            for (name, v) in o.features.iter().chain(o.prediction.iter()) {
                let i = match names.iter().position(|x| x == name) {
                    Some(i) => i,
                    None => {
                        names.push(name.to_string());
                        cols.push((None, vec![Value::Missing; n]));
                        names.len() - 1
                    }
                };
                let (kind, values) = &mut cols[i];
                if kind.is_none() {
                    *kind = match v {
                        Value::Number(_) => Some(Kind::Numerical),
                        Value::Category(_) => Some(Kind::Categorical),
                        Value::Missing => None,
                    };
                }
                values.resize(n, Value::Missing);
                values.push(v.clone());
            }
            n += 1;
            for (_, values) in &mut cols {
                values.resize(n, Value::Missing);
            }
        }
        let columns = names
            .into_iter()
            .zip(cols)
            .map(|(name, (kind, values))| match kind.unwrap_or(Kind::Numerical) {
                Kind::Numerical => Column::numbers(
                    name,
                    values.into_iter().map(|v| if let Value::Number(x) = v { x } else { f64::NAN }).collect(),
                ),
                Kind::Categorical => Column::categories(
                    name,
                    values.into_iter().map(|v| if let Value::Category(s) = v { Some(s) } else { None }).collect(),
                ),
            })
            .collect();
        Sample { columns }
    }

    /// At most `max` rows, picked evenly (deterministic), the order kept.
    pub fn thin(&self, max: usize) -> Sample {
        let n = self.rows();
        if n <= max || max == 0 {
            return self.clone();
        }
        let rows: Vec<usize> = (0..max).map(|i| i * n / max).collect();
        Sample { columns: self.columns.iter().map(|c| c.select(&rows)).collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_become_columns_with_missing_values_filled() {
        let o1 = Observation {
            features: vec![("amount".into(), Value::Number(10.0)), ("channel".into(), Value::Category("upi".into()))],
            prediction: Some(("score".into(), Value::Number(0.2))),
        };
        let o2 = Observation { features: vec![("amount".into(), Value::Number(20.0))], prediction: None };
        let s = Sample::from_observations([&o1, &o2]);
        assert_eq!(s.rows(), 2);
        assert_eq!(s.column("channel").unwrap().values, Values::Categories(vec![Some("upi".into()), None]));
        let score = s.column("score").unwrap();
        assert!(matches!(&score.values, Values::Numbers(v) if v[0] == 0.2 && v[1].is_nan()));
        assert_eq!(s.column("channel").unwrap().missing_share(), 0.5);
        assert_eq!(s.thin(1).rows(), 1);
    }
}
