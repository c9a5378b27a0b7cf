//! The forward pass of a BERT encoder (as in sentence-transformers' all-MiniLM-L6-v2), on the
//! CPU in plain Rust, from a `config.json` and `model.safetensors` given as bytes.
//!
//! Used offline, to distil a sentence encoder into static token vectors
//! ([`super::StaticEmbeddings::distill`]), and per query by the intent classifier's contextual
//! mode ([`SentenceEncoder`], its files copied into the model). One fixed
//! architecture needs ~200 lines; a general tensor framework (candle) would add ~300 crates and
//! two C/C++ builds to every build of the project.

use crate::ModelError;
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

/// The part of a Hugging Face BERT `config.json` the forward pass needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f32,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f32 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}

struct Linear {
    /// `in × out`, row-major (the transpose of PyTorch's `out × in`)
    wt: Vec<f32>,
    b: Vec<f32>,
    n_in: usize,
    n_out: usize,
}

struct LayerNorm {
    g: Vec<f32>,
    b: Vec<f32>,
}

struct Layer {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ln1: LayerNorm,
    up: Linear,
    down: Linear,
    ln2: LayerNorm,
}

/// A BERT encoder's weights, in f32.
pub struct BertEncoder {
    config: BertConfig,
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    ln: LayerNorm,
    layers: Vec<Layer>,
    /// Matrix products by the SIMD kernels ([`BertEncoder::with_fast_matmul`]).
    fast_matmul: bool,
}

impl std::fmt::Debug for BertEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BertEncoder").field("config", &self.config).finish_non_exhaustive()
    }
}

struct Weights<'a> {
    st: SafeTensors<'a>,
    prefix: &'static str,
}

impl Weights<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        let full = format!("{}{name}", self.prefix);
        let t =
            self.st.tensor(&full).map_err(|_| ModelError::Artifact(format!("model.safetensors: no tensor {full}")))?;
        if t.shape() != shape {
            return Err(ModelError::Artifact(format!(
                "model.safetensors: {full} has shape {:?}, config.json implies {shape:?}",
                t.shape()
            )));
        }
        let d = t.data();
        let v: Vec<f32> = match t.dtype() {
            Dtype::F32 => d.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            Dtype::F16 => d.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            Dtype::BF16 => d.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            other => {
                return Err(ModelError::Artifact(format!(
                    "model.safetensors: {full} is {other:?}; f32/f16/bf16 expected"
                )));
            }
        };
        Ok(v)
    }

    fn linear(&self, name: &str, n_in: usize, n_out: usize) -> Result<Linear, ModelError> {
        let w = self.get(&format!("{name}.weight"), &[n_out, n_in])?;
        let mut wt = vec![0.0; n_in * n_out];
        for o in 0..n_out {
            for i in 0..n_in {
                wt[i * n_out + o] = w[o * n_in + i];
            }
        }
        Ok(Linear { wt, b: self.get(&format!("{name}.bias"), &[n_out])?, n_in, n_out })
    }

    fn layer_norm(&self, name: &str, h: usize) -> Result<LayerNorm, ModelError> {
        Ok(LayerNorm { g: self.get(&format!("{name}.weight"), &[h])?, b: self.get(&format!("{name}.bias"), &[h])? })
    }
}

impl Linear {
    /// `x` (`rows × n_in`) → `rows × n_out`. `fast`: one matrix product by nalgebra's `gemm`
    /// (`matrixmultiply`'s blocked SIMD kernels, ~3× faster, chosen by the CPU at run time, so
    /// the last bits differ between machines); else a plain loop whose rounding depends only on
    /// the build (distillation uses it, so that the shipped table rebuilds bit for bit).
    fn apply(&self, x: &[f32], rows: usize, fast: bool) -> Vec<f32> {
        let (n_in, n_out) = (self.n_in, self.n_out);
        let mut out = Vec::with_capacity(rows * n_out);
        for _ in 0..rows {
            out.extend_from_slice(&self.b);
        }
        if fast {
            // row-major is column-major transposed: outᵀ (n_out × rows) += wtᵀ (n_out × n_in) · xᵀ
            let w = nalgebra::DMatrixView::from_slice(&self.wt, n_out, n_in);
            let xt = nalgebra::DMatrixView::from_slice(&x[..rows * n_in], n_in, rows);
            let mut o = nalgebra::DMatrixViewMut::from_slice(&mut out, n_out, rows);
            o.gemm(1.0, &w, &xt, 1.0);
            return out;
        }
        // blocks of rows keep one weight row in L1 while it is used
        for r0 in (0..rows).step_by(16) {
            let r1 = (r0 + 16).min(rows);
            for k in 0..n_in {
                let w = &self.wt[k * n_out..(k + 1) * n_out];
                for r in r0..r1 {
                    let a = x[r * n_in + k];
                    if a != 0.0 {
                        for (o, &wv) in out[r * n_out..(r + 1) * n_out].iter_mut().zip(w) {
                            *o += a * wv;
                        }
                    }
                }
            }
        }
        out
    }
}

