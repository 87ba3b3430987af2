//! The configuration's checks, table by table.

use super::*;

#[test]
fn files_the_configuration_names_must_be_readable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sg.json"), "{}").unwrap();
    std::fs::create_dir(dir.path().join("adir")).unwrap();
    let text = r#"change_records = ["missing-changes.json"]

[[source]]
name = "a"
provider = "aws"
account = "111122223333"
region = "us-east-1"
files = ["sg.json",
     "nacl-missing.json"]

[[audit]]
provider = "aws"
files = ["adir"]

[evidence]
signing_key = "no-key.pem"
"#;
    let cfg = Config::parse(text, dir.path(), "t.toml").unwrap();
    let got = cfg.unreadable_files.join("\n");
    let d = dir.path().display();
    assert_eq!(
        cfg.unreadable_files,
        vec![
            format!("line 1: field `change_records`: {d}/missing-changes.json does not exist"),
            format!("line 8: source \"a\": field `files`: {d}/nacl-missing.json does not exist"),
            format!("line 13: [[audit]] field `files`: {d}/adir is a directory"),
            format!("line 16: [evidence] field `signing_key`: {d}/no-key.pem does not exist"),
        ],
        "{got}"
    );
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let text = r#"
[schedule]
reconcile = "99 * * * *"
timezone = "Mars/Olympus"

[[source]]
provider = "awz"
name = "a"
account = "1"
files = ["x.json"]

[[source]]
provider = "gcp"
name = "a"
files = []
"#;
    let err = Config::parse(text, Path::new("."), "t.toml").unwrap_err();
    let all = err.problems.join("\n");
    // Each at the line of its key, not of its table's header; in the order of the file.
    assert!(
        all.starts_with("line 3: schedule: field `reconcile`"),
        "{all}"
    );
    assert!(
        all.contains("\nline 4: schedule: field `timezone`"),
        "{all}"
    );
    assert!(
        all.contains("line 7: source \"a\": field `provider`: unknown provider"),
        "{all}"
    );
    let lines: Vec<usize> = err
        .problems
        .iter()
        .map(|p| {
            p["line ".len()..]
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        lines.windows(2).all(|w| w[0] <= w[1]),
        "sorted by line: {all}"
    );
    assert!(
        all.contains("line 12: source \"a\": duplicate source name"),
        "{all}"
    );
    assert!(
        all.contains(
            "line 12: source \"a\": neither `files` (a file source, with `account`) nor `projects`"
        ),
        "{all}"
    );
    assert!(err.problems.len() >= 4, "{all}");
}

