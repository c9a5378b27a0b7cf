//! The binary end to end: configuration layers, error messages, data generation and checking,
//! log redaction. Each run gets a clean environment and its own working directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn nivesh(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nivesh-ml"))
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("run nivesh-ml")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn entries(o: &Output) -> Vec<serde_json::Value> {
    assert!(o.status.success(), "stderr: {}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn entry<'a>(all: &'a [serde_json::Value], key: &str) -> &'a serde_json::Value {
    all.iter().find(|e| e["key"] == key).unwrap()
}

#[test]
fn config_layers_defaults_file_dotenv_env_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nivesh.toml"),
        "port = 8100\nlog_level = \"debug\"\nintent_confidence_threshold = 0.6\ncors_origins = [\"https://a.in\", \"https://b.in\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), "PORT=8200\nLOG_LEVEL=warn\nML_API_KEYS=abcdefgh12345,zyxwvuts98765\n")
        .unwrap();
    let out = nivesh(dir.path(), &[("PORT", "8300")], &["config", "show", "--json"]);
    let all = entries(&out);
    assert_eq!(entry(&all, "PORT")["value"], "8300");
    assert_eq!(entry(&all, "PORT")["source"], "environment");
    assert_eq!(entry(&all, "LOG_LEVEL")["value"], "warn");
    assert_eq!(entry(&all, "LOG_LEVEL")["source"], ".env");
    assert_eq!(entry(&all, "INTENT_CONFIDENCE_THRESHOLD")["value"], "0.6");
    assert_eq!(entry(&all, "INTENT_CONFIDENCE_THRESHOLD")["source"], "nivesh.toml");
    assert_eq!(entry(&all, "CORS_ORIGINS")["value"], "https://a.in,https://b.in");
    assert_eq!(entry(&all, "ANOMALY_CONTAMINATION")["source"], "default");
    assert_eq!(entry(&all, "ML_API_KEYS")["value"], "<redacted>");
    assert!(!stdout(&out).contains("abcdefgh12345"));

    // --config and --data-dir beat NIVESH_CONFIG and NIVESH_DATA_DIR
    std::fs::write(dir.path().join("other.toml"), "drift_alert_threshold = 0.3\n").unwrap();
    let out = nivesh(
        dir.path(),
        &[("NIVESH_CONFIG", "nivesh.toml"), ("NIVESH_DATA_DIR", "/env/dir")],
        &["--config", "other.toml", "--data-dir", "/cli/dir", "config", "show", "--json"],
    );
    let all = entries(&out);
    assert_eq!(entry(&all, "DRIFT_ALERT_THRESHOLD")["value"], "0.3");
    assert_eq!(entry(&all, "DRIFT_ALERT_THRESHOLD")["source"], "other.toml");
    // nivesh.toml (named by NIVESH_CONFIG) was not read
    assert_eq!(entry(&all, "INTENT_CONFIDENCE_THRESHOLD")["value"], "0.5");
    assert_eq!(entry(&all, "NIVESH_DATA_DIR")["value"], "/cli/dir");
    assert_eq!(entry(&all, "MODEL_STORAGE_PATH")["value"], "/cli/dir/models");

    // the table form shows the same
    let out = nivesh(dir.path(), &[], &["config", "show"]);
    let text = stdout(&out);
    assert!(text.contains("PORT") && text.contains("8200") && text.contains(".env"), "{text}");
}

