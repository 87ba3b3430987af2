//! One line per drift item, shared by the table tests.

use netdrift_snapshots::ResourceDiff;

/// One line per drift item: "effect change direction entries".
pub fn lines(d: &[ResourceDiff]) -> Vec<String> {
    let mut v: Vec<String> = d
        .iter()
        .map(|x| {
            let allowed: Vec<String> = x.allowed_entries().iter().map(|e| e.to_string()).collect();
            let denied: Vec<String> = x.denied_entries().iter().map(|e| e.to_string()).collect();
            format!(
                "{:?} {:?} {} +[{}] -[{}]{}",
                x.effect,
                x.change,
                x.direction.as_str(),
                allowed.join("; "),
                denied.join("; "),
                if x.world { " world" } else { "" }
            )
            .to_lowercase()
        })
        .collect();
    v.sort();
    v
}
