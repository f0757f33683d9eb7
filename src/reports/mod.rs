//! Aggregate reports (agent activity, queue activity): the same line as the datasets (one
//! compile-checked query, one typed row, every output format), plus time buckets.
//!
//! Buckets are built here, in the report's time zone, and bound to the query as three arrays
//! (starts, ends, labels). Doing it in Rust rather than with `date_trunc` on the server keeps the
//! result independent of the session's `TimeZone` setting and makes the DST rules testable
//! without a database: a local day is [local midnight, next local midnight), 23 or 25 hours on
//! the days clocks change.

pub mod agent_activity;
mod buckets;
pub mod queue_activity;

pub use buckets::{BucketUnit, Buckets, complete_until};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::datasets::{Incremental, WindowArgs, Windowed, parse_flags};
use crate::error::{Error, Result};
use crate::timearg::{Window, Zone};

/// The window and grouping options every report shares.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Report window")]
#[command(mut_arg("from", |a| a.required(true).help(
    "Start of the window (RFC 3339, or YYYY-MM-DD = local midnight in --tz)"
)))]
#[command(mut_arg("to", |a| a.help("End of the window, exclusive [default: now]")))]
#[command(mut_arg("tz", |a| a.help("Time zone of the buckets and of dates without an offset")))]
pub struct ReportWindowArgs {
    #[command(flatten)]
    pub base: WindowArgs,
    /// Group rows by this calendar unit, in --tz.
    #[arg(long, value_enum, default_value = "day")]
    pub bucket: BucketUnit,
}

impl ReportWindowArgs {
    /// A window starting at `from`, in UTC, grouped by day.
    pub fn new(from: &str) -> Self {
        ReportWindowArgs {
            base: WindowArgs {
                from: Some(from.into()),
                ..WindowArgs::default()
            },
            bucket: BucketUnit::Day,
        }
    }

    /// Parses the window (`--to` defaults to `now`) and splits it into buckets.
    pub fn buckets(&self, now: DateTime<Utc>) -> Result<Buckets> {
        let tz = self.base.tz.0;
        let window = self.base.window()?;
        let from = window
            .from
            .ok_or_else(|| Error::input("a report needs --from"))?;
        let to = match window.to {
            Some(to) => to,
            None if from < now => now,
            None => {
                return Err(Error::input(format!(
                    "--from ({}) is in the future; give --to",
                    from.to_rfc3339()
                )));
            }
        };
        Buckets::split(from, to, self.bucket, tz)
    }
}

/// How `run` exports a report: whole buckets, each once its end has passed the run's bound.
pub const fn incremental<A: ReportArgs>() -> Windowed<ReportFilter<A>> {
    Windowed {
        incremental: Incremental {
            column: "bucket_end",
            flags: ["--from", "--to"],
            partition_by: "bucket_start",
            window: "complete buckets only; `since` required",
            revised: true,
        },
        set: ReportFilter::set_window,
        set_partition: ReportFilter::set_window,
    }
}

/// A report's flags, which hold its window.
pub trait ReportArgs: clap::Args + Clone {
    fn window(&self) -> &ReportWindowArgs;
    fn window_mut(&mut self) -> &mut ReportWindowArgs;
}

/// A report's flags and the buckets they cover.
#[derive(Clone, Debug)]
pub struct ReportFilter<A> {
    pub args: A,
    pub buckets: Buckets,
}

impl<A: ReportArgs> ReportFilter<A> {
    /// The subcommand's window: `--from` up to `--to` (default: now).
    pub fn new(args: &A) -> Result<Self> {
        Ok(ReportFilter {
            buckets: args.window().buckets(Utc::now())?,
            args: args.clone(),
        })
    }

    /// A run's window: its complete buckets (none when it is empty).
    pub fn set_window(&mut self, window: Window) -> Result<()> {
        let w = self.args.window();
        self.buckets = match (window.from, window.to) {
            (Some(from), Some(to)) if from < to => Buckets::split(from, to, w.bucket, w.base.tz.0)?,
            _ => Buckets::default(),
        };
        Ok(())
    }

    /// The end of the last bucket complete by `bound`.
    pub fn complete_until(&self, bound: DateTime<Utc>) -> DateTime<Utc> {
        let w = self.args.window();
        complete_until(w.bucket, w.base.tz.0, bound)
    }
}

/// A report job's flags: its window comes from the run, its time zone from the config unless
/// the filters name one.
pub fn job_args<A: ReportArgs>(
    name: &str,
    filters: &[String],
    tz: Tz,
) -> std::result::Result<A, String> {
    // `--from` is required on the command line; a run sets the window itself (and refuses
    // `--from` in an incremental job's filters).
    let mut all = Vec::new();
    if !filters.iter().any(|f| f.starts_with("--from")) {
        all.extend(["--from".to_string(), "1970-01-01".to_string()]);
    }
    all.extend_from_slice(filters);
    let mut args: A = parse_flags(name, &all)?;
    if !filters.iter().any(|f| f.starts_with("--tz")) {
        args.window_mut().base.tz = Zone(tz);
    }
    Ok(args)
}
