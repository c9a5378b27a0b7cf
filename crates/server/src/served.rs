//! What the server needs to know of each model, in one trait: [`Served`]. The generic route
//! handlers (`http/predict.rs`), model loading and hot swap (`state.rs`), the cache and the
//! statistics all work through it; [`for_kind`] is the one place that maps a [`ModelKind`] to
//! its type, so a sixth model is one more `impl Served` and one more arm there (the compiler
//! asks for both).
//!
//! An implementation only turns a request into the model's input (naming the field of a value
//! it refuses) and calls the model; the domain logic — forecast horizons, where a user's
//! history comes from — lives in `nivesh-models` and `nivesh-features`.

use crate::error::ApiError;
use crate::tensor::Datatype::{Bool, Bytes, Fp32, Fp64, Int64};
use crate::tensor::TensorSpec;
use crate::types::*;
use arc_swap::ArcSwapOption;
use nivesh_core::Record;
use nivesh_features::{FeatureStore, HistorySource};
use nivesh_models::anomaly::AnomalyModel;
use nivesh_models::credit::{CreditModel, CreditScore};
use nivesh_models::forecast::SpendingForecaster;
use nivesh_models::intent::{IntentClassifier, IntentPrediction};
use nivesh_models::ner::{FinancialNer, NerInput};
use nivesh_models::{ModelKind, Persist, Predict};
use nivesh_monitor::observe;
use nivesh_monitor::sample::Observation;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

type ApiResult<T> = Result<T, ApiError>;

/// A model the server serves.
pub trait Served: Persist + Send + Sync + Sized + 'static {
    const MODEL: ModelKind;
    /// Its endpoint in the wire format: the route and the request and output types, which
    /// must be this impl's (the clients call the same definition).
    type Endpoint: nivesh_api::Endpoint<Request = Self::Request, Output = Self::Output>;
    /// Its route: `/predict/{ROUTE}` and `/predict/{ROUTE}/batch`.
    const ROUTE: &'static str = <Self::Endpoint as nivesh_api::Endpoint>::ROUTE;
    /// Answering reads a store or fits a series: it runs on the blocking pool.
    const BLOCKING: bool;
    /// Whether this loaded model answers on the blocking pool ([`Self::BLOCKING`] unless the
    /// model says otherwise: the intent classifier in its contextual mode runs an encoder).
    fn blocking(&self) -> bool {
        Self::BLOCKING
    }
    /// Inputs or answers may hold free text (a user's words): the prediction log redacts them.
    const FREE_TEXT: bool;
    /// One request body as callers send it.
    type Request: DeserializeOwned + utoipa::ToSchema + Send + 'static;
    /// A checked request: what the model computes from; its JSON is the cache key.
    type Input: Serialize + Send + 'static;
    /// One answer, without `model_version`.
    type Output: Serialize + DeserializeOwned + utoipa::ToSchema + Send + 'static;
    /// Its Open Inference Protocol inputs: each a place in [`Self::Request`]'s JSON.
    const OIP_INPUTS: &'static [TensorSpec];
    /// Its OIP outputs: each a field of [`Self::Output`]'s JSON (`prediction_id` is added).
    const OIP_OUTPUTS: &'static [TensorSpec];

    /// The slot its champion is loaded into.
    fn slot(models: &Models) -> &Slot<Self>;
    /// Check a request: a refused value is a 422 naming its field.
    fn check(req: Self::Request) -> ApiResult<Self::Input>;
    /// The users whose data a request reads or names (a user token may name only its own).
    fn users(_req: &Self::Request) -> Vec<&str> {
        Vec::new()
    }
    /// Compute the answer (`features`: the feature store, when the server has one), and what
    /// monitoring observes of it (`nivesh_monitor::observe`).
    fn answer(&self, input: &Self::Input, features: Option<&FeatureStore>) -> ApiResult<(Self::Output, Observation)>;
    /// [`Self::answer`] on the calling (async) thread, for a model that answers on the blocking
    /// pool, when this input needs no waiting (the anomaly model: the user's state is already in
    /// memory and unchanged in the store). The same answer; `None`: call [`Self::answer`].
    fn answer_now(
        &self,
        _input: &Self::Input,
        _features: Option<&FeatureStore>,
    ) -> Option<ApiResult<(Self::Output, Observation)>> {
        None
    }
    /// The number per-model statistics summarise (a confidence, score or probability).
    fn confidence(output: &Self::Output) -> Option<f64>;

    /// Its name as a tool for AI agents (MCP, function calling: `tools.rs`).
    const TOOL: &'static str;
    /// What the tool does, when an agent should use it and what it answers.
    const TOOL_DESCRIPTION: &'static str;
    /// One line an agent (or a person) reads instead of the answer's JSON.
    fn summary(output: &Self::Output) -> String;
}

