//! `annotations`: notes users put on calls (`call_center.cc_calls_annotation`), as Webitel's
//! call-history screen shows them next to a call. Column meanings: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::annotations as sql;
use crate::timearg::Window;

use super::{Dataset, EditedWindowArgs, Incremental, NoFlags, Windowed, list};

crate::record! {
    /// One annotation.
    pub struct AnnotationRow {
        /// Annotation id. `cc_calls_annotation.id`.
        annotation_id: i64 => Int64,
        /// The annotated leg (`cc_calls_history.id`). `call_id`.
        call_id: String => Uuid,
        /// The call's tenant (`cc_calls_history.domain_id`); empty when the call is gone.
        domain_id: Option<i64> => Int64,
        /// When the call was created. `cc_calls_history.created_at`.
        call_created_at: Option<DateTime<Utc>> => Timestamp,
        /// The note. `note`.
        note: String => Text as Text,
        /// Start of the marked part of the recording, seconds. `start_sec`.
        start_sec: i32 => Int32,
        /// End of the marked part of the recording, seconds. `end_sec`.
        end_sec: i32 => Int32,
        /// The recording annotated. `file_id` (v26.04+).
        file_id: Option<i64> => Int64,
        /// `created_at`.
        created_at: DateTime<Utc> => Timestamp,
        /// Author's user id. `created_by`.
        created_by: Option<i64> => Int64,
        /// Author's `coalesce(name, username)`.
        created_by_name: Option<String> => Text,
        /// Last edit (`created_at` until edited). `updated_at`.
        updated_at: DateTime<Utc> => Timestamp,
        /// Last editor's user id. `updated_by`.
        updated_by: Option<i64> => Int64,
        /// Last editor's `coalesce(name, username)`.
        updated_by_name: Option<String> => Text,
    }
}

/// The filters of `webitel-export annotations`.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Filters")]
pub struct AnnotationsArgs {
    #[command(flatten)]
    pub window: EditedWindowArgs,
    /// Annotations of these legs (repeatable).
    #[arg(long = "call-id", value_name = "UUID")]
    pub call_ids: Vec<String>,
    /// Annotations written by these users (repeatable).
    #[arg(long = "author", value_name = "USER_ID")]
    pub authors: Vec<i64>,
}

/// The annotations filters, parsed.
#[derive(Clone, Debug)]
pub struct AnnotationsFilter {
    pub args: AnnotationsArgs,
    pub created: Window,
    pub updated: Window,
}

/// The annotations matching `f`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    level: Level,
    f: &AnnotationsFilter,
) -> BoxStream<'c, Result<AnnotationRow>> {
    let args = &f.args;
    sql::query!(
        db,
        level,
        AnnotationRow,
        (
            list(&args.window.base.domains),
            f.created.from,
            f.created.to,
            f.updated.from,
            f.updated.to,
            list(&args.call_ids),
            list(&args.authors),
        )
    )
    .map_err(|e| Error::database("reading annotations", e))
    .boxed()
}

/// `webitel-export annotations`.
pub struct Annotations;

impl Dataset for Annotations {
    const NAME: &'static str = "annotations";
    const ABOUT: &'static str =
        "Export call annotations (call_center.cc_calls_annotation): notes on calls and recordings";
    const SOURCE: &'static str = "call_center.cc_calls_annotation (one row per note), with the call's domain and time; --from/--to: created_at";
    const QUERY: &'static str = sql::TEMPLATE;
    // An edited note has a new updated_at, so a run exports it again, as its new version.
    const INCREMENTAL: Option<Windowed<AnnotationsFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "updated_at",
            flags: ["--updated-from", "--updated-to"],
            partition_by: "created_at",
            window: "an edited note is exported again, as its new version",
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
    type Args = AnnotationsArgs;
    type Extra = NoFlags;
    type Filter = AnnotationsFilter;
    type Row = AnnotationRow;

    fn filter(args: &AnnotationsArgs) -> Result<AnnotationsFilter> {
        let (created, updated) = args.window.windows()?;
        Ok(AnnotationsFilter {
            args: args.clone(),
            created,
            updated,
        })
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.base.tz.0
    }
    fn domains(filter: &AnnotationsFilter) -> &[i64] {
        &filter.args.window.base.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &AnnotationsFilter,
    ) -> BoxStream<'c, Result<AnnotationRow>> {
        rows(db, level, filter)
    }
}
