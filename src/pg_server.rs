//! A throwaway PostgreSQL server: `initdb` into a temporary directory, `postgres` on a free
//! loopback port, removed on drop. The embedded demo and the test fixture both use it.
//!
//! PostgreSQL refuses to run as root, so when we are root the server processes drop to the
//! `postgres` system user (uid/gid set on the child, no `su` in between, so we can signal the
//! server directly).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::error::{Error, Result};

/// A running throwaway server. Dropping it stops the server and deletes its files.
pub struct LocalPostgres {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    port: u16,
    bin: PathBuf,
}

impl LocalPostgres {
    /// Finds server binaries: `$PG_BIN`, then `pg_config --bindir`, then the newest
    /// `/usr/lib/postgresql/*/bin` that has `initdb`.
    pub fn find_bin_dir() -> Option<PathBuf> {
        let has_initdb = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
        if let Some(dir) = std::env::var_os("PG_BIN").map(PathBuf::from) {
            return has_initdb(&dir).then_some(dir);
        }
        let from_pg_config = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        if let Some(dir) = from_pg_config.filter(|d| has_initdb(d)) {
            return Some(dir);
        }
        let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let version = e.file_name().to_str()?.parse::<u32>().ok()?;
                let bin = e.path().join("bin");
                has_initdb(&bin).then_some((version, bin))
            })
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    }

    /// Initializes and starts a server with binaries from `bin`.
    pub async fn start(bin: &Path) -> Result<LocalPostgres> {
        let (dir, owner) = server_dir()?;
        let data = dir.path().join("data");
        init_cluster(bin, &data, owner)?;
        Self::spawn(bin, dir, owner).await
    }

    /// A hot standby of this server: a base backup streaming from it (`pg_basebackup -R`),
    /// started on its own port. The tests of exports from a replica use it.
    pub async fn start_standby(&self) -> Result<LocalPostgres> {
        let (dir, owner) = server_dir()?;
        let data = dir.path().join("data");
        run_as(
            owner,
            Command::new(self.bin.join("pg_basebackup"))
                .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
                .arg(self.port.to_string())
                .arg("-D")
                .arg(&data)
                .args(["-R", "-X", "stream", "--no-sync", "--checkpoint=fast"]),
        )?;
        // -R writes every option of the pg_basebackup's libpq, which the server's own
        // walreceiver (linked to another libpq, as in some binary distributions) may not know:
        // the last setting wins, so a minimal one goes after it.
        let auto_conf = data.join("postgresql.auto.conf");
        let mut conf = fs::OpenOptions::new()
            .append(true)
            .open(&auto_conf)
            .map_err(|e| Error::io("opening postgresql.auto.conf", e))?;
        std::io::Write::write_all(
            &mut conf,
            format!(
                "primary_conninfo = 'host=127.0.0.1 port={} user=postgres'\n",
                self.port
            )
            .as_bytes(),
        )
        .map_err(|e| Error::io("writing postgresql.auto.conf", e))?;
        Self::spawn(&self.bin, dir, owner).await
    }

    /// Starts `postgres` on the cluster in `<dir>/data`, on a free loopback port.
    async fn spawn(
        bin: &Path,
        dir: tempfile::TempDir,
        owner: Option<(u32, u32)>,
    ) -> Result<LocalPostgres> {
        let data = dir.path().join("data");
        let port = free_port()?;
        let log_path = dir.path().join("postgres.log");
        let log =
            fs::File::create(&log_path).map_err(|e| Error::io("creating the server log", e))?;
        if let Some((uid, gid)) = owner {
            chown(&log_path, uid, gid)?;
        }
        let mut command = server_command(bin, &data, port, dir.path());
        command
            .stdin(Stdio::null())
            .stdout(
                log.try_clone()
                    .map_err(|e| Error::io("opening the server log", e))?,
            )
            .stderr(log);
        set_user(&mut command, owner);
        let child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", bin.join("postgres").display()), e))?;
        let server = LocalPostgres {
            child: Some(child),
            dir: Some(dir),
            port,
            bin: bin.to_path_buf(),
        };
        server.wait_ready(Duration::from_secs(60)).await?;
        Ok(server)
    }

    /// Starts a server with the binaries [`LocalPostgres::find_bin_dir`] finds.
    pub async fn start_default() -> Result<LocalPostgres> {
        let bin = Self::find_bin_dir().ok_or_else(|| {
            Error::Other(
                "no PostgreSQL server binaries found: install postgresql or set PG_BIN to the \
                 directory holding initdb and postgres"
                    .to_string(),
            )
        })?;
        Self::start(&bin).await
    }

    /// URL of `database` on this server (superuser `postgres`, trust authentication).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// Leaves the server running after this process exits; returns its data directory.
    pub fn keep(mut self) -> PathBuf {
        self.child.take();
        self.dir
            .take()
            .map(|d| d.keep())
            .unwrap_or_default()
            .join("data")
    }

    async fn wait_ready(&self, limit: Duration) -> Result<()> {
        let started = Instant::now();
        let url = self.url("postgres");
        loop {
            if let Ok(conn) = PgConnection::connect(&url).await {
                conn.close().await.ok();
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(Error::Other(format!(
                    "the local PostgreSQL did not start within {limit:?}: {}",
                    self.log_tail()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_tail(&self) -> String {
        let Some(dir) = &self.dir else {
            return String::new();
        };
        let log = fs::read_to_string(dir.path().join("postgres.log")).unwrap_or_default();
        log.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT = "fast shutdown": disconnect clients, stop at once, no checkpoint wait.
            if let Ok(pid) = libc::pid_t::try_from(child.id()) {
                // SAFETY: signalling our own child process by pid.
                unsafe { libc::kill(pid, libc::SIGINT) };
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A temporary directory for a cluster, owned by the user the server runs as.
fn server_dir() -> Result<(tempfile::TempDir, Option<(u32, u32)>)> {
    let dir = tempfile::Builder::new()
        .prefix("webitel-export-pg-")
        .tempdir()
        .map_err(|e| Error::io("creating a temporary directory", e))?;
    let owner = server_user()?;
    if let Some((uid, gid)) = owner {
        chown(dir.path(), uid, gid)?;
    }
    Ok((dir, owner))
}

/// The (uid, gid) the server must run as: `postgres` when we are root, else ourselves.
fn server_user() -> Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .map(Some)
        .ok_or_else(|| {
            Error::Other(
                "running as root, but there is no 'postgres' user to run the server as \
                 (PostgreSQL refuses root): create one with `useradd -r postgres`"
                    .to_string(),
            )
        })
}

fn set_user(command: &mut Command, owner: Option<(u32, u32)>) {
    use std::os::unix::process::CommandExt;
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
}

fn run_as(owner: Option<(u32, u32)>, command: &mut Command) -> Result<()> {
    set_user(command, owner);
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("running {:?}", command.get_program()), e))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(Error::Other(format!(
        "{:?} failed: {}",
        command.get_program(),
        stderr.lines().last().unwrap_or("no output")
    )))
}

/// `initdb` a cluster in `data`, trusting local connections (replication too, for a test
/// standby) except for the role `password_required`: the test suite needs one place where a
/// wrong password is refused.
fn init_cluster(bin: &Path, data: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    run_as(
        owner,
        Command::new(bin.join("initdb")).arg("-D").arg(data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]),
    )?;
    fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\n\
         host all +password_required 127.0.0.1/32 scram-sha-256\n\
         host all all 127.0.0.1/32 trust\n\
         host replication postgres 127.0.0.1/32 trust\n",
    )
    .map_err(|e| Error::io("writing pg_hba.conf", e))
}

/// The `postgres` command of a throwaway server on loopback: durability buys nothing, speed
/// matters for the demo and the tests.
fn server_command(bin: &Path, data: &Path, port: u16, socket_dir: &Path) -> Command {
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(data)
        .arg("-p")
        .arg(port.to_string())
        .arg("-k")
        .arg(socket_dir)
        .args(["-c", "listen_addresses=127.0.0.1"])
        .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
        .args(["-c", "shared_buffers=256MB", "-c", "jit=off"]);
    command
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| Error::io(format!("chown {}", path.display()), e))
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::io("finding a free port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::io("finding a free port", e))
}

/// Starts a `postgres:14` container (feature `testcontainers`, needs a Docker engine) and
/// returns the URL of its `postgres` database. The container is left to testcontainers' reaper.
#[cfg(feature = "testcontainers")]
pub async fn start_container() -> Result<String> {
    use testcontainers_modules::postgres::Postgres;
    use testcontainers_modules::testcontainers::ImageExt;
    use testcontainers_modules::testcontainers::runners::AsyncRunner;

    let container = Postgres::default()
        .with_tag("14")
        .start()
        .await
        .map_err(|e| Error::io("starting a postgres:14 container", e))?;
    let port = container
        .get_host_port_ipv4(5432)
        .await
        .map_err(|e| Error::io("reading the container's port", e))?;
    // Keep it running for the whole test binary; the reaper removes it afterwards.
    std::mem::forget(container);
    Ok(format!(
        "postgres://postgres:postgres@127.0.0.1:{port}/postgres"
    ))
}
