//! Logging setup: human-readable text on a terminal, JSON lines with `LOG_FORMAT=json`. Every
//! line passes through [`nivesh_core::redact::redact`] before it is written.

use crate::config::{Config, LogFormat};
use std::io::{IsTerminal, Write};
use tracing_subscriber::EnvFilter;

/// Writes formatted log lines to stderr with secrets and identifiers redacted.
pub struct RedactingWriter<W: Write> {
    inner: W,
}

impl<W: Write> RedactingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self { inner }
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.inner.write_all(nivesh_core::redact::redact(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Libraries whose `info` lines are per request, not per event: the MCP transport (`rmcp`) logs
/// three lines for every tool call ("Service initialized", "input stream terminated", "serve
/// finished"), ~100 MB of log in one `bench/load.sh` run. Under a default level of `info` or more
/// verbose they log at `warn`, unless the filter names them (`RUST_LOG=info,rmcp=info`); a
/// quieter default (`warn`, `error`, `off`, or none) applies to them as it is.
const QUIET_TARGETS: &[&str] = &["rmcp"];

/// The filter directives: `RUST_LOG` when set (it replaces `LOG_LEVEL`), else `LOG_LEVEL`, with
/// [`QUIET_TARGETS`] at `warn` as said there.
fn filter_spec(rust_log: Option<&str>, log_level: &str) -> String {
    let given = rust_log.filter(|s| !s.trim().is_empty()).unwrap_or(log_level);
    let directives: Vec<&str> = given.split(',').map(str::trim).filter(|d| !d.is_empty()).collect();
    // the default level: the last directive that is a level alone (a bare word is a target)
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let default = directives.iter().rev().map(|d| d.to_lowercase()).find(|d| LEVELS.contains(&d.as_str()));
    let verbose = matches!(default.as_deref(), Some("info" | "debug" | "trace"));
    let named = |target: &str| {
        directives.iter().any(|d| {
            let t = d.split(['=', '[']).next().unwrap_or("").trim();
            t == target || t.strip_prefix(target).is_some_and(|rest| rest.starts_with("::"))
        })
    };
    let quieted: Vec<String> =
        QUIET_TARGETS.iter().filter(|t| verbose && !named(t)).map(|t| format!("{t}=warn")).collect();
    directives.iter().copied().chain(quieted.iter().map(String::as_str)).collect::<Vec<_>>().join(",")
}

/// Install the global subscriber: `RUST_LOG` when set (a spec that does not parse falls back to
/// `LOG_LEVEL`), else `LOG_LEVEL`.
pub fn init(config: &Config) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let spec = filter_spec(rust_log.as_deref(), &config.log_level);
    let filter = EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        let fallback = filter_spec(None, &config.log_level);
        eprintln!("nivesh-ml: log filter {spec:?} is not valid ({e}); using {fallback:?}");
        EnvFilter::try_new(&fallback).unwrap_or_else(|_| EnvFilter::new(filter_spec(None, "info")))
    });
    let make_writer = || RedactingWriter::new(std::io::stderr());
    let result = match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(false)
            .with_writer(make_writer)
            .try_init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .with_writer(make_writer)
            .try_init(),
    };
    // Already initialised (only possible in tests): keep the first subscriber.
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::filter_spec;
    use tracing_subscriber::EnvFilter;

    #[test]
    fn the_mcp_transport_is_quiet_unless_named() {
        assert_eq!(filter_spec(None, "info"), "info,rmcp=warn");
        assert_eq!(filter_spec(Some(""), "debug"), "debug,rmcp=warn");
        assert_eq!(filter_spec(Some(" INFO , nivesh_server=debug ,"), "warn"), "INFO,nivesh_server=debug,rmcp=warn");
        assert_eq!(filter_spec(Some("info,rmcp=debug"), "warn"), "info,rmcp=debug");
        assert_eq!(filter_spec(Some("debug,rmcp::service=info"), "warn"), "debug,rmcp::service=info");
        assert_eq!(filter_spec(None, "rmcp=trace"), "rmcp=trace");
        assert_eq!(filter_spec(Some("info,rmcp"), "warn"), "info,rmcp");
        assert_eq!(filter_spec(Some("nivesh_server,debug"), "warn"), "nivesh_server,debug,rmcp=warn");
        // another crate whose name starts the same is not rmcp
        assert_eq!(filter_spec(Some("info,rmcp_other=debug"), "warn"), "info,rmcp_other=debug,rmcp=warn");
        // a quieter default, or none, is left as it is: never louder for rmcp
        for quiet in ["warn", "error", "off", "nivesh_server=debug"] {
            assert_eq!(filter_spec(Some(quiet), "info"), quiet);
            assert_eq!(filter_spec(None, quiet), quiet);
        }
        // every spec made here parses
        for spec in [filter_spec(None, "info"), filter_spec(Some(" INFO , nivesh_server=debug ,"), "x")] {
            assert!(EnvFilter::try_new(&spec).is_ok(), "{spec}");
        }
    }
}
