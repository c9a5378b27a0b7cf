//! Financial named-entity recognition: MONEY, DATE, MERCHANT, CATEGORY and ACCOUNT spans with
//! character offsets, a confidence and a normalised value.
//!
//! A linear-chain CRF over BIO tags ([`crf`]) does the statistics, with features of the word,
//! its shape, prefixes and suffixes, its neighbours, gazetteer membership ([`gazetteer`]) and
//! the tags of the deterministic money/date recognisers ([`rules`]). Rule spans that the CRF
//! did not find are merged in without overlaps. Values: MONEY → `{amount, currency}`, DATE →
//! ISO date or `{from, to}` (relative to the request's reference date), MERCHANT / CATEGORY →
//! canonical gazetteer name, ACCOUNT → `{bank, type}`.

pub mod crf;
pub mod gazetteer;
pub mod rules;

use crate::text::{Token, tokenize};
use crate::{Fit, ModelError, Params, Persist, Predict};
use chrono::NaiveDate;
use crf::{CrfTraining, LinearChainCrf, attr_hash};
use gazetteer::{GazIndex, GazKind, key};
use nivesh_core::NerExample;
use nivesh_core::gazetteer::Gazetteer;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Longest text the recogniser reads.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The text a recogniser accepts: not blank, at most [`MAX_TEXT_CHARS`] characters.
pub fn check_text(text: &str) -> Result<(), ModelError> {
    if text.trim().is_empty() {
        return Err(ModelError::input("text", "is empty"));
    }
    let n_chars = text.chars().count();
    if n_chars > MAX_TEXT_CHARS {
        return Err(ModelError::input("text", format!("is {n_chars} characters; the limit is {MAX_TEXT_CHARS}")));
    }
    Ok(())
}

/// The reference dates relative expressions are read against: 1900-01-01 to 2999-12-31 (far
/// enough for any real question; beyond it "next month" could leave chrono's calendar).
pub fn check_reference_date(date: chrono::NaiveDate) -> Result<(), ModelError> {
    use chrono::Datelike;
    if (1900..=2999).contains(&date.year()) {
        Ok(())
    } else {
        Err(ModelError::input("reference_date", format!("{date} is outside 1900-01-01 to 2999-12-31")))
    }
}

/// Hyper-parameters of the NER model. They serialise without the word lists (which are data
/// shipped with the program, not parameters); deserialised parameters use the built-in lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NerParams {
    /// L1 regularisation (sparsity) of the CRF.
    pub c1: f64,
    /// L2 regularisation of the CRF.
    pub c2: f64,
    pub max_iterations: usize,
    /// Merge rule-recognised MONEY/DATE spans that the CRF missed.
    pub merge_rules: bool,
    /// Word lists used for features and canonical values.
    #[serde(skip, default = "Gazetteer::builtin")]
    pub gazetteer: Gazetteer,
}

impl Default for NerParams {
    fn default() -> Self {
        NerParams { c1: 0.05, c2: 0.01, max_iterations: 100, merge_rules: true, gazetteer: Gazetteer::builtin() }
    }
}

impl Params for NerParams {
    fn validate(&self) -> Result<(), ModelError> {
        for (field, v) in [("c1", self.c1), ("c2", self.c2)] {
            if !v.is_finite() || v < 0.0 {
                return Err(ModelError::param(field, format!("{v} must be a number >= 0")));
            }
        }
        if self.max_iterations == 0 {
            return Err(ModelError::param("max_iterations", "must be at least 1"));
        }
        Ok(())
    }
}

/// One recognised entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entity {
    pub text: String,
    pub label: String,
    /// Character offsets `[start, end)` in the input text.
    pub start: usize,
    pub end: usize,
    /// Lowest marginal probability of the entity's tags under the CRF (1 for rule-only spans).
    pub confidence: f64,
    /// Normalised value, when the span could be read.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub value: Option<Value>,
    /// `crf` or `rule`.
    pub source: String,
}

/// A request: the text and the date that relative expressions are resolved against.
#[derive(Debug, Clone, Copy)]
pub struct NerInput<'a> {
    pub text: &'a str,
    pub reference_date: NaiveDate,
}

/// A trained recogniser.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinancialNer {
    crf: LinearChainCrf,
    gazetteer: GazIndex,
    merge_rules: bool,
}

impl Persist for FinancialNer {
    const KIND: &'static str = "ner";
    const FORMAT_VERSION: u32 = 1;
}

fn shape(s: &str) -> String {
    let mut out = String::new();
    let mut last = '\0';
    for c in s.chars() {
        let k = if c.is_uppercase() {
            'X'
        } else if c.is_alphabetic() {
            'x'
        } else if c.is_ascii_digit() {
            'd'
        } else {
            c
        };
        if k != last {
            out.push(k);
            last = k;
        }
    }
    out
}

