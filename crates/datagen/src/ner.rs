//! Sentences with MONEY, DATE, MERCHANT, CATEGORY and ACCOUNT spans (character offsets) and the
//! normalised value of each span.

use crate::surface;
use chrono::{Duration, NaiveDate};
use nivesh_core::gazetteer::Gazetteer;
use nivesh_core::rng::Rng;
use nivesh_core::{EntitySpan, NerExample};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Templates: `{MONEY}`, `{DATE}`, `{MERCHANT}`, `{CATEGORY}`, `{ACCOUNT}` become entities.
const TEMPLATES: &[&str] = &[
    "Paid {MONEY} to {MERCHANT} {DATE}",
    "paid {MONEY} at {MERCHANT} using my {ACCOUNT}",
    "How much did I spend on {CATEGORY} {DATE}?",
    "how much did i spend at {MERCHANT} {DATE}",
    "Transfer {MONEY} from my {ACCOUNT} to my {ACCOUNT} on {DATE}",
    "My {MERCHANT} order of {MONEY} was debited from {ACCOUNT}",
    "set a {CATEGORY} budget of {MONEY} for {DATE}",
    "{MERCHANT} charged me {MONEY} twice {DATE}",
    "I got a refund of {MONEY} from {MERCHANT}",
    "spent {MONEY} on {CATEGORY} {DATE}",
    "can I afford a {MONEY} phone if my {ACCOUNT} has {MONEY}",
    "mera {CATEGORY} ka kharcha {DATE} kitna tha",
    "{MONEY} ka bill {MERCHANT} pe {DATE}",
    "salary of {MONEY} credited to {ACCOUNT} on {DATE}",
    "show {CATEGORY} transactions above {MONEY}",
    "why did my {ACCOUNT} get debited {MONEY} {DATE}",
    "I want to save {MONEY} by {DATE}",
    "pay my {ACCOUNT} bill of {MONEY} before {DATE}",
    "booked tickets on {MERCHANT} for {MONEY}",
    "limit {CATEGORY} to {MONEY} per month",
    "{DATE} I ordered from {MERCHANT} for {MONEY}",
    "EMI of {MONEY} goes from {ACCOUNT} every month",
    "how much is left in my {ACCOUNT}",
    "compare {CATEGORY} spending {DATE} with {DATE}",
    "did {MERCHANT} refund {MONEY} to my {ACCOUNT}?",
    "invest {MONEY} every month starting {DATE}",
    "my rent is {MONEY}, paid via {ACCOUNT}",
    "{MERCHANT} pe {MONEY} kharch kiye {DATE}",
    "received {MONEY} from a friend {DATE}",
    "cancel the {MERCHANT} subscription of {MONEY}",
    "total {CATEGORY} bills {DATE}",
    "withdrew {MONEY} cash from {ACCOUNT} {DATE}",
    "{MONEY} loan chahiye {DATE} tak",
    "What did I buy from {MERCHANT} {DATE}",
    "FD of {MONEY} matures on {DATE}",
    "my {CATEGORY} expense went up to {MONEY}",
    "Send {MONEY} to mom from {ACCOUNT}",
    "groceries from {MERCHANT} cost {MONEY} {DATE}",
    "{DATE} ka {MERCHANT} payment dikhao",
    "Is {MONEY} on {CATEGORY} too much for a month?",
    "please check my balance",
    "how am i doing this year",
    "bought medicines at {MERCHANT} for {MONEY}",
    "{MERCHANT} se {MONEY} ka saaman liya {DATE}",
    "autopay of {MONEY} for {CATEGORY} from {ACCOUNT}",
    "Reminder: {ACCOUNT} payment of {MONEY} due {DATE}",
    "is {MONEY} a lot for {CATEGORY} in a month",
    "{DATE} I paid {MERCHANT} {MONEY} via UPI",
    "split {MONEY} dinner bill at {MERCHANT} with friends",
    "how much do i usually spend at {MERCHANT}",
    "refund of {MONEY} from {MERCHANT} not received since {DATE}",
    "move {MONEY} to my {ACCOUNT} for {CATEGORY}",
    "what were my {CATEGORY} costs between {DATE} and {DATE}",
    "Got cashback of {MONEY} on {MERCHANT}",
    "{ACCOUNT} statement for {DATE}",
    "my {CATEGORY} spend crossed {MONEY} {DATE}",
    "why is {MERCHANT} charging {MONEY} every month",
];

