//! `transcripts`: post-call transcripts (`storage.file_transcript`): the text of a recording in
//! one locale, its phrases and channels, and the call. Column meanings: docs/datasets.md.

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::transcripts as sql;
use crate::timearg::Window;

use super::{Dataset, Incremental, NoFlags, WindowArgs, Windowed, list};

crate::record! {
    /// One transcript.
    pub struct TranscriptRow {
        /// Transcript id. `file_transcript.id`.
        transcript_id: i64 => Int64,
        /// The recording transcribed (`storage.files.id`). `file_id`.
        file_id: Option<i64> => Int64,
        /// The leg the recording belongs to (`cc_calls_history.id`). `uuid`.
        call_id: String => Uuid,
        /// Tenant. `domain_id`.
        domain_id: Option<i64> => Int64,
        /// When the call was created. `cc_calls_history.created_at`.
        call_created_at: Option<DateTime<Utc>> => Timestamp,
        /// Language of the transcript (`none` when unknown). `locale`.
        locale: String => Text,
        /// The whole text. `transcript`.
        transcript: String => Text as Text,
        /// Phrases with their channel, start and end (`phrases` jsonb; nested objects in JSON
        /// Lines).
        phrases: Option<String> => Json as Text,
        /// The recording's channels (`channels` jsonb).
        channels: Option<String> => Json,
        /// The speech-to-text profile. `profile_id`.
        profile_id: Option<i32> => Int32,
        /// When the transcript was stored. `created_at`.
        created_at: DateTime<Utc> => Timestamp,
    }
}

/// The filters of `webitel-export transcripts`.
#[derive(clap::Args, Clone, Debug, Default)]
#[command(next_help_heading = "Filters")]
pub struct TranscriptsArgs {
    #[command(flatten)]
    pub window: WindowArgs,
    /// Transcripts of these legs (repeatable).
    #[arg(long = "call-id", value_name = "UUID")]
    pub call_ids: Vec<String>,
    /// Transcripts of these recordings (repeatable).
    #[arg(long = "file-id", value_name = "ID")]
    pub file_ids: Vec<i64>,
    /// Transcripts in these locales (repeatable), e.g. uk-UA.
    #[arg(long = "locale", value_name = "LOCALE")]
    pub locales: Vec<String>,
}

/// The transcripts filters, parsed.
#[derive(Clone, Debug)]
pub struct TranscriptsFilter {
    pub args: TranscriptsArgs,
    pub created: Window,
}

/// The transcripts matching `f`, streamed from `db` (inside the caller's snapshot).
pub fn rows<'c>(
    db: &'c mut PgConnection,
    f: &TranscriptsFilter,
) -> BoxStream<'c, Result<TranscriptRow>> {
    let args = &f.args;
    sql::query!(
        db,
        crate::levels::BASELINE,
        TranscriptRow,
        (
            list(&args.window.domains),
            f.created.from,
            f.created.to,
            list(&args.call_ids),
            list(&args.file_ids),
            list(&args.locales),
        )
    )
    .map_err(|e| Error::database("reading transcripts", e))
    .boxed()
}

/// `webitel-export transcripts`.
pub struct Transcripts;

impl Dataset for Transcripts {
    const NAME: &'static str = "transcripts";
    const ABOUT: &'static str =
        "Export post-call transcripts (storage.file_transcript): text, phrases, channels, call";
    const SOURCE: &'static str = "storage.file_transcript (one row per transcript of a recording), with the call's time; --from/--to: created_at (when stored)";
    const QUERY: &'static str = sql::TEMPLATE;
    const INCREMENTAL: Option<Windowed<TranscriptsFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "created_at",
            flags: ["--from", "--to"],
            partition_by: "created_at",
            window: "when the transcript was stored",
            revised: false,
        },
        set: |filter, window| {
            filter.created = window;
            Ok(())
        },
        set_partition: |filter, window| {
            filter.created = window;
            Ok(())
        },
    });
    type Args = TranscriptsArgs;
    type Extra = NoFlags;
    type Filter = TranscriptsFilter;
    type Row = TranscriptRow;

    fn filter(args: &TranscriptsArgs) -> Result<TranscriptsFilter> {
        let created = args.window.window()?;
        Ok(TranscriptsFilter {
            args: args.clone(),
            created,
        })
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.window.tz.0
    }
    fn domains(filter: &TranscriptsFilter) -> &[i64] {
        &filter.args.window.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        _level: Level,
        filter: &TranscriptsFilter,
    ) -> BoxStream<'c, Result<TranscriptRow>> {
        rows(db, filter)
    }
}
