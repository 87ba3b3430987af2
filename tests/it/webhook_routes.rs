//! Webhook routes (`[[report.webhook]]`): each route takes the items at its threshold that pass
//! its filter (provider, scope glob, tag), once per route; `[report] webhook_url` stays the
//! default route.

use crate::reports::day2_with_config;
use crate::support::*;

/// The item lines (`• [SEVERITY] provider scope resource: …`) of every message a server got.
fn lines(seen: &std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .flat_map(|b| {
            json(b)["text"]
                .as_str()
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("• ["))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn each_route_gets_its_own_items_once() {
    let dir = tempfile::tempdir().unwrap();
    let (default_url, default_seen) = webhook_server(Vec::new());
    let (net_url, net_seen) = webhook_server(Vec::new());
    let (store_url, store_seen) = webhook_server(Vec::new());
    std::env::set_var("NETDRIFT_TEST_STOREFRONT_HOOK", &store_url);
    let routes = format!(
        r#"
[[report.webhook]]
name = "net-team"
url = "{net_url}"
min_severity = "medium"
providers = ["aws"]
scopes = ["aws:111122223333:*"]

[[report.webhook]]
name = "storefront"
url_env = "NETDRIFT_TEST_STOREFRONT_HOOK"
min_severity = "low"
tags = ["team=store*"]
"#
    );
    let edit = |cfg: String| {
        cfg.replace(
            "[report]\n",
            &format!("[report]\nwebhook_url = \"{default_url}\"\n"),
        ) + &routes
    };
    let r = day2_with_config(dir.path(), &edit);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);

    // The default route: every cloud, high and above.
    let default = lines(&default_seen);
    assert!(default.iter().any(|l| l.contains(" gcp ")), "{default:?}");
    assert!(default.iter().any(|l| l.contains(" azure ")), "{default:?}");
    assert!(
        default.iter().all(|l| !l.starts_with("• [MEDIUM]")),
        "{default:?}"
    );
    // The network team's: AWS only, from medium, so the database widening is in it.
    let net = lines(&net_seen);
    assert!(
        net.iter().all(|l| l.contains(" aws aws:111122223333:")),
        "{net:?}"
    );
    assert!(
        net.iter()
            .any(|l| l.starts_with("• [MEDIUM]") && l.contains("sg-0a1b2c3d4e5f60002")),
        "{net:?}"
    );
    assert!(
        net.iter().any(|l| l.contains("acl-0a1b2c3d4e5f60001")),
        "{net:?}"
    );
    // The storefront team's: only the group tagged team=storefront.
    let store = lines(&store_seen);
    assert_eq!(store.len(), 1, "{store:?}");
    assert!(store[0].contains("sg-0a1b2c3d4e5f60001"), "{store:?}");
    for seen in [&default_seen, &net_seen, &store_seen] {
        assert_eq!(seen.lock().unwrap().len(), 1, "one message per route");
    }

    // The next night finds the same drift: no route is told again.
    let cfg = dir.path().join("demo/webhook.toml").display().to_string();
    let again = netdrift(
        &dir.path().join("fresh.db"),
        &["run", "--config", &cfg, "--at", "2026-11-26T02:00:00Z"],
    );
    assert_eq!(again.code, 1, "{}\n{}", again.stdout, again.stderr);
    for seen in [&default_seen, &net_seen, &store_seen] {
        assert_eq!(seen.lock().unwrap().len(), 1, "delivered once per route");
    }
}

#[test]
fn a_route_is_checked_at_its_own_lines() {
    let got = config_problems("[report]\nwebhook_url = \"https://hooks.example/a\"\n\n[[report.webhook]]\nname = \"ok\"\nurl = \"https://hooks.example/b\"\n\n[[report.webhook]]\nname = \"bad\"\nurl = \"ftp://x\"\nproviders = [\"oracle\"]\n\n[[report.webhook]]\nurl = \"https://hooks.example/c\"\n\n[[report.webhook]]\nname = \"default\"\nurl = \"https://hooks.example/d\"\n");
    let want = [
        (
            10,
            "[[report.webhook]] \"bad\": field `url`: the webhook URL must start with https://",
        ),
        (
            11,
            "[[report.webhook]] \"bad\": field `providers`: unknown provider \"oracle\"",
        ),
        (13, "[[report.webhook]]: field `name` is required"),
        (
            17,
            "[[report.webhook]] \"default\": field `name`: another route has this name",
        ),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for ((line, msg), (wl, wm)) in got.iter().zip(want) {
        assert_eq!(*line, wl, "{msg}");
        assert!(msg.starts_with(wm), "{msg} is not {wm}");
    }
}
