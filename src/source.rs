//! Connecting to the Webitel database and opening the read-only snapshot every export reads.
//!
//! Connection settings come from `--database-url`, `WEBITEL_DATABASE_URL`, `DATABASE_URL`, or
//! else the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE,
//! PGSSLROOTCERT) and `~/.pgpass`, which sqlx reads itself. The password is never printed:
//! this module derives no `Debug` for the arguments and error texts never contain the URL.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{Connection, Executor};

use crate::error::{Error, Result};
use crate::timearg::Span;

/// How to reach the database. Shared by every subcommand that reads it.
#[derive(clap::Args, Clone)]
pub struct ConnArgs {
    /// PostgreSQL URL, e.g. postgres://exporter@db:5432/webitel?sslmode=verify-full.
    /// Falls back to WEBITEL_DATABASE_URL, DATABASE_URL, then PGHOST/PGUSER/… and ~/.pgpass.
    #[arg(
        long,
        env = "WEBITEL_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    /// TLS mode: disable, prefer, require, verify-ca, verify-full (overrides the URL).
    #[arg(long, value_name = "MODE", value_parser = parse_ssl_mode)]
    pub sslmode: Option<PgSslMode>,

    /// PEM file with the CA certificate(s) that sign the server certificate.
    #[arg(long, value_name = "FILE")]
    pub sslrootcert: Option<PathBuf>,

    /// Cancel any statement that runs longer than this (30s, 5m, 1h; 0 = no limit)
    /// [default: no limit].
    #[arg(long, value_name = "DURATION")]
    pub statement_timeout: Option<Span>,

    /// Memory each sort or hash of the export's queries may use on the server before it
    /// spills to disk (PostgreSQL's work_mem, for the export's transaction only; a hash may use
    /// twice this: hash_mem_multiplier 2). 64MB, 256MB…, at most 1GB; 0 = the server's own
    /// setting [default: 64MB]. A narrow read per row (a window or id list of calls or
    /// conversations), which probes indexes, keeps the server's own setting.
    #[arg(long, value_name = "SIZE")]
    pub work_mem: Option<WorkMem>,

    /// Give up connecting after this long.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub connect_timeout: Span,

    /// When the server is unreachable or still starting, try again this many times, waiting
    /// 1 s, 2 s, 4 s… (at most 30 s) in between. A refused login is never retried.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub connect_retries: u32,

    /// Read the password from this file (its first line), so it appears in no command line,
    /// URL or environment. Without it: the URL, PGPASSWORD, then ~/.pgpass (or PGPASSFILE).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Fail when the server sends nothing for this long in the middle of an export (a stalled
    /// connection or network); 0 = wait forever. Long first-row waits of big reports count.
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub stall_timeout: Span,
}

/// `--work-mem`: a size PostgreSQL's work_mem accepts, in kB; 0 keeps the server's setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkMem(pub u64);

/// The work_mem an export asks for when nothing is said: the bulk calls query's hashes (every
/// recording, every parent leg) fit it on a million legs; bigger tables spill in batches.
const DEFAULT_WORK_MEM_KB: u64 = 64 << 10;
/// The most an export asks for: the server's memory is the customer's.
const MAX_WORK_MEM_KB: u64 = 1 << 20;

impl std::str::FromStr for WorkMem {
    type Err = String;
    fn from_str(value: &str) -> std::result::Result<Self, String> {
        const EXPECTED: &str = "expected a size like 64MB, 256MB or 1GB (0 = the server's)";
        let v = value.trim();
        let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
        let (digits, unit) = v.split_at(split);
        let n: u64 = digits.parse().map_err(|_| EXPECTED.to_string())?;
        let kb = match unit.trim() {
            "" if n == 0 => Some(0),
            "kB" | "KB" => Some(n),
            "MB" => n.checked_mul(1 << 10),
            "GB" => n.checked_mul(1 << 20),
            _ => None,
        }
        .ok_or_else(|| EXPECTED.to_string())?;
        if kb > MAX_WORK_MEM_KB {
            return Err("at most 1GB: the server's memory is shared with Webitel".to_string());
        }
        if kb != 0 && kb < 64 {
            return Err("at least 64kB, PostgreSQL's minimum".to_string());
        }
        Ok(WorkMem(kb))
    }
}

fn parse_ssl_mode(value: &str) -> Result<PgSslMode, String> {
    value.parse::<PgSslMode>().map_err(|_| {
        "expected disable, allow, prefer, require, verify-ca or verify-full".to_string()
    })
}