impl LayerNorm {
    fn apply(&self, x: &mut [f32], eps: f32) {
        let h = self.g.len();
        for row in x.chunks_exact_mut(h) {
            let mean = row.iter().sum::<f32>() / h as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
            let inv = 1.0 / (var + eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.g).zip(&self.b) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + libm::erff(x / std::f32::consts::SQRT_2))
}

impl BertEncoder {
    /// Read a BERT encoder from its `config.json` text and `model.safetensors` bytes. Tensor
    /// names may carry a `bert.` prefix (as in `BertForMaskedLM` checkpoints).
    pub fn from_bytes(config_json: &str, safetensors: &[u8]) -> Result<BertEncoder, ModelError> {
        let config: BertConfig =
            serde_json::from_str(config_json).map_err(|e| ModelError::Artifact(format!("config.json: {e}")))?;
        if config.hidden_act != "gelu" {
            return Err(ModelError::Artifact(format!(
                "config.json: hidden_act {:?} is not supported (gelu expected)",
                config.hidden_act
            )));
        }
        let (h, heads) = (config.hidden_size, config.num_attention_heads);
        if heads == 0 || h % heads != 0 {
            return Err(ModelError::Artifact(format!(
                "config.json: hidden_size {h} is not a multiple of num_attention_heads {heads}"
            )));
        }
        let st = SafeTensors::deserialize(safetensors)
            .map_err(|e| ModelError::Artifact(format!("model.safetensors: {e}")))?;
        let prefix = if st.names().iter().any(|n| n.starts_with("bert.")) { "bert." } else { "" };
        let w = Weights { st, prefix };
        let f = config.intermediate_size;
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}.");
            layers.push(Layer {
                q: w.linear(&format!("{p}attention.self.query"), h, h)?,
                k: w.linear(&format!("{p}attention.self.key"), h, h)?,
                v: w.linear(&format!("{p}attention.self.value"), h, h)?,
                o: w.linear(&format!("{p}attention.output.dense"), h, h)?,
                ln1: w.layer_norm(&format!("{p}attention.output.LayerNorm"), h)?,
                up: w.linear(&format!("{p}intermediate.dense"), h, f)?,
                down: w.linear(&format!("{p}output.dense"), f, h)?,
                ln2: w.layer_norm(&format!("{p}output.LayerNorm"), h)?,
            });
        }
        Ok(BertEncoder {
            word: w.get("embeddings.word_embeddings.weight", &[config.vocab_size, h])?,
            position: w.get("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?,
            token_type: w.get("embeddings.token_type_embeddings.weight", &[config.type_vocab_size, h])?,
            ln: w.layer_norm("embeddings.LayerNorm", h)?,
            layers,
            config,
            fast_matmul: false,
        })
    }

    /// Run the matrix products on `matrixmultiply`'s SIMD kernels (through nalgebra's gemm):
    /// ~3× faster in batches, with rounding that depends on the CPU and on the batch's shape, so
    /// a text embedded alone and in a batch may differ in the last bits (the contextual mode's
    /// per-query encoder, where that does not matter); off by
    /// default, so that a distilled table is the same bytes wherever it is rebuilt.
    pub fn with_fast_matmul(mut self) -> Self {
        self.fast_matmul = true;
        self
    }

    pub fn config(&self) -> &BertConfig {
        &self.config
    }

    pub fn dim(&self) -> usize {
        self.config.hidden_size
    }

