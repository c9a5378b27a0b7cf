//! Exact TreeSHAP (Lundberg et al., 2020, Algorithm 2) over `forust-ml` trees, without
//! allocation in the recursion, and its precomputed form for shallow trees (Fast TreeSHAP v2,
//! Yang 2021).
//!
//! forust computes the same values (its `ContributionsMethod::Shapley`), but allocates at every
//! node and recomputes each tree's expected value on every call: ~1 µs per tree, 300 µs for a
//! 300-tree credit model. This version precomputes expected values, keeps the path on the stack
//! and runs in f64; a test checks it against forust. It also never panics on a degenerate path
//! (forust's `unwound_path_sum` can).
//!
//! A leaf's share of the SHAP values depends on the row only through which of the conditions on
//! its path the row meets, grouped by feature: with `m` distinct features on the path there are
//! `2^m` patterns. For trees whose leaves have few distinct features (every tree of depth ≤ 4,
//! deeper ones within [`TABLE_BUDGET`]), each leaf's contributions for every pattern are computed once when
//! the model loads; a row then costs one comparison per path node and one addition per feature
//! per leaf, instead of the recursion's extend/unwind arithmetic. Deeper trees keep the
//! recursion. Both give the same values (a test compares them).
//!
//! Smaller trees go one step further: with `I` internal nodes whose missing branch is the left
//! or the right child, a row's contributions depend only on which way it goes at each of them,
//! `2^I` route patterns. For trees of up to [`MAX_PATTERN_NODES`] internal nodes (every tree of
//! depth ≤ 3), the leaves' tables are summed per pattern when the model loads, into one flat
//! array for the whole forest: a row then costs one comparison per internal node and one addition
//! per distinct feature of the tree (depth 2: three and at most three), read from contiguous
//! memory.

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
    /// Precomputed contributions per leaf, when the tree is shallow enough (and has no
    /// pattern table).
    leaves: Option<Vec<LeafTable>>,
    /// The tree's contributions are in [`ShapForest::patterns`].
    patterned: bool,
    /// Bit `j` (63 for every column from 63 on): the tree splits on column `j`.
    columns: u64,
}

/// The bit of [`Tree::columns`] that stands for column `j`.
fn column_bit(j: usize) -> u64 {
    1u64 << j.min(63)
}

/// One leaf's SHAP contributions for every pattern of met conditions on its path.
#[derive(Debug, Clone)]
struct LeafTable {
    /// The distinct features on the path.
    features: Vec<usize>,
    /// Each path node, the child the path takes from it, and its feature's index in `features`.
    conditions: Vec<(u32, u32, u8)>,
    /// `table[mask * m + k]`: feature `features[k]`'s contribution when the row meets the
    /// conditions of exactly the features in `mask` (bit k: all of feature k's conditions met).
    table: Vec<f64>,
}

/// Most table entries (patterns × features, summed over leaves) a tree may precompute; above
/// it the tree keeps the recursion. Every tree of depth ≤ 4 fits (16 leaves × 2^4 × 4 = 1,024);
/// deeper trees fit when their leaves use few distinct features (a leaf uses at most 8).
pub const TABLE_BUDGET: usize = 4_096;

/// Most distinct features on one path for a table.
const MAX_TABLE_FEATURES: usize = 10;

/// Most internal nodes of a tree with a pattern table (2^7 = 128 patterns: a full tree of
/// depth 3).
pub const MAX_PATTERN_NODES: usize = 7;

/// Most entries (patterns × the tree's distinct features) of one tree's pattern table: a full
/// depth-3 tree on seven features has 128 × 7 = 896.
const PATTERN_BUDGET: usize = 1_024;

/// One internal node of a patterned tree: the bit of the pattern it sets when a row goes right.
#[derive(Debug, Clone, Copy)]
struct Cond {
    feature: usize,
    split: f64,
    /// Where a missing value goes (the node's missing branch is its right child).
    missing_right: bool,
}

