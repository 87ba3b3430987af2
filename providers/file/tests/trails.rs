//! Whether a region's firewall changes are logged, from CloudTrail's own answers as the AWS CLI
//! prints them (`describe-trails --include-shadow-trails`, `get-trail-status`,
//! `get-event-selectors`). One line per case: the trails (description, IsLogging, selectors)
//! and the verdict for us-east-1. Rules checked against the CloudTrail API reference:
//! shadow trails of multi-region and organization trails apply to every region; a trail
//! records management write events with `ReadWriteType` All or WriteOnly and
//! `IncludeManagementEvents` (default true), or advanced selectors with `eventCategory =
//! Management` not limited to `readOnly = true`.

use netdrift_provider_file::audit::trails;
use netdrift_snapshots::logging::{aws_region, LoggingVerdict::*};
use serde_json::{json, Value};

const HERE: &str = "us-east-1";

fn trail(arn_region: &str, multi: bool, org: bool) -> Value {
    json!({"Name": "t", "TrailARN": format!("arn:aws:cloudtrail:{arn_region}:111111111111:trail/t"),
           "HomeRegion": arn_region, "IsMultiRegionTrail": multi, "IsOrganizationTrail": org,
           "S3BucketName": "b", "IncludeGlobalServiceEvents": true, "LogFileValidationEnabled": false,
           "HasCustomEventSelectors": false, "HasInsightSelectors": false})
}

fn all() -> Value {
    json!({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": []}]})
}

fn basic(rw: &str, mgmt: bool) -> Value {
    json!({"EventSelectors": [{"ReadWriteType": rw, "IncludeManagementEvents": mgmt, "DataResources": []}]})
}

fn advanced(fields: Value) -> Value {
    json!({"AdvancedEventSelectors": [{"Name": "s", "FieldSelectors": fields}]})
}

fn status(logging: bool) -> Value {
    json!({"IsLogging": logging, "LatestDeliveryTime": 1700000000.0, "StartLoggingTime": 1690000000.0})
}

type Case = (
    &'static str,
    Vec<(Value, Option<Value>, Option<Value>)>,
    netdrift_snapshots::logging::LoggingVerdict,
);

#[test]
fn region_verdicts() {
    let cases: Vec<Case> = vec![
        ("no trail at all", vec![], TrailMissing),
        (
            "a single-region trail of another region",
            vec![(
                trail("eu-west-1", false, false),
                Some(status(true)),
                Some(all()),
            )],
            TrailMissing,
        ),
        (
            "a single-region trail here, logging All",
            vec![(trail(HERE, false, false), Some(status(true)), Some(all()))],
            Logged,
        ),
        (
            "a multi-region trail homed elsewhere (shadow trail)",
            vec![(
                trail("eu-west-1", true, false),
                Some(status(true)),
                Some(all()),
            )],
            Logged,
        ),
        (
            "an organization trail seen from a member account",
            vec![(
                trail("eu-west-1", true, true),
                Some(status(true)),
                Some(all()),
            )],
            Logged,
        ),
        (
            "the only trail is stopped",
            vec![(trail(HERE, false, false), Some(status(false)), Some(all()))],
            TrailStopped,
        ),
        (
            "WriteOnly is enough",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(basic("WriteOnly", true)),
            )],
            Logged,
        ),
        (
            "ReadOnly records no change",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(basic("ReadOnly", true)),
            )],
            ManagementEventsExcluded,
        ),
        (
            "data events only",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(basic("All", false)),
            )],
            ManagementEventsExcluded,
        ),
        (
            "no selector at all records nothing",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(json!({"EventSelectors": []})),
            )],
            ManagementEventsExcluded,
        ),
        (
            "a selector without fields takes CloudTrail's defaults",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(json!({"EventSelectors": [{}]})),
            )],
            Logged,
        ),
        (
            "advanced: management events",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(advanced(
                    json!([{"Field": "eventCategory", "Equals": ["Management"]}]),
                )),
            )],
            Logged,
        ),
        (
            "advanced: management writes only",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(advanced(
                    json!([{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]),
                )),
            )],
            Logged,
        ),
        (
            "advanced: management reads only",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(advanced(
                    json!([{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["true"]}]),
                )),
            )],
            ManagementEventsExcluded,
        ),
        (
            "advanced: data events only",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(advanced(
                    json!([{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]),
                )),
            )],
            ManagementEventsExcluded,
        ),
        (
            "advanced: management, but not from EC2",
            vec![(
                trail(HERE, false, false),
                Some(status(true)),
                Some(advanced(
                    json!([{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "eventSource", "NotEquals": ["ec2.amazonaws.com"]}]),
                )),
            )],
            ManagementEventsExcluded,
        ),
        (
            "one stopped, one recording only reads: stopped is what to fix",
            vec![
                (trail(HERE, false, false), Some(status(false)), Some(all())),
                (
                    trail("eu-west-1", true, false),
                    Some(status(true)),
                    Some(basic("ReadOnly", true)),
                ),
            ],
            TrailStopped,
        ),
        (
            "status unreadable and nothing else: unverified, never logged",
            vec![(trail(HERE, false, false), None, Some(all()))],
            Unverified,
        ),
        (
            "selectors unreadable and nothing else: unverified",
            vec![(trail(HERE, false, false), Some(status(true)), None)],
            Unverified,
        ),
        (
            "one unreadable, another logging: logged",
            vec![
                (trail(HERE, false, false), None, None),
                (
                    trail("eu-west-1", true, true),
                    Some(status(true)),
                    Some(all()),
                ),
            ],
            Logged,
        ),
    ];
    for (name, rows, want) in cases {
        let doc = json!({"trailList": rows.iter().map(|(t, _, _)| t.clone()).collect::<Vec<_>>()});
        let described = trails::described(&doc).unwrap();
        let got: Vec<_> = described
            .iter()
            .zip(&rows)
            .map(|(d, (_, st, sel))| trails::trail(d, st.as_ref(), sel.as_ref()).unwrap())
            .collect();
        let (verdict, evidence) = aws_region(HERE, &got);
        assert_eq!(verdict, want, "{name}: {evidence:?}");
        assert!(!evidence.is_empty(), "{name}: says what was checked");
    }
}

#[test]
fn bad_documents_name_the_field() {
    let e = trails::described(&json!({"trailList": [{"Name": "t", "HomeRegion": "us-east-1"}]}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("$.trailList[0]") && e.contains("TrailARN"),
        "{e}"
    );
    let e = trails::is_logging(&json!({"IsLogging": "yes"}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("IsLogging"), "{e}");
}
