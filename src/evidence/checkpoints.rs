//! `checkpoints.json`: the checkpoints run retention left (`store::Checkpoint`), checked
//! offline: each hashes to its recorded hash, they chain from genesis, their pruned ranges
//! follow one another, and the bundle's first run links to the last range it follows.

use std::collections::BTreeMap;

use crate::store::runs::{run_hash, GENESIS};
use crate::store::{Checkpoint, CheckpointRecord};

/// The bundle file.
pub const FILE: &str = "checkpoints.json";

/// What the checkpoints say the bundle's chain continues: (runs pruned, first run, last run),
/// when its first run is the one after the last range pruned.
pub type Pruned = Option<(i64, i64, i64)>;

/// Check the checkpoints against each other and the first run of the bundle (id, prev_hash).
pub fn check(
    files: &BTreeMap<String, Vec<u8>>,
    first_run: Option<(i64, &str)>,
    problems: &mut Vec<String>,
) -> Pruned {
    let bytes = files.get(FILE)?;
    let cps: Vec<Checkpoint> = match serde_json::from_slice(bytes) {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("{FILE}: not a list of checkpoints: {e}"));
            return None;
        }
    };
    let mut prev: Option<(&Checkpoint, CheckpointRecord)> = None;
    let (mut pruned, mut first) = (0, None);
    for cp in &cps {
        let recomputed = run_hash(&cp.prev_hash, &cp.record);
        if recomputed != cp.hash {
            problems.push(format!(
                "{FILE}: checkpoint {}: its record hashes to {recomputed}, but its recorded hash is {} (the checkpoint was altered)",
                cp.id, cp.hash
            ));
        }
        let rec = match cp.parsed() {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{FILE}: {e:#}"));
                return None;
            }
        };
        let (link, anchor, next) = match &prev {
            None => (GENESIS, GENESIS, 1),
            Some((p, r)) => (p.hash.as_str(), r.head.as_str(), r.last_run + 1),
        };
        if cp.prev_hash != link {
            problems.push(format!(
                "{FILE}: checkpoint {} links to {}, not to {link} (a checkpoint was dropped or altered)",
                cp.id, cp.prev_hash
            ));
        }
        if rec.anchor != anchor || rec.first_run > next {
            problems.push(format!(
                "{FILE}: checkpoint {} prunes runs {}-{} from {}, which does not follow what the checkpoint before it pruned (runs before {next}, ending at {anchor})",
                cp.id, rec.first_run, rec.last_run, rec.anchor
            ));
        }
        pruned += rec.runs;
        first.get_or_insert(rec.first_run);
        prev = Some((cp, rec));
    }
    let (cp, last) = prev?;
    let (id, prev_hash) = first_run?;
    if id != last.last_run + 1 {
        return None;
    }
    if prev_hash != last.head {
        problems.push(format!(
            "run {id} links to {prev_hash}, but checkpoint {} says the runs pruned before it end at {} (a run was dropped or altered)",
            cp.id, last.head
        ));
        return None;
    }
    Some((pruned, first?, last.last_run))
}
