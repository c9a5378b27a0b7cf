//! `nivesh-ml bootstrap`, and `serve`'s first start: make what serving needs and is missing —
//! sample data whose 500 days end yesterday (so the sample users' features are fresh), a
//! champion for every model (the pipeline), the feature store ingested and materialized.
//!
//! `serve` runs it in a child process of the same binary, so the memory training takes is
//! given back to the system before the server starts.

use super::Globals;
use crate::config::Config;
use anyhow::Context;
use nivesh_models::ModelKind;
use nivesh_training::{DataSource, TrainSpec};
use std::process::ExitCode;
use std::time::Instant;

/// What a data directory lacks for serving.
#[derive(Debug, Default)]
pub struct Missing {
    pub sample_data: bool,
    pub champions: Vec<ModelKind>,
    pub events: bool,
    pub materialization: bool,
}

impl Missing {
    pub fn nothing(&self) -> bool {
        !self.sample_data && self.champions.is_empty() && !self.events && !self.materialization
    }
}

/// Look (cheaply: a few queries) at what is missing.
pub fn missing(config: &Config) -> anyhow::Result<Missing> {
    let (registry, _) = super::stores::registry(config)?;
    let mut champions = Vec::new();
    for kind in ModelKind::ALL {
        if registry.alias(kind.registry_name(), "champion")?.is_none() {
            champions.push(kind);
        }
    }
    let fs = super::stores::features(config, None)?;
    Ok(Missing {
        sample_data: !config.generated_data_dir().join(nivesh_datagen::MANIFEST_FILE).exists(),
        champions,
        events: fs.offline().event_count()? == 0,
        materialization: fs.list()?.iter().any(|v| v.last_materialized.is_none()),
    })
}

/// Run `nivesh-ml bootstrap` as a child process with this process's configuration, and wait.
pub fn in_child(globals: &Globals) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("finding this program to run the bootstrap")?;
    let mut cmd = std::process::Command::new(exe);
    if let Some(c) = &globals.config {
        cmd.arg("--config").arg(c);
    }
    if let Some(d) = &globals.data_dir {
        cmd.arg("--data-dir").arg(d);
    }
    let status = cmd.arg("bootstrap").status().context("starting the bootstrap")?;
    anyhow::ensure!(status.success(), "the bootstrap failed ({status}; see above)");
    Ok(())
}

pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let missing = missing(config)?;
    let dir = config.generated_data_dir();
    if missing.sample_data {
        let days = nivesh_datagen::Scale::Full.sizes().days as i64;
        let start = chrono::Utc::now().date_naive() - chrono::Duration::days(days);
        println!("bootstrap: generating the sample data into {} (transactions {start} to yesterday)", dir.display());
        nivesh_datagen::generate_from(&dir, 42, nivesh_datagen::Scale::Full, start)?;
    }
    if !missing.champions.is_empty() {
        println!(
            "bootstrap: training {} (no champion yet)",
            missing.champions.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
        );
        let spec = TrainSpec {
            suites: config.validation_suites.clone(),
            ..TrainSpec::all(DataSource::Sample { dir: dir.clone() }, &super::stores::training_defaults(config))
        }
        .with_models(&missing.champions)?;
        let code = super::train::pipeline(&spec, config)?;
        anyhow::ensure!(code == ExitCode::SUCCESS, "bootstrap training failed (see above)");
    }
    let fs = super::stores::features(config, None)?;
    if fs.offline().event_count()? == 0 {
        let file = dir.join(nivesh_datagen::TRANSACTIONS_FILE);
        let events: Vec<nivesh_core::Transaction> = nivesh_core::dataset::read_records(&file)?;
        let (n, _) = fs.ingest(&events)?;
        println!("bootstrap: ingested {n} transactions into the feature store");
    }
    if fs.list()?.iter().any(|v| v.last_materialized.is_none()) {
        let started = Instant::now();
        let now = chrono::Utc::now().timestamp();
        let reports = fs.materialize(&[], now, now, false, &mut |_, _| {})?;
        let written: usize = reports.iter().map(|r| r.written).sum();
        println!("bootstrap: materialized {written} feature rows in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(ExitCode::SUCCESS)
}
