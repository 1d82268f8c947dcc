//! The tokio connection layer on real sockets: batches round-trip with their
//! frames, and hostile bytes give errors, never panics or huge allocations.

use brisk_core::Key;
use brisk_scheduler::distributed::comm::{fit, read_batch, write_batch, Outbox};
use brisk_scheduler::distributed::messages::{Msg, Outgoing, WireValue};
use brisk_scheduler::distributed::StimulusId;
use brisk_scheduler::protocol::{Limits, MAGIC};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

async fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (b, _) = l.accept().await.unwrap();
    (a, b)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_batch_round_trips_with_its_frames() {
    rt().block_on(async {
        let (a, b) = pair().await;
        let (_, mut w) = a.into_split();
        let (mut r, _) = b.into_split();
        let mut batch = Outgoing::default();
        batch.push(Msg::Heartbeat);
        let big = vec![3u8; 300_000];
        let value = WireValue {
            type_tag: "vec<u8>".into(),
            header: vec![],
            nframes: 1,
        };
        batch.push_with(
            Msg::Store {
                key: Key::new("x", &[1]),
                value: value.clone(),
                stimulus_id: StimulusId::scheduler(1),
            },
            vec![big.clone()],
        );
        write_batch(&mut w, &batch, true).await.unwrap();
        let got = read_batch(&mut r, &Limits::default())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].msg, Msg::Heartbeat);
        assert_eq!(
            got[1].msg,
            Msg::Store {
                key: Key::new("x", &[1]),
                value,
                stimulus_id: StimulusId::scheduler(1),
            }
        );
        assert_eq!(got[1].frames, vec![big]);
    });
}

/// Records every write it is given.
#[derive(Default)]
struct Writes(Vec<Vec<u8>>);

impl tokio::io::AsyncWrite for Writes {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.push(buf.to_vec());
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A small message with frames leaves in one write (the peer wakes once for it);
/// a large one writes its frames as they are, without copying them together.
#[test]
fn small_messages_leave_in_one_write() {
    rt().block_on(async {
        let value = WireValue {
            type_tag: "vec<u8>".into(),
            header: vec![],
            nframes: 1,
        };
        let message = |frame: Vec<u8>| {
            let mut batch = Outgoing::default();
            batch.push(Msg::Heartbeat);
            batch.push_with(
                Msg::Store {
                    key: Key::new("x", &[1]),
                    value: value.clone(),
                    stimulus_id: StimulusId::scheduler(1),
                },
                vec![frame],
            );
            batch
        };
        let mut small = Writes::default();
        write_batch(&mut small, &message(vec![1u8; 1000]), true)
            .await
            .unwrap();
        assert_eq!(small.0.len(), 1);
        let mut large = Writes::default();
        write_batch(&mut large, &message(vec![1u8; 1 << 20]), false)
            .await
            .unwrap();
        assert_eq!(large.0.len(), 2);
        assert_eq!(large.0[1].len(), 1 << 20);
        // The single write is exactly the pieces one after the other.
        let (a, b) = pair().await;
        let (_, mut w) = a.into_split();
        let (mut r, _) = b.into_split();
        w.write_all(&small.0[0]).await.unwrap();
        let got = read_batch(&mut r, &Limits::default())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got[1].frames, vec![vec![1u8; 1000]]);
    });
}

/// A byte-buffer value is lent to the wire (no copy into a frame) and arrives
/// whole; other values are encoded.
#[test]
fn byte_buffers_are_sent_from_the_value_itself() {
    use brisk_core::value::{decode, Value};
    use brisk_scheduler::distributed::messages::{encoded, value_frames, Frame};
    use std::sync::Arc;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let lent: Value = Arc::new(bytes.clone());
    let (wv, frames) = value_frames(&lent).unwrap();
    let [Frame::Lent(v)] = frames.as_slice() else {
        panic!("a Vec<u8> should be lent, got {frames:?}");
    };
    assert!(Arc::ptr_eq(v, &lent));
    let numbers: Value = Arc::new(vec![1.5_f64, 2.5]);
    let (_, other) = value_frames(&numbers).unwrap();
    assert!(matches!(other.as_slice(), [Frame::Owned(_)]));
    rt().block_on(async {
        let (a, b) = pair().await;
        let (_, mut w) = a.into_split();
        let (mut r, _) = b.into_split();
        let mut batch = Outgoing::default();
        batch.push_with(
            Msg::Store {
                key: Key::new("b", &[0]),
                value: wv.clone(),
                stimulus_id: StimulusId::scheduler(1),
            },
            frames,
        );
        write_batch(&mut w, &batch, true).await.unwrap();
        let got = read_batch(&mut r, &Limits::default())
            .await
            .unwrap()
            .unwrap();
        let back = decode(encoded(wv, got[0].frames.clone())).unwrap();
        assert_eq!(back.downcast_ref::<Vec<u8>>(), Some(&bytes));
    });
}

