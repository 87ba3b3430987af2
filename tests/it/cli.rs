use crate::support::*;

#[test]
fn bad_input_is_one_clear_error_and_leaves_the_database_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_day(&db, "day1", "2026-11-24T02:00:00Z");
    let before = dump(&db);
    let bad = dir.path().join("bad.json");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        ("aws", r#"{"SecurityGroups":[{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"10.0.0.0/33"}]}]}]}"#.into(), vec!["$.SecurityGroups[0].IpPermissions[0].IpRanges[0].CidrIp", "10.0.0.0/33"]),
        ("aws", r#"{"SecurityGroups":[{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"300.1.1.1/32"}]}]}]}"#.into(), vec!["300.1.1.1/32"]),
        ("aws", r#"{"SecurityGroups":[{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcpp","FromPort":22,"ToPort":22}]}]}"#.into(), vec!["IpProtocol", "tcpp"]),
        ("aws", r#"{"SecurityGroups":[{"GroupId":"sg-1","IpPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":65536}]}]}"#.into(), vec!["65536"]),
        ("aws", r#"{"SecurityGroups":[{"GroupId":"sg-1","#.into(), vec!["not valid JSON"]),
        ("aws", String::new(), vec!["empty"]),
        ("gcp", std::fs::read_to_string(demo("azure/day1/nsgs.json")).unwrap(), vec!["not a GCP firewall dump"]),
    ];
    for (provider, body, needles) in cases {
        std::fs::write(&bad, &body).unwrap();
        let mut args = vec!["import", "--provider", provider, "--scope", "111122223333"];
        if provider == "aws" {
            args.extend(["--region", "us-east-1"]);
        }
        let path = bad.display().to_string();
        args.push(&path);
        // A good file next to the bad one is not half-imported either.
        let good = demo("aws/day2/security-groups.json");
        if provider == "aws" {
            args.push(&good);
        }
        let r = netdrift(&db, &args);
        assert_eq!(r.code, 2, "{body}: {}", r.stderr);
        assert!(
            r.stderr.contains(&path),
            "error must name the file: {}",
            r.stderr
        );
        for n in needles {
            assert!(r.stderr.contains(n), "{:?} lacks {n:?}", r.stderr);
        }
        assert_eq!(r.stderr.lines().count(), 1, "one clear error: {}", r.stderr);
        assert_eq!(
            dump(&db),
            before,
            "database changed after a failed import of {body}"
        );
    }
}

#[test]
fn snapshots_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    import_day(&db, "day1", "2026-11-24T02:00:00Z");
    import_day(&db, "day2", "2026-11-25T02:00:00Z");
    let r = ok(&db, &["snapshots", "--format", "json"], 0);
    let v = json(&r.stdout);
    assert_eq!(v["snapshots"].as_array().unwrap().len(), 6);
    let r = ok(&db, &["snapshots", "--scope", "gcp:acme-prod"], 0);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    let r = ok(
        &db,
        &[
            "show",
            "sg-0a1b2c3d4e5f60001",
            "--at",
            "2026-11-24T12:00:00Z",
            "--format",
            "json",
        ],
        0,
    );
    let v = json(&r.stdout);
    let rules = v["states"][0]["resource"]["rules"].as_array().unwrap();
    let ssh_world = |x: &serde_json::Value| {
        x["ports"]["ranges"][0]["from"] == 22 && x["peers"][0]["value"] == "0.0.0.0/0"
    };
    assert!(
        !rules.is_empty() && !rules.iter().any(ssh_world),
        "day 1 had no world SSH: {rules:?}"
    );
    let now = json(
        &ok(
            &db,
            &["show", "sg-0a1b2c3d4e5f60001", "--format", "json"],
            0,
        )
        .stdout,
    );
    assert!(
        now["states"][0]["resource"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(ssh_world),
        "day 2 has it"
    );
    let r = ok(&db, &["show", "sg-0a1b2c3d4e5f60001"], 0);
    assert!(r.stdout.contains("ingress allow"), "{}", r.stdout);
    let r = ok(&db, &["show", "/SUBSCRIPTIONS/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/prod-rg/providers/Microsoft.Network/networkSecurityGroups/APP-NSG"], 0);
    assert!(
        r.stdout.contains("AllowRdp") || r.stdout.contains("3389"),
        "Azure ids compare case-insensitively: {}",
        r.stdout
    );
    ok(&db, &["show", "sg-doesnotexist"], 2);
}

#[test]
fn config_check_reports_every_problem_and_accepts_the_shipped_examples() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    for f in [
        repo().join("demo/netdrift.toml"),
        repo().join("demo/netdrift-day1.toml"),
    ] {
        ok(&db, &["config", "check", &f.display().to_string()], 0);
    }
    // The annotated example names dumps and logs that are placeholders: they are its only
    // problems, and once they exist it passes.
    let example = dir.path().join("netdrift.example.toml");
    std::fs::copy(repo().join("netdrift.example.toml"), &example).unwrap();
    let e = example.display().to_string();
    let r = ok(&db, &["config", "check", &e], 2);
    let missing: Vec<&str> = r
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  - line "))
        .collect();
    assert!(!missing.is_empty(), "{}", r.stderr);
    for m in &missing {
        let path = m
            .split(": ")
            .last()
            .unwrap()
            .strip_suffix(" does not exist");
        let path = path.unwrap_or_else(|| panic!("not a missing file: {m}"));
        std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
        std::fs::write(path, "{}").unwrap();
    }
    ok(&db, &["config", "check", &e], 0);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[schedule]\nreconcile = \"0 99 * * *\"\n\n[[source]]\nprovider = \"aws\"\nname = \"a\"\naccount = \"1\"\nfiles = []\n\n[[source]]\nprovider = \"oracle\"\nname = \"a\"\n").unwrap();
    let r = ok(&db, &["config", "check", &bad.display().to_string()], 2);
    for n in [
        "line 2: schedule",
        "line 4: source \"a\": field `regions` is required for a live AWS source",
        "line 10: source \"a\": duplicate source name",
        "unknown provider",
    ] {
        assert!(r.stderr.contains(n), "{:?} lacks {n:?}", r.stderr);
    }
}

#[test]
fn demo_runs_the_whole_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let r = netdrift(
        &dir.path().join("unused.db"),
        &["demo", "--dir", &out.display().to_string()],
    );
    // NETDRIFT_DB is set by the helper, so the demo uses it; both are fine.
    assert_eq!(
        r.code, 1,
        "unapproved drift found: {}\n{}",
        r.stdout, r.stderr
    );
    for needle in [
        "tcp/22 0.0.0.0/0 except 10.0.0.0/8",
        "tcp/3389 0.0.0.0/0",
        "tcp/3389 Internet",
        "tcp/9100 0.0.0.0/0 except 10.128.0.0/9",
        "tcp/5432 10.0.0.0/8 except 10.1.0.0/16",
        "locations/global/firewallPolicies/7101 (prod-folder)",
        "tcp/5432 0.0.0.0/0 except 10.128.0.0/9",
        "collection-failed aws:111122223333:eu-west-1",
        "report: ",
    ] {
        assert!(
            r.stdout.contains(needle),
            "demo output lacks {needle:?}:\n{}",
            r.stdout
        );
    }
    // Riskiest first: the first item is critical.
    let first = r
        .stdout
        .lines()
        .find(|l| l.starts_with("CRITICAL") || l.starts_with("HIGH") || l.starts_with("MEDIUM"))
        .unwrap();
    assert!(first.starts_with("CRITICAL"), "{first}");
    // Cosmetic regrouping of the batch group and renumbered db-nsg are not drift.
    assert!(!r
        .stdout
        .contains("sg-0a1b2c3d4e5f60003 (batch)  modified/expands"));
    assert!(!r.stdout.contains("db-nsg"), "{}", r.stdout);
    // The failed region reports no removal.
    assert!(!r.stdout.contains("eu-west-1  "), "{}", r.stdout);
    let md = std::fs::read_to_string(out.join("reports/latest.md")).unwrap();
    assert!(
        md.contains("  - reach: internet (i-0a1b2c3d4e5f60001 at 54.210.167.204 on tcp/22)"),
        "the Markdown report says what each change reaches: {md}"
    );
    assert!(md.contains("  - reach: unattached\n"), "{md}");
    let report = json(&std::fs::read_to_string(out.join("reports/latest.json")).unwrap());
    assert_eq!(report["schema_version"], 2);
    assert!(
        r.stdout
            .contains("modified/expands  internet 54.210.167.204  ingress now allows tcp/22"),
        "the table says what the web tier's change reaches: {}",
        r.stdout
    );
    // The demo's workloads give every reach value (issue 15): the web tier's SSH reaches its
    // public interface, the NACL's RDP and the database widening reach only private ones, the
    // partner group has no interface, and GCP and Azure workloads are not collected.
    let reach_of = |resource: &str| -> Vec<String> {
        report["drift"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["resource"] == resource)
            .map(|i| i["reach"].as_str().unwrap_or("null").to_string())
            .collect()
    };
    assert_eq!(reach_of("sg-0a1b2c3d4e5f60001"), ["internet"]);
    assert_eq!(reach_of("acl-0a1b2c3d4e5f60001"), ["internal"]);
    assert_eq!(reach_of("sg-0a1b2c3d4e5f60002"), ["internal"]);
    assert_eq!(reach_of("sg-0a1b2c3d4e5f60004"), ["unattached"]);
    assert!(
        reach_of("projects/acme-prod/global/firewalls/deny-ssh-internet")
            .iter()
            .all(|r| r == "unknown")
    );
    let web = report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resource"] == "sg-0a1b2c3d4e5f60001")
        .unwrap();
    assert_eq!(
        web["exposed"],
        serde_json::json!([{"id": "eni-0a1b2c3d4e5f60001", "instance": "i-0a1b2c3d4e5f60001",
            "address": "54.210.167.204", "ports": ["tcp/22"]}])
    );
    assert!(
        web["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with(
                "exposed: i-0a1b2c3d4e5f60001 (eni-0a1b2c3d4e5f60001) at 54.210.167.204 on tcp/22"
            )),
        "{web}"
    );
}

