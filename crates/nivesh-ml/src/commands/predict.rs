//! `nivesh-ml predict MODEL --input FILE`: batch scoring of a file with a registered version,
//! streamed. Each record is the JSON route's body (JSONL), or a CSV row turned into one (credit:
//! the applicant's fields; intent: `query`; NER: `text`, `reference_date`; anomaly: the
//! transaction's fields and `user_id`), checked and answered by the server's own code
//! (`Served::check`, `Served::answer`), so batch and online scores are the same. Records are read
//! in chunks, scored on `--threads` threads, and written in input order: memory stays at a few
//! chunks whatever the file's size. A record that fails goes to `--errors` with its line and the
//! reason, and the run goes on; the exit status is 1 if any failed.

use crate::cli::PredictArgs;
use crate::config::Config;
use anyhow::{Context, bail};
use nivesh_models::ModelKind;
use nivesh_server::served::{ForKind, Served, for_kind};
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// Records scored per chunk (per thread: `CHUNK / threads`).
const CHUNK: usize = 4096;

pub fn run(args: PredictArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let (registry, artifacts) = super::stores::registry(config)?;
    let name = args.model.registry_name();
    let version = match (&args.model_version, &args.alias) {
        (Some(v), _) => registry
            .versions(name)?
            .into_iter()
            .find(|m| m.version == *v)
            .with_context(|| format!("{name} has no version {v} (`nivesh-ml registry show {name}`)"))?,
        (None, alias) => {
            let alias = alias.as_deref().unwrap_or("champion");
            registry.alias(name, alias)?.with_context(|| format!("{name} has no version with the alias {alias:?}"))?
        }
    };
    let bytes = artifacts.get(&version.digest)?;
    let features = match args.model {
        ModelKind::Anomaly | ModelKind::Spending => Some(
            super::stores::features(config, None).context("the anomaly and spending models read the feature store")?,
        ),
        _ => None,
    };
    let summary = for_kind(args.model, Score { args: &args, bytes: &bytes, features: features.as_ref() })?;
    eprintln!(
        "{name} v{}: {} records scored, {} failed{}",
        version.version,
        summary.scored,
        summary.failed,
        args.errors.as_ref().map(|p| format!(" (see {})", p.display())).unwrap_or_default()
    );
    Ok(if summary.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

struct Summary {
    scored: u64,
    failed: u64,
}

struct Score<'a> {
    args: &'a PredictArgs,
    bytes: &'a [u8],
    features: Option<&'a nivesh_features::FeatureStore>,
}

impl ForKind for Score<'_> {
    type Output = anyhow::Result<Summary>;
    fn call<M: Served>(self) -> anyhow::Result<Summary> {
        let model = M::from_bytes(self.bytes).map_err(|e| anyhow::anyhow!("{}: {e}", M::MODEL))?;
        score::<M>(&model, self.args, self.features)
    }
}

/// A CSV cell as JSON: a number, a boolean, empty as missing, else a string.
fn cell(s: &str) -> Option<Value> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::from(i));
    }
    if let Ok(f) = t.parse::<f64>() {
        return serde_json::Number::from_f64(f).map(Value::Number);
    }
    match t.to_ascii_lowercase().as_str() {
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => Some(Value::String(t.to_string())),
    }
}

/// The JSON route's body of a CSV row.
fn from_row(kind: ModelKind, row: Map<String, Value>) -> Result<Value, String> {
    Ok(match kind {
        ModelKind::Credit => Value::Object(Map::from_iter([("applicant_data".to_string(), Value::Object(row))])),
        ModelKind::Intent | ModelKind::Ner => Value::Object(row),
        ModelKind::Anomaly => {
            let mut row = row;
            let user = row.remove("user_id");
            let mut body = Map::from_iter([("transaction".to_string(), Value::Object(row))]);
            if let Some(u) = user {
                body.insert("user_id".into(), u);
            }
            Value::Object(body)
        }
        ModelKind::Spending => return Err("spending takes JSONL (a request per line), not CSV".into()),
    })
}

