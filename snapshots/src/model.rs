//! The provider-neutral model of firewall state.
//!
//! Every cloud converts into these types; every later stage (canonical form, effective access,
//! diff, severity) consumes them. Parsing helpers here are strict: a value that is not what the
//! cloud documents is an error that names the value and says what would be accepted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod peer;
mod ports;
mod resource;
mod scope;
mod workload;

pub use peer::*;
pub use ports::*;
pub use resource::*;
pub use scope::*;
pub use workload::*;

/// Error raised when a raw value cannot be turned into the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}: {value:?}")]
pub struct ModelError {
    pub value: String,
    pub message: String,
}

impl ModelError {
    pub fn new(value: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError {
            value: value.into(),
            message: message.into(),
        }
    }
}

/// The clouds netdrift understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
    Gcp,
    Azure,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Gcp => "gcp",
            Provider::Azure => "azure",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "aws" => Ok(Provider::Aws),
            "gcp" => Ok(Provider::Gcp),
            "azure" => Ok(Provider::Azure),
            _ => Err(ModelError::new(
                s,
                "unknown provider (expected aws, gcp or azure)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_normalised_however_it_is_built() {
        let a = Scope::new(
            Provider::Azure,
            "0B1F6471-1BF0-4DDA-AEC3-111122223333",
            None,
        );
        let b = Scope::parse_key("azure:0b1f6471-1bf0-4dda-aec3-111122223333").unwrap();
        let c: Scope = serde_json::from_str(
            r#"{"provider":"azure","account":"0B1f6471-1bf0-4dda-AEC3-111122223333","region":""}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c, "deserializing goes through the constructor");
        assert_eq!(c.region(), None, "an empty region is none");
        assert_eq!(a.key(), "azure:0b1f6471-1bf0-4dda-aec3-111122223333");
        // AWS and GCP ids keep their case (they are case-sensitive or always lower case).
        assert_eq!(Scope::new(Provider::Gcp, "Acme", None).account(), "Acme");
        assert!(
            serde_json::from_str::<Scope>(r#"{"provider":"aws","account":"","region":null}"#)
                .is_err()
        );
    }

    #[test]
    fn protocols_parse_like_the_clouds_spell_them() {
        let cases = [
            ("tcp", Protocol::Number(6)),
            ("Tcp", Protocol::Number(6)),
            ("6", Protocol::Number(6)),
            ("-1", Protocol::All),
            ("all", Protocol::All),
            ("*", Protocol::All),
            ("icmpv6", Protocol::Number(58)),
            ("58", Protocol::Number(58)),
            ("esp", Protocol::Number(50)),
            ("Ah", Protocol::Number(51)),
        ];
        for (raw, want) in cases {
            assert_eq!(Protocol::parse(raw).unwrap(), want, "{raw}");
        }
        for bad in ["tcpp", "256", "-2", ""] {
            assert!(Protocol::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cidrs_are_strict_and_normalized() {
        assert_eq!(
            parse_cidr("208.236.235.254/0").unwrap().to_string(),
            "0.0.0.0/0"
        );
        assert_eq!(
            parse_cidr("10.1.2.3/16").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert_eq!(parse_cidr("1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
        assert_eq!(
            parse_cidr("2001:db8::1/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        for bad in [
            "10.0.0.0/33",
            "300.1.1.1/32",
            "10.0.0/8",
            "::/129",
            "Internet",
            "",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports_parse_and_validate() {
        assert_eq!(
            PortRange::parse("22").unwrap(),
            PortRange { from: 22, to: 22 }
        );
        assert_eq!(
            PortRange::parse("8000-8100").unwrap(),
            PortRange {
                from: 8000,
                to: 8100
            }
        );
        assert_eq!(PortRange::parse("*").unwrap(), PortRange::ALL);
        for bad in ["70000", "-1", "10-5", "ssh", "1-70000"] {
            assert!(PortRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_merge_and_full_coverage_is_all() {
        let p = Ports::Ranges {
            ranges: vec![
                PortRange { from: 23, to: 30 },
                PortRange { from: 20, to: 22 },
            ],
        };
        assert_eq!(
            p.normalized(),
            Ports::Ranges {
                ranges: vec![PortRange { from: 20, to: 30 }]
            }
        );
        let full = Ports::Ranges {
            ranges: vec![
                PortRange { from: 0, to: 1000 },
                PortRange {
                    from: 1001,
                    to: 65535,
                },
            ],
        };
        assert_eq!(full.normalized(), Ports::All);
    }

    #[test]
    fn scope_keys_round_trip() {
        let s = Scope::new(Provider::Aws, "111122223333", Some("us-east-1".into()));
        assert_eq!(s.key(), "aws:111122223333:us-east-1");
        assert_eq!(Scope::parse_key(&s.key()).unwrap(), s);
        let a = Scope::new(Provider::Azure, "ABC-DEF", None);
        assert_eq!(a.key(), "azure:abc-def");
        assert!(Scope::parse_key("nope:1").is_err());
    }

    #[test]
    fn scope_keys_are_normalised_and_checked_wherever_they_are_made() {
        let k = ScopeKey::parse("azure:0B1F6471-1BF0-4DDA-AEC3-111122223333").unwrap();
        assert_eq!(k, "azure:0b1f6471-1bf0-4dda-aec3-111122223333");
        assert_eq!(k.scope().provider(), Provider::Azure);
        let d: ScopeKey =
            serde_json::from_str(r#""azure:0B1F6471-1BF0-4DDA-AEC3-111122223333""#).unwrap();
        assert_eq!(d, k, "deserializing normalises");
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#""azure:0b1f6471-1bf0-4dda-aec3-111122223333""#
        );
        for bad in [r#""""#, r#""aws""#, r#""aws:""#, r#""oracle:1""#] {
            assert!(
                serde_json::from_str::<ScopeKey>(bad).is_err(),
                "{bad} is not a scope key"
            );
        }
        let aws = ScopeKey::parse("aws:111122223333:eu-west-1").unwrap();
        assert_eq!(aws.scope().region(), Some("eu-west-1"));
        assert_eq!(
            ScopeKey::parse("aws:111122223333:").unwrap(),
            "aws:111122223333"
        );
    }
}
