//! Intent classification: TF-IDF (word 1-2-grams + character 2-5-grams), optionally joined by a
//! sentence embedding from static vectors distilled out of a sentence encoder → one-vs-rest
//! linear SVM → temperature-calibrated probabilities, with an out-of-scope fallback.

use crate::algo::linear::{LinearOvr, SvmParams, fit_temperature, train_ovr};
use crate::text::{
    EncoderFiles, SentenceEncoder, SparseVec, StaticEmbeddings, TfidfParams, TfidfVectorizer, normalize,
};
use crate::{Fit, ModelError, Params, Persist, Predict};
use nivesh_core::Utterance;
use nivesh_core::rng::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Longest query the classifier reads; longer input is truncated and flagged.
pub const MAX_QUERY_CHARS: usize = 512;

/// Hyper-parameters of the intent classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentParams {
    pub tfidf: TfidfParams,
    pub svm: SvmParams,
    /// Share of the training data held out to fit the probability temperature (0 disables
    /// calibration). The final model is refitted on all the data.
    pub calibration_fraction: f64,
    /// Label returned when the top probability is below the threshold.
    pub fallback_label: String,
    /// Default confidence threshold (`INTENT_CONFIDENCE_THRESHOLD`); can be overridden per call.
    pub confidence_threshold: f64,
    /// Norm of the sentence embedding beside the unit-norm TF-IDF row, when the classifier is
    /// given static embeddings ([`IntentParams::fit_with_embeddings`]).
    pub embedding_weight: f64,
    pub seed: u64,
}

impl Default for IntentParams {
    fn default() -> Self {
        IntentParams {
            tfidf: TfidfParams::default(),
            svm: SvmParams { c: 1.0, ..SvmParams::default() },
            calibration_fraction: 0.1,
            fallback_label: "general_question".into(),
            confidence_threshold: 0.5,
            embedding_weight: 1.0,
            seed: 42,
        }
    }
}

impl Params for IntentParams {
    fn validate(&self) -> Result<(), ModelError> {
        self.tfidf.validate()?;
        self.svm.validate()?;
        if !(0.0..0.5).contains(&self.calibration_fraction) {
            return Err(ModelError::param(
                "calibration_fraction",
                format!("{} is outside [0, 0.5)", self.calibration_fraction),
            ));
        }
        if !(0.0..=1.0).contains(&self.confidence_threshold) {
            return Err(ModelError::param(
                "confidence_threshold",
                format!("{} is outside [0, 1]", self.confidence_threshold),
            ));
        }
        if !(self.embedding_weight > 0.0 && self.embedding_weight <= 100.0) {
            return Err(ModelError::param(
                "embedding_weight",
                format!("{} is outside (0, 100]", self.embedding_weight),
            ));
        }
        if self.fallback_label.trim().is_empty() {
            return Err(ModelError::param("fallback_label", "must not be empty"));
        }
        Ok(())
    }
}

/// One ranked intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntentScore {
    pub intent: String,
    pub confidence: f64,
}

/// What the classifier says about one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntentPrediction {
    /// The top intent, or the fallback label when `low_confidence`.
    pub intent: String,
    /// Probability of the top intent.
    pub confidence: f64,
    /// The three most probable intents, best first.
    pub alternatives: Vec<IntentScore>,
    /// Characters in the query as read (after cleaning and truncation).
    pub query_length: usize,
    /// The top probability was below the threshold, so `intent` is the fallback label.
    pub low_confidence: bool,
    /// The query was longer than 512 characters and was cut.
    pub truncated: bool,
}

/// A trained intent classifier.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentClassifier {
    labels: Vec<String>,
    features: Features,
    svm: LinearOvr,
    fallback_label: String,
    confidence_threshold: f64,
}

/// Static embeddings with the weights the classifier reads them with.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Embedder {
    table: StaticEmbeddings,
    /// smooth-inverse-frequency weight per word piece, from the training texts
    sif: Vec<f32>,
    /// norm of the embedding block
    weight: f32,
}

