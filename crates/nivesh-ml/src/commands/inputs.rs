//! Loading labelled datasets for training and evaluation, whatever their format.

use crate::cli::{DataArgs, InputFormat};
use anyhow::{Context, bail};
use nivesh_core::dataset::read_records;
use nivesh_core::public::{self, PublicFormat};
use nivesh_core::{NerExample, Record, Utterance};
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
pub fn utterances(args: &DataArgs, default_split: &str) -> anyhow::Result<Vec<Utterance>> {
    let split = args.split.as_deref().unwrap_or(default_split);
    utterances_from(&args.data, args.format, split)
}

pub fn utterances_from(paths: &[PathBuf], format: InputFormat, split: &str) -> anyhow::Result<Vec<Utterance>> {
    load_many(paths, format, |p, f| match f {
        InputFormat::Clinc150 => Ok(public::read_clinc150(p, split)?),
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
