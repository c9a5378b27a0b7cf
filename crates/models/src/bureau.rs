//! Engineered features for credit-bureau style tables: utilisation (balance over limit),
//! payment-to-bill ratios, delinquency counts and the level and trend of monthly histories.
//!
//! Trees split on one column at a time, so a ratio of two columns (a bill of ₹40,000 is
//! alarming on a ₹50,000 limit, not on a ₹5,00,000 one) costs them many splits to approximate;
//! a count over six monthly status columns even more. These columns are derived from the
//! table's own columns by their names and values, once at fit time ([`BureauFeatures::detect`]),
//! and the same recipe is applied to every row scored later, so that a caller sends only the
//! raw columns.
//!
//! What is recognised (names are compared word by word, case-insensitively: a name's words are
//! split at punctuation, at a lower-case letter followed by an upper-case one and where letters
//! meet digits, so `NumberOfTimes90DaysLate` holds `late` and `unlimited` does not hold `limit`):
//! - **monthly series**: numeric columns named `STEM` + a number (`BILL_AMT1` … `BILL_AMT6`,
//!   `PAY_0`, `PAY_2` … `PAY_6`), two or more with the same stem. A series whose values in the
//!   training data are all whole numbers in −3 … 12 is a **repayment status** (months late;
//!   ≤ 0 is paid): `STEM_months_late` (how many months > 0), `STEM_max_late`. Any other series
//!   is an **amount**: `STEM_mean`, `STEM_max` and `STEM_trend` (the lowest-numbered month
//!   minus the highest-numbered).
//! - **a limit**: one numeric column, not part of a series, whose name holds the word `limit`
//!   (`LIMIT_BAL`, `credit_limit`, `creditLimit`). Each **balance** column (a name holding
//!   `bill`, `balance`, `bal`, `owed`, `outstanding` or `used`, or a plural of them, not
//!   `limit`) is divided by it:
//!   `util_COLUMN`, and for a balance series also `util_STEM_mean` and `util_STEM_max`.
//! - **payments against bills**: an amount series whose stem holds `pay`, `payment(s)`, `paid` or
//!   `repayment(s)` and a balance series with the same month numbers: `COLUMN_to_BILL` for every
//!   month and `STEM_to_BILLSTEM_total` (the payments over the bills of the months where both
//!   are present). Months are paired by their numbers as the table names them. In UCI Taiwan,
//!   `PAY_AMTk` and `BILL_AMTk` are the same calendar month, and a payment there mostly settles
//!   the previous statement (`BILL_AMT(k+1)`); the per-month ratios keep the table's own pairing,
//!   which a tree can still use, and the total over six months is nearly the same under either.
//! - **past-due counters** (names holding `past due`, `pastdue`, `days late`, `dayslate`, `dpd` or `late`
//!   with whole values ≥ 0, e.g. Give Me Some Credit's `NumberOfTime30-59DaysPastDueNotWorse`):
//!   their sum, `past_due_total`, when there are two or more.
//!
//! Names run together without a separator (`CREDITLIMIT`, `BILLAMT1`) are not split, and not
//! recognised.
//!
//! A ratio whose divisor is ≤ 0 or missing is missing (the trees send it the learned way).
//! A derived column that repeats, on every training row, a column the table has (or an earlier
//! derived one) is dropped: the project's own applications carry `utilization` already, which
//! is `credit_used` over `credit_limit`. A table with none of these (German Credit, the
//! project's applications) gets no columns, and the model is the one it would be without.

use crate::ModelError;
use crate::tabular::{ColumnKind, Schema, Tabular};
use serde::{Deserialize, Serialize};

