//! CloudTrail LookupEvents for one account × region: `EventSource = ec2.amazonaws.com`, the
//! window since the previous snapshot, paginated (50 per page), at most about 2 requests per
//! second, retried on throttling by the SDK. The records go through the same parser as
//! CloudTrail log files.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::primitives::DateTime as AwsTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use chrono::{DateTime, Utc};

use netdrift_snapshots::{AuditEvent, Problem};

/// Events in the window, parsed. Also STS events are not available through this source filter;
/// role chains resolve through CloudTrail files or another source.
pub async fn lookup_events(
    config: &SdkConfig,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<AuditEvent>, Problem> {
    let client = aws_sdk_cloudtrail::Client::new(config);
    let attr = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventSource)
        .attribute_value("ec2.amazonaws.com")
        .build()
        .map_err(|e| Problem {
            code: netdrift_snapshots::ProblemCode::Decode,
            kind: None,
            operation: Some("LookupEvents".into()),
            message: e.to_string(),
        })?;
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut first = true;
    loop {
        if !first {
            // About 2 requests per second per account and region.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        first = false;
        let resp = client
            .lookup_events()
            .lookup_attributes(attr.clone())
            .start_time(AwsTime::from_secs(since.timestamp()))
            .end_time(AwsTime::from_secs(until.timestamp()))
            .max_results(50)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| crate::errors::classify("LookupEvents", None, &e))?;
        for ev in resp.events() {
            let Some(raw) = ev.cloud_trail_event() else {
                continue;
            };
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) {
                if let Ok(Some(parsed)) =
                    netdrift_provider_file::audit::cloudtrail::parse_record(&v)
                {
                    out.push(parsed);
                }
            }
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}
