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
/// finished"), ~100 MB of log in one `bench/load.sh` run. They log at `warn` unless the filter
/// names them (`RUST_LOG=rmcp=info`).
const QUIET_TARGETS: &[&str] = &["rmcp"];

/// The filter directives: `RUST_LOG` when set, else `LOG_LEVEL`, with [`QUIET_TARGETS`] at `warn`
/// unless the spec names them.
fn filter_spec(rust_log: Option<&str>, log_level: &str) -> String {
    let mut spec = rust_log.filter(|s| !s.trim().is_empty()).unwrap_or(log_level).trim().to_string();
    for target in QUIET_TARGETS {
        if !spec.split(',').any(|d| d.trim().starts_with(target)) {
            if !spec.is_empty() {
                spec.push(',');
            }
            spec.push_str(target);
            spec.push_str("=warn");
        }
    }
    spec
}

/// Install the global subscriber. `RUST_LOG`, when set, refines `LOG_LEVEL`.
pub fn init(config: &Config) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let spec = filter_spec(rust_log.as_deref(), &config.log_level);
    let filter = EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("nivesh-ml: log filter {spec:?} is not valid ({e}); logging at info");
        EnvFilter::new(filter_spec(None, "info"))
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

    #[test]
    fn the_mcp_transport_is_quiet_unless_named() {
        assert_eq!(filter_spec(None, "info"), "info,rmcp=warn");
        assert_eq!(filter_spec(Some(""), "debug"), "debug,rmcp=warn");
        assert_eq!(filter_spec(Some("nivesh_server=debug"), "info"), "nivesh_server=debug,rmcp=warn");
        assert_eq!(filter_spec(Some("info,rmcp=debug"), "warn"), "info,rmcp=debug");
        assert_eq!(filter_spec(None, "rmcp=trace"), "rmcp=trace");
    }
}
