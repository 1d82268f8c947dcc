//! A mutation fuzzer on proptest, for the readers of untrusted bytes (the wire
//! protocol, NetCDF headers, CSV blocks). It runs on stable Rust, inside `cargo test`.
//!
//! Inputs start from valid encodings (a corpus each fuzz test builds) and are edited:
//! bit flips, bytes overwritten or inserted (random ones or words of a dictionary:
//! boundary lengths, format markers, tokens), runs deleted or duplicated, a cut at
//! any point, and runs spliced in from another seed; some inputs are plain random
//! bytes. proptest shrinks a failing input to a small list of edits.
//!
//! Each target runs for `BRISK_FUZZ_SECONDS` seconds (default 3), in chunks of
//! cases with fresh random seeds. A failure prints the shrunk input as
//! `hex("…")` (paste it into a regression test) and the chunk's seed:
//! `BRISK_FUZZ_SEED=<seed> BRISK_FUZZ_CASES=<n>` runs that chunk again. A failure
//! that ends the process (a stack overflow, a panic that cannot unwind) leaves only
//! the seeds of the chunks on stderr: run the last one again with
//! `BRISK_FUZZ_LAST=<file>`, which receives each input before it runs.
//!
//! [`Tracking`] is a global allocator that records the largest single allocation of
//! each thread, so a target can check that no length field made a reader allocate
//! beyond its limits (a huge zeroed allocation costs nothing on Linux until touched,
//! so it would otherwise go unnoticed).
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes that print as `hex("…")`, ready to paste into a regression test.
#[derive(Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hex(\"")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, "\")")
    }
}

/// The bytes of a hex string (as [`Bytes`] prints them); whitespace is ignored.
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "an odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).expect("hex digits");
            u8::from_str_radix(text, 16).expect("hex digits")
        })
        .collect()
}

/// One edit of an input. Positions are [`Index`]es, scaled to the input's length
/// when the edit is applied.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flips one bit.
    FlipBit { at: Index, bit: u8 },
    /// Sets one byte.
    SetByte { at: Index, byte: u8 },
    /// Overwrites bytes with a word of the dictionary.
    Overwrite { at: Index, word: Index },
    /// Overwrites bytes at a multiple of four (where the fields of formats of
    /// 32-bit words lie) with a word of the dictionary.
    OverwriteAligned { at: Index, word: Index },
    /// Inserts a word of the dictionary.
    InsertWord { at: Index, word: Index },
    /// Inserts random bytes.
    InsertBytes { at: Index, bytes: Vec<u8> },
    /// Deletes a run.
    Delete { at: Index, len: usize },
    /// Copies a run to another place (inserted there).
    Duplicate { from: Index, len: usize, to: Index },
    /// Cuts the input.
    Truncate { at: Index },
    /// Inserts a run of another seed.
    Splice {
        seed: Index,
        from: Index,
        len: usize,
        at: Index,
    },
}

/// Valid inputs to start from, and the words that edits insert.
#[derive(Debug, Clone)]
pub struct Corpus {
    pub seeds: Vec<Vec<u8>>,
    pub words: Vec<Vec<u8>>,
}

impl Corpus {
    /// Seeds with the [`binary_words`] dictionary.
    pub fn new(seeds: Vec<Vec<u8>>) -> Corpus {
        assert!(!seeds.is_empty(), "a corpus needs a seed");
        Corpus {
            seeds,
            words: binary_words(),
        }
    }

    /// Adds words to the dictionary.
    pub fn with_words(mut self, words: impl IntoIterator<Item = Vec<u8>>) -> Corpus {
        self.words
            .extend(words.into_iter().filter(|w| !w.is_empty()));
        self
    }

    /// Seed `seed` with `edits` applied in order.
    pub fn mutate(&self, seed: &Index, edits: &[Mutation]) -> Vec<u8> {
        let mut b = seed.get(&self.seeds).clone();
        for m in edits {
            self.apply(&mut b, m);
        }
        b
    }

