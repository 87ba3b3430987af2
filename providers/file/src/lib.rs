//! netdrift-provider-file: read the clouds' native JSON dumps (and, in `audit`, their audit-log
//! files) and convert them to the provider-neutral model.
//!
//! API boundary: this crate reads bytes and returns model values or errors that name the file,
//! the JSON path and the value. It never touches SQLite, decides drift or formats reports. The
//! wire-format code here is SDK-free so the live providers reuse it for the same JSON.

pub mod audit;
pub mod aws;
pub mod aws_workloads;
pub mod azure;
pub mod azure_workloads;
pub mod gcp;
pub mod gcp_instances;
pub mod gcp_policy;
pub mod json;
pub mod terraform;

use std::io::Read;
use std::path::Path;

use netdrift_snapshots::{Provider, Resource};

pub use json::{ConvertError, Node};

/// An import failure, naming the file and (when the JSON parsed) the JSON path and value.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: decompresses to more than {limit} bytes (max_decompressed_mib): not read, as a guard against gzip bombs")]
    TooLarge { file: String, limit: u64 },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: not valid JSON (line {line}, column {column}): {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {source}")]
    Convert { file: String, source: ConvertError },
}

/// Default bound on what one gzip file may decompress to: 1 GiB, far above a real CloudTrail
/// file (delivered every five minutes per account and region, a few MiB) and far below what a
/// two-megabyte gzip bomb expands to.
pub const DEFAULT_MAX_DECOMPRESSED: u64 = 1 << 30;

static MAX_DECOMPRESSED: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(DEFAULT_MAX_DECOMPRESSED);

/// Set the bound on decompressed size (configuration `max_decompressed_mib`,
/// `NETDRIFT_MAX_DECOMPRESSED_MIB`).
pub fn set_max_decompressed(bytes: u64) {
    MAX_DECOMPRESSED.store(bytes.max(1), std::sync::atomic::Ordering::Relaxed);
}

pub fn max_decompressed() -> u64 {
    MAX_DECOMPRESSED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Read a file, transparently un-gzipping `.gz` files or gzip magic bytes, streaming the
/// decompression and stopping with an error naming the file once it passes the bound.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, ImportError> {
    let file = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|source| ImportError::Io {
        file: file.clone(),
        source,
    })?;
    let mut reader = std::io::BufReader::new(f);
    let head = std::io::BufRead::fill_buf(&mut reader).map_err(|source| ImportError::Io {
        file: file.clone(),
        source,
    })?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return gunzip(&file, reader);
    }
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|source| ImportError::Io { file, source })?;
    Ok(out)
}

/// Bytes read from elsewhere (an S3 object), un-gzipped when they start with gzip's magic
/// bytes, within the same bound as files; errors name `file`.
pub fn decode_bytes(file: &str, raw: Vec<u8>) -> Result<Vec<u8>, ImportError> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    gunzip(file, &raw[..])
}

/// Un-gzip a stream (every member), stopping with an error naming `file` once the output
/// passes the bound.
fn gunzip(file: &str, gz: impl std::io::BufRead) -> Result<Vec<u8>, ImportError> {
    let limit = max_decompressed();
    let mut out = Vec::new();
    flate2::bufread::MultiGzDecoder::new(gz)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|source| ImportError::Io {
            file: file.to_string(),
            source,
        })?;
    if out.len() as u64 > limit {
        return Err(ImportError::TooLarge {
            file: file.to_string(),
            limit,
        });
    }
    Ok(out)
}

/// Parse bytes as one JSON document.
pub fn parse_json(file: &str, bytes: &[u8]) -> Result<serde_json::Value, ImportError> {
    not_empty(file, bytes)?;
    json::from_slice_strict(bytes).map_err(|e| json_error(file, e))
}

fn not_empty(file: &str, bytes: &[u8]) -> Result<(), ImportError> {
    match bytes.iter().all(|b| b.is_ascii_whitespace()) {
        true => Err(ImportError::Empty {
            file: file.to_string(),
        }),
        false => Ok(()),
    }
}

