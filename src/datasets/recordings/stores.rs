//! Where a recording's bytes are, and reading them: a local store's directory on this host, or
//! the S3 bucket of its storage profile, opened with the profile's own settings and
//! credentials from `storage.file_backend_profiles` — the way Webitel's storage service opens
//! it, so an archive reads exactly the object Webitel would stream.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::RecordingRow;
use crate::error::{Error, Result};

/// One storage profile as the export reads it.
pub struct Profile {
    pub id: i64,
    pub name: String,
    /// Days after upload the storage service deletes a file (0: never).
    pub expire_day: i32,
    pub disabled: bool,
    store: Store,
}

enum Store {
    Local(Option<PathBuf>),
    S3(Arc<dyn ObjectStore>),
    /// Why files of this profile cannot be read here.
    Unreadable(String),
}

/// Where one file's bytes are read from.
pub enum Source {
    File(PathBuf),
    Object(Arc<dyn ObjectStore>, ObjectPath),
}

/// Every storage profile, ready to read files from.
pub struct Stores {
    profiles: HashMap<i64, Profile>,
    /// The local store's root on this host, replacing profile directories (and the only way
    /// to reach the default store, whose directory is configured outside the database).
    storage_root: Option<PathBuf>,
}

impl Stores {
    pub async fn load(db: &mut PgConnection, storage_root: Option<PathBuf>) -> Result<Stores> {
        let rows = sqlx::query_file!("queries/storage_profiles.sql")
            .fetch_all(db)
            .await
            .map_err(|e| Error::database("reading storage profiles", e))?;
        let profiles = rows
            .into_iter()
            .map(|p| {
                let store = match p.kind.as_str() {
                    "local" => Store::Local(p.directory.map(PathBuf::from)),
                    "s3" => s3_store(&S3Settings {
                        bucket: p.bucket.unwrap_or_default(),
                        endpoint: p.endpoint.unwrap_or_default(),
                        region: p.region.unwrap_or_default(),
                        key_id: p.key_id.unwrap_or_default(),
                        access_key: p.access_key.unwrap_or_default(),
                        force_path_style: p.force_path_style,
                    })
                    .map_or_else(
                        |why| Store::Unreadable(format!("profile {} ({}): {why}", p.id, p.name)),
                        Store::S3,
                    ),
                    other => Store::Unreadable(format!(
                        "profile {} ({}) is a {other} store, which the export cannot read",
                        p.id, p.name
                    )),
                };
                let profile = Profile {
                    id: p.id,
                    name: p.name,
                    expire_day: p.expire_day,
                    disabled: p.disabled,
                    store,
                };
                (profile.id, profile)
            })
            .collect();
        Ok(Stores {
            profiles,
            storage_root,
        })
    }

    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// Where `row`'s bytes are, or why they cannot be read here.
    pub fn source(&self, row: &RecordingRow) -> std::result::Result<Source, String> {
        if row.encrypted {
            return Err(
                "stored encrypted (properties.encrypted): its bytes are readable only \
                        with the storage service's key"
                    .into(),
            );
        }
        let Some(id) = row.profile_id else {
            return match &self.storage_root {
                Some(root) => Ok(Source::File(root.join(&row.storage_path))),
                None => Err(
                    "in the storage service's default store, which is configured \
                             outside the database: set storage_root to its directory"
                        .into(),
                ),
            };
        };
        let profile = self
            .profiles
            .get(&i64::from(id))
            .ok_or_else(|| format!("storage profile {id} does not exist"))?;
        match &profile.store {
            Store::Local(directory) => match (&self.storage_root, directory) {
                (Some(root), _) => Ok(Source::File(root.join(&row.storage_path))),
                (None, Some(dir)) => Ok(Source::File(Path::new(dir).join(&row.storage_path))),
                (None, None) => Err(format!(
                    "profile {id} ({}) has no directory: set storage_root",
                    profile.name
                )),
            },
            Store::S3(store) => Ok(Source::Object(
                Arc::clone(store),
                ObjectPath::from(row.storage_path.as_str()),
            )),
            Store::Unreadable(why) => Err(why.clone()),
        }
    }
}

/// Copies the source's bytes into `out`; returns their count and hex sha256.
pub async fn pull(
    source: &Source,
    out: &mut impl Write,
) -> std::result::Result<(u64, String), String> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut take = |chunk: &[u8]| -> std::io::Result<()> {
        hasher.update(chunk);
        size += chunk.len() as u64;
        out.write_all(chunk)
    };
    match source {
        Source::File(path) => {
            let mut file =
                std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut buf = vec![0u8; 256 * 1024];
            tokio::task::block_in_place(|| {
                loop {
                    let n = std::io::Read::read(&mut file, &mut buf)?;
                    if n == 0 {
                        return Ok(());
                    }
                    take(&buf[..n])?;
                }
            })
            .map_err(|e: std::io::Error| format!("{}: {e}", path.display()))?;
        }
        Source::Object(store, key) => {
            let what = |e: &dyn std::fmt::Display| {
                format!("object {key}: {}", crate::sink::object::one_line(&e))
            };
            let found = store.get(key).await.map_err(|e| what(&e))?;
            let mut chunks = found.into_stream();
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(|e| what(&e))?;
                tokio::task::block_in_place(|| take(&chunk)).map_err(|e| what(&e))?;
            }
        }
    }
    let digest = hasher.finalize();
    Ok((size, digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// An S3 profile's `properties`.
struct S3Settings {
    bucket: String,
    endpoint: String,
    region: String,
    key_id: String,
    access_key: String,
    force_path_style: bool,
}

/// The bucket as Webitel's storage service addresses it: `amazonaws.com` (or no endpoint) is
/// AWS in `region`; with a region, other endpoints are `<region>.<endpoint>` with the bucket in
/// the host (DigitalOcean Spaces and the like), unless path style is forced (always for Google
/// Cloud Storage and Selectel); otherwise the endpoint as given, path style. An endpoint
/// without a scheme is https.
fn s3_store(s: &S3Settings) -> std::result::Result<Arc<dyn ObjectStore>, String> {
    if s.bucket.is_empty() {
        return Err("no bucket_name in its properties".into());
    }
    crate::sink::object::install_tls_provider();
    let region = if s.region.is_empty() {
        "us-east-1".to_string()
    } else {
        s.region.to_lowercase()
    };
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&s.bucket)
        .with_region(&region)
        .with_access_key_id(&s.key_id)
        .with_secret_access_key(&s.access_key);
    let (scheme, host) = match s.endpoint.split_once("://") {
        Some((scheme, host)) => (scheme, host.trim_end_matches('/')),
        None => ("https", s.endpoint.trim_end_matches('/')),
    };
    let path_style =
        s.force_path_style || host == "storage.googleapis.com" || host.ends_with("selcdn.ru");
    if host.is_empty() || host == "amazonaws.com" {
        builder = builder.with_virtual_hosted_style_request(true);
    } else if !s.region.is_empty() && !path_style {
        // object_store wants the bucket in a virtual-hosted endpoint.
        builder = builder
            .with_endpoint(format!("{scheme}://{}.{region}.{host}", s.bucket))
            .with_virtual_hosted_style_request(true);
    } else {
        builder = builder.with_endpoint(format!("{scheme}://{host}"));
    }
    builder = builder.with_allow_http(scheme == "http");
    builder
        .build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| crate::sink::object::one_line(&e))
}
