//! Reading and writing datasets of [`Record`]s as CSV, JSON (an array) or JSONL, chosen by the
//! file extension. Every error names the file, the line (or record index) and the field:
//! `transactions.csv:118: amount: "12,00x" is not a number`.

use crate::fsutil::atomic_write;
use crate::records::{FieldError, Record};
use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// File formats, detected from the extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Jsonl,
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format, DataError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("json") => Ok(Format::Json),
            Some("jsonl") | Some("ndjson") => Ok(Format::Jsonl),
            _ => Err(DataError::UnknownFormat { path: path.display().to_string() }),
        }
    }
}

/// Where in a file a record sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based line number (CSV counts the header as line 1).
    Line(u64),
    /// 0-based index of the record in a JSON array.
    Index(usize),
}

/// One bad record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub path: String,
    pub location: Location,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::Line(line) => write!(f, "{}:{line}: ", self.path)?,
            Location::Index(i) => write!(f, "{}: record {i}: ", self.path)?,
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: unknown file format (expected .csv, .json, .jsonl or .ndjson)")]
    UnknownFormat { path: String },
    #[error("{0}")]
    Record(RecordError),
}

impl DataError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        DataError::Io { path: path.display().to_string(), source }
    }
}

/// The result of a lenient read: the records that parsed and validated, and every bad one.
#[derive(Debug)]
pub struct ReadOutcome<T> {
    pub records: Vec<T>,
    pub errors: Vec<RecordError>,
}

/// Read every record, failing on the first bad one.
pub fn read_records<T: Record>(path: &Path) -> Result<Vec<T>, DataError> {
    let mut records = Vec::new();
    for_each_record::<T>(path, &mut |r| {
        records.push(r?);
        Ok(())
    })?;
    Ok(records)
}

/// Read every record, collecting bad ones instead of stopping. Fails only when the file cannot
/// be read at all (missing, unknown format, broken JSON array, bad CSV header).
pub fn read_records_lenient<T: Record>(path: &Path) -> Result<ReadOutcome<T>, DataError> {
    let mut out = ReadOutcome { records: Vec::new(), errors: Vec::new() };
    for_each_record::<T>(path, &mut |r| {
        match r {
            Ok(rec) => out.records.push(rec),
            Err(e) => out.errors.push(e),
        }
        Ok(())
    })?;
    Ok(out)
}

type Sink<'a, T> = dyn FnMut(Result<T, RecordError>) -> Result<(), RecordError> + 'a;

/// What to add to the `csv` crate's line numbers: 1 for a file whose lines end in CRLF (as
/// Python's `csv` and Excel write them), else 0. A record's position there is the `\n` that
/// ends the line before it, so the crate counts it on that line.
fn crlf_shift<R: std::io::Read>(input: &mut BufReader<R>) -> u64 {
    use std::io::BufRead;
    match input.fill_buf() {
        Ok(buf) => match buf.iter().position(|&b| b == b'\n') {
            Some(i) if i > 0 && buf[i - 1] == b'\r' => 1,
            _ => 0,
        },
        Err(_) => 0,
    }
}

fn for_each_record<T: Record>(path: &Path, sink: &mut Sink<'_, T>) -> Result<(), DataError> {
    let format = Format::from_path(path)?;
    let shown = path.display().to_string();
    let err_at = |location, field: Option<String>, message: String| RecordError {
        path: shown.clone(),
        location,
        field,
        message,
    };
    let checked = |rec: T, location| -> Result<T, RecordError> {
        rec.validate().map_err(|FieldError { field, message }| err_at(location, Some(field), message))?;
        Ok(rec)
    };
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    match format {
        Format::Csv => {
            let mut input = BufReader::new(file);
            let shift = crlf_shift(&mut input);
            let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
            let headers = rdr
                .headers()
                .map_err(|e| DataError::Record(err_at(Location::Line(1), None, format!("bad CSV header: {e}"))))?
                .clone();
            let mut record = csv::StringRecord::new();
            loop {
                match rdr.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => {
                        let line = e.position().map(|p| p.line() + shift).unwrap_or(0);
                        sink(Err(err_at(Location::Line(line), None, csv_error_message(&e))))
                            .map_err(DataError::Record)?;
                        continue;
                    }
                }
                let location = Location::Line(record.position().map(|p| p.line() + shift).unwrap_or(0));
                let parsed = record
                    .deserialize::<T::CsvRow>(Some(&headers))
                    .map_err(|e| {
                        let (field, message) = describe_csv_deserialize_error(&e, &record, &headers);
                        err_at(location, field, message)
                    })
                    .and_then(|row| {
                        T::from_csv_row(row)
                            .map_err(|FieldError { field, message }| err_at(location, Some(field), message))
                    })
                    .and_then(|rec| checked(rec, location));
                sink(parsed).map_err(DataError::Record)?;
            }
        }
        Format::Jsonl => {
            for (i, line) in BufReader::new(file).lines().enumerate() {
                let line = line.map_err(|e| DataError::io(path, e))?;
                if line.trim().is_empty() {
                    continue;
                }
                let location = Location::Line(i as u64 + 1);
                let mut de = serde_json::Deserializer::from_str(&line);
                let parsed = serde_path_to_error::deserialize::<_, T>(&mut de)
                    .map_err(|e| {
                        let (field, message) = describe_json_error(&e);
                        err_at(location, field, message)
                    })
                    .and_then(|rec| checked(rec, location));
                sink(parsed).map_err(DataError::Record)?;
            }
        }
        Format::Json => {
            let values: Vec<serde_json::Value> = serde_json::from_reader(BufReader::new(file)).map_err(|e| {
                let message = if e.is_data() {
                    "expected a JSON array of records".to_string()
                } else {
                    strip_position(&e.to_string())
                };
                DataError::Record(err_at(Location::Line(e.line() as u64), None, message))
            })?;
            for (i, value) in values.into_iter().enumerate() {
                let location = Location::Index(i);
                let parsed = serde_path_to_error::deserialize::<_, T>(value)
                    .map_err(|e| {
                        let (field, message) = describe_json_error(&e);
                        err_at(location, field, message)
                    })
                    .and_then(|rec| checked(rec, location));
                sink(parsed).map_err(DataError::Record)?;
            }
        }
    }
    Ok(())
}

