//! What a run tells the site's monitoring: a Prometheus text-format file (for node_exporter's
//! textfile collector) written at every exit once the config is read, whether the run
//! committed, failed, found its configuration wrong or found another run holding the lock;
//! and optionally the same metrics pushed to a Pushgateway.
//!
//! The series survive both ways in: no sample carries a `job` or `instance` label (the
//! Pushgateway's grouping key and Prometheus's scrape overwrite or rename those), a job is
//! `export_job`. The file is replaced atomically (a temporary file renamed over it), so the
//! collector never reads half of it. What must outlive a failed run is carried over from the
//! previous file: the failure counters, the time of the last success, and every job's series
//! (its watermark lag recomputed, so a lag alert keeps firing through an outage).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::execute::JobReport;
use super::state::State;
use crate::error::{Error, Result, exit};

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

/// The exit codes a failed run ends with; each has a failure counter from the first run on
/// (at 0), so `increase()` sees the first failure.
const FAILURE_CODES: [u8; 4] = [exit::OTHER, exit::INPUT, exit::DATABASE, exit::OUTPUT];

/// The per-job series: name, help. Their labels are `export_job` and `dataset`.
const JOB_SERIES: [(&str, &str); 6] = [
    (
        "job_rows",
        "Rows the job exported in its last committed run.",
    ),
    (
        "job_bytes",
        "Bytes the job wrote in its last committed run.",
    ),
    (
        "job_files",
        "Files the job wrote in its last committed run.",
    ),
    (
        "job_duration_seconds",
        "How long the job took in its last committed run.",
    ),
    (
        "job_watermark_timestamp_seconds",
        "Where an incremental job's next run starts.",
    ),
    (
        "job_watermark_lag_seconds",
        "How far behind now an incremental job's watermark is.",
    ),
];

const ARCHIVE_SERIES: (&str, &str) = (
    "job_archive_files",
    "Recording files of the archiving job's last window, by outcome.",
);

/// A series' samples: rendered labels (`{a="b"}` or empty) and value.
type Samples = Vec<(String, f64)>;

/// The metrics text of a run that ended at `now` after `seconds`, given the previous file's
/// text (empty when there is none).
pub(super) fn render(
    previous: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
    seconds: f64,
) -> String {
    let before = parse(previous);
    let mut failures: BTreeMap<u8, f64> = FAILURE_CODES.iter().map(|c| (*c, 0.0)).collect();
    for (labels, value) in series(&before, "run_failures_total") {
        if let Some(code) = label(labels, "code").and_then(|c| c.parse().ok()) {
            failures.insert(code, *value);
        }
    }
    let success = matches!(outcome, Outcome::Success { .. });
    let last_success = match outcome {
        Outcome::Success { .. } => Some(now.timestamp() as f64),
        Outcome::Failure { exit_code } => {
            *failures.entry(*exit_code).or_default() += 1.0;
            series(&before, "last_success_timestamp_seconds")
                .first()
                .map(|(_, v)| *v)
        }
    };
    let mut out = Text::default();
    out.family(
        "last_run_success",
        "1 when the last run committed, 0 when it failed.",
        "gauge",
        &[(String::new(), f64::from(u8::from(success)))],
    );
    out.family(
        "last_run_timestamp_seconds",
        "When the last run ended.",
        "gauge",
        &[(String::new(), now.timestamp() as f64)],
    );
    out.family(
        "last_run_duration_seconds",
        "How long the last run took.",
        "gauge",
        &[(String::new(), seconds)],
    );
    if let Some(t) = last_success {
        out.family(
            "last_success_timestamp_seconds",
            "When a run last committed.",
            "gauge",
            &[(String::new(), t)],
        );
    }
    let codes: Samples = failures
        .iter()
        .map(|(code, n)| (format!("{{code=\"{code}\"}}"), *n))
        .collect();
    out.family(
        "run_failures_total",
        "Failed runs, by exit code.",
        "counter",
        &codes,
    );
    let jobs = match outcome {
        Outcome::Success { jobs, state } => job_samples(jobs, state, now),
        Outcome::Failure { .. } => kept_job_samples(&before, now),
    };
    for (name, help) in JOB_SERIES.iter().chain([&ARCHIVE_SERIES]) {
        if let Some(samples) = jobs.get(*name).filter(|s| !s.is_empty()) {
            out.family(name, help, "gauge", samples);
        }
    }
    out.0
}

