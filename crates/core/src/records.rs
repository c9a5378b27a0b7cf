//! Domain records shared by every crate: what a user asked, which entities a sentence mentions,
//! money moving through an account, and a credit application.
//!
//! Every record type implements [`Record`]: it can be read and written by [`crate::dataset`] in
//! CSV, JSON and JSONL, and it validates itself after parsing so that a bad value is reported with
//! the field it came from.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// Offset used for timestamps written without one: Indian Standard Time (+05:30).
pub const IST: FixedOffset = match FixedOffset::east_opt(5 * 3600 + 30 * 60) {
    Some(offset) => offset,
    None => panic!("IST offset is within range"),
};

/// A problem with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The record types the project reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Utterance,
    Ner,
    Transaction,
    Credit,
}

impl RecordKind {
    pub const ALL: [RecordKind; 4] = [Self::Utterance, Self::Ner, Self::Transaction, Self::Credit];

    pub fn name(self) -> &'static str {
        match self {
            Self::Utterance => "intents",
            Self::Ner => "ner",
            Self::Transaction => "transactions",
            Self::Credit => "credit",
        }
    }

    /// The file the sample-data generator writes records of this kind to, and the name the
    /// training pipeline looks for in a data directory.
    pub const fn sample_file(self) -> &'static str {
        match self {
            Self::Utterance => "intents.jsonl",
            Self::Ner => "ner.jsonl",
            Self::Transaction => "transactions.csv",
            Self::Credit => "credit_applications.csv",
        }
    }

    /// Guess the kind from a file name such as `transactions.csv` or `credit_applications.jsonl`.
    pub fn infer_from_path(path: &std::path::Path) -> Option<RecordKind> {
        let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
        [
            ("intent", Self::Utterance),
            ("utterance", Self::Utterance),
            ("ner", Self::Ner),
            ("entit", Self::Ner),
            ("transaction", Self::Transaction),
            ("credit", Self::Credit),
        ]
        .into_iter()
        .find(|(needle, _)| stem.contains(needle))
        .map(|(_, kind)| kind)
    }
}

impl std::str::FromStr for RecordKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "intents" | "intent" | "utterances" => Ok(Self::Utterance),
            "ner" | "entities" => Ok(Self::Ner),
            "transactions" | "transaction" => Ok(Self::Transaction),
            "credit" | "credit-applications" | "credit_applications" => Ok(Self::Credit),
            other => Err(format!("unknown record kind '{other}' (allowed: intents, ner, transactions, credit)")),
        }
    }
}

/// A record type that datasets are made of.
pub trait Record: Serialize + for<'de> Deserialize<'de> + Sized {
    const KIND: RecordKind;
    /// The shape of one CSV row: `Self` for flat records, a flattened twin for nested ones.
    type CsvRow: Serialize + for<'de> Deserialize<'de>;

    fn to_csv_row(&self) -> Self::CsvRow;
    fn from_csv_row(row: Self::CsvRow) -> Result<Self, FieldError>;

    /// Checks that go beyond types: ranges, offsets, cross-field rules.
    fn validate(&self) -> Result<(), FieldError>;

    /// The labels this record carries (for label counts in summaries); empty when unlabelled.
    fn labels(&self) -> Vec<String>;
}

/// Declares a closed set of string values with case-insensitive parsing and aliases.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $canon:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $canon),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let norm = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
                match norm.as_str() {
                    $($canon $(| $alias)* => Ok($name::$variant),)+
                    _ => Err(format!(
                        concat!("unknown ", $what, " {:?} (allowed: {})"),
                        s,
                        [$($canon),+].join(", ")
                    )),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> { s.parse() }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String { v.as_str().to_string() }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        /// A string with the canonical values (aliases are accepted too).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($canon),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

string_enum!(
    /// How money moved.
    Channel, "channel" {
        Upi => "upi",
        Card => "card" | "credit_card" | "debit_card" | "pos",
        NetBanking => "netbanking" | "net_banking" | "neft" | "imps" | "rtgs",
        Cash => "cash" | "atm",
        Wallet => "wallet",
        Other => "other",
    }
);

string_enum!(
    /// Whether money left (`debit`, the default) or entered (`credit`: salary, refunds) the account.
    Direction, "direction" {
        Debit => "debit" | "dr",
        Credit => "credit" | "cr",
    }
);

string_enum!(
    EmploymentType, "employment_type" {
        Salaried => "salaried" | "employed" | "full_time",
        SelfEmployed => "self_employed" | "freelance" | "freelancer",
        Business => "business" | "business_owner",
        Unemployed => "unemployed",
        Student => "student",
        Retired => "retired",
    }
);

string_enum!(
    Education, "education" {
        HighSchool => "high_school" | "school" | "secondary",
        Diploma => "diploma",
        Graduate => "graduate" | "bachelors" | "bachelor",
        Postgraduate => "postgraduate" | "masters" | "master",
        Doctorate => "doctorate" | "phd",
    }
);

// The `string_enum!` macro owns the derive list, so `Default` is written out.
#[allow(clippy::derivable_impls)]
impl Default for Direction {
    fn default() -> Self {
        Direction::Debit
    }
}

// ---------------------------------------------------------------------------------------------
// Utterance

/// A user question labelled with its intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    pub text: String,
    pub intent: String,
}

