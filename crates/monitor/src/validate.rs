//! Data validation suites, after Great Expectations and pandera: expectations per dataset kind,
//! declared in `data/validation.toml` (or a user's file), checked on the raw file — CSV, JSON
//! or JSONL — before any model trains on it. Each expectation reports what it observed, what
//! was expected, whether it passed, and up to [`EXAMPLES`] bad rows with their line numbers.
//!
//! Expectations: every record valid for its kind (types, ranges, cross-field rules of
//! `nivesh-core`'s records); row count bounds; per column a type, a largest missing share
//! (nullability), a range, allowed values; unique columns; a largest share of duplicated rows;
//! label balance (classes, rows per class, share per class); freshness (the newest timestamp
//! at most N days old).

use nivesh_core::RecordKind;
use nivesh_core::dataset::{Location, read_records_lenient};
use nivesh_core::{CreditApplication, NerExample, Record, Transaction, Utterance};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Bad rows shown per expectation.
pub const EXAMPLES: usize = 5;

/// The suites shipped with the program (`data/validation.toml`).
pub const BUILTIN: &str = include_str!("../../../data/validation.toml");

/// A column's expected type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    String,
    Number,
    Integer,
    Bool,
    Timestamp,
}

/// Expectations on one column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    #[serde(rename = "type")]
    pub kind: Option<ColumnType>,
    /// Largest share of missing values (0: the column may not be empty anywhere).
    pub max_missing: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub allowed: Option<Vec<String>>,
}

/// Bounds on the number of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rows {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// Label balance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    pub column: String,
    pub min_classes: Option<usize>,
    /// Fewest rows of any class.
    pub min_count: Option<usize>,
    /// Smallest share of any class.
    pub min_share: Option<f64>,
    /// Largest share of any class.
    pub max_share: Option<f64>,
}

/// The newest timestamp must be at most `max_age_days` old.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freshness {
    pub column: String,
    pub max_age_days: f64,
}

/// A suite: the expectations on one kind of dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// `intents`, `ner`, `transactions` or `credit`: whose records must be valid.
    pub kind: String,
    #[serde(default)]
    pub rows: Option<Rows>,
    #[serde(default)]
    pub unique: Vec<String>,
    /// Largest share of rows that repeat an earlier row exactly.
    #[serde(default)]
    pub max_duplicate_share: Option<f64>,
    #[serde(default)]
    pub labels: Option<Labels>,
    #[serde(default)]
    pub freshness: Option<Freshness>,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSpec>,
}

/// Suites by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Suites(pub BTreeMap<String, Suite>);

impl Suites {
    /// Parse a suites file (`source` names it in errors).
    pub fn parse(text: &str, source: &str) -> Result<Suites, String> {
        let map: BTreeMap<String, Suite> = toml::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        for (name, s) in &map {
            s.kind.parse::<RecordKind>().map_err(|e| format!("{source}: suite {name}: kind: {e}"))?;
        }
        Ok(Suites(map))
    }

    pub fn builtin() -> Result<Suites, String> {
        Suites::parse(BUILTIN, "data/validation.toml")
    }

    /// The suite named `name`, or (without a name) the one named after the file's record kind.
    pub fn pick(&self, name: Option<&str>, path: &Path) -> Result<(String, &Suite), String> {
        let name = match name {
            Some(n) => n.to_string(),
            None => RecordKind::infer_from_path(path)
                .map(|k| k.name().to_string())
                .ok_or_else(|| format!("cannot tell the suite of {} from its name; pass --suite", path.display()))?,
        };
        let suite = self.0.get(&name).ok_or_else(|| {
            format!("no suite named {name:?} (suites: {})", self.0.keys().cloned().collect::<Vec<_>>().join(", "))
        })?;
        Ok((name, suite))
    }
}

/// A bad row: where it is and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// `line 3` (CSV, JSONL) or `record 3` (a JSON array).
    pub at: String,
    pub value: String,
}

/// One expectation's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// `unique(transaction_id)`, `missing(merchant)`, …
    pub name: String,
    pub expected: String,
    pub observed: String,
    pub passed: bool,
    pub examples: Vec<Example>,
}

