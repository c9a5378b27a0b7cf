//! Feature values from events, as of a point in time. One code path for everything: the
//! offline point-in-time join (training sets), materialization to the online store, and tests.
//!
//! The rule, as Feast documents it: a value as of time `t` is computed from events strictly
//! before `t`, and a feature row is usable only within the view's TTL. An aggregate's row is
//! computed at `t` itself, from the events in each feature's window (all earlier events when it
//! has none); a state view's row is as old as its latest event, so it exists only if that event
//! is within the TTL of `t`.

use crate::definitions::{Agg, FeatureDef, View, ViewKind};
use chrono::Datelike;
use nivesh_core::{Direction, Transaction};
use nivesh_models::anomaly::UserState;
use std::collections::{HashMap, HashSet};

const DAY: i64 = 86_400;

/// One entity's events, sorted by time, with their unix timestamps alongside.
pub struct Timeline<'a> {
    events: &'a [Transaction],
    ts: Vec<i64>,
}

impl<'a> Timeline<'a> {
    /// `events` must be sorted by timestamp (the offline store returns them so).
    pub fn new(events: &'a [Transaction]) -> Self {
        Timeline { events, ts: events.iter().map(|e| e.timestamp.timestamp()).collect() }
    }

    /// Index of the first event at or after `t`.
    fn before(&self, t: i64) -> usize {
        self.ts.partition_point(|&x| x < t)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

fn matches(f: &FeatureDef, e: &Transaction) -> bool {
    let dir = match e.direction {
        Direction::Debit => "debit",
        Direction::Credit => "credit",
    };
    f.filter.direction.as_deref().is_none_or(|d| d == dir)
        && (f.filter.category.is_empty() || f.filter.category.contains(&e.category))
        && (f.filter.channel.is_empty() || f.filter.channel.iter().any(|c| c == e.channel.as_str()))
}

fn population_std(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut n, mut sum, mut sq) = (0.0, 0.0, 0.0);
    for x in xs {
        n += 1.0;
        sum += x;
        sq += x * x;
    }
    if n < 2.0 {
        return None;
    }
    let mean = sum / n;
    Some((sq / n - mean * mean).max(0.0).sqrt())
}

/// The values of an aggregate view's features as of `at` (unix seconds), in definition order.
pub fn aggregate(view: &View, timeline: &Timeline<'_>, at: i64) -> Vec<Option<f64>> {
    let end = timeline.before(at);
    let mut values: Vec<Option<f64>> = Vec::with_capacity(view.features.len());
    for f in &view.features {
        // without a window: the whole history (daily_std and monthly_mean require one)
        let window_days = f.window_days.unwrap_or(0);
        let start = if window_days == 0 { 0 } else { timeline.before(at - i64::from(window_days) * DAY) };
        let idx = (start..end).filter(|&i| matches(f, &timeline.events[i]));
        let amounts = || idx.clone().map(|i| timeline.events[i].amount);
        let v = match f.agg {
            Some(Agg::Sum) => Some(amounts().sum()),
            Some(Agg::Count) => Some(idx.clone().count() as f64),
            Some(Agg::Mean) => {
                let (n, s) = amounts().fold((0usize, 0.0), |(n, s), a| (n + 1, s + a));
                (n > 0).then(|| s / n as f64)
            }
            Some(Agg::Std) => population_std(amounts()),
            Some(Agg::Max) => amounts().reduce(f64::max),
            Some(Agg::Min) => amounts().reduce(f64::min),
            Some(Agg::Distinct) => {
                Some(idx.clone().map(|i| timeline.events[i].merchant.as_str()).collect::<HashSet<_>>().len() as f64)
            }
            Some(Agg::DailyStd) => {
                let days = window_days.max(1) as usize;
                let mut totals = vec![0.0; days];
                for i in idx.clone() {
                    let d = ((at - 1 - timeline.ts[i]) / DAY) as usize;
                    if let Some(slot) = totals.get_mut(d) {
                        *slot += timeline.events[i].amount;
                    }
                }
                population_std(totals.into_iter())
            }
            Some(Agg::MonthlyMean) => Some(amounts().sum::<f64>() / (f64::from(window_days) / 30.4375)),
            Some(Agg::ModeDayOfMonth) => {
                let mut counts = [0usize; 32];
                for i in idx.clone() {
                    counts[timeline.events[i].timestamp.day() as usize] += 1;
                }
                let (day, n) = counts.iter().enumerate().rev().max_by_key(|(_, n)| **n).unwrap_or((0, &0));
                (*n > 0).then_some(day as f64)
            }
            Some(Agg::DaysSinceLast) => idx.clone().next_back().map(|i| (at - timeline.ts[i]) as f64 / DAY as f64),
            Some(Agg::Ratio) => {
                let get = |name: &Option<String>| {
                    name.as_ref()
                        .and_then(|n| view.features.iter().position(|g| g.name == *n))
                        .and_then(|p| values.get(p).copied().flatten())
                };
                match (get(&f.numerator), get(&f.denominator)) {
                    (Some(a), Some(b)) if b != 0.0 => Some(a / b),
                    _ => None,
                }
            }
            None => None,
        };
        values.push(v.filter(|x| x.is_finite()));
    }
    values
}

/// The anomaly detector's state of an entity as of `at`: every event before `at` folded in;
/// `None` when the latest of them is older than the view's TTL (or there is none).
pub fn state(view: &View, timeline: &Timeline<'_>, at: i64) -> Option<UserState> {
    let end = timeline.before(at);
    let mut s = UserState::default();
    for e in &timeline.events[..end] {
        s.observe(e);
    }
    state_is_fresh(view, &s, at).then_some(s)
}

/// A state's row is as old as its latest event: usable at `at` only within the view's TTL.
pub fn state_is_fresh(view: &View, s: &UserState, at: i64) -> bool {
    s.last_seen().is_some_and(|last| view.fresh(last, at))
}

/// Values of any view as of `at`, with the state for state views.
pub fn values_at(view: &View, timeline: &Timeline<'_>, at: i64) -> (Vec<Option<f64>>, Option<UserState>) {
    match view.kind {
        ViewKind::Aggregate => (aggregate(view, timeline, at), None),
        ViewKind::State => match state(view, timeline, at) {
            Some(s) => (summary_values(view, &s, at), Some(s)),
            None => (vec![None; view.features.len()], None),
        },
    }
}

/// A state view's exposed statistics, in the view's feature order.
pub fn summary_values(view: &View, s: &UserState, at: i64) -> Vec<Option<f64>> {
    let all = s.summary(at);
    view.features
        .iter()
        .map(|f| {
            nivesh_models::anomaly::USER_STATE_SUMMARY
                .iter()
                .position(|n| *n == f.name)
                .and_then(|i| all.get(i).copied())
                .filter(|x| x.is_finite())
        })
        .collect()
}

/// Point-in-time join: for each `(entity, at)` row, the view's values as of `at` from
/// `events` (grouped by entity, each sorted by time). Rows of unknown entities get missing
/// values. State views sweep each entity's rows in time order, folding each event once.
pub fn point_in_time(
    view: &View,
    events: &HashMap<String, Vec<Transaction>>,
    rows: &[(String, i64)],
) -> Vec<Vec<Option<f64>>> {
    let width = view.features.len();
    let mut out = vec![vec![None; width]; rows.len()];
    let mut by_entity: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (e, _)) in rows.iter().enumerate() {
        by_entity.entry(e.as_str()).or_default().push(i);
    }
    for (entity, mut idx) in by_entity {
        let Some(evs) = events.get(entity) else { continue };
        let timeline = Timeline::new(evs);
        match view.kind {
            ViewKind::Aggregate => {
                for i in idx {
                    out[i] = aggregate(view, &timeline, rows[i].1);
                }
            }
            ViewKind::State => {
                idx.sort_by_key(|&i| rows[i].1);
                sweep_states(&timeline, idx.iter().map(|&i| rows[i].1), |k, s| {
                    let at = rows[idx[k]].1;
                    if state_is_fresh(view, s, at) {
                        out[idx[k]] = summary_values(view, s, at);
                    }
                });
            }
        }
    }
    out
}

