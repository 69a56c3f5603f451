//! [`ObjectTarget`]: tier-2 storage — a local directory, or a cloud store on the `object_store`
//! crate.
//!
//! Objects are never overwritten: every write is create-if-absent (`AlreadyExists` otherwise).
//! `file:///srv/tier2/` is a local directory (or a mounted SMB/NFS share), written by this crate
//! itself so that objects are private (files 0600, directories 0700, created exclusively and
//! renamed into place with `RENAME_NOREPLACE`); `s3://bucket/prefix/`
//! any S3-compatible endpoint (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ALLOW_HTTP` from the environment), `az://container/prefix/` Azure Blob
//! (`AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`, `AZURE_STORAGE_ENDPOINT`,
//! `AZURE_ALLOW_HTTP`, …; `AZURE_STORAGE_USE_EMULATOR=true` selects the Azurite emulator with its
//! well-known account, at `AZURITE_BLOB_STORAGE_URL` or `http://127.0.0.1:10000`). Both cloud
//! targets are tested against real servers on loopback (moto, Azurite). Small files go up in one
//! conditional put (`If-None-Match: *`; on S3 conditional puts are switched on unless
//! `AWS_CONDITIONAL_PUT` says otherwise), large ones in a multipart upload after a check that the
//! key is free (`object_store` 0.14 completes multipart uploads unconditionally; keys are unique
//! per incarnation, so the check is the backstop's backstop); either way an object is visible
//! only once complete, and the bytes are hashed as they stream.

use crate::hash::Sha256Sink;
use crate::local::LocalDir;
use alto_core::driver::{LIST_PAGE, ObjectInfo, ObjectPage, TierTarget};
use alto_core::path::object_key;
use alto_core::{Error, ErrorKind, Result};
use async_trait::async_trait;
use futures::TryStreamExt;
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::{Path as ObjPath, PathPart};
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, WriteMultipart};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Files up to this size are uploaded in one request.
const SINGLE_PUT_MAX: u64 = 8 << 20;
/// Part size of multipart uploads.
const PART_SIZE: usize = 8 << 20;

/// A tier target.
#[derive(Debug, Clone)]
pub struct ObjectTarget {
    uri: String,
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Local(Arc<LocalDir>),
    Store {
        store: Arc<dyn ObjectStore>,
        /// The same store's stateless paged listing (S3, Azure Blob); `None` for stores given to
        /// [`ObjectTarget::with_store`], listed from an offset instead.
        paged: Option<Paged>,
        prefix: ObjPath,
    },
}

/// A store's paged listing.
#[derive(Clone)]
struct Paged(Arc<dyn PaginatedListStore>);

impl std::fmt::Debug for Paged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PaginatedListStore")
    }
}

fn map_err(context: &str, e: object_store::Error) -> Error {
    let kind = match &e {
        object_store::Error::NotFound { .. } => ErrorKind::NotFound,
        object_store::Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
        object_store::Error::NotSupported { .. } | object_store::Error::NotImplemented { .. } => {
            ErrorKind::Unsupported
        }
        _ => ErrorKind::Backend,
    };
    let retryable = kind == ErrorKind::Backend;
    Error::new(kind, format!("{context}: {e}")).retryable(retryable)
}

/// Undo the percent-encoding `PathPart` applies to characters object stores dislike, so listed
/// keys read like the keys that were stored.
fn percent_decode(part: &str) -> String {
    let b = part.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| part.to_owned())
}

fn obj_path(parts: &str) -> ObjPath {
    ObjPath::from_iter(
        parts
            .split('/')
            .filter(|s| !s.is_empty())
            .map(PathPart::from),
    )
}

impl ObjectTarget {
    /// Open the target at `uri` (`file://`, `s3://`, `az://`). A local directory is created if
    /// it does not exist; cloud credentials and endpoints come from the environment.
    pub fn open(uri: &str) -> Result<Self> {
        Self::open_with(uri, &[])
    }

