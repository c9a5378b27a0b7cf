//! Card/UPI/bank transactions of simulated users.
//!
//! Each user has an income, a salary day, a category mix, favourite merchants, a UPI/card
//! preference and recurring payments (rent, EMI, SIP, utilities, subscriptions). Discretionary
//! spending follows a weekly cycle (more on weekends), a monthly cycle (more in the week after
//! salary) and festival spikes (Diwali, Holi, Christmas/New Year). About 0.5 % of transactions
//! are injected anomalies of four kinds: amount spikes, a new merchant abroad, a 3 a.m. burst and
//! rapid repeats, all labelled `is_anomaly = true`.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};
use nivesh_core::gazetteer::{Gazetteer, GazetteerEntry};
use nivesh_core::records::IST;
use nivesh_core::rng::Rng;
use nivesh_core::{Channel, Direction, Transaction};

/// A discretionary spending category of the simulation.
struct Spend {
    category: &'static str,
    /// Relative frequency before the user's own preference.
    weight: f64,
    /// Median amount at ₹50k/month income.
    median: f64,
    log_sd: f64,
    /// Active hours [from, to).
    hours: (u32, u32),
}

const fn spend(category: &'static str, weight: f64, median: f64, log_sd: f64, hours: (u32, u32)) -> Spend {
    Spend { category, weight, median, log_sd, hours }
}

const DISCRETIONARY: &[Spend] = &[
    spend("groceries", 5.0, 650.0, 0.7, (8, 22)),
    spend("food_delivery", 4.0, 420.0, 0.5, (12, 24)),
    spend("dining", 2.0, 900.0, 0.6, (12, 24)),
    spend("shopping", 2.5, 1800.0, 0.9, (10, 23)),
    spend("transport", 4.0, 260.0, 0.6, (7, 23)),
    spend("fuel", 1.5, 1500.0, 0.4, (7, 22)),
    spend("entertainment", 1.0, 700.0, 0.6, (11, 24)),
    spend("healthcare", 0.7, 900.0, 0.9, (9, 21)),
    spend("personal_care", 0.6, 800.0, 0.7, (10, 21)),
    spend("travel", 0.4, 4500.0, 0.8, (8, 23)),
    spend("education", 0.2, 3000.0, 0.8, (9, 20)),
];

const FOREIGN_MERCHANTS: &[&str] = &[
    "INTL*DUBAI DUTY FREE",
    "INTL*AMAZON.COM US",
    "INTL*APPLE.COM/BILL IE",
    "INTL*BINANCE LTD",
    "INTL*LAGOS ELECTRONICS",
    "INTL*GOOGLE *TEMPORARY HOLD",
    "INTL*SKRILL LONDON",
];

struct Recurring {
    day: u32,
    category: &'static str,
    merchant: String,
    amount: f64,
    channel: Channel,
    jitter: f64,
}

struct User {
    id: String,
    income: f64,
    salary_day: u32,
    weights: Vec<f64>,
    favourites: Vec<Vec<String>>,
    upi_share: f64,
    daily_rate: f64,
    scale: f64,
    recurring: Vec<Recurring>,
}

fn merchants_in<'a>(g: &'a Gazetteer, category: &str) -> Vec<&'a GazetteerEntry> {
    g.merchants.iter().filter(|m| m.category.as_deref() == Some(category)).collect()
}

