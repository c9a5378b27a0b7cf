//! Static token vectors distilled from a sentence encoder, and sentence embeddings built from
//! them in microseconds.
//!
//! Distillation (as in Model2Vec): every word piece of the encoder's vocabulary is passed through
//! the encoder alone (`[CLS] piece [SEP]`) and its mean-pooled output kept. A sentence is then the
//! weighted mean of its pieces' vectors, weights `a / (a + p(piece))` (smooth inverse frequency,
//! Arora et al. 2017) from piece frequencies in the training data, L2-normalised. The encoder's
//! knowledge of which words mean the same survives; its sensitivity to word order does not.

use super::bert::{BertEncoder, l2_normalize, mean_rows};
use super::wordpiece::WordPiece;
use crate::{ModelError, Persist};
use serde::{Deserialize, Serialize};

/// A vector for every word piece of a vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
pub struct StaticEmbeddings {
    wordpiece: WordPiece,
    dim: usize,
    vectors: Vectors,
    /// Where the vectors came from (the encoder's directory name and any reduction), for
    /// `describe`.
    source: String,
}

/// The table's values: f32 as distilled, or int8 with one scale per row (a quarter of the
/// memory, read as `scale × value`).
#[derive(Debug, Clone, PartialEq)]
enum Vectors {
    F32(Vec<f32>),
    I8 { values: Int8, scales: Vec<f32> },
}

/// The table shipped in `data/embeddings/` (its README gives the licence, the provenance and
/// the command that rebuilt it), compiled into the binary: an artifact like any table file.
pub static SHIPPED: &[u8] = include_bytes!("../../../../data/embeddings/all-minilm-l6-v2.256.int8.emb");

/// Int8 values: owned, or the compiled-in table's own bytes. Every intent model trained with
/// the shipped table carries a copy of it; loading one finds the copy equal to [`SHIPPED`]'s
/// values and reads those instead, so a server holds no heap copy of the 7.8 MB (the pages
/// are the binary's: shared between processes, read from disk only where touched, and
/// dropped by the kernel under pressure like any file's).
#[derive(Clone)]
enum Int8 {
    Owned(Vec<i8>),
    Shipped(&'static [u8]),
}

impl Int8 {
    /// The compiled-in table's values when `values` equals them, else `values` as they are.
    /// Equality is read from a SHA-256 of `values` (~20 ms for the 7.8 MB), so that the
    /// compiled-in bytes are not read and stay out of memory until a query needs a row.
    fn shared(values: Vec<i8>) -> Int8 {
        match shipped_values() {
            Some(s) if s.len() == values.len() && values_sha256(&values) == SHIPPED_VALUES_SHA256 => Int8::Shipped(s),
            _ => Int8::Owned(values),
        }
    }

