//! Fuzzing the wire protocol: the frame decoder (sync and async), the handshake and
//! the decoder of every message type, with inputs edited from valid encodings (see
//! `io/tests/support/fuzz.rs`). Whatever the bytes, decoding returns a message or a
//! typed error: it never panics, never allocates past the limits it is given, and
//! the decoders agree with one another.
//!
//! Each target runs for `BRISK_FUZZ_SECONDS` (default 3); `scripts/test.sh` runs
//! them for a minute each. A failure prints the shrunk input as `hex("…")`: it
//! belongs in the regression tests at the end of this file.

#[path = "../../io/tests/support/fuzz.rs"]
mod fuzz;

use brisk_core::Key;
use brisk_scheduler::distributed::comm::{accept, read_batch};
use brisk_scheduler::distributed::messages::{
    split_batch, DiagnosticsQuery, Incoming, Msg, Outgoing, WireValue, WorkerQuery,
};
use brisk_scheduler::distributed::observe::{Activity, RecordKind};
use brisk_scheduler::distributed::{
    NewTask, Priority, StimulusId, TaskSpec, WorkerId, WorkerInfo, WorkerMetrics,
};
use brisk_scheduler::protocol::{
    check_hello, decode, encode, read_message, Hello, Limits, Message, Role, PROTOCOL_VERSION,
};
use fuzz::{largest_allocation, Bytes, Corpus};
use proptest::prelude::*;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

#[global_allocator]
static ALLOCATOR: fuzz::Tracking = fuzz::Tracking;

/// Small limits, so that a decoder trusting a length field shows at once.
const LIMITS: Limits = Limits {
    max_message: 1 << 20,
    max_frame: 256 << 10,
    max_frames: 64,
    max_inflated: 1 << 20,
};

/// The largest single allocation a decoder may make under [`LIMITS`]: a buffer of
/// the largest message, grown once past its size.
const MOST_ALLOCATED: usize = 4 * LIMITS.max_message;

const TOKEN: &str = "fuzz-token";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn within_bound(largest: usize, what: &str) -> Result<(), String> {
    if largest > MOST_ALLOCATED {
        return Err(format!(
            "{what} allocated {largest} bytes at once (limits allow {MOST_ALLOCATED})"
        ));
    }
    Ok(())
}

fn ensure(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what())
    }
}

// --- seeds

fn key(name: &str, index: &[u32]) -> Key {
    Key::new(name, index)
}

fn value(nframes: u32) -> WireValue {
    WireValue {
        type_tag: "vec<u8>".into(),
        header: vec![1, 2, 3],
        nframes,
    }
}

fn spec() -> TaskSpec {
    TaskSpec {
        op: "add".into(),
        params: vec![0x92, 0x01, 0x02],
    }
}

/// The position of a message's variant in [`Msg`]: the match has no wildcard, so a
/// new variant does not compile here until it has a seed below.
fn variant(m: &Msg) -> usize {
    match m {
        Msg::RegisterWorker { .. } => 0,
        Msg::TaskFinished { .. } => 1,
        Msg::TaskErred { .. } => 2,
        Msg::MissingData { .. } => 3,
        Msg::AddKeys { .. } => 4,
        Msg::Heartbeat => 5,
        Msg::WorkerWelcome { .. } => 6,
        Msg::Peers { .. } => 7,
        Msg::Compute { .. } => 8,
        Msg::Free { .. } => 9,
        Msg::Store { .. } => 10,
        Msg::Replicate { .. } => 11,
        Msg::RegisterClient => 12,
        Msg::UpdateGraph { .. } => 13,
        Msg::ReleaseKeys { .. } => 14,
        Msg::Cancel { .. } => 15,
        Msg::Scatter { .. } => 16,
        Msg::ReplicateKeys { .. } => 17,
        Msg::WhoHas { .. } => 18,
        Msg::ClientWelcome { .. } => 19,
        Msg::KeyInMemory { .. } => 20,
        Msg::KeyErred { .. } => 21,
        Msg::KeyCancelled { .. } => 22,
        Msg::WhoHasReply { .. } => 23,
        Msg::GetData { .. } => 24,
        Msg::Data { .. } => 25,
        Msg::Goodbye { .. } => 26,
        Msg::WorkerMetrics { .. } => 27,
        Msg::Workers { .. } => 28,
        Msg::WorkersReply { .. } => 29,
        Msg::WorkerPaused { .. } => 30,
        Msg::Rebalance { .. } => 31,
        Msg::RetireWorkers { .. } => 32,
        Msg::Done { .. } => 33,
        Msg::Retire => 34,
        Msg::RestartWorker => 35,
        Msg::Restart { .. } => 36,
        Msg::WorkerReport { .. } => 37,
        Msg::WorkerQueryReply { .. } => 38,
        Msg::WorkerQuery { .. } => 39,
        Msg::Diagnostics { .. } => 40,
        Msg::DiagnosticsReply { .. } => 41,
    }
}

