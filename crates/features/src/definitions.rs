//! Feature definitions: entities and feature views, read from a TOML file (the shipped one is
//! `data/features.toml`) and checked before anything uses them.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::FeatureError;

/// The definitions shipped with nivesh-ml.
pub const BUILTIN: &str = include_str!("../../../data/features.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// How a view computes its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    /// Windowed aggregations over the entity's events.
    #[default]
    Aggregate,
    /// A model's per-entity state folded over every event (`state` names which).
    State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agg {
    Sum,
    Count,
    Mean,
    Std,
    Max,
    Min,
    Distinct,
    DailyStd,
    MonthlyMean,
    ModeDayOfMonth,
    DaysSinceLast,
    Ratio,
}

/// Which events a feature looks at.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub direction: Option<String>,
    #[serde(default)]
    pub category: Vec<String>,
    #[serde(default)]
    pub channel: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureDef {
    pub name: String,
    /// Required for aggregate views; state views expose named statistics instead.
    pub agg: Option<Agg>,
    pub window_days: Option<u32>,
    #[serde(default, rename = "where")]
    pub filter: Filter,
    pub numerator: Option<String>,
    pub denominator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct View {
    pub name: String,
    pub entity: String,
    pub source: String,
    pub version: u32,
    pub ttl_days: u32,
    #[serde(default)]
    pub kind: ViewKind,
    pub state: Option<String>,
    #[serde(default)]
    pub description: String,
    pub features: Vec<FeatureDef>,
}

impl View {
    pub fn ttl_secs(&self) -> i64 {
        i64::from(self.ttl_days) * 86_400
    }

    /// Whether a row stamped `stamped` (unix seconds) is still usable at `at`: no older than
    /// the TTL. The one freshness rule for point-in-time joins and online reads.
    pub fn fresh(&self, stamped: i64, at: i64) -> bool {
        at - stamped <= self.ttl_secs()
    }

    pub fn feature_names(&self) -> Vec<&str> {
        self.features.iter().map(|f| f.name.as_str()).collect()
    }

    /// SHA-256 of the view's canonical JSON: any change to its definition changes it.
    pub fn definition_hash(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        nivesh_core::hex::lower(&Sha256::digest(&json))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definitions {
    pub entities: Vec<Entity>,
    pub views: Vec<View>,
}

const SOURCES: &[&str] = &["transactions"];
const STATES: &[&str] = &["anomaly_user_state"];
const DIRECTIONS: &[&str] = &["debit", "credit"];

impl Definitions {
    /// Parse and check a definitions file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, FeatureError> {
        let defs: Definitions = toml::from_str(text).map_err(|e| FeatureError::Definition(format!("{origin}: {e}")))?;
        defs.check(origin)?;
        Ok(defs)
    }

    pub fn builtin() -> Result<Self, FeatureError> {
        Self::parse(BUILTIN, "data/features.toml")
    }

    pub fn view(&self, name: &str) -> Result<&View, FeatureError> {
        self.view_index(name).map(|i| &self.views[i])
    }

    /// `name`'s place in [`Self::views`].
    pub fn view_index(&self, name: &str) -> Result<usize, FeatureError> {
        self.views.iter().position(|v| v.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.views.iter().map(|v| v.name.as_str()).collect();
            FeatureError::NotFound(format!("no feature view {name:?} (views: {})", known.join(", ")))
        })
    }

    fn check(&self, origin: &str) -> Result<(), FeatureError> {
        let bad = |view: &str, msg: String| FeatureError::Definition(format!("{origin}: view {view}: {msg}"));
        let mut names = std::collections::HashSet::new();
        for v in &self.views {
            if !names.insert(v.name.as_str()) {
                return Err(bad(&v.name, "defined twice".into()));
            }
            if !self.entities.iter().any(|e| e.name == v.entity) {
                return Err(bad(&v.name, format!("entity {:?} is not defined", v.entity)));
            }
            if !SOURCES.contains(&v.source.as_str()) {
                return Err(bad(&v.name, format!("source {:?}: expected one of {SOURCES:?}", v.source)));
            }
            if v.version == 0 || v.ttl_days == 0 {
                return Err(bad(&v.name, "version and ttl_days must be at least 1".into()));
            }
            if v.features.is_empty() {
                return Err(bad(&v.name, "has no features".into()));
            }
            let mut seen: Vec<&str> = Vec::new();
            for f in &v.features {
                if seen.contains(&f.name.as_str()) {
                    return Err(bad(&v.name, format!("feature {} defined twice", f.name)));
                }
                match v.kind {
                    ViewKind::State => {
                        let state = v.state.as_deref().unwrap_or("");
                        if !STATES.contains(&state) {
                            return Err(bad(&v.name, format!("state {state:?}: expected one of {STATES:?}")));
                        }
                        if !nivesh_models::anomaly::USER_STATE_SUMMARY.contains(&f.name.as_str()) {
                            return Err(bad(
                                &v.name,
                                format!(
                                    "feature {}: not a statistic of {state} (one of {:?})",
                                    f.name,
                                    nivesh_models::anomaly::USER_STATE_SUMMARY
                                ),
                            ));
                        }
                    }
                    ViewKind::Aggregate => {
                        let Some(agg) = f.agg else {
                            return Err(bad(&v.name, format!("feature {}: agg is required", f.name)));
                        };
                        if let Some(d) = &f.filter.direction
                            && !DIRECTIONS.contains(&d.as_str())
                        {
                            return Err(bad(&v.name, format!("feature {}: direction {d:?}", f.name)));
                        }
                        if f.window_days.is_some_and(|w| w == 0 || w > 3650) {
                            return Err(bad(&v.name, format!("feature {}: window_days must be 1..=3650", f.name)));
                        }
                        if matches!(agg, Agg::DailyStd | Agg::MonthlyMean) && f.window_days.is_none() {
                            return Err(bad(&v.name, format!("feature {}: {agg:?} needs window_days", f.name)));
                        }
                        if agg == Agg::Ratio {
                            for part in [&f.numerator, &f.denominator] {
                                match part {
                                    Some(p) if seen.contains(&p.as_str()) => {}
                                    _ => {
                                        return Err(bad(
                                            &v.name,
                                            format!(
                                                "feature {}: ratio needs numerator and denominator naming earlier features",
                                                f.name
                                            ),
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
                seen.push(&f.name);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_definitions_are_valid_and_cover_the_three_views() {
        let d = Definitions::builtin().unwrap();
        let names: Vec<&str> = d.views.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["user_spending_profile", "transaction_behaviour", "credit_profile"]);
        let total: usize = d.views.iter().map(|v| v.features.len()).sum();
        assert!((35..=45).contains(&total), "{total}");
    }

    #[test]
    fn bad_definitions_are_refused_with_the_view_named() {
        let text = BUILTIN.to_string();
        for (from, to, expect) in [
            ("source = \"transactions\"", "source = \"clicks\"", "source \"clicks\""),
            ("ttl_days = 3", "ttl_days = 0", "ttl_days"),
            ("denominator = \"income_monthly\"", "denominator = \"nope\"", "ratio needs"),
            ("name = \"history_len\"", "name = \"shoe_size\"", "not a statistic"),
        ] {
            let changed = text.replacen(from, to, 1);
            assert_ne!(changed, text, "{from}");
            let e = Definitions::parse(&changed, "f.toml").unwrap_err().to_string();
            assert!(e.contains("f.toml: view ") && e.contains(expect), "{e}");
        }
        let e = Definitions::parse("views = 3", "x.toml").unwrap_err().to_string();
        assert!(e.starts_with("feature definitions: x.toml"), "{e}");
    }

    #[test]
    fn the_hash_changes_with_the_definition() {
        let d = Definitions::builtin().unwrap();
        let mut v = d.views[0].clone();
        let h = v.definition_hash();
        assert_eq!(h, d.views[0].definition_hash());
        v.features[0].window_days = Some(8);
        assert_ne!(v.definition_hash(), h);
    }
}
