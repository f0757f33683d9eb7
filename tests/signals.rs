//! SIGINT / SIGTERM during an export: exit 130 / 143, the temporary file is removed and an
//! older file at the destination is left as it was.

use std::time::{Duration, Instant};

use crate::support::proxy::Proxy;
use crate::support::{PREVIOUS_EXPORT, TestDb, dir_with_previous_export, files_in, path_str};

fn interrupt_mid_export(db: &TestDb, signal: libc::c_int, expected: i32) {
    // The proxy holds the export mid-way: the signal always finds it writing.
    let proxy = Proxy::holding(&db.url);
    let url = proxy.url(&db.url);
    let (dir, dest) = dir_with_previous_export();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_webitel-export"))
        .args(["calls", "--database-url", &url, "-q", "-o", path_str(&dest)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until rows are being written into the temporary file: the export is under way.
    let started = Instant::now();
    loop {
        let writing = std::fs::read_dir(dir.path()).unwrap().any(|e| {
            let e = e.unwrap();
            e.file_name()
                .to_string_lossy()
                .starts_with(".calls.csv.tmp-")
                && e.metadata().unwrap().len() > 0
        });
        if writing {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the export never started writing"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the export ended before it could be interrupted"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), signal) };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(expected), "stderr: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), PREVIOUS_EXPORT);
    assert_eq!(
        files_in(dir.path()),
        vec!["calls.csv"],
        "the temporary file was left behind"
    );
}

#[tokio::test]
async fn sigint_and_sigterm_publish_nothing() {
    let db = TestDb::seeded(20_000, 9).await;
    interrupt_mid_export(&db, libc::SIGINT, 130);
    interrupt_mid_export(&db, libc::SIGTERM, 143);
}
