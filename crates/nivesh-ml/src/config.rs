//! Configuration: built-in defaults < `nivesh.toml` < `.env` < environment < command-line flags.
//!
//! Every key is declared once in [`KEYS`] (name, default, meaning, whether it is a secret); the
//! README's table documents the same list, and a test keeps the two in step. Values are checked
//! when the program starts: a bad one fails with the key, the value, where it came from and what
//! is allowed.

use nivesh_training::spec::Embeddings;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// How a key's value is shown by `config show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrecy {
    Public,
    /// Never shown.
    Secret,
    /// A URL whose password part is hidden.
    UrlWithPassword,
}

/// One configuration key.
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    pub key: &'static str,
    /// `None`: unset unless given (optional services), or derived from another key.
    pub default: Option<&'static str>,
    pub secrecy: Secrecy,
    pub help: &'static str,
}

const fn key(key: &'static str, default: Option<&'static str>, secrecy: Secrecy, help: &'static str) -> KeySpec {
    KeySpec { key, default, secrecy, help }
}

use Secrecy::{Public, Secret, UrlWithPassword};

/// Every key the program reads, in the order `config show` prints them.
pub const KEYS: &[KeySpec] = &[
    key(
        "NIVESH_DATA_DIR",
        Some("./nivesh-data"),
        Public,
        "Directory for everything the program stores: registry, artifacts, generated data, online store (also --data-dir)",
    ),
    key("MODEL_STORAGE_PATH", None, Public, "Where model artifacts are kept; default <NIVESH_DATA_DIR>/models"),
    key("HOST", Some("127.0.0.1"), Public, "Address the server binds to"),
    key("PORT", Some("8000"), Public, "Port the server listens on (1-65535)"),
    key("GRPC_PORT", Some("8001"), Public, "Port of the Open Inference Protocol over gRPC (0: off)"),
    key(
        "REDIS_URL",
        None,
        UrlWithPassword,
        "Full Redis URL (redis://[:password@]host:port/db); takes precedence over REDIS_HOST etc. Unset: in-process cache and online store",
    ),
    key("REDIS_HOST", None, Public, "Redis host; unset (and no REDIS_URL): in-process cache and online store"),
    key("REDIS_PORT", Some("6379"), Public, "Redis port"),
    key("REDIS_PASSWORD", None, Secret, "Redis password"),
    key("REDIS_DB", Some("0"), Public, "Redis database number"),
    key(
        "DATABASE_URL",
        None,
        UrlWithPassword,
        "PostgreSQL URL for tracking, registry and offline store; unset: SQLite under the data directory",
    ),
    key(
        "MLFLOW_TRACKING_URI",
        None,
        UrlWithPassword,
        "MLflow server to mirror runs and model versions to; unset: local tracking only",
    ),
    key(
        "ML_API_KEYS",
        None,
        Secret,
        "Comma-separated API keys required on predict/models/cache/features routes; unset: no auth, loopback only",
    ),
    key(
        "ML_ADMIN_KEYS",
        None,
        Secret,
        "Comma-separated keys for the admin routes (model reload, cache clear); unset: any API key",
    ),
    key(
        "JWT_SECRET",
        None,
        Secret,
        "HS256 secret (>= 32 characters) of the backend's user tokens; with it a token for user U may call the prediction routes and /features/online for U only",
    ),
    key(
        "JWT_JWKS_FILE",
        None,
        Public,
        "A local JWKS file with the RS256/ES256 public keys of the backend's user tokens (read at start; nothing is fetched)",
    ),
    key("JWT_ISSUER", None, Public, "The `iss` user tokens must carry; unset: not checked"),
    key("JWT_AUDIENCE", None, Public, "The `aud` user tokens must carry; unset: not checked"),
    key("CORS_ORIGINS", None, Public, "Comma-separated origins allowed by CORS (http(s)://host[:port]); unset: none"),
    key(
        "MCP_ALLOWED_HOSTS",
        Some("localhost,127.0.0.1,::1"),
        Public,
        "Comma-separated Host names (optionally host:port) the MCP endpoint /mcp answers, against DNS rebinding; * for any",
    ),
    key("LOG_LEVEL", Some("info"), Public, "trace, debug, info, warn or error"),
    key("LOG_FORMAT", Some("text"), Public, "text (human-readable) or json (one JSON object per line)"),
    key(
        "INTENT_CONFIDENCE_THRESHOLD",
        Some("0.5"),
        Public,
        "Below this top probability the intent falls back to general_question (0-1)",
    ),
    key(
        "INTENT_EMBEDDINGS",
        None,
        Public,
        "Static embeddings the intent classifier trains with: unset or `shipped` (the table in the binary), `none` (TF-IDF only) or a file from `embeddings distill`",
    ),
    key(
        "NER_EMBEDDINGS",
        None,
        Public,
        "Static embeddings the NER's word clusters are computed from: unset or `shipped` (the table in the binary), `none` (no cluster features) or a file from `embeddings distill`",
    ),
    key(
        "VALIDATION_SUITES",
        None,
        Public,
        "Validation suites (TOML) the pipeline checks each model's data with; unset: the shipped data/validation.toml",
    ),
    key(
        "ANOMALY_CONTAMINATION",
        Some("0.01"),
        Public,
        "Expected share of anomalous transactions; sets the anomaly threshold (0-0.5, exclusive of 0)",
    ),
    key(
        "CREDIT_RISK_THRESHOLD",
        Some("0.5"),
        Public,
        "Default probability at or above which will_default is true (0-1, exclusive)",
    ),
    key(
        "PREDICTION_LOG_SAMPLE_RATE",
        Some("1"),
        Public,
        "Share of served predictions written to the prediction log (0: the log is off; at most 1)",
    ),
    key("PREDICTION_LOG_RETENTION_DAYS", Some("30"), Public, "Days the prediction log keeps a row (>= 1)"),
    key(
        "PREDICTION_LOG_RETENTION_ROWS",
        Some("1000000"),
        Public,
        "Rows the prediction log keeps per model at most (>= 1)",
    ),
    key(
        "DRIFT_ALERT_THRESHOLD",
        Some("0.1"),
        Public,
        "PSI at or above which a feature is flagged in drift reports (0.1 moderate, 0.25 significant; > 0)",
    ),
    key("DRIFT_SHARE", Some("0.5"), Public, "Share of a model's features that must drift for the model to drift (0-1]"),
    key("DRIFT_WINDOW", Some("7d"), Public, "The traffic a drift check reads: the last 7d, 24h, 90m, ..."),
    key(
        "DRIFT_CHECK_INTERVAL",
        None,
        Public,
        "How often the server checks every model for drift (e.g. 1h); unset: only when asked",
    ),
    key(
        "RETRAIN_ON_DRIFT",
        Some("false"),
        Public,
        "The server starts a training run for models its periodic check finds drifted",
    ),
];

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    Derived(&'static str),
    File(PathBuf),
    DotEnv(PathBuf),
    Env,
    Cli(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Derived(from) => write!(f, "default (from {from})"),
            Source::File(p) => write!(f, "{}", p.display()),
            Source::DotEnv(p) => write!(f, "{}", p.display()),
            Source::Env => f.write_str("environment"),
            Source::Cli(flag) => write!(f, "command line ({flag})"),
        }
    }
}

