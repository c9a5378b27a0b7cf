//! The Theta method (Assimakopoulos & Nikolopoulos 2000; the M3 competition's best method) in
//! the form Hyndman & Billah (2003) showed it to be: simple exponential smoothing with drift
//! equal to half the slope of a linear trend, on the seasonally adjusted series.
//!
//! Seasonality is tested as the M3 and statsforecast do (the autocorrelation at the seasonal
//! lag against its 90 % limit) and removed by classical multiplicative decomposition, or
//! additive when the series has a value ≤ 0.

/// A Theta forecast: points and the standard error of each step.
#[derive(Debug, Clone, PartialEq)]
pub struct ThetaForecast {
    pub point: Vec<f64>,
    pub std_error: Vec<f64>,
    /// The smoothing parameter chosen (least squares of one-step errors).
    pub alpha: f64,
    /// Whether a season was removed.
    pub seasonal: bool,
}

/// Forecast `y` (at least 3 finite values) for `horizon` steps with season length `season`
/// (1: none).
pub fn forecast(y: &[f64], season: usize, horizon: usize) -> Option<ThetaForecast> {
    let n = y.len();
    if n < 3 || horizon == 0 || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let indices = if season > 1 && n >= 2 * season && seasonality_detected(y, season) {
        seasonal_indices(y, season)
    } else {
        None
    };
    let adjusted: Vec<f64> = match &indices {
        Some((idx, true)) => y.iter().enumerate().map(|(t, v)| v / idx[t % season]).collect(),
        Some((idx, false)) => y.iter().enumerate().map(|(t, v)| v - idx[t % season]).collect(),
        None => y.to_vec(),
    };
    let (alpha, level, sse) = ses(&adjusted);
    let slope = ols_slope(&adjusted);
    let sigma = (sse / (n as f64 - 1.0).max(1.0)).sqrt();
    let decay = (1.0 - alpha).powi(n as i32);
    let mut point = Vec::with_capacity(horizon);
    let mut std_error = Vec::with_capacity(horizon);
    for h in 1..=horizon {
        let hf = h as f64;
        let mut f = level + slope / 2.0 * ((hf - 1.0) + 1.0 / alpha - decay / alpha);
        let mut se = sigma * (1.0 + alpha * alpha * (hf - 1.0)).sqrt();
        match &indices {
            Some((idx, true)) => {
                let s = idx[(n + h - 1) % season];
                f *= s;
                se *= s;
            }
            Some((idx, false)) => f += idx[(n + h - 1) % season],
            None => {}
        }
        point.push(f);
        std_error.push(se);
    }
    point.iter().all(|v| v.is_finite()).then_some(ThetaForecast {
        point,
        std_error,
        alpha,
        seasonal: indices.is_some(),
    })
}

/// Autocorrelation of `y` at lags 1..=max_lag.
fn acf(y: &[f64], max_lag: usize) -> Vec<f64> {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    (1..=max_lag)
        .map(|k| {
            if var == 0.0 || k >= y.len() {
                0.0
            } else {
                y.iter().zip(&y[k..]).map(|(a, b)| (a - mean) * (b - mean)).sum::<f64>() / var
            }
        })
        .collect()
}

/// The M3 test: |r_m| > 1.645 √((1 + 2 Σ_{k<m} r_k²) / n).
fn seasonality_detected(y: &[f64], m: usize) -> bool {
    let r = acf(y, m);
    let tail: f64 = r[..m - 1].iter().map(|x| x * x).sum();
    let limit = 1.645 * ((1.0 + 2.0 * tail) / y.len() as f64).sqrt();
    r[m - 1].abs() > limit
}

/// Classical decomposition's seasonal indices (mean 1 when multiplicative, 0 when additive)
/// and whether they are multiplicative; positions are `t % m` of the series' own time index.
fn seasonal_indices(y: &[f64], m: usize) -> Option<(Vec<f64>, bool)> {
    let n = y.len();
    let multiplicative = y.iter().all(|&v| v > 0.0);
    // centred moving average of order m (2 × m when m is even)
    let half = m / 2;
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..n.saturating_sub(half) {
        let ma = if m % 2 == 1 {
            y[t - half..=t + half].iter().sum::<f64>() / m as f64
        } else {
            if t + half >= n {
                continue;
            }
            (y[t - half..t + half].iter().sum::<f64>() + y[t - half + 1..=t + half].iter().sum::<f64>())
                / (2 * m) as f64
        };
        let ratio = if multiplicative {
            if ma <= 0.0 {
                continue;
            }
            y[t] / ma
        } else {
            y[t] - ma
        };
        sums[t % m] += ratio;
        counts[t % m] += 1;
    }
    if counts.contains(&0) {
        return None;
    }
    let mut idx: Vec<f64> = sums.iter().zip(&counts).map(|(s, &c)| s / c as f64).collect();
    let mean = idx.iter().sum::<f64>() / m as f64;
    if multiplicative {
        if mean <= 0.0 || idx.iter().any(|&v| v <= 0.0) {
            return None;
        }
        idx.iter_mut().for_each(|v| *v /= mean);
    } else {
        idx.iter_mut().for_each(|v| *v -= mean);
    }
    Some((idx, multiplicative))
}

