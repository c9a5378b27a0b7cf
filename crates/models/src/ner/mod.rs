//! Financial named-entity recognition: MONEY, DATE, MERCHANT, CATEGORY and ACCOUNT spans with
//! character offsets, a confidence and a normalised value.
//!
//! A linear-chain CRF over BIO tags ([`crf`]) does the statistics, with features of the word,
//! its shape, prefixes and suffixes, its neighbours, gazetteer membership ([`gazetteer`]) and
//! the tags of the deterministic money/date recognisers ([`rules`]); trained with static
//! embeddings, also word clusters and the cosine to the gazetteer's words
//! ([`crate::text::clusters`]). Rule spans that the CRF did not find are merged in without
//! overlaps (except those that are tags only). Values: MONEY → `{amount, currency}`, DATE → ISO
//! date, `{from, to}` (relative to the request's reference date) or `{every, day?}` for a
//! recurring date, MERCHANT / CATEGORY → canonical gazetteer name, ACCOUNT → `{bank, type}`.

pub mod crf;
pub mod gazetteer;
pub mod rules;

use crate::text::clusters::{NEAR_MIN_TENTHS, NearWords};
use crate::text::{StaticEmbeddings, Token, WordClusters, WordHash, tokenize};
use crate::{Fit, ModelError, Params, Persist, Predict};
use chrono::NaiveDate;
#[cfg(test)]
use crf::attr_hash;
use crf::{AttrHasher, CrfTraining, LinearChainCrf};
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
    /// Word clusters from the static embeddings the model is trained with: the branching of
    /// each level of the hierarchy (empty: no cluster features, as without a table).
    #[serde(default = "default_clusters")]
    pub clusters: Vec<usize>,
    /// With a table: features for the words near the gazetteer's one-word categories and
    /// merchants (cosine to the nearest, in tenths).
    #[serde(default = "yes")]
    pub near_gazetteer: bool,
    /// Word lists used for features and canonical values.
    #[serde(skip, default = "Gazetteer::builtin")]
    pub gazetteer: Gazetteer,
}

