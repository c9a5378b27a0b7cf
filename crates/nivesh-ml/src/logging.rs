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

/// Install the global subscriber. `RUST_LOG`, when set, refines `LOG_LEVEL`.
pub fn init(config: &Config) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&config.log_level));
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
