"""Tests of mmsa_helpers.models.classic (chapter 5, "Classic machine learning")."""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from mmsa_helpers.corpus import Corpus
from mmsa_helpers.errors import SettingError
from mmsa_helpers.models.classic import (
    DEFAULT_C_GRID,
    TfidfSVR,
    select_on_validation,
    tfidf_vectorizer,
)

VALENCE = {"good": 1.0, "great": 2.0, "wonderful": 3.0, "lovely": 2.0, "superb": 3.0,
           "bad": -1.0, "awful": -3.0, "boring": -2.0, "dull": -1.0, "terrible": -3.0}
POSITIVE = [w for w, v in VALENCE.items() if v > 0]
NEGATIVE = [w for w, v in VALENCE.items() if v < 0]
NOUNS = ["plot", "acting", "music", "ending", "script", "cast", "pacing", "dialogue", "humour", "effects",
         "story", "camera", "score", "costumes", "sets", "lighting", "editing", "villain", "hero", "finale"]


VALENCE_INDEX = {adj: i for i, adj in enumerate(VALENCE)}  # first sentence with each adjective


def _split(texts, labels):
    return {"id": [f"u$_${i}" for i in range(len(texts))], "raw_text": list(texts),
            "regression_labels": np.asarray(labels, dtype=np.float32)}


def toy_texts():
    """20 hand-made reviews, "the <noun> was <adjective>", labelled with the adjective's valence."""
    adjectives = list(VALENCE) * 2
    texts = [f"the {noun} was {adj}" for noun, adj in zip(NOUNS, adjectives)]
    return texts, np.array([VALENCE[a] for a in adjectives], dtype=np.float32)


def toy_corpus(valid=None, label_range=3.0):
    texts, labels = toy_texts()
    valid = valid if valid is not None else (texts[::2], labels[::2])
    test = (["the hero was great", "the music was awful", "the ending was not good"], [2.0, -3.0, -1.0])
    return Corpus("toy", {"train": _split(texts, labels), "valid": _split(*valid), "test": _split(*test)},
                  label_range=label_range)


# ---------------------------------------------------------------------------
# Features and model selection
# ---------------------------------------------------------------------------
def test_tfidf_vectorizer_matches_the_formula_of_the_chapter():
    docs = ["the plot was good", "the plot was not good", "the acting was bad", "the acting was not bad at all"]
    vec = tfidf_vectorizer(ngram_range=(1, 1))
    X = vec.fit_transform(docs).toarray()
    counts = np.array([[d.split().count(w) for w in vec.get_feature_names_out()] for d in docs], dtype=float)
    idf = np.log((1 + len(docs)) / (1 + (counts > 0).sum(0))) + 1
    w = np.where(counts > 0, 1 + np.log(np.maximum(counts, 1)), 0) * idf
    np.testing.assert_allclose(X, w / np.linalg.norm(w, axis=1, keepdims=True), atol=1e-12)
    assert "not good" in tfidf_vectorizer().fit(docs).get_feature_names_out()


def test_select_on_validation_returns_the_best_value_and_the_curve():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + rng.normal(0, 0.1, 40)

    def mae(model, X_, y_):
        return float(np.mean(np.abs(model.predict(X_) - y_)))

    grid = (1e-3, 1.0, 1e4)
    best, model, curve = select_on_validation(lambda a: Ridge(alpha=a), grid, X[:30], y[:30], X[30:], y[30:], mae)
    assert list(curve.index) == list(grid) and list(curve.columns) == ["train", "valid"]
    assert best == curve["valid"].idxmin() and best != 1e4   # the huge penalty underfits
    assert model.alpha == best
    assert curve.loc[1e4, "train"] > curve.loc[1e-3, "train"]
    best_up, _, _ = select_on_validation(lambda a: Ridge(alpha=a), grid, X[:30], y[:30], X[30:], y[30:], mae,
                                         lower_is_better=False)
    assert best_up == 1e4


def test_select_on_validation_breaks_ties_towards_the_first_value():
    X, y = np.eye(3), np.zeros(3)
    best, _, curve = select_on_validation(lambda a: Ridge(alpha=a), (5.0, 1.0), X, y, X, y,
                                          lambda m, X_, y_: 0.0)
    assert best == 5.0 and (curve["valid"] == 0).all()


# ---------------------------------------------------------------------------
# TfidfSVR
# ---------------------------------------------------------------------------
def test_predictions_have_one_float32_per_utterance():
    corpus = toy_corpus()
    model = TfidfSVR().fit(corpus, seed=0)
    for split in ("train", "valid", "test"):
        pred = model.predict(corpus, split)
        assert pred.dtype == np.float32 and pred.shape == (len(corpus[split]["id"]),)
        assert np.isfinite(pred).all()


def test_it_learns_twenty_sentences_nearly_perfectly():
    corpus = toy_corpus()
    model = TfidfSVR(C=100.0).fit(corpus, seed=0)
    train_pred = model.predict(corpus, "train")
    assert np.mean(np.abs(train_pred - corpus.labels("train"))) < 0.05
    assert (np.sign(train_pred) == np.sign(corpus.labels("train"))).all()
    test_pred = model.predict(corpus, "test")
    assert test_pred[0] > 0 > test_pred[1]  # unseen combinations of known words


