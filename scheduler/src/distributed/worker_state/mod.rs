//! The worker's state machine: which tasks wait for inputs, which inputs to fetch
//! from which peer, what to run next. Pure, like the scheduler's: the worker
//! server feeds it [`WorkerEvent`]s and carries out the [`WorkerInstruction`]s
//! (running ops on its thread pool, talking to peers and to the scheduler).
//!
//! Task states (Dask's worker vocabulary): `waiting` (some inputs not here yet),
//! `ready` (in the ready heap, by priority), `executing`, `cancelled` (freed by the
//! scheduler while executing: the result is dropped when it comes, unless the
//! scheduler asks for the task again first), `fetch` (an input to get from a peer,
//! in the fetch queue of each peer holding it), `flight` (being fetched),
//! `memory`. A key that leaves the state is `released`. Why a key is kept is
//! [`Keep`]: inputs fetched only to run a task here are dropped once no task here
//! needs them; results the scheduler counts on (computed, scattered or replicated
//! here) are kept until it says `Free`.
//!
//! The files: [`types`](self) (events, instructions, states), `state`
//! ([`WorkerState`] and its indexes: the ready heap, the per-peer fetch queues),
//! `events` (one `on_<event>` handler per event), `transitions` (the table: one
//! `transition_<from>_<to>` function per pair, reached through one `match`, and a
//! bounded story per task), `validate` (every index against the tasks' states, in
//! linear time).
//!
//! Per event, the work is proportional to the keys the event touches, never to
//! the number of keys held: the ready heap and the fetch queues are kept as the
//! states change.
//!
//! ```
//! use brisk_scheduler::distributed::worker_state::*;
//! use brisk_scheduler::distributed::{Priority, TaskSpec, WorkerId};
//! use brisk_core::Key;
//! let mut w = WorkerState::new(1);
//! let (x, y) = (Key::new("x", &[]), Key::new("y", &[]));
//! let spec = TaskSpec { op: "inc".into(), params: vec![] };
//! let out = w.handle(WorkerEvent::Compute { key: y.clone(), spec: spec.clone(),
//!     inputs: vec![(x.clone(), vec![WorkerId(2)])], priority: Priority::new(0, 1, 1), send_value: false, run: 1 });
//! assert_eq!(out, vec![WorkerInstruction::Fetch { peer: WorkerId(2), keys: vec![x.clone()] }]);
//! let out = w.handle(WorkerEvent::FetchDone { peer: WorkerId(2), received: vec![(x.clone(), 8)], missing: vec![] });
//! assert_eq!(out, vec![WorkerInstruction::Execute { key: y.clone(), spec, inputs: vec![x.clone()] }]);
//! w.validate().unwrap();
//! let story: Vec<String> = w.story(&x).iter().map(|l| format!("{} -> {}", l.from, l.to)).collect();
//! assert_eq!(story, ["released -> fetch", "fetch -> flight", "flight -> memory"]);
//! ```

mod events;
mod state;
mod transitions;
mod types;
mod validate;

pub use state::WorkerState;
pub use types::{Keep, WorkerEvent, WorkerInstruction, WorkerTaskStatus};
