//! Model selection: cross-validation splitters, candidate parameters, and grid and
//! randomised search built as one content-hashed task graph.

mod grid;
mod ops;
mod plan;
mod results;
mod search;
mod split;

pub use grid::{Distribution, Grid, ParameterGrid, ParameterSampler};
pub use ops::{Fit, FitSeconds, Predict, Score, TakeRows, Transform};
pub use results::SearchResult;
pub use search::{run_all, GridSearchCV, Planned, RandomizedSearchCV};
pub use split::{Fold, KFold, PredefinedSplit, ShuffleSplit, Splitter, StratifiedKFold};
