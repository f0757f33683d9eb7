//! `conversations`: one row per customer interaction — a root leg with every leg reachable from
//! it through parent_id, transfer_from and redial_id — with its queue, who answered, wait, talk,
//! hold, transfers, disposition, QA score, transcript, recordings and MOS. Every column's
//! formula: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::conversations as sql;
use crate::levels::sql::conversations_bulk as sql_bulk;
use crate::merge::RowOrder;
use crate::timearg::Window;
use crate::view::View;

use super::shape::{self, LegTime};
use super::{BlockSlice, Dataset, Direction, Incremental, ReadShape, WindowArgs, Windowed, list};

crate::record! {
    /// One conversation.
    pub struct ConversationRow {
        /// The root leg's id: a top-level leg (`parent_id` NULL) that continues no other
        /// (`transfer_from` and `redial_id` NULL).
        conversation_id: String => Uuid,
        /// Tenant. The root's `domain_id`.
        domain_id: i64 => Int64,
        /// The root's `direction` (inbound, outbound, internal).
        direction: Option<String> => Text,
        /// The customer: the root's `from_number` when inbound, else its `destination`
        /// (or `to_number`).
        customer_number: Option<String> => Text as Numbers,
        /// The root's `created_at`.
        started_at: DateTime<Utc> => Timestamp,
        /// `max(hangup_at)` over the conversation's legs.
        ended_at: Option<DateTime<Utc>> => Timestamp,
        /// The root's `stored_at` (the incremental column of a run).
        stored_at: DateTime<Utc> => Timestamp,
        /// Legs in the conversation: the root and every leg reachable from it through
        /// `parent_id`, `transfer_from` or `redial_id` (v24.02+), recursively.
        legs: i64 => Int64,
        /// The queue of the first leg (by `created_at`) that has one.
        first_queue_id: Option<i32> => Int32,
        /// That queue's name.
        first_queue_name: Option<String> => Text,
        /// `bridged_at` of the first agent leg (a leg with `user_id`) bridged.
        answered_at: Option<DateTime<Utc>> => Timestamp,
        /// That leg's `user_id`: who answered.
        answered_by_user_id: Option<i64> => Int64,
        /// That user's `coalesce(name, username)`.
        answered_by_user_name: Option<String> => Text,
        /// That user's agent (`cc_agent.id`).
        answered_by_agent_id: Option<i32> => Int32,
        /// `coalesce(answered_at, ended_at) − started_at`, seconds: how long the customer
        /// waited for an agent (the whole call when none answered).
        wait_sec: Option<i64> => Int64,
        /// The customer's talk: `talk_sec` of the root leg (the customer's leg, which stays
        /// bridged through transfers) and of callbacks, as Webitel's call history gives it;
        /// time agents spend consulting each other is not in it.
        talk_sec: i64 => Int64,
        /// `Σ hold_sec` of all legs.
        hold_sec: i64 => Int64,
        /// Transfer events: each leg with `blind_transfer`, and each leg with `transfer_to` but
        /// the second mark Webitel leaves of an attended transfer (a leg whose `transfer_to`
        /// names a leg that has `transfer_to` itself).
        transfers: i64 => Int64,
        /// Legs with `redial_id` (v24.02+). Webitel's schema has the column, but none of its
        /// services writes it today (a dialer callback of an abandoned call is a conversation of
        /// its own), so on Webitel's own data this is 0.
        redials: i64 => Int64,
        /// `answered_at` is set.
        answered: bool => Bool,
        /// Inbound, never answered, and not hidden from missed calls (`hide_missed`, v24.02+).
        missed: bool => Bool,
        /// The root's `hangup_disposition` (as in `calls`: not_answered, cancelled, ended,
        /// agent_dropped, client_dropped, error).
        disposition: String => Text,
        /// `cause` of the leg that hung up last.
        final_cause: Option<String> => Text,
        /// Average `score_required` of the QA ratings of any of its legs
        /// (`cc_audit_rate`, v23.05+).
        qa_score: Option<f64> => Float64 since "v23.05",
        /// A transcript exists for any of its legs (`storage.file_transcript`).
        has_transcript: bool => Bool,
        /// The call recordings of its legs (`storage.files` as `recordings` lists them).
        recording_file_ids: Option<Vec<i64>> => Int64List,
        /// Lowest `mos_min` over its legs' media statistics (`cc_calls_media_stats`, v26.02+).
        mos_min: Option<f64> => Float64 since "v26.02",
        /// The root leg's call variables (`cc_calls_history.payload` jsonb), as `calls`
        /// exports them; read only when the export writes them (or variables as columns).
        variables: Option<String> => Json as Text,
    }
}

