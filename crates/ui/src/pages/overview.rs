//! Overview: dependencies, champions with their last hour of traffic, the prediction cache,
//! drift alerts, the registry's latest runs. The body is one fragment that reloads itself.

use crate::{Nav, Session, chart, num, page, pct, pill, when};
use maud::{Markup, html};
use nivesh_api::monitoring::DriftReport;
use nivesh_api::{HealthResponse, Traffic};
use nivesh_store::RunSummary;

/// What the overview shows.
pub struct Overview<'a> {
    pub health: &'a HealthResponse,
    pub traffic: &'a [Traffic],
    /// Each model's last drift check (None: none yet), in model order; empty when monitoring is off.
    pub drift: &'a [(String, Option<DriftReport>)],
    pub runs_total: u64,
    pub recent_runs: &'a [RunSummary],
    /// Predictions in the log over the last hour (None: logging off).
    pub logged_last_hour: Option<u64>,
}

pub fn page_html(session: &Session, o: &Overview) -> Markup {
    page(
        Nav::Overview,
        "Overview",
        session,
        html! { div #live data-refresh="/ui/live" aria-live="polite" { (fragment(o)) } },
    )
}

fn status_class(s: &str) -> &'static str {
    match s {
        "ok" => "ok",
        "degraded" | "not_configured" => "warn",
        _ => "bad",
    }
}

/// The refreshing part.
pub fn fragment(o: &Overview) -> Markup {
    let h = o.health;
    let drifted: Vec<&str> =
        o.drift.iter().filter(|(_, r)| r.as_ref().is_some_and(|r| r.drift_detected)).map(|(m, _)| m.as_str()).collect();
    let (hits, misses) = o.traffic.iter().fold((0u64, 0u64), |(h, m), t| (h + t.cache_hits, m + t.cache_misses));
    let requests: u64 = o.traffic.iter().map(|t| t.requests).sum();
    html! {
        @if !drifted.is_empty() {
            p.notice.bad role="alert" {
                "Drift detected in the last check of: "
                @for (i, m) in drifted.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href={"/ui/drift/" (m)} { (m) }
                }
            }
        }
        div.grid {
            div.card {
                h3 { "Service" }
                p.big { (pill(&h.status, status_class(&h.status))) }
                p.small.muted {
                    (if h.ready { "ready" } else { "not ready" }) " · up " (num(Some(h.uptime_seconds / 60.0), 1)) " min"
                    @if let Some(rss) = h.rss_bytes { " · RSS " (num(Some(rss as f64 / 1048576.0), 1)) " MB" }
                }
                @if let Some(r) = &h.reason { p.small { (r) } }
            }
            div.card {
                h3 { "Last hour" }
                p.big { (requests) " predictions" }
                p.small.muted { "prediction cache hit rate " (pct((hits + misses > 0).then(|| hits as f64 / (hits + misses) as f64))) }
                @if let Some(n) = o.logged_last_hour { p.small.muted { (n) " logged for monitoring" } }
            }
            div.card {
                h3 { "Registry" }
                p.big { (o.runs_total) " runs" }
                p.small.muted { (h.models.len()) " champions loaded" }
            }
        }
        h2 { "Dependencies" }
        div.scroll { table {
            thead { tr { th { "check" } th { "status" } th { "required" } th.num { "latency" } th { "detail" } } }
            tbody { @for c in &h.checks { tr {
                td { (c.name) }
                td { (pill(&c.status, status_class(&c.status))) }
                td { (if c.required { "yes" } else { "no" }) }
                td.num { @if let Some(ms) = c.latency_ms { (num(Some(ms), 1)) " ms" } @else { "–" } }
                td.small { (c.detail.as_deref().unwrap_or("")) }
            } } }
        } }
        h2 { "Champions and traffic (last hour)" }
        div.scroll { table {
            thead { tr {
                th { "model" } th.num { "version" } th { "primary metric" } th { "loaded" }
                th.num { "req/s" } th.num { "errors" } th.num { "p99" } th.num { "cache hits" } th { "per minute" } th { "drift" }
            } }
            tbody { @for t in o.traffic {
                @let info = h.models.iter().find(|m| m.name == t.model);
                @let last = o.drift.iter().find(|(m, _)| *m == t.model).and_then(|(_, r)| r.as_ref());
                tr {
                    td { a href={"/ui/models/" (t.model)} { (t.model) } }
                    @if let Some(i) = info {
                        td.num { "v" (i.version) }
                        td { (i.metric_name) " " (num(Some(i.metric), 4)) }
                        td.small { (when(&i.loaded_at)) }
                    } @else {
                        td.num { "–" } td.muted colspan="2" { "not loaded" }
                    }
                    td.num { (num(Some(t.requests_per_second), 2)) }
                    td.num { (pct(t.error_rate)) @if t.rejected > 0 { br; span.small.muted { (t.rejected) " refused" } } }
                    td.num { @if let Some(p) = t.latency_p99_ms { (num(Some(p), 2)) " ms" } @else { "–" } }
                    td.num { (pct(t.cache_hit_rate)) }
                    td { (chart::sparkline(&format!("{} requests per minute", t.model), &t.minutes.iter().map(|m| m.requests as f64).collect::<Vec<_>>())) }
                    td { @match last {
                        Some(r) if r.drift_detected => (pill("drift", "bad")),
                        Some(_) => (pill("no drift", "ok")),
                        None => span.muted.small { "not checked" },
                    } }
                }
            } }
        } }
        h2 { "Latest runs" }
        @if o.recent_runs.is_empty() { p.muted { "No runs yet." } } @else {
            div.scroll { table {
                thead { tr { th { "run" } th { "model" } th { "status" } th { "started" } } }
                tbody { @for r in o.recent_runs { tr {
                    td.mono { a href={"/ui/runs/" (crate::urlencode(&r.id))} { (r.id) } }
                    td { (r.experiment) }
                    td { (pill(r.status.as_str(), match r.status.as_str() { "finished" => "ok", "running" => "warn", _ => "bad" })) }
                    td.small { (when(&r.started_at)) }
                } } }
            } }
        }
    }
}