const VARIANTS: usize = 42;

/// One message of every variant, with the frames of its values.
fn every_message() -> Vec<(Msg, Vec<Vec<u8>>)> {
    let x = key("x-0123456789abcdef0123456789abcdef", &[0, 3]);
    let y = key("y", &[]);
    let frame = |n: u8| vec![n; 5];
    let msgs = vec![
        (
            Msg::RegisterWorker {
                address: "tcp://127.0.0.1:4000".into(),
                nthreads: 2,
                memory_limit: 1 << 30,
                name: "worker-a".into(),
            },
            vec![],
        ),
        (
            Msg::TaskFinished {
                run: Some(3),
                key: x.clone(),
                nbytes: 800,
                duration: 0.25,
                value: Some(value(1)),
                thread: Some(1),
            },
            vec![frame(1)],
        ),
        (
            Msg::TaskErred {
                run: Some(4),
                key: x.clone(),
                error: "division by zero".into(),
            },
            vec![],
        ),
        (
            Msg::MissingData {
                key: x.clone(),
                missing: y.clone(),
                holder: WorkerId(3),
            },
            vec![],
        ),
        (
            Msg::AddKeys {
                keys: vec![x.clone(), y.clone()],
            },
            vec![],
        ),
        (Msg::Heartbeat, vec![]),
        (
            Msg::WorkerMetrics {
                metrics: WorkerMetrics {
                    transfers_in: 3,
                    bytes_in: 4096,
                    transfers_out: 1,
                    bytes_out: 100,
                    executed: 12,
                    managed: 1 << 20,
                    unmanaged: 3 << 20,
                    spilled: 5 << 20,
                    spill_written: 6 << 20,
                    spill_read: 1 << 20,
                    spill_nanos: 1_000_000,
                    cpu_percent: 150,
                },
            },
            vec![],
        ),
        (Msg::WorkerPaused { paused: true }, vec![]),
        (
            Msg::WorkerReport {
                activity: vec![Activity {
                    kind: RecordKind::Transfer,
                    ago: 0.5,
                    duration: 0.01,
                    values: 2,
                    nbytes: 4096,
                }],
                logs: vec!["2026-12-07T20:00:00Z INFO brisk::worker: worker at tcp://w".into()],
            },
            vec![],
        ),
        (
            Msg::WorkerQuery {
                id: 12,
                query: WorkerQuery::Story {
                    keys: vec![x.clone()],
                },
            },
            vec![],
        ),
        (
            Msg::WorkerQuery {
                id: 13,
                query: WorkerQuery::State,
            },
            vec![],
        ),
        (
            Msg::WorkerQueryReply {
                id: 12,
                json: "[]".into(),
            },
            vec![],
        ),
        (
            Msg::Diagnostics {
                id: 14,
                query: DiagnosticsQuery::Story {
                    keys: vec![y.clone()],
                },
            },
            vec![],
        ),
        (
            Msg::Diagnostics {
                id: 15,
                query: DiagnosticsQuery::Report {
                    since: 3,
                    time: 1.5,
                },
            },
            vec![],
        ),
        (
            Msg::Diagnostics {
                id: 16,
                query: DiagnosticsQuery::ClusterState,
            },
            vec![],
        ),
        (
            Msg::DiagnosticsReply {
                id: 14,
                json: "[]".into(),
                error: None,
            },
            vec![],
        ),
        (Msg::Rebalance { id: 9 }, vec![]),
        (
            Msg::RetireWorkers {
                id: 10,
                workers: vec!["tcp://127.0.0.1:4002".into(), "w".into()],
            },
            vec![],
        ),
        (
            Msg::Done {
                id: 10,
                error: Some("no such workers".into()),
            },
            vec![],
        ),
        (Msg::Retire, vec![]),
        (Msg::RestartWorker, vec![]),
        (Msg::Restart { id: 11 }, vec![]),
        (Msg::Workers { id: 5 }, vec![]),
        (
            Msg::WorkersReply {
                id: 5,
                workers: vec![WorkerInfo {
                    id: WorkerId(2),
                    address: "tcp://127.0.0.1:4002".into(),
                    name: "w".into(),
                    nthreads: 2,
                    memory_limit: 1 << 30,
                    metrics: WorkerMetrics::default(),
                    paused: false,
                }],
            },
            vec![],
        ),
        (
            Msg::WorkerWelcome {
                worker: WorkerId(7),
            },
            vec![],
        ),
        (
            Msg::Peers {
                peers: vec![(WorkerId(1), "tcp://127.0.0.1:4001".into())],
            },
            vec![],
        ),
        (
            Msg::Compute {
                run: 0,
                key: x.clone(),
                spec: spec(),
                inputs: vec![(y.clone(), vec![WorkerId(1), WorkerId(2)])],
                priority: Priority::new(-3, 2, 17),
                send_value: true,
                stimulus_id: StimulusId::scheduler(42),
            },
            vec![],
        ),
        (
            Msg::Free {
                keys: vec![y.clone()],
                stimulus_id: StimulusId::worker(9),
            },
            vec![],
        ),
        (
            Msg::Store {
                key: y.clone(),
                value: value(2),
                stimulus_id: StimulusId::scheduler(5),
            },
            vec![frame(2), frame(3)],
        ),
        (
            Msg::Replicate {
                key: y.clone(),
                holders: vec![WorkerId(0)],
                stimulus_id: StimulusId::scheduler(6),
            },
            vec![],
        ),
        (Msg::RegisterClient, vec![]),
        (
            Msg::UpdateGraph {
                tasks: vec![NewTask {
                    key: x.clone(),
                    spec: spec(),
                    dependencies: vec![y.clone()],
                    order: 1,
                }],
                wanted: vec![x.clone()],
                user_priority: 10,
            },
            vec![],
        ),
        (
            Msg::ReleaseKeys {
                keys: vec![x.clone()],
            },
            vec![],
        ),
        (
            Msg::Cancel {
                keys: vec![x.clone(), y.clone()],
            },
            vec![],
        ),
        (
            Msg::Scatter {
                items: vec![(x.clone(), value(1)), (y.clone(), value(0))],
                broadcast: true,
            },
            vec![frame(4)],
        ),
        (
            Msg::ReplicateKeys {
                keys: vec![y.clone()],
                n: 3,
            },
            vec![],
        ),
        (
            Msg::WhoHas {
                id: 11,
                keys: vec![x.clone()],
            },
            vec![],
        ),
        (Msg::ClientWelcome { client: 4 }, vec![]),
        (
            Msg::KeyInMemory {
                key: x.clone(),
                nbytes: 12,
                value: Some(value(1)),
            },
            vec![frame(5)],
        ),
        (
            Msg::KeyErred {
                key: y.clone(),
                error: "cancelled upstream".into(),
            },
            vec![],
        ),
        (Msg::KeyCancelled { key: y.clone() }, vec![]),
        (
            Msg::WhoHasReply {
                id: 11,
                who_has: vec![(
                    x.clone(),
                    vec![(WorkerId(1), "tcp://127.0.0.1:4001".into())],
                )],
                nworkers: 2,
            },
            vec![],
        ),
        (
            Msg::GetData {
                id: 12,
                keys: vec![x.clone(), y.clone()],
            },
            vec![],
        ),
        (
            Msg::Data {
                id: 12,
                values: vec![(x.clone(), value(1))],
                missing: vec![y.clone()],
                deferred: vec![x.clone()],
            },
            vec![frame(6)],
        ),
        (
            Msg::Goodbye {
                reason: "shutting down".into(),
            },
            vec![],
        ),
    ];
    let mut seen = [false; VARIANTS];
    for (m, _) in &msgs {
        seen[variant(m)] = true;
    }
    assert!(seen.iter().all(|s| *s), "every variant has a seed");
    msgs
}

