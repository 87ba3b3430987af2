//! CloudTrail read from an organization trail's S3 bucket (`cloudtrail_s3`), live against moto
//! behind the project's proxy: gzip files in CloudTrail's real key layout
//! (`AWSLogs/o-ID/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_…json.gz`, and a
//! single-account trail's `AWSLogs/ACCOUNT/…` beside it), a corrupted object, a file delivered
//! late, each object read once.

use std::io::Write;

use serde_json::{json, Value};

use crate::aws::{config, run, seed_estate, Emulator, A, B};

const BUCKET: &str = "org-trail";

fn gz(records: &Value) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(json!({ "Records": records }).to_string().as_bytes())
        .unwrap();
    e.finish().unwrap()
}

fn record(account: &str, region: &str, group: &str, id: &str) -> Value {
    let at = (chrono::Utc::now() - chrono::Duration::minutes(20)).format("%Y-%m-%dT%H:%M:%SZ");
    json!({
        "eventVersion": "1.09", "eventTime": at.to_string(), "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress", "awsRegion": region,
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.30",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": account,
                         "arn": format!("arn:aws:iam::{account}:user/mallory"), "accessKeyId": "AKIAEXAMPLEMALLORY1"},
        "requestParameters": {"groupId": group, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
        "responseElements": {"_return": true},
        "eventID": id, "eventType": "AwsApiCall", "recipientAccountId": account, "readOnly": false
    })
}

/// The key CloudTrail gives a file of `account` × `region` delivered now, under `root`.
fn key(root: &str, account: &str, region: &str, unique: &str) -> String {
    let now = chrono::Utc::now();
    format!(
        "{root}{account}/CloudTrail/{region}/{}/{account}_CloudTrail_{region}_{}_{unique}.json.gz",
        now.format("%Y/%m/%d"),
        now.format("%Y%m%dT%H%MZ")
    )
}

fn put(emu: &Emulator, dir: &std::path::Path, key: &str, bytes: &[u8]) {
    let file = dir.join("object");
    std::fs::write(&file, bytes).unwrap();
    // Straight to moto, as CloudTrail delivers: the proxy is for what netdrift calls.
    emu.seed_at(
        &emu.moto_endpoint,
        &[
            "s3put",
            "123456789012",
            "us-east-1",
            BUCKET,
            key,
            file.to_str().unwrap(),
        ],
    );
}

fn gets(emu: &Emulator, key: &str) -> usize {
    emu.calls()
        .iter()
        .filter(|c| {
            c["service"] == "s3"
                && c["method"] == "GET"
                && c["path"]
                    .as_str()
                    .is_some_and(|p| p.split('?').next().unwrap().ends_with(key))
        })
        .count()
}

fn stored_events(db: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT event_id FROM audit_events ORDER BY event_id")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn an_organization_trail_bucket_is_read_once_per_object_late_files_included() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s3.db");
    let (a_groups, b_groups) = seed_estate(&emu);
    let org = "AWSLogs/o-a1b2c3d4e5/";
    let good = key(org, A, "us-east-1", "Mu0KsOhtH1ar15ZZ");
    let plain = key("AWSLogs/", B, "eu-west-1", "Qx7pLm2nB4vc8RtY");
    let bad = key(org, A, "us-east-1", "CorruptedObject1");
    put(
        &emu,
        dir.path(),
        &good,
        &gz(&json!([record(A, "us-east-1", &a_groups[0], "e-good")])),
    );
    put(
        &emu,
        dir.path(),
        &plain,
        &gz(&json!([record(B, "eu-west-1", &b_groups[0], "e-plain")])),
    );
    put(
        &emu,
        dir.path(),
        &bad,
        b"\x1f\x8b\x08\x00 this is not a whole gzip stream",
    );
    // One record that reads and one that does not (no eventID): the one is kept, the other
    // reported with the object's key.
    let damaged = key(org, A, "us-east-1", "OneBadRecord0001");
    let mut broken = record(A, "us-east-1", &a_groups[2], "x");
    broken.as_object_mut().unwrap().remove("eventID");
    put(
        &emu,
        dir.path(),
        &damaged,
        &gz(&json!([
            record(A, "us-east-1", &a_groups[2], "e-kept"),
            broken
        ])),
    );
    // Not a log file of the scope: another region's folder and the digest files.
    let digest = format!(
        "{org}{A}/CloudTrail-Digest/us-east-1/2026/11/30/{A}_CloudTrail-Digest_us-east-1_x.json.gz"
    );
    put(&emu, dir.path(), &digest, b"{}");
    let cfg = config(
        dir.path(),
        &emu.endpoint,
        &format!(
            "cloudtrail_s3 = \"s3://{BUCKET}/AWSLogs/\"\ncloudtrail_s3_region = \"us-east-1\"\n"
        ),
    );

    let (code, out, err) = run(&db, &cfg);
    assert!(code == 1 || code == 3, "{code}\n{out}\n{err}");
    let events = stored_events(&db);
    assert!(
        events.contains(&"aws:e-good".to_string()),
        "{events:?}\n{out}\n{err}"
    );
    assert!(events.contains(&"aws:e-plain".to_string()), "{events:?}");
    // The corrupted object is a finding naming it; the rest went on.
    let line = out
        .lines()
        .find(|l| l.contains(&bad))
        .unwrap_or_else(|| panic!("no finding names {bad}\n{out}\n{err}"));
    assert!(line.starts_with("coverage: audit-"), "{line}");
    assert!(events.contains(&"aws:e-kept".to_string()), "{events:?}");
    let line = out
        .lines()
        .find(|l| l.contains(&damaged))
        .unwrap_or_else(|| panic!("no finding names {damaged}\n{out}"));
    assert!(line.contains("1 record(s) could not be read"), "{line}");
    // Scopes of which the bucket holds no log at all are findings, never silence.
    for scope in [format!("aws:{A}:eu-west-1"), format!("aws:{B}:us-east-1")] {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("coverage: audit-read-failed {scope}:")))
            .unwrap_or_else(|| panic!("no finding for {scope}\n{out}"));
        assert!(line.contains("was ever delivered"), "{line}");
    }
    let calls = emu.calls();
    assert!(
        !calls.iter().any(|c| c["action"] == "LookupEvents"),
        "the bucket replaces LookupEvents"
    );
    assert_eq!(
        (gets(&emu, &good), gets(&emu, &plain), gets(&emu, &bad)),
        (1, 1, 1)
    );
    assert_eq!(gets(&emu, &digest), 0, "digest files are not log files");

    // A file delivered after the first read, into the folder already listed.
    let late = key(org, A, "us-east-1", "LateDelivery0001");
    put(
        &emu,
        dir.path(),
        &late,
        &gz(&json!([record(A, "us-east-1", &a_groups[1], "e-late")])),
    );
    let (code, out, err) = run(&db, &cfg);
    assert!(code == 1 || code == 3, "{code}\n{out}\n{err}");
    assert!(
        stored_events(&db).contains(&"aws:e-late".to_string()),
        "{out}\n{err}"
    );
    assert_eq!(gets(&emu, &late), 1);
    assert_eq!(
        (gets(&emu, &good), gets(&emu, &plain), gets(&emu, &bad)),
        (1, 1, 1),
        "no object is read twice"
    );
    assert!(
        !out.contains(&bad),
        "the corrupted object was reported once\n{out}"
    );
    assert_eq!(gets(&emu, &damaged), 1);
}
