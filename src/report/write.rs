//! Writing report files: every file of a set staged as an exclusively created, unpredictably
//! named temporary file beside its target, then renamed into place (ARCHITECTURE.md, "Reports
//! are all or nothing").

use std::path::PathBuf;

use anyhow::{Context, Result};

/// Stage one file as an exclusively created temporary file beside its target (never following
/// a planted link: the name is unpredictable and created with O_EXCL), written and synced.
pub fn stage(path: &std::path::Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(tmp)
}

/// Write every file or none: stage them all, then rename each into place. Should a rename fail
/// (it needs no space, so this is rare), the error names what was and was not written.
pub fn write_all_or_nothing(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        // On error the files staged so far are removed as `staged` drops.
        staged.push((stage(path, bytes)?, path));
    }
    let mut done: Vec<String> = Vec::new();
    let total = staged.len();
    for (i, (tmp, path)) in staged.into_iter().enumerate() {
        if let Err(e) = tmp.persist(path) {
            let rest: Vec<String> = files[i..]
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect();
            anyhow::bail!(
                "cannot write {}: {}; written: {}; not written: {} (of {total})",
                path.display(),
                e.error,
                if done.is_empty() {
                    "none".to_string()
                } else {
                    done.join(", ")
                },
                rest.join(", ")
            );
        }
        done.push(path.display().to_string());
    }
    Ok(())
}

/// Write via an exclusively created temporary file and rename, so readers never see half a
/// report.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    write_all_or_nothing(&[(path.to_path_buf(), bytes.to_vec())])
}