    /// [`open`](Self::open) with explicit settings on top of the environment, named like the
    /// environment variables (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, `AZURE_STORAGE_ACCOUNT_NAME`, …,
    /// and the client's `AWS_TIMEOUT`/`AZURE_TIMEOUT`). `ALTO_MAX_RETRIES` and
    /// `ALTO_RETRY_TIMEOUT_SECS` bound how long the client retries a failed request itself before
    /// the worker sees the failure (and retries the file, then the job, with backoff).
    pub fn open_with(uri: &str, options: &[(&str, String)]) -> Result<Self> {
        let bad = |why: &str| Error::invalid_input(format!("bad tier target {uri:?}: {why}"));
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| bad("expected file://, s3:// or az://"))?;
        let (store, paged, prefix): (Arc<dyn ObjectStore>, Arc<dyn PaginatedListStore>, ObjPath) =
            match scheme {
                "file" => {
                    if !rest.starts_with('/') {
                        return Err(bad(
                            "a file:// target needs an absolute path (file:///srv/tier2/)",
                        ));
                    }
                    if rest.split('/').any(|s| s == "..") {
                        return Err(bad("`..` is not allowed in a target"));
                    }
                    return Ok(ObjectTarget {
                        uri: uri.to_owned(),
                        backend: Backend::Local(Arc::new(LocalDir::open(rest)?)),
                    });
                }
                "s3" | "az" => {
                    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                    if bucket.is_empty() {
                        return Err(bad("no bucket or container"));
                    }
                    let unknown =
                        |k: &str| bad(&format!("unknown setting {k:?} for a {scheme}:// target"));
                    // Alto's own settings: how long the client itself retries a failed request
                    // before the worker sees the failure (`object_store` defaults: 10 retries, up
                    // to 3 minutes).
                    let mut retry = object_store::RetryConfig::default();
                    let mut rest_opts = Vec::new();
                    for (k, v) in options {
                        match k.to_ascii_lowercase().as_str() {
                            "alto_max_retries" => {
                                retry.max_retries = v.parse().map_err(|_| unknown(k))?;
                            }
                            "alto_retry_timeout_secs" => {
                                retry.retry_timeout = std::time::Duration::from_secs_f64(
                                    v.parse().map_err(|_| unknown(k))?,
                                );
                            }
                            _ => rest_opts.push((*k, v.clone())),
                        }
                    }
                    let options = rest_opts.as_slice();
                    let (store, paged): (Arc<dyn ObjectStore>, Arc<dyn PaginatedListStore>) =
                        if scheme == "s3" {
                            let mut b = object_store::aws::AmazonS3Builder::from_env()
                                .with_retry(retry.clone());
                            // Create-if-absent needs S3's conditional puts (`If-None-Match: *`).
                            if std::env::var_os("AWS_CONDITIONAL_PUT").is_none() {
                                b = b.with_conditional_put(
                                    object_store::aws::S3ConditionalPut::ETagMatch,
                                );
                            }
                            for (k, v) in options {
                                let key = k.to_ascii_lowercase().parse().map_err(|_| unknown(k))?;
                                b = b.with_config(key, v);
                            }
                            let s3 = Arc::new(
                                b.with_bucket_name(bucket)
                                    .build()
                                    .map_err(|e| map_err(uri, e))?,
                            );
                            (s3.clone(), s3)
                        } else {
                            let mut b = object_store::azure::MicrosoftAzureBuilder::from_env()
                                .with_retry(retry.clone());
                            for (k, v) in options {
                                let key = k.to_ascii_lowercase().parse().map_err(|_| unknown(k))?;
                                b = b.with_config(key, v);
                            }
                            let az = Arc::new(
                                b.with_container_name(bucket)
                                    .build()
                                    .map_err(|e| map_err(uri, e))?,
                            );
                            (az.clone(), az)
                        };
                    (store, paged, obj_path(prefix))
                }
                other => {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        format!(
                            "tier target scheme {other:?} in {uri:?}: use file://, s3:// or az://"
                        ),
                    ));
                }
            };
        Ok(ObjectTarget {
            uri: uri.to_owned(),
            backend: Backend::Store {
                store,
                paged: Some(Paged(paged)),
                prefix,
            },
        })
    }

    /// A target over any `object_store` implementation (tests, custom backends). It must support
    /// `PutMode::Create`.
    pub fn with_store(uri: &str, store: Arc<dyn ObjectStore>) -> Self {
        ObjectTarget {
            uri: uri.to_owned(),
            backend: Backend::Store {
                store,
                paged: None,
                prefix: ObjPath::default(),
            },
        }
    }

    /// Upload the local file at `local` to a new object at `key` (tools and tests; workers hand
    /// [`TierTarget::put`] the handle they checked).
    pub async fn put_file(&self, key: &str, local: &std::path::Path) -> Result<ObjectInfo> {
        use std::os::unix::fs::OpenOptionsExt;
        // Never through a symlink, even here (tools run as root too).
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(local)
            .map_err(|e| Error::from(e).prefixed(&format!("cannot open {}", local.display())))?;
        self.put(key, f).await
    }

    /// Fetch `key` into a new private (0600) local file at `local`, replacing one that is there
    /// (tools and tests).
    pub async fn get_file(&self, key: &str, local: &std::path::Path) -> Result<ObjectInfo> {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(local)
            .map_err(|e| Error::from(e).prefixed(&format!("cannot create {}", local.display())))?;
        self.get(key, f).await
    }
}

