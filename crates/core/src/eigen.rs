//! Eigen-decomposition of a small dense symmetric matrix (cyclic Jacobi), for principal
//! components. The one use is reducing a static embedding table (its 384 × 384 Gram matrix), where
//! a linear-algebra crate (nalgebra, faer) would cost more build time than these 60 lines.

/// Eigenvalues (descending) and unit eigenvectors (row `k` of the returned `n × n` row-major
/// matrix belongs to value `k`) of the symmetric `n × n` matrix `a` (row-major; only
/// symmetry is assumed, not checked beyond the shape).
pub fn symmetric(a: &[f64], n: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    if a.len() != n * n || a.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut m = a.to_vec();
    // v: columns are eigenvectors while rotating
    let mut v = vec![0.0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let scale: f64 = m.iter().map(|x| x * x).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j].powi(2))
            .sum::<f64>()
            .sqrt();
        if off <= 1e-13 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let (app, aqq) = (m[p * n + p], m[q * n + q]);
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // rows/columns p and q of m
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[j * n + j].total_cmp(&m[i * n + i]));
    let values = order.iter().map(|&i| m[i * n + i]).collect();
    let mut vectors = Vec::with_capacity(n * n);
    for &i in &order {
        vectors.extend((0..n).map(|k| v[k * n + i]));
    }
    Some((values, vectors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_by_two_has_its_known_eigenpairs() {
        // [[2, 1], [1, 2]]: 3 along (1, 1)/√2, 1 along (1, -1)/√2
        let (vals, vecs) = symmetric(&[2.0, 1.0, 1.0, 2.0], 2).unwrap();
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12, "{vals:?}");
        let r = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vecs[0].abs() - r).abs() < 1e-12 && (vecs[0] - vecs[1]).abs() < 1e-12);
        assert!((vecs[2] + vecs[3]).abs() < 1e-12);
    }

    #[test]
    fn eigenvectors_reconstruct_a_random_symmetric_matrix() {
        let n = 12;
        let mut rng = crate::rng::Rng::new(3);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in i..n {
                let x = rng.f64() * 2.0 - 1.0;
                a[i * n + j] = x;
                a[j * n + i] = x;
            }
        }
        let (vals, vecs) = symmetric(&a, n).unwrap();
        assert!(vals.windows(2).all(|w| w[0] >= w[1]));
        // A = Σ λ v vᵀ, and the vectors are orthonormal
        for i in 0..n {
            for j in 0..n {
                let back: f64 = (0..n).map(|k| vals[k] * vecs[k * n + i] * vecs[k * n + j]).sum();
                assert!((back - a[i * n + j]).abs() < 1e-9);
                let dot: f64 = (0..n).map(|k| vecs[i * n + k] * vecs[j * n + k]).sum();
                assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-9);
            }
        }
        assert!(symmetric(&[1.0, f64::NAN, 0.0, 1.0], 2).is_none() && symmetric(&[1.0], 2).is_none());
    }
}
