//! Self-contained HTML reports (no script, no CDN: styles inline, images as data URLs): a
//! drift check with overlaid reference/current histograms, and a validation run.

use crate::check::Checked;
use crate::drift::ColumnDrift;
use crate::sample::{Column, Values};
use crate::stats::{self, Key};
use crate::validate::ValidationReport;
use base64::Engine;
use std::fmt::Write;

/// Text fit for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}\
th{background:#f3f3f3}.pass{color:#176f2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}\
.muted{color:#666}section{margin:2em 0}img{max-width:900px;border:1px solid #ddd}code{background:#f6f6f6;padding:0 3px}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n<h1>{}</h1>\n{body}</body></html>\n",
        escape(title),
        escape(title)
    )
}

fn verdict(ok: bool, yes: &str, no: &str) -> String {
    if ok { format!("<span class=\"pass\">{yes}</span>") } else { format!("<span class=\"fail\">{no}</span>") }
}

fn png_img(png: &[u8], alt: &str) -> String {
    format!(
        "<img alt=\"{}\" src=\"data:image/png;base64,{}\">",
        escape(alt),
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// Overlaid reference/current histogram of a numerical column (Sturges bins over both).
fn numeric_plot(name: &str, reference: &[f64], current: &[f64]) -> Option<Vec<u8>> {
    let all: Vec<f64> = reference.iter().chain(current).copied().collect();
    let edges = stats::sturges_edges(&all);
    let (r, c) = (stats::histogram(reference, &edges), stats::histogram(current, &edges));
    let series = [
        nivesh_plot::Series { label: "reference", counts: &r, color: nivesh_plot::BLUE },
        nivesh_plot::Series { label: "current", counts: &c, color: nivesh_plot::RED },
    ];
    nivesh_plot::overlaid_histogram(&format!("{name}: reference and current"), name, &edges, &series, None).ok()
}

/// Category shares side by side.
fn category_table(reference: &Column, current: &Column) -> String {
    let (rk, _) = reference.present();
    let (ck, _) = current.present();
    let (rc, cc) = (stats::value_counts(&rk), stats::value_counts(&ck));
    let mut keys: Vec<&Key> = rc.keys().chain(cc.keys()).copied().collect();
    keys.sort();
    keys.dedup();
    let mut t = String::from("<table><tr><th>value</th><th>reference share</th><th>current share</th></tr>");
    for k in keys.iter().take(30) {
        let name = match k {
            Key::Cat(s) => s.clone(),
            Key::Num(_) => "(a number)".to_string(),
        };
        let share =
            |m: &std::collections::HashMap<&Key, f64>, n: usize| m.get(*k).copied().unwrap_or(0.0) / n.max(1) as f64;
        let _ = write!(
            t,
            "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
            escape(&name),
            share(&rc, rk.len()),
            share(&cc, ck.len())
        );
    }
    t.push_str("</table>");
    t
}

fn drift_row(d: &ColumnDrift) -> String {
    format!(
        "<tr><td><code>{}</code></td><td>{:?}</td><td>{:?}</td><td>{:.4}</td><td>{}</td><td>{}</td><td>{:.4}{}</td><td>{} / {}</td></tr>",
        escape(&d.feature),
        d.kind,
        d.test,
        d.score,
        d.threshold,
        verdict(!d.drift_detected, "no drift", "DRIFT"),
        d.psi,
        if d.psi_alert { " <span class=\"fail\">(alert)</span>" } else { "" },
        d.reference_rows,
        d.current_rows,
    )
}

/// The HTML report of drift checks (one section per model).
pub fn drift(checks: &[Checked]) -> String {
    let models: Vec<&str> = checks.iter().map(|c| c.report.model.as_str()).collect();
    let body: String = checks.iter().map(drift_body).collect::<Vec<_>>().join("<hr>\n");
    page(&format!("Drift report: {}", models.join(", ")), &body)
}

fn drift_body(checked: &Checked) -> String {
    let r = &checked.report;
    let mut b = format!("<h2>{}</h2>", escape(&r.model));
    let _ = write!(
        b,
        "<p>Model <code>{}</code>{}; current window {}; reference: {} ({} rows); current rows: {}.</p>\
         <p>Dataset drift: {} — {:.0} % of the features drifted (drift at ≥ {:.0} %).</p>",
        escape(&r.model),
        r.version.map(|v| format!(" v{v}")).unwrap_or_default(),
        escape(&r.window),
        escape(&r.reference),
        r.reference_rows,
        r.current_rows,
        verdict(!r.drift_detected, "not detected", "DETECTED"),
        r.drift_share * 100.0,
        r.drift_share_threshold * 100.0,
    );
    b.push_str(
        "<table><tr><th>column</th><th>kind</th><th>test</th><th>score</th><th>threshold</th><th>result</th><th>PSI</th><th>rows (ref / cur)</th></tr>",
    );
    for d in r.prediction.iter().chain(&r.features) {
        b.push_str(&drift_row(d));
    }
    b.push_str("</table><p class=\"muted\">Tests and thresholds as Evidently's defaults: p-values (KS, chi-squared, Z) drift below 0.05, distances (Wasserstein normed by the reference standard deviation, Jensen-Shannon) at 0.1 and above. The first row is the prediction.</p>");
    for d in r.prediction.iter().chain(&r.features) {
        let (Some(rc), Some(cc)) = (checked.reference.column(&d.feature), checked.current.column(&d.feature)) else {
            continue;
        };
        let _ = write!(b, "<section><h3><code>{}</code></h3>", escape(&d.feature));
        match (&rc.values, &cc.values) {
            (Values::Numbers(_), Values::Numbers(_)) => {
                let (_, rn) = rc.present();
                let (_, cn) = cc.present();
                if let Some(png) = numeric_plot(&d.feature, &rn.unwrap_or_default(), &cn.unwrap_or_default()) {
                    b.push_str(&png_img(&png, &d.feature));
                }
            }
            _ => b.push_str(&category_table(rc, cc)),
        }
        b.push_str("</section>");
    }
    b
}

/// The HTML report of a validation run: a table per expectation with the observed value, the
/// expected one, pass or fail, and example bad rows with their line numbers.
pub fn validation(report: &ValidationReport) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<p>File <code>{}</code>, suite <code>{}</code>, {} rows: {}.</p>",
        escape(&report.file),
        escape(&report.suite),
        report.rows,
        verdict(report.passed, "every expectation met", "FAILED")
    );
    // failures first, in the summary and the sections, each group in the suite's order
    let mut ordered: Vec<_> = report.expectations.iter().collect();
    ordered.sort_by_key(|e| e.passed);
    b.push_str("<table><tr><th>expectation</th><th>result</th><th>observed</th><th>expected</th></tr>");
    for e in &ordered {
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&e.name),
            verdict(e.passed, "pass", "FAIL"),
            escape(&e.observed),
            escape(&e.expected)
        );
    }
    b.push_str("</table>");
    for e in ordered {
        let _ = write!(
            b,
            "<section><h2>{} {}</h2><table><tr><th>expected</th><td>{}</td></tr><tr><th>observed</th><td>{}</td></tr>\
             <tr><th>result</th><td>{}</td></tr></table>",
            verdict(e.passed, "PASS", "FAIL"),
            escape(&e.name),
            escape(&e.expected),
            escape(&e.observed),
            verdict(e.passed, "pass", "fail"),
        );
        if !e.examples.is_empty() {
            b.push_str("<table><tr><th>where</th><th>value</th></tr>");
            for x in &e.examples {
                let _ = write!(b, "<tr><td>{}</td><td>{}</td></tr>", escape(&x.at), escape(&x.value));
            }
            b.push_str("</table>");
        }
        b.push_str("</section>");
    }
    page(&format!("Validation report: {}", report.file), &b)
}