/// A sentence encoder run per query (the contextual mode), its files copied into the model.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EncoderBlock {
    files: EncoderFiles,
    /// norm of the embedding block
    weight: f32,
    /// built from `files` on load
    #[serde(skip)]
    loaded: Option<Arc<SentenceEncoder>>,
}

impl EncoderBlock {
    fn new(files: &EncoderFiles, weight: f32) -> Result<EncoderBlock, ModelError> {
        Ok(EncoderBlock { loaded: Some(Arc::new(files.load()?)), files: files.clone(), weight })
    }

    fn encoder(&self) -> Option<&SentenceEncoder> {
        self.loaded.as_deref()
    }
}

/// Text → one sparse row: the TF-IDF columns, then the static embedding's or the encoder's.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Features {
    tfidf: TfidfVectorizer,
    embedder: Option<Embedder>,
    encoder: Option<EncoderBlock>,
}

/// Threads that embed the training texts with an encoder.
fn encoder_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// SIF smoothing constant (Arora et al. use 1e-3 to 1e-4).
const SIF_A: f32 = 1e-3;

impl Features {
    fn fit(
        params: &IntentParams,
        texts: &[&str],
        table: Option<&StaticEmbeddings>,
        encoder: Option<&EncoderBlock>,
    ) -> Result<Features, ModelError> {
        Ok(Features {
            tfidf: TfidfVectorizer::fit(&params.tfidf, texts)?,
            embedder: table.map(|t| Embedder {
                sif: t.sif_weights(texts, SIF_A),
                table: t.clone(),
                weight: params.embedding_weight as f32,
            }),
            encoder: encoder.cloned(),
        })
    }

    fn dim(&self) -> usize {
        self.tfidf.dim()
            + self.embedder.as_ref().map_or(0, |e| e.table.dim())
            + self.encoder.as_ref().and_then(EncoderBlock::encoder).map_or(0, SentenceEncoder::dim)
    }

    /// The sentence embedding the row carries: the static table's, or the encoder's (an
    /// encoder that fails on the text is an error, never a silently shorter row).
    fn sentence(&self, text: &str) -> Result<Option<Vec<f32>>, ModelError> {
        if let Some(e) = &self.embedder {
            return Ok(e.table.embed(text, &e.sif));
        }
        match self.encoder.as_ref().and_then(EncoderBlock::encoder) {
            Some(enc) => enc.embed(text).map(Some),
            None => Ok(None),
        }
    }

    fn transform(&self, text: &str) -> Result<SparseVec, ModelError> {
        self.row(text, None)
    }

    /// The row of `text`; `encoded` is its encoder embedding when computed already (training
    /// embeds every text once, in batches).
    fn row(&self, text: &str, encoded: Option<&[f32]>) -> Result<SparseVec, ModelError> {
        let tfidf = self.tfidf.transform(text);
        self.dense_after(tfidf, text, encoded)
    }

    /// [`Self::transform`], and the share of `text`'s words the TF-IDF vocabulary lacks, from
    /// one analysis of the text.
    fn transform_with_oov(&self, text: &str) -> Result<(SparseVec, f64), ModelError> {
        let (tfidf, oov) = self.tfidf.transform_with_oov(text);
        Ok((self.dense_after(tfidf, text, None)?, oov))
    }

    /// `row` (the TF-IDF columns of `text`) with the embedding columns after them.
    fn dense_after(&self, mut row: SparseVec, text: &str, encoded: Option<&[f32]>) -> Result<SparseVec, ModelError> {
        let dense = self.dim() - self.tfidf.dim();
        row.idx.reserve(dense);
        row.val.reserve(dense);
        let mut base = self.tfidf.dim() as u32;
        let push = |row: &mut SparseVec, v: &[f32], weight: f32, base: u32| {
            for (j, x) in v.iter().enumerate() {
                row.idx.push(base + j as u32);
                row.val.push(weight * x);
            }
        };
        if let Some(e) = &self.embedder {
            if let Some(v) = e.table.embed(text, &e.sif) {
                push(&mut row, &v, e.weight, base);
            }
            base += e.table.dim() as u32;
        }
        if let Some(block) = &self.encoder
            && let Some(enc) = block.encoder()
        {
            match encoded {
                Some(v) => push(&mut row, v, block.weight, base),
                None => push(&mut row, &enc.embed(text)?, block.weight, base),
            }
        }
        Ok(row)
    }
}