    /// Last hidden states of several sequences at once, concatenated (`Σ len × hidden`). Each
    /// sequence attends only to itself. Ids must be below `vocab_size`, lengths within
    /// `max_position_embeddings`.
    pub fn forward(&self, seqs: &[&[u32]]) -> Result<Vec<f32>, ModelError> {
        let h = self.config.hidden_size;
        let rows: usize = seqs.iter().map(|s| s.len()).sum();
        let mut x = Vec::with_capacity(rows * h);
        for s in seqs {
            if s.len() > self.config.max_position_embeddings {
                return Err(ModelError::input(
                    "ids",
                    format!("{} ids exceed max_position_embeddings {}", s.len(), self.config.max_position_embeddings),
                ));
            }
            for (pos, &id) in s.iter().enumerate() {
                let id = id as usize;
                if id >= self.config.vocab_size {
                    return Err(ModelError::input("ids", format!("id {id} is outside the vocabulary")));
                }
                let (wv, pv, tv) = (&self.word[id * h..][..h], &self.position[pos * h..][..h], &self.token_type[..h]);
                x.extend((0..h).map(|j| wv[j] + pv[j] + tv[j]));
            }
        }
        let eps = self.config.layer_norm_eps;
        self.ln.apply(&mut x, eps);
        let heads = self.config.num_attention_heads;
        let dh = h / heads;
        let scale = 1.0 / (dh as f32).sqrt();
        for layer in &self.layers {
            let fast = self.fast_matmul;
            let (q, k, v) =
                (layer.q.apply(&x, rows, fast), layer.k.apply(&x, rows, fast), layer.v.apply(&x, rows, fast));
            let mut ctx = vec![0.0f32; rows * h];
            let mut start = 0;
            for s in seqs {
                let n = s.len();
                let mut att = vec![0.0f32; n];
                for hd in 0..heads {
                    let off = hd * dh;
                    for i in 0..n {
                        let qi = &q[(start + i) * h + off..][..dh];
                        for (j, a) in att.iter_mut().enumerate() {
                            let kj = &k[(start + j) * h + off..][..dh];
                            *a = qi.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() * scale;
                        }
                        let max = att.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                        let mut sum = 0.0;
                        for a in att.iter_mut() {
                            *a = (*a - max).exp();
                            sum += *a;
                        }
                        let out = &mut ctx[(start + i) * h + off..][..dh];
                        for (j, a) in att.iter().enumerate() {
                            let w = a / sum;
                            for (o, vv) in out.iter_mut().zip(&v[(start + j) * h + off..][..dh]) {
                                *o += w * vv;
                            }
                        }
                    }
                }
                start += n;
            }
            let mut attn = layer.o.apply(&ctx, rows, fast);
            for (a, xv) in attn.iter_mut().zip(&x) {
                *a += xv;
            }
            layer.ln1.apply(&mut attn, eps);
            let mut up = layer.up.apply(&attn, rows, fast);
            for u in up.iter_mut() {
                *u = gelu(*u);
            }
            let mut down = layer.down.apply(&up, rows, fast);
            for (d, a) in down.iter_mut().zip(&attn) {
                *d += a;
            }
            layer.ln2.apply(&mut down, eps);
            x = down;
        }
        Ok(x)
    }

    /// Mean-pooled, L2-normalised sentence embedding of one id sequence (with its markers), as
    /// sentence-transformers computes it.
    pub fn embed(&self, ids: &[u32]) -> Result<Vec<f32>, ModelError> {
        let hidden = self.forward(&[ids])?;
        let mut e = mean_rows(&hidden, self.dim());
        l2_normalize(&mut e);
        Ok(e)
    }
}

/// Most word pieces a sentence is encoded with (the queries are short; all-MiniLM-L6-v2 was
/// trained on 128).
pub const MAX_SENTENCE_PIECES: usize = 128;

/// A sentence encoder's files, as bytes: what a model copies to stay self-contained (the
/// contextual mode of the intent classifier). Read from a local directory by the caller.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EncoderFiles {
    /// Where it came from (the directory's name).
    pub source: String,
    pub config_json: String,
    pub tokenizer_json: String,
    /// `model.safetensors`.
    pub weights: Vec<u8>,
}

impl std::fmt::Debug for EncoderFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncoderFiles").field("source", &self.source).field("weights", &self.weights.len()).finish()
    }
}

impl EncoderFiles {
    /// Build the encoder and its tokenizer (weights checked against the configuration, the
    /// tokenizer's vocabulary against the encoder's).
    pub fn load(&self) -> Result<SentenceEncoder, ModelError> {
        let bert = BertEncoder::from_bytes(&self.config_json, &self.weights)?.with_fast_matmul();
        let wordpiece = super::WordPiece::from_tokenizer_json(&self.tokenizer_json)?;
        if wordpiece.vocab_size() > bert.config().vocab_size {
            return Err(ModelError::Artifact(format!(
                "the tokenizer has {} word pieces, the encoder {}",
                wordpiece.vocab_size(),
                bert.config().vocab_size
            )));
        }
        let max_len = MAX_SENTENCE_PIECES.min(bert.config().max_position_embeddings);
        Ok(SentenceEncoder { bert, wordpiece, max_len })
    }
}

/// A BERT sentence encoder with its tokenizer: text → mean-pooled, unit-norm embedding.
#[derive(Debug)]
pub struct SentenceEncoder {
    bert: BertEncoder,
    wordpiece: super::WordPiece,
    max_len: usize,
}