impl Default for NerParams {
    fn default() -> Self {
        NerParams {
            c1: 0.05,
            c2: 0.01,
            max_iterations: 100,
            merge_rules: true,
            clusters: default_clusters(),
            near_gazetteer: true,
            gazetteer: Gazetteer::builtin(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_clusters() -> Vec<usize> {
    vec![16, 8, 8]
}

/// Seed of the clusters' k-means (fixed, so that one table always gives the same clusters).
const CLUSTER_SEED: u64 = 1;

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
        if !self.clusters.is_empty() {
            crate::text::clusters::check_branching(&self.clusters)?;
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
    /// Word clusters the features were built with (`None` when trained without a table).
    clusters: Option<WordClusters>,
    /// Words near the gazetteer's entries, by label (`CATEGORY`, `MERCHANT`); empty without
    /// a table.
    near: Vec<(String, NearWords)>,
}

/// The layout of format version 1 (no word clusters), still read.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Serialize))]
struct FinancialNerV1 {
    crf: LinearChainCrf,
    gazetteer: GazIndex,
    merge_rules: bool,
}

impl Persist for FinancialNer {
    const KIND: &'static str = "ner";
    const FORMAT_VERSION: u32 = 2;

    fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        if crate::artifact::header(bytes)?.0.format_version == 1 {
            let v1: FinancialNerV1 = crate::artifact::decode(bytes, Self::KIND, 1)?;
            return Ok(FinancialNer {
                crf: v1.crf,
                gazetteer: v1.gazetteer,
                merge_rules: v1.merge_rules,
                clusters: None,
                near: Vec::new(),
            });
        }
        let model: FinancialNer = crate::artifact::decode(bytes, Self::KIND, Self::FORMAT_VERSION)?;
        if let Some(c) = &model.clusters {
            c.check().map_err(|e| ModelError::Artifact(format!("the NER model's word clusters: {e}")))?;
        }
        for (label, n) in &model.near {
            n.check().map_err(|e| ModelError::Artifact(format!("the NER model's words near {label}: {e}")))?;
        }
        Ok(model)
    }
}

/// Append a token's shape to `out`: upper case `X`, other letters `x`, ASCII digits `d`,
/// anything else itself, runs of one kind written once ("Rs500" → "Xxd").
fn shape(s: &str, out: &mut String) {
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
}

/// The first (`prefix`) or last `n` characters of `s`; empty when it is shorter.
fn affix(s: &str, n: usize, prefix: bool) -> &str {
    let len = s.chars().count();
    if len < n {
        return "";
    }
    let cut = |k: usize| s.char_indices().nth(k).map_or(s.len(), |(b, _)| b);
    if prefix { &s[..cut(n)] } else { &s[cut(len - n)..] }
}

/// A token's BIO tag from the gazetteer or the rules: `O`, or `B-`/`I-` and a label.
#[derive(Clone, Copy)]
struct Tag {
    label: Option<&'static str>,
    begin: bool,
}

impl Tag {
    const O: Tag = Tag { label: None, begin: false };
}

impl Tag {
    /// The tag's name in two pieces: `O` and nothing, or `B-`/`I-` and the label.
    fn pieces(self) -> [&'static str; 2] {
        match self.label {
            None => ["O", ""],
            Some(l) => [if self.begin { "B-" } else { "I-" }, l],
        }
    }
}

/// Per-token context the features are built from.
struct Analysed {
    tokens: Vec<Token>,
    lower: Vec<String>,
    gaz: Vec<Tag>,
    rule: Vec<Tag>,
    rule_matches: Vec<rules::RuleMatch>,
    gaz_matches: Vec<gazetteer::GazMatch>,
}

fn analyse(text: &str, gaz: &GazIndex, reference: NaiveDate) -> Analysed {
    let tokens = tokenize(text);
    let lower: Vec<String> = tokens.iter().map(|t| key(&t.text)).collect();
    let gaz_matches = gaz.find(&lower);
    let mut gaz_tags = vec![Tag::O; tokens.len()];
    for m in &gaz_matches {
        for (k, tag) in gaz_tags.iter_mut().enumerate().take(m.end).skip(m.start) {
            *tag = Tag { label: Some(m.kind.tag()), begin: k == m.start };
        }
    }
    let rule_matches = rules::recognise_tokens(&tokens, reference);
    let mut rule_tags = vec![Tag::O; tokens.len()];
    for m in &rule_matches {
        let mut first = true;
        for (k, t) in tokens.iter().enumerate() {
            if t.start >= m.start && t.end <= m.end {
                rule_tags[k] = Tag { label: Some(m.label), begin: first };
                first = false;
            }
        }
    }
    Analysed { tokens, lower, gaz: gaz_tags, rule: rule_tags, rule_matches, gaz_matches }
}

/// A word the clusters could know: two or more ASCII letters.
fn clusterable(w: &str) -> bool {
    w.len() >= 2 && w.bytes().all(|b| b.is_ascii_alphabetic())
}

/// What the features read besides the sentence: word clusters and words near the gazetteer.
#[derive(Clone, Copy)]
struct Lexicon<'a> {
    clusters: Option<&'a WordClusters>,
    near: &'a [(String, NearWords)],
}

/// Where [`features`] puts each token's attributes: their names (training, which hands them to
/// CRFsuite) or their hashes (prediction, which adds each one's weights to the token's label
/// scores as it comes, without allocating a string each).
/// A name comes in pieces, written end to end: the hasher reads them in turn, so neither a
/// string nor the formatting machinery is built per attribute on the request path.
trait FeatureSink {
    fn push(&mut self, pieces: &[&str]);
    /// The attributes pushed since the last call belong to the next token.
    fn end_token(&mut self);
}

/// Attribute names, one list per token.
#[derive(Default)]
struct Named {
    tokens: Vec<Vec<String>>,
    current: Vec<String>,
}

impl FeatureSink for Named {
    fn push(&mut self, pieces: &[&str]) {
        self.current.push(pieces.concat());
    }

    fn end_token(&mut self) {
        self.tokens.push(std::mem::take(&mut self.current));
    }
}

/// Attribute hashes ([`attr_hash`] of the same names), one list per token; the names are
/// hashed piece by piece, never built. (Tests: prediction scores them as they come, [`Scored`].)
#[cfg(test)]
#[derive(Default)]
struct Hashed {
    tokens: Vec<Vec<u64>>,
    current: Vec<u64>,
}

#[cfg(test)]
impl FeatureSink for Hashed {
    fn push(&mut self, pieces: &[&str]) {
        self.current.push(AttrHasher::of_pieces(pieces));
    }

    fn end_token(&mut self) {
        let next = Vec::with_capacity(self.current.len());
        self.tokens.push(std::mem::replace(&mut self.current, next));
    }
}

/// The CRF's label scores of each token, summed as its attributes are hashed (prediction): no
/// list of hashes is kept, and the weights of one attribute are read while its hash is fresh.
struct Scored<'a> {
    crf: &'a LinearChainCrf,
    width: usize,
    /// `width` scores per token, zeros for the tokens still to come.
    values: Vec<f32>,
    token: usize,
}

impl<'a> Scored<'a> {
    fn new(crf: &'a LinearChainCrf, tokens: usize) -> Self {
        let width = crf.labels().len();
        Scored { crf, width, values: vec![0.0; tokens * width], token: 0 }
    }