impl ExpectationResult {
    /// One line for a terminal or a log: `FAIL unique(transaction_id): 1 duplicated value
    /// (expected none); line 3: "T1"`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} {}: {} (expected {})",
            if self.passed { "PASS" } else { "FAIL" },
            self.name,
            self.observed,
            self.expected
        );
        if let Some(x) = self.examples.first() {
            s.push_str(&format!("; {}: {}", x.at, x.value));
        }
        s
    }
}

/// A validation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub file: String,
    pub suite: String,
    pub rows: usize,
    pub passed: bool,
    pub expectations: Vec<ExpectationResult>,
}

impl ValidationReport {
    /// The failed expectations' lines, joined (an error message).
    pub fn failures(&self) -> String {
        self.expectations.iter().filter(|e| !e.passed).map(ExpectationResult::line).collect::<Vec<_>>().join("; ")
    }
}

/// A raw cell.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Missing,
    Text(String),
    Number(f64),
    Bool(bool),
    /// An array or object, as JSON.
    Nested(String),
}

impl Cell {
    fn shown(&self) -> String {
        match self {
            Cell::Missing => "(missing)".into(),
            Cell::Text(s) => format!("{s:?}"),
            Cell::Number(x) => x.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Nested(s) => s.clone(),
        }
    }
    fn text(&self) -> Option<String> {
        match self {
            Cell::Missing => None,
            Cell::Text(s) => Some(s.clone()),
            Cell::Number(x) => Some(x.to_string()),
            Cell::Bool(b) => Some(b.to_string()),
            Cell::Nested(s) => Some(s.clone()),
        }
    }
    fn number(&self) -> Option<f64> {
        match self {
            Cell::Number(x) => Some(*x),
            Cell::Text(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
    }
}

/// A file as rows of named cells.
struct Frame {
    columns: Vec<String>,
    rows: Vec<(String, Vec<Cell>)>,
}

impl Frame {
    fn read(path: &Path) -> Result<Frame, String> {
        let shown = path.display().to_string();
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        match ext.as_str() {
            "csv" => {
                let t = nivesh_core::dataset::read_table(path).map_err(|e| e.to_string())?;
                let rows = t
                    .rows
                    .into_iter()
                    .zip(t.lines)
                    .map(|(r, line)| {
                        let cells = r
                            .into_iter()
                            .map(|v| if v.trim().is_empty() { Cell::Missing } else { Cell::Text(v) })
                            .collect();
                        (format!("line {line}"), cells)
                    })
                    .collect();
                Ok(Frame { columns: t.headers, rows })
            }
            "jsonl" | "json" => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
                let objects: Vec<(String, serde_json::Value)> = if ext == "jsonl" {
                    text.lines()
                        .enumerate()
                        .filter(|(_, l)| !l.trim().is_empty())
                        .map(|(i, l)| {
                            serde_json::from_str(l)
                                .map(|v| (format!("line {}", i + 1), v))
                                .map_err(|e| format!("{shown}:{}: {e}", i + 1))
                        })
                        .collect::<Result<_, _>>()?
                } else {
                    let all: Vec<serde_json::Value> =
                        serde_json::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
                    all.into_iter().enumerate().map(|(i, v)| (format!("record {}", i + 1), v)).collect()
                };
                let mut columns: Vec<String> = Vec::new();
                for (_, o) in &objects {
                    for k in o.as_object().into_iter().flat_map(|m| m.keys()) {
                        if !columns.contains(k) {
                            columns.push(k.clone());
                        }
                    }
                }
                let rows = objects
                    .into_iter()
                    .map(|(at, o)| {
                        let cells = columns
                            .iter()
                            .map(|c| match o.get(c) {
                                None | Some(serde_json::Value::Null) => Cell::Missing,
                                Some(serde_json::Value::String(s)) if s.trim().is_empty() => Cell::Missing,
                                Some(serde_json::Value::String(s)) => Cell::Text(s.clone()),
                                Some(serde_json::Value::Number(n)) => Cell::Number(n.as_f64().unwrap_or(f64::NAN)),
                                Some(serde_json::Value::Bool(b)) => Cell::Bool(*b),
                                Some(other) => Cell::Nested(other.to_string()),
                            })
                            .collect();
                        (at, cells)
                    })
                    .collect();
                Ok(Frame { columns, rows })
            }
            other => Err(format!("{shown}: unknown format {other:?} (expected .csv, .json or .jsonl)")),
        }
    }

    fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }
}

