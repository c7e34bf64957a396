//! Logging setup: `RUST_LOG` filters; human-readable lines on stderr (colours only when stderr is
//! a terminal) or, with `TERMINBUCH_LOG_FORMAT=json`, one JSON object per line.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; later calls are no-ops. `RUST_LOG`, when set, replaces
/// `default_filter`.
///
/// # Errors
/// A `RUST_LOG` that is no filter (a typo must not fall back to the default unnoticed), or one
/// that is not UTF-8: the message names it.
pub fn init(default_filter: &str, format: LogFormat) -> Result<(), String> {
    let filter = match std::env::var(EnvFilter::DEFAULT_ENV) {
        Ok(value) => {
            EnvFilter::try_new(&value).map_err(|err| format!("RUST_LOG: invalid log filter {value:?}: {err}"))?
        }
        Err(std::env::VarError::NotPresent) => EnvFilter::new(default_filter),
        Err(std::env::VarError::NotUnicode(_)) => return Err("RUST_LOG is not UTF-8".to_owned()),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        // The span list repeats the fields of every enclosing span; the current one is enough.
        LogFormat::Json => builder.json().with_ansi(false).with_span_list(false).flatten_event(true).try_init(),
    };
    Ok(())
}
