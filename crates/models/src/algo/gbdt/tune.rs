//! Tuning a booster by stratified k-fold cross-validation inside its training rows.
//!
//! Every grid point is trained on each fold's other rows for the spec's most rounds; the trees
//! are then replayed on the held-out fold round by round ([`ShapForest::staged`]), so that the
//! number of rounds is chosen like early stopping (the round with the best mean score over the
//! folds) without a refit per round count. The folds are seeded; the same data, spec and seed
//! choose the same parameters.

use super::params::top_row;
use super::{GbdtParams, GridPoint, TuneMetric, TuneRow, TuneSpec, Tuning, sigmoid, train_booster};
use crate::ModelError;
use crate::algo::treeshap::ShapForest;
use crate::tabular::Tabular;
use nivesh_core::rng::Rng;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fold's score after each round, or why it could not be trained.
type Curve = Result<Vec<f64>, ModelError>;

/// Largest held-out rows × scored rounds per fold (each scoring sorts the fold for the AUC);
/// above it, rounds are scored at a stride.
const MAX_SCORED_CELLS: usize = 20_000_000;

/// Fold of each row: positives and negatives each shuffled with `seed` and dealt in turn, so
/// every fold holds its share of both classes.
pub fn stratified_folds(y: &[f64], folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = Rng::new(seed);
    let mut out = vec![0; y.len()];
    let mut next = 0;
    for positive in [true, false] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| (y[i] > 0.5) == positive).collect();
        rng.shuffle(&mut idx);
        for i in idx {
            out[i] = next % folds;
            next += 1;
        }
    }
    out
}

/// Cross-validate every point of `spec`'s grid on `data` (already encoded) and choose one.
pub(super) fn tune(data: &Tabular, base: &GbdtParams, spec: &TuneSpec) -> Result<Tuning, ModelError> {
    let y = data.y.as_deref().ok_or_else(|| ModelError::Data("tuning needs a label".into()))?;
    let fold_of = stratified_folds(y, spec.folds, base.seed);
    let mut largest = 0;
    for f in 0..spec.folds {
        let rows = (0..y.len()).filter(|&i| fold_of[i] == f).count();
        let positives = (0..y.len()).filter(|&i| fold_of[i] == f && y[i] > 0.5).count();
        for (class, n) in [("positive", positives), ("negative", rows - positives)] {
            if n == 0 {
                return Err(ModelError::Data(format!(
                    "tuning with {} folds needs a {class} row in every fold; there are fewer {class}s",
                    spec.folds
                )));
            }
        }
        largest = largest.max(rows);
    }
    // one stride for every fold, so that all score the same rounds
    let stride = (largest * spec.max_rounds).div_ceil(MAX_SCORED_CELLS).max(1);
    let grid = spec.grid();
    let jobs = grid.len() * spec.folds;
    let curves: Mutex<Vec<Option<Curve>>> = Mutex::new((0..jobs).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs).max(1);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let job = next.fetch_add(1, Ordering::Relaxed);
                    if job >= jobs {
                        break;
                    }
                    let (point, fold) = (&grid[job / spec.folds], job % spec.folds);
                    let p = point.apply(base, spec.max_rounds);
                    let run = || fold_curve(data, &fold_of, fold, &p, spec.metric, stride);
                    let curve = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
                        .unwrap_or_else(|_| Err(ModelError::training_message("tuning", "the booster panicked")));
                    if let Ok(mut c) = curves.lock() {
                        c[job] = Some(curve);
                    }
                }
            });
        }
    });
    let curves = curves.into_inner().map_err(|_| ModelError::training_message("tuning", "a worker failed"))?;
    let mut rows = Vec::with_capacity(grid.len());
    for (g, point) in grid.iter().enumerate() {
        let mut folds = Vec::with_capacity(spec.folds);
        for c in &curves[g * spec.folds..(g + 1) * spec.folds] {
            match c {
                Some(Ok(curve)) => folds.push(curve.as_slice()),
                Some(Err(e)) => return Err(e.clone()),
                None => return Err(ModelError::training_message("tuning", "a fold was not scored")),
            }
        }
        rows.push(summarise(*point, &folds, spec.metric));
    }
    let chosen = choose(&rows, spec.metric, spec.folds);
    Ok(Tuning { metric: spec.metric, folds: spec.folds, rows, chosen })
}

