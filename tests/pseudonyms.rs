//! Keyed pseudonyms (`--pseudonymize numbers,names,text`): no clear number, customer name or
//! note of the database in any output file, tokens equal across datasets and formats, another
//! key other tokens, filters still on clear values, and the key file checked.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use sqlx::Row;

use crate::datasets::every_export;
use crate::support::*;

const ALL_CLASSES: &str = "numbers,names,text";

/// A private key file of `len` bytes of `byte`, mode `mode`.
fn key_file(dir: &Path, name: &str, byte: u8, len: usize, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![byte; len]).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

/// Every clear value the exports must not contain: customers' numbers and names, notes,
/// comments and transcripts, as the database holds them (at least 7 characters: shorter ones
/// such as extensions occur by chance in any binary file).
async fn clear_values(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect().await;
    let rows = sqlx::query(
        "SELECT DISTINCT v FROM (
             SELECT from_number AS v FROM call_center.cc_calls_history WHERE from_type <> 'user'
             UNION ALL SELECT to_number FROM call_center.cc_calls_history WHERE to_type = 'dest'
             UNION ALL SELECT destination FROM call_center.cc_calls_history
                       WHERE direction = 'outbound' AND from_type = 'user' AND to_type = 'dest'
             UNION ALL SELECT from_name FROM call_center.cc_calls_history WHERE from_type = 'dest'
             UNION ALL SELECT to_name FROM call_center.cc_calls_history WHERE to_type = 'dest'
             UNION ALL SELECT name FROM call_center.cc_member
             UNION ALL SELECT c->>'destination' FROM call_center.cc_member m,
                       jsonb_array_elements(m.communications) c
             UNION ALL SELECT destination->>'destination' FROM call_center.cc_member_attempt_history
             UNION ALL SELECT description FROM call_center.cc_member_attempt_history
             UNION ALL SELECT note FROM call_center.cc_calls_annotation
             UNION ALL SELECT comment FROM call_center.cc_audit_rate
             UNION ALL SELECT transcript FROM storage.file_transcript
             UNION ALL SELECT p->>'phrase' FROM storage.file_transcript t,
                       jsonb_array_elements(t.phrases) p
         ) clear WHERE length(v) >= 7",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter().map(|r| r.get::<String, _>(0)).collect()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[tokio::test]
async fn no_clear_number_name_or_note_reaches_any_output_file() {
    let db = TestDb::seeded(3000, 11).await;
    let clear = clear_values(&db).await;
    assert!(
        clear.len() > 500,
        "the demo has customers and notes: {}",
        clear.len()
    );
    let dir = out_dir();
    let key = key_file(dir.path(), "key", 7, 32, 0o600);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mut exported = 0;
    for export in every_export() {
        // Parquet without compression: a clear value would be visible in its pages, dictionary
        // pages and statistics alike.
        for (ext, extra) in [
            ("csv", &[][..]),
            ("jsonl", &[][..]),
            ("parquet", &["--compression", "none"][..]),
        ] {
            let path = out.join(format!("{}.{ext}", export.name));
            let mut args = export.command.clone();
            args.extend_from_slice(&["--database-url", &db.url, "-q", "-o", path_str(&path)]);
            args.extend_from_slice(&[
                "--pseudonymize",
                ALL_CLASSES,
                "--pseudonym-key-file",
                path_str(&key),
            ]);
            args.extend_from_slice(extra);
            run_ok(&args);
            exported += 1;
        }
    }
    // A nightly run into a Delta table and a Hive tree: the transaction log's statistics too.
    let root = dir.path().join("lake");
    let config = dir.path().join("run.toml");
    std::fs::write(
        &config,
        format!(
            "root = {root:?}\npseudonymize = [\"numbers\", \"names\", \"text\"]\n\
             pseudonym_key_file = {key:?}\n\
             [[jobs]]\ndataset = \"calls\"\nformat = \"delta\"\n\
             [[jobs]]\ndataset = \"attempts\"\n[[jobs]]\ndataset = \"members\"\nmode = \"full\"\n",
        ),
    )
    .unwrap();
    run_config(&config, &db);

    let finder = AhoCorasick::new(&clear).unwrap();
    let mut files = Vec::new();
    files_under(&out, &mut files);
    files_under(&root, &mut files);
    assert!(files.len() > exported, "{} files", files.len());
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        if let Some(found) = finder.find(&bytes) {
            panic!(
                "{} holds the clear value {:?}",
                file.display(),
                clear[found.pattern().as_usize()]
            );
        }
    }
}

/// `column` of every row of a CSV export, by the value of `key`.
fn by_key(text: &str, key: &str, column: &str) -> HashMap<String, String> {
    let (header, rows) = parse_csv(text);
    let k = header.iter().position(|h| h == key).unwrap();
    let c = header.iter().position(|h| h == column).unwrap();
    rows.into_iter()
        .map(|r| (r[k].clone(), r[c].clone()))
        .collect()
}