#[test]
fn report_for_a_period_of_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = run_demo(dir.path()).db;
    let reports = dir.path().join("r");
    let r = ok(
        &db,
        &[
            "report",
            "--from",
            "2026-11-01",
            "--out",
            &reports.display().to_string(),
        ],
        1,
    );
    assert!(
        r.stdout.contains(".md") && r.stdout.contains(".json"),
        "{}",
        r.stdout
    );
    let md = std::fs::read_to_string(reports.join("latest.md")).unwrap();
    assert!(
        md.contains("## Drift, riskiest first")
            && md.contains("## Coverage")
            && md.contains("## Exceptions expiring"),
        "{md}"
    );
    assert!(md.contains("## Since the previous report"));
    let r = ok(
        &db,
        &[
            "report",
            "--run",
            "1",
            "--out",
            &reports.display().to_string(),
        ],
        3,
    );
    assert!(r.stdout.contains("run1"), "{}", r.stdout);
    let r = netdrift(
        &db,
        &["report", "--from", "2001-01-01", "--to", "2001-02-01"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no reconcile run in that period"),
        "{}",
        r.stderr
    );
}

#[test]
fn version_names_the_providers_built_in() {
    let r = netdrift(&std::env::temp_dir().join("unused.db"), &["--version"]);
    assert_eq!(r.code, 0);
    let mut want = vec!["file"];
    for (on, name) in [
        (cfg!(feature = "aws"), "aws"),
        (cfg!(feature = "gcp"), "gcp"),
        (cfg!(feature = "azure"), "azure"),
    ] {
        if on {
            want.push(name);
        }
    }
    assert_eq!(
        r.stdout.trim(),
        format!(
            "netdrift {} (providers: {})",
            env!("CARGO_PKG_VERSION"),
            want.join(", ")
        )
    );
}