    fn rows(self) -> crf::Rows {
        crf::Rows::new(self.width, self.values)
    }
}

impl FeatureSink for Scored<'_> {
    fn push(&mut self, pieces: &[&str]) {
        let start = self.token * self.width;
        if let Some(row) = self.values.get_mut(start..start + self.width) {
            self.crf.add_state(AttrHasher::of_pieces(pieces), row);
        }
    }

    fn end_token(&mut self) {
        self.token += 1;
    }
}

/// `n` in decimal, written into `buf`.
fn decimal(n: u16, buf: &mut [u8; 5]) -> &str {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits only
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// The names of cluster levels and of similarity tenths, for attribute names.
const LEVEL_NAMES: [&str; crate::text::clusters::MAX_LEVELS] = ["c0=", "c1=", "c2=", "c3="];
const TENTHS: [&str; 11] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];

/// A neighbour's cluster at one level: its number, or `oov` for a word the table lacks.
#[derive(Clone, Copy)]
enum Cluster {
    Id(u16),
    Oov,
}

impl Cluster {
    fn name(self, buf: &mut [u8; 5]) -> &str {
        match self {
            Cluster::Id(c) => decimal(c, buf),
            Cluster::Oov => "oov",
        }
    }
}

fn features<S: FeatureSink>(a: &Analysed, lex: Lexicon<'_>, out: &mut S) {
    let clusters = lex.clusters;
    let n = a.tokens.len();
    // each clusterable token's hash, computed once for every word list it is looked up in
    let hashes: Vec<Option<WordHash>> = a.lower.iter().map(|w| clusterable(w).then(|| WordHash::of(w))).collect();
    // each token's cluster path; `Some(&[])` for a word the table lacks
    let paths: Vec<Option<&[u16]>> = a
        .lower
        .iter()
        .zip(&hashes)
        .map(|(w, h)| {
            let c = clusters?;
            h.map(|h| c.path_hashed(w, h).unwrap_or(&[]))
        })
        .collect();
    // each token's shape, used for it and both neighbours
    // one buffer for all shapes (each token's ends at `shape_ends[i]`), not a string each
    let mut shape_buf = String::with_capacity(4 * n);
    let shape_ends: Vec<usize> = a
        .tokens
        .iter()
        .map(|t| {
            shape(&t.text, &mut shape_buf);
            shape_buf.len()
        })
        .collect();
    let shapes = |i: usize| -> &str {
        let start = if i == 0 { 0 } else { shape_ends[i - 1] };
        shape_buf.get(start..shape_ends[i]).unwrap_or("")
    };
    let mid = clusters.map_or(0, |c| c.levels().min(2) - 1);
    let cluster_at = |i: isize, level: usize| -> Option<Cluster> {
        let p = paths.get(usize::try_from(i).ok()?).copied().flatten()?;
        Some(p.get(level).map_or(Cluster::Oov, |&c| Cluster::Id(c)))
    };
    let word = |i: isize| -> &str {
        if i < 0 {
            "<s>"
        } else if i as usize >= n {
            "</s>"
        } else {
            &a.lower[i as usize]
        }
    };
    let mut buf = [0u8; 5];
    for (i, path) in paths.iter().enumerate() {
        let t = &a.tokens[i].text;
        let w = a.lower[i].as_str();
        let ii = i as isize;
        let [g0, g1] = a.gaz[i].pieces();
        let [r0, r1] = a.rule[i].pieces();
        out.push(&["b"]);
        out.push(&["w=", w]);
        out.push(&["s=", shapes(i)]);
        out.push(&["p2=", affix(w, 2, true)]);
        out.push(&["p3=", affix(w, 3, true)]);
        out.push(&["x2=", affix(w, 2, false)]);
        out.push(&["x3=", affix(w, 3, false)]);
        out.push(&["g=", g0, g1]);
        out.push(&["r=", r0, r1]);
        out.push(&["-1:w=", word(ii - 1)]);
        out.push(&["+1:w=", word(ii + 1)]);
        out.push(&["-2:w=", word(ii - 2)]);
        out.push(&["+2:w=", word(ii + 2)]);
        out.push(&["-1|0=", word(ii - 1), "|", w]);
        out.push(&["0|+1=", w, "|", word(ii + 1)]);
        if t.chars().next().is_some_and(char::is_uppercase) {
            out.push(&["title"]);
        }
        if let Some(h) = hashes[i] {
            for (label, near) in lex.near {
                // cumulative ("at least 0.6" fires for 0.9 too), so that what is learnt
                // on the gazetteer's own words carries to words merely near them
                if let Some(t) = near.tenths_hashed(w, h) {
                    for k in NEAR_MIN_TENTHS..=t {
                        out.push(&["near:", label, ">=", TENTHS.get(k as usize).copied().unwrap_or("10")]);
                    }
                }
            }
        }
        match path {
            Some([]) => out.push(&["c=oov"]),
            Some(p) => {
                for (l, &c) in p.iter().enumerate() {
                    out.push(&[LEVEL_NAMES.get(l).copied().unwrap_or("c?="), decimal(c, &mut buf)]);
                }
            }
            None => {}
        }
        if let Some(c) = cluster_at(ii - 1, mid) {
            out.push(&["-1:c=", c.name(&mut buf)]);
        }
        if let Some(c) = cluster_at(ii + 1, mid) {
            out.push(&["+1:c=", c.name(&mut buf)]);
        }
        if i > 0 {
            let [g0, g1] = a.gaz[i - 1].pieces();
            let [r0, r1] = a.rule[i - 1].pieces();
            out.push(&["-1:s=", shapes(i - 1)]);
            out.push(&["-1:g=", g0, g1]);
            out.push(&["-1:r=", r0, r1]);
            if a.tokens[i - 1].end == a.tokens[i].start {
                out.push(&["glued"]);
            }
        } else {
            out.push(&["BOS"]);
        }
        if i + 1 < n {
            let [g0, g1] = a.gaz[i + 1].pieces();
            let [r0, r1] = a.rule[i + 1].pieces();
            out.push(&["+1:s=", shapes(i + 1)]);
            out.push(&["+1:g=", g0, g1]);
            out.push(&["+1:r=", r0, r1]);
        } else {
            out.push(&["EOS"]);
        }
        out.end_token();
    }
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

    /// Without static embeddings: no cluster features.
    fn fit(&self, data: &[NerExample]) -> Result<FinancialNer, ModelError> {
        self.fit_with_embeddings(data, None)
    }
}

