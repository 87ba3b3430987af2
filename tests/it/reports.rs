//! The nightly report formats: HTML checked in a real headless Chromium, CSV, OCSF, webhook.

use std::io::{BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{json, netdrift, ok, run_demo, webhook_server, Demo};

/// A name nobody should trust: markup for the HTML report, a formula for the spreadsheet.
const EVIL: &str = "=HYPERLINK(\"http://evil.example\") <script>document.title='pwned'</script><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">";

/// The demo estate (runs 1 and 2), then a third run in which a user renamed the new group to
/// something hostile.
fn three_runs(dir: &Path) -> (PathBuf, PathBuf) {
    let Demo { dir: demo, db, .. } = run_demo(dir);
    let sg = demo.join("aws/day2/security-groups.json");
    let text = std::fs::read_to_string(&sg).unwrap();
    let mut v = json(&text);
    for g in v["SecurityGroups"].as_array_mut().unwrap() {
        if g["GroupName"] == "partner-sftp" {
            g["GroupName"] = EVIL.into();
        }
    }
    std::fs::write(&sg, serde_json::to_string_pretty(&v).unwrap()).unwrap();
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
    (demo, db)
}

fn chromium() -> &'static str {
    let path = "/usr/bin/chromium";
    assert!(
        Path::new(path).exists(),
        "Debian's chromium is required for the HTML report test (scripts/test installs it)"
    );
    path
}