/// A loaded model with what the registry says about it.
pub struct Loaded<M> {
    pub model: M,
    pub info: ModelInfo,
}

/// One model's slot: empty until loaded, then swapped atomically; in-flight requests keep the
/// `Arc` of the version they started with.
pub struct Slot<M> {
    pub(crate) cell: ArcSwapOption<Loaded<M>>,
}

impl<M> Default for Slot<M> {
    fn default() -> Self {
        Slot { cell: ArcSwapOption::empty() }
    }
}

impl<M> Slot<M> {
    pub fn get(&self) -> Option<Arc<Loaded<M>>> {
        self.cell.load_full()
    }
    pub fn info(&self) -> Option<ModelInfo> {
        self.cell.load().as_ref().map(|l| l.info.clone())
    }
}

/// A slot per model ([`Served::slot`] picks one).
#[derive(Default)]
pub struct Models {
    pub intent: Slot<IntentClassifier>,
    pub ner: Slot<FinancialNer>,
    pub spending: Slot<SpendingForecaster>,
    pub anomaly: Slot<AnomalyModel>,
    pub credit: Slot<CreditModel>,
}

/// Something to do with the served type of a model kind (see [`for_kind`]).
pub trait ForKind {
    type Output;
    fn call<M: Served>(self) -> Self::Output;
}

/// Do `f` with the served type of `kind`: the one map from kinds to types.
pub fn for_kind<F: ForKind>(kind: ModelKind, f: F) -> F::Output {
    match kind {
        ModelKind::Intent => f.call::<IntentClassifier>(),
        ModelKind::Ner => f.call::<FinancialNer>(),
        ModelKind::Spending => f.call::<SpendingForecaster>(),
        ModelKind::Anomaly => f.call::<AnomalyModel>(),
        ModelKind::Credit => f.call::<CreditModel>(),
    }
}

impl Served for IntentClassifier {
    const MODEL: ModelKind = ModelKind::Intent;
    type Endpoint = nivesh_api::endpoint::Intent;
    const BLOCKING: bool = false;
    fn blocking(&self) -> bool {
        // milliseconds of a transformer per query: off the async workers
        self.encoder_source().is_some()
    }
    const FREE_TEXT: bool = true;
    type Request = IntentRequest;
    type Input = String;
    type Output = IntentPrediction;
    const OIP_INPUTS: &'static [TensorSpec] =
        &[TensorSpec::new("text", Bytes, "query").required(), TensorSpec::new("user_id", Bytes, "user_id")];
    const OIP_OUTPUTS: &'static [TensorSpec] = &[
        TensorSpec::new("intent", Bytes, "intent"),
        TensorSpec::new("confidence", Fp32, "confidence"),
        TensorSpec::json("alternatives", "alternatives"),
        TensorSpec::new("low_confidence", Bool, "low_confidence"),
        TensorSpec::new("query_length", Int64, "query_length"),
        TensorSpec::new("truncated", Bool, "truncated"),
    ];

    fn slot(models: &Models) -> &Slot<Self> {
        &models.intent
    }
    fn check(req: IntentRequest) -> ApiResult<String> {
        Ok(req.query)
    }
    fn users(req: &IntentRequest) -> Vec<&str> {
        req.user_id.as_deref().into_iter().collect()
    }
    fn answer(&self, query: &String, _: Option<&FeatureStore>) -> ApiResult<(IntentPrediction, Observation)> {
        let (p, oov) = self.predict_with_oov(query.as_str())?;
        let o = observe::intent(query, &p.intent, oov);
        Ok((p, o))
    }
    fn confidence(output: &IntentPrediction) -> Option<f64> {
        Some(output.confidence)
    }

    const TOOL: &'static str = "classify_intent";
    const TOOL_DESCRIPTION: &'static str = "Classify what a Nivesh user is asking for (check a balance, \
        plan a budget, ask about a loan, …) from their message. Answers the intent, its probability, \
        the next best intents, and `low_confidence` when the message matches no intent well (then \
        ask the user to rephrase rather than act on it).";
    fn summary(o: &IntentPrediction) -> String {
        let alternatives: Vec<String> =
            o.alternatives.iter().skip(1).map(|a| format!("{} {:.2}", a.intent, a.confidence)).collect();
        let flag = if o.low_confidence { " — low confidence, ask the user to rephrase" } else { "" };
        format!("intent {} (confidence {:.2}){flag}; next: {}", o.intent, o.confidence, alternatives.join(", "))
    }
}

