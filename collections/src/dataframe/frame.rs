//! One DataFrame partition as a task value: a Polars `DataFrame`, sent between
//! processes as Arrow IPC; and partitions stacked back into one frame.

use crate::error;
use brisk_core::value::{Data, DecoderRegistration, Encoded, Value};
use brisk_core::{Error, Result};
use polars::prelude as pl;
use polars::prelude::{SerReader, SerWriter};
use std::sync::Arc;

/// The type tag of a partition.
pub const FRAME_TAG: &str = "dataframe";

/// A computed partition.
#[derive(Debug, Clone)]
pub struct Frame(pub pl::DataFrame);

impl Data for Frame {
    fn nbytes(&self) -> usize {
        self.0.estimated_size()
    }
    fn type_tag(&self) -> &'static str {
        FRAME_TAG
    }
    fn encode(&self) -> Result<Encoded> {
        let mut buf = Vec::new();
        let mut df = self.0.clone();
        pl::IpcWriter::new(&mut buf)
            .finish(&mut df)
            .map_err(|e| Error::Encode {
                type_tag: FRAME_TAG.into(),
                reason: e.to_string(),
            })?;
        Ok(Encoded {
            type_tag: FRAME_TAG.into(),
            header: Vec::new(),
            frames: vec![buf],
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Decodes a partition; malformed IPC bytes are an error (a panic inside the reader
/// is caught and reported as one too).
pub fn decode_frame(e: &Encoded) -> Result<Value> {
    let bad = |reason: String| Error::Decode {
        type_tag: FRAME_TAG.into(),
        reason,
    };
    let [bytes] = e.frames.as_slice() else {
        return Err(bad(format!("expected 1 frame, found {}", e.frames.len())));
    };
    let read = std::panic::catch_unwind(|| {
        pl::IpcReader::new(std::io::Cursor::new(bytes.as_slice())).finish()
    });
    match read {
        Ok(Ok(df)) => Ok(Arc::new(Frame(df))),
        Ok(Err(err)) => Err(bad(err.to_string())),
        Err(_) => Err(bad("the Arrow IPC bytes are malformed".into())),
    }
}

inventory::submit! {
    DecoderRegistration { type_tag: FRAME_TAG, decode: decode_frame }
}

/// The Polars frame of a task value.
pub(crate) fn frame(v: &Value) -> Result<&pl::DataFrame> {
    Ok(&v.expect_ref::<Frame>()?.0)
}

/// Frames stacked vertically, in order (none: `empty()`).
pub(crate) fn concat_frames<'a>(
    frames: impl IntoIterator<Item = Result<&'a pl::DataFrame>>,
    empty: impl FnOnce() -> pl::DataFrame,
) -> Result<pl::DataFrame> {
    let mut acc: Option<pl::DataFrame> = None;
    for f in frames {
        let f = f?;
        match &mut acc {
            None => acc = Some(f.clone()),
            Some(a) => {
                a.vstack_mut(f)
                    .map_err(|e| error::polars("cannot concatenate partitions", e))?;
            }
        }
    }
    Ok(acc.unwrap_or_else(empty))
}
