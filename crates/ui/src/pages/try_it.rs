//! Try it: a form per model. The server turns the form into the route's JSON body
//! ([`request`]), answers it as `POST /predict/{route}` does, and [`answer`] shows the result:
//! intent alternatives as bars, NER spans highlighted in the text with their values, the
//! spending forecast as a fan chart, anomaly reasons, credit reason codes as a waterfall — and
//! the request and raw answer.

use crate::{Nav, Session, chart, inr, num, page, pct, pill};
use maud::{Markup, html};
use nivesh_api::{AnomalyOutput, CreditScore, ErrorBody, IntentPrediction, ModelKind, NerOutput, SpendingOutput};
use serde_json::{Map, Value, json};

/// How a form field is read into the JSON body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    Number,
    Integer,
    Date,
    /// `YYYY-MM-DDTHH:MM` from a datetime-local input, sent as IST.
    DateTime,
    Bool,
    Choice(&'static [&'static str]),
}

/// One field: its JSON path (`transaction.amount`), label, kind, example value, required.
#[derive(Debug, Clone)]
pub struct Field {
    pub path: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub example: &'static str,
    pub required: bool,
}

const fn field(path: &'static str, label: &'static str, kind: Kind, example: &'static str, required: bool) -> Field {
    Field { path, label, kind, example, required }
}

const CHANNELS: &[&str] = &["upi", "card", "netbanking", "wallet", "cash", "other"];
const EMPLOYMENT: &[&str] = &["salaried", "self_employed", "business", "unemployed", "retired", "student"];
const EDUCATION: &[&str] = &["high_school", "diploma", "graduate", "postgraduate", "doctorate"];

/// The form of `model`.
pub fn fields(model: ModelKind) -> Vec<Field> {
    use Kind::*;
    match model {
        ModelKind::Intent => vec![field("query", "Question", Text, "mera is mahine ka kharcha kitna hua?", true)],
        ModelKind::Ner => vec![
            field("text", "Text", Text, "Paid Rs 2,500 to Swiggy yesterday from my HDFC savings account", true),
            field("reference_date", "Reference date", Date, "", false),
        ],
        ModelKind::Spending => vec![
            field("user_id", "User id", Text, "U0001", true),
            field("months", "Months", Integer, "3", false),
            field("category", "Category (optional)", Text, "", false),
        ],
        ModelKind::Anomaly => vec![
            field("user_id", "User id", Text, "U0001", true),
            field("transaction.amount", "Amount (₹)", Number, "185000", true),
            field("transaction.timestamp", "When (IST)", DateTime, "", true),
            field("transaction.merchant", "Merchant", Text, "Unknown Merchant Intl", false),
            field("transaction.category", "Category", Text, "shopping", false),
            field("transaction.channel", "Channel", Choice(CHANNELS), "card", false),
        ],
        ModelKind::Credit => vec![
            field("applicant_data.age", "Age", Integer, "32", true),
            field("applicant_data.monthly_income", "Monthly income (₹)", Number, "85000", true),
            field("applicant_data.monthly_debt", "Monthly debt (₹)", Number, "22000", true),
            field("applicant_data.credit_limit", "Credit limit (₹)", Number, "200000", true),
            field("applicant_data.credit_used", "Credit used (₹)", Number, "120000", true),
            field("applicant_data.loan_amount", "Loan amount (₹)", Number, "500000", true),
            field("applicant_data.payments_missed", "Payments missed", Integer, "2", true),
            field("applicant_data.total_payments", "Total payments", Integer, "48", true),
            field("applicant_data.months_employed", "Months employed", Integer, "40", true),
            field("applicant_data.credit_history_months", "Credit history (months)", Integer, "60", true),
            field("applicant_data.num_credit_accounts", "Credit accounts", Integer, "4", true),
            field("applicant_data.has_mortgage", "Has a mortgage", Bool, "", false),
            field("applicant_data.has_car_loan", "Has a car loan", Bool, "1", false),
            field("applicant_data.employment_type", "Employment", Choice(EMPLOYMENT), "salaried", true),
            field("applicant_data.education", "Education", Choice(EDUCATION), "graduate", true),
        ],
    }
}

