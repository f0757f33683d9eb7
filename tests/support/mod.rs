//! The PostgreSQL fixture: one server per test run, one fresh database per test.
//!
//! Which server, decided once:
//! 1. `WEBITEL_TEST_DATABASE_URL` (or `DATABASE_URL`): an existing server we may create
//!    databases on;
//! 2. local server binaries (`PG_BIN`, `pg_config --bindir`, `/usr/lib/postgresql/*/bin`):
//!    a throwaway cluster, removed when the test binary exits;
//! 3. with `--features testcontainers`, a `postgres:14` container.
//!
//! The Webitel schema (`migrations-test/`) is applied once to a template database; each test
//! clones it (`CREATE DATABASE … TEMPLATE`), which takes milliseconds.

#![allow(dead_code)]

pub mod daemon;
pub mod proxy;
pub mod shapes;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use sqlx::{Connection, Executor, PgConnection};
use webitel_export::pg_server::LocalPostgres;

const TEMPLATE: &str = "webitel_export_template";

struct Server {
    /// URL of any database on the server, with the path replaced per database.
    base: String,
    /// Which server this is, printed once.
    description: String,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static LOCAL: Mutex<Option<LocalPostgres>> = Mutex::new(None);
static COUNTER: AtomicUsize = AtomicUsize::new(0);

extern "C" fn stop_local_server() {
    if let Ok(mut guard) = LOCAL.lock() {
        guard.take();
    }
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        // Its own thread and runtime: tests call this from inside their runtimes, and the
        // server outlives any one test's runtime.
        std::thread::spawn(|| {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            let server = rt.block_on(start_server());
            rt.block_on(create_template(&server));
            eprintln!("test PostgreSQL: {}", server.description);
            server
        })
        .join()
        .expect("starting the test PostgreSQL")
    })
}

async fn start_server() -> Server {
    let existing = std::env::var("WEBITEL_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    if let Some(url) = existing {
        return Server {
            description: format!("existing server {}", redact(&url)),
            base: url,
        };
    }
    if LocalPostgres::find_bin_dir().is_some() {
        let local = LocalPostgres::start_default()
            .await
            .expect("starting a local PostgreSQL");
        let base = local.url("postgres");
        let description = format!("throwaway cluster from {}", local.bin_dir().display());
        *LOCAL.lock().unwrap() = Some(local);
        // Statics are never dropped: stop the server when the test binary exits.
        // SAFETY: registering a plain extern "C" function with no captured state.
        unsafe { libc::atexit(stop_local_server) };
        return Server { base, description };
    }
    container_server().await
}

#[cfg(feature = "testcontainers")]
async fn container_server() -> Server {
    let url = webitel_export::pg_server::start_container().await.expect(
        "no PostgreSQL: set WEBITEL_TEST_DATABASE_URL, install server binaries, or run Docker",
    );
    Server {
        description: format!("container {}", redact(&url)),
        base: url,
    }
}

#[cfg(not(feature = "testcontainers"))]
async fn container_server() -> Server {
    panic!(
        "no PostgreSQL for the tests: set WEBITEL_TEST_DATABASE_URL, install PostgreSQL server \
         binaries (or set PG_BIN), or build with --features testcontainers and a Docker engine"
    )
}

fn redact(url: &str) -> String {
    match url.split_once('@') {
        Some((creds, rest)) => match creds.rsplit_once(':') {
            Some((user, _)) if user.contains("//") => format!("{user}:***@{rest}"),
            _ => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// `base` with its database replaced by `db`.
fn url_for(base: &str, db: &str) -> String {
    let (head, tail) = match base.find('?') {
        Some(i) => (&base[..i], &base[i..]),
        None => (base, ""),
    };
    let slash = head.rfind('/').expect("database URL has a path");
    let head = if head[..slash].ends_with('/') {
        head
    } else {
        &head[..slash]
    };
    let head = head.trim_end_matches('/');
    format!("{head}/{db}{tail}")
}

async fn create_template(server: &Server) {
    let mut admin = PgConnection::connect(&server.base)
        .await
        .expect("connect to test server");
    let drop = format!("DROP DATABASE IF EXISTS {TEMPLATE}");
    admin
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(drop)))
        .await
        .expect("drop old template");
    let create = format!("CREATE DATABASE {TEMPLATE} ENCODING 'UTF8' TEMPLATE template0");
    admin
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(create)))
        .await
        .expect("create template");
    let mut conn = PgConnection::connect(&url_for(&server.base, TEMPLATE))
        .await
        .expect("connect template");
    webitel_export::levels::MIGRATOR
        .run(&mut conn)
        .await
        .expect("apply migrations-test");
    conn.close().await.ok();
}

/// A fresh database with the Webitel schema, for one test; dropped with it.
pub struct TestDb {
    pub url: String,
    pub name: String,
}

impl Drop for TestDb {
    /// Drops the database (its connections closed by force), so a suite run against a
    /// shared server (`WEBITEL_TEST_DATABASE_URL`) leaves nothing behind.
    fn drop(&mut self) {
        let base = server().base.clone();
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs inside the test's runtime, which must not block: a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async {
                let mut admin = PgConnection::connect(&base).await?;
                admin
                    .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(drop)))
                    .await
                    .map(|_| ())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("dropping test database {}: {e}", self.name);
        }
    }
}

impl TestDb {
    pub async fn new() -> TestDb {
        TestDb::from_template(TEMPLATE).await
    }

