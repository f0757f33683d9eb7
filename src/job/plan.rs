//! A run's plan: each job's window, the dry-run listing, and the watermarks a committed run
//! leaves.

use chrono::{DateTime, Days, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

use super::config::{Job, Mode};
use super::parts::Partitioning;
use super::state::{State, Watermark};
use crate::timearg::Window;

/// What one job of a run is to export.
pub(super) struct Planned<'a> {
    pub job: &'a Job,
    /// The incremental window `[from, to)`, or `None` for a full job.
    pub window: Option<Window>,
    /// The days a restated job re-reads and replaces whole.
    pub restate: Option<Restated>,
}

/// A restated job's days: every row whose partition column lies in `[from, window end)` is
/// read again, and these partitions replace the ones already published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Restated {
    /// Local midnight of the first restated day (for a report, the start of the bucket holding
    /// it; never before the job's `since`).
    pub from: DateTime<Utc>,
    /// `date=YYYY-MM-DD` of each restated day, oldest first.
    pub partitions: Vec<String>,
}

/// Every job of `jobs` with its window.
pub(super) fn plan<'a>(
    jobs: &'a [Job],
    state: &State,
    bound: DateTime<Utc>,
    tz: Tz,
) -> Vec<Planned<'a>> {
    jobs.iter()
        .map(|job| {
            let window = plan_window(job, state, bound);
            Planned {
                job,
                window,
                restate: window.and_then(|w| plan_restate(job, w, tz)),
            }
        })
        .collect()
}

/// The last `restate` local days up to the window's end (today included), or `None`.
fn plan_restate(job: &Job, window: Window, tz: Tz) -> Option<Restated> {
    let days = job.restate?;
    let end = window.to?;
    let last_day = end.with_timezone(&tz).date_naive();
    let first_day = last_day.checked_sub_days(Days::new(u64::from(days - 1)))?;
    let midnight = local_midnight(first_day, tz);
    // A report restates whole buckets: from the start of the bucket holding that midnight.
    let mut from = job.source.complete_until(midnight);
    if let Some(since) = job.since {
        from = from.max(since);
    }
    if from >= end {
        return None;
    }
    let mut partitions = Vec::new();
    let mut day = from.with_timezone(&tz).date_naive();
    while day <= last_day {
        partitions.push(Partitioning::date_partition(local_midnight(day, tz), tz));
        day = day.succ_opt()?;
    }
    Some(Restated { from, partitions })
}

/// The first instant of `day` in `tz` (a day that starts in a DST gap starts when it can).
fn local_midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut at = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    loop {
        if let Some(t) = tz.from_local_datetime(&at).earliest() {
            return t.with_timezone(&Utc);
        }
        at += chrono::Duration::minutes(15);
    }
}

/// Moves each incremental job's watermark to the end of its window (saved at commit).
pub(super) fn advance_watermarks(state: &mut State, plan: &[Planned], run_id: &str) {
    for planned in plan {
        if let (Some(window), Some(incremental)) =
            (planned.window, planned.job.source.info().incremental)
        {
            state.jobs.insert(
                planned.job.name.clone(),
                Watermark {
                    column: incremental.column.to_string(),
                    watermark: window.to.expect("incremental windows have an end"),
                    run: run_id.to_string(),
                },
            );
        }
    }
    state.last_run = Some(run_id.to_string());
}

/// `[watermark (or since), bound)` for an incremental job; `None` for a full one.
fn plan_window(job: &Job, state: &State, bound: DateTime<Utc>) -> Option<Window> {
    if job.mode == Mode::Full {
        return None;
    }
    let from = state.jobs.get(&job.name).map(|w| w.watermark).or(job.since);
    // Reports export complete buckets only.
    let bound = job.source.complete_until(bound);
    // A watermark past the bound (a larger safety lag than last time) exports nothing new.
    let to = match from {
        Some(from) if from > bound => from,
        _ => bound,
    };
    Some(Window { from, to: Some(to) })
}

pub(super) fn print_plan(
    run_id: &str,
    snapshot_at: DateTime<Utc>,
    bound: DateTime<Utc>,
    plan: &[Planned],
) {
    let time = |t: Option<DateTime<Utc>>| {
        t.map_or("the beginning".to_string(), |t| {
            t.to_rfc3339_opts(SecondsFormat::Micros, true)
        })
    };
    println!(
        "run {run_id} (dry run): snapshot {}, bound {}",
        time(Some(snapshot_at)),
        time(Some(bound))
    );
    for p in plan {
        let info = p.job.source.info();
        match (p.window, info.incremental) {
            (Some(w), Some(incremental)) => println!(
                "job {} ({}, incremental, {}): {} from {} to {}{}{}",
                p.job.name,
                info.name,
                p.job.format.name(),
                incremental.column,
                time(w.from),
                time(w.to),
                restate_note(p),
                archive_note(p)
            ),
            _ => println!(
                "job {} ({}, full snapshot, {}){}",
                p.job.name,
                info.name,
                p.job.format.name(),
                archive_note(p)
            ),
        }
    }
}

/// `, restating date=… to date=…` for a restated job.
fn restate_note(p: &Planned) -> String {
    match p.restate.as_ref().map(|r| r.partitions.as_slice()) {
        Some([first, .., last]) => format!(", restating {first} to {last}"),
        Some([only]) => format!(", restating {only}"),
        _ => String::new(),
    }
}

/// `, archiving its files into <job>-files/` for a recordings job with `[jobs.archive]`.
fn archive_note(p: &Planned) -> String {
    match &p.job.archive {
        Some(_) => format!(", archiving its files into {}-files/", p.job.name),
        None => String::new(),
    }
}
