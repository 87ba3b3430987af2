//! A live GCP `[[source]]` (`provider = "gcp"` without `files`): the reference for its fields.

use serde::Deserialize;

use netdrift_provider_api::config::{check_endpoint, check_test_credentials, Common, Selection};

use crate::{Credentials, GcpSource};

/// The fields of a live GCP source, as written in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GcpConfig {
    /// Project ids to collect.
    #[serde(default)]
    pub projects: Vec<String>,
    /// `organizations/N`: discover every active project under it (Cloud Resource Manager) and
    /// read the hierarchical firewall policies of the organization and its folders.
    pub organization: Option<String>,
    /// `folders/N`: discover the projects under these folders too.
    #[serde(default)]
    pub folders: Vec<String>,
    /// Regions whose regional network firewall policies are read: a list, or `"all"` (the
    /// default: every region of each project).
    pub regions: Option<Selection>,
    /// Base URL for every Google API (a local fake, a Private Service Connect endpoint).
    pub endpoint_url: Option<String>,
    /// `"anonymous"`: no credentials, for a loopback fake only. Left out (or `"default"`):
    /// Application Default Credentials.
    pub credentials: Option<String>,
    /// Projects collected at once (default 8).
    pub concurrency: Option<usize>,
    /// A project not collected within this many seconds is a failed scope (default 300).
    pub scope_timeout_seconds: Option<u64>,
    /// Attempts per API call, the first included (default 5).
    pub max_attempts: Option<u32>,
    /// Read Cloud Audit Logs for attribution (default true).
    pub audit_logs: Option<bool>,
}

impl GcpConfig {
    /// The source this configures, or every problem with it.
    pub fn validate(self, name: String) -> Result<GcpSource, Vec<String>> {
        let mut problems = Vec::new();
        check_endpoint(self.endpoint_url.as_deref(), &mut problems);
        if self.projects.is_empty() && self.organization.is_none() && self.folders.is_empty() {
            problems.push("neither `files` (a file source, with `account`) nor `projects`, `organization` or `folders` (a live GCP source)".into());
        }
        if let Some(o) = &self.organization {
            if !o.starts_with("organizations/") || o.len() <= "organizations/".len() {
                problems.push(format!(
                    "field `organization`: {o:?} (expected organizations/NUMBER)"
                ));
            }
        }
        for f in &self.folders {
            if !f.starts_with("folders/") || f.len() <= "folders/".len() {
                problems.push(format!("field `folders`: {f:?} (expected folders/NUMBER)"));
            }
        }
        let credentials = match self.credentials.as_deref() {
            None | Some("default") => Credentials::ApplicationDefault,
            Some("anonymous") => {
                check_test_credentials(self.endpoint_url.as_deref(), &mut problems);
                Credentials::Anonymous
            }
            Some(other) => {
                problems.push(format!(
                    "field `credentials`: {other:?} (expected \"anonymous\" for a local fake, or leave it out for Application Default Credentials)"
                ));
                Credentials::ApplicationDefault
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let common = Common::new(
            self.concurrency,
            self.scope_timeout_seconds,
            self.max_attempts,
        );
        Ok(GcpSource {
            name,
            projects: self.projects,
            organization: self.organization,
            folders: self.folders,
            regions: self.regions.and_then(Selection::into_list),
            endpoint_url: self.endpoint_url,
            credentials,
            concurrency: common.concurrency,
            scope_timeout: common.scope_timeout,
            max_attempts: common.max_attempts,
            audit_logs: self.audit_logs.unwrap_or(true),
        })
    }
}

impl GcpSource {
    /// One line for `netdrift config check`.
    pub fn summary(&self) -> String {
        format!(
            "live GCP, {} project(s){}{}",
            self.projects.len(),
            self.organization
                .as_deref()
                .map(|o| format!(", discovery under {o}"))
                .unwrap_or_default(),
            if self.folders.is_empty() {
                String::new()
            } else {
                format!(", folders {}", self.folders.join(","))
            }
        )
    }
}
