//! The nightly report as one self-contained HTML file: inline CSS, the trend chart as inline SVG,
//! no script, font or network reference. A Content-Security-Policy forbids scripts outright, so
//! even a missed escape could not run code; every untrusted string is escaped anyway.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use netdrift_snapshots::Severity;

use super::{headline, is_sensitive, label, severity_counts, Context, TrendPoint};
use crate::findings::DriftItem;

mod reach;
use crate::store::ts;
use netdrift_snapshots::time::millis;

/// Escape text for HTML element content and quoted attribute values.
pub fn h(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{--crit:#8b0000;--high:#d9480f;--med:#b08900;--low:#2f6f9f;--info:#666;--ink:#1b1f23;--mute:#57606a;--line:#d0d7de}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);margin:0 auto;max-width:1200px;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.sub{color:var(--mute);margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:24px}.card span{color:var(--mute);font-size:12px}
.card.sev-critical,.card.sev-high,.card.sev-critical span,.card.sev-high span{color:#fff}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.sev{display:inline-block;border-radius:3px;color:#fff;font-weight:600;font-size:11px;padding:1px 6px;text-transform:uppercase}
.sev-critical{background:var(--crit)}.sev-high{background:var(--high)}.sev-medium{background:var(--med)}.sev-low{background:var(--low)}.sev-info{background:var(--info)}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.mute{color:var(--mute)}.gap{color:#b42318;font-weight:600}.why{font-size:12px;color:var(--mute)}
.reach{font-size:13px;margin-top:4px}.reach ul{margin:2px 0 0 0}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{border:1px solid var(--line);border-radius:6px;padding:8px}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
@media print{body{padding:0;max-width:none}h2{break-after:avoid}tr,.card,.chart{break-inside:avoid}th{background:#eee}}
"#;

/// Series colours of the trend chart: world-open, public, sensitive-port.
pub const SERIES: [(&str, &str); 3] = [
    ("world-open", "#c92a2a"),
    ("public", "#f08c00"),
    ("sensitive ports", "#7048e8"),
];

pub fn render(ctx: &Context<'_>) -> String {
    let r = ctx.report;
    let unapproved: Vec<&DriftItem> = r.drift.iter().filter(|i| i.is_unapproved()).collect();
    let counts = severity_counts(&r.drift);
    let n = |k: &str| counts.get(k).copied().unwrap_or(0);
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>netdrift report {}</title><style>{CSS}</style></head><body>\n",
        h(&ts(r.generated_at))
    );
    let _ = writeln!(
        s,
        "<h1>netdrift drift report</h1><p class=\"sub\">Generated {}{} &middot; schema {} &middot; netdrift {}</p>",
        h(&ts(r.generated_at)),
        ctx.run_id.map(|id| format!(" &middot; run {id}")).unwrap_or_default(),
        r.schema_version,
        env!("CARGO_PKG_VERSION")
    );

    // Headline numbers.
    let cards = [
        ("unapproved drift", unapproved.len(), ""),
        ("critical", n("critical"), "sev-critical"),
        ("high", n("high"), "sev-high"),
        (
            "world-open",
            unapproved.iter().filter(|i| i.world).count(),
            "",
        ),
        ("public", unapproved.iter().filter(|i| i.public).count(), ""),
        (
            "sensitive ports",
            unapproved.iter().filter(|i| is_sensitive(i)).count(),
            "",
        ),
        ("coverage gaps", r.coverage.len(), ""),
        ("exceptions expiring ≤14 d", ctx.expiring.len(), ""),
    ];
    s += "<div class=\"cards\" id=\"headline\">";
    for (label, value, class) in cards {
        let _ = write!(
            s,
            "<div class=\"card {class}\"><b>{value}</b><span>{}</span></div>",
            h(label)
        );
    }
    s += "</div>\n";

    // Trend chart.
    s += "<h2>Open exposure, last runs</h2>\n";
    s += &chart(ctx.trend);

    // Drift, riskiest first.
    s += "<h2>Drift, riskiest first</h2>\n";
    if r.drift.is_empty() {
        s += "<p>No drift from the approved baselines.</p>\n";
    } else {
        s += "<table id=\"drift\"><thead><tr><th>severity</th><th>resource</th><th>what changed</th><th>who, how, when</th></tr></thead><tbody>\n";
        for i in &r.drift {
            item_row(&mut s, i);
        }
        s += "</tbody></table>\n";
    }

    // The attack surface.
    s += "<h2>Internet-exposed workloads</h2>\n";
    s += &reach::surface(ctx.surface);

    // Coverage.
    s += "<h2>Coverage gaps</h2>\n";
    if r.coverage.is_empty() {
        s += "<p>Every configured scope was collected completely and has a baseline.</p>\n";
    } else {
        s += "<table id=\"coverage\"><thead><tr><th>finding</th><th>scope</th><th>what</th></tr></thead><tbody>\n";
        for c in &r.coverage {
            let problems: Vec<String> = c
                .problems
                .iter()
                .map(|p| format!("{}: {}", h(p.code.as_str()), h(&p.message)))
                .collect();
            let _ = writeln!(
                s,
                "<tr><td><code>{}</code></td><td>{} <span class=\"mute\">{}</span></td><td>{}{}</td></tr>",
                h(c.code.as_str()),
                h(c.subject.as_str()),
                h(c.provider.as_str()),
                h(&c.message),
                if problems.is_empty() {
                    String::new()
                } else {
                    format!("<div class=\"why\">{}</div>", problems.join("<br>"))
                }
            );
        }
        s += "</tbody></table>\n";
    }

    // The coverage matrix.
    if let Some(m) = ctx.matrix {
        s += &crate::report::matrix::html(m);
    }

    // Who changed the firewalls.
    if let Some(a) = ctx.actors {
        s += &actors(a);
    }

    // Exceptions expiring soon.
    s += "<h2>Exceptions expiring in the next 14 days</h2>\n";
    if ctx.expiring.is_empty() {
        s += "<p>None.</p>\n";
    } else {
        s += "<table id=\"expiring\"><thead><tr><th>#</th><th>expires</th><th>resource</th><th>owner</th><th>reason</th></tr></thead><tbody>\n";
        for e in ctx.expiring {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code> {} <span class=\"mute\">{}</span></td><td>{}</td><td>{}{}</td></tr>",
                e.id,
                h(&ts(e.expires_at)),
                h(&e.resource),
                h(&e.direction),
                h(&e.scope),
                h(&e.owner),
                h(&e.reason),
                e.ticket.as_deref().map(|t| format!(" <span class=\"mute\">({})</span>", h(t))).unwrap_or_default()
            );
        }
        s += "</tbody></table>\n";
    }

    // Since the previous report.
    s += "<h2>Since the previous report</h2>\n";
    match ctx.changes() {
        None => s += "<p>This is the first report.</p>\n",
        Some(ch) => {
            let _ = writeln!(
                s,
                "<p id=\"changes\">{} new item(s), {} no longer present, {} with a new severity.</p>",
                ch.new.len(),
                ch.gone.len(),
                ch.regraded.len()
            );
            if !(ch.new.is_empty() && ch.gone.is_empty() && ch.regraded.is_empty()) {
                s += "<table><thead><tr><th>change</th><th>severity</th><th>resource</th><th>what</th></tr></thead><tbody>\n";
                let mut row = |what: &str, sev: String, i: &DriftItem| {
                    let _ = writeln!(
                        s,
                        "<tr><td>{what}</td><td>{sev}</td><td><code>{}</code></td><td>{}</td></tr>",
                        h(&i.resource),
                        h(&headline(i))
                    );
                };
                for i in ch.new {
                    row("new", badge(i.severity), i);
                }
                for (old, i) in ch.regraded {
                    row(
                        "regraded",
                        format!("{} → {}", badge(old), badge(i.severity)),
                        i,
                    );
                }
                for i in ch.gone {
                    row("gone", badge(i.severity), i);
                }
                s += "</tbody></table>\n";
            }
        }
    }
    s += "<p class=\"mute\">Severity matrix: docs/severity.md. Drift JSON schema: docs/drift-schema.md.</p>\n</body></html>\n";
    s
}

fn badge(sev: Severity) -> String {
    format!("<span class=\"sev sev-{0}\">{0}</span>", sev.as_str())
}

fn item_row(s: &mut String, i: &DriftItem) {
    let name = i
        .resource_name
        .as_deref()
        .map(|n| format!("<br>{}", h(n)))
        .unwrap_or_default();
    let what = if i.newly_allowed.is_empty() && i.newly_denied.is_empty() {
        h(&i.notes.join("; "))
    } else {
        let mut w = String::new();
        if !i.newly_allowed.is_empty() {
            let _ = write!(
                w,
                "{} now allows:<ul>{}</ul>",
                i.direction.as_str(),
                i.newly_allowed
                    .iter()
                    .map(|e| format!("<li><code>{}</code></li>", h(&e.to_string())))
                    .collect::<String>()
            );
        }
        if !i.newly_denied.is_empty() {
            let _ = write!(
                w,
                "no longer allows:<ul>{}</ul>",
                i.newly_denied
                    .iter()
                    .map(|e| format!("<li><code>{}</code></li>", h(&e.to_string())))
                    .collect::<String>()
            );
        }
        w
    };
    let exception = i
        .exception
        .as_ref()
        .map(|e| {
            format!(
                "<div class=\"why\">{} by {} until {}: {}</div>",
                h(&e.label()),
                h(&e.owner),
                h(&ts(e.expires_at)),
                h(&e.reason)
            )
        })
        .unwrap_or_default();
    let next: String = super::next_commands(i)
        .iter()
        .map(|c| format!("<br><code>{}</code>", h(c)))
        .collect();
    let next = if next.is_empty() {
        next
    } else {
        format!("<div class=\"next\">next:{next}</div>")
    };
    let _ = writeln!(
        s,
        "<tr data-id=\"{}\"><td>{}{}</td><td><code>{}</code>{name}<div class=\"mute\">{} {} {}</div><div class=\"mute\">id <code>{}</code></div></td>\
         <td>{what}{}<div class=\"why\">{}</div>{exception}{next}</td><td>{}</td></tr>",
        h(&i.id),
        badge(i.severity),
        if i.exception.is_some() {
            "<br><span class=\"mute\">excepted</span>"
        } else {
            ""
        },
        h(&i.resource),
        h(i.provider.as_str()),
        h(&i.scope),
        h(&format!("{:?}/{:?}", i.change, i.effect).to_lowercase()),
        h(&i.id),
        reach::reach(i),
        h(&i.reasons.join("; ")),
        who(i)
    );
}

fn who(i: &DriftItem) -> String {
    let Some(a) = &i.attribution else {
        return "<span class=\"mute\">not attributed</span>".into();
    };
    if a.actors.is_empty() {
        return format!("<span class=\"mute\">unattributed: {}</span>", h(&a.reason));
    }
    let mut out = String::new();
    for x in &a.actors {
        let _ = write!(
            out,
            "<div><b>{}</b> <span class=\"mute\">({})</span>",
            h(x.principal.as_deref().unwrap_or("?")),
            h(&x.class)
        );
        if let Some(role) = &x.role {
            let _ = write!(out, "<br>role {}", h(role));
        }
        if !x.chain.is_empty() {
            let _ = write!(out, "<br>{}", h(&x.chain.join("; ")));
        }
        let _ = write!(
            out,
            "<br>{} at {}{}{}",
            h(&x.event_name),
            h(&millis(x.event_time)),
            x.source_ip
                .as_deref()
                .map(|ip| format!(" from {}", h(ip)))
                .unwrap_or_default(),
            x.tool
                .as_deref()
                .map(|t| format!(" with {}", h(t)))
                .unwrap_or_default()
        );
        let grade = label(x.grade);
        let _ = write!(out, " <span class=\"mute\">[{}]</span></div>", h(&grade));
    }
    if let Some(rec) = &a.change_record {
        let ticket = rec
            .get("ticket")
            .and_then(|t| t.as_str())
            .unwrap_or("change record");
        let _ = write!(out, "<div class=\"why\">inside {}</div>", h(ticket));
    }
    out
}

/// The trend chart: one panel per provider, three lines each, as inline SVG.
pub fn chart(points: &[TrendPoint]) -> String {
    let mut s = String::new();
    if points.is_empty() {
        return "<p>No runs yet.</p>\n".into();
    }
    let providers: BTreeSet<&str> = points
        .iter()
        .flat_map(|p| p.counts.keys().map(|k| k.as_str()))
        .collect();
    let providers: Vec<&str> = if providers.is_empty() {
        vec!["all providers"]
    } else {
        providers.into_iter().collect()
    };
    s += "<div class=\"legend\">";
    for (label, color) in SERIES {
        let _ = write!(
            s,
            "<span><i style=\"background:{color}\"></i>{label}</span>"
        );
    }
    let _ = writeln!(
        s,
        "<span class=\"mute\">{} run(s), {} to {}</span></div>",
        points.len(),
        h(&ts(points[0].finished_at)),
        h(&ts(points[points.len() - 1].finished_at))
    );
    s += "<div class=\"charts\" id=\"trend\">";
    let (w, ht, left, bottom, top, right) = (360.0f64, 170.0f64, 34.0, 22.0, 12.0, 10.0);
    for p in providers {
        let series: Vec<Vec<usize>> = (0..3)
            .map(|k| {
                points
                    .iter()
                    .map(|pt| pt.counts.get(p).map(|c| c[k]).unwrap_or(0))
                    .collect()
            })
            .collect();
        let max = series.iter().flatten().copied().max().unwrap_or(0).max(1);
        let x = |idx: usize| {
            if points.len() == 1 {
                left + (w - left - right) / 2.0
            } else {
                left + (w - left - right) * idx as f64 / (points.len() - 1) as f64
            }
        };
        let y = |v: usize| top + (ht - top - bottom) * (1.0 - v as f64 / max as f64);
        let _ = write!(
            s,
            "<div class=\"chart\"><div><b>{}</b></div><svg width=\"{w}\" height=\"{ht}\" viewBox=\"0 0 {w} {ht}\" role=\"img\" aria-label=\"open exposure trend for {}\">",
            h(p),
            h(p)
        );
        let _ = write!(
            s,
            "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#999\"/><line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
            ht - bottom,
            ht - bottom,
            w - right,
            ht - bottom
        );
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{max}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">0</text>",
            left - 4.0,
            top + 4.0,
            left - 4.0,
            ht - bottom
        );
        let _ = write!(
            s,
            "<text x=\"{left}\" y=\"{}\" font-size=\"10\">run {}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">run {}</text>",
            ht - 6.0,
            points[0].run_id,
            w - right,
            ht - 6.0,
            points[points.len() - 1].run_id
        );
        for (k, (label, color)) in SERIES.iter().enumerate() {
            let pts: Vec<String> = series[k]
                .iter()
                .enumerate()
                .map(|(idx, v)| format!("{:.1},{:.1}", x(idx), y(*v)))
                .collect();
            let _ = write!(
                s,
                "<polyline class=\"series\" data-series=\"{label}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{}\" points=\"{}\"/>",
                // Wider underneath: equal series stay visible where they overlap.
                [5.5, 3.5, 2.0][k],
                pts.join(" ")
            );
            for (idx, v) in series[k].iter().enumerate() {
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"><title>run {}: {v} {label}</title></circle>",
                    x(idx),
                    y(*v),
                    points[idx].run_id
                );
            }
        }
        s += "</svg></div>";
    }
    s += "</div>\n";
    s
}

/// The identities behind the period's firewall events, flags first.
fn actors(a: &crate::actors::Actors) -> String {
    let ts = netdrift_snapshots::time::secs;
    let mut s = format!(
        "<h2>Who changed the firewalls</h2>\n<p class=\"mute\">{} to {}, from the stored audit events (<code>netdrift actors</code>)</p>\n",
        h(&ts(a.from)),
        h(&ts(a.to))
    );
    if a.actors.is_empty() {
        s += "<p>No firewall change or attempt is in the stored audit logs for the period.</p>\n";
        return s;
    }
    s += "<table id=\"actors\"><thead><tr><th>identity</th><th>how</th><th>changes</th><th>failed</th><th>flags</th></tr></thead><tbody>\n";
    for r in &a.actors {
        let failed: Vec<String> = r.failed.iter().map(|(c, n)| format!("{n} {c}")).collect();
        let _ = writeln!(
            s,
            "<tr><td>{} <span class=\"mute\">{}</span></td><td>{}</td><td>{} on {} resource(s)</td><td>{}</td><td>{}</td></tr>",
            h(&r.principal),
            h(r.class),
            h(&r.authentication.join("; ")),
            r.changes,
            r.resources.len(),
            h(&failed.join(", ")),
            h(&r.flags.join(", "))
        );
    }
    s += "</tbody></table>\n";
    s
}
