//! A CSV block reader for the common case: no quotes, and only 64-bit integer, float,
//! string and datetime columns.
//!
//! Such a block needs no quote-aware tokenizer: fields end at the separator and
//! records at `\n`. The reader finds both as bit masks of 64-byte windows (eight
//! bytes per word operation), walks the set bits of the projected fields, counts the
//! separators of the others with popcounts (so a record with the wrong number of
//! fields is still seen), and parses the projected fields straight into column
//! buffers (datetimes straight to microseconds, with no string column in between).
//! Anything it does not handle exactly as Polars does (a quote, a ragged line, a
//! value it does not recognise, rows to skip, another type) makes it return `None`,
//! and the block is read by Polars' reader, whose result or error is the reference:
//! this reader is only a faster way to the same frame, which the tests check
//! against Polars on generated blocks.
//!
//! ```ignore
//! let frame = read(b"a,b\n1,2.5\n3,\n", &layout)?;   // Some(frame) or None
//! ```
//!
//! - `reader.rs`: [`Layout`] and [`read`], the walk over a block's records;
//! - `structure.rs`: the word-at-a-time scanner finding separators and line ends;
//! - `columns.rs`: the column builders and the integer / float parsers;
//! - `fields.rs`: the most fields of any record, for checks that read no column.

mod columns;
mod fields;
mod reader;
mod structure;
#[cfg(test)]
mod tests;

pub(crate) use fields::most_fields;
pub(crate) use reader::{read, Layout};
