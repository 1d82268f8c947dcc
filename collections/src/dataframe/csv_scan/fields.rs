//! The most fields any record of a quote-free block has, counted a word at a time:
//! what a row count or a read of a few columns checks so that a record with too
//! many fields is an error there as it is when every column is read.

use super::structure::Structure;

/// The most fields (separators plus one) of any record of `body`, which holds no
/// quote byte; 0 for an empty body.
pub(crate) fn most_fields(body: &[u8], sep: u8) -> usize {
    if matches!(sep, 0 | b'\n') {
        // A zero separator would match the scanner's padding past the end.
        return body
            .split(|&b| b == b'\n')
            .map(|line| line.iter().filter(|&&b| b == sep).count() + 1)
            .max()
            .unwrap_or(0);
    }
    let mut lines = Structure::new(body, sep);
    let (mut start, mut most) = (0, 0);
    while start < body.len() {
        let (separators, end) = lines.line_end();
        most = most.max(separators + 1);
        start = end + 1;
    }
    most
}

#[cfg(test)]
mod tests {
    use super::most_fields;

    #[test]
    fn the_widest_record_is_counted_across_windows() {
        assert_eq!(most_fields(b"", b','), 0);
        assert_eq!(most_fields(b"1,2\n3,4,5\n6", b','), 3);
        let mut long = "1,2,3\n".repeat(40);
        long.push_str(&format!("{},9\n", "x".repeat(100)));
        long.push_str(&"1,2\n".repeat(30));
        assert_eq!(most_fields(long.as_bytes(), b','), 3);
        long.push_str(&",".repeat(70));
        assert_eq!(most_fields(long.as_bytes(), b','), 71);
    }
}
