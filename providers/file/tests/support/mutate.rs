//! A deterministic mutation fuzzer for netdrift's parsers, run on stable Rust as an ordinary
//! test with a bounded number of cases (`NETDRIFT_FUZZ_CASES`, default below). Seeds are real
//! payloads (testdata/ fixtures, the demo estate); each case applies one to three mutations:
//! truncation, byte flips, type swaps, huge and negative numbers, bad CIDRs, control
//! characters, deep nesting, duplicated keys, removed fields, gzip (whole, truncated, bombs).
//! Shared by `providers/file/tests/fuzz.rs` and the root crate's `tests/it/fuzz.rs`.

#![allow(dead_code)]

use serde_json::{json, Value};

/// xorshift64*: small, deterministic, good enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    pub fn choose<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
}

/// How many cases per parser: `NETDRIFT_FUZZ_CASES`, else `default`.
pub fn cases(default: usize) -> usize {
    std::env::var("NETDRIFT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const HUGE: &[&str] = &[
    "1e308",
    "-1e308",
    "18446744073709551615",
    "-9223372036854775808",
    "9007199254740993",
    "65536",
    "-1",
    "-32769",
    "4294967296",
    "1.5",
    "0",
    "32768",
    "32769",
    "255",
    "256",
];

const BAD_CIDRS: &[&str] = &[
    "10.0.0.0/33",
    "300.1.1.1/8",
    "::/129",
    "0.0.0.0/0/0",
    "1.2.3.4/-1",
    "",
    " 10.0.0.0/8",
    "10.0.0.0/08",
    "fe80::1%eth0/64",
    "1.2.3",
    "::ffff:10.0.0.1/200",
    "0.0.0.0/0\n",
    "*",
    "Internet",
    "10.0.0.0/8,0.0.0.0/0",
    "١٢٣.0.0.0/8",
];

const HOSTILE: &[&str] = &[
    "\u{1b}[2K\r",
    "\u{0}",
    "\n",
    "\u{202e}",
    "\u{7f}",
    "\u{9b}31m",
    "'; DROP TABLE snapshots;--",
    "=HYPERLINK(\"x\")",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\u{fffd}",
];

/// Every node of a value, as a path of keys and indices.
fn paths(v: &Value, cur: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(cur.clone());
    match v {
        Value::Object(o) => {
            for k in o.keys() {
                cur.push(Seg::K(k.clone()));
                paths(&o[k], cur, out);
                cur.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                cur.push(Seg::I(i));
                paths(x, cur, out);
                cur.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone)]
enum Seg {
    K(String),
    I(usize),
}

fn at<'a>(v: &'a mut Value, path: &[Seg]) -> &'a mut Value {
    let mut cur = v;
    for s in path {
        cur = match s {
            Seg::K(k) => cur.get_mut(k.as_str()).expect("path"),
            Seg::I(i) => cur.get_mut(*i).expect("path"),
        };
    }
    cur
}

/// One structural mutation somewhere in the document.
fn mutate_value(doc: &mut Value, rng: &mut Rng) {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    let path = rng.pick(&all).clone();
    let node = at(doc, &path);
    match rng.below(9) {
        0 => {
            *node = match rng.below(6) {
                0 => Value::Null,
                1 => json!(true),
                2 => json!(rng.next() as i64),
                3 => json!("x"),
                4 => json!([]),
                _ => json!({}),
            }
        }
        1 => {
            let n = rng.choose(HUGE);
            *node = serde_json::from_str(n).unwrap_or_else(|_| json!(-1));
        }
        2 => *node = json!(rng.choose(BAD_CIDRS)),
        3 => {
            let s = match node.as_str() {
                Some(s) => s.to_string(),
                None => node.to_string(),
            };
            let cut = rng.below(s.len() + 1);
            let cut = (0..=cut)
                .rev()
                .find(|c| s.is_char_boundary(*c))
                .unwrap_or(0);
            let h = rng.choose(HOSTILE);
            *node = json!(format!("{}{}{}", &s[..cut], h, &s[cut..]));
        }
        4 => {
            let mut deep = node.take();
            for _ in 0..(100 + rng.below(200)) {
                deep = json!([deep]);
            }
            *node = deep;
        }
        5 => {
            if let Value::Object(o) = node {
                if !o.is_empty() {
                    let k = o.keys().nth(rng.below(o.len())).cloned().expect("key");
                    o.remove(&k);
                }
            }
        }
        6 => {
            if let Value::Array(a) = node {
                if !a.is_empty() {
                    let x = a[rng.below(a.len())].clone();
                    a.push(x);
                }
            }
        }
        7 => {
            if let Value::Array(a) = node {
                a.clear();
            }
        }
        _ => {
            if let Some(s) = node.as_str() {
                // Case and whitespace games the clouds never print.
                *node = json!(if rng.below(2) == 0 {
                    s.to_ascii_uppercase()
                } else {
                    format!(" {s} ")
                });
            } else if let Some(n) = node.as_i64() {
                *node = json!(n.to_string());
            }
        }
    }
}

/// One byte-level mutation of serialized text.
fn mutate_bytes(b: &mut Vec<u8>, rng: &mut Rng) {
    if b.is_empty() {
        b.extend_from_slice(b"{");
        return;
    }
    match rng.below(5) {
        0 => {
            let n = rng.below(b.len());
            b.truncate(n);
        }
        1 => {
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
        }
        2 => {
            let i = rng.below(b.len());
            const JUNK: &[&[u8]] = &[
                b"\x00\xff\xfe",
                b"\",\"",
                b"}]",
                b"\\u0000",
                b"\xe2\x80\xae",
                b"NaN",
            ];
            let junk = rng.choose(JUNK);
            b.splice(i..i, junk.iter().copied());
        }
        3 => {
            // A duplicated key: repeat the first `"key": value,` after an opening brace.
            if let Some(p) = b.iter().position(|&c| c == b'{') {
                if let Some(end) = b[p..].iter().position(|&c| c == b',') {
                    let dup: Vec<u8> = b[p + 1..p + end + 1].to_vec();
                    b.splice(p + 1..p + 1, dup);
                }
            }
        }
        _ => {
            let i = rng.below(b.len());
            let j = (i + rng.below(64)).min(b.len());
            b.drain(i..j);
        }
    }
}

/// 3 MiB of JSON whitespace, gzipped once (a few KiB): past the 1 MiB bound the fuzz tests set.
fn bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        let mut b = b"{\"Records\": [".to_vec();
        b.resize(3 << 20, b' ');
        b.extend_from_slice(b"]}");
        gzip(&b)
    })
}

