//! Secrets and TLS: a known password never appears in any output of any failure path, whatever
//! the log and backtrace settings; `--password-file` and `~/.pgpass` work; TLS `verify-full`
//! accepts the right CA and host name and refuses a wrong one, `require` encrypts.

use std::path::Path;
use std::process::Command;

use crate::support::{TestDb, out_dir, path_str};

const PASSWORD: &str = "Kn0wnS3cretPw42";

/// Runs the binary with logging and backtraces turned all the way up.
fn run_loud(args: &[&str], home: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_webitel-export"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("WEBITEL_DATABASE_URL")
        .env_remove("PGPASSWORD")
        .env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "full")
        .env("HOME", home)
        .output()
        .unwrap()
}

/// The throwaway server asks members of `password_required` for a password (pg_server.rs).
async fn role_with_password(db: &TestDb, role: &str) -> Option<String> {
    if !db.url.starts_with("postgres://postgres@127.0.0.1") {
        eprintln!("skipped: needs the throwaway server's pg_hba rules (pg_server.rs)");
        return None;
    }
    db.execute(&format!(
        "DO $$ BEGIN CREATE ROLE password_required NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
         CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}' IN ROLE password_required;
         GRANT USAGE ON SCHEMA call_center, directory, storage, flow TO {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA call_center, directory, storage, flow TO {role};"
    ))
    .await;
    Some(db.url.replace(
        "postgres://postgres@",
        &format!("postgres://{role}:{PASSWORD}@"),
    ))
}

#[tokio::test]
async fn the_password_appears_in_no_output_of_any_failure() {
    let db = TestDb::with_fixture("calls.sql").await;
    let role = format!("secret_{}", db.name);
    let Some(url) = role_with_password(&db, &role).await else {
        return;
    };
    let home = out_dir();
    let wrong_db = url.replace(&format!("/{}", db.name), "/no_such_database");
    let closed = url.replace(&format!(":{}/", server_port(&db.url)), ":1/");
    let with_wrong_password = url.replace(PASSWORD, "Wr0ngPassw0rd");
    let config = home.path().join("export.toml");
    std::fs::write(
        &config,
        format!(
            "root = \"{}\"\n[connection]\nurl = \"{url}\"\n[[jobs]]\ndataset = \"calls\"\nfilters = [\"--domain\", \"99\"]\n",
            home.path().join("lake").display()
        ),
    )
    .unwrap();
    let failures: Vec<Vec<&str>> = vec![
        vec!["calls", "--database-url", &url, "--from", "not-a-date"],
        vec!["calls", "--database-url", &url, "--domain", "99"],
        vec!["calls", "--database-url", &url, "--number", "(unclosed"],
        vec![
            "calls",
            "--database-url",
            &url,
            "--statement-timeout",
            "1ms",
            "--parallel",
            "1",
        ],
        vec![
            "calls",
            "--database-url",
            &url,
            "-o",
            "/nonexistent/dir/calls.csv",
        ],
        vec!["calls", "--database-url", &wrong_db],
        vec!["calls", "--database-url", &closed],
        vec!["calls", "--database-url", &url, "--sslmode", "verify-full"],
        vec!["calls", "--database-url", &with_wrong_password],
        vec!["check", "--database-url", &with_wrong_password],
        vec!["check", "--database-url", &closed, "--format", "json"],
        vec!["run", "--config", path_str(&config)],
        vec![
            "run",
            "--config",
            path_str(&config),
            "--dry-run",
            "--database-url",
            &closed,
        ],
    ];
    for args in &failures {
        let out = run_loud(args, home.path());
        assert!(!out.status.success(), "{args:?} should fail");
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text.contains(PASSWORD),
                "{args:?} leaked the password: {text}"
            );
        }
    }
    // A successful export does not print it either.
    let out = run_loud(&["calls", "--database-url", &url, "-o", "-"], home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(PASSWORD));
}

fn server_port(url: &str) -> u16 {
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    options.get_port()
}