fn json_error(file: &str, e: serde_json::Error) -> ImportError {
    ImportError::Json {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

/// Convert one parsed dump of `provider`. `account` is the scope's account/project/subscription.
pub fn convert_document(
    provider: Provider,
    account: &str,
    doc: &serde_json::Value,
) -> Result<Vec<Resource>, ConvertError> {
    convert_with(provider, account, doc, &std::collections::BTreeSet::new())
}

/// Convert one dump; `before_classic` names the GCP networks (from a networks dump) that
/// evaluate network firewall policies before their VPC firewall rules.
pub fn convert_with(
    provider: Provider,
    account: &str,
    doc: &serde_json::Value,
    before_classic: &std::collections::BTreeSet<String>,
) -> Result<Vec<Resource>, ConvertError> {
    let root = Node::root(doc);
    match provider {
        Provider::Aws => aws::convert(&root),
        Provider::Gcp if gcp::is_networks(&root) => Ok(Vec::new()),
        Provider::Gcp if gcp_instances::detect(&root) => gcp_instances::convert(&root, account),
        Provider::Gcp if gcp_policy::detect(&root) => gcp_policy::convert(
            &root,
            &gcp_policy::PolicyContext {
                project: account,
                depth: None,
                before_classic,
            },
        ),
        Provider::Gcp => gcp::convert(&root, account),
        Provider::Azure => match azure_workloads::detect(&root) {
            Some(kind) => azure_workloads::convert(&root, kind),
            None => azure::convert(&root),
        },
    }
}

/// Read, parse and convert several dump files of one scope. Resources that appear in more than
/// one file (a group in both describe-security-groups and describe-security-group-rules) are
/// merged. Any error aborts the whole set: nothing is half-imported.
pub fn import_files(
    provider: Provider,
    account: &str,
    files: &[impl AsRef<Path>],
) -> Result<Vec<Resource>, ImportError> {
    Ok(import_files_read(provider, account, files)?.0)
}

/// Import the dump files of one scope as its snapshot. The firewall kinds count as read (the
/// files are what the scope has); a workload kind counts as read only when a dump of it is
/// among the files, else it is `uncollected`, so that reach says `unknown` rather than
/// concluding from an absence.
pub fn import_scope(
    scope: &netdrift_snapshots::Scope,
    files: &[impl AsRef<Path>],
) -> Result<netdrift_snapshots::Collected, ImportError> {
    let (resources, read) = import_files_read(scope.provider(), scope.account(), files)?;
    let mut c = netdrift_snapshots::Collected::complete(scope.clone(), resources);
    c.uncollected = netdrift_snapshots::collection::workload_kinds(scope.provider())
        .into_iter()
        .filter(|k| !read.contains(k))
        .collect();
    Ok(c)
}

/// [`import_files`], and the workload kinds whose dumps were among the files.
fn import_files_read(
    provider: Provider,
    account: &str,
    files: &[impl AsRef<Path>],
) -> Result<
    (
        Vec<Resource>,
        std::collections::BTreeSet<netdrift_snapshots::ResourceKind>,
    ),
    ImportError,
> {
    let mut docs = Vec::new();
    // (file, document, its security groups when converted while it was parsed)
    for f in files {
        let path = f.as_ref();
        let name = path.display().to_string();
        let bytes = read_bytes(path)?;
        docs.push(match provider {
            Provider::Aws => {
                let (doc, groups) = parse_aws_streaming(&name, &bytes)?;
                (name, doc, groups)
            }
            _ => (name.clone(), parse_json(&name, &bytes)?, None),
        });
    }
    // GCP networks dumps (gcloud compute networks list) give each network's enforcement order.
    let mut before_classic = std::collections::BTreeSet::new();
    if provider == Provider::Gcp {
        for (name, doc, _) in &docs {
            let root = Node::root(doc);
            if gcp::is_networks(&root) {
                before_classic.extend(gcp::before_classic_networks(&root, account).map_err(
                    |source| ImportError::Convert {
                        file: name.clone(),
                        source,
                    },
                )?);
            }
        }
    }
    let mut read = std::collections::BTreeSet::new();
    let mut all = Vec::new();
    for (name, doc, groups) in docs {
        if provider == Provider::Aws {
            read.extend(aws::detect(&Node::root(&doc)).and_then(aws_workloads::kind_of));
        }
        if provider == Provider::Azure {
            read.extend(azure_workloads::detect(&Node::root(&doc)));
        }
        if provider == Provider::Gcp && gcp_instances::detect(&Node::root(&doc)) {
            read.insert(netdrift_snapshots::ResourceKind::GcpInstance);
        }
        let resources = match groups {
            Some(groups) => groups,
            None => convert_with(provider, account, &doc, &before_classic),
        }
        .map_err(|source| ImportError::Convert { file: name, source })?;
        all.extend(resources);
    }
    Ok((aws::merge_rule_ids(all), read))
}

/// An AWS dump parsed, with its security groups when they were converted while it was parsed.
type AwsParsed = (
    serde_json::Value,
    Option<Result<Vec<Resource>, ConvertError>>,
);

/// Parse an AWS dump; a `describe-security-groups` document's groups are converted one by one
/// while it is parsed, so that its tree is never held whole (a dump of 22,000 groups is 50 MB
/// of JSON and several times that as a tree). The result is what [`parse_json`] then
/// [`convert_with`] give: the same groups, the same first error, and a JSON error before any
/// conversion error.
fn parse_aws_streaming(file: &str, bytes: &[u8]) -> Result<AwsParsed, ImportError> {
    not_empty(file, bytes)?;
    let mut groups = Vec::new();
    let mut failed: Option<ConvertError> = None;
    let mut each = |i: usize, v: serde_json::Value| {
        if failed.is_some() {
            return;
        }
        let n = Node {
            v: &v,
            path: format!("$.SecurityGroups[{i}]"),
        };
        match aws::security_group(&n) {
            Ok(r) => groups.push((n.path, r)),
            Err(e) => failed = Some(e),
        }
    };
    let (doc, streamed) = json::from_slice_streaming(bytes, "SecurityGroups", &mut each)
        .map_err(|e| json_error(file, e))?;
    if !streamed {
        return Ok((doc, None));
    }
    Ok((
        doc,
        Some(match failed {
            Some(e) => Err(e),
            None => json::unique_ids(groups),
        }),
    ))
}
