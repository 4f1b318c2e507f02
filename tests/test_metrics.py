"""Tests of mmsa_helpers.metrics (chapter 3, "Measuring predictions").

Expected numbers in the hand-worked cases are computed by hand in the
comments, not by calling the functions under test. A reference
implementation transcribed from MMSA's definition (numpy + scikit-learn on
float32, like MMSA) checks ``eval_regression`` on random data.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

from mmsa_helpers import metrics
from mmsa_helpers.errors import ConfigError, MMSADataError
from mmsa_helpers.metrics import (
    binary_accuracy,
    binary_f1,
    ccc,
    confusion_matrix,
    eval_classification,
    eval_regression,
    mae,
    metrics_table,
    multiclass_accuracy,
    pearson_corr,
    sims_bins,
    summarize_seeds,
)

approx = lambda x: pytest.approx(x, abs=1e-4)  # noqa: E731


# ---------------------------------------------------------------------------
# MOSI rules, hand-worked
# ---------------------------------------------------------------------------
def test_zeros_in_truth_make_has0_and_non0_differ():
    true = [-2, -1, 0, 0, 1, 2]
    pred = [-1.5, 0.5, -0.3, 0.4, 1.2, 0.1]
    # Has0 (>= 0, all six): truth F F T T T T, pred F T F T T T
    #   agree at 0, 3, 4, 5 -> 4/6 = 0.6667
    #   F1 class T (support 4): TP 3 (3,4,5), FP 1 (1), FN 1 (2) -> P = R = 3/4, F1 0.75
    #   F1 class F (support 2): TP 1 (0), FP 1 (2), FN 1 (1) -> P = R = 1/2, F1 0.5
    #   weighted: (4 * 0.75 + 2 * 0.5) / 6 = 4/6 = 0.6667
    # Non0 (> 0, drop the two zero labels -> indices 0, 1, 4, 5):
    #   truth F F T T, pred F T T T -> agree 3/4 = 0.75
    #   class T (support 2): TP 2, FP 1, FN 0 -> P 2/3, R 1, F1 0.8
    #   class F (support 2): TP 1, FP 0, FN 1 -> P 1, R 1/2, F1 2/3
    #   weighted: (0.8 + 0.6667) / 2 = 0.7333
    # Acc-7: round(pred) = -2 0 -0 0 1 0 vs round(true) -2 -1 0 0 1 2 -> 4/6
    # MAE: (0.5 + 1.5 + 0.3 + 0.4 + 0.2 + 1.9) / 6 = 4.8 / 6 = 0.8
    r = eval_regression(pred, true, "mosi")
    assert r["Has0_acc_2"] == approx(4 / 6)
    assert r["Has0_F1_score"] == approx(4 / 6)
    assert r["Non0_acc_2"] == approx(0.75)
    assert r["Non0_F1_score"] == approx((0.8 + 2 / 3) / 2)
    assert r["Mult_acc_7"] == approx(4 / 6)
    assert r["Mult_acc_5"] == approx(4 / 6)
    assert r["MAE"] == approx(0.8)
    assert binary_accuracy(pred, true, exclude_zero=False) == approx(4 / 6)
    assert binary_accuracy(pred, true, exclude_zero=True) == approx(0.75)
    assert binary_f1(pred, true, exclude_zero=True) == approx((0.8 + 2 / 3) / 2)


def test_keys_and_order():
    r = eval_regression([0.1, -0.2, 1.0], [0.0, -1.0, 2.0], "mosei")
    assert list(r) == [
        "Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score",
        "Mult_acc_5", "Mult_acc_7", "MAE", "Corr",
    ]
    assert all(type(v) is float for v in r.values())
    assert eval_regression([0.1, -0.2, 1.0], [0.0, -1.0, 2.0], "synthetic") == r
    s = eval_regression([0.1, -0.2, 1.0], [0.0, -1.0, 0.5], "SIMS")
    assert list(s) == ["Mult_acc_2", "Mult_acc_3", "Mult_acc_5", "F1_score", "MAE", "Corr"]


def test_half_ties_round_to_even():
    pred = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5]
    # np.round: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> -0, -1.5 -> -2, -2.5 -> -2
    assert multiclass_accuracy(pred, [0, 2, 2, 0, -2, -2], clip=3) == 1.0
    # "round half up / away from zero" would give 1, 2, 3, -1, -2, -3:
    # only 1.5 -> 2 and -1.5 -> -2 agree with half-to-even -> 2/6
    assert multiclass_accuracy(pred, [1, 2, 3, -1, -2, -3], clip=3) == approx(2 / 6)
    # Acc-5 clips +-2.5 to +-2 first, still 2 / -2 -> all six agree with [0 2 2 0 -2 -2]
    assert multiclass_accuracy(pred, [0, 2, 2, 0, -2, -2], clip=2) == 1.0


def test_clipping_at_3_and_2():
    pred = [3.6, 2.6, -5.0]
    true = [3, 2, -3]
    # Acc-7: clip -> 3, 2.6, -3 -> round 3, 3, -3 vs 3, 2, -3 -> 2/3
    assert multiclass_accuracy(pred, true, clip=3) == approx(2 / 3)
    # Acc-5: clip -> 2, 2, -2 vs 2, 2, -2 -> 3/3
    assert multiclass_accuracy(pred, true, clip=2) == 1.0
    # no clip: round 4, 3, -5 vs 3, 2, -3 -> 0/3
    assert multiclass_accuracy(pred, true, clip=None) == 0.0
    # MAE is on unclipped values: (0.6 + 0.6 + 2.0) / 3 = 1.0667
    r = eval_regression(pred, true)
    assert r["MAE"] == approx(3.2 / 3)
    assert (r["Mult_acc_7"], r["Mult_acc_5"]) == (approx(2 / 3), 1.0)


def test_constant_predictions_give_nan_corr_without_crash():
    pred = [0.2, 0.2, 0.2, 0.2]
    true = [-1, 0, 1, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from numpy either
        r = eval_regression(pred, true)
    assert np.isnan(r["Corr"])
    assert np.isnan(pearson_corr(pred, true))
    # MAE: (1.2 + 0.2 + 0.8 + 1.8) / 4 = 1.0
    assert r["MAE"] == approx(1.0)
    # Has0: pred all >= 0; truth F T T T -> 3/4
    assert r["Has0_acc_2"] == approx(0.75)
    # Non0: keep -1, 1, 2 -> truth F T T, pred T T T -> 2/3
    assert r["Non0_acc_2"] == approx(2 / 3)
    # CCC of a constant predictor: covariance 0 -> 0, defined
    assert ccc(pred, true) == approx(0.0)


def test_perfect_predictions():
    y = [-3, -1.4, 0, 0.6, 2.2]
    r = eval_regression(y, y)
    assert r == {
        "Has0_acc_2": 1.0, "Has0_F1_score": 1.0, "Non0_acc_2": 1.0, "Non0_F1_score": 1.0,
        "Mult_acc_5": 1.0, "Mult_acc_7": 1.0, "MAE": 0.0, "Corr": 1.0,
    }
    assert ccc(y, y) == approx(1.0)


def test_all_zero_truth_warns_and_gives_nan_non0():
    with pytest.warns(RuntimeWarning, match="every label is 0"):
        r = eval_regression([0.3, -0.2, 0.0], [0, 0, 0])
    assert np.isnan(r["Non0_acc_2"]) and np.isnan(r["Non0_F1_score"])
    # Has0: truth all >= 0; pred T F T -> 2/3
    assert r["Has0_acc_2"] == approx(2 / 3)


def test_accepts_torch_and_column_vectors():
    torch = pytest.importorskip("torch")
    pred = torch.tensor([[0.4], [-1.2], [2.0]])
    true = torch.tensor([1.0, -1.0, 2.4])
    # MAE (0.6 + 0.2 + 0.4) / 3 = 0.4
    assert mae(pred, true) == approx(0.4)
    assert eval_regression(pred, true) == eval_regression(pred.numpy(), true.numpy())


# ---------------------------------------------------------------------------
# SIMS rules, hand-worked
# ---------------------------------------------------------------------------
def test_sims_bins_at_edges():
    x = np.array([-1, -0.7, -0.1, 0, 0.1, 0.7, 1], dtype=np.float32)
    # class i holds edge_i < x <= edge_{i+1}; an edge value belongs to the class below it
    # 2 classes (-1.01, 0, 1.01]: 0 is negative
    assert sims_bins(x, metrics.SIMS_EDGES[2]).tolist() == [0, 0, 0, 0, 1, 1, 1]
    # 3 classes (-1.01, -0.1, 0.1, 1.01]: -0.1 negative, 0.1 neutral
    assert sims_bins(x, metrics.SIMS_EDGES[3]).tolist() == [0, 0, 0, 1, 1, 2, 2]
    # 5 classes (-1.01, -0.7, -0.1, 0.1, 0.7, 1.01]
    assert sims_bins(x, metrics.SIMS_EDGES[5]).tolist() == [0, 0, 1, 2, 2, 3, 4]
    # float64 input is cast to float32 first, so it lands in the same bins
    assert sims_bins(x.astype(np.float64), metrics.SIMS_EDGES[5]).tolist() == [0, 0, 1, 2, 2, 3, 4]
    # why float32 matters: float32(0.1) is slightly above the float64 0.1
    assert float(np.float32(0.1)) > 0.1
    with pytest.raises(MMSADataError, match="clip"):
        sims_bins([1.5], metrics.SIMS_EDGES[2])


def test_sims_hand_case():
    true = [-0.8, 0.0, 0.1, 0.6]
    pred = [-0.6, -0.05, 0.3, 1.4]  # clipped to -0.6, -0.05, 0.3, 1.0
    # 2 classes: true 0 0 1 1 (0 is negative), pred 0 0 1 1 -> 1.0 ; F1 1.0
    #   (Has0 would call the 0 label positive and -0.05 negative: a miss)
    # 3 classes: true 0 1 1 2, pred 0 1 2 2 -> 3/4
    # 5 classes: true 0 2 2 3, pred 1 2 3 4 -> 1/4
    # MAE on clipped: (0.2 + 0.05 + 0.2 + 0.4) / 4 = 0.2125
    # Corr on clipped: means 0.1625 and -0.025; sum dp*dt = 1.12625,
    #   sum dp^2 = 1.346875, sum dt^2 = 1.0075 -> 1.12625 / sqrt(1.35697...) = 0.96683
    r = eval_regression(pred, true, "sims")
    assert r["Mult_acc_2"] == 1.0 and r["F1_score"] == 1.0
    assert r["Mult_acc_3"] == approx(0.75)
    assert r["Mult_acc_5"] == approx(0.25)
    assert r["MAE"] == approx(0.2125)
    assert r["Corr"] == approx(0.96683)
    assert eval_regression(pred, true, "mosi")["Has0_acc_2"] == approx(0.75)


# ---------------------------------------------------------------------------
# CCC
# ---------------------------------------------------------------------------
def test_ccc_hand_cases():
    # offset: p = t - 1 with t = 2, 3, 4: var p = var t = cov = 2/3, mean gap 1
    #   CCC = 2 * 2/3 / (2/3 + 2/3 + 1) = 4/7 = 0.5714 while Pearson = 1
    assert ccc([1, 2, 3], [2, 3, 4]) == approx(4 / 7)
    assert pearson_corr([1, 2, 3], [2, 3, 4]) == approx(1.0)
    # scale: p = 2t with t = 1, 2, 3: var p 8/3, var t 2/3, cov 4/3, means 4 and 2
    #   CCC = (8/3) / (8/3 + 2/3 + 4) = 8/22 = 0.3636
    assert ccc([2, 4, 6], [1, 2, 3]) == approx(8 / 22)
    # both constant and equal: 0/0
    assert np.isnan(ccc([1, 1], [1, 1]))


# ---------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------
TRUE_EMO = ["neutral"] * 8 + ["angry"] * 2


def test_majority_classifier_accuracy_vs_uar():
    pred = ["neutral"] * 10
    # accuracy 8/10; recall neutral 1, angry 0 -> UAR 0.5
    # F1 neutral: P 0.8, R 1 -> 1.6/1.8 = 0.8889; F1 angry 0
    # weighted 0.8 * 0.8889 = 0.7111; macro 0.4444
    r = eval_classification(pred, TRUE_EMO)
    assert r["accuracy"] == approx(0.8)
    assert r["UAR"] == approx(0.5)
    assert r["weighted_F1"] == approx(0.8 * 16 / 18)
    assert r["macro_F1"] == approx(8 / 18)


def test_balanced_classifier_and_confusion_matrix():
    pred = ["neutral"] * 6 + ["angry"] * 2 + ["angry"] * 2
    # neutral: 6 of 8 right (2 called angry); angry: 2 of 2 right
    # accuracy 8/10 (same as the majority classifier); UAR (6/8 + 1) / 2 = 0.875
    # F1 neutral: P 6/6, R 6/8 -> 1.5/1.75 = 0.857143; F1 angry: P 2/4, R 1 -> 0.6667
    # weighted 0.8 * 0.857143 + 0.2 * 0.6667 = 0.819048; macro 0.761905
    r = eval_classification(pred, TRUE_EMO)
    assert r == {
        "accuracy": approx(0.8), "UAR": approx(0.875),
        "weighted_F1": approx(0.819048), "macro_F1": approx(0.761905),
    }
    assert r["UAR"] == approx(balanced_accuracy_score(TRUE_EMO, pred))
    cm = confusion_matrix(pred, TRUE_EMO)
    # rows = true (angry, neutral), columns = predicted
    assert cm.index.name == "true" and cm.columns.name == "predicted"
    assert cm.loc["angry"].tolist() == [2, 0]
    assert cm.loc["neutral"].tolist() == [2, 6]
    cmn = confusion_matrix(pred, TRUE_EMO, normalize="true")
    assert cmn.loc["neutral"].tolist() == [approx(0.25), approx(0.75)]
    # fixed label order, with a class that never occurs
    cm3 = confusion_matrix(pred, TRUE_EMO, labels=["neutral", "angry", "sad"])
    assert list(cm3.columns) == ["neutral", "angry", "sad"] and cm3.loc["sad"].sum() == 0


def test_uar_ignores_classes_absent_from_truth():
    # pred uses "sad", which never occurs in the truth: its recall is undefined
    # recall angry 1/2, neutral 8/8 -> UAR 0.75
    pred = ["neutral"] * 8 + ["angry", "sad"]
    assert eval_classification(pred, TRUE_EMO)["UAR"] == approx(0.75)


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
def test_format_metrics_and_tables():
    d = {"Has0_acc_2": 0.8344, "Non0_F1_score": 0.8543, "MAE": 0.708, "Corr": 0.7963}
    assert metrics.format_metrics(d) == {
        "Has0_acc_2 (%)": 83.44, "Non0_F1_score (%)": 85.43, "MAE": 0.708, "Corr (x100)": 79.63,
    }
    table = metrics_table({"A": d, "B": d})
    assert table.shape == (2, 4) and table.loc["B", "MAE"] == 0.708
    runs = [{"Has0_acc_2": 0.80, "MAE": 0.70}, {"Has0_acc_2": 0.84, "MAE": 0.74}]
    # mean 82.00, population std |84 - 80| / 2 = 2.00 ; MAE 0.720 +- 0.020
    s = summarize_seeds(runs)
    assert s.loc["Has0_acc_2 (%)", "mean"] == approx(82.0)
    assert s.loc["Has0_acc_2 (%)", "std"] == approx(2.0)
    assert s.loc["MAE", "mean ± std"] == "0.720 ± 0.020"
    # sample std (ddof=1): sqrt(2 * 2^2 / 1) = 2.828
    assert summarize_seeds(runs, ddof=1).loc["Has0_acc_2 (%)", "std"] == approx(2.83)
    assert isinstance(s, pd.DataFrame) and list(s.columns) == ["mean", "std", "n", "mean ± std"]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------
def test_length_mismatch():
    with pytest.raises(MMSADataError, match="3 values but true has 2"):
        eval_regression([0.1, 0.2, 0.3], [0.1, 0.2])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf(bad):
    with pytest.raises(MMSADataError, match="NaN or infinite"):
        eval_regression([0.1, bad, 0.3], [0.1, 0.2, 0.3])
    with pytest.raises(MMSADataError, match="true holds"):
        eval_regression([0.1, 0.2, 0.3], [0.1, 0.2, bad])


def test_empty_and_unknown_dataset():
    with pytest.raises(MMSADataError, match="empty"):
        eval_regression([], [])
    with pytest.raises(ConfigError, match="valid names"):
        eval_regression([0.1], [0.2], "imdb")
    with pytest.raises(MMSADataError, match="pred_labels has 1 entries but true_labels has 2"):
        eval_classification(["a"], ["a", "b"])


# ---------------------------------------------------------------------------
# Independent reference, transcribed from MMSA's definition (metricsTop.py)
# ---------------------------------------------------------------------------
def reference_mosi(pred, true):
    p = np.asarray(pred, dtype=np.float32).reshape(-1)
    t = np.asarray(true, dtype=np.float32).reshape(-1)

    def mult(a, b):
        return np.sum(np.round(a) == np.round(b)) / float(len(b))

    nz = np.array([i for i, e in enumerate(t) if e != 0])
    out = {
        "Has0_acc_2": accuracy_score(p >= 0, t >= 0),
        "Has0_F1_score": f1_score(t >= 0, p >= 0, average="weighted"),
        "Non0_acc_2": accuracy_score(p[nz] > 0, t[nz] > 0),
        "Non0_F1_score": f1_score(t[nz] > 0, p[nz] > 0, average="weighted"),
        "Mult_acc_5": mult(np.clip(p, -2.0, 2.0), np.clip(t, -2.0, 2.0)),
        "Mult_acc_7": mult(np.clip(p, -3.0, 3.0), np.clip(t, -3.0, 3.0)),
        "MAE": np.mean(np.absolute(p - t)).astype(np.float64),
        "Corr": np.corrcoef(p, t)[0][1],
    }
    return {k: round(v, 4) for k, v in out.items()}


def reference_sims(pred, true):
    p = np.clip(np.asarray(pred, dtype=np.float32).reshape(-1), -1.0, 1.0)
    t = np.clip(np.asarray(true, dtype=np.float32).reshape(-1), -1.0, 1.0)

    def to_bins(a, ms):
        out = a.copy()
        for i in range(len(ms) - 1):
            out[np.logical_and(a > ms[i], a <= ms[i + 1])] = i
        return out

    out = {}
    for n, ms in ((2, [-1.01, 0.0, 1.01]), (3, [-1.01, -0.1, 0.1, 1.01]),
                  (5, [-1.01, -0.7, -0.1, 0.1, 0.7, 1.01])):
        out[f"Mult_acc_{n}"] = np.sum(np.round(to_bins(p, ms)) == np.round(to_bins(t, ms))) / float(len(t))
    out["F1_score"] = f1_score(to_bins(t, [-1.01, 0.0, 1.01]), to_bins(p, [-1.01, 0.0, 1.01]), average="weighted")
    out["MAE"] = np.mean(np.absolute(p - t)).astype(np.float64)
    out["Corr"] = np.corrcoef(p, t)[0][1]
    return {k: round(v, 4) for k, v in out.items()}


def random_case(seed: int, H: float):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 400))
    if seed % 2 == 0:  # labels on a 0.2 grid (SIMS also 0.1: hits the -0.1/0.1/0.7 edges), with zeros
        step = 0.1 if (H == 1.0 and seed % 4 == 2) else 0.2
        true = np.round(rng.uniform(-H, H, n) / step) * step
        true[:3] = 0.0
    else:
        true = rng.uniform(-H, H, n)
    pred = rng.uniform(0.2, 1.2) * true + rng.normal(0, 0.4 * H, n) + rng.normal(0, 0.2 * H)
    if seed % 5 == 0:  # predictions with exact half ties
        pred = np.round(pred * 2) / 2
    return pred, true


@pytest.mark.parametrize("dataset,reference,H", [("mosi", reference_mosi, 3.0), ("sims", reference_sims, 1.0)])
def test_matches_reference_on_random_data(dataset, reference, H):
    for seed in range(50):
        pred, true = random_case(seed, H)
        got = eval_regression(pred, true, dataset)
        want = reference(pred, true)
        assert list(got) == list(want)
        for key in want:
            assert got[key] == pytest.approx(float(want[key]), abs=1e-4), (seed, key)


# ---------------------------------------------------------------------------
# Which rules: chosen by dataset name, never guessed from the label range
# ---------------------------------------------------------------------------
def _corpus(name, label_range=3.0, **info):
    from mmsa_helpers.corpus import Corpus

    split = {"id": ["a", "b"], "raw_text": ["good", "bad"], "regression_labels": np.array([1, -1], np.float32)}
    return Corpus(name, {"train": split, "valid": split, "test": split}, label_range=label_range, info=info)


@pytest.mark.parametrize("name, rules", [("mosi", "mosi"), ("MOSEI", "mosi"), ("synthetic", "mosi"),
                                         ("sims", "sims"), ("SIMS", "sims"), ("simsv2", "sims"), ("ch-sims", "sims")])
def test_rules_follow_the_dataset_name(name, rules):
    assert metrics.rules_for(name) == rules
    pred, true = [0.05, -0.4, 0.9], [0.0, -0.5, 0.6]
    assert list(eval_regression(pred, true, name)) == list(metrics.REGRESSION_KEYS[rules])


def test_existing_callers_get_the_rules_they_had():
    """What the label range chose before (SIMS rules for H = 1, MOSI rules otherwise) for the datasets
    the book trains on: the leaderboard and every recorded number keep their metrics."""
    from mmsa_helpers.experiment import metric_rules

    for name, label_range in (("mosi", 3.0), ("mosei", 3.0), ("synthetic", 3.0), ("sims", 1.0)):
        assert metric_rules(_corpus(name, label_range)) == ("sims" if label_range == 1 else "mosi")


def test_meld_is_not_scored_with_the_sims_rules():
    """MELD's labels lie in [-1, 1] like SIMS's; the label range used to pick SIMS's rules for it."""
    from mmsa_helpers.experiment import metric_rules

    with pytest.raises(ConfigError, match=r"cannot score corpus 'meld'.*three sentiment classes.*eval_classification"):
        metric_rules(_corpus("meld", 1.0))
    with pytest.raises(ConfigError, match="no regression metrics for 'meld'"):
        eval_regression([0.0, 1.0], [0.0, 1.0], "meld")
    with pytest.raises(ConfigError, match="speech emotion classification"):
        eval_regression([0.0, 1.0], [0.0, 1.0], "emodb")


def test_a_corpus_of_ones_own_names_its_rules_or_gets_told_how():
    from mmsa_helpers.experiment import metric_rules

    assert metric_rules(_corpus("my_reviews", 1.0, metric_rules="sims")) == "sims"
    assert metric_rules(_corpus("sims", 1.0, metric_rules="mosi")) == "mosi"  # explicit wins over the name
    with pytest.raises(ConfigError, match=r"unknown dataset 'my_reviews'.*info\['metric_rules'\]"):
        metric_rules(_corpus("my_reviews", 1.0))
    with pytest.raises(ConfigError, match=r"info\['metric_rules'\] is 'SIMS-ish'"):
        metric_rules(_corpus("my_reviews", 1.0, metric_rules="SIMS-ish"))


def test_run_experiment_refuses_meld_before_training():
    from mmsa_helpers.experiment import run_experiment

    with pytest.raises(ConfigError, match="cannot score corpus 'meld'"):
        run_experiment(_corpus("meld", 1.0), "tfidf_svm")
