//! Loading labelled datasets for training and evaluation, whatever their format.

use crate::spec::{Input, InputFormat};
use anyhow::{Context, bail};
use nivesh_core::dataset::read_records;
use nivesh_core::public::{self, PublicFormat};
use nivesh_core::{NerExample, Record, Utterance};
use nivesh_models::tabular::{TableSpec, Tabular};
use std::path::{Path, PathBuf};

fn resolve(path: &Path, format: InputFormat) -> InputFormat {
    match format {
        InputFormat::Auto => match public::detect(path) {
            Some(PublicFormat::Clinc150) => InputFormat::Clinc150,
            Some(PublicFormat::NluPlusPlus) => InputFormat::Nlupp,
            None => InputFormat::Records,
        },
        f => f,
    }
}

fn load_many<T: Record>(
    paths: &[PathBuf],
    format: InputFormat,
    mut one: impl FnMut(&Path, InputFormat) -> anyhow::Result<Vec<T>>,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(one(p, resolve(p, format))?);
    }
    if out.is_empty() {
        bail!("no records in {}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    }
    Ok(out)
}

/// Utterances from records or a CLINC150 split (`default_split` when --split is not given).
pub fn utterances(args: &Input, default_split: &str) -> anyhow::Result<Vec<Utterance>> {
    let split = args.split.as_deref().unwrap_or(default_split);
    utterances_from(&args.paths, args.format, split)
}

pub fn utterances_from(paths: &[PathBuf], format: InputFormat, split: &str) -> anyhow::Result<Vec<Utterance>> {
    load_many(paths, format, |p, f| match f {
        InputFormat::Clinc150 => {
            // several splits joined by commas, e.g. `train,oos_train`
            let mut all = Vec::new();
            for one in split.split(',') {
                all.extend(public::read_clinc150(p, one.trim())?);
            }
            Ok(all)
        }
        InputFormat::Nlupp => bail!("{} is NLU++ (an NER dataset), not intents", p.display()),
        _ => read_records(p).with_context(|| format!("reading {}", p.display())),
    })
}

/// NER examples from records or NLU++ folds.
pub fn ner_examples(paths: &[PathBuf], format: InputFormat) -> anyhow::Result<Vec<NerExample>> {
    load_many(paths, format, |p, f| match f {
        InputFormat::Nlupp => Ok(public::read_nlupp(p)?),
        InputFormat::Clinc150 => bail!("{} is CLINC150 (an intent dataset), not NER", p.display()),
        _ => read_records(p).with_context(|| format!("reading {}", p.display())),
    })
}

/// A labelled credit table: generic tabular CSV when `--label` is given, else credit
/// application records (features derived by the model crate). With `schema`, the columns are
/// encoded the way a trained model expects. `group` names a cross-validation column.
pub fn credit_table(
    args: &Input,
    schema: Option<&nivesh_models::tabular::Schema>,
    group: Option<&str>,
) -> anyhow::Result<Tabular> {
    if args.label.is_none() {
        anyhow::ensure!(group.is_none(), "--cv-column needs a tabular CSV with --label");
        let apps: Vec<nivesh_core::CreditApplication> = load_many(&args.paths, InputFormat::Records, |p, _| {
            read_records(p).with_context(|| format!("reading {}", p.display()))
        })?;
        let table = nivesh_models::credit::applications_table(&apps);
        if let Some(schema) = schema {
            anyhow::ensure!(
                schema.names == table.schema.names,
                "the model was trained on a tabular CSV ({} columns): evaluate it on one, with --label",
                schema.len()
            );
        }
        return Ok(table);
    }
    Ok(tabular_csv(args, schema, group)?.0)
}

/// A tabular CSV (`--label`, `--weight`, `--ignore`, and `group` for cross-validation),
/// encoded with `schema` when given; also returns the raw table.
fn tabular_csv(
    args: &Input,
    schema: Option<&nivesh_models::tabular::Schema>,
    group: Option<&str>,
) -> anyhow::Result<(Tabular, nivesh_core::dataset::Table)> {
    anyhow::ensure!(args.paths.len() == 1, "tabular input takes one --data file");
    let path = &args.paths[0];
    let table = nivesh_core::dataset::read_table(path)?;
    let mut ignore = args.ignore.clone();
    ignore.retain(|c| Some(c.as_str()) != group);
    let spec =
        TableSpec { label: args.label.clone(), weight: args.weight.clone(), group: group.map(str::to_string), ignore };
    let line_of = |i: usize| table.lines.get(i).copied().unwrap_or(0);
    let t = match schema {
        Some(s) => Tabular::with_schema(s, &table.headers, &table.rows, &spec, line_of),
        None => Tabular::from_strings(&table.headers, &table.rows, &spec, line_of),
    }
    .with_context(|| format!("reading {}", path.display()))?;
    Ok((t, table))
}

/// A transactions feature table (point-in-time features of every debit) with the row
/// timestamps, or a generic tabular CSV with its `time_column` values when `--label`/no
/// records are given.
pub fn anomaly_table(
    args: &Input,
    schema: Option<&nivesh_models::tabular::Schema>,
    time_column: Option<&str>,
    group: Option<&str>,
) -> anyhow::Result<(Tabular, Option<Vec<f64>>)> {
    if args.label.is_none()
        && args
            .paths
            .iter()
            .all(|p| nivesh_core::RecordKind::infer_from_path(p) == Some(nivesh_core::RecordKind::Transaction))
    {
        let txns: Vec<nivesh_core::Transaction> = load_many(&args.paths, InputFormat::Records, |p, _| {
            read_records(p).with_context(|| format!("reading {}", p.display()))
        })?;
        let times: Vec<f64> = txns
            .iter()
            .filter(|t| t.direction == nivesh_core::Direction::Debit)
            .map(|t| t.timestamp.timestamp() as f64)
            .collect();
        return Ok((nivesh_models::anomaly::transactions_table(&txns), Some(times)));
    }
    let (t, table) = tabular_csv(args, schema, group)?;
    let times = match time_column {
        Some(c) => {
            let i = table.headers.iter().position(|h| h == c).with_context(|| format!("no column named {c:?}"))?;
            Some(
                table
                    .rows
                    .iter()
                    .enumerate()
                    .map(|(k, r)| {
                        r[i].trim().parse::<f64>().with_context(|| {
                            format!("{}:{}: {c}: {:?} is not a number", table.path, table.lines[k], r[i])
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?,
            )
        }
        None => None,
    };
    Ok((t, times))
}
