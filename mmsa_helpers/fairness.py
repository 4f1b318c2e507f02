"""Errors per group of speakers, with bootstrap confidence intervals (chapter 14, "Bias across speakers").

:func:`group_metrics` scores predictions separately for each group (a gender, a
pitch band, one speaker): the mean absolute error and the binary accuracy of
MMSA's ``Non0_acc_2`` (sign of prediction and label, utterances labelled 0
left out), each with a percentile bootstrap interval. :func:`metric_gap` gives
the difference between two groups, or between the worst and the best of
several, with its own interval.

Utterances of one speaker are not independent (the same voice, the same
habits), so both functions resample *clusters* when given them: whole speakers
are drawn with replacement within each group, their utterances come along.
Resampling single utterances instead would make the intervals too narrow.

>>> group_metrics(pred, truth, groups=genders, clusters=speakers)
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .errors import ConfigError

METRICS = ("MAE", "Acc2")


def mae(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean(np.abs(pred - truth))) if len(pred) else np.nan


def acc2(pred: np.ndarray, truth: np.ndarray) -> float:
    """MMSA's Non0_acc_2: share of utterances with a non-zero label whose sign the prediction gets."""
    keep = truth != 0
    if not keep.any():
        return np.nan
    return float(np.mean((pred[keep] > 0) == (truth[keep] > 0)))


METRIC_FUNCS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {"MAE": mae, "Acc2": acc2}
#: For which metrics a larger value is worse (the "worst" group of a gap).
HIGHER_IS_WORSE = {"MAE": True, "Acc2": False}


def _inputs(pred, truth, groups, clusters):
    pred = np.asarray(pred, dtype=float).ravel()
    truth = np.asarray(truth, dtype=float).ravel()
    groups = np.asarray(groups, dtype=object).ravel()
    n = len(pred)
    if n == 0:
        raise ConfigError("group_metrics needs at least one prediction")
    if len(truth) != n or len(groups) != n:
        raise ConfigError(f"pred, truth and groups need one value per utterance: got {n}, {len(truth)} "
                          f"and {len(groups)}")
    if not (np.isfinite(pred).all() and np.isfinite(truth).all()):
        raise ConfigError("pred and truth must be finite numbers (found NaN or inf); drop those utterances first")
    if any(g is None or (isinstance(g, float) and np.isnan(g)) for g in groups):
        raise ConfigError("every utterance needs a group (found None or NaN); give unknowns a group of their own, "
                          "e.g. 'unknown', rather than dropping them silently")
    if clusters is not None:
        clusters = np.asarray(clusters, dtype=object).ravel()
        if len(clusters) != n:
            raise ConfigError(f"clusters needs one value per utterance: got {len(clusters)} for {n} utterances")
        for g in pd.unique(groups):
            # a cluster (speaker) must not sit in two groups: the bootstrap draws clusters within a group
            other = set(clusters[groups == g]) & set(clusters[groups != g])
            if other:
                raise ConfigError(f"cluster(s) {sorted(map(str, other))[:3]} belong to more than one group; "
                                  "a speaker-level trait must be the same for all of a speaker's utterances")
    return pred, truth, groups, clusters


def _check_options(metrics, n_boot, ci):
    unknown = [m for m in metrics if m not in METRIC_FUNCS]
    if unknown:
        raise ConfigError(f"unknown metric(s) {unknown}; use {sorted(METRIC_FUNCS)}")
    if int(n_boot) < 1:
        raise ConfigError(f"n_boot must be >= 1, got {n_boot}")
    if not 0 < ci < 1:
        raise ConfigError(f"ci is a coverage between 0 and 1 (e.g. 0.95), got {ci}")


# chapter 14 shows this function's source: lines fit the book's column (77 characters)
def bootstrap_sampler(rows: np.ndarray, clusters: np.ndarray | None):
    """A function of a random generator that gives the row numbers of one
    bootstrap sample of ``rows``: as many clusters as ``rows`` holds, drawn
    with replacement, each bringing all its rows; without ``clusters``,
    single rows drawn with replacement."""
    if clusters is None:
        return lambda rng: rng.choice(rows, size=len(rows), replace=True)
    labels = clusters[rows]
    members = [rows[labels == c] for c in pd.unique(labels)]

    def draw(rng: np.random.Generator) -> np.ndarray:
        picks = rng.integers(0, len(members), size=len(members))
        return np.concatenate([members[i] for i in picks])

    return draw


