//! `netdrift evidence verify`: check a bundle offline and name exactly what is wrong: a changed
//! byte (which file), a missing or unlisted file, a broken link in the run chain, a signature
//! that does not match or comes from another key.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use anyhow::{Context, Result};
use ed25519_dalek::pkcs8::spki::DecodePublicKey;
use ed25519_dalek::{Signature, VerifyingKey};

use super::{key_fingerprint, sha256_hex, Manifest, RunFile, SignatureFile, FORMAT};
use crate::store::runs::run_hash;
use crate::store::ts;

/// The verdict: what was checked, and every problem found.
#[derive(Debug, Default)]
pub struct Verdict {
    pub problems: Vec<String>,
    pub files_checked: usize,
    pub runs: usize,
    pub empty: bool,
    pub period: Option<(String, String)>,
    pub chain: Option<(String, String)>,
    /// Fingerprint of the key that signed the manifest (signature valid).
    pub signed_by: Option<String>,
    /// The signing key was compared with the one the caller trusts.
    pub key_trusted: bool,
    /// The chain continues runs retention pruned: (how many, first, last), from
    /// `checkpoints.json`.
    pub pruned: super::checkpoints::Pruned,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Load a trusted public key: PEM (SubjectPublicKeyInfo, as `openssl pkey -pubout` or
/// `evidence keygen` write it) or 64 hex characters.
pub fn load_public_key(path_or_hex: &str) -> Result<VerifyingKey> {
    let text = if Path::new(path_or_hex).exists() {
        std::fs::read_to_string(path_or_hex)
            .with_context(|| format!("cannot read public key {path_or_hex}"))?
    } else {
        path_or_hex.to_string()
    };
    let t = text.trim();
    if t.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(t)
            .map_err(|e| anyhow::anyhow!("{path_or_hex}: not an ed25519 public key in PEM ({e})"));
    }
    let raw = hex::decode(t)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .with_context(|| {
            format!("{path_or_hex}: neither a PEM public key file nor 64 hex characters")
        })?;
    VerifyingKey::from_bytes(&raw).map_err(|e| anyhow::anyhow!("{path_or_hex}: {e}"))
}

/// The files of an archive by path, and the problems found reading it.
pub type ArchiveFiles = (BTreeMap<String, Vec<u8>>, Vec<String>);

/// Read every regular file of a tar archive. Problems with the archive itself are fatal.
pub fn read_tar(path: &Path) -> Result<ArchiveFiles> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut ar = tar::Archive::new(std::io::BufReader::new(f));
    let mut files = BTreeMap::new();
    let mut problems = Vec::new();
    for entry in ar
        .entries()
        .with_context(|| format!("{}: not a tar archive", path.display()))?
    {
        let mut e = entry.with_context(|| {
            format!(
                "{}: corrupt tar archive (a header's checksum or size is wrong)",
                path.display()
            )
        })?;
        let name = e.path()?.to_string_lossy().into_owned();
        if !e.header().entry_type().is_file() {
            problems.push(format!("unexpected entry {name:?}: not a regular file"));
            continue;
        }
        if name.starts_with('/') || name.split('/').any(|c| c == "..") {
            problems.push(format!("unsafe path {name:?} in the archive"));
            continue;
        }
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes)
            .with_context(|| format!("{}: cannot read {name}", path.display()))?;
        if files.insert(name.clone(), bytes).is_some() {
            problems.push(format!("duplicate file {name} in the archive"));
        }
    }
    Ok((files, problems))
}

