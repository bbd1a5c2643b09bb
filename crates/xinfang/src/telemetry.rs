//! Logs: human-readable lines without colour codes when stderr is not a terminal (so `up`'s log
//! files read cleanly), or one JSON object per line (`--log-format json`, or `XF_LOG_FORMAT=json`,
//! which `up` hands to its services). The filter is `XF_LOG` (default `info,async_nats=warn`).

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// The environment variable that carries the format to `up`'s services.
pub const LOG_FORMAT_ENV: &str = "XF_LOG_FORMAT";

pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("XF_LOG")
        .unwrap_or_else(|_| "info,async_nats=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
}