/// The layout of format version 1 (TF-IDF only), read and converted on load.
#[derive(Deserialize)]
struct IntentClassifierV1 {
    labels: Vec<String>,
    vectorizer: TfidfVectorizer,
    svm: LinearOvr,
    fallback_label: String,
    confidence_threshold: f64,
}

/// The layout of format version 2: static embeddings stored in their version-1 (f16) layout.
#[derive(Deserialize)]
struct IntentClassifierV2 {
    labels: Vec<String>,
    features: FeaturesV2,
    svm: LinearOvr,
    fallback_label: String,
    confidence_threshold: f64,
}

#[derive(Deserialize)]
struct FeaturesV2 {
    tfidf: TfidfVectorizer,
    embedder: Option<EmbedderV2>,
}

#[derive(Deserialize)]
struct EmbedderV2 {
    table: crate::text::static_embed::StoredV1,
    sif: Vec<f32>,
    weight: f32,
}

/// The layout of format version 3 (before the contextual mode).
#[derive(Deserialize)]
struct IntentClassifierV3 {
    labels: Vec<String>,
    features: FeaturesV3,
    svm: LinearOvr,
    fallback_label: String,
    confidence_threshold: f64,
}

#[derive(Deserialize)]
struct FeaturesV3 {
    tfidf: TfidfVectorizer,
    embedder: Option<Embedder>,
}

impl Persist for IntentClassifier {
    const KIND: &'static str = "intent";
    const FORMAT_VERSION: u32 = 4;

    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        match crate::artifact::header(bytes)?.0.format_version {
            1 => {
                let v1: IntentClassifierV1 = crate::artifact::decode(bytes, Self::KIND, 1)?;
                Ok(IntentClassifier {
                    labels: v1.labels,
                    features: Features { tfidf: v1.vectorizer, embedder: None, encoder: None },
                    svm: v1.svm,
                    fallback_label: v1.fallback_label,
                    confidence_threshold: v1.confidence_threshold,
                })
            }
            2 => {
                let v2: IntentClassifierV2 = crate::artifact::decode(bytes, Self::KIND, 2)?;
                let embedder = match v2.features.embedder {
                    Some(e) => Some(Embedder { table: e.table.try_into()?, sif: e.sif, weight: e.weight }),
                    None => None,
                };
                Ok(IntentClassifier {
                    labels: v2.labels,
                    features: Features { tfidf: v2.features.tfidf, embedder, encoder: None },
                    svm: v2.svm,
                    fallback_label: v2.fallback_label,
                    confidence_threshold: v2.confidence_threshold,
                })
            }
            3 => {
                let v3: IntentClassifierV3 = crate::artifact::decode(bytes, Self::KIND, 3)?;
                Ok(IntentClassifier {
                    labels: v3.labels,
                    features: Features { tfidf: v3.features.tfidf, embedder: v3.features.embedder, encoder: None },
                    svm: v3.svm,
                    fallback_label: v3.fallback_label,
                    confidence_threshold: v3.confidence_threshold,
                })
            }
            _ => {
                let mut m: IntentClassifier = crate::artifact::decode(bytes, Self::KIND, Self::FORMAT_VERSION)?;
                if let Some(block) = &mut m.features.encoder {
                    let encoder = block.files.load().map_err(|e| {
                        ModelError::Artifact(format!("the model's embedded encoder ({}): {e}", block.files.source))
                    })?;
                    block.loaded = Some(Arc::new(encoder));
                }
                Ok(m)
            }
        }
    }
}