fn csv_error_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} fields, the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
        _ => e.to_string(),
    }
}

fn describe_csv_deserialize_error(
    e: &csv::Error,
    record: &csv::StringRecord,
    headers: &csv::StringRecord,
) -> (Option<String>, String) {
    let csv::ErrorKind::Deserialize { err, .. } = e.kind() else {
        return (None, csv_error_message(e));
    };
    let index = err.field().map(|i| i as usize);
    let field = index.and_then(|i| headers.get(i)).map(str::to_string);
    let value = index.and_then(|i| record.get(i)).unwrap_or("");
    let message = match err.kind() {
        csv::DeserializeErrorKind::ParseFloat(_) => format!("{value:?} is not a number"),
        csv::DeserializeErrorKind::ParseInt(_) => format!("{value:?} is not a whole number >= 0"),
        csv::DeserializeErrorKind::ParseBool(_) => format!("{value:?} is not a boolean"),
        csv::DeserializeErrorKind::UnexpectedEndOfRow => "value is missing".to_string(),
        csv::DeserializeErrorKind::Message(m) => {
            if let Some(name) = missing_field(m) {
                return (Some(name), "column is missing".to_string());
            }
            if field.is_none() {
                // Errors raised by our own field parsers (timestamps, enums) quote the bad value
                // but csv does not know the column: find the column holding that value.
                let column =
                    record.iter().position(|cell| !cell.trim().is_empty() && m.contains(&format!("{:?}", cell.trim())));
                return (column.and_then(|i| headers.get(i)).map(str::to_string), m.clone());
            }
            m.clone()
        }
        other => other.to_string(),
    };
    (field, message)
}

fn describe_json_error(e: &serde_path_to_error::Error<serde_json::Error>) -> (Option<String>, String) {
    let message = strip_position(&e.inner().to_string());
    if matches!(e.inner().classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof) {
        return (None, message);
    }
    if let Some(name) = missing_field(&message) {
        let prefix = e.path().to_string();
        let field = if prefix == "." { name } else { format!("{prefix}.{name}") };
        return (Some(field), "field is missing".to_string());
    }
    let path = e.path().to_string();
    let field = if path == "." { None } else { Some(path) };
    (field, message)
}

/// serde's "missing field `x`" message, as the field name.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// serde_json appends " at line L column C"; our own location replaces it.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Serialise records in the format of `path`'s extension and write them atomically.
pub fn write_records<T: Record>(path: &Path, records: &[T]) -> Result<(), DataError> {
    let bytes = encode_records(Format::from_path(path)?, records).map_err(|e| DataError::io(path, e))?;
    atomic_write(path, &bytes).map_err(|e| DataError::io(path, e))
}

/// Serialise records to bytes in `format`.
pub fn encode_records<T: Record>(format: Format, records: &[T]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            for r in records {
                w.serialize(r.to_csv_row()).map_err(std::io::Error::other)?;
            }
            w.flush()?;
        }
        Format::Jsonl => {
            for r in records {
                serde_json::to_writer(&mut out, r)?;
                out.push(b'\n');
            }
        }
        Format::Json => {
            out.push(b'[');
            for (i, r) in records.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
                serde_json::to_writer(&mut out, r)?;
            }
            out.extend_from_slice(b"\n]\n");
        }
    }
    Ok(out)
}

/// A CSV file as strings: its header and rows, with each row's line number.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub path: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub lines: Vec<u64>,
}

/// Read any CSV file as a table of strings (for generic tabular benchmarks).
pub fn read_table(path: &Path) -> Result<Table, DataError> {
    if Format::from_path(path)? != Format::Csv {
        return Err(DataError::UnknownFormat { path: path.display().to_string() });
    }
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut input = BufReader::new(file);
    let shift = crlf_shift(&mut input);
    let mut rdr = csv::ReaderBuilder::new().from_reader(input);
    let bad = |line: u64, message: String| {
        DataError::Record(RecordError { path: shown.clone(), location: Location::Line(line), field: None, message })
    };
    let headers: Vec<String> =
        rdr.headers().map_err(|e| bad(1, format!("bad CSV header: {e}")))?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(e.position().map(|p| p.line() + shift).unwrap_or(0), csv_error_message(&e)))?;
        lines.push(rec.position().map(|p| p.line() + shift).unwrap_or(0));
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok(Table { path: shown, headers, rows, lines })
}
