use crate::cli::{CheckArgs, DataCommand, GenerateArgs, Nn5Args, ValidateArgs};
use crate::config::Config;
use anyhow::{Context, anyhow};
use nivesh_core::dataset::{RecordError, read_records_lenient};
use nivesh_core::summary::DatasetSummary;
use nivesh_core::{CreditApplication, NerExample, Record, RecordKind, Transaction, Utterance};
use std::process::ExitCode;
use std::time::Instant;

pub fn run(cmd: DataCommand, config: &Config) -> anyhow::Result<ExitCode> {
    match cmd {
        DataCommand::Generate(args) => generate(args, config),
        DataCommand::Check(args) => check(args),
        DataCommand::Nn5(args) => nn5(args),
        DataCommand::Validate(args) => validate(args, config),
    }
}

fn validate(args: ValidateArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let file = args.suites.as_deref().or(config.validation_suites.as_deref());
    let suites = nivesh_training::validate::suites(file)?;
    let (name, suite) = suites.pick(args.suite.as_deref(), &args.file).map_err(anyhow::Error::msg)?;
    let report =
        nivesh_monitor::validate::validate(&args.file, &name, suite, chrono::Utc::now()).map_err(anyhow::Error::msg)?;
    for e in &report.expectations {
        println!("{}", e.line());
    }
    let failed = report.expectations.iter().filter(|e| !e.passed).count();
    println!(
        "{}: {} rows, suite {name}: {}",
        args.file.display(),
        report.rows,
        if failed == 0 { "every expectation met".to_string() } else { format!("{failed} expectations failed") }
    );
    if let Some(out) = &args.report {
        let bytes = match out.extension().and_then(|e| e.to_str()) {
            Some("html") | Some("htm") => nivesh_monitor::html::validation(&report).into_bytes(),
            Some("json") => serde_json::to_vec_pretty(&report)?,
            _ => anyhow::bail!("--report {}: expected a .html or .json file", out.display()),
        };
        nivesh_core::fsutil::atomic_write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
        println!("report written to {}", out.display());
    }
    Ok(if report.passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn generate(args: GenerateArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let out = args.out.unwrap_or_else(|| config.generated_data_dir());
    let scale = args.scale.parse::<nivesh_datagen::Scale>().map_err(|e| anyhow!(e))?;
    let started = Instant::now();
    tracing::info!(out = %out.display(), seed = args.seed, ?scale, "generating sample data");
    let start = args.start.unwrap_or_else(nivesh_datagen::transactions_start);
    let mut sizes = scale.sizes();
    if let Some(users) = args.users {
        sizes.users = users as usize;
    }
    if let Some(days) = args.days {
        sizes.days = days as usize;
    }
    let manifest = nivesh_datagen::generate_sized(&out, args.seed, scale, sizes, start)?;
    let mut t = super::output::table(&["file", "rows", "size"]);
    for f in &manifest.files {
        t.add_row(vec![f.file.clone(), f.rows.to_string(), human_bytes(f.bytes)]);
    }
    println!("{t}");
    println!(
        "anomaly rate {:.2} %, credit default rate {:.1} %, achievable credit AUC {:.4}",
        manifest.anomaly_rate * 100.0,
        manifest.credit.default_rate * 100.0,
        manifest.credit.achievable_auc
    );
    println!("wrote {} in {:.2} s (seed {})", out.display(), started.elapsed().as_secs_f64(), args.seed);
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let kind = match &args.kind {
        Some(k) => k.parse::<RecordKind>().map_err(|e| anyhow!(e))?,
        None => RecordKind::infer_from_path(&args.file).with_context(|| {
            format!(
                "cannot tell the record kind of {} from its name; pass --kind intents|ner|transactions|credit",
                args.file.display()
            )
        })?,
    };
    let (summary, errors) = match kind {
        RecordKind::Utterance => summarize::<Utterance>(&args)?,
        RecordKind::Ner => summarize::<NerExample>(&args)?,
        RecordKind::Transaction => summarize::<Transaction>(&args)?,
        RecordKind::Credit => summarize::<CreditApplication>(&args)?,
    };
    if args.json {
        let report = serde_json::json!({
            "file": args.file.display().to_string(),
            "kind": kind.name(),
            "valid": errors.is_empty(),
            "summary": summary,
            "error_count": errors.len(),
            "errors": errors.iter().take(args.max_errors).map(ToString::to_string).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&args, kind, &summary);
        for e in errors.iter().take(args.max_errors) {
            eprintln!("error: {e}");
        }
        if errors.len() > args.max_errors {
            eprintln!("... and {} more bad records", errors.len() - args.max_errors);
        }
        if errors.is_empty() {
            println!("{}: OK ({} valid {} records)", args.file.display(), summary.rows, kind.name());
        } else {
            println!("{}: {} bad records, {} valid", args.file.display(), errors.len(), summary.rows);
        }
    }
    Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn summarize<T: Record>(args: &CheckArgs) -> anyhow::Result<(DatasetSummary, Vec<RecordError>)> {
    let outcome = read_records_lenient::<T>(&args.file)?;
    Ok((DatasetSummary::of(&outcome.records), outcome.errors))
}

fn fmt_num(x: Option<f64>) -> String {
    match x {
        None => String::new(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn print_summary(args: &CheckArgs, kind: RecordKind, s: &DatasetSummary) {
    println!("{} ({}): {} rows", args.file.display(), kind.name(), s.rows);
    let mut t = super::output::table(&["column", "present", "missing", "min", "max", "mean", "distinct", "items"]);
    for c in &s.columns {
        t.add_row(vec![
            c.name.clone(),
            c.present.to_string(),
            c.missing.to_string(),
            fmt_num(c.min),
            fmt_num(c.max),
            fmt_num(c.mean),
            c.distinct.map(|d| d.to_string()).unwrap_or_default(),
            c.items.map(|d| d.to_string()).unwrap_or_default(),
        ]);
    }
    println!("{t}");
    if !s.labels.is_empty() {
        let total: usize = s.labels.values().sum();
        let mut t = super::output::table(&["label", "count", "share"]);
        for (label, n) in &s.labels {
            t.add_row(vec![label.clone(), n.to_string(), format!("{:.1} %", 100.0 * *n as f64 / total as f64)]);
        }
        println!("{t}");
    }
}

fn nn5(args: Nn5Args) -> anyhow::Result<ExitCode> {
    let parse = |path: &std::path::Path, sep: char, skip: usize| -> anyhow::Result<Vec<Vec<f64>>> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                l.split(sep)
                    .skip(skip)
                    .map(|v| {
                        v.trim()
                            .parse::<f64>()
                            .with_context(|| format!("{}:{}: {v:?} is not a number", path.display(), i + 1))
                    })
                    .collect()
            })
            .collect()
    };
    let train = parse(&args.train, ',', 0)?;
    let test = parse(&args.test, ';', 1)?;
    anyhow::ensure!(train.len() == test.len(), "{} train series but {} test series", train.len(), test.len());
    let mut out = String::new();
    for (i, (tr, te)) in train.iter().zip(&test).enumerate() {
        out.push_str(&serde_json::to_string(
            &serde_json::json!({"id": format!("nn5-{}", i + 1), "train": tr, "test": te, "season_length": 52}),
        )?);
        out.push('\n');
    }
    nivesh_core::fsutil::atomic_write(&args.out, out.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} series ({} + {} points each) to {}",
        train.len(),
        train[0].len(),
        test[0].len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