/// The JSON body `POST /predict/{route}` takes, from the form's `(name, value)` pairs; an
/// empty optional field is left out. The error names the field.
pub fn request(model: ModelKind, form: &[(String, String)]) -> Result<Value, String> {
    let mut body = Map::new();
    for f in fields(model) {
        let raw = form.iter().find(|(k, _)| k == f.path).map(|(_, v)| v.trim()).unwrap_or("");
        let value = match f.kind {
            Kind::Bool => Value::Bool(matches!(raw, "1" | "on" | "true")),
            _ if raw.is_empty() => {
                if f.required {
                    return Err(format!("{}: required", f.path));
                }
                continue;
            }
            Kind::Text | Kind::Date => Value::String(raw.to_string()),
            Kind::DateTime => Value::String(if raw.len() == 16 { format!("{raw}:00+05:30") } else { raw.to_string() }),
            Kind::Number => {
                let x: f64 =
                    raw.replace(',', "").parse().map_err(|_| format!("{}: {raw:?} is not a number", f.path))?;
                json!(x)
            }
            Kind::Integer => {
                let x: u64 = raw.parse().map_err(|_| format!("{}: {raw:?} is not a whole number ≥ 0", f.path))?;
                json!(x)
            }
            Kind::Choice(options) => {
                if !options.contains(&raw) {
                    return Err(format!("{}: {raw:?} is not one of {}", f.path, options.join(", ")));
                }
                Value::String(raw.to_string())
            }
        };
        let mut at = &mut body;
        let mut parts = f.path.split('.').peekable();
        while let Some(p) = parts.next() {
            if parts.peek().is_none() {
                at.insert(p.to_string(), value.clone());
            } else {
                let next = at.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
                match next {
                    Value::Object(m) => at = m,
                    _ => return Err(format!("{}: not an object", f.path)),
                }
            }
        }
    }
    Ok(Value::Object(body))
}

/// The route a model's form is answered as.
pub fn route(model: ModelKind) -> &'static str {
    match model {
        ModelKind::Intent => "intent",
        ModelKind::Ner => "ner",
        ModelKind::Spending => "spending",
        ModelKind::Anomaly => "anomaly",
        ModelKind::Credit => "credit-risk",
    }
}

fn form(model: ModelKind, values: Option<&[(String, String)]>, now_ist: &str) -> Markup {
    let id = model.name();
    html! {
        form method="post" action={"/ui/try/" (id)} data-fragment={"answer-" (id)} aria-label={"Try " (id)} {
            div.fields {
                @for f in fields(model) {
                    @let given = values.and_then(|v| v.iter().find(|(k, _)| k == f.path).map(|(_, v)| v.as_str()));
                    @let value = given.unwrap_or(if f.kind == Kind::DateTime && f.example.is_empty() { now_ist } else { f.example });
                    @let wide = f.kind == Kind::Text && matches!(f.path, "query" | "text");
                    @match f.kind {
                        Kind::Bool => label.check { input type="checkbox" name=(f.path) value="1" checked[given.map_or(value == "1", |v| v == "1")]; (f.label) },
                        Kind::Choice(options) => label { (f.label) select name=(f.path) required[f.required] {
                            @for o in options { option value=(o) selected[*o == value] { (o) } }
                        } },
                        _ => label class=(if wide { "wide" } else { "" }) { (f.label)
                            input name=(f.path) value=(value) required[f.required]
                                type=(match f.kind { Kind::Number | Kind::Integer => "number", Kind::Date => "date", Kind::DateTime => "datetime-local", _ => "text" })
                                step=(match f.kind { Kind::Number => "any", _ => "1" });
                        },
                    }
                }
            }
            button type="submit" { "Predict" }
        }
    }
}

/// A model answered on the page without script: the model, its form's values, the answer.
pub type Shown<'a> = (ModelKind, &'a [(String, String)], Markup);