fn split_for_calibration(labels: &[usize], n_classes: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    // stratified: the same share of every class goes to calibration
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l].push(i);
    }
    let mut rng = Rng::new(seed);
    let (mut fit, mut cal) = (Vec::new(), Vec::new());
    for mut idx in by_class {
        rng.shuffle(&mut idx);
        let n_cal = ((idx.len() as f64) * fraction).floor() as usize;
        let n_cal = if idx.len() >= 4 { n_cal.max(1) } else { 0 };
        cal.extend_from_slice(&idx[..n_cal]);
        fit.extend_from_slice(&idx[n_cal..]);
    }
    (fit, cal)
}

impl Fit<[Utterance]> for IntentParams {
    type Model = IntentClassifier;

    fn fit(&self, data: &[Utterance]) -> Result<IntentClassifier, ModelError> {
        self.fit_with_embeddings(data, None)
    }
}

impl IntentParams {
    /// Fit, with sentence embeddings from `table` beside the TF-IDF features when given (the
    /// table is copied into the model, which stays self-contained).
    pub fn fit_with_embeddings(
        &self,
        data: &[Utterance],
        table: Option<&StaticEmbeddings>,
    ) -> Result<IntentClassifier, ModelError> {
        self.fit_inner(data, table, None)
    }

    /// Fit in the contextual mode: the sentence encoder's embedding of each query beside its
    /// TF-IDF features (the encoder's files are copied into the model; every prediction runs
    /// the encoder, milliseconds on a CPU).
    pub fn fit_with_encoder(&self, data: &[Utterance], encoder: &EncoderFiles) -> Result<IntentClassifier, ModelError> {
        self.validate()?;
        let block = EncoderBlock::new(encoder, self.embedding_weight as f32)?;
        self.fit_inner(data, None, Some(&block))
    }

    fn fit_inner(
        &self,
        data: &[Utterance],
        table: Option<&StaticEmbeddings>,
        encoder: Option<&EncoderBlock>,
    ) -> Result<IntentClassifier, ModelError> {
        self.validate()?;
        if data.is_empty() {
            return Err(ModelError::Data("no utterances".into()));
        }
        let mut labels: Vec<String> = data.iter().map(|u| u.intent.clone()).collect();
        labels.sort();
        labels.dedup();
        if labels.len() < 2 {
            return Err(ModelError::Data(format!("need at least 2 intents, found {}", labels.len())));
        }
        let y: Vec<usize> = data.iter().map(|u| labels.binary_search(&u.intent).unwrap_or(0)).collect();
        let texts: Vec<&str> = data.iter().map(|u| u.text.as_str()).collect();
        let k = labels.len();
        // every text through the encoder once, in batches on every core
        let encoded: Option<Vec<Vec<f32>>> = match encoder.and_then(EncoderBlock::encoder) {
            Some(enc) => Some(enc.embed_many(&texts, encoder_threads())?),
            None => None,
        };
        let enc_of = |i: usize| encoded.as_ref().map(|e| e[i].as_slice());

        let temperature = if self.calibration_fraction > 0.0 {
            let (fit_idx, cal_idx) = split_for_calibration(&y, k, self.calibration_fraction, self.seed);
            if cal_idx.is_empty() {
                1.0
            } else {
                let fit_texts: Vec<&str> = fit_idx.iter().map(|&i| texts[i]).collect();
                let vec = Features::fit(self, &fit_texts, table, encoder)?;
                let rows = fit_idx.iter().map(|&i| vec.row(texts[i], enc_of(i))).collect::<Result<Vec<_>, _>>()?;
                let fit_y: Vec<usize> = fit_idx.iter().map(|&i| y[i]).collect();
                let svm = train_ovr(&rows, &fit_y, k, vec.dim(), &self.svm)?;
                let scores: Vec<Vec<f32>> = cal_idx
                    .iter()
                    .map(|&i| vec.row(texts[i], enc_of(i)).map(|row| svm.scores(&row)))
                    .collect::<Result<_, _>>()?;
                let cal_y: Vec<usize> = cal_idx.iter().map(|&i| y[i]).collect();
                fit_temperature(&scores, &cal_y)
            }
        } else {
            1.0
        };

        let features = Features::fit(self, &texts, table, encoder)?;
        let rows = texts.iter().enumerate().map(|(i, t)| features.row(t, enc_of(i))).collect::<Result<Vec<_>, _>>()?;
        let mut svm = train_ovr(&rows, &y, k, features.dim(), &self.svm)?;
        svm.temperature = temperature;
        Ok(IntentClassifier {
            labels,
            features,
            svm,
            fallback_label: self.fallback_label.clone(),
            confidence_threshold: self.confidence_threshold,
        })
    }
}

