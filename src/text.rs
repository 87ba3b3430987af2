//! Untrusted text on its way to a terminal: group names, rule descriptions and tags come from
//! whoever can edit the cloud, and an ESC, CR or NUL in them could rewrite what an operator
//! sees (a CRITICAL line that erases itself). Every control character, and the Unicode
//! direction overrides that reorder a line, is shown as a visible escape instead.

use std::borrow::Cow;

fn hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One line of terminal text: every control character escaped (`\n`, `\r`, `\t`, `\x1b`,
/// `\u{202e}`), so nothing moves the cursor, clears the screen or starts a new line.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(hostile) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hostile(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hostile(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::terminal;

    #[test]
    fn each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("a.json: cannot read: {source}")]
        struct Read {
            source: std::io::Error,
        }
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = anyhow::Error::new(Read { source: io() }).context("audit import");
        assert_eq!(
            super::causes(&*e),
            "audit import: a.json: cannot read: No such file"
        );
        let plain = anyhow::Error::new(io()).context("reading b.json");
        assert_eq!(super::causes(&*plain), "reading b.json: No such file");
    }

    #[test]
    fn control_characters_become_visible_escapes() {
        for (raw, want) in [
            ("web-prod", "web-prod"),
            ("a\u{1b}[2K\rCRITICAL gone", "a\\x1b[2K\\rCRITICAL gone"),
            ("nul\0here", "nul\\x00here"),
            ("two\nlines\ttab", "two\\nlines\\ttab"),
            ("del\u{7f} c1\u{9b}", "del\\x7f c1\\x9b"),
            ("rtl \u{202e}txet", "rtl \\u{202e}txet"),
            ("ünïcødé ok", "ünïcødé ok"),
        ] {
            assert_eq!(terminal(raw), want, "{raw:?}");
        }
    }
}

/// An error and its causes in one line, each cause once: a cause whose text an outer one
/// already quotes is not repeated (`cannot read x: No such file…`, never the `No such file…`
/// twice that `{e:#}` prints). Plain text: escape it where it is shown.
pub fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(c) = cur {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = c.source();
    }
    parts.join(": ")
}

/// Secrets known at run time (the webhook URL, a static token), redacted wherever they appear
/// in a log line.
static SECRETS: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

/// Remember a secret so that no log line ever shows it.
pub fn register_secret(s: &str) {
    if s.len() >= 8 {
        let mut v = SECRETS.write().unwrap_or_else(|p| p.into_inner());
        if !v.iter().any(|x| x == s) {
            v.push(s.to_string());
        }
    }
}

/// Keys whose values are credentials, however a library prints them (`key: v`, `key=v`,
/// `"key": "v"`, `key="v"`), compared without letter case.
const SECRET_KEYS: &[&str] = &[
    "authorization",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-credential",
    "signature",
    "credential",
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "password",
    "secret_access_key",
    "aws_secret_access_key",
    "session_token",
    "aws_session_token",
    "x-ms-authorization-auxiliary",
    "sig",
];

const REDACTED: &str = "[redacted]";

/// Redact credentials from one log line: values of credential keys, `Bearer` tokens, AWS access
/// key ids, the user-info part of URLs and every registered secret.
pub fn redact(line: &str) -> String {
    let mut s = line.to_string();
    for secret in SECRETS.read().unwrap_or_else(|p| p.into_inner()).iter() {
        if s.contains(secret.as_str()) {
            s = s.replace(secret.as_str(), REDACTED);
        }
    }
    s = redact_after(&s, "bearer ", |c| {
        c.is_ascii_alphanumeric() || "-._~+/=".contains(c)
    });
    for key in SECRET_KEYS {
        s = redact_key_values(&s, key);
    }
    s = redact_userinfo(&s);
    redact_key_ids(&s)
}

/// Replace what follows each (case-insensitive) `marker` while `keep` holds.
fn redact_after(s: &str, marker: &str, keep: impl Fn(char) -> bool) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(pos) = lower[i..].find(marker) {
        let start = i + pos + marker.len();
        out.push_str(&s[i..start]);
        let end = s[start..]
            .char_indices()
            .find(|(_, c)| !keep(*c))
            .map(|(j, _)| start + j)
            .unwrap_or(s.len());
        if end > start {
            out.push_str(REDACTED);
        }
        i = end;
    }
    out.push_str(&s[i..]);
    out
}