#[test]
fn show_takes_a_name_or_an_id_part_and_renders_rules_readably() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import_day(&db, "day1", "2026-11-24T02:00:00Z");
    // By name, by the start of an id, by an Azure id's last part: the same renderer.
    for words in ["web-prod", "sg-0a1b2c3d4e5f60001", "sg-0a1b2c3d4e5f6000"] {
        let r = netdrift(&db, &["show", words]);
        if words == "sg-0a1b2c3d4e5f6000" {
            // The start of several ids is ambiguous: the candidates are listed.
            assert_eq!(r.code, 2);
            assert!(
                r.stderr.contains("names") && r.stderr.contains("sg-0a1b2c3d4e5f60001"),
                "{}",
                r.stderr
            );
            continue;
        }
        assert_eq!(r.code, 0, "{words}: {}", r.stderr);
        assert!(
            r.stdout
                .contains("sg-0a1b2c3d4e5f60001 in aws:111122223333:us-east-1"),
            "{}",
            r.stdout
        );
        assert!(
            !r.stdout.contains("Cidr(") && !r.stdout.contains("SecurityGroup("),
            "no Debug: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains("0.0.0.0/0") || r.stdout.contains("10.0.0.0/8"),
            "{}",
            r.stdout
        );
    }
    let r = ok(&db, &["show", "app-nsg"], 0);
    assert!(
        r.stdout
            .contains("/networksecuritygroups/app-nsg in azure:"),
        "{}",
        r.stdout
    );
    let r = netdrift(&db, &["show", "nothing-like-it"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no snapshot contains a resource \"nothing-like-it\""),
        "{}",
        r.stderr
    );
}

