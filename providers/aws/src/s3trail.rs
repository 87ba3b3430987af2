//! CloudTrail from the S3 bucket a trail delivers to (an organization trail's, where real
//! organizations keep it): for one account × region, the objects CloudTrail wrote under
//! `AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/` for each day of the window, each
//! read once (the ones already processed are skipped), at most `concurrency` at a time, and put
//! through the same parser as `netdrift audit import`.
//!
//! A folder is the day CloudTrail *delivered* its files, and a file delivered at a time holds
//! records from before that time (CloudTrail's log file name format): a late file lands in a
//! later folder, never an earlier one. So listing every day from the window's start (one day
//! before, for files delivered just after midnight) to its end, and skipping the objects
//! already processed, never misses one and never reads one twice.

use std::sync::Arc;

use aws_config::{Region, SdkConfig};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::stream::{self, StreamExt};

use netdrift_provider_api::AuditObject;
use netdrift_snapshots::{AuditEvent, Problem, ProblemCode, Provider};

/// Where a trail delivers: `s3://BUCKET/PREFIX` ending in `AWSLogs/` (an organization trail's
/// `AWSLogs/o-ID/` folders under it are found) or `AWSLogs/o-ID/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailBucket {
    pub bucket: String,
    /// Ends with `/`.
    pub prefix: String,
}

impl TrailBucket {
    pub fn parse(url: &str) -> Result<TrailBucket, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{url:?} is not an s3:// address (s3://BUCKET/AWSLogs/)"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("{url:?} names no bucket (s3://BUCKET/AWSLogs/)"));
        }
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        let last: Vec<&str> = prefix.trim_end_matches('/').rsplit('/').take(2).collect();
        let at_logs = last.first() == Some(&"AWSLogs")
            || (last.first().is_some_and(|l| l.starts_with("o-"))
                && last.get(1) == Some(&"AWSLogs"));
        if !at_logs {
            return Err(format!(
                "{url:?} is not a trail's AWSLogs/ folder: CloudTrail delivers under [PREFIX/]AWSLogs/ \
                 (an organization trail under AWSLogs/o-ID/); give that folder"
            ));
        }
        Ok(TrailBucket {
            bucket: bucket.to_string(),
            prefix,
        })
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// The S3 side of a source's CloudTrail reads: one client, the folders holding accounts.
pub struct TrailReader {
    client: aws_sdk_s3::Client,
    bucket: TrailBucket,
    /// The folders whose children are account ids: the prefix itself, and each `o-ID/` under
    /// `AWSLogs/` (found once per collection).
    roots: Vec<String>,
    concurrency: usize,
}

/// An object's events, and the problem of its records that could not be read.
type ObjectRead = (Vec<AuditEvent>, Option<Problem>);

/// What one account × region's read gave: the events, the objects read (with their errors),
/// and the objects that could not be read (each a failed audit read naming the object).
#[derive(Debug, Default)]
pub struct ScopeRead {
    pub events: Vec<AuditEvent>,
    pub objects: Vec<AuditObject>,
    pub unreadable: Vec<Problem>,
}

fn problem(code: ProblemCode, operation: &str, message: String) -> Problem {
    Problem {
        code,
        kind: None,
        operation: Some(operation.into()),
        message,
    }
}

impl TrailReader {
    /// A reader of `bucket` with `config`'s credentials, in the bucket's region.
    pub async fn new(
        config: &SdkConfig,
        bucket: TrailBucket,
        region: &str,
        concurrency: usize,
    ) -> Result<TrailReader, Problem> {
        let conf = aws_sdk_s3::config::Builder::from(config)
            .region(Region::new(region.to_string()))
            // Emulators and VPC endpoints take the bucket in the path.
            .force_path_style(config.endpoint_url().is_some())
            .build();
        let mut reader = TrailReader {
            client: aws_sdk_s3::Client::from_conf(conf),
            roots: vec![bucket.prefix.clone()],
            bucket,
            concurrency: concurrency.max(1),
        };
        if reader.bucket.prefix.ends_with("AWSLogs/") {
            let (folders, _) = reader.list(&reader.bucket.prefix.clone(), true).await?;
            reader.roots.extend(folders.into_iter().filter(|f| {
                f.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .is_some_and(|l| l.starts_with("o-"))
            }));
        }
        Ok(reader)
    }

