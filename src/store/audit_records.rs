//! The records audit logs delivered, kept many to a compressed block (migration 9): a bulk
//! load of events never reads them, and what repeats from one record to the next (field
//! names, the account, the role, the user agent) is kept once per block.

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use netdrift_snapshots::Record;

/// A block is written when it holds this many records or this many bytes of them.
const BLOCK_RECORDS: u32 = 512;
const BLOCK_BYTES: usize = 512 * 1024;

/// Gathers the records of the events one transaction stores into blocks.
pub(super) struct BlockWriter {
    /// The id the block being filled will have.
    id: i64,
    count: u32,
    buf: Vec<u8>,
}

impl BlockWriter {
    pub(super) fn new(tx: &Transaction<'_>) -> Result<BlockWriter> {
        let id: i64 = tx.query_row(
            "SELECT coalesce(max(id), 0) + 1 FROM audit_records",
            [],
            |r| r.get(0),
        )?;
        Ok(BlockWriter {
            id,
            count: 0,
            buf: Vec::new(),
        })
    }

    /// Where the next record will be: (block, entry).
    pub(super) fn next_place(&self) -> (i64, u32) {
        (self.id, self.count)
    }

    /// Keep a record at `next_place()`.
    pub(super) fn push(&mut self, tx: &Transaction<'_>, record: &Record) -> Result<()> {
        let text = record.text().as_bytes();
        self.buf
            .extend_from_slice(&u32::try_from(text.len())?.to_le_bytes());
        self.buf.extend_from_slice(text);
        self.count += 1;
        if self.count >= BLOCK_RECORDS || self.buf.len() >= BLOCK_BYTES {
            self.flush(tx)?;
        }
        Ok(())
    }

    /// Write the block being filled, if it holds any record.
    pub(super) fn flush(&mut self, tx: &Transaction<'_>) -> Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        tx.prepare_cached("INSERT INTO audit_records (id, codec, data) VALUES (?1, 'lz4', ?2)")?
            .execute(params![self.id, lz4_flex::compress_prepend_size(&self.buf)])?;
        self.id += 1;
        self.count = 0;
        self.buf.clear();
        Ok(())
    }
}

/// Record `at` of block `block`.
pub(super) fn read(conn: &Connection, block: i64, at: u32) -> Result<Record> {
    let row: Option<(String, Vec<u8>)> = conn
        .prepare_cached("SELECT codec, data FROM audit_records WHERE id = ?1")?
        // 'json' blocks moved by the migration hold text; written blocks hold a blob.
        .query_row([block], |r| {
            Ok((r.get(0)?, r.get_ref(1)?.as_bytes()?.to_vec()))
        })
        .optional()?;
    let Some((codec, data)) = row else {
        bail!("audit record block {block} is missing");
    };
    let text = match codec.as_str() {
        "json" if at == 0 => data,
        "lz4" => {
            let all = lz4_flex::decompress_size_prepended(&data)
                .with_context(|| format!("audit record block {block} does not decompress"))?;
            entry(&all, at)
                .with_context(|| format!("audit record block {block} has no entry {at}"))?
        }
        other => bail!("audit record block {block}: unknown codec {other:?} or entry {at}"),
    };
    Record::from_text(std::str::from_utf8(&text)?)
        .with_context(|| format!("audit record {at} of block {block} is not JSON"))
}

/// Entry `at` of a decompressed block.
fn entry(all: &[u8], at: u32) -> Option<Vec<u8>> {
    let mut rest = all;
    for i in 0..=at {
        let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let text = rest.get(4..4 + len)?;
        if i == at {
            return Some(text.to_vec());
        }
        rest = &rest[4 + len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_of_a_block_in_order_and_none_past_the_end() {
        let mut b = Vec::new();
        for t in ["{\"a\":1}", "[]", "{\"b\":\"x\"}"] {
            b.extend_from_slice(&(t.len() as u32).to_le_bytes());
            b.extend_from_slice(t.as_bytes());
        }
        assert_eq!(entry(&b, 0).unwrap(), b"{\"a\":1}");
        assert_eq!(entry(&b, 2).unwrap(), b"{\"b\":\"x\"}");
        assert_eq!(entry(&b, 3), None);
        assert_eq!(entry(&b[..b.len() - 1], 2), None, "a cut block");
    }
}
