//! TF-IDF features over word n-grams and character n-grams (inside word boundaries, as
//! scikit-learn's `char_wb`), sublinear tf, smooth idf, each block L2-normalised and the
//! concatenation L2-normalised again.
//!
//! N-grams are never materialised as strings: each is hashed (64-bit FNV-1a, stable across
//! builds and platforms) as it is read, and the vocabulary maps hashes to column indices.

use super::tokenize::{normalize_lowercase, tokenize};
use crate::{ModelError, Params};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hyper-parameters of the vectorizer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TfidfParams {
    /// Word n-gram lengths, inclusive; `(0, 0)` turns word features off.
    pub word_ngrams: (usize, usize),
    /// Character n-gram lengths inside words, inclusive; `(0, 0)` turns them off.
    pub char_ngrams: (usize, usize),
    /// Drop n-grams seen in fewer documents.
    pub min_df: usize,
    /// Use `1 + ln(tf)` instead of `tf`.
    pub sublinear_tf: bool,
    /// Word n-grams of length >= 2 also span sentence-start and sentence-end markers, so
    /// "<s> how" and "balance </s>" are features.
    pub boundary_markers: bool,
    /// Skip-bigrams: word pairs `(w_i, w_j)` with `2 <= j - i <= skip_window` (0 turns them off).
    pub skip_window: usize,
    /// Weight word n-grams by inverse document frequency.
    pub word_idf: bool,
    /// Weight character n-grams by inverse document frequency.
    pub char_idf: bool,
}

impl Default for TfidfParams {
    fn default() -> Self {
        TfidfParams {
            word_ngrams: (1, 2),
            char_ngrams: (2, 5),
            min_df: 1,
            sublinear_tf: true,
            boundary_markers: true,
            skip_window: 3,
            word_idf: true,
            char_idf: false,
        }
    }
}

impl Params for TfidfParams {
    fn validate(&self) -> Result<(), ModelError> {
        for (field, (lo, hi)) in [("word_ngrams", self.word_ngrams), ("char_ngrams", self.char_ngrams)] {
            if lo > hi || (lo == 0 && hi != 0) {
                return Err(ModelError::param(
                    field,
                    format!("({lo}, {hi}) is not a range n_min <= n_max with n_min >= 1"),
                ));
            }
            if hi > 8 {
                return Err(ModelError::param(field, format!("n_max {hi} is above 8")));
            }
        }
        if self.word_ngrams.1 == 0 && self.char_ngrams.1 == 0 {
            return Err(ModelError::param("word_ngrams", "word and character n-grams are both off"));
        }
        if self.min_df == 0 {
            return Err(ModelError::param("min_df", "must be at least 1"));
        }
        Ok(())
    }
}

/// A sparse row: sorted column indices and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl SparseVec {
    pub fn nnz(&self) -> usize {
        self.idx.len()
    }
    pub fn dot(&self, dense: &[f32]) -> f32 {
        self.idx.iter().zip(&self.val).map(|(&i, &v)| dense.get(i as usize).copied().unwrap_or(0.0) * v).sum()
    }
    pub fn norm_sq(&self) -> f32 {
        self.val.iter().map(|v| v * v).sum()
    }
}

/// Hasher for keys that are already well-mixed 64-bit hashes.
#[derive(Default, Clone, Copy)]
pub struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashIndex = HashMap<u64, u32, BuildHasherDefault<IdentityHasher>>;

pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
pub(crate) const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn fnv_char(mut h: u64, c: char) -> u64 {
    let mut buf = [0u8; 4];
    for &b in c.encode_utf8(&mut buf).as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Final mixing so that keys spread over the hash map's buckets (FNV's low bits are weak).
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const WORD: u64 = 1;
const CHAR: u64 = 2;

