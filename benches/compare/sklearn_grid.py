"""The `brisk-bench ml` grid search with scikit-learn (and dask-ml), as JSON lines.

    python3 benches/compare/sklearn_grid.py --data DIR [--dask] [--blas-threads N]

DIR holds X.npy (10,000 x 500 float64) and y.npy (the 0/1 labels as float64), written
by Brisk's benchmark. The search is Pipeline([("pca", PCA()), ("logistic",
LogisticRegression(solver="liblinear", random_state=0))]) over pca__n_components in
{50, 100, 250}, logistic__C in {1e-4, 1, 1e4} and logistic__penalty in {"l1", "l2"}
(18 candidates), 3-fold cross-validation (KFold(3), unshuffled) scored by accuracy,
refitting the best on all of X. BLAS runs one thread a process unless --blas-threads
says otherwise (0: the library's default).

It runs scikit-learn's GridSearchCV with n_jobs=1, then n_jobs=2 (loky processes; the
first fit pays for starting them, as a user's first search does), and, with --dask,
dask-ml's GridSearchCV on dask's threaded scheduler (all cores), which fits a shared
pipeline prefix (PCA on a fold with given n_components) once for all the logistic
candidates that follow it. Each prints one line:

    {"bench": "ml.grid", "impl": ..., "seconds": wall seconds of fit (with the refit),
     "pca_fits": ..., "best_params": ..., "best_score": ...,
     "mean_scores": {canonical params: mean accuracy}, ...}

dask-ml's mean_test_score (and best_score_) weights each fold by its number of test
rows, so it is the accuracy over all 10,000 rows (e.g. 0.8258), where scikit-learn
averages the three folds' accuracies (0.825799...): compare them within 1e-4.

PCA fits are counted by a PCA subclass whose fit/fit_transform append one byte to a
file (appends are atomic, so this counts across the loky worker processes and across
threads alike). Parameters are named by the canonical text of ml/tests/oracle.py,
which is the text brisk-ml's `params::canonical` prints.
"""

import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _venv  # noqa: E402

# scikit-learn 1.9 still takes LogisticRegression(penalty=...) (deprecated in 1.8,
# removed in 1.10); dask-ml 2025.1.0 is the newest dask-ml and works with it.
SKLEARN = "scikit-learn==1.9.1"
DASK_ML = "dask-ml==2025.1.0"
_venv.ensure(["numpy", SKLEARN] + ([DASK_ML] if "--dask" in sys.argv else []))


def _blas_threads_arg():
    """--blas-threads N, read before NumPy loads its BLAS (which reads the variables
    below once); 0 leaves the library's default (one thread a core)."""
    for i, a in enumerate(sys.argv):
        if a == "--blas-threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--blas-threads="):
            return a.split("=", 1)[1]
    return "1"


# One BLAS thread by default: Brisk's tasks run their linear algebra sequentially, a
# task a core, so this compares the schedulers rather than BLAS threading (which on 2
# busy cores can be several times slower than one thread: OpenBLAS threads spin).
# n_jobs=2's loky workers are limited to cores // n_jobs threads by joblib anyway.
if _blas_threads_arg() != "0":
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = _blas_threads_arg()

# Loky workers read this at start-up: no deprecation warnings (penalty=) nor
# liblinear's convergence warnings on stderr.
os.environ["PYTHONWARNINGS"] = "ignore::FutureWarning,ignore::UserWarning"
import warnings  # noqa: E402

warnings.simplefilter("ignore", FutureWarning)
warnings.simplefilter("ignore", UserWarning)  # ConvergenceWarning is a UserWarning

import numpy as np  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ left in ml/tests
sys.path.insert(0, os.path.join(HERE, "..", "..", "ml", "tests"))
from oracle import canonical  # noqa: E402

GRID = {
    "pca__n_components": [50, 100, 250],
    "logistic__C": [1e-4, 1.0, 1e4],
    "logistic__penalty": ["l1", "l2"],
}