/// `AKIA…`/`ASIA…` access key ids (20 characters, upper-case letters and digits).
fn redact_key_ids(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut last = 0;
    while i + 20 <= b.len() {
        let prefix = &b[i..i + 4];
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if boundary
            && (prefix == b"AKIA" || prefix == b"ASIA")
            && b[i + 4..i + 20]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && b.get(i + 20).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            out.push_str(&s[last..i + 4]);
            out.push_str(REDACTED);
            i += 20;
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// `user:password@host`, however it is printed (`http://u:p@h`, `("http", u:p@h)`,
/// `host:u:p@h`): the part before `@` is redacted when it holds a colon. An e-mail address
/// (`alice@acme.example`, an ARN's session name) has none and is kept.
fn redact_userinfo(s: &str) -> String {
    let userinfo = |c: char| c.is_ascii_alphanumeric() || "-._~%!$&'*+,;=:".contains(c);
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (at, _) in s.match_indices('@') {
        if at < last {
            continue;
        }
        let start = s[last..at]
            .char_indices()
            .rev()
            .find(|(_, c)| !userinfo(*c))
            .map(|(k, c)| last + k + c.len_utf8())
            .unwrap_or(last);
        if s[start..at].contains(':') && at + 1 < s.len() {
            out.push_str(&s[last..start]);
            out.push_str(REDACTED);
            last = at;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// The value after `key` followed by `:`, `=` or `": "` (quoted or not).
fn redact_key_values(s: &str, key: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(pos) = lower[i..].find(key) {
        let kstart = i + pos;
        let kend = kstart + key.len();
        let before_ok = kstart == 0
            || !lower.as_bytes()[kstart - 1].is_ascii_alphanumeric()
                && lower.as_bytes()[kstart - 1] != b'_'
                && lower.as_bytes()[kstart - 1] != b'-';
        // Skip a closing quote, then `:` or `=`, then spaces and an opening quote.
        let rest = &s[kend..];
        let mut j = 0;
        let rb = rest.as_bytes();
        if rb.first() == Some(&b'"') {
            j += 1;
        }
        while matches!(rb.get(j), Some(b' ')) {
            j += 1;
        }
        let sep = matches!(rb.get(j), Some(b':') | Some(b'='));
        if !(before_ok && sep) {
            out.push_str(&s[i..kend]);
            i = kend;
            continue;
        }
        j += 1;
        while matches!(rb.get(j), Some(b' ')) {
            j += 1;
        }
        let quoted = matches!(rb.get(j), Some(b'"') | Some(b'\''));
        let quote = rb.get(j).copied();
        if quoted {
            j += 1;
        }
        let vstart = kend + j;
        let vend = if quoted {
            s[vstart..]
                .find(quote.expect("quoted") as char)
                .map(|k| vstart + k)
                .unwrap_or(s.len())
        } else {
            s[vstart..]
                .find(|c: char| c.is_whitespace() || ",&;)}]\"".contains(c))
                .map(|k| vstart + k)
                .unwrap_or(s.len())
        };
        out.push_str(&s[i..vstart]);
        if vend > vstart {
            out.push_str(REDACTED);
        }
        i = vend;
    }
    out.push_str(&s[i..]);
    out
}

/// The log writer: each line is redacted and its control characters escaped before it reaches
/// stderr (journald), at every level.
pub struct SafeStderr {
    buf: Vec<u8>,
}

impl SafeStderr {
    pub fn new() -> SafeStderr {
        SafeStderr { buf: Vec::new() }
    }
    fn emit(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        if self.buf.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        self.buf.clear();
        // Above the progress bar, when one is drawn.
        crate::progress::suspend(|| {
            let mut err = std::io::stderr().lock();
            for line in text.split_inclusive('\n') {
                let (body, nl) = match line.strip_suffix('\n') {
                    Some(b) => (b, "\n"),
                    None => (line, ""),
                };
                // ANSI colour codes the formatter adds itself are kept; everything else is
                // escaped.
                let safe = keep_sgr(body, |t| terminal(&redact(t)).into_owned());
                err.write_all(safe.as_bytes())?;
                err.write_all(nl.as_bytes())?;
            }
            Ok(())
        })
    }
}

impl Default for SafeStderr {
    fn default() -> Self {
        SafeStderr::new()
    }
}

/// Apply `f` to the text between the formatter's own SGR colour sequences (`ESC [ … m`).
fn keep_sgr(s: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("\u{1b}[") {
        let tail = &rest[pos + 2..];
        let len = tail
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .filter(|&k| tail.as_bytes().get(k) == Some(&b'm'));
        match len {
            Some(k) => {
                out.push_str(&f(&rest[..pos]));
                out.push_str(&rest[pos..pos + 2 + k + 1]);
                rest = &tail[k + 1..];
            }
            None => {
                out.push_str(&f(&rest[..pos + 1]));
                rest = &rest[pos + 1..];
            }
        }
    }
    out.push_str(&f(rest));
    out
}

impl std::io::Write for SafeStderr {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.emit()
    }
}

impl Drop for SafeStderr {
    fn drop(&mut self) {
        let _ = self.emit();
    }
}

#[cfg(test)]
mod redaction {
    use super::redact;

    #[test]
    fn credentials_never_reach_a_log_line() {
        super::register_secret("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX");
        for (raw, want) in [
            ("authorization: Bearer eyJ0eXAiOiJKV1Qi.abc-def_1", "authorization: [redacted] [redacted]"),
            ("headers: {\"authorization\": \"Bearer abc.def\", \"x\": 1}", "headers: {\"authorization\": \"[redacted]\", \"x\": 1}"),
            ("Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261201/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=abcdef0123", "Authorization: [redacted] Credential=[redacted], SignedHeaders=host, Signature=[redacted]"),
            ("access key id ASIAZZZZZZZZZZZZZZZZ used", "access key id ASIA[redacted] used"),
            ("endpoint http://admin:hunter2@127.0.0.1:5055/x", "endpoint http://[redacted]@127.0.0.1:5055/x"),
            ("checkout dropped for (\"http\", admin:hunter2@127.0.0.1:9)", "checkout dropped for (\"http\", [redacted]@127.0.0.1:9)"),
            ("host:admin:hunter2@127.0.0.1:9", "[redacted]@127.0.0.1:9"),
            ("by alice@acme.example via arn:aws:sts::1:assumed-role/R/bob@x.example", "by alice@acme.example via arn:aws:sts::1:assumed-role/R/bob@x.example"),
            ("x-amz-security-token=FQoGZXIvYXdzEJr&X=1", "x-amz-security-token=[redacted]&X=1"),
            ("posting to https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX now", "posting to [redacted] now"),
            ("password = \"s3cret\"", "password = \"[redacted]\""),
            ("sg-0a1b2c3d groups and AKIA-short", "sg-0a1b2c3d groups and AKIA-short"),
            ("plain line, nothing to hide", "plain line, nothing to hide"),
        ] {
            let got = redact(raw);
            assert_eq!(got, want, "{raw:?}");
        }
    }
}
