//! A `run` published to object storage (`root = "s3://bucket/prefix"`).
//!
//! The run writes its files into the local staging area as usual. The commit then uploads them
//! in place of the renames, in an order that keeps a failed run invisible:
//! 1. every file larger than one part goes up as a multipart upload, left uncompleted
//!    (S3 shows nothing for it);
//! 2. only when all parts are up are the uploads completed and the small files PUT;
//! 3. the state is saved locally (the commit point), then `_runs/<run>.json`, the older parts
//!    of full jobs are deleted and `_SUCCESS` is written in each partition.
//!
//! A failure in 1 aborts every upload. A failure or a signal in 2 leaves the local plan, so
//! the next run deletes the objects it lists, as it removes a local run's files.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use crate::error::{Error, Result};
use crate::job::config::StorageConfig;
use crate::sink::object::{PART_SIZE, PARTS_IN_FLIGHT, abort_uploads, one_line, s3_store};

/// The run lock's key under the root.
const LOCK: &str = "_state/lock";

/// A held object-storage run lock, released when dropped: at the run's end, on a failure, and
/// when SIGINT or SIGTERM drops the run (a killed run's lock is taken over by the next run of
/// the same host and work_dir).
pub struct ObjectLock {
    store: Arc<dyn ObjectStore>,
    key: ObjectPath,
}

impl Drop for ObjectLock {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, key) = (Arc::clone(&self.store), self.key.clone());
        // Drop may run on an async worker: the delete runs on its own thread.
        let _ = std::thread::spawn(move || {
            runtime.block_on(async move {
                let _ = store.delete(&key).await;
            })
        })
        .join();
    }
}

/// Who holds an object-storage root's run lock.
#[derive(serde::Serialize, serde::Deserialize)]
struct LockHolder {
    host: String,
    work_dir: String,
    pid: u32,
    since: String,
}

impl LockHolder {
    fn ours(work_dir: &Path) -> LockHolder {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        let work_dir = std::path::absolute(work_dir).unwrap_or_else(|_| work_dir.to_path_buf());
        LockHolder {
            host,
            work_dir: work_dir.display().to_string(),
            pid: std::process::id(),
            since: chrono::Utc::now().to_rfc3339(),
        }
    }
}