/// The filters of `webitel-export conversations`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
#[command(mut_arg("from", |a| a.help("Conversations started at or after this instant (RFC 3339, or YYYY-MM-DD in --tz)")))]
#[command(mut_arg("to", |a| a.help("Conversations started before this instant (exclusive)")))]
pub struct ConversationsArgs {
    // --from/--to: when the conversation started.
    #[command(flatten)]
    pub window: WindowArgs,
    /// Conversations whose root leg was stored at or after this instant.
    #[arg(long, value_name = "TIME")]
    pub stored_from: Option<String>,
    /// Conversations whose root leg was stored before this instant.
    #[arg(long, value_name = "TIME")]
    pub stored_to: Option<String>,
    /// Only conversations whose root leg has these directions (repeatable).
    #[arg(long = "direction", value_name = "DIRECTION", value_enum)]
    pub directions: Vec<Direction>,
    /// Only conversations an agent answered.
    #[arg(long, conflicts_with = "unanswered")]
    pub answered: bool,
    /// Only conversations no agent answered.
    #[arg(long)]
    pub unanswered: bool,
    /// How the query finds each conversation's legs, ratings, transcripts, recordings and
    /// statistics: per-row (index probes per leg and per conversation), set-wise (hash joins
    /// over sets built once), or auto: set-wise for the whole history and windows covering
    /// 15 % or more of it, per-row otherwise.
    #[arg(long, value_enum, value_name = "SHAPE", default_value_t = ReadShape::Auto,
          help_heading = "Performance")]
    pub shape: ReadShape,
}

/// The conversations filters, parsed.
#[derive(Clone, Debug)]
pub struct ConversationsFilter {
    pub args: ConversationsArgs,
    pub created: Window,
    pub stored: Window,
    /// Whether the export writes `variables` (itself, or variables as columns).
    pub with_variables: bool,
}

impl ConversationsFilter {
    /// Whether the export reads the whole history (no window on the roots).
    fn reads_whole_history(&self) -> bool {
        self.created == Window::default() && self.stored == Window::default()
    }
}

/// The conversations matching `f` whose root leg is in `slice` (its part of the roots),
/// streamed from `db` (inside the caller's snapshot), read in the slice's shape or the one
/// [`choose_shape`] picks.
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &ConversationsFilter,
    slice: &BlockSlice,
) -> BoxStream<'c, Result<ConversationRow>> {
    let (f, slice) = (f.clone(), slice.clone());
    futures_util::stream::once(async move {
        let shape = match slice.shape {
            ReadShape::Auto => choose_shape(&mut *db, level, &f).await?,
            chosen => chosen,
        };
        shape::ready_memory(&mut *db, shape, !f.reads_whole_history()).await?;
        Ok(read(db, level, &f, &slice, shape))
    })
    .try_flatten()
    .boxed()
}

/// Reads the whole history set-wise over up to `--parallel` connections (as many as calls'
/// block slices would be), each taking a part of the conversations by a hash of the root's
/// id, so that every part runs through the whole time span and the merge in the export's
/// order reads them side by side: on 5M demo legs bench/derived.md has the figures, though
/// each connection builds again the sets every part needs (the history's links, the
/// lookups). A window is read on one connection, per row or set-wise.
async fn plan_slices(
    db: &mut PgConnection,
    f: &ConversationsFilter,
    flags: &ConversationsFlags,
) -> Result<Vec<BlockSlice>> {
    if flags.parallel < 2 || !f.reads_whole_history() || f.args.shape == ReadShape::PerRow {
        return Ok(vec![BlockSlice {
            shape: f.args.shape,
            ..BlockSlice::default()
        }]);
    }
    let n = i32::from(super::history_slice_count(db, flags.parallel).await?);
    Ok((0..n)
        .map(|k| BlockSlice {
            part: (n > 1).then_some((k, n)),
            shape: ReadShape::SetWise,
            ..BlockSlice::default()
        })
        .collect())
}

/// The order of a conversations export (the queries' ORDER BY), in which the rows of parallel
/// slices are merged.
fn in_export_order(a: &ConversationRow, b: &ConversationRow) -> std::cmp::Ordering {
    (a.started_at, &a.conversation_id).cmp(&(b.started_at, &b.conversation_id))
}

/// From this share of the history's time span on, a window is read set-wise. The set-wise
/// shape pays fixed passes over the history (the legs that continue another, the legs'
/// columns) and over the recordings and statistics; the per-row shape pays ~40 µs a
/// conversation. Measured on the demo's 1M legs over 27 days: 3 days 3.1 s per row, 4.1 s
/// set-wise; 5 days 5.6 / 4.6 s; the whole history 23.5 / 11.5 s: they break even near 4
/// days, 15 %.
const SET_WISE_SHARE: f64 = 0.15;

/// The shape an export wants: set-wise for the whole history, and for windows (on the root's
/// created_at or stored_at) covering at least [`SET_WISE_SHARE`] of its span; per row for
/// narrower windows.
pub async fn choose_shape(
    db: &mut PgConnection,
    level: Level,
    f: &ConversationsFilter,
) -> Result<ReadShape> {
    let windows = [(&f.created, LegTime::Created), (&f.stored, LegTime::Stored)];
    shape::by_history_share(db, level, &f.args.window.domains, &windows, SET_WISE_SHARE).await
}

