//! Word lists of the Indian finance domain: merchants (with their spending category), spending
//! categories, banks and account types. The built-in lists ship in `data/gazetteer/*.tsv`; a user
//! extends them with files of the same format (see [`Gazetteer::extend_from_dir`]).

use std::path::Path;

/// One known name with its aliases (all matched case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GazetteerEntry {
    pub canonical: String,
    /// For merchants: their spending category.
    pub category: Option<String>,
    pub aliases: Vec<String>,
}

impl GazetteerEntry {
    /// The canonical name followed by the aliases.
    pub fn surface_forms(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.canonical.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gazetteer {
    pub merchants: Vec<GazetteerEntry>,
    pub categories: Vec<GazetteerEntry>,
    pub banks: Vec<GazetteerEntry>,
    pub account_types: Vec<GazetteerEntry>,
}

const MERCHANTS: &str = include_str!("../../../data/gazetteer/merchants.tsv");
const CATEGORIES: &str = include_str!("../../../data/gazetteer/categories.tsv");
const BANKS: &str = include_str!("../../../data/gazetteer/banks.tsv");
const ACCOUNT_TYPES: &str = include_str!("../../../data/gazetteer/account_types.tsv");

impl Gazetteer {
    /// The lists shipped with nivesh-ml.
    pub fn builtin() -> Self {
        // The shipped files are checked by a test, so parsing them cannot fail.
        let parse =
            |name: &str, text: &str, with_category: bool| parse_tsv(name, text, with_category).unwrap_or_default();
        Gazetteer {
            merchants: parse("merchants.tsv", MERCHANTS, true),
            categories: parse("categories.tsv", CATEGORIES, false),
            banks: parse("banks.tsv", BANKS, false),
            account_types: parse("account_types.tsv", ACCOUNT_TYPES, false),
        }
    }

    /// Add entries from `merchants.tsv`, `categories.tsv`, `banks.tsv` and `account_types.tsv`
    /// in `dir` (each optional). An entry whose canonical name exists gains the new aliases.
    pub fn extend_from_dir(&mut self, dir: &Path) -> Result<(), String> {
        for (file, with_category) in
            [("merchants.tsv", true), ("categories.tsv", false), ("banks.tsv", false), ("account_types.tsv", false)]
        {
            let path = dir.join(file);
            if !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let entries = parse_tsv(&path.display().to_string(), &text, with_category)?;
            let list = match file {
                "merchants.tsv" => &mut self.merchants,
                "categories.tsv" => &mut self.categories,
                "banks.tsv" => &mut self.banks,
                _ => &mut self.account_types,
            };
            for e in entries {
                match list.iter_mut().find(|x| x.canonical.eq_ignore_ascii_case(&e.canonical)) {
                    Some(existing) => {
                        for a in e.aliases {
                            if !existing.aliases.contains(&a) {
                                existing.aliases.push(a);
                            }
                        }
                        if e.category.is_some() {
                            existing.category = e.category;
                        }
                    }
                    None => list.push(e),
                }
            }
        }
        Ok(())
    }
}

/// Parse `canonical<TAB>[category<TAB>]aliases` lines; `#` starts a comment line.
pub fn parse_tsv(name: &str, text: &str, with_category: bool) -> Result<Vec<GazetteerEntry>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split('\t');
        let canonical = cols.next().unwrap_or("").trim().to_string();
        if canonical.is_empty() {
            return Err(format!("{name}:{}: canonical name is empty", i + 1));
        }
        let category = if with_category {
            let c = cols.next().unwrap_or("").trim();
            if c.is_empty() {
                return Err(format!("{name}:{}: category is missing for {canonical:?}", i + 1));
            }
            Some(c.to_string())
        } else {
            None
        };
        let aliases =
            cols.next().unwrap_or("").split('|').map(|a| a.trim().to_lowercase()).filter(|a| !a.is_empty()).collect();
        out.push(GazetteerEntry { canonical, category, aliases });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_lists_parse_and_are_consistent() {
        for (name, text, cat) in [
            ("merchants", MERCHANTS, true),
            ("categories", CATEGORIES, false),
            ("banks", BANKS, false),
            ("account_types", ACCOUNT_TYPES, false),
        ] {
            parse_tsv(name, text, cat).unwrap();
        }
        let g = Gazetteer::builtin();
        assert!(g.merchants.len() >= 60);
        assert!(g.categories.len() >= 15);
        // every merchant's category is a known category
        for m in &g.merchants {
            let c = m.category.as_deref().unwrap();
            assert!(g.categories.iter().any(|x| x.canonical == c), "{} has unknown category {c}", m.canonical);
        }
        let swiggy = g.merchants.iter().find(|m| m.canonical == "Swiggy").unwrap();
        assert_eq!(swiggy.category.as_deref(), Some("food_delivery"));
    }

    #[test]
    fn user_files_extend_the_builtin_lists() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("merchants.tsv"),
            "Local Kirana\tgroceries\tsharma stores\nSwiggy\tfood_delivery\tswgy\n",
        )
        .unwrap();
        let mut g = Gazetteer::builtin();
        let before = g.merchants.len();
        g.extend_from_dir(dir.path()).unwrap();
        assert_eq!(g.merchants.len(), before + 1);
        assert!(g.merchants.iter().find(|m| m.canonical == "Swiggy").unwrap().aliases.contains(&"swgy".to_string()));
        std::fs::write(dir.path().join("banks.tsv"), "\tno name\n").unwrap();
        let err = g.extend_from_dir(dir.path()).unwrap_err();
        assert!(err.ends_with("banks.tsv:1: canonical name is empty"), "{err}");
    }
}
