//! GCP LogEntry exports and Activity Log exports are read at disk speed: an entry outside the
//! catalogue is judged by its method (or operation) alone and never built. `parse_file` must
//! read exactly what the general reader (`parse_file_in_full`) reads: the same events (their
//! records as delivered), the same skipped entries with the same reasons, the same ignored
//! count, accounts and time span. Each case is one file, in every form the readers take.

use netdrift_provider_file::audit::{self, AuditParse};
use serde_json::{json, Value};

fn root() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("../..")
}

type Reader = fn(&str, &[u8]) -> Result<AuditParse, netdrift_provider_file::ImportError>;

fn same(fast: &AuditParse, full: &AuditParse, case: &str) {
    let events = |p: &AuditParse| {
        p.events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                // The fast path keeps the text as delivered, the general one writes the tree
                // back: the same record either way.
                let v = e.record();
                e.raw = None;
                (e, v)
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(events(fast), events(full), "{case}");
    assert_eq!(fast.skipped, full.skipped, "{case}");
    assert_eq!(fast.ignored, full.ignored, "{case}");
    assert_eq!(fast.accounts, full.accounts, "{case}");
    assert_eq!(fast.window, full.window, "{case}");
}

/// Check one list of records in each form: a bare array, the envelope, NDJSON.
fn check(records: &[Value], envelope: &str, fast: Reader, full: Reader, case: &str) -> AuditParse {
    let forms = [
        ("array", serde_json::to_vec_pretty(&records).unwrap()),
        (
            "envelope",
            serde_json::to_vec(&json!({ envelope: records })).unwrap(),
        ),
        (
            "ndjson",
            records
                .iter()
                .map(|r| serde_json::to_string(r).unwrap() + "\n")
                .collect::<String>()
                .into_bytes(),
        ),
    ];
    let mut first = None;
    for (form, bytes) in forms {
        match (fast("f", &bytes), full("f", &bytes)) {
            (Ok(a), Ok(b)) => {
                same(&a, &b, &format!("{case} ({form})"));
                first.get_or_insert(a);
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{case} ({form})"),
            (a, b) => panic!("{case} ({form}): {:?} against {:?}", a.err(), b.err()),
        }
    }
    first.unwrap_or_default()
}

fn records_of(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    if file.ends_with(".jsonl") {
        return text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["log"].clone())
            .collect();
    }
    match serde_json::from_str::<Value>(&text).unwrap() {
        Value::Array(a) => a,
        Value::Object(o) if o.contains_key("value") => o["value"].as_array().unwrap().clone(),
        Value::Object(o) if o.contains_key("entries") => o["entries"].as_array().unwrap().clone(),
        other => vec![other],
    }
}

fn gcp_entry(method: Value, service: Value) -> Value {
    json!({"insertId": "x1", "timestamp": "2026-11-24T10:00:00Z",
           "resource": {"labels": {"project_id": "acme-prod"}},
           "protoPayload": {"methodName": method, "serviceName": service,
                            "resourceName": "projects/acme-prod/global/firewalls/allow-ssh",
                            "authenticationInfo": {"principalEmail": "a@example.com"}}})
}

#[test]
fn gcp_exports_read_as_the_general_reader_reads_them() {
    for file in [
        "demo/audit/gcp-activity.json",
        "testdata/fixtures/panther/panther_gcp_network_tests.jsonl",
    ] {
        let p = check(
            &records_of(file),
            "entries",
            audit::gcp::parse_file,
            audit::gcp::parse_file_in_full,
            file,
        );
        assert!(!p.events.is_empty(), "{file}");
    }
    // Entries the method or service alone must not wrongly drop or keep.
    let mut lower = gcp_entry(
        json!("v1.compute.firewalls.insert"),
        json!("compute.googleapis.com"),
    );
    let pp = lower
        .as_object_mut()
        .unwrap()
        .remove("protoPayload")
        .unwrap();
    lower["protopayload"] = pp;
    let cases = [
        (
            "kept",
            gcp_entry(
                json!("v1.compute.firewalls.insert"),
                json!("compute.googleapis.com"),
            ),
        ),
        (
            "beta",
            gcp_entry(
                json!("beta.compute.firewalls.patch"),
                json!("compute.googleapis.com"),
            ),
        ),
        (
            "not in the catalogue",
            gcp_entry(
                json!("v1.compute.instances.start"),
                json!("compute.googleapis.com"),
            ),
        ),
        (
            "another service",
            gcp_entry(
                json!("v1.compute.firewalls.insert"),
                json!("storage.googleapis.com"),
            ),
        ),
        (
            "no service",
            gcp_entry(json!("v1.compute.firewalls.insert"), Value::Null),
        ),
        (
            "empty method",
            gcp_entry(json!(""), json!("compute.googleapis.com")),
        ),
        (
            "method not a string",
            gcp_entry(json!(7), json!("compute.googleapis.com")),
        ),
        ("lower-case protopayload (BigQuery export)", lower),
        (
            "no protoPayload",
            json!({"insertId": "x2", "timestamp": "2026-11-24T10:00:00Z"}),
        ),
        ("not an object", json!(42)),
    ];
    for (case, entry) in cases {
        check(
            &[entry],
            "entries",
            audit::gcp::parse_file,
            audit::gcp::parse_file_in_full,
            case,
        );
    }
}

fn azure_event(op: Value) -> Value {
    json!({"eventTimestamp": "2026-11-24T10:00:00Z", "operationName": op,
           "resourceId": "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/web",
           "status": {"value": "Succeeded"}, "caller": "a@example.com",
           "correlationId": "c1", "operationId": "o1"})
}

#[test]
fn activity_log_exports_read_as_the_general_reader_reads_them() {
    for file in [
        "demo/audit/azure-activity.json",
        "testdata/fixtures/azure_activity_logs_filtered_2015-04-01.body.json",
        "testdata/fixtures/azure_activitylog_nsg_write_msdocs_sample.json",
        "testdata/fixtures/panther/panther_azure_network_tests.jsonl",
    ] {
        check(
            &records_of(file),
            "value",
            audit::azure::parse_file,
            audit::azure::parse_file_in_full,
            file,
        );
    }
    let nsg = "Microsoft.Network/networkSecurityGroups/securityRules/write";
    let cases = [
        (
            "REST object",
            azure_event(json!({"value": nsg, "localizedValue": "Create or Update Security Rule"})),
        ),
        ("export string", azure_event(json!(nsg))),
        ("upper case", azure_event(json!(nsg.to_ascii_uppercase()))),
        (
            "not in the catalogue",
            azure_event(json!({"value": "Microsoft.Compute/virtualMachines/start/action"})),
        ),
        ("empty", azure_event(json!(""))),
        (
            "object without value",
            azure_event(json!({"localizedValue": "x"})),
        ),
        ("not a string", azure_event(json!(7))),
        ("missing", json!({"eventTimestamp": "2026-11-24T10:00:00Z"})),
        ("not an object", json!("event")),
    ];
    for (case, event) in cases {
        check(
            &[event],
            "value",
            audit::azure::parse_file,
            audit::azure::parse_file_in_full,
            case,
        );
    }
    // `records` is the diagnostic-settings export's envelope.
    let p = check(
        &[azure_event(json!(nsg))],
        "records",
        audit::azure::parse_file,
        audit::azure::parse_file_in_full,
        "records envelope",
    );
    assert_eq!(p.events.len(), 1);
}