/// The one-standard-error rule (Breiman et al., 1984): among the grid points whose score is
/// within one standard error (the best point's fold spread over √folds) of the best, the
/// shallowest trees, and among those the best score (the first in grid order on ties). Every
/// point is scored on the same folds, so on small data many are within noise of the best; the
/// rule then keeps the simpler model rather than the luckiest.
pub(super) fn choose(rows: &[TuneRow], metric: TuneMetric, folds: usize) -> usize {
    let Some(best) = top_row(rows, metric) else { return 0 };
    let se = rows[best].standard_error(folds);
    let within = |r: &TuneRow| r.score.is_finite() && !metric.better_by(rows[best].score, r.score, se);
    let depth =
        rows.iter().filter(|r| within(r)).map(|r| r.point.max_depth).min().unwrap_or(rows[best].point.max_depth);
    let mut chosen = best;
    for (i, r) in rows.iter().enumerate() {
        if within(r)
            && r.point.max_depth == depth
            && (rows[chosen].point.max_depth != depth || metric.better(r.score, rows[chosen].score))
        {
            chosen = i;
        }
    }
    chosen
}

/// The rounds at which the folds' mean score is best (the fewest on ties), that score and the
/// folds' spread there. A curve holds NaN at rounds that were not scored.
fn summarise(point: GridPoint, folds: &[&[f64]], metric: TuneMetric) -> TuneRow {
    let rounds = folds.iter().map(|c| c.len()).min().unwrap_or(0);
    let mut best: Option<(usize, f64)> = None;
    for r in 0..rounds {
        let mean = folds.iter().map(|c| c[r]).sum::<f64>() / folds.len() as f64;
        if mean.is_finite() && best.is_none_or(|(_, b)| metric.better(mean, b)) {
            best = Some((r, mean));
        }
    }
    let Some((r, score)) = best else {
        return TuneRow { point, rounds: 1, score: f64::NAN, fold_sd: f64::NAN };
    };
    let var = folds.iter().map(|c| (c[r] - score).powi(2)).sum::<f64>() / (folds.len().max(2) - 1) as f64;
    TuneRow { point, rounds: r + 1, score, fold_sd: var.sqrt() }
}

/// Train on every fold but `fold` and score the held-out fold after every `stride`-th round
/// (and the last); the other rounds stay NaN. Memory: one running total per held-out row.
fn fold_curve(
    data: &Tabular,
    fold_of: &[usize],
    fold: usize,
    p: &GbdtParams,
    metric: TuneMetric,
    stride: usize,
) -> Result<Vec<f64>, ModelError> {
    let train: Vec<usize> = (0..data.rows).filter(|&i| fold_of[i] != fold).collect();
    let held: Vec<usize> = (0..data.rows).filter(|&i| fold_of[i] == fold).collect();
    let (booster, pw) = train_booster(&data.subset(&train), p)?;
    let forest = ShapForest::for_prediction(&booster);
    let rounds = forest.len();
    let y: Vec<f64> = held.iter().map(|&i| data.y.as_ref().map_or(0.0, |y| y[i])).collect();
    let labels: Vec<bool> = y.iter().map(|&v| v > 0.5).collect();
    let w: Option<Vec<f64>> = data.weight.as_ref().map(|w| held.iter().map(|&i| w[i]).collect());
    let shift = pw.ln();
    let mut totals = vec![booster.base_score; held.len()];
    let mut curve = vec![f64::NAN; rounds];
    for (t, slot) in curve.iter_mut().enumerate() {
        for (total, &r) in totals.iter_mut().zip(&held) {
            *total += forest.tree_value(t, data.row(r));
        }
        if (t + 1) % stride == 0 || t + 1 == rounds {
            *slot = match metric {
                TuneMetric::Auc => crate::metrics::weighted_auc(&totals, &labels, w.as_deref()),
                TuneMetric::LogLoss => log_loss(&totals, &y, w.as_deref(), shift),
            };
        }
    }
    Ok(curve)
}

/// Weighted mean log-loss of `sigmoid(f - shift)`.
fn log_loss(f: &[f64], y: &[f64], w: Option<&[f64]>, shift: f64) -> f64 {
    let (mut total, mut weight) = (0.0, 0.0);
    for (i, (&fi, &yi)) in f.iter().zip(y).enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        let p = sigmoid(fi - shift).clamp(1e-12, 1.0 - 1e-12);
        total -= wi * if yi > 0.5 { p.ln() } else { (1.0 - p).ln() };
        weight += wi;
    }
    if weight > 0.0 { total / weight } else { f64::NAN }
}