def test_C_is_picked_on_the_validation_split():
    texts, labels = toy_texts()
    # validation = training data: a weak penalty (large C), which fits it best, wins
    fits_train = TfidfSVR().fit(toy_corpus(valid=(texts, labels)), seed=0)
    assert fits_train.C_ >= 3 and fits_train.validation_curve_["valid_MAE"].min() < 0.05
    # validation labels all 0: the strongest penalty (predictions closest to 0) wins
    all_zero = TfidfSVR().fit(toy_corpus(valid=(texts, np.zeros_like(labels))), seed=0)
    assert all_zero.C_ == min(DEFAULT_C_GRID)
    curve = all_zero.validation_curve_
    assert list(curve.index) == list(DEFAULT_C_GRID) and curve.index.name == "C"
    assert list(curve.columns) == ["train_MAE", "valid_MAE"]
    assert all_zero.C_ == curve["valid_MAE"].idxmin()
    assert all_zero.regressor_.C == all_zero.C_
    assert curve["train_MAE"].is_monotonic_decreasing  # a weaker penalty fits the training data better


def test_a_fixed_C_skips_the_search():
    model = TfidfSVR(C=0.5).fit(toy_corpus(), seed=0)
    assert model.C_ == 0.5 and list(model.validation_curve_.index) == [0.5]


def test_same_seed_same_predictions_and_the_seed_reaches_liblinear():
    corpus = toy_corpus()
    a = TfidfSVR().fit(corpus, seed=3).predict(corpus, "test")
    b = TfidfSVR().fit(corpus, seed=3).predict(corpus, "test")
    assert np.array_equal(a, b)
    assert TfidfSVR().fit(corpus, seed=7).regressor_.random_state == 7


def test_predictions_are_clipped_to_the_label_range():
    corpus = toy_corpus(label_range=1.0)
    model = TfidfSVR(C=1.0).fit(corpus, seed=0)

    class Loud:
        coef_ = model.regressor_.coef_

        def predict(self, X):
            return np.resize([10.0, -10.0, 0.5], X.shape[0])

    model.regressor_ = Loud()
    np.testing.assert_array_equal(model.predict(corpus, "test"), np.array([1.0, -1.0, 0.5], dtype=np.float32))


def test_top_words_are_the_sentiment_words_and_bigrams_flip_negation():
    texts, labels = toy_texts()
    texts = texts + ["the plot was not good", "the music was not good", "the acting was not bad"]
    labels = np.append(labels, [-1.5, -1.5, 1.0]).astype(np.float32)
    corpus = Corpus("toy", {"train": _split(texts, labels), "valid": _split(texts, labels),
                            "test": _split(texts[:2], labels[:2])})
    model = TfidfSVR(C=10.0).fit(corpus, seed=0)
    top = model.top_words(5)
    assert isinstance(top, pd.Series) and len(top) <= 10
    assert top.is_monotonic_decreasing
    positives, negatives = top[top > 0], top[top < 0]
    assert len(positives) == len(negatives) == 5
    assert sum(w in POSITIVE + ["was good", "was great"] for w in positives.index) >= 3
    assert sum(w in NEGATIVE + ["was bad", "was awful"] for w in negatives.index) >= 3
    weights = model.weights()
    assert len(weights) == len(model.vectorizer_.get_feature_names_out())
    assert weights["not good"] < 0 < weights["not bad"]  # the bigrams carry the negation
    pred = model.predict(corpus, "train")
    assert pred[-3] < 0 < pred[VALENCE_INDEX["good"]] and pred[-1] > 0 > pred[VALENCE_INDEX["bad"]]


# ---------------------------------------------------------------------------
# Registry and experiment
# ---------------------------------------------------------------------------
def test_registry_entry_lists_every_setting():
    from mmsa_helpers.models import create, get_spec

    spec = get_spec("tfidf_svm")
    assert spec.needs == ("raw_text",) and spec.text_only and spec.stochastic
    params = set(inspect.signature(TfidfSVR).parameters)
    assert set(spec.defaults) == params
    assert {k: getattr(TfidfSVR(), k) for k in params} == {k: (tuple(v) if isinstance(v, list) else v)
                                                           for k, v in spec.defaults.items()}
    model = create("tfidf_svm", C=2.0, ngram_range=[1, 1])  # lists (from JSON) become tuples
    assert isinstance(model, TfidfSVR) and model.C == 2.0 and model.ngram_range == (1, 1)
    with pytest.raises(SettingError, match=r"model 'tfidf_svm' has no setting\(s\) \['kernel'\]"):
        create("tfidf_svm", kernel="rbf")


def test_run_experiment_on_a_small_synthetic_corpus():
    from mmsa_helpers.experiment import run_experiment

    result = run_experiment("synthetic", "tfidf_svm", seeds=[0], sizes=(60, 20, 30), speakers=(6, 2, 3))
    assert len(result.metrics) == 1 and result.predictions[0].shape == (30,)
    m = result.metrics[0]
    from mmsa_helpers.datasets import load_dataset
    from mmsa_helpers.metrics import eval_regression

    truth = load_dataset("synthetic", sizes=(60, 20, 30), speakers=(6, 2, 3)).labels("test")
    assert m == eval_regression(result.predictions[0], truth, "synthetic")   # MOSI rules, these predictions
    assert m["Corr"] > 0.15 and np.abs(result.predictions[0]).max() <= 3     # measured 0.30 on 60 utterances
