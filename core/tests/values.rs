//! Values: size estimates, encoding into frames and decoding by type tag.

use brisk_core::op::{rebuild, LiteralOp, Op};
use brisk_core::value::{decode, Data, Encoded, Value};
use brisk_core::{tokenize, Error};
use std::sync::Arc;

fn roundtrip<T: Data + Clone + PartialEq + std::fmt::Debug>(x: T) {
    let encoded = x.encode().unwrap();
    assert_eq!(encoded.type_tag, x.type_tag());
    let back = decode(encoded).unwrap();
    assert_eq!(back.downcast_ref::<T>(), Some(&x));
}

#[test]
fn plain_values_roundtrip_through_msgpack() {
    roundtrip(42i64);
    roundtrip(1.5f64);
    roundtrip(String::from("hello"));
    roundtrip(vec![1u64, 2, 3]);
    roundtrip(vec!["a".to_string(), "b".to_string()]);
    roundtrip(vec![("jupyter/notebook".to_string(), 3u64)]);
    roundtrip((1.0f64, 2.0f64));
    roundtrip(Some(3i64));
    roundtrip(());
}

#[test]
fn arrays_travel_as_one_raw_frame() {
    let a = ndarray::Array::from_shape_fn((3, 4, 5), |(i, j, k)| (i * 100 + j * 10 + k) as f32)
        .into_dyn();
    let e = a.encode().unwrap();
    assert_eq!(e.type_tag, "ndarray<float32>");
    assert_eq!(e.frames.len(), 1);
    assert_eq!(e.frames[0].len(), 60 * 4);
    assert_eq!(a.nbytes(), 240);
    let back = decode(e).unwrap();
    assert_eq!(back.downcast_ref::<ndarray::ArrayD<f32>>(), Some(&a));
    // Non-standard layouts encode in logical order.
    let t = ndarray::arr2(&[[1i64, 2], [3, 4]])
        .t()
        .to_owned()
        .into_dyn();
    let back = decode(t.encode().unwrap()).unwrap();
    assert_eq!(back.downcast_ref::<ndarray::ArrayD<i64>>(), Some(&t));
}

#[test]
fn size_estimates_are_cheap_and_close() {
    assert_eq!(vec![0f64; 1000].nbytes(), 8000);
    let strings: Vec<String> = (0..10_000).map(|i| format!("{i:08}")).collect();
    let exact: usize = strings.iter().map(|s| s.len() + 24).sum();
    assert_eq!(strings.nbytes(), exact); // equal lengths: the sample is exact
}

#[test]
fn an_unknown_type_tag_cannot_be_decoded() {
    let e = Encoded {
        type_tag: "my_crate::Thing".into(),
        header: vec![],
        frames: vec![],
    };
    assert_eq!(
        decode(e).unwrap_err().to_string(),
        "cannot decode a value of type 'my_crate::Thing': no decoder is registered for this type tag in this executable"
    );
}

#[test]
fn corrupt_bytes_are_a_decode_error_not_a_panic() {
    let mut e = vec![1i64, 2, 3].encode().unwrap();
    e.frames[0].truncate(2);
    let err = decode(e).unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("cannot decode a value of type 'vec<i64>'"),
        "{err}"
    );

    let mut a = ndarray::Array::<f64, _>::zeros((4, 4))
        .into_dyn()
        .encode()
        .unwrap();
    a.frames[0].pop();
    let msg = decode(a).unwrap_err().to_string();
    assert!(
        msg.contains("shape [4, 4] needs 128 bytes but the frame has 127"),
        "{msg}"
    );

    let mut hostile = ndarray::Array::<u8, _>::zeros(4)
        .into_dyn()
        .encode()
        .unwrap();
    hostile.header = rmp_like_header(&[u64::MAX, u64::MAX]);
    let msg = decode(hostile).unwrap_err().to_string();
    assert!(msg.contains("shape overflows"), "{msg}");
}

/// A msgpack header `{dtype: "uint8", shape: [...]}` as the encoder writes it.
fn rmp_like_header(shape: &[u64]) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct H<'a> {
        dtype: &'a str,
        shape: &'a [u64],
    }
    brisk_core::__private::rmp_serde::to_vec(&H {
        dtype: "uint8",
        shape,
    })
    .unwrap()
}

#[test]
fn literal_ops_rebuild_from_their_params() {
    let v: Value = Arc::new(vec![1.5f64, 2.5]);
    let op = LiteralOp::new(v, tokenize(&vec![1.5f64, 2.5]).unwrap());
    let rebuilt = rebuild(LiteralOp::NAME, &op.params().unwrap()).unwrap();
    assert_eq!(
        rebuilt.call(&[]).unwrap().downcast_ref::<Vec<f64>>(),
        Some(&vec![1.5, 2.5])
    );
}