/// Where one patterned tree's parts start in [`Patterns`]' arrays.
#[derive(Debug, Clone, Copy)]
struct PatternSpan {
    conds: u32,
    n_conds: u32,
    features: u32,
    n_features: u32,
    table: u32,
}

/// The pattern tables of a forest's small trees, each part in one array for all of them.
#[derive(Debug, Clone, Default)]
struct Patterns {
    spans: Vec<PatternSpan>,
    conds: Vec<Cond>,
    features: Vec<usize>,
    /// `table[span.table + pattern * n_features + k]`: feature `features[span.features + k]`'s
    /// contribution from the whole tree for a row whose routes make `pattern`.
    table: Vec<f64>,
}

impl Patterns {
    /// Add `nodes`' pattern table, summed from its leaves' tables; `false` (nothing added) when
    /// the tree has too many internal nodes, a separate missing branch, or too many entries.
    fn push(&mut self, nodes: &[Node], leaves: &[LeafTable]) -> bool {
        let internal: Vec<usize> = (0..nodes.len()).filter(|&i| !nodes[i].leaf).collect();
        if internal.len() > MAX_PATTERN_NODES
            || internal.iter().any(|&i| nodes[i].missing != nodes[i].left && nodes[i].missing != nodes[i].right)
        {
            return false;
        }
        let mut features: Vec<usize> = Vec::new();
        for f in leaves.iter().flat_map(|l| &l.features) {
            if !features.contains(f) {
                features.push(*f);
            }
        }
        let (patterns, m) = (1usize << internal.len(), features.len());
        let fits = |n: usize| u32::try_from(n).is_ok();
        if patterns * m > PATTERN_BUDGET
            || !fits(self.table.len() + patterns * m)
            || !fits(self.conds.len() + internal.len())
            || !fits(self.features.len() + m)
        {
            return false;
        }
        let mut bit = vec![usize::MAX; nodes.len()];
        for (b, &i) in internal.iter().enumerate() {
            bit[i] = b;
        }
        let start = self.table.len();
        self.table.resize(start + patterns * m, 0.0);
        for p in 0..patterns {
            let row = &mut self.table[start + p * m..start + (p + 1) * m];
            for leaf in leaves {
                let lm = leaf.features.len();
                let mut mask = (1usize << lm) - 1;
                for &(node, child, k) in &leaf.conditions {
                    let n = &nodes[node as usize];
                    let to = if (p >> bit[node as usize]) & 1 == 1 { n.right } else { n.left };
                    if to != child {
                        mask &= !(1usize << k);
                    }
                }
                for (f, c) in leaf.features.iter().zip(&leaf.table[mask * lm..(mask + 1) * lm]) {
                    if let Some(k) = features.iter().position(|g| g == f) {
                        row[k] += c;
                    }
                }
            }
        }
        self.spans.push(PatternSpan {
            conds: self.conds.len() as u32,
            n_conds: internal.len() as u32,
            features: self.features.len() as u32,
            n_features: m as u32,
            table: start as u32,
        });
        self.conds.extend(internal.iter().map(|&i| {
            let n = &nodes[i];
            Cond { feature: n.feature, split: n.split, missing_right: n.missing == n.right && n.missing != n.left }
        }));
        self.features.extend(features);
        true
    }

    /// The route pattern of `row` in the tree of span `s`: bit b set when it goes right at the
    /// tree's b-th internal node.
    fn pattern(&self, s: &PatternSpan, row: &[f64]) -> usize {
        let c0 = s.conds as usize;
        let mut pattern = 0usize;
        for (b, c) in self.conds[c0..c0 + s.n_conds as usize].iter().enumerate() {
            let v = row.get(c.feature).copied().unwrap_or(f64::NAN);
            // as `Node::route`: below the split left, otherwise (a NaN split too) right; missing
            // values to their branch
            let right =
                if v.is_nan() { c.missing_right } else { v.partial_cmp(&c.split) != Some(std::cmp::Ordering::Less) };
            pattern |= usize::from(right) << b;
        }
        pattern
    }

