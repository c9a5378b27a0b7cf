//! A linear-chain CRF: trained by the `crfs` crate (a port of CRFsuite, L-BFGS with L1/L2
//! regularisation), decoded here.
//!
//! `crfs` can only write its trained model to a file and its tagger returns labels without
//! probabilities. So training writes to a temporary file (the one file a model touches), reads
//! the weights back through `Model::dump`, and keeps them in [`LinearChainCrf`], which decodes
//! with Viterbi and computes per-token marginal probabilities (forward-backward) for entity
//! confidences. Attribute names are hashed to 64 bits (FNV-1a) so inference never allocates
//! a string per feature lookup.

use crate::ModelError;
use crate::text::tfidf::{FNV_OFFSET, FNV_PRIME, IdentityHasher, mix};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

type AttrMap = HashMap<u64, Vec<(u16, f32)>, BuildHasherDefault<IdentityHasher>>;

/// Hash of an attribute name (FNV-1a 64, then mixed as TF-IDF keys are).
pub fn attr_hash(name: &str) -> u64 {
    let mut h = AttrHasher::default();
    h.bytes(name.as_bytes());
    h.finish()
}

/// [`attr_hash`] of a name written in pieces (`write!(h, "w={word}")`), without building it.
pub struct AttrHasher(u64);

impl Default for AttrHasher {
    fn default() -> Self {
        AttrHasher(FNV_OFFSET)
    }
}

impl AttrHasher {
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
    }

    /// [`attr_hash`] of the name the pieces make end to end, without building it.
    pub fn of_pieces(pieces: &[&str]) -> u64 {
        let mut h = AttrHasher::default();
        pieces.iter().for_each(|p| h.write(p));
        h.finish()
    }

    /// Hash `s`'s bytes next, as if appended to what was written before.
    pub fn write(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub fn finish(&self) -> u64 {
        mix(self.0)
    }
}

impl std::fmt::Write for AttrHasher {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// Training settings passed to CRFsuite's L-BFGS.
#[derive(Debug, Clone, PartialEq)]
pub struct CrfTraining {
    pub c1: f64,
    pub c2: f64,
    pub max_iterations: usize,
}

/// Trained weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "CrfRepr", into = "CrfRepr")]
pub struct LinearChainCrf {
    labels: Vec<String>,
    /// `from * L + to`.
    transitions: Vec<f32>,
    /// `exp(transition − max transition)` in f64, for [`Self::marginals`]: computed once when
    /// the weights are set, not per sentence. `from * L + to`.
    trans_exp: Vec<f64>,
    state: AttrMap,
}

/// One row of `L` values per token, in one buffer: the label scores of a sentence (summed by
/// [`LinearChainCrf::add_state`]) and the probabilities of [`LinearChainCrf::marginals`].
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    width: usize,
    values: Vec<f32>,
}

impl Rows {
    /// Rows of `width` values from one buffer (its length a multiple of `width`; [`Self::row`]
    /// panics otherwise).
    pub(crate) fn new(width: usize, values: Vec<f32>) -> Self {
        debug_assert!(width > 0 && values.len().is_multiple_of(width));
        Rows { width, values }
    }

