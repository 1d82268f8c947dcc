"""The `brisk-bench io` reads with the reference libraries, as JSON lines: the
record variable `t` of the 24 hourly NetCDF classic files with xarray (netCDF4
engine, `open_mfdataset`, and one `open_dataset` per file), and the `u8` HDF5
dataset with h5py + NumPy (read, then summed).

    python3 benches/compare/xarray_h5py.py [--data DIR]

DIR defaults to the directory `brisk-bench io` generates into
($TMPDIR/brisk-bench-io); run `brisk-bench io` first. The median of the
repetitions is printed.
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

_venv.ensure(["xarray", "netCDF4", "h5py", "numpy", "dask[array]"])

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

REPS = int(os.environ.get("REPS", "5"))


def median_seconds(f):
    times = []
    out = None
    for _ in range(REPS):
        t0 = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def emit(bench, **fields):
    print(json.dumps({"bench": bench, **fields}), flush=True)


def main():
    args = sys.argv[1:]
    if args[:1] == ["--data"] and len(args) == 2:
        data = args[1]
    elif not args:
        data = os.path.join(tempfile.gettempdir(), "brisk-bench-io")
    else:
        sys.exit("usage: xarray_h5py.py [--data DIR]")
    files = sorted(glob.glob(os.path.join(data, "hourly-*.nc")))
    if not files:
        sys.exit(f"no hourly-*.nc in {data}: run `brisk-bench io` first")

    def mfdataset():
        with xr.open_mfdataset(
            files, combine="nested", concat_dim="time", engine="netcdf4"
        ) as ds:
            return ds["t"].values

    def per_file():
        parts = []
        for f in files:
            with xr.open_dataset(f, engine="netcdf4") as ds:
                parts.append(ds["t"].values)
        return np.concatenate(parts)

    for name, f in [("xarray_open_mfdataset", mfdataset), ("xarray_per_file", per_file)]:
        s, v = median_seconds(f)
        emit(f"io.netcdf3_records.{name}", files=len(files), variable_mb=round(v.nbytes / 1e6, 1), seconds=round(s, 4))

    h5 = os.path.join(data, "images-u8.h5")
    if os.path.exists(h5):

        def read():
            with h5py.File(h5, "r") as f:
                return f["images"][:]

        s, v = median_seconds(read)
        emit("io.hdf5_u8_read.h5py_numpy", dataset_mb=round(v.nbytes / 1e6, 1), seconds=round(s, 4))
        s, total = median_seconds(lambda: int(read().sum()))
        emit("io.hdf5_u8_sum.h5py_numpy", dataset_mb=round(v.nbytes / 1e6, 1), seconds=round(s, 4), sum=total)


if __name__ == "__main__":
    main()
