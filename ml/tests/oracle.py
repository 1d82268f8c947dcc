"""scikit-learn as the oracle of brisk-ml's tests.

    python oracle.py REQUEST.json

Reads one JSON request and prints one JSON object on stdout; on any error it prints
a message on stderr and exits 1. The request's "what" picks the job:

- "grid": GridSearchCV(Pipeline, grid, cv=<the request's folds>, scoring, refit=True,
  n_jobs=1) on X.npy / y.npy; prints every candidate's parameters (canonical JSON, in
  ParameterGrid order), its score on each fold and their mean, and the best. A
  one-step pipeline whose grid uses bare names ("alpha") searches the estimator itself.
- "kmeans": KMeans(init=<the request's centres>, n_init=1, algorithm="lloyd").fit;
  prints inertia, centres, labels, number of iterations.
- "forest": a random forest fitted on the training set; prints its accuracy
  (classifier) or R² (regressor) on the test set, and its predictions.
- "fit": a pipeline fitted on X (and y); prints each step's fitted attributes and
  the predictions of the last step (or the transform output if it is a transformer).

A pipeline is [[step_name, kind, {params}], ...]; parameters carry scikit-learn's
names and JSON values (null = None) and go straight to the constructors. NaN and
infinities are printed as null (JSON has neither).

Canonical parameter text is what brisk-ml's `params::canonical` prints (serde_json
of a name-sorted map): compact separators, and floats written as serde_json writes
them (plain decimals for decimal exponents -5..=15, else `1e-6`, `1.5e+16`), so the
two sides name candidates with the same strings.
"""

import json
import math
import sys
import traceback
import warnings
from decimal import Decimal

import numpy as np


class OracleError(Exception):
    """A bad request: reported on stderr without a traceback."""


# --- canonical JSON (as serde_json prints it) ---------------------------------------


def format_float(x):
    """`x` as serde_json (zmij) writes an f64: shortest round-tripping digits, fixed
    notation when the leading digit's decimal exponent is in -5..=15, else
    `d[.ddd]e±N`; always a '.' or an exponent. Non-finite values are null."""
    if not math.isfinite(x):
        return "null"
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign = "-" if x < 0 else ""
    # repr gives the shortest round-tripping digits, as zmij does.
    _, digit_tuple, exp = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exp += len(digit_tuple) - len(digits)  # drop the trailing zeros
    lead = len(digits) - 1 + exp  # decimal exponent of the leading digit
    if -5 <= lead <= 15:
        if len(digits) - 1 <= lead:  # an integer: 12340000000.0
            text = digits + "0" * (lead + 1 - len(digits)) + ".0"
        elif lead >= 0:  # 12.34
            text = digits[: lead + 1] + "." + digits[lead + 1 :]
        else:  # 0.001234
            text = "0." + "0" * (-lead - 1) + digits
    else:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        text = f"{mantissa}e{'+' if lead >= 0 else '-'}{abs(lead)}"
    return sign + text


def canonical(value):
    """`value` as serde_json's compact text, object keys sorted by name."""
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format_float(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(v) for k, v in items) + "}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    raise OracleError(f"cannot write {type(value).__name__} {value!r} as canonical JSON")


def plain(value):
    """`value` with numpy arrays and scalars as Python lists and numbers, and
    non-finite floats as None, ready for json.dumps."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


# --- requests -----------------------------------------------------------------------


def field(request, name, default=KeyError):
    """The request's field `name` (an error naming it when missing and required)."""
    if name in request:
        return request[name]
    if default is KeyError:
        raise OracleError(f"request '{request.get('what')}' needs the field '{name}'")
    return default


def load(path, name):
    """A float64 array from an .npy file."""
    try:
        return np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
    except Exception as e:  # noqa: BLE001 - reported as a bad request
        raise OracleError(f"cannot read {name} from {path!r}: {e}") from e


def load_y(request, name="y"):
    """The request's y (None when absent or null)."""
    path = request.get(name)
    return None if path is None else load(path, name)