/// Where a run's files go in object storage.
pub struct ObjectRoot {
    url: String,
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl ObjectRoot {
    /// `s3://bucket/prefix`, with settings from the AWS environment variables.
    pub fn parse(url: &str, settings: &StorageConfig) -> Result<ObjectRoot> {
        let bad = |why: &str| Error::input(format!("invalid root '{url}': {why}"));
        let rest = url.strip_prefix("s3://").ok_or_else(|| bad("not s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("expected s3://bucket/prefix"));
        }
        let store = s3_store(bucket, settings).map_err(|e| bad(&e.to_string()))?;
        Ok(ObjectRoot {
            url: url.trim_end_matches('/').to_string(),
            store: Arc::new(store),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    /// The Delta tables of the jobs under this root, through the same store.
    pub fn tables(&self) -> Result<super::delta::Tables> {
        let base = url::Url::parse(&format!("{}/", self.url))
            .map_err(|e| Error::input(format!("invalid root '{}': {e}", self.url)))?;
        Ok(super::delta::Tables::Object {
            store: Arc::clone(&self.store),
            base,
        })
    }

    /// Takes the root's run lock, `_state/lock`, created only where none exists (a conditional
    /// PUT), so two hosts cannot publish into one root at once. A lock left by a run of this
    /// host and `work_dir` that died (its local lock, held by us now, proves it is not running)
    /// is taken over; any other is refused with its holder named.
    pub async fn lock(&self, work_dir: &Path) -> Result<ObjectLock> {
        let key = self.key(LOCK);
        let holder = LockHolder::ours(work_dir);
        let body = serde_json::to_vec(&holder).map_err(|e| self.error(LOCK, e))?;
        let create = object_store::PutOptions {
            mode: object_store::PutMode::Create,
            ..Default::default()
        };
        for _ in 0..2 {
            match self
                .store
                .put_opts(&key, body.clone().into(), create.clone())
                .await
            {
                Ok(_) => {
                    return Ok(ObjectLock {
                        store: Arc::clone(&self.store),
                        key,
                    });
                }
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(self.error(LOCK, e)),
            }
            let found = self
                .store
                .get(&key)
                .await
                .map_err(|e| self.error(LOCK, e))?;
            let bytes = found.bytes().await.map_err(|e| self.error(LOCK, e))?;
            let theirs: Option<LockHolder> = serde_json::from_slice(&bytes).ok();
            match theirs {
                Some(t) if t.host == holder.host && t.work_dir == holder.work_dir => {
                    // Ours, left by a killed run: remove it and create ours.
                    self.store
                        .delete(&key)
                        .await
                        .map_err(|e| self.error(LOCK, e))?;
                }
                other => {
                    let who = other.map_or("an unreadable lock".to_string(), |t| {
                        format!(
                            "host {} (work_dir {}) since {}",
                            t.host, t.work_dir, t.since
                        )
                    });
                    return Err(Error::input(format!(
                        "another run is publishing to {}: {}/{LOCK} is held by {who}; if no run \
                         is active there, delete that object",
                        self.url, self.url
                    )));
                }
            }
        }
        Err(Error::input(format!(
            "could not take {}/{LOCK}: it keeps reappearing",
            self.url
        )))
    }

    fn key(&self, rel: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(rel)
        } else {
            ObjectPath::from(format!("{}/{rel}", self.prefix))
        }
    }

    fn error(&self, rel: &str, e: impl std::fmt::Display) -> Error {
        Error::output(
            format!("{}/{rel}", self.url),
            std::io::Error::other(one_line(&e)),
        )
    }

    /// Steps 1 and 2: every staged file uploaded under its relative path, none visible until
    /// all are up.
    pub async fn upload_all(&self, staging: &Path, files: &[String]) -> Result<()> {
        let mut uploads = OpenUploads::default();
        let mut small = Vec::new();
        for rel in files {
            let path = staging.join(rel);
            let size = std::fs::metadata(&path)
                .map_err(|e| Error::output(&path, e))?
                .len();
            if size <= PART_SIZE as u64 {
                small.push(rel);
                continue;
            }
            let upload = self
                .store
                .put_multipart(&self.key(rel))
                .await
                .map_err(|e| self.error(rel, e))?;
            uploads
                .0
                .push(WriteMultipart::new_with_chunk_size(upload, PART_SIZE));
            let writer = uploads.0.last_mut().expect("pushed above");
            let mut file = std::fs::File::open(&path).map_err(|e| Error::output(&path, e))?;
            let mut chunk = vec![0u8; PART_SIZE];
            loop {
                let n = read_up_to(&mut file, &mut chunk).map_err(|e| Error::output(&path, e))?;
                if n == 0 {
                    break;
                }
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| self.error(rel, e))?;
                writer.write(&chunk[..n]);
            }
        }
        // Every part is up: make the files visible.
        while let Some(writer) = uploads.0.pop() {
            writer
                .finish()
                .await
                .map_err(|e| self.error("(upload)", e))?;
        }
        for rel in small {
            let path = staging.join(rel);
            let bytes = std::fs::read(&path).map_err(|e| Error::output(&path, e))?;
            self.put(rel, bytes).await?;
        }
        Ok(())
    }

    pub async fn put(&self, rel: &str, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(&self.key(rel), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| self.error(rel, e))
    }

    /// The size of the object at `rel`, `None` when there is none.
    pub async fn size_of(&self, rel: &str) -> Result<Option<u64>> {
        match self.store.head(&self.key(rel)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(rel, e)),
        }
    }

    /// Deletes the objects of an uncommitted run (missing ones are fine).
    pub async fn delete_all(&self, files: &[String]) -> Result<()> {
        for rel in files {
            match self.store.delete(&self.key(rel)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.error(rel, e)),
            }
        }
        Ok(())
    }

    /// Deletes `part-*` objects of other runs under a full job's partition.
    pub async fn remove_older_parts(&self, partition: &str, run_id: &str) -> Result<()> {
        use futures_util::TryStreamExt;
        let dir = self.key(partition);
        let listed: Vec<_> = self
            .store
            .list(Some(&dir))
            .try_collect()
            .await
            .map_err(|e| self.error(partition, e))?;
        let ours = format!("part-{run_id}-");
        for object in listed {
            let name = object.location.filename().unwrap_or_default();
            if name.starts_with("part-") && !name.starts_with(&ours) {
                self.store
                    .delete(&object.location)
                    .await
                    .map_err(|e| self.error(partition, e))?;
            }
        }
        Ok(())
    }
}

/// Multipart uploads not completed yet; dropping them (a failure, a signal) aborts them, so
/// the storage keeps no parts.
#[derive(Default)]
struct OpenUploads(Vec<WriteMultipart>);

impl Drop for OpenUploads {
    fn drop(&mut self) {
        abort_uploads(std::mem::take(&mut self.0));
    }
}

/// Fills `buf` as far as the file allows; 0 at the end.
fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
