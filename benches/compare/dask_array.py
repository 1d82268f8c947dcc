"""The `brisk-bench array` operations with dask.array (threads) over the same
NetCDF files, and a NumPy baseline (read every file, then compute in memory), as
JSON lines.

    python3 benches/compare/dask_array.py [--data DIR]

DIR defaults to the directory `brisk-bench array` generates into
($TMPDIR/brisk-bench-temperature); run `brisk-bench array` first. Files are read
with scipy's pure-Python NetCDF classic reader (thread-safe, unlike the netCDF-C
library), one task per file. Each operation is timed from the files; the median of
the repetitions is printed, with the peak resident memory of the process.
"""

import glob
import json
import os
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import _venv  # noqa: E402

_venv.ensure(["dask[array]", "scipy", "numpy"])

import dask  # noqa: E402
import dask.array as da  # noqa: E402
import numpy as np  # noqa: E402
from scipy.io import netcdf_file  # noqa: E402

REPS = int(os.environ.get("REPS", "3"))


def load(path):
    with netcdf_file(path, "r", mmap=False) as f:
        v = f.variables["t2m"]
        return np.ascontiguousarray(v[:], dtype="f4")


def shape_of(path):
    with netcdf_file(path, "r", mmap=True) as f:
        return f.variables["t2m"].shape


def open_dask(files, shape):
    parts = [da.from_delayed(dask.delayed(load)(p), shape=shape, dtype="f4") for p in files]
    return da.concatenate(parts, axis=0)


def zscore(x):
    return (x - x.mean(axis=0)) / x.std(axis=0)


OPS = [
    ("x000", lambda x: x[0, 0, 0]),
    ("x0", lambda x: x[0]),
    ("mean", lambda x: x.mean()),
    ("z100", lambda x: zscore(x)[100]),
    ("z_by_latitude", lambda x: zscore(x).mean(axis=-1)),
    ("zscore", lambda x: zscore(x)),
]


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(f):
    times = []
    for _ in range(REPS):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
        del out
    return statistics.median(times)


def main():
    args = sys.argv[1:]
    data = args[1] if len(args) == 2 and args[0] == "--data" else os.path.join(tempfile.gettempdir(), "brisk-bench-temperature")
    files = sorted(glob.glob(os.path.join(data, "*.nc")))
    if not files:
        sys.exit(f"no .nc files in {data}: run `brisk-bench array` first")
    shape = shape_of(files[0])
    only = os.environ.get("ONLY", "dask,numpy").split(",")
    if "dask" in only:
        with dask.config.set(scheduler="threads"):
            for name, op in OPS:
                s = timed(lambda: op(open_dask(files, shape)).compute())
                print(json.dumps({"bench": f"dask_array.{name}", "seconds": round(s, 4), "peak_rss_mb": round(peak_mb(), 1)}), flush=True)
    if "numpy" in only:
        # NumPy in memory: read everything, then compute (the read is included).
        def numpy_op(op):
            x = np.concatenate([load(p) for p in files], axis=0)
            return op(x)

        for name, op in OPS:
            s = timed(lambda: numpy_op(op))
            print(json.dumps({"bench": f"numpy.{name}", "seconds": round(s, 4), "peak_rss_mb": round(peak_mb(), 1)}), flush=True)
        t = time.perf_counter()
        x = np.concatenate([load(p) for p in files], axis=0)
        read = time.perf_counter() - t
        print(json.dumps({"bench": "numpy.read", "seconds": round(read, 4), "mb": round(x.nbytes / 1e6, 1)}), flush=True)


if __name__ == "__main__":
    main()
