//! GitHub-archive-like events: one gzipped NDJSON file per hour.

use super::Rng;
use crate::error;
use brisk_core::Result;
use brisk_io::compression::Compression;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Event types with their share of all events (roughly the archive's mix).
const TYPES: [(&str, f64); 12] = [
    ("PushEvent", 0.52),
    ("CreateEvent", 0.12),
    ("WatchEvent", 0.10),
    ("IssueCommentEvent", 0.07),
    ("PullRequestEvent", 0.05),
    ("IssuesEvent", 0.04),
    ("ForkEvent", 0.035),
    ("DeleteEvent", 0.02),
    ("PullRequestReviewCommentEvent", 0.015),
    ("GollumEvent", 0.01),
    ("ReleaseEvent", 0.01),
    ("MemberEvent", 0.01),
];

const WORDS: [&str; 16] = [
    "fix", "add", "update", "remove", "docs", "test", "refactor", "bump", "typo", "merge",
    "notebook", "kernel", "widget", "build", "readme", "release",
];

const ACTORS: u64 = 60_000;
const REPOS: u64 = 25_000;

/// The login of actor `i`.
fn login(i: u64) -> String {
    const SYL: [&str; 12] = [
        "ka", "ro", "mi", "te", "su", "no", "la", "vi", "de", "pa", "jo", "xe",
    ];
    let mut s = String::new();
    let mut x = i + 1;
    while x > 0 {
        s.push_str(SYL[(x % 12) as usize]);
        x /= 12;
    }
    write!(s, "{}", i % 97).ok();
    s
}

/// The full name of repository `i`: about 1 % live under `jupyter/`.
fn repo_name(i: u64) -> String {
    if i % 97 == 3 {
        format!(
            "jupyter/{}",
            [
                "notebook",
                "jupyterhub",
                "nbconvert",
                "ipywidgets",
                "jupyter_client",
                "docker-stacks"
            ][(i % 6) as usize]
        )
    } else {
        format!(
            "{}/{}-{}",
            login(i * 31 % ACTORS),
            WORDS[(i % 16) as usize],
            i
        )
    }
}

/// `(year, month, day)` of a day count since 1970-01-01 (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days from 1970-01-01 to 2015-01-01, where the generated archive starts.
const START_DAY: i64 = 16_436;

/// Writes `hours` hourly files of `events_per_hour` events each into `dir`, named like
/// the archive's (`2015-01-01-0.json.gz`, `2015-01-01-1.json.gz`, ...), and returns
/// their paths. The same arguments always write the same bytes.
///
/// Each line is one event with `id`, `type`, `actor`, `repo`, `payload`, `public`
/// and `created_at`, in the archive's shapes; actors and repositories are picked with
/// a skewed popularity, and about 1 % of repositories are under `jupyter/`.
pub fn github_events(
    hours: u32,
    events_per_hour: u32,
    seed: u64,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| error::io(format!("cannot create {}", dir.display()), e))?;
    let mut paths = Vec::with_capacity(hours as usize);
    let mut id = 2_489_651_045u64;
    for h in 0..hours {
        let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(h as u64));
        let (y, m, d) = civil(START_DAY + (h / 24) as i64);
        let hour = h % 24;
        let mut text = String::with_capacity(events_per_hour as usize * 700);
        for e in 0..events_per_hour {
            id += 1;
            let second = (e as u64 * 3600 / events_per_hour.max(1) as u64) as u32;
            let created = format!(
                "{y:04}-{m:02}-{d:02}T{hour:02}:{:02}:{:02}Z",
                second / 60,
                second % 60
            );
            write_event(&mut text, &mut rng, id, &created);
            text.push('\n');
        }
        let gz = Compression::Gzip
            .compress(text.as_bytes())
            .map_err(|e| error::io(format!("cannot compress hour {h}"), e))?;
        let path = dir.join(format!("{y:04}-{m:02}-{d:02}-{hour}.json.gz"));
        std::fs::write(&path, gz)
            .map_err(|e| error::io(format!("cannot write {}", path.display()), e))?;
        paths.push(path);
    }
    Ok(paths)
}

