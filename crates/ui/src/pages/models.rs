//! Models: every registered version with its metric and aliases, the alias history (who
//! promoted what, forced or not), promote / roll back (admin), and "retrain now" with its
//! progress.

use super::{Notice, notice};
use crate::{Nav, Session, num, page, pill, urlencode, when};
use maud::{Markup, html};
use nivesh_api::ModelInfo;
use nivesh_store::registry::{AliasEvent, ModelVersion};

/// One model on the list.
pub struct ModelRow<'a> {
    pub name: &'a str,
    pub versions: &'a [ModelVersion],
    pub loaded: Option<&'a ModelInfo>,
}

/// A training job as the page shows it.
#[derive(Debug, Clone)]
pub struct JobView {
    pub id: String,
    pub state: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
    pub models: Vec<JobModel>,
}

#[derive(Debug, Clone)]
pub struct JobModel {
    pub model: String,
    pub state: String,
    pub seconds: Option<f64>,
    pub run_id: Option<String>,
    pub version: Option<u32>,
    pub alias: Option<String>,
    pub detail: Option<String>,
}

impl JobView {
    fn finished(&self) -> bool {
        matches!(self.state.as_str(), "succeeded" | "failed" | "skipped")
    }
}

fn state_class(s: &str) -> &'static str {
    match s {
        "succeeded" | "finished" => "ok",
        "queued" | "running" => "warn",
        _ => "bad",
    }
}

pub fn list(session: &Session, models: &[ModelRow], jobs: &[JobView], training: bool) -> Markup {
    page(
        Nav::Models,
        "Models",
        session,
        html! {
            div.scroll { table {
                thead { tr { th { "model" } th.num { "versions" } th { "champion" } th { "primary metric" } th { "serving" } } }
                tbody { @for m in models {
                    @let champion = m.versions.iter().find(|v| v.aliases.iter().any(|a| a == "champion"));
                    tr {
                        td { a href={"/ui/models/" (urlencode(m.name))} { (m.name) } }
                        td.num { (m.versions.len()) }
                        td { @if let Some(c) = champion { "v" (c.version) } @else { span.muted { "none" } } }
                        td { @if let Some(c) = champion { (c.metric_name) " " (num(Some(c.metric), 4)) } }
                        td { @if let Some(l) = m.loaded { "v" (l.version) " since " (when(&l.loaded_at)) } @else { span.muted { "not loaded" } } }
                    }
                } }
            } }
            @if session.admin && training {
                h2 { "Retrain" }
                form method="post" action="/ui/train" {
                    p.muted.small { "Trains every model on the configured data; each new version goes through the champion gate." }
                    button type="submit" data-confirm="Retrain all five models now?" { "Retrain all now" }
                }
            }
            @if !jobs.is_empty() {
                h2 { "Training jobs" }
                div.scroll { table {
                    thead { tr { th { "job" } th { "state" } th { "started" } th { "models" } } }
                    tbody { @for j in jobs { tr {
                        td.mono { a href={"/ui/train/" (urlencode(&j.id))} { (j.id) } }
                        td { (pill(&j.state, state_class(&j.state))) }
                        td.small { (when(&j.created_at)) }
                        td.small { @for (i, m) in j.models.iter().enumerate() { @if i > 0 { ", " } (m.model) " " (m.state) } }
                    } } }
                } }
            }
        },
    )
}

