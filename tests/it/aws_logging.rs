//! Whether each AWS region's firewall changes are logged at all (CloudTrail's trails, status
//! and selectors), live against moto behind the project's proxy, with the coverage matrix.

use crate::aws::{run, seed_estate, Emulator, A, B};
use crate::support::*;

#[test]
fn audit_logging_per_region_missing_stopped_excluded_shadow_and_unverified() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    // Account A: a stopped trail in us-east-1, a trail recording only reads in eu-west-1,
    // nothing in ap-southeast-2. Account B: one multi-region trail homed in eu-west-1 with
    // advanced selectors, which the other regions see as a shadow trail.
    let stopped = emu.seed(&["trail", A, "us-east-1", "east", "single", "stopped"]);
    emu.seed(&["trail", A, "eu-west-1", "reads", "single", "readonly"]);
    let shadow = emu.seed(&["trail", B, "eu-west-1", "everywhere", "multi", "advanced"]);
    assert!(shadow.contains(":eu-west-1:"), "{shadow}");
    seed_estate(&emu);
    let cfg = dir.path().join("trails.toml");
    std::fs::write(
        &cfg,
        format!(
            "[report]\ndirectory = \"reports\"\n\n[[source]]\nprovider = \"aws\"\nname = \"org\"\nregions = [\"us-east-1\", \"eu-west-1\", \"ap-southeast-2\"]\nassume_roles = [\"arn:aws:iam::{A}:role/NetdriftAudit\", \"arn:aws:iam::{B}:role/NetdriftAudit\"]\nendpoint_url = \"{}\"\nmax_attempts = 1\n",
            emu.endpoint
        ),
    )
    .unwrap();
    let db = dir.path().join("trails.db");
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 3, "{out}\n{err}");
    // B's multi-region trail is described in all three regions, but its status and selectors
    // are read once.
    let calls = emu.calls();
    for action in ["GetEventSelectors", "GetTrailStatus"] {
        let of_b = calls
            .iter()
            .filter(|c| c["action"] == action && c["account"] == B)
            .count();
        assert_eq!(of_b, 1, "{action} of account {B}: {calls:?}");
    }
    for region in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        assert!(
            calls.iter().any(|c| c["action"] == "DescribeTrails"
                && c["account"] == B
                && c["region"] == region),
            "every region still describes its trails: {region}"
        );
    }
    let finding = |code: &str, scope: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("coverage: {code} {scope}:")))
            .map(str::to_string)
    };
    let line = finding("audit-trail-stopped", &format!("aws:{A}:us-east-1"))
        .unwrap_or_else(|| panic!("{out}\n{err}"));
    assert!(line.contains("not logging"), "{line}");
    assert!(
        finding(
            "audit-management-events-excluded",
            &format!("aws:{A}:eu-west-1")
        )
        .is_some(),
        "{out}"
    );
    assert!(
        finding("audit-trail-missing", &format!("aws:{A}:ap-southeast-2")).is_some(),
        "{out}"
    );
    for region in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        assert!(
            !out.contains(&format!("audit-trail-missing aws:{B}:{region}"))
                && !out.contains(&format!("audit-trail-stopped aws:{B}:{region}")),
            "B's multi-region trail covers {region}: {out}"
        );
    }
    // The evidence names what was checked.
    let v = json(&std::fs::read_to_string(dir.path().join("reports/latest.json")).unwrap());
    let stopped_finding = v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "audit-trail-stopped")
        .unwrap();
    let evidence = stopped_finding["evidence"][0].as_str().unwrap();
    assert!(
        evidence.starts_with(&stopped)
            && evidence.contains("logging no, management write events yes"),
        "{evidence}"
    );

    // The coverage matrix shows every scope at once.
    let md = std::fs::read_to_string(dir.path().join("reports/latest.md")).unwrap();
    for row in [
        // The seeding's writes went through the proxy, which serves them as CloudTrail events.
        format!("| aws:{A}:us-east-1 | complete | read | trail-stopped | 20"),
        format!("| aws:{A}:eu-west-1 | complete | read | management-events-excluded | 20"),
        format!("| aws:{A}:ap-southeast-2 | complete | read | trail-missing | never |"),
        format!("| aws:{B}:us-east-1 | complete | read | logged | 20"),
    ] {
        assert!(md.contains(&row), "{row}\n{md}");
    }

    // DescribeTrails refused in one scope: unverified, never logged, the call named.
    emu.faults(serde_json::json!([
        {"action": "DescribeTrails", "account": B, "region": "us-east-1", "mode": "deny"},
    ]));
    let (code, out, err) = run(&db, &cfg);
    assert_eq!(code, 3, "{out}\n{err}");
    let line = out
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "coverage: audit-logging-unverified aws:{B}:us-east-1:"
            ))
        })
        .unwrap_or_else(|| panic!("{out}\n{err}"));
    assert!(line.contains("DescribeTrails"), "{line}");
    assert!(
        !out.contains(&format!("audit-logging-unverified aws:{B}:eu-west-1")),
        "{out}"
    );
}
