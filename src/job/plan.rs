//! A run's plan: each job's window, the dry-run listing, and the watermarks a committed run
//! leaves.

use chrono::{DateTime, SecondsFormat, Utc};

use super::config::{Job, Mode};
use super::state::{State, Watermark};
use crate::timearg::Window;

/// What one job of a run is to export.
pub(super) struct Planned<'a> {
    pub job: &'a Job,
    /// The incremental window `[from, to)`, or `None` for a full job.
    pub window: Option<Window>,
}

/// Every job of `jobs` with its window.
pub(super) fn plan<'a>(jobs: &'a [Job], state: &State, bound: DateTime<Utc>) -> Vec<Planned<'a>> {
    jobs.iter()
        .map(|job| Planned {
            job,
            window: plan_window(job, state, bound),
        })
        .collect()
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
                "job {} ({}, incremental, {}): {} from {} to {}{}",
                p.job.name,
                info.name,
                p.job.format.name(),
                incremental.column,
                time(w.from),
                time(w.to),
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

/// `, archiving its files into <job>-files/` for a recordings job with `[jobs.archive]`.
fn archive_note(p: &Planned) -> String {
    match &p.job.archive {
        Some(_) => format!(", archiving its files into {}-files/", p.job.name),
        None => String::new(),
    }
}
