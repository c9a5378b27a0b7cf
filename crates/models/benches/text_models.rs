//! Single-prediction latency of the text models, trained on the bundled generator's data.
//! Run: `cargo bench -p nivesh-models --bench text_models`. With `NIVESH_EMBEDDINGS=FILE` (from
//! `nivesh-ml embeddings distill`) the intent classifier is also measured with the embeddings;
//! with `NIVESH_ENCODER=DIR` (config.json, tokenizer.json, model.safetensors) in the contextual
//! mode, the encoder run per query.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use nivesh_models::intent::IntentParams;
use nivesh_models::ner::{NerInput, NerParams};
use nivesh_models::text::StaticEmbeddings;
use nivesh_models::{Fit, Persist, Predict};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let g = Gazetteer::builtin();
    let utterances = nivesh_datagen::intents::generate(&mut Rng::new(42), 200, &g);
    let Ok(intent) = IntentParams::default().fit(&utterances) else { return };
    c.bench_function("intent/predict_one", |b| {
        b.iter(|| {
            intent.predict(black_box("bhai can I afford a 1.5 lakh bike on my 60k salary or should I wait till Diwali"))
        })
    });

    // the table the binary ships (and trains with by default), or another one
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/embeddings/all-minilm-l6-v2.256.int8.emb");
    let table = std::env::var_os("NIVESH_EMBEDDINGS")
        .map_or_else(|| std::fs::read(shipped).ok(), |p| std::fs::read(p).ok())
        .and_then(|b| StaticEmbeddings::from_bytes(&b).ok());
    if let Some(table) = &table
        && let Ok(joined) = IntentParams::default().fit_with_embeddings(&utterances, Some(table))
    {
        c.bench_function("intent/predict_one_with_embeddings", |b| {
            b.iter(|| {
                joined.predict(black_box(
                    "bhai can I afford a 1.5 lakh bike on my 60k salary or should I wait till Diwali",
                ))
            })
        });
    }

    // the contextual mode: a local encoder directory, when given
    if let Some(dir) = std::env::var_os("NIVESH_ENCODER").map(std::path::PathBuf::from) {
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap_or_default();
        let files = nivesh_models::text::EncoderFiles {
            source: "bench".into(),
            config_json: String::from_utf8(read("config.json")).unwrap_or_default(),
            tokenizer_json: String::from_utf8(read("tokenizer.json")).unwrap_or_default(),
            weights: read("model.safetensors"),
        };
        match IntentParams::default().fit_with_encoder(&utterances, &files) {
            Ok(contextual) => {
                c.bench_function("intent/predict_one_contextual", |b| {
                    b.iter(|| {
                        contextual.predict(black_box(
                            "bhai can I afford a 1.5 lakh bike on my 60k salary or should I wait till Diwali",
                        ))
                    })
                });
            }
            Err(e) => eprintln!("NIVESH_ENCODER: {e}"),
        };
    }

    let sentences = nivesh_datagen::ner::generate(&mut Rng::new(42), 2000, &g);
    // with the table's word clusters, as `train` and the bootstrap fit it
    let Ok(ner) = NerParams::default().fit_with_embeddings(&sentences, table.as_ref()) else { return };
    let reference_date = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap_or(NaiveDate::MIN);
    // 20 words
    let text =
        "Paid ₹1,50,000 to Swiggy yesterday from my HDFC savings and then Rs 500 at Zomato on 15 March for dinner";
    c.bench_function("ner/predict_20_words", |b| b.iter(|| ner.predict(black_box(&NerInput { text, reference_date }))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
