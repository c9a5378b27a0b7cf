//! `nivesh-ui`: the web dashboard's pages, rendered on the server from data the caller gives.
//!
//! Every page is HTML made with [`maud`], which escapes every spliced value: a run tag or a
//! query holding `<script>` is shown as text. Charts are inline SVG drawn here ([`chart`]); the
//! only script ([`JS`]) refreshes parts marked `data-refresh` and submits forms in place, and
//! the stylesheet ([`CSS`]) is the only other asset — both embedded, nothing from a CDN, so
//! the pages work offline and under a `default-src 'self'` content security policy ([`CSP`]).
//!
//! This crate does no I/O: `nivesh-server`'s `ui` module reads the registry, the monitoring
//! store and the feature store, checks the session, and hands the results to a page function.

pub mod chart;
pub mod pages;

pub use maud::{Markup, PreEscaped, html};

/// The stylesheet, served at `/ui/assets/ui.css`.
pub const CSS: &str = include_str!("../assets/ui.css");
/// The script, served at `/ui/assets/ui.js`.
pub const JS: &str = include_str!("../assets/ui.js");
/// The content security policy of every page: only this origin's script and style, no inline
/// script, no framing, forms only to this origin.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Who is looking, for the header and for what the page offers.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// Keys are configured, so a sign-in is needed.
    pub auth_required: bool,
    /// The session may promote, roll back and train (an admin key, or no keys configured).
    pub admin: bool,
    /// Shown in the header: `key #1a2b3c4d` or `no keys (loopback)`.
    pub who: String,
}

/// The pages in the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Models,
    Runs,
    Drift,
    Features,
    Try,
    None,
}

impl Nav {
    const ALL: [(Nav, &'static str, &'static str); 6] = [
        (Nav::Overview, "/ui", "Overview"),
        (Nav::Models, "/ui/models", "Models"),
        (Nav::Runs, "/ui/runs", "Runs"),
        (Nav::Drift, "/ui/drift", "Drift"),
        (Nav::Features, "/ui/features", "Features"),
        (Nav::Try, "/ui/try", "Try it"),
    ];
}

/// A whole page: header, navigation, `body`.
pub fn page(nav: Nav, title: &str, session: &Session, body: Markup) -> Markup {
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · nivesh-ml" }
                link rel="stylesheet" href="/ui/assets/ui.css";
                link rel="icon" href="data:,";
                script src="/ui/assets/ui.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/ui" { "nivesh-ml" }
                    nav aria-label="Pages" {
                        @for (n, href, label) in Nav::ALL {
                            @if n == nav { a href=(href) aria-current="page" { (label) } }
                            @else { a href=(href) { (label) } }
                        }
                    }
                    div.who {
                        span { (session.who) @if session.admin { " · admin" } }
                        @if session.auth_required {
                            form.inline method="post" action="/ui/logout" {
                                button.secondary type="submit" { "Sign out" }
                            }
                        }
                        a href="/docs" { "API" }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The sign-in page (keys are configured and the browser has no session).
pub fn login(next: &str, error: Option<&str>) -> Markup {
    let session = Session { auth_required: false, admin: false, who: "not signed in".into() };
    page(
        Nav::None,
        "Sign in",
        &session,
        html! {
            p.muted { "This server requires an API key (ML_API_KEYS). An admin key (ML_ADMIN_KEYS) also allows promoting, rolling back and training." }
            @if let Some(e) = error { p.notice.bad role="alert" { (e) } }
            form method="post" action="/ui/login" {
                input type="hidden" name="next" value=(next);
                div.fields {
                    label { "API key" input type="password" name="key" autocomplete="current-password" required autofocus; }
                }
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// A page saying what went wrong (the status is the caller's).
pub fn error_page(session: &Session, title: &str, message: &str) -> Markup {
    page(
        Nav::None,
        title,
        session,
        html! { p.notice.bad role="alert" { (message) } p { a href="/ui" { "Back to the overview" } } },
    )
}

/// A number with at most `digits` decimals, trailing zeros dropped; `–` for none or NaN.
pub fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let s = format!("{x:.digits$}");
            if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
        }
        _ => "–".into(),
    }
}

/// A share as a percentage with one decimal.
pub fn pct(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:.1} %", x * 100.0),
        _ => "–".into(),
    }
}

/// Rupees with Indian digit grouping (₹12,34,567).
pub fn inr(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let neg = v < 0.0;
    let whole = v.abs().round() as u64;
    let digits = whole.to_string();
    let (head, last3) = digits.split_at(digits.len().saturating_sub(3));
    let mut groups: Vec<&str> = Vec::new();
    let mut rest = head;
    while rest.len() > 2 {
        let (a, b) = rest.split_at(rest.len() - 2);
        groups.push(b);
        rest = a;
    }
    if !rest.is_empty() {
        groups.push(rest);
    }
    groups.reverse();
    let mut out = groups.join(",");
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str(last3);
    format!("{}₹{out}", if neg { "-" } else { "" })
}

/// An RFC 3339 instant shown to the second, UTC (`2026-12-04 08:30:12`); the input unchanged
/// when it does not parse.
pub fn when(ts: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| ts.to_string())
}

/// `s` percent-encoded for a URL's path segment or query value (all but `A-Za-z0-9-._~`).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A serde enum's word (`ks`, `numerical`, `daily_std`); empty for anything else.
pub(crate) fn word<T: serde::Serialize>(t: &T) -> String {
    serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// A status word as a coloured pill.
pub fn pill(text: &str, class: &str) -> Markup {
    html! { span class={"pill " (class)} { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_money_and_times_read_well() {
        assert_eq!(num(Some(0.91234), 3), "0.912");
        assert_eq!(num(Some(2.0), 3), "2");
        assert_eq!(num(Some(f64::NAN), 3), "–");
        assert_eq!(num(None, 1), "–");
        assert_eq!(pct(Some(0.1234)), "12.3 %");
        assert_eq!(inr(1234567.4), "₹12,34,567");
        assert_eq!(inr(999.0), "₹999");
        assert_eq!(inr(1000.0), "₹1,000");
        assert_eq!(inr(100000.0), "₹1,00,000");
        assert_eq!(inr(-45000.0), "-₹45,000");
        assert_eq!(when("2026-12-04T08:30:12.345Z"), "2026-12-04 08:30:12");
        assert_eq!(when("2026-12-04T14:00:12+05:30"), "2026-12-04 08:30:12");
        assert_eq!(when("yesterday"), "yesterday");
        assert_eq!(urlencode("plots/roc curve.png?&\"<"), "plots%2Froc%20curve.png%3F%26%22%3C");
    }

    #[test]
    fn every_spliced_value_is_escaped() {
        let s = Session { auth_required: true, admin: false, who: "<script>alert(1)</script>".into() };
        let out = page(Nav::Runs, "<img src=x onerror=alert(1)>", &s, html! { p { ("\"'&<>") } }).into_string();
        assert!(!out.contains("<script>alert"), "{out}");
        assert!(!out.contains("<img src=x"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(out.contains("&quot;'&amp;&lt;&gt;"));
        // the only script is the embedded file; the current page is marked for assistive tech
        assert_eq!(out.matches("<script").count(), 1);
        assert!(out.contains(r#"<a href="/ui/runs" aria-current="page">Runs</a>"#));
        let l = login("/ui/runs?x=\"><script>", Some("<b>no</b>")).into_string();
        assert!(!l.contains("\"><script>") && !l.contains("<b>no</b>"), "{l}");
    }
}
