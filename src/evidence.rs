//! Audit-evidence bundles: one tar archive per period that an auditor verifies offline.
//!
//! Layout (every path is listed in `manifest.json` with its SHA-256, except the manifest itself
//! and `manifest.sig`):
//! - `README.txt`: what the bundle holds and how to verify it.
//! - `runs/<id>.json`: each reconcile run's exact chained record, `prev_hash` and `hash`
//!   (`hash = sha256(prev_hash || "\n" || record)`), so a dropped or edited run breaks the chain.
//! - `run-parts.json`: for runs recorded from schema 11 on (record `format` 2), whose records
//!   name their item list, coverage list, configuration and summary parts by address, every
//!   part they name: address (the SHA-256 of the text) → JSON text, each once.
//! - `checkpoints.json`: when run retention pruned old runs, the checkpoints it left (each the
//!   range pruned with its first `prev_hash` and last hash, chained from genesis), so that a
//!   chain whose first run follows pruned runs still verifies from the beginning.
//! - `drift/<id>.json`, `coverage/<id>.json`: the run's drift items (with attribution) and
//!   coverage findings, pretty-printed.
//! - `snapshots/<id>.json`: every snapshot taken in the period or used by a run, with its
//!   resources in canonical JSON (the form their content hashes cover).
//! - `baselines.json`, `baseline-states.json`, `exceptions.json`: approvals in force;
//!   `exception-patterns.json`: the pattern exceptions baseline files brought.
//! - `remediations.json`: the reverts made in the period (`netdrift revert --apply`): who, when,
//!   the ticket, each call and its outcome, the states before and after.
//! - `actors.json`: every identity that changed or tried to change firewall state in the
//!   period, with its authentication, failed attempts and flags (`netdrift actors`).
//! - `audit-events.json`: the raw audit records behind every attribution.
//! - `config.json`: the effective configuration with secrets removed.
//! - `controls.json`: the finding-to-control mapping (docs/controls.md).
//!
//! `manifest.sig` (when a signing key is configured) holds an ed25519 signature of the exact
//! bytes of `manifest.json` and the public key; `evidence verify --public-key` pins the key.

pub mod checkpoints;
mod manifest;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::spki::EncodePublicKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, SigningKey};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::findings::DriftItem;
use crate::store::{ts, SqliteStore};

pub const FORMAT: &str = "netdrift-evidence";
pub const FORMAT_VERSION: u32 = 1;

pub use manifest::*;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Fingerprint of a public key: SHA-256 of its raw bytes.
pub fn key_fingerprint(raw: &[u8]) -> String {
    format!("sha256:{}", &sha256_hex(raw)[..32])
}

/// Load an ed25519 private key (PKCS#8 PEM, as `openssl genpkey -algorithm ed25519` writes).
pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read signing key {}", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "{}: not an ed25519 private key in PKCS#8 PEM ({e})",
            path.display()
        )
    })
}

/// Write a new key pair: the private key (mode 0600) and `<path>.pub` (PEM public key).
pub fn keygen(path: &Path) -> Result<String> {
    if path.exists() {
        bail!("{} exists: not overwriting a key", path.display());
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    let pem = key
        .to_pkcs8_pem(Default::default())
        .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?;
    let mut f = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?
    };
    f.write_all(pem.as_bytes())?;
    let public = key
        .verifying_key()
        .to_public_key_pem(Default::default())
        .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))?;
    let pub_path = public_key_path(path);
    std::fs::write(&pub_path, public.as_bytes())
        .with_context(|| format!("cannot write {}", pub_path.display()))?;
    Ok(key_fingerprint(key.verifying_key().as_bytes()))
}

pub fn public_key_path(private: &Path) -> std::path::PathBuf {
    let mut p = private.as_os_str().to_owned();
    p.push(".pub");
    p.into()
}

/// Collects the bundle's files in memory, then writes the archive.
struct Bundle {
    files: Vec<(String, Vec<u8>)>,
}

impl Bundle {
    fn add(&mut self, path: String, bytes: Vec<u8>) {
        self.files.push((path, bytes));
    }
    fn add_json<T: Serialize>(&mut self, path: String, v: &T) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(v)?;
        bytes.push(b'\n');
        self.add(path, bytes);
        Ok(())
    }
}

/// What an export wrote.
pub struct Exported {
    pub runs: usize,
    pub snapshots: usize,
    pub files: usize,
    pub signed_by: Option<String>,
    pub manifest_sha256: String,
}