/// How one derived column is computed from a row of the input columns (indices into it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// `num / den`; missing when `den` ≤ 0 or either is missing.
    Ratio { num: usize, den: usize },
    /// Sum of `num` over sum of `den`, pairwise (`num[i]` goes with `den[i]`): only pairs with
    /// both values present count; missing when the sum of `den` ≤ 0.
    SumRatio { num: Vec<usize>, den: Vec<usize> },
    /// Mean of the present values.
    Mean(Vec<usize>),
    /// Maximum of the present values.
    Max(Vec<usize>),
    /// `a − b`.
    Diff { a: usize, b: usize },
    /// How many present values are > 0.
    CountPositive(Vec<usize>),
    /// Sum of the present values.
    Sum(Vec<usize>),
    /// `f(cols) / den`, f one of the ops above over `cols` (a mean or max utilisation).
    Over { inner: Box<Op>, den: usize },
}

/// The present (non-missing) values of some columns of a row, summarised in one pass.
struct Present {
    n: usize,
    sum: f64,
    max: f64,
    positive: usize,
}

impl Present {
    /// `None` when every value is missing.
    fn of(row: &[f64], cols: &[usize]) -> Option<Present> {
        let mut p = Present { n: 0, sum: 0.0, max: f64::NEG_INFINITY, positive: 0 };
        for v in cols.iter().map(|&c| row[c]).filter(|v| !v.is_nan()) {
            p.n += 1;
            p.sum += v;
            p.max = p.max.max(v);
            p.positive += usize::from(v > 0.0);
        }
        (p.n > 0).then_some(p)
    }
}

impl Op {
    fn eval(&self, row: &[f64]) -> f64 {
        let divide = |n: f64, d: f64| if d > 0.0 && n.is_finite() && d.is_finite() { n / d } else { f64::NAN };
        let over = |cols: &[usize], f: fn(&Present) -> f64| Present::of(row, cols).map_or(f64::NAN, |p| f(&p));
        match self {
            Op::Ratio { num, den } => divide(row[*num], row[*den]),
            Op::SumRatio { num, den } => {
                let pairs = num.iter().zip(den).map(|(&n, &d)| (row[n], row[d]));
                let (n, d) = pairs
                    .filter(|(n, d)| !n.is_nan() && !d.is_nan())
                    .fold((0.0, 0.0), |(sn, sd), (n, d)| (sn + n, sd + d));
                divide(n, d)
            }
            Op::Mean(cols) => over(cols, |p| p.sum / p.n as f64),
            Op::Max(cols) => over(cols, |p| p.max),
            Op::Diff { a, b } => row[*a] - row[*b],
            Op::CountPositive(cols) => over(cols, |p| p.positive as f64),
            Op::Sum(cols) => over(cols, |p| p.sum),
            Op::Over { inner, den } => divide(inner.eval(row), row[*den]),
        }
    }

    fn columns(&self) -> Vec<usize> {
        match self {
            Op::Ratio { num, den } => vec![*num, *den],
            Op::SumRatio { num, den } => num.iter().chain(den).copied().collect(),
            Op::Mean(c) | Op::Max(c) | Op::CountPositive(c) | Op::Sum(c) => c.clone(),
            Op::Diff { a, b } => vec![*a, *b],
            Op::Over { inner, den } => {
                let mut c = inner.columns();
                c.push(*den);
                c
            }
        }
    }
}

/// One derived column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DerivedColumn {
    pub name: String,
    pub op: Op,
}

/// The recipe: the input columns a caller sends, and the columns derived from them (appended
/// after them, in this order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BureauFeatures {
    pub input: Schema,
    pub columns: Vec<DerivedColumn>,
}

/// A monthly series: its stem and its (month number, column) pairs, by month.
struct Series {
    stem: String,
    members: Vec<(u32, usize)>,
}

impl Series {
    fn cols(&self) -> Vec<usize> {
        self.members.iter().map(|&(_, c)| c).collect()
    }
}

/// `BILL_AMT3` → (`BILL_AMT`, 3); `PAY_0` → (`PAY`, 0); no trailing number → `None`.
fn split_number(name: &str) -> Option<(String, u32)> {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 3 {
        return None;
    }
    let (stem, number) = name.split_at(name.len() - digits);
    let stem = stem.trim_end_matches(['_', '-', ' ', '.']);
    (!stem.is_empty() && stem.chars().any(|c| c.is_ascii_alphabetic()))
        .then(|| Some((stem.to_string(), number.parse().ok()?)))
        .flatten()
}

