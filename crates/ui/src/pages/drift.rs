//! Drift and performance: per model the latest check (test, score, threshold per feature with
//! a reference-vs-current histogram), the history of checks as a chart, and the live metric
//! from feedback.

use crate::{Nav, Session, chart, num, page, pct, pill, urlencode, when, word};
use maud::{Markup, html};
use nivesh_api::monitoring::{ColumnDrift, DriftReport, Performance};

/// The list: each model's last check (None: none yet). `monitoring`: whether the server logs
/// predictions at all.
pub fn list(session: &Session, models: &[(String, Option<DriftReport>)], monitoring: bool) -> Markup {
    page(
        Nav::Drift,
        "Drift and performance",
        session,
        html! {
            @if !monitoring {
                p.notice { "Monitoring is off on this server (no prediction log): no drift checks or live metrics. See README, “Monitoring”." }
            }
            div.scroll { table #drift {
                thead { tr { th { "model" } th { "last check" } th { "result" } th.num { "drifted share" } th { "window" } th.num { "rows" } } }
                tbody { @for (m, r) in models { tr {
                    td { a href={"/ui/drift/" (urlencode(m))} { (m) } }
                    @if let Some(r) = r {
                        td.small { (when(&r.checked_at)) }
                        td { @if r.drift_detected { (pill("drift detected", "bad")) } @else { (pill("no drift", "ok")) } }
                        td.num { (pct(Some(r.drift_share))) " of " (r.features.len()) }
                        td.small { (r.window) }
                        td.num { (r.current_rows) }
                    } @else {
                        td.muted colspan="5" { "No check yet." }
                    }
                } } }
            } }
        },
    )
}

fn column_row(c: &ColumnDrift) -> Markup {
    html! {
        tr {
            td { (c.feature) }
            td.small { (word(&c.kind)) }
            td.small { (word(&c.test)) }
            td.num { (num(Some(c.score), 4)) }
            td.num { (num(Some(c.threshold), 3)) }
            td { @if c.drift_detected { (pill("drift", "bad")) } @else { (pill("ok", "ok")) } }
            td.num { (num(Some(c.psi), 3)) @if c.psi_alert { " " (pill("PSI", "warn")) } }
        }
    }
}

fn histogram(c: &ColumnDrift) -> Markup {
    let bins: Vec<(String, f64, f64)> = c.bins.iter().map(|b| (b.label.clone(), b.reference, b.current)).collect();
    html! {
        details {
            summary { (c.feature) ": " (word(&c.test)) " " (num(Some(c.score), 4)) @if c.drift_detected { " — drifted" } }
            @if bins.is_empty() { p.muted.small { "This check kept no bins (checks before this version)." } }
            @else { (chart::histogram_pair(&format!("{}: reference vs current", c.feature), &bins)) }
        }
    }
}

/// One model: `history` newest first.
pub fn detail(
    session: &Session,
    model: &str,
    history: &[DriftReport],
    performance: Option<&Performance>,
    monitoring: bool,
) -> Markup {
    let last = history.first();
    let oldest_first: Vec<&DriftReport> = history.iter().rev().collect();
    page(
        Nav::Drift,
        &format!("Drift: {model}"),
        session,
        html! {
            @if !monitoring { p.notice { "Monitoring is off on this server: no data yet." } }
            h2 { "Latest check" }
            @match last {
                None => p.muted #no-check { "No data yet: no drift check of " (model) " has run (POST /monitoring/drift/" (model) "/check, or `nivesh-ml drift check`)." },
                Some(r) => {
                    p {
                        @if r.drift_detected { (pill("drift detected", "bad")) } @else { (pill("no drift", "ok")) }
                        " " (pct(Some(r.drift_share))) " of the features drifted (threshold " (pct(Some(r.drift_share_threshold))) ") · checked "
                        (when(&r.checked_at)) " · v" (r.version.map(|v| v.to_string()).unwrap_or("?".into()))
                        " · reference " (r.reference) " (" (r.reference_rows) " rows) vs " (r.window) " (" (r.current_rows) " rows)"
                    }
                    div.scroll { table #columns {
                        thead { tr { th { "feature" } th { "kind" } th { "test" } th.num { "score" } th.num { "threshold" } th { "result" } th.num { "PSI" } } }
                        tbody {
                            @for c in &r.features { (column_row(c)) }
                            @if let Some(p) = &r.prediction { (column_row(p)) }
                        }
                    } }
                    h3 { "Reference vs current" }
                    @for c in r.features.iter().chain(r.prediction.as_ref()) { (histogram(c)) }
                }
            }
            h2 { "History of checks" }
            @if oldest_first.len() < 2 { p.muted { "Fewer than two checks: no history to draw yet." } } @else {
                (chart::lines(
                    "share of drifted features per check",
                    &oldest_first.iter().map(|r| when(&r.checked_at)).collect::<Vec<_>>(),
                    &[("drifted share".to_string(), oldest_first.iter().map(|r| Some(r.drift_share)).collect())],
                    oldest_first.last().map(|r| r.drift_share_threshold),
                ))
                p.small.muted { "Dashed: the share above which the model counts as drifted." }
            }
            h2 { "Live performance (from feedback)" }
            @match performance {
                Some(p) if p.windows.iter().any(|w| w.n > 0) => {
                    (chart::lines(
                        &format!("{} per window", p.metric),
                        &p.windows.iter().map(|w| w.from.chars().take(10).collect::<String>()).collect::<Vec<_>>(),
                        &[(p.metric.clone(), p.windows.iter().map(|w| w.value).collect())],
                        p.training,
                    ))
                    p.small.muted { "Dashed: the served version's " (p.metric) " on its evaluation data (" (num(p.training, 4)) ")." }
                    div.scroll { table #performance {
                        thead { tr { th { "from" } th { "to" } th.num { "outcomes" } th.num { (p.metric) } } }
                        tbody { @for w in &p.windows { tr { td.small { (when(&w.from)) } td.small { (when(&w.to)) } td.num { (w.n) } td.num { (num(w.value, 4)) } } } }
                    } }
                },
                _ => p.muted #no-feedback { "No data yet: no outcomes have been fed back for " (model) "'s logged predictions (POST /feedback)." },
            }
        },
    )
}
