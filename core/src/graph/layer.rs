//! A layer: the named group of tasks that one collection method adds to a graph.

use super::task::Task;

/// A named group of tasks added by one collection method.
///
/// The name should carry the content token of the work (e.g. `"inc-3f9a…"`): graphs
/// merge layers by name.
#[derive(Debug)]
pub struct Layer {
    /// The layer's name.
    pub name: String,
    /// Its tasks.
    pub tasks: Vec<Task>,
}
