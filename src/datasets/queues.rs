//! `queues`: what QueueService.SearchQueue returns, read from `call_center.cc_queue`, with
//! live member counts. Column meanings: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::queues as sql;

use super::{Dataset, NoFlags, like_pattern, list};

crate::record! {
    /// One queue.
    pub struct QueueRow {
        /// Queue id. `cc_queue.id`.
        id: i32 => Int32,
        /// Tenant. `domain_id`.
        domain_id: i64 => Int64,
        /// Queue name. `cc_queue.name`.
        name: String => Text,
        /// Queue type code. `type`.
        r#type: i32 => Int32,
        /// The type's name: 0 offline, 1 inbound, 2 ivr, 3 preview, 4 progressive, 5 predictive,
        /// 6 inbound_chat, 7 agent_task, 8 outbound_task, 9 inbound_im, 10 outbound_call.
        type_name: Option<String> => Text,
        /// Member ordering (fifo, lifo, strict_fifo…). `strategy`.
        strategy: String => Text,
        /// Whether the queue distributes calls. `enabled`.
        enabled: bool => Bool,
        /// Priority among queues an agent serves. `priority`.
        priority: i32 => Int32,
        /// Team of the queue. `team_id`.
        team_id: Option<i64> => Int64,
        /// The team's name. `cc_team.name`.
        team_name: Option<String> => Text,
        /// Working-hours calendar. `calendar_id`.
        calendar_id: Option<i32> => Int32,
        /// The calendar's name. `flow.calendar.name`.
        calendar_name: Option<String> => Text,
        /// Do-not-call list. `dnc_list_id`.
        dnc_list_id: Option<i64> => Int64,
        /// Free text. `description`.
        description: Option<String> => Text,
        /// Queue tags. `tags` (v24.02+).
        tags: Option<Vec<String>> => TextList,
        /// Post-call processing (wrap-up form) enabled. `processing`.
        processing: bool => Bool,
        /// Processing time limit in seconds. `processing_sec`.
        processing_sec: i32 => Int32,
        /// Type-specific settings (`payload` jsonb).
        payload: Option<String> => Json,
        /// Queue variables (`variables` jsonb).
        variables: String => Json,
        /// Creation time. `created_at` (epoch ms in the source).
        created_at: DateTime<Utc> => Timestamp,
        /// Last change. `updated_at` (epoch ms in the source).
        updated_at: DateTime<Utc> => Timestamp,
        /// Members of the queue now (`cc_member` rows).
        members_total: i64 => Int64,
        /// Members without `stop_at`: still to be (re)attempted.
        members_waiting: i64 => Int64,
        /// Members with `stop_at`: finished.
        members_finished: i64 => Int64,
    }
}

/// The filters of `webitel-export queues` (SearchQueue's).
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
pub struct QueuesArgs {
    /// Only these domains (repeatable; default: all).
    #[arg(long = "domain", value_name = "ID")]
    pub domains: Vec<i64>,
    /// Name pattern; * is a wildcard, case-insensitive.
    #[arg(long, value_name = "PATTERN")]
    pub q: Option<String>,
    /// These queues (repeatable).
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<i32>,
    /// Queue type codes (repeatable): 0 offline, 1 inbound, 3 preview, 4 progressive, 5 predictive…
    #[arg(long = "type", value_name = "CODE", value_parser = clap::value_parser!(i32).range(0..=10))]
    pub types: Vec<i32>,
    /// Queues of these teams (repeatable).
    #[arg(long = "team", value_name = "ID")]
    pub teams: Vec<i64>,
    /// Queues with any of these tags (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only enabled queues.
    #[arg(long, conflicts_with = "disabled")]
    pub enabled: bool,
    /// Only disabled queues.
    #[arg(long)]
    pub disabled: bool,
}

/// The queues matching `args`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    args: &QueuesArgs,
) -> BoxStream<'c, Result<QueueRow>> {
    let pattern = args.q.as_deref().map(like_pattern);
    let enabled = match (args.enabled, args.disabled) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    sql::query!(
        db,
        level,
        QueueRow,
        (
            list(&args.domains),
            pattern.as_deref(),
            list(&args.ids),
            list(&args.types),
            list(&args.teams),
            list(&args.tags),
            enabled,
        )
    )
    .map_err(|e| Error::database("reading queues", e))
    .boxed()
}

/// `webitel-export queues`.
pub struct Queues;

impl Dataset for Queues {
    const NAME: &'static str = "queues";
    const ABOUT: &'static str =
        "Export queues (call_center.cc_queue) with SearchQueue's filters and live member counts";
    const SOURCE: &'static str = "call_center.cc_queue (one row per queue), with cc_member counts";
    const QUERY: &'static str = sql::TEMPLATE;
    type Args = QueuesArgs;
    type Extra = NoFlags;
    type Filter = QueuesArgs;
    type Row = QueueRow;

    fn filter(args: &QueuesArgs) -> Result<QueuesArgs> {
        Ok(args.clone())
    }
    fn domains(filter: &QueuesArgs) -> &[i64] {
        &filter.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &QueuesArgs,
    ) -> BoxStream<'c, Result<QueueRow>> {
        rows(db, level, filter)
    }
}