/// The text being written.
#[derive(Default)]
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, help: &str, kind: &str, samples: &[(String, f64)]) {
        let out = &mut self.0;
        let _ = writeln!(out, "# HELP {PREFIX}_{name} {help}");
        let _ = writeln!(out, "# TYPE {PREFIX}_{name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{PREFIX}_{name}{labels} {value}");
        }
    }
}

/// The labels of a job's series.
fn job_labels(job: &JobReport, more: &str) -> String {
    format!(
        "{{export_job=\"{}\",dataset=\"{}\"{more}}}",
        escape(&job.name),
        job.dataset
    )
}

/// Per job, after a committed run: rows, bytes, files and seconds, the archive's files by
/// outcome, and where its watermark is and how far it lags.
fn job_samples(
    jobs: &[JobReport],
    state: &State,
    now: DateTime<Utc>,
) -> BTreeMap<&'static str, Samples> {
    let per_job = |value: fn(&JobReport) -> f64| -> Samples {
        jobs.iter().map(|j| (job_labels(j, ""), value(j))).collect()
    };
    let mut out = BTreeMap::new();
    out.insert("job_rows", per_job(|j| j.rows as f64));
    out.insert("job_bytes", per_job(|j| j.bytes as f64));
    out.insert("job_files", per_job(|j| j.files as f64));
    out.insert("job_duration_seconds", per_job(|j| j.seconds));
    let archives = jobs
        .iter()
        .filter_map(|j| Some((j, j.archive?)))
        .flat_map(|(j, a)| {
            let labels = |outcome: &str| job_labels(j, &format!(",outcome=\"{outcome}\""));
            [
                (labels("copied"), a.copied as f64),
                (labels("already_there"), a.already_there as f64),
                (labels("not_archivable"), a.not_archivable as f64),
            ]
        })
        .collect();
    out.insert(ARCHIVE_SERIES.0, archives);
    let marks: Vec<(&JobReport, DateTime<Utc>)> = jobs
        .iter()
        .filter_map(|j| Some((j, state.jobs.get(&j.name)?.watermark)))
        .collect();
    out.insert(
        "job_watermark_timestamp_seconds",
        marks
            .iter()
            .map(|(j, at)| (job_labels(j, ""), at.timestamp() as f64))
            .collect(),
    );
    out.insert(
        "job_watermark_lag_seconds",
        marks
            .iter()
            .map(|(j, at)| (job_labels(j, ""), lag(now, at.timestamp() as f64)))
            .collect(),
    );
    out
}

/// Per job, after a failed run: the previous file's series, each job's lag grown to `now`.
fn kept_job_samples(
    before: &BTreeMap<String, Samples>,
    now: DateTime<Utc>,
) -> BTreeMap<&'static str, Samples> {
    let mut out: BTreeMap<&'static str, Samples> = JOB_SERIES
        .iter()
        .chain([&ARCHIVE_SERIES])
        .map(|(name, _)| (*name, series(before, name).to_vec()))
        .collect();
    let lags = series(before, "job_watermark_timestamp_seconds")
        .iter()
        .map(|(labels, at)| (labels.clone(), lag(now, *at)))
        .collect();
    out.insert("job_watermark_lag_seconds", lags);
    out
}

fn lag(now: DateTime<Utc>, watermark_seconds: f64) -> f64 {
    now.timestamp_millis() as f64 / 1000.0 - watermark_seconds
}

/// The samples of the previous file by series name (without the prefix). Lines this version
/// does not write are dropped with the rest of the old file.
fn parse(text: &str) -> BTreeMap<String, Samples> {
    let mut out: BTreeMap<String, Samples> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(PREFIX).and_then(|r| r.strip_prefix('_')) else {
            continue;
        };
        let Some((series, value)) = rest.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match series.find('{') {
            Some(i) => series.split_at(i),
            None => (series, ""),
        };
        out.entry(name.to_string())
            .or_default()
            .push((labels.to_string(), value));
    }
    out
}

fn series<'a>(samples: &'a BTreeMap<String, Samples>, name: &str) -> &'a [(String, f64)] {
    samples.get(name).map_or(&[], Vec::as_slice)
}

/// The value of label `name` in rendered labels (values this module wrote: no `",` inside).
fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
    let len = labels[start..].find('"')?;
    Some(&labels[start..start + len])
}