/// One resolved key as `config show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub key: &'static str,
    /// The value with secrets redacted; `None` when unset.
    pub value: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// How to reach Redis, when configured.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// Always a full `redis://` URL (built from REDIS_HOST etc. when REDIS_URL is unset).
    pub url: String,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig").field("url", &nivesh_core::redact::redact_url(&self.url)).finish()
    }
}

/// The effective configuration.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub model_storage_path: PathBuf,
    pub host: String,
    pub port: u16,
    /// The OIP gRPC port; 0: off.
    pub grpc_port: u16,
    pub redis: Option<RedisConfig>,
    pub database_url: Option<String>,
    pub mlflow_tracking_uri: Option<String>,
    pub api_keys: Vec<String>,
    pub admin_keys: Vec<String>,
    pub jwt_secret: Option<String>,
    pub jwt_jwks_file: Option<PathBuf>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub cors_origins: Vec<String>,
    /// Empty: any host.
    pub mcp_allowed_hosts: Vec<String>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub intent_confidence_threshold: f64,
    pub intent_embeddings: Embeddings,
    pub ner_embeddings: Embeddings,
    pub validation_suites: Option<PathBuf>,
    pub anomaly_contamination: f64,
    pub credit_risk_threshold: f64,
    pub prediction_log_sample_rate: f64,
    pub prediction_log_retention_days: u32,
    pub prediction_log_retention_rows: u64,
    pub drift_alert_threshold: f64,
    pub drift_share: f64,
    pub drift_window: std::time::Duration,
    pub drift_check_interval: Option<std::time::Duration>,
    pub retrain_on_drift: bool,
    /// Every key, its shown value and its source.
    pub entries: Vec<Entry>,
    /// What the configuration should change, though it works (retired keys).
    pub warnings: Vec<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets stay out of Debug output (it ends up in logs).
        f.debug_struct("Config").field("entries", &self.entries).finish_non_exhaustive()
    }
}

