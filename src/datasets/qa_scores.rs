//! `qa-scores`: quality-assurance ratings of calls (`call_center.cc_audit_rate`, Webitel
//! v23.05+), each against a scorecard (`cc_audit_form`). Column meanings: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::qa_scores as sql;
use crate::timearg::Window;

use super::{Dataset, EditedWindowArgs, Incremental, NoFlags, Windowed, list};

crate::record! {
    /// One rating of a call.
    pub struct QaScoreRow {
        /// Rating id. `cc_audit_rate.id`.
        rate_id: i64 => Int64,
        /// Tenant. `domain_id`.
        domain_id: i64 => Int64,
        /// The scorecard. `form_id`.
        form_id: i32 => Int32,
        /// The scorecard's name. `cc_audit_form.name`.
        form_name: Option<String> => Text,
        /// The rated leg (`cc_calls_history.id`). `call_id`.
        call_id: Option<String> => Uuid,
        /// When the call was created: `call_created_at` (v24.10+), else the leg's `created_at`.
        call_created_at: Option<DateTime<Utc>> => Timestamp,
        /// The user rated (the agent). `rated_user_id`.
        rated_user_id: Option<i64> => Int64,
        /// That user's `coalesce(name, username)`.
        rated_user_name: Option<String> => Text,
        /// Score of the required questions. `score_required`.
        score_required: f64 => Float64,
        /// Score of the optional questions. `score_optional`.
        score_optional: f64 => Float64,
        /// The answer to each question of the form (`answers` jsonb).
        answers: Option<String> => Json,
        /// The scorer's comment. `comment`.
        comment: Option<String> => Text as Text,
        /// When the rating was made. `created_at`.
        created_at: DateTime<Utc> => Timestamp,
        /// The scorer's user id. `created_by`.
        created_by: Option<i64> => Int64,
        /// The scorer's `coalesce(name, username)`.
        created_by_name: Option<String> => Text,
        /// Last change. `updated_at`.
        updated_at: DateTime<Utc> => Timestamp,
        /// Who changed it last. `updated_by`.
        updated_by: Option<i64> => Int64,
    }
}

/// The filters of `webitel-export qa-scores`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
pub struct QaScoresArgs {
    #[command(flatten)]
    pub window: EditedWindowArgs,
    /// Ratings against these scorecards (repeatable).
    #[arg(long = "form", value_name = "ID")]
    pub forms: Vec<i32>,
    /// Ratings of these users (repeatable).
    #[arg(long = "rated-user", value_name = "USER_ID")]
    pub rated_users: Vec<i64>,
    /// Ratings made by these users (repeatable).
    #[arg(long = "scorer", value_name = "USER_ID")]
    pub scorers: Vec<i64>,
    /// Ratings of these legs (repeatable).
    #[arg(long = "call-id", value_name = "UUID")]
    pub call_ids: Vec<String>,
}

/// The qa-scores filters, parsed.
#[derive(Clone, Debug)]
pub struct QaScoresFilter {
    pub args: QaScoresArgs,
    pub created: Window,
    pub updated: Window,
}

/// The ratings matching `f`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &QaScoresFilter,
) -> BoxStream<'c, Result<QaScoreRow>> {
    let args = &f.args;
    sql::query!(
        db,
        level,
        QaScoreRow,
        (
            list(&args.window.base.domains),
            f.created.from,
            f.created.to,
            f.updated.from,
            f.updated.to,
            list(&args.forms),
            list(&args.rated_users),
            list(&args.scorers),
            list(&args.call_ids),
        )
    )
    .map_err(|e| Error::database("reading qa-scores", e))
    .boxed()
}

/// `webitel-export qa-scores`.
pub struct QaScores;

impl Dataset for QaScores {
    const NAME: &'static str = "qa-scores";
    const ABOUT: &'static str = "Export quality-assurance ratings of calls (call_center.cc_audit_rate) with their scorecards";
    const SOURCE: &'static str = "call_center.cc_audit_rate (one row per rating, Webitel v23.05+), with cc_audit_form; --from/--to: created_at (when rated)";
    const QUERY: &'static str = sql::TEMPLATE;
    const SINCE: Level = Level::new(23, 5);
    // A changed rating has a new updated_at, so a run exports it again, as its new version.
    const INCREMENTAL: Option<Windowed<QaScoresFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "updated_at",
            flags: ["--updated-from", "--updated-to"],
            partition_by: "created_at",
            window: "a changed rating is exported again, as its new version",
            revised: true,
        },
        set: |filter, window| {
            filter.updated = window;
            Ok(())
        },
        set_partition: |filter, window| {
            filter.created = window;
            Ok(())
        },
    });
    type Args = QaScoresArgs;
    type Extra = NoFlags;
    type Filter = QaScoresFilter;
    type Row = QaScoreRow;

    fn filter(args: &QaScoresArgs) -> Result<QaScoresFilter> {
        let (created, updated) = args.window.windows()?;
        Ok(QaScoresFilter {
            args: args.clone(),
            created,
            updated,
        })
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.base.tz.0
    }
    fn domains(filter: &QaScoresFilter) -> &[i64] {
        &filter.args.window.base.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &QaScoresFilter,
    ) -> BoxStream<'c, Result<QaScoreRow>> {
        rows(db, level, filter)
    }
}
