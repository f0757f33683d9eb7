//! `agents`: contact-center agents from `call_center.cc_agent`, with the user, team, region and
//! skills Webitel shows next to them. Column meanings: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::agents as sql;

use super::{Dataset, NoFlags, like_pattern, list};

crate::record! {
    /// One agent.
    pub struct AgentRow {
        /// Agent id. `cc_agent.id`.
        id: i32 => Int32,
        /// The agent's Webitel user. `cc_agent.user_id` → `directory.wbt_user.id`.
        user_id: i64 => Int64,
        /// Tenant. `domain_id`.
        domain_id: i64 => Int64,
        /// Display name, as Webitel shows it: `coalesce(wbt_user.name, wbt_user.username)`.
        name: Option<String> => Text,
        /// Login name. `wbt_user.username`.
        username: Option<String> => Text,
        /// Phone extension. `wbt_user.extension`.
        extension: Option<String> => Text,
        /// Current status: online, offline, pause, break_out. `status`.
        status: String => Text,
        /// Pause cause name while paused. `status_payload`.
        pause_cause: Option<String> => Text,
        /// Start of the current status. `last_state_change`.
        last_state_change: DateTime<Utc> => Timestamp,
        /// Team. `team_id`.
        team_id: Option<i32> => Int32,
        /// The team's name. `cc_team.name`.
        team_name: Option<String> => Text,
        /// Whether the agent is a supervisor. `supervisor`.
        supervisor: bool => Bool,
        /// Agent ids of the agent's supervisors. `supervisor_ids`.
        supervisor_ids: Option<Vec<i32>> => Int32List,
        /// Skills as a JSON array of {skill_id, skill, capacity, enabled}, by skill name
        /// (`cc_skill_in_agent` joined to `cc_skill`).
        skills: Option<String> => Json,
        /// Channels the agent may work (call, chat, task…). `allow_channels`.
        allow_channels: Option<Vec<String>> => TextList,
        /// Free text. `description`.
        description: String => Text,
        /// Region (time zone). `region_id`.
        region_id: Option<i32> => Int32,
        /// The region's name. `flow.region.name`.
        region_name: Option<String> => Text,
    }
}

/// Agent status filter values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Status {
    Online,
    Offline,
    Pause,
    BreakOut,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Offline => "offline",
            Status::Pause => "pause",
            Status::BreakOut => "break_out",
        }
    }
}

/// The filters of `webitel-export agents`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
pub struct AgentsArgs {
    /// Only these domains (repeatable; default: all).
    #[arg(long = "domain", value_name = "ID")]
    pub domains: Vec<i64>,
    /// Name or username pattern; * is a wildcard, case-insensitive.
    #[arg(long, value_name = "PATTERN")]
    pub q: Option<String>,
    /// These agents (repeatable).
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<i32>,
    /// Agents of these teams (repeatable).
    #[arg(long = "team", value_name = "ID")]
    pub teams: Vec<i64>,
    /// Agents currently in these statuses (repeatable).
    #[arg(long = "status", value_enum)]
    pub statuses: Vec<Status>,
    /// Only supervisors.
    #[arg(long)]
    pub supervisor: bool,
}

/// The agents matching `args`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(db: &'c mut PgConnection, args: &AgentsArgs) -> BoxStream<'c, Result<AgentRow>> {
    let pattern = args.q.as_deref().map(like_pattern);
    let statuses: Vec<String> = args
        .statuses
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    sql::query!(
        db,
        crate::levels::BASELINE,
        AgentRow,
        (
            list(&args.domains),
            pattern.as_deref(),
            list(&args.ids),
            list(&args.teams),
            list(&statuses),
            args.supervisor,
        )
    )
    .map_err(|e| Error::database("reading agents", e))
    .boxed()
}

/// `webitel-export agents`.
pub struct Agents;

impl Dataset for Agents {
    const NAME: &'static str = "agents";
    const ABOUT: &'static str =
        "Export agents (call_center.cc_agent) with user, team, region and skills";
    const SOURCE: &'static str =
        "call_center.cc_agent (one row per agent), with user, team, region and skills";
    const QUERY: &'static str = sql::TEMPLATE;
    type Args = AgentsArgs;
    type Extra = NoFlags;
    type Filter = AgentsArgs;
    type Row = AgentRow;

    fn filter(args: &AgentsArgs) -> Result<AgentsArgs> {
        Ok(args.clone())
    }
    fn domains(filter: &AgentsArgs) -> &[i64] {
        &filter.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        _level: Level,
        filter: &AgentsArgs,
    ) -> BoxStream<'c, Result<AgentRow>> {
        rows(db, filter)
    }
}
