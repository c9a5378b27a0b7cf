//! Indian festival dates (2020-2030), kept as data in `data/festivals.csv`.

use chrono::NaiveDate;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Festival {
    pub name: String,
    pub date: NaiveDate,
}

const FESTIVALS_CSV: &str = include_str!("../../../data/festivals.csv");

static FESTIVALS: LazyLock<Vec<Festival>> = LazyLock::new(|| parse(FESTIVALS_CSV).unwrap_or_default());

fn parse(text: &str) -> Result<Vec<Festival>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() || line.starts_with("festival,") {
            continue;
        }
        let (name, date) =
            line.split_once(',').ok_or_else(|| format!("festivals.csv:{}: expected name,date", i + 1))?;
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|e| format!("festivals.csv:{}: {date:?}: {e}", i + 1))?;
        out.push(Festival { name: name.trim().to_string(), date });
    }
    Ok(out)
}

/// Every festival date shipped with nivesh-ml, in file order.
pub fn festivals() -> &'static [Festival] {
    &FESTIVALS
}

/// The date of `name` in `year`, if known.
pub fn festival_date(name: &str, year: i32) -> Option<NaiveDate> {
    use chrono::Datelike;
    festivals().iter().find(|f| f.name == name && f.date.year() == year).map(|f| f.date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn every_year_has_every_festival() {
        let all = parse(FESTIVALS_CSV).unwrap();
        assert_eq!(all.len(), 66);
        for year in 2020..=2030 {
            for name in ["new_year", "republic_day", "holi", "independence_day", "diwali", "christmas"] {
                assert!(festival_date(name, year).is_some(), "{name} {year}");
            }
        }
        // Diwali falls in October or November, Holi in February or March.
        for f in festivals() {
            match f.name.as_str() {
                "diwali" => assert!(matches!(f.date.month(), 10 | 11), "{f:?}"),
                "holi" => assert!(matches!(f.date.month(), 2 | 3), "{f:?}"),
                _ => {}
            }
        }
        assert_eq!(festival_date("diwali", 2026), NaiveDate::from_ymd_opt(2026, 11, 8));
    }
}
