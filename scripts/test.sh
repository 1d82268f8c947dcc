#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite.
#
# The build cache lives outside the checkout (CARGO_TARGET_DIR, default
# ~/.cache/brisk/target) so repeated runs are quick; a fresh machine builds from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/brisk/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Incremental state is large and helps little for one run on a fresh machine.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
mkdir -p "$CARGO_TARGET_DIR"
# A reused cache keeps every build's test executables (hundreds of MB each, one per
# test file and build): keep the newest of each name only.
if [ -d "$CARGO_TARGET_DIR/debug/deps" ]; then
  find "$CARGO_TARGET_DIR/debug/deps" -maxdepth 1 -type f -perm -u+x \
      ! -name '*.so' ! -name '*.rlib' ! -name '*.rmeta' -printf '%T@ %f\n' |
    sort -rn |
    awk '{ n = $2; sub(/-[0-9a-f]+$/, "", n); if (seen[n]++) print $2 }' |
    while read -r stale; do rm -f "$CARGO_TARGET_DIR/debug/deps/$stale"; done
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi

echo "== test services"
# A real S3-compatible server (moto) for the S3 tests, in a virtualenv outside the checkout.
export BRISK_VENV="${BRISK_VENV:-$HOME/.cache/brisk/venv}"
if [ ! -x "$BRISK_VENV/bin/moto_server" ]; then
  python3 -m venv "$BRISK_VENV"
  "$BRISK_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'
fi
export BRISK_REQUIRE_S3=1

# Real NetCDF files (NOAA data in Debian's ferret-datasets), the NetCDF/HDF5 C
# libraries for the `hdf5` feature, Python's netCDF4 to check the values read, and
# iproute2 for the multi-host test.
need_apt=()
[ -d /usr/share/ferret-vis/data ] || need_apt+=(ferret-datasets)
command -v ncdump >/dev/null 2>&1 || need_apt+=(netcdf-bin)
dpkg -s libhdf5-dev >/dev/null 2>&1 || need_apt+=(libhdf5-dev)
dpkg -s libnetcdf-dev >/dev/null 2>&1 || need_apt+=(libnetcdf-dev)
# `ip` for tests/multi_host.rs, which makes hosts of network namespaces.
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
# A real browser for tests/dashboard.rs: Chromium driven over WebDriver.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi
# Python's readers as oracles (netCDF4, xarray, h5py), and real files that packages
# ship (collections/tests/real_files.rs): scipy's and xarray's NetCDF test files, and
# PyTables' HDF5 test files (PyTables only for its files: without its dependencies).
need_pip=()
for m in netCDF4 xarray h5py scipy; do
  "$BRISK_VENV/bin/python" -c "import $m" >/dev/null 2>&1 || need_pip+=("$m")
done
if [ ${#need_pip[@]} -gt 0 ]; then
  "$BRISK_VENV/bin/pip" install --quiet --disable-pip-version-check "${need_pip[@]}"
fi
if ! "$BRISK_VENV/bin/python" -c "import importlib.util as u, sys; sys.exit(u.find_spec('tables') is None)"; then
  "$BRISK_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps tables
fi
# The NetCDF classic and NetCDF-4 examples of Debian's r-cran-ncmeta, unpacked
# without R (which the package would pull in).
ncmeta="$HOME/.cache/brisk/testdata/r-cran-ncmeta"
if [ ! -d /usr/lib/R/site-library/ncmeta/extdata ] && [ ! -d "$ncmeta/usr/lib/R/site-library/ncmeta/extdata" ]; then
  deb_dir="$(mktemp -d)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  (cd "$deb_dir" && { apt-get download -q r-cran-ncmeta || { $SUDO apt-get update -q && apt-get download -q r-cran-ncmeta; }; })
  mkdir -p "$ncmeta"
  dpkg -x "$deb_dir"/r-cran-ncmeta_*.deb "$ncmeta"
  rm -rf "$deb_dir"
fi
# scikit-learn as the oracle of brisk-ml's tests (ml/tests/oracle.py; the digits test
# reads the data its wheel ships). Pinned: 1.9 still takes LogisticRegression(penalty=),
# which 1.10 removes.
if ! "$BRISK_VENV/bin/python" -c "import sklearn, sys; sys.exit(sklearn.__version__ != '1.9.1')" >/dev/null 2>&1; then
  "$BRISK_VENV/bin/pip" install --quiet --disable-pip-version-check 'scikit-learn==1.9.1'
fi
export BRISK_PYTHON="$BRISK_VENV/bin/python"

echo "== build (all targets, all features)"
cargo build --workspace --all-targets --all-features --locked

echo "== examples run"
cargo run --quiet --all-features --locked --example delayed_tour
cargo run --quiet --all-features --locked --example github_events -- --workers 2
scripts/example_s3.sh "$BRISK_VENV/bin/moto_server"

echo "== tests"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --locked --no-fail-fast
else
  cargo test --workspace --all-features --locked --no-fail-fast
fi

echo "== fuzzing (about a minute a target)"
# The fuzz targets of the protocol, NetCDF and CSV readers (each also runs for a few
# seconds in the step above); a failure prints the input to add as a regression test.
fuzz_seconds="${BRISK_FUZZ_SECONDS:-60}"
if command -v cargo-nextest >/dev/null 2>&1; then
  BRISK_FUZZ_SECONDS="$fuzz_seconds" cargo nextest run --workspace --all-features --locked \
    --no-fail-fast -E 'binary(fuzz_protocol) | binary(fuzz_netcdf) | binary(fuzz_csv)'
else
  BRISK_FUZZ_SECONDS="$fuzz_seconds" cargo test --workspace --all-features --locked \
    --no-fail-fast --test fuzz_protocol --test fuzz_netcdf --test fuzz_csv
fi

echo "== doc tests"
cargo test --workspace --all-features --locked --doc