#[tokio::test]
async fn password_file_and_pgpass_supply_the_password() {
    let db = TestDb::with_fixture("calls.sql").await;
    let role = format!("pwfile_{}", db.name);
    if role_with_password(&db, &role).await.is_none() {
        return;
    }
    let bare = db
        .url
        .replace("postgres://postgres@", &format!("postgres://{role}@"));
    let home = out_dir();

    // No password anywhere: refused.
    let out = run_loud(&["agents", "--database-url", &bare, "-q"], home.path());
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // --password-file (first line; the newline is not part of it).
    let file = home.path().join("password");
    std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
    let out = run_loud(
        &[
            "agents",
            "--database-url",
            &bare,
            "-q",
            "--password-file",
            path_str(&file),
        ],
        home.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The packaged unit's systemd credential `pgpassword` ($CREDENTIALS_DIRECTORY); an empty
    // one (the unit's fallback when /etc/webitel-export/password is missing) is no password.
    let credentials = home.path().join("credentials");
    std::fs::create_dir(&credentials).unwrap();
    let with_credential = |password: &str| {
        std::fs::write(credentials.join("pgpassword"), password).unwrap();
        Command::new(env!("CARGO_BIN_EXE_webitel-export"))
            .args(["agents", "--database-url", &bare, "-q"])
            .env_remove("PGPASSWORD")
            .env("HOME", home.path())
            .env("CREDENTIALS_DIRECTORY", &credentials)
            .output()
            .unwrap()
    };
    let out = with_credential(&format!("{PASSWORD}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        with_credential("").status.code(),
        Some(3),
        "refused without one"
    );

    // ~/.pgpass (mode 0600, as libpq requires).
    let pgpass = home.path().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "127.0.0.1:{}:{}:{role}:{PASSWORD}\n",
            server_port(&db.url),
            db.name
        ),
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = run_loud(&["agents", "--database-url", &bare, "-q"], home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        with_credential("").status.success(),
        "an empty credential leaves ~/.pgpass to answer"
    );
}

/// Certificates made with the openssl command: a CA, a server certificate for the name
/// `localhost` only, and an unrelated CA.
struct Certificates {
    dir: tempfile::TempDir,
}

impl Certificates {
    fn make() -> Option<Certificates> {
        let dir = tempfile::tempdir().unwrap();
        let sh = |script: &str| {
            Command::new("sh")
                .arg("-c")
                .arg(script)
                .current_dir(dir.path())
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        let made = sh("set -e
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.crt
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.crt
            openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr
            printf 'subjectAltName=DNS:localhost\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt");
        made.then_some(Certificates { dir })
    }

    fn path(&self, name: &str) -> String {
        path_str(&self.dir.path().join(name)).to_string()
    }
}

/// Turns TLS on in the throwaway test server (other tests keep working: their clients use
/// TLS if offered, or ask for none).
async fn enable_server_tls(db: &TestDb, certs: &Certificates) {
    let mut conn = db.connect().await;
    let data: String = sqlx::query_scalar("SHOW data_directory")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let owner = std::fs::metadata(&data).unwrap();
    for (from, to) in [
        ("server.crt", "wx_server.crt"),
        ("server.key", "wx_server.key"),
    ] {
        let target = Path::new(&data).join(to);
        std::fs::copy(certs.path(from), &target).unwrap();
        std::os::unix::fs::chown(
            &target,
            Some(std::os::unix::fs::MetadataExt::uid(&owner)),
            Some(std::os::unix::fs::MetadataExt::gid(&owner)),
        )
        .unwrap();
        std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
    }
    for setting in [
        "ALTER SYSTEM SET ssl_cert_file = 'wx_server.crt'",
        "ALTER SYSTEM SET ssl_key_file = 'wx_server.key'",
        "ALTER SYSTEM SET ssl = on",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::Executor::execute(&mut conn, setting).await.unwrap();
    }
    // The reload is asynchronous: wait until a new session sees it.
    for _ in 0..100 {
        let mut fresh = db.connect().await;
        let on: String = sqlx::query_scalar("SHOW ssl")
            .fetch_one(&mut fresh)
            .await
            .unwrap();
        if on == "on" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not turn TLS on");
}

fn check_tls(url: &str) -> (Option<i32>, String, Option<serde_json::Value>) {
    let out = crate::support::run(&["check", "agents", "--database-url", url, "--format", "json"]);
    let report = serde_json::from_slice(&out.stdout).ok();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
        report,
    )
}

#[tokio::test]
async fn tls_verify_full_accepts_the_right_ca_and_host_and_refuses_others() {
    let db = TestDb::with_fixture("agents.sql").await;
    if !db.url.starts_with("postgres://postgres@127.0.0.1") {
        eprintln!("skipped: turns TLS on in the throwaway test server only");
        return;
    }
    let Some(certs) = Certificates::make() else {
        eprintln!("skipped: the openssl command is not available");
        return;
    };
    enable_server_tls(&db, &certs).await;
    let by_name = db.url.replace("@127.0.0.1:", "@localhost:");
    let with = |url: &str, query: &str| format!("{url}?{query}");

    let (code, stderr, report) = check_tls(&with(
        &by_name,
        &format!("sslmode=verify-full&sslrootcert={}", certs.path("ca.crt")),
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report.unwrap()["tls"]["on"], true);

    // The certificate names localhost, not 127.0.0.1.
    let (code, stderr, _) = check_tls(&with(
        &db.url,
        &format!("sslmode=verify-full&sslrootcert={}", certs.path("ca.crt")),
    ));
    assert_eq!(code, Some(3), "wrong host name accepted: {stderr}");
    assert!(stderr.contains("TLS"), "{stderr}");

    // verify-ca checks the chain only, so the address is fine there.
    let (code, stderr, _) = check_tls(&with(
        &db.url,
        &format!("sslmode=verify-ca&sslrootcert={}", certs.path("ca.crt")),
    ));
    assert_eq!(code, Some(0), "{stderr}");

    // Signed by another CA.
    let (code, stderr, _) = check_tls(&with(
        &by_name,
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            certs.path("other.crt")
        ),
    ));
    assert_eq!(code, Some(3), "wrong CA accepted: {stderr}");
    assert!(stderr.contains("TLS"), "{stderr}");

    // require: encrypted, not verified.
    let (code, stderr, report) = check_tls(&with(&db.url, "sslmode=require"));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report.unwrap()["tls"]["on"], true);

    // The same through the flags instead of the URL.
    let out = crate::support::run(&[
        "agents",
        "-q",
        "--database-url",
        &by_name,
        "--sslmode",
        "verify-full",
        "--sslrootcert",
        &certs.path("ca.crt"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
