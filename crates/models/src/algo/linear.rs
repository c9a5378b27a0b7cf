//! A one-vs-rest linear SVM on sparse rows, trained by dual coordinate descent (Hsieh et al.,
//! ICML 2008 — the solver behind liblinear's L2-regularised squared-hinge SVM), with a bias
//! column and softmax-temperature calibration of its scores into probabilities.
//!
//! Written here because no maintained Rust crate trains linear models on sparse input: linfa
//! and smartcore work on dense ndarray matrices, which do not fit 15k × 100k TF-IDF rows.

use crate::text::SparseVec;
use crate::{ModelError, Params};
use nivesh_core::rng::Rng;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmParams {
    /// Inverse regularisation strength (> 0).
    pub c: f64,
    /// Stopping tolerance on the projected gradient (> 0).
    pub tol: f64,
    /// Upper bound on passes over the data per class.
    pub max_passes: usize,
    /// Value of the constant bias feature (0 turns the bias off).
    pub bias: f64,
    pub seed: u64,
}

impl Default for SvmParams {
    fn default() -> Self {
        SvmParams { c: 1.0, tol: 1e-3, max_passes: 1000, bias: 1.0, seed: 0 }
    }
}

impl Params for SvmParams {
    fn validate(&self) -> Result<(), ModelError> {
        if !(self.c.is_finite() && self.c > 0.0) {
            return Err(ModelError::param("c", format!("{} must be a positive number", self.c)));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(ModelError::param("tol", format!("{} must be a positive number", self.tol)));
        }
        if self.max_passes == 0 {
            return Err(ModelError::param("max_passes", "must be at least 1"));
        }
        if !self.bias.is_finite() || self.bias < 0.0 {
            return Err(ModelError::param("bias", format!("{} must be >= 0", self.bias)));
        }
        Ok(())
    }
}

/// Trained one-vs-rest weights, stored feature-major: the weights of column `j` for all
/// classes are contiguous, so scoring a sparse row touches `nnz` short runs of memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearOvr {
    pub n_classes: usize,
    pub dim: usize,
    /// `dim × n_classes` weights followed by `n_classes` biases.
    pub weights: Vec<f32>,
    pub bias_value: f32,
    /// Softmax temperature fitted on held-out scores.
    pub temperature: f32,
}

impl LinearOvr {
    /// Raw scores, one per class.
    pub fn scores(&self, x: &SparseVec) -> Vec<f32> {
        let k = self.n_classes;
        let bias_at = self.dim * k;
        let mut s: Vec<f32> = self.weights[bias_at..bias_at + k].iter().map(|b| b * self.bias_value).collect();
        for (&j, &v) in x.idx.iter().zip(&x.val) {
            let j = j as usize;
            if j >= self.dim {
                continue;
            }
            let row = &self.weights[j * k..(j + 1) * k];
            for (acc, w) in s.iter_mut().zip(row) {
                *acc += w * v;
            }
        }
        s
    }

    /// Calibrated class probabilities (sum to 1).
    pub fn probabilities(&self, x: &SparseVec) -> Vec<f32> {
        softmax(&self.scores(x), self.temperature)
    }
}

/// `softmax(s / t)`.
pub fn softmax(s: &[f32], t: f32) -> Vec<f32> {
    let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut e: Vec<f32> = s.iter().map(|v| ((v - max) / t).exp()).collect();
    let z: f32 = e.iter().sum();
    for v in &mut e {
        *v /= z;
    }
    e
}

/// Train one binary squared-hinge SVM (labels ±1) by dual coordinate descent; returns
/// `dim + 1` weights (the last is the bias weight).
fn train_binary(rows: &[SparseVec], y: &[f64], dim: usize, p: &SvmParams, rng: &mut Rng) -> Vec<f64> {
    let n = rows.len();
    let d_ii = 1.0 / (2.0 * p.c);
    let qd: Vec<f64> = rows.iter().map(|r| r.norm_sq() as f64 + p.bias * p.bias + d_ii).collect();
    let mut w = vec![0.0f64; dim + 1];
    let mut alpha = vec![0.0f64; n];
    let mut active: Vec<usize> = (0..n).collect();
    let mut active_len = n;
    // Squared hinge has no upper bound on alpha, so only the lower-bound shrinking test applies.
    let mut pg_max_old = f64::INFINITY;
    for _ in 0..p.max_passes {
        rng.shuffle(&mut active[..active_len]);
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut s = 0;
        while s < active_len {
            let i = active[s];
            let r = &rows[i];
            let mut wx = w[dim] * p.bias;
            for (&j, &v) in r.idx.iter().zip(&r.val) {
                wx += w[j as usize] * v as f64;
            }
            let g = y[i] * wx - 1.0 + alpha[i] * d_ii;
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active_len -= 1;
                    active.swap(s, active_len);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qd[i]).max(0.0);
                let delta = (alpha[i] - old) * y[i];
                for (&j, &v) in r.idx.iter().zip(&r.val) {
                    w[j as usize] += delta * v as f64;
                }
                w[dim] += delta * p.bias;
            }
            s += 1;
        }
        if pg_max - pg_min <= p.tol {
            if active_len == n {
                break;
            }
            active_len = n;
            pg_max_old = f64::INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
    }
    w
}