fn chromium_cmd(profile: &Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1280,1600",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Count pixels of exactly this colour.
fn pixels(png_path: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(BufReader::new(std::fs::File::open(png_path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| p[..3] == rgb)
        .count()
}

#[test]
fn html_report_renders_in_chromium_with_its_chart_and_no_injected_script() {
    let dir = tempfile::tempdir().unwrap();
    let (demo, _db) = three_runs(dir.path());
    let html_path = demo.join("reports/latest.html");
    let html = std::fs::read_to_string(&html_path).unwrap();

    // Self-contained: no external reference of any kind, scripts forbidden by policy.
    for needle in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(
            !html.contains(needle),
            "the report must not contain {needle:?}"
        );
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("default-src 'none'"));
    // The hostile name is there, as escaped text.
    assert!(html.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    // Reach (issue 15): the attack surface, and per item what its new access reaches.
    assert!(
        html.contains("<h2>Internet-exposed workloads</h2>"),
        "the surface section"
    );
    assert!(
        html.contains("<tr><td><code>eni-0a1b2c3d4e5f60001</code><br>i-0a1b2c3d4e5f60001"),
        "the web tier's interface is in it"
    );
    assert!(
        html.contains("<b>tcp/22</b>"),
        "its sensitive port stands out"
    );
    assert!(
        html.contains("id=\"not-assessed\""),
        "what was not assessed is said"
    );
    assert!(
        html.contains("reach: <b>internet</b><ul><li><code>eni-0a1b2c3d4e5f60001</code> (i-0a1b2c3d4e5f60001) at <code>54.210.167.204</code> on tcp/22</li></ul>"),
        "the web item names its exposed interface"
    );
    assert!(html.contains("reach: <b>unattached</b>"));
    for section in [
        "Open exposure, last runs",
        "Drift, riskiest first",
        "Coverage gaps",
        "Exceptions expiring in the next 14 days",
        "Since the previous report",
    ] {
        assert!(html.contains(section), "missing section {section}");
    }
    // Three runs in the trend, one panel per provider.
    assert!(html.contains("3 run(s)"), "trend covers the three runs");
    assert_eq!(
        html.matches("<polyline").count(),
        9,
        "3 providers x 3 series"
    );

    // In a real browser: the DOM after load, and a screenshot.
    let profile = dir.path().join("chromium-profile");
    let out = chromium_cmd(&profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", html_path.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("netdrift drift report"),
        "rendered: {dom:.500}"
    );
    assert!(
        !dom.contains("data-pwned=\"1\""),
        "the injected onerror handler ran"
    );
    assert!(
        !dom.contains("<title>pwned</title>"),
        "the injected script ran"
    );
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "the hostile name is shown as text"
    );
    assert_eq!(dom.matches("<svg").count(), 3, "one chart per provider");
    // Control: the same markup unescaped and without the policy does run here, so the checks
    // above would have seen it.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<html><head><title>t</title></head><body><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"><script>document.title='pwned'</script></body></html>",
    )
    .unwrap();
    let out = chromium_cmd(&profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", control.display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("data-pwned=\"1\"") && dom.contains("<title>pwned</title>"),
        "control page: scripts should run there: {dom}"
    );

    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&shot);
    let out = chromium_cmd(&profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html_path.display()))
        .output()
        .expect("run chromium");
    assert!(
        out.status.success() && shot.exists(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The chart is drawn: each series' colour covers far more pixels than its legend swatch
    // (10 x 10) would.
    for (name, rgb) in [
        ("world-open", [0xc9, 0x2a, 0x2a]),
        ("public", [0xf0, 0x8c, 0x00]),
        ("sensitive ports", [0x70, 0x48, 0xe8]),
    ] {
        let n = pixels(&shot, rgb);
        assert!(
            n > 250,
            "{name}: only {n} pixels of its colour in {}",
            shot.display()
        );
    }
    println!("screenshot: {}", shot.display());
}

#[test]
fn csv_and_ocsf_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (demo, _db) = three_runs(dir.path());
    let report = json(&std::fs::read_to_string(demo.join("reports/latest.json")).unwrap());
    let items = report["drift"].as_array().unwrap();

    // CSV: one row per item; nothing a spreadsheet would evaluate.
    let mut rd = csv::Reader::from_path(demo.join("reports/latest.csv")).unwrap();
    let headers = rd.headers().unwrap().clone();
    assert_eq!(&headers[0], "id");
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), items.len());
    let name_col = headers.iter().position(|h| h == "resource_name").unwrap();
    let evil = rows
        .iter()
        .find(|r| r[name_col].contains("HYPERLINK"))
        .expect("the renamed group is in the CSV");
    assert!(evil[name_col].starts_with("'="), "{}", &evil[name_col]);
    for r in &rows {
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula-like cell {cell:?}"
            );
        }
    }
    let controls_col = headers.iter().position(|h| h == "controls").unwrap();
    assert!(rows[0][controls_col].contains("NIST SP 800-53 r5 CM-3"));

    // OCSF: one Detection Finding per line.
    let text = std::fs::read_to_string(demo.join("reports/latest.ocsf.jsonl")).unwrap();
    let findings: Vec<serde_json::Value> = text.lines().map(json).collect();
    assert_eq!(findings.len(), items.len());
    for f in &findings {
        assert_eq!(f["class_uid"], 2004);
        assert_eq!(f["category_uid"], 2);
        assert_eq!(f["type_uid"], 200401);
        assert_eq!(f["metadata"]["version"], "1.3.0");
        assert_eq!(f["metadata"]["product"]["name"], "netdrift");
        assert!(f["time"].as_i64().unwrap() > 1_700_000_000_000);
        assert!(f["finding_info"]["uid"].as_str().unwrap().starts_with("d-"));
        assert_eq!(
            f["finding_info"]["attacks"][0]["technique"]["uid"],
            "T1562.007"
        );
        assert!(f["cloud"]["provider"].is_string());
        assert!((1..=5).contains(&f["severity_id"].as_i64().unwrap()));
    }
    let alice = findings
        .iter()
        .find(|f| f["resources"][0]["uid"] == "sg-0a1b2c3d4e5f60001")
        .expect("web-prod finding");
    assert_eq!(alice["severity_id"], 5);
    assert_eq!(alice["severity"], "Critical");
    assert_eq!(alice["status"], "New");
    let ev = &alice["evidences"][0];
    assert_eq!(
        ev["actor"]["user"]["name"],
        "arn:aws:sts::111122223333:assumed-role/AdminAccess/alice"
    );
    assert_eq!(ev["api"]["operation"], "AuthorizeSecurityGroupIngress");
    assert_eq!(ev["src_endpoint"]["ip"], "198.51.100.23");
    assert_eq!(alice["cloud"]["account"]["uid"], "111122223333");
    assert_eq!(alice["cloud"]["region"], "us-east-1");
}

