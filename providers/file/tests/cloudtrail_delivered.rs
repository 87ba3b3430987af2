//! CloudTrail's delivered form (`{"Records": [...]}`) is read at disk speed: records outside
//! the catalogue are never built. It must read exactly what the general reader reads: the same
//! events, the same skipped records with the same reasons, the same ignored count, accounts and
//! time span. Each case is one file, read both as delivered and as a bare JSON array (the
//! general path).

use netdrift_provider_file::audit;
use netdrift_snapshots::Provider;
use serde_json::{json, Value};

fn root() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("../..")
}

fn both(records: &[Value]) -> (audit::AuditParse, audit::AuditParse) {
    let delivered = serde_json::to_vec(&json!({ "Records": records })).unwrap();
    let array = serde_json::to_vec(&records).unwrap();
    (
        audit::parse_file(Provider::Aws, "f", &delivered).unwrap(),
        audit::parse_file(Provider::Aws, "f", &array).unwrap(),
    )
}

fn same(a: &audit::AuditParse, b: &audit::AuditParse, case: &str) {
    assert_eq!(a.events, b.events, "{case}");
    assert_eq!(a.skipped, b.skipped, "{case}");
    assert_eq!(a.ignored, b.ignored, "{case}");
    assert_eq!(a.accounts, b.accounts, "{case}");
    assert_eq!(a.window, b.window, "{case}");
}

fn panther_records() -> Vec<Value> {
    let text = std::fs::read_to_string(
        root().join("testdata/fixtures/panther/panther_aws_network_tests.jsonl"),
    )
    .unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["log"].clone())
        .collect()
}

#[test]
fn the_delivered_form_reads_what_the_general_reader_reads() {
    let real = panther_records();
    assert!(real.len() >= 14);
    let mut noise = real[0].clone();
    noise["eventSource"] = json!("s3.amazonaws.com");
    noise["eventName"] = json!("GetObject");
    noise["eventTime"] = json!("2026-11-30T23:59:59Z");
    noise["recipientAccountId"] = json!("999988887777");
    let mut describe = real[0].clone();
    describe["eventName"] = json!("DescribeSecurityGroups");
    let mut no_name = real[0].clone();
    no_name.as_object_mut().unwrap().remove("eventName");
    let mut bad_time = real[0].clone();
    bad_time["eventTime"] = json!("yesterday");
    let mut assume = real[0].clone();
    assume["eventSource"] = json!("sts.amazonaws.com");
    assume["eventName"] = json!("AssumeRole");
    assume["responseElements"] = json!({"credentials": {"accessKeyId": "ASIAEXAMPLE1"}});
    let rows: Vec<(&str, Vec<Value>)> = vec![
        ("the Panther samples", real.clone()),
        (
            "bulk outside the catalogue still counts for the span",
            vec![real[0].clone(), noise.clone()],
        ),
        ("an EC2 read is not a change", vec![describe]),
        (
            "a record that is not an object",
            vec![json!(7), real[1].clone()],
        ),
        ("a record without eventName", vec![no_name]),
        ("a record with an unreadable time", vec![bad_time]),
        ("STS AssumeRole is kept", vec![assume]),
        ("only noise", vec![noise]),
        ("empty", vec![]),
    ];
    for (case, records) in rows {
        let (a, b) = both(&records);
        same(&a, &b, case);
    }
}

#[test]
fn an_escaped_event_name_is_read_as_written() {
    // `\u0053` is `S`: JSON says the two spellings are one string.
    let rec = panther_records()
        .into_iter()
        .find(|r| r["eventName"] == "AuthorizeSecurityGroupIngress")
        .expect("a sample authorizing ingress");
    let text = serde_json::to_string(&json!({ "Records": [rec] }))
        .unwrap()
        .replace(
            "\"AuthorizeSecurityGroupIngress\"",
            "\"Authorize\\u0053ecurityGroupIngress\"",
        );
    let p = audit::parse_file(Provider::Aws, "f", text.as_bytes()).unwrap();
    assert_eq!(p.events.len(), 1, "{:?}", p.skipped);
    assert_eq!(p.events[0].event_name, "AuthorizeSecurityGroupIngress");
}
