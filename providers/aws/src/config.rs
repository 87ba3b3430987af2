//! A live AWS `[[source]]` (`provider = "aws"` without `files`): the reference for its fields.

use serde::Deserialize;

use netdrift_provider_api::config::{check_endpoint, Common, Selection};

use crate::AwsSource;

/// The fields of a live AWS source, as written in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Regions to collect: a list, or `"all"` for every region enabled in each account
    /// (DescribeRegions). Required.
    pub regions: Option<Selection>,
    /// Role ARNs to assume, one per account. None (and no `organization_role`): the base
    /// credentials' own account.
    #[serde(default)]
    pub assume_roles: Vec<String>,
    /// ExternalId passed to every AssumeRole.
    pub external_id: Option<String>,
    /// RoleSessionName of every AssumeRole (default `netdrift`), what CloudTrail shows.
    pub session_name: Option<String>,
    /// Discover the accounts with Organizations ListAccounts and assume this role name in each.
    pub organization_role: Option<String>,
    /// Endpoint override for every AWS API (emulators, VPC endpoints).
    pub endpoint_url: Option<String>,
    /// Named profile for the base credentials (else the default chain).
    pub profile: Option<String>,
    /// Region for STS, Organizations and DescribeRegions (default the first listed region,
    /// else us-east-1).
    pub home_region: Option<String>,
    /// Scopes (account × region) collected at once (default 8).
    pub concurrency: Option<usize>,
    /// A scope not collected within this many seconds is a failed scope (default 300).
    pub scope_timeout_seconds: Option<u64>,
    /// Attempts per API call, the first included (default 5).
    pub max_attempts: Option<u32>,
    /// Read CloudTrail (LookupEvents) for attribution (default true).
    pub cloudtrail: Option<bool>,
    /// Read CloudTrail from the bucket a trail delivers to instead of LookupEvents:
    /// `s3://BUCKET/[PREFIX/]AWSLogs/` (organization trails' `o-ID/` folders under it are
    /// found) or `s3://BUCKET/AWSLogs/o-ID/`. Each delivered object is read once.
    pub cloudtrail_s3: Option<String>,
    /// The bucket's region (default `home_region`).
    pub cloudtrail_s3_region: Option<String>,
    /// Role ARN assumed to read the bucket (a log-archive account's); default the base
    /// credentials.
    pub cloudtrail_s3_role: Option<String>,
    /// Objects read at once per account × region (default 4).
    pub cloudtrail_s3_concurrency: Option<usize>,
    /// `netdrift revert --apply`: the role name assumed in the item's account for the calls
    /// (`arn:aws:iam::ACCOUNT:role/NAME`, granted docs/iam/aws-remediate.json). Unset: the
    /// credentials collection uses, which a read-only audit role refuses.
    pub remediation_role: Option<String>,
}