impl Served for FinancialNer {
    const MODEL: ModelKind = ModelKind::Ner;
    type Endpoint = nivesh_api::endpoint::Ner;
    const BLOCKING: bool = false;
    const FREE_TEXT: bool = true;
    type Request = NerRequest;
    type Input = NerQuery;
    type Output = NerOutput;
    const OIP_INPUTS: &'static [TensorSpec] = &[
        TensorSpec::new("text", Bytes, "text").required(),
        TensorSpec::new("reference_date", Bytes, "reference_date"),
    ];
    const OIP_OUTPUTS: &'static [TensorSpec] = &[TensorSpec::json("entities", "entities")];

    fn slot(models: &Models) -> &Slot<Self> {
        &models.ner
    }
    fn check(req: NerRequest) -> ApiResult<NerQuery> {
        nivesh_models::ner::check_text(&req.text)?;
        // relative dates are read against today in India unless the caller says otherwise
        let today = || chrono::Utc::now().with_timezone(&nivesh_core::records::IST).date_naive();
        let reference_date = req.reference_date.unwrap_or_else(today);
        nivesh_models::ner::check_reference_date(reference_date)?;
        Ok(NerQuery { reference_date, text: req.text })
    }
    fn answer(&self, q: &NerQuery, _: Option<&FeatureStore>) -> ApiResult<(NerOutput, Observation)> {
        let entities = self.predict(&NerInput { text: &q.text, reference_date: q.reference_date })?;
        let o = observe::ner(&q.text, entities.len());
        Ok((NerOutput { entities }, o))
    }
    fn confidence(output: &NerOutput) -> Option<f64> {
        let n = output.entities.len();
        (n > 0).then(|| output.entities.iter().map(|e| e.confidence).sum::<f64>() / n as f64)
    }

    const TOOL: &'static str = "extract_entities";
    const TOOL_DESCRIPTION: &'static str = "Find the financial entities in a message — amounts (read \
        as rupees: \"5k\", \"2.5 lakh\", \"1 crore\"), dates and periods (\"yesterday\", \"next \
        month\", resolved against `reference_date`, default today in India), merchants, banks, \
        categories, account types — each with its character span, a confidence and a normalised value.";
    fn summary(o: &NerOutput) -> String {
        if o.entities.is_empty() {
            return "no entities found".into();
        }
        let each: Vec<String> = o
            .entities
            .iter()
            .map(|e| match &e.value {
                Some(v) => format!("{} {:?} = {v}", e.label, e.text),
                None => format!("{} {:?}", e.label, e.text),
            })
            .collect();
        format!("{} entities: {}", o.entities.len(), each.join("; "))
    }
}

/// A caller's transaction with its defaults, checked by the record rules; refusals name
/// `field` (`transactions[2]`, `transaction`) and the record's own field.
fn checked_transaction(
    input: TransactionInput,
    user: &str,
    id: impl FnOnce() -> String,
    field: &str,
) -> ApiResult<nivesh_core::Transaction> {
    let txn = input.into_transaction(user, id);
    txn.validate().map_err(|e| ApiError::invalid(format!("{field}.{}", e.field), e.message))?;
    Ok(txn)
}