#[test]
fn quiet_verbose_and_color_flags_shape_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    // A file source whose dump is missing: a WARN line, a coverage finding, exit 3.
    std::fs::write(
        &cfg,
        "[[source]]\nprovider = \"aws\"\nname = \"dump\"\naccount = \"1\"\nregion = \"r\"\nfiles = [\"missing.json\"]\n[report]\ndirectory = \"r\"\nformats = [\"json\"]\n",
    )
    .unwrap();
    let c = cfg.display().to_string();
    let run = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_netdrift"));
        cmd.args(extra)
            .args(["run", "--config", &c])
            .env("NETDRIFT_DB", dir.path().join("d.db"))
            .env_remove("NETDRIFT_LOG")
            .env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = cmd.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    assert!(run(&[], &[]).contains(" WARN "));
    assert!(
        !run(&["-q"], &[]).contains(" WARN "),
        "-q keeps errors only"
    );
    assert!(
        run(&["-v"], &[]).contains(" WARN "),
        "-v adds, never removes"
    );
    assert!(
        !run(&[], &[]).contains('\u{1b}'),
        "no colour when stderr is not a terminal"
    );
    assert!(
        run(&["--color", "always"], &[]).contains("\u{1b}["),
        "--color always"
    );
    let r = netdrift(&dir.path().join("d.db"), &["-q", "-v", "snapshots"]);
    assert_eq!(r.code, 2, "-q and -v conflict: {}", r.stderr);
}

#[test]
fn exposure_lists_the_attack_surface_and_says_what_it_could_not_assess() {
    let dir = tempfile::tempdir().unwrap();
    let db = run_demo(dir.path()).db;
    let r = ok(&db, &["exposure", "--format", "json"], 0);
    let v = json(&r.stdout);
    assert_eq!(
        v["exposed"],
        serde_json::json!([{"scope": "aws:111122223333:us-east-1", "id": "eni-0a1b2c3d4e5f60001",
            "instance": "i-0a1b2c3d4e5f60001", "address": "54.210.167.204",
            "ports": ["tcp/22", "tcp/443"], "opened_by": ["sg-0a1b2c3d4e5f60001"],
            "sensitive": ["tcp/22"]}]),
        "only the web tier's public interface; the private ones are not listed"
    );
    let not = v["not_assessed"].to_string();
    for scope in [
        "aws:111122223333:eu-west-1",
        "gcp:acme-prod",
        "azure:0b1f6471-1bf0-4dda-aec3-111122223333",
    ] {
        assert!(not.contains(scope), "{scope} is said, not left out: {not}");
    }
    let t = ok(&db, &["exposure"], 0).stdout;
    assert!(t.starts_with("SCOPE"), "{t}");
    assert!(
        t.contains("i-0a1b2c3d4e5f60001 (eni-0a1b2c3d4e5f60001)  54.210.167.204"),
        "{t}"
    );
    assert!(
        t.contains("not assessed: gcp:acme-prod: instances were not collected"),
        "{t}"
    );
    let m = ok(
        &db,
        &[
            "exposure",
            "--format",
            "markdown",
            "--scope",
            "aws:111122223333",
        ],
        0,
    )
    .stdout;
    assert!(m.starts_with("| SCOPE | WORKLOAD |"), "{m}");
    assert!(!m.contains("gcp:"), "--scope selects: {m}");
    let e = ok(&db, &["exposure", "--scope", "nope"], 2);
    assert!(
        e.stderr.contains("no stored snapshot matches --scope nope"),
        "{}",
        e.stderr
    );
}

