//! `calls`: call legs from `call_center.cc_calls_history`, filtered like Webitel's
//! CallService.SearchHistoryCall, with the derived columns of its `cc_calls_history_list`
//! view. Column meanings and formulas: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;

use crate::levels::sql::calls as sql;
use crate::levels::sql::calls_bulk as sql_bulk;
use crate::timearg::Window;
use crate::view::View;

use super::shape::{self, LegTime};
use super::{BlockSlice, Dataset, Incremental, ReadShape, Windowed};

mod bind;
mod filter;
pub use filter::*;

crate::record! {
    /// One call leg.
    pub struct CallRow {
        /// Leg id (FreeSWITCH uuid). `cc_calls_history.id`.
        id: String => Uuid,
        /// The A-leg this leg belongs to; empty on top-level legs. `parent_id`.
        parent_id: Option<String> => Uuid,
        /// The leg this leg was bridged to. `bridged_id`.
        bridged_id: Option<String> => Uuid,
        /// Attended transfer: the leg this one was transferred from. `transfer_from`.
        transfer_from: Option<String> => Uuid,
        /// Attended transfer target. For a child leg without its own `transfer_to` that is not
        /// the leg its parent was bridged to: the parent's `bridged_id` (as the engine's view).
        transfer_to: Option<String> => Uuid,
        /// Last blind-transfer destination number. `blind_transfer`.
        blind_transfer: Option<String> => Text as Numbers,
        /// Tenant (`directory.wbt_domain.dc`). `domain_id`.
        domain_id: i64 => Int64,
        /// `inbound` or `outbound`. `direction`.
        direction: Option<String> => Text,
        /// Caller endpoint type: `user`, `gateway` or `dest`. `from_type`.
        from_type: Option<String> => Text,
        /// Caller number. `from_number`.
        from_number: Option<String> => Text as Numbers,
        /// Caller display name. `from_name`.
        from_name: Option<String> => Text as Names,
        /// Callee endpoint type. `to_type`.
        to_type: Option<String> => Text,
        /// Callee number. `to_number`.
        to_number: Option<String> => Text as Numbers,
        /// Callee display name. `to_name`.
        to_name: Option<String> => Text as Names,
        /// Dialed number / destination. `destination`.
        destination: Option<String> => Text as Numbers,
        /// Leg start (ringing). `created_at`.
        created_at: DateTime<Utc> => Timestamp,
        /// Leg answered. `answered_at`.
        answered_at: Option<DateTime<Utc>> => Timestamp,
        /// Bridged to the other party. `bridged_at`.
        bridged_at: Option<DateTime<Utc>> => Timestamp,
        /// Leg end. `hangup_at` (may be empty on force-closed legs).
        hangup_at: Option<DateTime<Utc>> => Timestamp,
        /// When the leg was moved into history: the incremental cursor. `stored_at`.
        stored_at: DateTime<Utc> => Timestamp,
        /// Seconds from start to hangup: `round(hangup_at − created_at)`; empty without hangup.
        /// (The stored `duration` column is never written by Webitel.)
        duration_sec: Option<i64> => Int64,
        /// Seconds before answer: answered ? `answered_at − created_at` : `hangup_at − created_at`;
        /// 0 when neither is known.
        wait_sec: i64 => Int64,
        /// Billable seconds: answered ? `hangup_at − answered_at` : 0.
        bill_sec: Option<i64> => Int64,
        /// Talk seconds reported by FreeSWITCH at hangup. `talk_sec`.
        talk_sec: i32 => Int32,
        /// Total hold seconds. `coalesce(hold_sec, 0)`.
        hold_sec: i32 => Int32,
        /// FreeSWITCH hangup cause (NORMAL_CLEARING, NO_ANSWER, ORIGINATOR_CANCEL…). `cause`.
        cause: Option<String> => Text,
        /// Final SIP code. `sip_code`.
        sip_code: Option<i32> => Int32,
        /// Side that hung up: `A`, `B`, `F` or `service`. `hangup_by`.
        hangup_by: Option<String> => Text,
        /// The engine's outcome: `not_answered`, `cancelled`, `ended`, `agent_dropped`,
        /// `client_dropped`, `error`; `""` on child legs. Formula in docs/datasets.md.
        hangup_disposition: String => Text,
        /// The leg's user (`user_id` in `directory.wbt_user`), else the user of the agent that
        /// handled the attempt, as Webitel's UI shows it.
        user_id: Option<i64> => Int64,
        /// That user's `coalesce(name, username)`.
        user_name: Option<String> => Text,
        /// The agent that handled the attempt (`attempt_id` → `cc_member_attempt_history.agent_id`).
        agent_id: Option<i32> => Int32,
        /// That agent's user `coalesce(name, username)`.
        agent_name: Option<String> => Text,
        /// That agent's team (`cc_agent.team_id`).
        team_id: Option<i64> => Int64,
        /// That team's name.
        team_name: Option<String> => Text,
        /// Queue of the leg. `queue_id`.
        queue_id: Option<i32> => Int32,
        /// `cc_queue.name`.
        queue_name: Option<String> => Text,
        /// `cc_queue.type`: 0 offline, 1 inbound, 2 ivr, 3 preview, 4 progressive, 5 predictive…
        queue_type: Option<i32> => Int32,
        /// Dialer/queue member. `member_id`.
        member_id: Option<i64> => Int64,
        /// Queue attempt. `attempt_id`.
        attempt_id: Option<i64> => Int64,
        /// The attempt's result (success, abandoned, …). `cc_member_attempt_history.result`.
        attempt_result: Option<String> => Text,
        /// Trunk. `gateway_id`.
        gateway_id: Option<i64> => Int64,
        /// `directory.sip_gateway.name`.
        gateway_name: Option<String> => Text,
        /// Tags set in the flow. `tags`.
        tags: Option<Vec<String>> => TextList,
        /// Answering-machine detection: `coalesce(amd_result, amd_ai_result)`.
        amd_result: Option<String> => Text,
        /// Call variables (`payload` jsonb).
        variables: Option<String> => Json as Text,
        /// Whether other legs have this leg as parent (top-level or blind-transferred legs only).
        has_children: bool => Bool,
        /// `storage.files.id` of the recordings of this leg or its parent, ascending: the files
        /// `recordings` exports by default (channel `call` or unset, not removed or missing).
        recording_file_ids: Option<Vec<i64>> => Int64List,
        /// Seconds in queue: attempt bridged ? `bridged_at − joined_at` : `leaving_at − joined_at`.
        queue_wait_sec: Option<i32> => Int32,
        /// The attempt's `description`, trimmed; empty when there is none.
        agent_description: Option<String> => Text as Text,
    }
}

