//! Logging setup: `RUST_LOG` filters; human-readable lines on stderr (colours only when stderr is
//! a terminal) or, with `TERMINBUCH_LOG_FORMAT=json`, one JSON object per line.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; later calls are no-ops.
pub fn init(default_filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        // The span list repeats the fields of every enclosing span; the current one is enough.
        LogFormat::Json => builder.json().with_ansi(false).with_span_list(false).flatten_event(true).try_init(),
    };
}
