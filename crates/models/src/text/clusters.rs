//! Words grouped by meaning: a hierarchical spherical k-means over the whole-word vectors of a
//! static embeddings table.
//!
//! Word clusters are the classic way to give a sequence tagger knowledge of words it never saw
//! labelled (Brown clusters in Ratinov & Roth 2009; clusters of embeddings in Turian et al.
//! 2010): "dentist" shares a cluster with "pharmacy" and "doctor", so a CATEGORY learnt on one
//! carries to the others. The hierarchy gives coarse and fine features at once, as the
//! prefixes of a Brown-cluster bit string do: level 1 splits the words into `branching[0]`
//! groups, level 2 splits each of those into `branching[1]`, and so on.
//!
//! Written here (about 150 lines) rather than taken from `linfa-clustering`, which brings
//! `ndarray` and its BLAS features for one k-means over 20,000 points.

use super::{StaticEmbeddings, WordHash, WordList};
use crate::ModelError;
use nivesh_core::rng::Rng;
use serde::{Deserialize, Serialize};

/// Most levels a hierarchy may have.
pub const MAX_LEVELS: usize = 4;

/// Iterations of each k-means (it usually settles well before).
const ITERATIONS: usize = 25;

/// Every whole word of a table, with its cluster at each level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordClusters {
    branching: Vec<usize>,
    /// Sorted.
    words: WordList,
    /// `words.len() × levels`: the cluster of word `i` at level `l` is `paths[i * levels + l]`,
    /// numbered within the level (children of cluster `p` are `p × branching[l] + j`).
    paths: Vec<u16>,
    source: String,
}

/// Check a hierarchy's branching factors: 1 to [`MAX_LEVELS`] levels of 2 to 64 each.
pub fn check_branching(branching: &[usize]) -> Result<(), ModelError> {
    if branching.is_empty() || branching.len() > MAX_LEVELS {
        return Err(ModelError::param(
            "clusters",
            format!("has {} levels; 1 to {MAX_LEVELS} are allowed", branching.len()),
        ));
    }
    if let Some(b) = branching.iter().find(|b| !(2..=64).contains(*b)) {
        return Err(ModelError::param("clusters", format!("a level splits in {b}; 2 to 64 are allowed")));
    }
    // cluster ids are u16
    let finest: usize = branching.iter().product();
    if finest > usize::from(u16::MAX) + 1 {
        return Err(ModelError::param(
            "clusters",
            format!("make {finest} clusters at the finest level; at most 65,536"),
        ));
    }
    Ok(())
}

impl WordClusters {
    /// Cluster the whole words of `table` (lower-case ASCII letters, two or more, with a
    /// vector that is not all zeros) with the given branching factors; `seed` fixes the
    /// k-means++ starts.
    pub fn build(table: &StaticEmbeddings, branching: &[usize], seed: u64) -> Result<WordClusters, ModelError> {
        check_branching(branching)?;
        let (words, points) = unit_word_vectors(table);
        let d = table.dim();
        let levels = branching.len();
        let n = words.len();
        let mut paths = vec![0u16; n * levels];
        let mut rng = Rng::new(seed);
        // groups of word indices to split at the current level, with their cluster number
        let mut groups: Vec<(usize, Vec<usize>)> = vec![(0, (0..n).collect())];
        for (level, &b) in branching.iter().enumerate() {
            let mut next = Vec::with_capacity(groups.len() * b);
            for (parent, members) in groups {
                let assignment = spherical_kmeans(&points, d, &members, b, &mut rng);
                let mut children: Vec<Vec<usize>> = vec![Vec::new(); b];
                for (&i, &c) in members.iter().zip(&assignment) {
                    children[c].push(i);
                }
                for (j, child) in children.into_iter().enumerate() {
                    let id = parent * b + j;
                    for &i in &child {
                        paths[i * levels + level] = id as u16;
                    }
                    if !child.is_empty() {
                        next.push((id, child));
                    }
                }
            }
            groups = next;
        }
        let label = branching.iter().map(usize::to_string).collect::<Vec<_>>().join("×");
        let source = format!("{} ({n} words, k-means {label}, seed {seed})", table.source());
        let words = WordList::new(words).ok_or_else(|| ModelError::Data("the table's words pass 4 GiB".into()))?;
        Ok(WordClusters { branching: branching.to_vec(), words, paths, source })
    }

