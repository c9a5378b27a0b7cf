//! Scoring one live transaction with a 500-transaction history.
//! Run: `cargo bench -p nivesh-models --bench anomaly`.

use chrono::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use nivesh_models::anomaly::{AnomalyInput, AnomalyParams, transactions_table};
use nivesh_models::{Fit, Predict};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let txns = nivesh_datagen::transactions::generate(
        &mut Rng::new(42),
        60,
        nivesh_datagen::transactions_start(),
        396,
        &Gazetteer::builtin(),
    );
    let Ok(model) = AnomalyParams::default().fit(&transactions_table(&txns)) else { return };
    let user: Vec<_> = txns.iter().filter(|t| t.user_id == "U0001").cloned().collect();
    let history: Vec<_> = user.iter().rev().take(500).rev().cloned().collect();
    let Some(last) = history.last().cloned() else { return };
    let next = nivesh_core::Transaction { timestamp: last.timestamp + Duration::minutes(3), ..last };
    c.bench_function(&format!("anomaly/predict_one_history_{}", history.len()), |b| {
        b.iter(|| model.predict(black_box(&AnomalyInput { transaction: &next, history: &history })))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
