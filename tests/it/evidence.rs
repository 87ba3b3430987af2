//! Evidence bundles: export, then verify offline; every kind of tampering is named exactly.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use ed25519_dalek::Signer;

use crate::support::{json, netdrift, ok, run_demo, Demo};

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    db: PathBuf,
    config: PathBuf,
    key: PathBuf,
}

/// The demo (runs 1 and 2) plus a third run, a signing key, and a config with secrets in it.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let Demo { dir: demo, db, .. } = run_demo(&root);
    ok(
        &db,
        &[
            "run",
            "--config",
            &demo.join("netdrift.toml").display().to_string(),
            "--at",
            "2026-11-26T02:00:00Z",
        ],
        1,
    );
    let key = root.join("evidence.pem");
    let r = ok(
        &db,
        &["evidence", "keygen", "--out", &key.display().to_string()],
        0,
    );
    assert!(r.stdout.contains("sha256:"), "{}", r.stdout);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let config = demo.join("evidence.toml");
    let text = std::fs::read_to_string(demo.join("netdrift.toml"))
        .unwrap()
        .replace(
            "[report]\n",
            "[report]\nwebhook_url = \"https://hooks.example.com/services/T000/B000/SECRETSECRET\"\n",
        );
    std::fs::write(
        &config,
        format!("{text}\n[evidence]\nsigning_key = \"{}\"\n", key.display()),
    )
    .unwrap();
    Setup {
        _dir: dir,
        root,
        db,
        config,
        key,
    }
}

fn export(s: &Setup, from: &str, to: &str, name: &str) -> PathBuf {
    let out = s.root.join(name);
    let r = ok(
        &s.db,
        &[
            "evidence",
            "export",
            "--from",
            from,
            "--to",
            to,
            "--out",
            &out.display().to_string(),
            "--config",
            &s.config.display().to_string(),
        ],
        0,
    );
    assert!(r.stdout.contains("signed by ed25519 key"), "{}", r.stdout);
    out
}

fn verify(s: &Setup, bundle: &Path, key: Option<&Path>) -> crate::support::Run {
    let mut args = vec![
        "evidence".to_string(),
        "verify".into(),
        bundle.display().to_string(),
    ];
    if let Some(k) = key {
        args.push("--public-key".into());
        args.push(k.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
    netdrift(&s.db, &args)
}

fn public(s: &Setup) -> PathBuf {
    let mut p = s.key.as_os_str().to_owned();
    p.push(".pub");
    p.into()
}

fn read(bundle: &Path) -> Vec<(String, Vec<u8>)> {
    let mut ar = tar::Archive::new(std::fs::File::open(bundle).unwrap());
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            (name, b)
        })
        .collect()
}

fn write(bundle: &Path, files: &[(String, Vec<u8>)]) {
    let mut tar = tar::Builder::new(std::fs::File::create(bundle).unwrap());
    for (name, bytes) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, name, bytes.as_slice()).unwrap();
    }
    tar.finish().unwrap();
}

