//! Runs: a filtered list, one run (params, metrics with their steps, tags, evaluation plots,
//! artifacts) and two runs side by side.

use super::opt;
use crate::{Nav, Session, chart, num, page, pill, urlencode, when};
use maud::{Markup, html};
use nivesh_store::registry::{RunRecord, RunSummary};
use std::collections::BTreeMap;

/// The list's filters, as the form sends them back.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub model: Option<String>,
    pub status: Option<String>,
    /// YYYY-MM-DD
    pub since: Option<String>,
    /// YYYY-MM-DD
    pub until: Option<String>,
}

fn status_class(s: &str) -> &'static str {
    match s {
        "finished" => "ok",
        "running" => "warn",
        _ => "bad",
    }
}

pub fn list(session: &Session, q: &RunQuery, models: &[String], runs: &[RunSummary], limit: usize) -> Markup {
    page(
        Nav::Runs,
        "Runs",
        session,
        html! {
            form.filters method="get" action="/ui/runs" aria-label="Filter runs" {
                label { "model" select name="model" {
                    option value="" { "any" }
                    @for m in models { option value=(m) selected[q.model.as_deref() == Some(m.as_str())] { (m) } }
                } }
                label { "status" select name="status" {
                    option value="" { "any" }
                    @for s in ["finished", "running", "failed"] { option value=(s) selected[q.status.as_deref() == Some(s)] { (s) } }
                } }
                label { "from" input type="date" name="since" value=(opt(&q.since)); }
                label { "to" input type="date" name="until" value=(opt(&q.until)); }
                button type="submit" { "Filter" }
            }
            form method="get" action="/ui/compare" {
                p.small.muted { (runs.len()) " runs" @if runs.len() == limit { " (the newest " (limit) ")" } ". Tick two to compare them." }
                div.scroll { table #runs {
                    thead { tr { th { span.skip { "compare" } } th { "run" } th { "model" } th { "status" } th { "started" } th.num { "seconds" } th { "commit" } th.num { "rows" } } }
                    tbody { @for r in runs { tr {
                        td { input type="checkbox" name="run" value=(r.id) aria-label={"compare " (r.id)}; }
                        td.mono { a href={"/ui/runs/" (urlencode(&r.id))} { (r.id) } }
                        td { (r.experiment) }
                        td { (pill(r.status.as_str(), status_class(r.status.as_str()))) }
                        td.small { (when(&r.started_at)) }
                        td.num { (num(duration(&r.started_at, r.ended_at.as_deref()), 1)) }
                        td.mono.small { (r.git_commit.as_deref().map(|c| c.chars().take(10).collect::<String>()).unwrap_or_default()) }
                        td.num { @if let Some(n) = r.dataset_rows { (n) } }
                    } } }
                } }
                @if runs.len() >= 2 { p { button type="submit" { "Compare the ticked runs" } } }
            }
        },
    )
}

fn duration(start: &str, end: Option<&str>) -> Option<f64> {
    let s = chrono::DateTime::parse_from_rfc3339(start).ok()?;
    let e = chrono::DateTime::parse_from_rfc3339(end?).ok()?;
    Some((e - s).num_milliseconds() as f64 / 1000.0)
}

/// `{"a": {"b": 1}}` as `[("a.b", "1")]`.
fn flatten(v: &serde_json::Value) -> Vec<(String, String)> {
    fn go(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    go(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, x, out);
                }
            }
            serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    go("", v, &mut out);
    out
}

/// Metrics by key: (step, value) in step order.
fn by_key(run: &RunRecord) -> BTreeMap<&str, Vec<(i64, f64)>> {
    let mut m: BTreeMap<&str, Vec<(i64, f64)>> = BTreeMap::new();
    for (k, step, v) in &run.metrics {
        m.entry(k.as_str()).or_default().push((*step, *v));
    }
    m
}

fn artifact_url(run: &str, name: &str) -> String {
    format!("/ui/runs/{}/artifact?name={}", urlencode(run), urlencode(name))
}

fn plots(run: &RunRecord) -> Vec<&str> {
    run.artifacts.iter().map(|(n, _)| n.as_str()).filter(|n| n.starts_with("plots/") && n.ends_with(".png")).collect()
}

