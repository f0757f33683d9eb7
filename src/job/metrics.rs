//! What a run tells the scheduler's monitoring: a Prometheus text-format file (for
//! node_exporter's textfile collector) written after every run, successful or not, and
//! optionally the same metrics pushed to a Pushgateway.
//!
//! The file is replaced atomically (a temporary file renamed over it), so the collector never
//! reads half of it. Counters that must survive a run (failures by exit code) and the time of
//! the last success are carried over from the previous file.

use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::execute::JobReport;
use super::state::State;
use crate::error::{Error, Result};

const PREFIX: &str = "webitel_export";

/// How a run ended, for the metrics.
pub(super) enum Outcome<'a> {
    Success {
        jobs: &'a [JobReport],
        state: &'a State,
    },
    Failure {
        exit_code: u8,
    },
}

/// The metrics text of a run that ended at `now` after `seconds`, given the previous file's
/// text (empty when there is none).
pub(super) fn render(
    previous: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
    seconds: f64,
) -> String {
    let mut failures = previous_failures(previous);
    let last_success = match outcome {
        Outcome::Success { .. } => Some(now.timestamp() as f64),
        Outcome::Failure { exit_code } => {
            *failures.entry(*exit_code).or_default() += 1.0;
            previous_value(
                previous,
                &format!("{PREFIX}_last_success_timestamp_seconds"),
            )
        }
    };
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {PREFIX}_{name} {help}");
        let _ = writeln!(out, "# TYPE {PREFIX}_{name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{PREFIX}_{name}{labels} {value}");
        }
    };
    let success = matches!(outcome, Outcome::Success { .. });
    gauge(
        "last_run_success",
        "1 when the last run committed, 0 when it failed.",
        "gauge",
        &[(String::new(), f64::from(u8::from(success)))],
    );
    gauge(
        "last_run_timestamp_seconds",
        "When the last run ended.",
        "gauge",
        &[(String::new(), now.timestamp() as f64)],
    );
    gauge(
        "last_run_duration_seconds",
        "How long the last run took.",
        "gauge",
        &[(String::new(), seconds)],
    );
    if let Some(t) = last_success {
        gauge(
            "last_success_timestamp_seconds",
            "When a run last committed.",
            "gauge",
            &[(String::new(), t)],
        );
    }
    let mut codes: Vec<(String, f64)> = failures
        .iter()
        .map(|(code, n)| (format!("{{code=\"{code}\"}}"), *n))
        .collect();
    codes.sort_by(|a, b| a.0.cmp(&b.0));
    gauge(
        "run_failures_total",
        "Failed runs, by exit code.",
        "counter",
        &codes,
    );
    if let Outcome::Success { jobs, state } = outcome {
        job_metrics(&mut gauge, jobs, state, now);
    }
    out
}

