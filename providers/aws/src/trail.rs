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

/// Whether this region's management write events are logged: DescribeTrails (shadow trails
/// included) here, then for each trail that applies to the region GetTrailStatus (by ARN, as
/// shadow and organization trails need) and GetEventSelectors (in the trail's home region).
/// The answers go to the AWS CLI's JSON and through the offline reader. A trail whose status or
/// selectors cannot be read is kept with that part unknown, and the problem returned with it.
/// What CloudTrail says of one trail wherever it is read from: its status and its event
/// selectors (unknown when the call failed, with the problem).
#[derive(Clone, Default)]
pub struct TrailFacts {
    status: Option<serde_json::Value>,
    selectors: Option<serde_json::Value>,
    problems: Vec<Problem>,
}

/// One collection's trail facts by trail ARN: a multi-region trail is seen by every region's
/// DescribeTrails, but its status and selectors are read once (`regions − 1` calls of each
/// saved per trail), however many regions are checked at once.
#[derive(Clone, Default)]
pub struct TrailCache(
    std::sync::Arc<
        std::sync::Mutex<
            std::collections::HashMap<String, std::sync::Arc<tokio::sync::OnceCell<TrailFacts>>>,
        >,
    >,
);

impl TrailCache {
    fn cell(&self, arn: &str) -> std::sync::Arc<tokio::sync::OnceCell<TrailFacts>> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(arn.to_string())
            .or_default()
            .clone()
    }
}

pub async fn logging(
    config: &SdkConfig,
    region: &str,
    cache: &TrailCache,
) -> Result<(Vec<netdrift_snapshots::logging::Trail>, Vec<Problem>), Problem> {
    use netdrift_provider_file::audit::trails;
    let client = aws_sdk_cloudtrail::Client::new(config);
    let resp = client
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| crate::errors::classify("DescribeTrails", None, &e))?;
    let doc = crate::wire::trail_list(resp.trail_list());
    let described = trails::described(&doc).map_err(decode("DescribeTrails"))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for d in described
        .iter()
        .filter(|d| d.multi_region || d.home_region == region)
    {
        let facts = cache
            .cell(&d.arn)
            .get_or_init(|| async {
                let mut facts = TrailFacts::default();
                match client.get_trail_status().name(&d.arn).send().await {
                    Ok(s) => {
                        facts.status = Some(serde_json::json!({ "IsLogging": s.is_logging() }))
                    }
                    Err(e) => {
                        facts
                            .problems
                            .push(crate::errors::classify("GetTrailStatus", None, &e))
                    }
                }
                let home = aws_sdk_cloudtrail::Client::new(
                    &config
                        .to_builder()
                        .region(aws_config::Region::new(d.home_region.clone()))
                        .build(),
                );
                match home.get_event_selectors().trail_name(&d.arn).send().await {
                    Ok(s) => facts.selectors = Some(crate::wire::event_selectors(&s)),
                    Err(e) => {
                        facts
                            .problems
                            .push(crate::errors::classify("GetEventSelectors", None, &e))
                    }
                }
                facts
            })
            .await
            .clone();
        problems.extend(facts.problems);
        out.push(
            trails::trail(d, facts.status.as_ref(), facts.selectors.as_ref())
                .map_err(decode("GetEventSelectors"))?,
        );
    }
    Ok((out, problems))
}

fn decode(op: &'static str) -> impl Fn(netdrift_provider_file::ConvertError) -> Problem {
    move |e| Problem {
        code: netdrift_snapshots::ProblemCode::Decode,
        kind: None,
        operation: Some(op.into()),
        message: format!("unexpected API data: {e}"),
    }
}
