//! A run from start to end: the config, the lock, recovery, the session, the jobs, the commit
//! and the metrics.

use std::path::Path;
use std::time::Instant;

use chrono::Utc;

use super::RunArgs;
use std::collections::BTreeMap;

use super::commit::{self, DeltaCommits, Publish, Staging};
use super::config::{Config, MetricsTarget, Table};
use super::delta::{Commit as DeltaCommit, RunMark, Tables};
use super::execute::{JobReport, RunContext};
use super::jobs::Done;
use super::jobs::run_jobs;
use super::log::Log;
use super::manifest::Manifest;
use super::metrics;
use super::object_root::ObjectRoot;
use super::parts::{FileEntry, Partitioning};
use super::plan::{Planned, advance_watermarks, plan, print_plan};
use super::setup::{RunLock, connection};
use super::snapshot::Snapshot;
use super::standby;
use super::state::{State, Watermark};
use super::sweep;
use crate::error::{Error, Result};
use crate::session::Session;

/// Runs every job of the configuration in one snapshot and publishes the result. Every exit
/// once the config is read writes (and pushes) the metrics: a commit, a failure, a config
/// that fails its checks, a lock another run holds. A dry run only reads: no output root,
/// lock, recovery or metrics, but the metrics file is checked.
pub async fn run(args: &RunArgs) -> Result<()> {
    let log = Log {
        quiet: args.quiet,
        format: args.log_format,
    };
    let started = Instant::now();
    // A run that stops before it starts is recorded too (not a dry run: it writes nothing).
    let stopped = |target: Option<MetricsTarget>, e: Error, to_file: bool| async move {
        if let Some(target) = target.filter(|_| !args.dry_run) {
            let outcome = metrics::Outcome::Failure {
                exit_code: e.exit_code(),
            };
            // The run's own error is the one to report.
            let _ = record_metrics(&target, &outcome, started, log, to_file).await;
        }
        Err(e)
    };
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(e) => return stopped(MetricsTarget::salvage(&args.config), e, true).await,
    };
    if let Err(e) = config.metrics.check() {
        // The file cannot be written; a Pushgateway still hears of the failure.
        return stopped(Some(config.metrics.clone()), e, false).await;
    }
    if args.dry_run {
        let (publish, tables) = destination(&config)?;
        return execute(args, &config, (&publish, &tables), log)
            .await
            .map(drop);
    }
    let result = run_locked(args, &config, log).await;
    let outcome = match &result {
        Ok(Some(done)) => metrics::Outcome::Success {
            jobs: &done.reports,
            state: &done.state,
        },
        Ok(None) => return Ok(()),
        Err(e) => metrics::Outcome::Failure {
            exit_code: e.exit_code(),
        },
    };
    let recorded = record_metrics(&config.metrics, &outcome, started, log, true).await;
    match (result, recorded) {
        (Err(e), _) => Err(e),
        // Committed, but the monitoring would not know: that fails the run.
        (Ok(_), Err(e)) => Err(e),
        (Ok(_), Ok(())) => Ok(()),
    }
}

/// The run from its checks to its commit, under the lock.
async fn run_locked(args: &RunArgs, config: &Config, log: Log) -> Result<Option<Committed>> {
    let (publish, tables) = destination(config)?;
    // Before anything is written: each job's directory is what its format expects.
    for job in &config.jobs {
        tables.check_location(job).await?;
    }
    let root = &config.root;
    std::fs::create_dir_all(root).map_err(|e| Error::output(root, e))?;
    let _lock = RunLock::acquire(root)?;
    let _object_lock = match &publish {
        Publish::Object(object) => Some(object.lock(root).await?),
        Publish::Local => None,
    };
    execute(args, config, (&publish, &tables), log).await
}

/// Writes the metrics file (unless `to_file` is false: its place failed the check) and
/// pushes it. The file failing is an error (the run's monitoring would be blind); a
/// Pushgateway that cannot be reached is a warning (the file is written, and the gateway's own
/// `up` series tells).
async fn record_metrics(
    target: &MetricsTarget,
    outcome: &metrics::Outcome<'_>,
    started: Instant,
    log: Log,
    to_file: bool,
) -> Result<()> {
    let path = &target.file;
    let previous = std::fs::read_to_string(path).unwrap_or_default();
    let seconds = started.elapsed().as_secs_f64();
    let text = metrics::render(&previous, outcome, Utc::now(), seconds);
    // The default file lives in the root's state directory: a run that failed before the
    // root was ever made (a first run's config error) has nowhere to write it, and makes none.
    let written = if to_file && (target.named || path.parent().is_some_and(Path::is_dir)) {
        metrics::write(path, &text)
    } else {
        Ok(())
    };
    if let Some(url) = &target.pushgateway
        && let Err(e) = metrics::push(url, &target.instance, &text).await
    {
        log.warn(&format!("metrics: {}", e.one_line()));
    }
    written
}

/// Where the run publishes, and the jobs' Delta tables there.
fn destination(config: &Config) -> Result<(Publish, Tables)> {
    let publish = match &config.object_root {
        Some(url) => Publish::Object(ObjectRoot::parse(url, &config.storage)?),
        None => Publish::Local,
    };
    let tables = match &publish {
        Publish::Object(object) => object.tables()?,
        Publish::Local => {
            let root = &config.root;
            Tables::Local(std::path::absolute(root).map_err(|e| Error::output(root, e))?)
        }
    };
    Ok((publish, tables))
}

/// The last run each Delta job's table records.
async fn table_marks(tables: &Tables, config: &Config) -> Result<BTreeMap<String, RunMark>> {
    let mut marks = BTreeMap::new();
    for job in config.jobs.iter().filter(|j| j.table == Table::Delta) {
        if let Some(mark) = tables.last_run(&job.name).await? {
            marks.insert(job.name.clone(), mark);
        }
    }
    Ok(marks)
}