def group_metrics(pred, truth, groups, *, metrics: Sequence[str] = METRICS, clusters=None, n_boot: int = 1000,
                  ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """One row per group: its size, the number of clusters, and per metric the value with the
    lower and upper bound of a ``ci`` percentile bootstrap interval (``MAE``, ``MAE_lo``, ``MAE_hi`` ...).

    ``clusters`` (e.g. the speaker of every utterance): resample whole clusters within each group.
    The same ``seed`` gives the same intervals.
    """
    pred, truth, groups, clusters = _inputs(pred, truth, groups, clusters)
    _check_options(metrics, n_boot, ci)
    rng = np.random.default_rng(seed)
    tail = 100 * (1 - ci) / 2
    rows = []
    for g in sorted(pd.unique(groups), key=str):
        idx = np.flatnonzero(groups == g)
        row = {"group": g, "n": int(len(idx)),
               "clusters": int(len(pd.unique(clusters[idx]))) if clusters is not None else int(len(idx))}
        draw = bootstrap_sampler(idx, clusters)
        boots = [draw(rng) for _ in range(int(n_boot))]
        for m in metrics:
            f = METRIC_FUNCS[m]
            row[m] = f(pred[idx], truth[idx])
            values = np.array([f(pred[b], truth[b]) for b in boots])
            values = values[np.isfinite(values)]
            row[f"{m}_lo"], row[f"{m}_hi"] = ((float(np.percentile(values, tail)),
                                               float(np.percentile(values, 100 - tail))) if values.size
                                              else (np.nan, np.nan))
        rows.append(row)
    return pd.DataFrame(rows).set_index("group")


def metric_gap(pred, truth, groups, metric: str = "MAE", *, pair: tuple | None = None, clusters=None,
               n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> dict:
    """The gap in ``metric`` between groups, with a bootstrap interval.

    With ``pair=(a, b)``: ``metric(a) - metric(b)``. Without: the worst group minus the best
    (for MAE the largest minus the smallest; for Acc2 the best minus the worst, so a gap is
    always positive), the two groups chosen on the data and kept fixed in the bootstrap.
    Each bootstrap sample resamples every group (its clusters when given) independently.
    Returns ``{"metric", "worst", "best", "gap", "lo", "hi", "excludes_zero"}``.
    """
    pred, truth, groups, clusters = _inputs(pred, truth, groups, clusters)
    _check_options([metric], n_boot, ci)
    f = METRIC_FUNCS[metric]
    names = sorted(pd.unique(groups), key=str)
    if len(names) < 2:
        raise ConfigError(f"a gap needs at least two groups; all utterances are in {names}")
    idx = {g: np.flatnonzero(groups == g) for g in names}
    if pair is not None:
        missing = [g for g in pair if g not in idx]
        if len(pair) != 2 or missing:
            raise ConfigError(f"pair must name two of the groups {names}; got {pair}")
        a, b = pair
        sign = 1.0
    else:
        value = {g: f(pred[i], truth[i]) for g, i in idx.items()}
        order = sorted(names, key=lambda g: value[g], reverse=HIGHER_IS_WORSE[metric])
        a, b = order[0], order[-1]          # worst, best
        sign = 1.0 if HIGHER_IS_WORSE[metric] else -1.0
    gap = sign * (f(pred[idx[a]], truth[idx[a]]) - f(pred[idx[b]], truth[idx[b]]))
    rng = np.random.default_rng(seed)
    draw_a, draw_b = bootstrap_sampler(idx[a], clusters), bootstrap_sampler(idx[b], clusters)
    values = []
    for _ in range(int(n_boot)):
        ra, rb = draw_a(rng), draw_b(rng)
        values.append(sign * (f(pred[ra], truth[ra]) - f(pred[rb], truth[rb])))
    values = np.asarray(values)
    values = values[np.isfinite(values)]
    tail = 100 * (1 - ci) / 2
    lo, hi = float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))
    return {"metric": metric, "worst": a, "best": b, "gap": float(gap), "lo": lo, "hi": hi,
            "excludes_zero": bool(lo > 0 or hi < 0)}


