//! From a configured `[[source]]` to the provider's [`Source`]: the one place in `src/` that
//! names each live provider, each arm behind its cargo feature. A live source whose provider is
//! not compiled in comes back as an error naming the feature (a `discovery-failed` finding).

use netdrift_provider_api::Source;

use crate::config::{SourceConfig, SourceKind};

/// A live source ready to collect, or why it cannot run.
pub type Live = Result<Box<dyn Source>, String>;

/// The live source for a configured one (`None` for file sources), or why it cannot run.
pub fn live(src: &SourceConfig) -> Option<Live> {
    match &src.kind {
        SourceKind::Files { .. } => None,
        #[cfg(feature = "aws")]
        SourceKind::Aws(live) => Some(Ok(Box::new(netdrift_provider_aws::AwsSource {
            name: src.name.clone(),
            regions: live.regions.clone(),
            assume_roles: live.assume_roles.clone(),
            external_id: live.external_id.clone(),
            session_name: live.session_name.clone(),
            organization_role: live.organization_role.clone(),
            endpoint_url: live.endpoint_url.clone(),
            profile: live.profile.clone(),
            home_region: live.home_region.clone(),
            concurrency: live.concurrency,
            scope_timeout: std::time::Duration::from_secs(live.scope_timeout_seconds),
            max_attempts: live.max_attempts,
            cloudtrail: live.cloudtrail,
        }))),
        #[cfg(feature = "gcp")]
        SourceKind::Gcp(live) => Some(Ok(Box::new(netdrift_provider_gcp::GcpSource {
            name: src.name.clone(),
            projects: live.projects.clone(),
            organization: live.organization.clone(),
            folders: live.folders.clone(),
            regions: live.regions.clone(),
            endpoint_url: live.endpoint_url.clone(),
            credentials: if live.anonymous {
                netdrift_provider_gcp::Credentials::Anonymous
            } else {
                netdrift_provider_gcp::Credentials::ApplicationDefault
            },
            concurrency: live.concurrency,
            scope_timeout: std::time::Duration::from_secs(live.scope_timeout_seconds),
            max_attempts: live.max_attempts,
            audit_logs: live.audit_logs,
        }))),
        #[cfg(feature = "azure")]
        SourceKind::Azure(live) => Some(azure_token(live).map(|static_token| {
            Box::new(netdrift_provider_azure::AzureSource {
                name: src.name.clone(),
                subscriptions: live.subscriptions.clone(),
                endpoint_url: live.endpoint_url.clone(),
                token_scope: live.token_scope.clone(),
                static_token,
                concurrency: live.concurrency,
                scope_timeout: std::time::Duration::from_secs(live.scope_timeout_seconds),
                max_attempts: live.max_attempts,
                activity_log: live.activity_log,
            }) as Box<dyn Source>
        })),
        #[allow(unreachable_patterns)]
        other => Some(Err(not_built(other))),
    }
}

/// The static test token an Azure source names (`credentials = { static_token_env }`), which
/// no log line may show.
#[cfg(feature = "azure")]
fn azure_token(
    live: &crate::config::AzureLiveConfig,
) -> Result<Option<secrecy::SecretString>, String> {
    match &live.static_token_env {
        None => Ok(None),
        Some(var) => match std::env::var(var) {
            Ok(t) if !t.is_empty() => {
                crate::text::register_secret(&t);
                Ok(Some(secrecy::SecretString::from(t)))
            }
            _ => Err(format!(
                "the static token variable {var} is not set: nothing was collected from it"
            )),
        },
    }
}

#[allow(dead_code)]
fn not_built(kind: &SourceKind) -> String {
    let (name, feature) = match kind {
        SourceKind::Aws(_) => ("AWS", "aws"),
        SourceKind::Gcp(_) => ("GCP", "gcp"),
        _ => ("Azure", "azure"),
    };
    format!(
        "live {name} collection is not built into this netdrift (build with --features {feature}); nothing was collected from it"
    )
}
