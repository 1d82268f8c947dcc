//! Spill to disk: values come back from their files equal, least recently used
//! go first, a damaged file is an error naming the key and the file (never a
//! wrong value), a failed write keeps the value in memory, and the memory
//! manager's thresholds act in Dask's order.

use brisk_core::Value;
use brisk_scheduler::distributed::worker_memory::*;
use brisk_scheduler::spill::{file, SpillBuffer, Spiller};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brisk-spill-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn bytes(n: usize, seed: u8) -> Value {
    Arc::new(
        (0..n)
            .map(|i| (i as u8).wrapping_mul(seed))
            .collect::<Vec<u8>>(),
    )
}

fn as_bytes(v: &Value) -> &[u8] {
    v.as_bytes().expect("a byte value")
}

#[test]
fn values_come_back_from_their_files_equal_compressed_or_not() {
    let dir = scratch("roundtrip");
    std::fs::create_dir_all(&dir).unwrap();
    // Compressible (zeros), incompressible (a noisy pattern), and a typed value
    // with its own encoding.
    let zeros: Value = Arc::new(vec![0u8; 1 << 20]);
    let mut x = 7u64;
    let noise: Value = Arc::new(
        (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect::<Vec<u8>>(),
    );
    for (name, v) in [("zeros", &zeros), ("noise", &noise)] {
        let p = dir.join(name);
        let written = file::write(&p, v).unwrap();
        assert_eq!(written, std::fs::metadata(&p).unwrap().len());
        let back = file::read(&p).unwrap();
        assert_eq!(as_bytes(&back), as_bytes(v), "{name}");
    }
    let zeros_on_disk = std::fs::metadata(dir.join("zeros")).unwrap().len();
    let noise_on_disk = std::fs::metadata(dir.join("noise")).unwrap().len();
    assert!(
        zeros_on_disk < 1 << 16,
        "LZ4 where it pays: {zeros_on_disk}"
    );
    assert!(
        noise_on_disk > 1 << 20,
        "raw where it does not: {noise_on_disk}"
    );
    let text: Value = Arc::new("a string value".to_string());
    file::write(&dir.join("text"), &text).unwrap();
    let back = file::read(&dir.join("text")).unwrap();
    assert_eq!(back.downcast_ref::<String>().unwrap(), "a string value");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_truncated_or_corrupt_file_is_an_error_naming_it() {
    let dir = scratch("damaged");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("v.spill");
    file::write(&p, &bytes(100_000, 3)).unwrap();
    let whole = std::fs::read(&p).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", whole[..whole.len() - 10].to_vec()),
        ("no header", whole[..10].to_vec()),
        ("empty", Vec::new()),
        ("flipped", {
            let mut b = whole.clone();
            let mid = b.len() / 2;
            b[mid] ^= 1;
            b
        }),
        (
            "not ours",
            b"hello, world, this is not a spill file".to_vec(),
        ),
        ("huge header", {
            let mut b = whole.clone();
            b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
            b
        }),
    ];
    for (what, content) in cases {
        std::fs::write(&p, content).unwrap();
        let e = file::read(&p).unwrap_err().to_string();
        assert!(e.contains("v.spill"), "{what}: {e}");
    }
    // Through a spiller the error names the key too, and the value is dropped
    // (the caller computes it again).
    let s: Spiller<String> = Spiller::new(&dir.join("spiller")).unwrap();
    s.insert("x".into(), bytes(100_000, 5));
    assert_eq!(s.spill_until(0).values, 1);
    let files: Vec<_> = std::fs::read_dir(s.dir()).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    std::fs::write(files[0].path(), b"BRSPILL1 but then nothing").unwrap();
    let e = s.get(&"x".to_string()).unwrap_err().to_string();
    assert!(e.contains("key x") && e.contains(".spill"), "{e}");
    assert!(!s.contains(&"x".to_string()));
    assert_eq!(std::fs::read_dir(s.dir()).unwrap().count(), 0);
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_least_recently_used_go_first_and_come_back_on_use() {
    let dir = scratch("lru");
    let s: Spiller<u32> = Spiller::new(&dir).unwrap();
    for i in 0..5 {
        s.insert(i, bytes(1000, i as u8 + 1));
    }
    // Using 0 makes 1 the least recently used.
    s.get(&0).unwrap();
    let report = s.spill_until(3000);
    assert_eq!((report.values, report.bytes), (2, 2000));
    assert!(s.lock().is_spilled(&1) && s.lock().is_spilled(&2));
    assert!(!s.lock().is_spilled(&0));
    assert_eq!((s.memory_bytes(), s.spilled_bytes()), (3000, 2000));
    // Read back: equal, in memory again, its file gone.
    let v = s.get(&1).unwrap().unwrap();
    assert_eq!(as_bytes(&v), as_bytes(&bytes(1000, 2)));
    assert!(!s.lock().is_spilled(&1));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let t = s.totals();
    assert!(t.written >= 2000 && t.read >= 1000, "{t:?}");
    s.remove(&2);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    s.lock().validate().unwrap();
    drop(s);
    assert!(!dir.exists(), "the folder goes with the spiller");
}

#[test]
fn a_failed_write_keeps_the_value_in_memory() {
    let dir = scratch("full");
    let s: Spiller<u32> = Spiller::new(&dir).unwrap();
    s.insert(1, bytes(1000, 1));
    s.insert(2, bytes(1000, 2));
    // The folder vanishes (as a full or failing disk refuses a write).
    std::fs::remove_dir_all(&dir).unwrap();
    let report = s.spill_until(0);
    assert_eq!((report.values, report.failed), (0, 1));
    assert_eq!(s.memory_bytes(), 2000);
    s.lock().validate().unwrap();
    // Once the disk takes writes again, spilling goes on.
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(s.spill_until(0).values, 2);
    for i in [1, 2] {
        let v = s.get(&i).unwrap().unwrap();
        assert_eq!(as_bytes(&v), as_bytes(&bytes(1000, i as u8)));
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u16),
    Remove(u8),
    Lookup(u8),
    Victim,
    Spilled,
    Failed,
    Unspill(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..8u8, 1..500u16).prop_map(|(k, n)| Op::Insert(k, n)),
        1 => (0..8u8).prop_map(Op::Remove),
        2 => (0..8u8).prop_map(Op::Lookup),
        2 => Just(Op::Victim),
        2 => Just(Op::Spilled),
        1 => Just(Op::Failed),
        2 => (0..8u8).prop_map(Op::Unspill),
    ]
}

proptest! {
    /// Whatever the order of uses, writes and reads, the buffer's byte counts and
    /// LRU order agree with the values it holds, and every key held is found.
    #[test]
    fn the_buffer_stays_consistent(ops in prop::collection::vec(op(), 1..80)) {
        let mut b: SpillBuffer<u8> = SpillBuffer::new();
        let mut pending: Vec<(u8, Value)> = Vec::new();
        let mut files = 0u32;
        for o in ops {
            match o {
                Op::Insert(k, n) => { b.insert(k, bytes(n as usize, k)); }
                Op::Remove(k) => { b.remove(&k); }
                Op::Lookup(k) => { b.lookup(&k); }
                Op::Victim => pending.extend(b.victim()),
                Op::Spilled => if let Some((k, v)) = pending.pop() {
                    files += 1;
                    b.spilled(&k, &v, PathBuf::from(format!("{files}")), 10);
                },
                Op::Failed => if let Some((k, _)) = pending.pop() { b.spill_failed(&k); },
                Op::Unspill(k) => {
                    if let Some(brisk_scheduler::spill::Lookup::Spilled(p)) = b.lookup(&k) {
                        b.unspilled(&k, &p, bytes(3, k));
                    }
                }
            }
            prop_assert!(b.validate().is_ok(), "{:?}", b.validate());
        }
        let held: Vec<u8> = b.keys().copied().collect();
        for k in held {
            prop_assert!(b.lookup(&k).is_some());
        }
    }
}

#[test]
fn the_memory_manager_spills_pauses_and_terminates_in_dasks_order() {
    let limit = 1000;
    let mut m = MemoryManager::new(limit, MemoryThresholds::default());
    let sample = |m: &mut MemoryManager, process, managed| {
        let out = m.handle(MemoryEvent::Sample { process, managed });
        m.validate().unwrap();
        out
    };
    use MemoryInstruction as I;
    // Under every threshold: nothing.
    assert_eq!(sample(&mut m, 500, 400), vec![]);
    assert_eq!(m.handle(MemoryEvent::Managed { bytes: 600 }), vec![]);
    // Managed past the target (0.6): spill to it.
    assert_eq!(
        m.handle(MemoryEvent::Managed { bytes: 650 }),
        vec![I::Spill { down_to: 600 }]
    );
    // The process past 0.7 with 300 unmanaged: spill until the process would be
    // at the target.
    assert_eq!(sample(&mut m, 750, 450), vec![I::Spill { down_to: 300 }]);
    // Past 0.8: pause too.
    assert_eq!(
        sample(&mut m, 820, 300),
        vec![I::Spill { down_to: 80 }, I::Pause]
    );
    assert_eq!(m.status(), MemoryStatus::Paused);
    assert_eq!(sample(&mut m, 810, 100), vec![I::Spill { down_to: 0 }]);
    // Back under 0.8: resume.
    assert_eq!(sample(&mut m, 650, 100), vec![I::Resume]);
    assert_eq!(m.status(), MemoryStatus::Running);
    // Past 0.95: pause and terminate, once.
    assert_eq!(
        sample(&mut m, 960, 0),
        vec![
            I::Spill { down_to: 0 },
            I::Pause,
            I::Terminate { process: 960 }
        ]
    );
    assert_eq!(sample(&mut m, 400, 0), vec![]);
    assert_eq!(m.status(), MemoryStatus::Terminating);
    // No limit: never anything.
    let mut none = MemoryManager::new(0, MemoryThresholds::default());
    assert_eq!(sample(&mut none, u64::MAX / 2, 1 << 40), vec![]);
    // Without a terminate threshold (no nanny) the worker stays paused instead.
    let mut no_nanny = MemoryManager::new(
        limit,
        MemoryThresholds {
            terminate: None,
            ..MemoryThresholds::default()
        },
    );
    assert_eq!(
        sample(&mut no_nanny, 990, 0),
        vec![I::Spill { down_to: 0 }, I::Pause]
    );
    assert!(process_memory() > 0);
}
