//! Spending forecaster: festival effects, monthly shape, round trip, short histories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use nivesh_models::forecast::{DailyHistory, ForecastParams, SpendingForecaster, daily_spend};
use nivesh_models::{Fit, Persist, Predict};

#[test]
fn learns_a_diwali_uplift_and_applies_it_to_forecast_days() {
    let txns = nivesh_datagen::transactions::generate(
        &mut Rng::new(2),
        40,
        nivesh_datagen::transactions_start(),
        396,
        &Gazetteer::builtin(),
    );
    let model = ForecastParams::default().fit(&txns).unwrap();
    let diwali = model.effects.iter().find(|e| e.festival == "diwali").unwrap();
    assert!(diwali.multiplier > 1.3, "{diwali:?}");

    // a flat history ending just before Diwali 2026 (8 November): the window days are lifted
    let values = vec![1000.0; 120];
    let start = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(); // history ends 28 September
    let f = model.predict(&DailyHistory { start, values: &values, horizon_days: 60 }).unwrap();
    let at = |d: NaiveDate| f.dates.iter().position(|x| *x == d).unwrap();
    let inside = f.forecast.point[at(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())];
    let outside = f.forecast.point[at(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap())];
    assert!((inside / outside - diwali.multiplier).abs() < 1e-6, "{inside} / {outside}");

    // monthly totals in the original route's shape
    let months = f.monthly();
    assert_eq!(months[0].month, "2026-09");
    assert_eq!(
        months.iter().map(|m| m.predicted_amount).sum::<f64>().round(),
        f.forecast.point.iter().sum::<f64>().round()
    );
    for m in &months {
        assert!(m.lower_bound <= m.predicted_amount && m.predicted_amount <= m.upper_bound);
        assert!(m.lower_bound >= 0.0);
    }
    assert_eq!(f.history_points, 120);
    let periods = f.periods();
    assert_eq!(periods.len(), 60);
    assert_eq!(periods[0].period, "2026-09-29");
    assert!(periods.iter().all(|p| p.lower_95 <= p.lower_80
        && p.lower_80 <= p.predicted_amount
        && p.predicted_amount <= p.upper_80
        && p.upper_80 <= p.upper_95));

    let back = SpendingForecaster::from_bytes(&model.to_bytes().unwrap()).unwrap();
    assert_eq!(back.predict(&DailyHistory { start, values: &values, horizon_days: 60 }).unwrap(), f);
}

#[test]
fn short_histories_fall_back_or_fail_clearly() {
    let model = ForecastParams { festivals: vec![], ..Default::default() }.fit(&[]).err();
    assert!(model.unwrap().to_string().contains("no debit transactions"));
    let txns = nivesh_datagen::transactions::generate(
        &mut Rng::new(3),
        3,
        nivesh_datagen::transactions_start(),
        60,
        &Gazetteer::builtin(),
    );
    let model = ForecastParams::default().fit(&txns).unwrap();
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    // 10 days: less than two weeks, so no weekly season, and too short to backtest a 7-day
    // horizon: the three non-seasonal models, equally weighted
    let f = model
        .predict(&DailyHistory {
            start,
            values: &[500.0, 0.0, 800.0, 100.0, 0.0, 900.0, 300.0, 200.0, 0.0, 400.0],
            horizon_days: 7,
        })
        .unwrap();
    assert_eq!(f.forecast.model_used, "combination");
    let e = model.predict(&DailyHistory { start, values: &[1.0; 5], horizon_days: 7 }).unwrap_err();
    assert_eq!(e.to_string(), "history: has 5 points; at least 7 are needed");
    // aggregation of one user's transactions, with a category filter
    let mine: Vec<_> = txns.iter().filter(|t| t.user_id == "U0001").collect();
    let (_, all) = daily_spend(&mine, None).unwrap();
    let (_, food) = daily_spend(&mine, Some("food_delivery")).unwrap_or((start, vec![0.0]));
    assert!(all.iter().sum::<f64>() > food.iter().sum::<f64>());
}
