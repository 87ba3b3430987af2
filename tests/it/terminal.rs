//! The drift table as a person sees it: in a real terminal (tmux) 100 and 160 columns wide,
//! and whole when piped.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// The demo's database, after its two days.
fn demo_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = run_demo(dir.path()).db;
    (dir, db)
}

/// What `netdrift ARGS` shows in a tmux pane `width` columns wide: the pane's lines, with the
/// terminal's own wrapping of an over-long line undone (`capture-pane -J`), so a line wider than
/// the pane shows as one.
fn in_tmux(db: &Path, width: u16, args: &[&str]) -> String {
    in_tmux_shell(width, &format!("{} 2>/dev/null", netdrift_cmd(db, args)))
}

/// `netdrift ARGS` as a shell command, on `db`, without `COLUMNS`.
fn netdrift_cmd(db: &Path, args: &[&str]) -> String {
    format!(
        "env -u COLUMNS NETDRIFT_DB='{}' '{}' {}",
        db.display(),
        env!("CARGO_BIN_EXE_netdrift"),
        args.join(" ")
    )
}

/// What a shell command shows in a tmux pane `width` columns wide (see [`in_tmux`]).
fn in_tmux_shell(width: u16, shell: &str) -> String {
    let tmux = "/usr/bin/tmux";
    assert!(
        Path::new(tmux).exists(),
        "tmux is required (scripts/test installs it)"
    );
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let sock = format!("netdrift-test-{}-{width}-{n}", std::process::id());
    let cmd = format!("{shell}; {tmux} -L {sock} wait-for -S done; sleep 60");
    let st = Command::new(tmux)
        .args(["-L", &sock, "-f", "/dev/null", "new-session", "-d"])
        .args(["-x", &width.to_string(), "-y", "400", "-s", "t", &cmd])
        .status()
        .expect("start tmux");
    assert!(st.success(), "tmux new-session failed");
    let waited = Command::new("timeout")
        .args(["60", tmux, "-L", &sock, "wait-for", "done"])
        .status()
        .expect("wait for the command in tmux");
    let out = Command::new(tmux)
        .args([
            "-L",
            &sock,
            "capture-pane",
            "-p",
            "-J",
            "-t",
            "t",
            "-S",
            "-",
            "-E",
            "-",
        ])
        .output()
        .expect("capture the pane");
    let _ = Command::new(tmux)
        .args(["-L", &sock, "kill-server"])
        .status();
    assert!(waited.success(), "netdrift did not finish in tmux");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_drift_table_fits_the_terminal_and_keeps_what_a_person_reads() {
    let (_dir, db) = demo_db();
    let report = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let items = report["drift"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    for width in [100u16, 160] {
        let shown = in_tmux(&db, width, &["drift"]);
        let table: Vec<&str> = shown
            .lines()
            .take_while(|l| !l.starts_with("coverage:"))
            .collect();
        assert!(table[0].starts_with("ITEM"), "{width} columns:\n{shown}");
        for l in &table {
            assert!(
                l.chars().count() <= width as usize,
                "a line wider than {width} columns: {l:?}\n{shown}"
            );
        }
        for i in items {
            let id = i["id"].as_str().unwrap();
            // The id a person copies, whole, under its severity.
            let at = table
                .iter()
                .position(|l| l.starts_with(id))
                .unwrap_or_else(|| panic!("{id} not whole at {width}:\n{shown}"));
            let sev = i["severity"].as_str().unwrap().to_uppercase();
            assert!(
                table[at - 1].starts_with(&sev),
                "{id}: {sev} above it\n{shown}"
            );
            // The resource's name whole, and the end of its id.
            let block: Vec<&str> = table[at - 1..]
                .iter()
                .take_while(|l| !l.is_empty())
                .copied()
                .collect();
            let text = block.join("\n");
            let resource = i["resource"].as_str().unwrap();
            let name = i["resource_name"]
                .as_str()
                .unwrap_or_else(|| resource.rsplit('/').next().unwrap());
            assert!(text.contains(name), "{id}: name {name} at {width}:\n{text}");
            let tail: String = resource
                .chars()
                .rev()
                .take(8)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            assert!(
                text.contains(&tail),
                "{id}: id's end {tail} at {width}:\n{text}"
            );
            // What: the direction and the first port, unbroken; the change and effect.
            let direction = i["direction"].as_str().unwrap();
            assert!(
                text.contains(direction),
                "{id}: {direction} at {width}:\n{text}"
            );
            let change = format!(
                "{}/{}",
                i["change"].as_str().unwrap(),
                i["effect"].as_str().unwrap()
            );
            assert!(text.contains(&change), "{id}: {change} at {width}:\n{text}");
            // Who: the principal and the event with its grade, in the WHO column; unbroken
            // when they fit its width.
            let from = table[0].find("WHO").unwrap();
            let who: Vec<String> = block
                .iter()
                .map(|l| l.chars().skip(from).collect::<String>())
                .collect();
            let squeezed = who.concat().replace(' ', "");
            for a in i["attribution"]["actors"].as_array().into_iter().flatten() {
                let event = format!(
                    "[{}, {}]",
                    a["event_name"].as_str().unwrap(),
                    a["grade"].as_str().unwrap()
                );
                assert!(
                    squeezed.contains(&event.replace(' ', "")),
                    "{id}: {event} at {width}:\n{text}"
                );
                let name = a["event_name"].as_str().unwrap();
                if name.len() <= 30 {
                    assert!(
                        text.contains(name),
                        "{id}: {name} broken at {width}:\n{text}"
                    );
                }
                let principal = a["principal"].as_str().unwrap();
                let tail = principal.rsplit(['/', ':']).next().unwrap();
                assert!(
                    squeezed.contains(tail),
                    "{id}: {principal} at {width}:\n{text}"
                );
            }
        }
    }
}

#[test]
fn piped_the_drift_table_is_whole_one_line_per_item() {
    let (_dir, db) = demo_db();
    let r = ok(&db, &["drift"], 1);
    let report = json(&ok(&db, &["drift", "--format", "json"], 1).stdout);
    let rows: Vec<&str> = r
        .stdout
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("coverage:"))
        .collect();
    let items = report["drift"].as_array().unwrap();
    assert_eq!(rows.len(), items.len(), "{}", r.stdout);
    assert!(r.stdout.starts_with("SEVERITY  ID"), "{}", r.stdout);
    for (row, i) in rows.iter().zip(items) {
        // Every cell whole: the full Azure id, and who with the event.
        assert!(row.contains(i["resource"].as_str().unwrap()), "{row}");
        assert!(row.contains(i["id"].as_str().unwrap()), "{row}");
        for a in i["attribution"]["actors"].as_array().into_iter().flatten() {
            assert!(row.contains(a["principal"].as_str().unwrap()), "{row}");
            assert!(row.contains(a["event_name"].as_str().unwrap()), "{row}");
        }
    }
    // COLUMNS fits a pipe too (`COLUMNS=100 netdrift drift | less`).
    let narrow = std::process::Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["drift"])
        .env("NETDRIFT_DB", &db)
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let text = String::from_utf8(narrow.stdout).unwrap();
    assert!(text.starts_with("ITEM"), "{text}");
    assert!(
        text.lines()
            .take_while(|l| !l.starts_with("coverage:"))
            .all(|l| l.chars().count() <= 100),
        "{text}"
    );
}

