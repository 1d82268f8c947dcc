//! A real scheduler on loopback against hostile or broken peers: decompression
//! bombs, deep nesting, silence, strangers, the wrong transport and protocol
//! errors. Each is refused with an error that says what was wrong, and the
//! scheduler goes on serving well-behaved peers.
//!
//! Nothing here depends on timing: short timeouts are configured, and the tests
//! wait generously (seconds) for what must happen within them.

use brisk_core::Key;
use brisk_scheduler::distributed::cluster::{LocalCluster, LocalClusterOptions};
use brisk_scheduler::distributed::comm::{connect, read_batch, split, write_batch, BoxStream};
use brisk_scheduler::distributed::messages::{Incoming, Msg, Outgoing};
use brisk_scheduler::distributed::scheduler_server::{
    bind, serve, SchedulerOptions, SchedulerStatus,
};
use brisk_scheduler::distributed::tls::Tls;
use brisk_scheduler::distributed::{Client, ClientOptions, NewTask, TaskSpec};
use brisk_scheduler::error::Error;
use brisk_scheduler::protocol::{check_nesting, decode, encode, Hello, Limits, Role, MAGIC};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::{oneshot, watch};

/// Generous: what must happen within a 300 ms timeout surely happens within this.
const PATIENCE: Duration = Duration::from_secs(30);
const QUICK: Duration = Duration::from_millis(300);

