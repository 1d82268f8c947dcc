//! The CF conventions of stored values that xarray decodes by default: fill values
//! become NaN, the rest are scaled and offset.

/// xarray's decoding of a variable: fill values become NaN, the rest
/// `x * scale_factor + add_offset`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct MaskScale {
    scale: Option<f64>,
    offset: Option<f64>,
    fills: [Option<f64>; 2],
}

impl MaskScale {
    /// From a variable's numeric attributes.
    pub(crate) fn from_attrs(num: impl Fn(&str) -> Option<f64>) -> MaskScale {
        MaskScale {
            scale: num("scale_factor"),
            offset: num("add_offset"),
            fills: [num("_FillValue"), num("missing_value")],
        }
    }

    /// Whether decoding changes nothing.
    pub(crate) fn is_identity(&self) -> bool {
        *self == MaskScale::default()
    }

    /// One value decoded.
    #[inline]
    pub(crate) fn apply(&self, x: f64) -> f64 {
        if self.fills.iter().flatten().any(|&m| m == x) {
            f64::NAN
        } else {
            x * self.scale.unwrap_or(1.0) + self.offset.unwrap_or(0.0)
        }
    }
}

/// The attributes that masking and scaling apply.
pub(super) const MASK_AND_SCALE: [&str; 4] =
    ["_FillValue", "missing_value", "scale_factor", "add_offset"];