/// The words of a text as the vectorizer sees them: normalised, lower-cased, punctuation other
/// than currency symbols dropped.
pub fn analyzer_words(text: &str) -> Vec<Vec<char>> {
    tokenize(&normalize_lowercase(text))
        .into_iter()
        .filter(|t| t.text.chars().any(|c| c.is_alphanumeric() || matches!(c, '₹' | '$' | '€' | '£' | '%')))
        .map(|t| t.text.chars().collect())
        .collect()
}

/// The key of a word's unigram (as `for_each_ngram` emits it).
fn unigram_key(w: &[char]) -> u64 {
    let mut h = FNV_OFFSET ^ WORD;
    for &c in w {
        h = fnv_char(h, c);
    }
    mix(h ^ (1u64 << 56))
}

/// Call `emit(block, key)` for every n-gram of `words` (block 0 = word, 1 = char).
fn for_each_ngram(p: &TfidfParams, words: &[Vec<char>], mut emit: impl FnMut(usize, u64)) {
    let (wlo, whi) = p.word_ngrams;
    if whi > 0 {
        const BOS: &[char] = &['\u{2}'];
        const EOS: &[char] = &['\u{3}'];
        let mut seq: Vec<&[char]> = Vec::with_capacity(words.len() + 2);
        if p.boundary_markers {
            seq.push(BOS);
        }
        seq.extend(words.iter().map(Vec::as_slice));
        if p.boundary_markers {
            seq.push(EOS);
        }
        let inner = if p.boundary_markers { 1..seq.len().saturating_sub(1) } else { 0..seq.len() };
        for start in 0..seq.len() {
            let mut h = FNV_OFFSET ^ WORD;
            for (n, w) in seq[start..].iter().take(whi).enumerate() {
                if n > 0 {
                    h = fnv_char(h, ' ');
                }
                for &c in *w {
                    h = fnv_char(h, c);
                }
                // unigrams only of real words; longer n-grams may include a marker
                let is_marker_unigram = n == 0 && !inner.contains(&start);
                if n + 1 >= wlo && !is_marker_unigram {
                    emit(0, mix(h ^ ((n as u64 + 1) << 56)));
                }
            }
        }
        if p.skip_window >= 2 {
            for i in 0..words.len() {
                for j in i + 2..words.len().min(i + p.skip_window + 1) {
                    let mut h = FNV_OFFSET ^ WORD;
                    for &c in &words[i] {
                        h = fnv_char(h, c);
                    }
                    h = fnv_char(h, '\u{1}');
                    for &c in &words[j] {
                        h = fnv_char(h, c);
                    }
                    emit(0, mix(h ^ (0xFFu64 << 56)));
                }
            }
        }
    }
    let (clo, chi) = p.char_ngrams;
    if chi > 0 {
        let mut padded: Vec<char> = Vec::with_capacity(32);
        for w in words {
            padded.clear();
            padded.push(' ');
            padded.extend_from_slice(w);
            padded.push(' ');
            for start in 0..padded.len() {
                let mut h = FNV_OFFSET ^ CHAR;
                for (n, &c) in padded[start..].iter().take(chi).enumerate() {
                    h = fnv_char(h, c);
                    if n + 1 >= clo {
                        emit(1, mix(h ^ ((n as u64 + 1) << 56)));
                    }
                }
            }
        }
    }
}

/// A fitted TF-IDF vectorizer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "TfidfRepr", from = "TfidfRepr")]
pub struct TfidfVectorizer {
    params: TfidfParams,
    index: HashIndex,
    idf: Vec<f32>,
}

#[derive(Serialize, Deserialize)]
struct TfidfRepr {
    params: TfidfParams,
    /// Column `i` is the n-gram with hash `keys[i]`.
    keys: Vec<u64>,
    idf: Vec<f32>,
}

impl From<TfidfVectorizer> for TfidfRepr {
    fn from(v: TfidfVectorizer) -> Self {
        let mut keys = vec![0u64; v.idf.len()];
        for (&k, &i) in &v.index {
            keys[i as usize] = k;
        }
        TfidfRepr { params: v.params, keys, idf: v.idf }
    }
}

