//! A run's metrics as a site reads them: pushed to Debian's `prometheus-pushgateway`, scraped
//! through `prometheus-node-exporter`'s textfile collector, and the alerts docs/nightly.md
//! documents checked by `promtool test rules` against the series of real runs — a commit, a
//! config error, a held lock, a lost database. Each daemon is started by the test on a free
//! loopback port; without the Debian packages the tests say so and skip (.ci/run installs
//! them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::daemon::Daemon;
use crate::support::{TestDb, assert_fails, path_str, run, run_args};

/// node_exporter reading only the textfile directory `dir`.
fn node_exporter(dir: &Path) -> Option<Daemon> {
    let textfiles = format!("--collector.textfile.directory={}", dir.display());
    Daemon::start(
        "prometheus-node-exporter",
        &[
            "--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            "--collector.textfile",
            &textfiles,
        ],
        "apt install prometheus-node-exporter",
    )
}

/// A scraped sample: series name and its labels, sorted.
type Series = (String, BTreeMap<String, String>);

/// The `webitel_export_*` samples of an exposition text.
fn samples(text: &str) -> BTreeMap<Series, f64> {
    text.lines()
        .filter(|l| l.starts_with("webitel_export_"))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').unwrap();
                    (k.to_string(), v.trim_matches('"').to_string())
                })
                .collect();
            ((name.to_string(), labels), value.parse().unwrap())
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An output root, a textfile directory and a config with `settings` and two calls jobs
/// (the docs' example: every leg, and the missed top-level ones).
struct Site {
    dir: tempfile::TempDir,
    config: PathBuf,
}

const TWO_JOBS: &str = "\
[[jobs]]
dataset = \"calls\"
format = \"csv\"

[[jobs]]
name = \"calls-missed\"
dataset = \"calls\"
format = \"csv\"
filters = [\"--missed\", \"--top-level\"]
";

impl Site {
    fn new(settings: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("textfile")).unwrap();
        let config = dir.path().join("export.toml");
        let site = Site { dir, config };
        site.configure(settings, TWO_JOBS);
        site
    }

    fn textfiles(&self) -> PathBuf {
        self.dir.path().join("textfile")
    }

    fn configure(&self, settings: &str, jobs: &str) {
        let text = format!(
            "root = {:?}\nsafety_lag = \"0s\"\nmetrics_file = {:?}\n{settings}\n{jobs}",
            self.dir.path().join("lake").to_str().unwrap(),
            self.textfiles()
                .join("webitel_export.prom")
                .to_str()
                .unwrap(),
        );
        std::fs::write(&self.config, text).unwrap();
    }

    fn run(&self, url: &str) -> std::process::Output {
        run(&run_args(&self.config, url))
    }
}

