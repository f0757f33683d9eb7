//! What a run needs before it reads: the connection settings (flags completed by the
//! config) and the lock that keeps one run per output root.

use std::path::Path;

use super::config::Config;
use super::state;
use crate::error::{Error, Result};
use crate::source::ConnArgs;
use crate::timearg::{Span, parse_duration};

/// The CLI's connection flags, completed by the config's `[connection]` where the command line
/// and the environment say nothing.
pub(super) fn connection(cli: &ConnArgs, config: &Config) -> Result<ConnArgs> {
    let mut conn = cli.clone();
    let from_file = &config.connection;
    if conn.database_url.is_none() {
        conn.database_url = from_file.url.clone();
    }
    if conn.sslmode.is_none()
        && let Some(mode) = &from_file.sslmode
    {
        conn.sslmode = Some(mode.parse().map_err(|_| {
            Error::input(format!(
                "config [connection] sslmode '{mode}' is not a TLS mode"
            ))
        })?);
    }
    if conn.sslrootcert.is_none() {
        conn.sslrootcert = from_file.sslrootcert.clone();
    }
    if conn.statement_timeout.is_none()
        && let Some(timeout) = &from_file.statement_timeout
    {
        let limit = parse_duration("[connection] statement_timeout", timeout)?;
        conn.statement_timeout = Some(Span(limit));
    }
    if conn.work_mem.is_none()
        && let Some(size) = &from_file.work_mem
    {
        conn.work_mem =
            Some(size.parse().map_err(|e| {
                Error::input(format!("invalid [connection] work_mem '{size}': {e}"))
            })?);
    }
    if conn.password_file.is_none() {
        conn.password_file = from_file.password_file.clone();
    }
    if conn.connect_retries == 0 {
        conn.connect_retries = from_file.connect_retries.unwrap_or(0);
    }
    conn.validate()?;
    Ok(conn)
}

/// One run at a time per output root: an exclusive `flock` on `<root>/_state/lock`, released
/// when the process ends, however it ends.
pub(super) struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    pub(super) fn acquire(root: &Path) -> Result<RunLock> {
        let dir = state::state_dir(root);
        std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
        let path = dir.join("lock");
        // A link or a FIFO put there is not ours to open.
        crate::sink::place::ensure_replaceable(&path)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::output(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
                root: root.to_path_buf(),
                lock: path,
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::output(&path, e)),
        }
    }
}