impl From<TfidfRepr> for TfidfVectorizer {
    fn from(r: TfidfRepr) -> Self {
        let index = r.keys.iter().enumerate().map(|(i, &k)| (k, i as u32)).collect();
        TfidfVectorizer { params: r.params, index, idf: r.idf }
    }
}

impl TfidfVectorizer {
    /// Share of `doc`'s words that are not in the vocabulary as unigrams (0 for no words).
    pub fn oov_share(&self, doc: &str) -> f64 {
        self.oov_share_of(&analyzer_words(doc))
    }

    /// [`Self::transform`] and [`Self::oov_share`] of `doc`, which is analysed once for both.
    pub fn transform_with_oov(&self, doc: &str) -> (SparseVec, f64) {
        let words = analyzer_words(doc);
        (self.transform_words(&words), self.oov_share_of(&words))
    }

    fn oov_share_of(&self, words: &[Vec<char>]) -> f64 {
        if words.is_empty() {
            return 0.0;
        }
        let oov = words.iter().filter(|w| !self.index.contains_key(&unigram_key(w))).count();
        oov as f64 / words.len() as f64
    }

    /// Learn the vocabulary and idf weights from `docs`.
    pub fn fit<S: AsRef<str>>(params: &TfidfParams, docs: &[S]) -> Result<Self, ModelError> {
        params.validate()?;
        if docs.is_empty() {
            return Err(ModelError::Data("no documents to fit the vectorizer".into()));
        }
        // document frequency and block (0 word, 1 char) of every n-gram
        let mut df: HashMap<u64, (u32, u8), BuildHasherDefault<IdentityHasher>> = HashMap::default();
        let mut seen: Vec<(u64, u8)> = Vec::new();
        for d in docs {
            seen.clear();
            for_each_ngram(params, &analyzer_words(d.as_ref()), |block, k| seen.push((k, block as u8)));
            seen.sort_unstable();
            seen.dedup();
            for &(k, block) in &seen {
                df.entry(k).or_insert((0, block)).0 += 1;
            }
        }
        let mut kept: Vec<(u64, (u32, u8))> =
            df.into_iter().filter(|&(_, (c, _))| c as usize >= params.min_df).collect();
        kept.sort_unstable();
        let n = docs.len() as f32;
        let idf = kept
            .iter()
            .map(|&(_, (c, block))| {
                let weighted = if block == 0 { params.word_idf } else { params.char_idf };
                if weighted { ((1.0 + n) / (1.0 + c as f32)).ln() + 1.0 } else { 1.0 }
            })
            .collect();
        let index = kept.iter().enumerate().map(|(i, &(k, _))| (k, i as u32)).collect();
        Ok(TfidfVectorizer { params: params.clone(), index, idf })
    }

    /// Number of columns.
    pub fn dim(&self) -> usize {
        self.idf.len()
    }

    pub fn params(&self) -> &TfidfParams {
        &self.params
    }

    /// The TF-IDF row of one document.
    pub fn transform(&self, doc: &str) -> SparseVec {
        self.transform_words(&analyzer_words(doc))
    }

