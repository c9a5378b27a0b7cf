//! Exact TreeSHAP (Lundberg et al., 2020, Algorithm 2) over `forust-ml` trees, without
//! allocation in the recursion.
//!
//! forust computes the same values (its `ContributionsMethod::Shapley`), but allocates at every
//! node and recomputes each tree's expected value on every call: ~1 µs per tree, 300 µs for a
//! 300-tree credit model. This version precomputes expected values, keeps the path on the stack
//! and runs in f64; a test checks it against forust. It also never panics on a degenerate path
//! (forust's `unwound_path_sum` can).

use forust_ml::GradientBooster;

/// Deepest tree supported (forust trees here are depth ≤ 16).
const MAX_PATH: usize = 20;

#[derive(Debug, Clone, Copy)]
struct Node {
    feature: usize,
    split: f64,
    left: u32,
    right: u32,
    missing: u32,
    has_missing: bool,
    leaf: bool,
    value: f64,
    cover: f64,
}

#[derive(Debug, Clone)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    /// The value of the leaf that `row` falls in (0 for an empty tree).
    fn leaf_value(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.leaf {
                return n.value;
            }
            let v = row.get(n.feature).copied().unwrap_or(f64::NAN);
            i = if v.is_nan() {
                n.missing
            } else if v < n.split {
                n.left
            } else {
                n.right
            } as usize;
        }
        0.0
    }
}

/// The trees of a booster, ready for SHAP and prediction.
#[derive(Debug, Clone)]
pub struct ShapForest {
    trees: Vec<Tree>,
    /// Base score plus every tree's expected value: the SHAP bias.
    pub bias: f64,
}

#[derive(Clone, Copy, Default)]
struct PathElem {
    feature: usize,
    zero: f64,
    one: f64,
    pweight: f64,
}

/// Room for the paths of every level of one tree: level d uses d + 1 elements.
const BUFFER: usize = (MAX_PATH + 1) * (MAX_PATH + 2) / 2;

fn expected(nodes: &[Node], i: usize) -> f64 {
    let n = &nodes[i];
    if n.leaf {
        return n.value;
    }
    let mut w = nodes[n.left as usize].cover * expected(nodes, n.left as usize)
        + nodes[n.right as usize].cover * expected(nodes, n.right as usize);
    if n.has_missing {
        w += nodes[n.missing as usize].cover * expected(nodes, n.missing as usize);
    }
    if n.cover > 0.0 { w / n.cover } else { 0.0 }
}

fn extend(path: &mut [PathElem], depth: usize, zero: f64, one: f64, feature: usize) {
    path[depth] = PathElem { feature, zero, one, pweight: if depth == 0 { 1.0 } else { 0.0 } };
    for i in (0..depth).rev() {
        path[i + 1].pweight += one * path[i].pweight * (i + 1) as f64 / (depth + 1) as f64;
        path[i].pweight = zero * path[i].pweight * (depth - i) as f64 / (depth + 1) as f64;
    }
}

fn unwind(path: &mut [PathElem], depth: usize, idx: usize) {
    let (one, zero) = (path[idx].one, path[idx].zero);
    let mut next = path[depth].pweight;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].pweight;
            path[i].pweight = next * (depth + 1) as f64 / ((i + 1) as f64 * one);
            next = tmp - path[i].pweight * zero * (depth - i) as f64 / (depth + 1) as f64;
        } else if zero != 0.0 {
            path[i].pweight = path[i].pweight * (depth + 1) as f64 / (zero * (depth - i) as f64);
        }
    }
    for i in idx..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

fn unwound_sum(path: &[PathElem], depth: usize, idx: usize) -> f64 {
    let (one, zero) = (path[idx].one, path[idx].zero);
    let mut next = path[depth].pweight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = next * (depth + 1) as f64 / ((i + 1) as f64 * one);
            total += tmp;
            next = path[i].pweight - tmp * zero * (depth - i) as f64 / (depth + 1) as f64;
        } else if zero != 0.0 {
            total += path[i].pweight / zero / ((depth - i) as f64 / (depth + 1) as f64);
        }
    }
    total
}

