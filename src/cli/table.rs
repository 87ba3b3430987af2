//! Tables for a terminal: fitted to its width (comfy-table wraps what does not fit), never cut
//! when the output is not a terminal (a pipe, a file: every cell whole, one line per row).
//!
//! The width is `COLUMNS` when set, else the terminal's. A column that names something long
//! (a resource id, a scope) is shortened in the middle, so the name and the end of the id stay;
//! the columns a person reads (what, who) wrap; the ones a person copies (an item id) are kept
//! whole.

use std::io::IsTerminal;

use comfy_table::{presets, ColumnConstraint, ContentArrangement, LineStyle, Table, Width};
use unicode_width::UnicodeWidthStr;

/// How a column gives way when the table is wider than the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Kept whole (an id to copy, a severity).
    Keep,
    /// Wrapped onto more lines.
    Wrap,
    /// Shortened in the middle to at most this share of the width (percent), keeping its end.
    Middle(u16),
}

/// A column: its header and how it fits.
pub type Col<'a> = (&'a str, Fit);

/// The width to fit: `COLUMNS`, else the terminal's when standard output is one, else none.
pub fn output_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| w.0 as usize)
}

/// Shorten `s` to `max` columns with one `…` in the middle, keeping a third from its start and
/// the rest from its end (where an id's name is).
pub fn middle(s: &str, max: usize) -> String {
    if s.width() <= max || max < 4 {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let head = (max - 1) / 3;
    let mut tail = max - 1 - head;
    // Wide characters: take from the end until the width is spent.
    let mut end = chars.len();
    let mut used = 0;
    while end > 0 {
        let w = unicode_width::UnicodeWidthChar::width(chars[end - 1]).unwrap_or(0);
        if used + w > tail {
            break;
        }
        used += w;
        end -= 1;
    }
    tail = used;
    let mut start = 0;
    let mut hw = 0;
    while start < end {
        let w = unicode_width::UnicodeWidthChar::width(chars[start]).unwrap_or(0);
        if hw + w + tail + 1 > max {
            break;
        }
        hw += w;
        start += 1;
    }
    let mut out: String = chars[..start].iter().collect();
    out.push('…');
    out.extend(&chars[end..]);
    out
}

/// A table with every column wrapped when needed (see [`fitted`]).
/// Cells are untrusted text, one line each: a newline in one is escaped, never a row's break.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let cols: Vec<Col> = headers.iter().map(|h| (*h, Fit::Wrap)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::text::terminal(c).into_owned())
                .collect()
        })
        .collect();
    fitted(&cols, &rows, output_width(), false)
}

/// The columns between cells.
const GAP: usize = 2;