/// Every problem found in the configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid configuration:")?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn one(problem: String) -> Self {
        ConfigError { problems: vec![problem] }
    }
}

/// The raw inputs of each layer, so resolution can be tested without touching the process.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// `nivesh.toml`: its path and contents.
    pub file: Option<(PathBuf, String)>,
    /// `.env`: its path and variables.
    pub dotenv: Option<(PathBuf, Vec<(String, String)>)>,
    /// The process environment (only known keys are read).
    pub env: BTreeMap<String, String>,
    /// Command-line overrides: key and the flag that set it.
    pub cli: Vec<(&'static str, &'static str, String)>,
}

/// Options of [`load`], usually from the command line.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--config`; falls back to `NIVESH_CONFIG`, then `./nivesh.toml` when it exists.
    pub config_path: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// Where to look for `.env`; default `./.env`.
    pub dotenv_path: Option<PathBuf>,
}

/// Load the configuration of this process: read the files and the environment, then resolve.
pub fn load(opts: &LoadOptions) -> Result<Config, ConfigError> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let (config_path, explicit) = match (&opts.config_path, env.get("NIVESH_CONFIG")) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (PathBuf::from("nivesh.toml"), false),
    };
    let file = match std::fs::read_to_string(&config_path) {
        Ok(text) => Some((config_path, text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
        Err(e) => return Err(ConfigError::one(format!("cannot read config file {}: {e}", config_path.display()))),
    };
    let dotenv_path = opts.dotenv_path.clone().unwrap_or_else(|| PathBuf::from(".env"));
    let dotenv = if dotenv_path.exists() {
        let iter = dotenvy::from_path_iter(&dotenv_path)
            .map_err(|e| ConfigError::one(format!("cannot read {}: {e}", dotenv_path.display())))?;
        let vars = iter
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError::one(format!("{}: {e}", dotenv_path.display())))?;
        Some((dotenv_path, vars))
    } else {
        None
    };
    let mut cli = Vec::new();
    if let Some(dir) = &opts.data_dir {
        cli.push(("NIVESH_DATA_DIR", "--data-dir", dir.display().to_string()));
    }
    resolve(&Layers { file, dotenv, env, cli })
}

/// Keys earlier releases read and this one does not: still accepted in a configuration file,
/// with a warning, so an existing `nivesh.toml` keeps working.
pub const RETIRED: &[(&str, &str)] =
    &[("FEATURE_TTL_SECONDS", "each feature view's `ttl_days` in the feature definitions sets it")];

fn spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.key.eq_ignore_ascii_case(name))
}