    /// The clusters of `word` (lower case) from the coarsest level down, or `None` if the
    /// table has no such whole word.
    pub fn path(&self, word: &str) -> Option<&[u16]> {
        self.path_hashed(word, WordHash::of(word))
    }

    /// [`Self::path`] of a word already hashed.
    pub fn path_hashed(&self, word: &str, hash: WordHash) -> Option<&[u16]> {
        let levels = self.branching.len();
        let i = self.words.find(word, hash)?;
        self.paths.get(i * levels..(i + 1) * levels)
    }

    pub fn levels(&self) -> usize {
        self.branching.len()
    }

    pub fn n_words(&self) -> usize {
        self.words.len()
    }

    /// The table the clusters came from, their sizes and seed, for `describe`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The words in `word`'s finest cluster (for inspection and tests).
    pub fn neighbours(&self, word: &str) -> Vec<&str> {
        let Some(path) = self.path(word) else { return Vec::new() };
        let last = self.levels() - 1;
        let levels = self.levels();
        self.words
            .iter()
            .enumerate()
            .filter(|(i, _)| self.paths[i * levels + last] == path[last])
            .map(|(_, w)| w)
            .collect()
    }

    /// A cluster id out of range, for the tests of readers that must refuse it.
    #[cfg(test)]
    pub(crate) fn damage_for_test(&mut self) {
        if let Some(p) = self.paths.first_mut() {
            *p = u16::MAX;
        }
    }

    /// Check a deserialised value: sorted words, a path per word within each level's range.
    pub(crate) fn check(&self) -> Result<(), String> {
        check_branching(&self.branching).map_err(|e| e.to_string())?;
        if self.paths.len() != self.words.len() * self.branching.len() {
            return Err(format!("{} cluster ids for {} words", self.paths.len(), self.words.len()));
        }
        if !self.words.is_sorted() {
            return Err("the clustered words are not sorted".into());
        }
        let mut size = 1usize;
        for (level, &b) in self.branching.iter().enumerate() {
            size *= b;
            if self.paths.iter().skip(level).step_by(self.branching.len()).any(|&c| c as usize >= size) {
                return Err(format!("a level-{} cluster id is {size} or more", level + 1));
            }
        }
        Ok(())
    }
}

/// The whole words of `table` that clusters and similarities are computed for (lower-case
/// ASCII letters, two or more, with a vector that is not all zeros; a zero vector says nothing
/// of a word's meaning), sorted, with their vectors scaled to unit length (`words × dim`).
fn unit_word_vectors(table: &StaticEmbeddings) -> (Vec<String>, Vec<f32>) {
    let mut entries: Vec<(&str, u32)> = table
        .wordpiece()
        .whole_words()
        .into_iter()
        .filter(|(w, _)| w.len() >= 2 && w.bytes().all(|b| b.is_ascii_lowercase()))
        .collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut points = Vec::with_capacity(entries.len() * table.dim());
    entries.retain(|&(_, id)| {
        let mut v = table.vector(id);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return false;
        }
        v.iter_mut().for_each(|x| *x /= norm);
        points.extend(v);
        true
    });
    (entries.into_iter().map(|(w, _)| w.to_string()).collect(), points)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Lowest cosine [`NearWords`] keeps, in tenths.
pub const NEAR_MIN_TENTHS: u8 = 3;

/// For the whole words of a table, the cosine to the nearest of a list of seed words, in
/// tenths (words below [`NEAR_MIN_TENTHS`] left out): a word list made soft, so that a tagger
/// that learnt "pharmacy" is a CATEGORY gets a feature for "dentist" too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearWords {
    /// Sorted.
    words: WordList,
    tenths: Vec<u8>,
}