/// Export the evidence of `[from, to]` into a tar archive at `out`.
pub fn export(
    store: &mut SqliteStore,
    cfg: &Config,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<Exported> {
    if to < from {
        bail!("--to ({}) is before --from ({})", ts(to), ts(from));
    }
    let key = cfg
        .evidence
        .signing_key
        .as_deref()
        .map(load_signing_key)
        .transpose()?;
    let (from_s, to_s) = (ts(from), ts(to));
    let mut b = Bundle { files: Vec::new() };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();

    // Runs, their items and coverage.
    let runs = store.runs_between(from, to)?;
    let RunRefs {
        links,
        mut snapshot_ids,
        event_ids,
        items: item_count,
    } = add_runs(&mut b, store, &runs)?;
    counts.insert("runs".into(), runs.len());
    counts.insert("drift_items".into(), item_count);

    // Snapshots that stood for their scope in the period, and those the runs used.
    for s in store.snapshots(None)? {
        if s.taken_at <= to && s.seen_at >= from {
            snapshot_ids.insert(s.id);
        }
    }
    add_snapshots(&mut b, store, &snapshot_ids)?;
    counts.insert("snapshots".into(), snapshot_ids.len());

    // Baselines approved up to the end of the period, with the states they approve.
    counts.insert("baselines".into(), add_baselines(&mut b, store, to)?);
    let exceptions: Vec<_> = store
        .exception_history()?
        .into_iter()
        .filter(|e| e.created_at <= to && e.expires_at >= from)
        .collect();
    counts.insert("exceptions".into(), exceptions.len());
    b.add_json("exceptions.json".into(), &exceptions)?;
    // Pattern exceptions baseline files brought, in force now (the configuration's are in
    // each run's config.json).
    b.add_json("exception-patterns.json".into(), &store.stored_patterns()?)?;
    // Remediations made in the period (`netdrift revert --apply`).
    let remediations: Vec<_> = store
        .remediations()?
        .into_iter()
        .filter(|r| r.started_at <= to && r.finished_at >= from)
        .collect();
    counts.insert("remediations".into(), remediations.len());
    b.add_json("remediations.json".into(), &remediations)?;
    // Who changed, or tried to change, firewall state in the period (`netdrift actors`).
    let actors = crate::actors::of_period(
        &*store,
        &cfg.attribution,
        &cfg.change_windows,
        None,
        from,
        to,
    )?;
    counts.insert("actors".into(), actors.actors.len());
    b.add_json("actors.json".into(), &actors)?;

    // The raw audit events behind the attributions.
    let mut events = Vec::new();
    for id in &event_ids {
        if let Some(e) = store.audit_event(id)? {
            events.push(json!({"event_id": e.event_id, "provider": e.provider, "raw": e.raw}));
        }
    }
    counts.insert("audit_events".into(), events.len());
    b.add_json("audit-events.json".into(), &events)?;
    // The parts runs of record format 2 name by address, each once.
    let parts = store.run_parts(
        &runs
            .iter()
            .map(|(r, rec)| (r.id, rec.as_str()))
            .collect::<Vec<_>>(),
    )?;
    if !parts.is_empty() {
        b.add_json("run-parts.json".into(), &parts)?;
    }
    add_config(&mut b, cfg, &runs, &parts)?;
    // Where run retention pruned the chain: the checkpoints it left.
    let checkpoints = store.checkpoints()?;
    if !checkpoints.is_empty() {
        b.add_json(checkpoints::FILE.into(), &checkpoints)?;
    }
    b.add_json(
        "controls.json".into(),
        &crate::controls::MAPPING
            .iter()
            .map(|(cat, what, ctls)| json!({"finding": cat, "meaning": what, "controls": ctls}))
            .collect::<Vec<_>>(),
    )?;
    b.add(
        "README.txt".into(),
        readme(&from_s, &to_s, runs.len(), key.is_some()).into_bytes(),
    );

    // Manifest and signature.
    let sealed = seal(
        &mut b,
        key.as_ref(),
        Period { from, to },
        links,
        counts,
        now,
    )?;
    let (entries, manifest, manifest_sha256) = (sealed.entries, sealed.manifest, sealed.sha256);
    write_tar(out, &entries, now)?;
    let files = b.files.len();
    store.record_evidence_export(
        &ts(now),
        (&from_s, &to_s),
        &out.display().to_string(),
        &manifest_sha256,
        &snapshot_ids.iter().copied().collect::<Vec<_>>(),
    )?;
    Ok(Exported {
        runs: runs.len(),
        snapshots: snapshot_ids.len(),
        files,
        signed_by: manifest.signing_key,
        manifest_sha256,
    })
}

/// A bundle's manifest, signed when a key is given, and every archive entry in order.
struct Sealed {
    entries: Vec<(String, Vec<u8>)>,
    manifest: Manifest,
    sha256: String,
}

fn seal(
    b: &mut Bundle,
    key: Option<&SigningKey>,
    period: Period,
    links: Vec<RunLink>,
    counts: BTreeMap<String, usize>,
    now: DateTime<Utc>,
) -> Result<Sealed> {
    b.files.sort_by(|a, b| a.0.cmp(&b.0));
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        tool: json!({"name": "netdrift", "version": env!("CARGO_PKG_VERSION")}),
        created_at: now,
        period,
        empty: links.is_empty(),
        chain: match (links.first(), links.last()) {
            (Some(f), Some(l)) => Some(Chain {
                anchor: f.prev_hash.clone(),
                head: l.hash.clone(),
            }),
            _ => None,
        },
        runs: links,
        counts,
        files: b
            .files
            .iter()
            .map(|(p, bytes)| FileEntry {
                path: p.clone(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            })
            .collect(),
        signing_key: key
            .as_ref()
            .map(|k| key_fingerprint(k.verifying_key().as_bytes())),
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    manifest_bytes.push(b'\n');
    let manifest_sha256 = sha256_hex(&manifest_bytes);
    let mut entries: Vec<(String, Vec<u8>)> =
        vec![("manifest.json".into(), manifest_bytes.clone())];
    if let Some(k) = key {
        let sig = SignatureFile {
            algorithm: "ed25519".into(),
            public_key: hex::encode(k.verifying_key().as_bytes()),
            signature: hex::encode(k.sign(&manifest_bytes).to_bytes()),
        };
        let mut bytes = serde_json::to_vec_pretty(&sig)?;
        bytes.push(b'\n');
        entries.push(("manifest.sig".into(), bytes));
    }
    entries.extend(b.files.iter().cloned());
    Ok(Sealed {
        entries,
        manifest,
        sha256: manifest_sha256,
    })
}

/// What the runs of a period point at.
struct RunRefs {
    links: Vec<RunLink>,
    snapshot_ids: BTreeSet<i64>,
    event_ids: BTreeSet<String>,
    items: usize,
}

/// Each run's record, its drift items and coverage (with their controls).
fn add_runs(
    b: &mut Bundle,
    store: &SqliteStore,
    runs: &[(crate::store::RunRow, String)],
) -> Result<RunRefs> {
    let mut links = Vec::new();
    let mut snapshot_ids: BTreeSet<i64> = BTreeSet::new();
    let mut event_ids: BTreeSet<String> = BTreeSet::new();
    let mut item_count = 0;
    for (row, record) in runs {
        links.push(RunLink {
            id: row.id,
            finished_at: row.finished_at,
            prev_hash: row.prev_hash.clone(),
            hash: row.hash.clone(),
        });
        b.add_json(
            format!("runs/{:06}.json", row.id),
            &RunFile {
                id: row.id,
                started_at: row.started_at,
                finished_at: row.finished_at,
                prev_hash: row.prev_hash.clone(),
                hash: row.hash.clone(),
                record: record.clone(),
            },
        )?;
        let items = crate::report::run_items(store, row.id)?;
        for i in &items {
            if let Some(a) = &i.attribution {
                for x in a.actors.iter().chain(&a.attempts) {
                    event_ids.insert(x.event_id.clone());
                }
            }
        }
        item_count += items.len();
        let with_controls: Vec<Value> = items.iter().map(item_with_controls).collect();
        b.add_json(format!("drift/{:06}.json", row.id), &with_controls)?;
        let coverage: Vec<Value> = store
            .run_coverage(row.id)?
            .iter()
            .map(|c| {
                let mut v = serde_json::to_value(c).expect("serializes");
                v["controls"] = json!(crate::controls::coverage_controls(c));
                v
            })
            .collect();
        b.add_json(format!("coverage/{:06}.json", row.id), &coverage)?;
        snapshot_ids.extend(store.run_snapshot_ids(row.id)?);
    }
    Ok(RunRefs {
        links,
        snapshot_ids,
        event_ids,
        items: item_count,
    })
}

/// Each snapshot in canonical form, with its resources' state hashes.
fn add_snapshots(b: &mut Bundle, store: &SqliteStore, ids: &BTreeSet<i64>) -> Result<()> {
    for id in ids {
        let Some(snap) = store.snapshot(*id)? else {
            continue;
        };
        let mut resources = Vec::new();
        for (_, hash) in store.manifest(&snap)? {
            let body = store.state_body(&hash)?;
            resources.push(json!({
                "state_hash": hash,
                "resource": serde_json::from_str::<Value>(&body)?,
            }));
        }
        b.add_json(
            format!("snapshots/{id:06}.json"),
            &json!({
                "id": snap.id,
                "scope": snap.scope,
                "source": snap.source,
                "taken_at": ts(snap.taken_at),
                "status": snap.status,
                "problems": snap.problems,
                "uncollected": snap.uncollected,
                "manifest_hash": snap.manifest_hash,
                "resources": resources,
            }),
        )?;
    }
    Ok(())
}

/// Baselines approved up to `to` with the states they approve; how many.
fn add_baselines(b: &mut Bundle, store: &SqliteStore, to: DateTime<Utc>) -> Result<usize> {
    let mut baselines = Vec::new();
    let mut states: BTreeMap<String, Value> = BTreeMap::new();
    for bl in store.baselines()? {
        if bl.created_at > to {
            continue;
        }
        let mut entries = Vec::new();
        for (scope, resource, hash) in store.baseline_entry_hashes(bl.id)? {
            if let Some(h) = &hash {
                if !states.contains_key(h) {
                    states.insert(h.clone(), serde_json::from_str(&store.state_body(h)?)?);
                }
            }
            entries.push(json!({"scope": scope, "resource": resource, "state_hash": hash}));
        }
        baselines.push(json!({"baseline": bl, "entries": entries}));
    }
    b.add_json("baselines.json".into(), &baselines)?;
    b.add_json("baseline-states.json".into(), &states)?;
    Ok(baselines.len())
}

/// The configuration each run recorded (runs of older versions recorded none), and the one the
/// export was made with; secrets removed in both.
fn add_config(
    b: &mut Bundle,
    cfg: &Config,
    runs: &[(crate::store::RunRow, String)],
    parts: &BTreeMap<String, String>,
) -> Result<()> {
    let mut in_force: Vec<(Value, Vec<i64>)> = Vec::new();
    for (row, record) in runs {
        let rec = serde_json::from_str::<Value>(record).unwrap_or(Value::Null);
        let c = match (&rec["format"], &rec["config"]) {
            // Format 2 names its configuration by address.
            (Value::Number(_), Value::String(address)) => parts
                .get(address)
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null),
            (_, c) => c.clone(),
        };
        match in_force.iter_mut().find(|(x, _)| *x == c) {
            Some((_, ids)) => ids.push(row.id),
            None => in_force.push((c, vec![row.id])),
        }
    }
    b.add_json(
        "config.json".into(),
        &json!({
            "in_force": in_force.iter().map(|(c, ids)| json!({"runs": ids, "config": c})).collect::<Vec<_>>(),
            "at_export": cfg.redacted(),
        }),
    )?;
    Ok(())
}

fn item_with_controls(i: &DriftItem) -> Value {
    let mut v = serde_json::to_value(i).expect("serializes");
    v["controls"] = json!(crate::controls::item_control_ids(i));
    v
}

/// Write the archive via a temporary file and rename: never a half-written bundle.
pub fn write_tar(out: &Path, entries: &[(String, Vec<u8>)], now: DateTime<Utc>) -> Result<()> {
    // An exclusively created, unpredictably named file beside the target: a planted link in a
    // shared directory is never followed.
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let staged = tempfile::Builder::new()
        .prefix(".netdrift-evidence.")
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let tmp = staged.path().to_path_buf();
    let mut tar = tar::Builder::new(std::io::BufWriter::new(staged.reopen()?));
    for (path, bytes) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(now.timestamp().max(0) as u64);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, path, bytes.as_slice())
            .with_context(|| format!("writing {path} into {}", tmp.display()))?;
    }
    let mut w = tar.into_inner()?;
    w.flush()?;
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", tmp.display()))?
        .sync_all()?;
    staged
        .persist(out)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