/// The longest object key S3, Azure Blob Storage and Google Cloud Storage accept: 1,024 bytes
/// (Azure counts characters, never more than bytes).
const MAX_CLOUD_KEY_BYTES: usize = 1_024;

/// Where `key` lives under `prefix`. A key longer than a cloud store accepts (a deep path's: paths
/// may be 32 KiB long, path keys 2,600 bytes) is refused here, as `InvalidInput` for that one
/// file, rather than sent and answered with an error a worker would retry for the whole job.
fn location(prefix: &ObjPath, key: &str) -> Result<ObjPath> {
    let key = object_key(key)?;
    let loc: ObjPath = prefix.parts().chain(obj_path(&key).parts()).collect();
    let n = loc.as_ref().len();
    if n > MAX_CLOUD_KEY_BYTES {
        let start: String = key.chars().take(80).collect();
        return Err(Error::invalid_input(format!(
            "object key {start:?}… is {n} bytes long with the target's prefix: cloud object \
             stores (S3, Azure Blob, GCS) accept at most {MAX_CLOUD_KEY_BYTES}; the file is \
             left on its share (a file:// target holds such paths)"
        )));
    }
    Ok(loc)
}

#[async_trait]
impl TierTarget for ObjectTarget {
    fn uri(&self) -> &str {
        &self.uri
    }