#[tokio::test]
async fn one_number_is_one_token_in_every_dataset_and_format() {
    let db = TestDb::with_fixtures(&["calls.sql", "recordings.sql"]).await;
    let dir = out_dir();
    let key = key_file(dir.path(), "key", 1, 48, 0o400);
    let other_key = key_file(dir.path(), "other", 2, 32, 0o600);
    let export = |dataset: &str, key: &Path, extra: &[&str]| {
        let mut args = vec![dataset, "--database-url", &db.url, "-q"];
        args.extend_from_slice(&[
            "--pseudonymize",
            "numbers,names",
            "--pseudonym-key-file",
            path_str(key),
        ]);
        args.extend_from_slice(extra);
        run_ok(&args)
    };
    const FIRST: &str = "00000000-0000-0000-0000-000000000001";
    let calls = export("calls", &key, &[]);
    let token = by_key(&calls, "id", "from_number")[FIRST].clone();
    assert_eq!(token.len(), 26, "{token}");
    assert_ne!(token, "+380501112233");
    // The caller's name is a token too, and the agent's name on the same row is not personal.
    let name = by_key(&calls, "id", "from_name")[FIRST].clone();
    assert_eq!(name.len(), 26);
    let clear = export_rows(&db, "calls", &["--id", FIRST]);
    assert_eq!(clear[0]["from_name"], "Caller \"One\", Ltd");

    // The same number in the recordings and conversations datasets, and in JSON Lines.
    let recordings = export("recordings", &key, &[]);
    assert!(
        by_key(&recordings, "call_id", "from_number")
            .values()
            .any(|t| *t == token),
        "recordings carry the same token"
    );
    let conversations = export("conversations", &key, &[]);
    assert!(
        by_key(&conversations, "conversation_id", "customer_number")
            .values()
            .any(|t| *t == token)
    );
    let jsonl = export("calls", &key, &["-f", "jsonl", "--id", FIRST]);
    let line: serde_json::Value = serde_json::from_str(jsonl.trim()).unwrap();
    assert_eq!(line["from_number"], token.as_str());

    // The filter matches the clear number on the server, before it is replaced.
    let filtered = export("calls", &key, &["--number", "+380501112233", "--top-level"]);
    let ids = by_key(&filtered, "id", "from_number");
    assert!(ids.contains_key(FIRST), "{ids:?}");
    assert!(ids.values().all(|t| *t == token));

    // Another key: unrelated tokens.
    let other = export("calls", &other_key, &[]);
    let other_token = &by_key(&other, "id", "from_number")[FIRST];
    assert_ne!(*other_token, token);
    assert_eq!(other_token.len(), 26);
}

#[tokio::test]
async fn text_is_dropped_and_variables_lose_their_numbers() {
    let db = TestDb::with_fixtures(&["calls.sql"]).await;
    let dir = out_dir();
    let key = key_file(dir.path(), "key", 3, 32, 0o600);
    db.execute(
        "UPDATE call_center.cc_calls_history SET payload = payload || '{\"callback\": \"+380 67 000 11 22\"}'
         WHERE id = '00000000-0000-0000-0000-000000000001'",
    )
    .await;
    let args = |classes: &str| {
        run_ok(&[
            "calls",
            "--database-url",
            &db.url,
            "-q",
            "--top-level",
            "--pseudonymize",
            classes,
            "--pseudonym-key-file",
            path_str(&key),
            "--variable-columns",
            "city,callback",
        ])
    };
    const FIRST: &str = "00000000-0000-0000-0000-000000000001";
    // numbers alone: the variables document stays, its number tokenized.
    let numbers = args("numbers");
    let variables: serde_json::Value =
        serde_json::from_str(&by_key(&numbers, "id", "variables")[FIRST]).unwrap();
    assert_eq!(variables["city"], "Київ");
    let callback = variables["callback"].as_str().unwrap();
    assert_eq!(callback.len(), 26);
    assert_eq!(by_key(&numbers, "id", "var_callback")[FIRST], callback);
    assert_eq!(by_key(&numbers, "id", "var_city")[FIRST], "Київ");
    // text: the document is dropped; the variable columns asked for stay.
    let text = args("numbers,text");
    assert_eq!(by_key(&text, "id", "variables")[FIRST], "");
    assert_eq!(by_key(&text, "id", "var_callback")[FIRST], callback);
}

#[tokio::test]
async fn a_bad_key_file_is_a_usage_error_that_never_shows_the_key() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let secret = b"this-is-the-secret-key-material-0123456789";
    let readable = dir.path().join("readable");
    std::fs::write(&readable, secret).unwrap();
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let short = key_file(dir.path(), "short", 5, 31, 0o600);
    let missing = dir.path().join("missing");
    let dest = dir.path().join("calls.csv");
    for (key, why) in [
        (&readable, "chmod 600"),
        (&short, "31 bytes"),
        (&missing, "No such file"),
    ] {
        let out = run(&[
            "calls",
            "--database-url",
            &db.url,
            "-o",
            path_str(&dest),
            "--pseudonymize",
            "numbers",
            "--pseudonym-key-file",
            path_str(key),
        ]);
        let line = assert_fails(&out, 2);
        assert!(line.contains(why), "{line}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("secret-key"));
        assert!(!dest.exists());
    }
    let no_key = run(&[
        "calls",
        "--database-url",
        &db.url,
        "--pseudonymize",
        "numbers",
    ]);
    assert!(assert_fails(&no_key, 2).contains("--pseudonym-key-file"));
    // In a run config: the same checks, before anything runs.
    let config = dir.path().join("run.toml");
    std::fs::write(
        &config,
        format!(
            "root = {:?}\npseudonym_key_file = {readable:?}\n[[jobs]]\ndataset = \"calls\"\npseudonymize = [\"names\"]\n",
            dir.path().join("lake")
        ),
    )
    .unwrap();
    let out = run(&[
        "run",
        "--config",
        path_str(&config),
        "--database-url",
        &db.url,
    ]);
    assert!(assert_fails(&out, 2).contains("chmod 600"));
    assert!(!dir.path().join("lake").exists());
}
