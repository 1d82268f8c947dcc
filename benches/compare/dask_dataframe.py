"""The `brisk-bench dataframe` queries with dask.dataframe (threads), on the same
files, as JSON lines.

    python3 benches/compare/dask_dataframe.py [--data DIR]

DIR defaults to the directory `brisk-bench dataframe` generates into
($TMPDIR/brisk-bench-taxi-2); run `brisk-bench dataframe` first. Each query is timed
from the files (read, parse, compute); the median of the repetitions is printed.
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

_venv.ensure(["dask[dataframe]", "pyarrow"])

import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402

REPS = int(os.environ.get("REPS", "3"))
DATES = ["tpep_pickup_datetime", "tpep_dropoff_datetime"]


def tipped(df):
    df = df[(df.tip_amount > 0) & (df.fare_amount > 0)]
    return df.assign(tip_fraction=df.tip_amount / df.fare_amount)


QUERIES = [
    # `len(df)`, as a Dask user counts rows (Dask answers it from Parquet footers
    # without reading a column; from CSV it reads the files).
    ("rides", lambda df: len(df)),
    ("passengers", lambda df: df.passenger_count.sum()),
    ("payment_types", lambda df: df.payment_type.value_counts()),
    ("zero_tip_payment_types", lambda df: df[df.tip_amount == 0].payment_type.value_counts()),
    (
        "tip_fraction_by_weekday",
        lambda df: (t := tipped(df)).groupby(t.tpep_pickup_datetime.dt.dayofweek).tip_fraction.mean(),
    ),
    (
        "tip_fraction_by_hour",
        lambda df: (t := tipped(df)).groupby(t.tpep_pickup_datetime.dt.hour).tip_fraction.mean(),
    ),
]


def main():
    args = sys.argv[1:]
    data = args[1] if len(args) == 2 and args[0] == "--data" else os.path.join(tempfile.gettempdir(), "brisk-bench-taxi-2")
    # FORMATS=parquet runs one format.
    for fmt in os.environ.get("FORMATS", "csv,parquet").split(","):
        pattern = os.path.join(data, f"*.{fmt}")
        if not glob.glob(pattern):
            sys.exit(f"no files match {pattern}: run `brisk-bench dataframe` first")

        def frame():
            if fmt == "csv":
                return dd.read_csv(pattern, parse_dates=DATES)
            return dd.read_parquet(pattern)

        total = 0.0
        for name, query in QUERIES:
            times = []
            for _ in range(REPS):
                t = time.perf_counter()
                with dask.config.set(scheduler="threads"):
                    result = query(frame())
                    if dask.is_dask_collection(result):
                        result.compute()
                times.append(time.perf_counter() - t)
            s = statistics.median(times)
            total += s
            print(json.dumps({"bench": f"dataframe.{fmt}.{name}", "seconds": round(s, 4),
                              "runner": "dask.dataframe " + dask.__version__}), flush=True)
        print(json.dumps({"bench": f"dataframe.{fmt}.total", "seconds": round(total, 4),
                          "runner": "dask.dataframe " + dask.__version__}), flush=True)


if __name__ == "__main__":
    main()
