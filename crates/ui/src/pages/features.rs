//! Features: the views with their features and TTL, the last materialization of each (per
//! shard when sharded) and how fresh it is, and one user's online values.

use crate::{Nav, Session, num, page, pill, when, word};
use maud::{Markup, html};
use nivesh_api::EntityFeatures;
use nivesh_features::definitions::View;
use nivesh_features::offline::Materialization;

/// A view and its materializations (`""`: an unsharded run; else `i/N`).
pub struct ViewState<'a> {
    pub view: &'a View,
    pub materializations: Vec<(String, Materialization)>,
}

/// What a lookup found.
pub enum Lookup<'a> {
    None,
    Found(&'a str, &'a EntityFeatures),
    Failed(&'a str, String),
}

fn age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} days", s / 86_400),
    }
}

/// `now`: unix seconds (freshness is the age of the oldest shard's `as_of`).
pub fn page_html(session: &Session, views: &[ViewState], lookup: Lookup, now: i64) -> Markup {
    page(
        Nav::Features,
        "Features",
        session,
        html! {
            h2 { "Look up a user's online features" }
            form.filters method="get" action="/ui/features" {
                label { "user id" input type="text" name="user" required placeholder="U0001" value=(match &lookup { Lookup::Found(u, _) | Lookup::Failed(u, _) => u, Lookup::None => "" }); }
                button type="submit" { "Look up" }
            }
            @match &lookup {
                Lookup::None => {},
                Lookup::Failed(_, e) => p.notice.bad role="alert" { (e) },
                Lookup::Found(user, f) => {
                    div #lookup.cols { @for (name, v) in &f.views { div.card {
                        h3 { (name) " " (pill(&v.status, if v.status == "ok" { "ok" } else { "warn" })) }
                        p.small.muted { "as of " (v.as_of.as_deref().map(when).unwrap_or("–".into())) @if let Some(a) = v.age_seconds { " · " (age(a)) " old" } }
                        @if v.values.is_empty() { p.muted { "No values for " (user) "." } } @else {
                            table { tbody { @for (k, x) in &v.values { tr { th.mono { (k) } td.num { (num(*x, 3)) } } } } }
                        }
                    } } }
                },
            }
            h2 { "Views" }
            @for s in views {
                @let v = s.view;
                @let oldest = s.materializations.iter().map(|(_, m)| m.as_of).min();
                @let fresh = oldest.is_some_and(|t| v.fresh(t, now));
                section.card {
                    h3 {
                        (v.name) " v" (v.version) " "
                        @match oldest { None => (pill("never materialized", "bad")), Some(_) if fresh => (pill("fresh", "ok")), Some(_) => (pill("stale", "bad")) }
                    }
                    p.small { (v.description) }
                    p.small.muted {
                        "entity " (v.entity) " · source " (v.source) " · " (word(&v.kind)) " view · TTL " (v.ttl_days) " days"
                        @if let Some(t) = oldest { " · values as of " (chrono::DateTime::from_timestamp(t, 0).map(|d| d.to_rfc3339()).map(|d| when(&d)).unwrap_or_default()) " (" (age(now - t)) " ago)" }
                    }
                    @if !s.materializations.is_empty() {
                        div.scroll { table {
                            thead { tr { th { "shard" } th { "materialized" } th.num { "entities" } th.num { "seconds" } } }
                            tbody { @for (shard, m) in &s.materializations { tr {
                                td { (if shard.is_empty() { "all" } else { shard.as_str() }) }
                                td.small { (when(&m.at)) }
                                td.num { (m.entities) }
                                td.num { (num(Some(m.seconds), 2)) }
                            } } }
                        } }
                    }
                    details {
                        summary { (v.features.len()) " features" }
                        div.scroll { table {
                            thead { tr { th { "feature" } th { "aggregation" } th.num { "window" } th { "filter" } } }
                            tbody { @for f in &v.features { tr {
                                td.mono { (f.name) }
                                td { (f.agg.as_ref().map(word).unwrap_or_else(|| "state".into())) }
                                td.num { @if let Some(w) = f.window_days { (w) " d" } @else { "all" } }
                                td.small {
                                    @if let Some(d) = &f.filter.direction { (d) " " }
                                    @if !f.filter.category.is_empty() { (f.filter.category.join(", ")) " " }
                                    @if !f.filter.channel.is_empty() { "via " (f.filter.channel.join(", ")) }
                                    @if let (Some(n), Some(d)) = (&f.numerator, &f.denominator) { (n) " / " (d) }
                                }
                            } } }
                        } }
                    }
                }
            }
        },
    )
}