/// Simple exponential smoothing with the smoothing parameter and the initial level that
/// minimise the sum of squared one-step errors: (alpha, final level, SSE).
fn ses(y: &[f64]) -> (f64, f64, f64) {
    // For a fixed alpha every level is linear in the initial level l0 (l_t = a_t + b_t l0), so
    // the best l0 has a closed form; alpha is searched on a grid, then refined.
    let fit = |alpha: f64| -> (f64, f64, f64) {
        let (mut a, mut b) = (0.0f64, 1.0f64);
        // errors e_t = y_t − a − b l0: accumulate the normal equation of l0
        let (mut sbb, mut sby) = (0.0, 0.0);
        for &v in y {
            sbb += b * b;
            sby += b * (v - a);
            a = alpha * v + (1.0 - alpha) * a;
            b *= 1.0 - alpha;
        }
        let l0 = if sbb > 0.0 { sby / sbb } else { y[0] };
        let (mut level, mut sse) = (l0, 0.0);
        for &v in y {
            sse += (v - level).powi(2);
            level = alpha * v + (1.0 - alpha) * level;
        }
        (alpha, level, sse)
    };
    let mut best = fit(0.5);
    for i in 1..100 {
        let cand = fit(f64::from(i) / 100.0);
        if cand.2 < best.2 {
            best = cand;
        }
    }
    // golden-section refinement within one grid step
    let (mut lo, mut hi) = ((best.0 - 0.01).max(1e-4), (best.0 + 0.01).min(0.9999));
    let g = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..30 {
        let (x1, x2) = (hi - g * (hi - lo), lo + g * (hi - lo));
        if fit(x1).2 < fit(x2).2 {
            hi = x2;
        } else {
            lo = x1;
        }
    }
    let refined = fit((lo + hi) / 2.0);
    if refined.2 < best.2 { refined } else { best }
}

/// Least-squares slope of `y` against 0, 1, 2, ….
fn ols_slope(y: &[f64]) -> f64 {
    let n = y.len() as f64;
    let tm = (n - 1.0) / 2.0;
    let ym = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in y.iter().enumerate() {
        let dx = t as f64 - tm;
        sxy += dx * (v - ym);
        sxx += dx * dx;
    }
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_line_is_continued_at_half_its_slope_plus_the_ses_drift() {
        // y = 10 + 2t: SES tracks it with alpha → 1, and the forecast is level + slope/2 × (h − 1
        // + 1/alpha − …): for alpha ≈ 1 that is the last value plus (h − 1 + 1) × 1 = h
        let y: Vec<f64> = (0..30).map(|t| 10.0 + 2.0 * t as f64).collect();
        let f = forecast(&y, 1, 3).unwrap();
        assert!(f.alpha > 0.99, "{}", f.alpha);
        for (h, p) in f.point.iter().enumerate() {
            let want = 68.0 + (h as f64 + 1.0);
            assert!((p - want).abs() < 0.05, "h={h}: {p} vs {want}");
        }
        assert!(!f.seasonal);
    }

    #[test]
    fn a_constant_series_is_forecast_flat_with_no_error() {
        let f = forecast(&[5.0; 20], 4, 4).unwrap();
        assert!(f.point.iter().all(|p| (p - 5.0).abs() < 1e-9), "{:?}", f.point);
        assert!(f.std_error.iter().all(|s| *s < 1e-9));
        assert!(forecast(&[1.0, 2.0], 1, 1).is_none() && forecast(&[1.0, f64::NAN, 2.0, 3.0], 1, 1).is_none());
    }

    #[test]
    fn a_strong_season_is_found_removed_and_put_back() {
        // level 100 with a multiplicative weekly pattern and no noise
        let pattern = [0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3];
        let y: Vec<f64> = (0..70).map(|t| 100.0 * pattern[t % 7]).collect();
        let f = forecast(&y, 7, 14).unwrap();
        assert!(f.seasonal);
        for (h, p) in f.point.iter().enumerate() {
            let want = 100.0 * pattern[(70 + h) % 7];
            assert!((p - want).abs() < 0.5, "h={h}: {p} vs {want}");
        }
        // zeros: additive decomposition instead
        let y0: Vec<f64> = (0..70).map(|t| if t % 7 == 0 { 0.0 } else { 50.0 }).collect();
        let f0 = forecast(&y0, 7, 7).unwrap();
        assert!(f0.seasonal && f0.point[0] < 1.0 && (f0.point[1] - 50.0).abs() < 1.0, "{:?}", f0.point);
    }

    #[test]
    fn ses_finds_the_least_squares_alpha_and_initial_level() {
        // l0 = 10, alpha = 0.3 generated with known errors; the fit's SSE is at most the true one
        let errs = [1.0, -2.0, 0.5, 1.5, -1.0, 0.0, 2.0, -0.5, 1.0, -1.5, 0.5, 1.0];
        let (mut level, mut y) = (10.0, Vec::new());
        for e in errs {
            let v = level + e;
            y.push(v);
            level = 0.3 * v + 0.7 * level;
        }
        let (alpha, _, sse) = ses(&y);
        let true_sse: f64 = errs.iter().map(|e| e * e).sum();
        assert!(sse <= true_sse + 1e-9 && (0.0..1.0).contains(&alpha), "{alpha} {sse} {true_sse}");
    }
}
