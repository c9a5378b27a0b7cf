//! NER feature choices on NLU++ (a development tool, not shipped): leave-one-fold-out
//! cross-validation over the training folds (0-7), then the dev folds (8-9) once, with their
//! misses printed when `MISSES=1` (and the cross-validation's, on the training folds, with `CV_MISSES=1`).
//!
//! `cargo run --release -p nivesh-models --example ner_nlupp -- ../shared/datasets/ner [table.emb]`
//! (with a table: word-cluster features; `CLUSTERS=16,8,8`, `C1`, `C2`, `ITERATIONS` override the
//! defaults; `CV=0` skips the cross-validation).
use nivesh_core::NerExample;
use nivesh_models::metrics::{SpanKey, span_report};
use nivesh_models::ner::{NerInput, NerParams};
use nivesh_models::text::StaticEmbeddings;
use nivesh_models::{Persist, Predict};
use std::error::Error;

fn keys(ex: &NerExample) -> Vec<SpanKey> {
    ex.entities.iter().map(|e| SpanKey { start: e.start, end: e.end, label: e.label.clone() }).collect()
}

type Spans = (Vec<Vec<SpanKey>>, Vec<Vec<SpanKey>>);

fn predict(
    params: &NerParams,
    table: Option<&StaticEmbeddings>,
    train: &[NerExample],
    test: &[NerExample],
    show: bool,
) -> Result<Spans, Box<dyn Error>> {
    let model = params.fit_with_embeddings(train, table)?;
    let day = chrono::NaiveDate::from_ymd_opt(2022, 3, 15).ok_or("date")?;
    let (mut gold, mut pred) = (Vec::new(), Vec::new());
    for ex in test {
        let ents = model.predict(&NerInput { text: &ex.text, reference_date: day })?;
        let p: Vec<SpanKey> =
            ents.iter().map(|e| SpanKey { start: e.start, end: e.end, label: e.label.clone() }).collect();
        let g = keys(ex);
        if show && p != g {
            let fmt = |v: &[SpanKey]| {
                v.iter()
                    .map(|k| {
                        format!(
                            "{}:{:?}",
                            k.label,
                            ex.text.chars().skip(k.start).take(k.end - k.start).collect::<String>()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            println!("  {:?}\n    gold [{}]\n    pred [{}]", ex.text, fmt(&g), fmt(&p));
        }
        gold.push(g);
        pred.push(p);
    }
    Ok((gold, pred))
}

fn report(what: &str, (gold, pred): &Spans) {
    let r = span_report(gold, pred);
    let labels: Vec<String> =
        r.per_label.iter().map(|(l, prf)| format!("{l} {:.3} ({})", prf.f1, prf.support)).collect();
    println!("{what}: micro-F1 {:.4} (P {:.3} R {:.3}); {}", r.f1, r.precision, r.recall, labels.join(", "));
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: ner_nlupp <dir with fold0..9.json>")?;
    if let Ok(file) = std::env::var("RECORDS") {
        // the project's records (e.g. generated ner.jsonl): the last fifth held out
        let all: Vec<NerExample> = nivesh_core::dataset::read_records(std::path::Path::new(&file))?;
        let cut = all.len() * 4 / 5;
        let table = std::env::args().nth(2).map(std::fs::read).transpose()?;
        let table = table.map(|b| StaticEmbeddings::from_bytes(&b)).transpose()?;
        report("records, last fifth", &predict(&NerParams::default(), table.as_ref(), &all[..cut], &all[cut..], true)?);
        return Ok(());
    }
    let folds: Vec<Vec<NerExample>> = (0..10)
        .map(|k| nivesh_core::public::read_nlupp(std::path::Path::new(&format!("{dir}/fold{k}.json"))))
        .collect::<Result<_, _>>()?;
    let table = match std::env::args().nth(2) {
        Some(path) => Some(StaticEmbeddings::from_bytes(&std::fs::read(path)?)?),
        None => None,
    };
    let mut params = NerParams::default();
    let var = |name: &str| std::env::var(name).ok();
    if let Some(c) = var("CLUSTERS") {
        params.clusters = c.split(',').filter(|s| !s.is_empty()).map(str::parse).collect::<Result<_, _>>()?;
    }
    if let Some(v) = var("C1") {
        params.c1 = v.parse()?;
    }
    if let Some(v) = var("C2") {
        params.c2 = v.parse()?;
    }
    if let Some(v) = var("NEAR") {
        params.near_gazetteer = v != "0";
    }
    if let Some(v) = var("ITERATIONS") {
        params.max_iterations = v.parse()?;
    }
    let table = table.as_ref();
    if let (Some(words), Some(t)) = (var("NEIGHBOURS"), table) {
        return neighbours(t, &params.clusters, &words);
    }
    if std::env::var("CV").map(|v| v != "0").unwrap_or(true) {
        let mut pooled: Spans = (Vec::new(), Vec::new());
        for held in 0..8 {
            let train: Vec<NerExample> = (0..8).filter(|&k| k != held).flat_map(|k| folds[k].iter().cloned()).collect();
            let (g, p) = predict(&params, table, &train, &folds[held], std::env::var("CV_MISSES").is_ok())?;
            pooled.0.extend(g);
            pooled.1.extend(p);
        }
        report("CV over folds 0-7 (leave one fold out, pooled)", &pooled);
    }
    let train: Vec<NerExample> = folds[..8].iter().flatten().cloned().collect();
    let test: Vec<NerExample> = folds[8..].iter().flatten().cloned().collect();
    let show = std::env::var("MISSES").is_ok();
    report("dev folds 8-9", &predict(&params, table, &train, &test, show)?);
    Ok(())
}

/// `NEIGHBOURS=word,word`: print each word's finest cluster (first 40 words) and path.
fn neighbours(table: &StaticEmbeddings, branching: &[usize], words: &str) -> Result<(), Box<dyn Error>> {
    let started = std::time::Instant::now();
    let c = nivesh_models::text::WordClusters::build(table, branching, 1)?;
    println!("clustered {} words in {:.2} s", c.n_words(), started.elapsed().as_secs_f64());
    for w in words.split(',') {
        let n = c.neighbours(w);
        println!("{w} {:?} ({}): {}", c.path(w), n.len(), n.iter().take(40).copied().collect::<Vec<_>>().join(" "));
    }
    Ok(())
}
