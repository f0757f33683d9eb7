//! `-o s3://bucket/key` against a real S3-compatible server on loopback (moto in server mode,
//! from PyPI; .ci/run installs it). Large files go up as a multipart upload completed only at
//! the end; a failure mid-upload leaves the previous object and no upload behind.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::support::daemon::Daemon;
use crate::support::{PREVIOUS_EXPORT, TestDb, assert_fails, path_str, run_args};

const BUCKET: &str = "exports";

/// A moto S3 server on a free loopback port, stopped on drop, with the bucket made.
struct S3Server {
    daemon: Daemon,
}

impl S3Server {
    fn start() -> Option<S3Server> {
        let program = std::env::var("WEBITEL_TEST_MOTO_SERVER").unwrap_or("moto_server".into());
        let daemon = Daemon::start(
            &program,
            &["-H", "127.0.0.1", "-p", "{port}"],
            "pip install 'moto[server]', or set WEBITEL_TEST_MOTO_SERVER",
        )?;
        let server = S3Server { daemon };
        assert!(
            server
                .http("PUT", &format!("/{BUCKET}"))
                .starts_with("HTTP/1.1 200")
        );
        Some(server)
    }

    /// One plain HTTP request (moto accepts unsigned ones); the whole response.
    fn http(&self, method: &str, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.daemon.port)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.daemon.port
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    fn env(&self, command: &mut Command) {
        command
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env(
                "AWS_ENDPOINT",
                format!("http://127.0.0.1:{}", self.daemon.port),
            )
            .env("AWS_ALLOW_HTTP", "true");
    }

    fn store(&self) -> object_store::aws::AmazonS3 {
        webitel_export::sink::object::install_tls_provider();
        AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_region("us-east-1")
            .with_endpoint(format!("http://127.0.0.1:{}", self.daemon.port))
            .with_allow_http(true)
            .build()
            .unwrap()
    }

    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self.store().get(&ObjectPath::from(key)).await {
            Ok(found) => Some(found.bytes().await.unwrap().to_vec()),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => panic!("{e}"),
        }
    }

    /// Multipart uploads started and neither completed nor aborted.
    fn open_uploads(&self) -> usize {
        self.http("GET", &format!("/{BUCKET}?uploads"))
            .matches("<UploadId>")
            .count()
    }

    /// Waits until some multipart upload is under way.
    fn wait_for_an_open_upload(&self) {
        let started = Instant::now();
        while self.open_uploads() == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no upload started"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn export(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_webitel-export"));
        command
            .args(args)
            .stderr(Stdio::piped())
            .stdout(Stdio::piped());
        self.env(&mut command);
        command
    }
}

