//! The config file's checks: defaults, and a one-line message naming the line for each bad value.

use super::*;

fn error(text: &str) -> String {
    match Config::parse(text, "export.toml") {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.one_line(),
    }
}

const GOOD: &str = r#"
root = "/tmp/lake"
time_zone = "Europe/Kyiv"

[[jobs]]
dataset = "calls"
filters = ["--domain", "1", "--top-level"]

[[jobs]]
dataset = "queues"
"#;

#[test]
fn a_good_config_gets_defaults() {
    let c = Config::parse(GOOD, "export.toml").unwrap();
    assert_eq!(c.jobs.len(), 2);
    assert_eq!(c.jobs[0].mode, Mode::Incremental);
    assert_eq!(c.jobs[0].partition_by, Some("created_at"));
    assert_eq!(c.jobs[1].mode, Mode::Full);
    assert_eq!(c.safety_lag, Duration::from_secs(300));
}

#[test]
fn bad_configs_name_the_line_and_the_reason() {
    let cases = [
        (
            GOOD.replace("time_zone", "timezone"),
            "line 3",
            "unknown field `timezone`",
        ),
        (
            GOOD.replace("\"calls\"", "\"cals\""),
            "line 5",
            "unknown dataset 'cals'",
        ),
        (
            GOOD.replace("--top-level", "--top-levle"),
            "line 5",
            "--top-levle",
        ),
        (
            GOOD.replace("Europe/Kyiv", "Europe/Kiev2"),
            "export.toml",
            "Europe/Kiev2",
        ),
        (
            GOOD.replace("\"queues\"", "\"queues\"\nmode = \"incremental\""),
            "line 9",
            "snapshot dataset",
        ),
        (
            GOOD.replace("\"queues\"", "\"queues\"\nmode = \"sometimes\""),
            "line 11",
            "sometimes",
        ),
        (
            GOOD.replace("\"--top-level\"", "\"--stored-from\", \"2026-01-01\""),
            "line 5",
            "sets --stored-from",
        ),
        (
            GOOD.replace(
                "dataset = \"calls\"",
                "dataset = \"calls\"\npartition_by = \"bogus\"",
            ),
            "line 5",
            "timestamp columns: created_at",
        ),
        (
            GOOD.replace(
                "dataset = \"calls\"",
                "dataset = \"calls\"\nsince = \"yesterday\"",
            ),
            "line 5",
            "'yesterday'",
        ),
        (
            GOOD.replace("root = \"/tmp/lake\"", "root = 5"),
            "line 2",
            "invalid type",
        ),
        (
            GOOD.replace("time_zone", "pushgateway = \"pushgw:9091\"\ntime_zone"),
            "export.toml",
            "not an http:// or https:// URL",
        ),
        (
            GOOD.replace("\"queues\"", "\"calls\""),
            "line 9",
            "used twice",
        ),
    ];
    for (text, line, reason) in cases {
        let message = error(&text);
        assert!(
            message.contains(line) && message.contains(reason),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
    }
}

/// The example the Debian package installs is a valid configuration.
#[test]
fn the_packaged_example_config_is_valid() {
    let text = include_str!("../../../docs/packaging/export.toml.example");
    let config = Config::parse(text, "export.toml.example").unwrap();
    assert_eq!(
        config.root,
        std::path::Path::new("/var/lib/webitel-export/lake")
    );
    assert!(config.jobs.iter().any(|j| j.name == "conversations"));
}

/// Every TOML example of docs/nightly.md that has jobs is a valid configuration, and the
/// first one archives recordings.
#[test]
fn the_documented_configs_are_valid() {
    let text = include_str!("../../../docs/nightly.md");
    let blocks: Vec<&str> = text
        .split("```toml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .filter(|block| block.contains("[[jobs]]"))
        .collect();
    assert!(!blocks.is_empty());
    for (i, block) in blocks.iter().enumerate() {
        // A fragment without a root gets one.
        let text = if block.contains("\nroot") || block.starts_with("root") {
            (*block).to_string()
        } else {
            format!("root = \"/tmp/lake\"\n{block}")
        };
        let config = Config::parse(&text, &format!("docs/nightly.md block {i}"))
            .unwrap_or_else(|e| panic!("{}", e.one_line()));
        if i == 0 {
            assert!(
                config
                    .jobs
                    .iter()
                    .any(|j| j.name == "recordings" && j.archive.is_some())
            );
        }
    }
}