fn affix(s: &str, n: usize, prefix: bool) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < n {
        return String::new();
    }
    if prefix { chars[..n].iter().collect() } else { chars[chars.len() - n..].iter().collect() }
}

/// Per-token context the features are built from.
struct Analysed {
    tokens: Vec<Token>,
    lower: Vec<String>,
    gaz: Vec<String>,
    rule: Vec<String>,
    rule_matches: Vec<rules::RuleMatch>,
    gaz_matches: Vec<gazetteer::GazMatch>,
}

fn analyse(text: &str, gaz: &GazIndex, reference: NaiveDate) -> Analysed {
    let tokens = tokenize(text);
    let lower: Vec<String> = tokens.iter().map(|t| key(&t.text)).collect();
    let gaz_matches = gaz.find(&lower);
    let mut gaz_tags = vec!["O".to_string(); tokens.len()];
    for m in &gaz_matches {
        for (k, tag) in gaz_tags.iter_mut().enumerate().take(m.end).skip(m.start) {
            *tag = format!("{}-{}", if k == m.start { "B" } else { "I" }, m.kind.tag());
        }
    }
    let rule_matches = rules::recognise_tokens(&tokens, reference);
    let mut rule_tags = vec!["O".to_string(); tokens.len()];
    for m in &rule_matches {
        let mut first = true;
        for (k, t) in tokens.iter().enumerate() {
            if t.start >= m.start && t.end <= m.end {
                rule_tags[k] = format!("{}-{}", if first { "B" } else { "I" }, m.label);
                first = false;
            }
        }
    }
    Analysed { tokens, lower, gaz: gaz_tags, rule: rule_tags, rule_matches, gaz_matches }
}

fn features(a: &Analysed) -> Vec<Vec<String>> {
    let n = a.tokens.len();
    let word = |i: isize| -> &str {
        if i < 0 {
            "<s>"
        } else if i as usize >= n {
            "</s>"
        } else {
            &a.lower[i as usize]
        }
    };
    (0..n)
        .map(|i| {
            let t = &a.tokens[i].text;
            let w = &a.lower[i];
            let sh = shape(t);
            let ii = i as isize;
            let mut f = vec![
                "b".to_string(),
                format!("w={w}"),
                format!("s={sh}"),
                format!("p2={}", affix(w, 2, true)),
                format!("p3={}", affix(w, 3, true)),
                format!("x2={}", affix(w, 2, false)),
                format!("x3={}", affix(w, 3, false)),
                format!("g={}", a.gaz[i]),
                format!("r={}", a.rule[i]),
                format!("-1:w={}", word(ii - 1)),
                format!("+1:w={}", word(ii + 1)),
                format!("-2:w={}", word(ii - 2)),
                format!("+2:w={}", word(ii + 2)),
                format!("-1|0={}|{w}", word(ii - 1)),
                format!("0|+1={w}|{}", word(ii + 1)),
            ];
            if t.chars().next().is_some_and(char::is_uppercase) {
                f.push("title".into());
            }
            if i > 0 {
                f.push(format!("-1:s={}", shape(&a.tokens[i - 1].text)));
                f.push(format!("-1:g={}", a.gaz[i - 1]));
                f.push(format!("-1:r={}", a.rule[i - 1]));
                if a.tokens[i - 1].end == a.tokens[i].start {
                    f.push("glued".into());
                }
            } else {
                f.push("BOS".into());
            }
            if i + 1 < n {
                f.push(format!("+1:s={}", shape(&a.tokens[i + 1].text)));
                f.push(format!("+1:g={}", a.gaz[i + 1]));
                f.push(format!("+1:r={}", a.rule[i + 1]));
            } else {
                f.push("EOS".into());
            }
            f
        })
        .collect()
}

/// BIO tags of `ex`'s tokens: a token inside (or overlapping) a span takes its label.
fn bio(tokens: &[Token], ex: &NerExample) -> Vec<String> {
    let mut tags = vec!["O".to_string(); tokens.len()];
    for e in &ex.entities {
        let mut first = true;
        for (k, t) in tokens.iter().enumerate() {
            if t.end > e.start && t.start < e.end {
                tags[k] = format!("{}-{}", if first { "B" } else { "I" }, e.label);
                first = false;
            }
        }
    }
    tags
}

impl Fit<[NerExample]> for NerParams {
    type Model = FinancialNer;