fn make_user(rng: &mut Rng, index: usize, g: &Gazetteer) -> User {
    let income = (rng.lognormal(50_000f64.ln(), 0.6)).clamp(15_000.0, 800_000.0).round();
    let salary_day = *rng.choose(&[1, 1, 1, 5, 7, 7, 10, 25, 28, 30]).unwrap_or(&1);
    let weights = DISCRETIONARY.iter().map(|s| s.weight * rng.lognormal(0.0, 0.5)).collect();
    let favourites = DISCRETIONARY
        .iter()
        .map(|s| {
            let cat = s.category;
            let mut all: Vec<String> = merchants_in(g, cat).into_iter().map(|m| m.canonical.clone()).collect();
            rng.shuffle(&mut all);
            all.truncate(rng.range(2, 5));
            if all.is_empty() {
                all.push(format!("Local {}", cat.replace('_', " ")));
            }
            all
        })
        .collect();
    let mut recurring = Vec::new();
    let pick_merchant = |rng: &mut Rng, cat: &str, fallback: &str| {
        rng.choose(&merchants_in(g, cat)).map(|m| m.canonical.clone()).unwrap_or_else(|| fallback.to_string())
    };
    if rng.bernoulli(0.6) {
        let landlord = if rng.bernoulli(0.3) { pick_merchant(rng, "rent", "Landlord") } else { "Landlord".to_string() };
        recurring.push(Recurring {
            day: rng.range(1, 6) as u32,
            category: "rent",
            merchant: landlord,
            amount: (income * rng.uniform(0.18, 0.32) / 500.0).round() * 500.0,
            channel: Channel::NetBanking,
            jitter: 0.0,
        });
    }
    if rng.bernoulli(0.4) {
        recurring.push(Recurring {
            day: rng.range(3, 11) as u32,
            category: "emi",
            merchant: format!("{} Loan EMI", rng.choose(&g.banks).map(|b| b.canonical.as_str()).unwrap_or("HDFC Bank")),
            amount: (income * rng.uniform(0.08, 0.25)).round(),
            channel: Channel::NetBanking,
            jitter: 0.0,
        });
    }
    if rng.bernoulli(0.5) {
        recurring.push(Recurring {
            day: rng.range(1, 29) as u32,
            category: "investments",
            merchant: pick_merchant(rng, "investments", "Mutual Fund SIP"),
            amount: (income * rng.uniform(0.05, 0.2) / 500.0).round().max(1.0) * 500.0,
            channel: Channel::NetBanking,
            jitter: 0.0,
        });
    }
    for merchant in ["Airtel", "Jio", "BESCOM", "Tata Power", "Adani Electricity", "Mahanagar Gas"] {
        if rng.bernoulli(0.25) {
            recurring.push(Recurring {
                day: rng.range(1, 29) as u32,
                category: "utilities",
                merchant: merchant.to_string(),
                amount: (income * rng.uniform(0.01, 0.04)).round(),
                channel: Channel::Upi,
                jitter: 0.15,
            });
        }
    }
    for (merchant, price) in [("Netflix", 649.0), ("Spotify", 119.0), ("Disney+ Hotstar", 299.0), ("Cult.fit", 1499.0)]
    {
        if rng.bernoulli(0.3) {
            recurring.push(Recurring {
                day: rng.range(1, 29) as u32,
                category: if merchant == "Cult.fit" { "healthcare" } else { "entertainment" },
                merchant: merchant.to_string(),
                amount: price,
                channel: Channel::Card,
                jitter: 0.0,
            });
        }
    }
    if rng.bernoulli(0.35) {
        recurring.push(Recurring {
            day: rng.range(1, 29) as u32,
            category: "insurance",
            merchant: pick_merchant(rng, "insurance", "LIC"),
            amount: (income * rng.uniform(0.02, 0.06)).round(),
            channel: Channel::NetBanking,
            jitter: 0.0,
        });
    }
    User {
        id: format!("U{:04}", index + 1),
        income,
        salary_day,
        weights,
        favourites,
        upi_share: rng.uniform(0.35, 0.95),
        daily_rate: rng.lognormal(1.2f64.ln(), 0.35),
        scale: (income / 50_000.0).powf(0.6),
        recurring,
    }
}

fn at(day: NaiveDate, hour: u32, minute: u32, second: u32) -> DateTime<FixedOffset> {
    let naive = day
        .and_hms_opt(hour.min(23), minute.min(59), second.min(59))
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN));
    IST.from_local_datetime(&naive).single().unwrap_or_else(|| IST.from_utc_datetime(&naive))
}

