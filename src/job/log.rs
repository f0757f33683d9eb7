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
            LogFormat::Text => stderr_line(level, line),
            LogFormat::Json => stderr_line(level, &json_line(level, line)),
        }
    }
}

/// Writes `line` to stderr; when stderr is the systemd journal, prefixed with the level's
/// syslog priority (`<3>` error, `<4>` warning, `<6>` info), which journald takes from a
/// service's output (`SyslogLevelPrefix=`, on by default) and strips: `journalctl -p err`
/// then finds a failed run.
pub fn stderr_line(level: &str, line: &str) {
    if stderr_is_journal() {
        let priority = match level {
            "error" => 3,
            "warn" => 4,
            _ => 6,
        };
        eprintln!("<{priority}>{line}");
    } else {
        eprintln!("{line}");
    }
}

/// Whether stderr is the journal's stream: systemd names it in `JOURNAL_STREAM` as
/// `device:inode`, and a redirected stderr (a file, a pipe to a wrapper) no longer matches.
fn stderr_is_journal() -> bool {
    static JOURNAL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *JOURNAL.get_or_init(|| {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
            return false;
        };
        let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else {
            return false;
        };
        let stderr = std::io::stderr();
        let Ok(fd) = stderr.as_fd().try_clone_to_owned() else {
            return false;
        };
        match std::fs::File::from(fd).metadata() {
            Ok(meta) => dev.parse() == Ok(meta.dev()) && ino.parse() == Ok(meta.ino()),
            Err(_) => false,
        }
    })
}

/// Whether the command line asks for `--log-format json` (read from the raw arguments, for
/// the errors found before they parse).
pub fn json_requested<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> bool {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    args.iter().enumerate().any(|(i, arg)| {
        arg == "--log-format=json"
            || (arg == "--log-format" && args.get(i + 1).is_some_and(|next| next == "json"))
    })
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