/// One run. `versions`: the model versions registered from it.
pub fn detail(session: &Session, run: &RunRecord, versions: &[(String, u32)]) -> Markup {
    let metrics = by_key(run);
    page(
        Nav::Runs,
        &format!("Run {}", run.id),
        session,
        html! {
            p {
                (pill(run.status.as_str(), status_class(run.status.as_str())))
                " " (run.experiment) " · started " (when(&run.started_at))
                @if let Some(e) = &run.ended_at { " · " (num(duration(&run.started_at, Some(e)), 1)) " s" }
                @for (m, v) in versions { " · registered as " a href={"/ui/models/" (urlencode(m))} { (m) " v" (v) } }
            }
            div.cols {
                div {
                    h2 { "Tags" }
                    table #tags { tbody {
                        tr { th { "git commit" } td.mono { (run.git_commit.as_deref().unwrap_or("–")) } }
                        tr { th { "dataset hash" } td.mono { (run.dataset_hash.as_deref().unwrap_or("–")) } }
                        tr { th { "dataset rows" } td { (run.dataset_rows.map(|n| n.to_string()).unwrap_or("–".into())) } }
                        tr { th { "MLflow" } td { (run.mlflow_sync.as_str()) @if let Some(id) = &run.mlflow_run_id { " " code { (id) } } } }
                        @for (k, v) in flatten(&run.tags) { tr { th { (k) } td { (v) } } }
                    } }
                    h2 { "Parameters" }
                    @let params = flatten(&run.params);
                    @if params.is_empty() { p.muted { "None recorded." } } @else {
                        div.scroll { table #params { tbody { @for (k, v) in params { tr { th.mono { (k) } td.mono { (v) } } } } } }
                    }
                }
                div {
                    h2 { "Metrics" }
                    div.scroll { table #metrics {
                        thead { tr { th { "metric" } th.num { "value" } th.num { "steps" } } }
                        tbody { @for (k, steps) in &metrics { tr {
                            td { (k) }
                            td.num { (num(steps.last().map(|s| s.1), 4)) }
                            td.num { (steps.len()) }
                        } } }
                    } }
                    @for (k, steps) in metrics.iter().filter(|(_, s)| s.len() > 1) {
                        h3 { (k) " by step" }
                        (chart::lines(&format!("{k} by step"), &steps.iter().map(|s| s.0.to_string()).collect::<Vec<_>>(),
                            &[((*k).to_string(), steps.iter().map(|s| Some(s.1)).collect())], None))
                    }
                }
            }
            h2 { "Evaluation plots" }
            @let p = plots(run);
            @if p.is_empty() { p.muted { "This run has no plots (NER and cross-validated runs have none)." } } @else {
                div.cols { @for name in p {
                    figure {
                        img.plot src=(artifact_url(&run.id, name)) alt={ (name.trim_start_matches("plots/").trim_end_matches(".png").replace('_', " ")) } loading="lazy";
                        figcaption.small.muted { (name) }
                    }
                } }
            }
            h2 { "Artifacts" }
            @if run.artifacts.is_empty() { p.muted { "None." } } @else {
                div.scroll { table #artifacts {
                    thead { tr { th { "name" } th { "sha256" } } }
                    tbody { @for (name, digest) in &run.artifacts { tr {
                        td { a href=(artifact_url(&run.id, name)) download[!name.ends_with(".png")] { (name) } }
                        td.mono.small { (digest.0.chars().take(16).collect::<String>()) "…" }
                    } } }
                } }
            }
        },
    )
}

/// Two runs side by side: tags, parameters and metrics (differences marked), plots.
pub fn compare(session: &Session, a: &RunRecord, b: &RunRecord) -> Markup {
    let rows = |x: Vec<(String, String)>, y: Vec<(String, String)>| {
        let mut keys: Vec<String> = x.iter().chain(&y).map(|(k, _)| k.clone()).collect();
        keys.sort();
        keys.dedup();
        let get = |v: &[(String, String)], k: &str| v.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());
        keys.into_iter().map(|k| (get(&x, &k), get(&y, &k), k)).collect::<Vec<_>>()
    };
    let last = |r: &RunRecord| {
        by_key(r)
            .into_iter()
            .map(|(k, s)| (k.to_string(), s.last().map(|s| num(Some(s.1), 4)).unwrap_or_default()))
            .collect::<Vec<_>>()
    };
    let tags = |r: &RunRecord| {
        let mut t = vec![
            ("git commit".to_string(), r.git_commit.clone().unwrap_or_default()),
            ("dataset hash".to_string(), r.dataset_hash.clone().unwrap_or_default()),
            ("dataset rows".to_string(), r.dataset_rows.map(|n| n.to_string()).unwrap_or_default()),
            ("status".to_string(), r.status.as_str().to_string()),
        ];
        t.extend(flatten(&r.tags));
        t
    };
    let section = |title: &str, id: &str, rows: Vec<(Option<String>, Option<String>, String)>| {
        html! {
            h2 { (title) }
            div.scroll { table id=(id) {
                thead { tr { th { "" } th { (a.id) } th { (b.id) } } }
                tbody { @for (x, y, k) in rows { tr class=(if x != y { "diff" } else { "" }) {
                    th.mono { (k) } td.mono { (x.unwrap_or_default()) } td.mono { (y.unwrap_or_default()) }
                } } }
            } }
        }
    };
    page(
        Nav::Runs,
        "Compare runs",
        session,
        html! {
            p.small.muted { "Rows that differ are highlighted. " a href={"/ui/runs/" (urlencode(&a.id))} { (a.id) } " · " a href={"/ui/runs/" (urlencode(&b.id))} { (b.id) } }
            (section("Metrics", "metrics", rows(last(a), last(b))))
            (section("Parameters", "params", rows(flatten(&a.params), flatten(&b.params))))
            (section("Tags", "tags", rows(tags(a), tags(b))))
            h2 { "Plots" }
            div.cols {
                @for r in [a, b] { div {
                    h3 { (r.id) }
                    @for name in plots(r) { img.plot src=(artifact_url(&r.id, name)) alt=(name) loading="lazy"; }
                } }
            }
        },
    )
}
