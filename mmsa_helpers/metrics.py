"""Evaluation metrics (chapter 3, "Measuring predictions").

Two families live here:

* **Regression metrics exactly as MMSA computes them** (THUIAR's MMSA toolkit,
  ``MMSA/utils/metricsTop.py``, v2.2.1): :func:`eval_regression` and the
  building blocks it is made of (:func:`binary_accuracy`, :func:`binary_f1`,
  :func:`multiclass_accuracy`, :func:`mae`, :func:`pearson_corr`,
  :func:`sims_bins`), plus Lin's concordance correlation :func:`ccc`.
  Numbers agree with MMSA to the 4th decimal: inputs are turned into float32
  arrays (MMSA sees float32 model outputs and labels), the same numpy and
  scikit-learn calls are made, and values are rounded with ``round(value, 4)``
  on the same numpy or Python objects as MMSA rounds.
* **Classification metrics** for the emotion chapters:
  :func:`eval_classification` (accuracy, UAR, weighted and macro F1) and
  :func:`confusion_matrix`.

Tables: :func:`format_metrics`, :func:`metrics_table` and
:func:`summarize_seeds` print values the way papers do: accuracies and F1
scores in percent, ``Corr`` times 100, ``MAE`` and ``CCC`` unscaled; the
column names say which (``"Has0_acc_2 (%)"``, ``"Corr (x100)"``, ``"MAE"``).

Argument order is always ``(pred, true)``, like MMSA (scikit-learn uses
``(y_true, y_pred)``; the functions below take care of that).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import accuracy_score, f1_score

from .errors import ConfigError, MMSADataError

#: Which set of rules each dataset name uses: MMSA's MOSI/MOSEI rules for labels in [-3, 3]
#: (the embedded corpus imitates MOSI), MMSA's SIMS rules for CH-SIMS, CH-SIMS v2 and the
#: embedded Chinese corpus ``synthetic_zh``, which imitates CH-SIMS (chapter 15).
DATASET_RULES = {"mosi": "mosi", "mosei": "mosi", "synthetic": "mosi",
                 "sims": "sims", "synthetic_zh": "sims", "simsv2": "sims", "ch-sims": "sims", "chsims": "sims"}

#: Datasets of the book that have no regression rules, and what to use instead.
NO_REGRESSION_RULES = {
    "meld": "MELD's labels are three sentiment classes (-1, 0, 1) and seven emotions, not a sentiment "
            "score, and MMSA defines no regression metrics for it (its labels lie in [-1, 1] like SIMS's, "
            "but SIMS's bins would count every neutral utterance as negative). Score class predictions "
            "with eval_classification (e.g. on the 'sentiment' or 'emotion' column)",
    "emodb": "EMO-DB is speech emotion classification: use eval_classification (accuracy, UAR), as "
             "mmsa_helpers.speech does",
    "synthetic_speech": "synthetic_speech is speech emotion classification: use eval_classification "
                        "(accuracy, UAR), as mmsa_helpers.speech does",
}


def rules_for(dataset: str) -> str:
    """``"mosi"`` or ``"sims"``: the rules MMSA scores ``dataset`` with (see :data:`DATASET_RULES`).

    Raises :class:`~mmsa_helpers.errors.ConfigError` for MELD and the speech-emotion datasets
    (saying what to use instead) and for unknown names, rather than guessing from the label range.
    """
    key = str(dataset).lower()
    if key in DATASET_RULES:
        return DATASET_RULES[key]
    if key in NO_REGRESSION_RULES:
        raise ConfigError(f"no regression metrics for {dataset!r}: {NO_REGRESSION_RULES[key]}")
    raise ConfigError(
        f"unknown dataset {dataset!r} for the regression metrics; valid names are {sorted(DATASET_RULES)}. "
        "Pass the name whose rules apply (dataset='mosi' for labels in [-3, 3], 'sims' for CH-SIMS), "
        "or, for a corpus of your own, set corpus.info['metric_rules'] to 'mosi' or 'sims'")

#: MMSA's key order for each set of rules.
REGRESSION_KEYS = {
    "mosi": (
        "Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score",
        "Mult_acc_5", "Mult_acc_7", "MAE", "Corr",
    ),
    "sims": ("Mult_acc_2", "Mult_acc_3", "Mult_acc_5", "F1_score", "MAE", "Corr"),
}

#: SIMS class edges: class ``i`` holds ``edges[i] < x <= edges[i + 1]``.
SIMS_EDGES = {
    2: (-1.01, 0.0, 1.01),
    3: (-1.01, -0.1, 0.1, 1.01),
    5: (-1.01, -0.7, -0.1, 0.1, 0.7, 1.01),
}


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------
def _to_numpy(x, name: str) -> np.ndarray:
    """A flat float32 array from a list, numpy array or torch tensor."""
    if hasattr(x, "detach"):  # a torch tensor, possibly on a GPU
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float32).ravel()
    except (TypeError, ValueError) as err:
        raise MMSADataError(
            f"{name} must hold numbers (a list, numpy array or torch tensor); "
            f"converting it to float32 failed: {err}"
        ) from None


def as_pred_true(pred, true) -> tuple[np.ndarray, np.ndarray]:
    """Check predictions and labels and return them as flat float32 arrays.

    Raises :class:`~mmsa_helpers.errors.MMSADataError` for empty input,
    different lengths, or NaN/inf values, with a message that says how to fix it.
    """
    p, t = _to_numpy(pred, "pred"), _to_numpy(true, "true")
    if t.size == 0:
        raise MMSADataError(
            "true is empty: there is nothing to evaluate. Check that the split "
            "you evaluate on holds utterances."
        )
    if p.size != t.size:
        raise MMSADataError(
            f"pred has {p.size} values but true has {t.size}; they must have one "
            "value per utterance, in the same order (predict the whole split and "
            "flatten model outputs of shape (N, 1) first)."
        )
    for name, a in (("pred", p), ("true", t)):
        bad = ~np.isfinite(a)
        if bad.any():
            raise MMSADataError(
                f"{name} holds {int(bad.sum())} NaN or infinite value(s), e.g. at "
                f"index {int(np.flatnonzero(bad)[0])}. A diverged model gives NaN "
                "predictions; lower the learning rate or clip gradients, and check "
                "the labels and features for NaN/inf before training."
            )
    return p, t


# --------------------------------------------------------------------------
# Building blocks (MOSI / MOSEI rules)
# --------------------------------------------------------------------------
def _binary_classes(p, t, exclude_zero: bool):
    """Positive/negative classes: Has0 (``>= 0``, all samples) or Non0 (``> 0``, ``t != 0`` only)."""
    if not exclude_zero:
        return p >= 0, t >= 0
    keep = t != 0
    if not keep.any():
        warnings.warn(
            "every label is 0, so Non0 metrics (which drop zero labels) are undefined "
            "and set to NaN; use the Has0 metrics for this data.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None, None
    return p[keep] > 0, t[keep] > 0


def binary_accuracy(pred, true, exclude_zero: bool = False) -> float:
    """Acc-2: share of utterances whose predicted sign matches the label's.

    ``exclude_zero=False`` gives MMSA's ``Has0_acc_2`` (negative ``< 0`` vs
    non-negative ``>= 0``, every utterance); ``exclude_zero=True`` gives
    ``Non0_acc_2`` (negative ``< 0`` vs positive ``> 0``, utterances labelled 0
    are left out). NaN, with a warning, when ``exclude_zero`` and all labels are 0.
    """
    p, t = as_pred_true(pred, true)
    p_pos, t_pos = _binary_classes(p, t, exclude_zero)
    if t_pos is None:
        return float("nan")
    return accuracy_score(p_pos, t_pos)


def binary_f1(pred, true, exclude_zero: bool = False) -> float:
    """Weighted F1 of the two sign classes (``Has0_F1_score`` / ``Non0_F1_score``).

    Same classes as :func:`binary_accuracy`; scikit-learn's
    ``f1_score(..., average="weighted")``: the F1 of each class weighted by its
    number of true utterances.
    """
    p, t = as_pred_true(pred, true)
    p_pos, t_pos = _binary_classes(p, t, exclude_zero)
    if t_pos is None:
        return float("nan")
    with warnings.catch_warnings():  # a constant predictor never predicts one class
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return f1_score(t_pos, p_pos, average="weighted")


def multiclass_accuracy(pred, true, clip: float | None = 3.0) -> float:
    """Acc-7 (``clip=3``) or Acc-5 (``clip=2``): clip, round to integers, compare.

    Values are clipped to ``[-clip, clip]`` and rounded with ``np.round``, which
    rounds halves to the even integer (0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0).
    ``clip=None`` skips clipping.
    """
    p, t = as_pred_true(pred, true)
    if clip is not None:
        p, t = np.clip(p, -float(clip), float(clip)), np.clip(t, -float(clip), float(clip))
    return np.sum(np.round(p) == np.round(t)) / float(len(t))


def mae(pred, true) -> float:
    """Mean absolute error, ``mean(|pred - true|)`` (computed in float32 like MMSA)."""
    p, t = as_pred_true(pred, true)
    return np.mean(np.absolute(p - t)).astype(np.float64)


def pearson_corr(pred, true) -> float:
    """Pearson correlation ``np.corrcoef(pred, true)[0, 1]``.

    Undefined, and returned as NaN without a warning, when ``pred`` or ``true``
    is constant (MMSA returns NaN too), e.g. for a predictor that always
    outputs the training mean, or when there is a single utterance.
    """
    p, t = as_pred_true(pred, true)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "invalid value" / "degrees of freedom"
        return np.corrcoef(p, t)[0][1]


def ccc(pred, true) -> float:
    """Lin's (1989) concordance correlation coefficient, with population (1/N) moments.

    ``2 cov(p, t) / (var(p) + var(t) + (mean(p) - mean(t))**2)``: 1 only when
    ``pred == true``; unlike Pearson it punishes offsets and wrong scales, and
    it is 0 (not undefined) for a constant predictor. NaN when both are
    constant and equal.
    """
    p, t = (a.astype(np.float64) for a in as_pred_true(pred, true))
    cov = np.mean((p - p.mean()) * (t - t.mean()))
    denominator = p.var() + t.var() + (p.mean() - t.mean()) ** 2
    if denominator == 0:
        return float("nan")
    return float(2 * cov / denominator)


# --------------------------------------------------------------------------
# SIMS rules
# --------------------------------------------------------------------------
def sims_bins(x, edges: Sequence[float]) -> np.ndarray:
    """Class index of each value: class ``i`` holds ``edges[i] < x <= edges[i + 1]``.

    With ``SIMS_EDGES[2]`` a 0 is class 0, *negative* (the opposite of
    ``Has0``). Comparisons run in float32, as in MMSA, so a label stored as
    float32 0.1 falls into the class that ends at 0.1. Values outside
    ``(edges[0], edges[-1]]`` raise :class:`MMSADataError` (clip to [-1, 1] first).
    """
    x = _to_numpy(x, "x")
    classes = np.full(x.shape, -1, dtype=np.int64)
    for i in range(len(edges) - 1):
        # Python-float edges keep the comparison in x's float32, like MMSA's.
        classes[(x > float(edges[i])) & (x <= float(edges[i + 1]))] = i
    if (classes < 0).any():
        raise MMSADataError(
            f"{int((classes < 0).sum())} value(s) lie outside ({edges[0]}, {edges[-1]}]; "
            "clip SIMS predictions and labels to [-1, 1] before binning."
        )
    return classes


def _sims_regression(p: np.ndarray, t: np.ndarray) -> dict:
    p, t = np.clip(p, -1.0, 1.0), np.clip(t, -1.0, 1.0)
    results = {}
    for n_classes in (2, 3, 5):
        pc, tc = sims_bins(p, SIMS_EDGES[n_classes]), sims_bins(t, SIMS_EDGES[n_classes])
        results[f"Mult_acc_{n_classes}"] = np.sum(pc == tc) / float(len(tc))
    p2, t2 = sims_bins(p, SIMS_EDGES[2]), sims_bins(t, SIMS_EDGES[2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        results["F1_score"] = f1_score(t2, p2, average="weighted")
    results["MAE"] = mae(p, t)
    results["Corr"] = pearson_corr(p, t)
    return results


def _mosi_regression(p: np.ndarray, t: np.ndarray) -> dict:
    return {
        "Has0_acc_2": binary_accuracy(p, t, exclude_zero=False),
        "Has0_F1_score": binary_f1(p, t, exclude_zero=False),
        "Non0_acc_2": binary_accuracy(p, t, exclude_zero=True),
        "Non0_F1_score": binary_f1(p, t, exclude_zero=True),
        "Mult_acc_5": multiclass_accuracy(p, t, clip=2),
        "Mult_acc_7": multiclass_accuracy(p, t, clip=3),
        "MAE": mae(p, t),
        "Corr": pearson_corr(p, t),
    }


def eval_regression(pred, true, dataset: str = "mosi") -> dict[str, float]:
    """MMSA's regression metrics for ``dataset``, rounded to 4 decimals.

    Parameters
    ----------
    pred, true:
        Predictions and labels, one per utterance (lists, numpy arrays or torch
        tensors; any shape, they are flattened and cast to float32 like MMSA's).
    dataset:
        ``"mosi"``, ``"mosei"`` or ``"synthetic"`` (labels in [-3, 3]) give
        ``Has0_acc_2, Has0_F1_score, Non0_acc_2, Non0_F1_score, Mult_acc_5,
        Mult_acc_7, MAE, Corr``; ``"sims"`` (labels in [-1, 1]) gives
        ``Mult_acc_2, Mult_acc_3, Mult_acc_5, F1_score, MAE, Corr``, computed
        after clipping both to [-1, 1] (also ``"simsv2"``, ``"ch-sims"``, ``"chsims"``).
        MELD and the speech-emotion datasets have no regression rules (an error
        says what to use instead); see :func:`rules_for`.

    Returns
    -------
    dict
        Metric name -> Python float in ``[0, 1]`` (``MAE`` >= 0, ``Corr`` in
        [-1, 1]). ``Corr`` is NaN for constant predictions (as in MMSA); Non0
        metrics are NaN, with a warning, when every label is 0.

    Raises
    ------
    ConfigError
        (a ``ValueError``) for an unknown ``dataset`` or one without regression rules.
    MMSADataError
        For empty input, different lengths, or NaN/inf values.
    """
    rules = rules_for(dataset)
    p, t = as_pred_true(pred, true)
    raw = _sims_regression(p, t) if rules == "sims" else _mosi_regression(p, t)
    # round() on the very numpy/Python objects MMSA rounds (numpy and Python
    # round differently at exact ties), then plain Python floats.
    return {key: float(round(raw[key], 4)) for key in REGRESSION_KEYS[rules]}


# --------------------------------------------------------------------------
# Classification metrics (speech-emotion chapters)
# --------------------------------------------------------------------------
def _as_labels(pred_labels, true_labels) -> tuple[np.ndarray, np.ndarray]:
    pred, true = (
        np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x).ravel()
        for x in (pred_labels, true_labels)
    )
    if true.size == 0:
        raise MMSADataError("true_labels is empty: there is nothing to evaluate.")
    if pred.size != true.size:
        raise MMSADataError(
            f"pred_labels has {pred.size} entries but true_labels has {true.size}; "
            "give one predicted class per utterance, in the same order."
        )
    return pred, true


def confusion_matrix(pred_labels, true_labels, labels=None, normalize: str | None = None) -> pd.DataFrame:
    """Confusion matrix as a DataFrame: rows are true classes, columns predicted ones.

    ``labels`` fixes the classes and their order (default: every class seen in
    either argument, sorted). ``normalize``: ``None`` (counts), ``"true"``
    (each row sums to 1: the diagonal holds each class's recall), ``"pred"``
    (columns sum to 1) or ``"all"``.
    """
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix
    from sklearn.utils.multiclass import unique_labels

    pred, true = _as_labels(pred_labels, true_labels)
    if labels is None:
        labels = unique_labels(true, pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        matrix = sk_confusion_matrix(true, pred, labels=labels, normalize=normalize)
    return pd.DataFrame(
        matrix,
        index=pd.Index(labels, name="true"),
        columns=pd.Index(labels, name="predicted"),
    )


def eval_classification(pred_labels, true_labels, labels=None) -> dict[str, float]:
    """Accuracy, UAR, weighted F1 and macro F1 of predicted class labels.

    * ``accuracy``: share of utterances classified correctly; dominated by the
      frequent classes.
    * ``UAR``: unweighted average recall, the mean over classes of each class's
      recall, over the classes that occur in ``true_labels`` (equal to
      scikit-learn's ``balanced_accuracy_score``). Chance level is
      ``1 / n_classes`` whatever the class sizes; speech-emotion papers report it.
    * ``weighted_F1``: per-class F1 weighted by class size.
    * ``macro_F1``: plain mean of the per-class F1 over ``labels`` (default:
      every class seen in either argument).
    """
    pred, true = _as_labels(pred_labels, true_labels)
    counts = confusion_matrix(pred, true, labels=labels).to_numpy()
    support = counts.sum(axis=1)
    recalls = np.diag(counts)[support > 0] / support[support > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        weighted = f1_score(true, pred, labels=labels, average="weighted", zero_division=0)
        macro = f1_score(true, pred, labels=labels, average="macro", zero_division=0)
    return {
        "accuracy": float(np.mean(pred == true)),
        "UAR": float(np.mean(recalls)),
        "weighted_F1": float(weighted),
        "macro_F1": float(macro),
    }


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------
def display_name_and_scale(key: str) -> tuple[str, float]:
    """How tables print a metric: accuracies/F1/UAR in %, Corr x100, MAE and CCC as they are."""
    k = key.lower()
    if k in {"mae", "ccc", "mse", "rmse", "loss"}:
        return key, 1.0
    if k in {"corr", "pearson", "pearson_corr"}:
        return f"{key} (x100)", 100.0
    if "acc" in k or "f1" in k or k == "uar":
        return f"{key} (%)", 100.0
    return key, 1.0


def format_metrics(metrics: Mapping[str, float], decimals: int = 2) -> dict[str, float]:
    """A metrics dict as papers print it; the new keys name the scale.

    ``{"Has0_acc_2": 0.8344, "MAE": 0.708, "Corr": 0.7963}`` becomes
    ``{"Has0_acc_2 (%)": 83.44, "MAE": 0.708, "Corr (x100)": 79.63}``.
    Accuracies, F1 scores and UAR are multiplied by 100 (percent), ``Corr`` by
    100, ``MAE`` and ``CCC`` are kept as they are; values are rounded to
    ``decimals`` (``decimals + 1`` for unscaled ones). MMSA's own results
    files also print MAE x100; this book does not.
    """
    out = {}
    for key, value in metrics.items():
        name, scale = display_name_and_scale(key)
        out[name] = round(float(value) * scale, decimals if scale != 1.0 else decimals + 1)
    return out


def metrics_table(rows: Mapping[str, Mapping[str, float]], decimals: int = 2) -> pd.DataFrame:
    """One row per model (or predictor), one column per metric, scaled by :func:`format_metrics`."""
    table = pd.DataFrame({name: format_metrics(m, decimals) for name, m in rows.items()}).T
    table.index.name = "model"
    return table


def summarize_seeds(runs: Iterable[Mapping[str, float]], decimals: int = 2, ddof: int = 0) -> pd.DataFrame:
    """Mean and standard deviation of each metric over runs with different seeds.

    Values are scaled as in :func:`format_metrics`. ``ddof=0`` (population
    standard deviation) is what MMSA's ``run.py`` reports; pass ``ddof=1`` for
    the sample standard deviation. Returns one row per metric with columns
    ``mean``, ``std``, ``n`` and a printable ``"mean ± std"``.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("summarize_seeds needs at least one run")
    frame = pd.DataFrame(runs)
    rows = {}
    for key in frame.columns:
        name, scale = display_name_and_scale(key)
        values = frame[key].to_numpy(dtype=np.float64) * scale
        digits = decimals if scale != 1.0 else decimals + 1
        mean = values.mean()
        std = values.std(ddof=ddof) if len(values) > ddof else np.nan
        rows[name] = {
            "mean": round(mean, digits),
            "std": round(std, digits),
            "n": len(values),
            "mean ± std": f"{mean:.{digits}f} ± {std:.{digits}f}",
        }
    table = pd.DataFrame(rows).T
    table.index.name = "metric"
    return table.astype({"mean": float, "std": float, "n": int})