    async fn put(&self, key: &str, file: std::fs::File) -> Result<ObjectInfo> {
        let (store, prefix) = match &self.backend {
            Backend::Local(d) => return d.put(key, file).await,
            Backend::Store { store, prefix, .. } => (store, prefix),
        };
        let loc = location(prefix, key)?;
        let ctx = || format!("upload to {} as {key:?}", self.uri);
        let mut f = tokio::fs::File::from_std(file);
        f.seek(std::io::SeekFrom::Start(0)).await?;
        let len = f.metadata().await?.len();
        let mut sink = Sha256Sink::default();
        let etag;
        if len <= SINGLE_PUT_MAX {
            let mut buf = Vec::with_capacity(len as usize);
            f.read_to_end(&mut buf).await?;
            sink.update(&buf);
            let opts = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            etag = store
                .put_opts(&loc, PutPayload::from(buf), opts)
                .await
                .map_err(|e| map_err(&ctx(), e))?
                .e_tag;
        } else {
            // Multipart completion is unconditional in object_store 0.14: check the key first.
            match store.head(&loc).await {
                Ok(_) => {
                    return Err(Error::new(
                        ErrorKind::AlreadyExists,
                        format!("{}: an object is already there", ctx()),
                    ));
                }
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(map_err(&ctx(), e)),
            }
            let upload = store
                .put_multipart(&loc)
                .await
                .map_err(|e| map_err(&ctx(), e))?;
            let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            let mut buf = vec![0u8; PART_SIZE];
            loop {
                let n = f.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                sink.update(&buf[..n]);
                w.wait_for_capacity(4)
                    .await
                    .map_err(|e| map_err(&ctx(), e))?;
                w.write(&buf[..n]);
            }
            etag = w.finish().await.map_err(|e| map_err(&ctx(), e))?.e_tag;
        }
        let (size, sha) = sink.finish();
        Ok(ObjectInfo {
            key: key.to_owned(),
            size,
            sha256: Some(sha),
            etag,
            modified: None,
        })
    }

    async fn verify(&self, key: &str) -> Result<ObjectInfo> {
        let (store, prefix) = match &self.backend {
            Backend::Local(d) => return d.verify(key).await,
            Backend::Store { store, prefix, .. } => (store, prefix),
        };
        let loc = location(prefix, key)?;
        let ctx = || format!("verify {key:?} in {}", self.uri);
        let got = store.get(&loc).await.map_err(|e| map_err(&ctx(), e))?;
        let etag = got.meta.e_tag.clone();
        let mut stream = got.into_stream();
        let mut sink = Sha256Sink::default();
        while let Some(chunk) = stream.try_next().await.map_err(|e| map_err(&ctx(), e))? {
            sink.update(&chunk);
        }
        let (size, sha) = sink.finish();
        Ok(ObjectInfo {
            key: key.to_owned(),
            size,
            sha256: Some(sha),
            etag,
            modified: None,
        })
    }

