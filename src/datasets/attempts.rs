//! `attempts`: the dialer's and queues' attempt results from
//! `call_center.cc_member_attempt_history` — what Webitel's attempt callbacks report — with the
//! member's state after the callback. Column meanings: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::attempts as sql;
use crate::timearg::Window;

use super::{Dataset, Incremental, NoFlags, WindowArgs, Windowed, like_pattern, list};

crate::record! {
    /// One finished attempt.
    pub struct AttemptRow {
        /// Attempt id. `cc_member_attempt_history.id`.
        attempt_id: i64 => Int64,
        /// Tenant. `domain_id`.
        domain_id: i64 => Int64,
        /// Queue or campaign. `queue_id`.
        queue_id: Option<i32> => Int32,
        /// The queue's name. `cc_queue.name`.
        queue_name: Option<String> => Text,
        /// The queue's type code (0 offline, 1 inbound, 3 preview, 4 progressive, 5 predictive…).
        queue_type: Option<i32> => Int32,
        /// Dialer member. `member_id`.
        member_id: Option<i64> => Int64,
        /// The member's name, else the name in the attempt's destination. `cc_member.name`.
        member_name: Option<String> => Text as Names,
        /// Agent that handled the attempt. `agent_id`.
        agent_id: Option<i32> => Int32,
        /// That agent's user `coalesce(name, username)`.
        agent_name: Option<String> => Text,
        /// The agent's team at the time. `team_id`.
        team_id: Option<i32> => Int32,
        /// Member bucket. `bucket_id`.
        bucket_id: Option<i64> => Int64,
        /// call, chat, task… `channel`.
        channel: Option<String> => Text,
        /// The communication dialed ({destination, type, name…}). `destination` jsonb.
        destination: Option<String> => Json as Numbers,
        /// Caller id used. `display`.
        display: Option<String> => Text as Numbers,
        /// Attempt sequence number for the member. `seq`.
        seq: i32 => Int32,
        /// Attempt created / entered the queue. `joined_at`.
        joined_at: DateTime<Utc> => Timestamp,
        /// Offered to an agent / dialed. `offering_at`.
        offering_at: Option<DateTime<Utc>> => Timestamp,
        /// `answered_at`.
        answered_at: Option<DateTime<Utc>> => Timestamp,
        /// Agent and customer bridged. `bridged_at`.
        bridged_at: Option<DateTime<Utc>> => Timestamp,
        /// Left the queue / call ended. `leaving_at`.
        leaving_at: Option<DateTime<Utc>> => Timestamp,
        /// Result reported (end of wrap-up). `reporting_at`.
        reporting_at: Option<DateTime<Utc>> => Timestamp,
        /// Seconds waiting: `coalesce(bridged_at, leaving_at) − joined_at`.
        wait_sec: Option<i64> => Int64,
        /// Seconds connected: `leaving_at − bridged_at` when bridged.
        talk_sec: Option<i64> => Int64,
        /// Seconds of wrap-up: `reporting_at − leaving_at` when reported.
        wrap_sec: Option<i64> => Int64,
        /// Outcome (success, failed, abandoned, cancel… or a custom status). `result`.
        result: String => Text,
        /// Free text reported by the agent or flow. `description`.
        description: Option<String> => Text as Text,
        /// Attempt variables (`variables` jsonb, v24.04+).
        variables: Option<String> => Json as Text,
        /// Post-call form data. `form_fields` jsonb.
        form_fields: Option<String> => Json as Text,
        /// The customer's leg (`cc_calls_history.id`). `member_call_id`.
        member_call_id: Option<String> => Uuid,
        /// The agent's leg. `agent_call_id`.
        agent_call_id: Option<String> => Uuid,
        /// AMD on the customer's leg: `coalesce(amd_result, amd_ai_result)`.
        amd_result: Option<String> => Text,
        /// The member's stop cause now (its final result once finished). `cc_member.stop_cause`.
        member_stop_cause: Option<String> => Text,
        /// When the member finished. `cc_member.stop_at`.
        member_stop_at: Option<DateTime<Utc>> => Timestamp,
        /// When the member expires. `cc_member.expire_at`.
        member_expire_at: Option<DateTime<Utc>> => Timestamp,
        /// Next allowed offering (the callback's min_offering_at). `cc_member.ready_at`.
        member_ready_at: Option<DateTime<Utc>> => Timestamp,
        /// Attempts made for the member so far. `cc_member.attempts`.
        member_attempts: Option<i32> => Int32,
    }
}

