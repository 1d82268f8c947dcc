//! The word-at-a-time scanner: the positions of a block's separators and line ends
//! as bit masks of 64-byte windows, eight bytes per word operation.

/// The positions of separators and line ends in a block, in order, found 64 bytes
/// at a time.
pub(super) struct Structure<'b> {
    bytes: &'b [u8],
    sep: u8,
    /// Where the current 64-byte window starts.
    base: usize,
    /// Bits of the structural bytes of the window not yet consumed.
    mask: u64,
    /// Bits of the window's line ends (consumed or not).
    lines: u64,
}

impl<'b> Structure<'b> {
    pub(super) fn new(bytes: &'b [u8], sep: u8) -> Self {
        let mut s = Structure {
            bytes,
            sep,
            base: 0,
            mask: 0,
            lines: 0,
        };
        s.load();
        s
    }

    /// Reads the masks of the window at `base` (bytes past the end count as neither).
    #[inline]
    fn load(&mut self) {
        let rest = self.bytes.get(self.base..).unwrap_or(&[]);
        let mut padded = [0u8; 64];
        let chunk = match rest.first_chunk::<64>() {
            Some(chunk) => chunk,
            None => {
                // Zero bytes are neither separator nor line end (the separator is not 0).
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        self.lines = mask64(chunk, b'\n');
        self.mask = mask64(chunk, self.sep) | self.lines;
    }

    /// Moves to the next window; false past the end.
    #[inline]
    fn advance(&mut self) -> bool {
        if self.base >= self.bytes.len() {
            return false;
        }
        self.base += 64;
        self.load();
        true
    }

    /// The position of the next separator or line end (`bytes.len()` when none is left).
    #[inline]
    pub(super) fn next_end(&mut self) -> usize {
        while self.mask == 0 {
            if !self.advance() {
                return self.bytes.len();
            }
        }
        let bit = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        self.base + bit
    }

    /// Consumes the next `n` (at least 1) structural bytes, which must all be
    /// separators; the position of the last, or `None` when a line or the data ends
    /// first.
    #[inline]
    pub(super) fn skip_separators(&mut self, mut n: usize) -> Option<usize> {
        loop {
            let available = self.mask.count_ones() as usize;
            if available < n {
                if self.mask & self.lines != 0 {
                    return None;
                }
                n -= available;
                self.mask = 0;
                if !self.advance() {
                    return None;
                }
                continue;
            }
            // The n-th remaining bit of this window.
            let mut m = self.mask;
            for _ in 1..n {
                m &= m - 1;
            }
            let bit = m.trailing_zeros();
            let taken = through(bit);
            if self.mask & self.lines & taken != 0 {
                return None;
            }
            self.mask &= !taken;
            return Some(self.base + bit as usize);
        }
    }

    /// Consumes everything up to and including the next line end: the number of
    /// separators before it and its position (`bytes.len()` when the data ends first).
    #[inline]
    pub(super) fn line_end(&mut self) -> (usize, usize) {
        let mut separators = 0;
        loop {
            let pending = self.mask & self.lines;
            if pending != 0 {
                let bit = pending.trailing_zeros();
                let before = (1u64 << bit) - 1;
                separators += (self.mask & before).count_ones() as usize;
                self.mask &= !through(bit);
                return (separators, self.base + bit as usize);
            }
            separators += self.mask.count_ones() as usize;
            self.mask = 0;
            if !self.advance() {
                return (separators, self.bytes.len());
            }
        }
    }
}

/// Bits `0..=bit`.
#[inline]
fn through(bit: u32) -> u64 {
    u64::MAX >> (63 - bit)
}

/// Bit `i` is set when `chunk[i]` is `byte`: eight bytes at a time as one word (a
/// plain loop over the bytes compiles to shuffles and shifts, five times slower).
#[inline]
pub(super) fn mask64(chunk: &[u8; 64], byte: u8) -> u64 {
    let pattern = u64::from(byte) * 0x0101_0101_0101_0101;
    let mut m = 0u64;
    for (k, word) in chunk.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        m |= matches8(u64::from_le_bytes(w) ^ pattern) << (8 * k);
    }
    m
}

/// Bit `i` is set when byte `i` of `x` is zero. The high bit of a byte survives
/// `(low seven bits + 0x7f) | byte` exactly when the byte is not zero, with no carry
/// into the next byte; the multiplication gathers the eight flags into one byte.
#[inline]
fn matches8(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let zero = !(((x & LOW7).wrapping_add(LOW7)) | x) & !LOW7;
    (zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}
