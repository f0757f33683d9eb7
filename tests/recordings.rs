//! `recordings`: which files belong to which calls, where they are stored, and the filters.

use crate::support::{TestDb, export_ids, export_rows};

async fn fixture() -> TestDb {
    TestDb::with_fixtures(&["calls.sql", "recordings.sql"]).await
}

#[tokio::test]
async fn every_recording_filter_selects_exactly_the_matching_files() {
    let db = fixture().await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        // removed (3) and missing (6) files are left out by default
        (vec![], vec![1, 2, 4, 5]),
        (vec!["--include-removed"], vec![1, 2, 3, 4, 5, 6]),
        (vec!["--domain", "2"], vec![4, 5]),
        (vec!["--from", "2026-09-02", "--to", "2026-09-03"], vec![5]),
        // a child leg's recordings are its parent's
        (
            vec!["--id", "00000000-0000-0000-0000-000000000002"],
            vec![1],
        ),
        // the same uuid in another domain is another call
        (
            vec!["--id", "00000000-0000-0000-0000-000000000001"],
            vec![1],
        ),
        (vec!["--queue", "11"], vec![1, 2]),
        // agent 1002 rang on leg 05 (under 01) and handled 13 (under 11)
        (vec!["--agent", "1002"], vec![1, 2]),
        (vec!["--direction", "outbound"], vec![1, 2, 5]),
        (vec!["--missed"], vec![]),
        (vec!["--number", "+38093"], vec![5]),
        (vec!["--var", "city=Київ"], vec![1]),
        (vec!["--has-transfer"], vec![2]),
        (vec!["--file-id", "2"], vec![2]),
        (vec!["--mime", "audio/w*"], vec![5]),
        (vec!["--uploaded-from", "2026-09-02"], vec![5]),
        (
            vec!["--uploaded-to", "2026-09-02", "--domain", "1"],
            vec![1, 2],
        ),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "recordings", "file_id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
}

#[tokio::test]
async fn recordings_say_where_each_file_is_and_which_call_it_belongs_to() {
    let db = fixture().await;
    let rows = export_rows(&db, "recordings", &[]);
    let file = |id: &str| rows.iter().find(|r| r["file_id"] == id).unwrap();
    let local = file("1");
    for (column, value) in [
        ("profile_type", "local"),
        (
            "location",
            "/var/lib/webitel/one.example/2026/09/01/rec1.mp3",
        ),
        ("encrypted", "false"),
        ("stream_path", "/api/storage/recordings/1/stream"),
        ("call_id", "00000000-0000-0000-0000-000000000001"),
        ("call_created_at", "2026-09-01T10:00:00.000000Z"),
        ("direction", "inbound"),
        ("queue_name", "Inbound support"),
        ("agent_name", "Олена Шевченко"),
        ("uploaded_at", "2026-09-01T09:46:40.000000Z"),
        ("sha256", "ab12"),
        ("size_bytes", "1000"),
    ] {
        assert_eq!(local[column], value, "file 1 {column}");
    }
    let s3 = file("2");
    assert_eq!(s3["profile_type"], "s3");
    assert_eq!(
        s3["location"],
        "s3://rec-bucket/recordings/2026/09/03/x.mp3"
    );
    assert_eq!(s3["encrypted"], "true");
    let default_store = file("5");
    assert_eq!(default_store["profile_type"], "default");
    assert_eq!(default_store["location"], "two/2026/rec5.wav");
    // Same uuid as leg 01 but another domain: no call context.
    assert_eq!(file("4")["call_created_at"], "");
}

/// Every regular file under `dir`, relative, sorted.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    fn walk(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn copy_to_verifies_resumes_and_never_copies_encrypted_files() {
    use sha2::Digest;
    let db = fixture().await;
    let store = crate::support::out_dir();
    let source = store.path().join("one.example/2026/09/01/rec1.mp3");
    std::fs::create_dir_all(source.parent().unwrap()).unwrap();
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&source, &bytes).unwrap();
    let target = crate::support::out_dir();
    let meta = crate::support::out_dir();
    let meta_csv = meta.path().join("recordings.csv");
    let copy = |extra: &[&str]| {
        let mut args = vec![
            "recordings",
            "--database-url",
            &db.url,
            "--domain",
            "1",
            "-o",
            crate::support::path_str(&meta_csv),
            "--copy-to",
            crate::support::path_str(target.path()),
            "--storage-root",
            crate::support::path_str(store.path()),
        ];
        args.extend_from_slice(extra);
        crate::support::run(&args)
    };

    // The fixture's sha256 ('ab12') is not the file's: reported, exit 4, nothing left behind.
    let out = copy(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("file 1: FAILED") && stderr.contains("sha256 mismatch"),
        "{stderr}"
    );
    assert!(
        stderr.contains("file 2: skipped"),
        "the S3 file is not on this host: {stderr}"
    );
    assert!(files_under(target.path()).is_empty(), "a bad copy remained");

    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    db.execute(&format!(
        "UPDATE storage.files SET sha256sum = '{sha}' WHERE id = 1"
    ))
    .await;
    let out = copy(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files_under(target.path()), vec!["2026/09/01/1_rec1.mp3"]);
    assert_eq!(
        std::fs::read(target.path().join("2026/09/01/1_rec1.mp3")).unwrap(),
        bytes
    );

    // A rerun copies nothing new.
    let out = copy(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("0 copied, 1 already copied"), "{stderr}");

    // A link planted where a copy goes is not ours to replace: the copy fails (exit 4) and
    // the file the link names is unchanged.
    let dest = target.path().join("2026/09/01/1_rec1.mp3");
    std::fs::remove_file(&dest).unwrap();
    let outside = meta.path().join("outside.bin");
    std::fs::write(&outside, b"not a recording").unwrap();
    std::os::unix::fs::symlink(&outside, &dest).unwrap();
    let out = copy(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("file 1: FAILED"), "{stderr}");
    assert_eq!(std::fs::read(&outside).unwrap(), b"not a recording");
    assert!(
        std::fs::symlink_metadata(&dest)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    std::fs::remove_file(&dest).unwrap();
    std::fs::write(&dest, &bytes).unwrap();

    // A size mismatch is reported and the bad copy does not remain.
    std::fs::remove_file(target.path().join("2026/09/01/1_rec1.mp3")).unwrap();
    db.execute("UPDATE storage.files SET size = 999 WHERE id = 1")
        .await;
    let out = copy(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("size mismatch"), "{stderr}");
    assert!(files_under(target.path()).is_empty());

    // Encrypted files are never copied.
    db.execute(
        "UPDATE storage.files SET size = 1000, properties = properties || '{\"encrypted\": true}' WHERE id = 1",
    )
    .await;
    let out = copy(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("file 1: skipped: stored encrypted"),
        "{stderr}"
    );
    assert!(files_under(target.path()).is_empty());
}

