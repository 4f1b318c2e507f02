"""Classic machine learning on transcripts: TF-IDF features and a linear SVR (chapter 5, "Classic machine learning").

One model is registered, ``"tfidf_svm"`` (:class:`TfidfSVR`):

1. :func:`tfidf_vectorizer` turns each transcript into a sparse vector of word
   1-2 gram weights: term frequency damped by ``1 + log(tf)`` (sublinear tf), times
   the inverse document frequency, each row scaled to unit length;
2. a linear support vector regressor (scikit-learn's ``LinearSVR``, i.e. LIBLINEAR)
   maps that vector to a score. With its default loss, the epsilon-insensitive loss
   with ``epsilon=0``, it minimises ``0.5 * ||w||^2 + C * sum |y - f(x)|``: the
   absolute error the MAE scores, plus a penalty on large weights;
3. the penalty's strength ``C`` is chosen on the validation split
   (:func:`select_on_validation`): one model per value of ``C_grid`` is fitted on the
   training split, the one with the lowest validation MAE is kept. Its weights were
   learned on the training split only; the validation split chose ``C`` and nothing else;
4. predictions are clipped to the label range ``[-H, H]``.

:meth:`TfidfSVR.top_words` lists the n-grams with the largest positive and negative
weights, the model's learned "lexicon".
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVR

from ..corpus import Corpus
from .base import register

#: Values of the SVR's ``C`` tried on the validation split (larger ``C`` = weaker penalty).
DEFAULT_C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def tfidf_vectorizer(ngram_range: Sequence[int] = (1, 2), min_df: int = 1,
                     sublinear_tf: bool = True, language: str = "en") -> TfidfVectorizer:
    """The book's TF-IDF features: word n-grams, ``1 + log(tf)``, smoothed idf, rows of unit length.

    ``ngram_range=(1, 2)`` keeps single words and pairs of neighbouring words, so that
    "not good" becomes a feature of its own; ``min_df`` drops n-grams seen in fewer
    training transcripts. English tokens are scikit-learn's default: runs of two or more
    letters or digits. Chinese (``language="zh"``) has no spaces and many one-character
    words (不, 很): its tokens are jieba's words (:class:`~mmsa_helpers.language.WordSplitter`).
    """
    if language == "zh":
        from ..language import WordSplitter

        return TfidfVectorizer(ngram_range=tuple(ngram_range), min_df=min_df, sublinear_tf=sublinear_tf,
                               tokenizer=WordSplitter("zh"), token_pattern=None, lowercase=False)
    return TfidfVectorizer(ngram_range=tuple(ngram_range), min_df=min_df, sublinear_tf=sublinear_tf)


def select_on_validation(build: Callable[[Any], Any], grid: Sequence[Any], X_train, y_train, X_valid, y_valid,
                         score: Callable[[Any, Any, Any], float], lower_is_better: bool = True):
    """Fit ``build(value)`` on the training split for each value of ``grid``; keep the best on validation.

    ``score(model, X, y)`` measures a fitted model (e.g. its MAE). Returns the best
    value, the model fitted with it, and a table with the training and validation
    score of every value (a validation curve). Ties go to the first value of ``grid``.
    """
    rows, models = [], []
    for value in grid:
        model = build(value).fit(X_train, y_train)
        models.append(model)
        rows.append({"value": value, "train": score(model, X_train, y_train),
                     "valid": score(model, X_valid, y_valid)})
    curve = pd.DataFrame(rows).set_index("value")
    best = int(np.argmin(curve["valid"]) if lower_is_better else np.argmax(curve["valid"]))
    return grid[best], models[best], curve


class TfidfSVR:
    """TF-IDF n-grams + linear SVR, with ``C`` picked on the validation split by MAE.

    The words are split by the corpus's language (``language_`` after :meth:`fit`).
    After :meth:`fit`: ``vectorizer_`` (the fitted ``TfidfVectorizer``), ``regressor_``
    (the fitted ``LinearSVR``), ``C_`` (the value used) and ``validation_curve_``
    (training and validation MAE for each value tried).

    Parameters
    ----------
    C:
        The SVR's ``C``; ``None`` (default) picks it from ``C_grid`` on the validation split.
    C_grid:
        Values tried when ``C`` is ``None``.
    ngram_range, min_df, sublinear_tf:
        Passed to :func:`tfidf_vectorizer`.
    loss, epsilon:
        ``LinearSVR``'s loss: ``"epsilon_insensitive"`` (the classic SVR, absolute errors
        beyond ``epsilon``) or ``"squared_epsilon_insensitive"`` (squared errors).
    max_iter:
        Iterations of LIBLINEAR's solver.
    """

    def __init__(self, C: float | None = None, C_grid: Sequence[float] = DEFAULT_C_GRID,
                 ngram_range: Sequence[int] = (1, 2), min_df: int = 1, sublinear_tf: bool = True,
                 loss: str = "epsilon_insensitive", epsilon: float = 0.0, max_iter: int = 10_000):
        self.C = C
        self.C_grid = tuple(C_grid)
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf
        self.loss = loss
        self.epsilon = epsilon
        self.max_iter = max_iter

    def _svr(self, C: float, seed: int) -> LinearSVR:
        # LIBLINEAR's dual solver visits the samples in a random order: random_state fixes it.
        return LinearSVR(C=C, loss=self.loss, epsilon=self.epsilon, dual=True, max_iter=self.max_iter,
                         random_state=seed)

    def fit(self, corpus: Corpus, seed: int = 0) -> "TfidfSVR":
        H = corpus.label_range

        def clipped_mae(model, X, y):
            return float(np.mean(np.abs(np.clip(model.predict(X), -H, H) - y)))

        from ..language import corpus_language

        self.language_ = corpus_language(corpus)
        self.vectorizer_ = tfidf_vectorizer(self.ngram_range, self.min_df, self.sublinear_tf, self.language_)
        X_train = self.vectorizer_.fit_transform(list(corpus["train"]["raw_text"]))
        X_valid = self.vectorizer_.transform(list(corpus["valid"]["raw_text"]))
        grid = self.C_grid if self.C is None else (self.C,)
        self.C_, self.regressor_, curve = select_on_validation(
            lambda C: self._svr(C, seed), grid, X_train, corpus.labels("train"),
            X_valid, corpus.labels("valid"), clipped_mae)
        self.validation_curve_ = curve.rename_axis("C").rename(columns={"train": "train_MAE", "valid": "valid_MAE"})
        self.label_range_ = H
        return self

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        X = self.vectorizer_.transform(list(corpus[split]["raw_text"]))
        H = self.label_range_
        return np.clip(self.regressor_.predict(X), -H, H).astype(np.float32)

    def weights(self) -> pd.Series:
        """The learned weight of every n-gram of the vocabulary, indexed by the n-gram."""
        return pd.Series(self.regressor_.coef_, index=self.vectorizer_.get_feature_names_out(), name="weight")

    def top_words(self, n: int = 10) -> pd.Series:
        """The ``n`` n-grams with the largest positive and the ``n`` with the largest negative weights.

        Sorted from most positive to most negative (``2 * n`` rows at most).
        """
        w = self.weights().sort_values(ascending=False, kind="stable")
        top = w.iloc[:n][w.iloc[:n] > 0]
        bottom = w.iloc[::-1].iloc[:n]
        bottom = bottom[bottom < 0].iloc[::-1]
        return pd.concat([top, bottom])


register("tfidf_svm", TfidfSVR, needs=("raw_text",),
         description="TF-IDF word 1-2 grams + linear SVR, C picked on the validation split by MAE (chapter 5)",
         defaults={"C": None, "C_grid": DEFAULT_C_GRID, "ngram_range": (1, 2), "min_df": 1, "sublinear_tf": True,
                   "loss": "epsilon_insensitive", "epsilon": 0.0, "max_iter": 10_000})
