"""The `brisk-bench dataframe` queries with Polars lazy in one process, on the same
files, as JSON lines (the single-machine reference).

    python3 benches/compare/polars_lazy.py [--data DIR]
"""

import glob
import json
import resource
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import _venv  # noqa: E402

_venv.ensure(["polars"])

import polars as pl  # noqa: E402

REPS = int(os.environ.get("REPS", "3"))
DATES = ["tpep_pickup_datetime", "tpep_dropoff_datetime"]


def tipped(lf):
    return lf.filter((pl.col("tip_amount") > 0) & (pl.col("fare_amount") > 0)).with_columns(
        (pl.col("tip_amount") / pl.col("fare_amount")).alias("tip_fraction")
    )


QUERIES = [
    ("rides", lambda lf: lf.select(pl.len())),
    ("passengers", lambda lf: lf.select(pl.col("passenger_count").sum())),
    ("payment_types", lambda lf: lf.group_by("payment_type").len()),
    ("zero_tip_payment_types", lambda lf: lf.filter(pl.col("tip_amount") == 0).group_by("payment_type").len()),
    (
        "tip_fraction_by_weekday",
        lambda lf: tipped(lf).group_by(pl.col("tpep_pickup_datetime").dt.weekday()).agg(pl.col("tip_fraction").mean()),
    ),
    (
        "tip_fraction_by_hour",
        lambda lf: tipped(lf).group_by(pl.col("tpep_pickup_datetime").dt.hour()).agg(pl.col("tip_fraction").mean()),
    ),
]


def main():
    args = sys.argv[1:]
    data = args[1] if len(args) == 2 and args[0] == "--data" else os.path.join(tempfile.gettempdir(), "brisk-bench-taxi-2")
    # FORMATS=parquet runs one format (then the peak RSS printed is that format's).
    for fmt in os.environ.get("FORMATS", "csv,parquet").split(","):
        pattern = os.path.join(data, f"*.{fmt}")
        if not glob.glob(pattern):
            sys.exit(f"no files match {pattern}: run `brisk-bench dataframe` first")

        def frame():
            if fmt == "csv":
                return pl.scan_csv(pattern, schema_overrides={d: pl.Datetime("us") for d in DATES})
            return pl.scan_parquet(pattern)

        total = 0.0
        for name, query in QUERIES:
            times = []
            for _ in range(REPS):
                t = time.perf_counter()
                query(frame()).collect()
                times.append(time.perf_counter() - t)
            s = statistics.median(times)
            total += s
            print(json.dumps({"bench": f"dataframe.{fmt}.{name}", "seconds": round(s, 4),
                              "runner": "polars lazy " + pl.__version__}), flush=True)
        print(json.dumps({"bench": f"dataframe.{fmt}.total", "seconds": round(total, 4),
                          "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                          "runner": "polars lazy " + pl.__version__}), flush=True)


if __name__ == "__main__":
    main()