/// One record's answer: the output object, or why it failed.
fn answer<M: Served>(
    model: &M,
    record: Value,
    features: Option<&nivesh_features::FeatureStore>,
) -> Result<Value, String> {
    // the JSON route's parser: a refused value is named by its path (`applicant_data.age`)
    let req: M::Request = nivesh_server::parse::parse_value(record).map_err(|e| e.to_string())?;
    let input = M::check(req).map_err(|e| e.to_string())?;
    let (output, _) = model.answer(&input, features).map_err(|e| e.to_string())?;
    serde_json::to_value(&output).map_err(|e| e.to_string())
}

enum Writer {
    Jsonl(Box<dyn Write>),
    Csv { out: Box<csv::Writer<Box<dyn Write>>>, columns: Option<Vec<String>> },
}

impl Writer {
    fn write(&mut self, line: u64, v: Value) -> anyhow::Result<()> {
        match self {
            Writer::Jsonl(w) => {
                let mut o = Map::from_iter([("line".to_string(), Value::from(line))]);
                if let Value::Object(m) = v {
                    o.extend(m);
                }
                serde_json::to_writer(&mut *w, &Value::Object(o))?;
                w.write_all(b"\n")?;
            }
            Writer::Csv { out, columns } => {
                let obj = match v {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                let cols = columns.get_or_insert_with(|| {
                    let mut c: Vec<String> = vec!["line".into()];
                    c.extend(obj.keys().filter(|k| *k != "error").cloned());
                    c.push("error".into());
                    out.write_record(&c).ok();
                    c
                });
                let cells: Vec<String> = cols
                    .iter()
                    .map(|c| match (c.as_str(), obj.get(c)) {
                        ("line", _) => line.to_string(),
                        (_, None) | (_, Some(Value::Null)) => String::new(),
                        (_, Some(Value::String(s))) => s.clone(),
                        (_, Some(other)) => other.to_string(),
                    })
                    .collect();
                out.write_record(&cells)?;
            }
        }
        Ok(())
    }
    fn flush(&mut self) -> anyhow::Result<()> {
        match self {
            Writer::Jsonl(w) => w.flush()?,
            Writer::Csv { out, .. } => out.flush()?,
        }
        Ok(())
    }
}

fn open_out(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => {
            Box::new(BufWriter::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?))
        }
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

/// The records of the input, in chunks: `(line, record or why it is not one)`.
struct Records {
    kind: ModelKind,
    source: Source,
    /// Bytes of the input read so far (for the progress bar).
    bytes: u64,
    /// Which records to score (`--shard`): the rest are skipped unparsed.
    window: Window,
}

/// The positions of the records to score, and how many records were met so far (blank JSONL
/// lines are not records; a bad CSV row is one).
struct Window {
    seen: u64,
    range: std::ops::Range<u64>,
}

impl Window {
    /// Whether the next record is one to score; `None` past the range (stop reading).
    fn take(&mut self) -> Option<bool> {
        let pos = self.seen;
        self.seen += 1;
        (pos < self.range.end).then_some(pos >= self.range.start)
    }
}

enum Source {
    Jsonl(std::io::Lines<BufReader<std::fs::File>>, u64),
    Csv(csv::Reader<BufReader<std::fs::File>>, Vec<String>, u64),
}

impl Records {
    fn open(kind: ModelKind, path: &Path) -> anyhow::Result<Records> {
        let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        let source = match ext.as_str() {
            "jsonl" | "ndjson" => Source::Jsonl(BufReader::new(file).lines(), 0),
            "csv" => {
                let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(BufReader::new(file));
                let headers = r.headers().with_context(|| format!("{}: the CSV header", path.display()))?;
                let headers = headers.iter().map(str::to_string).collect();
                Source::Csv(r, headers, 1)
            }
            other => bail!("{}: .{other} is not .jsonl or .csv", path.display()),
        };
        Ok(Records { kind, source, bytes: 0, window: Window { seen: 0, range: 0..u64::MAX } })
    }

