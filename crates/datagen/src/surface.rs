//! How Indians write money and dates in chat: surface forms together with their normalised values.
//! Shared by the intent and NER generators.

use chrono::{Datelike, Duration, NaiveDate};
use nivesh_core::rng::Rng;
use serde_json::{Value, json};

/// `1234567` → `12,34,567` (Indian grouping: last three digits, then pairs).
pub fn group_indian(n: u64) -> String {
    let s = n.to_string();
    if s.len() <= 3 {
        return s;
    }
    let (head, tail) = s.split_at(s.len() - 3);
    let mut parts: Vec<String> = Vec::new();
    let mut h = head.to_string();
    while h.len() > 2 {
        let cut = h.len() - 2;
        parts.push(h[cut..].to_string());
        h.truncate(cut);
    }
    parts.push(h);
    parts.reverse();
    format!("{},{}", parts.join(","), tail)
}

/// `150000` → `150,000` (international grouping).
pub fn group_western(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A plausible amount in rupees, rounded the way people round.
pub fn amount(rng: &mut Rng) -> f64 {
    let magnitude = rng.weighted(&[3.0, 4.0, 4.0, 3.0, 1.5, 0.4]);
    let (lo, hi, step) = match magnitude {
        0 => (50.0, 1000.0, 10.0),
        1 => (1000.0, 10000.0, 100.0),
        2 => (10000.0, 100000.0, 500.0),
        3 => (100000.0, 1000000.0, 10000.0),
        4 => (1000000.0, 10000000.0, 100000.0),
        _ => (10000000.0, 100000000.0, 1000000.0),
    };
    (rng.uniform(lo, hi) / step).round() * step
}

fn trim_decimal(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A written form of a rupee (or, rarely, dollar) amount and its value `{amount, currency}`.
pub fn money(rng: &mut Rng) -> (String, Value) {
    if rng.bernoulli(0.06) {
        let usd = (rng.uniform(5.0, 2000.0)).round();
        let text = match rng.range(0, 3) {
            0 => format!("${}", group_western(usd as u64)),
            1 => format!("USD {}", group_western(usd as u64)),
            _ => format!("{} dollars", usd as u64),
        };
        return (text, json!({"amount": usd, "currency": "USD"}));
    }
    let mut value = amount(rng);
    let whole = value as u64;
    let text = if value >= 1e7 && rng.bernoulli(0.8) {
        let cr = (value / 1e6).round() / 10.0;
        value = cr * 1e7;
        let unit = *rng.choose(&["crore", "cr", "Cr", "crores"]).unwrap_or(&"crore");
        let sep = if unit == "cr" || unit == "Cr" { *rng.choose(&["", " "]).unwrap_or(&" ") } else { " " };
        let prefix = *rng.choose(&["", "₹", "Rs ", "Rs. "]).unwrap_or(&"");
        format!("{prefix}{}{sep}{unit}", trim_decimal(cr))
    } else if value >= 1e5 && rng.bernoulli(0.7) {
        let lakh = (value / 1e4).round() / 10.0;
        value = lakh * 1e5;
        let unit = *rng.choose(&["lakh", "lakhs", "lac", "L", "lakh rupees"]).unwrap_or(&"lakh");
        let prefix =
            if unit == "lakh rupees" { "" } else { *rng.choose(&["", "₹", "Rs ", "Rs.", "INR "]).unwrap_or(&"") };
        let sep = if unit == "L" { "" } else { " " };
        format!("{prefix}{}{sep}{unit}", trim_decimal(lakh))
    } else if (1000.0..1e6).contains(&value) && value % 1000.0 == 0.0 && rng.bernoulli(0.35) {
        let k = value / 1000.0;
        let prefix = *rng.choose(&["", "₹", "Rs ", "Rs. "]).unwrap_or(&"");
        let unit = *rng.choose(&["k", "K", " thousand"]).unwrap_or(&"k");
        format!("{prefix}{}{unit}", trim_decimal(k))
    } else {
        let paise = rng.bernoulli(0.08);
        if paise {
            value += rng.range(1, 100) as f64 / 100.0;
        }
        let digits = if rng.bernoulli(0.75) { group_indian(whole) } else { whole.to_string() };
        let digits =
            if paise { format!("{digits}.{:02}", ((value - whole as f64) * 100.0).round() as u64) } else { digits };
        match rng.range(0, 8) {
            0 | 1 => format!("₹{digits}"),
            2 => format!("₹ {digits}"),
            3 => format!("Rs {digits}"),
            4 => format!("Rs.{digits}"),
            5 => format!("INR {digits}"),
            6 => format!("{digits} rupees"),
            _ => format!("Rs. {digits}/-"),
        }
    };
    (text, json!({"amount": round2(value), "currency": "INR"}))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn ordinal(d: u32) -> String {
    let suffix = match (d % 10, d % 100) {
        (1, n) if n != 11 => "st",
        (2, n) if n != 12 => "nd",
        (3, n) if n != 13 => "rd",
        _ => "th",
    };
    format!("{d}{suffix}")
}

fn month_bounds(year: i32, month: u32) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
    let next =
        if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { NaiveDate::from_ymd_opt(year, month + 1, 1) }
            .unwrap_or(NaiveDate::MAX);
    (first, next - Duration::days(1))
}

fn shift_month(year: i32, month: u32, delta: i32) -> (i32, u32) {
    let idx = year * 12 + month as i32 - 1 + delta;
    (idx.div_euclid(12), (idx.rem_euclid(12) + 1) as u32)
}

fn range(from: NaiveDate, to: NaiveDate) -> Value {
    json!({"from": from.to_string(), "to": to.to_string()})
}

/// A written date and its value resolved against `reference`: an ISO date, or `{from, to}`.
/// Dates without a year fall in the reference year.
pub fn date(rng: &mut Rng, reference: NaiveDate) -> (String, Value) {
    let year = reference.year();
    if rng.bernoulli(0.45) {
        // relative expressions
        let monday = reference - Duration::days(reference.weekday().num_days_from_monday() as i64);
        let (y, m) = (reference.year(), reference.month());
        let choice = rng.range(0, 12);
        return match choice {
            0 => ("today".into(), json!(reference.to_string())),
            1 => ("yesterday".into(), json!((reference - Duration::days(1)).to_string())),
            2 => ("tomorrow".into(), json!((reference + Duration::days(1)).to_string())),
            3 => ("last week".into(), range(monday - Duration::days(7), monday - Duration::days(1))),
            4 => ("this week".into(), range(monday, monday + Duration::days(6))),
            5 => ("next week".into(), range(monday + Duration::days(7), monday + Duration::days(13))),
            6 => {
                let (py, pm) = shift_month(y, m, -1);
                let (a, b) = month_bounds(py, pm);
                ("last month".into(), range(a, b))
            }
            7 => {
                let (a, b) = month_bounds(y, m);
                ("this month".into(), range(a, b))
            }
            8 => {
                let (ny, nm) = shift_month(y, m, 1);
                let (a, b) = month_bounds(ny, nm);
                ("next month".into(), range(a, b))
            }
            9 => {
                let a = NaiveDate::from_ymd_opt(y - 1, 1, 1).unwrap_or(reference);
                let b = NaiveDate::from_ymd_opt(y - 1, 12, 31).unwrap_or(reference);
                ("last year".into(), range(a, b))
            }
            10 => {
                // the latest Diwali strictly before the reference date
                let d = nivesh_core::calendar::festival_date("diwali", y)
                    .filter(|d| *d < reference)
                    .or_else(|| nivesh_core::calendar::festival_date("diwali", y - 1))
                    .unwrap_or(reference);
                ("last Diwali".into(), json!(d.to_string()))
            }
            _ => {
                let (a, b) = month_bounds(y, m);
                let text = *rng.choose(&["this month", "is mahine"]).unwrap_or(&"this month");
                (text.into(), range(a, b))
            }
        };
    }
    let month = rng.range(1, 13) as u32;
    let (_, last) = month_bounds(year, month);
    let day = rng.range(1, last.day() as usize + 1) as u32;
    let d = NaiveDate::from_ymd_opt(year, month, day).unwrap_or(reference);
    let name = MONTHS[month as usize - 1];
    let short = &name[..3];
    let with_year = rng.bernoulli(0.35);
    let text = match rng.range(0, 7) {
        0 => format!("{day} {name}"),
        1 => format!("{} {short}", ordinal(day)),
        2 => format!("{name} {day}"),
        3 => format!("{day:02}/{month:02}/{year}"),
        4 => format!("{year}-{month:02}-{day:02}"),
        5 => format!("{day}-{month:02}-{year}"),
        _ => format!("{} of {name}", ordinal(day)),
    };
    let text = if with_year && !text.contains(&year.to_string()) { format!("{text} {year}") } else { text };
    (text, json!(d.to_string()))
}

/// One random edit (swap, drop or double a letter) in a word of at least four letters.
pub fn typo(rng: &mut Rng, text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let candidates: Vec<usize> = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.chars().count() >= 4 && w.chars().all(char::is_alphabetic))
        .map(|(i, _)| i)
        .collect();
    let Some(&wi) = rng.choose(&candidates) else { return text.to_string() };
    let mut chars: Vec<char> = words[wi].chars().collect();
    let p = rng.range(1, chars.len() - 1);
    match rng.range(0, 3) {
        0 => chars.swap(p, p + 1),
        1 => {
            chars.remove(p);
        }
        _ => chars.insert(p, chars[p]),
    }
    let new: String = chars.into_iter().collect();
    words.iter().enumerate().map(|(i, w)| if i == wi { new.as_str() } else { w }).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indian_grouping() {
        assert_eq!(group_indian(999), "999");
        assert_eq!(group_indian(1000), "1,000");
        assert_eq!(group_indian(150000), "1,50,000");
        assert_eq!(group_indian(12345678), "1,23,45,678");
        assert_eq!(group_western(150000), "150,000");
        assert_eq!(group_western(1234567), "1,234,567");
    }

    #[test]
    fn money_values_match_their_text() {
        let mut rng = Rng::new(3);
        for _ in 0..2000 {
            let (text, value) = money(&mut rng);
            let amount = value["amount"].as_f64().unwrap();
            assert!(amount > 0.0, "{text}");
            if text.contains("lakh") || text.ends_with('L') {
                assert!(amount >= 1e5 - 1.0, "{text} -> {amount}");
            }
            if text.contains("crore") || text.ends_with("cr") || text.ends_with("Cr") {
                assert!(amount >= 1e6, "{text} -> {amount}");
            }
            if text.starts_with("₹1,50,000") {
                assert_eq!(amount, 150000.0);
            }
        }
    }

    #[test]
    fn relative_dates_resolve_against_the_reference() {
        let reference = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap(); // a Wednesday
        let mut rng = Rng::new(5);
        let mut seen = std::collections::BTreeMap::new();
        for _ in 0..500 {
            let (text, value) = date(&mut rng, reference);
            seen.insert(text, value);
        }
        assert_eq!(seen["yesterday"], json!("2026-03-10"));
        assert_eq!(seen["last week"], json!({"from": "2026-03-02", "to": "2026-03-08"}));
        assert_eq!(seen["next month"], json!({"from": "2026-04-01", "to": "2026-04-30"}));
        assert_eq!(seen["last month"], json!({"from": "2026-02-01", "to": "2026-02-28"}));
        assert_eq!(seen["last Diwali"], json!("2025-10-20"));
    }
}
