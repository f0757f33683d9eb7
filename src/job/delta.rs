//! Delta Lake tables (`format = "delta"`): a job's directory is a Delta table, and each run is
//! one atomic commit to it, made with delta-rs (`deltalake-core`), which owns the transaction
//! log. The run writes and places the Parquet files as for any job; the commit then
//! - adds them (`add`, partition value `date`, row count in the statistics),
//! - removes every file of the partitions the run replaced (a full job's snapshot date, a
//!   restated job's days), as a `replaceWhere` overwrite does,
//! - and records in `commitInfo.webitelExport` the run id, the bound and the watermark, so the
//!   table itself says how far it is.
//!
//! The table, not the state file, is the truth for a Delta job's watermark: a run killed after
//! its commit (before its state was saved) is neither lost nor exported twice. Files a commit
//! removed stay for `[delta] retention` (time travel reaches that far back) and are then
//! deleted; a checkpoint is written every `[delta] checkpoint_interval` commits.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::kernel::{
    Action, Add, ArrayType, DataType, MetadataValue, StructField, StructType,
};
use deltalake_core::logstore::{
    LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig, default_logstore, logstore_factories,
};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError, TableProperty};
use futures_util::StreamExt;
use object_store::ObjectStore;
use serde::{Deserialize, Serialize};
use url::Url;

use super::config::{DeltaConfig, Job};
use super::parts::{FileEntry, NULL_PARTITION};
use crate::error::{Error, Result};
use crate::record::{Column, Kind};

/// The Delta partition column: the job's local date, as the Hive layout's `date=` directories.
pub const PARTITION_COLUMN: &str = "date";
/// The `commitInfo` key of what a run records.
const RUN_KEY: &str = "webitelExport";

/// What a run records in its commit: how far the table is.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunMark {
    pub run: String,
    pub job: String,
    pub dataset: String,
    /// The run's bound (rows written before it are in the table).
    pub bound: DateTime<Utc>,
    /// The incremental column and how far it is exported (`None` for a full job).
    pub column: Option<String>,
    pub watermark: Option<DateTime<Utc>>,
    /// The partitions this commit replaced whole.
    pub replaced: Vec<String>,
}

/// Where the jobs' tables live.
pub enum Tables {
    /// `<root>/<job>/`.
    Local(PathBuf),
    /// `s3://bucket/prefix/<job>/`, through the bucket's store.
    Object {
        store: Arc<dyn ObjectStore>,
        base: Url,
    },
}

/// One job's commit.
pub struct Commit<'a> {
    pub job: &'a Job,
    pub mark: RunMark,
    /// The job's new files (paths relative to the output root).
    pub files: Vec<&'a FileEntry>,
}

/// delta-rs's default log store writes a commit with a conditional PUT (create only if the
/// version's log entry does not exist), which S3 has answered since 2024 (`If-None-Match`), as
/// do MinIO and the S3 test server. delta-rs keeps S3's other log stores (a DynamoDB lock) in a
/// crate of its own; registering the default one for `s3://` is all the tables need here.
struct ConditionalPutLogStore;

impl LogStoreFactory for ConditionalPutLogStore {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> deltalake_core::DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

/// Lets delta-rs open `s3://` tables through a store given to it (once per process).
pub fn register_s3_log_store() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let s3 = Url::parse("s3://").expect("a valid scheme");
        logstore_factories().insert(s3, Arc::new(ConditionalPutLogStore));
    });
}

impl Tables {
    fn url(&self, job: &str) -> Result<Url> {
        let url = match self {
            Tables::Local(root) => {
                let dir = root.join(job);
                Url::from_directory_path(&dir).map_err(|()| {
                    Error::input(format!("'{}' is not an absolute path", dir.display()))
                })?
            }
            Tables::Object { base, .. } => base
                .join(&format!("{job}/"))
                .map_err(|e| Error::input(format!("invalid table location: {e}")))?,
        };
        Ok(url)
    }

    /// The job's table, loaded (or not yet created: version `None`).
    async fn open(&self, job: &str) -> Result<DeltaTable> {
        let url = self.url(job)?;
        let mut builder =
            DeltaTableBuilder::from_url(url.clone()).map_err(|e| self.fail(job, e))?;
        if let Tables::Object { store, .. } = self {
            register_s3_log_store();
            builder = builder.with_storage_backend(Arc::clone(store), url);
        }
        let mut table = builder.build().map_err(|e| self.fail(job, e))?;
        if self.is_empty(&format!("{job}/_delta_log")).await? {
            return Ok(table);
        }
        match table.load().await {
            Ok(()) | Err(DeltaTableError::NotATable(_)) => Ok(table),
            Err(e) => Err(self.fail(job, e)),
        }
    }

    fn fail(&self, job: &str, e: impl std::fmt::Display) -> Error {
        let location = self.url(job).map_or(job.to_string(), |u| u.to_string());
        let message = e.to_string().replace('\n', " ");
        Error::output(location, std::io::Error::other(message))
    }

