//! Inline SVG charts: horizontal bars, reference-vs-current histograms, lines over steps or
//! time, a forecast fan and a contribution waterfall. Each is drawn in a fixed `viewBox` and
//! scales with the page; labels are text (escaped) and every chart has a `<title>` and an
//! `aria-label` for screen readers. Non-finite values are drawn as zero and never reach the SVG
//! as `NaN`.

use crate::num;
use maud::{Markup, html};

const W: f64 = 640.0;

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

fn f(v: f64) -> String {
    format!("{:.1}", finite(v))
}

fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Horizontal bars, one per `(label, value)`, scaled to `max` (or the largest value), with the
/// value written by `fmt`.
pub fn bars(title: &str, items: &[(String, f64)], max: Option<f64>, fmt: &dyn Fn(f64) -> String) -> Markup {
    let top = max.unwrap_or_else(|| items.iter().map(|(_, v)| finite(*v)).fold(0.0, f64::max)).max(1e-12);
    let row = 26.0;
    let h = row * items.len().max(1) as f64 + 6.0;
    let (lx, bw) = (170.0, W - 170.0 - 80.0);
    html! {
        svg.chart viewBox={"0 0 " (W) " " (f(h))} role="img" aria-label=(title) {
            title { (title) }
            @for (i, (label, v)) in items.iter().enumerate() {
                @let y = 4.0 + row * i as f64;
                text x=(f(lx - 8.0)) y=(f(y + 15.0)) text-anchor="end" { (short(label, 26)) }
                rect.cur x=(f(lx)) y=(f(y + 3.0)) width=(f((finite(*v) / top).clamp(0.0, 1.0) * bw)) height="16" rx="2" {}
                text x=(f(lx + (finite(*v) / top).clamp(0.0, 1.0) * bw + 6.0)) y=(f(y + 15.0)) { (fmt(*v)) }
            }
        }
    }
}

/// Reference and current shares side by side per bin (`(label, reference, current)`).
pub fn histogram_pair(title: &str, bins: &[(String, f64, f64)]) -> Markup {
    let h = 190.0;
    let (left, bottom, top) = (40.0, 150.0, 10.0);
    let n = bins.len().max(1) as f64;
    let slot = (W - left - 10.0) / n;
    let max = bins.iter().map(|(_, r, c)| finite(*r).max(finite(*c))).fold(0.0, f64::max).max(1e-12);
    let y = |v: f64| bottom - (finite(v) / max) * (bottom - top);
    let every = (bins.len() / 5).max(1);
    html! {
        div {
            div.legend { span { span.sw.ref {} "reference" } span { span.sw.cur {} "current" } }
            svg.chart viewBox={"0 0 " (W) " " (h)} role="img" aria-label=(title) {
                title { (title) }
                line.axis x1=(left) y1=(bottom) x2=(W - 10.0) y2=(bottom) stroke-width="1" {}
                text x="4" y=(f(top + 8.0)) { (crate::pct(Some(max))) }
                text x="4" y=(f(bottom)) { "0" }
                @for (i, (label, r, c)) in bins.iter().enumerate() {
                    @let x = left + slot * i as f64;
                    @let bw = (slot * 0.42).max(1.0);
                    rect.ref x=(f(x + slot * 0.06)) y=(f(y(*r))) width=(f(bw)) height=(f(bottom - y(*r))) {
                        title { (label) ": reference " (crate::pct(Some(*r))) }
                    }
                    rect.cur x=(f(x + slot * 0.06 + bw)) y=(f(y(*c))) width=(f(bw)) height=(f(bottom - y(*c))) {
                        title { (label) ": current " (crate::pct(Some(*c))) }
                    }
                    @if i % every == 0 {
                        text x=(f(x + slot / 2.0)) y=(f(bottom + 14.0)) text-anchor="middle" { (short(label, 14)) }
                    }
                }
            }
        }
    }
}