impl Served for SpendingForecaster {
    const MODEL: ModelKind = ModelKind::Spending;
    type Endpoint = nivesh_api::endpoint::Spending;
    const BLOCKING: bool = true;
    const FREE_TEXT: bool = false;
    type Request = SpendingRequest;
    type Input = SpendingQuery;
    type Output = SpendingOutput;
    const OIP_INPUTS: &'static [TensorSpec] = &[TensorSpec::json("request", "").required()];
    const OIP_OUTPUTS: &'static [TensorSpec] = &[
        TensorSpec::json("forecast", "forecast"),
        TensorSpec::new("model_used", Bytes, "model_used"),
        TensorSpec::new("history_points", Int64, "history_points"),
    ];

    fn slot(models: &Models) -> &Slot<Self> {
        &models.spending
    }
    fn users(req: &SpendingRequest) -> Vec<&str> {
        let inline = req.transactions.iter().flatten().filter_map(|t| t.user_id.as_deref());
        req.user_id.as_deref().into_iter().chain(inline).collect()
    }
    fn check(req: SpendingRequest) -> ApiResult<SpendingQuery> {
        let months = req.months.unwrap_or(12);
        nivesh_models::forecast::check_months(months)?;
        let transactions = match (req.transactions, &req.user_id) {
            (Some(txns), user) => {
                let user = user.as_deref().unwrap_or("caller");
                let checked = txns
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| checked_transaction(t, user, || format!("inline-{i}"), &format!("transactions[{i}]")))
                    .collect::<ApiResult<Vec<_>>>()?;
                Some(checked)
            }
            (None, Some(_)) => None,
            (None, None) => return Err(ApiError::invalid("user_id", "give user_id or transactions")),
        };
        Ok(SpendingQuery { user_id: req.user_id, transactions, months, category: req.category })
    }
    fn answer(&self, q: &SpendingQuery, features: Option<&FeatureStore>) -> ApiResult<(SpendingOutput, Observation)> {
        let stored;
        let txns: &[nivesh_core::Transaction] = match (&q.transactions, &q.user_id) {
            (Some(txns), _) => txns,
            (None, Some(user)) => {
                let fs = features.ok_or_else(|| ApiError::Unavailable("no feature store configured".into()))?;
                stored = fs.offline().entity_events(user, None)?;
                &stored
            }
            (None, None) => &[],
        };
        let refs: Vec<&nivesh_core::Transaction> = txns.iter().collect();
        let outlook =
            self.forecast_months(&refs, q.category.as_deref(), q.months)?.ok_or_else(|| match &q.user_id {
                Some(u) => ApiError::NotFound(format!("no spending history for user {u:?}")),
                None => ApiError::invalid("transactions", "no debit transactions to forecast from"),
            })?;
        let next_month = outlook.months.first().map_or(f64::NAN, |m| m.predicted_amount);
        let o = observe::spending(&outlook.daily, next_month);
        let output = SpendingOutput {
            user_id: q.user_id.clone(),
            forecast: outlook.months,
            model_used: outlook.model_used,
            history_points: outlook.history_points,
        };
        Ok((output, o))
    }
    fn confidence(_: &SpendingOutput) -> Option<f64> {
        None
    }

    const TOOL: &'static str = "forecast_spending";
    const TOOL_DESCRIPTION: &'static str = "Forecast a user's spending per calendar month (1-24 months, \
        default 12), optionally of one category, with an 80% interval per month. Give `user_id` for a \
        user whose transactions Nivesh holds, or `transactions` (at least `timestamp` and `amount` \
        each) for any history. Festival seasons (Diwali, …) are taken into account.";
    fn summary(o: &SpendingOutput) -> String {
        let months: Vec<String> = o
            .forecast
            .iter()
            .take(3)
            .map(|m| format!("{} ₹{:.0} (₹{:.0}-{:.0})", m.month, m.predicted_amount, m.lower_bound, m.upper_bound))
            .collect();
        let total: f64 = o.forecast.iter().map(|m| m.predicted_amount).sum();
        format!(
            "{} months forecast, ₹{total:.0} in all, from {} days of history ({}); first: {}",
            o.forecast.len(),
            o.history_points,
            o.model_used,
            months.join(", ")
        )
    }
}

