//! Intent classification: TF-IDF (word 1-2-grams + character 2-5-grams) → one-vs-rest linear
//! SVM → temperature-calibrated probabilities, with an out-of-scope fallback.

use crate::linear::{LinearOvr, SvmParams, fit_temperature, train_ovr};
use crate::text::{TfidfParams, TfidfVectorizer, normalize};
use crate::{Fit, ModelError, Params, Persist, Predict};
use nivesh_core::Utterance;
use nivesh_core::rng::Rng;
use serde::{Deserialize, Serialize};

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
    vectorizer: TfidfVectorizer,
    svm: LinearOvr,
    fallback_label: String,
    confidence_threshold: f64,
}

impl Persist for IntentClassifier {
    const KIND: &'static str = "intent";
    const FORMAT_VERSION: u32 = 1;
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

        let temperature = if self.calibration_fraction > 0.0 {
            let (fit_idx, cal_idx) = split_for_calibration(&y, k, self.calibration_fraction, self.seed);
            if cal_idx.is_empty() {
                1.0
            } else {
                let fit_texts: Vec<&str> = fit_idx.iter().map(|&i| texts[i]).collect();
                let vec = TfidfVectorizer::fit(&self.tfidf, &fit_texts)?;
                let rows: Vec<_> = fit_texts.iter().map(|t| vec.transform(t)).collect();
                let fit_y: Vec<usize> = fit_idx.iter().map(|&i| y[i]).collect();
                let svm = train_ovr(&rows, &fit_y, k, vec.dim(), &self.svm)?;
                let scores: Vec<Vec<f32>> = cal_idx.iter().map(|&i| svm.scores(&vec.transform(texts[i]))).collect();
                let cal_y: Vec<usize> = cal_idx.iter().map(|&i| y[i]).collect();
                fit_temperature(&scores, &cal_y)
            }
        } else {
            1.0
        };

        let vectorizer = TfidfVectorizer::fit(&self.tfidf, &texts)?;
        let rows: Vec<_> = texts.iter().map(|t| vectorizer.transform(t)).collect();
        let mut svm = train_ovr(&rows, &y, k, vectorizer.dim(), &self.svm)?;
        svm.temperature = temperature;
        Ok(IntentClassifier {
            labels,
            vectorizer,
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

    /// Probability of every intent for a cleaned query, in label order.
    pub fn probabilities(&self, cleaned: &str) -> Vec<f32> {
        self.svm.probabilities(&self.vectorizer.transform(cleaned))
    }

    /// Number of TF-IDF columns.
    pub fn n_features(&self) -> usize {
        self.vectorizer.dim()
    }
}

impl Predict<str> for IntentClassifier {
    type Output = IntentPrediction;

    fn predict(&self, query: &str) -> Result<IntentPrediction, ModelError> {
        let (text, truncated) = clean_query(query)?;
        let probs = self.probabilities(&text);
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
        Ok(IntentPrediction {
            intent: if low_confidence { self.fallback_label.clone() } else { self.labels[top].clone() },
            confidence,
            alternatives,
            query_length: text.chars().count(),
            low_confidence,
            truncated,
        })
    }
}
