//! The tool writes only where it was asked to write (README, Output): a FIFO or a
//! character device at `-o` is written through and stays what it is, a symbolic link is
//! published at the file it names and stays a link, a directory or a block device is refused,
//! new files follow the umask and a replaced file keeps its mode, and a `run` root never has
//! a link or a FIFO replaced. Device nodes are made with mknod inside each test's own
//! directory (as root); the real /dev is never touched. The FIFO, link and umask cases run
//! again as an unprivileged user when the suite runs as root.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::support::{TestDb, assert_fails, path_str, run};

const BIN: &str = env!("CARGO_BIN_EXE_webitel-export");
/// `nobody` on Debian.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Runs the binary through `sh` with `umask`, as `user` when given.
fn run_as(user: Option<u32>, umask: &str, args: &[&str]) -> Output {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("WEBITEL_DATABASE_URL");
    if let Some(uid) = user {
        command.uid(uid).gid(uid).env("HOME", "/");
    }
    command.output().expect("run webitel-export")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A directory the unprivileged user may write in too.
fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o777
}

/// `queues -o <fifo>` streams into the FIFO (read by another thread) and leaves it a FIFO.
fn fifo_case(db: &TestDb, user: Option<u32>) {
    let dir = shared_dir();
    let fifo = dir.path().join("queues.csv");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o666)).unwrap();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    ok(&run_as(
        user,
        "022",
        &[
            "queues",
            "--database-url",
            &db.url,
            "-q",
            "-o",
            path_str(&fifo),
        ],
    ));
    // Checked before waiting for the reader, which would wait forever on a replaced FIFO.
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo(),
        "the FIFO was replaced"
    );
    let text = reader.join().unwrap();
    assert!(text.starts_with("id,"), "the CSV went through: {text:.80}");
    assert!(text.lines().count() > 1, "rows went through");
    assert_eq!(
        entries(dir.path()),
        ["queues.csv"],
        "no temporary file left"
    );
}

/// `-o <link>` replaces the file the link names, keeping the link and the file's mode; a new
/// file gets `0666 & ~umask`.
fn link_and_umask_case(db: &TestDb, user: Option<u32>) {
    let dir = shared_dir();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o777)).unwrap();
    let target = data.join("queues.csv");
    std::fs::write(&target, "old export\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o646)).unwrap();
    let link = dir.path().join("latest.csv");
    std::os::unix::fs::symlink("data/queues.csv", &link).unwrap();
    ok(&run_as(
        user,
        "077",
        &[
            "queues",
            "--database-url",
            &db.url,
            "-q",
            "-o",
            path_str(&link),
        ],
    ));
    assert_eq!(
        std::fs::read_link(&link).unwrap(),
        Path::new("data/queues.csv"),
        "the link stays"
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.starts_with("id,"),
        "published at the target: {text:.80}"
    );
    assert_eq!(mode(&target), 0o646, "a replaced file keeps its mode");
    assert_eq!(entries(&data), ["queues.csv"]);

    for (umask, expected) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let new = dir.path().join(format!("new-{umask}.csv"));
        ok(&run_as(
            user,
            umask,
            &[
                "queues",
                "--database-url",
                &db.url,
                "-q",
                "-o",
                path_str(&new),
            ],
        ));
        assert_eq!(mode(&new), expected, "umask {umask}");
    }
}

#[tokio::test]
async fn a_fifo_is_written_through_and_a_link_published_at_its_target() {
    let db = TestDb::with_fixture("queues.sql").await;
    fifo_case(&db, None);
    link_and_umask_case(&db, None);
    if is_root() {
        fifo_case(&db, Some(NOBODY));
        link_and_umask_case(&db, Some(NOBODY));
    } else {
        eprintln!("the unprivileged runs need root to switch user; ran as this user only");
    }
}

#[tokio::test]
async fn a_character_device_is_written_through_and_a_block_device_refused() {
    if !is_root() {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let db = TestDb::with_fixture("queues.sql").await;
    let dir = tempfile::tempdir().unwrap();
    // The null device (1, 3) and a loop device (7, 0), made in this test's own directory.
    let null = dir.path().join("null");
    let disk = dir.path().join("disk");
    assert!(
        Command::new("mknod")
            .arg(&null)
            .args(["c", "1", "3"])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        Command::new("mknod")
            .arg(&disk)
            .args(["b", "7", "0"])
            .status()
            .unwrap()
            .success()
    );
    for format in ["csv", "parquet", "jsonl"] {
        let out = run(&[
            "queues",
            "--database-url",
            &db.url,
            "-q",
            "--format",
            format,
            "-o",
            path_str(&null),
        ]);
        ok(&out);
    }
    let meta = std::fs::symlink_metadata(&null).unwrap();
    assert!(meta.file_type().is_char_device(), "still the null device");
    assert_eq!(meta.rdev(), std::fs::metadata(&null).unwrap().rdev());

    let out = run(&[
        "queues",
        "--database-url",
        &db.url,
        "-q",
        "-o",
        path_str(&disk),
    ]);
    let message = assert_fails(&out, 2);
    assert!(message.contains("block device"), "{message}");
    assert!(
        std::fs::symlink_metadata(&disk)
            .unwrap()
            .file_type()
            .is_block_device()
    );
    assert_eq!(
        entries(dir.path()),
        ["disk", "null"],
        "nothing else written"
    );
}

#[tokio::test]
async fn a_directory_is_refused_and_a_missing_parent_is_exit_4() {
    let dir = shared_dir();
    let url = "postgres://nobody@127.0.0.1:1/none";
    let missing = dir.path().join("no/such/queues.csv");
    let mut users = vec![None];
    if is_root() {
        users.push(Some(NOBODY));
    }
    for user in users {
        let out = run_as(
            user,
            "022",
            &["queues", "--database-url", url, "-o", path_str(dir.path())],
        );
        let message = assert_fails(&out, 2);
        assert!(message.contains("is a directory"), "{user:?}: {message}");
        let out = run_as(
            user,
            "022",
            &["queues", "--database-url", url, "-o", path_str(&missing)],
        );
        let message = assert_fails(&out, 4);
        assert!(message.contains("no/such"), "{user:?}: {message}");
    }
    assert!(entries(dir.path()).is_empty(), "nothing written");
}

/// A link planted at a run's state file is neither followed nor replaced: the run fails with
/// exit 4 and the file the link names is unchanged.
#[tokio::test]
async fn a_run_never_replaces_a_link_in_its_root() {
    let db = TestDb::with_fixture("queues.sql").await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("lake");
    let config = dir.path().join("export.toml");
    std::fs::write(
        &config,
        format!(
            "root = {:?}\n[[jobs]]\ndataset = \"queues\"\n",
            path_str(&root)
        ),
    )
    .unwrap();
    let outside = dir.path().join("outside.json");
    std::fs::write(&outside, "{\"keep\": true}").unwrap();
    std::fs::create_dir_all(root.join("_state")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("_state/state.json")).unwrap();
    let args = [
        "run",
        "--config",
        path_str(&config),
        "--database-url",
        &db.url,
        "-q",
    ];
    let message = assert_fails(&run(&args), 4);
    assert!(message.contains("state.json"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "{\"keep\": true}"
    );
    assert!(
        std::fs::symlink_metadata(root.join("_state/state.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // With the link gone the same run completes.
    std::fs::remove_file(root.join("_state/state.json")).unwrap();
    let out = run(&args);
    ok(&out);
}