#[tokio::test]
async fn two_jobs_reach_a_real_pushgateway_and_node_exporter_each_with_its_own_series() {
    let state = tempfile::tempdir().unwrap();
    let persistence = format!("--persistence.file={}", state.path().join("p").display());
    let Some(gateway) = Daemon::start(
        "prometheus-pushgateway",
        &["--web.listen-address=127.0.0.1:{port}", &persistence],
        "apt install prometheus-pushgateway",
    ) else {
        return;
    };
    let db = TestDb::seeded(400, 31).await;
    // An instance with a slash: one path segment all the same (base64url in the push's URL).
    let site = Site::new(&format!(
        "pushgateway = \"{}\"\nmetrics_instance = \"pbx/1\"",
        gateway.url()
    ));
    let Some(exporter) = node_exporter(&site.textfiles()) else {
        return;
    };
    let out = site.run(&db.url);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("metrics:"), "the push warned: {stderr}");

    let pushed = samples(&gateway.get("/metrics"));
    let scraped = samples(&exporter.get("/metrics"));
    for job in ["calls", "calls-missed"] {
        let in_gateway = labels(&[
            ("dataset", "calls"),
            ("export_job", job),
            ("instance", "pbx/1"),
            ("job", "webitel_export"),
        ]);
        let in_textfile = labels(&[("dataset", "calls"), ("export_job", job)]);
        let rows = |samples: &BTreeMap<Series, f64>, labels| {
            samples
                .get(&("webitel_export_job_rows".to_string(), labels))
                .copied()
        };
        let pushed_rows = rows(&pushed, in_gateway);
        assert!(
            pushed_rows.is_some(),
            "{job} not in the gateway: {pushed:?}"
        );
        assert_eq!(pushed_rows, rows(&scraped, in_textfile), "{job}");
    }
    let all = labels(&[("dataset", "calls"), ("export_job", "calls")]);
    let missed = labels(&[("dataset", "calls"), ("export_job", "calls-missed")]);
    let rows =
        |l: &BTreeMap<String, String>| scraped[&("webitel_export_job_rows".into(), l.clone())];
    assert_eq!(rows(&all), 400.0);
    assert!(rows(&missed) > 0.0 && rows(&missed) < 400.0);
    // No sample was renamed or lost to a label clash: nothing carries exported_* labels.
    assert!(
        scraped
            .keys()
            .chain(pushed.keys())
            .all(|(_, l)| !l.keys().any(|k| k.starts_with("exported_"))),
        "{scraped:?}"
    );
    let errors = exporter.get("/metrics");
    assert!(errors.contains("node_textfile_scrape_error 0"), "{errors}");
    // The gateway took the push whole (a rejected one leaves push_failure_time_seconds > 0).
    let gateway_text = gateway.get("/metrics");
    assert!(
        gateway_text
            .lines()
            .any(|l| l.starts_with("push_failure_time_seconds{") && l.ends_with(" 0")),
        "{gateway_text}"
    );

    // The database is gone: the gateway's group shows the failure and keeps the jobs' series.
    let out = site.run("postgres://postgres@127.0.0.1:1/webitel");
    assert_fails(&out, 3);
    let pushed = samples(&gateway.get("/metrics"));
    let success = (
        "webitel_export_last_run_success".to_string(),
        labels(&[("instance", "pbx/1"), ("job", "webitel_export")]),
    );
    assert_eq!(pushed.get(&success), Some(&0.0), "{pushed:?}");
    assert!(
        pushed
            .keys()
            .any(|(name, l)| name == "webitel_export_job_rows"
                && l.get("export_job").map(String::as_str) == Some("calls-missed"))
    );
}