impl Served for AnomalyModel {
    const MODEL: ModelKind = ModelKind::Anomaly;
    type Endpoint = nivesh_api::endpoint::Anomaly;
    const BLOCKING: bool = true;
    const FREE_TEXT: bool = false;
    type Request = AnomalyRequest;
    type Input = nivesh_core::Transaction;
    type Output = AnomalyOutput;
    const OIP_INPUTS: &'static [TensorSpec] = &[TensorSpec::json("request", "").required()];
    const OIP_OUTPUTS: &'static [TensorSpec] = &[
        TensorSpec::new("is_anomaly", Bool, "is_anomaly"),
        TensorSpec::new("anomaly_score", Fp64, "anomaly_score"),
        TensorSpec::new("threshold", Fp64, "threshold"),
        TensorSpec::json("reasons", "reasons"),
        TensorSpec::new("history_source", Bytes, "history_source"),
    ];

    fn slot(models: &Models) -> &Slot<Self> {
        &models.anomaly
    }
    fn users(req: &AnomalyRequest) -> Vec<&str> {
        req.user_id.as_deref().into_iter().chain(req.transaction.user_id.as_deref()).collect()
    }
    fn check(req: AnomalyRequest) -> ApiResult<nivesh_core::Transaction> {
        let user = match (&req.user_id, &req.transaction.user_id) {
            (Some(outer), Some(inner)) if outer != inner => {
                return Err(ApiError::invalid(
                    "transaction.user_id",
                    format!("{inner:?} differs from user_id {outer:?}"),
                ));
            }
            (Some(u), _) | (None, Some(u)) => u.clone(),
            (None, None) => return Err(ApiError::invalid("user_id", "give user_id or transaction.user_id")),
        };
        checked_transaction(req.transaction, &user, || "live".into(), "transaction")
    }
    fn answer(
        &self,
        txn: &nivesh_core::Transaction,
        features: Option<&FeatureStore>,
    ) -> ApiResult<(AnomalyOutput, Observation)> {
        let (score, history_source) = match features {
            Some(fs) => fs.score_anomaly(self, txn, chrono::Utc::now().timestamp())?,
            None => {
                let input = nivesh_models::anomaly::AnomalyInput { transaction: txn, history: &[] };
                (self.predict(&input)?, HistorySource::None)
            }
        };
        Ok(anomaly_output(score, history_source))
    }
    fn answer_now(
        &self,
        txn: &nivesh_core::Transaction,
        features: Option<&FeatureStore>,
    ) -> Option<ApiResult<(AnomalyOutput, Observation)>> {
        let scored = features?.score_anomaly_now(self, txn, chrono::Utc::now().timestamp())?;
        Some(scored.map(|(score, source)| anomaly_output(score, source)).map_err(ApiError::from))
    }
    fn confidence(output: &AnomalyOutput) -> Option<f64> {
        Some(output.score.anomaly_score)
    }

    const TOOL: &'static str = "score_transaction";
    const TOOL_DESCRIPTION: &'static str = "Say whether a transaction is unusual for the user who made \
        it (possible fraud or a mistake): an anomaly score in [0, 1], the threshold above which it is \
        flagged, and the features that stand out with their typical values. The user's history comes \
        from Nivesh's feature store; a new user is scored on the transaction alone.";
    fn summary(o: &AnomalyOutput) -> String {
        let verdict = if o.score.is_anomaly { "UNUSUAL" } else { "normal" };
        let reasons: Vec<String> = o
            .score
            .reasons
            .iter()
            .map(|r| match r.value {
                Some(v) => format!("{} {v:.2} (typical {:.2})", r.feature, r.typical),
                None => format!("{} missing (typical {:.2})", r.feature, r.typical),
            })
            .collect();
        let why = if reasons.is_empty() { String::new() } else { format!("; stands out: {}", reasons.join(", ")) };
        format!("{verdict}: score {:.3} against threshold {:.3}{why}", o.score.anomaly_score, o.score.threshold)
    }
}

fn anomaly_output(
    score: nivesh_models::anomaly::AnomalyScore,
    history_source: HistorySource,
) -> (AnomalyOutput, Observation) {
    let o = observe::anomaly(&score.features, score.anomaly_score);
    (AnomalyOutput { score, history_source }, o)
}