impl Record for Utterance {
    const KIND: RecordKind = RecordKind::Utterance;
    type CsvRow = Utterance;

    fn to_csv_row(&self) -> Self::CsvRow {
        self.clone()
    }
    fn from_csv_row(row: Self::CsvRow) -> Result<Self, FieldError> {
        Ok(row)
    }
    fn validate(&self) -> Result<(), FieldError> {
        non_blank("text", &self.text)?;
        non_blank("intent", &self.intent)
    }
    fn labels(&self) -> Vec<String> {
        vec![self.intent.clone()]
    }
}

// ---------------------------------------------------------------------------------------------
// NER

/// One labelled span. `start` and `end` count **characters** (Unicode scalar values), not bytes,
/// and `end` is exclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntitySpan {
    pub start: usize,
    pub end: usize,
    pub label: String,
    /// Normalised value when known (MONEY: `{amount, currency}`, DATE: ISO date, `{from, to}` or
    /// `{every, day?}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

/// A sentence with its entity spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NerExample {
    pub text: String,
    pub entities: Vec<EntitySpan>,
    /// The date that relative expressions ("next month") are resolved against, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_date: Option<NaiveDate>,
}

impl NerExample {
    /// The text of a span, sliced by character offsets.
    pub fn span_text(&self, span: &EntitySpan) -> String {
        char_slice(&self.text, span.start, span.end)
    }
}

/// Slice `text` by character offsets `[start, end)`; out-of-range offsets are clamped.
pub fn char_slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end.saturating_sub(start)).collect()
}

/// NER examples in CSV keep their entities as a JSON array in one column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NerCsvRow {
    pub text: String,
    pub entities: String,
    #[serde(default)]
    pub reference_date: Option<NaiveDate>,
}

impl Record for NerExample {
    const KIND: RecordKind = RecordKind::Ner;
    type CsvRow = NerCsvRow;

    fn to_csv_row(&self) -> Self::CsvRow {
        NerCsvRow {
            text: self.text.clone(),
            // Serialising plain data structs into a string cannot fail.
            entities: serde_json::to_string(&self.entities).unwrap_or_else(|_| "[]".into()),
            reference_date: self.reference_date,
        }
    }
    fn from_csv_row(row: Self::CsvRow) -> Result<Self, FieldError> {
        let entities = if row.entities.trim().is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&row.entities)
                .map_err(|e| FieldError::new("entities", format!("not a JSON array of {{start, end, label}}: {e}")))?
        };
        Ok(NerExample { text: row.text, entities, reference_date: row.reference_date })
    }
    fn validate(&self) -> Result<(), FieldError> {
        non_blank("text", &self.text)?;
        let len = self.text.chars().count();
        let mut spans: Vec<(usize, &EntitySpan)> = self.entities.iter().enumerate().collect();
        for (i, e) in &spans {
            let field = format!("entities[{i}]");
            if e.label.trim().is_empty() {
                return Err(FieldError::new(format!("{field}.label"), "must not be empty"));
            }
            if e.start >= e.end {
                return Err(FieldError::new(field, format!("start {} must be less than end {}", e.start, e.end)));
            }
            if e.end > len {
                return Err(FieldError::new(
                    field,
                    format!("end {} is past the end of the text ({len} characters)", e.end),
                ));
            }
        }
        spans.sort_by_key(|(_, e)| (e.start, e.end));
        for pair in spans.windows(2) {
            let ((ia, a), (ib, b)) = (pair[0], pair[1]);
            if b.start < a.end {
                return Err(FieldError::new(
                    format!("entities[{ib}]"),
                    format!("[{}, {}) overlaps entities[{ia}] [{}, {})", b.start, b.end, a.start, a.end),
                ));
            }
        }
        Ok(())
    }
    fn labels(&self) -> Vec<String> {
        self.entities.iter().map(|e| e.label.clone()).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Transaction

/// The largest amount a transaction may have: ₹10^12 (1 lakh crore). Larger values are refused
/// (they overflow the sums forecasts and features make of them).
pub const MAX_AMOUNT: f64 = 1e12;

/// One card/UPI/bank transaction of a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub transaction_id: String,
    pub user_id: String,
    /// RFC 3339; timestamps without an offset are read as IST.
    #[serde(with = "flexible_timestamp")]
    pub timestamp: DateTime<FixedOffset>,
    /// Always positive; `direction` says which way the money went.
    pub amount: f64,
    pub currency: String,
    pub category: String,
    #[serde(default)]
    pub merchant: String,
    pub channel: Channel,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default, deserialize_with = "flexible_bool::option")]
    pub is_anomaly: Option<bool>,
}