fn read<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &ConversationsFilter,
    slice: &BlockSlice,
    shape: ReadShape,
) -> BoxStream<'c, Result<ConversationRow>> {
    let args = &f.args;
    let (part, parts) = (slice.part.map(|p| p.0), slice.part.map(|p| p.1));
    let directions: Vec<String> = args.directions.iter().map(|d| d.as_str().into()).collect();
    let answered = match (args.answered, args.unanswered) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    // Both shapes take the same parameters.
    macro_rules! conversations {
        ($($query:ident)::+) => {
            $($query)::+!(
                db,
                level,
                ConversationRow,
                (
                    list(&args.window.domains),
                    f.created.from,
                    f.created.to,
                    f.stored.from,
                    f.stored.to,
                    list(&directions),
                    answered,
                    f.with_variables,
                    parts,
                    part,
                )
            )
        };
    }
    let conversations = if shape == ReadShape::SetWise {
        conversations!(sql_bulk::query)
    } else {
        conversations!(sql::query)
    };
    conversations
        .map_err(|e| Error::database("reading conversations", e))
        .boxed()
}

/// `webitel-export conversations`.
pub struct Conversations;

/// The flags only the `conversations` subcommand has.
#[derive(clap::Args, Clone, Debug)]
pub struct ConversationsFlags {
    /// Read an export of the whole history (no --from/--to, --stored-from/--stored-to)
    /// set-wise over this many connections sharing one snapshot, each taking the
    /// conversations of its part of the roots (by a hash of the root's id); the rows are
    /// merged in the export's order. 1 = one connection.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=32), help_heading = "Performance")]
    pub parallel: u16,
}

impl Default for ConversationsFlags {
    fn default() -> Self {
        ConversationsFlags { parallel: 2 }
    }
}

impl Dataset for Conversations {
    const NAME: &'static str = "conversations";
    const ABOUT: &'static str =
        "Export conversations: each customer interaction with its legs and transfers stitched";
    const SOURCE: &'static str = "call_center.cc_calls_history: a root leg and every leg reachable from it (parent_id, transfer_from, redial_id), with cc_audit_rate, storage.file_transcript, storage.files and cc_calls_media_stats";
    const QUERY: &'static str = sql::TEMPLATE;
    // The root's stored_at: its legs are stored with it or within seconds after it (the
    // safety lag covers them); a leg that joins later is in the row once a restated run
    // rebuilds its day (`restate`).
    const INCREMENTAL: Option<Windowed<ConversationsFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "stored_at",
            flags: ["--stored-from", "--stored-to"],
            partition_by: "started_at",
            window: "the root leg's; legs that join later are in the row with `restate`",
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
    type Args = ConversationsArgs;
    type Extra = ConversationsFlags;
    type Filter = ConversationsFilter;
    type Row = ConversationRow;
    const SLICE_ORDER: Option<RowOrder<ConversationRow>> = Some(in_export_order);

    fn filter(args: &ConversationsArgs) -> Result<ConversationsFilter> {
        Ok(ConversationsFilter {
            args: args.clone(),
            created: args.window.window()?,
            stored: args.window.other(
                ("--stored-from", &args.stored_from),
                ("--stored-to", &args.stored_to),
            )?,
            with_variables: true,
        })
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.tz.0
    }
    fn narrow(filter: &mut ConversationsFilter, view: &View) {
        filter.with_variables = view.reads("variables");
    }
    fn domains(filter: &ConversationsFilter) -> &[i64] {
        &filter.args.window.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &ConversationsFilter,
    ) -> BoxStream<'c, Result<ConversationRow>> {
        let whole = BlockSlice {
            shape: filter.args.shape,
            ..BlockSlice::default()
        };
        rows(db, level, filter, &whole)
    }
    async fn slices(
        db: &mut PgConnection,
        filter: &ConversationsFilter,
        flags: &ConversationsFlags,
    ) -> Result<Vec<BlockSlice>> {
        plan_slices(db, filter, flags).await
    }
    fn slice_rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &ConversationsFilter,
        slice: &BlockSlice,
    ) -> BoxStream<'c, Result<ConversationRow>> {
        rows(db, level, filter, slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;
    use crate::view::ViewRequest;

    fn narrowed(request: ViewRequest) -> bool {
        let args = ConversationsArgs::default();
        let mut filter = Conversations::filter(&args).unwrap();
        assert!(
            filter.with_variables,
            "an export of every column reads them"
        );
        let view = View::resolve("conversations", ConversationRow::COLUMNS, &request).unwrap();
        Conversations::narrow(&mut filter, &view);
        filter.with_variables
    }

    #[test]
    fn variables_are_read_only_when_written() {
        let columns = |names: &[&str]| names.iter().map(|n| (*n).to_string()).collect();
        assert!(!narrowed(ViewRequest {
            exclude: columns(&["variables"]),
            ..ViewRequest::default()
        }));
        assert!(!narrowed(ViewRequest {
            columns: columns(&["conversation_id", "legs"]),
            ..ViewRequest::default()
        }));
        assert!(narrowed(ViewRequest {
            columns: columns(&["conversation_id"]),
            variables: columns(&["lang"]),
            ..ViewRequest::default()
        }));
    }
}