    fn len(&self) -> usize {
        match self {
            Int8::Owned(v) => v.len(),
            Int8::Shipped(v) => v.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = i8> + '_ {
        let (owned, shipped): (&[i8], &[u8]) = match self {
            Int8::Owned(v) => (v, &[]),
            Int8::Shipped(v) => (&[], v),
        };
        owned.iter().copied().chain(shipped.iter().map(|&b| b as i8))
    }

    /// `out += w × values[at..at + out.len()]`.
    fn add_scaled(&self, at: usize, w: f32, out: &mut [f32]) {
        let end = at + out.len();
        match self {
            Int8::Owned(v) => {
                for (o, &q) in out.iter_mut().zip(&v[at..end]) {
                    *o += w * f32::from(q);
                }
            }
            Int8::Shipped(v) => {
                for (o, &q) in out.iter_mut().zip(&v[at..end]) {
                    *o += w * f32::from(q as i8);
                }
            }
        }
    }
}

impl PartialEq for Int8 {
    fn eq(&self, other: &Int8) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for Int8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if matches!(self, Int8::Shipped(_)) { " (the shipped table's)" } else { "" };
        write!(f, "{} int8 values{at}", self.len())
    }
}

/// SHA-256 (hex) of [`SHIPPED`]'s int8 values as bytes; a test checks it against the file (a
/// rebuilt table changes it: the test says the new value).
const SHIPPED_VALUES_SHA256: &str = "0d6bfa07d472e86d11005e4ba294ac0b97454cc18dee0d6ce635ae844a08f627";

/// The checksum [`SHIPPED`]'s envelope gives for its payload when [`SHIPPED_VALUES_SHA256`] was
/// recorded. A rebuilt table has another: then no table is taken for a copy of it (each keeps
/// its own values) until both constants are brought up to date — so a build whose constants
/// were forgotten is slower to load, never wrong. The test checks both.
const SHIPPED_PAYLOAD_SHA256: &str = "3a3158f742fb827e59c6bd927fcdf5a6648aee359b40c4fe70abf54d5c6291e1";

/// SHA-256 (hex) of int8 values as bytes.
fn values_sha256(values: &[i8]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buf = [0u8; 4096];
    for chunk in values.chunks(buf.len()) {
        for (b, &v) in buf.iter_mut().zip(chunk) {
            *b = v as u8;
        }
        hasher.update(&buf[..chunk.len()]);
    }
    nivesh_core::hex::lower(&hasher.finalize())
}

/// Where [`SHIPPED`]'s int8 values lie inside it, found once without reading them (the
/// envelope's checksum, which would read them all, is checked by a test instead: these bytes
/// are the binary's own); `None` if the envelope's checksum is not [`SHIPPED_PAYLOAD_SHA256`]
/// or they do not decode, which that test rules out.
fn shipped_values() -> Option<&'static [u8]> {
    #[derive(Deserialize)]
    struct Borrowed<'a> {
        _wordpiece: WordPiece,
        _dim: usize,
        #[serde(borrow)]
        vectors: BorrowedVectors<'a>,
    }
    // the variants of `StoredVectors`, in its order: postcard writes a `Vec<i8>` as its length
    // and one byte per value, as it writes a byte string, which can be borrowed
    #[derive(Deserialize)]
    enum BorrowedVectors<'a> {
        F16(#[allow(dead_code)] Vec<u16>),
        I8 { values: &'a [u8] },
    }
    static VALUES: std::sync::LazyLock<Option<&'static [u8]>> = std::sync::LazyLock::new(|| {
        let (header, rest) = crate::artifact::header(SHIPPED).ok()?;
        if header.kind != StaticEmbeddings::KIND || header.format_version != StaticEmbeddings::FORMAT_VERSION {
            return None;
        }
        if nivesh_core::hex::lower(rest.get(..32)?) != SHIPPED_PAYLOAD_SHA256 {
            return None;
        }
        let payload = rest.get(32..)?;
        match postcard::from_bytes::<Borrowed<'static>>(payload).ok()?.vectors {
            BorrowedVectors::I8 { values } => Some(values),
            BorrowedVectors::F16(_) => None,
        }
    });
    *VALUES
}

/// On disk f32 vectors are stored as f16 (half the size, far below the vectors' own noise);
/// int8 ones as they are.
#[derive(Serialize, Deserialize)]
struct Stored {
    wordpiece: WordPiece,
    dim: usize,
    vectors: StoredVectors,
    source: String,
}

#[derive(Serialize, Deserialize)]
enum StoredVectors {
    F16(Vec<u16>),
    I8 { values: Vec<i8>, scales: Vec<f32> },
}

/// The layout of format version 1 (f16 only); still read, by files and by intent models that
/// carry a table.
#[derive(Deserialize)]
pub(crate) struct StoredV1 {
    wordpiece: WordPiece,
    dim: usize,
    vectors_f16: Vec<u16>,
    source: String,
}

impl TryFrom<StoredV1> for StaticEmbeddings {
    type Error = ModelError;
    fn try_from(s: StoredV1) -> Result<StaticEmbeddings, ModelError> {
        Stored { wordpiece: s.wordpiece, dim: s.dim, vectors: StoredVectors::F16(s.vectors_f16), source: s.source }
            .try_into()
            .map_err(ModelError::Artifact)
    }
}