/// The page: a card per model, each with its form and the place its answer goes; `shown` is a
/// model already answered (the page without script), with its form values and answer.
pub fn page_html(session: &Session, shown: Option<Shown>, now_ist: &str) -> Markup {
    page(
        Nav::Try,
        "Try it",
        session,
        html! {
            p.muted.small { "Each form is answered exactly as its prediction route answers (same checks, cache, metrics and log); the request and raw answer are under each result." }
            div.try-list {
                @for m in ModelKind::ALL {
                    @let mine = shown.as_ref().filter(|(k, _, _)| *k == m);
                    section.card #{"try-" (m.name())} {
                        h2 { (m.name()) " " span.small.muted { "POST /predict/" (route(m)) } }
                        div.try {
                            (form(m, mine.map(|(_, v, _)| *v), now_ist))
                            div #{"answer-" (m.name())} tabindex="-1" aria-live="polite" { @if let Some((_, _, a)) = mine { (a) } }
                        }
                    }
                }
            }
        },
    )
}

fn raw(request: &Value, status: u16, body: &Value) -> Markup {
    html! {
        details {
            summary { "Request and raw answer (HTTP " (status) ")" }
            pre { (serde_json::to_string_pretty(request).unwrap_or_default()) }
            pre { (serde_json::to_string_pretty(body).unwrap_or_default()) }
        }
    }
}

/// The answer to show: `status` and `body` as the route returned them.
pub fn answer(model: ModelKind, request: &Value, status: u16, body: &Value) -> Markup {
    if status >= 400 {
        let e: Option<ErrorBody> = serde_json::from_value(body.clone()).ok();
        return html! {
            div.notice.bad role="alert" {
                @if let Some(e) = e { strong { (e.error_type) } ": " (e.error) @if let Some(f) = e.field { " (field " code { (f) } ")" } }
                @else { "HTTP " (status) }
            }
            (raw(request, status, body))
        };
    }
    let shown = match model {
        ModelKind::Intent => serde_json::from_value::<IntentPrediction>(body.clone()).ok().map(|p| intent(&p)),
        ModelKind::Ner => serde_json::from_value::<NerOutput>(body.clone())
            .ok()
            .map(|o| ner(request.get("text").and_then(Value::as_str).unwrap_or(""), &o)),
        ModelKind::Spending => serde_json::from_value::<SpendingOutput>(body.clone()).ok().map(|o| spending(&o)),
        ModelKind::Anomaly => serde_json::from_value::<AnomalyOutput>(body.clone()).ok().map(|o| anomaly(&o)),
        ModelKind::Credit => serde_json::from_value::<CreditScore>(body.clone()).ok().map(|o| credit(&o)),
    };
    html! {
        div.result data-model=(model.name()) {
            @match shown { Some(m) => (m), None => p.notice.bad { "The answer did not have the expected shape." } }
            p.small.muted { "model v" (body.get("model_version").map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or("?".into()))
                " · prediction " code { (body.get("prediction_id").and_then(Value::as_str).unwrap_or("")) } }
            (raw(request, status, body))
        }
    }
}

fn intent(p: &IntentPrediction) -> Markup {
    let items: Vec<(String, f64)> = p.alternatives.iter().map(|a| (a.intent.clone(), a.confidence)).collect();
    html! {
        p.big.intent { (p.intent) " " span.small.muted { (pct(Some(p.confidence))) } }
        @if p.low_confidence { p { (pill("low confidence: the fallback label", "warn")) } }
        (chart::bars("intent alternatives", &items, Some(1.0), &|v| pct(Some(v))))
    }
}

