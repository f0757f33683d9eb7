//! Invalid invocations, table-driven: each exits 2 with one line naming the bad value, and none
//! reaches the database. The URL points at a closed port, so an attempt to connect would end
//! in exit 3 instead; validation must catch all of these first.

use std::io::Write;

use crate::support::{assert_fails, out_dir, path_str, run};

/// Nothing listens here (port 1 needs root to bind, and no test binds it).
const NO_SERVER: &str = "postgres://exporter:S3cret-Never-Shown@127.0.0.1:1/webitel";

/// (arguments after the subcommand's connection flag, text the message must contain)
const CASES: &[(&[&str], &str)] = &[
    // Dates, ranges, time zones.
    (&["calls", "--from", "2026-13-01"], "2026-13-01"),
    (&["calls", "--from", "yesterday"], "yesterday"),
    (&["calls", "--to", "2026-02-30"], "2026-02-30"),
    (
        &["calls", "--from", "2026-09-02", "--to", "2026-09-01"],
        "must be before",
    ),
    (
        &[
            "calls",
            "--stored-from",
            "2026-09-02",
            "--stored-to",
            "2026-09-01",
        ],
        "--stored-from",
    ),
    (
        &["calls", "--answered-from", "2026-09-01T25:00"],
        "2026-09-01T25:00",
    ),
    (&["calls", "--tz", "Mars/Olympus"], "Mars/Olympus"),
    (
        &["calls", "--from", "2026-03-29T03:30", "--tz", "Europe/Kyiv"],
        "DST",
    ),
    (&["attempts", "--leaving-from", "2026-99-01"], "2026-99-01"),
    (&["attempts", "--tz", "Europe/Atlantis"], "Europe/Atlantis"),
    (&["agent-states", "--ended-from", "noon"], "noon"),
    (
        &["agent-states", "--from", "2026-10-02", "--to", "2026-10-01"],
        "must be before",
    ),
    (&["recordings", "--uploaded-from", "2026-1-1x"], "2026-1-1x"),
    (
        &[
            "report",
            "agent-activity",
            "--from",
            "2026-10-01",
            "--bucket",
            "fortnight",
        ],
        "fortnight",
    ),
    (
        &["report", "agent-activity", "--to", "2026-10-01"],
        "--from",
    ),
    (
        &[
            "report",
            "queue-activity",
            "--from",
            "2026-10-01",
            "--tz",
            "UTC+3",
        ],
        "UTC+3",
    ),
    (
        &[
            "report",
            "queue-activity",
            "--from",
            "2026-10-01",
            "--sl",
            "fast",
        ],
        "fast",
    ),
    (
        &[
            "report",
            "agent-activity",
            "--from",
            "2000-01-01",
            "--bucket",
            "hour",
        ],
        "bucket",
    ),
    // Patterns and key=value filters (the regex itself is the server's to judge).
    (&["calls", "--var", "novalue"], "novalue"),
    (&["calls", "--var", "=x"], "=x"),
    (&["recordings", "--var", "lang"], "lang"),
    // Ids that are not numbers or uuids.
    (&["calls", "--user", "abc"], "abc"),
    (&["calls", "--queue", "1.5"], "1.5"),
    (&["calls", "--id", "not-a-uuid"], "not-a-uuid"),
    (&["calls", "--dependency-id", "1234"], "1234"),
    (&["queues", "--id", "x1"], "x1"),
    (&["queues", "--type", "seven"], "seven"),
    (&["agents", "--team", "-"], "'-'"),
    (
        &["attempts", "--member", "99999999999999999999"],
        "99999999999999999999",
    ),
    (&["agent-states", "--after-id", "last"], "last"),
    (&["recordings", "--file-id", "f00"], "f00"),
    (&["calls", "--min-duration", "-1"], "-1"),
    (
        &["calls", "--min-talk", "10", "--max-talk", "5"],
        "--min-talk",
    ),
    // Formats, enums, conflicting flags.
    (&["calls", "--format", "xls"], "xls"),
    (&["calls", "--columns", "id,nope"], "nope"),
    (&["calls", "--exclude-columns", "nope"], "nope"),
    (
        &["agents", "--variable-columns", "x"],
        "no variables column",
    ),
    (
        &["calls", "--pseudonymize", "numbers"],
        "--pseudonym-key-file",
    ),
    (&["calls", "--pseudonymize", "phones"], "phones"),
    (
        &["calls", "--pseudonym-key-file", "/nonexistent/key"],
        "--pseudonymize",
    ),
    (&["calls", "--format", "xlsx", "--excel"], "--excel"),
    (&["calls", "--compression", "lz4"], "lz4"),
    (&["calls", "--direction", "sideways"], "sideways"),
    (&["agent-states", "--kind", "mood"], "mood"),
    (&["calls", "--has-file", "--no-file"], "--no-file"),
    (
        &["calls", "--has-transfer", "--no-transfer"],
        "--no-transfer",
    ),
    (&["queues", "--enabled", "--disabled"], "--disabled"),
    (&["calls", "--format", "parquet", "--excel"], "--excel"),
    (&["calls", "--parallel", "0"], "--parallel"),
    // Connection settings.
    (&["calls", "--statement-timeout", "soon"], "soon"),
    (&["calls", "--connect-timeout", "5 parsecs"], "5 parsecs"),
    (&["calls", "--stall-timeout", "1y"], "1y"),
    (&["calls", "--sslmode", "always"], "always"),
    (
        &["calls", "--sslrootcert", "/nonexistent/ca.pem"],
        "/nonexistent/ca.pem",
    ),
    (
        &["calls", "--password-file", "/nonexistent/password"],
        "/nonexistent/password",
    ),
    (&["calls", "--connect-retries", "many"], "many"),
    // Datasets.
    (&["check", "phones"], "phones"),
];