/// Per job: rows, bytes, files and seconds of the last run, and how far its watermark lags.
fn job_metrics(
    gauge: &mut impl FnMut(&str, &str, &str, &[(String, f64)]),
    jobs: &[JobReport],
    state: &State,
    now: DateTime<Utc>,
) {
    let labels = |j: &JobReport| format!("{{job=\"{}\",dataset=\"{}\"}}", j.name, j.dataset);
    let per_job = |value: fn(&JobReport) -> f64| -> Vec<(String, f64)> {
        jobs.iter().map(|j| (labels(j), value(j))).collect()
    };
    gauge(
        "job_rows",
        "Rows the job exported in the last run.",
        "gauge",
        &per_job(|j| j.rows as f64),
    );
    gauge(
        "job_bytes",
        "Bytes the job wrote in the last run.",
        "gauge",
        &per_job(|j| j.bytes as f64),
    );
    gauge(
        "job_files",
        "Files the job wrote in the last run.",
        "gauge",
        &per_job(|j| j.files as f64),
    );
    gauge(
        "job_duration_seconds",
        "How long the job took in the last run.",
        "gauge",
        &per_job(|j| j.seconds),
    );
    let archives: Vec<(String, f64)> = jobs
        .iter()
        .filter_map(|j| Some((j, j.archive?)))
        .flat_map(|(j, a)| {
            let labels = |outcome: &str| {
                format!(
                    "{{job=\"{}\",dataset=\"{}\",outcome=\"{outcome}\"}}",
                    j.name, j.dataset
                )
            };
            [
                (labels("copied"), a.copied as f64),
                (labels("already_there"), a.already_there as f64),
                (labels("not_archivable"), a.not_archivable as f64),
            ]
        })
        .collect();
    if !archives.is_empty() {
        gauge(
            "job_archive_files",
            "Recording files of the archiving job's last window, by outcome.",
            "gauge",
            &archives,
        );
    }
    let watermarks: Vec<&JobReport> = jobs
        .iter()
        .filter(|j| state.jobs.contains_key(&j.name))
        .collect();
    let at = |j: &JobReport| state.jobs[&j.name].watermark;
    let stamps: Vec<(String, f64)> = watermarks
        .iter()
        .map(|j| (labels(j), at(j).timestamp() as f64))
        .collect();
    let lags: Vec<(String, f64)> = watermarks
        .iter()
        .map(|j| (labels(j), (now - at(j)).num_milliseconds() as f64 / 1000.0))
        .collect();
    gauge(
        "job_watermark_timestamp_seconds",
        "Where an incremental job's next run starts.",
        "gauge",
        &stamps,
    );
    gauge(
        "job_watermark_lag_seconds",
        "How far behind now an incremental job's watermark is.",
        "gauge",
        &lags,
    );
}

/// `run_failures_total` by code, from the previous file.
fn previous_failures(previous: &str) -> std::collections::BTreeMap<u8, f64> {
    let series = format!("{PREFIX}_run_failures_total{{code=\"");
    previous
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(&series)?;
            let (code, value) = rest.split_once("\"} ")?;
            Some((code.parse().ok()?, value.trim().parse().ok()?))
        })
        .collect()
}

/// The value of an unlabelled series in the previous file.
fn previous_value(previous: &str, name: &str) -> Option<f64> {
    previous.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

/// Replaces the file at `path` with `text`, atomically; a link or a special file there is left
/// alone (an error).
pub(super) fn write(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    crate::sink::place::ensure_replaceable(path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    }
    let mut temp = crate::sink::place::temp_beside(path, None)?;
    temp.write_all(text.as_bytes())
        .map_err(|e| Error::output(path, e))?;
    temp.persist(path)
        .map_err(|e| Error::output(path, e.error))?;
    Ok(())
}

/// Pushes `text` to a Prometheus Pushgateway at `url` (`http://host:9091`), replacing the
/// group `job="webitel_export", instance=<instance>`.
pub(super) async fn push(url: &str, instance: &str, text: &str) -> Result<()> {
    crate::sink::object::install_tls_provider();
    let target = format!(
        "{}/metrics/job/webitel_export/instance/{instance}",
        url.trim_end_matches('/')
    );
    let failed = |why: String| Error::Other(format!("pushing metrics to {url}: {why}"));
    let response = reqwest::Client::new()
        .put(&target)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(text.to_string())
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_by_code_and_the_last_success_is_kept() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T01:00:00Z")
            .unwrap()
            .to_utc();
        let state = State::default();
        let ok = render(
            "",
            &Outcome::Success {
                jobs: &[],
                state: &state,
            },
            t0,
            2.5,
        );
        assert!(ok.contains("webitel_export_last_run_success 1\n"), "{ok}");
        assert!(ok.contains(&format!(
            "webitel_export_last_success_timestamp_seconds {}\n",
            t0.timestamp()
        )));
        let t1 = t0 + chrono::Duration::hours(24);
        let failed = render(&ok, &Outcome::Failure { exit_code: 3 }, t1, 1.0);
        let again = render(&failed, &Outcome::Failure { exit_code: 3 }, t1, 1.0);
        assert!(
            again.contains("webitel_export_last_run_success 0\n"),
            "{again}"
        );
        assert!(
            again.contains("webitel_export_run_failures_total{code=\"3\"} 2\n"),
            "{again}"
        );
        assert!(again.contains(&format!(
            "webitel_export_last_success_timestamp_seconds {}\n",
            t0.timestamp()
        )));
    }
}