/// A call's recordings are one set: `calls.recording_file_ids` and `calls --has-file` count
/// exactly the files `recordings` exports for the leg or its parent, so a screen recording
/// (channel `screenshare`) or a file missing from storage counts in neither.
#[tokio::test]
async fn calls_count_exactly_the_files_recordings_exports() {
    let db = fixture().await;
    db.execute(
        "INSERT INTO storage.files (id, domain_id, uuid, name, size, mime_type, properties, instance, created_at, channel) VALUES
             (7, 1, '00000000-0000-0000-0000-000000000001', 'screen.webm', 5000, 'video/webm', '{}', 's1', 1788256000000, 'screenshare'),
             (8, 1, '00000000-0000-0000-0000-000000000011', 'rec8.mp3', 1000, 'audio/mpeg', '{}', 's1', 1788256000000, 'call');",
    )
    .await;
    let files = export_rows(&db, "recordings", &[]);
    let legs = export_rows(&db, "calls", &[]);
    let mut with_files = Vec::new();
    for leg in &legs {
        let mut expected: Vec<String> = files
            .iter()
            .filter(|f| {
                f["domain_id"] == leg["domain_id"]
                    && (f["call_id"] == leg["id"] || f["call_id"] == leg["parent_id"])
            })
            .map(|f| f["file_id"].clone())
            .collect();
        expected.sort_by_key(|id| id.parse::<i64>().unwrap());
        let listed = if expected.is_empty() {
            String::new()
        } else {
            with_files.push(leg["id"].clone());
            format!("[{}]", expected.join(","))
        };
        assert_eq!(leg["recording_file_ids"], listed, "leg {}", leg["id"]);
    }
    assert!(
        with_files.len() >= 3,
        "the fixture links several legs: {with_files:?}"
    );
    let mut has_file: Vec<String> = export_rows(&db, "calls", &["--has-file"])
        .iter()
        .map(|l| l["id"].clone())
        .collect();
    has_file.sort();
    with_files.sort();
    assert_eq!(has_file, with_files);
}

/// On demo data, recordings with call filters (read from the legs that match them) list exactly
/// the files of the calls export with the same filters: each file whose uuid is such a leg's id
/// or its parent's, in the leg's domain, taken from the recordings export without call filters
/// (read from the files).
#[tokio::test]
async fn call_filters_list_the_files_of_exactly_the_legs_that_match_on_demo_data() {
    let db = TestDb::seeded(3000, 7).await;
    let files = export_rows(&db, "recordings", &[]);
    let cases: [&[&str]; 5] = [
        &["--from", "2026-09-10", "--to", "2026-09-12"],
        &["--stored-from", "2026-09-20", "--stored-to", "2026-09-21"],
        &["--direction", "inbound", "--domain", "2"],
        &["--top-level", "--from", "2026-09-05", "--to", "2026-09-08"],
        &["--has-transfer"],
    ];
    for filters in cases {
        let owners: std::collections::HashSet<(String, String)> =
            export_rows(&db, "calls", filters)
                .iter()
                .flat_map(|leg| {
                    [&leg["id"], &leg["parent_id"]]
                        .map(|owner| (leg["domain_id"].clone(), owner.clone()))
                })
                .filter(|(_, owner)| !owner.is_empty())
                .collect();
        let mut expected: Vec<u32> = files
            .iter()
            .filter(|f| owners.contains(&(f["domain_id"].clone(), f["call_id"].clone())))
            .map(|f| f["file_id"].parse().expect("an integer id"))
            .collect();
        expected.sort();
        assert!(!expected.is_empty(), "filters {filters:?} select no file");
        assert_eq!(
            export_ids(&db, "recordings", "file_id", filters),
            expected,
            "filters {filters:?}"
        );
    }
}