impl AwsConfig {
    /// The source this configures, or every problem with it.
    pub fn validate(self, name: String) -> Result<AwsSource, Vec<String>> {
        let mut problems = Vec::new();
        let Some(regions) = self.regions else {
            return Err(vec![
                "field `regions` is required for a live AWS source (a list, or \"all\")".into(),
            ]);
        };
        let regions = regions.into_list();
        for r in &self.assume_roles {
            if !r.starts_with("arn:aws") || r.split(':').count() < 6 || !r.contains(":role/") {
                problems.push(format!(
                    "field `assume_roles`: {r:?} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
                ));
            }
        }
        check_endpoint(self.endpoint_url.as_deref(), &mut problems);
        let trail_bucket = match self
            .cloudtrail_s3
            .as_deref()
            .map(crate::s3trail::TrailBucket::parse)
        {
            Some(Ok(b)) => Some(b),
            Some(Err(e)) => {
                problems.push(format!("field `cloudtrail_s3`: {e}"));
                None
            }
            None => None,
        };
        if let Some(r) = &self.cloudtrail_s3_role {
            if !r.starts_with("arn:aws") || !r.contains(":role/") {
                problems.push(format!(
                    "field `cloudtrail_s3_role`: {r:?} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
                ));
            }
        }
        if trail_bucket.is_none()
            && (self.cloudtrail_s3_region.is_some()
                || self.cloudtrail_s3_role.is_some()
                || self.cloudtrail_s3_concurrency.is_some())
        {
            problems.push(
                "fields `cloudtrail_s3_region`, `cloudtrail_s3_role` and `cloudtrail_s3_concurrency` need `cloudtrail_s3`".into(),
            );
        }
        if trail_bucket.is_some() && self.cloudtrail == Some(false) {
            problems.push("field `cloudtrail_s3` is set but `cloudtrail = false`: pick one".into());
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let common = Common::new(
            self.concurrency,
            self.scope_timeout_seconds,
            self.max_attempts,
        );
        Ok(AwsSource {
            name,
            home_region: self
                .home_region
                .or_else(|| regions.as_ref().and_then(|r| r.first().cloned()))
                .unwrap_or_else(|| "us-east-1".into()),
            regions,
            assume_roles: self.assume_roles,
            external_id: self.external_id,
            session_name: self.session_name.unwrap_or_else(|| "netdrift".into()),
            organization_role: self.organization_role,
            endpoint_url: self.endpoint_url,
            profile: self.profile,
            concurrency: common.concurrency,
            scope_timeout: common.scope_timeout,
            max_attempts: common.max_attempts,
            cloudtrail: self.cloudtrail.unwrap_or(true),
            remediation_role: self.remediation_role,
            trail_bucket: trail_bucket.map(|bucket| {
                Box::new(crate::client::TrailBucketSource {
                    bucket,
                    region: self.cloudtrail_s3_region,
                    role: self.cloudtrail_s3_role,
                    concurrency: self.cloudtrail_s3_concurrency.unwrap_or(4).max(1),
                })
            }),
        })
    }
}

impl AwsSource {
    /// One line for `netdrift config check`.
    pub fn summary(&self) -> String {
        format!(
            "live AWS, regions {}, {} role(s){}{}",
            self.regions
                .as_ref()
                .map(|r| r.join(","))
                .unwrap_or_else(|| "all".into()),
            self.assume_roles.len(),
            self.organization_role
                .as_deref()
                .map(|r| format!(", Organizations discovery with role {r}"))
                .unwrap_or_default(),
            self.trail_bucket
                .as_ref()
                .map(|t| format!(
                    ", CloudTrail from s3://{}/{}",
                    t.bucket.bucket, t.bucket.prefix
                ))
                .unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod trail_bucket_tests {
    use super::AwsConfig;

    fn problems(extra: &str) -> Vec<String> {
        let cfg: AwsConfig =
            toml::from_str(&format!("regions = [\"us-east-1\"]\n{extra}")).unwrap();
        cfg.validate("org".into()).err().unwrap_or_default()
    }

    #[test]
    fn the_trail_bucket_fields_are_checked() {
        assert!(problems("cloudtrail_s3 = \"s3://logs/AWSLogs/o-a1b2c3/\"").is_empty());
        for (extra, want) in [
            ("cloudtrail_s3 = \"logs/AWSLogs/\"", "field `cloudtrail_s3`: \"logs/AWSLogs/\" is not an s3:// address"),
            ("cloudtrail_s3 = \"s3://logs/trail/\"", "is not a trail's AWSLogs/ folder"),
            ("cloudtrail_s3_region = \"us-east-1\"", "need `cloudtrail_s3`"),
            ("cloudtrail_s3 = \"s3://logs/AWSLogs/\"\ncloudtrail = false", "pick one"),
            ("cloudtrail_s3 = \"s3://logs/AWSLogs/\"\ncloudtrail_s3_role = \"NetdriftTrailReader\"", "is not a role ARN"),
        ] {
            let p = problems(extra);
            assert!(p.iter().any(|m| m.contains(want)), "{extra}: {p:?}");
        }
    }
}
