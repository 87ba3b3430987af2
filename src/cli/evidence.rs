//! `netdrift evidence export|verify|keygen`: audit-evidence bundles (see `crate::evidence`).

use std::path::PathBuf;

use anyhow::Result;
use chrono::{Duration, NaiveDate};

use super::{open_existing, parse_time, print_json, Outcome, Output};
use crate::evidence;

#[derive(clap::Subcommand, Debug)]
pub enum Cmd {
    /// Write one archive with the snapshots, baselines, exceptions, drift, attribution, raw
    /// audit events and coverage of a period, a SHA-256 manifest, the run hash chain and (with a
    /// configured key) an ed25519 signature.
    Export(ExportArgs),
    /// Check a bundle offline: every file hash, the run chain and the signature.
    Verify(VerifyArgs),
    /// Create an ed25519 signing key (PKCS#8 PEM, mode 0600) and FILE.pub for auditors.
    Keygen(KeygenArgs),
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Start of the period (date or RFC 3339).
    #[arg(long)]
    from: String,
    /// End of the period (a date includes that whole day) [default: now].
    #[arg(long)]
    to: Option<String>,
    /// The archive to write (a tar file).
    #[arg(long)]
    out: PathBuf,
    /// Configuration (signing key, and the configuration recorded in the bundle).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The bundle.
    file: PathBuf,
    /// The public key the manifest must be signed with (PEM file, or 64 hex characters).
    #[arg(long)]
    public_key: Option<String>,
    /// `json`: one document with the verdict (`ok`), every problem, and what was checked.
    #[arg(long, value_enum, default_value = "text")]
    format: Output,
}

#[derive(clap::Args, Debug)]
pub struct KeygenArgs {
    /// Where to write the private key (FILE.pub gets the public key).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(db: &Option<PathBuf>, cmd: Cmd) -> Result<Outcome> {
    match cmd {
        Cmd::Export(a) => {
            let mut store = open_existing(db)?;
            let cfg = super::drift::settings(a.config.as_deref())?;
            let from = parse_time(&a.from)?;
            let to = match &a.to {
                None => crate::clock::now(),
                Some(t) => match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
                    Ok(d) => {
                        (d + Duration::days(1))
                            .and_hms_opt(0, 0, 0)
                            .expect("midnight")
                            .and_utc()
                            - Duration::seconds(1)
                    }
                    Err(_) => parse_time(t)?,
                },
            };
            let e = evidence::export(&mut store, &cfg, from, to, &a.out, crate::clock::now())?;
            println!(
                "wrote {}: {} run(s){}, {} snapshot(s), {} file(s); manifest sha256 {}; {}",
                a.out.display(),
                e.runs,
                if e.runs == 0 { " (empty period)" } else { "" },
                e.snapshots,
                e.files,
                e.manifest_sha256,
                match &e.signed_by {
                    Some(k) => format!("signed by ed25519 key {k}"),
                    None => "not signed (no [evidence] signing_key configured)".into(),
                }
            );
            Ok(Outcome::Ok)
        }
        Cmd::Verify(a) => {
            let trusted = a
                .public_key
                .as_deref()
                .map(evidence::verify::load_public_key)
                .transpose()?;
            let v = evidence::verify::verify(&a.file, trusted.as_ref())?;
            if a.format == Output::Json {
                print_json(&serde_json::json!({
                    "file": a.file.display().to_string(),
                    "ok": v.ok(),
                    "problems": v.problems,
                    "period": v.period.as_ref().map(|(f, t)| serde_json::json!({"from": f, "to": t})),
                    "files_checked": v.files_checked,
                    "runs": v.runs,
                    "chain": v.chain.as_ref().map(|(a, h)| serde_json::json!({"anchor": a, "head": h})),
                    "pruned": v.pruned.map(|(n, f, l)| serde_json::json!({"runs": n, "first_run": f, "last_run": l})),
                    "signed_by": v.signed_by,
                    "authenticity_checked": v.signed_by.is_some() && v.key_trusted,
                }));
                return Ok(if v.ok() {
                    Outcome::Ok
                } else {
                    Outcome::Invalid
                });
            }
            if !v.ok() {
                println!("FAILED: {}", a.file.display());
                for p in &v.problems {
                    println!("  - {p}");
                }
                return Ok(Outcome::Invalid);
            }
            let (from, to) = v.period.clone().unwrap_or_default();
            println!("OK: {}", a.file.display());
            println!("  period {from} to {to}");
            println!("  {} file(s) match the manifest", v.files_checked);
            match &v.chain {
                Some((anchor, head)) => println!(
                    "  {} run(s) hash-chained from {} to {}",
                    v.runs,
                    short_hash(anchor),
                    short_hash(head)
                ),
                None => println!("  EMPTY: no reconcile run finished in this period"),
            }
            if let Some((n, first, last)) = v.pruned {
                println!(
                    "  the chain continues from genesis through {n} run(s) retention pruned (runs {first}-{last}, checkpoints.json)"
                );
            }
            match (&v.signed_by, v.key_trusted) {
                (Some(k), true) => println!("  signed by the trusted ed25519 key {k}: authentic"),
                (Some(k), false) => println!(
                    "  signed by ed25519 key {k}\n  AUTHENTICITY NOT CHECKED: no --public-key was given, so this proves only that the bundle \
                     is intact, not who made it; pass the key you trust"
                ),
                (None, _) => println!(
                    "  not signed\n  AUTHENTICITY NOT CHECKED: an unsigned bundle proves only that it is internally consistent; \
                     anyone could have rebuilt it. Sign bundles ([evidence] signing_key) and verify with --public-key"
                ),
            }
            Ok(Outcome::Ok)
        }
        Cmd::Keygen(a) => {
            let fp = evidence::keygen(&a.out)?;
            println!(
                "wrote {} (private, mode 0600) and {} (public, for auditors): key {fp}",
                a.out.display(),
                evidence::public_key_path(&a.out).display()
            );
            Ok(Outcome::Ok)
        }
    }
}

/// The first 16 characters of a hash for display; a shorter or non-ASCII value (a tampered
/// manifest) is shown whole, escaped.
fn short_hash(h: &str) -> String {
    match h.get(..16) {
        Some(p) if h.is_ascii() => p.to_string(),
        _ => format!("{h:?}"),
    }
}