/// A scheduler on its own thread (with the default 2 MiB stack), stopped when
/// dropped.
struct Scheduler {
    address: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scheduler {
    fn start(options: SchedulerOptions) -> Scheduler {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let (listener, address) = bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(address).unwrap();
                let (status, _) = watch::channel(SchedulerStatus::default());
                serve(listener, options, status, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        Scheduler {
            address: addr_rx.recv().unwrap(),
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn host_port(&self) -> &str {
        self.address.trim_start_matches("tcp://")
    }

    /// A well-behaved client still gets answers (the scheduler thread is alive).
    fn assert_serves_clients(&self, options: ClientOptions) {
        let client = Client::connect_with(&self.address, options).expect("a normal client");
        client
            .wait_for_workers(0, PATIENCE)
            .expect("the scheduler answers a normal client");
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Connects and registers as a client; returns the stream after the welcome.
async fn registered_client(address: &str) -> BoxStream {
    let mut s = connect(address, Role::Client, None, None, PATIENCE)
        .await
        .unwrap();
    let mut hello = Outgoing::default();
    hello.push(Msg::RegisterClient);
    write_batch(&mut s, &hello, false).await.unwrap();
    let welcome = read_batch(&mut s, &Limits::default())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(welcome[0].msg, Msg::ClientWelcome { .. }));
    s
}

/// Reads until a goodbye and then the end of the stream; returns its reason.
async fn goodbye_then_eof(s: BoxStream) -> String {
    let (mut r, _w) = split(s);
    let mut reason = None;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let read = tokio::time::timeout_at(deadline, read_batch(&mut r, &Limits::default()))
            .await
            .expect("the scheduler answers and closes the connection");
        match read {
            Ok(Some(msgs)) => {
                for Incoming { msg, .. } in msgs {
                    if let Msg::Goodbye { reason: why } = msg {
                        reason = Some(why);
                    }
                }
            }
            Ok(None) | Err(_) => break,
        }
    }
    reason.expect("a goodbye saying what was wrong")
}

/// The bytes of a message whose frame table announces `frames` as
/// `(wire_len, raw_len, codec)`, with only the header's bytes after it.
fn table_only(header: &[u8], frames: &[(u32, u32, u8)]) -> Vec<u8> {
    let n = 1 + frames.len();
    let payload: u64 = header.len() as u64 + frames.iter().map(|f| f.0 as u64).sum::<u64>();
    let body_len = 3 + 9 * n as u64 + payload;
    let mut out = (body_len as u32).to_le_bytes().to_vec();
    out.push(MAGIC);
    out.extend_from_slice(&(n as u16).to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.push(0);
    for (wire, raw, codec) in frames {
        out.extend_from_slice(&wire.to_le_bytes());
        out.extend_from_slice(&raw.to_le_bytes());
        out.push(*codec);
    }
    out.extend_from_slice(header);
    out
}

#[test]
fn a_decompression_bomb_is_refused_from_its_frame_table_and_the_scheduler_goes_on() {
    let sched = Scheduler::start(SchedulerOptions {
        limits: Limits {
            max_inflated: 64 << 20,
            ..Limits::default()
        },
        ..Default::default()
    });
    rt().block_on(async {
        // A store of one value whose 4 MB LZ4 frame says it inflates to 1 GiB.
        // Only the table is sent: the refusal must not wait for (or inflate) the
        // payload.
        let mut s = registered_client(&sched.address).await;
        let header = Outgoing::default().header().unwrap();
        let bomb = table_only(&header, &[(4_200_000, 1 << 30, 1)]);
        s.write_all(&bomb).await.unwrap();
        let reason = goodbye_then_eof(s).await;
        assert!(
            reason.contains("after decompression") && reason.contains("over the limit"),
            "{reason}"
        );
        // With the default limits, three 1 GiB frames in one message are over the
        // 2 GiB a whole message may inflate to.
    });
    sched.assert_serves_clients(ClientOptions::default());

    let sched = Scheduler::start(SchedulerOptions::default());
    rt().block_on(async {
        let mut s = registered_client(&sched.address).await;
        let header = Outgoing::default().header().unwrap();
        let frame = (4_200_000, 1 << 30, 1);
        s.write_all(&table_only(&header, &[frame, frame, frame]))
            .await
            .unwrap();
        let reason = goodbye_then_eof(s).await;
        assert!(
            reason.contains("a message after decompression of 3221225473 bytes"),
            "{reason}"
        );
    });
    sched.assert_serves_clients(ClientOptions::default());
}

fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut b = vec![0x91; depth];
    b.push(0x01);
    b
}

#[test]
fn nesting_is_measured_without_recursion() {
    assert!(check_nesting(&nested_arrays(64), 64).is_ok());
    let e = check_nesting(&nested_arrays(65), 64)
        .unwrap_err()
        .to_string();
    assert!(e.contains("nested deeper than 64"), "{e}");
    // A million levels: an error, not a stack overflow.
    assert!(check_nesting(&nested_arrays(1_000_000), 64).is_err());
    // Maps, strings, binaries and extensions are walked, not mistaken for nesting:
    // {"a": [1, "xy"], "b": bin(3)} then fixext 4.
    let ok = [
        0x82, 0xa1, b'a', 0x92, 0x01, 0xa2, b'x', b'y', 0xa1, b'b', 0xc4, 3, 9, 9, 9, 0xd6, 1, 0,
        0, 0, 0,
    ];
    assert!(check_nesting(&ok, 2).is_ok());
    assert!(check_nesting(&ok, 1).is_err());
    // Cut short inside a container or a string.
    assert!(check_nesting(&[0x92, 0x01], 8).is_err());
    assert!(check_nesting(&[0xa5, b'x'], 8).is_err());
}

#[test]
fn a_deeply_nested_hello_is_refused_and_the_scheduler_survives() {
    let sched = Scheduler::start(SchedulerOptions::default());
    // 4,000 levels fit in a hello's 4 KiB (800 used to overflow the reader's stack).
    let hello = encode(&nested_arrays(4000), &[], false).unwrap().concat();
    let mut raw = std::net::TcpStream::connect(sched.host_port()).unwrap();
    raw.set_read_timeout(Some(PATIENCE)).unwrap();
    raw.write_all(&hello).unwrap();
    let mut len = [0u8; 4];
    raw.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
    raw.read_exact(&mut body).unwrap();
    let answer = Hello::from_header(&decode(&body, &Limits::default()).unwrap().header).unwrap();
    let reason = answer.refusal.expect("a refusal");
    assert!(reason.contains("nested deeper"), "{reason}");
    // After the hello: 100,000 levels in a registered client's message header.
    rt().block_on(async {
        let mut s = registered_client(&sched.address).await;
        let deep = encode(&nested_arrays(100_000), &[], false)
            .unwrap()
            .concat();
        s.write_all(&deep).await.unwrap();
        let reason = goodbye_then_eof(s).await;
        assert!(reason.contains("nested deeper"), "{reason}");
    });
    sched.assert_serves_clients(ClientOptions::default());
}

#[test]
fn a_client_survives_a_hostile_endpoint_answering_with_deep_nesting() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let answer = encode(&nested_arrays(4000), &[], false).unwrap().concat();
        let _ = s.write_all(&answer);
        // Hold the connection until the client hangs up (closing with its hello
        // unread could reset the connection before it reads the answer).
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    });
    let e = rt()
        .block_on(connect(&address, Role::Client, None, None, PATIENCE))
        .err()
        .expect("a refusal");
    assert!(matches!(e, Error::Handshake { .. }), "{e}");
    assert!(e.to_string().contains("nested deeper"), "{e}");
    server.join().unwrap();
}

#[test]
fn slow_and_silent_connections_are_closed_after_the_handshake_timeout() {
    let sched = Scheduler::start(SchedulerOptions {
        handshake_timeout: QUICK,
        ..Default::default()
    });
    // Closed: the read ends (EOF, or a reset) instead of waiting for PATIENCE.
    let closed_soon = |mut s: std::net::TcpStream| {
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) => {
                    assert!(
                        !matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ),
                        "still open after {PATIENCE:?}"
                    );
                    break;
                }
            }
        }
        assert!(start.elapsed() < PATIENCE);
    };
    // Silent.
    closed_soon(std::net::TcpStream::connect(sched.host_port()).unwrap());
    // Slow-loris: two bytes of a hello, then nothing.
    let mut slow = std::net::TcpStream::connect(sched.host_port()).unwrap();
    slow.write_all(&[40, 0]).unwrap();
    closed_soon(slow);
    // A hello, but no registration: told why, then closed.
    rt().block_on(async {
        let s = connect(&sched.address, Role::Client, None, None, PATIENCE)
            .await
            .unwrap();
        let reason = goodbye_then_eof(s).await;
        assert!(reason.contains("handshake timeout"), "{reason}");
    });
    sched.assert_serves_clients(ClientOptions::default());
}