/// Walk one entity's timeline once, calling `at_row(k, state)` for the k-th of `times`
/// (sorted ascending) with the state of every event strictly before it.
pub fn sweep_states(
    timeline: &Timeline<'_>,
    times: impl Iterator<Item = i64>,
    mut at_row: impl FnMut(usize, &UserState),
) {
    let mut s = UserState::default();
    let mut next = 0;
    for (k, t) in times.enumerate() {
        while next < timeline.len() && timeline.ts[next] < t {
            s.observe(&timeline.events[next]);
            next += 1;
        }
        at_row(k, &s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definitions::Definitions;
    use nivesh_core::Channel;

    pub(crate) fn txn(
        id: &str,
        user: &str,
        ts: &str,
        amount: f64,
        category: &str,
        direction: Direction,
    ) -> Transaction {
        Transaction {
            transaction_id: id.into(),
            user_id: user.into(),
            timestamp: chrono::DateTime::parse_from_rfc3339(ts).unwrap(),
            amount,
            currency: "INR".into(),
            category: category.into(),
            merchant: format!("M-{category}"),
            channel: Channel::Upi,
            direction,
            is_anomaly: None,
        }
    }

    fn t(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    fn view(name: &str) -> View {
        Definitions::builtin().unwrap().view(name).unwrap().clone()
    }

    fn get(view: &View, values: &[Option<f64>], name: &str) -> Option<f64> {
        values[view.features.iter().position(|f| f.name == name).unwrap()]
    }

    #[test]
    fn aggregates_on_a_small_history() {
        let d = Direction::Debit;
        let events = vec![
            txn("a", "U", "2025-01-01T10:00:00+05:30", 30000.0, "salary", Direction::Credit),
            txn("b", "U", "2025-01-05T10:00:00+05:30", 100.0, "groceries", d),
            txn("c", "U", "2025-01-20T10:00:00+05:30", 300.0, "groceries", d),
            txn("d", "U", "2025-01-25T10:00:00+05:30", 200.0, "dining", d),
            // at the moment of the query: not counted (strictly before)
            txn("e", "U", "2025-01-31T10:00:00+05:30", 999.0, "dining", d),
        ];
        let v = view("user_spending_profile");
        let at = t("2025-01-31T10:00:00+05:30");
        let x = aggregate(&v, &Timeline::new(&events), at);
        assert_eq!(get(&v, &x, "spend_30d"), Some(600.0));
        assert_eq!(get(&v, &x, "spend_7d"), Some(200.0));
        assert_eq!(get(&v, &x, "txn_count_30d"), Some(3.0));
        assert_eq!(get(&v, &x, "avg_txn_30d"), Some(200.0));
        assert_eq!(get(&v, &x, "max_txn_90d"), Some(300.0));
        assert_eq!(get(&v, &x, "spend_30d_groceries"), Some(400.0));
        assert_eq!(get(&v, &x, "spend_30d_dining"), Some(200.0));
        assert_eq!(get(&v, &x, "distinct_merchants_90d"), Some(2.0));
        assert_eq!(get(&v, &x, "salary_day"), Some(1.0));
        assert_eq!(get(&v, &x, "days_since_last_txn"), Some(6.0));
        let income = get(&v, &x, "income_estimate").unwrap();
        assert!((income - 30000.0 / (90.0 / 30.4375)).abs() < 1e-9);
        // 90 daily totals: three non-zero days
        let vol = get(&v, &x, "volatility_90d").unwrap();
        let mut days = vec![0.0; 90];
        days[5] = 200.0;
        days[10] = 300.0;
        days[25] = 100.0;
        assert!((vol - population_std(days.into_iter()).unwrap()).abs() < 1e-9);
        // a credit profile ratio
        let c = view("credit_profile");
        let y = aggregate(&c, &Timeline::new(&events), at);
        assert_eq!(get(&c, &y, "emi_to_income"), Some(0.0));
        let s = get(&c, &y, "spend_to_income").unwrap();
        assert!((s - 600.0 / 30000.0).abs() < 1e-12);
        // nothing in the windows: sums are 0, means missing
        let later = aggregate(&v, &Timeline::new(&events), at + 200 * DAY);
        assert_eq!(get(&v, &later, "spend_30d"), Some(0.0));
        assert_eq!(get(&v, &later, "avg_txn_30d"), None);
        // no window: the last event of the whole history (the one at `at` itself, now in the past)
        assert_eq!(get(&v, &later, "days_since_last_txn"), Some(200.0));
    }

    #[test]
    fn point_in_time_sees_only_earlier_events() {
        // events at t1 < t2 < t3; a row at t2 sees t1's event only
        let d = Direction::Debit;
        let events = vec![
            txn("1", "U", "2025-03-01T09:00:00+05:30", 100.0, "groceries", d),
            txn("2", "U", "2025-03-02T09:00:00+05:30", 200.0, "groceries", d),
            txn("3", "U", "2025-03-03T09:00:00+05:30", 400.0, "groceries", d),
        ];
        let map: HashMap<String, Vec<Transaction>> = [("U".to_string(), events.clone())].into();
        let t2 = t("2025-03-02T09:00:00+05:30");
        for name in ["user_spending_profile", "transaction_behaviour", "credit_profile"] {
            let v = view(name);
            let rows = vec![("U".to_string(), t2), ("nobody".to_string(), t2)];
            let got = point_in_time(&v, &map, &rows);
            // the same as computing from the first event alone
            let only_first: HashMap<String, Vec<Transaction>> = [("U".to_string(), events[..1].to_vec())].into();
            assert_eq!(got[0], point_in_time(&v, &only_first, &rows[..1])[0], "{name}");
            assert!(got[1].iter().all(Option::is_none), "{name}");
        }
        let v = view("user_spending_profile");
        let got = point_in_time(&v, &map, &[("U".to_string(), t2)]);
        assert_eq!(get(&v, &got[0], "spend_30d"), Some(100.0));
        let b = view("transaction_behaviour");
        let got = point_in_time(&b, &map, &[("U".to_string(), t2), ("U".to_string(), t("2025-03-04T00:00:00+05:30"))]);
        assert_eq!(get(&b, &got[0], "history_len"), Some(1.0));
        assert_eq!(get(&b, &got[1], "history_len"), Some(3.0));
        // beyond the TTL the state is missing, not stale
        let late = point_in_time(&b, &map, &[("U".to_string(), t2 + b.ttl_secs() + 2 * DAY)]);
        assert!(late[0].iter().all(Option::is_none));
    }
}