    /// Every key (or, with `folders`, every child folder) under `prefix`, all pages.
    async fn list(
        &self,
        prefix: &str,
        folders: bool,
    ) -> Result<(Vec<String>, Vec<String>), Problem> {
        let (mut dirs, mut keys) = (Vec::new(), Vec::new());
        let mut token: Option<String> = None;
        loop {
            let mut req = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket.bucket)
                .prefix(prefix)
                .set_continuation_token(token.clone());
            if folders {
                req = req.delimiter("/");
            }
            let resp = req.send().await.map_err(|e| {
                let mut p = crate::errors::classify("ListObjectsV2", None, &e);
                p.message = format!("{}: {}", self.bucket.url(prefix), p.message);
                p
            })?;
            dirs.extend(
                resp.common_prefixes()
                    .iter()
                    .filter_map(|c| c.prefix().map(str::to_string)),
            );
            keys.extend(
                resp.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            token = resp.next_continuation_token().map(str::to_string);
            if token.is_none() || resp.is_truncated() != Some(true) {
                break;
            }
        }
        Ok((dirs, keys))
    }

    /// One object's events (with the problem of the records in it that could not be read),
    /// or why it cannot be read at all (naming it).
    async fn object(&self, key: String) -> (String, Result<ObjectRead, Problem>) {
        let url = self.bucket.url(&key);
        let read = async {
            let resp = self
                .client
                .get_object()
                .bucket(&self.bucket.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| {
                    let mut p = crate::errors::classify("GetObject", None, &e);
                    p.message = format!("{url}: {}", p.message);
                    p
                })?;
            let body = resp.body.collect().await.map_err(|e| {
                problem(
                    ProblemCode::Transient,
                    "GetObject",
                    format!("{url}: reading the body: {}", crate::errors::causes(&e)),
                )
            })?;
            let bytes = netdrift_provider_file::decode_bytes(&url, body.into_bytes().to_vec())
                .map_err(|e| problem(ProblemCode::Decode, "GetObject", e.to_string()))?;
            let parsed = netdrift_provider_file::audit::parse_file(Provider::Aws, &url, &bytes)
                .map_err(|e| problem(ProblemCode::Decode, "GetObject", e.to_string()))?;
            // The records that read are kept; the rest is a problem naming the object.
            let damaged = (!parsed.skipped.is_empty()).then(|| {
                problem(
                    ProblemCode::Decode,
                    "GetObject",
                    format!(
                        "{url}: {} record(s) could not be read, the first: {}",
                        parsed.skipped.len(),
                        parsed.skipped[0]
                    ),
                )
            });
            Ok((parsed.events, damaged))
        };
        let read = read.await;
        (url, read)
    }