/// Day 1 run, approval, then the day 2 run with a webhook configured.
fn day2_with_webhook(dir: &Path, report_extra: &str) -> crate::support::Run {
    day2_with_config(dir, &|cfg| {
        cfg.replace("[report]\n", &format!("[report]\n{report_extra}\n"))
    })
}

/// Day 1 run, approval, then the day 2 run with the demo's configuration as `edit` makes it
/// (written to `demo/webhook.toml`; the database is `fresh.db`).
pub fn day2_with_config(dir: &Path, edit: &dyn Fn(String) -> String) -> crate::support::Run {
    let demo = run_demo(dir).dir;
    let db2 = dir.join("fresh.db");
    ok(
        &db2,
        &[
            "run",
            "--config",
            &demo.join("netdrift-day1.toml").display().to_string(),
            "--at",
            "2026-11-24T02:00:00Z",
        ],
        3,
    );
    ok(
        &db2,
        &[
            "baseline", "approve", "--all", "--by", "test", "--reason", "day 1",
        ],
        0,
    );
    let cfg = edit(std::fs::read_to_string(demo.join("netdrift.toml")).unwrap());
    let cfg_path = demo.join("webhook.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    netdrift(
        &db2,
        &[
            "run",
            "--config",
            &cfg_path.display().to_string(),
            "--at",
            "2026-11-25T02:00:00Z",
        ],
    )
}

#[test]
fn webhook_gets_a_summary_of_new_high_drift_and_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (url, seen) = webhook_server(vec![503, 200]);
    let r = day2_with_webhook(dir.path(), &format!("webhook_url = \"{url}\""));
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "one failure (503) then a retry: {seen:?}");
    let msg = json(&seen[1]);
    let text = msg["text"].as_str().unwrap();
    assert!(
        text.contains("new unapproved drift item(s) at high or above"),
        "{text}"
    );
    assert!(
        text.contains("[CRITICAL]") && text.contains("sg-0a1b2c3d4e5f60001"),
        "{text}"
    );
    assert!(text.contains("alice"), "{text}");
    assert!(!text.contains("[MEDIUM]"), "below the threshold: {text}");
}

#[test]
fn a_failing_webhook_never_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port once the listener is dropped.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = day2_with_webhook(
        dir.path(),
        &format!("webhook_url = \"http://127.0.0.1:{port}/hook\"\nwebhook_attempts = 2"),
    );
    assert_eq!(r.code, 1, "drift, not an error: {}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("webhook delivery failed"), "{}", r.stderr);
    assert!(
        r.stdout.contains(".html"),
        "reports still written: {}",
        r.stdout
    );
}

