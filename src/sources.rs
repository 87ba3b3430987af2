//! Live sources: the one place in `src/` that names each live provider, each arm behind its
//! cargo feature. A provider crate owns its configuration (`XxxConfig`, whose doc comments are
//! the reference) and validates it into its [`Source`]; a provider that is not compiled in is a
//! configuration error naming the feature. Adding a provider is a crate, a feature and one
//! variant here.

use netdrift_provider_api::Source;
use netdrift_snapshots::Provider;

/// A validated live source.
#[derive(Debug, Clone)]
pub enum LiveSource {
    #[cfg(feature = "aws")]
    Aws(netdrift_provider_aws::AwsSource),
    #[cfg(feature = "gcp")]
    Gcp(netdrift_provider_gcp::GcpSource),
    #[cfg(feature = "azure")]
    Azure(netdrift_provider_azure::AzureSource),
}

impl LiveSource {
    pub fn source(&self) -> &dyn Source {
        match self {
            #[cfg(feature = "aws")]
            LiveSource::Aws(s) => s,
            #[cfg(feature = "gcp")]
            LiveSource::Gcp(s) => s,
            #[cfg(feature = "azure")]
            LiveSource::Azure(s) => s,
            #[allow(unreachable_patterns)]
            _ => unreachable!("no live provider is compiled in"),
        }
    }
}

/// Deserialize a provider's own configuration from the rest of a `[[source]]` table.
#[allow(dead_code)]
fn fields<T: serde::de::DeserializeOwned>(t: toml::Table) -> Result<T, Vec<String>> {
    toml::Value::Table(t)
        .try_into()
        .map_err(|e: toml::de::Error| vec![e.message().trim().to_string()])
}

/// A live `[[source]]` (its `name` and `provider` already taken out) → the provider's source,
/// or every problem with it.
#[allow(unused_variables)]
pub fn live_config(
    provider: Provider,
    name: &str,
    table: toml::Table,
) -> Result<LiveSource, Vec<String>> {
    let name = name.to_string();
    match provider {
        #[cfg(feature = "aws")]
        Provider::Aws => fields::<netdrift_provider_aws::AwsConfig>(table)?
            .validate(name)
            .map(LiveSource::Aws),
        #[cfg(feature = "gcp")]
        Provider::Gcp => fields::<netdrift_provider_gcp::GcpConfig>(table)?
            .validate(name)
            .map(LiveSource::Gcp),
        #[cfg(feature = "azure")]
        Provider::Azure => {
            let s = fields::<netdrift_provider_azure::AzureConfig>(table)?.validate(name)?;
            if let Some(t) = &s.static_token {
                use secrecy::ExposeSecret;
                crate::text::register_secret(t.expose_secret());
            }
            Ok(LiveSource::Azure(s))
        }
        #[allow(unreachable_patterns)]
        other => {
            let (label, feature) = match other {
                Provider::Aws => ("AWS", "aws"),
                Provider::Gcp => ("GCP", "gcp"),
                Provider::Azure => ("Azure", "azure"),
            };
            Err(vec![format!(
                "live {label} collection is not built into this netdrift (build with `--features {feature}`), and a file source needs `files` and `account`"
            )])
        }
    }
}
