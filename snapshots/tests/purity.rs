//! Architecture invariant: netdrift-snapshots is pure (no IO, async, SDK or SQLite).

#[test]
fn snapshots_crate_has_no_io_async_sdk_or_sqlite_dependencies() {
    let manifest = include_str!("../Cargo.toml");
    let deps: Vec<&str> = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("a [dependencies] table")
        .split("\n[")
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let forbidden = [
        "tokio",
        "async-std",
        "rusqlite",
        "reqwest",
        "hyper",
        "aws-",
        "google-",
        "azure_",
        "ureq",
        "futures",
    ];
    for d in &deps {
        assert!(
            !forbidden.iter().any(|f| d.starts_with(f)),
            "snapshots/ must stay pure, but depends on {d}"
        );
    }
    assert!(
        !deps.is_empty(),
        "parsed no dependencies: the check itself is broken"
    );
    // Times are data here: the core never reads the system clock (chrono without `clock`).
    let chrono = manifest
        .lines()
        .find(|l| l.starts_with("chrono"))
        .expect("chrono is a dependency");
    assert!(
        chrono.contains("default-features = false") && !chrono.contains("clock"),
        "snapshots/ must not read the clock: {chrono}"
    );
}

#[test]
fn snapshots_sources_do_no_io() {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
        .join("src");
    // Every source file, submodules included.
    let mut files = Vec::new();
    let mut dirs = vec![dir];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(d).expect("src dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut checked = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable source");
        for bad in [
            "std::fs",
            "std::net::Tcp",
            "std::process",
            "async fn",
            ".await",
            "std::env::var",
        ] {
            assert!(
                !text.contains(bad),
                "{} uses {bad}: snapshots/ must stay pure",
                path.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 5);
}