#[test]
fn connecting_to_a_silent_server_fails_with_a_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("tcp://{}", listener.local_addr().unwrap());
    // Accepts every connection and never says a word.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let start = Instant::now();
    let e = Client::connect_with(
        &address,
        ClientOptions {
            connect_timeout: QUICK,
            reconnect: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .err()
    .expect("no scheduler answers")
    .to_string();
    assert!(e.contains("timed out after 300ms"), "{e}");
    assert!(start.elapsed() < PATIENCE);
    let e = rt()
        .block_on(connect(&address, Role::Worker, None, None, QUICK))
        .err()
        .expect("a timeout");
    assert!(matches!(e, Error::TimedOut { .. }), "{e}");
}

#[test]
fn a_local_cluster_has_a_token_and_refuses_strangers_as_workers() {
    let cluster = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 0,
        ..Default::default()
    })
    .unwrap();
    let token = cluster.token().expect("a token made for the cluster");
    assert!(token.len() >= 32, "{token}");
    let e = rt()
        .block_on(connect(
            cluster.address(),
            Role::Worker,
            None,
            None,
            PATIENCE,
        ))
        .err()
        .expect("a stranger is refused")
        .to_string();
    assert!(e.contains("token"), "{e}");
    // The cluster's own client has the token.
    let client = cluster.client().unwrap();
    client.wait_for_workers(0, PATIENCE).unwrap();
    // A client told the token joins too.
    let told = Client::connect_with(
        cluster.address(),
        ClientOptions {
            token: Some(token.to_string()),
            ..Default::default()
        },
    );
    assert!(told.is_ok());
    // Two clusters make different tokens.
    let other = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 0,
        ..Default::default()
    })
    .unwrap();
    assert_ne!(other.token(), cluster.token());
    // Unless asked to be open.
    let open = LocalCluster::with_options(LocalClusterOptions {
        n_workers: 0,
        insecure: true,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(open.token(), None);
}

/// A CA and a certificate it signed for 127.0.0.1, as TLS settings.
fn tls() -> Tls {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    Tls::from_pem(
        ca.pem().as_bytes(),
        cert.pem().as_bytes(),
        key.serialize_pem().as_bytes(),
    )
    .unwrap()
}

#[test]
fn a_plain_client_at_a_tls_port_is_told_it_expects_tls_and_the_reverse() {
    let tls = tls();
    let secure = Scheduler::start(SchedulerOptions {
        tls: Some(tls.clone()),
        ..Default::default()
    });
    let e = Client::connect_with(
        &secure.address,
        ClientOptions {
            reconnect: QUICK,
            ..Default::default()
        },
    )
    .err()
    .expect("a plain client is refused")
    .to_string();
    assert!(e.contains("this endpoint expects TLS"), "{e}");
    assert!(!e.contains("is not a Brisk hello"), "{e}");
    secure.assert_serves_clients(ClientOptions {
        tls: Some(tls.clone()),
        ..Default::default()
    });

    let plain = Scheduler::start(SchedulerOptions::default());
    let e = Client::connect_with(
        &plain.address,
        ClientOptions {
            reconnect: QUICK,
            tls: Some(tls),
            ..Default::default()
        },
    )
    .err()
    .expect("a TLS client at a plain port fails")
    .to_string();
    assert!(e.contains("TLS"), "{e}");
    plain.assert_serves_clients(ClientOptions::default());
}

fn task(name: &str, deps: &[&Key]) -> NewTask {
    NewTask {
        key: Key::new(name, &[]),
        spec: TaskSpec {
            op: "never-run".into(),
            params: vec![],
        },
        dependencies: deps.iter().map(|k| (*k).clone()).collect(),
        order: 0,
    }
}

#[test]
fn protocol_errors_are_answered_before_the_connection_closes() {
    let sched = Scheduler::start(SchedulerOptions::default());
    rt().block_on(async {
        // A cycle a → b → c → a, below a task d that reads a: refused, naming a
        // key of the cycle, and the connection stays open.
        let (a, b, c) = (Key::new("a", &[]), Key::new("b", &[]), Key::new("c", &[]));
        let mut s = registered_client(&sched.address).await;
        let mut graph = Outgoing::default();
        graph.push(Msg::UpdateGraph {
            tasks: vec![
                task("d", &[&a]),
                task("a", &[&b]),
                task("b", &[&c]),
                task("c", &[&a]),
            ],
            wanted: vec![Key::new("d", &[])],
            user_priority: 0,
        });
        write_batch(&mut s, &graph, false).await.unwrap();
        let reply = tokio::time::timeout(PATIENCE, read_batch(&mut s, &Limits::default()))
            .await
            .expect("an answer")
            .unwrap()
            .unwrap();
        let Msg::KeyErred { key, error } = &reply[0].msg else {
            panic!("{:?}", reply[0].msg)
        };
        assert_eq!(key, &Key::new("d", &[]));
        // The search starts at d and meets a again first.
        assert!(error.contains(&format!("cycle through {a}")), "{error}");
        // An unknown key asked for.
        let mut unknown = Outgoing::default();
        unknown.push(Msg::UpdateGraph {
            tasks: vec![],
            wanted: vec![Key::new("nowhere", &[])],
            user_priority: 0,
        });
        write_batch(&mut s, &unknown, false).await.unwrap();
        let reply = read_batch(&mut s, &Limits::default()).await.unwrap().unwrap();
        assert!(
            matches!(&reply[0].msg, Msg::KeyErred { error, .. } if error.contains("neither in the graph nor known")),
            "{:?}",
            reply[0].msg
        );
        // A worker's message from a client: told, then disconnected.
        let mut wrong = Outgoing::default();
        wrong.push(Msg::Heartbeat);
        write_batch(&mut s, &wrong, false).await.unwrap();
        let reason = goodbye_then_eof(s).await;
        assert!(reason.contains("a client may not send Heartbeat"), "{reason}");
        // A second registration is out of order.
        let mut s = registered_client(&sched.address).await;
        let mut again = Outgoing::default();
        again.push(Msg::RegisterClient);
        write_batch(&mut s, &again, false).await.unwrap();
        let reason = goodbye_then_eof(s).await;
        assert!(reason.contains("may not send RegisterClient"), "{reason}");
        // A first message that registers nothing.
        let mut s = connect(&sched.address, Role::Client, None, None, PATIENCE)
            .await
            .unwrap();
        write_batch(&mut s, &wrong, false).await.unwrap();
        let reason = goodbye_then_eof(s).await;
        assert!(reason.contains("must register"), "{reason}");
    });
    sched.assert_serves_clients(ClientOptions::default());
}
