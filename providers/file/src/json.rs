//! JSON navigation that remembers where it is, so every error names the JSON path and value.

use serde_json::Value;

use netdrift_snapshots::ModelError;

/// A conversion error: the JSON path, the offending value and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}: {value}")]
pub struct ConvertError {
    pub path: String,
    pub value: String,
    pub message: String,
}

/// A JSON value and its path from the document root (`$.SecurityGroups[3].IpPermissions[0]`).
#[derive(Clone)]
pub struct Node<'a> {
    pub v: &'a Value,
    pub path: String,
}

impl<'a> Node<'a> {
    pub fn root(v: &'a Value) -> Node<'a> {
        Node {
            v,
            path: "$".to_string(),
        }
    }

    pub fn err(&self, message: impl Into<String>) -> ConvertError {
        ConvertError {
            path: self.path.clone(),
            value: short(self.v),
            message: message.into(),
        }
    }

    pub fn model_err(&self, e: ModelError) -> ConvertError {
        ConvertError {
            path: self.path.clone(),
            value: format!("{:?}", e.value),
            message: e.message,
        }
    }

    pub fn child(&self, key: &str) -> Option<Node<'a>> {
        self.v.get(key).filter(|v| !v.is_null()).map(|v| Node {
            v,
            path: format!("{}.{}", self.path, key),
        })
    }

    /// The first present key among aliases (Azure singular/plural, camel/Pascal case).
    pub fn child_any(&self, keys: &[&str]) -> Option<Node<'a>> {
        keys.iter().find_map(|k| self.child(k))
    }

    pub fn items(&self) -> Result<Vec<Node<'a>>, ConvertError> {
        match self.v {
            Value::Array(a) => Ok(a
                .iter()
                .enumerate()
                .map(|(i, v)| Node {
                    v,
                    path: format!("{}[{}]", self.path, i),
                })
                .collect()),
            _ => Err(self.err("expected an array")),
        }
    }

    /// Array under `key`; absent or null is empty.
    pub fn list(&self, key: &str) -> Result<Vec<Node<'a>>, ConvertError> {
        match self.child(key) {
            Some(n) => n.items(),
            None => Ok(Vec::new()),
        }
    }

    pub fn as_str(&self) -> Result<&'a str, ConvertError> {
        self.v.as_str().ok_or_else(|| self.err("expected a string"))
    }

    pub fn str(&self, key: &str) -> Result<Option<&'a str>, ConvertError> {
        self.child(key).map(|n| n.as_str()).transpose()
    }

    pub fn req_str(&self, key: &str) -> Result<&'a str, ConvertError> {
        match self.child(key) {
            Some(n) => n.as_str(),
            None => Err(ConvertError {
                path: format!("{}.{}", self.path, key),
                value: "missing".into(),
                message: "required field is missing".into(),
            }),
        }
    }

    /// An integer that may be written as a number or a numeric string.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ConvertError> {
        let Some(n) = self.child(key) else {
            return Ok(None);
        };
        match n.v {
            Value::Number(x) => x
                .as_i64()
                .map(Some)
                .ok_or_else(|| n.err("expected an integer")),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| n.err("expected an integer")),
            _ => Err(n.err("expected an integer")),
        }
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConvertError> {
        let Some(n) = self.child(key) else {
            return Ok(None);
        };
        match n.v {
            Value::Bool(b) => Ok(Some(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            _ => Err(n.err("expected true or false")),
        }
    }

    /// Strings under `key`, whether a single string or an array of strings.
    pub fn strings(&self, key: &str) -> Result<Vec<(Node<'a>, &'a str)>, ConvertError> {
        let Some(n) = self.child(key) else {
            return Ok(Vec::new());
        };
        match n.v {
            Value::String(s) => Ok(vec![(
                Node {
                    v: n.v,
                    path: n.path.clone(),
                },
                s.as_str(),
            )]),
            Value::Array(_) => n
                .items()?
                .into_iter()
                .map(|i| {
                    let s = i.as_str()?;
                    Ok((i, s))
                })
                .collect(),
            _ => Err(n.err("expected a string or an array of strings")),
        }
    }
}

/// A short rendering of a value for error messages.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}