/// Verify a bundle. `trusted` pins the key the manifest must be signed with.
pub fn verify(path: &Path, trusted: Option<&VerifyingKey>) -> Result<Verdict> {
    let (files, mut problems) = read_tar(path)?;
    let mut v = Verdict::default();
    let Some(manifest_bytes) = files.get("manifest.json") else {
        problems.push(
            "missing file: manifest.json (not a netdrift evidence bundle, or it was removed)"
                .into(),
        );
        v.problems = problems;
        return Ok(v);
    };
    let manifest: Manifest = match serde_json::from_slice(manifest_bytes) {
        Ok(m) => m,
        Err(e) => {
            problems.push(format!("manifest.json is not a valid manifest: {e}"));
            v.problems = problems;
            return Ok(v);
        }
    };
    if manifest.format != FORMAT {
        problems.push(format!(
            "manifest.json: format is {:?}, expected {FORMAT:?}",
            manifest.format
        ));
    }
    v.period = Some((ts(manifest.period.from), ts(manifest.period.to)));
    v.empty = manifest.empty;

    // Every listed file is present and unchanged.
    let mut listed = BTreeMap::new();
    for f in &manifest.files {
        listed.insert(f.path.as_str(), f);
        match files.get(&f.path) {
            None => problems.push(format!("missing file: {} (listed in the manifest)", f.path)),
            Some(bytes) => {
                v.files_checked += 1;
                let actual = sha256_hex(bytes);
                if actual != f.sha256 {
                    problems.push(format!(
                        "changed file: {}: SHA-256 is {actual}, the manifest says {}",
                        f.path, f.sha256
                    ));
                } else if bytes.len() as u64 != f.bytes {
                    problems.push(format!(
                        "changed file: {}: {} bytes, the manifest says {}",
                        f.path,
                        bytes.len(),
                        f.bytes
                    ));
                }
            }
        }
    }
    for name in files.keys() {
        if name != "manifest.json" && name != "manifest.sig" && !listed.contains_key(name.as_str())
        {
            problems.push(format!("unlisted file: {name} (not in the manifest)"));
        }
    }

    // The run chain.
    v.runs = manifest.runs.len();
    if manifest.empty != manifest.runs.is_empty() {
        problems.push(format!(
            "manifest.json: empty is {} but {} run(s) are listed",
            manifest.empty,
            manifest.runs.len()
        ));
    }
    let parts = read_parts(&files, &mut problems);
    v.pruned = super::checkpoints::check(
        &files,
        manifest.runs.first().map(|r| (r.id, r.prev_hash.as_str())),
        &mut problems,
    );
    let mut prev: Option<&super::RunLink> = None;
    for link in &manifest.runs {
        let name = format!("runs/{:06}.json", link.id);
        if !listed.contains_key(name.as_str()) {
            problems.push(format!(
                "run {}: {name} is not listed in the manifest",
                link.id
            ));
        }
        if let Some(bytes) = files.get(&name) {
            match serde_json::from_slice::<RunFile>(bytes) {
                Err(e) => problems.push(format!("{name}: not a run record: {e}")),
                Ok(rf) => {
                    let recomputed = run_hash(&rf.prev_hash, &rf.record);
                    if recomputed != rf.hash {
                        problems.push(format!(
                            "run {}: its record hashes to {recomputed}, but its recorded hash is {} (the record was altered)",
                            link.id, rf.hash
                        ));
                    }
                    if rf.id != link.id || rf.hash != link.hash || rf.prev_hash != link.prev_hash {
                        problems.push(format!(
                            "run {}: {name} does not match the manifest's chain entry",
                            link.id
                        ));
                    }
                    problems.extend(check_against_record(link.id, &rf.record, &files, &parts));
                }
            }
        }
        if let Some(p) = prev {
            if link.prev_hash != p.hash {
                problems.push(format!(
                    "broken chain between run {} and run {}: run {} links to {}, but run {} hashes to {} (a run was dropped or altered)",
                    p.id, link.id, link.id, link.prev_hash, p.id, p.hash
                ));
            } else if link.id <= p.id {
                problems.push(format!(
                    "runs out of order: run {} listed after run {}",
                    link.id, p.id
                ));
            }
        }
        prev = Some(link);
    }
    match (&manifest.chain, manifest.runs.first(), manifest.runs.last()) {
        (Some(c), Some(f), Some(l)) => {
            if c.anchor != f.prev_hash || c.head != l.hash {
                problems
                    .push("manifest.json: chain anchor/head do not match the runs listed".into());
            }
            v.chain = Some((c.anchor.clone(), c.head.clone()));
        }
        (None, None, None) => {}
        _ => problems.push("manifest.json: chain does not match the runs listed".into()),
    }

    // The signature.
    match (files.get("manifest.sig"), trusted) {
        (None, None) => {
            if manifest.signing_key.is_some() {
                problems.push(
                    "missing file: manifest.sig (the manifest says the bundle was signed)".into(),
                );
            }
        }
        (None, Some(k)) => problems.push(format!(
            "not signed: the bundle has no manifest.sig, but a signature by key {} is required",
            key_fingerprint(k.as_bytes())
        )),
        (Some(sig_bytes), trusted) => {
            match check_signature(sig_bytes, manifest_bytes, manifest.signing_key.as_deref()) {
                Err(p) => problems.push(p),
                Ok(key) => {
                    let fp = key_fingerprint(key.as_bytes());
                    if let Some(t) = trusted {
                        if t.as_bytes() != key.as_bytes() {
                            problems.push(format!(
                                "wrong key: the manifest is signed by key {fp}, not by the trusted key {}",
                                key_fingerprint(t.as_bytes())
                            ));
                        } else {
                            v.key_trusted = true;
                        }
                    }
                    v.signed_by = Some(fp);
                }
            }
        }
    }
    v.problems = problems;
    Ok(v)
}

