//! Instants as they cross modules: `DateTime<Utc>`, never text. Text exists only at the edges
//! (JSON, SQLite, logs), in one of two RFC 3339 forms, both UTC with `Z`:
//! - whole seconds (`2026-11-25T02:00:00Z`): snapshot, run, baseline, exception and window times;
//! - milliseconds (`2026-11-24T11:02:13.441Z`): audit event times, which the clouds give to
//!   the millisecond or finer, and which stored event times and their query bounds share so that
//!   they sort and compare as text.
//!
//! Reading accepts any RFC 3339 offset and precision.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::ModelError;

/// `2026-11-25T02:00:00Z` (sub-seconds dropped).
pub fn secs(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `2026-11-24T11:02:13.441Z`.
pub fn millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parse RFC 3339 text (any offset), naming the field in the error.
pub fn parse(field: &str, text: &str) -> Result<DateTime<Utc>, ModelError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ModelError::new(field, format!("{text:?} is not an RFC 3339 time: {e}")))
}

macro_rules! serde_form {
    ($name:ident, $fmt:ident) => {
        /// `#[serde(with = …)]` for a `DateTime<Utc>` field in this form.
        pub mod $name {
            use chrono::{DateTime, Utc};
            use serde::{Deserialize, Deserializer, Serializer};

            pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&super::$fmt(*t))
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
                let text = std::borrow::Cow::<str>::deserialize(d)?;
                super::parse("time", &text).map_err(serde::de::Error::custom)
            }

            /// The same for an optional field.
            pub mod option {
                use chrono::{DateTime, Utc};
                use serde::{Deserialize, Deserializer, Serializer};

                pub fn serialize<S: Serializer>(
                    t: &Option<DateTime<Utc>>,
                    s: S,
                ) -> Result<S::Ok, S::Error> {
                    match t {
                        Some(t) => s.serialize_some(&super::super::$fmt(*t)),
                        None => s.serialize_none(),
                    }
                }

                pub fn deserialize<'de, D: Deserializer<'de>>(
                    d: D,
                ) -> Result<Option<DateTime<Utc>>, D::Error> {
                    match Option::<std::borrow::Cow<'de, str>>::deserialize(d)? {
                        Some(text) => super::super::parse("time", &text)
                            .map(Some)
                            .map_err(serde::de::Error::custom),
                        None => Ok(None),
                    }
                }
            }
        }
    };
}

serde_form!(as_secs, secs);
serde_form!(as_millis, millis);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "as_secs")]
        a: DateTime<Utc>,
        #[serde(with = "as_millis")]
        b: DateTime<Utc>,
        #[serde(with = "as_secs::option")]
        c: Option<DateTime<Utc>>,
    }

    #[test]
    fn times_read_any_offset_and_write_one_form_per_field() {
        let t: T = serde_json::from_str(
            r#"{"a":"2026-11-25T03:00:00+01:00","b":"2026-11-24T11:02:13.441123Z","c":null}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"a":"2026-11-25T02:00:00Z","b":"2026-11-24T11:02:13.441Z","c":null}"#
        );
        let e = serde_json::from_str::<T>(r#"{"a":"yesterday","b":"x","c":null}"#).unwrap_err();
        assert!(
            e.to_string()
                .contains("\"yesterday\" is not an RFC 3339 time"),
            "{e}"
        );
        // Milliseconds sort as text: the form stored event times and their bounds share.
        let (x, y) = (
            parse("x", "2026-11-24T11:02:13Z").unwrap(),
            parse("y", "2026-11-24T11:02:13.001Z").unwrap(),
        );
        assert!(millis(x) < millis(y) && x < y);
    }
}
