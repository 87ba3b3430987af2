//! Fuzzing every parser of this crate on stable Rust: the native dump converters (AWS, GCP
//! firewalls, networks and firewall policies, Azure NSGs), the three audit-log parsers, and the
//! gzip reader. Zero panics; every rejection names the file. Bounded for CI
//! (`NETDRIFT_FUZZ_CASES` per parser, default 2,000); the README has a longer run's figures.

#[path = "support/mutate.rs"]
mod mutate;

use std::path::{Path, PathBuf};

use netdrift_provider_file::{audit, import_files, read_bytes};
use netdrift_snapshots::Provider;

use mutate::cases;

fn root() -> PathBuf {
    // At run time: the binary may have been built from a checkout at another path.
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("../..")
}

fn seeds(paths: &[&str]) -> Vec<Vec<u8>> {
    paths
        .iter()
        .map(|p| std::fs::read(root().join(p)).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect()
}

/// The Panther test logs (testdata/fixtures/panther, real payload shapes): one audit file
/// per provider, in the envelope its exports use.
fn panther(provider: &str, envelope: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(root().join(format!(
        "testdata/fixtures/panther/panther_{provider}_network_tests.jsonl"
    )))
    .unwrap();
    let logs: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["log"].clone())
        .collect();
    let doc = if envelope.is_empty() {
        serde_json::json!(logs)
    } else {
        serde_json::json!({ envelope: logs })
    };
    serde_json::to_vec(&doc).unwrap()
}

/// Fuzz one parser; gzip inputs are bounded at 1 MiB so the bomb cases are refused.
fn fuzz(name: &str, seeds: &[Vec<u8>], n: usize, parse: impl Fn(&Path) -> Result<(), String>) {
    netdrift_provider_file::set_max_decompressed(1 << 20);
    let rejected = mutate::run(name, "json", seeds, n, &root().join("target/tmp"), parse);
    netdrift_provider_file::set_max_decompressed(netdrift_provider_file::DEFAULT_MAX_DECOMPRESSED);
    assert!(
        rejected < n,
        "{name}: every case rejected: the mutations must also reach the accepting path"
    );
}

fn dump(provider: Provider) -> impl Fn(&Path) -> Result<(), String> {
    move |p: &Path| {
        import_files(provider, "p1", &[p])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn audit_file(provider: Provider) -> impl Fn(&Path) -> Result<(), String> {
    move |p: &Path| {
        let name = p.display().to_string();
        let bytes = read_bytes(p).map_err(|e| e.to_string())?;
        audit::parse_file(provider, &name, &bytes)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

#[test]
fn fuzz_aws_dumps() {
    let s = seeds(&[
        "demo/aws/day1/security-groups.json",
        "demo/aws/day2/network-acls.json",
        "testdata/aws/describe-security-group-rules.json",
    ]);
    fuzz("aws-dumps", &s, cases(2000), dump(Provider::Aws));
}

#[test]
fn fuzz_gcp_dumps() {
    let s = seeds(&[
        "demo/gcp/day1/firewalls.json",
        "demo/gcp/day2/firewall-policies.json",
        "testdata/gcp/firewalls-rest-page.json",
    ]);
    fuzz("gcp-dumps", &s, cases(2000), dump(Provider::Gcp));
}

#[test]
fn fuzz_azure_dumps() {
    let s = seeds(&[
        "demo/azure/day1/nsgs.json",
        "demo/azure/day2/nsgs.json",
        "testdata/fixtures/azure_nsg_list_all_2024-03-01.body.json",
    ]);
    fuzz("azure-dumps", &s, cases(2000), dump(Provider::Azure));
}

#[test]
fn fuzz_cloudtrail() {
    let mut s = seeds(&["demo/audit/cloudtrail-2026-11-24.json"]);
    s.push(panther("aws", "Records"));
    fuzz("cloudtrail", &s, cases(2000), audit_file(Provider::Aws));
}

#[test]
fn fuzz_gcp_audit_logs() {
    let mut s = seeds(&["demo/audit/gcp-activity.json"]);
    s.push(panther("gcp", ""));
    fuzz("gcp-audit", &s, cases(2000), audit_file(Provider::Gcp));
}

#[test]
fn fuzz_azure_activity_log() {
    let mut s = seeds(&[
        "demo/audit/azure-activity.json",
        "testdata/fixtures/azure_activity_logs_filtered_2015-04-01.body.json",
        "testdata/fixtures/azure_activitylog_nsg_write_msdocs_sample.json",
    ]);
    s.push(panther("azure", "value"));
    fuzz(
        "azure-activity",
        &s,
        cases(2000),
        audit_file(Provider::Azure),
    );
}