fn batch_of(msgs: &[(Msg, Vec<Vec<u8>>)]) -> Outgoing {
    let mut out = Outgoing::default();
    for (m, frames) in msgs {
        out.push_with(m.clone(), frames.clone());
    }
    out
}

fn wire(header: &[u8], frames: &[Vec<u8>], compress: bool) -> Vec<u8> {
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    encode(header, &refs, compress).unwrap().concat()
}

fn batch_wire(batch: &Outgoing, compress: bool) -> Vec<u8> {
    let frames: Vec<Vec<u8>> = batch.frames.iter().map(|f| f.as_slice().to_vec()).collect();
    wire(&batch.header().unwrap(), &frames, compress)
}

/// The msgpack header of a batch of each message alone, and of all of them.
fn header_seeds() -> Vec<(Vec<u8>, usize)> {
    let all = every_message();
    let mut seeds: Vec<(Vec<u8>, usize)> = all
        .iter()
        .map(|one| {
            let b = batch_of(std::slice::from_ref(one));
            (b.header().unwrap(), b.frames.len())
        })
        .collect();
    let b = batch_of(&all);
    seeds.push((b.header().unwrap(), b.frames.len()));
    seeds
}

fn hellos() -> Vec<Hello> {
    let mut refused = Hello::new(Role::Scheduler, None);
    refused.refusal = Some("the peer did not present the cluster's token".into());
    vec![
        Hello::new(Role::Client, Some(TOKEN)),
        Hello::new(Role::Worker, Some(TOKEN)),
        Hello::new(Role::Worker, Some(TOKEN)).announcing(LIMITS),
        Hello::new(Role::Scheduler, None),
        Hello::new(Role::Client, Some("a guess")),
        refused,
    ]
}