impl Record for Transaction {
    const KIND: RecordKind = RecordKind::Transaction;
    type CsvRow = Transaction;

    fn to_csv_row(&self) -> Self::CsvRow {
        self.clone()
    }
    fn from_csv_row(row: Self::CsvRow) -> Result<Self, FieldError> {
        Ok(row)
    }
    fn validate(&self) -> Result<(), FieldError> {
        non_blank("transaction_id", &self.transaction_id)?;
        non_blank("user_id", &self.user_id)?;
        if !self.amount.is_finite() {
            return Err(FieldError::new("amount", format!("{} is not a finite number", self.amount)));
        }
        if self.amount <= 0.0 {
            return Err(FieldError::new(
                "amount",
                format!("{} must be positive (use direction=credit for money coming in)", self.amount),
            ));
        }
        if self.amount > MAX_AMOUNT {
            return Err(FieldError::new(
                "amount",
                format!("{} is over {MAX_AMOUNT:e} (₹1 lakh crore), no personal transaction is", self.amount),
            ));
        }
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "currency",
                format!("{:?} is not an ISO 4217 code such as INR", self.currency),
            ));
        }
        non_blank("category", &self.category)
    }
    fn labels(&self) -> Vec<String> {
        self.is_anomaly.map(|a| vec![if a { "anomaly" } else { "normal" }.to_string()]).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Credit application

/// A loan/credit application. Identifiers are never model features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditApplication {
    #[serde(default)]
    pub application_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(minimum = 18, maximum = 100))]
    #[serde(deserialize_with = "whole::required")]
    pub age: u32,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub monthly_income: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub monthly_debt: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub credit_limit: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub credit_used: f64,
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub loan_amount: f64,
    #[cfg_attr(feature = "openapi", schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64))]
    #[serde(deserialize_with = "whole::required")]
    /// Payments missed: at most `total_payments`.
    pub payments_missed: u32,
    #[cfg_attr(feature = "openapi", schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64))]
    #[serde(deserialize_with = "whole::required")]
    pub total_payments: u32,
    #[cfg_attr(feature = "openapi", schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64))]
    #[serde(deserialize_with = "whole::required")]
    pub months_employed: u32,
    #[cfg_attr(feature = "openapi", schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64))]
    #[serde(deserialize_with = "whole::required")]
    pub credit_history_months: u32,
    #[cfg_attr(feature = "openapi", schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64))]
    #[serde(deserialize_with = "whole::required")]
    pub num_credit_accounts: u32,
    #[serde(deserialize_with = "flexible_bool::required")]
    pub has_mortgage: bool,
    #[serde(deserialize_with = "flexible_bool::required")]
    pub has_car_loan: bool,
    pub employment_type: EmploymentType,
    pub education: Education,
    #[serde(default, deserialize_with = "flexible_bool::option")]
    pub default: Option<bool>,
}

impl Record for CreditApplication {
    const KIND: RecordKind = RecordKind::Credit;
    type CsvRow = CreditApplication;

