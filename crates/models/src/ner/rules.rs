//! Deterministic recognisers for what rules do better than statistics: money amounts and dates,
//! with their normalised values.
//!
//! Both work on the token sequence of [`crate::text::tokenize`] (character offsets), so their
//! spans line up with the CRF's. `MONEY` values are `{amount, currency}` (lakh = 1e5,
//! crore = 1e7, k = 1e3); `DATE` values are an ISO date or `{from, to}` resolved against a
//! reference date, or `{every, day?}` for a recurring date ("the 2nd of each month"). A date without a year falls in the reference year; `dd/mm` order is assumed
//! (Indian usage) unless the first number cannot be a month... the second cannot, then `mm/dd`.

use crate::text::{Token, tokenize};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde_json::{Value, json};
use std::borrow::Cow;

/// A recognised span: character offsets `[start, end)` and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMatch {
    pub start: usize,
    pub end: usize,
    pub label: &'static str,
    pub value: Value,
    /// A reading whose label is a matter of convention ("every month", "in 7 days" may be a
    /// date or a duration): the recogniser uses it as a feature, and does not add it as an
    /// entity of its own.
    pub tag_only: bool,
}

/// Mark a match as [`RuleMatch::tag_only`].
fn tag_only(found: Option<(RuleMatch, usize)>) -> Option<(RuleMatch, usize)> {
    found.map(|(m, next)| (RuleMatch { tag_only: true, ..m }, next))
}

/// The token in lower case, borrowed when it is already (most tokens are): the rules read each
/// token many times per sentence.
fn lower(t: &Token) -> Cow<'_, str> {
    if t.text.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(&t.text)
    } else {
        Cow::Owned(t.text.to_lowercase())
    }
}

fn adjacent(a: &Token, b: &Token) -> bool {
    a.end == b.start
}

fn is_number(t: &Token) -> bool {
    t.text.chars().next().is_some_and(|c| c.is_ascii_digit())
        && t.text.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.')
}

/// Parse "1,50,000", "2,500.50", "1.5" (commas are grouping, one dot the decimal point).
pub fn parse_number(s: &str) -> Option<f64> {
    let cleaned: String = s.chars().filter(|&c| c != ',').collect();
    // digits with at most one decimal point: no sign, exponent, `inf` or `NaN` (f64's parser
    // takes "-1" and "1e5", which are not amounts as written)
    if cleaned.matches('.').count() > 1 || !cleaned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    cleaned.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn currency_symbol(s: &str) -> Option<&'static str> {
    match s {
        "₹" | "rs" | "inr" | "rupees" | "rupee" | "rupaye" | "rupay" | "rupiya" | "rupiye" => Some("INR"),
        "$" | "usd" | "dollars" | "dollar" | "bucks" => Some("USD"),
        "€" | "eur" | "euro" | "euros" => Some("EUR"),
        "£" | "gbp" | "pounds" | "pound" | "quid" => Some("GBP"),
        _ => None,
    }
}

fn is_prefix_currency(s: &str) -> bool {
    matches!(s, "₹" | "rs" | "inr" | "$" | "usd" | "€" | "eur" | "£" | "gbp")
}

