//! Isolation forest (Liu, Ting & Zhou, 2008) on rows of any width.
//!
//! Written here because `extended-isolation-forest` fixes the row width at compile time
//! (`[f64; N]`), while the anomaly detector's width depends on the input (project features or
//! a benchmark table's columns). Missing values are imputed with the training median.

use crate::{ModelError, Params};
use nivesh_core::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestParams {
    pub n_trees: usize,
    /// Rows sampled per tree (ψ).
    pub sample_size: usize,
    pub seed: u64,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams { n_trees: 200, sample_size: 256, seed: 42 }
    }
}

impl Params for ForestParams {
    fn validate(&self) -> Result<(), ModelError> {
        if self.n_trees == 0 {
            return Err(ModelError::param("n_trees", "must be at least 1"));
        }
        if self.sample_size < 2 {
            return Err(ModelError::param("sample_size", "must be at least 2"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Node {
    Split { feature: u32, value: f64, left: u32, right: u32 },
    Leaf { size: u32 },
}

/// A tree as scored: nodes in the order [`build`] pushed them, so that a split's left child is
/// the node after it. 16 bytes a node (the stored [`Node`] takes 24), and a leaf holds what it
/// adds to the path length, `depth + c(size)`, computed once when the tree is made or read
/// rather than per tree scored; the same additions in the same order, so the same bits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "StoredTree", into = "StoredTree")]
struct Tree {
    nodes: Vec<Flat>,
}

#[derive(Debug, Clone, Copy)]
struct Flat {
    /// A split's threshold; a leaf's contribution to the path length.
    value: f64,
    /// The split's column; [`LEAF`] for a leaf.
    feature: u32,
    /// A split's right child; a leaf's size (kept so that the tree is written as it was read).
    right: u32,
}

const LEAF: u32 = u32::MAX;

/// A tree as written in model files (unchanged since the first forest).
#[derive(Serialize, Deserialize)]
struct StoredTree {
    nodes: Vec<Node>,
}

impl TryFrom<StoredTree> for Tree {
    type Error = String;

    /// Checked: every child after its parent and within the tree, a left child next to its
    /// parent, no column at [`LEAF`]; so that scoring a tree always ends at a leaf.
    fn try_from(stored: StoredTree) -> Result<Tree, String> {
        let n = stored.nodes.len();
        if n == 0 {
            return Err("an isolation tree has no nodes".into());
        }
        let mut depth = vec![0.0f64; n];
        let mut nodes = Vec::with_capacity(n);
        for (i, node) in stored.nodes.iter().enumerate() {
            nodes.push(match *node {
                Node::Leaf { size } => Flat { value: depth[i] + c_of_size(size), feature: LEAF, right: size },
                Node::Split { feature, value, left, right } => {
                    let (l, r) = (left as usize, right as usize);
                    if l != i + 1 || r <= i || r >= n || feature == LEAF {
                        return Err(format!("isolation tree node {i} of {n} is malformed"));
                    }
                    depth[l] = depth[i] + 1.0;
                    depth[r] = depth[i] + 1.0;
                    Flat { value, feature, right }
                }
            });
        }
        Ok(Tree { nodes })
    }
}

impl From<Tree> for StoredTree {
    fn from(t: Tree) -> StoredTree {
        let nodes = t
            .nodes
            .iter()
            .enumerate()
            .map(|(i, f)| match f.feature {
                LEAF => Node::Leaf { size: f.right },
                feature => Node::Split { feature, value: f.value, left: i as u32 + 1, right: f.right },
            })
            .collect();
        StoredTree { nodes }
    }
}

/// Average path length of an unsuccessful search in a binary search tree of `n` items.
fn c(n: f64) -> f64 {
    if n <= 1.0 {
        0.0
    } else if n <= 2.0 {
        1.0
    } else {
        2.0 * ((n - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (n - 1.0) / n
    }
}

/// [`c`] of 0 to 256 items (the default sample size, and the most items a leaf holds under
/// it), computed once: a leaf's size is a whole number, and scoring took a logarithm per tree.
static C_OF_SIZE: std::sync::LazyLock<[f64; 257]> = std::sync::LazyLock::new(|| std::array::from_fn(|n| c(n as f64)));

/// [`c`] of a leaf's size, the same bits.
fn c_of_size(size: u32) -> f64 {
    C_OF_SIZE.get(size as usize).copied().unwrap_or_else(|| c(size as f64))
}

/// A trained forest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IsolationForest {
    trees: Vec<Tree>,
    /// Per-column training medians, used for missing values.
    pub medians: Vec<f64>,
    sample_size: usize,
}

fn build(rows: &[&[f64]], idx: &mut [usize], depth: usize, limit: usize, rng: &mut Rng, nodes: &mut Vec<Node>) -> u32 {
    let at = nodes.len() as u32;
    nodes.push(Node::Leaf { size: idx.len() as u32 });
    if idx.len() <= 1 || depth >= limit {
        return at;
    }
    let width = rows[idx[0]].len();
    // pick a feature that varies in this node (a few tries), then a uniform split value
    for _ in 0..8 {
        let f = rng.range(0, width);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for &i in idx.iter() {
            lo = lo.min(rows[i][f]);
            hi = hi.max(rows[i][f]);
        }
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let value = rng.uniform(lo, hi);
        let mut k = 0;
        for j in 0..idx.len() {
            if rows[idx[j]][f] < value {
                idx.swap(j, k);
                k += 1;
            }
        }
        let (l, r) = idx.split_at_mut(k);
        let left = build(rows, l, depth + 1, limit, rng, nodes);
        let right = build(rows, r, depth + 1, limit, rng, nodes);
        nodes[at as usize] = Node::Split { feature: f as u32, value, left, right };
        return at;
    }
    at
}

impl IsolationForest {
    /// Fit on row-major `x` with `width` columns; `weights` make rows more likely to be sampled.
    pub fn fit(x: &[f64], width: usize, weights: Option<&[f64]>, p: &ForestParams) -> Result<Self, ModelError> {
        p.validate()?;
        if width == 0 || x.is_empty() || !x.len().is_multiple_of(width) {
            return Err(ModelError::Data("no rows to fit the isolation forest".into()));
        }
        let n = x.len() / width;
        let medians: Vec<f64> = (0..width)
            .map(|j| {
                let mut v: Vec<f64> = (0..n).map(|i| x[i * width + j]).filter(|v| !v.is_nan()).collect();
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2).copied().unwrap_or(0.0)
            })
            .collect();
        let imputed: Vec<f64> =
            x.iter().enumerate().map(|(k, &v)| if v.is_nan() { medians[k % width] } else { v }).collect();
        let rows: Vec<&[f64]> = imputed.chunks(width).collect();
        let psi = p.sample_size.min(n);
        let limit = (psi as f64).log2().ceil() as usize;
        let mut rng = Rng::new(p.seed);
        let cumulative: Option<Vec<f64>> = weights.map(|w| {
            let mut acc = 0.0;
            w.iter()
                .map(|&v| {
                    acc += v.max(0.0);
                    acc
                })
                .collect()
        });
        let trees = (0..p.n_trees)
            .map(|_| {
                let mut idx: Vec<usize> = match &cumulative {
                    // weighted sampling with replacement
                    Some(cum) => {
                        let total = cum.last().copied().unwrap_or(0.0);
                        (0..psi)
                            .map(|_| {
                                let u = rng.f64() * total;
                                cum.partition_point(|&c| c <= u).min(n - 1)
                            })
                            .collect()
                    }
                    // uniform sampling without replacement
                    None => {
                        let mut all: Vec<usize> = (0..n).collect();
                        for k in 0..psi {
                            let j = rng.range(k, n);
                            all.swap(k, j);
                        }
                        all.truncate(psi);
                        all
                    }
                };
                let mut nodes = Vec::new();
                build(&rows, &mut idx, 0, limit, &mut rng, &mut nodes);
                Tree::try_from(StoredTree { nodes })
            })
            .collect::<Result<Vec<Tree>, String>>()
            .map_err(ModelError::Data)?;
        Ok(IsolationForest { trees, medians, sample_size: psi })
    }

    /// Anomaly score in (0, 1]: 2^(-E[h(x)] / c(ψ)); about 0.5 is normal, near 1 anomalous.
    pub fn score(&self, row: &[f64]) -> f64 {
        // the row imputed once: a missing or absent value is the column's training median
        let x: Vec<f64> = self
            .medians
            .iter()
            .enumerate()
            .map(|(j, &m)| row.get(j).copied().filter(|v| !v.is_nan()).unwrap_or(m))
            .collect();
        let mut total = 0.0;
        for t in &self.trees {
            let mut i = 0;
            // a read tree's children lie after their parents (checked), so this ends
            while let Some(node) = t.nodes.get(i) {
                if node.feature == LEAF {
                    total += node.value;
                    break;
                }
                let v = x.get(node.feature as usize).copied().unwrap_or(0.0);
                i = if v < node.value { i + 1 } else { node.right as usize };
            }
        }
        let mean = total / self.trees.len().max(1) as f64;
        // `exp2`, not `2f64.powf`: an optimised build turns `powf(2, x)` into `exp2(x)`, which
        // differs from `pow` in the last bit now and then, so debug and release builds scored
        // differently; calling `exp2` in both gives the same scores
        (-mean / c(self.sample_size as f64)).exp2()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_score_higher_than_inliers() {
        let mut rng = Rng::new(3);
        let mut x = Vec::new();
        for _ in 0..1000 {
            x.push(rng.normal());
            x.push(rng.normal());
        }
        let f = IsolationForest::fit(&x, 2, None, &ForestParams::default()).unwrap();
        let inlier = f.score(&[0.1, -0.2]);
        let outlier = f.score(&[6.0, 6.0]);
        assert!(outlier > 0.65 && inlier < 0.5, "in {inlier} out {outlier}");
        assert!(outlier <= 1.0);
        // missing values score as the medians they stand for, however many columns there are
        let m = f.medians.clone();
        assert_eq!(f.score(&[f64::NAN, -0.2]).to_bits(), f.score(&[m[0], -0.2]).to_bits());
        assert_eq!(f.score(&[0.1]).to_bits(), f.score(&[0.1, m[1]]).to_bits());
        // the table of c is c
        for n in [0u32, 1, 2, 3, 17, 256, 257, 4000] {
            assert_eq!(c_of_size(n).to_bits(), c(n as f64).to_bits(), "{n}");
        }
        // missing values are read as the median
        assert_eq!(f.score(&[f64::NAN, f64::NAN]), f.score(&[f.medians[0], f.medians[1]]));
        // same seed, same forest
        let g = IsolationForest::fit(&x, 2, None, &ForestParams::default()).unwrap();
        assert_eq!(g.score(&[6.0, 6.0]), outlier);
    }

    /// The path lengths as the stored nodes give them, walked as they were before trees were
    /// flattened: the oracle for [`IsolationForest::score`].
    fn score_stored(f: &IsolationForest, row: &[f64]) -> f64 {
        let mut total = 0.0;
        for t in &f.trees {
            let nodes = StoredTree::from(t.clone()).nodes;
            let (mut node, mut depth) = (0usize, 0.0);
            loop {
                match nodes[node] {
                    Node::Leaf { size } => {
                        total += depth + c_of_size(size);
                        break;
                    }
                    Node::Split { feature, value, left, right } => {
                        let v = row.get(feature as usize).copied().unwrap_or(f64::NAN);
                        let v = if v.is_nan() { f.medians[feature as usize] } else { v };
                        node = if v < value { left as usize } else { right as usize };
                        depth += 1.0;
                    }
                }
            }
        }
        (-(total / f.trees.len() as f64) / c(f.sample_size as f64)).exp2()
    }

    #[test]
    fn flat_trees_score_as_the_stored_nodes_and_are_written_unchanged() {
        let mut rng = Rng::new(5);
        let x: Vec<f64> = (0..3000).map(|_| rng.normal()).collect();
        let f = IsolationForest::fit(&x, 3, None, &ForestParams { n_trees: 50, ..ForestParams::default() }).unwrap();
        for _ in 0..500 {
            let row: Vec<f64> = (0..3).map(|_| if rng.f64() < 0.1 { f64::NAN } else { 3.0 * rng.normal() }).collect();
            assert_eq!(f.score(&row).to_bits(), score_stored(&f, &row).to_bits(), "{row:?}");
        }
        // read back from its bytes: the same bytes again, the same scores
        let bytes = postcard::to_allocvec(&f).unwrap();
        let back: IsolationForest = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(postcard::to_allocvec(&back).unwrap(), bytes);
        assert_eq!(back.score(&[4.0, -4.0, 0.5]).to_bits(), f.score(&[4.0, -4.0, 0.5]).to_bits());
        // a tree whose child is not after its parent, or lies outside it, is refused
        let split = |left, right| Node::Split { feature: 0, value: 0.5, left, right };
        for nodes in [
            vec![],
            vec![split(1, 0), Node::Leaf { size: 1 }],
            vec![split(1, 2), Node::Leaf { size: 1 }],
            vec![split(2, 1), Node::Leaf { size: 1 }, Node::Leaf { size: 1 }],
        ] {
            assert!(Tree::try_from(StoredTree { nodes }).is_err());
        }
        let ok =
            Tree::try_from(StoredTree { nodes: vec![split(1, 2), Node::Leaf { size: 3 }, Node::Leaf { size: 1 }] });
        let leaves: Vec<f64> = ok.unwrap().nodes.iter().filter(|n| n.feature == LEAF).map(|n| n.value).collect();
        assert_eq!(leaves, vec![1.0 + c(3.0), 1.0]);
    }

    #[test]
    fn c_matches_the_paper() {
        assert_eq!(c(1.0), 0.0);
        assert_eq!(c(2.0), 1.0);
        assert!((c(256.0) - 10.244).abs() < 0.01);
    }
}