/// A Delta job's watermark is its table's: a run killed after its commit, before its state
/// was saved, has still exported its window.
fn adopt_table_marks(state: &mut State, marks: &BTreeMap<String, RunMark>) {
    for (job, mark) in marks {
        if let (Some(column), Some(watermark)) = (&mark.column, mark.watermark) {
            state.jobs.insert(
                job.clone(),
                Watermark {
                    column: column.clone(),
                    watermark,
                    run: mark.run.clone(),
                },
            );
        }
    }
}

/// One commit per Delta job: its files, the partitions it replaced and its mark.
fn delta_commits<'a>(
    plan: &'a [Planned<'a>],
    done: &'a Done,
    snapshot: &Snapshot,
    state: &State,
) -> Vec<DeltaCommit<'a>> {
    let delta_jobs = plan.iter().filter(|p| p.job.table == Table::Delta);
    delta_jobs
        .map(|planned| {
            let job = planned.job;
            let prefix = format!("{}/", job.name);
            let watermark = state
                .jobs
                .get(&job.name)
                .filter(|_| planned.window.is_some());
            DeltaCommit {
                job,
                mark: RunMark {
                    run: snapshot.run_id.clone(),
                    job: job.name.clone(),
                    dataset: job.source.info().name.to_string(),
                    bound: snapshot.bound,
                    column: watermark.map(|w| w.column.clone()),
                    watermark: watermark.map(|w| w.watermark),
                    replaced: done
                        .replaced
                        .iter()
                        .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
                        .collect(),
                },
                files: done
                    .files
                    .iter()
                    .filter(|(name, _)| *name == job.name)
                    .map(|(_, f)| f)
                    .collect(),
            }
        })
        .collect()
}

/// What a committed run leaves for its metrics.
struct Committed {
    reports: Vec<JobReport>,
    state: State,
}

/// The run itself, under the lock (or a dry run); `None` for a dry run.
async fn execute(
    args: &RunArgs,
    config: &Config,
    (publish, tables): (&Publish, &Tables),
    log: Log,
) -> Result<Option<Committed>> {
    let conn = connection(&args.conn, config)?;
    let root = &config.root;
    let mut state = State::load(root)?;
    let marks = if args.dry_run {
        BTreeMap::new()
    } else {
        table_marks(tables, config).await?
    };
    if !args.dry_run {
        let in_tables = marks
            .iter()
            .map(|(job, mark)| (job.clone(), mark.run.clone()))
            .collect();
        for line in commit::recover(root, &state, publish, &in_tables).await? {
            log.info(&format!("recovery: {line}"));
        }
        let swept = sweep::stale_temporaries(config)?;
        if swept > 0 {
            log.info(&format!(
                "recovery: removed {swept} temporary files a killed run left"
            ));
        }
    }

    adopt_table_marks(&mut state, &marks);

    let mut db = conn.connect().await?;
    let domains: Vec<i64> = config
        .jobs
        .iter()
        .flat_map(|j| j.source.domains().iter().copied())
        .collect();
    let marks = standby::settle(&mut db, &state.standby_marks, config.safety_lag).await?;
    let mut session = Session::begin(db, &conn, &domains).await?;
    let snapshot = Snapshot::read(session.db(), config, &marks).await?;
    match (snapshot.standby_line(), snapshot.held) {
        // A run that exports nothing new is worth a warning even with --quiet.
        (Some(line), Some(_)) => log.warn(&line),
        (Some(line), None) => log.info(&line),
        (None, _) => {}
    }
    let plan = plan(&config.jobs, &state, snapshot.bound, config.tz);
    if args.dry_run {
        print_plan(&snapshot.run_id, snapshot.at, snapshot.bound, &plan);
        return Ok(None);
    }

    let staging = Staging::create(root, &snapshot.run_id)?;
    let context = RunContext {
        staging: staging.dir(),
        run_id: &snapshot.run_id,
        config,
        snapshot_partition: Partitioning::date_partition(snapshot.at, config.tz),
        stall_timeout: conn.stall_timeout(),
        quiet: args.quiet,
    };
    let done = run_jobs(&mut session, &plan, &context, publish, log).await?;
    session.close().await;

    advance_watermarks(&mut state, &plan, &snapshot.run_id);
    if let Some(position) = &snapshot.standby {
        state.standby_marks = standby::keep(marks, position);
    }
    let manifest = Manifest::new(&snapshot, config, &done);
    let entries: Vec<FileEntry> = done.files.iter().map(|(_, f)| f.clone()).collect();
    let delta = DeltaCommits {
        tables,
        settings: config.delta,
        commits: delta_commits(&plan, &done, &snapshot, &state),
    };
    let versions = staging
        .commit(&entries, &done.replaced, &manifest, &state, publish, delta)
        .await?;
    for commit in versions {
        let job = &commit.job;
        log.info(&format!(
            "job {job}: delta table version {} committed in {:.2} s",
            commit.version, commit.seconds
        ));
        // The run is committed; a table left untidy is tidied by the next run.
        let started = Instant::now();
        match tables.tidy(job, commit.version, &config.delta).await {
            Ok(()) => log.info(&format!(
                "job {job}: delta maintenance in {:.2} s",
                started.elapsed().as_secs_f64()
            )),
            Err(e) => log.warn(&format!("job {job}: delta maintenance: {}", e.one_line())),
        }
    }
    let line = format!(
        "run {}: {} jobs, {} files committed",
        snapshot.run_id,
        done.reports.len(),
        entries.len()
    );
    log.info(&line);
    Ok(Some(Committed {
        reports: done.reports,
        state,
    }))
}