def estimator_classes():
    """The kinds a request may name, by name."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.preprocessing import StandardScaler

    return {
        "StandardScaler": StandardScaler,
        "PCA": PCA,
        "Ridge": Ridge,
        "LinearRegression": LinearRegression,
        "LogisticRegression": LogisticRegression,
        "KMeans": KMeans,
        "RandomForestClassifier": RandomForestClassifier,
        "RandomForestRegressor": RandomForestRegressor,
    }


def make_estimator(kind, params):
    """An estimator of `kind` made with `params` (scikit-learn's names)."""
    classes = estimator_classes()
    if kind not in classes:
        raise OracleError(f"unknown estimator kind {kind!r}; known: {', '.join(sorted(classes))}")
    if not isinstance(params, dict):
        raise OracleError(f"parameters of {kind} must be an object, got {params!r}")
    try:
        return classes[kind](**params)
    except TypeError as e:
        raise OracleError(f"bad parameters for {kind}: {e}") from e


def make_pipeline(spec):
    """A Pipeline from [[step_name, kind, {params}], ...]."""
    from sklearn.pipeline import Pipeline

    if not isinstance(spec, list) or not spec:
        raise OracleError(f"a pipeline is a non-empty list of [name, kind, params], got {spec!r}")
    steps = []
    for step in spec:
        if not isinstance(step, list) or len(step) not in (2, 3) or not isinstance(step[0], str):
            raise OracleError(f"a pipeline step is [name, kind, params], got {step!r}")
        name, kind = step[0], step[1]
        params = step[2] if len(step) == 3 and step[2] is not None else {}
        steps.append((name, make_estimator(kind, params)))
    return Pipeline(steps)


def is_predictor(est):
    return hasattr(est, "predict")


def run_grid(request):
    from sklearn.model_selection import GridSearchCV, ParameterGrid

    x = load(field(request, "x"), "x")
    y = load_y(request)
    spec = field(request, "pipeline")
    pipe = make_pipeline(spec)
    grid = field(request, "grid")
    dicts = grid if isinstance(grid, list) else [grid]
    if not all(isinstance(d, dict) for d in dicts):
        raise OracleError(f"grid must be an object or a list of objects, got {grid!r}")
    names = [k for d in dicts for k in d]
    if len(spec) == 1 and names and not any("__" in k for k in names):
        # A one-step pipeline searched by bare names ("alpha", not "ridge__alpha"):
        # search the estimator itself, so that the candidates carry the bare names.
        pipe = pipe.steps[0][1]
    folds = []
    for pair in field(request, "folds"):
        if isinstance(pair, dict) and "train" in pair and "test" in pair:
            pair = [pair["train"], pair["test"]]
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise OracleError(f"a fold is [train indices, test indices], got {pair!r}")
        folds.append((np.asarray(pair[0], dtype=np.intp), np.asarray(pair[1], dtype=np.intp)))
    if not folds:
        raise OracleError("folds must not be empty")
    scoring = field(request, "scoring", None)
    search = GridSearchCV(
        pipe,
        grid,
        cv=folds,
        scoring=scoring,
        refit=True,
        n_jobs=1,
        error_score=request.get("error_score", "raise"),
    )
    search.fit(x, y)
    res = search.cv_results_
    candidates = list(res["params"])
    # cv_results_ lists candidates in ParameterGrid order; check rather than assume.
    expected = list(ParameterGrid(grid))
    if [canonical(p) for p in candidates] != [canonical(p) for p in expected]:
        raise OracleError("GridSearchCV's candidates are not in ParameterGrid order")
    split = [[res[f"split{k}_test_score"][i] for k in range(len(folds))] for i in range(len(candidates))]
    out = {
        "params": [canonical(p) for p in candidates],
        "split_scores": split,
        "mean": res["mean_test_score"],
        "std": res["std_test_score"],
        "rank": res["rank_test_score"],
        "best_params": search.best_params_,
        "best_params_canonical": canonical(search.best_params_),
        "best_score": search.best_score_,
        "best_index": search.best_index_,
    }
    final = search.best_estimator_
    out["refit_predictions"] = final.predict(x) if is_predictor(final) else final.transform(x)
    return out


def run_kmeans(request):
    from sklearn.cluster import KMeans

    x = load(field(request, "x"), "x")
    init = np.asarray(field(request, "init"), dtype=np.float64)
    if init.ndim != 2:
        raise OracleError(f"init must be a list of centres (rows), got shape {init.shape}")
    n_clusters = field(request, "n_clusters", init.shape[0])
    km = KMeans(
        n_clusters=n_clusters,
        init=init,
        n_init=1,
        max_iter=field(request, "max_iter", 300),
        tol=field(request, "tol", 1e-4),
        algorithm="lloyd",
    )
    km.fit(x)
    return {
        "inertia": km.inertia_,
        "centers": km.cluster_centers_,
        "labels": km.labels_,
        "n_iter": km.n_iter_,
        "predictions": km.predict(x),
    }


def run_forest(request):
    from sklearn.metrics import accuracy_score, r2_score

    classifier = bool(field(request, "classifier", True))
    kind = "RandomForestClassifier" if classifier else "RandomForestRegressor"
    est = make_estimator(kind, field(request, "params", {}) or {})
    x_train = load(field(request, "x_train"), "x_train")
    y_train = load(field(request, "y_train"), "y_train")
    x_test = load(field(request, "x_test"), "x_test")
    y_test = load(field(request, "y_test"), "y_test")
    est.fit(x_train, y_train)
    pred = est.predict(x_test)
    metric = "accuracy" if classifier else "r2"
    score = accuracy_score(y_test, pred) if classifier else r2_score(y_test, pred)
    return {
        "metric": metric,
        "score": score,
        metric: score,
        "train_score": est.score(x_train, y_train),
        "predictions": pred,
    }


# Fitted attributes worth comparing, by kind (those an estimator lacks are skipped).
ATTRIBUTES = {
    "StandardScaler": ["mean_", "scale_", "var_", "n_samples_seen_"],
    "PCA": [
        "components_",
        "explained_variance_",
        "explained_variance_ratio_",
        "singular_values_",
        "mean_",
        "n_components_",
        "noise_variance_",
    ],
    "Ridge": ["coef_", "intercept_"],
    "LinearRegression": ["coef_", "intercept_"],
    "LogisticRegression": ["coef_", "intercept_", "classes_", "n_iter_"],
    "KMeans": ["cluster_centers_", "labels_", "inertia_", "n_iter_"],
    "RandomForestClassifier": ["classes_", "feature_importances_"],
    "RandomForestRegressor": ["feature_importances_"],
}


def run_fit(request):
    spec = field(request, "pipeline")
    x = load(field(request, "x"), "x")
    y = load_y(request)
    pipe = make_pipeline(spec)
    pipe.fit(x, y)
    steps = []
    for (name, est), step in zip(pipe.steps, spec):
        kind = step[1]
        attrs = {a: getattr(est, a) for a in ATTRIBUTES.get(kind, []) if hasattr(est, a)}
        steps.append({"name": name, "kind": kind, **attrs})
    last = pipe.steps[-1][1]
    out = {"steps": steps, "by_name": {s["name"]: s for s in steps}}
    if is_predictor(last):
        out["predictions"] = pipe.predict(x)
        if hasattr(last, "predict_proba"):
            out["proba"] = pipe.predict_proba(x)
        if hasattr(last, "decision_function"):
            out["decision_function"] = pipe.decision_function(x)
        if hasattr(last, "transform"):  # KMeans: distances to the centres
            out["transform"] = pipe.transform(x)
    else:
        out["predictions"] = pipe.transform(x)
    return out


HANDLERS = {"grid": run_grid, "kmeans": run_kmeans, "forest": run_forest, "fit": run_fit}


def main(argv):
    if len(argv) != 2:
        raise OracleError("usage: oracle.py REQUEST.json")
    try:
        with open(argv[1], encoding="utf-8") as f:
            request = json.load(f)
    except (OSError, ValueError) as e:
        raise OracleError(f"cannot read the request {argv[1]!r}: {e}") from e
    if not isinstance(request, dict):
        raise OracleError("the request must be a JSON object")
    what = request.get("what")
    if what not in HANDLERS:
        raise OracleError(f"unknown request {what!r}; known: {', '.join(sorted(HANDLERS))}")
    # Warnings (convergence, deprecations) go to stderr and never to stdout.
    warnings.simplefilter("default")
    out = HANDLERS[what](request)
    json.dump(plain(out), sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    try:
        main(sys.argv)
    except OracleError as e:
        print(f"oracle: {e}", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - scikit-learn's own errors
        traceback.print_exc(file=sys.stderr)
        print(f"oracle: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
