//! Single-prediction latency of the text models, trained on the bundled generator's data.
//! Run: `cargo bench -p nivesh-models --bench text_models`.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use nivesh_models::intent::IntentParams;
use nivesh_models::ner::{NerInput, NerParams};
use nivesh_models::{Fit, Predict};
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

    let sentences = nivesh_datagen::ner::generate(&mut Rng::new(42), 2000, &g);
    let Ok(ner) = NerParams::default().fit(&sentences) else { return };
    let reference_date = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap_or(NaiveDate::MIN);
    // 20 words
    let text =
        "Paid ₹1,50,000 to Swiggy yesterday from my HDFC savings and then Rs 500 at Zomato on 15 March for dinner";
    c.bench_function("ner/predict_20_words", |b| b.iter(|| ner.predict(black_box(&NerInput { text, reference_date }))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
