//! Longest-match lookup of gazetteer entries (merchants, categories, banks, account types) in a
//! token sequence, for CRF features and canonical values.

use crate::text::tokenize;
use nivesh_core::gazetteer::{Gazetteer, GazetteerEntry};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GazKind {
    Merchant,
    Category,
    Bank,
    AccountType,
}

impl GazKind {
    pub fn tag(self) -> &'static str {
        match self {
            GazKind::Merchant => "MER",
            GazKind::Category => "CAT",
            GazKind::Bank => "BANK",
            GazKind::AccountType => "ACCT",
        }
    }
}

/// A match: tokens `[start, end)` of kind `kind` naming `canonical`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GazMatch {
    pub start: usize,
    pub end: usize,
    pub kind: GazKind,
    pub canonical: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Surface {
    tokens: Vec<String>,
    kind: GazKind,
    canonical: String,
}

/// The gazetteer compiled for matching: surface forms indexed by their first token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "Vec<Surface>", into = "Vec<Surface>")]
pub struct GazIndex {
    surfaces: Vec<Surface>,
    by_first: HashMap<String, Vec<usize>>,
}

impl From<Vec<Surface>> for GazIndex {
    fn from(surfaces: Vec<Surface>) -> Self {
        let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in surfaces.iter().enumerate() {
            if let Some(f) = s.tokens.first() {
                by_first.entry(f.clone()).or_default().push(i);
            }
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|&i| std::cmp::Reverse(surfaces[i].tokens.len()));
        }
        GazIndex { surfaces, by_first }
    }
}

impl From<GazIndex> for Vec<Surface> {
    fn from(g: GazIndex) -> Self {
        g.surfaces
    }
}

/// Lower-case the way the matcher compares tokens.
pub fn key(token: &str) -> String {
    crate::text::normalize_lowercase(token)
}

impl GazIndex {
    pub fn new(g: &Gazetteer) -> Self {
        let mut surfaces = Vec::new();
        let mut add = |list: &[GazetteerEntry], kind: GazKind| {
            for e in list {
                for form in e.surface_forms() {
                    let tokens: Vec<String> = tokenize(form).iter().map(|t| key(&t.text)).collect();
                    if !tokens.is_empty() {
                        surfaces.push(Surface { tokens, kind, canonical: e.canonical.clone() });
                    }
                }
            }
        };
        add(&g.merchants, GazKind::Merchant);
        add(&g.categories, GazKind::Category);
        add(&g.banks, GazKind::Bank);
        add(&g.account_types, GazKind::AccountType);
        GazIndex::from(surfaces)
    }

    /// Non-overlapping longest matches, left to right, over lower-cased tokens.
    pub fn find(&self, lower: &[String]) -> Vec<GazMatch> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < lower.len() {
            let hit = self.by_first.get(&lower[i]).and_then(|cands| {
                cands
                    .iter()
                    .map(|&c| &self.surfaces[c])
                    .find(|s| lower.get(i..i + s.tokens.len()) == Some(&s.tokens[..]))
            });
            match hit {
                Some(s) => {
                    out.push(GazMatch {
                        start: i,
                        end: i + s.tokens.len(),
                        kind: s.kind,
                        canonical: s.canonical.clone(),
                    });
                    i += s.tokens.len();
                }
                None => i += 1,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_match_wins() {
        let g = GazIndex::new(&Gazetteer::builtin());
        let toks: Vec<String> =
            tokenize("paid swiggy instamart from my HDFC credit card").iter().map(|t| key(&t.text)).collect();
        let m = g.find(&toks);
        let got: Vec<(GazKind, &str, usize)> =
            m.iter().map(|m| (m.kind, m.canonical.as_str(), m.end - m.start)).collect();
        assert_eq!(
            got,
            vec![
                (GazKind::Merchant, "Swiggy", 2),
                (GazKind::Bank, "HDFC Bank", 1),
                (GazKind::AccountType, "credit_card", 2)
            ]
        );
    }
}
