//! A `recordings` job with `[jobs.archive]`: each file of the window copied into the root,
//! verified, resumed after a failed run, listed in the manifest; files the archive cannot hold
//! are listed with their reason.

use std::path::Path;

use super::Lake;
use crate::support::{TestDb, assert_fails, path_str};

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| u8::try_from(i % 251).unwrap().wrapping_mul(31) ^ seed)
        .collect()
}

fn put(store: &Path, rel: &str, content: &[u8]) {
    let path = store.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// The manifest of the newest committed run.
fn last_manifest(lake: &Lake) -> serde_json::Value {
    lake.manifests().pop().expect("a committed run")
}

/// `(file_id, copied)` of the manifest's archived files.
fn archived(manifest: &serde_json::Value) -> Vec<(i64, bool)> {
    let mut files: Vec<(i64, bool)> = manifest["archived"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["file_id"].as_i64().unwrap(),
                        f["copied"].as_bool().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

#[tokio::test]
async fn the_archive_copies_verifies_resumes_and_lists_what_it_cannot_hold() {
    let db = TestDb::with_fixtures(&["calls.sql", "recordings.sql"]).await;
    let store = tempfile::tempdir().unwrap();
    let (one, four, five) = (bytes(1000, 1), bytes(1000, 4), bytes(32044, 5));
    put(store.path(), "one.example/2026/09/01/rec1.mp3", &one);
    put(store.path(), "other-domain.mp3", &four);
    // File 5 is short in the store: it cannot verify.
    put(store.path(), "two/2026/rec5.wav", &five[..100]);
    db.execute(&format!(
        "UPDATE storage.files SET sha256sum = '{}' WHERE id = 1",
        sha256_hex(&one)
    ))
    .await;
    let jobs = format!(
        "[[jobs]]\ndataset = \"recordings\"\nformat = \"csv\"\n[jobs.archive]\nstorage_root = {:?}\n",
        path_str(store.path())
    );
    let lake = Lake::new("safety_lag = \"0s\"", &jobs);
    let archive = lake.root.join("recordings-files");

    let plan = crate::support::run_ok(&[
        "run",
        "--config",
        path_str(&lake.config),
        "--database-url",
        &db.url,
        "--dry-run",
    ]);
    assert!(
        plan.contains("archiving its files into recordings-files/"),
        "{plan}"
    );

    // Run 1 fails on file 5; the files that verified stay, the watermark does not move.
    let out = crate::support::run(&lake.args(&db));
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{said}");
    assert!(
        said.contains("file 5: ") && said.contains("size mismatch"),
        "{said}"
    );
    let last = said.lines().last().unwrap();
    assert!(
        last.contains("1 recording(s) could not be archived"),
        "{said}"
    );
    assert!(lake.state().is_none(), "nothing committed");
    assert_eq!(
        std::fs::read(archive.join("2026/09/01/1_rec1.mp3")).unwrap(),
        one
    );
    assert!(!archive.join("2026/09/10/5_rec5.wav").exists());

    // Run 2 finds 1 and 4 in place and copies 5.
    put(store.path(), "two/2026/rec5.wav", &five);
    lake.run(&db);
    let manifest = last_manifest(&lake);
    assert_eq!(archived(&manifest), vec![(1, false), (4, false), (5, true)]);
    let five_path = manifest["archived"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_id"] == 5)
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(five_path.starts_with("recordings-files/"), "{five_path}");
    assert_eq!(std::fs::read(lake.root.join(&five_path)).unwrap(), five);
    // The encrypted S3 file is listed with its reason, never silently left out.
    let skipped = manifest["not_archived"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["file_id"], 2);
    assert!(skipped[0]["reason"].as_str().unwrap().contains("encrypted"));
    // Every archived file has its sha256, also file 4, which Webitel has none for.
    let four = manifest["archived"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file_id"] == 4)
        .unwrap();
    assert_eq!(
        four["sha256"],
        sha256_hex(&std::fs::read(lake.root.join(four["path"].as_str().unwrap())).unwrap())
    );
    assert_eq!(manifest["jobs"][0]["archive"]["copied"], 1);
    assert_eq!(manifest["jobs"][0]["archive"]["copied_bytes"], 32044);
    let metrics = std::fs::read_to_string(lake.root.join("_state/metrics.prom")).unwrap();
    for (outcome, n) in [("copied", 1), ("already_there", 2), ("not_archivable", 1)] {
        let line = format!(
            "webitel_export_job_archive_files{{export_job=\"recordings\",dataset=\"recordings\",outcome=\"{outcome}\"}} {n}"
        );
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }

    // A file uploaded later is the next run's only one.
    let seven = bytes(2048, 7);
    put(store.path(), "one.example/new/rec7.mp3", &seven);
    db.execute(&format!(
        "INSERT INTO storage.files (id, domain_id, uuid, name, size, mime_type, profile_id, properties, instance, created_at, sha256sum)
         VALUES (7, 1, '00000000-0000-0000-0000-000000000001', 'rec7.mp3', 2048, 'audio/mpeg', 11,
                 '{{\"directory\": \"one.example/new\"}}', 's1',
                 (extract(epoch FROM clock_timestamp()) * 1000)::int8, '{}')",
        sha256_hex(&seven)
    ))
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    lake.run(&db);
    let manifest = last_manifest(&lake);
    assert_eq!(archived(&manifest), vec![(7, true)]);
    let seven_path = manifest["archived"][0]["path"].as_str().unwrap();
    assert_eq!(std::fs::read(lake.root.join(seven_path)).unwrap(), seven);
    assert_eq!(manifest["archived"][0]["sha256"], sha256_hex(&seven));
}

#[tokio::test]
async fn an_archive_belongs_to_recordings_jobs_only() {
    let lake = Lake::new("", "[[jobs]]\ndataset = \"calls\"\n[jobs.archive]\n");
    let out = crate::support::run(&["run", "--config", path_str(&lake.config), "--dry-run"]);
    let said = assert_fails(&out, 2);
    assert!(
        said.contains("archive applies to recordings jobs"),
        "{said}"
    );
}

/// The temporary files under `dir`, by name.
fn temporaries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() {
            found.extend(temporaries(&entry.path()));
        } else if name.contains(".tmp-") {
            found.push(name);
        }
    }
    found.sort();
    found
}

/// A run killed with SIGKILL while it archives a file leaves that file's temporary beside the
/// archive; the next run removes it (and a state or metrics temporary), and nothing else that
/// only looks like one.
#[tokio::test]
async fn the_next_run_removes_the_temporaries_a_killed_run_left() {
    let db = TestDb::with_fixtures(&["calls.sql", "recordings.sql"]).await;
    let store = tempfile::tempdir().unwrap();
    let one = bytes(1000, 1);
    put(store.path(), "one.example/2026/09/01/rec1.mp3", &one);
    put(store.path(), "other-domain.mp3", &bytes(1000, 4));
    db.execute(&format!(
        "UPDATE storage.files SET sha256sum = '{}' WHERE id = 1",
        sha256_hex(&one)
    ))
    .await;
    // File 5 is a pipe nobody writes to: the run blocks reading it, its temporary in place.
    std::fs::create_dir_all(store.path().join("two/2026")).unwrap();
    let fifo = store.path().join("two/2026/rec5.wav");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let jobs = format!(
        "[[jobs]]\ndataset = \"recordings\"\nformat = \"csv\"\n[jobs.archive]\nstorage_root = {:?}\n",
        path_str(store.path())
    );
    let lake = Lake::new("safety_lag = \"0s\"", &jobs);
    let archive = lake.root.join("recordings-files");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_webitel-export"))
        .args(lake.args(&db))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !temporaries(&archive)
        .iter()
        .any(|t| t.starts_with(".5_rec5.wav.tmp-"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached file 5"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        temporaries(&archive).len(),
        1,
        "{:?}",
        temporaries(&archive)
    );

    // Temporaries of the state and metrics files, made as the run makes them.
    let state_dir = lake.root.join("_state");
    std::fs::create_dir_all(&state_dir).unwrap();
    for file in ["state.json", "metrics.prom"] {
        let temp = webitel_export::sink::place::temp_beside(&state_dir.join(file), None).unwrap();
        temp.keep().unwrap();
    }
    // Look-alikes that are not the run's: kept.
    let decoys = [
        archive.join("2026/09/01/.notes.tmp-keep12"),
        lake.root.join("notes/.1_rec1.mp3.tmp-abcdef"),
        state_dir.join(".other.json.tmp-abcdef"),
    ];
    for decoy in &decoys {
        std::fs::create_dir_all(decoy.parent().unwrap()).unwrap();
        std::fs::write(decoy, b"not the run's").unwrap();
    }

    std::fs::remove_file(&fifo).unwrap();
    put(store.path(), "two/2026/rec5.wav", &bytes(32044, 5));
    let mut args = lake.args(&db);
    args.retain(|a| *a != "-q");
    let out = crate::support::run(&args);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("recovery: removed 3 temporary files a killed run left"),
        "{said}"
    );
    let left = temporaries(&lake.root);
    assert_eq!(
        left,
        [
            ".1_rec1.mp3.tmp-abcdef",
            ".notes.tmp-keep12",
            ".other.json.tmp-abcdef"
        ],
        "only the look-alikes are left"
    );
    for decoy in &decoys {
        assert_eq!(std::fs::read(decoy).unwrap(), b"not the run's");
    }
    let five = archive.join(format!(
        "{}/5_rec5.wav",
        chrono::DateTime::from_timestamp(1_788_350_000, 0)
            .unwrap()
            .format("%Y/%m/%d")
    ));
    assert_eq!(std::fs::read(five).unwrap(), bytes(32044, 5));
}