/// The README shows what the demo prints at 100 columns: its block is the table's first lines,
/// exactly.
#[test]
fn the_readme_sample_is_what_the_demo_prints() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_netdrift"))
        .args(["demo", "--dir", &out.display().to_string()])
        .env("NETDRIFT_DB", dir.path().join("r.db"))
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let printed = String::from_utf8(run.stdout).unwrap();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find("```text\nITEM")
        .expect("README has the demo's table in a ```text block starting with ITEM");
    let block = &readme[start + "```text\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    let at = printed.find("ITEM").expect("the demo prints the table");
    assert!(
        printed[at..].starts_with(block),
        "README's sample differs from what `COLUMNS=100 netdrift demo` prints:\n{}",
        &printed[at..]
    );
}

/// An interactive run shows its progress on standard error (phase, scopes done of all, time),
/// ending as one line; `-q` and a pipe get none of it.
#[test]
fn an_interactive_run_shows_progress_and_a_pipe_or_quiet_gets_none() {
    let (dir, db) = demo_db();
    let cfg = dir.path().join("demo/netdrift.toml").display().to_string();
    let run = ["run", "--config", &cfg, "--at", "2026-11-26T02:00:00Z"];
    let shown = in_tmux_shell(120, &format!("{} >/dev/null", netdrift_cmd(&db, &run)));
    let last = shown
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default();
    assert!(
        last.contains("done") && last.contains("scopes 4/4"),
        "the bar's last state: {shown}"
    );
    // The log line printed meanwhile is whole, above the bar.
    assert!(
        shown.lines().any(|l| l.contains("WARN collection failed")),
        "{shown}"
    );
    let mut quiet = vec!["-q"];
    quiet.extend(run);
    let shown = in_tmux_shell(120, &format!("{} >/dev/null", netdrift_cmd(&db, &quiet)));
    assert!(!shown.contains("scopes"), "-q draws no bar: {shown}");
    let piped = netdrift(&db, &run);
    assert_eq!(piped.code, 1, "{}", piped.stderr);
    assert!(
        !piped.stderr.contains("scopes"),
        "a pipe gets no bar: {}",
        piped.stderr
    );
    assert!(!piped.stderr.contains('\r'), "{}", piped.stderr);
}