    /// Add every patterned tree's contributions for `row` to `out`.
    fn add(&self, row: &[f64], out: &mut [f64]) {
        for s in &self.spans {
            let (f0, pattern) = (s.features as usize, self.pattern(s, row));
            let m = s.n_features as usize;
            let t0 = s.table as usize + pattern * m;
            for (f, c) in self.features[f0..f0 + m].iter().zip(&self.table[t0..t0 + m]) {
                if let Some(slot) = out.get_mut(*f) {
                    *slot += c;
                }
            }
        }
    }
}

impl Node {
    /// The child a row goes to from this (internal) node.
    fn route(&self, row: &[f64]) -> u32 {
        let v = row.get(self.feature).copied().unwrap_or(f64::NAN);
        if v.is_nan() {
            self.missing
        } else if v < self.split {
            self.left
        } else {
            self.right
        }
    }
}

/// Shapley weight of a coalition of `s` among `m` players: s! (m - s - 1)! / m!.
fn shapley_weight(s: usize, m: usize) -> f64 {
    let fact = |n: usize| (1..=n).fold(1.0, |a, k| a * k as f64);
    fact(s) * fact(m - s - 1) / fact(m)
}

/// A leaf's contributions for every pattern of met conditions: `value` times, for feature j,
/// (o_j − z_j) Σ over subsets S of the other features, all met, of w(|S|, m) Π_{k ∉ S, k ≠ j} z_k,
/// where z_k is the share of the training cover that follows the path at feature k's nodes.
fn leaf_table(value: f64, zero: &[f64]) -> Vec<f64> {
    let m = zero.len();
    let weights: Vec<f64> = (0..m).map(|s| shapley_weight(s, m)).collect();
    let full = (1usize << m) - 1;
    let mut table = vec![0.0; (full + 1) * m];
    for mask in 0..=full {
        for j in 0..m {
            let o = ((mask >> j) & 1) as f64;
            let avail = mask & full & !(1 << j);
            let mut sum = 0.0;
            let mut sub = avail;
            loop {
                let mut w = weights[sub.count_ones() as usize];
                for (k, z) in zero.iter().enumerate() {
                    if k != j && (sub >> k) & 1 == 0 {
                        w *= z;
                    }
                }
                sum += w;
                if sub == 0 {
                    break;
                }
                sub = (sub - 1) & avail;
            }
            table[mask * m + j] = value * (o - zero[j]) * sum;
        }
    }
    table
}

/// Tables for every leaf of `nodes`, or `None` when they would exceed [`TABLE_BUDGET`].
fn leaf_tables(nodes: &[Node]) -> Option<Vec<LeafTable>> {
    let mut out = Vec::new();
    let mut entries = 0usize;
    // depth-first over (node, path of (node, child) taken to reach it)
    let mut stack: Vec<(usize, Vec<(u32, u32)>)> = vec![(0, Vec::new())];
    while let Some((i, path)) = stack.pop() {
        let n = nodes.get(i)?;
        if n.leaf {
            let mut features: Vec<usize> = Vec::new();
            let mut zero: Vec<f64> = Vec::new();
            let mut conditions = Vec::with_capacity(path.len());
            for &(node, child) in &path {
                let (p, c) = (nodes.get(node as usize)?, nodes.get(child as usize)?);
                let k = match features.iter().position(|&f| f == p.feature) {
                    Some(k) => k,
                    None => {
                        features.push(p.feature);
                        zero.push(1.0);
                        features.len() - 1
                    }
                };
                zero[k] *= if p.cover > 0.0 { c.cover / p.cover } else { 0.0 };
                conditions.push((node, child, k as u8));
            }
            if features.len() > MAX_TABLE_FEATURES {
                return None;
            }
            entries += (1usize << features.len()) * features.len();
            if entries > TABLE_BUDGET {
                return None;
            }
            out.push(LeafTable { table: leaf_table(n.value, &zero), features, conditions });
            continue;
        }
        let mut children = vec![n.left, n.right];
        if n.has_missing && n.missing != n.left && n.missing != n.right {
            children.push(n.missing);
        }
        for c in children {
            let mut p = path.clone();
            p.push((i as u32, c));
            stack.push((c as usize, p));
        }
    }
    Some(out)
}