    /// The last run recorded in the job's table, or `None` for a table not yet created.
    pub async fn last_run(&self, job: &str) -> Result<Option<RunMark>> {
        let table = self.open(job).await?;
        if table.version().is_none() {
            return Ok(None);
        }
        // The newest commits first; a run's maintenance adds at most two of its own, and
        // without a mark among the last hundred the state file's watermark stands.
        let mut history = table.history(Some(100));
        while let Some(commit) = history.next().await {
            let commit = commit.map_err(|e| self.fail(job, e))?;
            if let Some(mark) = commit.info.get(RUN_KEY) {
                return serde_json::from_value(mark.clone())
                    .map(Some)
                    .map_err(|e| self.fail(job, e));
            }
        }
        Ok(None)
    }

    /// One run's commit to one job's table: its files added, the files of the partitions it
    /// replaced removed, its mark in `commitInfo`. Creates the table on its first run.
    pub async fn commit(&self, commit: Commit<'_>, settings: &DeltaConfig) -> Result<u64> {
        let name = &commit.job.name;
        let table = self.open(name).await?;
        let adds: Vec<Action> = commit
            .files
            .iter()
            .map(|f| Action::Add(add_action(name, f)))
            .collect();
        let properties = CommitProperties::default()
            .with_create_checkpoint(false)
            .with_metadata([(
                RUN_KEY.to_string(),
                serde_json::to_value(&commit.mark).map_err(|e| self.fail(name, e))?,
            )]);
        let Some(_) = table.version() else {
            let created = CreateBuilder::new()
                .with_log_store(table.log_store())
                .with_table_name(name.as_str())
                .with_comment(commit.job.source.info().about)
                .with_columns(schema(commit.job.columns()).fields().cloned())
                .with_partition_columns([PARTITION_COLUMN])
                .with_configuration_property(
                    TableProperty::CheckpointInterval,
                    Some(settings.checkpoint_interval.to_string()),
                )
                .with_configuration_property(
                    TableProperty::DeletedFileRetentionDuration,
                    Some(format!("interval {} days", settings.retention_days)),
                )
                .with_actions(adds)
                .with_commit_properties(properties)
                .await
                .map_err(|e| self.fail(name, e))?;
            return Ok(created.version().unwrap_or(0));
        };
        self.check_schema(&table, commit.job)?;
        let replaced: BTreeSet<Option<String>> = commit
            .mark
            .replaced
            .iter()
            .map(|p| partition_value(p))
            .collect();
        let mut actions = adds;
        let snapshot = table.snapshot().map_err(|e| self.fail(name, e))?;
        for file in snapshot.log_data().iter() {
            let value = file
                .partition_values_map()
                .get(PARTITION_COLUMN)
                .cloned()
                .flatten();
            if replaced.contains(&value) {
                actions.push(Action::Remove(file.remove_action(true)));
            }
        }
        let operation = DeltaOperation::Write {
            mode: if replaced.is_empty() {
                SaveMode::Append
            } else {
                SaveMode::Overwrite
            },
            partition_by: Some(vec![PARTITION_COLUMN.to_string()]),
            predicate: replace_where(&commit.mark.replaced),
        };
        super::failpoint("delta-before-log");
        let done = CommitBuilder::from(properties)
            .with_actions(actions)
            .build(Some(snapshot), table.log_store(), operation)
            .await
            .map_err(|e| self.fail(name, e))?;
        Ok(done.version())
    }

    /// A table whose columns are not the job's (another release of the tool wrote it, or the
    /// job's `columns` / `variable_columns` changed) is not appended to with different files.
    fn check_schema(&self, table: &DeltaTable, job: &Job) -> Result<()> {
        let snapshot = table.snapshot().map_err(|e| self.fail(&job.name, e))?;
        let have: Vec<(String, DataType)> = snapshot
            .schema()
            .fields()
            .filter(|f| f.name() != PARTITION_COLUMN)
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        let want: Vec<(String, DataType)> = schema(job.columns())
            .fields()
            .filter(|f| f.name() != PARTITION_COLUMN)
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect();
        if have != want {
            let differs = have
                .iter()
                .zip(&want)
                .find(|(h, w)| h != w)
                .map_or("the number of columns".to_string(), |(h, w)| {
                    format!("column {} ({} there, {} now)", w.0, h.1, w.1)
                });
            return Err(Error::input(format!(
                "job {}: its Delta table has other columns than {} exports now ({differs}); \
                 write to a new job name (or remove the table) to start it again",
                job.name,
                job.source.info().name
            )));
        }
        Ok(())
    }

