//! `recordings`: call recordings from `storage.files`, where each one is stored and the call it
//! belongs to — the metadata behind `/api/storage/recordings/{id}/stream`, read directly.
//! Column meanings: docs/datasets.md.

pub mod copy;

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::postgres::PgConnection;

use crate::error::{Error, Result};
use crate::export::{self, ExportOptions, Summary};
use crate::levels::Level;
use crate::source;
use crate::timearg::{Window, parse_tz};
use copy::CopyOptions;

use super::calls::{CallsArgs, CallsFilter, Direction};
use super::{like_pattern, list};

crate::record! {
    /// One recording file.
    pub struct RecordingRow {
        /// File id, as in `/api/storage/recordings/<id>/stream`. `storage.files.id`.
        file_id: i64 => Int64,
        /// The leg the file was recorded on. `storage.files.uuid`.
        call_id: String => Uuid,
        /// That leg's parent (child legs reach the file through it). `cc_calls_history.parent_id`.
        call_parent_id: Option<String> => Uuid,
        /// Tenant. `domain_id`.
        domain_id: i64 => Int64,
        /// Stored object name (`<call id>_<name>`). `name`.
        name: String => Text,
        /// Display name. `view_name`.
        view_name: Option<String> => Text,
        /// Size in bytes (of the original, even when stored encrypted). `size`.
        size_bytes: i64 => Int64,
        /// audio/mpeg, audio/wav, video/… `mime_type`.
        mime_type: Option<String> => Text,
        /// `call` (v24.10+; empty on older files). `channel`.
        channel: Option<String> => Text,
        /// Upload time (`created_at`, epoch ms in the source).
        uploaded_at: Option<DateTime<Utc>> => Timestamp,
        /// Content hash when known. `sha256sum` (v24.04+).
        sha256: Option<String> => Text,
        /// Storage profile. `profile_id` (empty: the storage service's default store).
        profile_id: Option<i32> => Int32,
        /// `local`, `s3`… (`file_backend_profiles.type`), or `default` without a profile.
        profile_type: String => Text,
        /// The file's path inside its store: file directory/name, or the S3 object key.
        storage_path: String => Text,
        /// Where the bytes are: local = profile directory/file directory/name; s3 =
        /// `s3://bucket/key`; default store = the path relative to its root.
        location: String => Text,
        /// Stored encrypted (`properties.encrypted`): the bytes are unusable without the key.
        encrypted: bool => Bool,
        /// Soft-deleted (only with --include-removed). `removed`.
        removed: bool => Bool,
        /// The storage API path that streams the file.
        stream_path: String => Text,
        /// Start of the call leg. `cc_calls_history.created_at`.
        call_created_at: Option<DateTime<Utc>> => Timestamp,
        /// The leg's direction.
        direction: Option<String> => Text,
        /// The leg's caller number.
        from_number: Option<String> => Text,
        /// The leg's callee number.
        to_number: Option<String> => Text,
        /// The leg's queue name.
        queue_name: Option<String> => Text,
        /// The agent that handled the leg's attempt.
        agent_name: Option<String> => Text,
    }
}

/// The filters of `webitel-export recordings`: every `calls` filter (a file is listed when a
/// matching leg is its leg or that leg's child), plus filters on the files themselves.
#[derive(clap::Args, Clone, Debug)]
pub struct RecordingsArgs {
    #[command(flatten)]
    pub calls: CallsArgs,
    /// These files (repeatable).
    #[arg(long = "file-id", value_name = "ID", help_heading = "File filters")]
    pub file_ids: Vec<i64>,
    /// MIME type pattern, * is a wildcard (audio/*).
    #[arg(long, value_name = "PATTERN", help_heading = "File filters")]
    pub mime: Option<String>,
    /// Uploaded at or after this instant.
    #[arg(long, value_name = "TIME", help_heading = "File filters")]
    pub uploaded_from: Option<String>,
    /// Uploaded before this instant.
    #[arg(long, value_name = "TIME", help_heading = "File filters")]
    pub uploaded_to: Option<String>,
    /// Also list removed files and files missing in their store.
    #[arg(long, help_heading = "File filters")]
    pub include_removed: bool,
}