impl Served for CreditModel {
    const MODEL: ModelKind = ModelKind::Credit;
    type Endpoint = nivesh_api::endpoint::Credit;
    const BLOCKING: bool = false;
    const FREE_TEXT: bool = false;
    type Request = CreditRequest;
    type Input = nivesh_core::CreditApplication;
    type Output = CreditScore;
    /// One tensor per applicant field (the natural layout for a tabular model), or the whole
    /// applicant as one JSON `applicant_data` element.
    const OIP_INPUTS: &'static [TensorSpec] = &[
        TensorSpec::new("age", Int64, "applicant_data.age"),
        TensorSpec::new("monthly_income", Fp64, "applicant_data.monthly_income"),
        TensorSpec::new("monthly_debt", Fp64, "applicant_data.monthly_debt"),
        TensorSpec::new("credit_limit", Fp64, "applicant_data.credit_limit"),
        TensorSpec::new("credit_used", Fp64, "applicant_data.credit_used"),
        TensorSpec::new("loan_amount", Fp64, "applicant_data.loan_amount"),
        TensorSpec::new("payments_missed", Int64, "applicant_data.payments_missed"),
        TensorSpec::new("total_payments", Int64, "applicant_data.total_payments"),
        TensorSpec::new("months_employed", Int64, "applicant_data.months_employed"),
        TensorSpec::new("credit_history_months", Int64, "applicant_data.credit_history_months"),
        TensorSpec::new("num_credit_accounts", Int64, "applicant_data.num_credit_accounts"),
        TensorSpec::new("has_mortgage", Bool, "applicant_data.has_mortgage"),
        TensorSpec::new("has_car_loan", Bool, "applicant_data.has_car_loan"),
        TensorSpec::new("employment_type", Bytes, "applicant_data.employment_type"),
        TensorSpec::new("education", Bytes, "applicant_data.education"),
        TensorSpec::json("applicant_data", "applicant_data"),
    ];
    const OIP_OUTPUTS: &'static [TensorSpec] = &[
        TensorSpec::new("default_probability", Fp64, "default_probability"),
        TensorSpec::new("will_default", Bool, "will_default"),
        TensorSpec::new("risk_score", Int64, "risk_score"),
        TensorSpec::new("credit_score", Int64, "credit_score"),
        TensorSpec::new("risk_category", Bytes, "risk_category"),
        TensorSpec::json("reason_codes", "reason_codes"),
    ];

    fn slot(models: &Models) -> &Slot<Self> {
        &models.credit
    }
    fn check(req: CreditRequest) -> ApiResult<nivesh_core::CreditApplication> {
        let a = req.applicant_data;
        a.validate().map_err(|e| ApiError::invalid(format!("applicant_data.{}", e.field), e.message))?;
        Ok(a)
    }
    fn answer(
        &self,
        a: &nivesh_core::CreditApplication,
        _: Option<&FeatureStore>,
    ) -> ApiResult<(CreditScore, Observation)> {
        let score = self.predict(a)?;
        let o = observe::credit(a, score.default_probability);
        Ok((score, o))
    }
    fn confidence(output: &CreditScore) -> Option<f64> {
        Some(output.default_probability)
    }

    const TOOL: &'static str = "assess_credit_risk";
    const TOOL_DESCRIPTION: &'static str = "Assess the risk that a loan applicant defaults: the \
        probability, a 300-900 credit score, a low/medium/high category and the reason codes (each \
        feature's contribution, increasing or decreasing the risk). Needs the applicant's age, \
        monthly income and debt (INR), credit limit and use, loan amount, payment record, employment \
        and education.";
    fn summary(o: &CreditScore) -> String {
        let reasons: Vec<String> = o
            .reason_codes
            .iter()
            .take(3)
            .map(|r| format!("{} ({})", r.feature, r.direction.replace('_', " ")))
            .collect();
        format!(
            "{} risk: default probability {:.1}%, credit score {}; main reasons: {}",
            o.risk_category,
            o.default_probability * 100.0,
            o.credit_score,
            reasons.join(", ")
        )
    }
}
