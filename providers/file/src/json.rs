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

    /// An integer written as a JSON number, as the AWS API and CLI print them. A numeric string
    /// (`"FromPort": "22"`) is rejected: no AWS response carries one, so it means a hand-edited
    /// or foreign document.
    pub fn strict_int(&self, key: &str) -> Result<Option<i64>, ConvertError> {
        let Some(n) = self.child(key) else {
            return Ok(None);
        };
        match n.v {
            Value::Number(x) => x
                .as_i64()
                .map(Some)
                .ok_or_else(|| n.err("expected an integer")),
            _ => Err(n.err("expected an integer (a JSON number, as the AWS CLI prints it)")),
        }
    }

    /// An IP address field, strictly parsed.
    pub fn ip(&self, key: &str) -> Result<Option<std::net::IpAddr>, ConvertError> {
        self.str(key)?
            .map(|s| {
                s.parse()
                    .map_err(|_| self.child(key).expect("present").err("not an IP address"))
            })
            .transpose()
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

/// Reject a dump that names one resource twice (a decoy copy could hide the real rules): both
/// JSON paths are named. `items` are the converted resources with the path each came from.
pub fn unique_ids(
    items: Vec<(String, netdrift_snapshots::Resource)>,
) -> Result<Vec<netdrift_snapshots::Resource>, ConvertError> {
    let mut seen: std::collections::HashMap<netdrift_snapshots::ResourceId, String> =
        std::collections::HashMap::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (path, r) in items {
        if let Some(first) = seen.get(&r.id) {
            return Err(ConvertError {
                path,
                value: r.id.as_str().to_string(),
                message: format!("the same resource id already appears at {first}; a dump lists each resource once"),
            });
        }
        seen.insert(r.id.clone(), path);
        out.push(r);
    }
    Ok(out)
}

/// Parse one JSON document into a `Value` in a single pass, rejecting an object that names a
/// key twice (serde_json keeps the last; the clouds never print one, and a duplicated
/// `CidrIp` or `GroupId` is how a decoy value hides the real one). The error names the JSON
/// path of the object and the key.
pub fn from_slice_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Strict {
        at: &Seg::Root,
        stream: None,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// [`from_slice_strict`], handing each element of the root object's array `key` to `each`
/// (its index, its value) as soon as it is parsed, instead of keeping it: one element's tree
/// is in memory at a time. The document comes back with that array empty; the flag says
/// whether the root held such an array. The checks are the same (duplicate keys, syntax, one
/// document), so an error is exactly [`from_slice_strict`]'s.
pub fn from_slice_streaming(
    bytes: &[u8],
    key: &str,
    each: &mut dyn FnMut(usize, Value),
) -> Result<(Value, bool), serde_json::Error> {
    use serde::de::DeserializeSeed;
    let stream = Stream {
        key,
        each: std::cell::RefCell::new(each),
        streamed: std::cell::Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = Strict {
        at: &Seg::Root,
        stream: Some(&stream),
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((v, stream.streamed.get()))
}

/// The root array [`from_slice_streaming`] hands over element by element.
struct Stream<'s> {
    key: &'s str,
    each: std::cell::RefCell<&'s mut dyn FnMut(usize, Value)>,
    streamed: std::cell::Cell<bool>,
}

/// Where a value sits, rendered only when an error needs it.
enum Seg<'a> {
    Root,
    Key(&'a Seg<'a>, &'a str),
    Index(&'a Seg<'a>, usize),
}

impl std::fmt::Display for Seg<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Seg::Root => f.write_str("$"),
            Seg::Key(p, k) => write!(f, "{p}.{k}"),
            Seg::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

struct Strict<'a, 's> {
    at: &'a Seg<'a>,
    /// Only the root's: the array to hand over.
    stream: Option<&'s Stream<'s>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_, '_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// The value of the streamed root key: an array is handed over element by element; anything
/// else is kept as it is (and the converter reports it).
struct Streamed<'a, 's> {
    at: &'a Seg<'a>,
    stream: &'s Stream<'s>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Streamed<'_, '_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Streamed<'_, '_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut i = 0;
        loop {
            let at = Seg::Index(self.at, i);
            match seq.next_element_seed(Strict {
                at: &at,
                stream: None,
            })? {
                Some(v) => (self.stream.each.borrow_mut())(i, v),
                None => break,
            }
            i += 1;
        }
        self.stream.streamed.set(true);
        Ok(Value::Array(Vec::new()))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        self.kept().visit_map(map)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        self.kept().visit_bool(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        self.kept().visit_i64(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        self.kept().visit_u64(v)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        self.kept().visit_f64(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        self.kept().visit_str(v)
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        self.kept().visit_string(v)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.kept().visit_unit()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        self.kept().visit_none()
    }
}

impl<'a> Streamed<'a, '_> {
    fn kept(&self) -> Strict<'a, 'static> {
        Strict {
            at: self.at,
            stream: None,
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_, '_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            let at = Seg::Index(self.at, out.len());
            match seq.next_element_seed(Strict {
                at: &at,
                stream: None,
            })? {
                Some(v) => out.push(v),
                None => break,
            }
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let at = Seg::Key(self.at, &key);
            let v = match self.stream {
                Some(stream) if matches!(self.at, Seg::Root) && key == stream.key => {
                    map.next_value_seed(Streamed { at: &at, stream })?
                }
                _ => map.next_value_seed(Strict {
                    at: &at,
                    stream: None,
                })?,
            };
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "duplicate key {key:?} in the object at {}",
                    self.at
                )));
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}