impl Tree {
    /// The value of the leaf that `row` falls in (0 for an empty tree).
    fn leaf_value(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        while let Some(n) = self.nodes.get(i) {
            if n.leaf {
                return n.value;
            }
            i = n.route(row) as usize;
        }
        0.0
    }
}

/// The trees of a booster, ready for SHAP and prediction.
#[derive(Debug, Clone)]
pub struct ShapForest {
    trees: Vec<Tree>,
    /// The small trees' contributions by route pattern.
    patterns: Patterns,
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

/// Add one tree's contributions to `out` from its leaves' tables.
fn add_from_tables(nodes: &[Node], leaves: &[LeafTable], row: &[f64], out: &mut [f64]) {
    // each internal node routed once (small trees; larger ones route per condition)
    let mut routes = [0u32; 64];
    let cached = nodes.len() <= routes.len();
    if cached {
        for (r, n) in routes.iter_mut().zip(nodes) {
            if !n.leaf {
                *r = n.route(row);
            }
        }
    }
    for leaf in leaves {
        let m = leaf.features.len();
        let mut mask = (1usize << m) - 1;
        for &(node, child, k) in &leaf.conditions {
            let to = if cached { routes[node as usize] } else { nodes[node as usize].route(row) };
            if to != child {
                mask &= !(1usize << k);
            }
        }
        for (f, c) in leaf.features.iter().zip(&leaf.table[mask * m..(mask + 1) * m]) {
            if let Some(slot) = out.get_mut(*f) {
                *slot += c;
            }
        }
    }
}

impl ShapForest {
    /// The trees with leaf tables where they fit, for SHAP values and prediction.
    pub fn new(b: &GradientBooster) -> Self {
        Self::build(b, true)
    }

    /// The trees for prediction only (no leaf tables: SHAP values would recurse).
    pub fn for_prediction(b: &GradientBooster) -> Self {
        Self::build(b, false)
    }

