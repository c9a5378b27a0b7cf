//! Single-application credit scoring latency (with SHAP reason codes).
//! Run: `cargo bench -p nivesh-models --bench credit`.

use criterion::{Criterion, criterion_group, criterion_main};
use nivesh_core::rng::Rng;
use nivesh_models::credit::{CreditParams, applications_table};
use nivesh_models::{Fit, Predict};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let apps = nivesh_datagen::credit::generate(&mut Rng::new(42), 6000);
    let Ok(model) = CreditParams::default().fit(&applications_table(&apps)) else { return };
    // a typical applicant (2 missed payments) and a clean one
    let typical = apps.iter().find(|a| a.payments_missed == 2).unwrap_or(&apps[0]).clone();
    let clean = apps.iter().find(|a| a.payments_missed == 0).unwrap_or(&apps[0]).clone();
    c.bench_function("credit/predict_one_2_missed", |b| b.iter(|| model.predict(black_box(&typical))));
    c.bench_function("credit/predict_one_0_missed", |b| b.iter(|| model.predict(black_box(&clean))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