fn last_day_of_month(d: NaiveDate) -> u32 {
    let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
    NaiveDate::from_ymd_opt(y, m, 1).map(|n| (n - Duration::days(1)).day()).unwrap_or(28)
}

/// Spending multiplier and the categories that a festival boosts.
fn festival_factor(day: NaiveDate) -> (f64, &'static [&'static str]) {
    let near = |name: &str, before: i64, after: i64| {
        nivesh_core::calendar::festival_date(name, day.year()).is_some_and(|f| {
            let delta = (day - f).num_days();
            (-before..=after).contains(&delta)
        })
    };
    if near("diwali", 14, 1) {
        (1.9, &["shopping", "groceries", "personal_care", "travel"])
    } else if near("holi", 3, 0) {
        (1.3, &["groceries", "dining", "shopping"])
    } else if near("christmas", 2, 0) || (day.month() == 12 && day.day() == 31) || near("new_year", 0, 0) {
        (1.3, &["dining", "entertainment", "shopping"])
    } else if near("independence_day", 1, 1) || near("republic_day", 1, 1) {
        (1.15, &["shopping"])
    } else {
        (1.0, &[])
    }
}

struct Builder {
    user: String,
    seq: usize,
    out: Vec<Transaction>,
}

impl Builder {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        ts: DateTime<FixedOffset>,
        amount: f64,
        category: &str,
        merchant: &str,
        channel: Channel,
        direction: Direction,
        anomaly: bool,
    ) {
        self.seq += 1;
        self.out.push(Transaction {
            transaction_id: format!("TXN-{}-{:06}", self.user, self.seq),
            user_id: self.user.clone(),
            timestamp: ts,
            amount: (amount.max(1.0) * 100.0).round() / 100.0,
            currency: "INR".into(),
            category: category.to_string(),
            merchant: merchant.to_string(),
            channel,
            direction,
            is_anomaly: Some(anomaly),
        });
    }
}

/// Transactions of `users` users from `start` for `days` days, sorted by user then time.
pub fn generate(rng: &mut Rng, users: usize, start: NaiveDate, days: usize, g: &Gazetteer) -> Vec<Transaction> {
    let mut all = Vec::new();
    for index in 0..users {
        let mut r = rng.fork(index as u64);
        let user = make_user(&mut r, index, g);
        let mut b = Builder { user: user.id.clone(), seq: 0, out: Vec::new() };
        for offset in 0..days {
            let day = start + Duration::days(offset as i64);
            let last = last_day_of_month(day);
            // salary credit
            if day.day() == user.salary_day.min(last) {
                let ts = at(day, r.range(6, 11) as u32, r.range(0, 60) as u32, r.range(0, 60) as u32);
                let amount = (user.income * r.uniform(0.99, 1.01)).round();
                b.push(ts, amount, "salary", "Employer Payroll", Channel::NetBanking, Direction::Credit, false);
            }
            for rec in &user.recurring {
                if day.day() == rec.day.min(last) {
                    let ts = at(day, r.range(7, 12) as u32, r.range(0, 60) as u32, r.range(0, 60) as u32);
                    let amount = rec.amount * (1.0 + rec.jitter * r.normal()).max(0.3);
                    b.push(ts, amount, rec.category, &rec.merchant, rec.channel, Direction::Debit, false);
                }
            }
            // discretionary spending
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            let since_salary = (day.day() as i64 - user.salary_day.min(last) as i64).rem_euclid(last as i64);
            let (fest, boosted) = festival_factor(day);
            let rate = user.daily_rate
                * if weekend { 1.35 } else { 1.0 }
                * if since_salary < 7 {
                    1.25
                } else if since_salary > 22 {
                    0.8
                } else {
                    1.0
                }
                * fest;
            for _ in 0..r.poisson(rate) {
                let ci = r.weighted(&user.weights);
                let s = &DISCRETIONARY[ci];
                let cat = s.category;
                let boost = if boosted.contains(&cat) { fest } else { 1.0 };
                let amount = r.lognormal((s.median * user.scale * boost).ln(), s.log_sd);
                let hour = r.range(s.hours.0 as usize, s.hours.1 as usize) as u32;
                let ts = at(day, hour, r.range(0, 60) as u32, r.range(0, 60) as u32);
                let merchant = r.choose(&user.favourites[ci]).cloned().unwrap_or_default();
                let channel = if r.bernoulli(user.upi_share) {
                    Channel::Upi
                } else if r.bernoulli(0.85) {
                    Channel::Card
                } else if r.bernoulli(0.6) {
                    Channel::Wallet
                } else {
                    Channel::Cash
                };
                b.push(ts, amount, cat, &merchant, channel, Direction::Debit, false);
            }
            // injected anomalies: ~0.5 % of transactions overall
            if r.bernoulli(0.0028) {
                inject_anomaly(&mut r, &mut b, &user, day);
            }
        }
        b.out.sort_by(|a, c| a.timestamp.cmp(&c.timestamp).then_with(|| a.transaction_id.cmp(&c.transaction_id)));
        all.extend(b.out);
    }
    all
}