impl NearWords {
    /// The table's words near `seeds` (lower-case words; those the table lacks are skipped).
    pub fn build<S: AsRef<str>>(table: &StaticEmbeddings, seeds: &[S]) -> NearWords {
        let (words, points) = unit_word_vectors(table);
        let d = table.dim();
        let seed_rows: Vec<&[f32]> = seeds
            .iter()
            .filter_map(|s| words.binary_search_by(|w| w.as_str().cmp(s.as_ref())).ok())
            .map(|i| &points[i * d..(i + 1) * d])
            .collect();
        let mut kept = Vec::new();
        let mut tenths_of_kept = Vec::new();
        for (w, p) in words.into_iter().zip(points.chunks_exact(d)) {
            let best = seed_rows.iter().map(|s| dot(p, s)).fold(f32::NEG_INFINITY, f32::max);
            // floored as computed: a seed's cosine with itself may come out 0.99999994 (tenths
            // 9) rather than 1. Rounding it up or capping every word at 9 was tried and scored
            // lower in the NER's cross-validation on NLU++ (docs/BENCHMARKS.md)
            let tenths = (best.clamp(0.0, 1.0) * 10.0).floor() as u8;
            if tenths >= NEAR_MIN_TENTHS {
                kept.push(w);
                tenths_of_kept.push(tenths);
            }
        }
        // the kept words are a subset of the table's, whose total length is far below 4 GiB
        NearWords { words: WordList::new(kept).unwrap_or_default(), tenths: tenths_of_kept }
    }

    /// `word`'s cosine to the nearest seed, in tenths, if it is at least [`NEAR_MIN_TENTHS`].
    pub fn tenths(&self, word: &str) -> Option<u8> {
        self.tenths_hashed(word, WordHash::of(word))
    }

    /// [`Self::tenths`] of a word already hashed.
    pub fn tenths_hashed(&self, word: &str, hash: WordHash) -> Option<u8> {
        let i = self.words.find(word, hash)?;
        self.tenths.get(i).copied()
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Check a deserialised value: sorted words, one value each, within 0.3 to 1.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.words.len() != self.tenths.len() {
            return Err(format!("{} similarities for {} words", self.tenths.len(), self.words.len()));
        }
        if !self.words.is_sorted() {
            return Err("the near words are not sorted".into());
        }
        if self.tenths.iter().any(|t| !(NEAR_MIN_TENTHS..=10).contains(t)) {
            return Err("a similarity is outside 0.3 to 1".into());
        }
        Ok(())
    }
}

