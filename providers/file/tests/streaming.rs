//! A `describe-security-groups` dump is converted group by group while it is parsed (its tree
//! is never held whole). Whatever the document, the result must be what parsing it whole and
//! then converting it gives: the same groups, or the same error (a JSON error before any
//! conversion error, the first conversion error by position).

use std::path::PathBuf;

use netdrift_provider_file::{convert_document, import_files, parse_json, ImportError};
use netdrift_snapshots::Provider;

fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("../..")
}

/// The whole-tree way: parse, then convert (what every other dump still does).
fn whole(file: &str, bytes: &[u8]) -> Result<String, String> {
    let doc = parse_json(file, bytes).map_err(|e| e.to_string())?;
    convert_document(Provider::Aws, "111122223333", &doc)
        .map(|r| serde_json::to_string(&r).unwrap())
        .map_err(|source| {
            ImportError::Convert {
                file: file.to_string(),
                source,
            }
            .to_string()
        })
}

fn streamed(path: &std::path::Path) -> Result<String, String> {
    import_files(Provider::Aws, "111122223333", &[path])
        .map(|r| serde_json::to_string(&r).unwrap())
        .map_err(|e| e.to_string())
}

/// Both ways give the same; `expect` is what that is: `Ok(n)` groups, or an error saying this.
fn same(name: &str, text: &str, expect: Result<usize, &str>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.json"));
    std::fs::write(&path, text).unwrap();
    let file = path.display().to_string();
    let got = streamed(&path);
    assert_eq!(got, whole(&file, text.as_bytes()), "{name}: {text}");
    match (expect, &got) {
        (Ok(n), Ok(json)) => assert_eq!(
            serde_json::from_str::<Vec<serde_json::Value>>(json)
                .unwrap()
                .len(),
            n,
            "{name}"
        ),
        (Err(want), Err(e)) => assert!(e.contains(want) && e.contains(&file), "{name}: {e}"),
        _ => panic!("{name}: expected {expect:?}, got {got:?}"),
    }
}

const G: &str = r#"{"GroupId": "sg-0a", "GroupName": "a", "Description": "d", "VpcId": "vpc-1", "OwnerId": "111122223333",
  "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
  "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}], "IpPermissionsEgress": []}"#;

fn group(id: &str) -> String {
    G.replace("sg-0a", id)
}

#[test]
fn the_demo_dumps_convert_to_the_same_groups() {
    for rel in [
        "demo/aws/day1/security-groups.json",
        "demo/aws/day2/security-groups.json",
        "demo/aws-eu/day1/security-groups.json",
        "demo/aws/day1/network-acls.json",
    ] {
        let path = root().join(rel);
        let bytes = std::fs::read(&path).unwrap();
        let got = streamed(&path);
        assert!(got.is_ok(), "{rel}: {got:?}");
        assert_eq!(got, whole(&path.display().to_string(), &bytes), "{rel}");
    }
}

#[test]
fn every_document_shape_gives_what_the_whole_tree_gives() {
    let (a, b, c) = (group("sg-0a"), group("sg-0b"), group("sg-0c"));
    let bad_cidr = group("sg-0b").replace("10.0.0.0/8", "10.0.0.0/33");
    let bad_port = group("sg-0c").replace("\"FromPort\": 22", "\"FromPort\": \"x\"");
    let dup_key = group("sg-0b").replace(
        "\"GroupName\": \"a\"",
        "\"GroupName\": \"a\", \"GroupName\": \"b\"",
    );
    let cases: Vec<(&str, String, Result<usize, &str>)> = vec![
        (
            "three groups",
            format!(r#"{{"SecurityGroups": [{a}, {b}, {c}]}}"#),
            Ok(3),
        ),
        ("empty array", r#"{"SecurityGroups": []}"#.into(), Ok(0)),
        (
            "next token after",
            format!(r#"{{"SecurityGroups": [{a}], "NextToken": "x"}}"#),
            Ok(1),
        ),
        (
            "next token before",
            format!(r#"{{"NextToken": null, "SecurityGroups": [{a}]}}"#),
            Ok(1),
        ),
        (
            "a bad group is named by its index",
            format!(r#"{{"SecurityGroups": [{a}, {bad_cidr}, {c}]}}"#),
            Err("$.SecurityGroups[1]"),
        ),
        (
            "the first bad group wins",
            format!(r#"{{"SecurityGroups": [{a}, {bad_cidr}, {bad_port}]}}"#),
            Err("$.SecurityGroups[1]"),
        ),
        (
            "a syntax error after a bad group is the error",
            format!(r#"{{"SecurityGroups": [{bad_cidr}, {c},]}}"#),
            Err("trailing comma"),
        ),
        (
            "truncated",
            format!(r#"{{"SecurityGroups": [{a}, {b}"#),
            Err("EOF"),
        ),
        (
            "a duplicate key inside a group",
            format!(r#"{{"SecurityGroups": [{a}, {dup_key}]}}"#),
            Err("duplicate key \"GroupName\" in the object at $.SecurityGroups[1]"),
        ),
        (
            "the array twice",
            format!(r#"{{"SecurityGroups": [{a}], "SecurityGroups": [{b}]}}"#),
            Err("duplicate key \"SecurityGroups\""),
        ),
        (
            "the same group id twice",
            format!(r#"{{"SecurityGroups": [{a}, {b}, {a}]}}"#),
            Err("$.SecurityGroups[2]"),
        ),
        (
            "an object, not an array",
            format!(r#"{{"SecurityGroups": {a}}}"#),
            Err("expected an array"),
        ),
        (
            "a string",
            r#"{"SecurityGroups": "sg-0a"}"#.into(),
            Err("expected an array"),
        ),
        (
            "null and an ACL dump",
            r#"{"SecurityGroups": null, "NetworkAcls": []}"#.into(),
            Ok(0),
        ),
        (
            "a null element",
            format!(r#"{{"SecurityGroups": [{a}, null]}}"#),
            Err("$.SecurityGroups[1]"),
        ),
        (
            "a number element",
            format!(r#"{{"SecurityGroups": [{a}, 7]}}"#),
            Err("$.SecurityGroups[1]"),
        ),
        (
            "nested key of the same name",
            format!(r#"{{"Wrapper": {{"SecurityGroups": [{a}]}}}}"#),
            Err("not an AWS EC2 dump"),
        ),
        ("a root array", format!("[{a}]"), Err("not an AWS EC2 dump")),
        (
            "two documents",
            format!(r#"{{"SecurityGroups": [{a}]}} {{}}"#),
            Err("trailing characters"),
        ),
        ("whitespace only", "  \n".into(), Err("")),
    ];
    for (name, text, expect) in cases {
        same(name, &text, expect);
    }
}