fn pct(x: f64) -> String {
    let p = x * 100.0;
    if p == p.round() { format!("{p:.0} %") } else { format!("{p:.1} %") }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn result(name: String, expected: String, observed: String, passed: bool, examples: Vec<Example>) -> ExpectationResult {
    ExpectationResult { name, expected, observed, passed, examples }
}

fn type_ok(kind: ColumnType, c: &Cell) -> bool {
    match (kind, c) {
        (_, Cell::Missing) => true,
        (ColumnType::String, Cell::Text(_)) => true,
        (ColumnType::String, _) => false,
        (ColumnType::Number, c) => c.number().is_some_and(f64::is_finite),
        (ColumnType::Integer, c) => c.number().is_some_and(|x| x.is_finite() && x.fract() == 0.0),
        (ColumnType::Bool, Cell::Bool(_)) => true,
        (ColumnType::Bool, Cell::Text(s)) => {
            matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "false" | "1" | "0" | "yes" | "no")
        }
        (ColumnType::Bool, Cell::Number(x)) => *x == 0.0 || *x == 1.0,
        (ColumnType::Bool, _) => false,
        (ColumnType::Timestamp, Cell::Text(s)) => nivesh_core::records::flexible_timestamp::parse(s).is_ok(),
        (ColumnType::Timestamp, _) => false,
    }
}

fn examples<'a>(rows: impl Iterator<Item = (&'a String, String)>) -> Vec<Example> {
    rows.take(EXAMPLES).map(|(at, value)| Example { at: at.clone(), value }).collect()
}

/// Every record valid for the suite's kind; the valid records.
fn records_valid<T: Record>(path: &Path) -> Result<(ExpectationResult, Vec<T>), String> {
    let outcome = read_records_lenient::<T>(path).map_err(|e| e.to_string())?;
    let (good, errors) = (outcome.records.len(), &outcome.errors);
    let examples = errors
        .iter()
        .take(EXAMPLES)
        .map(|e| Example {
            at: match e.location {
                Location::Line(l) => format!("line {l}"),
                Location::Index(i) => format!("record {i}"),
            },
            value: match &e.field {
                Some(f) => format!("{f}: {}", e.message),
                None => e.message.clone(),
            },
        })
        .collect();
    let r = result(
        format!("records({})", T::KIND.name()),
        "every record valid".into(),
        format!("{} of {}", plural(errors.len(), "bad record", "bad records"), good + errors.len()),
        errors.is_empty(),
        examples,
    );
    Ok((r, outcome.records))
}

