//! Where the records of a CSV block are, without parsing them: the preamble a
//! file's first block starts with (skipped lines and the header), the starts of the
//! records (line ends outside double quotes), the fields of one record, and the
//! most fields any record has.
//!
//! These only find boundaries; whether a record's values parse is always decided by
//! the reader itself (see `diagnose.rs`).

/// The bytes that the first `lines` non-blank records of a file take, from its
/// first bytes: at least the skipped lines and the header, whichever way blank lines
/// count and whether a line end inside quotes ends a skipped line (here it does
/// not). `u64::MAX` (the whole file) when the sample holds fewer.
pub(crate) fn preamble_bytes(head: &[u8], lines: usize) -> u64 {
    if lines == 0 {
        return 0;
    }
    let (mut seen, mut quoted, mut blank) = (0, false, true);
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                if !blank {
                    seen += 1;
                    if seen == lines {
                        return i as u64 + 1;
                    }
                }
                blank = true;
                continue;
            }
            _ => {}
        }
        if b != b'\r' {
            blank = false;
        }
    }
    u64::MAX
}

/// Where each record of `body` starts, in order, followed by `body.len()`: a record
/// ends at a line end outside double quotes (`""` inside quotes toggles twice, so
/// it needs no special case).
pub(crate) fn record_bounds(body: &[u8]) -> Vec<usize> {
    let mut bounds = vec![0];
    if memchr::memchr(b'"', body).is_none() {
        bounds.extend(memchr::memchr_iter(b'\n', body).map(|p| p + 1));
    } else {
        let mut quoted = false;
        for (i, &b) in body.iter().enumerate() {
            quoted ^= b == b'"';
            if b == b'\n' && !quoted {
                bounds.push(i + 1);
            }
        }
    }
    if bounds.last() != Some(&body.len()) {
        bounds.push(body.len());
    }
    bounds
}

/// The fields of one record (without its line end), unquoted: double quotes group,
/// `""` inside them is one quote.
pub(crate) fn split_fields(record: &[u8], sep: u8) -> Vec<String> {
    let record = record.strip_suffix(b"\n").unwrap_or(record);
    let record = record.strip_suffix(b"\r").unwrap_or(record);
    let mut fields = Vec::new();
    let mut current = Vec::new();
    let mut quoted = false;
    let mut bytes = record.iter().peekable();
    while let Some(&b) = bytes.next() {
        match b {
            b'"' if quoted && bytes.peek() == Some(&&b'"') => {
                current.push(b'"');
                bytes.next();
            }
            b'"' => quoted = !quoted,
            b if b == sep && !quoted => {
                fields.push(String::from_utf8_lossy(&current).into_owned());
                current.clear();
            }
            b => current.push(b),
        }
    }
    fields.push(String::from_utf8_lossy(&current).into_owned());
    fields
}

/// Whether some record of `body` has more than `columns` fields (separators
/// outside double quotes, plus one). Cheap: a quote-free body is scanned a word at a
/// time by [`csv_scan::most_fields`](crate::dataframe::csv_scan::most_fields).
pub(crate) fn has_extra_fields(body: &[u8], sep: u8, columns: usize) -> bool {
    if memchr::memchr(b'"', body).is_none() {
        return crate::dataframe::csv_scan::most_fields(body, sep) > columns;
    }
    let (mut quoted, mut fields) = (false, 1);
    for &b in body {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if b == sep {
                fields += 1;
                if fields > columns {
                    return true;
                }
            } else if b == b'\n' {
                fields = 1;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_end_at_line_ends_outside_quotes() {
        assert_eq!(record_bounds(b"a,b\n1,2\n"), [0, 4, 8]);
        assert_eq!(record_bounds(b"a,b\n1,2"), [0, 4, 7]);
        assert_eq!(record_bounds(b"1,\"x\ny\"\n2,z\n"), [0, 8, 12]);
        assert_eq!(record_bounds(b""), [0]);
    }

    #[test]
    fn fields_are_unquoted() {
        assert_eq!(
            split_fields(b"1,\"a,b\",\"say \"\"hi\"\"\"\r\n", b','),
            ["1", "a,b", "say \"hi\""]
        );
    }

    #[test]
    fn extra_fields_are_found_with_and_without_quotes() {
        assert!(!has_extra_fields(b"1,2,3\n4,5\n\n6,7,8", b',', 3));
        assert!(has_extra_fields(b"1,2,3\n4,5,6,7\n", b',', 3));
        assert!(!has_extra_fields(b"1,\"a,b\",3\n", b',', 3));
        assert!(has_extra_fields(b"1,\"a\nb\",3,4\n", b',', 3));
        assert!(has_extra_fields(b"1;2;3\n", b';', 2));
    }

    #[test]
    fn the_preamble_is_the_skipped_lines_and_the_header() {
        assert_eq!(preamble_bytes(b"# c\nx,y\n1,2\n", 2), 8);
        assert_eq!(preamble_bytes(b"x,y\n", 0), 0);
        assert_eq!(preamble_bytes(b"x,y", 1), u64::MAX);
    }
}