/// The filters of `webitel-export attempts`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
#[command(mut_arg("from", |a| a.help("Attempts that joined at or after this instant (RFC 3339, or YYYY-MM-DD in --tz)")))]
#[command(mut_arg("to", |a| a.help("Attempts that joined before this instant (exclusive)")))]
pub struct AttemptsArgs {
    // --from/--to: when the attempt joined.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Attempts that left at or after this instant.
    #[arg(long, value_name = "TIME")]
    pub leaving_from: Option<String>,
    /// Attempts that left before this instant.
    #[arg(long, value_name = "TIME")]
    pub leaving_to: Option<String>,
    /// Attempts of these queues (repeatable).
    #[arg(long = "queue", value_name = "ID")]
    pub queues: Vec<i32>,
    /// Attempts handled by these agents (repeatable).
    #[arg(long = "agent", value_name = "ID")]
    pub agents: Vec<i32>,
    /// Attempts of these members (repeatable).
    #[arg(long = "member", value_name = "ID")]
    pub members: Vec<i64>,
    /// Attempts with these results (repeatable).
    #[arg(long = "result", value_name = "RESULT")]
    pub results: Vec<String>,
    /// Pattern on the dialed destination or the caller id; * is a wildcard.
    #[arg(long, value_name = "PATTERN")]
    pub q: Option<String>,
}

/// Attempts filters after parsing: the windows resolved to instants.
#[derive(Clone, Debug)]
pub struct AttemptsFilter {
    pub args: AttemptsArgs,
    pub joined: Window,
    pub leaving: Window,
}

impl AttemptsArgs {
    /// Checks every filter that can be checked without the database.
    pub fn to_filter(&self) -> Result<AttemptsFilter> {
        Ok(AttemptsFilter {
            args: self.clone(),
            joined: self.window.window()?,
            leaving: self.window.other(
                ("--leaving-from", &self.leaving_from),
                ("--leaving-to", &self.leaving_to),
            )?,
        })
    }
}

/// The attempts matching `f`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &AttemptsFilter,
) -> BoxStream<'c, Result<AttemptRow>> {
    let args = &f.args;
    let pattern = args.q.as_deref().map(like_pattern);
    sql::query!(
        db,
        level,
        AttemptRow,
        (
            list(&args.window.domains),
            f.joined.from,
            f.joined.to,
            f.leaving.from,
            f.leaving.to,
            list(&args.queues),
            list(&args.agents),
            list(&args.members),
            list(&args.results),
            pattern.as_deref(),
        )
    )
    .map_err(|e| Error::database("reading attempts", e))
    .boxed()
}

/// `webitel-export attempts`.
pub struct Attempts;

impl Dataset for Attempts {
    const NAME: &'static str = "attempts";
    const ABOUT: &'static str =
        "Export dialer and queue attempt results (call_center.cc_member_attempt_history)";
    const SOURCE: &'static str =
        "call_center.cc_member_attempt_history (one row per finished attempt), with member state";
    const QUERY: &'static str = sql::TEMPLATE;
    const INCREMENTAL: Option<Windowed<AttemptsFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "leaving_at",
            flags: ["--leaving-from", "--leaving-to"],
            partition_by: "joined_at",
            window: "when the attempt left",
            revised: false,
        },
        set: |filter, window| {
            filter.leaving = window;
            Ok(())
        },
        set_partition: |filter, window| {
            filter.joined = window;
            Ok(())
        },
    });
    type Args = AttemptsArgs;
    type Extra = NoFlags;
    type Filter = AttemptsFilter;
    type Row = AttemptRow;

    fn filter(args: &AttemptsArgs) -> Result<AttemptsFilter> {
        args.to_filter()
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.tz.0
    }
    fn domains(filter: &AttemptsFilter) -> &[i64] {
        &filter.args.window.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &AttemptsFilter,
    ) -> BoxStream<'c, Result<AttemptRow>> {
        rows(db, level, filter)
    }
}