/// Clean a query: normalise, strip control characters, cap at [`MAX_QUERY_CHARS`].
/// Returns the cleaned text and whether it was truncated.
pub fn clean_query(query: &str) -> Result<(String, bool), ModelError> {
    let text = normalize(query);
    let text = text.trim();
    if text.is_empty() {
        return Err(ModelError::input("query", "is empty"));
    }
    let n = text.chars().count();
    if n > MAX_QUERY_CHARS {
        Ok((text.chars().take(MAX_QUERY_CHARS).collect(), true))
    } else {
        Ok((text.to_string(), false))
    }
}

impl IntentClassifier {
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn confidence_threshold(&self) -> f64 {
        self.confidence_threshold
    }

    /// Replace the confidence threshold (e.g. from `INTENT_CONFIDENCE_THRESHOLD`).
    pub fn set_confidence_threshold(&mut self, t: f64) -> Result<(), ModelError> {
        if !(0.0..=1.0).contains(&t) {
            return Err(ModelError::param("confidence_threshold", format!("{t} is outside [0, 1]")));
        }
        self.confidence_threshold = t;
        Ok(())
    }

    pub fn fallback_label(&self) -> &str {
        &self.fallback_label
    }

    /// Probability of every intent for a cleaned query, in label order (an error only when
    /// the contextual mode's encoder fails on the query).
    pub fn probabilities(&self, cleaned: &str) -> Result<Vec<f32>, ModelError> {
        Ok(self.svm.probabilities(&self.features.transform(cleaned)?))
    }

    /// The SVM's raw score of every intent for a cleaned query, in label order.
    pub fn decision_scores(&self, cleaned: &str) -> Result<Vec<f32>, ModelError> {
        Ok(self.svm.scores(&self.features.transform(cleaned)?))
    }

    /// The query's sentence embedding (unit norm), when the model has static embeddings or an
    /// encoder.
    pub fn sentence_embedding(&self, cleaned: &str) -> Result<Option<Vec<f32>>, ModelError> {
        self.features.sentence(cleaned)
    }

    /// Share of a query's words never seen in training (as unigrams): high values mean the
    /// model is being asked about things it does not know.
    pub fn oov_share(&self, query: &str) -> f64 {
        self.features.tfidf.oov_share(query)
    }

    /// Number of feature columns (TF-IDF, plus the embedding's when there is one).
    pub fn n_features(&self) -> usize {
        self.features.dim()
    }

    /// Where the model's static embeddings came from, when it has them.
    pub fn embeddings_source(&self) -> Option<&str> {
        self.features.embedder.as_ref().map(|e| e.table.source())
    }

    /// The sentence encoder the model runs per query (the contextual mode), when it has one.
    pub fn encoder_source(&self) -> Option<&str> {
        self.features.encoder.as_ref().map(|e| e.files.source.as_str())
    }
}

impl Predict<str> for IntentClassifier {
    type Output = IntentPrediction;

    fn predict(&self, query: &str) -> Result<IntentPrediction, ModelError> {
        let (text, truncated) = clean_query(query)?;
        let probs = self.probabilities(&text)?;
        Ok(self.prediction(&text, truncated, &probs))
    }
}