/// Checks, inside the snapshot, what only the server can check: that the --number regex is
/// one PostgreSQL accepts.
pub async fn check(db: &mut PgConnection, filter: &CallsFilter) -> Result<()> {
    if let Some(regex) = &filter.number_regex {
        sqlx::query_file_scalar!("queries/check_regex.sql", regex)
            .fetch_one(db)
            .await
            .map_err(|e| Error::database(format!("invalid --number '{regex}'"), e))?;
    }
    Ok(())
}

/// The legs matching `f` in `slice`, streamed from `db` (inside the caller's snapshot), read
/// in the slice's shape, or in the one [`choose_shape`] picks.
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &CallsFilter,
    slice: &BlockSlice,
) -> BoxStream<'c, Result<CallRow>> {
    let (f, slice) = (f.clone(), slice.clone());
    futures_util::stream::once(async move {
        let shape = match slice.shape {
            ReadShape::Auto => choose_shape(&mut *db, level, &f).await?,
            chosen => chosen,
        };
        shape::ready_memory(&mut *db, shape, !f.is_bulk()).await?;
        Ok(read(db, level, &f, &slice, shape))
    })
    .try_flatten()
    .boxed()
}

fn read<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &CallsFilter,
    slice: &BlockSlice,
    shape: ReadShape,
) -> BoxStream<'c, Result<CallRow>> {
    let blocks = (slice.from.as_deref(), slice.to.as_deref());
    let (recordings, reads) = (f.reads_recordings(), f.reads);
    // Both shapes take the same parameters: the filter's, the block slice's, what is read.
    macro_rules! legs_from {
        ($($query:ident)::+) => {
            crate::query_with_calls_filter!(
                $($query)::+,
                db,
                level,
                CallRow,
                f,
                (blocks.0, blocks.1, recordings, reads.children, reads.attempts)
            )
        };
    }
    let legs = if shape == ReadShape::SetWise {
        legs_from!(sql_bulk::query)
    } else {
        legs_from!(sql::query)
    };
    legs.map_err(|e| Error::database("reading calls", e))
        .boxed()
}

/// From this share of the history's time span on, a window is read set-wise. The set-wise
/// shape pays a fixed read of every recording and every parent id; the per-row probes pay per
/// leg. Measured on the demo's 1M legs over 27 days (CSV): 3 days 1.6 s per row, 3.0 s
/// set-wise; 7 days 3.0 / 4.2 s; 14 days 6.0 / 5.4 s: they break even near 12 days, 45 %.
/// A nightly's restated week of a longer history stays on the window's index ranges.
const SET_WISE_SHARE: f64 = 0.45;