/// Whole wire messages: every message alone and all together, one with an LZ4
/// frame, frames of odd sizes, and hellos.
fn wire_seeds() -> Vec<Vec<u8>> {
    let all = every_message();
    let mut seeds: Vec<Vec<u8>> = all
        .iter()
        .map(|one| batch_wire(&batch_of(std::slice::from_ref(one)), false))
        .collect();
    seeds.push(batch_wire(&batch_of(&all), false));
    // A value large and repetitive enough to travel compressed.
    let big: Vec<u8> = (0..80_000u32).map(|i| (i % 13) as u8).collect();
    let mut store = Outgoing::default();
    store.push_with(
        Msg::Store {
            key: key("big", &[0]),
            value: value(1),
            stimulus_id: StimulusId::scheduler(1),
        },
        vec![big],
    );
    let compressed = batch_wire(&store, true);
    assert!(compressed.len() < 40_000, "the seed carries an LZ4 frame");
    seeds.push(compressed);
    seeds.push(wire(b"\x90", &[vec![], vec![7; 3], vec![]], false));
    seeds.extend(
        hellos()
            .iter()
            .map(|h| wire(&h.to_header().unwrap(), &[], false)),
    );
    seeds
}

/// Words of msgpack (markers of every kind with their boundary lengths) and the
/// names of the message variants, for edits of headers.
fn msgpack_words() -> Vec<Vec<u8>> {
    let mut words: Vec<Vec<u8>> = vec![
        vec![0xc0],
        vec![0xc1],
        vec![0xc2],
        vec![0xc3],
        vec![0x80],
        vec![0x8f],
        vec![0x90],
        vec![0x9f],
        vec![0xa0],
        vec![0xbf],
        vec![0xdc, 0xff, 0xff],
        vec![0xdd, 0xff, 0xff, 0xff, 0xff],
        vec![0xde, 0xff, 0xff],
        vec![0xdf, 0x7f, 0xff, 0xff, 0xff],
        vec![0xc4, 0xff],
        vec![0xc6, 0xff, 0xff, 0xff, 0xff],
        vec![0xd9, 0x20],
        vec![0xdb, 0x80, 0x00, 0x00, 0x00],
        vec![0xc7, 0x01, 0x05],
        vec![0xd4, 0xff, 0x00],
        vec![0xd8, 0x01],
        vec![0xca, 0x7f, 0xc0, 0x00, 0x00],
        vec![0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
        vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
        vec![0xce, 0xff, 0xff, 0xff, 0xff],
        vec![0xe0],
        vec![0x91, 0x91, 0x91, 0x91],
    ];
    for (m, _) in every_message() {
        let text = format!("{m:?}");
        let name = text.split([' ', '{', '(']).next().unwrap_or_default();
        words.push(rmp_serde::to_vec(name).unwrap());
    }
    words
}

/// A reader that hands out at most `step` bytes a read, and is not ready every
/// other time it is polled.
struct Trickle<'a> {
    rest: &'a [u8],
    step: usize,
    pending: bool,
}