impl SentenceEncoder {
    pub fn dim(&self) -> usize {
        self.bert.dim()
    }

    /// The sentence embedding of `text` (cut to [`MAX_SENTENCE_PIECES`] pieces).
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        self.bert.embed(&self.wordpiece.encode_with_markers(text, self.max_len))
    }

    /// [`SentenceEncoder::embed`] of many texts, in batches of 32 over `threads` threads.
    pub fn embed_many(&self, texts: &[&str], threads: usize) -> Result<Vec<Vec<f32>>, ModelError> {
        let chunk = texts.len().div_ceil(threads.max(1)).max(1);
        let dim = self.dim();
        let parts: Vec<Result<Vec<Vec<f32>>, ModelError>> = std::thread::scope(|s| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let mut out = Vec::with_capacity(part.len());
                        for batch in part.chunks(32) {
                            let ids: Vec<Vec<u32>> =
                                batch.iter().map(|t| self.wordpiece.encode_with_markers(t, self.max_len)).collect();
                            let refs: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
                            let hidden = self.bert.forward(&refs)?;
                            let mut at = 0;
                            for seq in &ids {
                                let mut e = mean_rows(&hidden[at * dim..(at + seq.len()) * dim], dim);
                                l2_normalize(&mut e);
                                out.push(e);
                                at += seq.len();
                            }
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(ModelError::Data("an encoder thread panicked".into()))))
                .collect()
        });
        let mut all = Vec::with_capacity(texts.len());
        for p in parts {
            all.extend(p?);
        }
        Ok(all)
    }
}

/// Mean of the rows of a row-major matrix with `dim` columns.
pub(crate) fn mean_rows(m: &[f32], dim: usize) -> Vec<f32> {
    let n = (m.len() / dim.max(1)).max(1);
    let mut out = vec![0.0f32; dim];
    for row in m.chunks_exact(dim) {
        for (o, v) in out.iter_mut().zip(row) {
            *o += v;
        }
    }
    out.iter_mut().for_each(|o| *o /= n as f32);
    out
}

pub(crate) fn l2_normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::testing::tiny_bert;

    #[test]
    fn forward_matches_the_reference_implementation() {
        let (config, weights) = tiny_bert();
        let enc = BertEncoder::from_bytes(&config, &weights).unwrap();
        let e = enc.embed(&[2, 7, 10, 3]).unwrap();
        // the same weights through a NumPy transcription of Hugging Face's BertModel
        // (exact-erf GELU, mean pooling, L2 normalisation)
        let expected = [0.49348, 0.39633, 0.24011, 0.05883, -0.09466, -0.29081, -0.38913, -0.54160];
        for (a, b) in e.iter().zip(expected) {
            assert!((a - b).abs() < 1e-4, "{e:?}");
        }
        let norm: f32 = e.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        // batching does not change a sequence's states
        let both = enc.forward(&[&[2, 7, 10, 3], &[2, 5, 3]]).unwrap();
        let alone = enc.forward(&[&[2, 5, 3]]).unwrap();
        for (a, b) in both[4 * 8..].iter().zip(&alone) {
            assert!((a - b).abs() < 1e-6);
        }
        // the SIMD matrix products give the same states up to rounding
        let fast = BertEncoder::from_bytes(&config, &weights).unwrap().with_fast_matmul();
        for (a, b) in fast.forward(&[&[2, 7, 10, 3], &[2, 5, 3]]).unwrap().iter().zip(&both) {
            assert!((a - b).abs() < 1e-5, "{a} {b}");
        }
    }

    #[test]
    fn bad_weights_and_ids_are_named() {
        let (config, weights) = tiny_bert();
        let enc = BertEncoder::from_bytes(&config, &weights).unwrap();
        assert!(enc.forward(&[&[2, 99, 3]]).unwrap_err().to_string().contains("id 99"));
        let long: Vec<u32> = vec![4; 17];
        assert!(enc.forward(&[&long]).unwrap_err().to_string().contains("max_position_embeddings"));
        let wrong = config
            .replace("\"hidden_size\":8", "\"hidden_size\":6")
            .replace("\"num_attention_heads\":2", "\"num_attention_heads\":3");
        let err = BertEncoder::from_bytes(&wrong, &weights).unwrap_err().to_string();
        assert!(err.contains("shape"), "{err}");
        assert!(BertEncoder::from_bytes(&config, b"junk").unwrap_err().to_string().contains("model.safetensors"));
        let relu = config.replace("\"gelu\"", "\"relu\"");
        assert!(BertEncoder::from_bytes(&relu, &weights).unwrap_err().to_string().contains("hidden_act"));
    }
}
