//! Input checks shared by every estimator: lengths, finiteness, feature counts and
//! classes, each an error that names what is wrong and where.

use crate::error::{Error, Result};
use ndarray::{ArrayView1, ArrayView2};

/// `x` has at least one row, and only finite values.
pub fn check_x(x: ArrayView2<'_, f64>) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::TooFewSamples {
            message: "X has no rows".into(),
        });
    }
    check_finite(x, "X")
}

/// `x` and `y` have as many samples, and both are finite.
pub fn check_xy(x: ArrayView2<'_, f64>, y: ArrayView1<'_, f64>) -> Result<()> {
    if x.nrows() != y.len() {
        return Err(Error::LengthMismatch {
            x_rows: x.nrows(),
            y_len: y.len(),
        });
    }
    check_x(x)?;
    if let Some((row, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NotFinite {
            what: "y".into(),
            row,
            column: 0,
            value,
        });
    }
    Ok(())
}

/// The first non-finite value of `x`, as an error naming `what`.
pub fn check_finite(x: ArrayView2<'_, f64>, what: &str) -> Result<()> {
    for (row, r) in x.rows().into_iter().enumerate() {
        if let Some((column, &value)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NotFinite {
                what: what.into(),
                row,
                column,
                value,
            });
        }
    }
    Ok(())
}

/// `y` of a supervised estimator: present, as long as `x`, finite.
pub fn require_y<'a>(
    owner: &str,
    x: ArrayView2<'_, f64>,
    y: Option<ArrayView1<'a, f64>>,
) -> Result<ArrayView1<'a, f64>> {
    let y = y.ok_or_else(|| Error::Unsupported {
        kind: owner.to_string(),
        what: "fit without y (it is supervised)".into(),
    })?;
    check_xy(x, y)?;
    Ok(y)
}

/// `x` has the `expected` number of columns of the model `owner`.
pub fn check_features(owner: &str, expected: usize, x: ArrayView2<'_, f64>) -> Result<()> {
    if x.ncols() != expected {
        return Err(Error::FeatureMismatch {
            owner: owner.to_string(),
            expected,
            found: x.ncols(),
        });
    }
    check_finite(x, "X")
}

/// The sorted distinct labels of `y` and each sample's class index; an error when
/// there are fewer than two classes (`where_` says where: "y", "fold 2").
pub fn classes(y: ArrayView1<'_, f64>, where_: &str) -> Result<(Vec<f64>, Vec<usize>)> {
    // −0.0 and 0.0 are one label (`+ 0.0` turns the first into the second).
    let mut labels: Vec<f64> = y.iter().map(|v| v + 0.0).collect();
    labels.sort_by(f64::total_cmp);
    labels.dedup();
    if labels.len() < 2 {
        return Err(Error::OneClass {
            where_: where_.to_string(),
            class: labels.first().copied().unwrap_or(f64::NAN),
        });
    }
    let index = y
        .iter()
        .map(|v| {
            labels
                .binary_search_by(|l| l.total_cmp(&(v + 0.0)))
                .unwrap_or_default()
        })
        .collect();
    Ok((labels, index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_nan_is_reported_with_its_place() {
        let x = array![[1.0, 2.0], [3.0, f64::NAN]];
        let e = check_x(x.view()).unwrap_err().to_string();
        assert!(e.contains("row 1, column 1"), "{e}");
    }

    #[test]
    fn lengths_must_agree() {
        let x = array![[1.0], [2.0]];
        let y = array![1.0];
        let e = check_xy(x.view(), y.view()).unwrap_err().to_string();
        assert_eq!(e, "X has 2 rows but y has 1 values");
    }

    #[test]
    fn one_class_is_an_error() {
        let e = classes(array![1.0, 1.0].view(), "fold 0").unwrap_err();
        assert!(e.to_string().contains("fold 0"), "{e}");
        let (labels, idx) = classes(array![2.0, 0.0, 2.0].view(), "y").unwrap();
        assert_eq!(labels, vec![0.0, 2.0]);
        assert_eq!(idx, vec![1, 0, 1]);
    }
}
