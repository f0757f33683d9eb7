//! `report queue-activity`: per queue (optionally per member bucket) and time bucket, offered,
//! answered and abandoned attempts, results, ASA, AHT and service levels.
//! Definitions: docs/reports.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::datasets::list;
use crate::error::{Error, Result};
use crate::levels::Level;

use chrono_tz::Tz;

use crate::datasets::{Dataset, NoFlags, Windowed};
use crate::levels::sql::report_queue_activity as sql;

use super::{ReportArgs, ReportFilter, ReportWindowArgs};

crate::record! {
    /// One queue (or queue and member bucket) in one time bucket.
    pub struct QueueActivityRow {
        /// Start of the bucket (local calendar bucket in `--tz`, cut to the window).
        bucket_start: DateTime<Utc> => Timestamp,
        /// End of the bucket, exclusive.
        bucket_end: DateTime<Utc> => Timestamp,
        /// The calendar bucket in `--tz`: `2026-03-29` (day), `2026-03-29T14:00+03:00` (hour),
        /// `2026-W13` (ISO week), `2026-03` (month), `from/to` (none).
        bucket_label: String => Text,
        /// The queue's tenant. `cc_queue.domain_id`.
        domain_id: i64 => Int64,
        /// Queue. `cc_member_attempt_history.queue_id`.
        queue_id: i32 => Int32,
        /// `cc_queue.name`.
        queue_name: String => Text,
        /// Queue type code (`cc_queue.type`): 0 offline, 1 inbound, 2 ivr, 3 preview,
        /// 4 progressive, 5 predictive, 6 inbound chat, 7 agent task, 8 outbound task…
        queue_type: i32 => Int32,
        /// The queue's team. `cc_queue.team_id`.
        team_id: Option<i64> => Int64,
        /// Member bucket (`cc_member_attempt_history.bucket_id`); only with `--by-bucket`.
        member_bucket_id: Option<i64> => Int64,
        /// `cc_bucket.name` of the member bucket.
        member_bucket_name: Option<String> => Text,
        /// Attempts that entered the queue in the bucket (`joined_at`): calls offered to the
        /// queue, or dialer/callback attempts made.
        offered: i64 => Int64,
        /// Of those, bridged to an agent (`bridged_at` set).
        answered: i64 => Int64,
        /// Not bridged and `result = 'abandoned'` (the caller or callee left).
        abandoned: i64 => Int64,
        /// Abandoned within `--short-abandon` seconds (default 5) of joining:
        /// `leaving_at − joined_at ≤ N`.
        short_abandoned: i64 => Int64,
        /// Transferred: `transferred_at` set, or result `transfer`/`transferred`.
        transferred: i64 => Int64,
        /// Attempts per result: JSON object `{"result": count}`; sums to `offered`.
        results: String => Json,
        /// ASA: average `bridged_at − joined_at` of answered attempts, seconds, 3 decimals.
        avg_wait_sec: Option<f64> => Float64,
        /// Longest wait: `coalesce(bridged_at, leaving_at) − joined_at` over all attempts.
        max_wait_sec: Option<f64> => Float64,
        /// AHT: average `greatest(leaving_at, reporting_at) − bridged_at` of answered attempts
        /// (talk plus after-call work).
        avg_handle_sec: Option<f64> => Float64,
        /// Σ `leaving_at − bridged_at` of answered attempts, seconds.
        total_talk_sec: f64 => Float64,
        /// Average `reporting_at − leaving_at` of answered attempts that reported.
        avg_wrap_sec: Option<f64> => Float64,
        /// Service level per `--sl` threshold T (default 20 and 30 s): JSON object
        /// `{"T": pct}`, pct = `100 × answered with bridged_at − joined_at ≤ T / offered`,
        /// 2 decimals.
        service_level_pct: Option<String> => Json,
    }
}