/// The text with each entity's span marked, its label and value.
/// A normalised value as `amount 2500 · currency INR` (objects), or the value itself.
fn value_text(v: &Value) -> String {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| format!("{k} {}", x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())))
            .collect::<Vec<_>>()
            .join(" · "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ner(text: &str, o: &NerOutput) -> Markup {
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<&nivesh_api::Entity> =
        o.entities.iter().filter(|e| e.start < e.end && e.end <= chars.len()).collect();
    spans.sort_by_key(|e| e.start);
    let mut pieces: Vec<(String, Option<&nivesh_api::Entity>)> = Vec::new();
    let mut at = 0;
    for e in spans {
        if e.start < at {
            continue; // overlapping: keep the first
        }
        pieces.push((chars[at..e.start].iter().collect(), None));
        pieces.push((chars[e.start..e.end].iter().collect(), Some(e)));
        at = e.end;
    }
    pieces.push((chars[at.min(chars.len())..].iter().collect(), None));
    html! {
        p.ner-text {
            @for (t, e) in &pieces {
                @match e { Some(e) => mark.ent title={ (e.label) ": " (e.value.as_ref().map(value_text).unwrap_or_default()) } { (t) sub { (e.label) } }, None => (t) }
            }
        }
        @if o.entities.is_empty() { p.muted { "No entities found." } } @else {
            table.entities {
                thead { tr { th { "span" } th { "label" } th { "value" } th.num { "confidence" } th { "by" } } }
                tbody { @for e in &o.entities { tr {
                    td { (e.text) } td { (e.label) }
                    td { (e.value.as_ref().map(value_text).unwrap_or_else(|| "–".into())) }
                    td.num { (num(Some(e.confidence), 3)) } td.small { (e.source) }
                } } }
            }
        }
    }
}

fn spending(o: &SpendingOutput) -> Markup {
    let months: Vec<(String, f64, f64, f64)> =
        o.forecast.iter().map(|m| (m.month.clone(), m.predicted_amount, m.lower_bound, m.upper_bound)).collect();
    html! {
        p { "Forecast by " code { (o.model_used) } " from " (o.history_points) " days of history" @if let Some(u) = &o.user_id { " for " (u) } }
        (chart::fan("monthly spending forecast with its interval", &months))
        table.forecast {
            thead { tr { th { "month" } th.num { "forecast" } th.num { "low" } th.num { "high" } } }
            tbody { @for m in &o.forecast { tr { td { (m.month) } td.num { (inr(m.predicted_amount)) } td.num { (inr(m.lower_bound)) } td.num { (inr(m.upper_bound)) } } } }
        }
    }
}

fn anomaly(o: &AnomalyOutput) -> Markup {
    let s = &o.score;
    html! {
        p.big { @if s.is_anomaly { (pill("anomalous", "bad")) } @else { (pill("normal", "ok")) } " " span.small.muted { "score " (num(Some(s.anomaly_score), 3)) " (threshold " (num(Some(s.threshold), 3)) ")" } }
        @if s.reasons.is_empty() { p.muted { "No feature stands out." } } @else {
            table.reasons {
                thead { tr { th { "why" } th.num { "this transaction" } th.num { "typical for the user" } } }
                tbody { @for r in &s.reasons { tr { td { (r.feature.replace('_', " ")) } td.num { (num(r.value, 2)) } td.num { (num(Some(r.typical), 2)) } } } }
            }
        }
        p.small.muted { "user history from " (serde_json::to_value(o.history_source).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()) }
    }
}

fn credit(o: &CreditScore) -> Markup {
    let items: Vec<(String, f64)> =
        o.reason_codes.iter().map(|r| (format!("{} = {}", r.feature, num(r.value, 2)), r.contribution)).collect();
    html! {
        p.big { (o.credit_score) " " span.small.muted { "credit score (300–900)" } " "
            (pill(&format!("{} risk", o.risk_category), match o.risk_category.as_str() { "low" => "ok", "medium" => "warn", _ => "bad" })) }
        p { "Probability of default " (pct(Some(o.default_probability))) }
        h3 { "Reason codes" }
        (chart::waterfall("reason codes: contributions to the log-odds of default", &items, "sum of these"))
        p.small.muted { "Red raises the risk, green lowers it (TreeSHAP contributions to the log-odds)." }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn forms_become_the_routes_bodies() {
        assert_eq!(request(ModelKind::Intent, &form(&[("query", " hi ")])).unwrap(), json!({"query": "hi"}));
        let a = request(
            ModelKind::Anomaly,
            &form(&[
                ("user_id", "U0001"),
                ("transaction.amount", "1,500.5"),
                ("transaction.timestamp", "2026-12-04T10:30"),
                ("transaction.channel", "card"),
            ]),
        )
        .unwrap();
        assert_eq!(
            a,
            json!({"user_id": "U0001", "transaction": {"amount": 1500.5, "timestamp": "2026-12-04T10:30:00+05:30", "channel": "card"}})
        );
        let c = request(ModelKind::Credit, &form(&[("applicant_data.age", "30")]));
        assert_eq!(c.unwrap_err(), "applicant_data.monthly_income: required");
        let bad = request(ModelKind::Spending, &form(&[("user_id", "U1"), ("months", "-2")]));
        assert_eq!(bad.unwrap_err(), "months: \"-2\" is not a whole number ≥ 0");
        let choice = request(
            ModelKind::Anomaly,
            &form(&[
                ("user_id", "U1"),
                ("transaction.amount", "5"),
                ("transaction.timestamp", "x"),
                ("transaction.channel", "<x>"),
            ]),
        );
        assert!(choice.unwrap_err().starts_with("transaction.channel: \"<x>\" is not one of upi"));
        // every example form is a valid body of its route
        for m in ModelKind::ALL {
            let example: Vec<(String, String)> = fields(m)
                .iter()
                .map(|f| {
                    (
                        f.path.to_string(),
                        if f.kind == Kind::DateTime { "2026-12-04T10:30".into() } else { f.example.to_string() },
                    )
                })
                .collect();
            let body = request(m, &example).unwrap_or_else(|e| panic!("{}: {e}", m.name()));
            let parsed = match m {
                ModelKind::Intent => serde_json::from_value::<nivesh_api::IntentRequest>(body).map(|_| ()),
                ModelKind::Ner => serde_json::from_value::<nivesh_api::NerRequest>(body).map(|_| ()),
                ModelKind::Spending => serde_json::from_value::<nivesh_api::SpendingRequest>(body).map(|_| ()),
                ModelKind::Anomaly => serde_json::from_value::<nivesh_api::AnomalyRequest>(body).map(|_| ()),
                ModelKind::Credit => serde_json::from_value::<nivesh_api::CreditRequest>(body).map(|_| ()),
            };
            parsed.unwrap_or_else(|e| panic!("{}: {e}", m.name()));
        }
        // every choice offered is a value the route reads
        for c in CHANNELS {
            serde_json::from_value::<nivesh_core::Channel>(json!(c)).unwrap();
        }
        for e in EMPLOYMENT {
            serde_json::from_value::<nivesh_core::EmploymentType>(json!(e)).unwrap();
        }
        for e in EDUCATION {
            serde_json::from_value::<nivesh_core::Education>(json!(e)).unwrap();
        }
    }

    #[test]
    fn ner_marks_spans_in_the_text_and_escapes_it() {
        let text = "<b>Paid</b> Rs 500 to Swiggy";
        let chars = text.chars().count();
        let out: NerOutput = serde_json::from_value(json!({"entities": [
            {"text": "Rs 500", "label": "MONEY", "start": 12, "end": 18, "confidence": 0.9, "value": {"amount": 500.0}, "source": "crf"},
            {"text": "Swiggy", "label": "MERCHANT", "start": chars - 6, "end": chars, "confidence": 0.8, "value": null, "source": "crf"},
            {"text": "bad", "label": "X", "start": 5, "end": 500, "confidence": 0.1, "value": null, "source": "crf"}
        ]}))
        .unwrap();
        let html = ner(text, &out).into_string();
        assert!(html.contains("&lt;b&gt;Paid&lt;/b&gt; <mark class=\"ent\""), "{html}");
        assert!(html.contains(">Rs 500<sub>MONEY</sub></mark> to <mark"), "{html}");
        assert!(html.contains(">Swiggy<sub>MERCHANT</sub></mark>"), "{html}");
    }

    #[test]
    fn errors_show_the_field() {
        let body = json!({"error": "query: is empty", "error_type": "validation_error", "field": "query"});
        let html = answer(ModelKind::Intent, &json!({"query": ""}), 422, &body).into_string();
        assert!(html.contains("validation_error") && html.contains("<code>query</code>"), "{html}");
    }
}
