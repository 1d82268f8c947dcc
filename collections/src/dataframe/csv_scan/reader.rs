//! Reading one block: which fields fill which projected columns, and the walk over
//! its records, field by field.

use super::columns::{Buffer, Column};
use super::structure::Structure;
use polars::prelude as pl;

/// What a block reader needs to know about the file's columns.
pub(crate) struct Layout<'a> {
    /// Every column of the file, in order, with its type.
    pub schema: &'a [(String, pl::DataType)],
    /// The columns to read, in file order.
    pub projection: &'a [pl::PlSmallStr],
    /// Columns held as text and parsed as datetimes.
    pub dates: &'a [String],
    pub separator: u8,
    /// Whether the block's first line is a header to skip.
    pub header: bool,
    /// Lines to skip before the header (this reader declines blocks with any).
    pub skip_rows: usize,
    /// Field texts read as null (besides the empty field).
    pub null_values: &'a [String],
}

/// The block as a frame of the projected columns, or `None` when it needs Polars'
/// general reader.
pub(crate) fn read(bytes: &[u8], layout: &Layout<'_>) -> Option<pl::DataFrame> {
    let sep = layout.separator;
    // A zero separator would match the padding past the end of the block.
    if matches!(sep, 0 | b'"' | b'\n' | b'\r') || layout.schema.len() < 2 || layout.skip_rows > 0 {
        return None;
    }
    if memchr::memchr(b'"', bytes).is_some() {
        return None;
    }
    let mut body = bytes;
    if layout.header {
        // Polars drops blank lines before a header; such blocks go to Polars.
        if matches!(body.first(), Some(b'\n' | b'\r')) {
            return None;
        }
        body = match memchr::memchr(b'\n', body) {
            Some(p) => &body[p + 1..],
            None => &[],
        };
    }
    // Which column each field fills (`slots[field]`), and the columns.
    let mut slots: Vec<Option<usize>> = vec![None; layout.schema.len()];
    let mut columns = Vec::with_capacity(layout.projection.len());
    let rows_guess = body.len() / 64 + 1;
    for name in layout.projection {
        let field = layout.schema.iter().position(|(n, _)| n == name.as_str())?;
        let buffer = if layout.dates.iter().any(|d| d == name.as_str()) {
            Buffer::Datetime(Vec::with_capacity(rows_guess))
        } else {
            match layout.schema[field].1 {
                pl::DataType::Int64 => Buffer::Int(Vec::with_capacity(rows_guess)),
                pl::DataType::Float64 => Buffer::Float(Vec::with_capacity(rows_guess)),
                pl::DataType::String => Buffer::Text(Vec::with_capacity(rows_guess)),
                _ => return None,
            }
        };
        slots[field] = Some(columns.len());
        columns.push(Column {
            name: name.clone(),
            buffer,
            nulls: Vec::new(),
        });
    }
    let rows = scan(body, sep, &slots, &mut columns, layout.null_values)?;
    let out: Vec<pl::Column> = columns.into_iter().map(|c| c.finish(rows)).collect();
    pl::DataFrame::new(rows, out).ok()
}

/// Walks the records of `body`, filling the projected columns; the number of records,
/// or `None` at the first thing this reader does not handle.
///
/// Fields before, between and after the projected ones are skipped by counting
/// separators in whole 64-byte windows where possible; every record must still have
/// exactly one field per column.
fn scan<'b>(
    body: &'b [u8],
    sep: u8,
    slots: &[Option<usize>],
    columns: &mut [Column<'b>],
    null_values: &[String],
) -> Option<usize> {
    let last = slots.len() - 1;
    let projected: Vec<(usize, usize)> = slots
        .iter()
        .enumerate()
        .filter_map(|(field, slot)| slot.map(|index| (field, index)))
        .collect();
    let mut ends = Structure::new(body, sep);
    let mut start = 0;
    let mut rows = 0;
    while start < body.len() {
        // The field that starts at `start`.
        let mut field = 0;
        for &(wanted, index) in &projected {
            if wanted > field {
                start = ends.skip_separators(wanted - field)? + 1;
            }
            let end = ends.next_end();
            let line_ends = end == body.len() || body[end] == b'\n';
            if line_ends != (wanted == last) {
                return None;
            }
            let mut text = body.get(start..end)?;
            if wanted == last {
                if let [head @ .., b'\r'] = text {
                    text = head;
                }
            }
            columns[index].push(text, rows, null_values)?;
            start = end + 1;
            field = wanted + 1;
        }
        if field <= last {
            let (separators, end) = ends.line_end();
            if separators != last - field {
                return None;
            }
            start = end + 1;
        }
        rows += 1;
    }
    Some(rows)
}
