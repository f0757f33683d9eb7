//! The run's lines on stderr: text for people, or one JSON object per line.

use chrono::Utc;

/// How `run` writes its lines on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The run's lines on stderr.
#[derive(Clone, Copy)]
pub(crate) struct Log {
    pub(super) quiet: bool,
    pub(super) format: LogFormat,
}

impl Log {
    pub(super) fn info(&self, line: &str) {
        if !self.quiet {
            self.write("info", line);
        }
    }

    pub(super) fn warn(&self, line: &str) {
        self.write("warn", line);
    }

    fn write(&self, level: &str, line: &str) {
        match self.format {
            LogFormat::Text => eprintln!("{line}"),
            LogFormat::Json => eprintln!("{}", json_line(level, line)),
        }
    }
}

/// One log record as JSON: time, level, message.
pub fn json_line(level: &str, message: &str) -> String {
    serde_json::json!({
        "ts": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "level": level,
        "msg": message,
    })
    .to_string()
}