    fn build(b: &GradientBooster, tables: bool) -> Self {
        let mut bias = b.base_score;
        let mut patterns = Patterns::default();
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
                let mut leaves = if tables { leaf_tables(&nodes) } else { None };
                // a pattern table replaces the leaves' tables it was summed from
                let patterned = leaves.as_ref().is_some_and(|l| patterns.push(&nodes, l));
                if patterned {
                    leaves = None;
                }
                let columns = nodes.iter().filter(|n| !n.leaf).fold(0, |m, n| m | column_bit(n.feature));
                Tree { nodes, leaves, patterned, columns }
            })
            .collect();
        for t in &trees {
            if !t.nodes.is_empty() {
                bias += expected(&t.nodes, 0);
            }
        }
        ShapForest { trees, patterns, bias }
    }

    /// Raw log-odds of one row.
    pub fn predict(&self, row: &[f64], base_score: f64) -> f64 {
        self.trees.iter().fold(base_score, |total, t| total + t.leaf_value(row))
    }

    /// Each tree's value for `row`, in order ([`Self::predict`] is their sum after the base
    /// score).
    pub fn tree_values(&self, row: &[f64]) -> Vec<f64> {
        self.trees.iter().map(|t| t.leaf_value(row)).collect()
    }

    /// [`Self::predict`] of `row`, bit for bit, given `base`'s [`Self::tree_values`]: only the
    /// trees that split on a column where the two rows differ are walked again.
    pub fn predict_from(&self, base: &[f64], base_values: &[f64], row: &[f64], base_score: f64) -> f64 {
        if base.len() != row.len() || base_values.len() != self.trees.len() {
            return self.predict(row, base_score);
        }
        let changed = base
            .iter()
            .zip(row)
            .enumerate()
            .filter(|(_, (a, b))| a.to_bits() != b.to_bits())
            .fold(0, |m, (j, _)| m | column_bit(j));
        self.trees
            .iter()
            .zip(base_values)
            .fold(base_score, |total, (t, &v)| total + if t.columns & changed != 0 { t.leaf_value(row) } else { v })
    }

    /// Number of trees.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// The value tree `t` gives `row` (0 past the last tree).
    pub fn tree_value(&self, t: usize, row: &[f64]) -> f64 {
        self.trees.get(t).map_or(0.0, |tree| tree.leaf_value(row))
    }

    /// SHAP values of one row: one per column, then the bias; they sum to the log-odds.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        self.contributions_by(row, true)
    }

    /// [`Self::contributions`] by the recursion alone (for tests of the tables).
    pub fn contributions_recursive(&self, row: &[f64]) -> Vec<f64> {
        self.contributions_by(row, false)
    }

    fn contributions_by(&self, row: &[f64], tables: bool) -> Vec<f64> {
        let mut out = vec![0.0; row.len() + 1];
        let mut buffer: Vec<PathElem> = Vec::new();
        if tables {
            self.patterns.add(row, &mut out);
        }
        for t in self.trees.iter().filter(|t| !(t.nodes.is_empty() || tables && t.patterned)) {
            match t.leaves.as_ref().filter(|_| tables) {
                Some(leaves) => add_from_tables(&t.nodes, leaves, row, &mut out),
                None => {
                    if buffer.is_empty() {
                        buffer = vec![PathElem::default(); BUFFER];
                    }
                    recurse(t, row, &mut out, 0, 0, &mut buffer, 1.0, 1.0, usize::MAX)
                }
            }
        }
        out[row.len()] = self.bias;
        out
    }

    /// How many trees use precomputed tables, per leaf or per route pattern (the rest recurse).
    pub fn tabled_trees(&self) -> usize {
        self.trees.iter().filter(|t| t.leaves.is_some() || t.patterned).count()
    }

    /// How many trees use route-pattern tables.
    pub fn patterned_trees(&self) -> usize {
        self.patterns.spans.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_routes_a_row_as_the_tree_does() {
        // one split on column 0 (NaN as a split, as a damaged artifact could hold, and a number),
        // missing values to the left or to the right
        for split in [f64::NAN, 0.5] {
            for missing in [1u32, 2] {
                let leaf = |value| Node {
                    feature: 0,
                    split: 0.0,
                    left: 0,
                    right: 0,
                    missing: 0,
                    has_missing: false,
                    leaf: true,
                    value,
                    cover: 1.0,
                };
                let root = Node {
                    feature: 0,
                    split,
                    left: 1,
                    right: 2,
                    missing,
                    leaf: false,
                    value: 0.0,
                    cover: 2.0,
                    ..leaf(0.0)
                };
                let nodes = [root, leaf(-1.0), leaf(1.0)];
                let leaves = leaf_tables(&nodes).unwrap();
                let mut p = Patterns::default();
                assert!(p.push(&nodes, &leaves));
                for v in [f64::NAN, -1.0, 0.5, 2.0] {
                    let right = nodes[0].route(&[v]) == 2;
                    assert_eq!(
                        p.pattern(&p.spans[0], &[v]),
                        usize::from(right),
                        "split {split}, missing to {missing}, value {v}"
                    );
                    // and the contributions of the pattern are those of the leaves' tables
                    let (mut a, mut b) = ([0.0], [0.0]);
                    p.add(&[v], &mut a);
                    add_from_tables(&nodes, &leaves, &[v], &mut b);
                    assert_eq!(a, b);
                }
            }
        }
    }
}