#[test]
fn invalid_invocations_are_one_line_exit_2_without_touching_the_database() {
    assert!(CASES.len() >= 40, "at least 40 cases");
    for (args, needle) in CASES {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--database-url", NO_SERVER]);
        let message = assert_fails(&run(&full), 2);
        assert!(
            message.contains(needle),
            "{args:?}: {message:?} should name {needle:?}"
        );
        assert!(
            !message.contains("S3cret-Never-Shown"),
            "{args:?}: {message}"
        );
    }
}

/// `run` configuration files: unknown keys and wrong types are named with their line.
#[test]
fn invalid_config_files_are_one_line_exit_2() {
    let dir = out_dir();
    let configs: &[(&str, &str)] = &[
        (
            "root = \"/tmp/x\"\ncolour = \"blue\"\n[[jobs]]\ndataset = \"calls\"\n",
            "colour",
        ),
        (
            "root = \"/tmp/x\"\nmax_file_rows = \"many\"\n[[jobs]]\ndataset = \"calls\"\n",
            "max_file_rows",
        ),
        (
            "root = \"/tmp/x\"\n[[jobs]]\ndataset = \"phones\"\n",
            "phones",
        ),
        (
            "root = \"/tmp/x\"\n[[jobs]]\ndataset = \"calls\"\nformat = \"xls\"\n",
            "xls",
        ),
        (
            "root = \"/tmp/x\"\n[[jobs]]\ndataset = \"calls\"\ncolumns = [\"nope\"]\n",
            "nope",
        ),
        (
            "root = \"/tmp/x\"\npseudonymize = [\"numbers\"]\n[[jobs]]\ndataset = \"calls\"\n",
            "pseudonym_key_file",
        ),
        (
            "root = \"/tmp/x\"\n[[jobs]]\ndataset = \"calls\"\nfilters = [\"--from\", \"later\"]\n",
            "later",
        ),
        ("root = [1, 2]\n", "root"),
        ("this is not toml", "line 1"),
    ];
    for (i, (text, needle)) in configs.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = run(&[
            "run",
            "--config",
            path_str(&path),
            "--database-url",
            NO_SERVER,
        ]);
        let message = assert_fails(&out, 2);
        assert!(
            message.contains(needle),
            "{text:?}: {message:?} should name {needle:?}"
        );
    }
}
