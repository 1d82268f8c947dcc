//! Counting the records of delimited text without parsing it.
//!
//! A CSV or NDJSON block's row count is the number of record ends it holds: end-of-line
//! bytes outside quoted fields, plus one for a last record without a line end. This is
//! what `len()` of a text source needs, and it is a scan of the bytes at memory speed:
//! where the block holds no quote byte at all (the usual case, found with one
//! `memchr`), the line ends are found with `memchr` too; otherwise a quote-aware
//! loop keeps the parity of the quotes seen.
//!
//! ```
//! use brisk_io::records::count_records;
//! assert_eq!(count_records(b"a,b\n1,2\n3,4", b'\n', Some(b'"')), 3);
//! assert_eq!(count_records(b"x\n\"two\nlines\"\n", b'\n', Some(b'"')), 2);
//! assert_eq!(count_records(b"", b'\n', Some(b'"')), 0);
//! ```

/// Records in `bytes`: `eol` bytes outside `quote`d fields, plus one when the last
/// record has no `eol` (an empty input has none). `quote` `None` counts every `eol`.
pub fn count_records(bytes: &[u8], eol: u8, quote: Option<u8>) -> usize {
    let Some(&last) = bytes.last() else {
        return 0;
    };
    let (ends, inside_at_end) = match quote {
        Some(q) if memchr::memchr(q, bytes).is_some() => count_outside_quotes(bytes, eol, q),
        _ => (memchr::memchr_iter(eol, bytes).count(), false),
    };
    // A final eol inside an open quote does not end the last record.
    let ended = last == eol && !inside_at_end;
    ends + usize::from(!ended)
}

/// `eol` bytes with an even number of `quote` bytes before them, and whether the
/// input ends inside a quoted field.
fn count_outside_quotes(bytes: &[u8], eol: u8, quote: u8) -> (usize, bool) {
    let mut inside = false;
    let mut n = 0usize;
    for &b in bytes {
        inside ^= b == quote;
        n += usize::from(b == eol && !inside);
    }
    (n, inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(bytes: &[u8]) -> usize {
        let mut inside = false;
        let mut n = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'"' {
                inside = !inside;
            }
            if b == b'\n' && !inside {
                n += 1;
            } else if i + 1 == bytes.len() {
                n += 1;
            }
        }
        n
    }

    #[test]
    fn agrees_with_a_byte_at_a_time_count() {
        let mut text = Vec::new();
        for i in 0..20_000u32 {
            text.extend_from_slice(format!("{i},{}\n", "x".repeat((i % 97) as usize)).as_bytes());
            if i % 1_000 == 0 {
                text.extend_from_slice(b"\"quoted\nfield\",1\n\n");
            }
        }
        for cut in [
            0,
            1,
            2,
            31,
            32,
            33,
            8_160,
            8_161,
            text.len() / 2,
            text.len(),
        ] {
            let part = &text[..cut];
            assert_eq!(
                count_records(part, b'\n', Some(b'"')),
                naive(part),
                "cut {cut}"
            );
        }
        let plain: Vec<u8> = text.iter().copied().filter(|&b| b != b'"').collect();
        assert_eq!(count_records(&plain, b'\n', Some(b'"')), naive(&plain));
        assert_eq!(count_records(&plain, b'\n', None), naive(&plain));
    }

    #[test]
    fn a_last_line_end_inside_quotes_is_not_a_record_end() {
        assert_eq!(count_records(b"a\n\"open\n", b'\n', Some(b'"')), 2);
        assert_eq!(count_records(b"a\n\"open\n", b'\n', None), 2);
        assert_eq!(count_records(b"\n", b'\n', Some(b'"')), 1);
    }
}