/// The drift and coverage files of a run must hold exactly what its hash-chained record holds
/// (less the `controls` each entry gains in the bundle): a deleted or edited item is named even
/// when the manifest was rebuilt to match.
/// `run-parts.json` (runs of record format 2 name their parts by address): address → text,
/// each part checked against its address.
fn read_parts(
    files: &BTreeMap<String, Vec<u8>>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let Some(bytes) = files.get(PARTS) else {
        return BTreeMap::new();
    };
    match serde_json::from_slice::<BTreeMap<String, String>>(bytes) {
        Err(e) => {
            problems.push(format!("{PARTS}: not a map of addresses to parts: {e}"));
            BTreeMap::new()
        }
        Ok(parts) => {
            for (address, text) in &parts {
                let actual = crate::store::runs::part_address(text);
                if &actual != address {
                    problems.push(format!(
                        "{PARTS}: the part at {address} hashes to {actual} (the part was altered)"
                    ));
                }
            }
            parts
        }
    }
}

/// The bundle file holding the parts of addressed runs.
const PARTS: &str = "run-parts.json";

/// A run's chained items (id → item) and coverage findings, from its record: inline in format
/// 1 ([id, scope, severity, item] and [scope, finding]), by address in format 2 (the lists
/// and every entry in `run-parts.json`).
type Chained = (BTreeMap<String, serde_json::Value>, Vec<serde_json::Value>);

