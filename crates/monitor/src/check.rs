//! A drift check: a model's logged traffic in a window against a reference — the training
//! profile of the version being served, or another window of the log.

use crate::MonitorError;
use crate::drift::{self, DriftReport, Options};
use crate::log::LogStore;
use crate::observe;
use crate::profile::{Profile, REFERENCE_ROWS};
use crate::sample::Sample;
use nivesh_models::ModelKind;

/// The most logged rows a check reads from its window, newest first: a busy week's traffic
/// is used whole (100,000 rows take well under a second, `docs/BENCHMARKS.md`), and memory
/// stays bounded however long the window.
pub const CURRENT_ROWS: usize = 200_000;

/// What the current window is compared with.
#[derive(Debug, Clone)]
pub enum Reference {
    /// The served version's training profile.
    Training(Box<Profile>),
    /// Logged traffic in `[from_ms, to_ms)`.
    Window { from_ms: i64, to_ms: i64 },
}

/// What to check.
#[derive(Debug, Clone)]
pub struct Check {
    pub model: ModelKind,
    pub version: Option<u32>,
    /// The current window, `[from_ms, to_ms)`.
    pub from_ms: i64,
    pub to_ms: i64,
    pub reference: Reference,
    pub options: Options,
}

/// A check's report with the samples it compared (for the HTML report's histograms).
pub struct Checked {
    pub report: DriftReport,
    pub reference: Sample,
    pub current: Sample,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// `FROM..TO` of a window, RFC 3339.
pub fn window_text(from_ms: i64, to_ms: i64) -> String {
    format!("{}..{}", rfc3339(from_ms), rfc3339(to_ms))
}

/// Run `check` on the log.
pub fn run(store: &LogStore, check: &Check, now_ms: i64) -> Result<Checked, MonitorError> {
    let name = check.model.name();
    let current = store.observations(name, check.from_ms, check.to_ms, CURRENT_ROWS)?;
    if current.is_empty() {
        return Err(MonitorError::NotFound(format!(
            "no logged {name} predictions in {}",
            window_text(check.from_ms, check.to_ms)
        )));
    }
    let (reference, label) = match &check.reference {
        Reference::Training(p) => (p.reference.clone(), "training".to_string()),
        Reference::Window { from_ms, to_ms } => {
            let rows = store.observations(name, *from_ms, *to_ms, REFERENCE_ROWS)?;
            if rows.is_empty() {
                return Err(MonitorError::NotFound(format!(
                    "no logged {name} predictions in the reference window {}",
                    window_text(*from_ms, *to_ms)
                )));
            }
            (Sample::from_observations(&rows), window_text(*from_ms, *to_ms))
        }
    };
    let current = Sample::from_observations(&current);
    let (features, prediction) =
        drift::compare(&reference, &current, observe::prediction_name(check.model), &check.options);
    let (share, detected) = drift::share(&features, &check.options);
    let report = DriftReport {
        model: name.to_string(),
        version: check.version,
        reference_rows: reference.rows(),
        current_rows: current.rows(),
        reference: label,
        window: window_text(check.from_ms, check.to_ms),
        drift_detected: detected,
        drift_share: share,
        drift_share_threshold: check.options.drift_share,
        features,
        prediction,
        checked_at: rfc3339(now_ms),
    };
    Ok(Checked { report, reference, current })
}

/// Run `check` and keep its report in the history.
pub fn run_and_save(store: &LogStore, check: &Check, now_ms: i64) -> Result<Checked, MonitorError> {
    let checked = run(store, check, now_ms)?;
    let json = serde_json::to_value(&checked.report)
        .map_err(|source| MonitorError::Decode { what: "a drift report", source })?;
    store.save_check(check.model.name(), now_ms, checked.report.drift_detected, checked.report.drift_share, &json)?;
    Ok(checked)
}
