"""The `brisk-bench bag` queries with dask.bag, on the same files, as JSON lines.

    python3 benches/compare/dask_bag.py [--data DIR]

DIR defaults to the directory `brisk-bench bag` generates into
($TMPDIR/brisk-bench-github); run `brisk-bench bag` first to create the files. Each
query is timed from the files (read, decompress, parse) with the threads and the
processes schedulers; the median of the repetitions is printed.
"""

import glob
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import _venv  # noqa: E402

_venv.ensure(["dask[bag]"])

import dask  # noqa: E402
import dask.bag as db  # noqa: E402

REPS = int(os.environ.get("REPS", "3"))


def queries(pattern):
    def events():
        return db.read_text(pattern, compression="gzip").map(json.loads)

    return [
        ("bag.type_frequencies", lambda: events().pluck("type").frequencies()),
        ("bag.count", lambda: events().count()),
        (
            "bag.jupyter_top10_actors",
            lambda: events()
            .filter(lambda e: e["repo"]["name"].startswith("jupyter/"))
            .map(lambda e: e["actor"]["login"])
            .frequencies()
            .topk(10, key=lambda kv: kv[1]),
        ),
    ]


def main():
    args = sys.argv[1:]
    data = args[1] if len(args) == 2 and args[0] == "--data" else os.path.join(tempfile.gettempdir(), "brisk-bench-github")
    pattern = os.path.join(data, "*.json.gz")
    files = sorted(glob.glob(pattern))
    if not files:
        sys.exit(f"no files match {pattern}: run `brisk-bench bag` first")
    for scheduler in ["threads", "processes"]:
        for name, build in queries(pattern):
            times = []
            for _ in range(REPS):
                t = time.perf_counter()
                result = build().compute(scheduler=scheduler)
                times.append(time.perf_counter() - t)
            print(
                json.dumps(
                    {
                        "bench": name,
                        "files": len(files),
                        "scheduler": scheduler,
                        "seconds": round(statistics.median(times), 4),
                        "runner": "dask.bag " + dask.__version__,
                        "answer_size": len(result) if hasattr(result, "__len__") else result,
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