impl IntentClassifier {
    /// [`Predict::predict`], and the share of the cleaned query's words never seen in training
    /// ([`Self::oov_share`] of what the model read), from one analysis of the query: what the
    /// server answers and the prediction log keeps.
    pub fn predict_with_oov(&self, query: &str) -> Result<(IntentPrediction, f64), ModelError> {
        let (text, truncated) = clean_query(query)?;
        let (row, oov) = self.features.transform_with_oov(&text)?;
        let probs = self.svm.probabilities(&row);
        Ok((self.prediction(&text, truncated, &probs), oov))
    }

    /// The answer from the cleaned query and its intents' probabilities.
    fn prediction(&self, text: &str, truncated: bool, probs: &[f32]) -> IntentPrediction {
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
        let alternatives: Vec<IntentScore> = order
            .iter()
            .take(3)
            .map(|&i| IntentScore { intent: self.labels[i].clone(), confidence: probs[i] as f64 })
            .collect();
        let top = order.first().copied().unwrap_or(0);
        let confidence = probs.get(top).copied().unwrap_or(0.0) as f64;
        let low_confidence = confidence < self.confidence_threshold;
        IntentPrediction {
            intent: if low_confidence { self.fallback_label.clone() } else { self.labels[top].clone() },
            confidence,
            alternatives,
            query_length: text.chars().count(),
            low_confidence,
            truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::WordPiece;
    use crate::text::testing::fixture_json;

    fn utterance(text: &str, intent: &str) -> Utterance {
        Utterance { text: text.into(), intent: intent.into() }
    }

    /// "buy" and "purchase" share a vector, as a distilled encoder would give synonyms; "pay"
    /// and "rent" point elsewhere.
    fn table() -> StaticEmbeddings {
        let wp = WordPiece::from_tokenizer_json(&fixture_json()).unwrap();
        let mut v = vec![0.0f32; 30 * 3];
        for (id, axis) in [(28, 0), (29, 0), (27, 0), (7, 1), (10, 1), (9, 1), (25, 2), (26, 2)] {
            v[id * 3 + axis] = 1.0;
        }
        StaticEmbeddings::from_vectors(wp, 3, v, "fixture").unwrap()
    }

    fn data() -> Vec<Utterance> {
        let mut d = Vec::new();
        for _ in 0..6 {
            d.push(utterance("buy shopping", "shopping"));
            d.push(utterance("shopping", "shopping"));
            d.push(utterance("pay rent", "bills"));
            d.push(utterance("pay my bill", "bills"));
            d.push(utterance("credit card", "cards"));
        }
        d
    }

    #[test]
    fn embeddings_carry_synonyms_the_tfidf_never_saw() {
        let params = IntentParams { calibration_fraction: 0.0, ..IntentParams::default() };
        let plain = params.fit(&data()).unwrap();
        let joined = params.fit_with_embeddings(&data(), Some(&table())).unwrap();
        assert_eq!(plain.n_features() + 3, joined.n_features());
        assert_eq!(joined.embeddings_source(), Some("fixture"));
        // "purchase" never occurs in training; only its vector (equal to "buy"'s) tells
        assert_ne!(plain.predict("purchase").unwrap().alternatives[0].intent, "shopping");
        let p = joined.predict("purchase").unwrap();
        assert_eq!(p.alternatives[0].intent, "shopping", "{p:?}");
        let sum: f64 = p.alternatives.iter().map(|a| a.confidence).sum::<f64>()
            + joined.probabilities("purchase").unwrap().iter().skip(3).map(|&x| x as f64).sum::<f64>();
        assert!((sum - 1.0).abs() < 1e-4);
        // save → load → identical probabilities
        let back = IntentClassifier::from_bytes(&joined.to_bytes().unwrap()).unwrap();
        for q in ["purchase", "pay rent", "credit card bill", "₹500"] {
            assert_eq!(back.probabilities(q).unwrap(), joined.probabilities(q).unwrap());
            // one analysis for the answer and the share of unseen words: the same as apart
            let (p, oov) = joined.predict_with_oov(q).unwrap();
            assert_eq!(p, joined.predict(q).unwrap(), "{q}");
            assert_eq!(oov.to_bits(), joined.oov_share(q).to_bits(), "{q}");
        }
        assert_eq!(joined.predict_with_oov("pay my taxes").unwrap().1, 1.0 / 3.0);
        assert!(joined.predict_with_oov("  ").is_err());
    }

    fn tiny_encoder() -> EncoderFiles {
        let (config_json, weights) = crate::text::testing::tiny_bert();
        EncoderFiles { source: "tiny".into(), config_json, tokenizer_json: fixture_json(), weights }
    }

    #[test]
    fn the_contextual_mode_runs_the_encoder_per_query_and_round_trips() {
        let params = IntentParams { calibration_fraction: 0.2, ..IntentParams::default() };
        let files = tiny_encoder();
        let m = params.fit_with_encoder(&data(), &files).unwrap();
        assert_eq!(m.encoder_source(), Some("tiny"));
        assert_eq!(m.embeddings_source(), None);
        assert_eq!(m.n_features(), m.features.tfidf.dim() + 8);
        // the row's last 8 columns are the encoder's embedding of the query, scaled by the weight
        let enc = files.load().unwrap();
        let q = "buy a credit card";
        let row = m.features.transform(q).unwrap();
        let tail: Vec<f32> = row.val[row.val.len() - 8..].to_vec();
        let want: Vec<f32> = enc.embed(q).unwrap().iter().map(|x| x * params.embedding_weight as f32).collect();
        assert_eq!(tail, want);
        assert_eq!(m.sentence_embedding(q).unwrap(), Some(enc.embed(q).unwrap()));
        // batched (as in training) and one at a time agree
        let texts = ["pay rent", "buy shopping now please", "credit"];
        for (b, t) in enc.embed_many(&texts, 2).unwrap().iter().zip(texts) {
            let one = enc.embed(t).unwrap();
            assert!(b.iter().zip(&one).all(|(x, y)| (x - y).abs() < 1e-5), "{t}");
        }
        // longer than the tiny encoder's 16 positions: cut, not an error
        let long = "pay my rent ".repeat(20);
        assert!(m.predict(&long).is_ok());
        assert_eq!(m.sentence_embedding(&long).unwrap().map(|e| e.len()), Some(8));
        // the file carries the encoder: the loaded model predicts the same
        let back = IntentClassifier::from_bytes(&m.to_bytes().unwrap()).unwrap();
        assert_eq!(back.encoder_source(), Some("tiny"));
        for q in ["purchase", "pay rent", "credit card bill", long.as_str()] {
            assert_eq!(back.probabilities(q).unwrap(), m.probabilities(q).unwrap());
        }
        // a broken encoder is refused when fitting, naming the file
        let bad = EncoderFiles { weights: vec![1, 2, 3], ..files };
        let err = params.fit_with_encoder(&data(), &bad).unwrap_err().to_string();
        assert!(err.contains("model.safetensors"), "{err}");
    }

    #[test]
    fn format_version_3_models_still_load() {
        let params = IntentParams { calibration_fraction: 0.0, ..IntentParams::default() };
        let m = params.fit_with_embeddings(&data(), Some(&table())).unwrap();
        #[derive(Serialize)]
        struct FeaturesV3<'a> {
            tfidf: &'a TfidfVectorizer,
            embedder: &'a Option<Embedder>,
        }
        #[derive(Serialize)]
        struct V3<'a> {
            labels: &'a [String],
            features: FeaturesV3<'a>,
            svm: &'a LinearOvr,
            fallback_label: &'a str,
            confidence_threshold: f64,
        }
        let v3 = V3 {
            labels: &m.labels,
            features: FeaturesV3 { tfidf: &m.features.tfidf, embedder: &m.features.embedder },
            svm: &m.svm,
            fallback_label: &m.fallback_label,
            confidence_threshold: m.confidence_threshold,
        };
        let bytes = crate::artifact::wrap(IntentClassifier::KIND, 3, &postcard::to_allocvec(&v3).unwrap());
        let back = IntentClassifier::from_bytes(&bytes).unwrap();
        assert_eq!((back.embeddings_source(), back.encoder_source()), (Some("fixture"), None));
        for q in ["purchase", "pay rent", "credit card bill"] {
            assert_eq!(back.probabilities(q).unwrap(), m.probabilities(q).unwrap());
        }
    }