/// A column name's words, lower-cased: split at anything not a letter or digit, where a
/// lower-case letter meets an upper-case one (`NumberOfTimes` → number, of, times) and where
/// letters meet digits (`Time30` → time, 30).
fn tokens(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        let boundary = match prev {
            _ if !c.is_ascii_alphanumeric() => true,
            Some(p) => (p.is_ascii_lowercase() && c.is_ascii_uppercase()) || (p.is_ascii_digit() != c.is_ascii_digit()),
            None => false,
        };
        if boundary && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        }
        prev = c.is_ascii_alphanumeric().then_some(c);
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Whether a name holds one of `phrases` as whole words: a phrase is one or more words
/// separated by spaces, matched as consecutive words (`past due` in `NumberOfTime30-59DaysPastDue`;
/// `late` in `DaysLate`, not in `related` or `latest`).
fn holds(name: &str, phrases: &[&str]) -> bool {
    let words = tokens(name);
    phrases.iter().any(|phrase| {
        let want: Vec<&str> = phrase.split(' ').collect();
        words.windows(want.len()).any(|w| w.iter().zip(&want).all(|(a, b)| a == b))
    })
}

const LIMIT_WORDS: [&str; 2] = ["limit", "limits"];
const BALANCE_WORDS: [&str; 8] = ["bill", "bills", "balance", "balances", "bal", "owed", "outstanding", "used"];
const PAYMENT_WORDS: [&str; 6] = ["pay", "payment", "payments", "paid", "repayment", "repayments"];
const PAST_DUE_WORDS: [&str; 6] = ["past due", "pastdue", "days late", "dayslate", "dpd", "late"];

/// Whether two columns hold the same values on every row (missing matching missing), up to
/// rounding: a derived column that repeats one the table has already is dropped.
fn same_values(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0))
}

