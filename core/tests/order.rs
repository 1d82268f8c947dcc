//! `order()` keeps few results alive: each test draws its graph, runs the tasks one at
//! a time in priority order and in breadth-first (FIFO) order, and compares the peak
//! number of live results. The figures are recorded in `benches/RESULTS.md`
//! (`brisk-bench order` prints them).

use brisk_core::graph::Graph;
use brisk_core::order::{fifo_sequence, order, peak_live, sequence};
use brisk_core::shapes;
use brisk_core::{Key, TaskGraph};

fn lower(tasks: Vec<brisk_core::Task>, keys: &[Key]) -> TaskGraph {
    Graph::from_tasks("shape", tasks).lower(keys).unwrap()
}

fn peaks(g: &TaskGraph) -> (usize, usize) {
    let prio = order(g);
    let seq = sequence(&prio);
    // The priorities are a permutation and respect dependencies.
    let mut pos = vec![0; g.len()];
    for (i, t) in seq.iter().enumerate() {
        pos[t.idx()] = i;
    }
    for t in 0..g.len() {
        for d in g.dependencies(brisk_core::TaskId(t as u32)) {
            assert!(pos[d.idx()] < pos[t], "a task is ordered before its input");
        }
    }
    (peak_live(g, &seq), peak_live(g, &fifo_sequence(g)))
}

/// ```text
///  leaf leaf … leaf   (×8)  leaf … (×8)   …   4,096 leaves
///     \   |   /             \  |  /
///      reduce                reduce        …   512
///           \     …    /                        64, 8, 1
///               root
/// ```
/// Depth-first: at most 8 partial results per level are alive; breadth-first holds
/// every leaf.
#[test]
fn tree_reduction_keeps_one_branch_open_per_level() {
    let (tasks, root) = shapes::tree_reduction(4096, 8);
    let g = lower(tasks, &[root]);
    let (ordered, fifo) = peaks(&g);
    assert!(fifo >= 4096, "fifo peak {fifo}");
    assert!(ordered <= 8 * 4 + 1, "peak {ordered}");
    assert!(ordered * 100 < fifo);
}

/// ```text
///   x_0 … x_255 ─┬─▶ mean-chunk_i ─▶ mean tree ─┐
///                ├─▶ std-chunk_i  ─▶ std tree  ─┤
///                └──────────────────────────────┴─▶ z_i = (x_i - mean) / std
/// ```
/// Every x_i must live until both reductions are done; a good order holds little
/// more than that, breadth-first also holds every per-chunk partial.
#[test]
fn zscore_holds_the_chunks_but_not_the_partials() {
    let (tasks, z) = shapes::zscore(256);
    let g = lower(tasks, &z);
    let (ordered, fifo) = peaks(&g);
    assert!(ordered <= 256 + 256 / 8 + 16, "peak {ordered}");
    assert!(fifo >= 3 * 256, "fifo peak {fifo}");
    assert!(ordered < fifo);
}

/// ```text
///   input_i ─▶ split_i ─┬─▶ piece_(i,0) ─▶ output_0   (piece_(i,j) for all i
///                       ├─▶ piece_(i,1) ─▶ output_1    join in output_j)
///                       └─▶ …  (64 × 64 pieces)
/// ```
/// Outputs are built one at a time, so at most one column of pieces is alive;
/// breadth-first creates all 4,096 pieces first.
#[test]
fn shuffle_builds_one_output_at_a_time() {
    let (tasks, out) = shapes::shuffle(64);
    let g = lower(tasks, &out);
    let (ordered, fifo) = peaks(&g);
    assert!(ordered <= 64 + 64 + 64 + 2, "peak {ordered}");
    assert!(fifo >= 4096, "fifo peak {fifo}");
}

/// ```text
///   load_(0,0)  load_(0,1)  load_(0,2)          load_(1,0) …
///      │           │           │                   │
///   step_(0,0) ─▶ step_(0,1) ─▶ step_(0,2) ─▶ …   step_(1,0) ─▶ …
/// ```
/// Loads are run just before the step that reads them; breadth-first runs every load
/// of both chains first.
#[test]
fn two_chains_load_just_in_time_and_finish_one_chain_first() {
    let (tasks, ends) = shapes::two_chains(100);
    let g = lower(tasks, &ends);
    let (ordered, fifo) = peaks(&g);
    assert!(ordered <= 4, "peak {ordered}");
    assert!(fifo >= 200, "fifo peak {fifo}");
    // The first chain is finished before the second one starts.
    let seq = sequence(&order(&g));
    let chain_of = |t: &brisk_core::TaskId| g.key(*t).index()[0];
    let first_switch = seq
        .iter()
        .position(|t| chain_of(t) != chain_of(&seq[0]))
        .unwrap();
    assert_eq!(first_switch, 200, "chain interleaved at {first_switch}");
}

/// ```text
///   chain_0 ─▶ chain_1 ─▶ … ─▶ chain_99999
/// ```
/// Deep graphs are walked without recursion.
#[test]
fn a_chain_of_100k_is_ordered_without_recursion() {
    let (tasks, last) = shapes::chain(100_000);
    let g = lower(tasks, &[last]);
    let (ordered, fifo) = peaks(&g);
    assert_eq!((ordered, fifo), (2, 2));
}

/// Requested keys come first in the walk: with two independent outputs, the first
/// requested is finished first.
#[test]
fn request_order_is_walk_order() {
    let (mut tasks, a) = shapes::chain(3);
    let b = Key::new("other", &[]);
    tasks.push(brisk_core::Task::new(
        b.clone(),
        tasks[0].op.clone(),
        vec![],
    ));
    let g = lower(tasks, &[b.clone(), a.clone()]);
    let prio = order(&g);
    assert_eq!(prio[g.id_of(&b).unwrap().idx()], 0);
    assert_eq!(prio[g.id_of(&a).unwrap().idx()], 3);
}
