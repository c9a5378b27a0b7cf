use nivesh_core::config::Config;
use std::process::ExitCode;

pub fn show(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(&config.entries)?);
    } else {
        let mut t = super::table(&["key", "value", "source"]);
        for e in &config.entries {
            t.add_row(vec![e.key, e.value.as_deref().unwrap_or("(unset)"), e.source.as_str()]);
        }
        println!("{t}");
    }
    Ok(ExitCode::SUCCESS)
}
