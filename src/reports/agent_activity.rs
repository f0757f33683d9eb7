//! `report agent-activity`: per agent and bucket, status and channel-state time clipped exactly
//! to the bucket, with utilization, occupancy and call counts. Definitions: docs/reports.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::datasets::list;
use crate::error::{Error, Result};
use crate::levels::Level;

use chrono_tz::Tz;

use crate::datasets::{Dataset, NoFlags, Windowed};
use crate::levels::sql::report_agent_activity as sql;

use super::{ReportArgs, ReportFilter, ReportWindowArgs};

crate::record! {
    /// One agent in one time bucket.
    pub struct AgentActivityRow {
        /// Start of the bucket (local calendar bucket in `--tz`, cut to the window).
        bucket_start: DateTime<Utc> => Timestamp,
        /// End of the bucket, exclusive.
        bucket_end: DateTime<Utc> => Timestamp,
        /// The calendar bucket in `--tz`: `2026-03-29` (day), `2026-03-29T14:00+03:00` (hour),
        /// `2026-W13` (ISO week), `2026-03` (month), `from/to` (none).
        bucket_label: String => Text,
        /// The agent's tenant. `cc_agent.domain_id`.
        domain_id: i64 => Int64,
        /// Agent. `cc_agent.id`.
        agent_id: i32 => Int32,
        /// `coalesce(wbt_user.name, username)` of the agent's user.
        agent_name: Option<String> => Text,
        /// The agent's team now. `cc_agent.team_id`.
        team_id: Option<i32> => Int32,
        /// The team's name. `cc_team.name`.
        team_name: Option<String> => Text,
        /// Seconds in status `online` within the bucket (pause and break_out not included).
        online_sec: f64 => Float64,
        /// Seconds in status `pause`.
        pause_sec: f64 => Float64,
        /// Seconds in status `offline`.
        offline_sec: f64 => Float64,
        /// Pause seconds per cause: JSON object `{"cause": seconds}` (`""` for a pause with no
        /// cause); `{}` when there was no pause. Sums to `pause_sec`.
        pause_by_cause: String => Json,
        /// Seconds in status `break_out`.
        break_out_sec: f64 => Float64,
        /// Seconds in channel state `offering` (the agent's phone ringing).
        offering_sec: f64 => Float64,
        /// Seconds in channel state `bridged` (talking).
        talk_sec: f64 => Float64,
        /// Seconds on hold: Σ `cc_calls_history.hold_sec` of the agent's answered legs offered
        /// in the bucket.
        hold_sec: f64 => Float64,
        /// Seconds in channel state `wrap_time` (after-call work).
        wrap_sec: f64 => Float64,
        /// `100 × online / (online + pause)`, 2 decimals; empty when both are 0.
        utilization_pct: Option<f64> => Float64,
        /// `100 × (offering + talk + wrap) / (online + pause)`, 2 decimals; empty when the
        /// denominator is 0.
        occupancy_pct: Option<f64> => Float64,
        /// Offers: channel state `offering` started in the bucket.
        offered: i64 => Int64,
        /// Handled: channel state `bridged` started in the bucket.
        handled: i64 => Int64,
        /// Missed offers: channel state `missed` started in the bucket.
        missed: i64 => Int64,
        /// Attempts offered to the agent in the bucket, never bridged, whose agent leg ended
        /// with `NO_ANSWER` or `ORIGINATOR_CANCEL` (the engine's rule).
        abandoned: i64 => Int64,
        /// Average `hangup_at − bridged_at` of the agent's answered legs offered in the bucket,
        /// seconds, 3 decimals.
        avg_talk_sec: Option<f64> => Float64,
        /// Average `hold_sec` of the same legs, 3 decimals.
        avg_hold_sec: Option<f64> => Float64,
        /// First login in the bucket: start of a status other than offline that follows
        /// offline (or the agent's first status ever). Empty if the agent did not log in
        /// during the bucket.
        first_login_at: Option<DateTime<Utc>> => Timestamp,
        /// Last logout in the bucket: start of an offline status that follows another status.
        last_logout_at: Option<DateTime<Utc>> => Timestamp,
    }
}

/// The filters of `webitel-export report agent-activity`.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Filters")]
pub struct AgentActivityArgs {
    #[command(flatten)]
    pub window: ReportWindowArgs,
    /// These agents (repeatable).
    #[arg(long = "agent", value_name = "ID")]
    pub agents: Vec<i32>,
    /// Agents of these teams (repeatable).
    #[arg(long = "team", value_name = "ID")]
    pub teams: Vec<i64>,
    /// The channel whose states give offering/talk/wrap time and offer counts.
    #[arg(long, value_name = "NAME", default_value = "call")]
    pub channel: String,
}

/// The report's rows over `buckets`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &ReportFilter<AgentActivityArgs>,
) -> BoxStream<'c, Result<AgentActivityRow>> {
    // A run's window that holds no complete bucket reads nothing.
    if f.buckets.starts.is_empty() {
        return futures_util::stream::empty().boxed();
    }
    let (args, buckets) = (&f.args, &f.buckets);
    sql::query!(
        db,
        level,
        AgentActivityRow,
        (
            &buckets.starts,
            &buckets.ends,
            &buckets.labels,
            list(&args.window.base.domains),
            list(&args.agents),
            list(&args.teams),
            args.channel,
        )
    )
    .map_err(|e| Error::database("computing the agent-activity report", e))
    .boxed()
}

impl ReportArgs for AgentActivityArgs {
    fn window(&self) -> &ReportWindowArgs {
        &self.window
    }
    fn window_mut(&mut self) -> &mut ReportWindowArgs {
        &mut self.window
    }
}

/// `webitel-export report agent-activity`.
pub struct AgentActivity;

impl Dataset for AgentActivity {
    const NAME: &'static str = "agent-activity";
    const ABOUT: &'static str = "Per agent and bucket: online/pause/offline time, pause causes, talk/wrap time, utilization, occupancy, offers, handled, missed (docs/reports.md)";
    const SOURCE: &'static str = "call_center.cc_agent_state_history and cc_agent_status_log (status time), cc_member_attempt_history (offers, talk, wrap), per agent and bucket";
    const QUERY: &'static str = sql::TEMPLATE;
    const INCREMENTAL: Option<Windowed<Self::Filter>> = Some(super::incremental());
    const NEEDS_SINCE: bool = true;
    type Args = AgentActivityArgs;
    type Extra = NoFlags;
    type Filter = ReportFilter<AgentActivityArgs>;
    type Row = AgentActivityRow;

    fn filter(args: &AgentActivityArgs) -> Result<Self::Filter> {
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
        level: Level,
        filter: &Self::Filter,
    ) -> BoxStream<'c, Result<AgentActivityRow>> {
        rows(db, level, filter)
    }
    fn complete_until(filter: &Self::Filter, bound: DateTime<Utc>) -> DateTime<Utc> {
        filter.complete_until(bound)
    }
    fn job_args(filters: &[String], tz: Tz) -> std::result::Result<AgentActivityArgs, String> {
        super::job_args(Self::NAME, filters, tz)
    }
}