    /// The objects of `account` × `region` delivered from the day before `since` to `until`,
    /// those `processed` says were read skipped. A listing that fails fails the whole read (the
    /// window is not covered); an object that cannot be read is one problem, and the rest goes
    /// on.
    pub async fn read_scope(
        self: &Arc<Self>,
        account: &str,
        region: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        processed: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<ScopeRead, Problem> {
        let mut keys = Vec::new();
        let mut delivered = false;
        for root in &self.roots {
            for day in days(since, until) {
                let prefix = format!(
                    "{root}{account}/CloudTrail/{region}/{}/",
                    day.format("%Y/%m/%d")
                );
                let (_, found) = self.list(&prefix, false).await?;
                let logs = found.into_iter().filter(|k| k.ends_with(".json.gz"));
                for k in logs {
                    delivered = true;
                    if !processed(&self.bucket.url(&k)) {
                        keys.push(k);
                    }
                }
            }
        }
        if !delivered {
            self.ever_delivered(account, region).await?;
        }
        let mut out = ScopeRead::default();
        let mut reads = stream::iter(keys.into_iter().map(|k| self.object(k)))
            .buffer_unordered(self.concurrency);
        while let Some((url, read)) = reads.next().await {
            match read {
                Ok((events, damaged)) => {
                    out.objects.push(AuditObject {
                        object: url,
                        events: events.len(),
                        error: damaged.as_ref().map(|p| p.message.clone()),
                    });
                    out.events.extend(events);
                    out.unreadable.extend(damaged);
                }
                // Throttling and dropped connections are retried by the next run: the object
                // is not recorded as read.
                Err(p)
                    if matches!(
                        p.code,
                        ProblemCode::Throttled | ProblemCode::Transient | ProblemCode::Timeout
                    ) =>
                {
                    out.unreadable.push(p)
                }
                Err(p) => {
                    out.objects.push(AuditObject {
                        object: url,
                        events: 0,
                        error: Some(p.message.clone()),
                    });
                    out.unreadable.push(p);
                }
            }
        }
        out.objects.sort_by(|a, b| a.object.cmp(&b.object));
        Ok(out)
    }
}

impl TrailReader {
    /// A window without any file is silence only where the trail delivers at all: when no
    /// file of the account × region was ever delivered under any root, the bucket is not
    /// where its logs are (a wrong `cloudtrail_s3`, or a trail that does not cover it), and
    /// the read fails rather than stand for logs that were read.
    async fn ever_delivered(&self, account: &str, region: &str) -> Result<(), Problem> {
        for root in &self.roots {
            let (years, keys) = self
                .list(&format!("{root}{account}/CloudTrail/{region}/"), true)
                .await?;
            if !years.is_empty() || !keys.is_empty() {
                return Ok(());
            }
        }
        Err(problem(
            ProblemCode::SourceMissing,
            "ListObjectsV2",
            format!(
                "no CloudTrail log of {account} in {region} was ever delivered to {}: \
                 the trail does not deliver there (check cloudtrail_s3, and that the trail covers \
                 this account and region)",
                self.roots
                    .iter()
                    .map(|r| self
                        .bucket
                        .url(&format!("{r}{account}/CloudTrail/{region}/")))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ))
    }
}

/// The delivery days to list for a window: the day before `since` (files delivered just after
/// midnight) through the day of `until`.
pub fn days(since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<NaiveDate> {
    let (mut d, last) = ((since - Duration::days(1)).date_naive(), until.date_naive());
    let mut out = Vec::new();
    while d <= last {
        out.push(d);
        d = d.succ_opt().expect("a date after this one");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_bucket_addresses() {
        let ok = |url: &str, bucket: &str, prefix: &str| {
            assert_eq!(
                TrailBucket::parse(url).unwrap(),
                TrailBucket {
                    bucket: bucket.into(),
                    prefix: prefix.into()
                },
                "{url}"
            )
        };
        ok("s3://logs/AWSLogs/", "logs", "AWSLogs/");
        ok("s3://logs/AWSLogs", "logs", "AWSLogs/");
        ok("s3://logs/org/trail/AWSLogs/", "logs", "org/trail/AWSLogs/");
        ok(
            "s3://logs/AWSLogs/o-a1b2c3d4e5/",
            "logs",
            "AWSLogs/o-a1b2c3d4e5/",
        );
        for bad in [
            "logs/AWSLogs/",
            "s3:///AWSLogs/",
            "s3://logs",
            "s3://logs/AWSLogs/111122223333/",
            "https://logs.s3.amazonaws.com/AWSLogs/",
        ] {
            assert!(TrailBucket::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn delivery_days_of_a_window() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            days(t("2026-11-30T02:00:00Z"), t("2026-12-01T02:00:00Z")),
            [d("2026-11-29"), d("2026-11-30"), d("2026-12-01")]
        );
        assert_eq!(
            days(t("2026-12-01T00:00:00Z"), t("2026-12-01T00:05:00Z")),
            [d("2026-11-30"), d("2026-12-01")]
        );
        assert_eq!(
            days(t("2026-12-31T23:00:00Z"), t("2027-01-01T01:00:00Z")),
            [d("2026-12-30"), d("2026-12-31"), d("2027-01-01")]
        );
    }
}
