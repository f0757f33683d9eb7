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

/// How the files of one storage profile are read.
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
    profiles: HashMap<i64, (String, Store)>,
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
                (p.id, (p.name, store))
            })
            .collect();
        Ok(Stores {
            profiles,
            storage_root,
        })
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
        let (name, store) = self
            .profiles
            .get(&i64::from(id))
            .ok_or_else(|| format!("storage profile {id} does not exist"))?;
        match store {
            Store::Local(directory) => match (&self.storage_root, directory) {
                (Some(root), _) => Ok(Source::File(root.join(&row.storage_path))),
                (None, Some(dir)) => Ok(Source::File(Path::new(dir).join(&row.storage_path))),
                (None, None) => Err(format!(
                    "profile {id} ({name}) has no directory: set storage_root"
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

impl Source {
    /// The file or object, for messages.
    pub fn describe(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Object(_, key) => format!("object {key}"),
        }
    }
}

/// Streams `input` into `output`; returns the byte count and the hex sha256.
pub fn hash_file(
    input: &mut impl std::io::Read,
    output: &mut impl Write,
) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies the source's bytes into `out`; returns their count and hex sha256.
pub async fn pull(
    source: &Source,
    out: &mut impl Write,
) -> std::result::Result<(u64, String), String> {
    match source {
        Source::File(path) => {
            let mut file =
                std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            tokio::task::block_in_place(|| hash_file(&mut file, out))
                .map_err(|e| format!("{}: {e}", path.display()))
        }
        Source::Object(store, key) => {
            let what = |e: &dyn std::fmt::Display| {
                format!("object {key}: {}", crate::sink::object::one_line(&e))
            };
            let found = store.get(key).await.map_err(|e| what(&e))?;
            let mut chunks = found.into_stream();
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(|e| what(&e))?;
                hasher.update(&chunk);
                size += chunk.len() as u64;
                tokio::task::block_in_place(|| out.write_all(&chunk)).map_err(|e| what(&e))?;
            }
            Ok((size, hex(&hasher.finalize())))
        }
    }
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

/// How to reach a bucket: object_store's endpoint (`None`: AWS by region) and style.
#[derive(Debug, PartialEq)]
struct Addressing {
    endpoint: Option<String>,
    virtual_hosted: bool,
    allow_http: bool,
    region: String,
}

/// The bucket as Webitel's storage service addresses it: `amazonaws.com` (or no endpoint) is
/// AWS in `region`; with a region, other endpoints are `<region>.<endpoint>` with the bucket in
/// the host (DigitalOcean Spaces and the like), unless path style is forced (always for Google
/// Cloud Storage and Selectel); otherwise the endpoint as given, path style. An endpoint
/// without a scheme is https.
fn addressing(s: &S3Settings) -> Addressing {
    let region = if s.region.is_empty() {
        "us-east-1".to_string()
    } else {
        s.region.to_lowercase()
    };
    let (scheme, host) = match s.endpoint.split_once("://") {
        Some((scheme, host)) => (scheme, host.trim_end_matches('/')),
        None => ("https", s.endpoint.trim_end_matches('/')),
    };
    let path_style =
        s.force_path_style || host == "storage.googleapis.com" || host.ends_with("selcdn.ru");
    let (endpoint, virtual_hosted) = if host.is_empty() || host == "amazonaws.com" {
        (None, true)
    } else if !s.region.is_empty() && !path_style {
        // object_store wants the bucket in a virtual-hosted endpoint.
        let host = format!("{}.{region}.{host}", s.bucket);
        (Some(format!("{scheme}://{host}")), true)
    } else {
        (Some(format!("{scheme}://{host}")), false)
    };
    Addressing {
        endpoint,
        virtual_hosted,
        allow_http: scheme == "http",
        region,
    }
}

fn s3_store(s: &S3Settings) -> std::result::Result<Arc<dyn ObjectStore>, String> {
    if s.bucket.is_empty() {
        return Err("no bucket_name in its properties".into());
    }
    crate::sink::object::install_tls_provider();
    let how = addressing(s);
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&s.bucket)
        .with_region(&how.region)
        .with_access_key_id(&s.key_id)
        .with_secret_access_key(&s.access_key)
        .with_virtual_hosted_style_request(how.virtual_hosted)
        .with_allow_http(how.allow_http);
    if let Some(endpoint) = how.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    builder
        .build()
        .map(|s| Arc::new(s) as Arc<dyn ObjectStore>)
        .map_err(|e| crate::sink::object::one_line(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(endpoint: &str, region: &str, force_path_style: bool) -> S3Settings {
        S3Settings {
            bucket: "rec".into(),
            endpoint: endpoint.into(),
            region: region.into(),
            key_id: String::new(),
            access_key: String::new(),
            force_path_style,
        }
    }

    #[test]
    fn buckets_are_addressed_as_webitel_addresses_them() {
        let aws = addressing(&settings("amazonaws.com", "EU-Central-1", false));
        assert_eq!(aws.endpoint, None);
        assert!(aws.virtual_hosted);
        assert_eq!(aws.region, "eu-central-1");
        let spaces = addressing(&settings("digitaloceanspaces.com", "fra1", false));
        assert_eq!(
            spaces.endpoint.as_deref(),
            Some("https://rec.fra1.digitaloceanspaces.com")
        );
        assert!(spaces.virtual_hosted);
        let minio = addressing(&settings("http://minio:9000", "us-east-1", true));
        assert_eq!(minio.endpoint.as_deref(), Some("http://minio:9000"));
        assert!(!minio.virtual_hosted && minio.allow_http);
        let gcs = addressing(&settings("storage.googleapis.com", "eu", false));
        assert_eq!(
            gcs.endpoint.as_deref(),
            Some("https://storage.googleapis.com")
        );
        assert!(!gcs.virtual_hosted && !gcs.allow_http);
        let no_region = addressing(&settings("s3.example.org", "", false));
        assert_eq!(
            no_region.endpoint.as_deref(),
            Some("https://s3.example.org")
        );
        assert!(!no_region.virtual_hosted);
    }
}