impl Default for RecordingsArgs {
    fn default() -> Self {
        RecordingsArgs {
            calls: CallsArgs {
                tz: "UTC".into(),
                ..CallsArgs::default()
            },
            file_ids: Vec::new(),
            mime: None,
            uploaded_from: None,
            uploaded_to: None,
            include_removed: false,
        }
    }
}

/// Filters resolved to the values the query binds.
struct Bound<'a> {
    args: &'a RecordingsArgs,
    calls: CallsFilter,
    /// Whether any call filter besides the domain is set (the domain applies to files directly).
    by_calls: bool,
    uploaded: Window,
    mime: Option<String>,
}

impl<'a> Bound<'a> {
    fn new(args: &'a RecordingsArgs) -> Result<Self> {
        let calls = args.calls.to_filter()?;
        let by_calls = CallsFilter {
            domains: Vec::new(),
            ..calls.clone()
        } != CallsFilter::default();
        let tz = parse_tz(&args.calls.tz)?;
        Ok(Bound {
            args,
            calls,
            by_calls,
            uploaded: Window::parse(
                ("--uploaded-from", args.uploaded_from.as_deref()),
                ("--uploaded-to", args.uploaded_to.as_deref()),
                tz,
            )?,
            mime: args.mime.as_deref().map(like_pattern),
        })
    }

    fn rows<'c>(
        &'c self,
        db: &'c mut PgConnection,
        level: Level,
    ) -> BoxStream<'c, Result<RecordingRow>> {
        let (args, f) = (self.args, &self.calls);
        // $1..$34 are calls.sql's parameters, in the same order.
        crate::leveled_query_as!(
            db,
            level,
            RecordingRow,
            (
                list(&f.domains),
                f.created.from,
                f.created.to,
                f.stored.from,
                f.stored.to,
                f.answered.from,
                f.answered.to,
                f.number_regex.as_deref(),
                f.q.as_deref(),
                f.variables_json.as_deref(),
                list(&f.users),
                list(&f.owners),
                list(&f.agents),
                list(&f.queues),
                list(&f.teams),
                list(&f.members),
                list(&f.gateways),
                list(&f.contacts),
                list(&f.grantees),
                list(&f.ids),
                list(&f.parent_ids),
                list(&f.dependency_ids),
                f.top_level,
                f.has_file,
                list(&f.causes),
                f.min_duration,
                f.max_duration,
                f.min_talk,
                f.max_talk,
                f.direction.map(Direction::as_str),
                f.missed,
                list(&f.tags),
                list(&f.amd_results),
                f.has_transfer,
                self.by_calls,
                list(&args.file_ids),
                self.mime.as_deref(),
                self.uploaded.from,
                self.uploaded.to,
                args.include_removed,
            ),
            {
                "v22.05" => "queries/levels/recordings.v22_05.sql",
                "v22.12" => "queries/levels/recordings.v22_12.sql",
                "v23.05" => "queries/levels/recordings.v23_05.sql",
                "v23.09" => "queries/levels/recordings.v23_09.sql",
                "v23.12" => "queries/levels/recordings.v23_12.sql",
                "v24.02" => "queries/levels/recordings.v24_02.sql",
                "v24.04" => "queries/levels/recordings.v24_04.sql",
                "v24.10" => "queries/recordings.sql",
            }
        )
        .map_err(|e| Error::database("reading recordings", e))
        .boxed()
    }
}

/// Exports the recordings matching `args`; with `copy`, then copies the files of local stores
/// into a directory, in the same snapshot.
pub async fn export(
    conn: &source::ConnArgs,
    args: &RecordingsArgs,
    options: ExportOptions,
    copy: Option<&CopyOptions>,
) -> Result<Summary> {
    let bound = Bound::new(args)?;
    if let Some(copy) = copy {
        copy.validate()?;
    }
    let (destination, writer, mut db) = export::prepare(conn, &options).await?;
    let mut tx = source::begin_snapshot(&mut db, conn, &bound.calls.domains).await?;
    let level = crate::levels::detect(&mut tx).await?;
    let summary = export::write_all(
        "recordings",
        bound.rows(&mut tx, level),
        destination,
        writer,
        &options,
    )
    .await?;
    if let Some(copy) = copy {
        copy::copy_all(bound.rows(&mut tx, level), copy, options.quiet).await?;
    }
    tx.rollback().await.ok();
    Ok(summary)
}