/// A label value in the text format: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Replaces the file at `path` with `text`, atomically; a link or a special file there is left
/// alone (an error). The directory is not created: [`MetricsTarget::check`] wants it there,
/// except the default one in the root's state directory, which the run has made.
pub(super) fn write(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    crate::sink::place::ensure_replaceable(path)?;
    let mut temp = crate::sink::place::temp_beside(path, None)?;
    temp.write_all(text.as_bytes())
        .map_err(|e| Error::output(path, e))?;
    temp.persist(path)
        .map_err(|e| Error::output(path, e.error))?;
    Ok(())
}

/// Pushes `text` to the Pushgateway group `job="webitel_export", instance=<instance>`,
/// replacing what the group held (PUT). The instance goes base64url-encoded in the path, so
/// any host name is one path segment.
pub(super) async fn push(url: &str, instance: &str, text: &str) -> Result<()> {
    crate::sink::object::install_tls_provider();
    let target = format!(
        "{}/metrics/job/webitel_export/instance@base64/{}",
        url.trim_end_matches('/'),
        data_encoding::BASE64URL.encode(instance.as_bytes())
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
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
        return Err(failed(format!("HTTP {status}: {body}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn failures_are_counted_by_code_from_zero_and_the_last_success_is_kept() {
        let t0 = at("2026-12-01T01:00:00Z");
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
        assert_eq!(value(&ok, "webitel_export_last_run_success"), Some(1.0));
        assert_eq!(
            value(&ok, "webitel_export_last_success_timestamp_seconds"),
            Some(t0.timestamp() as f64)
        );
        for code in [1, 2, 3, 4] {
            let series = format!("webitel_export_run_failures_total{{code=\"{code}\"}}");
            assert_eq!(value(&ok, &series), Some(0.0), "{ok}");
        }
        let t1 = t0 + chrono::Duration::hours(24);
        let failed = render(&ok, &Outcome::Failure { exit_code: 3 }, t1, 1.0);
        let again = render(&failed, &Outcome::Failure { exit_code: 3 }, t1, 1.0);
        assert_eq!(value(&again, "webitel_export_last_run_success"), Some(0.0));
        assert_eq!(
            value(&again, "webitel_export_run_failures_total{code=\"3\"}"),
            Some(2.0)
        );
        assert_eq!(
            value(&again, "webitel_export_run_failures_total{code=\"2\"}"),
            Some(0.0)
        );
        assert_eq!(
            value(&again, "webitel_export_last_success_timestamp_seconds"),
            Some(t0.timestamp() as f64)
        );
    }

    #[test]
    fn a_failed_run_keeps_the_jobs_series_and_their_lag_grows() {
        let previous = "\
# HELP webitel_export_job_rows Rows.
# TYPE webitel_export_job_rows gauge
webitel_export_job_rows{export_job=\"calls\",dataset=\"calls\"} 120
webitel_export_job_rows{export_job=\"calls-missed\",dataset=\"calls\"} 7
webitel_export_job_watermark_timestamp_seconds{export_job=\"calls\",dataset=\"calls\"} 1000
webitel_export_job_watermark_lag_seconds{export_job=\"calls\",dataset=\"calls\"} 60
";
        let now = DateTime::from_timestamp(4600, 0).unwrap();
        let text = render(previous, &Outcome::Failure { exit_code: 1 }, now, 0.1);
        let job = "{export_job=\"calls\",dataset=\"calls\"}";
        let missed = "{export_job=\"calls-missed\",dataset=\"calls\"}";
        assert_eq!(
            value(&text, &format!("webitel_export_job_rows{job}")),
            Some(120.0)
        );
        assert_eq!(
            value(&text, &format!("webitel_export_job_rows{missed}")),
            Some(7.0)
        );
        assert_eq!(
            value(
                &text,
                &format!("webitel_export_job_watermark_lag_seconds{job}")
            ),
            Some(3600.0),
            "{text}"
        );
        assert_eq!(
            text.matches("# TYPE webitel_export_job_rows gauge").count(),
            1
        );
    }

    #[test]
    fn label_values_are_escaped_and_read_back() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(label("{code=\"3\"}", "code"), Some("3"));
        assert_eq!(
            label("{export_job=\"x\",dataset=\"calls\"}", "dataset"),
            Some("calls")
        );
        assert_eq!(label("{code=\"3\"}", "dataset"), None);
    }
}
