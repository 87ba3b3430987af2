//! The module structure of `src/`: no import cycle between top-level modules (a module and its
//! submodules count as one; `cli/daemon.rs` belongs to `cli`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::support::repo;

/// Top-level module of a source file under `src/`.
fn module_of(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `crate::X` references per top-level module, test code excluded.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo().join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in all {
        let rel = f.strip_prefix(&src).unwrap();
        let m = module_of(rel);
        if m == "main" || m == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        let entry = g.entry(m.clone()).or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + 7..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != m {
                entry.insert(name);
            }
        }
        // `use super::…` inside a submodule stays in its module.
    }
    g
}

fn cycle_from(g: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in g.get(&node).into_iter().flatten() {
            if next == start {
                let mut p = path.clone();
                p.push(start.to_string());
                return Some(p);
            }
            if seen.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
    None
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let g = graph();
    let cycles: Vec<String> = g
        .keys()
        .filter_map(|m| cycle_from(&g, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(
        cycles.is_empty(),
        "import cycles in src/:\n{}",
        cycles.join("\n")
    );
}

/// The pure middle names no provider and holds no SQL: a new provider is a crate, an enum
/// variant and a feature (`src/sources.rs`); queries live in `src/store/`.
#[test]
fn reconcile_drift_and_attribution_name_no_provider_and_hold_no_sql() {
    for f in [
        "src/reconcile.rs",
        "src/drift.rs",
        "src/drift/patterns.rs",
        "src/attribution.rs",
        "src/attribution/windows.rs",
        "src/attribution/load.rs",
    ] {
        let text = std::fs::read_to_string(repo().join(f)).unwrap();
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let lower = code.to_ascii_lowercase();
        for word in ["aws", "gcp", "azure", "cloudtrail"] {
            assert!(!lower.contains(word), "{f} names a provider ({word})");
        }
        for sql in [
            "SELECT ",
            "INSERT ",
            "UPDATE ",
            "DELETE ",
            ".conn()",
            "Transaction",
        ] {
            assert!(!code.contains(sql), "{f} holds SQL ({sql})");
        }
    }
}

/// Drift is pure: its inputs come from one store call, and it reads neither the database nor
/// the filesystem.
#[test]
fn drift_reads_only_its_inputs() {
    for f in ["src/drift.rs", "src/drift/patterns.rs"] {
        let text = std::fs::read_to_string(repo().join(f)).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for word in [
            "SqliteStore",
            "std::fs",
            "rusqlite",
            "crate::config::Config",
        ] {
            let used = code
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| l.contains(word));
            assert!(!used, "{f} uses {word}");
        }
    }
}