class CountingPCA(PCA):
    """PCA that appends one byte to `count_file` per fit (fit_transform does not
    call fit, so each fit is counted once)."""

    count_file = None

    def _count(self):
        path = type(self).count_file
        if path:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, b".")
            finally:
                os.close(fd)

    def fit(self, X, y=None):
        self._count()
        return super().fit(X, y)

    def fit_transform(self, X, y=None):
        self._count()
        return super().fit_transform(X, y)


def pipeline():
    # liblinear shuffles with random_state: fixed so that repeated runs (and n_jobs=1,
    # n_jobs=2 and dask-ml) score identically. On this data PCA takes its
    # deterministic "covariance_eigh" solver (fold rows >= 10 x features).
    return Pipeline(
        [("pca", CountingPCA()), ("logistic", LogisticRegression(solver="liblinear", random_state=0))]
    )


def cv():
    # KFold(3) without shuffling: three contiguous folds (3,334, 3,333 and 3,333 rows),
    # the splits Brisk's side uses too. scikit-learn's default for a classifier with
    # cv=3 would be StratifiedKFold(3); the explicit KFold keeps the splits simple to
    # reproduce exactly.
    return KFold(3)


def blas_threads():
    """Threads of the BLAS this process calls (n_jobs=2's loky workers limit theirs to
    cores // 2)."""
    try:
        from threadpoolctl import threadpool_info

        return max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"), default=None)
    except Exception:  # noqa: BLE001 - informative only
        return None


def run(impl, make_search, x, y, count_dir):
    count_file = os.path.join(count_dir, impl + ".count")
    CountingPCA.count_file = count_file
    search = make_search()
    t0 = time.perf_counter()
    search.fit(x, y)
    seconds = time.perf_counter() - t0
    pca_fits = os.path.getsize(count_file) if os.path.exists(count_file) else 0
    res = search.cv_results_
    line = {
        "bench": "ml.grid",
        "impl": impl,
        "seconds": round(seconds, 3),
        "pca_fits": pca_fits,
        "candidates": len(res["params"]),
        "folds": 3,
        "blas_threads": blas_threads(),
        "best_params": {k: v.item() if hasattr(v, "item") else v for k, v in search.best_params_.items()},
        "best_score": float(search.best_score_),
        "mean_scores": {canonical(p): float(m) for p, m in zip(res["params"], res["mean_test_score"])},
    }
    print(json.dumps(line), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory with X.npy and y.npy")
    ap.add_argument("--dask", action="store_true", help="also run dask-ml's GridSearchCV")
    ap.add_argument(
        "--blas-threads", type=int, default=1, help="BLAS threads a process (0: the library's default)"
    )
    args = ap.parse_args()
    x = np.load(os.path.join(args.data, "X.npy"))
    y = np.load(os.path.join(args.data, "y.npy"))
    print(f"X {x.shape} {x.dtype}, y {y.shape} {y.dtype}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="brisk-sklearn-grid-") as count_dir:
        for n_jobs in (1, 2):
            run(
                f"sklearn-n_jobs={n_jobs}",
                lambda n_jobs=n_jobs: GridSearchCV(
                    pipeline(), GRID, cv=cv(), scoring="accuracy", refit=True, n_jobs=n_jobs
                ),
                x,
                y,
                count_dir,
            )
        if args.dask:
            try:
                from dask_ml.model_selection import GridSearchCV as DaskGridSearchCV
            except ImportError as e:
                print(f"dask-ml does not import, skipped: {e}", file=sys.stderr)
                return
            run(
                "dask-ml",
                lambda: DaskGridSearchCV(
                    pipeline(), GRID, cv=cv(), scoring="accuracy", refit=True, scheduler="threads"
                ),
                x,
                y,
                count_dir,
            )


if __name__ == "__main__":
    main()