impl From<StaticEmbeddings> for Stored {
    fn from(s: StaticEmbeddings) -> Stored {
        let vectors = match s.vectors {
            Vectors::F32(v) => StoredVectors::F16(v.iter().map(|&v| half::f16::from_f32(v).to_bits()).collect()),
            Vectors::I8 { values: Int8::Owned(values), scales } => StoredVectors::I8 { values, scales },
            Vectors::I8 { values, scales } => StoredVectors::I8 { values: values.iter().collect(), scales },
        };
        Stored { wordpiece: s.wordpiece, dim: s.dim, vectors, source: s.source }
    }
}

impl TryFrom<Stored> for StaticEmbeddings {
    type Error = String;
    fn try_from(s: Stored) -> Result<StaticEmbeddings, String> {
        match s.vectors {
            StoredVectors::F16(v) => {
                let vectors = v.iter().map(|&b| half::f16::from_bits(b).to_f32()).collect();
                StaticEmbeddings::from_vectors(s.wordpiece, s.dim, vectors, &s.source).map_err(|e| e.to_string())
            }
            StoredVectors::I8 { values, scales } => {
                let rows = s.wordpiece.vocab_size();
                if s.dim == 0 || rows.checked_mul(s.dim) != Some(values.len()) || scales.len() != rows {
                    return Err(format!(
                        "{} int8 values and {} scales do not make {rows} vectors of dimension {}",
                        values.len(),
                        scales.len(),
                        s.dim
                    ));
                }
                if scales.iter().any(|x| !x.is_finite()) {
                    return Err("an int8 row scale is not finite".into());
                }
                Ok(StaticEmbeddings {
                    wordpiece: s.wordpiece,
                    dim: s.dim,
                    vectors: Vectors::I8 { values: Int8::shared(values), scales },
                    source: s.source,
                })
            }
        }
    }
}

impl Persist for StaticEmbeddings {
    const KIND: &'static str = "static-embeddings";
    const FORMAT_VERSION: u32 = 2;

    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        if crate::artifact::header(bytes)?.0.format_version != 1 {
            return crate::artifact::decode(bytes, Self::KIND, Self::FORMAT_VERSION);
        }
        crate::artifact::decode::<StoredV1>(bytes, Self::KIND, 1)?.try_into()
    }
}

impl StaticEmbeddings {
    /// Distil `encoder` into one vector per word piece of `wordpiece`, on `threads` threads;
    /// `progress(done, total)` is called after each batch.
    pub fn distill(
        encoder: &BertEncoder,
        wordpiece: WordPiece,
        source: &str,
        threads: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<StaticEmbeddings, ModelError> {
        let vocab = wordpiece.vocab_size();
        if vocab > encoder.config().vocab_size {
            return Err(ModelError::Artifact(format!(
                "the tokenizer has {vocab} word pieces, the encoder {}",
                encoder.config().vocab_size
            )));
        }
        let dim = encoder.dim();
        let (cls, sep) = (wordpiece.cls_id(), wordpiece.sep_id());
        let threads = threads.max(1);
        let chunk = vocab.div_ceil(threads).max(1);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let parts: Vec<Result<Vec<f32>, ModelError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..vocab)
                .step_by(chunk)
                .map(|lo| {
                    let done = &done;
                    s.spawn(move || {
                        let hi = (lo + chunk).min(vocab);
                        let mut out = Vec::with_capacity((hi - lo) * dim);
                        for b0 in (lo..hi).step_by(64) {
                            let b1 = (b0 + 64).min(hi);
                            let seqs: Vec<[u32; 3]> = (b0..b1).map(|id| [cls, id as u32, sep]).collect();
                            let refs: Vec<&[u32]> = seqs.iter().map(|s| s.as_slice()).collect();
                            let hidden = encoder.forward(&refs)?;
                            for rows in hidden.chunks_exact(3 * dim) {
                                out.extend(mean_rows(rows, dim));
                            }
                            let n = done.fetch_add(b1 - b0, std::sync::atomic::Ordering::Relaxed) + (b1 - b0);
                            progress(n, vocab);
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| Err(ModelError::Artifact("a distillation thread panicked".into())))
                })
                .collect()
        });
        let mut vectors = Vec::with_capacity(vocab * dim);
        for p in parts {
            vectors.extend(p?);
        }
        Ok(StaticEmbeddings { wordpiece, dim, vectors: Vectors::F32(vectors), source: source.to_string() })
    }