    fn apply(&self, b: &mut Vec<u8>, m: &Mutation) {
        // A position inside the input, or `None` when it is empty.
        let inside = |at: &Index, b: &Vec<u8>| (!b.is_empty()).then(|| at.index(b.len()));
        // A position to insert at (the end included).
        let between = |at: &Index, b: &Vec<u8>| at.index(b.len() + 1);
        match m {
            Mutation::FlipBit { at, bit } => {
                if let Some(i) = inside(at, b) {
                    b[i] ^= 1 << (bit % 8);
                }
            }
            Mutation::SetByte { at, byte } => {
                if let Some(i) = inside(at, b) {
                    b[i] = *byte;
                }
            }
            Mutation::Overwrite { at, word } => {
                if let Some(i) = inside(at, b) {
                    let w = word.get(&self.words);
                    let n = w.len().min(b.len() - i);
                    b[i..i + n].copy_from_slice(&w[..n]);
                }
            }
            Mutation::OverwriteAligned { at, word } => {
                if b.len() >= 4 {
                    let i = at.index(b.len() / 4) * 4;
                    let w = word.get(&self.words);
                    let n = w.len().min(b.len() - i);
                    b[i..i + n].copy_from_slice(&w[..n]);
                }
            }
            Mutation::InsertWord { at, word } => {
                let i = between(at, b);
                let w = word.get(&self.words);
                b.splice(i..i, w.iter().copied());
            }
            Mutation::InsertBytes { at, bytes } => {
                let i = between(at, b);
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete { at, len } => {
                if let Some(i) = inside(at, b) {
                    let end = (i + len).min(b.len());
                    b.drain(i..end);
                }
            }
            Mutation::Duplicate { from, len, to } => {
                if let Some(i) = inside(from, b) {
                    let run = b[i..(i + len).min(b.len())].to_vec();
                    let j = between(to, b);
                    b.splice(j..j, run);
                }
            }
            Mutation::Truncate { at } => {
                let i = between(at, b);
                b.truncate(i);
            }
            Mutation::Splice {
                seed,
                from,
                len,
                at,
            } => {
                let other = seed.get(&self.seeds);
                if !other.is_empty() {
                    let i = from.index(other.len());
                    let run = &other[i..(i + len).min(other.len())];
                    let j = between(at, b);
                    b.splice(j..j, run.iter().copied());
                }
            }
        }
    }
}

/// Boundary values as a decoder meets them: single bytes (0, 0x7f, 0x80, 0xff...)
/// and 16, 32 and 64-bit integers (lengths, counts, offsets) in both byte orders.
pub fn binary_words() -> Vec<Vec<u8>> {
    let values: [u64; 22] = [
        0,
        1,
        2,
        0x7f,
        0x80,
        0xff,
        0x100,
        0x7fff,
        0x8000,
        0xffff,
        0x1_0000,
        1 << 20,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_fffe,
        0xffff_ffff,
        1 << 32,
        1 << 40,
        1 << 62,
        1 << 63,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut words = Vec::new();
    for v in values {
        if v <= 0xff {
            words.push(vec![v as u8]);
        }
        if v <= 0xffff {
            words.push((v as u16).to_le_bytes().to_vec());
            words.push((v as u16).to_be_bytes().to_vec());
        }
        if v <= 0xffff_ffff {
            words.push((v as u32).to_le_bytes().to_vec());
            words.push((v as u32).to_be_bytes().to_vec());
        }
        words.push(v.to_le_bytes().to_vec());
        words.push(v.to_be_bytes().to_vec());
    }
    words
}

/// One edit, each kind about equally likely (cuts and splices a little less).
pub fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<Index>;
    prop_oneof![
        3 => (at(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        3 => (at(), any::<u8>()).prop_map(|(at, byte)| Mutation::SetByte { at, byte }),
        3 => (at(), at()).prop_map(|(at, word)| Mutation::Overwrite { at, word }),
        2 => (at(), at()).prop_map(|(at, word)| Mutation::OverwriteAligned { at, word }),
        3 => (at(), at()).prop_map(|(at, word)| Mutation::InsertWord { at, word }),
        2 => (at(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::InsertBytes { at, bytes }),
        2 => (at(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (at(), 1usize..64, at())
            .prop_map(|(from, len, to)| Mutation::Duplicate { from, len, to }),
        1 => at().prop_map(|at| Mutation::Truncate { at }),
        1 => (at(), at(), 1usize..256, at())
            .prop_map(|(seed, from, len, at)| Mutation::Splice { seed, from, len, at }),
    ]
}

/// Inputs for a target: mostly seeds with one to eight edits, some seeds as they
/// are, and some random bytes (up to `max_random` of them).
pub fn inputs(corpus: Corpus, max_random: usize) -> BoxedStrategy<Bytes> {
    let corpus = Arc::new(corpus);
    let whole = corpus.clone();
    let edited = corpus.clone();
    prop_oneof![
        1 => any::<Index>().prop_map(move |seed| Bytes(whole.mutate(&seed, &[]))),
        16 => (any::<Index>(), proptest::collection::vec(mutation(), 1..8))
            .prop_map(move |(seed, edits)| Bytes(edited.mutate(&seed, &edits))),
        2 => proptest::collection::vec(any::<u8>(), 0..max_random).prop_map(Bytes),
    ]
    .boxed()
}

/// The time each target runs: `BRISK_FUZZ_SECONDS` (default 3).
pub fn budget() -> Duration {
    let seconds = std::env::var("BRISK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(3.0);
    Duration::from_secs_f64(seconds)
}

/// What a run did.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub cases: u64,
    pub chunks: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn per_second(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn fresh_seed(chunk: u64) -> [u8; 32] {
    let mut seed = [0u8; 32];
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    for (i, part) in seed.chunks_mut(8).enumerate() {
        // A per-process random key, mixed with the time, the chunk and the part.
        let mut h = RandomState::new().build_hasher();
        h.write_u64(nanos);
        h.write_u64(chunk);
        h.write_usize(i);
        part.copy_from_slice(&h.finish().to_le_bytes());
    }
    seed
}

fn seed_hex(seed: &[u8; 32]) -> String {
    seed.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `test` on inputs of `strategy` for [`budget`] (at least one chunk), in
/// chunks of cases with fresh seeds; panics with the shrunk input and the seed
/// when a case fails or panics. `BRISK_FUZZ_SEED` (and `BRISK_FUZZ_CASES`) runs one
/// chunk again instead.
pub fn fuzz<S>(name: &str, strategy: S, test: impl Fn(&S::Value) -> Result<(), String>) -> Summary
where
    S: Strategy,
    S::Value: fmt::Debug,
{
    let replay: Option<[u8; 32]> = std::env::var("BRISK_FUZZ_SEED").ok().map(|s| {
        hex(&s)
            .try_into()
            .expect("BRISK_FUZZ_SEED is 64 hex digits")
    });
    let replay_cases: Option<u32> = std::env::var("BRISK_FUZZ_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok());
    // Where each input is written before it runs, for a failure that ends the
    // process before proptest can report it (a stack overflow, an abort).
    let last = std::env::var_os("BRISK_FUZZ_LAST");
    let budget = budget();
    let start = Instant::now();
    let deadline = start + budget;
    let (mut cases, mut chunks) = (0u64, 0u64);
    // Chunks of about half a second (at most a quarter of the budget), sized from
    // the rate so far.
    let chunk_time = (budget / 4).clamp(Duration::from_millis(50), Duration::from_millis(500));
    let mut chunk_cases: u32 = replay_cases.unwrap_or(16);
    loop {
        let seed = replay.unwrap_or_else(|| fresh_seed(chunks));
        eprintln!(
            "{name}: chunk {chunks}: BRISK_FUZZ_SEED={} BRISK_FUZZ_CASES={chunk_cases}",
            seed_hex(&seed)
        );
        let config = Config {
            cases: chunk_cases,
            failure_persistence: None,
            max_shrink_iters: 20_000,
            max_shrink_time: 60_000,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        let t0 = Instant::now();
        let outcome = runner.run(&strategy, |v| {
            if let Some(path) = &last {
                let _ = std::fs::write(path, format!("{v:?}\n"));
            }
            test(&v).map_err(TestCaseError::fail)
        });
        match outcome {
            Ok(()) => {}
            Err(TestError::Fail(reason, input)) => panic!(
                "{name} failed: {reason}\n  input (shrunk): {input:?}\n  \
                 again: BRISK_FUZZ_SEED={} BRISK_FUZZ_CASES={chunk_cases}",
                seed_hex(&seed)
            ),
            Err(TestError::Abort(reason)) => panic!(
                "{name} aborted: {reason} (BRISK_FUZZ_SEED={})",
                seed_hex(&seed)
            ),
        }
        cases += u64::from(chunk_cases);
        chunks += 1;
        let now = Instant::now();
        if replay.is_some() || now >= deadline {
            break;
        }
        let per_case = t0.elapsed().as_secs_f64() / f64::from(chunk_cases);
        let left = (deadline - now).min(chunk_time).as_secs_f64();
        chunk_cases = (left / per_case.max(1e-7)).clamp(1.0, 1e6) as u32;
    }
    let summary = Summary {
        cases,
        chunks,
        elapsed: start.elapsed(),
    };
    println!(
        "{name}: {} cases in {:.1} s ({:.0} cases/s, {} chunks)",
        summary.cases,
        summary.elapsed.as_secs_f64(),
        summary.per_second(),
        summary.chunks
    );
    summary
}

/// A scratch directory for the files of one target, removed when dropped. Every
/// case gets a fresh file name: readers cache what they opened by name, size and
/// modification time, which two quick writes may share.
pub struct Scratch {
    dir: PathBuf,
    next: AtomicU64,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("brisk-fuzz-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch {
            dir,
            next: AtomicU64::new(0),
        }
    }

    /// A path for a new file, with `extension`.
    pub fn file(&self, extension: &str) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("{n}.{extension}"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|c| {
        if size > c.get() {
            c.set(size)
        }
    });
}

/// The system allocator, recording the largest single allocation of each thread
/// (see [`largest_allocation`]). A test file opts in with
/// `#[global_allocator] static ALLOCATOR: fuzz::Tracking = fuzz::Tracking;`.
pub struct Tracking;

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// Runs `f` and returns its result with the largest single allocation it made on
/// this thread (0 unless [`Tracking`] is the global allocator).
pub fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = LARGEST.with(|c| c.replace(0));
    let out = f();
    let largest = LARGEST.with(|c| c.replace(before.max(c.get())));
    (out, largest)
}