fn inject_anomaly(r: &mut Rng, b: &mut Builder, user: &User, day: NaiveDate) {
    match r.range(0, 4) {
        0 => {
            // amount spike in a usual category, at a usual merchant
            let ci = r.weighted(&user.weights);
            let Spend { category: cat, median, .. } = DISCRETIONARY[ci];
            let amount = median * user.scale * r.uniform(15.0, 60.0);
            let merchant = r.choose(&user.favourites[ci]).cloned().unwrap_or_default();
            let ts = at(day, r.range(10, 22) as u32, r.range(0, 60) as u32, r.range(0, 60) as u32);
            b.push(ts, amount, cat, &merchant, Channel::Card, Direction::Debit, true);
        }
        1 => {
            // a merchant abroad the user never used, by card
            let merchant = r.choose(FOREIGN_MERCHANTS).copied().unwrap_or("INTL*UNKNOWN");
            let amount = user.scale * r.uniform(8_000.0, 90_000.0);
            let ts = at(day, r.range(0, 24) as u32, r.range(0, 60) as u32, r.range(0, 60) as u32);
            b.push(ts, amount, "shopping", merchant, Channel::Card, Direction::Debit, true);
        }
        2 => {
            // a burst at 2-4 a.m.
            let start = at(day, r.range(2, 4) as u32, r.range(0, 40) as u32, 0);
            let merchant = *r.choose(&["Croma", "Amazon", "Flipkart", "Reliance Digital"]).unwrap_or(&"Amazon");
            for k in 0..r.range(3, 7) {
                let ts = start + Duration::seconds((k * 180 + r.range(0, 120)) as i64);
                let amount = user.scale * r.uniform(4_000.0, 25_000.0);
                b.push(ts, amount, "shopping", merchant, Channel::Card, Direction::Debit, true);
            }
        }
        _ => {
            // the same amount to the same merchant, repeated within minutes
            let ci = r.weighted(&user.weights);
            let Spend { category: cat, median, .. } = DISCRETIONARY[ci];
            let merchant = r.choose(&user.favourites[ci]).cloned().unwrap_or_default();
            let amount = (median * user.scale * r.uniform(1.5, 4.0)).round();
            let start = at(day, r.range(9, 22) as u32, r.range(0, 50) as u32, 0);
            for k in 0..r.range(4, 9) {
                let ts = start + Duration::seconds((k * 45 + r.range(0, 30)) as i64);
                b.push(ts, amount, cat, &merchant, Channel::Upi, Direction::Debit, true);
            }
        }
    }
}