fn chained(
    id: i64,
    rec: &serde_json::Value,
    parts: &BTreeMap<String, String>,
) -> Result<Chained, String> {
    if rec["format"].as_i64() != Some(2) {
        let items = rec["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some((t.get(0)?.as_str()?.to_string(), t.get(3)?.clone())))
            .collect();
        let coverage = rec["coverage"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.get(1).cloned())
            .collect();
        return Ok((items, coverage));
    }
    let part = |address: &str| -> Result<serde_json::Value, String> {
        let text = parts.get(address).ok_or_else(|| {
            format!("run {id}: part {address} of its chained record is missing from {PARTS}")
        })?;
        serde_json::from_str(text).map_err(|e| format!("{PARTS}: part {address} is not JSON: {e}"))
    };
    let list = |key: &str| -> Result<Vec<Vec<String>>, String> {
        let address = rec[key]
            .as_str()
            .ok_or_else(|| format!("run {id}: its record names no {key} list"))?;
        serde_json::from_value(part(address)?)
            .map_err(|e| format!("{PARTS}: run {id}'s {key} list {address} is not a list: {e}"))
    };
    // Its configuration and summary parts are in the bundle too.
    let named = std::iter::once(&rec["config"]).chain(
        rec["summary"]
            .as_object()
            .into_iter()
            .flat_map(|o| o.values().map(|v| &v["part"])),
    );
    for address in named.filter_map(|v| v.as_str()) {
        part(address)?;
    }
    let mut items = BTreeMap::new();
    for e in list("items")? {
        if let [item, _, _, address] = e.as_slice() {
            items.insert(item.clone(), part(address)?);
        }
    }
    let mut coverage = Vec::new();
    for e in list("coverage")? {
        if let [_, address] = e.as_slice() {
            coverage.push(part(address)?);
        }
    }
    Ok((items, coverage))
}

fn check_against_record(
    id: i64,
    record: &str,
    files: &BTreeMap<String, Vec<u8>>,
    parts: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let Ok(rec) = serde_json::from_str::<serde_json::Value>(record) else {
        return vec![format!("run {id}: its record is not JSON")];
    };
    let strip = |mut v: serde_json::Value| {
        if let Some(o) = v.as_object_mut() {
            o.remove("controls");
        }
        v
    };
    let (chained_items, chained_coverage) = match chained(id, &rec, parts) {
        Ok(c) => c,
        Err(p) => return vec![p],
    };
    let read = |name: &str| -> Result<Vec<serde_json::Value>, String> {
        match files.get(name) {
            None => Err(format!("missing file: {name} (run {id} has a record)")),
            Some(b) => serde_json::from_slice::<Vec<serde_json::Value>>(b)
                .map(|v| v.into_iter().map(strip).collect())
                .map_err(|e| format!("{name}: not a list of entries: {e}")),
        }
    };
    let drift_name = format!("drift/{id:06}.json");
    match read(&drift_name) {
        Err(p) => problems.push(p),
        Ok(items) => {
            let mut found: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            for i in items {
                let key = i["id"].as_str().unwrap_or_default().to_string();
                found.insert(key, i);
            }
            for (k, v) in &chained_items {
                match found.get(k) {
                    None => problems.push(format!(
                        "{drift_name}: drift item {k} of run {id}'s chained record is missing"
                    )),
                    Some(f) if f != v => problems.push(format!(
                        "{drift_name}: drift item {k} differs from run {id}'s chained record"
                    )),
                    _ => {}
                }
            }
            for k in found.keys().filter(|k| !chained_items.contains_key(*k)) {
                problems.push(format!(
                    "{drift_name}: drift item {k} is not in run {id}'s chained record"
                ));
            }
        }
    }
    let cov_name = format!("coverage/{id:06}.json");
    match read(&cov_name) {
        Err(p) => problems.push(p),
        Ok(found) => {
            if found != chained_coverage {
                problems.push(format!(
                    "{cov_name}: {} coverage finding(s), run {id}'s chained record has {} or they differ",
                    found.len(),
                    chained_coverage.len()
                ));
            }
        }
    }
    problems
}

fn check_signature(
    sig_bytes: &[u8],
    manifest: &[u8],
    declared: Option<&str>,
) -> std::result::Result<VerifyingKey, String> {
    let sig: SignatureFile = serde_json::from_slice(sig_bytes)
        .map_err(|e| format!("manifest.sig is not a signature file: {e}"))?;
    if sig.algorithm != "ed25519" {
        return Err(format!(
            "manifest.sig: algorithm {:?}, expected \"ed25519\"",
            sig.algorithm
        ));
    }
    let key = hex::decode(&sig.public_key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        .ok_or("manifest.sig: public_key is not an ed25519 public key")?;
    let signature = hex::decode(&sig.signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or("manifest.sig: signature is not 64 bytes of hex")?;
    key.verify_strict(manifest, &signature).map_err(|_| {
        format!(
            "bad signature: manifest.sig does not match manifest.json for key {} (the manifest was changed after signing)",
            key_fingerprint(key.as_bytes())
        )
    })?;
    let fp = key_fingerprint(key.as_bytes());
    if let Some(d) = declared {
        if d != fp {
            return Err(format!(
                "manifest.json names signing key {d}, but manifest.sig carries key {fp}"
            ));
        }
    }
    Ok(key)
}
