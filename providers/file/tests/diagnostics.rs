//! Whether an Azure subscription's Activity Log is exported, from its subscription-scope
//! diagnostic settings as ARM returns them (`GET …/providers/Microsoft.Insights/
//! diagnosticSettings?api-version=2021-05-01-preview`, `az monitor diagnostic-settings
//! subscription list`). One line per case: the settings and whether Administrative events
//! leave the platform's 90 days. Rules checked against the Azure Monitor REST reference: a
//! `logs` entry names a `category` (Administrative, Security, ServiceHealth, Alert,
//! Recommendation, Policy, Autoscale, ResourceHealth) or a `categoryGroup` (`allLogs`), with
//! `enabled`; the destinations are `workspaceId`, `storageAccountId`,
//! `eventHubAuthorizationRuleId` and `marketplacePartnerId`.

use netdrift_provider_file::audit::diagnostics::read;
use serde_json::{json, Value};

fn setting(props: Value) -> Value {
    json!({"id": "subscriptions/s/providers/AzureResourceManager/diagnosticSettings/d", "type": null, "name": "d", "properties": props})
}

#[test]
fn the_specs_example_exports_every_category_to_three_destinations() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/fixtures/azure_spec_listSubscriptionDiagnosticSettings_2021-05-01-preview.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let got = read(&doc["responses"]["200"]["body"]).unwrap();
    assert!(got.exported);
    assert_eq!(
        got.evidence,
        vec!["diagnostic setting ds4: exports Administrative (enabled: allLogs; to: Log Analytics workspace, storage account, event hub)"]
    );
}

#[test]
fn administrative_must_be_enabled_and_sent_somewhere() {
    let ws =
        "/subscriptions/s/resourceGroups/r/providers/Microsoft.OperationalInsights/workspaces/w";
    let rows: Vec<(&str, Value, bool)> = vec![
        (
            "Administrative to a workspace",
            json!([setting(
                json!({"workspaceId": ws, "logs": [{"category": "Administrative", "enabled": true}]})
            )]),
            true,
        ),
        (
            "category names are case-insensitive",
            json!([setting(
                json!({"storageAccountId": "/x", "logs": [{"category": "administrative", "enabled": true}]})
            )]),
            true,
        ),
        (
            "allLogs group to an event hub",
            json!([setting(
                json!({"eventHubAuthorizationRuleId": "/x/authorizationrules/r", "logs": [{"categoryGroup": "allLogs", "enabled": true}]})
            )]),
            true,
        ),
        (
            "a partner solution is a destination",
            json!([setting(
                json!({"marketplacePartnerId": "/x", "logs": [{"category": "Administrative", "enabled": true}]})
            )]),
            true,
        ),
        ("no setting at all", json!([]), false),
        (
            "Administrative disabled",
            json!([setting(
                json!({"workspaceId": ws, "logs": [{"category": "Administrative", "enabled": false}]})
            )]),
            false,
        ),
        (
            "enabled missing is not enabled",
            json!([setting(
                json!({"workspaceId": ws, "logs": [{"category": "Administrative"}]})
            )]),
            false,
        ),
        (
            "only Security",
            json!([setting(
                json!({"workspaceId": ws, "logs": [{"category": "Security", "enabled": true}]})
            )]),
            false,
        ),
        (
            "Administrative but every destination empty",
            json!([setting(
                json!({"workspaceId": "", "storageAccountId": null, "logs": [{"category": "Administrative", "enabled": true}]})
            )]),
            false,
        ),
        (
            "no logs list",
            json!([setting(json!({"workspaceId": ws}))]),
            false,
        ),
        (
            "one of two settings exports",
            json!([
                setting(
                    json!({"workspaceId": ws, "logs": [{"category": "Policy", "enabled": true}]})
                ),
                setting(
                    json!({"storageAccountId": "/x", "logs": [{"category": "Administrative", "enabled": true}]})
                )
            ]),
            true,
        ),
    ];
    for (case, list, exported) in rows {
        let got = read(&json!({ "value": list })).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(got.exported, exported, "{case}: {:?}", got.evidence);
        assert!(!got.evidence.is_empty(), "{case}: says what it read");
        // The CLI prints the bare list: read the same.
        assert_eq!(read(&list).unwrap(), got, "{case}");
    }
}

#[test]
fn a_response_of_the_wrong_shape_is_an_error_naming_the_field() {
    let e = read(&json!({"values": []})).unwrap_err();
    assert!(e.contains("no `value` list"), "{e}");
    let e = read(&json!({"value": [setting(json!({"logs": {"category": "Administrative"}}))]}))
        .unwrap_err();
    assert!(
        e.contains("value[0] (d): field `properties.logs`: expected a list"),
        "{e}"
    );
    assert!(read(&json!("settings")).is_err());
}