impl<'a> Trickle<'a> {
    fn new(bytes: &'a [u8], step: usize) -> Trickle<'a> {
        Trickle {
            rest: bytes,
            step: step.max(1),
            pending: false,
        }
    }
}

impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.pending = !self.pending;
        if self.pending {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let n = self.step.min(self.rest.len()).min(buf.remaining());
        let (now, later) = self.rest.split_at(n);
        buf.put_slice(now);
        self.rest = later;
        Poll::Ready(Ok(()))
    }
}

fn step() -> impl Strategy<Value = usize> {
    prop_oneof![Just(usize::MAX), 1usize..64, 64usize..8192]
}

// --- the properties

fn message_within_limits(m: &Message) -> Result<(), String> {
    let sizes = std::iter::once(m.header.len()).chain(m.frames.iter().map(Vec::len));
    let total: usize = sizes.clone().sum();
    ensure(m.frames.len() < LIMITS.max_frames, || {
        format!("{} frames decoded", m.frames.len())
    })?;
    ensure(sizes.clone().all(|s| s <= LIMITS.max_frame), || {
        "a frame over the limit decoded".into()
    })?;
    ensure(total <= LIMITS.max_inflated, || {
        format!("{total} bytes decoded in all")
    })
}

/// `decode`, `read_message` and the async `read_batch` (fed in pieces) on the same
/// bytes: none panics or allocates past the limits, and they accept the same
/// messages.
fn check_frames(rt: &Runtime, bytes: &[u8], step: usize) -> Result<(), String> {
    let body = bytes.get(4..).unwrap_or_default();
    let (decoded, largest) = largest_allocation(|| decode(body, &LIMITS));
    within_bound(largest, "decode")?;
    if let Ok(m) = &decoded {
        message_within_limits(m)?;
    }
    let (read, largest) = largest_allocation(|| read_message(&mut &bytes[..], &LIMITS));
    within_bound(largest, "read_message")?;
    let announced = bytes
        .first_chunk::<4>()
        .map(|p| u32::from_le_bytes(*p) as usize);
    let announced_body = announced.and_then(|len| bytes.get(4..4 + len));
    match (&read, announced_body) {
        (Ok(None), _) => ensure(bytes.is_empty(), || {
            "read_message saw the end of a stream that has bytes".into()
        })?,
        (Ok(Some(m)), Some(body)) => {
            ensure(decode(body, &LIMITS).as_ref().ok() == Some(m), || {
                "read_message and decode read different messages".into()
            })?
        }
        (Ok(Some(_)), None) => return Err("read_message read past the end".into()),
        (Err(_), Some(body)) => ensure(decode(body, &LIMITS).is_err(), || {
            "read_message refused what decode accepts".into()
        })?,
        (Err(_), None) => {}
    }
    let (batch, largest) =
        largest_allocation(|| rt.block_on(read_batch(&mut Trickle::new(bytes, step), &LIMITS)));
    within_bound(largest, "read_batch")?;
    let expected: Result<Option<Vec<Incoming>>, ()> = match read {
        Ok(None) => Ok(None),
        Ok(Some(m)) => split_batch(&m.header, m.frames).map(Some).map_err(|_| ()),
        Err(_) => Err(()),
    };
    ensure(
        format!("{:?}", batch.as_ref().ok()) == format!("{:?}", expected.as_ref().ok()),
        || {
            format!(
                "read_batch gave {:?}, read_message and split_batch {:?}",
                batch.as_ref().map(|b| b.as_ref().map(Vec::len)),
                expected.as_ref().map(|b| b.as_ref().map(Vec::len)),
            )
        },
    )
}