    async fn get(&self, key: &str, file: std::fs::File) -> Result<ObjectInfo> {
        let (store, prefix) = match &self.backend {
            Backend::Local(d) => return d.get(key, file).await,
            Backend::Store { store, prefix, .. } => (store, prefix),
        };
        let loc = location(prefix, key)?;
        let ctx = || format!("fetch {key:?} from {}", self.uri);
        let got = store.get(&loc).await.map_err(|e| map_err(&ctx(), e))?;
        let etag = got.meta.e_tag.clone();
        let mut out = tokio::fs::File::from_std(file);
        let mut stream = got.into_stream();
        let mut sink = Sha256Sink::default();
        while let Some(chunk) = stream.try_next().await.map_err(|e| map_err(&ctx(), e))? {
            sink.update(&chunk);
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        out.sync_all().await?;
        let (size, sha) = sink.finish();
        Ok(ObjectInfo {
            key: key.to_owned(),
            size,
            sha256: Some(sha),
            etag,
            modified: None,
        })
    }

    async fn list_page(
        &self,
        prefix: &str,
        token: Option<&str>,
        limit: usize,
    ) -> Result<ObjectPage> {
        if prefix.split(['/', '\\']).any(|s| s == "..") {
            return Err(Error::invalid_input(format!(
                "prefix {prefix:?} has a `..` segment"
            )));
        }
        let limit = if limit == 0 { LIST_PAGE } else { limit };
        let (store, paged, root) = match &self.backend {
            Backend::Local(d) => return d.list_page(prefix, token, limit).await,
            Backend::Store {
                store,
                paged,
                prefix,
            } => (store, paged, prefix),
        };
        let ctx = || format!("list {} under {prefix:?}", self.uri);
        let base: ObjPath = root.parts().chain(obj_path(prefix).parts()).collect();
        let skip = root.parts().count();
        let info = |m: object_store::ObjectMeta| ObjectInfo {
            key: m
                .location
                .parts()
                .skip(skip)
                .map(|p| percent_decode(p.as_ref()))
                .collect::<Vec<_>>()
                .join("/"),
            size: m.size,
            sha256: None,
            etag: m.e_tag,
            modified: Some(m.last_modified.timestamp_micros()),
        };
        if let Some(paged) = paged {
            // Whole segments: the service matches prefixes character by character.
            let base = (!base.as_ref().is_empty()).then(|| format!("{base}/"));
            let opts = PaginatedListOptions {
                max_keys: Some(limit),
                page_token: token.map(str::to_owned),
                ..Default::default()
            };
            let r = paged
                .0
                .list_paginated(base.as_deref(), opts)
                .await
                .map_err(|e| map_err(&ctx(), e))?;
            return Ok(ObjectPage {
                objects: r.result.objects.into_iter().map(info).collect(),
                next: r.page_token.filter(|t| !t.is_empty()),
            });
        }
        // Another store (tests, custom backends), which may list in any order: the page after
        // the last location of the page before, in location order.
        let after = match token {
            Some(t) => Some(
                ObjPath::parse(t)
                    .map_err(|_| Error::invalid_input(format!("not a listing token: {t:?}")))?,
            ),
            None => None,
        };
        let mut metas: Vec<_> = store
            .list(Some(&base))
            .try_filter(|m| futures::future::ready(after.as_ref().is_none_or(|a| m.location > *a)))
            .try_collect()
            .await
            .map_err(|e| map_err(&ctx(), e))?;
        metas.sort_by(|a, b| a.location.cmp(&b.location));
        metas.truncate(limit + 1);
        let next = if metas.len() > limit {
            metas.truncate(limit);
            metas.last().map(|m| m.location.to_string())
        } else {
            None
        };
        Ok(ObjectPage {
            objects: metas.into_iter().map(info).collect(),
            next,
        })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match &self.backend {
            Backend::Local(d) => d.delete(key).await,
            Backend::Store { store, prefix, .. } => {
                let loc = location(prefix, key)?;
                store
                    .delete(&loc)
                    .await
                    .map_err(|e| map_err(&format!("delete {key:?} from {}", self.uri), e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_keys_longer_than_stores_accept_are_refused_per_file() {
        let prefix = obj_path("tier");
        let fits = format!("a/{}", "k".repeat(MAX_CLOUD_KEY_BYTES - "tier/a/".len()));
        assert_eq!(
            location(&prefix, &fits).unwrap().as_ref().len(),
            MAX_CLOUD_KEY_BYTES
        );
        let e = location(&prefix, &format!("{fits}k")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("1025 bytes long"), "{e}");
    }

    /// A long path's object (its key bounded, the marker without padding) on a file target.
    #[tokio::test]
    async fn a_file_target_holds_a_long_paths_object() {
        use alto_core::path::{KeyRule, share_key};
        let mut path = String::from("/srv");
        while path.len() < 4_000 {
            path.push_str(&format!("/{}", "d".repeat(199)));
        }
        let key = share_key(KeyRule::new(alto_core::ShareKind::Posix, true), &path);
        let key = format!("acme/s/{}.~1.1", object_key(&key).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let t = ObjectTarget::open(&format!("file://{}/t", dir.path().display())).unwrap();
        let src = dir.path().join("src");
        std::fs::write(&src, b"data").unwrap();
        assert_eq!(t.put_file(&key, &src).await.unwrap().size, 4);
        t.get_file(&key, &dir.path().join("back")).await.unwrap();
        assert_eq!(std::fs::read(dir.path().join("back")).unwrap(), b"data");
    }

    #[test]
    fn decodes_path_parts() {
        assert_eq!(super::percent_decode("q %22x%22,y"), "q \"x\",y");
        assert_eq!(super::percent_decode("100%"), "100%");
        assert_eq!(super::percent_decode("%e2%82%ac"), "€");
    }
}
