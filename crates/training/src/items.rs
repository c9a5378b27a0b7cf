//! What a model answers on each labelled item (query, sentence, row), kept per item: the
//! evaluation reports ([`crate::evaluate`]) and the paired comparisons ([`crate::compare`]) are
//! both computed from these, so that a metric and its comparison read the same answers.

use nivesh_core::{NerExample, Utterance};
use nivesh_models::Predict;
use nivesh_models::intent::IntentClassifier;
use nivesh_models::metrics::SpanKey;
use nivesh_models::ner::{FinancialNer, NerInput};
use nivesh_models::tabular::Tabular;

/// Every query's answer, as the intent report and a comparison read them.
pub(crate) struct IntentAnswers {
    /// Per in-scope query: (top intent, the answer at the threshold, top probability).
    pub(crate) queries: Vec<(String, String, f64)>,
    /// Per out-of-scope query: (top probability, the fallback intent on top).
    pub(crate) oos: Vec<(f64, bool)>,
    threshold: f64,
}

pub(crate) fn intent_answers(
    model: &IntentClassifier,
    data: &[Utterance],
    oos: &[String],
) -> anyhow::Result<IntentAnswers> {
    let fallback = model.fallback_label();
    let mut queries = Vec::with_capacity(data.len());
    for u in data {
        let p = model.predict(&u.text)?;
        let top = p.alternatives.first().map(|a| a.intent.clone()).unwrap_or_default();
        queries.push((top, p.intent, p.confidence));
    }
    let mut out = Vec::with_capacity(oos.len());
    for text in oos {
        let p = model.predict(text)?;
        out.push((p.confidence, p.alternatives.first().is_some_and(|a| a.intent == fallback)));
    }
    Ok(IntentAnswers { queries, oos: out, threshold: model.confidence_threshold() })
}

impl IntentAnswers {
    /// Each out-of-scope query answered with the fallback intent at threshold `t`.
    pub(crate) fn caught(&self, t: f64) -> impl Iterator<Item = bool> + '_ {
        self.oos.iter().map(move |&(c, fb)| fb || c < t)
    }

    /// 1 or 0 per item: the top intent right and the answer at the threshold right (per
    /// in-scope query of `data`), the query caught (per out-of-scope query).
    pub(crate) fn hits(&self, data: &[Utterance]) -> [Vec<f64>; 3] {
        let one = |b: bool| f64::from(u8::from(b));
        [
            self.queries.iter().zip(data).map(|(q, u)| one(q.0 == u.intent)).collect(),
            self.queries.iter().zip(data).map(|(q, u)| one(q.1 == u.intent)).collect(),
            self.caught(self.threshold).map(one).collect(),
        ]
    }
}

/// Gold and predicted spans of each sentence (those without a reference date are read as of
/// today), and per label the (right, scored) counts of normalised values: gold entities with a
/// value found with the exact span and label.
pub(crate) type NerSpans = (Vec<Vec<SpanKey>>, Vec<Vec<SpanKey>>, BTreeMapCounts);

pub(crate) fn ner_spans(model: &FinancialNer, data: &[NerExample]) -> anyhow::Result<NerSpans> {
    let today = chrono::Local::now().date_naive();
    let (mut gold, mut pred) = (Vec::new(), Vec::new());
    let mut value_counts: BTreeMapCounts = Default::default();
    for ex in data {
        let reference_date = ex.reference_date.unwrap_or(today);
        let ents = model.predict(&NerInput { text: &ex.text, reference_date })?;
        let key = |s: usize, e: usize, l: &str| SpanKey { start: s, end: e, label: l.to_string() };
        for g in &ex.entities {
            let (Some(gv), true) = (&g.value, g.label == "MONEY" || g.label == "DATE") else { continue };
            if let Some(p) = ents.iter().find(|p| p.start == g.start && p.end == g.end && p.label == g.label) {
                let c = value_counts.entry(g.label.clone()).or_default();
                c.1 += 1;
                if p.value.as_ref() == Some(gv) {
                    c.0 += 1;
                }
            }
        }
        gold.push(ex.entities.iter().map(|e| key(e.start, e.end, &e.label)).collect::<Vec<_>>());
        pred.push(ents.iter().map(|e| key(e.start, e.end, &e.label)).collect::<Vec<_>>());
    }
    Ok((gold, pred, value_counts))
}

/// Per sentence: entities found exactly, predicted, labelled.
pub(crate) fn sentence_counts(gold: &[Vec<SpanKey>], pred: &[Vec<SpanKey>]) -> Vec<[f64; 3]> {
    gold.iter()
        .zip(pred)
        .map(|(g, p)| [p.iter().filter(|e| g.contains(e)).count() as f64, p.len() as f64, g.len() as f64])
        .collect()
}

/// Micro precision, recall and F1 of sentences taken `times[i]` times each, as `span_report`
/// scores them (0 where a denominator is 0).
pub(crate) fn sample_prf(counts: &[[f64; 3]], times: &[f64]) -> [f64; 3] {
    let (tp, p, g) =
        counts.iter().zip(times).fold((0.0, 0.0, 0.0), |s, (c, t)| (s.0 + t * c[0], s.1 + t * c[1], s.2 + t * c[2]));
    let (precision, recall, f1) = nivesh_models::metrics::prf(tp, p, g);
    [precision, recall, f1]
}

pub(crate) type BTreeMapCounts = std::collections::BTreeMap<String, (usize, usize)>;

/// The Statlog cost (at P(bad) > 1/6) and the Brier score of rows taken `times[i]` times each.
pub(crate) fn cost_and_brier(probs: &[f64], labels: &[bool], weight: Option<&[f64]>, times: &[f64]) -> [f64; 2] {
    let w: Vec<f64> = match weight {
        Some(w) => w.iter().zip(times).map(|(w, t)| w * t).collect(),
        None => times.to_vec(),
    };
    [
        nivesh_models::metrics::statlog_cost(probs, labels, Some(&w), 1.0 / 6.0),
        nivesh_models::metrics::brier(probs, labels, Some(&w)),
    ]
}

/// The label column as classes (a value above 0.5 is positive).
pub(crate) fn labels_of(data: &Tabular) -> anyhow::Result<Vec<bool>> {
    let y = data.y.as_deref().ok_or_else(|| anyhow::anyhow!("the evaluation data has no label"))?;
    Ok(y.iter().map(|&v| v > 0.5).collect())
}