fn sorted_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(bytes)
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn exports_upload_to_s3_small_in_one_put_large_in_parts() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let db = TestDb::seeded(40_000, 21).await;
    // About 20 MB of CSV: a multipart upload of three parts.
    let out = s3
        .export(&[
            "calls",
            "--database-url",
            &db.url,
            "-q",
            "-o",
            "s3://exports/nightly/calls.csv",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let uploaded = s3.get("nightly/calls.csv").await.expect("the object");
    assert!(uploaded.len() > 16 << 20, "large enough for several parts");
    let local = s3
        .export(&["calls", "--database-url", &db.url, "-q"])
        .output()
        .unwrap();
    assert_eq!(sorted_lines(&uploaded), sorted_lines(&local.stdout));
    assert_eq!(s3.open_uploads(), 0);

    // A small file is one PUT; Parquet by the key's extension.
    let out = s3
        .export(&[
            "agents",
            "--database-url",
            &db.url,
            "-q",
            "-o",
            "s3://exports/agents.parquet",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parquet = s3.get("agents.parquet").await.expect("the object");
    assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"));
}

#[tokio::test]
async fn a_failure_mid_upload_leaves_the_previous_object_and_no_upload() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let db = TestDb::seeded(60_000, 22).await;
    s3.store()
        .put(
            &ObjectPath::from("calls.csv"),
            PREVIOUS_EXPORT.as_bytes().to_vec().into(),
        )
        .await
        .unwrap();
    let child = s3
        .export(&[
            "calls",
            "--database-url",
            &db.url,
            "-q",
            "--parallel",
            "1",
            "-o",
            "s3://exports/calls.csv",
        ])
        .spawn()
        .unwrap();
    // Once a multipart upload is under way, the server ends the export's backend.
    s3.wait_for_an_open_upload();
    let mut admin = db.connect().await;
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'webitel-export'",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let message = assert_fails(&child.wait_with_output().unwrap(), 3);
    assert!(message.contains("reading calls"), "{message}");
    assert_eq!(
        s3.get("calls.csv").await.as_deref(),
        Some(PREVIOUS_EXPORT.as_bytes()),
        "the previous object is intact"
    );
    assert_eq!(s3.open_uploads(), 0, "the upload was aborted");
}

#[test]
fn a_bad_object_url_is_exit_2() {
    for url in ["s3://", "s3://bucket", "s3://bucket/", "s3://bucket/dir/"] {
        let out = crate::support::run(&[
            "agents",
            "--database-url",
            "postgres://x@127.0.0.1:1/x",
            "-o",
            url,
        ]);
        let message = assert_fails(&out, 2);
        assert!(message.contains("s3://bucket/key"), "{url}: {message}");
    }
}

impl S3Server {
    /// The keys under `prefix`, sorted.
    async fn keys(&self, prefix: &str) -> Vec<String> {
        use futures_util::TryStreamExt;
        let mut keys: Vec<String> = self
            .store()
            .list(Some(&ObjectPath::from(prefix)))
            .map_ok(|o| o.location.to_string())
            .try_collect()
            .await
            .unwrap();
        keys.sort();
        keys
    }
}

/// A `run` config publishing a full calls job (one CSV large enough for a multipart upload)
/// and the queues to `s3://exports/<prefix>`, with `[storage]` lines if given.
fn lake_config(dir: &std::path::Path, prefix: &str, storage: &str) -> std::path::PathBuf {
    let config = dir.join(format!("{prefix}.toml"));
    std::fs::write(
        &config,
        format!(
            "root = \"s3://{BUCKET}/{prefix}\"\nwork_dir = \"{}\"\n{storage}\n\
             [[jobs]]\ndataset = \"calls\"\nmode = \"full\"\nformat = \"csv\"\n\
             [[jobs]]\ndataset = \"queues\"\n",
            dir.join(format!("{prefix}-work")).display()
        ),
    )
    .unwrap();
    config
}

fn csv_rows(bytes: &[u8]) -> usize {
    crate::support::parse_csv(&String::from_utf8_lossy(bytes))
        .1
        .len()
}

async fn legs(db: &TestDb) -> usize {
    let mut conn = db.connect().await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM call_center.cc_calls_history")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    usize::try_from(n).unwrap()
}

#[tokio::test]
async fn a_run_publishes_to_s3_with_markers_and_manifest() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let db = TestDb::seeded(40_000, 23).await;
    let dir = tempfile::tempdir().unwrap();
    // The endpoint from the config file's [storage], not from the environment.
    let storage = format!(
        "[storage]\nendpoint = \"http://127.0.0.1:{}\"\nallow_http = true\nregion = \"us-east-1\"",
        s3.daemon.port
    );
    let config = lake_config(dir.path(), "lake", &storage);
    let out = s3
        .export(&run_args(&config, &db.url))
        .env_remove("AWS_ENDPOINT")
        .env_remove("AWS_ALLOW_HTTP")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = s3.keys("lake").await;
    let parts: Vec<&String> = keys.iter().filter(|k| k.contains("/part-")).collect();
    let calls: Vec<&&String> = parts
        .iter()
        .filter(|k| k.starts_with("lake/calls/"))
        .collect();
    assert_eq!(calls.len(), 1, "{keys:?}");
    let body = s3.get(calls[0]).await.unwrap();
    assert!(body.len() > 8 << 20, "a multipart upload");
    assert_eq!(csv_rows(&body), legs(&db).await);
    assert!(
        parts.iter().any(|k| k.starts_with("lake/queues/")),
        "{keys:?}"
    );
    for part in &parts {
        let partition = part.rsplit_once('/').unwrap().0;
        assert!(
            keys.contains(&format!("{partition}/_SUCCESS")),
            "{partition}"
        );
    }
    assert!(
        keys.iter().any(|k| k.starts_with("lake/_runs/")),
        "{keys:?}"
    );
    assert_eq!(s3.open_uploads(), 0);
}

#[tokio::test]
async fn a_run_interrupted_mid_upload_publishes_nothing_and_the_next_completes() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let db = TestDb::seeded(40_000, 24).await;
    let dir = tempfile::tempdir().unwrap();
    let config = lake_config(dir.path(), "cut", "");
    let state = dir.path().join("cut-work/_state/state.json");
    let child = s3.export(&run_args(&config, &db.url)).spawn().unwrap();
    s3.wait_for_an_open_upload();
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        s3.keys("cut").await,
        Vec::<String>::new(),
        "nothing visible"
    );
    assert_eq!(s3.open_uploads(), 0, "the uploads were aborted");
    assert!(!state.exists(), "no watermark moved");

    let out = s3
        .export(&[
            "run",
            "--config",
            path_str(&config),
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(state.exists());
    let keys = s3.keys("cut/calls").await;
    let part = keys
        .iter()
        .find(|k| k.contains("/part-"))
        .expect("the calls part");
    assert_eq!(csv_rows(&s3.get(part).await.unwrap()), legs(&db).await);
}

/// A recordings job with `[jobs.archive]` reads a file from the S3 bucket of its storage
/// profile (bucket, endpoint, path style and credentials from `file_backend_profiles`) and a
/// file from a local profile, into an `s3://` root: a failed run leaves what verified, the
/// next run finds it there and copies the rest. The profile's secret is never printed.
#[tokio::test]
async fn a_run_archives_recordings_from_an_s3_profile_into_an_s3_root() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    assert!(s3.http("PUT", "/rec-bucket").starts_with("HTTP/1.1 200"));
    let db = TestDb::with_fixtures(&["calls.sql", "recordings.sql"]).await;
    let sha = |b: &[u8]| -> String {
        use sha2::Digest;
        sha2::Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    // Larger than one upload part: the archive's upload is multipart, completed only at the end.
    let audio: Vec<u8> = (0..9u32 << 20).map(|i| (i % 253) as u8).collect();
    webitel_export::sink::object::install_tls_provider();
    let source = AmazonS3Builder::new()
        .with_bucket_name("rec-bucket")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_region("us-east-1")
        .with_endpoint(format!("http://127.0.0.1:{}", s3.daemon.port))
        .with_allow_http(true)
        .build()
        .unwrap();
    source
        .put(
            &ObjectPath::from("recordings/2026/09/03/x.mp3"),
            audio.clone().into(),
        )
        .await
        .unwrap();
    let local_store = tempfile::tempdir().unwrap();
    db.execute(&format!(
        "UPDATE storage.file_backend_profiles SET properties = jsonb_build_object(
             'bucket_name', 'rec-bucket', 'region', 'us-east-1', 'force_path_style', true,
             'endpoint', 'http://127.0.0.1:{}', 'key_id', 'test', 'access_key', 's3cr3t-Key')
         WHERE id = 12;
         UPDATE storage.file_backend_profiles SET properties = jsonb_build_object('directory', '{}')
         WHERE id = 11;
         UPDATE storage.files SET properties = '{{\"location\": \"recordings/2026/09/03/x.mp3\"}}',
             size = {}, sha256sum = '{}' WHERE id = 2;",
        s3.daemon.port,
        local_store.path().display(),
        audio.len(),
        sha(&audio)
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("archive.toml");
    std::fs::write(
        &config,
        format!(
            "root = \"s3://{BUCKET}/lake\"\nwork_dir = \"{}\"\nsafety_lag = \"0s\"\n\
             [storage]\nendpoint = \"http://127.0.0.1:{}\"\nallow_http = true\nregion = \"us-east-1\"\n\
             [[jobs]]\ndataset = \"recordings\"\nformat = \"csv\"\nfilters = [\"--domain\", \"1\"]\n\
             [jobs.archive]\n",
            dir.path().join("work").display(),
            s3.daemon.port
        ),
    )
    .unwrap();
    let run = || {
        s3.export(&[
            "run",
            "--config",
            path_str(&config),
            "--database-url",
            &db.url,
        ])
        .env_remove("AWS_ENDPOINT")
        .output()
        .unwrap()
    };

    // File 1 is not in its local store yet: the run fails, file 2 is archived all the same.
    let out = run();
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(said.contains("file 1: "), "{said}");
    assert!(!said.contains("s3cr3t"), "{said}");
    let keys = s3.keys("lake").await;
    let archived: Vec<&String> = keys
        .iter()
        .filter(|k| k.starts_with("lake/recordings-files/"))
        .collect();
    assert_eq!(archived.len(), 1, "{keys:?}");
    assert!(archived[0].ends_with("/2_rec2.mp3"), "{keys:?}");
    assert_eq!(s3.get(archived[0]).await.unwrap(), audio);
    assert_eq!(s3.open_uploads(), 0);

    // With file 1 in place the next run copies it and finds file 2 there.
    let one: Vec<u8> = (0..1000u32).map(|i| (i % 7) as u8).collect();
    let one_path = local_store.path().join("one.example/2026/09/01/rec1.mp3");
    std::fs::create_dir_all(one_path.parent().unwrap()).unwrap();
    std::fs::write(&one_path, &one).unwrap();
    db.execute(&format!(
        "UPDATE storage.files SET sha256sum = '{}' WHERE id = 1",
        sha(&one)
    ))
    .await;
    let out = run();
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("1 files copied (1000 bytes), 1 already there"),
        "{said}"
    );
    assert!(!said.contains("s3cr3t"), "{said}");
    let keys = s3.keys("lake").await;
    let manifest_key = keys.iter().find(|k| k.starts_with("lake/_runs/")).unwrap();
    let manifest = String::from_utf8(s3.get(manifest_key).await.unwrap()).unwrap();
    assert!(!manifest.contains("s3cr3t"));
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let mut files: Vec<(i64, bool)> = manifest["archived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file_id"].as_i64().unwrap(),
                f["copied"].as_bool().unwrap(),
            )
        })
        .collect();
    files.sort();
    assert_eq!(files, vec![(1, true), (2, false)]);
    let one_key = format!(
        "lake/{}",
        manifest["archived"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file_id"] == 1)
            .unwrap()["path"]
            .as_str()
            .unwrap()
    );
    assert_eq!(s3.get(&one_key).await.unwrap(), one);

    // `recordings --copy-to` reads the S3 profile the same way.
    let copies = tempfile::tempdir().unwrap();
    let meta = copies.path().join("recordings.csv");
    let target = copies.path().join("files");
    let out = s3
        .export(&[
            "recordings",
            "--database-url",
            &db.url,
            "--file-id",
            "2",
            "-o",
            path_str(&meta),
            "--copy-to",
            path_str(&target),
        ])
        .env_remove("AWS_ENDPOINT")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("1 copied"), "{said}");
    let copied: Vec<_> = walkdir_files(&target);
    assert_eq!(copied.len(), 1, "{copied:?}");
    assert!(copied[0].ends_with("2_rec2.mp3"));
    assert_eq!(std::fs::read(&copied[0]).unwrap(), audio);
}