#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    row: &[f64],
    out: &mut [f64],
    node: usize,
    mut depth: usize,
    path: &mut [PathElem],
    zero: f64,
    one: f64,
    feature: usize,
) {
    if depth >= MAX_PATH - 1 || path.len() < depth + 2 {
        return;
    }
    extend(path, depth, zero, one, feature);
    let n = &tree.nodes[node];
    if n.leaf {
        for i in 1..=depth {
            let w = unwound_sum(path, depth, i);
            if let Some(slot) = out.get_mut(path[i].feature) {
                *slot += w * (path[i].one - path[i].zero) * n.value;
            }
        }
        return;
    }
    let v = row.get(n.feature).copied().unwrap_or(f64::NAN);
    let hot = if v.is_nan() {
        n.missing
    } else if v < n.split {
        n.left
    } else {
        n.right
    };
    // the hot child first, then the cold ones (the missing branch only when it is separate)
    let mut children = [hot, u32::MAX, u32::MAX];
    let mut k = 1;
    let cold: &[u32] = if n.has_missing { &[n.left, n.right, n.missing] } else { &[n.left, n.right] };
    for &c in cold {
        if c != hot {
            children[k] = c;
            k += 1;
        }
    }
    let (mut in_zero, mut in_one) = (1.0, 1.0);
    if let Some(p) = (1..=depth).find(|&p| path[p].feature == n.feature) {
        in_zero = path[p].zero;
        in_one = path[p].one;
        unwind(path, depth, p);
        depth -= 1;
    }
    for (i, &c) in children[..k].iter().enumerate() {
        let child = &tree.nodes[c as usize];
        let z = if n.cover > 0.0 { child.cover / n.cover * in_zero } else { 0.0 };
        let o = if i == 0 { in_one } else { 0.0 };
        // the child works on a copy of this path, in the next part of the buffer
        let (mine, next) = path.split_at_mut(depth + 1);
        next[..depth + 1].copy_from_slice(mine);
        recurse(tree, row, out, c as usize, depth + 1, next, z, o, n.feature);
    }
}

impl ShapForest {
    pub fn new(b: &GradientBooster) -> Self {
        let mut bias = b.base_score;
        let trees: Vec<Tree> = b
            .trees
            .iter()
            .map(|t| {
                let nodes: Vec<Node> = t
                    .nodes
                    .iter()
                    .map(|n| Node {
                        feature: n.split_feature,
                        split: n.split_value,
                        left: n.left_child as u32,
                        right: n.right_child as u32,
                        missing: n.missing_node as u32,
                        has_missing: n.has_missing_branch(),
                        leaf: n.is_leaf,
                        value: n.weight_value as f64,
                        cover: n.hessian_sum as f64,
                    })
                    .collect();
                Tree { nodes }
            })
            .collect();
        for t in &trees {
            if !t.nodes.is_empty() {
                bias += expected(&t.nodes, 0);
            }
        }
        ShapForest { trees, bias }
    }

    /// Raw log-odds of one row.
    pub fn predict(&self, row: &[f64], base_score: f64) -> f64 {
        self.trees.iter().fold(base_score, |total, t| total + t.leaf_value(row))
    }

    /// Number of trees.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// Raw log-odds of one row after each round: `out[t]` sums the base score and trees `0..=t`
    /// (`out` shorter than the forest stops early).
    pub fn staged(&self, row: &[f64], base_score: f64, out: &mut [f64]) {
        let mut total = base_score;
        for (t, slot) in self.trees.iter().zip(out.iter_mut()) {
            total += t.leaf_value(row);
            *slot = total;
        }
    }

    /// SHAP values of one row: one per column, then the bias; they sum to the log-odds.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; row.len() + 1];
        let mut buffer = vec![PathElem::default(); BUFFER];
        for t in &self.trees {
            if t.nodes.is_empty() {
                continue;
            }
            recurse(t, row, &mut out, 0, 0, &mut buffer, 1.0, 1.0, usize::MAX);
        }
        out[row.len()] = self.bias;
        out
    }
}