/// A batch header with `nframes` frames: `split_batch` returns messages or an
/// error; messages hand out every frame in order and encode back to themselves;
/// `read_batch` on the header sent as a wire message agrees.
fn check_batch(rt: &Runtime, header: &[u8], nframes: usize) -> Result<(), String> {
    let frames: Vec<Vec<u8>> = (0..nframes).map(|i| vec![i as u8; i]).collect();
    let (split, largest) = largest_allocation(|| split_batch(header, frames.clone()));
    within_bound(largest, "split_batch")?;
    if let Ok(msgs) = &split {
        let handed: Vec<Vec<u8>> = msgs.iter().flat_map(|m| m.frames.clone()).collect();
        ensure(handed == frames, || {
            "the messages do not hand out the frames in order".into()
        })?;
        let mut again = Outgoing::default();
        for m in msgs {
            again.push_with(m.msg.clone(), m.frames.clone());
        }
        let header = again
            .header()
            .map_err(|e| format!("a decoded batch does not encode: {e}"))?;
        let back = split_batch(&header, frames.clone())
            .map_err(|e| format!("a re-encoded batch does not decode: {e}"))?;
        // Debug text, not `==`: a NaN duration is the same message.
        ensure(format!("{back:?}") == format!("{msgs:?}"), || {
            format!("re-encoding changed the messages: {msgs:?} became {back:?}")
        })?;
    }
    if header.len() <= LIMITS.max_frame {
        let bytes = wire(header, &frames, false);
        let read = rt
            .block_on(read_batch(&mut &bytes[..], &LIMITS))
            .map(|b| b.unwrap_or_default());
        ensure(
            format!("{:?}", read.as_ref().ok()) == format!("{:?}", split.as_ref().ok()),
            || "read_batch and split_batch disagree on the same header".into(),
        )?;
    }
    Ok(())
}

/// The hello checks on a decoded hello: whatever passes speaks this protocol and
/// carries the token; the limits it announces are taken within what a message can
/// be.
fn check_hello_checks(hello: &Hello) -> Result<(), String> {
    let peer = hello.peer_limits();
    ensure((1..=u16::MAX as usize).contains(&peer.max_frames), || {
        format!(
            "{hello:?} makes this process send {} frames a message",
            peer.max_frames
        )
    })?;
    for token in [None, Some(TOKEN)] {
        if check_hello(hello, token).is_ok() {
            ensure(
                hello.protocol == "brisk" && hello.version == PROTOCOL_VERSION,
                || format!("check_hello passed {hello:?}"),
            )?;
            if let Some(t) = token {
                ensure(hello.token.as_deref() == Some(t), || {
                    format!("check_hello passed {hello:?} without the token")
                })?;
            }
        }
    }
    Ok(())
}