/// Train one-vs-rest on `rows` with class indices `labels` (< `n_classes`), classes split over
/// the available cores. The temperature is left at 1; see [`fit_temperature`].
pub fn train_ovr(
    rows: &[SparseVec],
    labels: &[usize],
    n_classes: usize,
    dim: usize,
    p: &SvmParams,
) -> Result<LinearOvr, ModelError> {
    p.validate()?;
    if rows.is_empty() || rows.len() != labels.len() {
        return Err(ModelError::Data(format!("{} rows and {} labels", rows.len(), labels.len())));
    }
    if n_classes < 2 {
        return Err(ModelError::Data(format!("need at least 2 classes, got {n_classes}")));
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(n_classes);
    let mut per_class: Vec<Vec<f64>> = vec![Vec::new(); n_classes];
    std::thread::scope(|scope| {
        let chunks: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..n_classes)
                        .step_by(threads)
                        .map(|k| {
                            let y: Vec<f64> = labels.iter().map(|&l| if l == k { 1.0 } else { -1.0 }).collect();
                            let mut rng = Rng::new(p.seed ^ (k as u64).wrapping_mul(0x9E37_79B9));
                            (k, train_binary(rows, &y, dim, p, &mut rng))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for c in chunks {
            if let Ok(done) = c.join() {
                for (k, w) in done {
                    per_class[k] = w;
                }
            }
        }
    });
    if per_class.iter().any(Vec::is_empty) {
        return Err(ModelError::training_message("linear SVM", "a training thread failed"));
    }
    let mut weights = vec![0.0f32; (dim + 1) * n_classes];
    for (k, w) in per_class.iter().enumerate() {
        for j in 0..=dim {
            weights[j * n_classes + k] = w[j] as f32;
        }
    }
    Ok(LinearOvr { n_classes, dim, weights, bias_value: p.bias as f32, temperature: 1.0 })
}

/// The temperature minimising the negative log-likelihood of `labels` under softmax(scores/T),
/// by golden-section search on ln T in [-5, 3].
pub fn fit_temperature(scores: &[Vec<f32>], labels: &[usize]) -> f32 {
    let nll = |ln_t: f64| -> f64 {
        let t = ln_t.exp() as f32;
        scores.iter().zip(labels).map(|(s, &l)| -(softmax(s, t)[l].max(1e-12) as f64).ln()).sum::<f64>()
    };
    let (mut a, mut b) = (-5.0f64, 3.0f64);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (nll(c), nll(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = nll(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = nll(d);
        }
    }
    ((a + b) / 2.0).exp() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(u32, f32)]) -> SparseVec {
        SparseVec { idx: pairs.iter().map(|p| p.0).collect(), val: pairs.iter().map(|p| p.1).collect() }
    }

    #[test]
    fn separates_three_linearly_separable_classes() {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        let mut rng = Rng::new(1);
        for _ in 0..60 {
            let k = rng.range(0, 3);
            let noise = rng.uniform(0.0, 0.3) as f32;
            rows.push(row(&[(k as u32, 1.0), (3, noise)]));
            labels.push(k);
        }
        let m = train_ovr(&rows, &labels, 3, 4, &SvmParams::default()).unwrap();
        for (r, &l) in rows.iter().zip(&labels) {
            let s = m.scores(r);
            let best = (0..3).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
            assert_eq!(best, l);
            let p = m.probabilities(r);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn temperature_fit_prefers_sharper_softmax_for_clean_scores() {
        let scores = vec![vec![2.0, 0.0], vec![0.0, 2.0], vec![2.0, 0.0]];
        let labels = vec![0, 1, 0];
        let t = fit_temperature(&scores, &labels);
        assert!(t < 0.5, "{t}");
        // and a flatter one when the scores are often wrong
        let labels = vec![1, 0, 0];
        let t = fit_temperature(&scores, &labels);
        assert!(t > 1.0, "{t}");
    }

    #[test]
    fn bad_params_are_rejected() {
        let p = SvmParams { c: -1.0, ..Default::default() };
        assert!(p.validate().unwrap_err().to_string().contains("invalid parameter c"));
        let rows = vec![row(&[(0, 1.0)])];
        assert!(train_ovr(&rows, &[0], 1, 1, &SvmParams::default()).is_err());
    }
}