impl BureauFeatures {
    /// Read the recipe off a training table's column names and values (see the module's
    /// documentation). Only numeric columns take part.
    pub fn detect(data: &Tabular) -> BureauFeatures {
        let schema = &data.schema;
        let numeric: Vec<usize> =
            (0..schema.len()).filter(|&c| matches!(schema.kinds[c], ColumnKind::Numeric)).collect();
        let values = |c: usize| (0..data.rows).map(move |i| data.row(i)[c]).filter(|v| !v.is_nan());
        let whole = |c: usize, lo: f64, hi: f64| values(c).all(|v| v.fract() == 0.0 && (lo..=hi).contains(&v));

        // monthly series, by stem (case-insensitive), in the order their first column appears
        let mut series: Vec<Series> = Vec::new();
        for &c in &numeric {
            if let Some((stem, n)) = split_number(&schema.names[c]) {
                match series.iter_mut().find(|s| s.stem.eq_ignore_ascii_case(&stem)) {
                    Some(s) => s.members.push((n, c)),
                    None => series.push(Series { stem, members: vec![(n, c)] }),
                }
            }
        }
        for s in &mut series {
            s.members.sort();
            s.members.dedup_by_key(|m| m.0);
        }
        series.retain(|s| s.members.len() >= 2);
        let in_series = |c: usize| series.iter().any(|s| s.members.iter().any(|&(_, m)| m == c));

        let mut columns = Vec::new();
        let mut push = |name: String, op: Op| columns.push(DerivedColumn { name, op });
        let (status, amounts): (Vec<&Series>, Vec<&Series>) =
            series.iter().partition(|s| s.cols().iter().all(|&c| whole(c, -3.0, 12.0)));
        for s in &status {
            push(format!("{}_months_late", s.stem), Op::CountPositive(s.cols()));
            push(format!("{}_max_late", s.stem), Op::Max(s.cols()));
        }
        for s in &amounts {
            let (first, last) = (s.members[0].1, s.members[s.members.len() - 1].1);
            push(format!("{}_mean", s.stem), Op::Mean(s.cols()));
            push(format!("{}_max", s.stem), Op::Max(s.cols()));
            push(format!("{}_trend", s.stem), Op::Diff { a: first, b: last });
        }

        // utilisation against a single limit column
        let limits: Vec<usize> =
            numeric.iter().copied().filter(|&c| !in_series(c) && holds(&schema.names[c], &LIMIT_WORDS)).collect();
        let is_balance = |name: &str| holds(name, &BALANCE_WORDS) && !holds(name, &LIMIT_WORDS);
        if let [limit] = limits[..] {
            for s in amounts.iter().filter(|s| is_balance(&s.stem)) {
                for &(_, c) in &s.members {
                    push(format!("util_{}", schema.names[c]), Op::Ratio { num: c, den: limit });
                }
                push(format!("util_{}_mean", s.stem), Op::Over { inner: Box::new(Op::Mean(s.cols())), den: limit });
                push(format!("util_{}_max", s.stem), Op::Over { inner: Box::new(Op::Max(s.cols())), den: limit });
            }
            let single_balances = numeric.iter().copied().filter(|&c| {
                c != limit && !in_series(c) && is_balance(&schema.names[c]) && !holds(&schema.names[c], &PAST_DUE_WORDS)
            });
            for c in single_balances {
                push(format!("util_{}", schema.names[c]), Op::Ratio { num: c, den: limit });
            }
        }

        // payments against the bills of the same months
        for pay in amounts.iter().filter(|s| holds(&s.stem, &PAYMENT_WORDS) && !is_balance(&s.stem)) {
            for bill in amounts.iter().filter(|s| is_balance(&s.stem)) {
                let pairs: Vec<(usize, usize)> = pay
                    .members
                    .iter()
                    .filter_map(|&(n, p)| bill.members.iter().find(|m| m.0 == n).map(|&(_, b)| (p, b)))
                    .collect();
                if pairs.len() < 2 {
                    continue;
                }
                for &(p, b) in &pairs {
                    push(format!("{}_to_{}", schema.names[p], schema.names[b]), Op::Ratio { num: p, den: b });
                }
                push(
                    format!("{}_to_{}_total", pay.stem, bill.stem),
                    Op::SumRatio { num: pairs.iter().map(|p| p.0).collect(), den: pairs.iter().map(|p| p.1).collect() },
                );
            }
        }

        // past-due counters
        let counters: Vec<usize> = numeric
            .iter()
            .copied()
            .filter(|&c| !in_series(c) && holds(&schema.names[c], &PAST_DUE_WORDS) && whole(c, 0.0, f64::MAX))
            .collect();
        if counters.len() >= 2 {
            push("past_due_total".into(), Op::Sum(counters));
        }

        // a derived column that repeats an input column or an earlier derived one on every
        // training row (the project's applications: `credit_used` over `credit_limit` is the
        // `utilization` they carry) is dropped
        // (a table without rows has nothing to compare: nothing is dropped)
        if data.rows > 0 {
            let mut kept: Vec<Vec<f64>> =
                numeric.iter().map(|&c| (0..data.rows).map(|i| data.row(i)[c]).collect()).collect();
            columns.retain(|d| {
                let v: Vec<f64> = (0..data.rows).map(|i| d.op.eval(data.row(i))).collect();
                let repeat = kept.iter().any(|k| same_values(k, &v));
                if !repeat {
                    kept.push(v);
                }
                !repeat
            });
        }

        // a derived name that collides with an input column or an earlier derived one is
        // renamed, never shadowing it
        let mut taken: std::collections::HashSet<String> = schema.names.iter().cloned().collect();
        for d in &mut columns {
            while taken.contains(&d.name) {
                d.name.push_str("_derived");
            }
            taken.insert(d.name.clone());
        }
        BureauFeatures { input: schema.clone(), columns }
    }

