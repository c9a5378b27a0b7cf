//! The training profile of a model on its evaluation data (`profile.json`, stored with the
//! version): the observations `nivesh-monitor` records of served predictions, taken of the
//! held-out rows, so drift checks compare like with like.

use nivesh_core::{NerExample, Utterance};
use nivesh_models::Predict;
use nivesh_models::anomaly::AnomalyModel;
use nivesh_models::credit::CreditModel;
use nivesh_models::intent::IntentClassifier;
use nivesh_models::ner::{FinancialNer, NerInput};
use nivesh_models::tabular::Tabular;
use nivesh_models::{ModelError, ModelKind};
use nivesh_monitor::observe;
use nivesh_monitor::profile::Profile;
use nivesh_monitor::sample::Observation;

/// The intent classifier on evaluation utterances.
pub fn intent(model: &IntentClassifier, data: &[Utterance]) -> anyhow::Result<Profile> {
    let mut obs = Vec::with_capacity(data.len());
    for u in data {
        let (p, oov) = model.predict_with_oov(u.text.as_str())?;
        obs.push(observe::intent(&u.text, &p.intent, oov));
    }
    Ok(Profile::build(ModelKind::Intent, &obs))
}

/// The recogniser on evaluation sentences (read as of their reference date, else today).
pub fn ner(model: &FinancialNer, data: &[NerExample]) -> anyhow::Result<Profile> {
    let today = chrono::Local::now().date_naive();
    let mut obs = Vec::with_capacity(data.len());
    for ex in data {
        let ents = model.predict(&NerInput { text: &ex.text, reference_date: ex.reference_date.unwrap_or(today) })?;
        obs.push(observe::ner(&ex.text, ents.len()));
    }
    Ok(Profile::build(ModelKind::Ner, &obs))
}

/// The credit model on an evaluation table (columns named by the model's schema).
pub fn credit(model: &CreditModel, data: &Tabular) -> Result<Profile, ModelError> {
    let probs = model.probabilities(data)?;
    let obs: Vec<Observation> = (0..data.rows)
        .map(|i| observe::table(model.schema(), data.row(i), ("default_probability", probs[i])))
        .collect();
    Ok(Profile::build(ModelKind::Credit, &obs))
}

/// The detector on an evaluation table (columns named by the model's schema).
pub fn anomaly(model: &AnomalyModel, data: &Tabular) -> Profile {
    let scores = model.scores(data);
    let obs: Vec<Observation> =
        (0..data.rows).map(|i| observe::table(model.schema(), data.row(i), ("anomaly_score", scores[i]))).collect();
    Profile::build(ModelKind::Anomaly, &obs)
}
