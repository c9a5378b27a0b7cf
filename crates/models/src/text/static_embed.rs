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
    /// `vocab × dim`, row-major
    vectors: Vec<f32>,
    /// Where the vectors came from (the encoder's directory name), for `describe`.
    source: String,
}

/// On disk the vectors are f16: half the size, and far below the vectors' own noise.
#[derive(Serialize, Deserialize)]
struct Stored {
    wordpiece: WordPiece,
    dim: usize,
    vectors_f16: Vec<u16>,
    source: String,
}

impl From<StaticEmbeddings> for Stored {
    fn from(s: StaticEmbeddings) -> Stored {
        Stored {
            wordpiece: s.wordpiece,
            dim: s.dim,
            vectors_f16: s.vectors.iter().map(|&v| half::f16::from_f32(v).to_bits()).collect(),
            source: s.source,
        }
    }
}

impl TryFrom<Stored> for StaticEmbeddings {
    type Error = String;
    fn try_from(s: Stored) -> Result<StaticEmbeddings, String> {
        let vectors = s.vectors_f16.iter().map(|&b| half::f16::from_bits(b).to_f32()).collect();
        StaticEmbeddings::from_vectors(s.wordpiece, s.dim, vectors, &s.source).map_err(|e| e.to_string())
    }
}

impl Persist for StaticEmbeddings {
    const KIND: &'static str = "static-embeddings";
    const FORMAT_VERSION: u32 = 1;
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
        Ok(StaticEmbeddings { wordpiece, dim, vectors, source: source.to_string() })
    }

    /// Build from explicit vectors (`vocab × dim`, row-major).
    pub fn from_vectors(wordpiece: WordPiece, dim: usize, vectors: Vec<f32>, source: &str) -> Result<Self, ModelError> {
        if dim == 0 || vectors.len() != wordpiece.vocab_size() * dim {
            return Err(ModelError::Artifact(format!(
                "{} values do not make {} vectors of dimension {dim}",
                vectors.len(),
                wordpiece.vocab_size()
            )));
        }
        Ok(StaticEmbeddings { wordpiece, dim, vectors, source: source.to_string() })
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

    /// The vector of one word piece.
    pub fn vector(&self, id: u32) -> &[f32] {
        &self.vectors[id as usize * self.dim..][..self.dim]
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
            for (o, v) in out.iter_mut().zip(self.vector(id)) {
                *o += w * v;
            }
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
        for (a, b) in table.vector(21).iter().zip(expected) {
            assert!((a - b).abs() < 1e-4, "{:?}", table.vector(21));
        }
        // round trip through f16 storage: within f16 precision
        let back = StaticEmbeddings::from_bytes(&table.to_bytes().unwrap()).unwrap();
        for (a, b) in back.vectors.iter().zip(&table.vectors) {
            assert!((a - b).abs() <= 1e-3 * b.abs().max(1e-2));
        }
        // and a second round trip is exact
        assert_eq!(StaticEmbeddings::from_bytes(&back.to_bytes().unwrap()).unwrap(), back);
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
}