/// The shape a bulk export wants: set-wise for the whole table (or a domain of it), and for
/// windows covering at least [`SET_WISE_SHARE`] of the span of the history they window (over
/// the domains read); per row for id lists and narrower windows.
pub async fn choose_shape(
    db: &mut PgConnection,
    level: Level,
    f: &CallsFilter,
) -> Result<ReadShape> {
    if !(f.ids.is_empty() && f.parent_ids.is_empty() && f.dependency_ids.is_empty()) {
        return Ok(ReadShape::PerRow);
    }
    // Legs are answered shortly after they are created: the answered window is measured
    // against the created span.
    let windows = [
        (&f.created, LegTime::Created),
        (&f.stored, LegTime::Stored),
        (&f.answered, LegTime::Created),
    ];
    shape::by_history_share(db, level, &f.domains, &windows, SET_WISE_SHARE).await
}

impl CallsFilter {
    /// Whether the export reads most of the table (no time window, no id list), where reading
    /// block slices in parallel pays; a narrow window is an index scan and stays on one
    /// connection.
    fn is_bulk(&self) -> bool {
        self.created == Window::default()
            && self.stored == Window::default()
            && self.answered == Window::default()
            && self.ids.is_empty()
            && self.parent_ids.is_empty()
            && self.dependency_ids.is_empty()
    }
}

/// Splits the table into up to `parallel` block slices (one, the whole table, when slicing
/// does not pay or the table is partitioned).
async fn plan_slices(
    db: &mut PgConnection,
    f: &CallsFilter,
    flags: &CallsFlags,
) -> Result<Vec<BlockSlice>> {
    // A bulk export is read set-wise unless told otherwise, on one connection: every slice
    // would build the same hashes again (measured on the demo: 5M legs in 50 s on one
    // connection, 64 s on two).
    if flags.parallel < 2 || !f.is_bulk() || flags.shape != ReadShape::PerRow {
        return Ok(vec![BlockSlice {
            shape: flags.shape,
            ..BlockSlice::default()
        }]);
    }
    super::history_block_slices(db, flags.parallel, flags.shape).await
}

/// `webitel-export calls`.
pub struct Calls;

/// The flags only the `calls` subcommand has.
#[derive(clap::Args, Clone, Debug)]
pub struct CallsFlags {
    /// Read a bulk export (no time window, no id list) in the per-row shape over this many
    /// connections sharing one snapshot, each scanning a slice of the table's blocks
    /// (the set-wise shape reads on one). 1 = one connection.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=32), help_heading = "Performance")]
    pub parallel: u16,

    /// How the query finds each leg's recordings and children: per-row (index probes),
    /// set-wise (hash joins over sets built once), or auto: set-wise for the whole table and
    /// windows covering 45 % or more of the history, per-row otherwise.
    #[arg(long, value_enum, value_name = "SHAPE", default_value_t = ReadShape::Auto,
          help_heading = "Performance")]
    pub shape: ReadShape,
}

impl Default for CallsFlags {
    fn default() -> Self {
        CallsFlags {
            parallel: 1,
            shape: ReadShape::Auto,
        }
    }
}

impl Dataset for Calls {
    const NAME: &'static str = "calls";
    const ABOUT: &'static str =
        "Export call legs (call_center.cc_calls_history) with SearchHistoryCall's filters";
    const SOURCE: &'static str = "call_center.cc_calls_history (one row per call leg)";
    const QUERY: &'static str = sql::TEMPLATE;
    const INCREMENTAL: Option<Windowed<CallsFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "stored_at",
            flags: ["--stored-from", "--stored-to"],
            partition_by: "created_at",
            window: "when the leg was written to history",
            revised: false,
        },
        set: |filter, window| {
            filter.stored = window;
            Ok(())
        },
        set_partition: |filter, window| {
            filter.created = window;
            Ok(())
        },
    });
    type Args = CallsArgs;
    type Extra = CallsFlags;
    type Filter = CallsFilter;
    type Row = CallRow;

    fn filter(args: &CallsArgs) -> Result<CallsFilter> {
        args.to_filter()
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.tz.0
    }
    fn narrow(filter: &mut CallsFilter, view: &View) {
        filter.reads = LegReads::of(view);
    }
    fn domains(filter: &CallsFilter) -> &[i64] {
        &filter.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &CallsFilter,
    ) -> BoxStream<'c, Result<CallRow>> {
        rows(db, level, filter, &BlockSlice::default())
    }
    async fn prepare(db: &mut PgConnection, filter: &CallsFilter) -> Result<()> {
        check(db, filter).await
    }
    async fn slices(
        db: &mut PgConnection,
        filter: &CallsFilter,
        flags: &CallsFlags,
    ) -> Result<Vec<BlockSlice>> {
        plan_slices(db, filter, flags).await
    }
    fn slice_rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &CallsFilter,
        slice: &BlockSlice,
    ) -> BoxStream<'c, Result<CallRow>> {
        rows(db, level, filter, slice)
    }
}