#[test]
fn bad_config_fails_at_start_naming_key_value_and_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let out = nivesh(dir.path(), &[("PORT", "abc"), ("CREDIT_RISK_THRESHOLD", "1.7")], &["config", "show"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("PORT = \"abc\" (from environment): expected an integer from 1 to 65535"), "{err}");
    assert!(
        err.contains("CREDIT_RISK_THRESHOLD = \"1.7\" (from environment): expected a number strictly between 0 and 1"),
        "{err}"
    );

    let out = nivesh(dir.path(), &[], &["--config", "missing.toml", "config", "show"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read config file missing.toml"), "{}", stderr(&out));
}

#[test]
fn generate_is_deterministic_and_every_file_checks() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, seed: &str| {
        let out = nivesh(dir.path(), &[], &["data", "generate", "--out", name, "--seed", seed, "--scale", "small"]);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    run("a", "7");
    run("b", "7");
    run("c", "8");
    let files = ["intents.jsonl", "ner.jsonl", "transactions.csv", "credit_applications.csv", "manifest.json"];
    for f in files {
        let a = std::fs::read(dir.path().join("a").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(f)).unwrap();
        let c = std::fs::read(dir.path().join("c").join(f)).unwrap();
        assert!(a == b, "{f} differs between two runs with seed 7");
        assert!(a != c, "{f} is the same for seeds 7 and 8");
    }
    for f in &files[..4] {
        let out = nivesh(dir.path(), &[], &["data", "check", &format!("a/{f}")]);
        assert!(out.status.success(), "{f}: {}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains(": OK ("), "{}", stdout(&out));
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a/manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 7);
    let auc = manifest["credit"]["achievable_auc"].as_f64().unwrap();
    assert!((0.7..0.95).contains(&auc), "{auc}");
}

#[test]
fn check_reports_bad_records_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("my_data.csv"),
        "transaction_id,user_id,timestamp,amount,currency,category,merchant,channel\n\
         T1,U1,2026-03-15 10:00:00,100,INR,groceries,DMart,upi\n\
         T2,U1,2026-03-15 11:00:00,\"12,00x\",INR,groceries,DMart,upi\n",
    )
    .unwrap();
    // the kind cannot be guessed from this name
    let out = nivesh(dir.path(), &[], &["data", "check", "my_data.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pass --kind"), "{}", stderr(&out));

    let out = nivesh(dir.path(), &[], &["data", "check", "my_data.csv", "--kind", "transactions"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("my_data.csv:3: amount: \"12,00x\" is not a number"), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 bad records, 1 valid"), "{}", stdout(&out));

    let out = nivesh(dir.path(), &[], &["data", "check", "my_data.csv", "--kind", "transactions", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["error_count"], 1);
    assert_eq!(report["summary"]["rows"], 1);
}

#[test]
fn logs_redact_identifiers_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    // The output path lands in a log field: it carries a PAN and an Aadhaar-like number.
    let out_dir = "ABCDE1234F-234567890123";
    for format in ["json", "text"] {
        let out = nivesh(
            dir.path(),
            &[("LOG_FORMAT", format), ("LOG_LEVEL", "info")],
            &["data", "generate", "--out", out_dir, "--scale", "small"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let log = stderr(&out);
        assert!(log.contains("generating sample data"), "{log}");
        assert!(!log.contains("ABCDE1234F") && !log.contains("234567890123"), "{format}: {log}");
        assert!(log.contains("[PAN]-[AADHAAR]"), "{format}: {log}");
        if format == "json" {
            let line = log.lines().find(|l| l.contains("generating sample data")).unwrap();
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["level"], "INFO");
        }
    }
}

#[test]
fn help_lists_only_working_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = nivesh(dir.path(), &[], &["--help"]);
    let text = stdout(&out);
    let commands = text.split("Commands:").nth(1).unwrap().split("Options:").next().unwrap();
    for present in ["config", "data", "train", "evaluate"] {
        assert!(commands.contains(present), "--help lacks {present}: {text}");
    }
    for missing in ["serve", "registry", "drift", "features"] {
        assert!(!commands.contains(missing), "--help lists {missing}: {text}");
    }
}

#[test]
fn readme_documents_every_config_key() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md")).unwrap();
    for k in nivesh_core::config::KEYS {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", k.key)))
            .unwrap_or_else(|| panic!("README has no config table row for {}", k.key));
        if let Some(default) = k.default {
            assert!(row.contains(&format!("`{default}`")), "README row for {} lacks default {default}: {row}", k.key);
        }
    }
}

#[test]
fn train_and_evaluate_text_models_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = nivesh(dir.path(), &[], &["data", "generate", "--out", "gen", "--scale", "small", "--seed", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = nivesh(
        dir.path(),
        &[],
        &[
            "train",
            "intent",
            "--data",
            "gen/intents.jsonl",
            "--holdout",
            "0.25",
            "--out",
            "models",
            "--report",
            "intent.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("intent.json")).unwrap()).unwrap();
    assert_eq!(report["n"], 140);
    assert!(report["accuracy"].as_f64().unwrap() > 0.9, "{report}");
    assert_eq!(report["confusion_matrix"].as_array().unwrap().len(), 14);

    let out = nivesh(
        dir.path(),
        &[],
        &["evaluate", "intent", "--model", "models", "--data", "gen/intents.jsonl", "--report", "eval.json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("eval.json")).unwrap()).unwrap();
    for key in ["accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix"] {
        assert!(report.get(key).is_some(), "report lacks {key}");
    }

    let out = nivesh(
        dir.path(),
        &[],
        &[
            "train",
            "ner",
            "--data",
            "gen/ner.jsonl",
            "--holdout",
            "0.2",
            "--out",
            "models",
            "--max-iterations",
            "40",
            "--report",
            "ner.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ner.json")).unwrap()).unwrap();
    assert!(report["f1"].as_f64().unwrap() > 0.8, "{report}");
    assert!(report["per_label"]["MONEY"]["f1"].as_f64().unwrap() > 0.8, "{report}");
    assert!(report["value_accuracy"]["MONEY"]["accuracy"].as_f64().is_some(), "{report}");

    // a model of the wrong kind, and a corrupt one, are refused with the file named
    let out =
        nivesh(dir.path(), &[], &["evaluate", "intent", "--model", "models/ner.model", "--data", "gen/intents.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("loading model models/ner.model: model artifact: this is a ner model, not intent"),
        "{}",
        stderr(&out)
    );
    let path = dir.path().join("models/intent.model");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&path, bytes).unwrap();
    let out = nivesh(dir.path(), &[], &["evaluate", "intent", "--model", "models", "--data", "gen/intents.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("checksum mismatch"), "{}", stderr(&out));

    // NLU++-shaped input is refused for intents with a clear message
    std::fs::write(dir.path().join("fold0.json"), r#"[{"text": "hi", "intents": ["greet"]}]"#).unwrap();
    let out = nivesh(dir.path(), &[], &["train", "intent", "--data", "fold0.json", "--out", "m2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("fold0.json is NLU++ (an NER dataset), not intents"), "{}", stderr(&out));
}