    /// Check a recipe read from a file against its own input schema.
    pub fn check(&self) -> Result<(), ModelError> {
        for d in &self.columns {
            if let Op::SumRatio { num, den } = &d.op
                && num.len() != den.len()
            {
                return Err(ModelError::Artifact(format!(
                    "derived column {} pairs {} payments with {} bills",
                    d.name,
                    num.len(),
                    den.len()
                )));
            }
            if let Some(&c) = d.op.columns().iter().find(|&&c| c >= self.input.len()) {
                return Err(ModelError::Artifact(format!(
                    "derived column {} reads column {c} of {}",
                    d.name,
                    self.input.len()
                )));
            }
        }
        Ok(())
    }

    /// The schema of the extended rows: the input columns, then the derived ones (numeric).
    pub fn output_schema(&self) -> Schema {
        let mut s = self.input.clone();
        for d in &self.columns {
            s.names.push(d.name.clone());
            s.kinds.push(ColumnKind::Numeric);
        }
        s
    }

    /// One input row extended with the derived columns. `row` has the input schema's length
    /// (checked by the caller).
    pub fn extend_row(&self, row: &[f64]) -> Vec<f64> {
        let mut out = Vec::with_capacity(row.len() + self.columns.len());
        out.extend_from_slice(row);
        out.extend(self.columns.iter().map(|d| d.op.eval(row)));
        out
    }