/// Merge the layers and check every value.
pub fn resolve(layers: &Layers) -> Result<Config, ConfigError> {
    let mut raw: BTreeMap<&'static str, (String, Source)> = BTreeMap::new();
    for k in KEYS {
        if let Some(d) = k.default {
            raw.insert(k.key, (d.to_string(), Source::Default));
        }
    }
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    if let Some((path, text)) = &layers.file {
        match text.parse::<toml::Table>() {
            Err(e) => problems.push(format!("{}: not valid TOML: {}", path.display(), e.message())),
            Ok(table) => {
                for (name, value) in table {
                    if let Some((key, why)) = RETIRED.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name)) {
                        warnings.push(format!("{}: {key} is no longer read ({why}); remove it", path.display()));
                        continue;
                    }
                    let Some(k) = spec(&name) else {
                        problems.push(format!(
                            "{}: unknown key '{name}' (known keys: {})",
                            path.display(),
                            KEYS.iter().map(|k| k.key.to_ascii_lowercase()).collect::<Vec<_>>().join(", ")
                        ));
                        continue;
                    };
                    let text = match &value {
                        toml::Value::Array(items) => {
                            items.iter().map(toml_scalar).collect::<Option<Vec<_>>>().map(|v| v.join(","))
                        }
                        other => toml_scalar(other),
                    };
                    let Some(text) = text else {
                        problems.push(format!(
                            "{}: {name}: expected a string, number, boolean or list of them",
                            path.display()
                        ));
                        continue;
                    };
                    raw.insert(k.key, (text, Source::File(path.clone())));
                }
            }
        }
    }
    if let Some((path, vars)) = &layers.dotenv {
        for (name, value) in vars {
            if let Some(k) = KEYS.iter().find(|k| k.key == name) {
                raw.insert(k.key, (value.clone(), Source::DotEnv(path.clone())));
            }
        }
    }
    for k in KEYS {
        if let Some(v) = layers.env.get(k.key) {
            raw.insert(k.key, (v.clone(), Source::Env));
        }
    }
    for (key, flag, value) in &layers.cli {
        if let Some(k) = spec(key) {
            raw.insert(k.key, (value.clone(), Source::Cli(flag)));
        }
    }
    // An empty value means "unset" for optional keys and "use the default" for the others.
    raw.retain(|_, (v, _)| !v.trim().is_empty());
    for k in KEYS {
        if let (Some(d), false) = (k.default, raw.contains_key(k.key)) {
            raw.insert(k.key, (d.to_string(), Source::Default));
        }
    }

    let mut p = Parser { raw: &raw, problems: &mut problems };
    let data_dir =
        PathBuf::from(p.opt("NIVESH_DATA_DIR", "a directory path", |s| Some(s.to_string())).unwrap_or_default());
    let model_storage_path = p
        .opt("MODEL_STORAGE_PATH", "a directory path", |s| Some(PathBuf::from(s)))
        .unwrap_or_else(|| data_dir.join("models"));
    let host = p.opt("HOST", "an IP address or host name", parse_host).unwrap_or_default();
    let port = p.opt("PORT", "an integer from 1 to 65535", parse_port).unwrap_or(8000);
    let grpc_port = p.opt("GRPC_PORT", "an integer from 0 (off) to 65535", |s| s.parse::<u16>().ok()).unwrap_or(8001);
    let redis_url = p.opt("REDIS_URL", "a redis:// or rediss:// URL", |s| {
        (s.starts_with("redis://") || s.starts_with("rediss://")).then(|| s.to_string())
    });
    let redis_host = p.opt("REDIS_HOST", "a host name or IP address", parse_host);
    let redis_port = p.opt("REDIS_PORT", "an integer from 1 to 65535", parse_port).unwrap_or(6379);
    let redis_password = p.opt("REDIS_PASSWORD", "a password", |s| Some(s.to_string()));
    let redis_db = p.opt("REDIS_DB", "an integer >= 0", |s| s.parse::<u32>().ok()).unwrap_or(0);
    let database_url = p.opt("DATABASE_URL", "a postgres://, postgresql:// or sqlite: URL", |s| {
        ["postgres://", "postgresql://", "sqlite:"].iter().any(|pre| s.starts_with(pre)).then(|| s.to_string())
    });
    let mlflow_tracking_uri = p.opt("MLFLOW_TRACKING_URI", "an http:// or https:// URL", |s| {
        (s.starts_with("http://") || s.starts_with("https://")).then(|| s.trim_end_matches('/').to_string())
    });
    let api_keys = p
        .opt("ML_API_KEYS", "comma-separated keys of at least 8 characters each", |s| {
            let keys = split_list(s);
            keys.iter().all(|k| k.len() >= 8).then_some(keys)
        })
        .unwrap_or_default();
    let admin_keys = p
        .opt("ML_ADMIN_KEYS", "comma-separated keys of at least 8 characters each", |s| {
            let keys = split_list(s);
            keys.iter().all(|k| k.len() >= 8).then_some(keys)
        })
        .unwrap_or_default();
    let jwt_secret =
        p.opt("JWT_SECRET", "a secret of at least 32 characters", |s| (s.len() >= 32).then(|| s.to_string()));
    let jwt_jwks_file =
        p.opt("JWT_JWKS_FILE", "a path to a JWKS file", |s| (!s.trim().is_empty()).then(|| PathBuf::from(s)));
    let jwt_issuer = p.opt("JWT_ISSUER", "an issuer string", |s| (!s.trim().is_empty()).then(|| s.to_string()));
    let jwt_audience = p.opt("JWT_AUDIENCE", "an audience string", |s| (!s.trim().is_empty()).then(|| s.to_string()));
    let cors_origins = p
        .opt("CORS_ORIGINS", "comma-separated origins such as https://app.nivesh.in (or *)", |s| {
            let origins = split_list(s);
            origins.iter().all(|o| o == "*" || o.starts_with("http://") || o.starts_with("https://")).then_some(origins)
        })
        .unwrap_or_default();
    let mcp_allowed_hosts = p
        .opt("MCP_ALLOWED_HOSTS", "comma-separated host names such as ml.nivesh.in (or *)", |s| {
            let hosts = split_list(s);
            let ok = !hosts.is_empty() && hosts.iter().all(|h| !h.contains('/') && !h.contains(' '));
            ok.then(|| if hosts.iter().any(|h| h == "*") { Vec::new() } else { hosts })
        })
        .unwrap_or_else(nivesh_server::state::default_mcp_hosts);
    let log_level = p
        .opt("LOG_LEVEL", "one of trace, debug, info, warn, error", |s| {
            let l = s.to_ascii_lowercase();
            let l = if l == "warning" { "warn".to_string() } else { l };
            ["trace", "debug", "info", "warn", "error"].contains(&l.as_str()).then_some(l)
        })
        .unwrap_or_else(|| "info".into());
    let log_format = p
        .opt("LOG_FORMAT", "text or json", |s| match s.to_ascii_lowercase().as_str() {
            "text" | "pretty" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        })
        .unwrap_or(LogFormat::Text);
    let intent_confidence_threshold = p
        .opt("INTENT_CONFIDENCE_THRESHOLD", "a number from 0 to 1", |s| unit(s, |x| (0.0..=1.0).contains(&x)))
        .unwrap_or(0.5);
    let intent_embeddings = p
        .opt("INTENT_EMBEDDINGS", "shipped, none, encoder:DIR or a file path", |s| s.parse::<Embeddings>().ok())
        .unwrap_or_default();
    let ner_embeddings = p
        .opt("NER_EMBEDDINGS", "shipped, none or a file path (the NER has no encoder mode)", |s| {
            s.parse::<Embeddings>().ok().filter(|e| !matches!(e, Embeddings::Encoder(_)))
        })
        .unwrap_or_default();
    let validation_suites = p.opt("VALIDATION_SUITES", "a file path", |s| Some(PathBuf::from(s)));
    let anomaly_contamination = p
        .opt("ANOMALY_CONTAMINATION", "a number greater than 0 and at most 0.5", |s| unit(s, |x| x > 0.0 && x <= 0.5))
        .unwrap_or(0.01);
    let credit_risk_threshold = p
        .opt("CREDIT_RISK_THRESHOLD", "a number strictly between 0 and 1", |s| unit(s, |x| x > 0.0 && x < 1.0))
        .unwrap_or(0.5);
    let prediction_log_sample_rate = p
        .opt("PREDICTION_LOG_SAMPLE_RATE", "a number from 0 to 1", |s| unit(s, |x| (0.0..=1.0).contains(&x)))
        .unwrap_or(1.0);
    let prediction_log_retention_days = p
        .opt("PREDICTION_LOG_RETENTION_DAYS", "a whole number of days >= 1", |s| {
            s.parse::<u32>().ok().filter(|&n| n >= 1)
        })
        .unwrap_or(30);
    let prediction_log_retention_rows = p
        .opt("PREDICTION_LOG_RETENTION_ROWS", "a whole number >= 1", |s| s.parse::<u64>().ok().filter(|&n| n >= 1))
        .unwrap_or(1_000_000);
    let drift_alert_threshold =
        p.opt("DRIFT_ALERT_THRESHOLD", "a number greater than 0", |s| unit(s, |x| x > 0.0)).unwrap_or(0.1);
    let drift_share = p
        .opt("DRIFT_SHARE", "a number greater than 0 and at most 1", |s| unit(s, |x| x > 0.0 && x <= 1.0))
        .unwrap_or(0.5);
    let window = |s: &str| nivesh_monitor::performance::parse_window(s.trim()).ok();
    let drift_window = p
        .opt("DRIFT_WINDOW", "a whole number and a unit such as 7d, 24h or 30m", window)
        .unwrap_or(std::time::Duration::from_secs(7 * 86_400));
    let drift_check_interval = p.opt("DRIFT_CHECK_INTERVAL", "a whole number and a unit such as 1h or 30m", window);
    let retrain_on_drift = p.opt("RETRAIN_ON_DRIFT", "true or false", |s| s.parse::<bool>().ok()).unwrap_or(false);

    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }

    let redis = match (redis_url, redis_host) {
        (Some(url), _) => Some(RedisConfig { url }),
        (None, Some(host)) => {
            let auth = redis_password.map(|pw| format!(":{}@", percent_encode(&pw))).unwrap_or_default();
            Some(RedisConfig { url: format!("redis://{auth}{host}:{redis_port}/{redis_db}") })
        }
        (None, None) => None,
    };

    let entries = KEYS
        .iter()
        .map(|k| {
            let (value, source) = match raw.get(k.key) {
                Some((v, s)) => (Some(show(k.secrecy, v)), s.to_string()),
                None if k.key == "MODEL_STORAGE_PATH" => {
                    (Some(model_storage_path.display().to_string()), Source::Derived("NIVESH_DATA_DIR").to_string())
                }
                None => (None, "unset".to_string()),
            };
            Entry { key: k.key, value, source }
        })
        .collect();

    Ok(Config {
        data_dir,
        model_storage_path,
        host,
        port,
        grpc_port,
        redis,
        database_url,
        mlflow_tracking_uri,
        api_keys,
        admin_keys,
        jwt_secret,
        jwt_jwks_file,
        jwt_issuer,
        jwt_audience,
        cors_origins,
        mcp_allowed_hosts,
        log_level,
        log_format,
        intent_confidence_threshold,
        intent_embeddings,
        ner_embeddings,
        validation_suites,
        anomaly_contamination,
        credit_risk_threshold,
        prediction_log_sample_rate,
        prediction_log_retention_days,
        prediction_log_retention_rows,
        drift_alert_threshold,
        drift_share,
        drift_window,
        drift_check_interval,
        retrain_on_drift,
        entries,
        warnings,
    })
}