    fn to_csv_row(&self) -> Self::CsvRow {
        self.clone()
    }
    fn from_csv_row(row: Self::CsvRow) -> Result<Self, FieldError> {
        Ok(row)
    }
    fn validate(&self) -> Result<(), FieldError> {
        if !(18..=100).contains(&self.age) {
            return Err(FieldError::new("age", format!("{} is outside 18-100", self.age)));
        }
        for (field, v) in [
            ("monthly_income", self.monthly_income),
            ("monthly_debt", self.monthly_debt),
            ("credit_limit", self.credit_limit),
            ("credit_used", self.credit_used),
            ("loan_amount", self.loan_amount),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(FieldError::new(field, format!("{v} must be a finite number >= 0")));
            }
        }
        if self.payments_missed > self.total_payments {
            return Err(FieldError::new(
                "payments_missed",
                format!("{} is more than total_payments ({})", self.payments_missed, self.total_payments),
            ));
        }
        Ok(())
    }
    fn labels(&self) -> Vec<String> {
        self.default.map(|d| vec![if d { "default" } else { "repaid" }.to_string()]).unwrap_or_default()
    }
}

fn non_blank(field: &str, value: &str) -> Result<(), FieldError> {
    if value.trim().is_empty() { Err(FieldError::new(field, "must not be empty")) } else { Ok(()) }
}

// ---------------------------------------------------------------------------------------------
// Flexible field formats

/// Timestamps: RFC 3339 (`2026-03-15T14:05:00+05:30`), or without an offset
/// (`2026-03-15 14:05:00`, `2026-03-15T14:05`), or a bare date; the last three are read as IST.
pub mod flexible_timestamp {
    use super::*;

    pub fn parse(s: &str) -> Result<DateTime<FixedOffset>, String> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(t);
        }
        for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
                return local(naive);
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return local(d.and_time(chrono::NaiveTime::MIN));
        }
        Err(format!("{s:?} is not a timestamp (expected RFC 3339 such as 2026-03-15T14:05:00+05:30)"))
    }

    fn local(naive: NaiveDateTime) -> Result<DateTime<FixedOffset>, String> {
        IST.from_local_datetime(&naive).single().ok_or_else(|| format!("{naive} is not a valid IST time"))
    }

    pub fn serialize<S: Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<FixedOffset>, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(de::Error::custom)
    }
}

/// Booleans written as `true/false`, `1/0`, `yes/no` (any case); empty means missing.
/// Over HTTP a boolean is a JSON boolean and a whole number a JSON number, as the OpenAPI
/// document says; in dataset files (CSV, JSONL) `1`/`0`/`yes`/`no` and `"189"` are read too.
/// The server parses request bodies inside [`strict_json`]; everything else is lenient.
pub mod strictness {
    use std::cell::Cell;

    thread_local! {
        static STRICT: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `parse` with the flexible readers strict (on this thread, restored after, even
    /// on a panic).
    pub fn strict_json<T>(parse: impl FnOnce() -> T) -> T {
        struct Restore(bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                STRICT.with(|s| s.set(self.0));
            }
        }
        let _restore = Restore(STRICT.with(|s| s.replace(true)));
        parse()
    }

    pub(crate) fn is_strict() -> bool {
        STRICT.with(Cell::get)
    }
}

pub use strictness::strict_json;

pub mod flexible_bool {
    use super::*;

    fn strict_refusal<E: de::Error>(v: impl fmt::Display) -> Result<Option<bool>, E> {
        Err(E::custom(format!("{v} is not a boolean: expected true or false")))
    }

    struct BoolVisitor;

