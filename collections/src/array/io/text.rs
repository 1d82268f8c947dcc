//! Text in NetCDF files: what a variable holds (numbers, `char`s or, in NetCDF-4,
//! `string`s), and `char` arrays turned into strings as netCDF4-python's
//! `chartostring` does (the last axis is the string length; trailing NUL bytes are
//! padding).

/// What a variable's values are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VarKind {
    /// Integers or floats.
    Number,
    /// `char`: one byte of text per element.
    Char,
    /// `string` (NetCDF-4): one string per element.
    String,
    /// Anything else (compound, enum, vlen, opaque), named as the library gives it.
    Other(String),
}

impl VarKind {
    /// For messages: "numbers", "characters"...
    pub(crate) fn describe(&self) -> String {
        match self {
            VarKind::Number => "numbers".into(),
            VarKind::Char => "characters (char)".into(),
            VarKind::String => "strings (string)".into(),
            VarKind::Other(t) => format!("values of type {t}"),
        }
    }

    /// Whether the values are text.
    pub(crate) fn is_text(&self) -> bool {
        matches!(self, VarKind::Char | VarKind::String)
    }
}

/// The strings of a `char` array of `shape` whose bytes are `bytes` (C order): one
/// per position of the axes before the last, each the bytes along the last axis
/// without their trailing NULs, decoded as UTF-8. A 0-d `char` variable is one
/// string of one character. `Err` gives the flat position of a string that is not
/// UTF-8.
pub(crate) fn chars_to_strings(
    shape: &[usize],
    bytes: &[u8],
) -> Result<(Vec<usize>, Vec<String>), usize> {
    let (outer, len) = match shape.split_last() {
        Some((&len, outer)) => (outer.to_vec(), len),
        None => (Vec::new(), 1),
    };
    let count: usize = outer.iter().product();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let raw = bytes.get(i * len..(i + 1) * len).unwrap_or_default();
        let end = raw.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        let s = std::str::from_utf8(&raw[..end]).map_err(|_| i)?;
        out.push(s.to_string());
    }
    Ok((outer, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_nuls_are_padding_and_inner_ones_are_kept() {
        let (shape, s) = chars_to_strings(&[2, 2, 4], b"ind\0le\0\0a\0b\0\0\0\0\0").unwrap();
        assert_eq!(shape, [2, 2]);
        assert_eq!(s, ["ind", "le", "a\0b", ""]);
    }

    #[test]
    fn a_one_axis_char_variable_is_one_string_and_a_0d_one_a_character() {
        assert_eq!(
            chars_to_strings(&[3], b"abc").unwrap(),
            (vec![], vec!["abc".into()])
        );
        assert_eq!(
            chars_to_strings(&[], b"x").unwrap(),
            (vec![], vec!["x".into()])
        );
        // A string length of 0: empty strings.
        assert_eq!(
            chars_to_strings(&[2, 0], b"").unwrap(),
            (vec![2], vec![String::new(), String::new()])
        );
    }

    #[test]
    fn text_that_is_not_utf8_names_its_position() {
        assert_eq!(chars_to_strings(&[2, 2], b"ok\xff\xfe"), Err(1));
    }
}