/// Each hostile prefix is refused with an error (the reader then drops the peer).
#[test]
fn hostile_bytes_are_errors() {
    let small = Limits {
        max_message: 1 << 20,
        max_frame: 1 << 20,
        max_frames: 8,
        max_inflated: 1 << 20,
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("announces 4 GiB", u32::MAX.to_le_bytes().to_vec()),
        (
            "bad magic",
            [&8u32.to_le_bytes()[..], &[0x00, 1, 0, 0, 0, 0, 0, 0]].concat(),
        ),
        (
            "no header frame",
            [&3u32.to_le_bytes()[..], &[MAGIC, 0, 0]].concat(),
        ),
        (
            "too many frames",
            [&3u32.to_le_bytes()[..], &[MAGIC, 200, 0]].concat(),
        ),
        (
            "frame larger than the limit",
            [
                &12u32.to_le_bytes()[..],
                &[MAGIC, 1, 0],
                &0u32.to_le_bytes(),
                &(2u32 << 20).to_le_bytes(),
                &[1],
            ]
            .concat(),
        ),
        (
            "table disagrees with the length",
            [
                &12u32.to_le_bytes()[..],
                &[MAGIC, 1, 0],
                &5u32.to_le_bytes(),
                &5u32.to_le_bytes(),
                &[0],
            ]
            .concat(),
        ),
        (
            "header is not msgpack",
            [
                &14u32.to_le_bytes()[..],
                &[MAGIC, 1, 0],
                &2u32.to_le_bytes(),
                &2u32.to_le_bytes(),
                &[0],
                &[0xc1, 0xc1],
            ]
            .concat(),
        ),
        (
            "cut short",
            [&100u32.to_le_bytes()[..], &[MAGIC, 1]].concat(),
        ),
    ];
    for (what, bytes) in cases {
        rt().block_on(async {
            let (a, b) = pair().await;
            let (_, mut w) = a.into_split();
            let (mut r, _) = b.into_split();
            w.write_all(&bytes).await.unwrap();
            w.shutdown().await.unwrap();
            let got = read_batch(&mut r, &small).await;
            assert!(got.is_err(), "{what}: {got:?}");
        });
    }
}

/// A batch over what the peer accepts is split into messages within its frames
/// and bytes, in order; every message arrives at a reader with those limits.
#[test]
fn batches_are_split_within_the_peers_announced_limits() {
    let peer = Limits {
        max_message: 1 << 20,
        max_frame: 1 << 20,
        max_frames: 8,
        max_inflated: 1 << 20,
    };
    let value = WireValue {
        type_tag: "vec<u8>".into(),
        header: vec![],
        nframes: 1,
    };
    let batch = || {
        let mut batch = Outgoing::default();
        for i in 0..100u32 {
            batch.push_with(
                Msg::KeyInMemory {
                    key: Key::new("x", &[i]),
                    nbytes: 50_000,
                    value: Some(value.clone()),
                },
                vec![vec![i as u8; 50_000]],
            );
        }
        batch
    };
    let parts = fit(batch(), &peer);
    assert!(
        parts.len() >= 15,
        "100 frames at 7 a message: {}",
        parts.len()
    );
    for p in &parts {
        assert!(p.frames.len() < peer.max_frames);
        assert!(p.approx_bytes() <= peer.max_message / 2);
    }
    rt().block_on(async {
        let (a, b) = pair().await;
        let (_, w) = a.into_split();
        let (mut r, _) = b.into_split();
        let outbox = Outbox::spawn_for(w, false, peer);
        assert!(outbox.send(batch()));
        let mut seen = Vec::new();
        while seen.len() < 100 {
            let msgs = read_batch(&mut r, &peer).await.unwrap().unwrap();
            for m in msgs {
                let Msg::KeyInMemory { key, .. } = m.msg else {
                    panic!("unexpected {:?}", m.msg)
                };
                assert_eq!(m.frames[0].len(), 50_000);
                seen.push(key.index()[0]);
            }
        }
        assert_eq!(seen, (0..100u32).collect::<Vec<_>>(), "in order, none lost");
    });
}