    /// How many records the input holds (a pass that parses nothing: for `--shard`).
    fn count(kind: ModelKind, path: &Path) -> anyhow::Result<u64> {
        let mut r = Records::open(kind, path)?;
        let mut n = 0;
        loop {
            let more = match &mut r.source {
                Source::Jsonl(lines, _) => match lines.next() {
                    Some(text) => {
                        if !text?.trim().is_empty() {
                            n += 1;
                        }
                        true
                    }
                    None => false,
                },
                Source::Csv(reader, _, _) => {
                    let mut rec = csv::ByteRecord::new();
                    match reader.read_byte_record(&mut rec) {
                        Ok(false) => false,
                        Ok(true) | Err(_) => {
                            n += 1;
                            true
                        }
                    }
                }
            };
            if !more {
                return Ok(n);
            }
        }
    }

    /// Up to `n` records.
    fn chunk(&mut self, n: usize) -> anyhow::Result<Vec<(u64, Result<Value, String>)>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match &mut self.source {
                Source::Jsonl(lines, line) => {
                    let Some(text) = lines.next() else { break };
                    *line += 1;
                    let text = text?;
                    self.bytes += text.len() as u64 + 1;
                    if text.trim().is_empty() {
                        continue;
                    }
                    match self.window.take() {
                        None => break,
                        Some(false) => continue,
                        Some(true) => {
                            out.push((*line, serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))))
                        }
                    }
                }
                Source::Csv(reader, headers, line) => {
                    let mut rec = csv::StringRecord::new();
                    let read = reader.read_record(&mut rec);
                    match read {
                        Ok(false) => break,
                        Ok(true) => self.bytes = reader.position().byte(),
                        Err(_) => {}
                    }
                    *line += 1;
                    match self.window.take() {
                        None => break,
                        Some(false) => continue,
                        Some(true) => {}
                    }
                    let record = match read {
                        Ok(_) => {
                            let row: Map<String, Value> = headers
                                .iter()
                                .zip(rec.iter())
                                .filter_map(|(h, v)| cell(v).map(|v| (h.clone(), v)))
                                .collect();
                            from_row(self.kind, row)
                        }
                        Err(e) => Err(format!("bad CSV: {e}")),
                    };
                    out.push((*line, record));
                }
            }
        }
        Ok(out)
    }
}

fn score<M: Served>(
    model: &M,
    args: &PredictArgs,
    features: Option<&nivesh_features::FeatureStore>,
) -> anyhow::Result<Summary> {
    let mut records = Records::open(M::MODEL, &args.input)?;
    if let Some(shard) = args.shard.filter(|s| !s.is_all()) {
        // this shard's contiguous part of the records: the shards' outputs, concatenated in
        // shard order, are the one-shot output
        records.window.range = shard.range(Records::count(M::MODEL, &args.input)?);
    }
    let csv_out = args.output.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")));
    let out = open_out(args.output.as_deref())?;
    let mut writer = if csv_out {
        Writer::Csv { out: Box::new(csv::Writer::from_writer(out)), columns: None }
    } else {
        Writer::Jsonl(out)
    };
    let mut errors = args.errors.as_deref().map(|p| open_out(Some(p))).transpose()?;
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let total = std::fs::metadata(&args.input).map(|m| m.len()).unwrap_or(0);
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {percent:>3}% {msg} ({elapsed}, {eta} left)")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut summary = Summary { scored: 0, failed: 0 };
    loop {
        let chunk = records.chunk(CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        let per = chunk.len().div_ceil(threads);
        let answers: Vec<(u64, Result<Value, String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .chunks(per)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(line, rec)| (*line, rec.clone().and_then(|r| answer::<M>(model, r, features))))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| anyhow::anyhow!("a scoring thread panicked")))
                .collect::<anyhow::Result<Vec<_>>>()
                .map(|parts| parts.into_iter().flatten().collect())
        })?;
        for (line, a) in answers {
            match a {
                Ok(v) => {
                    summary.scored += 1;
                    writer.write(line, v)?;
                }
                Err(why) => {
                    summary.failed += 1;
                    if let Some(e) = errors.as_mut() {
                        writeln!(e, "{}", serde_json::json!({"line": line, "error": why}))?;
                    }
                    writer.write(line, serde_json::json!({"error": why}))?;
                }
            }
        }
        if let Some(b) = &bar {
            b.set_position(records.bytes);
            b.set_message(format!("{} scored, {} failed", summary.scored, summary.failed));
        }
    }
    writer.flush()?;
    if let Some(e) = errors.as_mut() {
        e.flush()?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(summary)
}
