//! `--format json` on every command that reports what it did: standard output is exactly one
//! JSON document (warnings stay on standard error), and the exit status is the text form's.

use crate::support::*;

/// Standard output parsed whole: nothing but the document.
fn doc(r: &Run) -> serde_json::Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", r.stdout))
}

#[test]
fn demo_and_run_print_the_run_and_its_drift_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let r = ok(
        &dir.path().join("unused.db"),
        &[
            "demo",
            "--dir",
            &out.display().to_string(),
            "--format",
            "json",
        ],
        1,
    );
    let v = doc(&r);
    assert_eq!(v["day1"]["baseline"]["entries"], 13, "{v:#}");
    assert_eq!(v["day1"]["collected"].as_array().unwrap().len(), 4);
    let day2 = &v["day2"];
    assert_eq!(day2["drift"].as_array().unwrap().len(), 10);
    assert_eq!(day2["coverage"].as_array().unwrap().len(), 2);
    assert_eq!(day2["audit_events"], 13);
    assert!(day2["run_id"].as_i64().unwrap() >= 2);
    let failed = day2["collected"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["scope"] == "aws:111122223333:eu-west-1")
        .unwrap();
    assert_eq!(failed["status"], "failed");
    assert!(day2["report_files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f.as_str().unwrap().ends_with(".asff.json")));
    assert_eq!(v["database"], out.join("netdrift.db").display().to_string());

    // `run` prints the same shape as the demo's day 2: the drift report's fields and the run's.
    let db = out.join("netdrift.db");
    let cfg = out.join("netdrift.toml").display().to_string();
    let r = ok(
        &db,
        &[
            "run",
            "--config",
            &cfg,
            "--at",
            "2026-11-26T02:00:00Z",
            "--format",
            "json",
        ],
        1,
    );
    let run = doc(&r);
    for key in [
        "schema_version",
        "generated_at",
        "drift",
        "coverage",
        "run_id",
        "collected",
    ] {
        assert!(
            run.get(key).is_some(),
            "run --format json lacks {key}: {run:#}"
        );
    }
    assert_eq!(
        run["run_id"].as_i64(),
        day2["run_id"].as_i64().map(|i| i + 1)
    );
    let drift = doc(&ok(&db, &["drift", "--format", "json"], 1));
    assert_eq!(
        run["drift"].as_array().unwrap().len(),
        drift["drift"].as_array().unwrap().len()
    );
}

#[test]
fn import_and_audit_import_say_what_they_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("j.db");
    let sg = demo("aws/day1/security-groups.json");
    let v = doc(&ok(
        &db,
        &[
            "import",
            "--provider",
            "aws",
            "--scope",
            "111122223333",
            "--region",
            "us-east-1",
            "--at",
            "2026-11-24T02:00:00Z",
            "--format",
            "json",
            &sg,
        ],
        0,
    ));
    assert_eq!(v["snapshot_id"], 1, "{v:#}");
    assert_eq!(v["scope"], "aws:111122223333:us-east-1");
    assert_eq!(v["taken_at"], "2026-11-24T02:00:00Z");
    assert!(v["resources"].as_u64().unwrap() > 0 && v["rules"].as_u64().unwrap() > 0);
    assert_eq!(v["files"][0], sg);

    let trail = demo("audit/cloudtrail-2026-11-24.json");
    let args = [
        "audit",
        "import",
        "--provider",
        "aws",
        "--format",
        "json",
        &trail,
    ];
    let first = doc(&ok(&db, &args, 0));
    assert!(first["new_events"].as_u64().unwrap() > 0, "{first:#}");
    assert_eq!(first["files"], 1);
    let again = doc(&ok(&db, &args, 0));
    assert_eq!(again["new_events"], 0);
    assert_eq!(again["already_stored"], first["new_events"]);
    assert!(again["skipped"].as_array().unwrap().is_empty());
}

#[test]
fn config_check_json_names_each_problem_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unused.db");
    std::fs::write(dir.path().join("sg.json"), "{\"SecurityGroups\": []}").unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[[source]]\nname = \"a\"\nprovider = \"aws\"\naccount = \"111122223333\"\nregion = \"us-east-1\"\nfiles = [\"sg.json\"]\n",
    )
    .unwrap();
    let v = doc(&ok(
        &db,
        &[
            "config",
            "check",
            &good.display().to_string(),
            "--format",
            "json",
        ],
        0,
    ));
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    assert_eq!(v["sources"][0]["scope"], "aws:111122223333:us-east-1");

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[schedule]\nreconcile = \"0 2 * * *\"\ntimezone = \"Mars/Olympus\"\n\n[[source]]\nname = \"a\"\nprovider = \"aws\"\naccount = \"111122223333\"\nregion = \"us-east-1\"\nfiles = [\"sg.json\", \"gone.json\"]\n",
    )
    .unwrap();
    // A bad value is a configuration error; it is reported at its key's line.
    let r = ok(
        &db,
        &[
            "config",
            "check",
            &bad.display().to_string(),
            "--format",
            "json",
        ],
        2,
    );
    let v = doc(&r);
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"][0]["line"], 3, "{v:#}");
    assert!(v["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("timezone"));
    // The text form says the same, one problem a line.
    let r = ok(&db, &["config", "check", &bad.display().to_string()], 2);
    assert!(
        r.stderr.contains("line 3: schedule: field `timezone`"),
        "{}",
        r.stderr
    );

    // Once the values are right, a file it names that is missing is the problem left.
    std::fs::write(
        &bad,
        std::fs::read_to_string(&bad)
            .unwrap()
            .replace("Mars/Olympus", "UTC"),
    )
    .unwrap();
    let r = ok(
        &db,
        &[
            "config",
            "check",
            &bad.display().to_string(),
            "--format",
            "json",
        ],
        2,
    );
    let v = doc(&r);
    assert_eq!(v["problems"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(v["problems"][0]["line"], 10);
    let msg = v["problems"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("gone.json does not exist") && msg.contains("source \"a\""),
        "{msg}"
    );
    let r = ok(&db, &["config", "check", &bad.display().to_string()], 2);
    assert!(
        r.stderr.contains("gone.json does not exist"),
        "{}",
        r.stderr
    );
}

#[test]
fn evidence_verify_json_gives_the_verdict_and_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let db = run_demo(dir.path()).db;
    let bundle = dir.path().join("e.tar");
    export_all(&db, &bundle);
    let b = bundle.display().to_string();
    let v = doc(&ok(&db, &["evidence", "verify", &b, "--format", "json"], 0));
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(v["runs"], 2);
    assert_eq!(v["authenticity_checked"], false);
    assert!(v["files_checked"].as_u64().unwrap() > 0);
    assert!(v["chain"]["head"].as_str().unwrap().len() == 64);

    // One byte changed: not ok, exit 1, the problem named.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.windows(7).position(|w| w == b"\"scope\"").unwrap();
    bytes[at + 1] = b'D';
    std::fs::write(&bundle, bytes).unwrap();
    let v = doc(&ok(&db, &["evidence", "verify", &b, "--format", "json"], 1));
    assert_eq!(v["ok"], false);
    assert!(!v["problems"].as_array().unwrap().is_empty(), "{v:#}");
}