/// Spherical k-means (cosine similarity) of the unit vectors `points[i]`, `i` in `members`, into
/// at most `k` clusters: k-means++ starts, then Lloyd iterations. Returns each member's cluster.
fn spherical_kmeans(points: &[f32], d: usize, members: &[usize], k: usize, rng: &mut Rng) -> Vec<usize> {
    let n = members.len();
    let k = k.min(n);
    if k <= 1 {
        return vec![0; n];
    }
    let row = |i: usize| &points[i * d..(i + 1) * d];
    // k-means++: each next start drawn with probability ∝ its distance (1 − cosine) to the
    // nearest start so far
    let mut centroids: Vec<f32> = row(members[rng.range(0, n)]).to_vec();
    let mut nearest = vec![f32::INFINITY; n];
    for c in 1..k {
        let last = &centroids[(c - 1) * d..c * d];
        for (m, &i) in members.iter().enumerate() {
            nearest[m] = nearest[m].min((1.0 - dot(row(i), last)).max(0.0));
        }
        let total: f64 = nearest.iter().map(|&x| f64::from(x)).sum();
        let pick = if total > 0.0 {
            let mut r = rng.f64() * total;
            nearest.iter().position(|&x| {
                r -= f64::from(x);
                r <= 0.0
            })
        } else {
            None
        }
        .unwrap_or_else(|| rng.range(0, n));
        centroids.extend_from_slice(row(members[pick]));
    }
    let mut assignment = vec![usize::MAX; n];
    for _ in 0..ITERATIONS {
        let mut changed = false;
        for (m, &i) in members.iter().enumerate() {
            let p = row(i);
            let best = (0..k)
                .map(|c| dot(p, &centroids[c * d..(c + 1) * d]))
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (c, s)| if s > best.1 { (c, s) } else { best })
                .0;
            if assignment[m] != best {
                assignment[m] = best;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sums = vec![0.0f32; k * d];
        for (m, &i) in members.iter().enumerate() {
            let c = assignment[m];
            for (s, x) in sums[c * d..(c + 1) * d].iter_mut().zip(row(i)) {
                *s += x;
            }
        }
        for (c, sum) in sums.chunks_exact(d).enumerate() {
            let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
            // an emptied cluster keeps its centroid
            if norm > 0.0 {
                for (o, x) in centroids[c * d..(c + 1) * d].iter_mut().zip(sum) {
                    *o = x / norm;
                }
            }
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::WordPiece;
    use crate::text::testing::fixture_json;

    /// Four groups of words on four orthogonal axes; the fixture vocabulary's other words
    /// have zero vectors.
    fn table() -> StaticEmbeddings {
        let wp = WordPiece::from_tokenizer_json(&fixture_json()).unwrap();
        let groups: [&[&str]; 4] = [
            &["buy", "purchase", "shopping"],
            &["money", "salary", "credit"],
            &["pay", "bill", "rent"],
            &["how", "do", "my"],
        ];
        let mut v = vec![0.0f32; wp.vocab_size() * 4];
        let ids: std::collections::HashMap<&str, u32> = wp.whole_words().into_iter().collect();
        for (axis, words) in groups.iter().enumerate() {
            for w in *words {
                v[ids[w] as usize * 4 + axis] = 1.0 + 0.01 * w.len() as f32;
            }
        }
        StaticEmbeddings::from_vectors(wp, 4, v, "fixture").unwrap()
    }

    #[test]
    fn words_of_one_direction_share_every_level_and_paths_nest() {
        let c = WordClusters::build(&table(), &[4, 2], 7).unwrap();
        c.check().unwrap();
        assert_eq!(c.levels(), 2);
        let buy = c.path("buy").unwrap();
        assert_eq!(c.path("purchase").unwrap(), buy);
        assert_eq!(c.path("shopping").unwrap(), buy);
        assert_eq!(c.path("salary").unwrap(), c.path("money").unwrap());
        for w in ["buy", "money", "pay", "how"] {
            let p = c.path(w).unwrap();
            assert_eq!(p[1] / 2, p[0], "{w}: level-2 cluster {} is not a child of {}", p[1], p[0]);
            assert!(p[1] < 8);
        }
        // the four groups are four different finest clusters
        let mut finest: Vec<u16> = ["buy", "money", "pay", "how"].iter().map(|w| c.path(w).unwrap()[1]).collect();
        finest.sort_unstable();
        finest.dedup();
        assert_eq!(finest.len(), 4, "{finest:?}");
        assert_eq!(c.neighbours("rent"), vec!["bill", "pay", "rent"]);
        // not clustered: not in the table, a piece that continues a word, a marker, one letter,
        // a word without a vector
        for w in ["unknownword", "##ing", "[cls]", "i", "card"] {
            assert_eq!(c.path(w), None, "{w}");
        }
        assert_eq!(WordClusters::build(&table(), &[4, 2], 7).unwrap(), c, "the same seed gives the same clusters");
    }

    #[test]
    fn bad_branching_is_refused() {
        let t = table();
        assert!(WordClusters::build(&t, &[], 1).unwrap_err().to_string().contains("clusters"));
        assert!(WordClusters::build(&t, &[1], 1).is_err());
        assert!(WordClusters::build(&t, &[2, 2, 2, 2, 2], 1).is_err());
        let e = WordClusters::build(&t, &[64, 64, 64], 1).unwrap_err().to_string();
        assert!(e.contains("262144"), "{e}");
    }

    #[test]
    fn a_damaged_value_is_refused_by_check() {
        let mut c = WordClusters::build(&table(), &[2, 2], 7).unwrap();
        c.paths[1] = 9;
        assert!(c.check().unwrap_err().contains("level-2"));
        c.paths.pop();
        assert!(c.check().is_err());
    }
}