    impl<'de> Visitor<'de> for BoolVisitor {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean (true/false, 1/0, yes/no)")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            if strictness::is_strict() {
                return strict_refusal(v);
            }
            match v {
                0 => Ok(Some(false)),
                1 => Ok(Some(true)),
                _ => Err(E::custom(format!("{v} is not a boolean (use true/false or 1/0)"))),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map_err(|_| E::custom(format!("{v} is not a boolean (use true/false or 1/0)")))
                .and_then(|u| self.visit_u64(u))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if strictness::is_strict() {
                return strict_refusal(v);
            }
            if v == 0.0 {
                Ok(Some(false))
            } else if v == 1.0 {
                Ok(Some(true))
            } else {
                Err(E::custom(format!("{v} is not a boolean (use true/false or 1/0)")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if strictness::is_strict() {
                return strict_refusal(format_args!("{v:?}"));
            }
            match v.trim().to_ascii_lowercase().as_str() {
                "" => Ok(None),
                "true" | "1" | "yes" | "y" | "t" => Ok(Some(true)),
                "false" | "0" | "no" | "n" | "f" => Ok(Some(false)),
                _ => Err(E::custom(format!("{v:?} is not a boolean (use true/false or 1/0)"))),
            }
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(BoolVisitor)
        }
    }

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(BoolVisitor)
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        d.deserialize_any(BoolVisitor)?.ok_or_else(|| de::Error::custom("a boolean is required"))
    }
}

/// Whole numbers (`u32`) read from JSON or CSV: `189` and `189.0` alike (JSON Schema counts
/// `189.0` as an integer, and so do generated clients), never `189.5`, a negative or one past
/// `u32::MAX`.
pub mod whole {
    use super::*;

    struct WholeVisitor;

    fn refuse<E: de::Error>(v: impl fmt::Display) -> E {
        E::custom(format!("{v} is not a whole number from 0 to {}", u32::MAX))
    }

