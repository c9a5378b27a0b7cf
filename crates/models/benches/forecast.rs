//! Forecasts from two years of daily history: MSTL + ETS alone, Theta alone (what `auto` chose on
//! the generated users) and the combination.
//! Run: `cargo bench -p nivesh-models --bench forecast`.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use nivesh_core::rng::Rng;
use nivesh_models::Predict;
use nivesh_models::forecast::DailyHistory;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    let values: Vec<f64> = (0..730)
        .map(|i| {
            let weekly = if i % 7 >= 5 { 1.4 } else { 1.0 };
            let payday = if i % 30 < 5 { 1.3 } else { 1.0 };
            (1500.0 * weekly * payday * rng.lognormal(0.0, 0.4)).round()
        })
        .collect();
    // no transactions to learn festival effects from: forecasters without them, one per method
    let model = |method: &str| {
        serde_json::from_str::<nivesh_models::forecast::SpendingForecaster>(&format!(
            r#"{{"params":{{"daily_seasons":[7],"festivals":[],"method":{method}}},"effects":[]}}"#
        ))
    };
    let (Ok(ets), Ok(theta), Ok(combination)) =
        (model(r#""ets""#), model(r#""theta""#), model(r#"{"combination":{"origins":2}}"#))
    else {
        return;
    };
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(NaiveDate::MIN);
    // MSTL + AutoETS alone (the method before issue 19)
    c.bench_function("spending/forecast_365_days_from_730", |b| {
        b.iter(|| ets.predict(black_box(&DailyHistory { start, values: &values, horizon_days: 365 })))
    });
    // Theta alone: one fit
    for horizon in [30, 365] {
        c.bench_function(&format!("spending/theta_{horizon}_days_from_730"), |b| {
            b.iter(|| theta.predict(black_box(&DailyHistory { start, values: &values, horizon_days: horizon })))
        });
    }
    // the combination: a 30-day horizon backtests on two cuts (9 fits); a 365-day one cannot (3 fits)
    for horizon in [30, 365] {
        c.bench_function(&format!("spending/combination_{horizon}_days_from_730"), |b| {
            b.iter(|| combination.predict(black_box(&DailyHistory { start, values: &values, horizon_days: horizon })))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