#[test]
fn the_coverage_matrix_shows_every_scope_in_the_report_and_the_run_record() {
    let dir = tempfile::tempdir().unwrap();
    let Demo { dir: demo, db, .. } = run_demo(dir.path());
    let md = std::fs::read_to_string(demo.join("reports/latest.md")).unwrap();
    let section = &md[md.find("## Coverage matrix").expect("a matrix")..];
    for row in [
        "| aws:111122223333:us-east-1 | complete | read | not checked | 2026-11-24T22:17:09Z |",
        // The region whose dump is missing is in it too: a failed collection, no event seen.
        "| aws:111122223333:eu-west-1 | failed | read | not checked | never |",
        "| gcp:acme-prod | complete | read | not checked | 2026-11-24T17:45:02Z |",
    ] {
        assert!(section.contains(row), "{row}\n{section}");
    }
    let html = std::fs::read_to_string(demo.join("reports/latest.html")).unwrap();
    assert!(html.contains("<table id=\"matrix\">"));
    assert!(
        html.contains("<td class=\"gap\">failed</td>"),
        "a gap is marked"
    );
    // The run's chained record carries it, so the evidence bundle does.
    let bundle = dir.path().join("bundle.tar");
    crate::support::export_all(&db, &bundle);
    let mut ar = tar::Archive::new(std::fs::File::open(&bundle).unwrap());
    let (mut matrices, mut read_gcp) = (0, false);
    let parts: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&crate::support::bundle_entry(&bundle, "run-parts.json").unwrap())
            .unwrap();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().to_string_lossy().starts_with("runs/") {
            let mut b = String::new();
            e.read_to_string(&mut b).unwrap();
            // The exact chained bytes of the run record, which names the matrix by address.
            let record = json(json(&b)["record"].as_str().unwrap());
            let address = record["summary"]["coverage_matrix"]["part"]
                .as_str()
                .unwrap();
            assert_eq!(record["format"], 2, "{record:#}");
            if let Some(m) = json(&parts[address]).as_array() {
                matrices += 1;
                assert_eq!(m.len(), 4, "{m:?}");
                read_gcp |= m.iter().any(|r| {
                    r["scope"] == "gcp:acme-prod"
                        && r["audit_logs"] == "read"
                        && r["logging"] == "not checked"
                });
            }
        }
    }
    assert_eq!(matrices, 2, "both demo runs record it");
    assert!(read_gcp, "day 2 read the GCP audit logs");
}

#[test]
fn compliance_citations_are_of_the_items_own_cloud_and_ports() {
    let dir = tempfile::tempdir().unwrap();
    let demo = run_demo(dir.path()).dir;
    let text = std::fs::read_to_string(demo.join("reports/latest.ocsf.jsonl")).unwrap();
    let mut cited = Vec::new();
    for line in text.lines() {
        let v = json(line);
        let cloud = v["cloud"]["provider"].as_str().unwrap().to_string();
        let bench = match cloud.as_str() {
            "AWS" => "CIS AWS",
            "GCP" => "CIS GCP",
            "Azure" => "CIS Azure",
            other => panic!("{other}"),
        };
        let title = v["finding_info"]["title"].as_str().unwrap().to_string();
        let cis: Vec<String> = v["unmapped"]["netdrift"]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .filter(|c| c.starts_with("CIS"))
            .collect();
        for c in &cis {
            assert!(c.starts_with(bench), "{title} ({cloud}) cites {c}");
        }
        // PCI DSS, SOC 2 and NIST are cited whatever the cloud and port.
        assert!(
            v["unmapped"]["netdrift"]["controls"]
                .to_string()
                .contains("NIST SP 800-53 r5 CM-3"),
            "{title}"
        );
        cited.push((title, cis));
    }
    let of = |needle: &str| -> Vec<Vec<String>> {
        cited
            .iter()
            .filter(|(t, _)| t.contains(needle))
            .map(|(_, c)| c.clone())
            .collect()
    };
    // The NACL opened to the world on an admin port, the SSH group, GCP's deleted SSH deny.
    assert_eq!(
        of("acl-0a1b2c3d4e5f60001"),
        vec![vec!["CIS AWS Foundations v3.0.0 5.1".to_string()]]
    );
    assert_eq!(
        of("sg-0a1b2c3d4e5f60001"),
        vec![vec!["CIS AWS Foundations v3.0.0 5.2".to_string()]]
    );
    assert_eq!(
        of("firewalls/deny-ssh-internet"),
        vec![vec!["CIS GCP Foundations v3.0.0 3.6".to_string()]]
    );
    // Widenings that open no SSH or RDP from the world cite no port control.
    for quiet in [
        "sg-0a1b2c3d4e5f60002",
        "sg-0a1b2c3d4e5f60004",
        "allow-node-exporter",
        "allow-internal",
    ] {
        assert_eq!(of(quiet), vec![Vec::<String>::new()], "{quiet}");
    }
}