/// Lines over a shared x axis: `labels` name the x positions; each series is `(name, values)`
/// with `None` for a gap; an optional horizontal `reference` line (e.g. the training metric).
pub fn lines(title: &str, labels: &[String], series: &[(String, Vec<Option<f64>>)], reference: Option<f64>) -> Markup {
    let h = 200.0;
    let (left, right, bottom, top) = (56.0, W - 12.0, 160.0, 12.0);
    let values =
        series.iter().flat_map(|(_, v)| v.iter().flatten().copied()).chain(reference).filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
    let (lo, hi) =
        if lo.is_finite() { if hi - lo < 1e-12 { (lo - 0.5, hi + 0.5) } else { (lo, hi) } } else { (0.0, 1.0) };
    let n = labels.len().max(2) as f64;
    let x = |i: usize| left + (right - left) * i as f64 / (n - 1.0);
    let y = |v: f64| bottom - (v - lo) / (hi - lo) * (bottom - top);
    let every = (labels.len() / 6).max(1);
    html! {
        svg.chart viewBox={"0 0 " (W) " " (h)} role="img" aria-label=(title) {
            title { (title) }
            line.axis x1=(left) y1=(bottom) x2=(right) y2=(bottom) stroke-width="1" {}
            text x="4" y=(f(top + 8.0)) { (num(Some(hi), 4)) }
            text x="4" y=(f(bottom)) { (num(Some(lo), 4)) }
            @if let Some(r) = reference.filter(|r| r.is_finite()) {
                line.line2 x1=(left) y1=(f(y(r))) x2=(right) y2=(f(y(r))) {}
            }
            @for (name, vals) in series {
                @let pts: Vec<String> = vals.iter().enumerate().filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| format!("{},{}", f(x(i)), f(y(v))))).collect();
                polyline.line points=(pts.join(" ")) { title { (name) } }
                @for (i, v) in vals.iter().enumerate() {
                    @if let Some(v) = v.filter(|v| v.is_finite()) {
                        circle.dot cx=(f(x(i))) cy=(f(y(v))) r="3" { title { (name) " " (labels.get(i).map(String::as_str).unwrap_or("")) ": " (num(Some(v), 4)) } }
                    }
                }
            }
            @for (i, l) in labels.iter().enumerate() {
                @if i % every == 0 || i + 1 == labels.len() {
                    text x=(f(x(i))) y=(f(bottom + 16.0)) text-anchor="middle" { (short(l, 16)) }
                }
            }
        }
    }
}

/// A forecast fan: per month `(label, predicted, lower, upper)`, the band between the bounds and
/// the predicted line.
pub fn fan(title: &str, months: &[(String, f64, f64, f64)]) -> Markup {
    let h = 210.0;
    let (left, right, bottom, top) = (70.0, W - 12.0, 170.0, 12.0);
    let hi = months.iter().map(|m| finite(m.3).max(finite(m.1))).fold(0.0, f64::max).max(1.0);
    let n = months.len().max(2) as f64;
    let x = |i: usize| left + (right - left) * i as f64 / (n - 1.0);
    let y = |v: f64| bottom - (finite(v).max(0.0) / hi) * (bottom - top);
    let upper: Vec<String> = months.iter().enumerate().map(|(i, m)| format!("{},{}", f(x(i)), f(y(m.3)))).collect();
    let lower: Vec<String> =
        months.iter().enumerate().rev().map(|(i, m)| format!("{},{}", f(x(i)), f(y(m.2)))).collect();
    let mid: Vec<String> = months.iter().enumerate().map(|(i, m)| format!("{},{}", f(x(i)), f(y(m.1)))).collect();
    html! {
        svg.chart viewBox={"0 0 " (W) " " (h)} role="img" aria-label=(title) {
            title { (title) }
            line.axis x1=(left) y1=(bottom) x2=(right) y2=(bottom) stroke-width="1" {}
            text x="4" y=(f(top + 8.0)) { (crate::inr(hi)) }
            text x="4" y=(f(bottom)) { "₹0" }
            polygon.band points=({ let mut p = upper.clone(); p.extend(lower); p.join(" ") }) {}
            polyline.line points=(mid.join(" ")) {}
            @for (i, m) in months.iter().enumerate() {
                circle.dot cx=(f(x(i))) cy=(f(y(m.1))) r="3" { title { (m.0) ": " (crate::inr(m.1)) " (" (crate::inr(m.2)) " – " (crate::inr(m.3)) ")" } }
                text x=(f(x(i))) y=(f(bottom + 16.0)) text-anchor="middle" { (m.0) }
            }
        }
    }
}

