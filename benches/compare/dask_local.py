"""The `brisk-bench local` graphs on Dask's threaded scheduler, as JSON lines.

    python3 benches/compare/dask_local.py

Same graphs as Brisk's bench: (a) 100,000 independent leaf tasks summed by a tree
reduction with fan-in 100, (b) a chain of 100,000 dependent tasks, (c) a binary tree
reduction over 100,000 leaves. Times are the median of the repetitions of
`dask.threaded.get(graph, key, num_workers=2)`, which includes Dask's own culling and
ordering, as Brisk's figure includes its lowering and ordering.
"""

import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import _venv  # noqa: E402

_venv.ensure(["dask==2026.8.0"] if os.environ.get("DASK_PIN") else ["dask"])

import dask  # noqa: E402
import dask.threaded  # noqa: E402

N = 100_000
REPS = int(os.environ.get("REPS", "3"))


def leaf(i):
    return i


def inc(x):
    return x + 1


def sum_list(xs):
    return sum(xs)


def tree_graph(n, split_every):
    dsk = {("leaf", i): (leaf, i) for i in range(n)}
    level = [("leaf", i) for i in range(n)]
    depth = 0
    while len(level) > 1:
        depth += 1
        nxt = []
        for j in range(0, len(level), split_every):
            key = ("sum", depth, j // split_every)
            dsk[key] = (sum_list, level[j : j + split_every])
            nxt.append(key)
        level = nxt
    return dsk, level[0]


def chain_graph(n):
    dsk = {("chain", 0): (leaf, 0)}
    for i in range(1, n):
        dsk[("chain", i)] = (inc, ("chain", i - 1))
    return dsk, ("chain", n - 1)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    cases = [
        ("local.independent", lambda: tree_graph(N, 100), sum(range(N))),
        ("local.chain", lambda: chain_graph(N), N - 1),
        ("local.tree", lambda: tree_graph(N, 2), sum(range(N))),
    ]
    for name, build, expected in cases:
        t = time.perf_counter()
        dsk, key = build()
        build_seconds = time.perf_counter() - t
        times = []
        for _ in range(REPS):
            t = time.perf_counter()
            got = dask.threaded.get(dsk, key, num_workers=2)
            times.append(time.perf_counter() - t)
            assert got == expected, (name, got, expected)
        seconds = statistics.median(times)
        print(
            json.dumps(
                {
                    "bench": name,
                    "tasks": len(dsk),
                    "seconds": round(seconds, 6),
                    "us_per_task": round(seconds * 1e6 / len(dsk), 3),
                    "peak_rss_mb": round(peak_rss_mb(), 1),
                    "build_seconds": round(build_seconds, 6),
                    "threads": 2,
                    "reps": REPS,
                    "runner": "dask.threaded " + dask.__version__,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