/// One model: versions, aliases, the history of alias changes, actions.
pub fn detail(
    session: &Session,
    name: &str,
    versions: &[ModelVersion],
    events: &[AliasEvent],
    loaded: Option<&ModelInfo>,
    training: bool,
    message: Option<&Notice>,
) -> Markup {
    let aliases: Vec<(&str, u32)> =
        versions.iter().flat_map(|v| v.aliases.iter().map(move |a| (a.as_str(), v.version))).collect();
    page(
        Nav::Models,
        &format!("Model {name}"),
        session,
        html! {
            (notice(message))
            p {
                @if let Some(l) = loaded { "Serving v" (l.version) " (" (l.alias) ") since " (when(&l.loaded_at)) ", digest " code { (l.digest.chars().take(12).collect::<String>()) } }
                @else { span.muted { "Not loaded by this server." } }
            }
            p { @for (a, v) in &aliases { span.pill.alias { (a) " → v" (v) } " " } }
            h2 { "Versions" }
            div.scroll { table #versions {
                thead { tr {
                    th.num { "version" } th { "created" } th { "metric" } th { "aliases" } th { "run" } th { "MLflow" }
                    @if session.admin { th { "promote" } }
                } }
                tbody { @for v in versions.iter().rev() { tr data-version=(v.version) {
                    td.num { "v" (v.version) }
                    td.small { (when(&v.created_at)) }
                    td { (v.metric_name) " " (num(Some(v.metric), 4)) (if v.higher_is_better { " ↑" } else { " ↓" }) }
                    td.aliases { @for a in &v.aliases { span.pill.alias { (a) } " " } }
                    td.mono.small { a href={"/ui/runs/" (urlencode(&v.run_id))} { (v.run_id) } }
                    td.small { (v.mlflow_sync.as_str()) @if let Some(n) = &v.mlflow_version { " (v" (n) ")" } }
                    @if session.admin { td {
                        @if !v.aliases.iter().any(|a| a == "champion") {
                            form.inline method="post" action={"/ui/models/" (urlencode(name)) "/promote"} {
                                input type="hidden" name="version" value=(v.version);
                                input type="hidden" name="alias" value="champion";
                                label.check.small { input type="checkbox" name="force" value="1"; "force" }
                                " "
                                button type="submit" aria-label={"Promote v" (v.version) " to champion"} { "Make champion" }
                            }
                        } @else { span.muted.small { "champion" } }
                    } }
                } } }
            } }
            @if session.admin {
                h2 { "Actions" }
                div.grid {
                    div.card {
                        h3 { "Roll back" }
                        p.small.muted { "Point champion back at the version it had before its latest change." }
                        form method="post" action={"/ui/models/" (urlencode(name)) "/rollback"} {
                            input type="hidden" name="alias" value="champion";
                            button.danger type="submit" data-confirm="Roll the champion back?" { "Roll back champion" }
                        }
                    }
                    @if training {
                        div.card {
                            h3 { "Retrain now" }
                            p.small.muted { "Train " (name) " on the configured data; the new version goes through the champion gate." }
                            form method="post" action="/ui/train" {
                                input type="hidden" name="model" value=(name);
                                button type="submit" { "Retrain " (name) }
                            }
                        }
                    }
                }
            }
            h2 { "Alias history" }
            @if events.is_empty() { p.muted { "No alias changes yet." } } @else {
                div.scroll { table #history {
                    thead { tr { th { "when" } th { "alias" } th { "version" } th { "was" } th { "what" } th { "by" } } }
                    tbody { @for e in events { tr {
                        td.small { (when(&e.at)) }
                        td { (e.alias) }
                        td { "v" (e.version) }
                        td { @if let Some(p) = e.previous { "v" (p) } @else { "–" } }
                        td { (e.reason) @if e.forced { " " (pill("forced", "warn")) } }
                        td.small { (e.actor.as_deref().unwrap_or("unknown")) }
                    } } }
                } }
            }
        },
    )
}

/// A training job's page; its body refreshes until the job ends.
pub fn job_page(session: &Session, job: &JobView) -> Markup {
    page(
        Nav::Models,
        &format!("Training job {}", job.id),
        session,
        html! {
            div data-refresh={"/ui/train/" (urlencode(&job.id))} aria-live="polite" { (job_fragment(job)) }
        },
    )
}

pub fn job_fragment(job: &JobView) -> Markup {
    let done = job.models.iter().filter(|m| !matches!(m.state.as_str(), "queued" | "running")).count();
    html! {
        p {
            (pill(&job.state, state_class(&job.state))) " "
            (done) " of " (job.models.len()) " models done · started " (when(&job.created_at))
            @if let Some(f) = &job.finished_at { " · finished " (when(f)) }
        }
        progress max=(job.models.len().max(1)) value=(done) aria-label="models done" {}
        @if job.finished() { span data-final="1" {} }
        @if let Some(e) = &job.error { p.notice.bad { (e) } }
        div.scroll { table {
            thead { tr { th { "model" } th { "state" } th.num { "seconds" } th { "version" } th { "alias" } th { "run" } th { "detail" } } }
            tbody { @for m in &job.models { tr {
                td { a href={"/ui/models/" (urlencode(&m.model))} { (m.model) } }
                td { (pill(&m.state, state_class(&m.state))) }
                td.num { (num(m.seconds, 1)) }
                td { @if let Some(v) = m.version { "v" (v) } }
                td { (m.alias.as_deref().unwrap_or("")) }
                td.mono.small { @if let Some(r) = &m.run_id { a href={"/ui/runs/" (urlencode(r))} { (r) } } }
                td.small { (m.detail.as_deref().unwrap_or("")) }
            } } }
        } }
    }
}
