//! Generic tabular data for the numeric models: numeric columns are features as they are,
//! string columns are categorical (coded by sorted level; a level unseen in training is
//! missing). A label, a sample-weight and a group (cross-validation fold) column can be named.

use crate::ModelError;
use serde::{Deserialize, Serialize};

/// How a column is used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnKind {
    Numeric,
    /// Levels in code order.
    Categorical(Vec<String>),
}

/// Feature columns of a model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    pub names: Vec<String>,
    pub kinds: Vec<ColumnKind>,
}

impl Schema {
    pub fn len(&self) -> usize {
        self.names.len()
    }
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
    pub fn categorical_indices(&self) -> Vec<usize> {
        self.kinds.iter().enumerate().filter(|(_, k)| matches!(k, ColumnKind::Categorical(_))).map(|(i, _)| i).collect()
    }

    /// Encode one value of column `i`: numbers as they are (empty = missing), categories by
    /// code (unseen = missing). Errors name the column.
    pub fn encode(&self, i: usize, raw: &str) -> Result<f64, ModelError> {
        let raw = raw.trim();
        match &self.kinds[i] {
            ColumnKind::Numeric
                if raw.is_empty() || raw.eq_ignore_ascii_case("nan") || raw.eq_ignore_ascii_case("na") =>
            {
                Ok(f64::NAN)
            }
            ColumnKind::Numeric => {
                raw.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| ModelError::InvalidInput {
                    field: format!("features.{}", self.names[i]),
                    message: format!("{raw:?} is not a number"),
                })
            }
            ColumnKind::Categorical(levels) => Ok(levels.iter().position(|l| l == raw).map_or(f64::NAN, |c| c as f64)),
        }
    }
}

/// Which columns play which role.
#[derive(Debug, Clone, Default)]
pub struct TableSpec {
    pub label: Option<String>,
    pub weight: Option<String>,
    pub group: Option<String>,
    pub ignore: Vec<String>,
}

type Roles = (Option<Vec<f64>>, Option<Vec<f64>>, Option<Vec<String>>);