    /// A table of the input schema, extended.
    pub fn apply(&self, data: &Tabular) -> Tabular {
        let mut x = Vec::with_capacity(data.rows * (data.n_cols() + self.columns.len()));
        for i in 0..data.rows {
            x.extend(self.extend_row(data.row(i)));
        }
        Tabular {
            schema: self.output_schema(),
            x,
            rows: data.rows,
            y: data.y.clone(),
            weight: data.weight.clone(),
            group: data.group.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `rows`, then `more` rows of the same columns with Taiwan-like values (limits, statuses
    /// −2 … 3 for names starting `PAY_` + a digit, amounts otherwise), so that no two derived
    /// columns agree by chance on a table of two rows.
    fn taiwan_like(names: &[&str], rows: &[&[f64]], more: usize) -> Tabular {
        let mut t = table(names, rows);
        let mut rng = nivesh_core::rng::Rng::new(7);
        for _ in 0..more {
            for name in names {
                let status = name.starts_with("PAY_") && name[4..].starts_with(|c: char| c.is_ascii_digit());
                t.x.push(if status {
                    rng.range(0, 6) as f64 - 2.0
                } else if *name == "LIMIT_BAL" {
                    10_000.0 * rng.range(1, 50) as f64
                } else {
                    rng.uniform(0.0, 50_000.0).round()
                });
            }
            t.rows += 1;
        }
        t
    }

    fn table(names: &[&str], rows: &[&[f64]]) -> Tabular {
        Tabular {
            schema: Schema {
                names: names.iter().map(|s| s.to_string()).collect(),
                kinds: vec![ColumnKind::Numeric; names.len()],
            },
            x: rows.iter().flat_map(|r| r.iter().copied()).collect(),
            rows: rows.len(),
            y: None,
            weight: None,
            group: None,
        }
    }

    #[test]
    fn a_taiwan_style_table_gets_utilisation_payment_ratios_and_delinquency_counts() {
        let names = [
            "LIMIT_BAL",
            "AGE",
            "PAY_0",
            "PAY_2",
            "PAY_3",
            "BILL_AMT1",
            "BILL_AMT2",
            "BILL_AMT3",
            "PAY_AMT1",
            "PAY_AMT2",
            "PAY_AMT3",
        ];
        let rows: [&[f64]; 2] = [
            &[50_000.0, 30.0, 2.0, 1.0, -1.0, 40_000.0, 30_000.0, 0.0, 2_000.0, 3_000.0, 500.0],
            &[200_000.0, 45.0, -1.0, 0.0, 0.0, 10_000.0, f64::NAN, 5_000.0, 10_000.0, 4_000.0, 5_000.0],
        ];
        let t = taiwan_like(&names, &rows, 20);
        let f = BureauFeatures::detect(&t);
        let got: Vec<&str> = f.columns.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            got,
            [
                "PAY_months_late",
                "PAY_max_late",
                "BILL_AMT_mean",
                "BILL_AMT_max",
                "BILL_AMT_trend",
                "PAY_AMT_mean",
                "PAY_AMT_max",
                "PAY_AMT_trend",
                "util_BILL_AMT1",
                "util_BILL_AMT2",
                "util_BILL_AMT3",
                "util_BILL_AMT_mean",
                "util_BILL_AMT_max",
                "PAY_AMT1_to_BILL_AMT1",
                "PAY_AMT2_to_BILL_AMT2",
                "PAY_AMT3_to_BILL_AMT3",
                "PAY_AMT_to_BILL_AMT_total",
            ]
        );
        let out = f.apply(&t);
        assert_eq!(out.n_cols(), names.len() + got.len());
        let at = |row: usize, name: &str| out.row(row)[out.schema.index_of(name).unwrap()];
        assert_eq!(at(0, "PAY_months_late"), 2.0);
        assert_eq!(at(0, "PAY_max_late"), 2.0);
        assert_eq!(at(1, "PAY_months_late"), 0.0);
        assert_eq!(at(0, "util_BILL_AMT1"), 0.8);
        assert_eq!(at(0, "BILL_AMT_trend"), 40_000.0);
        assert_eq!(at(0, "util_BILL_AMT_max"), 0.8);
        // a zero bill: the ratio is missing, not infinite
        assert!(at(0, "PAY_AMT3_to_BILL_AMT3").is_nan());
        assert_eq!(at(0, "PAY_AMT1_to_BILL_AMT1"), 0.05);
        assert_eq!(at(0, "PAY_AMT_to_BILL_AMT_total"), 5_500.0 / 70_000.0);
        // a missing month is skipped in the means and totals, missing in its own ratio
        assert_eq!(at(1, "BILL_AMT_mean"), 7_500.0);
        assert!(at(1, "util_BILL_AMT2").is_nan() && at(1, "BILL_AMT_trend") == 5_000.0);
        // the total pairs months: the ₹4,000 paid in a month without a bill is left out
        assert_eq!(at(1, "PAY_AMT_to_BILL_AMT_total"), 15_000.0 / 15_000.0);
        // the input columns are untouched, and the recipe round-trips and checks
        assert_eq!(&out.row(0)[..names.len()], rows[0]);
        // on the two rows alone, columns that agree by chance (months late = worst month) go
        assert!(BureauFeatures::detect(&table(&names, &rows)).columns.len() < got.len());
        let back: BureauFeatures = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back, f);
        assert!(f.check().is_ok());
        let broken = BureauFeatures { input: Schema::default(), ..f };
        assert!(broken.check().unwrap_err().to_string().contains("reads column"));
    }

    #[test]
    fn give_me_some_credit_counters_are_summed_and_plain_tables_get_nothing() {
        let names = [
            "RevolvingUtilizationOfUnsecuredLines",
            "NumberOfTime30-59DaysPastDueNotWorse",
            "NumberOfTimes90DaysLate",
            "NumberOfTime60-89DaysPastDueNotWorse",
            "MonthlyIncome",
        ];
        let t = table(&names, &[&[0.5, 1.0, 0.0, 2.0, 5000.0], &[0.1, 0.0, f64::NAN, 0.0, 3000.0]]);
        let f = BureauFeatures::detect(&t);
        assert_eq!(f.columns.len(), 1, "{f:?}");
        assert_eq!(f.columns[0].op, Op::Sum(vec![1, 2, 3]));
        let out = f.apply(&t);
        assert_eq!((out.row(0)[5], out.row(1)[5]), (3.0, 0.0));
        // German Credit's columns: nothing to derive
        let german = table(
            &["duration", "credit_amount", "installment_rate", "age", "existing_credits"],
            &[&[12.0, 1000.0, 4.0, 30.0, 1.0]],
        );
        assert!(BureauFeatures::detect(&german).columns.is_empty());
        // a derived name never shadows an input column
        let clash = table(&["limit", "bill1", "bill2", "bill_mean"], &[&[1000.0, 100.0, 250.0, 999.0]]);
        let f = BureauFeatures::detect(&clash);
        assert!(f.columns.iter().any(|d| d.name == "bill_mean_derived"), "{f:?}");
    }

    #[test]
    fn the_full_uci_taiwan_table_gets_23_columns() {
        let mut names = vec!["LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE"];
        let months = ["PAY_0", "PAY_2", "PAY_3", "PAY_4", "PAY_5", "PAY_6"];
        let bills: Vec<String> = (1..=6).map(|k| format!("BILL_AMT{k}")).collect();
        let pays: Vec<String> = (1..=6).map(|k| format!("PAY_AMT{k}")).collect();
        names.extend(months);
        names.extend(bills.iter().map(String::as_str));
        names.extend(pays.iter().map(String::as_str));
        let row: Vec<f64> = [20_000.0, 2.0, 2.0, 1.0, 24.0]
            .into_iter()
            .chain([2.0, 2.0, -1.0, -1.0, -2.0, -2.0])
            .chain([3913.0, 3102.0, 689.0, 0.0, 0.0, 0.0])
            .chain([0.0, 689.0, 0.0, 0.0, 0.0, 0.0])
            .collect();
        let f = BureauFeatures::detect(&taiwan_like(&names, &[&row], 30));
        assert_eq!(f.columns.len(), 23, "{:?}", f.columns.iter().map(|d| &d.name).collect::<Vec<_>>());
    }

    #[test]
    fn names_match_whole_words_and_repeated_columns_are_dropped() {
        assert_eq!(
            tokens("NumberOfTime30-59DaysPastDueNotWorse"),
            ["number", "of", "time", "30", "59", "days", "past", "due", "not", "worse"]
        );
        assert_eq!(tokens("LIMIT_BAL"), ["limit", "bal"]);
        assert!(holds("NumberOfTimes90DaysLate", &PAST_DUE_WORDS) && holds("dpd_30", &PAST_DUE_WORDS));
        assert!(holds("DAYSLATE", &PAST_DUE_WORDS) && holds("total_payments", &PAYMENT_WORDS));
        assert!(!holds("related_accounts", &PAST_DUE_WORDS) && !holds("latest_bill", &PAST_DUE_WORDS));
        assert!(!holds("unlimited_plan", &LIMIT_WORDS) && holds("creditLimit", &LIMIT_WORDS));
        // the project's applications: `credit_used / credit_limit` is their `utilization`
        let apps = table(
            &["credit_limit", "credit_used", "utilization", "related_count", "latest_count"],
            &[
                &[100_000.0, 25_000.0, 0.25, 1.0, 2.0],
                &[50_000.0, 45_000.0, 0.9, 0.0, 3.0],
                &[0.0, 1_000.0, f64::NAN, 2.0, 0.0],
            ],
        );
        let f = BureauFeatures::detect(&apps);
        assert!(f.columns.is_empty(), "{f:?}");
        // the same without the ratio column: utilisation is derived
        let raw = table(&["credit_limit", "credit_used"], &[&[100_000.0, 25_000.0], &[50_000.0, 45_000.0]]);
        let f = BureauFeatures::detect(&raw);
        assert_eq!(f.columns, [DerivedColumn { name: "util_credit_used".into(), op: Op::Ratio { num: 1, den: 0 } }]);
    }

    #[test]
    fn names_split_at_their_month_number() {
        assert_eq!(split_number("BILL_AMT3"), Some(("BILL_AMT".into(), 3)));
        assert_eq!(split_number("PAY_0"), Some(("PAY".into(), 0)));
        assert_eq!(split_number("age"), None);
        assert_eq!(split_number("123"), None);
        assert_eq!(split_number("x12345"), None);
    }
}
