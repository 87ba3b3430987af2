//! What every live source's configuration shares: the `[[source]]` settings that are the same
//! for each provider ([`Common`]), a list-or-`"all"` value ([`Selection`]), and the checks on
//! endpoints and test-only credentials. A provider crate owns its own `XxxConfig` (its doc
//! comments are the reference) and turns it into its source with `validate`, collecting every
//! problem.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A list of names, or `"all"` (every region, every visible subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    Only(Vec<String>),
}

impl Selection {
    /// `None` for all.
    pub fn into_list(self) -> Option<Vec<String>> {
        match self {
            Selection::All => None,
            Selection::Only(v) => Some(v),
        }
    }
}

impl<'de> Deserialize<'de> for Selection {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Selection;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a non-empty list of names, or \"all\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Selection, E> {
                if v == "all" {
                    Ok(Selection::All)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Selection, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                if out.is_empty() {
                    return Err(serde::de::Error::invalid_length(0, &self));
                }
                Ok(Selection::Only(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Settings every live source has, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Common {
    /// Scopes collected at once (default 8).
    pub concurrency: usize,
    /// A scope not collected within this is a failed scope (default 300 s).
    pub scope_timeout: Duration,
    /// Attempts per API call, the first included (default 5).
    pub max_attempts: u32,
}

impl Common {
    pub fn new(
        concurrency: Option<usize>,
        scope_timeout_seconds: Option<u64>,
        max_attempts: Option<u32>,
    ) -> Common {
        Common {
            concurrency: concurrency.unwrap_or(8).max(1),
            scope_timeout: Duration::from_secs(scope_timeout_seconds.unwrap_or(300)),
            max_attempts: max_attempts.unwrap_or(5).max(1),
        }
    }
}

/// `endpoint_url` must be an http(s) URL.
pub fn check_endpoint(url: Option<&str>, problems: &mut Vec<String>) {
    if let Some(u) = url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            problems.push(format!("field `endpoint_url`: {u:?} is not an http(s) URL"));
        }
    }
}

/// Test-only credentials (anonymous, a static token) are refused unless the endpoint is this
/// machine.
pub fn check_test_credentials(url: Option<&str>, problems: &mut Vec<String>) {
    if !url.is_some_and(is_loopback_url) {
        problems.push(format!(
            "field `credentials`: test-only credentials are refused unless `endpoint_url` is a loopback address (got {:?}); remove `credentials` to use the default credential chain",
            url.unwrap_or("no endpoint_url")
        ));
    }
}

/// Whether a URL points at this machine.
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or("");
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls() {
        for (url, loopback) in [
            ("http://127.0.0.1:8080/x", true),
            ("http://localhost", true),
            ("https://[::1]:443/", true),
            ("http://127.0.0.1.example.com/", false),
            ("http://user@127.0.0.1:1/", true),
            ("http://127.0.0.1@evil.example.com/", false),
            ("https://compute.example.com", false),
            ("ftp://127.0.0.1/", false),
        ] {
            assert_eq!(is_loopback_url(url), loopback, "{url}");
        }
    }
}
