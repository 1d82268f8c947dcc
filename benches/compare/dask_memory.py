"""`brisk-bench memory`'s `memory.persist` on a dask.distributed LocalCluster of
the same shape (2 worker processes x 1 thread, 512 MiB each), as a JSON line.

    python3 benches/compare/dask_memory.py [--dir DIR]

2 GiB of float64 chunks (64 MiB each, made on the workers) are held as futures,
summed, then every chunk is read again (its maximum); the workers spill to DIR
(default: the system's temporary folder). `peak_rss_mb` is the highest worker's
peak resident memory, sampled from /proc every 50 ms by this script.
"""

import json
import os
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import _venv  # noqa: E402

_venv.ensure(["dask[distributed]", "numpy", "psutil"])

import dask  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

CHUNK_MB = 64
CHUNKS = 32
LIMIT = "512MiB"


def chunk(i):
    rng = np.random.default_rng(i)
    return rng.random(CHUNK_MB * 2**20 // 8)


def chunk_sum(a):
    return float(a.sum())


def chunk_max(a):
    return float(a.max())


def main():
    args = sys.argv[1:]
    base = args[1] if len(args) == 2 and args[0] == "--dir" else tempfile.gettempdir()
    local_dir = tempfile.mkdtemp(prefix="dask-bench-memory-", dir=base)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           memory_limit=LIMIT, local_directory=local_dir,
                           dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(2)
    # Worker processes (their nannies' children), sampled while the work runs.
    pids = list(client.run(os.getpid).values())
    peak = {p: 0 for p in pids}
    done = threading.Event()

    def sample():
        procs = [psutil.Process(p) for p in pids]
        while not done.is_set():
            for p in procs:
                try:
                    peak[p.pid] = max(peak[p.pid], p.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t = time.perf_counter()
    chunks = [client.submit(chunk, i, pure=False) for i in range(CHUNKS)]
    total = sum(client.gather([client.submit(chunk_sum, c) for c in chunks]))
    top = max(client.gather([client.submit(chunk_max, c) for c in chunks]))
    seconds = time.perf_counter() - t
    done.set()
    sampler.join()
    assert total > 0 and top < 1
    print(json.dumps({
        "bench": "memory.persist",
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(max(peak.values()) / 2**20, 1),
        "limit_mb": 512,
        "data_mb": CHUNK_MB * CHUNKS,
        "runner": "dask.distributed " + dask.__version__,
    }), flush=True)
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
