//! One story of a key from the scheduler's and every worker's: lines joined by
//! the stimulus that caused them (Dask's `Client.story`).
//!
//! A line caused by the scheduler carries the scheduler's stimulus id (`s12`);
//! a worker's own events carry its own ids (`w3`), which are placed after the
//! scheduler stimulus that came before them in that worker's story.

use super::snapshot::StoryEntry;

/// The scheduler's sequence number in a stimulus id (`s12` → 12).
fn scheduler_seq(stimulus_id: &str) -> Option<u64> {
    stimulus_id.strip_prefix('s')?.parse().ok()
}

/// Joins stories: `scheduler`'s lines and each worker's, each in its own order.
/// The result is grouped by key, then by scheduler stimulus (the scheduler's
/// line first, then the workers' lines for that stimulus), each source's lines
/// kept in their order.
///
/// ```
/// use brisk_scheduler::distributed::observe::{join_stories, StoryEntry};
/// let line = |source: &str, from: &str, to: &str, id: &str| StoryEntry {
///     key: "x".into(), source: source.into(), from: from.into(), to: to.into(),
///     stimulus: "e".into(), stimulus_id: id.into(),
/// };
/// let scheduler = vec![line("scheduler", "released", "processing", "s1"),
///                      line("scheduler", "processing", "memory", "s2")];
/// let worker = vec![line("w", "released", "executing", "s1"),
///                   line("w", "executing", "memory", "w1")];
/// let joined = join_stories(scheduler, vec![worker]);
/// let order: Vec<(&str, &str)> = joined.iter().map(|l| (&*l.source, &*l.to)).collect();
/// assert_eq!(order, [("scheduler", "processing"), ("w", "executing"), ("w", "memory"),
///                    ("scheduler", "memory")]);
/// ```
pub fn join_stories(scheduler: Vec<StoryEntry>, workers: Vec<Vec<StoryEntry>>) -> Vec<StoryEntry> {
    // (key, anchor, part within the anchor, source rank, position, line)
    let mut all: Vec<(String, u64, u8, usize, usize, StoryEntry)> = Vec::new();
    let sources = std::iter::once(scheduler).chain(workers);
    for (rank, lines) in sources.enumerate() {
        let mut anchor = 0u64;
        for (pos, line) in lines.into_iter().enumerate() {
            // A worker's own event follows what the scheduler said last: it
            // sorts after every line of that stimulus.
            let part = match scheduler_seq(&line.stimulus_id) {
                Some(seq) => {
                    anchor = seq;
                    0
                }
                None => 1,
            };
            all.push((line.key.clone(), anchor, part, rank, pos, line));
        }
    }
    all.sort_by(|a, b| (&a.0, a.1, a.2, a.3, a.4).cmp(&(&b.0, b.1, b.2, b.3, b.4)));
    all.into_iter().map(|t| t.5).collect()
}

/// Reads a key as it is shown (`'x-1f2e…'` or `('x-1f2e…', 0, 3)`), or a bare
/// name; `None` when the text is neither.
///
/// ```
/// use brisk_scheduler::distributed::observe::parse_key;
/// use brisk_core::Key;
/// let k = Key::new("inc-ab", &[0, 3]);
/// assert_eq!(parse_key(&k.to_string()), Some(k));
/// assert_eq!(parse_key("'sum'"), Some(Key::new("sum", &[])));
/// assert_eq!(parse_key("sum"), Some(Key::new("sum", &[])));
/// assert_eq!(parse_key("('x', y)"), None);
/// ```
pub fn parse_key(text: &str) -> Option<brisk_core::Key> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let unquote = |s: &str| -> Option<String> {
        let s = s.trim();
        let inner = s
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .or_else(|| s.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
            .unwrap_or(s);
        (!inner.is_empty()).then(|| inner.to_string())
    };
    match text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) => {
            let mut parts = inner.split(',');
            let name = unquote(parts.next()?)?;
            let index = parts
                .map(|p| p.trim().parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some(brisk_core::Key::new(name, &index))
        }
        None => Some(brisk_core::Key::new(unquote(text)?, &[])),
    }
}