    /// A fresh copy of `source` (schema and rows); nothing may be connected to `source`.
    pub async fn copy_of(source: &TestDb) -> TestDb {
        TestDb::from_template(&source.name).await
    }

    /// A fresh database without any schema (migrations applied by the test).
    pub async fn bare() -> TestDb {
        TestDb::from_template("template0").await
    }

    async fn from_template(template: &str) -> TestDb {
        let server = server();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("wxtest_{}_{n}", std::process::id());
        let mut admin = PgConnection::connect(&server.base)
            .await
            .expect("connect to test server");
        let create = format!("CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE {template}");
        admin
            .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(create)))
            .await
            .expect("create test database");
        TestDb {
            url: url_for(&server.base, &name),
            name,
        }
    }

    /// A fresh database at the schema of Webitel release `level` (`v22.05`…): the
    /// migrations-test/ upgrade path applied up to that release.
    pub async fn at_level(level: &str) -> TestDb {
        let level: webitel_export::levels::Level = level.parse().unwrap();
        let db = TestDb::bare().await;
        let mut conn = db.connect().await;
        for migration in webitel_export::levels::MIGRATOR.iter() {
            let release =
                webitel_export::levels::Level::of_migration(&migration.description).unwrap();
            if release <= level {
                let sql = migration.sql.as_str().to_string();
                conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)))
                    .await
                    .unwrap_or_else(|e| panic!("migration {release}: {e}"));
            }
        }
        db
    }

    /// A fresh database filled by the demo generator.
    pub async fn seeded(legs: u64, seed: i64) -> TestDb {
        let db = TestDb::new().await;
        webitel_export::demo::seed(&db.url, legs, seed)
            .await
            .expect("demo seed");
        db
    }

    /// A fresh database with a SQL fixture from tests/fixtures applied.
    pub async fn with_fixture(file: &str) -> TestDb {
        TestDb::with_fixtures(&[file]).await
    }

    /// A fresh database with SQL fixtures from tests/fixtures applied in order.
    pub async fn with_fixtures(files: &[&str]) -> TestDb {
        let db = TestDb::new().await;
        for file in files {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(file);
            let sql = std::fs::read_to_string(&path).expect("read fixture");
            db.execute(&sql).await;
        }
        db
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("connect test database")
    }

    /// The tool's own connection settings for this database, for tests that open its snapshot
    /// through the library.
    pub fn conn_args(&self) -> webitel_export::source::ConnArgs {
        webitel_export::source::ConnArgs::for_url(&self.url)
    }

    /// Runs a SQL script (test fixtures only).
    pub async fn execute(&self, sql: &str) {
        let mut conn = self.connect().await;
        conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())))
            .await
            .unwrap_or_else(|e| panic!("fixture SQL failed: {e}"));
    }

    /// The server's URL for another database name (or the admin database).
    pub fn server_url(db: &str) -> String {
        url_for(&server().base, db)
    }
}

/// Runs the real binary.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_webitel-export"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("WEBITEL_DATABASE_URL")
        .output()
        .expect("run webitel-export")
}

/// The arguments of a quiet nightly run: `run --config CONFIG --database-url URL -q`.
pub fn run_args<'a>(config: &'a Path, url: &'a str) -> [&'a str; 6] {
    [
        "run",
        "--config",
        path_str(config),
        "--database-url",
        url,
        "-q",
    ]
}

/// `webitel-export run --config CONFIG --database-url … -q`, asserted to succeed.
pub fn run_config(config: &Path, db: &TestDb) -> String {
    run_ok(&run_args(config, &db.url))
}

/// Runs the binary and asserts it succeeded; returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "webitel-export {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Asserts the run failed with `code` and a single-line message; returns that message.
pub fn assert_fails(out: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code}, stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    lines[0].to_string()
}

/// A temporary directory for outputs.
pub fn out_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A temporary directory holding `calls.csv` with a previous good export in it: the
/// destination that a failed or interrupted export must leave untouched.
pub fn dir_with_previous_export() -> (tempfile::TempDir, PathBuf) {
    let dir = out_dir();
    let dest = dir.path().join("calls.csv");
    std::fs::write(&dest, PREVIOUS_EXPORT).unwrap();
    (dir, dest)
}

/// What [`dir_with_previous_export`] writes.
pub const PREVIOUS_EXPORT: &str = "previous good export";

/// The files in `dir`, by name.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `webitel-export <dataset> --database-url … -q <filters>` to CSV on stdout and returns
/// every row as column → cell.
pub fn export_rows(
    db: &TestDb,
    dataset: &str,
    filters: &[&str],
) -> Vec<std::collections::HashMap<String, String>> {
    let mut args = vec![dataset, "--database-url", &db.url, "-q"];
    args.extend_from_slice(filters);
    let (header, rows) = parse_csv(&run_ok(&args));
    rows.into_iter()
        .map(|r| header.iter().cloned().zip(r).collect())
        .collect()
}

/// The values of the integer column `key` of an export, sorted.
pub fn export_ids(db: &TestDb, dataset: &str, key: &str, filters: &[&str]) -> Vec<u32> {
    let mut ids: Vec<u32> = export_rows(db, dataset, filters)
        .iter()
        .map(|r| r[key].parse().expect("an integer id"))
        .collect();
    ids.sort();
    ids
}

/// Parses CSV text into a header and rows of cells.
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

pub fn tmp_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}