/// Shops no gazetteer lists: the model must find merchants from context, not only from lists.
const SHOP_OWNERS: &[&str] = &[
    "Sharma",
    "Gupta",
    "Agarwal",
    "Iyer",
    "Reddy",
    "Patel",
    "Singh",
    "Khan",
    "Balaji",
    "Ganesh",
    "Laxmi",
    "Sai",
    "Krishna",
    "Annapurna",
];
const SHOP_KINDS: &[&str] = &[
    "General Store",
    "Medicals",
    "Kirana",
    "Sweets",
    "Electronics",
    "Fuels",
    "Restaurant",
    "Bakery",
    "Textiles",
    "Mobile Shop",
    "Dairy",
    "Chemists",
    "Tiffin Centre",
];

const ACCOUNT_TYPES: &[(&str, &str)] = &[
    ("savings", "savings"),
    ("savings account", "savings"),
    ("salary account", "salary"),
    ("credit card", "credit_card"),
    ("debit card", "debit_card"),
    ("current account", "current"),
    ("FD", "fixed_deposit"),
    ("account", "savings"),
    ("card", "credit_card"),
];

fn account(rng: &mut Rng, g: &Gazetteer) -> (String, Value) {
    let bank = rng.choose(&g.banks).map(|b| {
        let short = b.aliases.first().cloned().unwrap_or_else(|| b.canonical.clone());
        let shown = if short.len() <= 5 { short.to_uppercase() } else { title(&short) };
        (shown, b.canonical.clone())
    });
    let (bank_text, bank_canon) = bank.unwrap_or_else(|| ("HDFC".into(), "HDFC Bank".into()));
    let (ty_text, ty_canon) = *rng.choose(ACCOUNT_TYPES).unwrap_or(&("savings", "savings"));
    (format!("{bank_text} {ty_text}"), json!({"bank": bank_canon, "type": ty_canon}))
}

fn title(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `n` distinct NER examples. Reference dates fall in 2025-2026.
pub fn generate(rng: &mut Rng, n: usize, g: &Gazetteer) -> Vec<NerExample> {
    let base = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or(NaiveDate::MIN);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(n);
    let mut attempts = 0;
    while out.len() < n && attempts < n * 50 {
        attempts += 1;
        let reference = base + Duration::days(rng.range(0, 600) as i64);
        let Some(template) = rng.choose(TEMPLATES) else { break };
        let mut text = String::new();
        let mut chars = 0usize;
        let mut entities = Vec::new();
        let mut rest = *template;
        while let Some(open) = rest.find('{') {
            let lit = &rest[..open];
            text.push_str(lit);
            chars += lit.chars().count();
            let Some(close) = rest[open..].find('}') else { break };
            let label = &rest[open + 1..open + close];
            let (surface, value) = match label {
                "MONEY" => {
                    let (t, v) = surface::money(rng);
                    (t, Some(v))
                }
                "DATE" => {
                    let (t, v) = surface::date(rng, reference);
                    (t, Some(v))
                }
                "MERCHANT" if rng.bernoulli(0.3) => {
                    let owner = rng.choose(SHOP_OWNERS).copied().unwrap_or("Sharma");
                    let kind = rng.choose(SHOP_KINDS).copied().unwrap_or("Store");
                    let name = format!("{owner} {kind}");
                    (name.clone(), Some(json!(name)))
                }
                "MERCHANT" => {
                    let m = rng.choose(&g.merchants);
                    let name = m.map(|m| m.canonical.clone()).unwrap_or_default();
                    let shown = match m.and_then(|m| m.aliases.first()) {
                        Some(alias) if rng.bernoulli(0.2) => title(alias),
                        _ if rng.bernoulli(0.2) => name.to_lowercase(),
                        _ => name.clone(),
                    };
                    (shown, Some(json!(name)))
                }
                "CATEGORY" => {
                    let c = rng.choose(&g.categories);
                    let shown = c.and_then(|c| rng.choose(&c.aliases).cloned()).unwrap_or_default();
                    (shown, c.map(|c| json!(c.canonical)))
                }
                _ => {
                    let (t, v) = account(rng, g);
                    (t, Some(v))
                }
            };
            let len = surface.chars().count();
            entities.push(EntitySpan { start: chars, end: chars + len, label: label.to_string(), value });
            text.push_str(&surface);
            chars += len;
            rest = &rest[open + close + 1..];
        }
        text.push_str(rest);
        if rng.bernoulli(0.3) {
            // lower-case the sentence start without moving offsets
            let mut c = text.chars();
            if let Some(f) = c.next() {
                text = f.to_lowercase().collect::<String>() + c.as_str();
            }
        }
        if seen.insert(text.clone()) {
            out.push(NerExample { text, entities, reference_date: Some(reference) });
        }
    }
    out
}
