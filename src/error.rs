//! Errors grouped by failure domain, each with its exit code.
//!
//! Lower layers report facts; callers add context (the flag, the path). `main` prints the
//! error as one line on stderr and exits with [`Error::exit_code`].

use std::path::PathBuf;

/// Exit codes, documented in README.md and `--help`.
pub mod exit {
    /// Bad input: flags, dates, patterns, unknown domain.
    pub const INPUT: u8 = 2;
    /// The database: connection, authentication, query, timeout.
    pub const DATABASE: u8 = 3;
    /// The output: unwritable path, disk full.
    pub const OUTPUT: u8 = 4;
    /// Anything else.
    pub const OTHER: u8 = 1;
    /// Stopped by SIGINT.
    pub const SIGINT: u8 = 130;
    /// Stopped by SIGTERM.
    pub const SIGTERM: u8 = 143;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something invalid.
    #[error("{0}")]
    Input(String),

    /// The database refused or failed; `context` says what we were doing.
    #[error("{context}: {}", describe_db_error(.source))]
    Database {
        context: String,
        #[source]
        source: sqlx::Error,
    },

    /// Writing the output failed.
    #[error("{path}: {source}")]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Encoding a format failed (Parquet, CSV, JSON); `io` is the kind of the I/O error
    /// underneath, when there is one (a closed pipe, a full disk).
    #[error("writing {format}: {message}")]
    Encode {
        format: &'static str,
        message: String,
        io: Option<std::io::ErrorKind>,
    },

    /// A signal stopped the export.
    #[error("interrupted by {name}, nothing was published")]
    Interrupted { name: &'static str, code: u8 },

    /// A local I/O step outside the output (the demo server's files, a free port).
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// Another run holds the output root's lock.
    #[error("another run is using {} (lock {})", root.display(), lock.display())]
    Locked { root: PathBuf, lock: PathBuf },

    /// The database lacks a table or column of a release older than others it has; the
    /// message names each one.
    #[error("{0}")]
    SchemaGap(String),

    /// `check` found datasets that cannot run (each one printed above).
    #[error("some datasets cannot run here (see the lines above)")]
    CheckFailed,

    /// The run's state file cannot be read as state.
    #[error("{} is damaged ({reason}); restore it from a backup or remove it to start over", path.display())]
    DamagedState { path: PathBuf, reason: String },

    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the reader of the output went away (`webitel-export calls | head`).
    pub fn is_broken_pipe(&self) -> bool {
        use std::io::ErrorKind::BrokenPipe;
        match self {
            Error::Output { source, .. } => source.kind() == BrokenPipe,
            Error::Encode { io, .. } => *io == Some(BrokenPipe),
            _ => false,
        }
    }

    /// A local I/O failure with what we were doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into())
    }

    /// Wraps a database error with what we were doing. A few server errors are really input
    /// errors (an invalid regular expression, a malformed JSON value) and are classed so.
    pub fn database(context: impl Into<String>, source: sqlx::Error) -> Self {
        let context = context.into();
        if let Some(db) = source.as_database_error() {
            // 2201B invalid_regular_expression, 22P02 invalid_text_representation.
            if matches!(db.code().as_deref(), Some("2201B" | "22P02")) {
                return Error::Input(format!("{context}: {}", db.message()));
            }
        }
        Error::Database { context, source }
    }

    pub fn output(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Output {
            path: path.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => exit::INPUT,
            Error::Database { .. } => exit::DATABASE,
            Error::Output { .. } | Error::Encode { .. } => exit::OUTPUT,
            Error::Interrupted { code, .. } => *code,
            Error::Io { .. }
            | Error::Locked { .. }
            | Error::CheckFailed
            | Error::SchemaGap(_)
            | Error::DamagedState { .. }
            | Error::Other(_) => exit::OTHER,
        }
    }

    /// The message as exactly one line: what a cron mail or a log collector shows.
    pub fn one_line(&self) -> String {
        let text = self.to_string();
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// sqlx's own wording plus a hint for the failures an administrator meets first.
/// sqlx never puts the password in these messages; neither do we.
fn describe_db_error(err: &sqlx::Error) -> String {
    if let Some(db) = err.as_database_error() {
        let code = db.code().unwrap_or_default();
        let hint = match code.as_ref() {
            "28P01" | "28000" => " (check the user name and password, or ~/.pgpass)",
            "42501" => " (the role lacks SELECT on a table: see the read-only role in README.md)",
            "57014" => " (raise --statement-timeout or narrow the time range)",
            "3D000" => " (check the database name)",
            "42P01" | "42703" => {
                " (`webitel-export check` names the Webitel release it finds and what each export needs)"
            }
            _ => "",
        };
        return format!("{} [SQLSTATE {code}]{hint}", db.message());
    }
    match err {
        // A refused certificate surfaces from the TLS handshake as an I/O error.
        sqlx::Error::Io(io) if io.to_string().contains("certificate") => {
            format!("TLS: {io} (check --sslmode, --sslrootcert and the host name)")
        }
        sqlx::Error::Io(io) => format!("{io} (is the server running and reachable?)"),
        sqlx::Error::Tls(tls) => format!("TLS: {tls} (check --sslmode and --sslrootcert)"),
        sqlx::Error::PoolTimedOut => "timed out connecting".to_string(),
        other => other.to_string(),
    }
}
/// A clap error as one line: its first line without the `error: ` prefix, joined with the
/// next line when the first ends with `:` ("the following required arguments were not
/// provided:" names them on the next line).
pub fn clap_one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let message = first.trim_start_matches("error: ");
    match lines.next() {
        Some(detail) if message.ends_with(':') => format!("{message} {detail}"),
        _ => message.to_string(),
    }
}
