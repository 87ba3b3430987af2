use crate::support::*;

fn demo_report() -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = run_demo(dir.path()).dir;
    let v = json(&std::fs::read_to_string(out.join("reports/latest.json")).unwrap());
    (dir, v)
}

fn item<'a>(
    v: &'a serde_json::Value,
    resource_suffix: &str,
    direction: &str,
) -> &'a serde_json::Value {
    v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["resource"].as_str().unwrap().ends_with(resource_suffix)
                && i["direction"] == direction
        })
        .unwrap_or_else(|| panic!("no {resource_suffix} {direction} item"))
}

#[test]
fn demo_drift_names_the_right_actors() {
    let (_d, v) = demo_report();
    // A role session traced back to the IAM user who assumed it.
    let web = &item(&v, "sg-0a1b2c3d4e5f60001", "ingress")["attribution"];
    assert_eq!(web["status"], "exact");
    let a = &web["actors"][0];
    assert_eq!(
        a["principal"],
        "arn:aws:sts::111122223333:assumed-role/AdminAccess/alice"
    );
    assert_eq!(a["class"], "human");
    assert_eq!(a["key_type"], "temporary");
    assert!(
        a["chain"][0]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::111122223333:user/alice"),
        "{a}"
    );
    assert_eq!(a["tool"], "console");
    // The failed revoke by the same session is an attempt, never the change.
    assert_eq!(web["actors"].as_array().unwrap().len(), 1);
    assert_eq!(
        web["attempts"][0]["event_name"],
        "RevokeSecurityGroupIngress"
    );
    assert_eq!(web["attempts"][0]["succeeded"], false);
    // In-place edit by ModifySecurityGroupRules with a long-term key.
    let db = item(&v, "sg-0a1b2c3d4e5f60002", "ingress");
    assert_eq!(db["attribution"]["status"], "exact");
    assert_eq!(
        db["attribution"]["actors"][0]["event_name"],
        "ModifySecurityGroupRules"
    );
    assert_eq!(db["attribution"]["actors"][0]["class"], "long-term-key");
    assert!(db["reasons"].to_string().contains("long-term access key"));
    // A deleted NACL deny entry by root.
    let acl = &item(&v, "acl-0a1b2c3d4e5f60001", "ingress")["attribution"];
    assert_eq!(acl["status"], "exact");
    assert_eq!(acl["actors"][0]["class"], "root");
    // GCP: a patch through an impersonated service account is traced to the person.
    let gcp = &item(&v, "firewalls/deny-ssh-internet", "ingress")["attribution"];
    assert_eq!(gcp["status"], "exact");
    assert_eq!(
        gcp["actors"][0]["principal"],
        "infra-automation@acme-prod.iam.gserviceaccount.com"
    );
    assert_eq!(
        gcp["actors"][0]["chain"][0],
        "impersonated by bob@acme.example"
    );
    assert_eq!(gcp["actors"][0]["class"], "human");
    // GCP operation logged first and last: one actor.
    let ne = &item(&v, "firewalls/allow-node-exporter", "ingress")["attribution"];
    assert_eq!(ne["actors"].as_array().unwrap().len(), 1);
    assert_eq!(ne["actors"][0]["tool"], "gcloud");
    // Azure: the role from authorization.evidence.
    let rdp = &item(&v, "networksecuritygroups/app-nsg", "ingress")["attribution"];
    assert_eq!(rdp["status"], "exact");
    assert_eq!(rdp["actors"][0]["role"], "Network Contributor");
    assert_eq!(rdp["actors"][0]["principal"], "dave@contoso.example");
    // Azure egress made inside a change record by an allowed principal: annotated, lowered.
    let out = item(&v, "networksecuritygroups/app-nsg", "egress");
    assert_eq!(out["attribution"]["change_record"]["ticket"], "CHG-2211");
    assert!(out["reasons"].to_string().contains("lowered one level"));
    // No event at all while the logs cover the window: a possible logging gap.
    let sftp = &item(&v, "sg-0a1b2c3d4e5f60004", "ingress")["attribution"];
    assert_eq!(sftp["status"], "unattributed");
    assert!(sftp["reason"]
        .as_str()
        .unwrap()
        .contains("possible logging gap"));
    assert!(v["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == "logging-gap"));
}

#[test]
fn unattributed_reasons_two_actors_and_idempotent_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_day(&db, "day1", "2026-11-24T02:00:00Z");
    ok(
        &db,
        &["baseline", "approve", "--all", "--by", "t", "--reason", "r"],
        0,
    );
    import_day(&db, "day2", "2026-11-25T02:00:00Z");
    // No logs at all.
    let v = json(
        &ok(
            &db,
            &["drift", "--format", "json", "--scope", "gcp:acme-prod"],
            1,
        )
        .stdout,
    );
    let a = &v["drift"][0]["attribution"];
    assert_eq!(a["status"], "unattributed");
    assert!(
        a["reason"]
            .as_str()
            .unwrap()
            .starts_with("no audit logs imported for acme-prod"),
        "{a}"
    );
    // Two actors on one drift item, in time order; importing the same file twice changes nothing.
    let rec = |id: &str, who: &str, time: &str| {
        serde_json::json!({
        "eventVersion": "1.08", "eventID": id, "eventName": "AuthorizeSecurityGroupIngress", "eventSource": "ec2.amazonaws.com",
        "eventTime": time, "awsRegion": "us-east-1", "recipientAccountId": "111122223333", "sourceIPAddress": "203.0.113.5",
        "userAgent": "aws-cli/2.15.0", "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/{who}"), "accessKeyId": "ASIAX"},
        "requestParameters": {"groupId": "sg-0a1b2c3d4e5f60001", "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}})
    };
    let file = dir.path().join("ct.json");
    let doc = serde_json::json!({"Records": [rec("e2", "zoe", "2026-11-24T18:00:00Z"), rec("e1", "yann", "2026-11-24T08:00:00Z")]});
    std::fs::write(&file, doc.to_string()).unwrap();
    let f = file.display().to_string();
    let r = ok(&db, &["audit", "import", "--provider", "aws", &f], 0);
    assert!(r.stdout.contains("2 new event(s)"), "{}", r.stdout);
    let before = dump(&db);
    let r = ok(&db, &["audit", "import", "--provider", "aws", &f], 0);
    assert!(
        r.stdout.contains("0 new event(s), 2 already stored"),
        "{}",
        r.stdout
    );
    assert_eq!(
        dump(&db),
        before,
        "importing the same file twice changes nothing"
    );
    let v = json(
        &ok(
            &db,
            &[
                "drift",
                "--format",
                "json",
                "--scope",
                "aws:111122223333:us-east-1",
            ],
            1,
        )
        .stdout,
    );
    let web = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60001")
        .unwrap();
    let actors = web["attribution"]["actors"].as_array().unwrap();
    assert_eq!(actors.len(), 2);
    assert_eq!(
        actors[0]["principal"],
        "arn:aws:iam::111122223333:user/yann"
    );
    assert_eq!(actors[1]["principal"], "arn:aws:iam::111122223333:user/zoe");
    // The NACL changed but no event names it while logs cover the window: a logging gap.
    let acl = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == "acl-0a1b2c3d4e5f60001")
        .unwrap();
    assert!(acl["attribution"]["reason"]
        .as_str()
        .unwrap()
        .contains("logging gap"));
    // Malformed records are skipped with a warning naming the file and record.
    let mixed = dir.path().join("mixed.json");
    std::fs::write(&mixed, serde_json::json!({"Records": [rec("e3", "x", "2026-11-24T09:00:00Z"), {"eventSource": "ec2.amazonaws.com"}, {"eventName": "AuthorizeSecurityGroupIngress", "eventSource": "ec2.amazonaws.com", "eventID": "e4", "eventTime": "yesterday"}]}).to_string()).unwrap();
    let r = ok(
        &db,
        &[
            "audit",
            "import",
            "--provider",
            "aws",
            &mixed.display().to_string(),
        ],
        0,
    );
    assert!(
        r.stdout.contains("1 new event(s)") && r.stdout.contains("2 malformed record(s) skipped"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("mixed.json: record 2")
            && r.stderr
                .contains("mixed.json: record 3: eventTime \"yesterday\""),
        "{}",
        r.stderr
    );
}

#[test]
fn a_window_beyond_log_retention_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    import_day(&db, "day1", "2020-01-01T02:00:00Z");
    ok(
        &db,
        &["baseline", "approve", "--all", "--by", "t", "--reason", "r"],
        0,
    );
    import_day(&db, "day2", "2020-01-02T02:00:00Z");
    let v = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let a = &v["drift"][0]["attribution"];
    assert!(
        a["reason"]
            .as_str()
            .unwrap()
            .contains("beyond the audit log retention"),
        "{a}"
    );
}