/// The hello decoders on `bytes` taken as a msgpack header, then as the first
/// message of a connection that `accept` reads over loopback: `accept` takes only a
/// hello that decodes and passes the checks, and returns it.
fn check_handshake(rt: &Runtime, listener: &TcpListener, bytes: &[u8]) -> Result<(), String> {
    let (hello, largest) = largest_allocation(|| Hello::from_header(bytes));
    within_bound(largest, "Hello::from_header")?;
    if let Ok(h) = &hello {
        check_hello_checks(h)?;
    }
    let first = bytes
        .first_chunk::<4>()
        .and_then(|p| bytes.get(4..4 + u32::from_le_bytes(*p) as usize));
    let sent_hello = first
        .and_then(|body| decode(body, &Limits::default()).ok())
        .and_then(|m| Hello::from_header(&m.header).ok());
    let accepted = rt.block_on(async {
        let address = listener.local_addr().unwrap();
        // The kernel completes a loopback connection before it is accepted.
        let mut client = match TcpStream::connect(address).await {
            Ok(c) => c,
            // Loopback out of ports: the machine's limit, not the decoder's.
            Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => return Ok(None),
            Err(e) => panic!("a loopback connection: {e}"),
        };
        let (server, _) = listener.accept().await.unwrap();
        let send = async {
            // The peer may hang up before reading everything: not an error here.
            let _ = client.write_all(bytes).await;
            let _ = client.shutdown().await;
        };
        let answer = tokio::time::timeout(
            Duration::from_secs(60),
            accept(server, Role::Scheduler, Some(TOKEN), None),
        );
        let ((), accepted) = tokio::join!(send, answer);
        accepted.map(Some)
    });
    let accepted = match accepted {
        Ok(Some(accepted)) => accepted,
        Ok(None) => return Ok(()),
        Err(_) => return Err("accept did not return although the peer closed".into()),
    };
    if let Ok((_, hello)) = &accepted {
        ensure(check_hello(hello, Some(TOKEN)).is_ok(), || {
            format!("accept took {hello:?}, which fails the checks")
        })?;
        ensure(sent_hello.as_ref() == Some(hello), || {
            format!("accept returned {hello:?}, the peer sent {sent_hello:?}")
        })?;
    }
    Ok(())
}

// --- the fuzz targets

#[test]
fn fuzz_the_frame_decoder() {
    let rt = runtime();
    let corpus = Corpus::new(wire_seeds()).with_words(msgpack_words());
    let inputs = (fuzz::inputs(corpus, 512), step());
    fuzz::fuzz("frame decoder", inputs, |(bytes, step)| {
        check_frames(&rt, &bytes.0, *step)
    });
}

#[test]
fn fuzz_every_message_decoder() {
    let rt = runtime();
    let seeds = header_seeds();
    let corpus =
        Corpus::new(seeds.iter().map(|(h, _)| h.clone()).collect()).with_words(msgpack_words());
    let inputs = (fuzz::inputs(corpus, 256), 0usize..6);
    fuzz::fuzz("message decoders", inputs, |(header, nframes)| {
        check_batch(&rt, &header.0, *nframes)
    });
}

#[test]
fn fuzz_the_handshake() {
    let rt = runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let mut seeds: Vec<Vec<u8>> = hellos().iter().map(|h| h.to_header().unwrap()).collect();
    seeds.extend(
        hellos()
            .iter()
            .map(|h| wire(&h.to_header().unwrap(), &[], false)),
    );
    let words = msgpack_words().into_iter().chain(
        [
            "brisk",
            TOKEN,
            "Client",
            "Worker",
            "Scheduler",
            "token",
            "refusal",
            "limits",
            "max_message",
            "max_frame",
            "max_frames",
            "max_inflated",
        ]
        .iter()
        .map(|s| rmp_serde::to_vec(s).unwrap()),
    );
    let corpus = Corpus::new(seeds).with_words(words);
    fuzz::fuzz("handshake", fuzz::inputs(corpus, 256), |bytes| {
        check_handshake(&rt, &listener, &bytes.0)
    });
}

