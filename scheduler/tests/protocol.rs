//! The wire protocol: messages round-trip, large repetitive buffers travel
//! compressed, and hostile bytes (random, truncated, oversized, lying tables,
//! LZ4 bombs) are errors, never panics or large allocations.

use brisk_scheduler::error::Error;
use brisk_scheduler::protocol::{
    check_hello, decode, encode, read_message, write_message, Hello, Limits, Role, MAGIC,
};
use proptest::prelude::*;

fn wire(header: &[u8], frames: &[&[u8]], compress: bool) -> Vec<u8> {
    encode(header, frames, compress).unwrap().concat()
}

#[test]
fn messages_round_trip_with_and_without_compression() {
    let small = b"tiny".to_vec();
    let repetitive: Vec<u8> = (0..2_000_000u32).map(|i| (i % 7) as u8).collect();
    let mut noise = vec![0u8; 300_000];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    for compress in [false, true] {
        let bytes = wire(b"hdr", &[&small, &repetitive, &noise, &[]], compress);
        let msg = decode(&bytes[4..], &Limits::default()).unwrap();
        assert_eq!(msg.header, b"hdr");
        assert_eq!(
            msg.frames,
            vec![small.clone(), repetitive.clone(), noise.clone(), vec![]]
        );
        let raw_size = 4 + 3 + 5 * 9 + 3 + small.len() + repetitive.len() + noise.len();
        if compress {
            assert!(
                bytes.len() < raw_size - 1_500_000,
                "the repetitive frame is compressed"
            );
            assert!(bytes.len() > noise.len(), "noise is sent as it is");
        } else {
            assert_eq!(bytes.len(), raw_size);
        }
    }
    // Raw frames are not copied by the encoder: the pieces borrow them.
    let pieces = encode(b"h", &[&noise], true).unwrap();
    assert!(matches!(pieces[1], std::borrow::Cow::Borrowed(_)));
}

#[test]
fn streams_carry_many_messages_and_end_cleanly() {
    let mut buf = Vec::new();
    for i in 0..100u32 {
        write_message(
            &mut buf,
            &i.to_le_bytes(),
            &[&vec![i as u8; i as usize]],
            true,
        )
        .unwrap();
    }
    let mut r = &buf[..];
    for i in 0..100u32 {
        let m = read_message(&mut r, &Limits::default()).unwrap().unwrap();
        assert_eq!(m.header, i.to_le_bytes());
        assert_eq!(m.frames[0], vec![i as u8; i as usize]);
    }
    assert!(read_message(&mut r, &Limits::default()).unwrap().is_none());
}

#[test]
fn truncated_messages_are_errors_at_every_cut() {
    let bytes = wire(b"header", &[b"abc", &[9u8; 70_000]], true);
    for cut in 1..bytes.len() {
        let mut r = &bytes[..cut];
        match read_message(&mut r, &Limits::default()) {
            Err(Error::Truncated { .. }) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn oversized_and_lying_messages_are_refused_before_allocating() {
    let limits = Limits {
        max_message: 1000,
        max_frame: 500,
        max_frames: 4,
        max_inflated: 1000,
    };
    // A 4 GiB announcement is refused from the prefix alone.
    let mut r = &[0xff, 0xff, 0xff, 0xff, MAGIC][..];
    assert!(matches!(
        read_message(&mut r, &limits),
        Err(Error::TooLarge {
            what: "a message",
            ..
        })
    ));
    // Too many frames.
    let bytes = wire(b"h", &[b"a", b"b", b"c", b"d"], false);
    assert!(matches!(
        decode(&bytes[4..], &limits),
        Err(Error::TooLarge {
            what: "a frame count",
            ..
        })
    ));
    // An LZ4 frame announcing 4 GB once decompressed.
    let mut body = vec![MAGIC, 2, 0];
    body.extend_from_slice(&1u32.to_le_bytes());
    body.extend_from_slice(&1u32.to_le_bytes());
    body.push(0);
    body.extend_from_slice(&10u32.to_le_bytes());
    body.extend_from_slice(&u32::MAX.to_le_bytes());
    body.push(1);
    body.push(b'h');
    body.extend_from_slice(&[0x1f; 10]);
    assert!(matches!(
        decode(&body, &limits),
        Err(Error::TooLarge {
            what: "a frame",
            ..
        })
    ));
    // An LZ4 frame whose content does not match its announced size.
    let mut lying = body.clone();
    lying[3 + 9 + 4..3 + 9 + 8].copy_from_slice(&100u32.to_le_bytes());
    assert!(matches!(
        decode(&lying, &limits),
        Err(Error::Malformed { .. })
    ));
    // A table announcing more bytes than follow, and a bad magic byte.
    let bytes = wire(b"header", &[b"frame"], false);
    let short = &bytes[4..bytes.len() - 1];
    assert!(matches!(
        decode(short, &limits),
        Err(Error::Malformed { .. })
    ));
    let mut bad = bytes[4..].to_vec();
    bad[0] = 0;
    assert!(decode(&bad, &limits)
        .unwrap_err()
        .to_string()
        .contains("magic"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let limits = Limits { max_message: 1 << 16, max_frame: 1 << 16, max_frames: 16, max_inflated: 1 << 16 };
        let _ = decode(&body, &limits);
        let mut with_magic = body.clone();
        if !with_magic.is_empty() {
            with_magic[0] = MAGIC;
        }
        let _ = decode(&with_magic, &limits);
    }

    #[test]
    fn flipped_bytes_never_panic(flip in 0usize..200, value in any::<u8>()) {
        let big = vec![3u8; 70_000];
        let bytes = wire(b"abc", &[b"xyz", &big], true);
        let mut body = bytes[4..].to_vec();
        let at = flip % body.len();
        body[at] = value;
        let _ = decode(&body, &Limits::default());
    }
}

#[test]
fn handshakes_check_version_and_token() {
    let hello = Hello::new(Role::Worker, Some("s3cret"));
    let back = Hello::from_header(&hello.to_header().unwrap()).unwrap();
    assert_eq!(back, hello);
    check_hello(&back, Some("s3cret")).unwrap();
    check_hello(&back, None).unwrap();
    let err = check_hello(&Hello::new(Role::Client, Some("guess")), Some("s3cret")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "handshake refused: the peer did not present the cluster's token"
    );
    assert!(check_hello(&Hello::new(Role::Client, None), Some("s3cret")).is_err());
    let mut old = Hello::new(Role::Client, None);
    old.version = 0;
    assert!(check_hello(&old, None)
        .unwrap_err()
        .to_string()
        .contains("version 0"));
    assert!(Hello::from_header(b"\xc1garbage").is_err());
}