struct Parser<'a> {
    raw: &'a BTreeMap<&'static str, (String, Source)>,
    problems: &'a mut Vec<String>,
}

impl Parser<'_> {
    /// Parse a key (None when unset); records a problem (naming key, value, source, what is allowed).
    fn opt<T>(&mut self, key: &'static str, allowed: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let (value, source) = self.raw.get(key)?;
        let trimmed = value.trim();
        match parse(trimmed) {
            Some(v) => Some(v),
            None => {
                let shown = match spec(key).map(|k| k.secrecy) {
                    Some(Secrecy::Secret) => show(Secrecy::Secret, trimmed),
                    Some(s) => format!("{:?}", show(s, trimmed)),
                    None => format!("{trimmed:?}"),
                };
                self.problems.push(format!("{key} = {shown} (from {source}): expected {allowed}"));
                None
            }
        }
    }
}

fn toml_scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_port(s: &str) -> Option<u16> {
    s.parse::<u16>().ok().filter(|&p| p >= 1)
}

fn parse_host(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && (s.parse::<std::net::IpAddr>().is_ok()
            || s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
    ok.then(|| s.to_string())
}

fn unit(s: &str, ok: impl Fn(f64) -> bool) -> Option<f64> {
    s.parse::<f64>().ok().filter(|x| x.is_finite() && ok(*x))
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

fn show(secrecy: Secrecy, value: &str) -> String {
    match secrecy {
        Secrecy::Public => value.to_string(),
        Secrecy::Secret => "<redacted>".to_string(),
        Secrecy::UrlWithPassword => nivesh_core::redact::redact_url(value),
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Config {
    /// Directory of generated sample data.
    pub fn generated_data_dir(&self) -> PathBuf {
        self.data_dir.join("generated")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn entry<'a>(c: &'a Config, key: &str) -> &'a Entry {
        c.entries.iter().find(|e| e.key == key).unwrap()
    }

    #[test]
    fn defaults_apply_with_no_layers() {
        let c = resolve(&Layers::default()).unwrap();
        assert_eq!(c.port, 8000);
        assert_eq!(c.data_dir, PathBuf::from("./nivesh-data"));
        assert_eq!(c.model_storage_path, PathBuf::from("./nivesh-data/models"));
        assert_eq!(c.redis, None);
        assert_eq!(c.database_url, None);
        assert_eq!(c.mlflow_tracking_uri, None);
        assert_eq!(c.intent_confidence_threshold, 0.5);
        assert_eq!(entry(&c, "PORT").source, "default");
        assert_eq!(entry(&c, "MODEL_STORAGE_PATH").source, "default (from NIVESH_DATA_DIR)");
        assert_eq!(entry(&c, "REDIS_HOST").source, "unset");
    }

    #[test]
    fn each_layer_overrides_the_one_below() {
        let file = Some((
            PathBuf::from("nivesh.toml"),
            "port = 8100\nlog_level = \"debug\"\nredis_host = \"cache.local\"\nanomaly_contamination = 0.02\n"
                .to_string(),
        ));
        let dotenv = Some((
            PathBuf::from(".env"),
            vec![("PORT".to_string(), "8200".to_string()), ("LOG_LEVEL".to_string(), "warn".to_string())],
        ));
        let layers = Layers { file, dotenv, env: env(&[("PORT", "8300")]), cli: vec![] };
        let c = resolve(&layers).unwrap();
        // environment beats .env beats file beats default
        assert_eq!(c.port, 8300);
        assert_eq!(entry(&c, "PORT").source, "environment");
        assert_eq!(c.log_level, "warn");
        assert_eq!(entry(&c, "LOG_LEVEL").source, ".env");
        assert_eq!(c.anomaly_contamination, 0.02);
        assert_eq!(entry(&c, "ANOMALY_CONTAMINATION").source, "nivesh.toml");
        assert_eq!(c.redis.as_ref().unwrap().url, "redis://cache.local:6379/0");
        assert_eq!(c.credit_risk_threshold, 0.5);
        assert_eq!(entry(&c, "CREDIT_RISK_THRESHOLD").source, "default");

        // and the command line beats the environment
        let layers = Layers {
            env: env(&[("NIVESH_DATA_DIR", "/from/env")]),
            cli: vec![("NIVESH_DATA_DIR", "--data-dir", "/from/cli".into())],
            ..Default::default()
        };
        let c = resolve(&layers).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from/cli"));
        assert_eq!(c.model_storage_path, PathBuf::from("/from/cli/models"));
        assert_eq!(entry(&c, "NIVESH_DATA_DIR").source, "command line (--data-dir)");
    }

    fn problems(pairs: &[(&str, &str)]) -> Vec<String> {
        resolve(&Layers { env: env(pairs), ..Default::default() }).unwrap_err().problems
    }

    #[test]
    fn every_bad_value_names_key_value_source_and_allowed() {
        let cases: &[(&str, &str, &str)] = &[
            ("PORT", "abc", "PORT = \"abc\" (from environment): expected an integer from 1 to 65535"),
            ("PORT", "0", "PORT = \"0\" (from environment): expected an integer from 1 to 65535"),
            ("PORT", "70000", "expected an integer from 1 to 65535"),
            ("HOST", "bad host!", "HOST = \"bad host!\" (from environment): expected an IP address or host name"),
            ("REDIS_PORT", "-1", "REDIS_PORT = \"-1\" (from environment): expected an integer from 1 to 65535"),
            ("REDIS_DB", "x", "REDIS_DB = \"x\" (from environment): expected an integer >= 0"),
            ("REDIS_HOST", "a b", "REDIS_HOST = \"a b\" (from environment): expected a host name or IP address"),
            (
                "REDIS_URL",
                "http://x",
                "REDIS_URL = \"http://x\" (from environment): expected a redis:// or rediss:// URL",
            ),
            (
                "DATABASE_URL",
                "mysql://u:pw@h/db",
                "DATABASE_URL = \"mysql://u:<redacted>@h/db\" (from environment): expected a postgres://, postgresql:// or sqlite: URL",
            ),
            (
                "MLFLOW_TRACKING_URI",
                "localhost:5000",
                "MLFLOW_TRACKING_URI = \"localhost:5000\" (from environment): expected an http:// or https:// URL",
            ),
            (
                "ML_API_KEYS",
                "short",
                "ML_API_KEYS = <redacted> (from environment): expected comma-separated keys of at least 8 characters each",
            ),
            (
                "CORS_ORIGINS",
                "example.com",
                "CORS_ORIGINS = \"example.com\" (from environment): expected comma-separated origins",
            ),
            (
                "LOG_LEVEL",
                "loud",
                "LOG_LEVEL = \"loud\" (from environment): expected one of trace, debug, info, warn, error",
            ),
            ("LOG_FORMAT", "xml", "LOG_FORMAT = \"xml\" (from environment): expected text or json"),
            (
                "INTENT_CONFIDENCE_THRESHOLD",
                "1.7",
                "INTENT_CONFIDENCE_THRESHOLD = \"1.7\" (from environment): expected a number from 0 to 1",
            ),
            ("INTENT_CONFIDENCE_THRESHOLD", "NaN", "expected a number from 0 to 1"),
            (
                "ANOMALY_CONTAMINATION",
                "0",
                "ANOMALY_CONTAMINATION = \"0\" (from environment): expected a number greater than 0 and at most 0.5",
            ),
            ("ANOMALY_CONTAMINATION", "0.6", "expected a number greater than 0 and at most 0.5"),
            (
                "CREDIT_RISK_THRESHOLD",
                "1",
                "CREDIT_RISK_THRESHOLD = \"1\" (from environment): expected a number strictly between 0 and 1",
            ),
        ];
        for (key, value, want) in cases {
            let got = problems(&[(key, value)]);
            assert_eq!(got.len(), 1, "{key}={value}: {got:?}");
            assert!(got[0].contains(want), "{key}={value}: got {:?}, want {want:?}", got[0]);
        }
    }

    #[test]
    fn all_problems_are_reported_together_with_their_source_file() {
        let layers = Layers {
            file: Some((PathBuf::from("conf/nivesh.toml"), "port = \"abc\"\nprot = 1\n".into())),
            env: env(&[("CREDIT_RISK_THRESHOLD", "1.7")]),
            ..Default::default()
        };
        let err = resolve(&layers).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("conf/nivesh.toml: unknown key 'prot'"), "{text}");
        assert!(text.contains("PORT = \"abc\" (from conf/nivesh.toml)"), "{text}");
        assert!(text.contains("CREDIT_RISK_THRESHOLD = \"1.7\" (from environment)"), "{text}");
        assert_eq!(err.problems.len(), 3);

        let bad_toml = Layers { file: Some((PathBuf::from("n.toml"), "port = ".into())), ..Default::default() };
        assert!(resolve(&bad_toml).unwrap_err().to_string().contains("n.toml: not valid TOML"));
    }

    #[test]
    fn secrets_are_redacted_in_entries() {
        let c = resolve(&Layers {
            env: env(&[
                ("ML_API_KEYS", "key-one-123456,key-two-123456"),
                ("REDIS_HOST", "localhost"),
                ("REDIS_PASSWORD", "p@ss word"),
                ("DATABASE_URL", "postgres://nivesh:hunter2@db:5432/nivesh"),
            ]),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.api_keys, vec!["key-one-123456", "key-two-123456"]);
        assert_eq!(entry(&c, "ML_API_KEYS").value.as_deref(), Some("<redacted>"));
        assert_eq!(entry(&c, "REDIS_PASSWORD").value.as_deref(), Some("<redacted>"));
        assert_eq!(entry(&c, "DATABASE_URL").value.as_deref(), Some("postgres://nivesh:<redacted>@db:5432/nivesh"));
        assert_eq!(c.redis.as_ref().unwrap().url, "redis://:p%40ss%20word@localhost:6379/0");
        let debug = format!("{c:?}");
        assert!(!debug.contains("hunter2") && !debug.contains("key-one") && !debug.contains("p@ss"), "{debug}");
    }

    #[test]
    fn empty_values_mean_unset_or_default() {
        let c = resolve(&Layers { env: env(&[("PORT", ""), ("REDIS_HOST", " ")]), ..Default::default() }).unwrap();
        assert_eq!(c.port, 8000);
        assert_eq!(c.redis, None);
    }

    #[test]
    fn env_example_lists_every_config_key() {
        let example = include_str!("../../../.env.example");
        for k in KEYS {
            assert!(
                example.lines().any(|l| l.trim_start_matches("# ").starts_with(&format!("{}=", k.key))),
                ".env.example has no line for {}",
                k.key
            );
        }
    }

    #[test]
    fn readme_documents_every_config_key() {
        let readme = include_str!("../../../README.md");
        for k in KEYS {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", k.key)))
                .unwrap_or_else(|| panic!("README has no config table row for {}", k.key));
            if let Some(default) = k.default {
                assert!(
                    row.contains(&format!("`{default}`")),
                    "README row for {} lacks default {default}: {row}",
                    k.key
                );
            }
        }
    }

    #[test]
    fn retired_keys_in_a_file_are_accepted_with_a_warning() {
        let layers = Layers {
            file: Some(("nivesh.toml".into(), "feature_ttl_seconds = 60\nport = 8100\n".into())),
            ..Default::default()
        };
        let c = resolve(&layers).unwrap();
        assert_eq!(c.port, 8100);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("FEATURE_TTL_SECONDS is no longer read"), "{:?}", c.warnings);
        let layers = Layers { file: Some(("nivesh.toml".into(), "shoe_size = 9\n".into())), ..Default::default() };
        assert!(resolve(&layers).is_err(), "an unknown key is still an error");
    }
}