/// Check `path` against `suite` (named `name`), whatever its kind; `now` is the instant
/// freshness is measured at.
pub fn validate(
    path: &Path,
    name: &str,
    suite: &Suite,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<ValidationReport, String> {
    let kind: RecordKind = suite.kind.parse()?;
    Ok(match kind {
        RecordKind::Utterance => validate_records::<Utterance>(path, name, suite, now)?.0,
        RecordKind::Ner => validate_records::<NerExample>(path, name, suite, now)?.0,
        RecordKind::Transaction => validate_records::<Transaction>(path, name, suite, now)?.0,
        RecordKind::Credit => validate_records::<CreditApplication>(path, name, suite, now)?.0,
    })
}

/// [`validate`] for records of type `T` (the suite's kind), also returning the valid records
/// (so the caller need not read the file again).
pub fn validate_records<T: Record>(
    path: &Path,
    name: &str,
    suite: &Suite,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(ValidationReport, Vec<T>), String> {
    let kind: RecordKind = suite.kind.parse()?;
    if kind != T::KIND {
        return Err(format!("suite {name} is for {} records, not {}", kind.name(), T::KIND.name()));
    }
    let frame = Frame::read(path)?;
    let n = frame.rows.len();
    let (records, valid) = records_valid::<T>(path)?;
    let mut out = vec![records];
    if let Some(r) = suite.rows {
        let ok = r.min.is_none_or(|m| n as u64 >= m) && r.max.is_none_or(|m| n as u64 <= m);
        let expected = match (r.min, r.max) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => "any number".into(),
        };
        out.push(result("rows".into(), expected, n.to_string(), ok, Vec::new()));
    }
    for (column, spec) in &suite.columns {
        let Some(ci) = frame.index(column) else {
            let required = spec.max_missing.is_some_and(|m| m < 1.0);
            out.push(result(
                format!("column({column})"),
                if required { "present".into() } else { "present, or optional".into() },
                "absent".into(),
                !required,
                Vec::new(),
            ));
            continue;
        };
        let cells = || frame.rows.iter().map(|(at, cells)| (at, &cells[ci]));
        if let Some(t) = spec.kind {
            let bad: Vec<_> = cells().filter(|(_, c)| !type_ok(t, c)).collect();
            out.push(result(
                format!("type({column})"),
                format!("{t:?}").to_lowercase(),
                plural(bad.len(), "value of another type", "values of another type"),
                bad.is_empty(),
                examples(bad.into_iter().map(|(at, c)| (at, c.shown()))),
            ));
        }
        if let Some(max) = spec.max_missing {
            let missing: Vec<_> = cells().filter(|(_, c)| **c == Cell::Missing).collect();
            let share = if n == 0 { 0.0 } else { missing.len() as f64 / n as f64 };
            out.push(result(
                format!("missing({column})"),
                if max == 0.0 { "none".into() } else { format!("at most {}", pct(max)) },
                format!("{} ({})", pct(share), plural(missing.len(), "row", "rows")),
                share <= max,
                examples(missing.into_iter().map(|(at, c)| (at, c.shown()))),
            ));
        }
        if spec.min.is_some() || spec.max.is_some() {
            let (lo, hi) = (spec.min.unwrap_or(f64::NEG_INFINITY), spec.max.unwrap_or(f64::INFINITY));
            let bad: Vec<_> = cells().filter(|(_, c)| c.number().is_some_and(|x| x < lo || x > hi)).collect();
            let expected = match (spec.min, spec.max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (_, Some(b)) => format!("at most {b}"),
                (None, None) => String::new(),
            };
            out.push(result(
                format!("range({column})"),
                expected,
                plural(bad.len(), "value out of range", "values out of range"),
                bad.is_empty(),
                examples(bad.into_iter().map(|(at, c)| (at, c.shown()))),
            ));
        }
        if let Some(allowed) = &spec.allowed {
            let bad: Vec<_> =
                cells().filter(|(_, c)| c.text().is_some_and(|t| !allowed.iter().any(|a| a == &t))).collect();
            out.push(result(
                format!("allowed({column})"),
                format!("one of {}", allowed.join(", ")),
                plural(bad.len(), "other value", "other values"),
                bad.is_empty(),
                examples(bad.into_iter().map(|(at, c)| (at, c.shown()))),
            ));
        }
    }
    for column in &suite.unique {
        let Some(ci) = frame.index(column) else {
            out.push(result(
                format!("unique({column})"),
                "no repeated value".into(),
                "no such column".into(),
                false,
                Vec::new(),
            ));
            continue;
        };
        let mut seen: HashMap<String, &String> = HashMap::new();
        let mut repeats = Vec::new();
        for (at, cells) in &frame.rows {
            if let Some(v) = cells[ci].text() {
                if let Some(first) = seen.get(&v) {
                    repeats.push((at, format!("{:?} (first at {first})", v)));
                } else {
                    seen.insert(v, at);
                }
            }
        }
        out.push(result(
            format!("unique({column})"),
            "no repeated value".into(),
            plural(repeats.len(), "repeated value", "repeated values"),
            repeats.is_empty(),
            examples(repeats.into_iter()),
        ));
    }
    if let Some(max) = suite.max_duplicate_share {
        let mut seen: HashMap<Vec<String>, &String> = HashMap::new();
        let mut dups = Vec::new();
        for (at, cells) in &frame.rows {
            let key: Vec<String> = cells.iter().map(Cell::shown).collect();
            match seen.get(&key) {
                Some(first) => dups.push((at, format!("same as {first}"))),
                None => {
                    seen.insert(key, at);
                }
            }
        }
        let share = if n == 0 { 0.0 } else { dups.len() as f64 / n as f64 };
        out.push(result(
            "duplicates".into(),
            if max == 0.0 { "none".into() } else { format!("at most {}", pct(max)) },
            format!("{} ({})", pct(share), plural(dups.len(), "row", "rows")),
            share <= max,
            examples(dups.into_iter()),
        ));
    }
    if let Some(l) = &suite.labels {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        if let Some(ci) = frame.index(&l.column) {
            for (_, cells) in &frame.rows {
                if let Some(v) = cells[ci].text() {
                    *counts.entry(v).or_default() += 1;
                }
            }
        }
        let total: usize = counts.values().sum();
        let (smallest, largest) = (counts.iter().min_by_key(|(_, n)| **n), counts.iter().max_by_key(|(_, n)| **n));
        let share = |n: usize| if total == 0 { 0.0 } else { n as f64 / total as f64 };
        let mut problems = Vec::new();
        if l.min_classes.is_some_and(|m| counts.len() < m) {
            problems.push(format!("{} classes", counts.len()));
        }
        if let (Some(m), Some((label, k))) = (l.min_count, smallest)
            && *k < m
        {
            problems.push(format!("{label:?} has {k} rows"));
        }
        if let (Some(m), Some((label, k))) = (l.min_share, smallest)
            && share(*k) < m
        {
            problems.push(format!("{label:?} is {}", pct(share(*k))));
        }
        if let (Some(m), Some((label, k))) = (l.max_share, largest)
            && share(*k) > m
        {
            problems.push(format!("{label:?} is {}", pct(share(*k))));
        }
        let mut expected = Vec::new();
        if let Some(m) = l.min_classes {
            expected.push(format!("at least {m} classes"));
        }
        if let Some(m) = l.min_count {
            expected.push(format!("at least {m} rows each"));
        }
        if let Some(m) = l.min_share {
            expected.push(format!("each at least {}", pct(m)));
        }
        if let Some(m) = l.max_share {
            expected.push(format!("none over {}", pct(m)));
        }
        let observed = if problems.is_empty() {
            format!("{} classes, smallest {}", counts.len(), smallest.map_or(0, |(_, n)| *n))
        } else {
            problems.join(", ")
        };
        out.push(result(
            format!("labels({})", l.column),
            expected.join(", "),
            observed,
            problems.is_empty(),
            Vec::new(),
        ));
    }
    if let Some(f) = &suite.freshness {
        let newest = frame.index(&f.column).and_then(|ci| {
            frame
                .rows
                .iter()
                .filter_map(|(at, cells)| {
                    let t = cells[ci].text().and_then(|s| nivesh_core::records::flexible_timestamp::parse(&s).ok())?;
                    Some((t, at))
                })
                // the first row holding the newest timestamp
                .fold(None, |best: Option<(chrono::DateTime<chrono::FixedOffset>, &String)>, (t, at)| match best {
                    Some((b, _)) if b >= t => best,
                    _ => Some((t, at)),
                })
        });
        let (observed, ok, examples) = match newest {
            Some((t, at)) => {
                let age = (now - t.with_timezone(&chrono::Utc)).num_seconds() as f64 / 86_400.0;
                (
                    format!("newest {} ({age:.1} days old)", t.to_rfc3339()),
                    age <= f.max_age_days,
                    vec![Example { at: at.clone(), value: t.to_rfc3339() }],
                )
            }
            None => ("no timestamps".into(), false, Vec::new()),
        };
        out.push(result(
            format!("freshness({})", f.column),
            format!("newest at most {} days old", f.max_age_days),
            observed,
            ok,
            if ok { Vec::new() } else { examples },
        ));
    }
    let passed = out.iter().all(|e| e.passed);
    let report = ValidationReport {
        file: path.display().to_string(),
        suite: name.to_string(),
        rows: n,
        passed,
        expectations: out,
    };
    Ok((report, valid))
}