    fn fit(&self, data: &[NerExample]) -> Result<FinancialNer, ModelError> {
        self.validate()?;
        if data.is_empty() {
            return Err(ModelError::Data("no NER examples".into()));
        }
        if data.iter().all(|e| e.entities.is_empty()) {
            return Err(ModelError::Data("no example has an entity".into()));
        }
        let gaz = GazIndex::new(&self.gazetteer);
        let reference = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or(NaiveDate::MIN);
        let mut xs = Vec::with_capacity(data.len());
        let mut ys = Vec::with_capacity(data.len());
        for ex in data {
            let a = analyse(&ex.text, &gaz, ex.reference_date.unwrap_or(reference));
            ys.push(bio(&a.tokens, ex));
            xs.push(features(&a));
        }
        let crf = LinearChainCrf::train(
            &xs,
            &ys,
            &CrfTraining { c1: self.c1, c2: self.c2, max_iterations: self.max_iterations },
        )?;
        Ok(FinancialNer { crf, gazetteer: gaz, merge_rules: self.merge_rules })
    }
}

impl FinancialNer {
    pub fn labels(&self) -> Vec<String> {
        let mut l: Vec<String> = self
            .crf
            .labels()
            .iter()
            .filter_map(|t| t.strip_prefix("B-").or(t.strip_prefix("I-")))
            .map(str::to_string)
            .collect();
        l.sort();
        l.dedup();
        l
    }

    pub fn n_features(&self) -> usize {
        self.crf.n_state_features()
    }

    fn value_of(
        &self,
        label: &str,
        text: &str,
        a: &Analysed,
        tok_range: (usize, usize),
        reference: NaiveDate,
    ) -> Option<Value> {
        let inside = |m: &&gazetteer::GazMatch| m.start >= tok_range.0 && m.end <= tok_range.1;
        match label {
            "MONEY" | "DATE" => rules::normalise(label, text, reference),
            "MERCHANT" => {
                a.gaz_matches.iter().filter(inside).find(|m| m.kind == GazKind::Merchant).map(|m| json!(m.canonical))
            }
            "CATEGORY" => {
                a.gaz_matches.iter().filter(inside).find(|m| m.kind == GazKind::Category).map(|m| json!(m.canonical))
            }
            "ACCOUNT" => {
                let bank =
                    a.gaz_matches.iter().filter(inside).find(|m| m.kind == GazKind::Bank).map(|m| m.canonical.clone());
                let ty = a
                    .gaz_matches
                    .iter()
                    .filter(inside)
                    .find(|m| m.kind == GazKind::AccountType)
                    .map(|m| m.canonical.clone());
                (bank.is_some() || ty.is_some()).then(|| json!({"bank": bank, "type": ty}))
            }
            _ => None,
        }
    }
}

fn char_slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

impl Predict<NerInput<'_>> for FinancialNer {
    type Output = Vec<Entity>;

    fn predict(&self, input: &NerInput<'_>) -> Result<Vec<Entity>, ModelError> {
        let text = input.text;
        check_text(text)?;
        check_reference_date(input.reference_date)?;
        let a = analyse(text, &self.gazetteer, input.reference_date);
        let feats = features(&a);
        let hashed: Vec<Vec<u64>> = feats.iter().map(|f| f.iter().map(|s| attr_hash(s)).collect()).collect();
        let scores = self.crf.state_scores(&hashed);
        let path = self.crf.viterbi(&scores);
        let marg = self.crf.marginals(&scores);
        let labels = self.crf.labels();

        let mut out: Vec<Entity> = Vec::new();
        let mut i = 0;
        while i < path.len() {
            let tag = &labels[path[i]];
            let Some(label) = tag.strip_prefix("B-").or(tag.strip_prefix("I-")) else {
                i += 1;
                continue;
            };
            let mut j = i + 1;
            while j < path.len() && labels[path[j]].strip_prefix("I-") == Some(label) {
                j += 1;
            }
            let (start, end) = (a.tokens[i].start, a.tokens[j - 1].end);
            let confidence = (i..j).map(|k| marg[k][path[k]]).fold(1.0f32, f32::min) as f64;
            let span = char_slice(text, start, end);
            let value = self.value_of(label, &span, &a, (i, j), input.reference_date);
            out.push(Entity {
                text: span,
                label: label.to_string(),
                start,
                end,
                confidence,
                value,
                source: "crf".into(),
            });
            i = j;
        }
        if self.merge_rules {
            for m in &a.rule_matches {
                if out.iter().any(|e| e.start < m.end && m.start < e.end) {
                    continue;
                }
                out.push(Entity {
                    text: char_slice(text, m.start, m.end),
                    label: m.label.to_string(),
                    start: m.start,
                    end: m.end,
                    confidence: 1.0,
                    value: Some(m.value.clone()),
                    source: "rule".into(),
                });
            }
            out.sort_by_key(|e| e.start);
        }
        Ok(out)
    }
}
