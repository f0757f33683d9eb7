//! `recordings`: call recordings from `storage.files`, where each one is stored and the call it
//! belongs to — the metadata behind `/api/storage/recordings/{id}/stream`, read directly.
//! Column meanings: docs/datasets.md.

pub mod copy;
pub mod stores;

use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::postgres::PgConnection;

use crate::error::{Error, Result};
use crate::levels::Level;
use crate::levels::sql::recordings as sql;
use crate::levels::sql::recordings_by_calls as sql_by_calls;
use crate::timearg::Window;
use copy::CopyOptions;

use super::calls::{CallsArgs, CallsFilter};
use super::{Dataset, Incremental, Windowed, like_pattern};

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
        from_number: Option<String> => Text as Numbers,
        /// The leg's callee number.
        to_number: Option<String> => Text as Numbers,
        /// The leg's queue name.
        queue_name: Option<String> => Text,
        /// The agent that handled the leg's attempt.
        agent_name: Option<String> => Text,
    }
}

/// The filters of `webitel-export recordings`: every `calls` filter (a file is listed when a
/// matching leg is its leg or that leg's child), plus filters on the files themselves.
#[derive(clap::Args, Clone, Debug, Default)]
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

/// The recordings filters, parsed: the values the query binds.
#[derive(Clone, Debug)]
pub struct RecordingsFilter {
    args: RecordingsArgs,
    calls: CallsFilter,
    /// Whether any call filter besides the domain is set (the domain applies to files directly).
    by_calls: bool,
    uploaded: Window,
    mime: Option<String>,
}

impl RecordingsFilter {
    fn new(args: &RecordingsArgs) -> Result<Self> {
        let calls = args.calls.to_filter()?;
        let by_calls = CallsFilter {
            domains: Vec::new(),
            ..calls.clone()
        } != CallsFilter::default();
        Ok(RecordingsFilter {
            args: args.clone(),
            calls,
            by_calls,
            uploaded: args.calls.window.other(
                ("--uploaded-from", &args.uploaded_from),
                ("--uploaded-to", &args.uploaded_to),
            )?,
            mime: args.mime.as_deref().map(like_pattern),
        })
    }

    fn rows<'c>(
        &self,
        db: &'c mut PgConnection,
        level: Level,
    ) -> BoxStream<'c, Result<RecordingRow>> {
        let (args, f) = (&self.args, &self.calls);
        // Both queries take the same parameters.
        macro_rules! recordings_from {
            ($($query:ident)::+) => {
                crate::query_with_calls_filter!(
                    $($query)::+,
                    db,
                    level,
                    RecordingRow,
                    f,
                    (
                        self.by_calls,
                        list(&args.file_ids),
                        self.mime.as_deref(),
                        self.uploaded.from,
                        self.uploaded.to,
                        args.include_removed,
                    )
                )
            };
        }
        // With call filters, the files are found from the legs that match them.
        let files = if self.by_calls {
            recordings_from!(sql_by_calls::query)
        } else {
            recordings_from!(sql::query)
        };
        files
            .map_err(|e| Error::database("reading recordings", e))
            .boxed()
    }
}

/// `webitel-export recordings`.
pub struct Recordings;

impl Dataset for Recordings {
    const NAME: &'static str = "recordings";
    const ABOUT: &'static str =
        "Export call recordings metadata (storage.files): location, profile, stream path, call";
    const SOURCE: &'static str =
        "storage.files of calls (one row per file), with storage profile and call context";
    const QUERY: &'static str = sql::TEMPLATE;
    // A file's row is written when it is uploaded: a run picks up each file once, by upload time.
    const INCREMENTAL: Option<Windowed<RecordingsFilter>> = Some(Windowed {
        incremental: Incremental {
            column: "uploaded_at",
            flags: ["--uploaded-from", "--uploaded-to"],
            partition_by: "uploaded_at",
            window: "when the file was stored; each file once",
            revised: false,
        },
        set: |filter, window| {
            filter.uploaded = window;
            Ok(())
        },
        set_partition: |filter, window| {
            filter.uploaded = window;
            Ok(())
        },
    });
    type Args = RecordingsArgs;
    type Extra = CopyOptions;
    type Filter = RecordingsFilter;
    type Row = RecordingRow;

    fn filter(args: &RecordingsArgs) -> Result<RecordingsFilter> {
        RecordingsFilter::new(args)
    }
    fn time_zone(args: &Self::Args) -> chrono_tz::Tz {
        args.calls.window.tz.0
    }
    fn domains(filter: &RecordingsFilter) -> &[i64] {
        &filter.calls.domains
    }
    fn rows<'c>(
        db: &'c mut PgConnection,
        level: Level,
        filter: &RecordingsFilter,
    ) -> BoxStream<'c, Result<RecordingRow>> {
        filter.rows(db, level)
    }

    fn check_extra(copy: &CopyOptions) -> Result<()> {
        copy.requested().map_or(Ok(()), CopyOptions::validate)
    }

    /// With `--copy-to`, copies the files of the exported rows into a directory, in the same
    /// snapshot.
    async fn after(
        db: &mut PgConnection,
        level: Level,
        filter: &RecordingsFilter,
        copy: &CopyOptions,
        quiet: bool,
    ) -> Result<()> {
        let Some(dir) = &copy.dir else {
            return Ok(());
        };
        let stores = stores::Stores::load(db, copy.storage_root.clone()).await?;
        copy::copy_all(filter.rows(db, level), &stores, dir, quiet).await
    }
}
