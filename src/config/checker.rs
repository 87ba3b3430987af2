//! The checks' bookkeeping: every problem with the line of the key it names (or of its
//! table), the files a configuration names that cannot be read, and the `[[source]]` tables.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::{sources, SourceConfig, SourceKind};

pub(super) struct Checker<'a> {
    pub(super) text: &'a str,
    /// Each problem with its line.
    pub(super) problems: Vec<(usize, String)>,
    /// Files the configuration names that cannot be read, with their lines.
    pub(super) unreadable: Vec<(usize, String)>,
}

/// The key a problem is about: the first "field `KEY`" it names.
pub(super) fn named_key(msg: &str) -> Option<&str> {
    let at = msg.find("field `")? + "field `".len();
    let len = msg[at..].find('`')?;
    Some(&msg[at..at + len])
}

impl Checker<'_> {
    pub(super) fn line(&self, span: std::ops::Range<usize>) -> usize {
        self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }
    /// The line of `key = …` in the table whose header `span` starts at (up to the next
    /// header), if it is written there.
    pub(super) fn key_line(&self, span: &std::ops::Range<usize>, key: &str) -> Option<usize> {
        let start = span.start.min(self.text.len());
        let first = self.line(start..start);
        let header = self.text[start..].trim_start().starts_with('[');
        self.text[start..]
            .lines()
            .enumerate()
            .skip(usize::from(header))
            .take_while(|(_, l)| !l.trim_start().starts_with('['))
            .find_map(|(i, l)| {
                let l = l.trim_start();
                let rest = l
                    .strip_prefix(key)
                    .or_else(|| l.strip_prefix(&format!("\"{key}\"")))?;
                rest.trim_start().starts_with('=').then_some(first + i)
            })
    }
    /// The text before the first table: where top-level keys are written.
    pub(super) fn top_level(&self) -> std::ops::Range<usize> {
        let mut at = 0;
        for l in self.text.split_inclusive('\n') {
            if l.trim_start().starts_with('[') {
                break;
            }
            at += l.len();
        }
        0..at
    }
    /// The `[[report.webhook]]` table a problem is about (by the name it quotes), as a span
    /// starting at its header.
    pub(super) fn route_table(&self, msg: &str) -> Option<std::ops::Range<usize>> {
        let mut at = 0;
        let mut unnamed = None;
        for l in self.text.split_inclusive('\n') {
            if l.trim() == "[[report.webhook]]" {
                let span = at..self.text.len();
                match self.key_line(&span, "name") {
                    Some(n) => {
                        let line = self.text.lines().nth(n - 1).unwrap_or_default();
                        let name = line.split_once('=').map(|(_, v)| v.trim()).unwrap_or("");
                        if msg.starts_with(&format!("[[report.webhook]] {name}:")) {
                            return Some(span);
                        }
                    }
                    None => unnamed = unnamed.or(Some(span)),
                }
            }
            at += l.len();
        }
        unnamed.filter(|_| msg.starts_with("[[report.webhook]]:"))
    }
    /// A problem at the line of the key it names inside `span`, else at the table's line.
    pub(super) fn at(&mut self, span: std::ops::Range<usize>, msg: String) {
        let span = if msg.starts_with("[[report.webhook]]") {
            self.route_table(&msg).unwrap_or(span)
        } else {
            span
        };
        let line = named_key(&msg)
            .and_then(|k| self.key_line(&span, k))
            .unwrap_or_else(|| self.line(span));
        self.problems.push((line, msg));
    }
    /// A file the configuration names (at `key` inside `span`) that must be readable.
    pub(super) fn readable(
        &mut self,
        span: &std::ops::Range<usize>,
        what: &str,
        key: &str,
        path: &Path,
    ) {
        let why = match std::fs::File::open(path) {
            Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => "is a directory".to_string(),
            Ok(_) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".to_string(),
            Err(e) => format!("cannot be read: {e}"),
        };
        let line = self
            .key_line(span, key)
            .unwrap_or_else(|| self.line(span.clone()));
        self.unreadable.push((
            line,
            format!("{what}field `{key}`: {} {why}", path.display()),
        ));
    }
    pub(super) fn table<T: serde::de::DeserializeOwned>(
        &mut self,
        t: &Spanned<toml::Table>,
        what: &str,
    ) -> Option<T> {
        match toml::Value::Table(t.get_ref().clone()).try_into::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = format!("[{what}]: {}", e.message().trim());
                self.at(t.span(), msg);
                None
            }
        }
    }
}

impl Checker<'_> {
    /// Problems found in one table, each reported at the table's line.
    pub(super) fn all_at(&mut self, span: std::ops::Range<usize>, problems: Vec<String>) {
        for p in problems {
            self.at(span.clone(), p);
        }
    }
    /// An optional table: its fields, with a problem at its line when they do not fit.
    pub(super) fn optional<T: serde::de::DeserializeOwned>(
        &mut self,
        t: &Option<Spanned<toml::Table>>,
        what: &str,
    ) -> (Option<T>, std::ops::Range<usize>) {
        match t {
            Some(t) => (self.table(t, what), t.span()),
            None => (None, 0..0),
        }
    }
}

pub(super) type ExpectedPorts = Vec<(
    netdrift_snapshots::ScopeKey,
    Vec<netdrift_snapshots::PortRange>,
)>;

impl Checker<'_> {
    /// Every `[[source]]`: names unique, each scope collected by one source.
    pub(super) fn sources(
        &mut self,
        tables: &[Spanned<toml::Table>],
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> (Vec<SourceConfig>, ExpectedPorts) {
        let mut out = Vec::new();
        let mut expected_ports = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        let mut scopes = std::collections::BTreeSet::new();
        for t in tables {
            let span = t.span();
            if let Some(name) = t.get_ref().get("name").and_then(|n| n.as_str()) {
                if !names.insert(name.to_string()) {
                    self.at(
                        span.clone(),
                        format!("source {name:?}: duplicate source name"),
                    );
                }
            }
            match sources::source(t.get_ref().clone(), resolve) {
                Ok(c) => {
                    if let SourceKind::Files { scope, .. } = &c.source.kind {
                        if !scopes.insert(scope.key()) {
                            self.at(
                                span.clone(),
                                format!(
                                    "source {:?}: scope {} is already collected by another source",
                                    c.source.name,
                                    scope.key()
                                ),
                            );
                        }
                    }
                    if let SourceKind::Files { files, .. } = &c.source.kind {
                        let what = format!("source {:?}: ", c.source.name);
                        for f in files {
                            self.readable(&span, &what, "files", f);
                        }
                    }
                    expected_ports.extend(c.expected_ports);
                    out.push(c.source);
                }
                Err(problems) => self.all_at(span, problems),
            }
        }
        (out, expected_ports)
    }
}