    /// After the run's commit: a checkpoint every `checkpoint_interval` commits, and the
    /// files removed more than `retention` ago deleted.
    pub async fn tidy(&self, job: &str, version: u64, settings: &DeltaConfig) -> Result<()> {
        let table = self.open(job).await?;
        if version > 0 && version.is_multiple_of(u64::from(settings.checkpoint_interval)) {
            deltalake_core::checkpoints::create_checkpoint(&table, None)
                .await
                .map_err(|e| self.fail(job, e))?;
        }
        let retention = chrono::Duration::days(i64::from(settings.retention_days));
        table
            .vacuum()
            .with_retention_period(retention)
            .with_enforce_retention_duration(false)
            .await
            .map_err(|e| self.fail(job, e))?;
        Ok(())
    }

    /// Before a run writes anything: a Delta job's directory is a Delta table or empty, and
    /// any other job's is not a Delta table.
    pub async fn check_location(&self, job: &Job) -> Result<()> {
        let delta = job.table == super::config::Table::Delta;
        let is_table = self.open(&job.name).await?.version().is_some();
        if delta && !is_table && !self.is_empty(&job.name).await? {
            return Err(Error::input(format!(
                "job {}: {} holds files but is not a Delta table; give the job another name \
                 or empty that directory",
                job.name,
                self.url(&job.name)?
            )));
        }
        if !delta && is_table {
            return Err(Error::input(format!(
                "job {}: {} is a Delta table; set format = \"delta\" (or give the job another name)",
                job.name,
                self.url(&job.name)?
            )));
        }
        Ok(())
    }

    /// Whether the directory `rel` (under the root) is missing or empty.
    async fn is_empty(&self, rel: &str) -> Result<bool> {
        match self {
            Tables::Local(root) => Ok(local_is_empty(&root.join(rel))),
            Tables::Object { store, base } => {
                let prefix = base.path().trim_matches('/');
                let path = object_store::path::Path::from(if prefix.is_empty() {
                    rel.to_string()
                } else {
                    format!("{prefix}/{rel}")
                });
                let mut listing = store.list(Some(&path));
                match listing.next().await {
                    None => Ok(true),
                    Some(Ok(_)) => Ok(false),
                    Some(Err(e)) => Err(self.fail(rel, e)),
                }
            }
        }
    }
}

fn local_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none())
}

/// The Delta schema of a dataset's files: the same names, types and nullability as the Parquet
/// columns (plain profile), each column's description as its comment, and the `date` partition.
pub fn schema(columns: &[Column]) -> StructType {
    let fields = columns.iter().map(|c| {
        StructField::new(c.name, data_type(c.kind), c.nullable).with_metadata([(
            "comment".to_string(),
            MetadataValue::String(c.description()),
        )])
    });
    let partition = StructField::new(PARTITION_COLUMN, DataType::DATE, true).with_metadata([(
        "comment".to_string(),
        MetadataValue::String("The row's local date (the job's partition column)".to_string()),
    )]);
    StructType::try_new(fields.chain([partition])).expect("column names are unique")
}

fn data_type(kind: Kind) -> DataType {
    let list = |item: DataType| DataType::Array(Box::new(ArrayType::new(item, true)));
    match kind {
        Kind::Text | Kind::Uuid | Kind::Json => DataType::STRING,
        Kind::Int32 => DataType::INTEGER,
        Kind::Int64 => DataType::LONG,
        Kind::Float64 => DataType::DOUBLE,
        Kind::Bool => DataType::BOOLEAN,
        Kind::Timestamp => DataType::TIMESTAMP,
        Kind::Int32List => list(DataType::INTEGER),
        Kind::Int64List => list(DataType::LONG),
        Kind::TextList => list(DataType::STRING),
    }
}

/// `date=2026-09-15` → `Some("2026-09-15")`; the NULL partition → `None`.
fn partition_value(partition: &str) -> Option<String> {
    if partition == NULL_PARTITION {
        return None;
    }
    partition
        .strip_prefix(&format!("{PARTITION_COLUMN}="))
        .map(str::to_string)
}

fn add_action(job: &str, file: &FileEntry) -> Add {
    let path = file
        .path
        .strip_prefix(&format!("{job}/"))
        .unwrap_or(&file.path)
        .to_string();
    Add {
        path,
        partition_values: HashMap::from([(
            PARTITION_COLUMN.to_string(),
            partition_value(&file.partition),
        )]),
        size: i64::try_from(file.bytes).unwrap_or(i64::MAX),
        modification_time: Utc::now().timestamp_millis(),
        data_change: true,
        stats: Some(format!("{{\"numRecords\":{}}}", file.rows)),
        tags: None,
        deletion_vector: None,
        base_row_id: None,
        default_row_commit_version: None,
        clustering_provider: None,
    }
}

/// The commit's `replaceWhere`-style predicate, as `commitInfo` shows it.
fn replace_where(replaced: &[String]) -> Option<String> {
    let values: Vec<String> = replaced
        .iter()
        .map(|p| match partition_value(p) {
            Some(day) => format!("'{day}'"),
            None => "NULL".to_string(),
        })
        .collect();
    (!values.is_empty()).then(|| format!("{PARTITION_COLUMN} IN ({})", values.join(", ")))
}