/// Each column's width with nothing wrapped or shortened (a cell's widest line).
fn natural(cols: &[Col], rows: &[Vec<String>]) -> Vec<usize> {
    cols.iter()
        .enumerate()
        .map(|(i, (h, _))| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .flat_map(|c| c.lines())
                .map(|l| crate::text::terminal(l).width())
                .chain([h.width()])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// The table's width with nothing wrapped or shortened.
pub fn natural_width(cols: &[Col], rows: &[Vec<String>]) -> usize {
    natural(cols, rows).iter().sum::<usize>() + GAP * cols.len().saturating_sub(1)
}

/// Each column's width in a table `w` wide: a kept column its natural width, a middle one its
/// share (never more than it needs), and the wrapped ones the rest, shared out evenly (a column
/// that needs less than its share gives the remainder to the others).
fn allocate(cols: &[Col], natural: &[usize], longest_word: &[usize], w: usize) -> Vec<usize> {
    let mut widths = vec![0; cols.len()];
    let mut left = w.saturating_sub(GAP * cols.len().saturating_sub(1));
    for (i, (h, fit)) in cols.iter().enumerate() {
        widths[i] = match fit {
            Fit::Keep => natural[i],
            Fit::Middle(pct) => natural[i].min((w * *pct as usize / 100).max(h.width()).max(12)),
            Fit::Wrap => continue,
        };
        left = left.saturating_sub(widths[i]);
    }
    let mut wrap: Vec<usize> = (0..cols.len())
        .filter(|i| cols[*i].1 == Fit::Wrap)
        .collect();
    wrap.sort_by_key(|i| natural[*i]);
    // A wrapped column is at least as wide as its longest word (up to 32), so that an event
    // name or an address is not broken in two; what that costs comes out of the others' share.
    let mut owed: usize = wrap.iter().map(|i| longest_word[*i]).sum();
    let mut n = wrap.len();
    for i in wrap {
        owed -= longest_word[i];
        let fair = (left / n.max(1))
            .min(left.saturating_sub(owed))
            .max(longest_word[i])
            .max(cols[i].0.width())
            .max(6);
        widths[i] = natural[i].min(fair);
        left = left.saturating_sub(widths[i]);
        n -= 1;
    }
    widths
}

/// Each column's longest word (up to 32 columns): the width below which wrapping breaks words.
fn longest_words(rows: &[Vec<String>], n: usize) -> Vec<usize> {
    (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .flat_map(|c| c.split_whitespace())
                .map(|w| w.width().min(32))
                .max()
                .unwrap_or(0)
        })
        .collect()
}

/// Render `rows` under `cols` for a terminal `width` columns wide (`None`: no limit), a blank
/// line between rows when `spaced`. A newline in a cell is a line break the caller meant:
/// untrusted text is escaped ([`crate::text::terminal`]) before it is put in a cell, and any
/// other control character left is escaped here.
pub fn fitted(cols: &[Col], rows: &[Vec<String>], width: Option<usize>, spaced: bool) -> String {
    let natural = natural(cols, rows);
    let total = natural.iter().sum::<usize>() + GAP * cols.len().saturating_sub(1);
    let widths = width
        .filter(|w| total > *w)
        .map(|w| allocate(cols, &natural, &longest_words(rows, cols.len()), w));
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| {
                    c.lines()
                        .map(|l| {
                            let l = crate::text::terminal(l);
                            match (cols[i].1, &widths) {
                                (Fit::Middle(_), Some(w)) => middle(&l, w[i]),
                                _ => l.into_owned(),
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .collect()
        })
        .collect();
    let mut t = Table::new();
    t.load_style(if spaced {
        presets::NOTHING.row_separator(LineStyle::none().fill(' '))
    } else {
        presets::NOTHING
    });
    t.set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(cols.iter().map(|(h, _)| h.to_string()).collect::<Vec<_>>());
    for r in rows {
        t.add_row(r);
    }
    let last = cols.len().saturating_sub(1);
    for (i, col) in t.column_iter_mut().enumerate() {
        let pad = if i == last { 0 } else { GAP };
        col.set_padding((0, pad as u16));
        let w = widths.as_ref().map_or(natural[i], |w| w[i]) + pad;
        col.set_constraint(ColumnConstraint::Absolute(Width::Fixed(
            w.min(u16::MAX as usize) as u16,
        )));
    }
    let mut out = t.trim_fmt();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_keeps_the_end_of_an_id() {
        for (s, max, want) in [
            ("sg-0a1b2c3d4e5f60001 (web-prod)", 40, "sg-0a1b2c3d4e5f60001 (web-prod)"),
            ("sg-0a1b2c3d4e5f60001 (web-prod)", 22, "sg-0a1b…001 (web-prod)"),
            (
                "/subscriptions/0b1f6471/resourcegroups/prod-rg/providers/Microsoft.Network/networkSecurityGroups/app-nsg",
                30,
                "/subscrip…curityGroups/app-nsg",
            ),
            ("日本語のグループ名です", 9, "日…名です"),
        ] {
            let got = middle(s, max);
            assert_eq!(got, want, "{s} at {max}");
            assert!(got.width() <= max, "{got} is wider than {max}");
        }
    }
}