impl ConnArgs {
    /// The settings of a command line that gives only `--database-url url`: every other flag
    /// at its default.
    pub fn for_url(url: &str) -> ConnArgs {
        #[derive(clap::Parser)]
        #[command(no_binary_name = true)]
        struct Flags {
            #[command(flatten)]
            conn: ConnArgs,
        }
        <Flags as clap::Parser>::try_parse_from(["--database-url", url])
            .expect("the defaults parse")
            .conn
    }

    /// Connection options, validated without touching the network.
    pub fn options(&self) -> Result<PgConnectOptions> {
        let url = self
            .database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok())
            .filter(|u| !u.trim().is_empty());
        let mut options = match url {
            // The parse error names what is wrong, never the URL itself (it may hold a password).
            Some(url) => url.parse::<PgConnectOptions>().map_err(|e| {
                Error::input(format!("invalid --database-url: {}", url_error_reason(&e)))
            })?,
            None => PgConnectOptions::new(),
        };
        options = options
            .application_name("webitel-export")
            // Belt and braces: even a statement outside our snapshot could not write.
            .options([("default_transaction_read_only", "on")]);
        if let Some(mode) = self.sslmode {
            options = options.ssl_mode(mode);
        }
        if let Some(cert) = &self.sslrootcert {
            if !cert.is_file() {
                return Err(Error::input(format!(
                    "--sslrootcert '{}' is not a readable file",
                    cert.display()
                )));
            }
            options = options.ssl_root_cert(cert);
        }
        if let Some(file) = &self.password_file {
            options = options.password(&read_password_file(file)?);
        } else if let Some(password) = systemd_credential()? {
            options = options.password(&password);
        }
        Ok(options)
    }

    /// `--stall-timeout`, `None` for no limit.
    pub fn stall_timeout(&self) -> Option<Duration> {
        let limit = self.stall_timeout.0;
        (!limit.is_zero()).then_some(limit)
    }

    /// `--work-mem` in kB; `None` for the server's own setting.
    pub fn work_mem_kb(&self) -> Option<u64> {
        let kb = self.work_mem.map_or(DEFAULT_WORK_MEM_KB, |w| w.0);
        (kb != 0).then_some(kb)
    }

    /// `--statement-timeout`; zero is no limit.
    pub fn statement_timeout(&self) -> Duration {
        self.statement_timeout.unwrap_or_default().0
    }

    /// Checks every setting that can be checked offline (the durations were checked when
    /// the flags were parsed).
    pub fn validate(&self) -> Result<()> {
        self.options()?;
        Ok(())
    }

    /// Opens one connection, retrying `--connect-retries` times with exponential backoff
    /// while the server is unreachable or not accepting connections yet.
    pub async fn connect(&self) -> Result<PgConnection> {
        // Two rustls providers are linked (ring, which sqlx is built with; aws-lc-rs, which
        // delta-rs's HTTP client brings): rustls then needs the process default named, or a
        // verify-full handshake panics.
        crate::sink::object::install_tls_provider();
        let options = self.options()?;
        let limit = self.connect_timeout.0;
        let target = describe_target(&options);
        let mut attempt = 0;
        loop {
            let outcome =
                match tokio::time::timeout(limit, PgConnection::connect_with(&options)).await {
                    Ok(result) => result,
                    Err(_) => Err(sqlx::Error::PoolTimedOut),
                };
            match outcome {
                Ok(conn) => return Ok(conn),
                Err(e) if attempt < self.connect_retries && is_transient(&e) => {
                    let wait = Duration::from_secs(1 << attempt.min(5)).min(MAX_BACKOFF);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(e) => {
                    let tries = match attempt {
                        0 => String::new(),
                        n => format!(" ({} attempts)", n + 1),
                    };
                    return Err(Error::database(format!("connecting to {target}{tries}"), e));
                }
            }
        }
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Whether a failed connection attempt may succeed later: the server is unreachable, timed
/// out, starting up or shutting down, or out of connection slots. A refused login, a TLS
/// verification failure or a missing database will not change by waiting.
fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => matches!(
            db.code().as_deref(),
            // cannot_connect_now, admin_shutdown, too_many_connections
            Some("57P03" | "57P01" | "53300")
        ),
        _ => false,
    }
}