fn readme(from: &str, to: &str, runs: usize, signed: bool) -> String {
    let mut s = format!(
        "netdrift audit-evidence bundle (format {FORMAT} {FORMAT_VERSION}, netdrift {})\n\
         Period: {from} to {to}\n\n",
        env!("CARGO_PKG_VERSION")
    );
    if runs == 0 {
        s += "EMPTY: no reconcile run finished in this period. The bundle still records the\n\
              baselines, exceptions and configuration in force, and is valid.\n\n";
    } else {
        s += &format!("{runs} reconcile run(s), hash-chained in runs/.\n\n");
    }
    s += "Verify offline:\n    netdrift evidence verify THIS.tar";
    s += if signed {
        " --public-key evidence.pub\n"
    } else {
        "\n"
    };
    s += "\nmanifest.json lists every other file with its SHA-256. Each runs/<id>.json holds the\n\
          exact record its hash covers: hash = sha256(prev_hash + \"\\n\" + record), and each run's\n\
          prev_hash is the previous run's hash. A record of format 2 names its item list, coverage\n\
          list, configuration and summary parts by address: run-parts.json maps each address (the\n\
          SHA-256 of the text) to the part's JSON text. manifest.sig, when present, is an ed25519\n\
          signature of manifest.json's exact bytes.\n";
    s
}