fn get<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn export_then_verify_passes_and_holds_the_evidence() {
    let s = setup();
    let bundle = export(&s, "2026-11-01", "2026-12-31", "ok.tar");
    let r = ok(
        &s.db,
        &[
            "evidence",
            "verify",
            &bundle.display().to_string(),
            "--public-key",
            &public(&s).display().to_string(),
        ],
        0,
    );
    assert!(r.stdout.starts_with("OK: "), "{}", r.stdout);
    assert!(r.stdout.contains("3 run(s) hash-chained"), "{}", r.stdout);
    assert!(
        r.stdout.contains("signed by the trusted ed25519 key"),
        "{}",
        r.stdout
    );

    let files = read(&bundle);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for needed in [
        "manifest.json",
        "manifest.sig",
        "README.txt",
        "runs/000001.json",
        "runs/000002.json",
        "runs/000003.json",
        "drift/000002.json",
        "coverage/000002.json",
        "baselines.json",
        "baseline-states.json",
        "exceptions.json",
        "exception-patterns.json",
        "audit-events.json",
        "config.json",
        "controls.json",
    ] {
        assert!(names.contains(&needed), "{needed} missing from {names:?}");
    }
    assert!(names.iter().filter(|n| n.starts_with("snapshots/")).count() >= 8);
    let manifest = json(std::str::from_utf8(get(&files, "manifest.json")).unwrap());
    assert_eq!(manifest["format"], "netdrift-evidence");
    assert_eq!(manifest["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["empty"], false);
    assert_eq!(manifest["runs"].as_array().unwrap().len(), 3);

    // Drift items carry their attribution and controls; the raw events behind them are there.
    let drift = json(std::str::from_utf8(get(&files, "drift/000002.json")).unwrap());
    let web = drift
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60001")
        .unwrap();
    let event_id = web["attribution"]["actors"][0]["event_id"]
        .as_str()
        .unwrap();
    assert!(web["controls"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "PCI DSS v4.0 1.2.2"));
    let events = json(std::str::from_utf8(get(&files, "audit-events.json")).unwrap());
    let raw = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_id"] == event_id)
        .expect("the raw event behind the attribution");
    assert_eq!(raw["raw"]["eventName"], "AuthorizeSecurityGroupIngress");
    // Snapshots in canonical form, baselines with their approval.
    let snap = json(std::str::from_utf8(get(&files, "snapshots/000001.json")).unwrap());
    assert!(snap["resources"][0]["state_hash"].is_string());
    let baselines = json(std::str::from_utf8(get(&files, "baselines.json")).unwrap());
    assert_eq!(baselines[0]["baseline"]["approved_by"], "demo");
    // No secret leaves in the configuration.
    let config = std::str::from_utf8(get(&files, "config.json")).unwrap();
    assert!(!config.contains("SECRETSECRET"), "{config}");
    assert!(config.contains("[redacted]"), "{config}");
    // Each run recorded the configuration it ran with; no file of the bundle holds the secret.
    let config = json(config);
    let in_force = config["in_force"].as_array().unwrap();
    assert_eq!(
        in_force
            .iter()
            .map(|c| c["runs"].as_array().unwrap().len())
            .sum::<usize>(),
        3,
        "{config}"
    );
    assert!(
        in_force.iter().all(|c| c["config"]["file"].is_object()),
        "{config}"
    );
    for (name, body) in &files {
        assert!(
            !String::from_utf8_lossy(body).contains("SECRETSECRET"),
            "{name} holds the secret"
        );
    }
}

#[test]
fn a_flipped_byte_is_named_with_its_file() {
    let s = setup();
    let bundle = export(&s, "2026-11-01", "2026-12-31", "flip.tar");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let needle = b"AuthorizeSecurityGroupIngress";
    let files = read(&bundle);
    // Find the needle inside audit-events.json's data, not in another file.
    let content = get(&files, "audit-events.json");
    let within = content
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let file_start = bytes
        .windows(content.len().min(4096))
        .position(|w| w == &content[..content.len().min(4096)])
        .unwrap();
    bytes[file_start + within] ^= 0x01;
    std::fs::write(&bundle, &bytes).unwrap();
    let r = verify(&s, &bundle, Some(&public(&s)));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("FAILED"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("changed file: audit-events.json: SHA-256 is "),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.matches("  - ").count(),
        1,
        "exactly one problem: {}",
        r.stdout
    );
}

#[test]
fn a_deleted_file_is_named() {
    let s = setup();
    let bundle = export(&s, "2026-11-01", "2026-12-31", "del.tar");
    let files: Vec<_> = read(&bundle)
        .into_iter()
        .filter(|(n, _)| n != "baselines.json")
        .collect();
    write(&bundle, &files);
    let r = verify(&s, &bundle, Some(&public(&s)));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("missing file: baselines.json (listed in the manifest)"),
        "{}",
        r.stdout
    );
}

/// Drop run 2 and every trace of it from the manifest, as someone hiding a night would.
fn drop_run_two(files: &mut Vec<(String, Vec<u8>)>) {
    files.retain(|(n, _)| n != "runs/000002.json" && n != "manifest.sig");
    let (_, m) = files
        .iter_mut()
        .find(|(n, _)| n == "manifest.json")
        .unwrap();
    let mut manifest = json(std::str::from_utf8(m).unwrap());
    manifest["runs"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["id"] != 2);
    manifest["files"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["path"] != "runs/000002.json");
    manifest["signing_key"] = serde_json::Value::Null;
    *m = serde_json::to_vec_pretty(&manifest).unwrap();
}

#[test]
fn a_dropped_run_breaks_the_chain() {
    let s = setup();
    let bundle = export(&s, "2026-11-01", "2026-12-31", "drop.tar");
    let mut files = read(&bundle);
    drop_run_two(&mut files);
    write(&bundle, &files);
    // Even without a signature to lean on, the chain gives it away.
    let r = verify(&s, &bundle, None);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("broken chain between run 1 and run 3: run 3 links to "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("(a run was dropped or altered)"));
}

#[test]
fn a_bundle_re_signed_with_another_key_is_refused() {
    let s = setup();
    let bundle = export(&s, "2026-11-01", "2026-12-31", "resign.tar");
    let mut files = read(&bundle);
    drop_run_two(&mut files);
    // The forger signs the doctored manifest with their own key.
    let other = s.root.join("other.pem");
    ok(
        &s.db,
        &["evidence", "keygen", "--out", &other.display().to_string()],
        0,
    );
    let key = netdrift::evidence::load_signing_key(&other).unwrap();
    let manifest = get(&files, "manifest.json").to_vec();
    let sig = serde_json::json!({
        "algorithm": "ed25519",
        "public_key": hex::encode(key.verifying_key().as_bytes()),
        "signature": hex::encode(key.sign(&manifest).to_bytes()),
    });
    files.push(("manifest.sig".into(), serde_json::to_vec(&sig).unwrap()));
    write(&bundle, &files);
    let r = verify(&s, &bundle, Some(&public(&s)));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("wrong key: the manifest is signed by key sha256:"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("not by the trusted key sha256:"));

    // A manifest edited after signing fails the signature itself.
    let bundle2 = export(&s, "2026-11-01", "2026-12-31", "edited.tar");
    let mut files = read(&bundle2);
    let (_, m) = files
        .iter_mut()
        .find(|(n, _)| n == "manifest.json")
        .unwrap();
    let text = String::from_utf8(m.clone())
        .unwrap()
        .replace("\"empty\": false", "\"empty\": false ");
    *m = text.into_bytes();
    write(&bundle2, &files);
    let r = verify(&s, &bundle2, Some(&public(&s)));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("bad signature: manifest.sig does not match manifest.json"),
        "{}",
        r.stdout
    );

    // Requiring a signature on an unsigned bundle fails too.
    let bundle3 = s.root.join("unsigned.tar");
    let files: Vec<_> = read(&bundle)
        .into_iter()
        .filter(|(n, _)| n != "manifest.sig")
        .collect();
    write(&bundle3, &files);
    let r = verify(&s, &bundle3, Some(&public(&s)));
    assert!(
        r.stdout
            .contains("not signed: the bundle has no manifest.sig"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_period_without_runs_is_an_explicit_valid_empty_bundle() {
    let s = setup();
    let out = s.root.join("empty.tar");
    let r = ok(
        &s.db,
        &[
            "evidence",
            "export",
            "--from",
            "2001-01-01",
            "--to",
            "2001-01-31",
            "--out",
            &out.display().to_string(),
            "--config",
            &s.config.display().to_string(),
        ],
        0,
    );
    assert!(r.stdout.contains("0 run(s) (empty period)"), "{}", r.stdout);
    let r = verify(&s, &out, Some(&public(&s)));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout
            .contains("EMPTY: no reconcile run finished in this period"),
        "{}",
        r.stdout
    );
    let files = read(&out);
    let manifest = json(std::str::from_utf8(get(&files, "manifest.json")).unwrap());
    assert_eq!(manifest["empty"], true);
    assert_eq!(manifest["runs"], serde_json::json!([]));
    let readme = std::str::from_utf8(get(&files, "README.txt")).unwrap();
    assert!(readme.contains("EMPTY: no reconcile run finished in this period"));
    let counts: BTreeMap<String, usize> =
        serde_json::from_value(manifest["counts"].clone()).unwrap();
    assert_eq!(counts["runs"], 0);
    assert_eq!(counts["drift_items"], 0);
}

/// Export without a signing key (the demo's own configuration).
fn export_unsigned(s: &Setup, name: &str) -> PathBuf {
    let out = s.root.join(name);
    let r = ok(
        &s.db,
        &[
            "evidence",
            "export",
            "--from",
            "2026-01-01",
            "--to",
            "2027-12-31",
            "--out",
            &out.display().to_string(),
            "--config",
            &s.root.join("demo/netdrift.toml").display().to_string(),
        ],
        0,
    );
    assert!(r.stdout.contains("not signed"), "{}", r.stdout);
    out
}

/// Rebuild the manifest's file list (hashes and sizes) after editing files, as a forger of an
/// unsigned bundle would.
fn reseal(files: &mut [(String, Vec<u8>)], edit_manifest: impl FnOnce(&mut serde_json::Value)) {
    use sha2::Digest;
    let mut manifest = json(std::str::from_utf8(get(files, "manifest.json")).unwrap());
    edit_manifest(&mut manifest);
    let sums: BTreeMap<String, (String, usize)> = files
        .iter()
        .map(|(n, b)| (n.clone(), (hex::encode(sha2::Sha256::digest(b)), b.len())))
        .collect();
    for f in manifest["files"].as_array_mut().unwrap() {
        let (sha, len) = &sums[f["path"].as_str().unwrap()];
        f["sha256"] = serde_json::json!(sha);
        f["bytes"] = serde_json::json!(len);
    }
    let text = serde_json::to_vec_pretty(&manifest).unwrap();
    files
        .iter_mut()
        .find(|(n, _)| n == "manifest.json")
        .unwrap()
        .1 = text;
}

#[test]
fn unsigned_bundles_are_checked_against_the_chain_and_say_authenticity_was_not_checked() {
    let s = setup();
    let bundle = export_unsigned(&s, "plain.tar");
    let r = ok(
        &s.db,
        &["evidence", "verify", &bundle.display().to_string()],
        0,
    );
    assert!(
        r.stdout.contains("AUTHENTICITY NOT CHECKED"),
        "{}",
        r.stdout
    );
    // Delete the top critical item of run 2 and rebuild the manifest: the chained run record
    // still holds it, so verify names it.
    let mut files = read(&bundle);
    let name = "drift/000002.json";
    let mut items: Vec<serde_json::Value> = serde_json::from_slice(get(&files, name)).unwrap();
    let idx = items
        .iter()
        .position(|i| i["severity"] == "critical")
        .unwrap();
    let removed = items.remove(idx)["id"].as_str().unwrap().to_string();
    files.iter_mut().find(|(n, _)| n == name).unwrap().1 = serde_json::to_vec(&items).unwrap();
    // And one coverage finding of run 2.
    let cov = "coverage/000002.json";
    let mut c: Vec<serde_json::Value> = serde_json::from_slice(get(&files, cov)).unwrap();
    c.pop();
    files.iter_mut().find(|(n, _)| n == cov).unwrap().1 = serde_json::to_vec(&c).unwrap();
    reseal(&mut files, |_| {});
    let forged = s.root.join("forged.tar");
    write(&forged, &files);
    let r = netdrift(
        &s.db,
        &["evidence", "verify", &forged.display().to_string()],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!(
            "{name}: drift item {removed} of run 2's chained record is missing"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("coverage/000002.json"), "{}", r.stdout);
}

#[test]
fn a_short_or_odd_chain_anchor_never_panics_verify() {
    let s = setup();
    let bundle = export_unsigned(&s, "plain.tar");
    let mut files = read(&bundle);
    // Re-chain every run from a 5-byte, non-hex anchor (a forger can; verify must not panic).
    let mut manifest = json(std::str::from_utf8(get(&files, "manifest.json")).unwrap());
    let mut prev = "ab\u{e9}c".to_string();
    let mut anchor = None;
    for link in manifest["runs"].as_array_mut().unwrap() {
        let rn = format!("runs/{:06}.json", link["id"].as_i64().unwrap());
        let mut rf = json(std::str::from_utf8(get(&files, &rn)).unwrap());
        let hash = netdrift::store::runs::run_hash(&prev, rf["record"].as_str().unwrap());
        rf["prev_hash"] = serde_json::json!(prev);
        rf["hash"] = serde_json::json!(hash);
        anchor.get_or_insert(prev.clone());
        link["prev_hash"] = serde_json::json!(prev);
        link["hash"] = serde_json::json!(hash);
        files.iter_mut().find(|(n, _)| *n == rn).unwrap().1 =
            serde_json::to_vec_pretty(&rf).unwrap();
        prev = hash;
    }
    manifest["chain"]["anchor"] = serde_json::json!(anchor.unwrap());
    manifest["chain"]["head"] = serde_json::json!(prev);
    files
        .iter_mut()
        .find(|(n, _)| n == "manifest.json")
        .unwrap()
        .1 = serde_json::to_vec(&manifest).unwrap();
    reseal(&mut files, |_| {});
    let forged = s.root.join("anchor.tar");
    write(&forged, &files);
    let r = netdrift(
        &s.db,
        &["evidence", "verify", &forged.display().to_string()],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        r.stdout.contains("hash-chained from \"ab\u{e9}c\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("AUTHENTICITY NOT CHECKED"),
        "{}",
        r.stdout
    );
}

/// An unchanged run (the same dumps a day later) stores its record and nothing else: its
/// snapshots are the previous run's seen again, its items, coverage, configuration and summary
/// parts are the ones already stored; its record names them by address and stays small.
#[test]
fn an_unchanged_run_stores_only_its_record_and_still_verifies() {
    let s = setup();
    let count = |sql: &str| -> i64 {
        rusqlite::Connection::open(&s.db)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    let tables = [
        "SELECT COUNT(*) FROM snapshots",
        "SELECT COUNT(*) FROM run_parts",
        "SELECT COUNT(*) FROM resource_states",
        "SELECT COUNT(*) FROM manifests",
    ];
    let before: Vec<i64> = tables.iter().map(|q| count(q)).collect();
    let config = s.root.join("demo/netdrift.toml").display().to_string();
    ok(
        &s.db,
        &["run", "--config", &config, "--at", "2026-11-27T02:00:00Z"],
        1,
    );
    let after: Vec<i64> = tables.iter().map(|q| count(q)).collect();
    assert_eq!(after, before, "{tables:?}");
    assert!(
        count("SELECT MAX(length(record) + length(summary)) FROM runs WHERE id = 4") < 1200,
        "an unchanged run's record names its parts"
    );
    // The snapshots were seen again at the new run's time.
    assert_eq!(
        count("SELECT COUNT(*) FROM snapshots WHERE seen_at = '2026-11-27T02:00:00Z'"),
        4
    );
    let listing = json(&ok(&s.db, &["snapshots", "--format", "json"], 0).stdout);
    assert!(
        listing["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["seen_at"] == "2026-11-27T02:00:00Z" && r["taken_at"] != r["seen_at"]),
        "{listing:#}"
    );
    // Runs 3 and 4 report the same drift; the bundle of all four verifies.
    let bundle = export_unsigned(&s, "unchanged.tar");
    let files = read(&bundle);
    let drift = |run: &str| {
        json(std::str::from_utf8(get(&files, &format!("drift/00000{run}.json"))).unwrap())
    };
    assert_eq!(drift("4"), drift("3"));
    assert!(!drift("4").as_array().unwrap().is_empty());
    let r = ok(
        &s.db,
        &["evidence", "verify", &bundle.display().to_string()],
        0,
    );
    assert!(r.stdout.contains("4 run(s) hash-chained"), "{}", r.stdout);
}

/// A part of run-parts.json edited (and the manifest rebuilt): verify names the part, and the
/// runs whose records no longer find it.
#[test]
fn a_forged_run_part_is_named() {
    let s = setup();
    let bundle = export_unsigned(&s, "parts.tar");
    let mut files = read(&bundle);
    let mut parts: BTreeMap<String, String> =
        serde_json::from_slice(get(&files, "run-parts.json")).unwrap();
    let (address, text) = parts
        .iter()
        .find(|(_, t)| t.contains("\"severity\":\"critical\""))
        .map(|(a, t)| (a.clone(), t.clone()))
        .unwrap();
    parts.insert(
        address.clone(),
        text.replace("\"severity\":\"critical\"", "\"severity\":\"low\""),
    );
    let forged = s.root.join("forged-part.tar");
    let r = forge(&s, &mut files, "run-parts.json", &parts, &forged);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("run-parts.json: the part at {address} hashes to")),
        "{}",
        r.stdout
    );
    // Moved to its new address instead: the runs' records no longer find the part.
    let forged_text = parts.remove(&address).unwrap();
    use sha2::Digest;
    parts.insert(
        hex::encode(sha2::Sha256::digest(forged_text.as_bytes())),
        forged_text,
    );
    let r = forge(&s, &mut files, "run-parts.json", &parts, &forged);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!(
            "part {address} of its chained record is missing from run-parts.json"
        )),
        "{}",
        r.stdout
    );
}

/// Run retention prunes a prefix of the chain behind a checkpoint: the newest run is kept, the
/// kept runs' parts and snapshots stay, and a bundle of what is left verifies from genesis
/// through the checkpoints; a dropped checkpoint or a run that no longer links is named.
#[test]
fn pruned_runs_leave_a_checkpoint_and_the_chain_still_verifies() {
    let s = setup();
    let config = s.root.join("demo/netdrift.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let cfg = netdrift::config::Config::parse(
        &format!("{text}\n[retention]\nruns_max_age_days = 30\nmax_age_days = 30\n"),
        &s.root.join("demo"),
        "retention.toml",
    )
    .unwrap();
    let later = |days: i64| chrono::Utc::now() + chrono::Duration::days(days);
    let prune = |days: i64| {
        let mut store = netdrift::store::SqliteStore::open(&s.db).unwrap();
        netdrift::daemon::retention(&mut store, &cfg, later(days)).unwrap()
    };
    // Nothing is 30 days old yet.
    assert!(prune(0).contains("no run old enough"), "{}", prune(0));
    // Forty days on, every run but the newest (3) goes: one checkpoint for runs 1-2.
    let said = prune(40);
    assert!(
        said.contains("pruned runs 1-2 (2 run(s), checkpoint 1)"),
        "{said}"
    );
    let store = netdrift::store::SqliteStore::open(&s.db).unwrap();
    assert_eq!(
        store
            .runs(10)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [3]
    );
    assert!(
        !store.run_items(3).unwrap().is_empty(),
        "the kept run's parts stay"
    );
    let snaps = store.run_snapshot_ids(3).unwrap();
    assert!(snaps
        .iter()
        .all(|id| store.snapshot(*id).unwrap().is_some()));
    drop(store);
    // A fourth run, then another prune: checkpoint 2 for run 3, chained to the first.
    ok(
        &s.db,
        &[
            "run",
            "--config",
            &config.display().to_string(),
            "--at",
            "2026-11-27T02:00:00Z",
        ],
        1,
    );
    assert!(prune(80).contains("pruned runs 3-3 (1 run(s), checkpoint 2)"));
    let bundle = export_unsigned(&s, "pruned.tar");
    let r = ok(
        &s.db,
        &["evidence", "verify", &bundle.display().to_string()],
        0,
    );
    assert!(r.stdout.contains("1 run(s) hash-chained"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("through 3 run(s) retention pruned (runs 1-3, checkpoints.json)"),
        "{}",
        r.stdout
    );
    let v = json(
        &ok(
            &s.db,
            &[
                "evidence",
                "verify",
                &bundle.display().to_string(),
                "--format",
                "json",
            ],
            0,
        )
        .stdout,
    );
    assert_eq!(
        v["pruned"],
        serde_json::json!({"runs": 3, "first_run": 1, "last_run": 3})
    );
    // Drop the first checkpoint: the second no longer links to genesis.
    let mut files = read(&bundle);
    let mut cps: Vec<serde_json::Value> =
        serde_json::from_slice(get(&files, "checkpoints.json")).unwrap();
    assert_eq!(cps.len(), 2);
    cps.remove(0);
    let forged = s.root.join("forged-cp.tar");
    let r = forge(&s, &mut files, "checkpoints.json", &cps, &forged);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("checkpoints.json: checkpoint 2 links to"),
        "{}",
        r.stdout
    );
    // Edit the remaining checkpoint's head: its hash and the run's link both say so.
    let mut files = read(&bundle);
    let mut cps: Vec<serde_json::Value> =
        serde_json::from_slice(get(&files, "checkpoints.json")).unwrap();
    let record = cps[1]["record"]
        .as_str()
        .unwrap()
        .replace("\"head\":\"", "\"head\":\"00");
    cps[1]["record"] = serde_json::json!(record);
    let r = forge(&s, &mut files, "checkpoints.json", &cps, &forged);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("checkpoint 2: its record hashes to"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("run 4 links to"), "{}", r.stdout);
}

#[test]
fn a_zero_retention_is_refused_with_its_key() {
    let got =
        crate::support::config_problems("[retention]\nruns_max_age_days = 0\nmax_age_days = 0\n");
    let msgs: Vec<&str> = got.iter().map(|(_, m)| m.as_str()).collect();
    for key in ["runs_max_age_days", "max_age_days"] {
        assert!(
            msgs.iter()
                .any(|m| m.contains(&format!("[retention] {key} = 0: at least 1"))),
            "{msgs:?}"
        );
    }
}

/// Replace `name` in a bundle's files with `value`, rebuild the manifest, write it to `out` and
/// verify it.
fn forge(
    s: &Setup,
    files: &mut [(String, Vec<u8>)],
    name: &str,
    value: &impl serde::Serialize,
    out: &Path,
) -> crate::support::Run {
    files.iter_mut().find(|(n, _)| n == name).unwrap().1 = serde_json::to_vec(value).unwrap();
    reseal(files, |_| {});
    write(out, files);
    netdrift(&s.db, &["evidence", "verify", &out.display().to_string()])
}