impl NerParams {
    /// Fit, with word clusters of `table` as features when it is given and `clusters` is not
    /// empty (the clusters are kept in the model; the table is not).
    pub fn fit_with_embeddings(
        &self,
        data: &[NerExample],
        table: Option<&StaticEmbeddings>,
    ) -> Result<FinancialNer, ModelError> {
        self.validate()?;
        if data.is_empty() {
            return Err(ModelError::Data("no NER examples".into()));
        }
        if data.iter().all(|e| e.entities.is_empty()) {
            return Err(ModelError::Data("no example has an entity".into()));
        }
        let clusters = match table {
            Some(t) if !self.clusters.is_empty() => Some(WordClusters::build(t, &self.clusters, CLUSTER_SEED)?),
            _ => None,
        };
        let near = match table {
            Some(t) if self.near_gazetteer => {
                let one_word = |entries: &[nivesh_core::gazetteer::GazetteerEntry]| -> Vec<String> {
                    let mut w: Vec<String> =
                        entries.iter().flat_map(|e| e.surface_forms()).map(key).filter(|k| clusterable(k)).collect();
                    w.sort();
                    w.dedup();
                    w
                };
                vec![
                    ("CATEGORY".to_string(), NearWords::build(t, &one_word(&self.gazetteer.categories))),
                    ("MERCHANT".to_string(), NearWords::build(t, &one_word(&self.gazetteer.merchants))),
                ]
            }
            _ => Vec::new(),
        };
        let lex = Lexicon { clusters: clusters.as_ref(), near: &near };
        let gaz = GazIndex::new(&self.gazetteer);
        let reference = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or(NaiveDate::MIN);
        let mut xs = Vec::with_capacity(data.len());
        let mut ys = Vec::with_capacity(data.len());
        for ex in data {
            let a = analyse(&ex.text, &gaz, ex.reference_date.unwrap_or(reference));
            ys.push(bio(&a.tokens, ex));
            let mut named = Named::default();
            features(&a, lex, &mut named);
            xs.push(named.tokens);
        }
        let crf = LinearChainCrf::train(
            &xs,
            &ys,
            &CrfTraining { c1: self.c1, c2: self.c2, max_iterations: self.max_iterations },
        )?;
        Ok(FinancialNer { crf, gazetteer: gaz, merge_rules: self.merge_rules, clusters, near })
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

    /// Where the word clusters came from (`None`: trained without them).
    pub fn clusters_source(&self) -> Option<&str> {
        self.clusters.as_ref().map(WordClusters::source)
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
            "MONEY" | "DATE" => {
                // the sentence's own rule match over exactly this span with this label, when there
                // is one, without tokenising the span again: the rules never read before a
                // match's start, what they read after its end did not extend or change it, and a
                // missing token reads as a non-matching one, so the span read alone gives the
                // same value (asserted over random texts in tests/rules.rs)
                let (start, end) = (a.tokens[tok_range.0].start, a.tokens[tok_range.1 - 1].end);
                a.rule_matches
                    .iter()
                    .find(|m| m.label == label && m.start == start && m.end == end)
                    .map(|m| m.value.clone())
                    .or_else(|| rules::normalise(label, text, reference))
            }
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
        let mut scored = Scored::new(&self.crf, a.tokens.len());
        features(&a, Lexicon { clusters: self.clusters.as_ref(), near: &self.near }, &mut scored);
        let scores = scored.rows();
        let path = self.crf.viterbi(&scores);
        // the marginals only give the entities' confidences: none to compute for a sentence
        // without entities
        let mut marg = None;
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
            let marg = marg.get_or_insert_with(|| self.crf.marginals(&scores));
            let confidence = (i..j).map(|k| marg.row(k)[path[k]]).fold(1.0f32, f32::min) as f64;
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
                // whether "every month" or "in 7 days" is a DATE is a labelling convention (NLU++
                // says yes, the bundled data no): the rule's tag is a feature, and the CRF
                // decides from its data
                if m.tag_only || out.iter().any(|e| e.start < m.end && m.start < e.end) {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::text::WordPiece;
    use crate::text::testing::fixture_json;
    use nivesh_core::EntitySpan;

    /// Whole words of the fixture vocabulary on four axes: {rent, bill, cafe}, {money, salary,
    /// credit}, {card, transfer, shopping}, and the rest.
    fn table() -> StaticEmbeddings {
        let wp = WordPiece::from_tokenizer_json(&fixture_json()).unwrap();
        let mut v = vec![0.0f32; wp.vocab_size() * 4];
        for (w, id) in wp.whole_words() {
            let axis = match w {
                "rent" | "bill" | "cafe" => 0,
                "money" | "salary" | "credit" => 1,
                "card" | "transfer" | "shopping" => 2,
                _ => 3,
            };
            v[id as usize * 4 + axis] = 1.0;
        }
        StaticEmbeddings::from_vectors(wp, 4, v, "fixture").unwrap()
    }

    /// "pay my X": X is a CATEGORY for the words of one cluster and not for another, so only
    /// the cluster can tell an unseen word's label.
    fn data() -> Vec<NerExample> {
        let mut out = Vec::new();
        for (word, category) in [("rent", true), ("bill", true), ("salary", false), ("credit", false)] {
            for _ in 0..5 {
                let text = format!("pay my {word}");
                let entities = if category {
                    vec![EntitySpan { start: 7, end: text.len(), label: "CATEGORY".into(), value: None }]
                } else {
                    Vec::new()
                };
                out.push(NerExample { text, entities, reference_date: None });
            }
        }
        out
    }

    fn labels(m: &FinancialNer, text: &str) -> Vec<(String, String)> {
        let day = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
        m.predict(&NerInput { text, reference_date: day }).unwrap().into_iter().map(|e| (e.text, e.label)).collect()
    }

    #[test]
    fn word_clusters_carry_a_label_to_a_word_never_seen_in_training() {
        let p = NerParams { clusters: vec![4], near_gazetteer: false, c1: 0.0, ..NerParams::default() };
        let m = p.fit_with_embeddings(&data(), Some(&table())).unwrap();
        assert!(m.clusters_source().unwrap().contains("k-means 4"));
        // "cafe" shares rent's and bill's cluster; "money" shares salary's
        assert_eq!(labels(&m, "pay my cafe"), vec![("cafe".to_string(), "CATEGORY".to_string())]);
        assert_eq!(labels(&m, "pay my money"), vec![]);
        // the clusters travel with the model
        let back = FinancialNer::from_bytes(&m.to_bytes().unwrap()).unwrap();
        assert_eq!(labels(&back, "pay my cafe"), labels(&m, "pay my cafe"));
        assert_eq!(back.clusters_source(), m.clusters_source());
        // without the table, the unseen word has nothing to go on but "my", shared by both
        let plain = p.fit(&data()).unwrap();
        assert_eq!(plain.clusters_source(), None);
        assert_eq!(labels(&plain, "pay my cafe"), labels(&plain, "pay my money"));
    }

    #[test]
    fn scores_summed_as_attributes_are_hashed_equal_the_crfs_scores_of_the_hashes() {
        let m = NerParams { clusters: vec![4], c1: 0.0, ..NerParams::default() }
            .fit_with_embeddings(&data(), Some(&table()))
            .unwrap();
        let reference = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        for text in ["pay my cafe rent of Rs 500 tomorrow", "money", "x"] {
            let a = analyse(text, &m.gazetteer, reference);
            let lex = Lexicon { clusters: m.clusters.as_ref(), near: &m.near };
            let mut hashed = Hashed::default();
            features(&a, lex, &mut hashed);
            let mut scored = Scored::new(&m.crf, a.tokens.len());
            features(&a, lex, &mut scored);
            let (want, got) = (m.crf.state_scores(&hashed.tokens), scored.rows());
            assert_eq!(got, want, "{text}");
            assert!((0..got.len()).any(|i| got.row(i).iter().any(|&x| x != 0.0)), "{text}: no weight read");
        }
    }

    #[test]
    fn attribute_names_are_exact_and_hashed_as_named() {
        let gaz = GazIndex::new(&Gazetteer::default());
        let reference = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        let a = analyse("Paid Rs500 to Swiggy", &gaz, reference);
        let mut named = Named::default();
        features(&a, Lexicon { clusters: None, near: &[] }, &mut named);
        assert_eq!(named.tokens.len(), 5);
        let third: Vec<&str> = named.tokens[2].iter().map(String::as_str).collect();
        assert_eq!(
            third,
            [
                "b",
                "w=500",
                "s=d",
                "p2=50",
                "p3=500",
                "x2=00",
                "x3=500",
                "g=O",
                "r=I-MONEY",
                "-1:w=rs",
                "+1:w=to",
                "-2:w=paid",
                "+2:w=swiggy",
                "-1|0=rs|500",
                "0|+1=500|to",
                "-1:s=Xx",
                "-1:g=O",
                "-1:r=B-MONEY",
                "glued",
                "+1:s=x",
                "+1:g=O",
                "+1:r=O",
            ]
        );
        assert_eq!(&named.tokens[1][2..7], ["s=Xx", "p2=rs", "p3=", "x2=rs", "x3="]);
        assert_eq!(named.tokens[0].get(16).map(String::as_str), Some("BOS"));
        assert_eq!(named.tokens[4].last().map(String::as_str), Some("EOS"));
        let mut hashed = Hashed::default();
        features(&a, Lexicon { clusters: None, near: &[] }, &mut hashed);
        let expected: Vec<Vec<u64>> = named.tokens.iter().map(|t| t.iter().map(|n| attr_hash(n)).collect()).collect();
        assert_eq!(hashed.tokens, expected);
        // affixes count characters, not bytes
        assert_eq!((affix("₹500", 2, true), affix("₹500", 3, false), affix("₹", 2, true)), ("₹5", "500", ""));
    }

    #[test]
    fn words_near_the_gazetteer_get_features_and_are_kept() {
        let p = NerParams { clusters: Vec::new(), ..NerParams::default() };
        let m = p.fit_with_embeddings(&data(), Some(&table())).unwrap();
        assert!(m.clusters.is_none());
        let near: Vec<&str> = m.near.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(near, ["CATEGORY", "MERCHANT"]);
        // "rent" is a category in the gazetteer; "bill" and "cafe" lie on its axis
        let categories = &m.near[0].1;
        assert_eq!(categories.tenths("bill"), Some(10));
        assert_eq!(categories.tenths("cafe"), Some(10));
        assert_eq!(categories.tenths("money"), None);
    }

    #[test]
    fn cluster_and_near_word_attributes_are_named_exactly() {
        let t = table();
        let clusters = WordClusters::build(&t, &[2, 3], 7).unwrap();
        let near = vec![("CATEGORY".to_string(), NearWords::build(&t, &["rent"]))];
        let lex = Lexicon { clusters: Some(&clusters), near: &near };
        let gaz = GazIndex::new(&Gazetteer::default());
        let a = analyse("pay cafe qqzzx bill", &gaz, NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
        let mut named = Named::default();
        features(&a, lex, &mut named);
        let cafe = clusters.path("cafe").unwrap();
        let pay = clusters.path("pay").map(|p| p[1].to_string()).unwrap_or_else(|| "oov".into());
        let with = |prefix: &str, t: &[String]| -> Vec<String> {
            t.iter().filter(|n| n.starts_with(prefix)).cloned().collect()
        };
        let second = &named.tokens[1];
        assert_eq!(with("c", second), [format!("c0={}", cafe[0]), format!("c1={}", cafe[1])]);
        // cumulative tenths from 3 up to "cafe"'s cosine with "rent", 1.0
        let tenths: Vec<String> = (3..=10).map(|k| format!("near:CATEGORY>={k}")).collect();
        assert_eq!(with("near:", second), tenths);
        assert_eq!(with("-1:c=", second), [format!("-1:c={pay}")]);
        // a word the table lacks: `c=oov` on it, `oov` as its neighbours' cluster
        assert_eq!(with("c", &named.tokens[2]), ["c=oov"]);
        assert_eq!(with("+1:c=", second), ["+1:c=oov"]);
        let mut hashed = Hashed::default();
        features(&a, lex, &mut hashed);
        let expected: Vec<Vec<u64>> = named.tokens.iter().map(|t| t.iter().map(|n| attr_hash(n)).collect()).collect();
        assert_eq!(hashed.tokens, expected);
        assert_eq!(decimal(0, &mut [0; 5]), "0");
        assert_eq!(decimal(65535, &mut [0; 5]), "65535");
        assert_eq!(decimal(407, &mut [0; 5]), "407");
    }

    #[test]
    fn recurring_dates_are_left_to_the_crf() {
        // the training data never labels "every month": the rule's span is not merged in
        let m = NerParams { max_iterations: 30, ..NerParams::default() }.fit(&data()).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap();
        let ents = m.predict(&NerInput { text: "pay my rent every month from tomorrow", reference_date: day }).unwrap();
        let dates: Vec<(&str, &str)> =
            ents.iter().filter(|e| e.label == "DATE").map(|e| (e.text.as_str(), e.source.as_str())).collect();
        assert_eq!(dates, [("tomorrow", "rule")]);
    }

    #[test]
    fn a_version_1_model_still_loads() {
        let m = NerParams { max_iterations: 30, ..NerParams::default() }.fit(&data()).unwrap();
        let v1 = FinancialNerV1 { crf: m.crf.clone(), gazetteer: m.gazetteer.clone(), merge_rules: m.merge_rules };
        let bytes = crate::artifact::wrap("ner", 1, &postcard::to_allocvec(&v1).unwrap());
        let back = FinancialNer::from_bytes(&bytes).unwrap();
        for text in ["pay my rent", "pay my salary ₹5,000 yesterday"] {
            assert_eq!(labels(&back, text), labels(&m, text), "{text}");
        }
    }

    #[test]
    fn damaged_word_clusters_are_refused_on_load() {
        let mut m = NerParams { max_iterations: 10, clusters: vec![2], ..NerParams::default() }
            .fit_with_embeddings(&data(), Some(&table()))
            .unwrap();
        assert!(FinancialNer::from_bytes(&m.to_bytes().unwrap()).is_ok());
        if let Some(c) = m.clusters.as_mut() {
            c.damage_for_test();
        }
        let e = FinancialNer::from_bytes(&m.to_bytes().unwrap()).unwrap_err();
        assert!(e.to_string().contains("word clusters"), "{e}");
    }
}