    /// Build from explicit vectors (`vocab × dim`, row-major).
    pub fn from_vectors(wordpiece: WordPiece, dim: usize, vectors: Vec<f32>, source: &str) -> Result<Self, ModelError> {
        if dim == 0 || wordpiece.vocab_size().checked_mul(dim) != Some(vectors.len()) {
            return Err(ModelError::Artifact(format!(
                "{} values do not make {} vectors of dimension {dim}",
                vectors.len(),
                wordpiece.vocab_size()
            )));
        }
        if vectors.iter().any(|x| !x.is_finite()) {
            return Err(ModelError::Artifact("a vector holds a value that is not finite".into()));
        }
        Ok(StaticEmbeddings { wordpiece, dim, vectors: Vectors::F32(vectors), source: source.to_string() })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn vocab_size(&self) -> usize {
        self.wordpiece.vocab_size()
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn wordpiece(&self) -> &WordPiece {
        &self.wordpiece
    }

    /// Whether the values are stored as int8 (with a scale per row).
    pub fn is_int8(&self) -> bool {
        matches!(self.vectors, Vectors::I8 { .. })
    }

    /// The vector of one word piece, as f32.
    pub fn vector(&self, id: u32) -> Vec<f32> {
        let mut out = vec![0.0; self.dim];
        self.add_scaled(id, 1.0, &mut out);
        out
    }

    /// `out += w × vector(id)`, without materialising the vector.
    fn add_scaled(&self, id: u32, w: f32, out: &mut [f32]) {
        let at = id as usize * self.dim;
        match &self.vectors {
            Vectors::F32(v) => {
                for (o, x) in out.iter_mut().zip(&v[at..at + self.dim]) {
                    *o += w * x;
                }
            }
            Vectors::I8 { values, scales } => values.add_scaled(at, w * scales[id as usize], &mut out[..self.dim]),
        }
    }

    fn f32_rows(&self) -> Vec<f32> {
        match &self.vectors {
            Vectors::F32(v) => v.clone(),
            Vectors::I8 { .. } => (0..self.vocab_size() as u32).flat_map(|id| self.vector(id)).collect(),
        }
    }

    /// The table projected on its first `dims` principal directions, uncentred (a truncated
    /// SVD, as LSA does), and the share of the rows' energy (sum of squares) they keep.
    ///
    /// Uncentred, because a sentence embedding is a mean of these rows: the direction they
    /// share carries part of what the SIF-weighted mean says. On CLINC150 `val` (C = 1, weight
    /// 1.0) the 256-direction int8 table scores 95.00 % against 95.03 % for all 384 f16
    /// dimensions; centring first (scikit-learn's `PCA`) lost 0.4 points (94.60 %).
    pub fn reduce(&self, dims: usize) -> Result<(StaticEmbeddings, f64), ModelError> {
        let d = self.dim;
        if dims == 0 || dims > d {
            return Err(ModelError::param("dims", format!("{dims} is outside 1..={d}")));
        }
        let rows = self.f32_rows();
        let mut gram = vec![0.0f64; d * d];
        let mut row64 = vec![0.0f64; d];
        for row in rows.chunks_exact(d) {
            for (c, &x) in row64.iter_mut().zip(row) {
                *c = f64::from(x);
            }
            for i in 0..d {
                let ri = row64[i];
                let line = &mut gram[i * d..i * d + d];
                for (j, c) in line.iter_mut().enumerate().skip(i) {
                    *c += ri * row64[j];
                }
            }
        }
        for i in 0..d {
            for j in 0..i {
                gram[i * d + j] = gram[j * d + i];
            }
        }
        let (values, directions) = nivesh_core::eigen::symmetric(&gram, d)
            .ok_or_else(|| ModelError::Artifact("the table holds values that are not finite".into()))?;
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
        let kept: f64 = values[..dims].iter().map(|v| v.max(0.0)).sum();
        let mut out = Vec::with_capacity(self.vocab_size() * dims);
        for row in rows.chunks_exact(d) {
            for k in 0..dims {
                let dir = &directions[k * d..k * d + d];
                let x: f64 = row.iter().zip(dir).map(|(&x, c)| f64::from(x) * c).sum();
                out.push(x as f32);
            }
        }
        let source = format!("{}, {dims} SVD directions", self.source);
        let table = StaticEmbeddings::from_vectors(self.wordpiece.clone(), dims, out, &source)?;
        Ok((table, if total > 0.0 { kept / total } else { 1.0 }))
    }

    /// The same table with int8 values and one scale per row (`max |x| / 127`).
    pub fn quantize_i8(&self) -> StaticEmbeddings {
        let rows = self.f32_rows();
        let mut values = Vec::with_capacity(rows.len());
        let mut scales = Vec::with_capacity(self.vocab_size());
        for row in rows.chunks_exact(self.dim) {
            let max = row.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
            scales.push(scale);
            values.extend(row.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8));
        }
        let source = if self.is_int8() { self.source.clone() } else { format!("{}, int8", self.source) };
        StaticEmbeddings {
            wordpiece: self.wordpiece.clone(),
            dim: self.dim,
            vectors: Vectors::I8 { values: Int8::Owned(values), scales },
            source,
        }
    }

    /// Smooth-inverse-frequency weights `a / (a + p)` per word piece, `p` counted over `texts`
    /// (pieces never seen get weight 1).
    pub fn sif_weights<S: AsRef<str>>(&self, texts: &[S], a: f32) -> Vec<f32> {
        let mut counts = vec![0u64; self.vocab_size()];
        let mut total = 0u64;
        for t in texts {
            for id in self.wordpiece.encode(t.as_ref()) {
                counts[id as usize] += 1;
                total += 1;
            }
        }
        let total = total.max(1) as f32;
        counts.iter().map(|&c| a / (a + c as f32 / total)).collect()
    }

    /// Weighted mean of the text's piece vectors, L2-normalised; `None` when the text has no
    /// pieces. `weights` as from [`Self::sif_weights`].
    pub fn embed(&self, text: &str, weights: &[f32]) -> Option<Vec<f32>> {
        let ids = self.wordpiece.encode(text);
        if ids.is_empty() {
            return None;
        }
        let mut out = vec![0.0f32; self.dim];
        let mut wsum = 0.0f32;
        for id in ids {
            let w = weights.get(id as usize).copied().unwrap_or(1.0);
            wsum += w;
            self.add_scaled(id, w, &mut out);
        }
        if wsum > 0.0 {
            out.iter_mut().for_each(|o| *o /= wsum);
        }
        l2_normalize(&mut out);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::testing::{fixture_json, tiny_bert};

    #[test]
    fn distilled_vectors_are_the_encoders_single_piece_outputs() {
        let (config, weights) = tiny_bert();
        let enc = BertEncoder::from_bytes(&config, &weights).unwrap();
        let wp = WordPiece::from_tokenizer_json(&fixture_json()).unwrap();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let table = StaticEmbeddings::distill(&enc, wp, "tiny", 2, &|_, _| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!((table.vocab_size(), table.dim()), (30, 8));
        assert!(calls.load(std::sync::atomic::Ordering::Relaxed) >= 2);
        // piece 21 ("₹"): mean of the tiny BERT's three output rows for [CLS] ₹ [SEP], from the
        // NumPy reference
        let expected = [0.35698, 0.22507, 0.18341, -0.02483, -0.03678, -0.26611, -0.23440, -0.44842];
        for (a, b) in table.vector(21).into_iter().zip(expected) {
            assert!((a - b).abs() < 1e-4, "{:?}", table.vector(21));
        }
        // round trip through f16 storage: within f16 precision
        let back = StaticEmbeddings::from_bytes(&table.to_bytes().unwrap()).unwrap();
        for (a, b) in back.f32_rows().iter().zip(&table.f32_rows()) {
            assert!((a - b).abs() <= 1e-3 * b.abs().max(1e-2));
        }
        // and a second round trip is exact
        assert_eq!(StaticEmbeddings::from_bytes(&back.to_bytes().unwrap()).unwrap(), back);
    }

    #[test]
    fn a_copy_of_the_shipped_table_reads_the_compiled_in_bytes() {
        let shipped = StaticEmbeddings::from_bytes(SHIPPED).unwrap();
        let Vectors::I8 { values, scales } = &shipped.vectors else { panic!("the shipped table is int8") };
        let owned: Vec<i8> = values.iter().collect();
        assert_eq!(values_sha256(&owned), SHIPPED_VALUES_SHA256, "set SHIPPED_VALUES_SHA256 to the table's");
        let (_, rest) = crate::artifact::header(SHIPPED).unwrap();
        assert_eq!(
            nivesh_core::hex::lower(&rest[..32]),
            SHIPPED_PAYLOAD_SHA256,
            "set SHIPPED_PAYLOAD_SHA256 to the table's"
        );
        assert!(matches!(values, Int8::Shipped(v) if v.len() == shipped.vocab_size() * shipped.dim()), "{values:?}");
        // it saves to the very bytes it came from, and a copy loaded from them (a model
        // carrying the table) reads the compiled-in values again
        let bytes = shipped.to_bytes().unwrap();
        assert!(bytes == SHIPPED);
        let copy = StaticEmbeddings::from_bytes(&bytes).unwrap();
        assert!(matches!(&copy.vectors, Vectors::I8 { values: Int8::Shipped(_), .. }));
        assert_eq!(copy, shipped);
        // one value changed: the table keeps its own values, and reads them
        let mut changed: Vec<i8> = values.iter().collect();
        let at = 7 * shipped.dim() + 3;
        changed[at] = changed[at].wrapping_add(1);
        let stored = Stored {
            wordpiece: shipped.wordpiece.clone(),
            dim: shipped.dim(),
            vectors: StoredVectors::I8 { values: changed.clone(), scales: scales.clone() },
            source: shipped.source.clone(),
        };
        let own = StaticEmbeddings::try_from(stored).unwrap();
        assert!(matches!(&own.vectors, Vectors::I8 { values: Int8::Owned(v), .. } if *v == changed));
        assert_ne!(own, shipped);
        let (a, b) = (own.vector(7), shipped.vector(7));
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            let expected = if k == 3 { y + scales[7] } else { *y };
            assert!((x - expected).abs() < 1e-6, "{k}: {x} {y}");
        }
        assert_eq!(own.vector(8), shipped.vector(8));
    }

    #[test]
    fn sentence_embedding_is_the_sif_weighted_mean() {
        let wp = WordPiece::from_tokenizer_json(&fixture_json()).unwrap();
        let mut v = vec![0.0f32; 30 * 2];
        v[7 * 2] = 1.0; // "pay" = (1, 0)
        v[10 * 2 + 1] = 1.0; // "rent" = (0, 1)
        let t = StaticEmbeddings::from_vectors(wp, 2, v, "fixture").unwrap();
        // "pay" seen 3 times, "rent" once, in 4 pieces: weights a/(a+p) with a = 0.25
        let w = t.sif_weights(&["pay pay", "pay rent"], 0.25);
        assert!((w[7] - 0.25 / (0.25 + 0.75)).abs() < 1e-6 && (w[10] - 0.5).abs() < 1e-6 && w[4] == 1.0);
        let e = t.embed("pay rent", &w).unwrap();
        // (0.25, 0.5) normalised
        let n = (0.25f32 * 0.25 + 0.25).sqrt();
        assert!((e[0] - 0.25 / n).abs() < 1e-6 && (e[1] - 0.5 / n).abs() < 1e-6, "{e:?}");
        assert!(t.embed("  ", &w).is_none());
        assert!(StaticEmbeddings::from_vectors(t.wordpiece.clone(), 2, vec![0.0; 3], "x").is_err());
    }

    #[test]
    fn svd_keeps_the_directions_of_largest_energy_and_int8_stays_close() {
        let wp = WordPiece::from_tokenizer_json(&fixture_json()).unwrap();
        // 30 pieces in 3 dimensions: a large spread along (1, 1, 0) and a small one along
        // (1, −1, 0), in pairs ±b so that the two are exactly uncorrelated; nothing along z
        let mut rng = nivesh_core::rng::Rng::new(9);
        let mut v = Vec::new();
        for _ in 0..15 {
            let (a, b) = (rng.normal() * 3.0, rng.normal() * 0.1);
            v.extend([(a + b) as f32, (a - b) as f32, 0.0]);
            v.extend([(a - b) as f32, (a + b) as f32, 0.0]);
        }
        let t = StaticEmbeddings::from_vectors(wp, 3, v.clone(), "fixture").unwrap();
        let (r, kept) = t.reduce(1).unwrap();
        assert_eq!((r.dim(), r.vocab_size()), (1, 30));
        assert!(kept > 0.99 && kept < 1.0, "{kept}");
        assert_eq!(r.source(), "fixture, 1 SVD directions");
        // the one direction is ±(1, 1, 0)/√2: each value is ±(x + y)/√2
        let sign = (r.vector(0)[0] * (v[0] + v[1])).signum();
        for (id, row) in v.chunks(3).enumerate() {
            let want = sign * (row[0] + row[1]) / std::f32::consts::SQRT_2;
            assert!((r.vector(id as u32)[0] - want).abs() < 1e-4, "{id}");
        }
        let (full, all) = t.reduce(3).unwrap();
        assert!((all - 1.0).abs() < 1e-9 && full.dim() == 3);
        assert!(t.reduce(0).is_err() && t.reduce(4).is_err());

        let q = t.quantize_i8();
        assert!(q.is_int8() && q.source() == "fixture, int8");
        for id in 0..30u32 {
            let (a, b) = (t.vector(id), q.vector(id));
            let max = a.iter().fold(0.0f32, |m, x| m.max(x.abs()));
            assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= max / 254.0 + 1e-6), "{a:?} {b:?}");
        }
        // stored as it is: the round trip is exact, and sentence embeddings agree with f32's
        let back = StaticEmbeddings::from_bytes(&q.to_bytes().unwrap()).unwrap();
        assert_eq!(back, q);
        let w = t.sif_weights(&["pay rent"], 1e-3);
        let (e, f) = (t.embed("pay rent", &w).unwrap(), q.embed("pay rent", &w).unwrap());
        assert!(e.iter().zip(&f).all(|(x, y)| (x - y).abs() < 0.02), "{e:?} {f:?}");
    }

    #[test]
    fn version_1_files_are_still_read() {
        let wp = WordPiece::from_tokenizer_json(&fixture_json()).unwrap();
        #[derive(Serialize)]
        struct V1 {
            wordpiece: WordPiece,
            dim: usize,
            vectors_f16: Vec<u16>,
            source: String,
        }
        let v1 = V1 {
            wordpiece: wp.clone(),
            dim: 1,
            vectors_f16: (0..30).map(|i| half::f16::from_f32(i as f32 / 4.0).to_bits()).collect(),
            source: "old".into(),
        };
        let bytes = crate::artifact::wrap(StaticEmbeddings::KIND, 1, &postcard::to_allocvec(&v1).unwrap());
        let t = StaticEmbeddings::from_bytes(&bytes).unwrap();
        assert_eq!((t.dim(), t.vector(6), t.source()), (1, vec![1.5], "old"));
        assert!(!t.is_int8());
    }
}
