//! One module per page of the navigation bar; each page function takes the data it shows and
//! returns the whole page, and pages that refresh have a fragment function for the part that
//! does.

pub mod drift;
pub mod features;
pub mod models;
pub mod overview;
pub mod runs;
pub mod try_it;

use maud::{Markup, html};

/// A message after an action (promoted, refused, started).
#[derive(Debug, Clone)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
}

pub(crate) fn notice(n: Option<&Notice>) -> Markup {
    html! {
        @if let Some(n) = n {
            p class={"notice " (if n.ok { "ok" } else { "bad" })} role=(if n.ok { "status" } else { "alert" }) { (n.text) }
        }
    }
}

/// `""` and a missing value alike.
pub(crate) fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}