fn unit_multiplier(s: &str) -> Option<f64> {
    match s {
        "k" | "thousand" | "thousands" | "hazaar" | "hazar" => Some(1e3),
        "lakh" | "lakhs" | "lac" | "lacs" | "l" => Some(1e5),
        "crore" | "crores" | "cr" | "karod" | "karor" => Some(1e7),
        "million" | "mn" | "m" => Some(1e6),
        "billion" | "bn" => Some(1e9),
        _ => None,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Try to read money starting at token `i`; returns the match and the index after it.
fn money_at(toks: &[Token], i: usize) -> Option<(RuleMatch, usize)> {
    let mut j = i;
    let mut currency: Option<&'static str> = None;
    let first = lower(toks.get(j)?);
    if is_prefix_currency(&first) {
        currency = currency_symbol(&first);
        j += 1;
        // "Rs." / "Rs:" directly after the symbol
        if toks.get(j).is_some_and(|t| (t.text == "." || t.text == ":") && adjacent(&toks[j - 1], t)) {
            j += 1;
        }
    }
    let num_tok = toks.get(j)?;
    if !is_number(num_tok) {
        return None;
    }
    let mut amount = parse_number(&num_tok.text)?;
    let mut end = num_tok.end;
    j += 1;
    let mut has_unit = false;
    if let Some(t) = toks.get(j) {
        let u = lower(t);
        let attached = adjacent(&toks[j - 1], t);
        // single letters only when attached ("5k", "2.5L") or after a currency ("Rs 5 k")
        let single = u.chars().count() == 1;
        let m_ok = u != "m" || attached;
        if let Some(m) = unit_multiplier(&u).filter(|_| (!single || attached || currency.is_some()) && m_ok) {
            amount *= m;
            end = t.end;
            has_unit = true;
            j += 1;
        }
    }
    // a currency word after the number ("500 rupees"), or a symbol written onto it ("40€",
    // "84$": NLU++'s training folds label these MONEY every time); a detached symbol after a
    // number belongs to what follows ("5 $20 notes")
    let suffix = toks.get(j).filter(|_| currency.is_none()).and_then(|t| {
        let w = lower(t);
        let symbol = matches!(&*w, "₹" | "$" | "€" | "£");
        currency_symbol(&w).filter(|_| !symbol || t.start == end).map(|c| (c, t.end))
    });
    if let Some((c, e)) = suffix {
        currency = Some(c);
        end = e;
        j += 1;
    }
    // trailing "/-" of Indian cheques and bills
    if currency.is_some()
        && toks.get(j).is_some_and(|t| t.text == "/" && t.start == end)
        && toks.get(j + 1).is_some_and(|t| t.text == "-")
    {
        end = toks[j + 1].end;
        j += 2;
    }
    if currency.is_none() && !has_unit {
        return None;
    }
    // "5 k" without a currency is too ambiguous; a bare unit needs a multi-letter word
    let start = toks[i].start;
    Some((
        RuleMatch {
            start,
            end,
            label: "MONEY",
            value: json!({"amount": round2(amount), "currency": currency.unwrap_or("INR")}),
            tag_only: false,
        },
        j,
    ))
}

const MONTHS: [(&str, u32); 23] = [
    ("january", 1),
    ("jan", 1),
    ("february", 2),
    ("feb", 2),
    ("march", 3),
    ("mar", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("june", 6),
    ("jun", 6),
    ("july", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sep", 9),
    ("october", 10),
    ("oct", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dec", 12),
];

fn month_of(s: &str) -> Option<u32> {
    let s = s.trim_end_matches('.');
    if s == "sept" {
        return Some(9);
    }
    MONTHS.iter().find(|(n, _)| *n == s).map(|(_, m)| *m)
}

fn weekday_of(s: &str) -> Option<Weekday> {
    Some(match s {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn month_bounds(year: i32, month: u32) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    Some((first, next - Duration::days(1)))
}

fn shift_month(year: i32, month: u32, delta: i32) -> (i32, u32) {
    let idx = year * 12 + month as i32 - 1 + delta;
    (idx.div_euclid(12), (idx.rem_euclid(12) + 1) as u32)
}

fn range(a: NaiveDate, b: NaiveDate) -> Value {
    json!({"from": a.to_string(), "to": b.to_string()})
}

fn day(d: NaiveDate) -> Value {
    json!(d.to_string())
}

fn is_ordinal_suffix(s: &str) -> bool {
    matches!(s, "st" | "nd" | "rd" | "th")
}

fn small_int(t: &Token, max: u32) -> Option<u32> {
    if !t.text.chars().all(|c| c.is_ascii_digit()) || t.text.len() > 4 {
        return None;
    }
    t.text.parse::<u32>().ok().filter(|&n| n >= 1 && n <= max)
}

fn year_of(t: &Token) -> Option<i32> {
    (t.text.len() == 4 && t.text.chars().all(|c| c.is_ascii_digit()))
        .then(|| t.text.parse::<i32>().ok())
        .flatten()
        .filter(|y| (1900..=2100).contains(y))
}

/// A day number at `j` ("15", "15th"): returns (day, next index).
fn day_at(toks: &[Token], j: usize) -> Option<(u32, usize)> {
    let d = small_int(toks.get(j)?, 31)?;
    let mut k = j + 1;
    if toks.get(k).is_some_and(|t| is_ordinal_suffix(&lower(t)) && adjacent(&toks[j], t)) {
        k += 1;
    }
    Some((d, k))
}

/// An optional ", 2026" / " 2026" after a date: returns (year, next index).
fn year_after(toks: &[Token], j: usize) -> Option<(i32, usize)> {
    let mut k = j;
    if toks.get(k).is_some_and(|t| t.text == ",") {
        k += 1;
    }
    year_of(toks.get(k)?).map(|y| (y, k + 1))
}

fn festival(name: &str) -> Option<&'static str> {
    match name {
        "diwali" | "deepavali" => Some("diwali"),
        "holi" => Some("holi"),
        "christmas" | "xmas" => Some("christmas"),
        _ => None,
    }
}

/// Try to read a date starting at token `i`.
fn date_at(toks: &[Token], i: usize, reference: NaiveDate) -> Option<(RuleMatch, usize)> {
    let w = |k: usize| toks.get(k).map(lower).unwrap_or_default();
    let start = toks.get(i)?.start;
    let done = |end_idx: usize, value: Value| {
        let end = toks[end_idx - 1].end;
        Some((RuleMatch { start, end, label: "DATE", value, tag_only: false }, end_idx))
    };
    let y = reference.year();
    let monday = reference - Duration::days(reference.weekday().num_days_from_monday() as i64);
    let w0 = w(i);

    // multi-word relative expressions
    match (&*w0, &*w(i + 1), &*w(i + 2)) {
        ("day", "before", "yesterday") => return done(i + 3, day(reference - Duration::days(2))),
        ("day", "after", "tomorrow") => return done(i + 3, day(reference + Duration::days(2))),
        _ => {}
    }
    let rel = match &*w0 {
        "last" | "previous" | "past" | "pichle" | "pichhle" | "pichla" => Some(-1),
        "this" | "current" | "is" => Some(0),
        "next" | "coming" | "agle" | "agla" | "upcoming" => Some(1),
        _ => None,
    };
    // Hinglish "is" (this) only before Hinglish units: English "is" precedes anything
    let hinglish_unit = matches!(&*w(i + 1), "mahine" | "mahina" | "hafte" | "hafta" | "saal");
    let rel = rel.filter(|_| w0 != "is" || hinglish_unit);
    if let Some(delta) = rel {
        let unit = w(i + 1);
        match &*unit {
            "week" | "hafte" | "hafta" => {
                let m = monday + Duration::days(7 * delta as i64);
                return done(i + 2, range(m, m + Duration::days(6)));
            }
            "month" | "mahine" | "mahina" => {
                let (yy, mm) = shift_month(y, reference.month(), delta);
                let (a, b) = month_bounds(yy, mm)?;
                return done(i + 2, range(a, b));
            }
            "year" | "saal" => {
                let yy = y + delta;
                return done(i + 2, range(NaiveDate::from_ymd_opt(yy, 1, 1)?, NaiveDate::from_ymd_opt(yy, 12, 31)?));
            }
            "weekend" => {
                let sat = monday + Duration::days(5 + 7 * delta as i64);
                return done(i + 2, range(sat, sat + Duration::days(1)));
            }
            _ => {}
        }
        if let Some(f) = festival(&unit) {
            let pick = |yy: i32| nivesh_core::calendar::festival_date(f, yy);
            let d = match delta {
                -1 => pick(y).filter(|d| *d < reference).or_else(|| pick(y - 1)),
                0 => pick(y),
                _ => pick(y).filter(|d| *d > reference).or_else(|| pick(y + 1)),
            }?;
            return done(i + 2, day(d));
        }
        if let Some(wd) = weekday_of(&unit) {
            let this = monday + Duration::days(wd.num_days_from_monday() as i64);
            let d = this + Duration::days(7 * delta as i64);
            return done(i + 2, day(d));
        }
        if let Some(m) = month_of(&unit).filter(|_| delta != 0 || unit != "may") {
            let yy = match delta {
                -1 if m >= reference.month() => y - 1,
                1 if m <= reference.month() => y + 1,
                _ => y,
            };
            let (a, b) = month_bounds(yy, m)?;
            return done(i + 2, range(a, b));
        }
        // "last 3 months", "past 10 days"
        if let Some(n) = toks.get(i + 1).and_then(|t| small_int(t, 365)).filter(|_| delta == -1) {
            let d = match &*w(i + 2) {
                "days" | "day" => Some(Duration::days(n as i64)),
                "weeks" | "week" => Some(Duration::days(7 * n as i64)),
                "months" | "month" => {
                    let (yy, mm) = shift_month(y, reference.month(), -(n as i32));
                    let from = NaiveDate::from_ymd_opt(yy, mm, reference.day().min(28))?;
                    return done(i + 3, range(from, reference));
                }
                _ => None,
            };
            if let Some(d) = d {
                return done(i + 3, range(reference - d, reference));
            }
        }
    }
    // "in 7 days", "in 2 weeks", "in 3 months": that day ahead (or a duration: "repay in 12
    // months"; tag only)
    if w0 == "in"
        && let Some(n) = toks.get(i + 1).and_then(|t| small_int(t, 366))
    {
        let ahead = match &*w(i + 2) {
            "days" | "day" => Some(reference + Duration::days(n as i64)),
            "weeks" | "week" => Some(reference + Duration::days(7 * n as i64)),
            "months" | "month" if n <= 120 => {
                let (yy, mm) = shift_month(y, reference.month(), n as i32);
                let last = month_bounds(yy, mm)?.1.day();
                NaiveDate::from_ymd_opt(yy, mm, reference.day().min(last))
            }
            _ => None,
        };
        if let Some(d) = ahead {
            return tag_only(done(i + 3, day(d)));
        }
    }
    // "every month", "each week": a recurring date
    if matches!(&*w0, "every" | "each") && matches!(&*w(i + 1), "day" | "week" | "month" | "year") {
        return tag_only(done(i + 2, json!({"every": w(i + 1)})));
    }
    match &*w0 {
        "today" | "aaj" | "tonight" => return done(i + 1, day(reference)),
        "yesterday" => return done(i + 1, day(reference - Duration::days(1))),
        "tomorrow" => return done(i + 1, day(reference + Duration::days(1))),
        _ => {}
    }
    if let Some(f) = festival(&w0) {
        return done(i + 1, day(nivesh_core::calendar::festival_date(f, y)?));
    }

    let t0 = toks.get(i)?;
    // 15.03.2026 (one token with two dots)
    if t0.text.matches('.').count() == 2 && t0.text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let parts: Vec<&str> = t0.text.split('.').collect();
        if let (Ok(a), Ok(b), Ok(c)) = (parts[0].parse::<u32>(), parts[1].parse::<u32>(), parts[2].parse::<i32>()) {
            let yy = if c < 100 { 2000 + c } else { c };
            if let Some(d) = dmy(a, b, yy) {
                return done(i + 1, day(d));
            }
        }
    }
    // numeric dates: 15/03/2026, 15-03-2026, 2026-03-15, 15/03
    if is_number(t0) && !t0.text.contains(',') && !t0.text.contains('.') {
        let sep = toks.get(i + 1).map(|t| t.text.clone()).unwrap_or_default();
        if (sep == "/" || sep == "-")
            && toks.get(i + 2).is_some_and(|t| is_number(t) && adjacent(&toks[i + 1], t))
            && adjacent(t0, &toks[i + 1])
        {
            let a = t0.text.parse::<i32>().ok()?;
            let b = toks[i + 2].text.parse::<u32>().ok()?;
            let third = (toks.get(i + 3).map(|t| t.text.as_str()) == Some(sep.as_str())
                && toks.get(i + 4).is_some_and(|t| is_number(t) && adjacent(&toks[i + 3], t)))
            .then(|| toks[i + 4].text.parse::<i32>().ok())
            .flatten();
            match third {
                Some(c) if a >= 1000 => {
                    // yyyy-mm-dd
                    return done(i + 5, day(NaiveDate::from_ymd_opt(a, b, c as u32)?));
                }
                Some(c) => {
                    let yy = if c < 100 { 2000 + c } else { c };
                    return done(i + 5, day(dmy(a as u32, b, yy)?));
                }
                None if sep == "/" && a <= 31 => {
                    return done(i + 3, day(dmy(a as u32, b, y)?));
                }
                None => {}
            }
        }
    }
    // "15 March [2026]", "15th of Mar", "the 5th"
    let (mut j, the) = if w0 == "the" { (i + 1, true) } else { (i, false) };
    if let Some((d, k)) = day_at(toks, j) {
        let mut k2 = k;
        if w(k2) == "of" {
            k2 += 1;
        }
        // "the 2nd of each month"
        if k2 > k && matches!(&*w(k2), "each" | "every") && w(k2 + 1) == "month" {
            return tag_only(done(k2 + 2, json!({"every": "month", "day": d})));
        }
        if let Some(m) = month_of(&w(k2)) {
            let (yy, end) = year_after(toks, k2 + 1).unwrap_or((y, k2 + 1));
            return done(end, day(NaiveDate::from_ymd_opt(yy, m, d)?));
        }
        let has_suffix = k > j + 1;
        if the && has_suffix {
            // "the 5th": that day of the reference month
            return done(k, day(NaiveDate::from_ymd_opt(y, reference.month(), d)?));
        }
        j = i;
        let _ = j;
    }
    // "March 15[, 2026]", "March 2026", "March"
    if let Some(m) = month_of(&w0) {
        // "may" is a verb far more often than a month: require a day or year after it
        let strict = w0 == "may" || w0 == "mar" || w0 == "jan" || w0 == "sun";
        // "October the 3rd": "the" needs the ordinal suffix after the day
        let day_after = day_at(toks, i + 1)
            .or_else(|| (w(i + 1) == "the").then(|| day_at(toks, i + 2)).flatten().filter(|&(_, k)| k == i + 4));
        if let Some((d, k)) = day_after {
            let (yy, end) = year_after(toks, k).unwrap_or((y, k));
            return done(end, day(NaiveDate::from_ymd_opt(yy, m, d)?));
        }
        if let Some((yy, end)) = year_after(toks, i + 1) {
            let (a, b) = month_bounds(yy, m)?;
            return done(end, range(a, b));
        }
        let capitalised = t0.text.chars().next().is_some_and(char::is_uppercase);
        if !strict || capitalised && w0 != "may" {
            let (a, b) = month_bounds(y, m)?;
            return done(i + 1, range(a, b));
        }
    }
    if let Some(wd) = weekday_of(&w0).filter(|_| w0.len() > 3) {
        // a bare weekday: the next one on or after the reference date
        let ahead =
            (wd.num_days_from_monday() as i64 - reference.weekday().num_days_from_monday() as i64).rem_euclid(7);
        return done(i + 1, day(reference + Duration::days(ahead)));
    }
    None
}

/// Day-month-year with the Indian order, falling back to month-day when the second number
/// cannot be a month.
fn dmy(a: u32, b: u32, y: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, b, a).or_else(|| if b > 12 { NaiveDate::from_ymd_opt(y, a, b) } else { None })
}

/// The unit of "last week", "this year", "next month" at `k`.
fn relative_unit(toks: &[Token], k: usize) -> Option<&'static str> {
    let w = |k: usize| toks.get(k).map(lower).unwrap_or_default();
    if !matches!(&*w(k), "last" | "previous" | "past" | "this" | "current" | "next" | "coming") {
        return None;
    }
    match &*w(k + 1) {
        "week" => Some("week"),
        "month" => Some("month"),
        "year" => Some("year"),
        _ => None,
    }
}

/// The period that can place the date in `toks[i..next]`, if that date names a day ("the
/// 25th"), a weekday or a month (with or without its day) and nothing that places it already
/// (a year, a numeric date): a day is placed by a month, a weekday by a week, a month by a year.
fn placing_unit(toks: &[Token], i: usize, next: usize) -> Option<&'static str> {
    let part = toks.get(i..next)?;
    if part.iter().any(|t| year_of(t).is_some() || matches!(t.text.as_str(), "/" | "-" | "." | ",")) {
        return None;
    }
    let words: Vec<Cow<str>> = part.iter().map(lower).collect();
    if words.iter().any(|w| month_of(w).is_some()) {
        Some("year")
    } else if words.iter().any(|w| weekday_of(w).is_some()) {
        Some("week")
    } else if words.first().is_some_and(|w| w == "the") {
        Some("month")
    } else {
        None
    }
}

/// A date that exists in any month and year, to find where an unplaced date ends before it
/// is placed ("the 30th", "Feb 29": a leap year's January).
fn anywhere() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// A date at `i`, joined with a relative period that places it: "October last year", "Saturday
/// last week", "the 25th this month", "25th of next month", "Monday of next week", "last week
/// Monday". The unplaced part is read as of the first day of the period; a part the period
/// cannot place ("Saturday last month", "12/03/2025 this year") is not joined.
fn date_in_context(toks: &[Token], i: usize, reference: NaiveDate) -> Option<(RuleMatch, usize)> {
    let period_start = |r: &RuleMatch| {
        r.value.get("from").and_then(Value::as_str).and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    let joined = |value: Value, end_idx: usize| {
        let m = RuleMatch { start: toks[i].start, end: toks[end_idx - 1].end, label: "DATE", value, tag_only: false };
        Some((m, end_idx))
    };
    let skip_of = |k: usize| if toks.get(k).is_some_and(|t| lower(t) == "of") { k + 1 } else { k };
    // a relative period at `k` of `unit`, and its first day
    let period = |k: usize, unit: &str| -> Option<(NaiveDate, usize)> {
        if relative_unit(toks, k)? != unit {
            return None;
        }
        let (p, after) = date_at(toks, k, reference)?;
        Some((period_start(&p)?, after))
    };
    // "25th this month", "5th of next month": an ordinal day, which is not a date alone
    if toks[i].text.starts_with(|c: char| c.is_ascii_digit())
        && let Some((d, k)) = day_at(toks, i).filter(|&(_, k)| k == i + 2)
        && let Some((from, after)) = period(skip_of(k), "month")
        && let Some(date) = NaiveDate::from_ymd_opt(from.year(), from.month(), d)
    {
        return joined(day(date), after);
    }
    // an unplaced date, then the period that places it
    if let Some((_, next)) = date_at(toks, i, anywhere())
        && let Some(unit) = placing_unit(toks, i, next)
        && let Some((from, after)) = period(skip_of(next), unit)
        && let Some((placed, n2)) = date_at(toks, i, from)
        && n2 == next
    {
        return joined(placed.value, after);
    }
    let (m, next) = date_at(toks, i, reference)?;
    // the period, then a weekday or month it places ("last week Monday", "next year March")
    if let Some(unit) = relative_unit(toks, i)
        && next == i + 2
        && let Some((_, end)) = date_at(toks, next, anywhere())
        && placing_unit(toks, next, end) == Some(unit)
        && unit != "month"
        && let Some(from) = period_start(&m)
        && let Some((placed, after)) = date_at(toks, next, from)
        && after == end
    {
        return joined(placed.value, after);
    }
    Some((m, next))
}

/// All money and date matches in `text`, left to right, without overlaps.
pub fn recognise(text: &str, reference: NaiveDate) -> Vec<RuleMatch> {
    recognise_tokens(&tokenize(text), reference)
}

/// As [`recognise`], on already tokenised text.
pub fn recognise_tokens(toks: &[Token], reference: NaiveDate) -> Vec<RuleMatch> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if let Some((m, next)) = money_at(toks, i).or_else(|| date_in_context(toks, i, reference)) {
            out.push(m);
            i = next.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The value of a span the CRF labelled `label`, read by the same rules (the first match
/// inside the span), or `None` when the rules cannot read it.
pub fn normalise(label: &str, span_text: &str, reference: NaiveDate) -> Option<Value> {
    let toks = tokenize(span_text);
    (0..toks.len()).find_map(|i| match label {
        "MONEY" => money_at(&toks, i).map(|(m, _)| m.value),
        "DATE" => date_in_context(&toks, i, reference).map(|(m, _)| m.value),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 11).unwrap() // a Wednesday
    }

    fn only(text: &str, label: &str) -> (String, Value) {
        let m: Vec<_> = recognise(text, reference()).into_iter().filter(|m| m.label == label).collect();
        assert_eq!(m.len(), 1, "{text}: {m:?}");
        let span: String = text.chars().skip(m[0].start).take(m[0].end - m[0].start).collect();
        (span, m[0].value.clone())
    }

    #[test]
    fn money_table() {
        let cases: &[(&str, &str, f64, &str)] = &[
            ("paid ₹1,50,000 today?", "₹1,50,000", 150000.0, "INR"),
            ("Rs. 5k for dinner", "Rs. 5k", 5000.0, "INR"),
            ("Rs.5k for dinner", "Rs.5k", 5000.0, "INR"),
            ("a 1.5 lakh bike", "1.5 lakh", 150000.0, "INR"),
            ("need 2 crore", "2 crore", 20000000.0, "INR"),
            ("INR 2,500.50 debited", "INR 2,500.50", 2500.5, "INR"),
            ("costs $300", "$300", 300.0, "USD"),
            ("500 rupees only", "500 rupees", 500.0, "INR"),
            ("₹ 1200 at Zomato", "₹ 1200", 1200.0, "INR"),
            ("saved 2.5L so far", "2.5L", 250000.0, "INR"),
            ("Rs 12,000/- paid", "Rs 12,000/-", 12000.0, "INR"),
            ("₹12,34,567 balance", "₹12,34,567", 1234567.0, "INR"),
            ("loan of 45 lakhs", "45 lakhs", 4500000.0, "INR"),
            ("₹1.2 Cr flat", "₹1.2 Cr", 12000000.0, "INR"),
            ("Rs 3cr house", "Rs 3cr", 30000000.0, "INR"),
            ("50k salary", "50k", 50000.0, "INR"),
            ("earn 10 thousand", "10 thousand", 10000.0, "INR"),
            ("USD 20 fee", "USD 20", 20.0, "USD"),
            ("€50 refund", "€50", 50.0, "EUR"),
            ("£1,200 rent", "£1,200", 1200.0, "GBP"),
            ("300 dollars", "300 dollars", 300.0, "USD"),
            ("5 lac loan", "5 lac", 500000.0, "INR"),
            ("2 lakh rupees", "2 lakh rupees", 200000.0, "INR"),
            ("Rs 5 k", "Rs 5 k", 5000.0, "INR"),
            ("inr 999", "inr 999", 999.0, "INR"),
            ("1000 rs ka recharge", "1000 rs", 1000.0, "INR"),
            ("100 rupaye", "100 rupaye", 100.0, "INR"),
            ("3.75 crores", "3.75 crores", 37500000.0, "INR"),
            ("that 68.26$ transfer", "68.26$", 68.26, "USD"),
            ("it is not 10£", "10£", 10.0, "GBP"),
            ("I want that 40€ back", "40€", 40.0, "EUR"),
            ("500₹ only", "500₹", 500.0, "INR"),
        ];
        for (text, span, amount, currency) in cases {
            let (s, v) = only(text, "MONEY");
            assert_eq!(s, *span, "{text}");
            assert_eq!(v, json!({"amount": amount, "currency": currency}), "{text}");
        }
    }

    #[test]
    fn numbers_that_are_not_money() {
        for text in ["I have 3 cards", "call 9876543210", "room 101", "5 k steps", "2 L of milk", "in 2026", "5 $"] {
            let m: Vec<_> = recognise(text, reference()).into_iter().filter(|m| m.label == "MONEY").collect();
            assert!(m.is_empty(), "{text}: {m:?}");
        }
    }

    #[test]
    fn date_table() {
        let cases: &[(&str, &str, Value)] = &[
            ("spent 500 today", "today", json!("2026-03-11")),
            ("paid yesterday", "yesterday", json!("2026-03-10")),
            ("due tomorrow", "tomorrow", json!("2026-03-12")),
            ("the day before yesterday", "day before yesterday", json!("2026-03-09")),
            ("last week", "last week", json!({"from": "2026-03-02", "to": "2026-03-08"})),
            ("this week", "this week", json!({"from": "2026-03-09", "to": "2026-03-15"})),
            ("next month", "next month", json!({"from": "2026-04-01", "to": "2026-04-30"})),
            ("last month", "last month", json!({"from": "2026-02-01", "to": "2026-02-28"})),
            ("pichle mahine ka kharcha", "pichle mahine", json!({"from": "2026-02-01", "to": "2026-02-28"})),
            ("last year", "last year", json!({"from": "2025-01-01", "to": "2025-12-31"})),
            ("on 15 March", "15 March", json!("2026-03-15")),
            ("on 15th Mar", "15th Mar", json!("2026-03-15")),
            ("on March 15", "March 15", json!("2026-03-15")),
            ("on 15/03/2026", "15/03/2026", json!("2026-03-15")),
            ("on 2026-03-15", "2026-03-15", json!("2026-03-15")),
            ("on 15-03-2026", "15-03-2026", json!("2026-03-15")),
            ("on 15.03.2026", "15.03.2026", json!("2026-03-15")),
            ("due 3rd of April", "3rd of April", json!("2026-04-03")),
            ("by 5 January 2027", "5 January 2027", json!("2027-01-05")),
            ("March 15, 2025", "March 15, 2025", json!("2025-03-15")),
            ("in December", "December", json!({"from": "2026-12-01", "to": "2026-12-31"})),
            ("last Diwali", "last Diwali", json!("2025-10-20")),
            ("next Diwali", "next Diwali", json!("2026-11-08")),
            ("last 3 months", "last 3 months", json!({"from": "2025-12-11", "to": "2026-03-11"})),
            ("next Monday", "next Monday", json!("2026-03-16")),
            ("on the 5th", "the 5th", json!("2026-03-05")),
            ("on 12/25/2026", "12/25/2026", json!("2026-12-25")),
            ("up to October the 3rd 2004", "October the 3rd 2004", json!("2004-10-03")),
            ("on March the 5th", "March the 5th", json!("2026-03-05")),
            ("from October last year", "October last year", json!({"from": "2025-10-01", "to": "2025-10-31"})),
            ("November this year", "November this year", json!({"from": "2026-11-01", "to": "2026-11-30"})),
            ("made on Saturday last week?", "Saturday last week", json!("2026-03-07")),
            ("last week Monday", "last week Monday", json!("2026-03-02")),
            ("on Friday of next week", "Friday of next week", json!("2026-03-20")),
            ("for the 25th this month", "the 25th this month", json!("2026-03-25")),
            ("transfer in 4 days at 11", "in 4 days", json!("2026-03-15")),
            ("in 2 weeks", "in 2 weeks", json!("2026-03-25")),
            ("in 1 month", "in 1 month", json!("2026-04-11")),
            ("my limit every month", "every month", json!({"every": "month"})),
            ("on the 2nd of each month", "the 2nd of each month", json!({"every": "month", "day": 2})),
            ("25th this month", "25th this month", json!("2026-03-25")),
            ("by the 5th of next month", "the 5th of next month", json!("2026-04-05")),
            ("5th of next month", "5th of next month", json!("2026-04-05")),
            ("next year March", "next year March", json!({"from": "2027-03-01", "to": "2027-03-31"})),
        ];
        for (text, span, value) in cases {
            let (s, v) = only(text, "DATE");
            assert_eq!(s, *span, "{text}");
            assert_eq!(&v, value, "{text}");
        }
        // placed by a period in which the day exists, though the reference month lacks it
        let feb = NaiveDate::from_ymd_opt(2026, 2, 10).unwrap();
        let m = recognise("due the 30th next month", feb);
        assert_eq!((m.len(), &m[0].value), (1, &json!("2026-03-30")), "{m:?}");
        // a period that cannot place the date is not joined to it
        for text in ["Saturday last month", "12/03/2025 this year", "the 31st next month", "March last week"] {
            assert_eq!(recognise(text, reference()).len(), 2, "{text}");
        }
        for (text, tag_only) in [("every week", true), ("in 7 days", true), ("next week", false), ("₹5", false)] {
            assert_eq!(recognise(text, reference())[0].tag_only, tag_only, "{text}");
        }
    }

    #[test]
    fn may_the_verb_is_not_a_date() {
        assert!(recognise("you may pay later", reference()).is_empty());
        assert_eq!(only("when is Diwali", "DATE").0, "Diwali");
        assert_eq!(only("is mahine ka budget", "DATE").0, "is mahine");
        assert_eq!(only("on 5 May", "DATE").1, json!("2026-05-05"));
    }

    #[test]
    fn mixed_sentence_offsets_are_characters() {
        let text = "Paid ₹1,500 to Swiggy on 15/03/2026 and Rs 200 yesterday";
        let m = recognise(text, reference());
        let spans: Vec<(&str, String)> =
            m.iter().map(|m| (m.label, text.chars().skip(m.start).take(m.end - m.start).collect())).collect();
        assert_eq!(
            spans,
            vec![
                ("MONEY", "₹1,500".to_string()),
                ("DATE", "15/03/2026".into()),
                ("MONEY", "Rs 200".into()),
                ("DATE", "yesterday".into())
            ]
        );
        assert_eq!(m[0].start, 5);
    }

    #[test]
    fn normalise_reads_crf_spans() {
        assert_eq!(normalise("MONEY", "₹2.5 lakh", reference()), Some(json!({"amount": 250000.0, "currency": "INR"})));
        assert_eq!(normalise("DATE", "on 15 March", reference()), Some(json!("2026-03-15")));
        assert_eq!(normalise("DATE", "sometime soon", reference()), None);
    }
}