    #[test]
    fn format_version_2_models_with_embeddings_still_load() {
        let params = IntentParams { calibration_fraction: 0.0, ..IntentParams::default() };
        let m = params.fit_with_embeddings(&data(), Some(&table())).unwrap();
        let e = m.features.embedder.as_ref().unwrap();
        // version 2 carried the table in its version-1 layout (f16 values)
        #[derive(Serialize)]
        struct TableV1<'a> {
            wordpiece: &'a WordPiece,
            dim: usize,
            vectors_f16: Vec<u16>,
            source: &'a str,
        }
        #[derive(Serialize)]
        struct EmbedderV2<'a> {
            table: TableV1<'a>,
            sif: &'a [f32],
            weight: f32,
        }
        #[derive(Serialize)]
        struct FeaturesV2<'a> {
            tfidf: &'a TfidfVectorizer,
            embedder: Option<EmbedderV2<'a>>,
        }
        #[derive(Serialize)]
        struct V2<'a> {
            labels: &'a [String],
            features: FeaturesV2<'a>,
            svm: &'a LinearOvr,
            fallback_label: &'a str,
            confidence_threshold: f64,
        }
        let vectors_f16 = (0..e.table.vocab_size() as u32)
            .flat_map(|id| e.table.vector(id))
            .map(|x| half::f16::from_f32(x).to_bits())
            .collect();
        let v2 = V2 {
            labels: &m.labels,
            features: FeaturesV2 {
                tfidf: &m.features.tfidf,
                embedder: Some(EmbedderV2 {
                    table: TableV1 {
                        wordpiece: e.table.wordpiece(),
                        dim: e.table.dim(),
                        vectors_f16,
                        source: e.table.source(),
                    },
                    sif: &e.sif,
                    weight: e.weight,
                }),
            },
            svm: &m.svm,
            fallback_label: &m.fallback_label,
            confidence_threshold: m.confidence_threshold,
        };
        let bytes = crate::artifact::wrap(IntentClassifier::KIND, 2, &postcard::to_allocvec(&v2).unwrap());
        let back = IntentClassifier::from_bytes(&bytes).unwrap();
        assert_eq!(back.embeddings_source(), Some("fixture"));
        // the fixture's vectors (0 and 1) are exact in f16
        for q in ["purchase", "pay rent", "credit card bill"] {
            assert_eq!(back.probabilities(q).unwrap(), m.probabilities(q).unwrap());
        }
    }

    #[test]
    fn format_version_1_models_still_load() {
        let params = IntentParams { calibration_fraction: 0.0, ..IntentParams::default() };
        let m = params.fit(&data()).unwrap();
        #[derive(Serialize)]
        struct V1<'a> {
            labels: &'a [String],
            vectorizer: &'a TfidfVectorizer,
            svm: &'a LinearOvr,
            fallback_label: &'a str,
            confidence_threshold: f64,
        }
        let v1 = V1 {
            labels: &m.labels,
            vectorizer: &m.features.tfidf,
            svm: &m.svm,
            fallback_label: &m.fallback_label,
            confidence_threshold: m.confidence_threshold,
        };
        let bytes = crate::artifact::wrap("intent", 1, &postcard::to_allocvec(&v1).unwrap());
        let back = IntentClassifier::from_bytes(&bytes).unwrap();
        assert_eq!(back.probabilities("pay rent").unwrap(), m.probabilities("pay rent").unwrap());
        assert!(back.embeddings_source().is_none());
        let bad = IntentParams { embedding_weight: 0.0, ..IntentParams::default() };
        assert!(bad.fit(&data()).unwrap_err().to_string().contains("embedding_weight"));
    }
}