/// Every file under `dir`.
fn walkdir_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// A Delta job on an s3:// root: one commit per run that delta-rs (and, in CI, Python's
/// deltalake and Polars) read from the bucket; a run from another host is refused while the
/// root's lock is held, and a lock this host's killed run left is taken over.
#[tokio::test]
async fn a_delta_table_on_s3_is_read_as_is_and_one_run_at_a_time_publishes() {
    let Some(s3) = S3Server::start() else {
        return;
    };
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = tempfile::tempdir().unwrap();
    let config = |work: &str| {
        let path = dir.path().join(format!("{work}.toml"));
        std::fs::write(
            &path,
            format!(
                "root = \"s3://{BUCKET}/delta\"\nwork_dir = \"{}\"\nsafety_lag = \"0s\"\n\
                 [[jobs]]\ndataset = \"calls\"\nformat = \"delta\"\n",
                dir.path().join(work).display()
            ),
        )
        .unwrap();
        path
    };
    let (here, elsewhere) = (config("work-a"), config("work-b"));
    let run = |config: &std::path::Path| {
        s3.export(&[
            "run",
            "--config",
            path_str(config),
            "--database-url",
            &db.url,
            "-q",
        ])
        .output()
        .unwrap()
    };
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(run(&here));
    db.execute(
        "INSERT INTO call_center.cc_calls_history (id, domain_id, app_id, direction, created_at, hangup_at)
         VALUES ('00000000-0000-0000-0000-000000000d31', 1, 'node', 'inbound', now(), now())",
    )
    .await;
    ok(run(&here));

    webitel_export::job::delta::register_s3_log_store();
    let url = url::Url::parse(&format!("s3://{BUCKET}/delta/calls/")).unwrap();
    let table = deltalake_core::DeltaTableBuilder::from_url(url)
        .unwrap()
        .with_storage_backend(
            std::sync::Arc::new(s3.store()),
            url::Url::parse(&format!("s3://{BUCKET}/delta/calls/")).unwrap(),
        )
        .load()
        .await
        .unwrap();
    assert_eq!(table.version(), Some(1), "one commit per run");
    let mut rows = 0;
    let files: Vec<String> = table
        .snapshot()
        .unwrap()
        .log_data()
        .iter()
        .map(|f| f.path().to_string())
        .collect();
    for file in &files {
        let bytes = s3.get(&format!("delta/calls/{file}")).await.unwrap();
        let reader =
            parquet::file::reader::SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        rows += parquet::file::reader::FileReader::metadata(&reader)
            .file_metadata()
            .num_rows();
    }
    assert_eq!(usize::try_from(rows).unwrap(), legs(&db).await);
    if let Ok(python) = std::env::var("WEBITEL_TEST_LAKE_PYTHON") {
        let expected = serde_json::json!({
            "table": format!("s3://{BUCKET}/delta/calls"),
            "key": "id",
            "rows": rows,
            "distinct": rows,
            "previous_version": 0,
            "previous_rows": rows - 1,
            "storage_options": {
                "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": format!("http://127.0.0.1:{}", s3.daemon.port),
                "AWS_ALLOW_HTTP": "true", "AWS_S3_ALLOW_UNSAFE_RENAME": "true"
            }
        });
        crate::nightly::delta::python_reads(&python, &expected);
    }

    // Another host's run holds the lock: refused, nothing published.
    let lock = serde_json::json!({"host": "other-host", "work_dir": "/var/lib/x", "pid": 1, "since": "2026-12-01T00:00:00Z"});
    let store = s3.store();
    store
        .put(
            &ObjectPath::from("delta/_state/lock"),
            serde_json::to_vec(&lock).unwrap().into(),
        )
        .await
        .unwrap();
    let before = s3.keys("delta").await;
    let message = assert_fails(&run(&elsewhere), 2);
    assert!(message.contains("other-host"), "{message}");
    assert_eq!(
        s3.keys("delta").await,
        before,
        "the refused run published something"
    );

    // A lock this host and work_dir left (a killed run) is taken over; the run releases it.
    let ours = std::path::absolute(dir.path().join("work-a")).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let stale = serde_json::json!({"host": host.trim(), "work_dir": ours.display().to_string(), "pid": 1, "since": "2026-12-01T00:00:00Z"});
    store
        .put(
            &ObjectPath::from("delta/_state/lock"),
            serde_json::to_vec(&stale).unwrap().into(),
        )
        .await
        .unwrap();
    ok(run(&here));
    assert!(
        s3.get("delta/_state/lock").await.is_none(),
        "the lock is released"
    );
}