#[test]
fn completions_and_man_pages_come_from_the_command_definitions() {
    let db = std::env::temp_dir().join("unused-completions.db");
    let bash = netdrift(&db, &["completions", "bash"]);
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    assert!(bash.stdout.contains("_netdrift()"), "{}", bash.stdout);
    for sub in ["watch", "actors", "exposure", "evidence"] {
        assert!(bash.stdout.contains(sub), "bash completes {sub}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let r = netdrift(&db, &["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("watch"), "{shell}");
    }
    let r = netdrift(&db, &["completions", "tcsh"]);
    assert_eq!(r.code, 2, "an unknown shell is refused: {}", r.stdout);
    let page = netdrift(&db, &["man"]);
    assert_eq!(page.code, 0, "{}", page.stderr);
    assert!(page.stdout.contains(".TH netdrift 1"), "{}", page.stdout);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let r = netdrift(&db, &["man", "--out", &out.display().to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for page in [
        "netdrift.1",
        "netdrift-watch.1",
        "netdrift-baseline-approve.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie"), "{page} is roff");
    }
    // A reader that closes the pipe early ends it quietly, as every command does.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(141)),
        "{:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn report_help_names_every_format_it_writes() {
    let r = netdrift(
        &std::env::temp_dir().join("unused.db"),
        &["report", "--help"],
    );
    assert_eq!(r.code, 0);
    for f in ["HTML", "Markdown", "JSON", "CSV", "OCSF", "ASFF"] {
        assert!(r.stdout.contains(f), "{f}: {}", r.stdout);
    }
}

#[test]
fn audit_import_of_another_clouds_file_names_the_provider_and_warns_once_per_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    for (provider, file, hint) in [
        (
            "aws",
            "demo/audit/gcp-activity.json",
            "this looks like GCP Cloud Audit Logs; use --provider gcp",
        ),
        (
            "gcp",
            "demo/audit/azure-activity.json",
            "this looks like the Azure Activity Log; use --provider azure",
        ),
        (
            "azure",
            "demo/audit/cloudtrail-2026-11-24.json",
            "this looks like AWS CloudTrail; use --provider aws",
        ),
    ] {
        let path = crate::support::repo().join(file);
        let r = netdrift(
            &db,
            &[
                "audit",
                "import",
                "--provider",
                provider,
                &path.display().to_string(),
            ],
        );
        assert_eq!(r.code, 2, "{provider} {file}: {}", r.stdout);
        assert!(r.stderr.contains(hint), "{provider} {file}: {}", r.stderr);
        assert!(
            !r.stderr.contains("skipped"),
            "no per-record noise: {}",
            r.stderr
        );
        assert!(!db.exists(), "nothing stored, no database made");
    }
    // One malformed record among good ones: one warning line for it, not two.
    let text = std::fs::read_to_string(crate::support::repo().join("demo/audit/gcp-activity.json"))
        .unwrap();
    let mut v = json(&text);
    let list = if v.is_array() {
        v.as_array_mut().unwrap()
    } else {
        v["entries"].as_array_mut().unwrap()
    };
    list.push(serde_json::json!({"insertId": "broken", "timestamp": "2026-11-24T10:00:00Z"}));
    let f = dir.path().join("mixed.json");
    std::fs::write(&f, serde_json::to_string(&v).unwrap()).unwrap();
    let r = netdrift(
        &db,
        &[
            "audit",
            "import",
            "--provider",
            "gcp",
            &f.display().to_string(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr.lines().filter(|l| l.contains("skipped")).count(),
        1,
        "{}",
        r.stderr
    );
}

#[test]
fn a_configuration_error_lists_each_problem_on_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[watch]\ninterval_seconds = 0\n\n[report]\nasff_account = \"1\"\n",
    )
    .unwrap();
    let r = netdrift(
        &dir.path().join("x.db"),
        &["config", "check", &cfg.display().to_string()],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert!(
        lines[0].ends_with("bad.toml: 2 problem(s):"),
        "{}",
        r.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  - line 2: watch: field `interval_seconds`")),
        "{}",
        r.stderr
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  - line 5: report: field `asff_account`")),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("\\n"),
        "no escaped newline: {}",
        r.stderr
    );
    let r = netdrift(
        &dir.path().join("x.db"),
        &["config", "check", "/nonexistent.toml"],
    );
    assert_eq!(r.stderr.trim(), "netdrift: error: /nonexistent.toml: 1 problem(s):\n  - cannot read: No such file or directory (os error 2)");
}
