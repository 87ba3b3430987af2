//! The report's reach: the attack-surface section and each item's reach line.

use std::fmt::Write as _;

use super::h;
use crate::findings::DriftItem;

/// The attack-surface section: every internet-reachable workload, what is not assessed.
pub(super) fn surface(surface: Option<&crate::exposure::Surface>) -> String {
    let Some(sf) = surface else {
        return "<p class=\"mute\">The attack surface is shown in the report of a reconcile run (<code>netdrift exposure</code> lists it now).</p>\n".into();
    };
    let mut s = String::new();
    if sf.exposed.is_empty() {
        s += "<p>No workload is reachable from the internet in the scopes assessed.</p>\n";
    } else {
        s += "<table id=\"exposure\"><thead><tr><th>workload</th><th>address</th><th>open ports</th><th>opened by</th></tr></thead><tbody>\n";
        for r in &sf.exposed {
            let w = &r.entry.workload;
            let ports: Vec<String> = w
                .ports
                .iter()
                .map(|p| {
                    if r.sensitive.contains(p) {
                        format!("<b>{}</b>", h(p))
                    } else {
                        h(p)
                    }
                })
                .collect();
            let _ = writeln!(
                s,
                "<tr><td><code>{}</code>{}<div class=\"mute\">{}</div></td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
                h(&w.id),
                w.instance
                    .as_deref()
                    .map(|i| format!("<br>{}", h(i)))
                    .unwrap_or_default(),
                h(r.scope.as_str()),
                h(w.address.as_deref().unwrap_or("")),
                ports.join(", "),
                h(&r.entry.opened_by.join(", "))
            );
        }
        s += "</tbody></table>\n";
    }
    if !sf.not_assessed.is_empty() {
        s += "<p class=\"mute\">Not assessed:</p><ul class=\"mute\" id=\"not-assessed\">";
        for n in &sf.not_assessed {
            let _ = write!(s, "<li>{}: {}</li>", h(&n.scope), h(&n.why));
        }
        s += "</ul>\n";
    }
    s
}

/// What an item's newly allowed access reaches, with the exposed workloads.
pub(super) fn reach(i: &DriftItem) -> String {
    let Some(r) = i.reach else {
        return String::new();
    };
    let exposed: String = i
        .exposed
        .iter()
        .map(|e| {
            format!(
                "<li><code>{}</code>{} at <code>{}</code> on {}</li>",
                h(&e.id),
                e.instance
                    .as_deref()
                    .map(|x| format!(" ({})", h(x)))
                    .unwrap_or_default(),
                h(e.address.as_deref().unwrap_or("?")),
                h(&e.ports.join(", "))
            )
        })
        .collect();
    format!(
        "<div class=\"reach\">reach: <b>{}</b>{}</div>",
        r.as_str(),
        if exposed.is_empty() {
            String::new()
        } else {
            format!("<ul>{exposed}</ul>")
        }
    )
}