/// The password systemd hands the packaged unit as the credential `pgpassword`
/// (`LoadCredential=`), when there is one: an empty or missing credential (the unit's
/// `SetCredential=` fallback when /etc/webitel-export/password does not exist) is no
/// password, and ~/.pgpass, a client certificate or peer authentication take over.
fn systemd_credential() -> Result<Option<String>> {
    let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") else {
        return Ok(None);
    };
    let path = std::path::Path::new(&dir).join("pgpassword");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .next()
            .filter(|l| !l.is_empty())
            .map(str::to_string)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::input(format!(
            "the credential '{}' cannot be read: {e}",
            path.display()
        ))),
    }
}

/// The first line of `--password-file`, without its line ending.
fn read_password_file(file: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Error::input(format!(
            "--password-file '{}' cannot be read: {e}",
            file.display()
        ))
    })?;
    let password = text.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(Error::input(format!(
            "--password-file '{}' is empty",
            file.display()
        )));
    }
    Ok(password)
}

/// `user@host:port/database`, without the password, for messages.
pub fn describe_target(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username())
    )
}

fn url_error_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Configuration(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

/// Opens another connection that reads the snapshot `snapshot` (exported by the export's
/// first connection with `pg_export_snapshot()`), read-only, with the same statement timeout.
pub(crate) async fn join_snapshot(args: &ConnArgs, snapshot: &str) -> Result<PgConnection> {
    // SET TRANSACTION SNAPSHOT takes no bind parameters. The id comes from the server, and is
    // checked to be the hex-and-dash token PostgreSQL makes before it goes into the statement.
    if snapshot.is_empty() || !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(Error::Other(format!(
            "unexpected snapshot id from the server: {snapshot:?}"
        )));
    }
    let mut conn = args.connect().await?;
    let begin = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{snapshot}'"
    );
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(begin)))
        .await
        .map_err(|e| Error::database("joining the export's snapshot", e))?;
    apply_transaction_settings(&mut conn, args).await?;
    Ok(conn)
}

/// Applies `--statement-timeout` and `--work-mem` to the current transaction only, and turns
/// JIT off for it.
pub(crate) async fn apply_transaction_settings(
    db: &mut PgConnection,
    args: &ConnArgs,
) -> Result<()> {
    sqlx::query_file_scalar!("queries/disable_jit.sql")
        .fetch_one(&mut *db)
        .await
        .map_err(|e| Error::database("turning JIT off", e))?;
    let statement_timeout = args.statement_timeout();
    if !statement_timeout.is_zero() {
        let millis = format!("{}ms", statement_timeout.as_millis());
        sqlx::query_file_scalar!("queries/set_statement_timeout.sql", millis)
            .fetch_one(&mut *db)
            .await
            .map_err(|e| Error::database("setting statement_timeout", e))?;
    }
    apply_work_mem(db, args).await
}

/// Applies `--work-mem` to the current transaction (again: a narrow read before may have given
/// the server's setting back, [`use_server_work_mem`]).
pub(crate) async fn apply_work_mem(db: &mut PgConnection, args: &ConnArgs) -> Result<()> {
    if let Some(kb) = args.work_mem_kb() {
        sqlx::query_file!("queries/set_work_mem.sql", format!("{kb}kB"))
            .fetch_one(db)
            .await
            .map_err(|e| Error::database("setting work_mem", e))?;
    }
    Ok(())
}

/// Gives the current transaction the server's own work_mem back, for a narrow read (a window
/// or id list read per row) whose index probes want no big hashes: with `--work-mem`'s 64MB
/// the planner hashed the whole attempt history (2.1M rows) for a one-day calls export on the
/// demo's 5M legs, 2.7 s where probing the day's attempts takes 2.1 s. The next dataset of
/// the session gets `--work-mem` again ([`apply_work_mem`]).
pub(crate) async fn use_server_work_mem(db: &mut PgConnection) -> Result<()> {
    sqlx::query_file_scalar!("queries/server_work_mem.sql")
        .fetch_all(db)
        .await
        .map_err(|e| Error::database("restoring the server's work_mem", e))?;
    Ok(())
}

/// Fails with exit code 2 when any of `domains` (the `--domain` values) is not a Webitel
/// domain.
pub(crate) async fn check_domains(db: &mut PgConnection, domains: &[i64]) -> Result<()> {
    if domains.is_empty() {
        return Ok(());
    }
    let unknown = sqlx::query_file_scalar!("queries/unknown_domains.sql", domains)
        .fetch_all(db)
        .await
        .map_err(|e| Error::database("checking --domain", e))?;
    if unknown.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = unknown.iter().map(i64::to_string).collect();
    Err(Error::input(format!(
        "unknown domain {} (no such dc in directory.wbt_domain)",
        list.join(", ")
    )))
}
