//! `agent-states`: agent status and channel intervals from `cc_agent_state_history` (and the
//! status changes only `cc_agent_status_log` has: Webitel v23.07 wrote them there alone), plus
//! (with `--include-open`) the states still open in `cc_agent` / `cc_agent_channel`.
//! Column meanings: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::agent_states as sql;
use crate::timearg::Window;

use super::{Dataset, Incremental, NoFlags, WindowArgs, Windowed, list};

crate::record! {
    /// One agent state interval.
    pub struct AgentStateRow {
        /// Interval id (`cc_agent_state_history.id`, increasing: the incremental cursor); empty
        /// for open states and for status changes read from `cc_agent_status_log`.
        id: Option<i64> => Int64,
        /// Agent. `agent_id`.
        agent_id: i32 => Int32,
        /// The agent's tenant. `cc_agent.domain_id`.
        domain_id: i64 => Int64,
        /// The agent's `coalesce(name, username)`.
        agent_name: Option<String> => Text,
        /// The agent's team now. `cc_agent.team_id`.
        team_id: Option<i32> => Int32,
        /// `status` (channel empty and state online, offline, pause or break_out) or `channel`
        /// (before v23.07 a waiting channel state has an empty channel too).
        kind: String => Text,
        /// Channel of a channel state (call, chat, task…). `channel`.
        channel: Option<String> => Text,
        /// The state: online/offline/pause/break_out, or waiting/offering/bridged/wrap_time/….
        state: String => Text,
        /// Pause cause of a pause (`payload` of status rows).
        pause_cause: Option<String> => Text,
        /// Interval start. `joined_at`.
        joined_at: DateTime<Utc> => Timestamp,
        /// Interval end: `joined_at + duration`; empty for a state still open.
        left_at: Option<DateTime<Utc>> => Timestamp,
        /// `round(left_at − joined_at)` in seconds; empty for open states.
        duration_sec: Option<i64> => Int64,
        /// Queue of a channel state. `queue_id`.
        queue_id: Option<i32> => Int32,
        /// The queue's name. `cc_queue.name`.
        queue_name: Option<String> => Text,
        /// Attempt of a channel state. `attempt_id` (v23.05+).
        attempt_id: Option<i32> => Int32,
    }
}

/// Which kind of state rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StateKind {
    /// Agent status: online, offline, pause, break_out.
    Status,
    /// Per-channel states: waiting, offering, bridged, wrap_time…
    Channel,
}

/// The filters of `webitel-export agent-states`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
#[command(mut_arg("from", |a| a.help("Intervals that end after this instant (RFC 3339, or YYYY-MM-DD in --tz)")))]
#[command(mut_arg("to", |a| a.help("Intervals that start before this instant (exclusive)")))]
pub struct AgentStatesArgs {
    // --from/--to: intervals that overlap the window.
    #[command(flatten)]
    pub window: WindowArgs,
    /// These agents (repeatable).
    #[arg(long = "agent", value_name = "ID")]
    pub agents: Vec<i32>,
    /// Agents of these teams (repeatable).
    #[arg(long = "team", value_name = "ID")]
    pub teams: Vec<i64>,
    /// Only status rows or only channel rows.
    #[arg(long, value_enum)]
    pub kind: Option<StateKind>,
    /// These states (repeatable), e.g. pause, bridged.
    #[arg(long = "state", value_name = "STATE")]
    pub states: Vec<String>,
    /// Only closed intervals that ended at or after this instant.
    #[arg(long, value_name = "TIME")]
    pub ended_from: Option<String>,
    /// Only closed intervals that ended before this instant (exclusive).
    #[arg(long, value_name = "TIME")]
    pub ended_to: Option<String>,
    /// Only closed intervals with a larger id (incremental exports; open states are left out).
    #[arg(long, value_name = "ID")]
    pub after_id: Option<i64>,
    /// Add each agent's open status and channel states (left_at empty).
    #[arg(long)]
    pub include_open: bool,
}

/// Agent-state filters after parsing: the windows resolved to instants.
#[derive(Clone, Debug)]
pub struct AgentStatesFilter {
    pub args: AgentStatesArgs,
    /// Intervals overlapping this window.
    pub overlap: Window,
    /// Closed intervals that ended in this window.
    pub ended: Window,
}

impl AgentStatesArgs {
    /// Checks every filter that can be checked without the database.
    pub fn to_filter(&self) -> Result<AgentStatesFilter> {
        Ok(AgentStatesFilter {
            args: self.clone(),
            overlap: self.window.window()?,
            ended: self.window.other(
                ("--ended-from", &self.ended_from),
                ("--ended-to", &self.ended_to),
            )?,
        })
    }
}

/// The intervals matching `f`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &AgentStatesFilter,
) -> BoxStream<'c, Result<AgentStateRow>> {
    let args = &f.args;
    let kind = args.kind.map(|k| match k {
        StateKind::Status => "status",
        StateKind::Channel => "channel",
    });
    sql::query!(
        db,
        level,
        AgentStateRow,
        (
            list(&args.window.domains),
            f.overlap.from,
            f.overlap.to,
            list(&args.agents),
            list(&args.teams),
            kind,
            list(&args.states),
            args.after_id,
            args.include_open,
            f.ended.from,
            f.ended.to,
        )
    )
    .map_err(|e| Error::database("reading agent states", e))
    .boxed()
}

/// `webitel-export agent-states`.
pub struct AgentStates;

impl Dataset for AgentStates {
    const NAME: &'static str = "agent-states";
    const ABOUT: &'static str =
        "Export agent status and channel intervals (call_center.cc_agent_state_history)";
    const SOURCE: &'static str = "call_center.cc_agent_state_history (closed intervals), cc_agent and cc_agent_channel (open states)";
    const QUERY: &'static str = sql::TEMPLATE;
    const INCREMENTAL: Option<Windowed<AgentStatesFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "left_at",
            flags: ["--ended-from", "--ended-to"],
            partition_by: "joined_at",
            window: "the interval's end, `joined_at + duration`; closed intervals only",
            revised: false,
        },
        set: |filter, window| {
            filter.ended = window;
            Ok(())
        },
        set_partition: |filter, window| {
            filter.overlap = window;
            Ok(())
        },
    });
    type Args = AgentStatesArgs;
    type Extra = NoFlags;
    type Filter = AgentStatesFilter;
    type Row = AgentStateRow;

    fn filter(args: &AgentStatesArgs) -> Result<AgentStatesFilter> {
        args.to_filter()
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.tz.0
    }
    fn domains(filter: &AgentStatesFilter) -> &[i64] {
        &filter.args.window.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &AgentStatesFilter,
    ) -> BoxStream<'c, Result<AgentStateRow>> {
        rows(db, level, filter)
    }
}