/// The filters of `webitel-export report queue-activity`.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Filters")]
pub struct QueueActivityArgs {
    #[command(flatten)]
    pub window: ReportWindowArgs,
    /// These queues (repeatable).
    #[arg(long = "queue", value_name = "ID")]
    pub queues: Vec<i32>,
    /// Queues of these teams (repeatable).
    #[arg(long = "team", value_name = "ID")]
    pub teams: Vec<i64>,
    /// Queue type codes (repeatable): 0 offline, 1 inbound, 2 ivr, 3 preview, 4 progressive,
    /// 5 predictive…
    #[arg(long = "type", value_name = "CODE", value_parser = clap::value_parser!(i32).range(0..=10))]
    pub types: Vec<i32>,
    /// One row per member bucket too (cc_member_attempt_history.bucket_id).
    #[arg(long)]
    pub by_bucket: bool,
    /// Abandons within this many seconds count as short abandons.
    #[arg(long, value_name = "SEC", default_value_t = 5,
          value_parser = clap::value_parser!(i32).range(0..))]
    pub short_abandon: i32,
    /// Service-level threshold in seconds (repeatable) [default: 20 and 30].
    #[arg(long = "sl", value_name = "SEC", value_parser = clap::value_parser!(i32).range(0..))]
    pub service_levels: Vec<i32>,
}

/// The report's rows over `buckets`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    f: &ReportFilter<QueueActivityArgs>,
) -> BoxStream<'c, Result<QueueActivityRow>> {
    // A run's window that holds no complete bucket reads nothing.
    if f.buckets.starts.is_empty() {
        return futures_util::stream::empty().boxed();
    }
    let (args, buckets) = (&f.args, &f.buckets);
    let mut thresholds = if args.service_levels.is_empty() {
        vec![20, 30]
    } else {
        args.service_levels.clone()
    };
    thresholds.sort_unstable();
    thresholds.dedup();
    sql::query!(
        db,
        crate::levels::BASELINE,
        QueueActivityRow,
        (
            &buckets.starts,
            &buckets.ends,
            &buckets.labels,
            list(&args.window.base.domains),
            list(&args.queues),
            list(&args.teams),
            list(&args.types),
            args.by_bucket,
            args.short_abandon,
            &thresholds,
        )
    )
    .map_err(|e| Error::database("computing the queue-activity report", e))
    .boxed()
}

impl ReportArgs for QueueActivityArgs {
    fn window(&self) -> &ReportWindowArgs {
        &self.window
    }
    fn window_mut(&mut self) -> &mut ReportWindowArgs {
        &mut self.window
    }
}

/// `webitel-export report queue-activity`.
pub struct QueueActivity;

impl Dataset for QueueActivity {
    const NAME: &'static str = "queue-activity";
    const ABOUT: &'static str = "Per queue and bucket: offered, answered, abandoned, results, ASA, AHT, service levels (docs/reports.md)";
    const SOURCE: &'static str = "call_center.cc_member_attempt_history (attempts that joined the queue in the bucket), per queue and bucket";
    const QUERY: &'static str = sql::TEMPLATE;
    const INCREMENTAL: Option<Windowed<Self::Filter>> = Some(super::incremental());
    const NEEDS_SINCE: bool = true;
    type Args = QueueActivityArgs;
    type Extra = NoFlags;
    type Filter = ReportFilter<QueueActivityArgs>;
    type Row = QueueActivityRow;

    fn filter(args: &QueueActivityArgs) -> Result<Self::Filter> {
        ReportFilter::new(args)
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.base.tz.0
    }
    fn domains(filter: &Self::Filter) -> &[i64] {
        &filter.args.window.base.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        _level: Level,
        filter: &Self::Filter,
    ) -> BoxStream<'c, Result<QueueActivityRow>> {
        rows(db, filter)
    }
    fn complete_until(filter: &Self::Filter, bound: DateTime<Utc>) -> DateTime<Utc> {
        filter.complete_until(bound)
    }
    fn job_args(filters: &[String], tz: Tz) -> std::result::Result<QueueActivityArgs, String> {
        super::job_args(Self::NAME, filters, tz)
    }
}
