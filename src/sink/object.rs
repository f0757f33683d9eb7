//! Output to S3-compatible object storage (`-o s3://bucket/key`: AWS S3, MinIO, Ceph, R2…)
//! through the `object_store` crate, with the same guarantee as a local file: nothing is
//! visible at the key until the export is complete.
//!
//! Up to `PART_SIZE` bytes are kept in memory; a smaller file is stored with one PUT at the
//! end. A larger one becomes a multipart upload: parts go up as they fill, at most
//! `PARTS_IN_FLIGHT` at a time (memory stays bounded), and the upload is completed only when
//! the export succeeded. S3 shows no object for an incomplete multipart upload; on failure
//! or a signal the upload is aborted so its parts are not kept (and billed).
//!
//! Settings come from the usual AWS environment variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT` for MinIO and
//! others, `AWS_ALLOW_HTTP=true` for a plain-http endpoint, `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`).

use std::io;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use crate::error::{Error, Result};

/// Bytes buffered before a part is uploaded (S3 parts must be at least 5 MiB but the last).
pub(crate) const PART_SIZE: usize = 8 << 20;
/// Parts uploading at once: enough to overlap the network with encoding, bounded memory.
pub(crate) const PARTS_IN_FLIGHT: usize = 2;

/// Makes ring the process's TLS provider, once: the HTTP clients and sqlx's certificate
/// verifier ask rustls for the process default, and with ring and aws-lc-rs both linked in
/// (the latter by delta-rs) rustls will not choose one itself.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Whether `dest` names an object (`s3://…`) rather than a local path.
pub fn is_object_url(dest: &std::path::Path) -> bool {
    dest.to_str().is_some_and(|s| s.starts_with("s3://"))
}

/// A writer whose bytes become the object at `url` on [`ObjectWriter::complete`].
pub struct ObjectWriter {
    url: String,
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    runtime: tokio::runtime::Handle,
    buffer: Vec<u8>,
    upload: Option<WriteMultipart>,
}

impl ObjectWriter {
    /// Checks the URL and the settings; contacts nothing yet.
    pub fn create(url: &str) -> Result<ObjectWriter> {
        let bad = |why: String| Error::input(format!("invalid output '{url}': {why}"));
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("not s3://".into()))?;
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty() && !k.ends_with('/'))
            .ok_or_else(|| bad("expected s3://bucket/key".into()))?;
        let store = s3_store(bucket, &Default::default()).map_err(|e| bad(e.to_string()))?;
        let path = ObjectPath::parse(key).map_err(|e| bad(e.to_string()))?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| Error::Other(format!("object storage needs the runtime: {e}")))?;
        Ok(ObjectWriter {
            url: url.to_string(),
            store: Arc::new(store),
            path,
            runtime,
            buffer: Vec::new(),
            upload: None,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Makes the object visible: one PUT for a small file, else completes the multipart
    /// upload. Runs on the async side, after the encoder has finished.
    pub async fn complete(mut self) -> Result<()> {
        let buffer = std::mem::take(&mut self.buffer);
        let outcome = match self.upload.take() {
            None => self
                .store
                .put(&self.path, PutPayload::from(buffer))
                .await
                .map(|_| ()),
            Some(mut upload) => {
                upload.write(&buffer);
                upload.finish().await.map(|_| ())
            }
        };
        outcome.map_err(|e| self.error(e))
    }

    fn error(&self, e: object_store::Error) -> Error {
        Error::output(&self.url, io::Error::other(one_line(&e)))
    }

    /// Hands the buffer to the multipart upload (starting it on the first full part) and waits
    /// while too many parts are in flight. Runs on the encoder's blocking thread.
    fn send_part(&mut self) -> io::Result<()> {
        let runtime = self.runtime.clone();
        if self.upload.is_none() {
            let upload = runtime
                .block_on(self.store.put_multipart(&self.path))
                .map_err(|e| io::Error::other(one_line(&e)))?;
            self.upload = Some(WriteMultipart::new_with_chunk_size(upload, PART_SIZE));
        }
        let upload = self.upload.as_mut().expect("started above");
        // WriteMultipart spawns each part's upload on the runtime.
        let _context = runtime.enter();
        upload.write(&self.buffer);
        self.buffer.clear();
        runtime
            .block_on(upload.wait_for_capacity(PARTS_IN_FLIGHT))
            .map_err(|e| io::Error::other(one_line(&e)))
    }
}

impl io::Write for ObjectWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= PART_SIZE {
            self.send_part()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for ObjectWriter {
    /// An upload never completed is aborted, so S3 drops its parts.
    fn drop(&mut self) {
        abort_uploads(self.upload.take().into_iter().collect());
    }
}

/// `[storage]`: how to reach an `s3://` root, over the AWS environment variables (which
/// also carry the credentials, or the instance's role does).
#[derive(serde::Deserialize, Default, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// S3-compatible endpoint (MinIO, Ceph, R2…), e.g. `https://minio.example:9000`.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Allow a plain-http endpoint.
    pub allow_http: Option<bool>,
    /// `bucket.endpoint/key` addressing instead of `endpoint/bucket/key` (path style).
    pub virtual_hosted_style: Option<bool>,
}

/// The bucket's store, configured from the AWS environment variables, then `settings`.
pub(crate) fn s3_store(
    bucket: &str,
    settings: &StorageConfig,
) -> object_store::Result<object_store::aws::AmazonS3> {
    install_tls_provider();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = &settings.endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(region) = &settings.region {
        builder = builder.with_region(region);
    }
    if let Some(allow) = settings.allow_http {
        builder = builder.with_allow_http(allow);
    }
    if let Some(virtual_hosted) = settings.virtual_hosted_style {
        builder = builder.with_virtual_hosted_style_request(virtual_hosted);
    }
    builder.build()
}

/// Aborts multipart uploads that will not be completed (a failure, a signal). Called from
/// Drop, which may run on an async worker, so the aborts run on their own thread.
pub(crate) fn abort_uploads(uploads: Vec<WriteMultipart>) {
    if uploads.is_empty() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let _ = std::thread::spawn(move || {
        runtime.block_on(async move {
            for upload in uploads {
                let _ = upload.abort().await;
            }
        })
    })
    .join();
}

/// object_store's message on one line, never with credentials (it prints none).
pub(crate) fn one_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
