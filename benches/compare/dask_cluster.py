"""`brisk-bench cluster` on a dask.distributed LocalCluster of the same shape
(2 worker processes x 1 thread), as JSON lines.

    python3 benches/compare/dask_cluster.py [--data DIR]

The six NYC-taxi questions from CSV and from Parquet (the files of `brisk-bench
dataframe`, $TMPDIR/brisk-bench-taxi-2) and the three GitHub-event questions (the
files of `brisk-bench bag`, $TMPDIR/brisk-bench-github), or the `*.csv`,
`*.parquet` and `*.json.gz` files of DIR. Each question is timed from the files
(read, parse, compute) through the client; the median of the repetitions is
printed as `cluster.<family>.<question>`.
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

_venv.ensure(["dask[distributed,dataframe,bag]", "pyarrow"])

import dask  # noqa: E402
import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from dask_dataframe import DATES, QUERIES  # noqa: E402

REPS = int(os.environ.get("REPS", "3"))


def bag_queries(pattern):
    def events():
        return db.read_text(pattern, compression="gzip").map(json.loads)

    return [
        ("type_frequencies", lambda: events().pluck("type").frequencies()),
        ("count", lambda: events().count()),
        (
            "jupyter_top10_actors",
            lambda: events()
            .filter(lambda e: e["repo"]["name"].startswith("jupyter/"))
            .map(lambda e: e["actor"]["login"])
            .frequencies()
            .topk(10, key=lambda kv: kv[1]),
        ),
    ]


def timed(client, build):
    times = []
    for _ in range(REPS):
        t = time.perf_counter()
        result = build()
        if dask.is_dask_collection(result):
            client.compute(result).result()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def emit(name, seconds):
    print(json.dumps({"bench": name, "seconds": round(seconds, 4), "workers": 2,
                      "threads_per_worker": 1,
                      "runner": "dask.distributed " + dask.__version__}), flush=True)


def main():
    args = sys.argv[1:]
    given = args[1] if len(args) == 2 and args[0] == "--data" else None
    tmp = tempfile.gettempdir()
    taxi = given or os.path.join(tmp, "brisk-bench-taxi-2")
    github = given or os.path.join(tmp, "brisk-bench-github")
    for pattern in [os.path.join(taxi, "*.csv"), os.path.join(taxi, "*.parquet"),
                    os.path.join(github, "*.json.gz")]:
        if not glob.glob(pattern):
            sys.exit(f"no files match {pattern}: run `brisk-bench cluster` first")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(2)
    for fmt in ["csv", "parquet"]:
        pattern = os.path.join(taxi, f"*.{fmt}")

        def frame():
            if fmt == "csv":
                return dd.read_csv(pattern, parse_dates=DATES)
            return dd.read_parquet(pattern)

        total = 0.0
        for name, query in QUERIES:
            s = timed(client, lambda: query(frame()))
            total += s
            emit(f"cluster.{fmt}.{name}", s)
        emit(f"cluster.{fmt}.total", total)
    total = 0.0
    for name, build in bag_queries(os.path.join(github, "*.json.gz")):
        s = timed(client, build)
        total += s
        emit(f"cluster.bag.{name}", s)
    emit("cluster.bag.total", total)
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