#[test]
fn each_item_shows_its_id_and_the_next_command_in_html_and_ocsf() {
    let dir = tempfile::tempdir().unwrap();
    let demo = run_demo(dir.path()).dir;
    let report = json(&std::fs::read_to_string(demo.join("reports/latest.json")).unwrap());
    let html = std::fs::read_to_string(demo.join("reports/latest.html")).unwrap();
    let ocsf = std::fs::read_to_string(demo.join("reports/latest.ocsf.jsonl")).unwrap();
    for item in report["drift"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        assert!(
            html.contains(&format!("id <code>{id}</code>")),
            "{id} shown"
        );
        if item["exception"].is_null() && item["effect"] != "cosmetic" {
            assert!(
                html.contains(&format!("<code>netdrift revert {id}</code>")),
                "{id}: revert"
            );
            assert!(
                html.contains(&format!("<code>netdrift exception add {id} --by OWNER")),
                "{id}: exception"
            );
        }
    }
    for line in ocsf.lines() {
        let v = json(line);
        let desc = v["remediation"]["desc"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"));
        assert!(
            desc.contains("netdrift revert d-") || desc.starts_with("Covered by exception"),
            "{desc}"
        );
    }
}

/// Every attribute ASFF requires, with the constraints of the Security Hub API reference
/// (`AwsSecurityFinding`): 12-digit account, Title ≤ 256, Description 1..=1024, Types
/// `namespace/category[/classifier]`, RFC 3339 times, a severity label, resources with Type
/// and Id, the product ARN of the importing account.
fn check_asff(f: &serde_json::Value) {
    for key in [
        "SchemaVersion",
        "Id",
        "ProductArn",
        "GeneratorId",
        "AwsAccountId",
        "Types",
        "CreatedAt",
        "UpdatedAt",
        "Severity",
        "Title",
        "Description",
        "Resources",
    ] {
        assert!(!f[key].is_null(), "{key} missing: {f}");
    }
    assert_eq!(f["SchemaVersion"], "2018-10-08");
    let account = f["AwsAccountId"].as_str().unwrap();
    assert!(
        account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
        "{account}"
    );
    let arn = f["ProductArn"].as_str().unwrap();
    let region = arn.split(':').nth(3).unwrap();
    assert_eq!(
        arn,
        format!("arn:aws:securityhub:{region}:{account}:product/{account}/default")
    );
    assert!(f["Title"].as_str().unwrap().chars().count() <= 256);
    let d = f["Description"].as_str().unwrap().chars().count();
    assert!((1..=1024).contains(&d), "{d}");
    for t in f["Types"].as_array().unwrap() {
        let parts = t.as_str().unwrap().split('/').count();
        assert!((2..=3).contains(&parts), "{t}");
    }
    for t in ["CreatedAt", "UpdatedAt"] {
        chrono::DateTime::parse_from_rfc3339(f[t].as_str().unwrap()).unwrap();
    }
    assert!(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
        .contains(&f["Severity"]["Label"].as_str().unwrap()));
    for r in f["Resources"].as_array().unwrap() {
        assert!(r["Type"].is_string() && r["Id"].is_string(), "{r}");
    }
    if let Some(t) = f["Remediation"]["Recommendation"]["Text"].as_str() {
        assert!(t.chars().count() <= 512);
    }
}

#[test]
fn asff_findings_carry_every_required_attribute_and_the_resource_arn() {
    let dir = tempfile::tempdir().unwrap();
    let Demo {
        dir: demo,
        db,
        run: r,
    } = run_demo(dir.path());
    let report = json(&std::fs::read_to_string(demo.join("reports/latest.json")).unwrap());
    let drift = report["drift"].as_array().unwrap();
    let aws_items = drift.iter().filter(|i| i["provider"] == "aws").count();
    // The demo names the collecting account: every item and finding is in its ASFF file.
    assert!(!r.stderr.contains("left out"), "{}", r.stderr);
    let doc = json(&std::fs::read_to_string(demo.join("reports/latest.asff.json")).unwrap());
    let findings = doc["Findings"].as_array().unwrap();
    findings.iter().for_each(check_asff);
    let is_item = |f: &&serde_json::Value| {
        f["GeneratorId"]
            .as_str()
            .unwrap()
            .starts_with("netdrift/drift/")
    };
    let items: Vec<&serde_json::Value> = findings.iter().filter(is_item).collect();
    assert_eq!(items.len(), drift.len());
    // Without asff_account, only AWS findings have an account to go to; the rest is said.
    let cfg = dir.path().join("aws-only.toml");
    let only = dir.path().join("aws-only");
    std::fs::write(
        &cfg,
        format!(
            "[report]\ndirectory = \"{}\"\nformats = [\"asff\"]\n",
            only.display()
        ),
    )
    .unwrap();
    let r2 = netdrift(&db, &["report", "--config", &cfg.display().to_string()]);
    assert!(
        r2.stderr.contains("left out: set [report] asff_account"),
        "{}",
        r2.stderr
    );
    let doc2 = json(&std::fs::read_to_string(only.join("latest.asff.json")).unwrap());
    let only_items: Vec<&serde_json::Value> = doc2["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(is_item)
        .collect();
    only_items.iter().for_each(|f| check_asff(f));
    assert_eq!(only_items.len(), aws_items);
    assert!(only_items
        .iter()
        .all(|f| f["ProductFields"]["netdrift/provider"] == "aws"));
    let sg = items
        .iter()
        .find(|f| f["Resources"][0]["Type"] == "AwsEc2SecurityGroup")
        .unwrap();
    let arn = sg["Resources"][0]["Id"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:ec2:us-east-1:111122223333:security-group/sg-"),
        "{arn}"
    );
    assert!(sg["Remediation"]["Recommendation"]["Text"]
        .as_str()
        .unwrap()
        .contains("netdrift revert d-"));
    let acl = items
        .iter()
        .find(|f| f["Resources"][0]["Type"] == "AwsEc2NetworkAcl")
        .unwrap();
    assert!(acl["Resources"][0]["Id"]
        .as_str()
        .unwrap()
        .contains(":network-acl/acl-"));
    // With the collecting account configured, every item and finding goes, to that account.
    let cfg = dir.path().join("asff.toml");
    let out = dir.path().join("asff-out");
    std::fs::write(
        &cfg,
        format!(
            "[report]\ndirectory = \"{}\"\nformats = [\"asff\"]\nasff_account = \"999999999999\"\nasff_region = \"eu-west-1\"\n",
            out.display()
        ),
    )
    .unwrap();
    let r = netdrift(&db, &["report", "--config", &cfg.display().to_string()]);
    assert!(r.code == 0 || r.code == 1, "{}\n{}", r.stdout, r.stderr);
    let doc = json(&std::fs::read_to_string(out.join("latest.asff.json")).unwrap());
    let findings = doc["Findings"].as_array().unwrap();
    findings.iter().for_each(check_asff);
    let items = findings
        .iter()
        .filter(|f| {
            f["GeneratorId"]
                .as_str()
                .unwrap()
                .starts_with("netdrift/drift/")
        })
        .count();
    assert_eq!(items, drift.len());
    let gcp = findings
        .iter()
        .find(|f| f["ProductFields"]["netdrift/provider"] == "gcp")
        .unwrap();
    assert_eq!(gcp["AwsAccountId"], "999999999999");
    assert!(gcp["ProductArn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:securityhub:eu-west-1:999999999999:"));
    assert_eq!(gcp["Resources"][0]["Type"], "Other");
    // A bad account id is a configuration error naming the field.
    std::fs::write(&cfg, "[report]\nasff_account = \"12345\"\n").unwrap();
    let r = netdrift(&db, &["report", "--config", &cfg.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("field `asff_account`: \"12345\" is not an AWS account id"),
        "{}",
        r.stderr
    );
}
