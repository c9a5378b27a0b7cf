//! A 12-month (365-day) forecast from two years of daily history.
//! Run: `cargo bench -p nivesh-models --bench forecast`.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use nivesh_core::rng::Rng;
use nivesh_models::forecast::{DailyHistory, ForecastParams};
use nivesh_models::{Fit, Predict};
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
    let Ok(model) = ForecastParams::default().fit(&[]).or_else(|_| {
        // no transactions to learn festival effects from: a forecaster without them
        serde_json::from_str::<nivesh_models::forecast::SpendingForecaster>(
            r#"{"params":{"daily_seasons":[7],"festivals":[]},"effects":[]}"#,
        )
        .map_err(|e| nivesh_models::ModelError::Data(e.to_string()))
    }) else {
        return;
    };
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(NaiveDate::MIN);
    c.bench_function("spending/forecast_365_days_from_730", |b| {
        b.iter(|| model.predict(black_box(&DailyHistory { start, values: &values, horizon_days: 365 })))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