pub fn gzip(b: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(b).expect("gzip");
    e.finish().expect("gzip")
}

/// One fuzz case from a seed: JSON-level and byte-level mutations, sometimes gzipped (whole,
/// truncated, or a small bomb of whitespace far past the bound the caller set).
pub fn case(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = match serde_json::from_slice::<Value>(seed) {
        Ok(mut v) if rng.below(4) != 0 => {
            for _ in 0..(1 + rng.below(3)) {
                mutate_value(&mut v, rng);
            }
            let mut b = serde_json::to_vec(&v).expect("serialize");
            if rng.below(4) == 0 {
                mutate_bytes(&mut b, rng);
            }
            b
        }
        _ => {
            let mut b = seed.to_vec();
            for _ in 0..(1 + rng.below(3)) {
                mutate_bytes(&mut b, rng);
            }
            b
        }
    };
    match rng.below(40) {
        0..=2 => out = gzip(&out),
        3 => {
            let mut g = gzip(&out);
            let n = rng.below(g.len());
            g.truncate(n.max(2));
            out = g;
        }
        4 => out = bomb().to_vec(),
        _ => {}
    }
    out
}

/// The text of a panic payload.
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

/// Run `parse` on `n` mutated cases written to `case-N.<ext>`: no panic (a panicking input is
/// kept under `keep_dir` for replay), and every error names the file. Returns how many were
/// rejected.
pub fn run(
    name: &str,
    ext: &str,
    seeds: &[Vec<u8>],
    n: usize,
    keep_dir: &std::path::Path,
    parse: impl Fn(&std::path::Path) -> Result<(), String>,
) -> usize {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut rng = Rng::new(name.len() as u64 * 7919 + ext.len() as u64);
    let (mut panics, mut rejected, mut nameless) = (Vec::new(), 0, Vec::new());
    for i in 0..n {
        let input = case(&seeds[i % seeds.len()], &mut rng);
        let path = dir.path().join(format!("case-{i}.{ext}"));
        std::fs::write(&path, &input).expect("write case");
        match catch_unwind(AssertUnwindSafe(|| parse(&path))) {
            Err(p) => {
                let keep = keep_dir.join(format!("fuzz-{name}-{i}.{ext}"));
                let _ = std::fs::create_dir_all(keep_dir);
                let _ = std::fs::write(&keep, &input);
                panics.push(format!(
                    "case {i}: {} (input kept at {})",
                    panic_text(&*p),
                    keep.display()
                ));
            }
            Ok(Err(e)) => {
                rejected += 1;
                if !e.contains(&format!("case-{i}.{ext}")) {
                    nameless.push(format!("case {i}: {e}"));
                }
            }
            Ok(Ok(())) => {}
        }
    }
    assert!(
        panics.is_empty(),
        "{name}: {} panic(s):\n{}",
        panics.len(),
        panics.join("\n")
    );
    assert!(
        nameless.is_empty(),
        "{name}: errors that do not name the file:\n{}",
        nameless[..nameless.len().min(10)].join("\n")
    );
    assert!(rejected > 0, "{name}: the mutations reach the error paths");
    eprintln!("fuzz {name}: {n} cases, {rejected} rejected, 0 panics");
    rejected
}