def per_cluster(pred, truth, clusters, metrics: Sequence[str] = METRICS) -> pd.DataFrame:
    """Each metric per cluster (e.g. per test speaker), with the number of utterances."""
    pred, truth, clusters, _ = _inputs(pred, truth, clusters, None)
    _check_options(metrics, 1, 0.5)
    rows = []
    for c in sorted(pd.unique(clusters), key=str):
        i = clusters == c
        rows.append({"cluster": c, "n": int(i.sum()), **{m: METRIC_FUNCS[m](pred[i], truth[i]) for m in metrics}})
    return pd.DataFrame(rows).set_index("cluster")


def speaker_traits(corpus, split: str = "test") -> pd.DataFrame:
    """One row per speaker of ``split`` with the generated traits of the embedded corpus
    (``corpus.info["speakers"]``): gender, mean pitch, vocal and facial expressiveness ...
    Real corpora carry no such metadata; the error says so."""
    from dataclasses import asdict

    from .errors import MMSADataError

    speakers = corpus.info.get("speakers")
    d = corpus[split]
    if not speakers or "speaker" not in d:
        raise MMSADataError(f"{corpus.name!r} has no speaker metadata (corpus.info['speakers'] and a 'speaker' "
                            "column); measuring errors per speaker group needs it: join a table of speaker traits "
                            "that you collected with consent to the utterance ids")
    ids = list(dict.fromkeys(d["speaker"]))
    rows = [{k: v for k, v in asdict(speakers[s]).items() if k != "timbre"} for s in ids]
    return pd.DataFrame(rows).set_index("speaker_id")


def bands(values: pd.Series, labels: Sequence[str] = ("low", "high")) -> pd.Series:
    """Split a numeric trait at its quantiles into ``len(labels)`` bands of (nearly) equal size."""
    if len(labels) < 2:
        raise ConfigError("bands needs at least two labels, e.g. ('low', 'high')")
    return pd.qcut(values.rank(method="first"), len(labels), labels=list(labels)).astype(str)


def cluster_spread(pred, truth, clusters, metric: str = "MAE", *, n_perm: int = 500, seed: int = 0) -> dict:
    """Do the clusters (speakers) differ more than chance? The standard deviation of ``metric``
    over clusters, against the same with the utterances shuffled among the clusters (sizes kept),
    which is the spread that sampling alone gives when no speaker is harder than another.

    Returns ``{"metric", "observed_sd", "chance_sd", "p_value", "chance_sorted"}``: ``p_value`` is
    the share of shuffles whose spread reaches the observed one (with the usual +1 correction);
    ``chance_sorted`` the mean of the sorted per-cluster values over the shuffles (for a figure).
    """
    pred, truth, clusters, _ = _inputs(pred, truth, clusters, None)
    _check_options([metric], 1, 0.5)
    if int(n_perm) < 1:
        raise ConfigError(f"n_perm must be >= 1, got {n_perm}")
    f = METRIC_FUNCS[metric]
    names = pd.unique(clusters)
    if len(names) < 2:
        raise ConfigError("a spread needs at least two clusters")

    def values(labels):
        return np.array([f(pred[labels == c], truth[labels == c]) for c in names])

    observed = values(clusters)
    rng = np.random.default_rng(seed)
    sds, sorted_sum = [], np.zeros(len(names))
    for _ in range(int(n_perm)):
        v = values(rng.permutation(clusters))
        sds.append(np.nanstd(v))
        sorted_sum += np.sort(v)
    sds = np.asarray(sds)
    obs_sd = float(np.nanstd(observed))
    return {"metric": metric, "observed_sd": obs_sd, "chance_sd": float(np.mean(sds)),
            "p_value": float((1 + np.sum(sds >= obs_sd)) / (1 + len(sds))),
            "chance_sorted": sorted_sum / len(sds)}
