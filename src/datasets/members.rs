//! `members`: the dialer's lists (`call_center.cc_member`): each member with its queue, bucket,
//! communications, variables, attempts and where it stands now. Column meanings:
//! docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::members as sql;
use crate::timearg::Window;

use super::{Dataset, NoFlags, WindowArgs, list};

crate::record! {
    /// One member.
    pub struct MemberRow {
        /// Member id. `cc_member.id`.
        member_id: i64 => Int64,
        /// Tenant. `domain_id`.
        domain_id: i64 => Int64,
        /// The queue or campaign. `queue_id`.
        queue_id: i32 => Int32,
        /// The queue's name. `cc_queue.name`.
        queue_name: Option<String> => Text,
        /// Member bucket. `bucket_id`.
        bucket_id: Option<i32> => Int32,
        /// The bucket's name. `cc_bucket.name`.
        bucket_name: Option<String> => Text,
        /// The member's name. `name`.
        name: String => Text as Names,
        /// Priority in the queue. `priority`.
        priority: i32 => Int32,
        /// The numbers or addresses to try, each with type, priority and state
        /// (`communications` jsonb).
        communications: Option<String> => Json as Numbers,
        /// The member's variables (`variables` jsonb).
        variables: Option<String> => Json as Text,
        /// Attempts made so far. `attempts`.
        attempts: i32 => Int32,
        /// When the member finished (no more attempts). `stop_at`.
        stop_at: Option<DateTime<Utc>> => Timestamp,
        /// Why it finished (success, expired, cancel, max_attempts…). `stop_cause`.
        stop_cause: Option<String> => Text,
        /// Not offered before this time (a callback's). `ready_at`.
        ready_at: Option<DateTime<Utc>> => Timestamp,
        /// Not offered after this time. `expire_at`.
        expire_at: Option<DateTime<Utc>> => Timestamp,
        /// The agent the member is reserved for. `agent_id`.
        agent_id: Option<i32> => Int32,
        /// The skill the member needs. `skill_id`.
        skill_id: Option<i32> => Int32,
        /// The end of its last call: `last_hangup_at` (epoch ms in the source; 0 = none).
        last_hangup_at: Option<DateTime<Utc>> => Timestamp,
        /// When it was added. `created_at`.
        created_at: DateTime<Utc> => Timestamp,
        /// The import it came with. `import_id`.
        import_id: Option<String> => Text,
    }
}

/// The filters of `webitel-export members`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
pub struct MembersArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// Members of these queues or campaigns (repeatable).
    #[arg(long = "queue", value_name = "ID")]
    pub queues: Vec<i32>,
    /// Members in these buckets (repeatable).
    #[arg(long = "bucket", value_name = "ID")]
    pub buckets: Vec<i32>,
    /// Only finished members (stop_at set).
    #[arg(long, conflicts_with = "waiting")]
    pub finished: bool,
    /// Only members still to be attempted.
    #[arg(long)]
    pub waiting: bool,
    /// Members that finished with these causes (repeatable).
    #[arg(long = "stop-cause", value_name = "CAUSE")]
    pub stop_causes: Vec<String>,
}

/// The members filters, parsed.
#[derive(Clone, Debug)]
pub struct MembersFilter {
    pub args: MembersArgs,
    pub created: Window,
}

/// The members matching `f`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(db: &'c mut PgConnection, f: &MembersFilter) -> BoxStream<'c, Result<MemberRow>> {
    let args = &f.args;
    let finished = match (args.finished, args.waiting) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    sql::query!(
        db,
        crate::levels::BASELINE,
        MemberRow,
        (
            list(&args.window.domains),
            list(&args.queues),
            list(&args.buckets),
            f.created.from,
            f.created.to,
            finished,
            list(&args.stop_causes),
        )
    )
    .map_err(|e| Error::database("reading members", e))
    .boxed()
}

/// `webitel-export members`.
pub struct Members;

impl Dataset for Members {
    const NAME: &'static str = "members";
    const ABOUT: &'static str =
        "Export dialer members (call_center.cc_member): communications, variables, attempts, state";
    const SOURCE: &'static str = "call_center.cc_member (one row per member, as it stands now), with queue and bucket names; --from/--to: created_at (when added)";
    const QUERY: &'static str = sql::TEMPLATE;
    // No incremental column: a member changes (attempts, stop) without a time of change, so a
    // run exports the lists whole, as a snapshot.
    type Args = MembersArgs;
    type Extra = NoFlags;
    type Filter = MembersFilter;
    type Row = MemberRow;

    fn filter(args: &MembersArgs) -> Result<MembersFilter> {
        let created = args.window.window()?;
        Ok(MembersFilter {
            args: args.clone(),
            created,
        })
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.tz.0
    }
    fn domains(filter: &MembersFilter) -> &[i64] {
        &filter.args.window.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        _level: Level,
        filter: &MembersFilter,
    ) -> BoxStream<'c, Result<MemberRow>> {
        rows(db, filter)
    }
}
