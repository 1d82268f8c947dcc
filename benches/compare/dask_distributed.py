"""`brisk-bench distributed` (a)-(d) on a dask.distributed LocalCluster of the
same shape (2 worker processes x 1 thread), as JSON lines.

    python3 benches/compare/dask_distributed.py

(a) dist.roundtrip: submit -> result of one small task, median over 1,000;
(b) dist.submit1000: 1,000 submits then one gather;
(c) dist.throughput: a tree reduction (fan-in 32) over 100,000 no-op leaves
    through client.compute, in tasks a second;
(d) dist.transfer: 100 MB scattered to one worker, then replicated to the
    other (the second worker fetches it from the first);
(e) dist.as_completed: the Celery post's pattern: AS_COMPLETED_N (default 2,000)
    small tasks submitted in a loop and consumed with as_completed, each result
    submitting one follow-up; tasks a second over all of them. Brisk runs 10,000;
    Dask takes minutes for that many, and its rate does not depend on the count.

ONLY=as_completed runs (e) alone.
"""

import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import _venv  # noqa: E402

_venv.ensure(["dask[distributed]"])

import dask  # noqa: E402
import distributed  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

N = int(os.environ.get("LEAVES", "100000"))
SKIP = set(os.environ.get("SKIP", "").split(","))
MB100 = 100 * 1000 * 1000


def bump(x):
    return x + 1


def leaf(i):
    return i


def sum_list(xs):
    return sum(xs)


def tree_graph(n, split_every, seed):
    dsk = {("leaf", seed, i): (leaf, i) for i in range(n)}
    level = [("leaf", seed, i) for i in range(n)]
    depth = 0
    while len(level) > 1:
        depth += 1
        nxt = []
        for j in range(0, len(level), split_every):
            key = ("sum", seed, depth, j // split_every)
            dsk[key] = (sum_list, level[j : j + split_every])
            nxt.append(key)
        level = nxt
    return dsk, level[0]


def emit(bench, **fields):
    print(json.dumps({"bench": bench, **fields, "runner": "dask.distributed " + distributed.__version__}), flush=True)


def as_completed_pattern(client):
    from distributed import as_completed

    n = int(os.environ.get("AS_COMPLETED_N", "2000"))
    t = time.perf_counter()
    seq = as_completed([client.submit(bump, 2 * i) for i in range(n)])
    count = 0
    for f in seq:
        x = f.result()
        count += 1
        if x % 2 == 1:  # a first-stage result: one follow-up
            seq.add(client.submit(bump, x))
    s = time.perf_counter() - t
    emit("dist.as_completed", tasks=count, seconds=round(s, 3), tasks_per_s=round(count / s, 1))


def main():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        for i in range(100):
            client.submit(bump, 1_000_000 + i).result()
        if os.environ.get("ONLY") == "as_completed":
            return as_completed_pattern(client)
        if "roundtrip" in SKIP:
            return throughput_and_transfer(client)
        times = []
        for i in range(1000):
            t = time.perf_counter()
            client.submit(bump, i).result()
            times.append((time.perf_counter() - t) * 1e6)
        emit("dist.roundtrip", median_us=round(statistics.median(times), 1))

        runs = []
        for rep in range(5):
            t = time.perf_counter()
            futures = [client.submit(bump, 10_000_000 * (rep + 1) + i) for i in range(1000)]
            client.gather(futures)
            runs.append(time.perf_counter() - t)
            del futures
        emit("dist.submit1000", seconds=round(statistics.median(runs), 4))
        throughput_and_transfer(client)


def throughput_and_transfer(client):
    if True:
        rates = []
        for rep in range(int(os.environ.get("REPS", "3"))):
            dsk, root = tree_graph(N, 32, rep)
            t = time.perf_counter()
            f = client.get(dsk, root, sync=False)
            f.result()
            rates.append(len(dsk) / (time.perf_counter() - t))
            del f
        emit("dist.throughput", tasks=len(dsk), tasks_per_s=round(statistics.median(rates)))

        payload = bytes((((i * 2654435761) >> 13) & 0xFF) for i in range(1 << 16)) * (MB100 // (1 << 16) + 1)
        payload = payload[:MB100]
        speeds = []
        workers = list(client.scheduler_info()["workers"])
        for rep in range(3):
            data = bytes([rep]) + payload[1:]
            [f] = client.scatter([data], workers=[workers[0]])
            t = time.perf_counter()
            client.replicate([f], n=2)
            speeds.append(MB100 / 1e6 / (time.perf_counter() - t))
            del f
        emit("dist.transfer", MB=100, MB_per_s=round(statistics.median(speeds)))


if __name__ == "__main__":
    main()