/// The alert rules of docs/nightly.md, as written there.
fn documented_rules() -> String {
    let doc = std::fs::read_to_string("docs/nightly.md").unwrap();
    let start = doc
        .find("```yaml\ngroups:")
        .expect("the rules in docs/nightly.md")
        + 8;
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

/// What node_exporter served after each step, and when (seconds since the epoch).
struct Scrape {
    at: f64,
    samples: BTreeMap<Series, f64>,
}

/// Minutes each step lasts in the rules test.
const STEP_MINUTES: usize = 30;

#[tokio::test]
async fn the_documented_alerts_fire_on_a_failed_run_a_config_error_and_a_held_lock() {
    let db = TestDb::seeded(300, 32).await;
    let site = Site::new("");
    let Some(exporter) = node_exporter(&site.textfiles()) else {
        return;
    };
    let scrape = |exporter: &Daemon| Scrape {
        at: chrono::Utc::now().timestamp_millis() as f64 / 1000.0,
        samples: samples(&exporter.get("/metrics")),
    };
    let mut steps: Vec<(&str, bool, Scrape)> = Vec::new();
    let ok = |site: &Site| assert!(site.run(&db.url).status.success());

    ok(&site);
    steps.push(("committed", false, scrape(&exporter)));

    // A config that fails its checks (an unknown format) still reports: exit 2.
    site.configure(
        "",
        &TWO_JOBS.replace("format = \"csv\"", "format = \"xls\""),
    );
    assert_fails(&site.run(&db.url), 2);
    steps.push(("config error", true, scrape(&exporter)));
    site.configure("", TWO_JOBS);
    ok(&site);
    steps.push(("committed again", false, scrape(&exporter)));

    // Another run holds the lock: exit 1.
    let lock = std::fs::File::open(site.dir.path().join("lake/_state/lock")).unwrap();
    lock.lock().unwrap();
    assert_fails(&site.run(&db.url), 1);
    drop(lock);
    steps.push(("held lock", true, scrape(&exporter)));
    ok(&site);
    steps.push(("committed a third time", false, scrape(&exporter)));

    // The database is gone: exit 3, and it stays gone for the rest of the test.
    assert_fails(&site.run("postgres://postgres@127.0.0.1:1/webitel"), 3);
    steps.push(("failed run", true, scrape(&exporter)));

    for code in ["1", "2", "3"] {
        let counted = steps.last().unwrap().2.samples[&(
            "webitel_export_run_failures_total".to_string(),
            labels(&[("code", code)]),
        )];
        assert_eq!(counted, 1.0, "failures with exit {code}");
    }
    let first = &steps[0].2.samples;
    assert_eq!(
        first[&(
            "webitel_export_run_failures_total".to_string(),
            labels(&[("code", "3")])
        )],
        0.0,
        "a counter is there at 0 before its first failure"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yml"), documented_rules()).unwrap();
    std::fs::write(dir.path().join("test.yml"), rules_test(&steps)).unwrap();
    let out = Command::new("promtool")
        .args(["test", "rules", "test.yml"])
        .current_dir(dir.path())
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: no promtool (apt install prometheus)");
        return;
    };
    assert!(
        out.status.success(),
        "{}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        rules_test(&steps)
    );
}

/// A `promtool test rules` file: each step's scrape held for [`STEP_MINUTES`] (as
/// node_exporter serves the file until the next run), the last one for 37 hours; the
/// timestamps in the values moved onto the test's clock (step k's scrape at k × 30 min), so
/// `time() - …` means there what it meant when the runs ran. The expectations: Failing fires
/// during each failed step and clears during each committed one; Stale fires once no run has
/// committed for 26 hours, the watermark lag of each job (named in the summary) after 36,
/// from the series the failed runs kept.
fn rules_test(steps: &[(&str, bool, Scrape)]) -> String {
    let long_tail = 37 * 60;
    let lengths: Vec<usize> = (0..steps.len())
        .map(|i| {
            if i + 1 == steps.len() {
                long_tail
            } else {
                STEP_MINUTES
            }
        })
        .collect();
    let all: std::collections::BTreeSet<&Series> = steps
        .iter()
        .flat_map(|(_, _, s)| s.samples.keys())
        .collect();
    let mut series = String::new();
    for key in all {
        let (name, labels) = key;
        let mut values = Vec::new();
        for (k, ((_, _, scrape), length)) in steps.iter().zip(&lengths).enumerate() {
            let shift = scrape.at - (k * STEP_MINUTES * 60) as f64;
            match scrape.samples.get(key) {
                Some(v) if name.ends_with("_timestamp_seconds") => {
                    values.push(format!("{}+0x{}", (v - shift).round(), length - 1))
                }
                Some(v) => values.push(format!("{v}+0x{}", length - 1)),
                None => values.push(format!("_x{length}")),
            }
        }
        let mut all_labels: Vec<String> =
            labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        // What Prometheus adds when it scrapes node_exporter.
        all_labels.push("job=\"node\"".into());
        all_labels.push("instance=\"localhost:9100\"".into());
        series.push_str(&format!(
            "      - series: '{name}{{{}}}'\n        values: '{}'\n",
            all_labels.join(","),
            values.join(" ")
        ));
    }
    let node = "job: node, instance: \"localhost:9100\"";
    let mut checks = String::new();
    for (k, (what, failed, _)) in steps.iter().enumerate() {
        let minute = k * STEP_MINUTES + STEP_MINUTES / 2;
        let failing = if *failed {
            format!(
                "\n          - exp_labels: {{{node}}}\n            exp_annotations: {{summary: \"The last webitel-export run failed (see run_failures_total by exit code)\"}}"
            )
        } else {
            String::new()
        };
        let exp_failing = if *failed { failing } else { " []".into() };
        checks.push_str(&format!(
            "      # {what}\n      - eval_time: {minute}m\n        alertname: WebitelExportFailing\n        exp_alerts:{exp_failing}\n      - eval_time: {minute}m\n        alertname: WebitelExportWatermarkLag\n        exp_alerts: []\n      - eval_time: {minute}m\n        alertname: WebitelExportStale\n        exp_alerts: []\n"
        ));
    }
    // The last step's scrape, on the test's clock, is at its start, and the last success and
    // the watermarks a few real seconds before it: 26 h later (and the rule's 15 minutes)
    // Stale fires, 36 h later the watermark lag of both jobs, named in the summary.
    let last_commit = (steps.len() - 1) * STEP_MINUTES;
    let stale = "{summary: \"No webitel-export run has committed for over 26 hours\"}";
    checks.push_str(&format!(
        "      # no run commits any more\n      - eval_time: {}m\n        alertname: WebitelExportStale\n        exp_alerts: []\n      - eval_time: {}m\n        alertname: WebitelExportStale\n        exp_alerts:\n          - exp_labels: {{{node}}}\n            exp_annotations: {stale}\n",
        last_commit + 25 * 60,
        last_commit + 26 * 60 + 20,
    ));
    let lag = ["calls", "calls-missed"]
        .map(|job| {
            format!(
                "\n          - exp_labels: {{{node}, export_job: {job}, dataset: calls}}\n            exp_annotations: {{summary: \"{job} exports data older than 36 hours\"}}"
            )
        })
        .join("");
    checks.push_str(&format!(
        "      - eval_time: {}m\n        alertname: WebitelExportWatermarkLag\n        exp_alerts: []\n      - eval_time: {}m\n        alertname: WebitelExportWatermarkLag\n        exp_alerts:{lag}\n",
        last_commit + 35 * 60,
        last_commit + 36 * 60 + 5,
    ));
    format!(
        "rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{series}    alert_rule_test:\n{checks}"
    )
}

#[tokio::test]
async fn a_metrics_file_that_cannot_be_written_stops_run_dry_run_and_check_with_exit_2() {
    let db = TestDb::seeded(50, 33).await;
    let site = Site::new("");
    let missing = site.dir.path().join("no-such-dir");
    for (file, says) in [
        (missing.join("m.prom"), "does not exist"),
        // Not writable, even for root.
        (PathBuf::from("/proc/webitel_export.prom"), "not writable"),
        (site.textfiles(), "not a regular file"),
    ] {
        let text = std::fs::read_to_string(&site.config).unwrap();
        let named = text
            .lines()
            .map(|l| {
                if l.starts_with("metrics_file") {
                    format!("metrics_file = {:?}", file.to_str().unwrap())
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let config = site.dir.path().join("bad.toml");
        std::fs::write(&config, named).unwrap();
        let config = path_str(&config);
        for args in [
            &["run", "--config", config, "--database-url", &db.url][..],
            &[
                "run",
                "--dry-run",
                "--config",
                config,
                "--database-url",
                &db.url,
            ],
            &["check", "--config", config, "--database-url", &db.url],
        ] {
            let err = assert_fails(&run(args), 2);
            assert!(
                err.contains("metrics_file") && err.contains(says),
                "{args:?}: {err}"
            );
        }
        assert!(!missing.exists(), "the directory was made");
    }
    assert!(
        !site.dir.path().join("lake").exists(),
        "a run stopped by its metrics file wrote its root"
    );
}