    /// How many rows (tokens).
    pub fn len(&self) -> usize {
        self.values.len() / self.width
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`'s values (one per label).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.width..(i + 1) * self.width]
    }
}

#[derive(Serialize, Deserialize)]
struct CrfRepr {
    labels: Vec<String>,
    transitions: Vec<f32>,
    state: Vec<(u64, Vec<(u16, f32)>)>,
}

impl From<LinearChainCrf> for CrfRepr {
    fn from(c: LinearChainCrf) -> Self {
        let mut state: Vec<_> = c.state.into_iter().collect();
        state.sort_unstable_by_key(|(k, _)| *k);
        CrfRepr { labels: c.labels, transitions: c.transitions, state }
    }
}

/// A stored CRF is checked when it is read, so that decoding never indexes past its tables: a
/// transition per label pair, and state weights only for labels it has.
impl TryFrom<CrfRepr> for LinearChainCrf {
    type Error = String;

    fn try_from(r: CrfRepr) -> Result<Self, String> {
        let l = r.labels.len();
        if l == 0 || l > MAX_LABELS {
            return Err(format!("the CRF has {l} labels (1 to {MAX_LABELS})"));
        }
        if r.transitions.len() != l * l {
            return Err(format!(
                "the CRF has {} transition weights for {l} labels ({} expected)",
                r.transitions.len(),
                l * l
            ));
        }
        if let Some((attr, (j, _))) =
            r.state.iter().find_map(|(a, ws)| ws.iter().find(|(j, _)| usize::from(*j) >= l).map(|w| (a, w)))
        {
            return Err(format!("the CRF's attribute {attr:#x} weighs label {j} of {l}"));
        }
        Ok(LinearChainCrf::new(r.labels, r.transitions, r.state.into_iter().collect()))
    }
}

/// Labels are stored as `u16` in the state weights and the Viterbi back-pointers.
const MAX_LABELS: usize = 1 << 16;

impl LinearChainCrf {
    /// The only constructor: training and reading both check for 1 to [`MAX_LABELS`] labels
    /// first, which decoding relies on.
    fn new(labels: Vec<String>, transitions: Vec<f32>, state: AttrMap) -> Self {
        debug_assert!((1..=MAX_LABELS).contains(&labels.len()) && transitions.len() == labels.len().pow(2));
        let t_max = transitions.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let trans_exp = transitions.iter().map(|&x| f64::from(x - t_max).exp()).collect();
        LinearChainCrf { labels, transitions, trans_exp, state }
    }

    /// Train on sequences of attribute names with their label sequences.
    pub fn train(xs: &[Vec<Vec<String>>], ys: &[Vec<String>], p: &CrfTraining) -> Result<Self, ModelError> {
        use crfs::Attribute;
        let mut trainer = crfs::Trainer::lbfgs();
        let bad = |e: std::io::Error| ModelError::training("crfs", e);
        for (x, y) in xs.iter().zip(ys) {
            if x.is_empty() {
                continue;
            }
            let items: Vec<Vec<Attribute>> =
                x.iter().map(|attrs| attrs.iter().map(|a| Attribute::new(a.as_str(), 1.0)).collect()).collect();
            trainer.append(&items, y).map_err(bad)?;
        }
        trainer.params_mut().set_c1(p.c1).map_err(bad)?;
        trainer.params_mut().set_c2(p.c2).map_err(bad)?;
        trainer.params_mut().set_max_iterations(p.max_iterations).map_err(bad)?;
        let file = tempfile::Builder::new()
            .prefix("nivesh-crf")
            .tempfile()
            .map_err(|e| ModelError::training("crfs (temporary model file)", e))?;
        trainer.train(file.path()).map_err(bad)?;
        let bytes = std::fs::read(file.path()).map_err(bad)?;
        let model = crfs::Model::new(&bytes).map_err(bad)?;
        let mut dump = Vec::new();
        model.dump(&mut dump).map_err(bad)?;
        Self::from_dump(&String::from_utf8_lossy(&dump))
    }

    /// Read the weights from CRFsuite's text dump.
    fn from_dump(dump: &str) -> Result<Self, ModelError> {
        let mut labels = Vec::new();
        let mut section = "";
        let mut trans_raw = Vec::new();
        let mut state_raw = Vec::new();
        for line in dump.lines() {
            let t = line.trim();
            if t.ends_with("= {") {
                section = t.trim_end_matches(" = {");
                continue;
            }
            if t == "}" || t.is_empty() {
                continue;
            }
            match section {
                "LABELS" => {
                    let (_, name) = t.split_once(": ").ok_or_else(|| {
                        ModelError::training_message("crfs", format!("bad label line {t:?} in the model dump"))
                    })?;
                    labels.push(name.to_string());
                }
                "TRANSITIONS" | "STATE_FEATURES" => {
                    let body = t.split_once(") ").map(|x| x.1).unwrap_or(t);
                    let parsed = body
                        .rsplit_once(": ")
                        .and_then(|(lhs, w)| Some((lhs.rsplit_once(" --> ")?, w.parse::<f32>().ok()?)));
                    let ((src, dst), w) = parsed.ok_or_else(|| {
                        ModelError::training_message("crfs", format!("bad feature line {t:?} in the model dump"))
                    })?;
                    if section == "TRANSITIONS" {
                        trans_raw.push((src.to_string(), dst.to_string(), w));
                    } else {
                        state_raw.push((src.to_string(), dst.to_string(), w));
                    }
                }
                _ => {}
            }
        }
        if labels.is_empty() || labels.len() > MAX_LABELS {
            return Err(ModelError::training_message(
                "crfs",
                format!("the CRF has {} labels (1 to {MAX_LABELS})", labels.len()),
            ));
        }
        let l = labels.len();
        let pos = |name: &str| labels.iter().position(|x| x == name);
        let mut transitions = vec![0.0f32; l * l];
        for (a, b, w) in trans_raw {
            if let (Some(i), Some(j)) = (pos(&a), pos(&b)) {
                transitions[i * l + j] = w;
            }
        }
        let mut state: AttrMap = HashMap::default();
        for (attr, label, w) in state_raw {
            if let Some(j) = pos(&label) {
                state.entry(attr_hash(&attr)).or_default().push((j as u16, w));
            }
        }
        Ok(LinearChainCrf::new(labels, transitions, state))
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn n_state_features(&self) -> usize {
        self.state.values().map(Vec::len).sum()
    }

    /// Add the weights of attribute `attr` (its hash) to one token's label scores (`row`, one
    /// value per label).
    pub fn add_state(&self, attr: u64, row: &mut [f32]) {
        if let Some(ws) = self.state.get(&attr) {
            for &(j, w) in ws {
                if let Some(x) = row.get_mut(usize::from(j)) {
                    *x += w;
                }
            }
        }
    }

    /// Per-token label scores from hashed attributes (prediction sums them as it hashes; tests
    /// check it against this).
    #[cfg(test)]
    pub(crate) fn state_scores(&self, xs: &[Vec<u64>]) -> Rows {
        let l = self.labels.len();
        let mut values = vec![0.0f32; xs.len() * l];
        for (attrs, s) in xs.iter().zip(values.chunks_exact_mut(l)) {
            attrs.iter().for_each(|&a| self.add_state(a, s));
        }
        Rows::new(l, values)
    }

    /// The best label sequence (indices).
    pub fn viterbi(&self, s: &Rows) -> Vec<usize> {
        let l = self.labels.len();
        let t = s.len();
        if t == 0 {
            return Vec::new();
        }
        let mut score = s.row(0).to_vec();
        let mut next = vec![0.0f32; l];
        // back[i * l + to]: the best label before `to` at position i (at most MAX_LABELS labels,
        // checked when the weights are read)
        let mut back = vec![0u16; t * l];
        for i in 1..t {
            // row by row of the transitions, every `to` at once (no chain of comparisons per
            // label); a strictly greater score replaces, so ties keep the lowest `from`
            next.fill(f32::NEG_INFINITY);
            let bp = &mut back[i * l..(i + 1) * l];
            for (from, (&prev, row)) in score.iter().zip(self.transitions.chunks_exact(l)).enumerate() {
                for ((best, b), &tr) in next.iter_mut().zip(bp.iter_mut()).zip(row) {
                    let v = prev + tr;
                    if v > *best {
                        *best = v;
                        *b = from as u16;
                    }
                }
            }
            next.iter_mut().zip(s.row(i)).for_each(|(x, &e)| *x += e);
            std::mem::swap(&mut score, &mut next);
        }
        let mut best = (0..l).max_by(|&a, &b| score[a].total_cmp(&score[b])).unwrap_or(0);
        let mut path = vec![0; t];
        for i in (0..t).rev() {
            path[i] = best;
            best = usize::from(back[i * l + best]);
        }
        path
    }

    /// Marginal probability of every label at every position: forward-backward with every
    /// step normalised (Rabiner's scaling), in f64, so that only `t·l` exponentials are taken
    /// per sentence (the transitions' `l²` are taken once, when the weights are set) rather than
    /// two per label pair and position in log space. Each position's scores and the transitions
    /// are shifted by their maximum first; a constant factor cancels in the normalisation, and
    /// f64's range leaves every product far from underflow for any weights CRFsuite learns (a
    /// spread of ~700 in log space would be needed).
    pub fn marginals(&self, s: &Rows) -> Rows {
        let l = self.labels.len();
        let t = s.len();
        if t == 0 {
            return Rows::new(l, Vec::new());
        }
        let trans = &self.trans_exp;
        let mut emit = Vec::with_capacity(t * l);
        for i in 0..t {
            let row = s.row(i);
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            emit.extend(row.iter().map(|&x| f64::from(x - m).exp()));
        }
        let normalise = |v: &mut [f64]| {
            let z: f64 = v.iter().sum();
            if z > 0.0 {
                // a division, not a multiplication by 1/z: a subnormal z has no finite reciprocal
                v.iter_mut().for_each(|x| *x /= z);
            }
        };
        // `out = xsᵀ · m` (`m` row-major, `l` wide), summed row by row: independent lanes, where a
        // dot product per label would wait on one chain of additions
        let vec_mat = |out: &mut [f64], xs: &[f64], m: &[f64]| {
            out.fill(0.0);
            for (&x, row) in xs.iter().zip(m.chunks_exact(l)) {
                out.iter_mut().zip(row).for_each(|(o, &r)| *o += x * r);
            }
        };
        let mut alpha = vec![0.0f64; t * l];
        alpha[..l].copy_from_slice(&emit[..l]);
        normalise(&mut alpha[..l]);
        for i in 1..t {
            let (done, rest) = alpha.split_at_mut(i * l);
            let a = &mut rest[..l];
            // Σ_from alpha[from] · trans[from → to]
            vec_mat(a, &done[(i - 1) * l..], trans);
            a.iter_mut().zip(&emit[i * l..(i + 1) * l]).for_each(|(x, &e)| *x *= e);
            normalise(a);
        }
        let mut beta = vec![1.0f64; t * l];
        // emit × beta of the position after, once per position rather than per label pair
        let mut weighted = vec![0.0f64; l];
        for i in (0..t - 1).rev() {
            let (head, tail) = beta.split_at_mut((i + 1) * l);
            let e = &emit[(i + 1) * l..(i + 2) * l];
            for ((w, &e), &b) in weighted.iter_mut().zip(e).zip(&tail[..l]) {
                *w = e * b;
            }
            // Σ_to trans[from → to] · weighted[to]: a row of the table each
            for (b, row) in head[i * l..].iter_mut().zip(trans.chunks_exact(l)) {
                *b = row.iter().zip(&weighted).map(|(&tr, &w)| tr * w).sum();
            }
            normalise(&mut head[i * l..]);
        }
        // alpha × beta, normalised per position, written over alpha
        for (a, b) in alpha.chunks_exact_mut(l).zip(beta.chunks_exact(l)) {
            a.iter_mut().zip(b).for_each(|(x, &y)| *x *= y);
            normalise(a);
        }
        Rows::new(l, alpha.into_iter().map(|p| p as f32).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> LinearChainCrf {
        // two labels; the transition O->X is discouraged
        let labels = vec!["O".to_string(), "X".to_string()];
        let mut state: AttrMap = HashMap::default();
        state.insert(attr_hash("w=a"), vec![(0, 1.0)]);
        state.insert(attr_hash("w=b"), vec![(1, 2.0)]);
        LinearChainCrf::new(labels, vec![0.0, -0.5, 0.0, 0.3], state)
    }

    #[test]
    fn viterbi_and_marginals_agree_with_brute_force() {
        let crf = toy();
        let xs = vec![vec![attr_hash("w=a")], vec![attr_hash("w=b")], vec![attr_hash("w=zzz")]];
        let s = crf.state_scores(&xs);
        // brute force over all 8 sequences
        let score = |y: &[usize]| -> f32 {
            (0..3).map(|i| s.row(i)[y[i]]).sum::<f32>()
                + (1..3).map(|i| crf.transitions[y[i - 1] * 2 + y[i]]).sum::<f32>()
        };
        let all: Vec<Vec<usize>> = (0..8).map(|m| (0..3).map(|i| (m >> i) & 1).collect()).collect();
        let best = all.iter().max_by(|a, b| score(a).total_cmp(&score(b))).unwrap();
        assert_eq!(&crf.viterbi(&s), best);
        let z: f32 = all.iter().map(|y| score(y).exp()).sum();
        let m = crf.marginals(&s);
        for i in 0..3 {
            let p1: f32 = all.iter().filter(|y| y[i] == 1).map(|y| score(y).exp()).sum::<f32>() / z;
            assert!((m.row(i)[1] - p1).abs() < 1e-5, "{i}: {} vs {p1}", m.row(i)[1]);
            assert!((m.row(i)[0] + m.row(i)[1] - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn marginals_stay_finite_and_exact_under_extreme_weights() {
        let toy = toy();
        let crf = LinearChainCrf::new(toy.labels, vec![40.0, -60.0, -60.0, 40.0], toy.state);
        // scores 200 apart: the log-space answer is a hard 0/1 at every position
        let s = [[100.0f32, -100.0], [-100.0, 100.0], [0.0, 0.0]];
        let m = crf.marginals(&Rows::new(2, s.concat()));
        let brute = |i: usize| -> f64 {
            let score = |y: &[usize]| -> f64 {
                (0..3).map(|k| f64::from(s[k][y[k]])).sum::<f64>()
                    + (1..3).map(|k| f64::from(crf.transitions[y[k - 1] * 2 + y[k]])).sum::<f64>()
            };
            let all: Vec<Vec<usize>> = (0..8).map(|b| (0..3).map(|k| (b >> k) & 1).collect()).collect();
            let top = all.iter().map(|y| score(y)).fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = all.iter().map(|y| (score(y) - top).exp()).sum();
            all.iter().filter(|y| y[i] == 1).map(|y| (score(y) - top).exp()).sum::<f64>() / z
        };
        for i in 0..m.len() {
            let row = m.row(i);
            assert!(row.iter().all(|p| p.is_finite()), "{row:?}");
            assert!((f64::from(row[1]) - brute(i)).abs() < 1e-5, "{i}: {row:?} vs {}", brute(i));
        }
    }

    /// Marginals by enumerating every path in log space (two labels).
    fn brute_marginals(transitions: &[f32], s: &[[f32; 2]]) -> Vec<[f64; 2]> {
        let t = s.len();
        let score = |y: &[usize]| -> f64 {
            (0..t).map(|k| f64::from(s[k][y[k]])).sum::<f64>()
                + (1..t).map(|k| f64::from(transitions[y[k - 1] * 2 + y[k]])).sum::<f64>()
        };
        let all: Vec<Vec<usize>> = (0..1usize << t).map(|b| (0..t).map(|k| (b >> k) & 1).collect()).collect();
        let top = all.iter().map(|y| score(y)).fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = all.iter().map(|y| (score(y) - top).exp()).sum();
        (0..t)
            .map(|i| {
                let p1 = all.iter().filter(|y| y[i] == 1).map(|y| (score(y) - top).exp()).sum::<f64>() / z;
                [1.0 - p1, p1]
            })
            .collect()
    }

    #[test]
    fn marginals_hold_where_transitions_make_up_a_wide_emission_gap() {
        // a review's cases: alpha and beta on different labels (a normaliser near the bottom of
        // f64's range), and an emission 120 below its position's best that the transitions
        // make the only way out (an f32 `exp` of it would be 0, and the marginal flipped)
        for (transitions, s) in [
            (vec![0.0f32, -720.0, -720.0, 0.0], vec![[0.0f32, -200.0], [0.0, 0.0], [-200.0, 0.0]]),
            (vec![-400.0, -400.0, 0.0, 0.0], vec![[0.0, -120.0], [0.0, 0.0]]),
        ] {
            let crf = LinearChainCrf::new(toy().labels, transitions.clone(), toy().state);
            let m = crf.marginals(&Rows::new(2, s.concat()));
            for (i, want) in brute_marginals(&transitions, &s).iter().enumerate() {
                let row = m.row(i);
                assert!(row.iter().all(|p| p.is_finite()), "{transitions:?} {i}: {row:?}");
                assert!((f64::from(row[1]) - want[1]).abs() < 1e-5, "{transitions:?} {i}: {row:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn a_stored_crf_with_inconsistent_tables_is_refused_when_read() {
        let ok = serde_json::to_value(toy()).unwrap();
        assert!(serde_json::from_value::<LinearChainCrf>(ok.clone()).is_ok());
        let mut short = ok.clone();
        short["transitions"] = serde_json::json!([0.0, 1.0, 2.0]);
        let e = serde_json::from_value::<LinearChainCrf>(short).unwrap_err().to_string();
        assert!(e.contains("3 transition weights for 2 labels (4 expected)"), "{e}");
        let mut far = ok.clone();
        far["state"] = serde_json::json!([[7, [[2, 1.0]]]]);
        let e = serde_json::from_value::<LinearChainCrf>(far).unwrap_err().to_string();
        assert!(e.contains("weighs label 2 of 2"), "{e}");
        let mut none = ok;
        none["labels"] = serde_json::json!([]);
        none["transitions"] = serde_json::json!([]);
        let e = serde_json::from_value::<LinearChainCrf>(none).unwrap_err().to_string();
        assert!(e.contains("0 labels"), "{e}");
    }

    #[test]
    fn trains_through_crfs_and_reads_weights_back() {
        let xs = vec![
            vec![vec!["w=paid".to_string()], vec!["w=500".to_string(), "num".to_string()]],
            vec![vec!["w=got".to_string()], vec!["w=900".to_string(), "num".to_string()]],
        ];
        let ys = vec![vec!["O".to_string(), "B-MONEY".to_string()], vec!["O".to_string(), "B-MONEY".to_string()]];
        let crf = LinearChainCrf::train(&xs, &ys, &CrfTraining { c1: 0.0, c2: 0.1, max_iterations: 50 }).unwrap();
        let x = vec![vec![attr_hash("w=sent")], vec![attr_hash("w=100"), attr_hash("num")]];
        let path = crf.viterbi(&crf.state_scores(&x));
        let tags: Vec<&str> = path.iter().map(|&i| crf.labels()[i].as_str()).collect();
        assert_eq!(tags, ["O", "B-MONEY"]);
    }
}