// --- the seeds are valid: what the fuzzers edit decodes as it should

#[test]
fn every_seed_decodes() {
    let rt = runtime();
    for seed in wire_seeds() {
        let m = decode(&seed[4..], &LIMITS).unwrap();
        message_within_limits(&m).unwrap();
        check_frames(&rt, &seed, usize::MAX).unwrap();
        check_frames(&rt, &seed, 7).unwrap();
    }
    let all = every_message();
    for ((header, nframes), i) in header_seeds().into_iter().zip(0..) {
        let msgs = split_batch(&header, (0..nframes).map(|_| vec![0; 5]).collect()).unwrap();
        if i < all.len() {
            assert_eq!(msgs.len(), 1);
            assert_eq!(msgs[0].msg, all[i].0);
        } else {
            assert_eq!(msgs.len(), all.len());
        }
        check_batch(&rt, &header, nframes).unwrap();
    }
}

#[test]
fn hellos_with_the_token_are_accepted() {
    let rt = runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    for hello in hellos() {
        let header = hello.to_header().unwrap();
        assert_eq!(Hello::from_header(&header).unwrap(), hello);
        check_handshake(&rt, &listener, &wire(&header, &[], false)).unwrap();
    }
    // With the token, `accept` takes the hello (checked above: it returns it as sent).
    let ok = wire(
        &Hello::new(Role::Worker, Some(TOKEN)).to_header().unwrap(),
        &[],
        false,
    );
    let accepted = rt.block_on(async {
        let address = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(address), listener.accept());
        let mut client = client.unwrap();
        client.write_all(&ok).await.unwrap();
        accept(server.unwrap().0, Role::Scheduler, Some(TOKEN), None).await
    });
    assert_eq!(accepted.unwrap().1, Hello::new(Role::Worker, Some(TOKEN)));
}

#[test]
fn the_harness_finds_a_planted_bug() {
    // A decoder that panics on a byte of 0xff is caught, and the failure names the
    // input (shrunk, in hex) and the seed to run it again.
    let corpus = Corpus::new(vec![b"ab".to_vec()]);
    // The planted panic fires again at every step of shrinking, and the report of
    // the failure is a panic too: neither is printed (other panics are).
    let report = std::sync::Arc::new(std::panic::take_hook());
    let others = report.clone();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
        if !text.is_some_and(|t| t.starts_with("planted")) {
            others(info)
        }
    }));
    let found = std::panic::catch_unwind(|| {
        fuzz::fuzz("planted", fuzz::inputs(corpus, 16), |b| {
            if b.0.contains(&0xff) {
                panic!("planted");
            }
            Ok(())
        })
    });
    std::panic::set_hook(Box::new(move |info| report(info)));
    let message = found
        .expect_err("the planted bug is found")
        .downcast::<String>()
        .unwrap();
    assert!(message.contains("planted"), "{message}");
    assert!(message.contains("BRISK_FUZZ_SEED="), "{message}");
    let input = message
        .split("hex(\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the input in hex");
    assert!(fuzz::hex(input).contains(&0xff), "{message}");
}

#[test]
fn inputs_print_as_hex_that_reads_back() {
    assert_eq!(fuzz::hex("b5 01 00"), [0xb5, 1, 0]);
    assert_eq!(format!("{:?}", Bytes(vec![0xb5, 1])), "hex(\"b501\")");
}

// --- regression tests: inputs the fuzzers found (none so far; a failure prints
// its input as `hex("…")`, to decode here with `fuzz::hex` and `check_frames`,
// `check_batch` or `check_handshake`)