fn pick_type(rng: &mut Rng) -> &'static str {
    let mut u = rng.f64();
    for (t, share) in TYPES {
        if u < share {
            return t;
        }
        u -= share;
    }
    "PublicEvent"
}

fn sha(rng: &mut Rng) -> String {
    format!(
        "{:016x}{:016x}{:08x}",
        rng.next_u64(),
        rng.next_u64(),
        rng.next_u64() as u32
    )
}

fn message(rng: &mut Rng) -> String {
    let n = 2 + rng.below(5);
    (0..n)
        .map(|_| WORDS[rng.below(16) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_event(out: &mut String, rng: &mut Rng, id: u64, created: &str) {
    let kind = pick_type(rng);
    let actor_id = rng.skewed(ACTORS);
    let repo_id = rng.skewed(REPOS);
    let actor = login(actor_id);
    let repo = repo_name(repo_id);
    let payload = match kind {
        "PushEvent" => {
            let n = 1 + rng.skewed(8);
            let commits: Vec<String> = (0..n)
                .map(|_| {
                    let (s, msg) = (sha(rng), message(rng));
                    format!(
                        r#"{{"sha":"{s}","author":{{"email":"{actor}@example.com","name":"{actor}"}},"message":"{msg}","distinct":true,"url":"https://api.github.com/repos/{repo}/commits/{s}"}}"#
                    )
                })
                .collect();
            format!(
                r#"{{"push_id":{},"size":{n},"distinct_size":{n},"ref":"refs/heads/master","head":"{}","before":"{}","commits":[{}]}}"#,
                536_740_000 + id % 1_000_000,
                sha(rng),
                sha(rng),
                commits.join(",")
            )
        }
        "CreateEvent" => {
            let ref_type = ["repository", "branch", "tag"][rng.below(3) as usize];
            format!(
                r#"{{"ref":"master","ref_type":"{ref_type}","master_branch":"master","description":"{}","pusher_type":"user"}}"#,
                message(rng)
            )
        }
        "WatchEvent" => r#"{"action":"started"}"#.to_string(),
        "IssueCommentEvent"
        | "IssuesEvent"
        | "PullRequestEvent"
        | "PullRequestReviewCommentEvent" => {
            let action = ["opened", "closed", "created", "reopened"][rng.below(4) as usize];
            format!(
                r#"{{"action":"{action}","number":{},"title":"{}","body":"{}"}}"#,
                1 + rng.skewed(5000),
                message(rng),
                message(rng)
            )
        }
        "ForkEvent" => format!(
            r#"{{"forkee":{{"id":{},"full_name":"{actor}/{}"}}}}"#,
            30_000_000 + rng.below(1_000_000),
            repo.rsplit('/').next().unwrap_or("fork")
        ),
        _ => "{}".to_string(),
    };
    write!(
        out,
        r#"{{"id":"{id}","type":"{kind}","actor":{{"id":{},"login":"{actor}","gravatar_id":"","url":"https://api.github.com/users/{actor}","avatar_url":"https://avatars.githubusercontent.com/u/{}?"}},"repo":{{"id":{},"name":"{repo}","url":"https://api.github.com/repos/{repo}"}},"payload":{payload},"public":true,"created_at":"{created}"}}"#,
        100_000 + actor_id,
        100_000 + actor_id,
        28_000_000 + repo_id
    )
    .ok();
}

#[cfg(test)]
mod tests {
    use super::civil;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(super::START_DAY), (2015, 1, 1));
        assert_eq!(civil(super::START_DAY + 31), (2015, 2, 1));
        assert_eq!(civil(super::START_DAY + 59), (2015, 3, 1));
    }
}
