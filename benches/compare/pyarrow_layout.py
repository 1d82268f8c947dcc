"""Rewrites the Parquet files of `brisk-bench dataframe` as pyarrow (the writer behind
dask.dataframe's `to_parquet`) lays them out, to measure every engine on that layout
too.

    python3 benches/compare/pyarrow_layout.py OUT [--compression zstd|snappy] [--data DIR]

The files in DIR (default: the directory `brisk-bench dataframe` generates into) are
read and written again with pyarrow's defaults: every column dictionary-encoded
while its dictionary stays small (pyarrow tries the timestamps and coordinates too,
where Brisk's writer and Polars' store them plain). The rows, the row groups (131,072
rows) and the values are the same. OUT also gets links to the CSV files, so
`brisk-bench dataframe --data OUT` finds both formats.
"""

import argparse
import glob
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import _venv  # noqa: E402

_venv.ensure(["pyarrow"])

import pyarrow.parquet as pq  # noqa: E402

ROW_GROUP = 131_072


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--compression", default="zstd", choices=["zstd", "snappy"])
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "brisk-bench-taxi-2"))
    args = parser.parse_args()
    files = sorted(glob.glob(os.path.join(args.data, "*.parquet")))
    if not files:
        sys.exit(f"no Parquet files in {args.data}: run `brisk-bench dataframe` first")
    os.makedirs(args.out, exist_ok=True)
    for f in files:
        name = os.path.basename(f)
        pq.write_table(pq.read_table(f), os.path.join(args.out, name),
                       compression=args.compression, row_group_size=ROW_GROUP)
    for f in sorted(glob.glob(os.path.join(args.data, "*.csv"))):
        link = os.path.join(args.out, os.path.basename(f))
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(f), link)
    meta = pq.ParquetFile(os.path.join(args.out, os.path.basename(files[0]))).metadata.row_group(0)
    for i in range(meta.num_columns):
        c = meta.column(i)
        print(f"{c.path_in_schema}: {c.compression} {'/'.join(c.encodings)} "
              f"{c.total_compressed_size} bytes ({c.total_uncompressed_size} uncompressed) a row group")


if __name__ == "__main__":
    main()
