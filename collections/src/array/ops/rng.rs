//! Seeded random numbers from a counter-based generator: each value depends only on
//! the seed and its global position, so any chunking gives the same array.

use serde::{Deserialize, Serialize};

/// A random distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Dist {
    /// Uniform in `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
}

/// A counter-based generator: 64 random bits for (seed, position).
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The random value of global flat position `i`.
pub(crate) fn random_at(seed: u64, dist: Dist, i: u64) -> f64 {
    let a = unit(mix(seed, 2 * i));
    match dist {
        Dist::Uniform { low, high } => low + (high - low) * a,
        Dist::Normal { mean, std } => {
            let b = unit(mix(seed, 2 * i + 1));
            let r = (-2.0 * (1.0 - a).ln()).sqrt();
            mean + std * r * (std::f64::consts::TAU * b).cos()
        }
    }
}
