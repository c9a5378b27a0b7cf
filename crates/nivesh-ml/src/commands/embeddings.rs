//! `embeddings distill|info`: static word-piece vectors from a local sentence encoder.

use crate::cli::{EmbeddingsCommand, ShrinkArgs};
use anyhow::Context;
use nivesh_models::Persist;
use nivesh_models::text::{BertEncoder, StaticEmbeddings, WordPiece};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(cmd: EmbeddingsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EmbeddingsCommand::Distill { encoder, out, threads, shrink } => {
            let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let started = Instant::now();
            let table = distill(&encoder, threads)?;
            println!(
                "distilled {} word pieces × {} dimensions from {} in {:.1} s",
                table.vocab_size(),
                table.dim(),
                encoder.display(),
                started.elapsed().as_secs_f64()
            );
            write(&shrink_table(table, &shrink)?, &out)?;
        }
        EmbeddingsCommand::Reduce { input, out, shrink } => {
            let table = nivesh_training::train::load_embeddings(&input)?;
            write(&shrink_table(table, &shrink)?, &out)?;
        }
        EmbeddingsCommand::Info { file } => {
            let t = nivesh_training::train::load_embeddings(&file)?;
            println!(
                "{}: {} word pieces × {} dimensions, distilled from {}",
                file.display(),
                t.vocab_size(),
                t.dim(),
                t.source()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn shrink_table(table: StaticEmbeddings, shrink: &ShrinkArgs) -> anyhow::Result<StaticEmbeddings> {
    let table = match shrink.dims {
        Some(dims) => {
            let started = Instant::now();
            let (reduced, kept) = table.reduce(dims)?;
            println!(
                "{} → {dims} SVD directions in {:.1} s, keeping {:.1} % of the energy",
                table.dim(),
                started.elapsed().as_secs_f64(),
                kept * 100.0
            );
            reduced
        }
        None => table,
    };
    Ok(if shrink.int8 { table.quantize_i8() } else { table })
}

fn write(table: &StaticEmbeddings, out: &Path) -> anyhow::Result<()> {
    let bytes = table.to_bytes()?;
    nivesh_core::fsutil::atomic_write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes): {}", out.display(), bytes.len(), table.source());
    Ok(())
}

/// Load the encoder in `dir` and distil it.
pub fn distill(dir: &Path, threads: usize) -> anyhow::Result<StaticEmbeddings> {
    let files = nivesh_training::train::read_encoder_dir(dir)?;
    let encoder = BertEncoder::from_bytes(&files.config_json, &files.weights)?;
    let wordpiece = WordPiece::from_tokenizer_json(&files.tokenizer_json)?;
    let source = files.source.clone();
    drop(files);
    let bar = indicatif::ProgressBar::new(wordpiece.vocab_size() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("distilling {bar:40} {pos}/{len} word pieces, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let table =
        StaticEmbeddings::distill(&encoder, wordpiece, &source, threads, &|done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    Ok(table)
}