    fn transform_words(&self, words: &[Vec<char>]) -> SparseVec {
        // room for every n-gram, so that the lists never grow while they fill
        let chars: usize = words.iter().map(|w| w.len() + 2).sum();
        let (_, whi) = self.params.word_ngrams;
        let (clo, chi) = self.params.char_ngrams;
        let word_grams = (words.len() + 2) * (whi + self.params.skip_window);
        let char_grams = chars * (chi + 1).saturating_sub(clo);
        let mut hits: [Vec<u32>; 2] = [Vec::with_capacity(word_grams), Vec::with_capacity(char_grams)];
        for_each_ngram(&self.params, words, |block, k| {
            if let Some(&i) = self.index.get(&k) {
                hits[block].push(i);
            }
        });
        let mut idx = Vec::with_capacity(hits[0].len() + hits[1].len());
        let mut val = Vec::with_capacity(idx.capacity());
        // where the word block's run ends and the character block's begins
        let mut split = 0;
        let active = hits.iter().filter(|h| !h.is_empty()).count().max(1) as f32;
        for (block, h) in hits.iter_mut().enumerate() {
            if h.is_empty() {
                continue;
            }
            h.sort_unstable();
            let from = idx.len();
            let mut j = 0;
            while j < h.len() {
                let mut k = j;
                while k < h.len() && h[k] == h[j] {
                    k += 1;
                }
                let tf = (k - j) as f32;
                let tf = if self.params.sublinear_tf { 1.0 + tf.ln() } else { tf };
                idx.push(h[j]);
                val.push(tf * self.idf[h[j] as usize]);
                j = k;
            }
            // each block to unit length, then the blocks share the total equally
            let norm = val[from..].iter().map(|v| v * v).sum::<f32>().sqrt() * active.sqrt();
            if norm > 0.0 {
                for v in &mut val[from..] {
                    *v /= norm;
                }
            }
            if block == 0 {
                split = idx.len();
            }
        }
        // blocks use disjoint hash keys but share one column space: merge the two sorted runs
        let mut row = SparseVec { idx: Vec::with_capacity(idx.len()), val: Vec::with_capacity(idx.len()) };
        let (mut a, mut b) = (0, split);
        while a < split || b < idx.len() {
            let take_a = b >= idx.len() || (a < split && idx[a] < idx[b]);
            let k = if take_a { a } else { b };
            row.idx.push(idx[k]);
            row.val.push(val[k]);
            if take_a {
                a += 1;
            } else {
                b += 1;
            }
        }
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_vocabulary_share_counts_unseen_words() {
        let v = TfidfVectorizer::fit(&TfidfParams::default(), &["pay my bill", "show my balance"]).unwrap();
        assert_eq!(v.oov_share("Pay my BILL"), 0.0);
        assert!((v.oov_share("pay your bill") - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(v.oov_share("!!"), 0.0);
        // one analysis for both: the same row and share as apart
        for doc in ["pay your bill", "Show my BALANCE now", "!!", ""] {
            let (row, oov) = v.transform_with_oov(doc);
            assert_eq!((row, oov.to_bits()), (v.transform(doc), v.oov_share(doc).to_bits()), "{doc}");
        }
    }

    #[test]
    fn rows_are_unit_length_and_deterministic() {
        let docs = ["kitna paisa bachega", "can I afford a ₹50k phone", "paisa paisa paisa"];
        let v = TfidfVectorizer::fit(&TfidfParams::default(), &docs).unwrap();
        for d in docs {
            let row = v.transform(d);
            assert!((row.norm_sq() - 1.0).abs() < 1e-5, "{d}: {}", row.norm_sq());
            assert!(row.idx.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(row, v.transform(d));
        }
        // unseen text has no features
        assert_eq!(v.transform("zzz qqq").nnz(), 0);
        // sublinear tf: repeating a word does not triple its weight
        let one = v.transform("paisa");
        let three = v.transform("paisa paisa paisa");
        assert_eq!(one.idx, three.idx.iter().copied().filter(|i| one.idx.contains(i)).collect::<Vec<_>>());
    }

    #[test]
    fn serde_round_trip_keeps_columns() {
        let docs = ["hdfc savings", "sbi credit card bill", "swiggy order"];
        let v = TfidfVectorizer::fit(&TfidfParams::default(), &docs).unwrap();
        let bytes = postcard::to_allocvec(&v).unwrap();
        let back: TfidfVectorizer = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.transform("sbi card"), v.transform("sbi card"));
    }

    #[test]
    fn invalid_params_name_the_field() {
        let p = TfidfParams { char_ngrams: (5, 2), ..Default::default() };
        assert!(p.validate().unwrap_err().to_string().contains("char_ngrams"));
        let p = TfidfParams { min_df: 0, ..Default::default() };
        assert!(p.validate().unwrap_err().to_string().contains("min_df"));
    }
}