    impl<'de> Visitor<'de> for WholeVisitor {
        type Value = Option<u32>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number ≥ 0")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            u32::try_from(v).map(Some).map_err(|_| refuse(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u32::try_from(v).map(Some).map_err(|_| refuse(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                // in range and whole: the cast is exact
                Ok(Some(v as u32))
            } else {
                Err(refuse(v))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            if strictness::is_strict() {
                return Err(E::custom(format!("{v:?} is not a number: expected a whole number ≥ 0")));
            }
            let t = v.trim();
            if t.is_empty() {
                return Ok(None);
            }
            match t.parse::<u64>() {
                Ok(u) => self.visit_u64(u),
                Err(_) => match t.parse::<f64>() {
                    Ok(f) if f.is_finite() => self.visit_f64(f),
                    _ => Err(E::custom(format!("{v:?} is not a whole number >= 0"))),
                },
            }
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(WholeVisitor)
        }
    }

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        d.deserialize_any(WholeVisitor)
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        d.deserialize_any(WholeVisitor)?.ok_or_else(|| de::Error::custom("a whole number is required"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_read_from_integers_and_whole_floats_only() {
        #[derive(Deserialize, Debug)]
        struct W {
            #[serde(deserialize_with = "whole::required")]
            n: u32,
        }
        let read = |j: &str| serde_json::from_str::<W>(j).map(|w| w.n).map_err(|e| e.to_string());
        assert_eq!(read(r#"{"n": 189}"#), Ok(189));
        assert_eq!(read(r#"{"n": 189.0}"#), Ok(189));
        assert_eq!(read(r#"{"n": 4294967295}"#), Ok(u32::MAX));
        assert!(read(r#"{"n": 4294967296}"#).unwrap_err().contains("not a whole number from 0 to 4294967295"));
        assert!(read(r#"{"n": 189.5}"#).unwrap_err().contains("189.5 is not a whole number"));
        assert!(read(r#"{"n": -1}"#).unwrap_err().contains("-1 is not a whole number"));
        assert!(read(r#"{"n": null}"#).unwrap_err().contains("a whole number is required"));
        assert!(read(r#"{"n": true}"#).unwrap_err().contains("a whole number"));
        // lenient (dataset files) by default, strict as the server parses request bodies
        assert_eq!(read(r#"{"n": "189"}"#), Ok(189));
        assert!(strict_json(|| read(r#"{"n": "189"}"#)).unwrap_err().contains("is not a number"));
        assert_eq!(strict_json(|| read(r#"{"n": 189.0}"#)), Ok(189));
    }

    #[test]
    fn booleans_are_flexible_in_files_and_strict_over_http() {
        #[derive(Deserialize, Debug)]
        struct B {
            #[serde(deserialize_with = "flexible_bool::required")]
            b: bool,
        }
        let read = |j: &str| serde_json::from_str::<B>(j).map(|x| x.b).map_err(|e| e.to_string());
        for (json, want) in [(r#"{"b": 1}"#, true), (r#"{"b": "no"}"#, false), (r#"{"b": 0.0}"#, false)] {
            assert_eq!(read(json), Ok(want), "{json}");
            let e = strict_json(|| read(json)).unwrap_err();
            assert!(e.contains("is not a boolean: expected true or false"), "{json}: {e}");
        }
        assert_eq!(strict_json(|| read(r#"{"b": true}"#)), Ok(true));
        // the mode is restored after the call, even when the call panics
        assert!(std::panic::catch_unwind(|| strict_json(|| panic!("boom"))).is_err());
        assert_eq!(read(r#"{"b": "yes"}"#), Ok(true));
    }

    #[test]
    fn char_offsets_count_characters_not_bytes() {
        let ex = NerExample {
            text: "Paid ₹1,500 to Swiggy".into(),
            entities: vec![
                EntitySpan { start: 5, end: 11, label: "MONEY".into(), value: None },
                EntitySpan { start: 15, end: 21, label: "MERCHANT".into(), value: None },
            ],
            reference_date: None,
        };
        assert!(ex.validate().is_ok());
        assert_eq!(ex.span_text(&ex.entities[0]), "₹1,500");
        assert_eq!(ex.span_text(&ex.entities[1]), "Swiggy");
        // "₹" is 3 bytes: byte offsets would make end=23 and fail validation.
        let bytes_end = ex.text.len();
        assert_eq!(bytes_end, 23);
        let bad = NerExample {
            entities: vec![EntitySpan { start: 17, end: 23, label: "MERCHANT".into(), value: None }],
            ..ex.clone()
        };
        let err = bad.validate().unwrap_err();
        assert_eq!(err.field, "entities[0]");
        assert!(err.message.contains("past the end of the text (21 characters)"), "{err}");
    }

    #[test]
    fn overlapping_and_empty_spans_are_rejected() {
        let base = NerExample { text: "HDFC savings account".into(), entities: vec![], reference_date: None };
        let overlap = NerExample {
            entities: vec![
                EntitySpan { start: 0, end: 12, label: "ACCOUNT".into(), value: None },
                EntitySpan { start: 5, end: 20, label: "ACCOUNT".into(), value: None },
            ],
            ..base.clone()
        };
        assert!(overlap.validate().unwrap_err().message.contains("overlaps"));
        let empty = NerExample {
            entities: vec![EntitySpan { start: 3, end: 3, label: "ACCOUNT".into(), value: None }],
            ..base
        };
        assert!(empty.validate().unwrap_err().message.contains("less than end"));
    }

    #[test]
    fn enums_parse_case_insensitively_with_aliases() {
        assert_eq!("UPI".parse::<Channel>().unwrap(), Channel::Upi);
        assert_eq!("Net Banking".parse::<Channel>().unwrap(), Channel::NetBanking);
        assert_eq!("self-employed".parse::<EmploymentType>().unwrap(), EmploymentType::SelfEmployed);
        let err = "cheque".parse::<Channel>().unwrap_err();
        assert!(err.contains("unknown channel \"cheque\""), "{err}");
        assert!(err.contains("upi, card, netbanking, cash, wallet, other"), "{err}");
    }

    #[test]
    fn timestamps_without_offset_are_ist() {
        let t = flexible_timestamp::parse("2026-03-15 14:05:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-15T14:05:00+05:30");
        let d = flexible_timestamp::parse("2026-03-15").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-03-15T00:00:00+05:30");
        let z = flexible_timestamp::parse("2026-03-15T08:35:00Z").unwrap();
        assert_eq!(z, t);
        assert!(flexible_timestamp::parse("15/03/2026").unwrap_err().contains("not a timestamp"));
    }

    #[test]
    fn transaction_rules() {
        let t = Transaction {
            transaction_id: "t1".into(),
            user_id: "u1".into(),
            timestamp: flexible_timestamp::parse("2026-01-01").unwrap(),
            amount: 100.0,
            currency: "INR".into(),
            category: "groceries".into(),
            merchant: "BigBasket".into(),
            channel: Channel::Upi,
            direction: Direction::Debit,
            is_anomaly: None,
        };
        assert!(t.validate().is_ok());
        for (amount, want) in [(-5.0, "must be positive"), (f64::NAN, "not a finite"), (f64::INFINITY, "not a finite")]
        {
            let err = Transaction { amount, ..t.clone() }.validate().unwrap_err();
            assert_eq!(err.field, "amount");
            assert!(err.message.contains(want), "{err}");
        }
        let err = Transaction { currency: "rupees".into(), ..t.clone() }.validate().unwrap_err();
        assert_eq!(err.field, "currency");
    }
}
