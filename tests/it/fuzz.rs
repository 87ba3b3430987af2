//! Fuzzing the root crate's parsers on stable Rust (the hand-written baseline file, the
//! configuration, change records, evidence archives) with the same deterministic mutator as
//! `providers/file/tests/fuzz.rs`, and, through the CLI, that a rejected input leaves the
//! database byte-identical. Bounded for CI (`NETDRIFT_FUZZ_CASES`).

#[path = "../../providers/file/tests/support/mutate.rs"]
mod mutate;

use std::path::Path;

use mutate::{case, cases, Rng};

use crate::support::*;

fn fuzz(
    name: &str,
    ext: &str,
    seeds: &[Vec<u8>],
    n: usize,
    parse: impl Fn(&Path) -> Result<(), String>,
) {
    mutate::run(name, ext, seeds, n, &repo().join("target/tmp"), parse);
}

#[test]
fn fuzz_baseline_files_configs_and_change_records() {
    let dir = tempfile::tempdir().unwrap();
    let db = run_demo(dir.path()).db;
    let baseline = ok(&db, &["baseline", "export"], 0).stdout.into_bytes();
    fuzz("baseline-file", "toml", &[baseline], cases(600), |p| {
        netdrift::baseline_file::load(p)
            .map(|_| ())
            .map_err(|e| format!("{e:#}"))
    });
    let configs = vec![
        std::fs::read(repo().join("demo/netdrift.toml")).unwrap(),
        std::fs::read(repo().join("netdrift.example.toml")).unwrap(),
    ];
    fuzz("config", "toml", &configs, cases(600), |p| {
        netdrift::config::Config::load(p)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let records = vec![
        std::fs::read(repo().join("demo/changes.csv")).unwrap(),
        serde_json::to_vec(&serde_json::json!([{"ticket": "CHG-1", "scopes": ["aws:*"], "start": "2026-11-24T00:00:00Z",
            "end": "2026-11-25T00:00:00Z", "principals": ["arn:aws:iam::*:role/TerraformApply"]}]))
        .unwrap(),
    ];
    fuzz("change-records", "csv", &records, cases(600), |p| {
        netdrift::attribution::load_records(p)
            .map(|_| ())
            .map_err(|e| format!("{e:#}"))
    });
}

#[test]
fn fuzz_evidence_archives() {
    let dir = tempfile::tempdir().unwrap();
    let db = run_demo(dir.path()).db;
    let bundle = dir.path().join("b.tar");
    export_all(&db, &bundle);
    let seed = std::fs::read(&bundle).unwrap();
    // A tampered archive is refused (an error naming it) or verified with its problems named;
    // never a panic.
    fuzz(
        "evidence",
        "tar",
        std::slice::from_ref(&seed),
        cases(300),
        |p| {
            netdrift::evidence::verify::verify(p, None)
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        },
    );
}

#[test]
fn a_rejected_input_leaves_the_database_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let db = run_demo(dir.path()).db;
    let mut rng = Rng::new(2026);
    let inputs: Vec<(&str, Vec<&str>, Vec<u8>)> = vec![
        (
            "aws",
            vec![
                "import",
                "--provider",
                "aws",
                "--scope",
                "111122223333",
                "--region",
                "us-east-1",
            ],
            std::fs::read(repo().join("demo/aws/day2/security-groups.json")).unwrap(),
        ),
        (
            "gcp",
            vec!["import", "--provider", "gcp", "--scope", "acme-prod"],
            std::fs::read(repo().join("demo/gcp/day2/firewalls.json")).unwrap(),
        ),
        (
            "azure",
            vec![
                "import",
                "--provider",
                "azure",
                "--scope",
                "0b1f6471-1bf0-4dda-aec3-111122223333",
            ],
            std::fs::read(repo().join("demo/azure/day2/nsgs.json")).unwrap(),
        ),
        (
            "audit",
            vec!["audit", "import", "--provider", "aws"],
            std::fs::read(repo().join("demo/audit/cloudtrail-2026-11-24.json")).unwrap(),
        ),
    ];
    let n = cases(2000) / 25;
    let (mut rejected, mut accepted) = (0, 0);
    for i in 0..n {
        let (kind, args, seed) = &inputs[i % inputs.len()];
        let input = case(seed, &mut rng);
        let f = dir.path().join(format!("in-{i}.json"));
        std::fs::write(&f, &input).unwrap();
        let wal = |db: &Path| std::fs::read(format!("{}-wal", db.display())).unwrap_or_default();
        let before = (std::fs::read(&db).unwrap(), wal(&db), dump(&db));
        let mut a = args.clone();
        let name = f.display().to_string();
        a.push(&name);
        let r = netdrift(&db, &a);
        assert!(
            !r.stderr.contains("panicked"),
            "{kind} case {i}: {}",
            r.stderr
        );
        match r.code {
            2 => {
                rejected += 1;
                assert!(
                    r.stderr.contains(&name),
                    "{kind} case {i} names the file: {}",
                    r.stderr
                );
                // The main file, its write-ahead log and every row, as before.
                let after = (std::fs::read(&db).unwrap(), wal(&db), dump(&db));
                assert!(after == before, "{kind} case {i}: the database changed");
            }
            0 => accepted += 1,
            other => panic!("{kind} case {i}: exit {other}: {}", r.stderr),
        }
    }
    assert!(rejected > n / 4, "{rejected} of {n} rejected");
    let c = rusqlite::Connection::open(&db).unwrap();
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    eprintln!("fuzz cli: {n} inputs, {rejected} rejected with the database unchanged, {accepted} accepted");
}
