//! `nivesh-ml config show`: every key with its value, where it came from and what it means.

use crate::config::Config;
use std::process::ExitCode;

pub fn show(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(&config.entries)?);
    } else {
        let mut t = super::output::table(&["key", "value", "source", "meaning"]);
        for e in &config.entries {
            let meaning = crate::config::KEYS.iter().find(|k| k.key == e.key).map_or("", |k| k.help);
            t.add_row(vec![e.key, e.value.as_deref().unwrap_or("(unset)"), e.source.as_str(), meaning]);
        }
        println!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}
