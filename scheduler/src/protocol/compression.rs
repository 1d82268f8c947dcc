//! LZ4 for large frames, decided from a sample.

/// Frames smaller than this are never compressed.
pub(crate) const MIN_COMPRESS: usize = 64 * 1024;
/// Bytes taken (from four places) to decide whether a frame compresses.
const SAMPLE: usize = 16 * 1024;

/// The frame compressed, when a sample of it compresses to under 80 % and the whole
/// to under 90 %; `None` otherwise (send it raw).
pub(crate) fn maybe_compress(frame: &[u8]) -> Option<Vec<u8>> {
    if frame.len() < MIN_COMPRESS || frame.len() > u32::MAX as usize {
        return None;
    }
    let step = frame.len() / 4;
    let quarter = SAMPLE / 4;
    let mut sample = Vec::with_capacity(SAMPLE);
    for i in 0..4 {
        sample.extend_from_slice(&frame[i * step..i * step + quarter]);
    }
    let c = lz4_flex::block::compress(&sample);
    if c.len() * 10 > sample.len() * 8 {
        return None;
    }
    let whole = lz4_flex::block::compress(frame);
    (whole.len() * 10 < frame.len() * 9).then_some(whole)
}

/// Decompresses exactly `raw_len` bytes (checked against the limits by the caller).
pub(crate) fn decompress(wire: &[u8], raw_len: usize) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; raw_len];
    match lz4_flex::block::decompress_into(wire, &mut out) {
        Ok(n) if n == raw_len => Ok(out),
        Ok(n) => Err(format!(
            "an LZ4 frame gave {n} bytes, not the {raw_len} announced"
        )),
        Err(e) => Err(format!("an LZ4 frame is corrupt: {e}")),
    }
}