/// A waterfall of contributions (`(label, value)`), each bar starting where the last ended,
/// red for increases and green for decreases, with the running total at the end.
pub fn waterfall(title: &str, items: &[(String, f64)], total_label: &str) -> Markup {
    let row = 26.0;
    let h = row * (items.len() + 1) as f64 + 8.0;
    let (lx, rx) = (190.0, W - 70.0);
    let mut run = 0.0f64;
    let mut spans = Vec::with_capacity(items.len());
    for (_, v) in items {
        let start = run;
        run += finite(*v);
        spans.push((start, run));
    }
    let (lo, hi) = spans.iter().fold((0.0f64, 0.0f64), |(l, h), (a, b)| (l.min(a.min(*b)), h.max(a.max(*b))));
    let span = (hi - lo).max(1e-9);
    let x = |v: f64| lx + (v - lo) / span * (rx - lx);
    html! {
        svg.chart viewBox={"0 0 " (W) " " (f(h))} role="img" aria-label=(title) {
            title { (title) }
            line.axis x1=(f(x(0.0))) y1="0" x2=(f(x(0.0))) y2=(f(h)) stroke-width="1" {}
            @for (i, ((label, v), (a, b))) in items.iter().zip(&spans).enumerate() {
                @let y = 4.0 + row * i as f64;
                text x=(f(lx - 8.0)) y=(f(y + 15.0)) text-anchor="end" { (short(label, 28)) }
                rect class=(if *v >= 0.0 { "up" } else { "down" }) x=(f(x(a.min(*b)))) y=(f(y + 3.0))
                    width=(f((x(a.max(*b)) - x(a.min(*b))).max(1.0))) height="16" rx="2" {}
                text x=(f(x(a.max(*b)) + 6.0)) y=(f(y + 15.0)) { (if *v >= 0.0 { "+" } else { "" }) (num(Some(*v), 3)) }
            }
            @let y = 4.0 + row * items.len() as f64;
            text x=(f(lx - 8.0)) y=(f(y + 15.0)) text-anchor="end" { (total_label) }
            text x=(f(x(run))) y=(f(y + 15.0)) text-anchor="middle" { (num(Some(run), 3)) }
        }
    }
}

/// A small line of recent values (no axes), e.g. requests per minute.
pub fn sparkline(title: &str, values: &[f64]) -> Markup {
    let max = values.iter().copied().map(finite).fold(0.0, f64::max).max(1e-12);
    let n = values.len().max(2) as f64;
    let pts: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{},{}", f(120.0 * i as f64 / (n - 1.0)), f(26.0 - finite(*v) / max * 24.0)))
        .collect();
    html! {
        svg.spark viewBox="0 0 120 28" role="img" aria-label=(title) {
            title { (title) }
            @if values.len() == 1 { circle cx="60" cy=(f(26.0 - finite(values[0]) / max * 24.0)) r="2.5" {} }
            @else { polyline points=(pts.join(" ")) {} }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_never_draw_nan() {
        let evil = "<script>alert(1)</script>".to_string();
        let out = [
            bars("t", &[(evil.clone(), f64::NAN), ("b".into(), 2.0)], None, &|v| num(Some(v), 2)),
            histogram_pair("t", &[(evil.clone(), 0.5, f64::INFINITY)]),
            lines("t", std::slice::from_ref(&evil), &[(evil.clone(), vec![Some(f64::NAN), None])], Some(f64::NAN)),
            fan("t", &[(evil.clone(), 1.0, f64::NAN, 2.0)]),
            waterfall("t", &[(evil.clone(), 0.4), ("x".into(), -0.1)], &evil),
            sparkline(&evil, &[1.0, f64::NAN]),
        ];
        for m in out {
            let s = m.into_string();
            assert!(!s.contains("<script>") && !s.contains("NaN") && !s.contains("inf"), "{s}");
        }
    }

    #[test]
    fn bars_scale_to_the_largest_value_and_the_waterfall_runs_on() {
        let s = bars("t", &[("a".into(), 1.0), ("b".into(), 0.5)], None, &|v| num(Some(v), 1)).into_string();
        // the plot area is 390 wide: a full bar and a half one
        assert!(s.contains(r#"width="390.0""#) && s.contains(r#"width="195.0""#), "{s}");
        let w = waterfall("t", &[("up".into(), 0.6), ("down".into(), -0.2)], "total").into_string();
        assert!(w.contains(r#"class="up""#) && w.contains(r#"class="down""#));
        assert!(w.contains(">+0.6<") && w.contains(">-0.2<") && w.contains(">0.4<"), "{w}");
    }
}
