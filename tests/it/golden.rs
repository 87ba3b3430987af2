//! Golden files for what users and their tools parse: `drift --format json`, the OCSF lines and
//! the evidence manifest, from the bundled demo at a fixed clock (`NETDRIFT_FIXED_NOW`), so ids,
//! hashes and times are the same on every machine. `UPDATE_GOLDENS=1` rewrites them; review
//! the diff before committing.

use std::path::Path;
use std::process::Command;

use crate::support::repo;

const NOW: &str = "2026-11-25T06:00:00Z";

fn netdrift(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(args)
        .env("NETDRIFT_DB", dir.join("netdrift.db"))
        .env("NETDRIFT_FIXED_NOW", NOW)
        .env_remove("NETDRIFT_CONFIG")
        .output()
        .expect("run netdrift");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some(),
        "netdrift {args:?} was killed: {stderr}"
    );
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Compare with testdata/golden/NAME (UPDATE_GOLDENS=1 rewrites it). The run's directory is
/// written as `$DIR`.
fn golden(name: &str, got: &str, dir: &Path) {
    let got = got.replace(&dir.display().to_string(), "$DIR");
    let path = repo().join("testdata/golden").join(name);
    if std::env::var("UPDATE_GOLDENS").is_ok() {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "golden {} missing: run with UPDATE_GOLDENS=1 and review",
            path.display()
        )
    });
    if want != got {
        let line = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(got.lines().count()));
        panic!(
            "golden {name} differs at line {} (UPDATE_GOLDENS=1 to accept an intended change)\nwant: {:?}\n got: {:?}",
            line + 1,
            want.lines().nth(line),
            got.lines().nth(line)
        );
    }
}

#[test]
fn drift_json_ocsf_and_evidence_manifest_match_their_goldens() {
    // A fixed directory: file paths are part of what is hashed (a coverage finding names the
    // broken dump), so the run chain is the same only when the paths are.
    let root = Path::new("/tmp/netdrift-golden");
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).unwrap();
    let dir = root.join("demo");
    let d = dir.display().to_string();
    let (code, _) = netdrift(&dir, &["demo", "--dir", &d]);
    assert_eq!(code, 1, "the demo ends with unapproved drift");
    let config = dir.join("netdrift.toml").display().to_string();

    let (code, json) = netdrift(&dir, &["drift", "--format", "json", "--config", &config]);
    assert_eq!(code, 1);
    golden("demo_drift.json", &json, &dir);

    let ocsf = std::fs::read_dir(dir.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".ocsf.jsonl"))
        .expect("an OCSF report");
    golden(
        "demo_ocsf.jsonl",
        &std::fs::read_to_string(ocsf).unwrap(),
        &dir,
    );

    let bundle = root.join("evidence.tar");
    let (code, _) = netdrift(
        &dir,
        &[
            "evidence",
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--out",
            &bundle.display().to_string(),
            "--config",
            &config,
        ],
    );
    assert_eq!(code, 0);
    let manifest = String::from_utf8(
        crate::support::bundle_entry(&bundle, "manifest.json").unwrap_or_default(),
    )
    .unwrap();
    assert!(!manifest.is_empty(), "the bundle has a manifest");
    golden("demo_evidence_manifest.json", &manifest, &dir);

    // The same inputs at the same clock give the same bytes.
    let (_, again) = netdrift(&dir, &["drift", "--format", "json", "--config", &config]);
    assert_eq!(json, again);
    let _ = std::fs::remove_dir_all(root);
}