/// One `[[source]]` body per row (name and provider added), and a part of the one problem
/// it must produce; `None`: accepted.
#[cfg(all(feature = "aws", feature = "gcp", feature = "azure"))]
#[test]
fn source_tables() {
    std::env::set_var("NETDRIFT_TEST_CONFIG_TOKEN", "t0ken");
    let rows: &[(&str, &str, Option<&str>)] = &[
        ("aws", r#"regions = "all""#, None),
        ("aws", r#"regions = ["eu-west-1"]"#, None),
        (
            "aws",
            "",
            Some("field `regions` is required for a live AWS source"),
        ),
        (
            "aws",
            r#"regions = []"#,
            Some("invalid length 0, expected a non-empty list of names, or \"all\""),
        ),
        (
            "aws",
            r#"regions = "everywhere""#,
            Some("expected a non-empty list of names, or \"all\""),
        ),
        (
            "aws",
            r#"regions = "all"
regoins = 1"#,
            Some("unknown field `regoins`"),
        ),
        (
            "aws",
            r#"regions = "all"
account = "1""#,
            Some("`account` belong to a file source, but `files` lists no dump files"),
        ),
        (
            "aws",
            r#"regions = "all"
expected_ports = [22]"#,
            Some("`expected_ports` belong to a file source"),
        ),
        (
            "aws",
            r#"regions = "all"
assume_roles = ["123"]"#,
            Some("is not a role ARN"),
        ),
        (
            "aws",
            r#"regions = "all"
endpoint_url = "localhost:5000""#,
            Some("is not an http(s) URL"),
        ),
        (
            "aws",
            r#"account = "1"
files = ["a.json"]"#,
            Some("field `region` is required for an AWS file source"),
        ),
        (
            "aws",
            r#"account = "1"
region = "eu-west-1"
files = ["a.json"]
regions = "all""#,
            Some("unknown field `regions`"),
        ),
        ("gcp", r#"projects = ["p"]"#, None),
        (
            "gcp",
            r#"files = ["a.json"]"#,
            Some("field `account` is required for a file source"),
        ),
        (
            "gcp",
            r#"organization = "123""#,
            Some("expected organizations/NUMBER"),
        ),
        (
            "gcp",
            r#"folders = ["f/1"]"#,
            Some("expected folders/NUMBER"),
        ),
        (
            "gcp",
            r#"projects = ["p"]
credentials = "anonymous""#,
            Some("refused unless `endpoint_url` is a loopback address"),
        ),
        (
            "gcp",
            r#"projects = ["p"]
credentials = "anonymous"
endpoint_url = "http://127.0.0.1.example.com""#,
            Some("refused unless `endpoint_url` is a loopback address"),
        ),
        (
            "gcp",
            r#"projects = ["p"]
credentials = "anonymous"
endpoint_url = "http://127.0.0.1:9""#,
            None,
        ),
        (
            "gcp",
            r#"projects = ["p"]
credentials = "key.json""#,
            Some("expected \"anonymous\" for a local fake"),
        ),
        ("azure", r#"subscriptions = "all""#, None),
        ("azure", "", Some("nor `subscriptions`")),
        (
            "azure",
            r#"subscriptions = "all"
credentials = { static_token_env = "NETDRIFT_TEST_CONFIG_TOKEN" }"#,
            Some("refused unless `endpoint_url` is a loopback address"),
        ),
        (
            "azure",
            r#"subscriptions = "all"
endpoint_url = "http://[::1]:9"
credentials = { static_token_env = "NETDRIFT_TEST_CONFIG_TOKEN" }"#,
            None,
        ),
        (
            "azure",
            r#"subscriptions = "all"
endpoint_url = "http://[::1]:9"
credentials = { static_token_env = "NETDRIFT_TEST_CONFIG_UNSET" }"#,
            Some("the static token variable NETDRIFT_TEST_CONFIG_UNSET is not set"),
        ),
        (
            "azure",
            r#"subscriptions = "all"
endpoint_url = "http://[::1]:9"
credentials = { static_token_env = "NETDRIFT_TEST_CONFIG_TOKEN", extra = 1 }"#,
            Some("unknown field `extra`"),
        ),
    ];
    for (provider, body, want) in rows {
        let text = format!("[[source]]\nname = \"s\"\nprovider = \"{provider}\"\n{body}\n");
        let got = Config::parse(&text, Path::new("."), "t.toml");
        match (want, got) {
            (None, Ok(_)) => {}
            (None, Err(e)) => panic!("{provider} {body:?} refused: {e}"),
            (Some(w), Ok(_)) => panic!("{provider} {body:?} accepted; expected {w:?}"),
            (Some(w), Err(e)) => {
                assert_eq!(e.problems.len(), 1, "{provider} {body:?}: {e}");
                // At the line of the key it names (the table's header is line 1).
                let (line, rest) = e.problems[0]["line ".len()..].split_once(": ").unwrap();
                let line: usize = line.parse().unwrap();
                assert!(rest.starts_with("source \"s\": "), "{e}");
                if let Some(k) = super::checker::named_key(rest) {
                    let at = text.lines().position(|l| l.starts_with(&format!("{k} ")));
                    assert_eq!(line, at.map_or(1, |i| i + 1), "{e}");
                }
                assert!(
                    e.problems[0].contains(w),
                    "{provider} {body:?}: {e} lacks {w:?}"
                );
            }
        }
    }
}
