//! The bundle's file formats: `manifest.json`, `manifest.sig` and the run files.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunLink {
    pub id: i64,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub finished_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub tool: Value,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub created_at: DateTime<Utc>,
    pub period: Period,
    /// No run finished in the period: the bundle says so explicitly.
    pub empty: bool,
    pub runs: Vec<RunLink>,
    /// `prev_hash` of the first run (the link to the run before the period) and the last hash.
    pub chain: Option<Chain>,
    pub counts: BTreeMap<String, usize>,
    pub files: Vec<FileEntry>,
    /// SHA-256 of the signing public key (raw 32 bytes), when signed.
    pub signing_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Period {
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub from: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Chain {
    pub anchor: String,
    pub head: String,
}

/// `manifest.sig`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignatureFile {
    pub algorithm: String,
    /// Raw public key, hex.
    pub public_key: String,
    /// Signature of the exact bytes of manifest.json, hex.
    pub signature: String,
}

/// One run file: the chained record kept as the exact string the hash covers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFile {
    pub id: i64,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "netdrift_snapshots::time::as_secs")]
    pub finished_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
    pub record: String,
}