/// The label, weight and group columns (by index) of a string table.
fn roles(
    headers: &[String],
    rows: &[Vec<String>],
    label: Option<usize>,
    weight: Option<usize>,
    group: Option<usize>,
    line_of: &impl Fn(usize) -> u64,
) -> Result<Roles, ModelError> {
    let y = label
        .map(|c| {
            rows.iter()
                .enumerate()
                .map(|(i, r)| {
                    parse_label(&r[c]).ok_or_else(|| {
                        ModelError::Data(format!("line {}: {}: {:?} is not a 0/1 label", line_of(i), headers[c], r[c]))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let weight = weight
        .map(|c| {
            rows.iter()
                .enumerate()
                .map(|(i, r)| {
                    r[c].trim().parse::<f64>().ok().filter(|w| w.is_finite() && *w >= 0.0).ok_or_else(|| {
                        ModelError::Data(format!(
                            "line {}: {}: {:?} is not a weight >= 0",
                            line_of(i),
                            headers[c],
                            r[c]
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let group = group.map(|c| rows.iter().map(|r| r[c].trim().to_string()).collect());
    Ok((y, weight, group))
}

/// A feature matrix (row-major) with optional label, weights and groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Tabular {
    pub schema: Schema,
    pub x: Vec<f64>,
    pub rows: usize,
    /// 1.0 for the positive class (default, fraud), else 0.0.
    pub y: Option<Vec<f64>>,
    pub weight: Option<Vec<f64>>,
    pub group: Option<Vec<String>>,
}

fn parse_label(s: &str) -> Option<f64> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "1.0" | "true" | "yes" | "bad" => Some(1.0),
        "0" | "0.0" | "false" | "no" | "good" => Some(0.0),
        _ => None,
    }
}

impl Tabular {
    /// Build from a string table. `line_of(i)` names the source line of row `i` in errors.
    pub fn from_strings(
        headers: &[String],
        rows: &[Vec<String>],
        spec: &TableSpec,
        line_of: impl Fn(usize) -> u64,
    ) -> Result<Self, ModelError> {
        if let Some(i) = rows.iter().position(|r| r.len() != headers.len()) {
            return Err(ModelError::Data(format!(
                "line {}: {} fields, the header has {}",
                line_of(i),
                rows[i].len(),
                headers.len()
            )));
        }
        let col = |name: &str, role: &'static str| {
            headers
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| ModelError::param(role, format!("no column named {name:?}")))
        };
        let label = spec.label.as_deref().map(|n| col(n, "label")).transpose()?;
        let weight = spec.weight.as_deref().map(|n| col(n, "weight")).transpose()?;
        let group = spec.group.as_deref().map(|n| col(n, "cv_column")).transpose()?;
        for name in &spec.ignore {
            col(name, "ignore")?;
        }
        let features: Vec<usize> = (0..headers.len())
            .filter(|&i| {
                Some(i) != label && Some(i) != weight && Some(i) != group && !spec.ignore.contains(&headers[i])
            })
            .collect();
        if features.is_empty() {
            return Err(ModelError::Data("no feature columns left".into()));
        }
        let mut kinds = Vec::new();
        for &c in &features {
            let numeric = rows.iter().all(|r| {
                let v = r[c].trim();
                v.is_empty()
                    || v.eq_ignore_ascii_case("nan")
                    || v.eq_ignore_ascii_case("na")
                    || v.parse::<f64>().is_ok()
            });
            kinds.push(if numeric {
                ColumnKind::Numeric
            } else {
                let mut levels: Vec<String> =
                    rows.iter().map(|r| r[c].trim().to_string()).filter(|v| !v.is_empty()).collect();
                levels.sort();
                levels.dedup();
                ColumnKind::Categorical(levels)
            });
        }
        let schema = Schema { names: features.iter().map(|&c| headers[c].clone()).collect(), kinds };
        let mut x = Vec::with_capacity(rows.len() * features.len());
        for (i, r) in rows.iter().enumerate() {
            for (j, &c) in features.iter().enumerate() {
                x.push(schema.encode(j, &r[c]).map_err(|e| ModelError::Data(format!("line {}: {e}", line_of(i))))?);
            }
        }
        let (y, weight, group) = roles(headers, rows, label, weight, group, &line_of)?;
        Ok(Tabular { schema, x, rows: rows.len(), y, weight, group })
    }

    /// Encode a table with an existing schema (columns found by name; extra columns ignored).
    pub fn with_schema(
        schema: &Schema,
        headers: &[String],
        rows: &[Vec<String>],
        spec: &TableSpec,
        line_of: impl Fn(usize) -> u64,
    ) -> Result<Self, ModelError> {
        let cols: Vec<usize> = schema
            .names
            .iter()
            .map(|n| {
                headers
                    .iter()
                    .position(|h| h == n)
                    .ok_or_else(|| ModelError::Data(format!("the model needs a column named {n:?}")))
            })
            .collect::<Result<_, _>>()?;
        let mut x = Vec::with_capacity(rows.len() * cols.len());
        for (i, r) in rows.iter().enumerate() {
            for (j, &c) in cols.iter().enumerate() {
                x.push(schema.encode(j, &r[c]).map_err(|e| ModelError::Data(format!("line {}: {e}", line_of(i))))?);
            }
        }
        // label, weight and group as in from_strings
        let roles = Tabular::from_strings(headers, rows, &TableSpec { ignore: Vec::new(), ..spec.clone() }, &line_of)?;
        Ok(Tabular {
            schema: schema.clone(),
            x,
            rows: rows.len(),
            y: roles.y,
            weight: roles.weight,
            group: roles.group,
        })
    }

    pub fn n_cols(&self) -> usize {
        self.schema.len()
    }

    pub fn row(&self, i: usize) -> &[f64] {
        let k = self.n_cols();
        &self.x[i * k..(i + 1) * k]
    }

    /// The rows at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Tabular {
        let mut x = Vec::with_capacity(idx.len() * self.n_cols());
        for &i in idx {
            x.extend_from_slice(self.row(i));
        }
        Tabular {
            schema: self.schema.clone(),
            x,
            rows: idx.len(),
            y: self.y.as_ref().map(|y| idx.iter().map(|&i| y[i]).collect()),
            weight: self.weight.as_ref().map(|w| idx.iter().map(|&i| w[i]).collect()),
            group: self.group.as_ref().map(|g| idx.iter().map(|&i| g[i].clone()).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn columns_become_numeric_or_categorical() {
        let headers = s(&["id", "amount", "city", "label", "w", "fold"]);
        let rows = vec![s(&["a", "10.5", "Pune", "1", "2", "0"]), s(&["b", "", "Delhi", "0", "1", "1"])];
        let spec = TableSpec {
            label: Some("label".into()),
            weight: Some("w".into()),
            group: Some("fold".into()),
            ignore: vec!["id".into()],
        };
        let t = Tabular::from_strings(&headers, &rows, &spec, |i| i as u64 + 2).unwrap();
        assert_eq!(t.schema.names, s(&["amount", "city"]));
        assert_eq!(t.schema.kinds[1], ColumnKind::Categorical(s(&["Delhi", "Pune"])));
        assert_eq!(t.row(0), &[10.5, 1.0]);
        assert!(t.row(1)[0].is_nan());
        assert_eq!(t.y, Some(vec![1.0, 0.0]));
        assert_eq!(t.weight, Some(vec![2.0, 1.0]));
        assert_eq!(t.schema.encode(1, "Mumbai").map(f64::is_nan).ok(), Some(true));
        let bad = vec![s(&["a", "1", "Pune", "maybe", "1", "0"])];
        let e = Tabular::from_strings(&headers, &bad, &spec, |i| i as u64 + 2).unwrap_err();
        assert_eq!(e.to_string(), "training data: line 2: label: \"maybe\" is not a 0/1 label");
        let spec = TableSpec { label: Some("target".into()), ..Default::default() };
        assert!(
            Tabular::from_strings(&headers, &rows, &spec, |i| i as u64)
                .unwrap_err()
                .to_string()
                .contains("no column named \"target\"")
        );
    }
}
