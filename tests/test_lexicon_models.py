"""Tests of mmsa_helpers.models.lexicon (chapter 4, "Lexicon-based sentiment").

The rules are checked on hand-made sentences with a tiny lexicon whose
numbers make the expected contributions easy to work out by hand.
"""
from __future__ import annotations

import numpy as np
import pytest

from mmsa_helpers.corpus import Corpus
from mmsa_helpers.errors import SettingError
from mmsa_helpers.models import lexicon as L
from mmsa_helpers.models.base import registry

TINY = {"good": 2.0, "bad": -2.0, "great": 3.0, "boring": -1.5, "like": 1.5}


def scorer(**kw):
    return L.LexiconScorer(lexicon=TINY, calibrate=False, **kw)


def raw(text, **kw):
    return scorer(**kw).raw_score(text)


def toy_corpus(texts_by_split, labels_by_split=None, label_range=3.0):
    splits = {}
    for split, texts in texts_by_split.items():
        labels = (labels_by_split or {}).get(split, np.zeros(len(texts)))
        splits[split] = {"id": [f"{split}{i}" for i in range(len(texts))], "raw_text": list(texts),
                         "regression_labels": np.asarray(labels, dtype=np.float32)}
    return Corpus("toy", splits, label_range=label_range)


# ---------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------
def test_tokenize_lowercases_and_merges_two_word_modifiers():
    assert L.tokenize("The plot was KIND OF boring, really.") == ["the", "plot", "was", "kind of", "boring", ",",
                                                                  "really", "."]
    assert L.tokenize("it didn't work") == ["it", "didn't", "work"]
    assert L.tokenize("it didn\u2019t work") == ["it", "didn't", "work"]


def test_modifiers_carry_no_valence_even_when_the_lexicon_lists_them():
    lex = {**TINY, "no": -1.0, "pretty": 2.0}
    tokens = L.tokenize("no pretty good")
    # "no" is a negation, "pretty" an intensifier: only "good" has a valence
    assert L.word_valences(tokens, lex).tolist() == [0.0, 0.0, 2.0]


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------
def test_plain_words_add_up():
    assert raw("good and bad and great") == pytest.approx(2.0 - 2.0 + 3.0)
    assert raw("nothing to see here") == 0.0


def test_negation_flips_and_dampens():
    assert raw("the plot was good") == pytest.approx(2.0)
    assert raw("the plot was not good") == pytest.approx(-L.NEGATION_FACTOR * 2.0)
    assert raw("not bad") == pytest.approx(L.NEGATION_FACTOR * 2.0)
    assert raw("never good", negation_factor=0.5) == pytest.approx(-1.0)


@pytest.mark.parametrize("negation", ["didnt", "dont", "isnt", "wasnt", "doesnt", "didn't", "wasn't", "never", "no"])
def test_negations_without_apostrophes_work(negation):
    assert raw(f"it {negation} seem good") == pytest.approx(-L.NEGATION_FACTOR * 2.0)


def test_negation_scope_is_three_words():
    assert raw("not that very good") < 0                       # 3rd word after "not": in scope
    assert raw("not at all the good") == pytest.approx(2.0)    # 4th word: out of scope
    assert raw("not at all the good", negation_scope=4) < 0


def test_negation_scope_ends_at_the_clause_boundary():
    assert raw("it was not bad and good") == pytest.approx(L.NEGATION_FACTOR * 2.0 + 2.0)
    assert raw("not , good") == pytest.approx(2.0)
    assert raw("not but good", but_weights=(1.0, 1.0)) == pytest.approx(2.0)


def test_intensifiers_scale_the_next_sentiment_word():
    assert abs(raw("very good")) > abs(raw("good"))
    assert raw("very good") == pytest.approx(2.0 * L.INTENSIFIERS["very"])
    assert raw("very bad") == pytest.approx(-2.0 * L.INTENSIFIERS["very"])
    assert raw("very very good") == pytest.approx(2.0 * L.INTENSIFIERS["very"] ** 2)
    assert abs(raw("kind of good")) < abs(raw("good"))
    assert raw("very the good") == pytest.approx(2.0)          # only the word right after


def test_negation_and_intensifier_combine():
    assert raw("not very good") == pytest.approx(-L.NEGATION_FACTOR * L.INTENSIFIERS["very"] * 2.0)


def test_the_clause_after_but_dominates():
    s = raw("the plot was great but the acting was bad")
    assert s == pytest.approx(L.BUT_WEIGHTS[0] * 3.0 + L.BUT_WEIGHTS[1] * -2.0)
    assert s < 0                                               # although "great" outweighs "bad" without "but"
    assert raw("the plot was great and the acting was bad") > 0
    assert raw("bad but good") > 0
    # the last "but" decides
    assert raw("good but bad but good", but_weights=(0.0, 1.0)) == pytest.approx(2.0)


def test_filler_like_counts_only_as_a_verb():
    assert raw("it was like a movie") == 0.0
    assert raw("like the movie was good") == pytest.approx(2.0)
    assert raw("i like the movie") == pytest.approx(1.5)
    assert raw("i didnt like the movie") == pytest.approx(-L.NEGATION_FACTOR * 1.5)


def test_explain_matches_contributions():
    s = scorer()
    text = "the plot was not very good but i really like the music"
    table = s.explain(text)
    tokens, contrib = s.contributions(text)
    assert table["token"].tolist() == tokens
    assert np.allclose(table["contribution"], contrib)
    assert table["contribution"].sum() == pytest.approx(s.raw_score(text))
    assert list(table.columns) == ["token", "valence", "negation", "intensifier", "contribution"]


def test_squash_stays_inside_the_label_range():
    x = np.array([-100.0, -3.0, 0.0, 3.0, 100.0])
    y = L.squash(x, 3.0, scale=3.0)
    assert np.all(np.abs(y) <= 3.0) and y[2] == 0.0 and np.all(np.diff(y) > 0)
    assert y[3] == pytest.approx(3.0 * np.tanh(1.0))
    assert np.all(np.abs(L.squash(x, 1.0)) <= 1.0)


# ---------------------------------------------------------------------------
# Default lexicon and models
# ---------------------------------------------------------------------------
def test_vader_lexicon_is_rescaled_and_general_purpose():
    lex = L.vader_lexicon()
    assert len(lex) > 5000
    assert all(-3.0 <= v <= 3.0 for v in lex.values())
    assert lex["good"] == pytest.approx(1.9 * 0.75)
    assert lex["great"] > lex["good"] > 0 > lex["bad"]
    assert ":)" not in lex
    # it does not know the film-domain phrases of the synthetic corpus
    assert "snooze" not in lex and "flat" not in lex
    lex["good"] = 99.0
    assert L.vader_lexicon()["good"] != 99.0                     # callers get a copy


def test_predictions_within_label_range_and_deterministic():
    texts = ["it was absolutely amazing amazing amazing wonderful", "horrible awful terrible disaster",
             "the movie", "not bad", "good but boring"]
    for H in (3.0, 1.0):
        corpus = toy_corpus({"train": texts, "valid": texts, "test": texts},
                            {"train": np.linspace(-H, H, len(texts))}, label_range=H)
        for calibrate in (False, True):
            m = L.LexiconScorer(calibrate=calibrate).fit(corpus, seed=0)
            p = m.predict(corpus, "test")
            assert p.dtype == np.float32 and p.shape == (len(texts),)
            assert np.all(np.abs(p) <= H)
            p2 = L.LexiconScorer(calibrate=calibrate).fit(corpus, seed=123).predict(corpus, "test")
            assert np.array_equal(p, p2)
        v = L.VaderModel().fit(corpus).predict(corpus, "test")
        assert v.dtype == np.float32 and np.all(np.abs(v) <= H)


def test_calibration_is_least_squares_on_the_training_split():
    texts = ["good", "very good", "bad", "not bad", "great", "boring"]
    s = L.squash([scorer().raw_score(t) for t in texts])
    y = 0.5 * s + 0.25
    corpus = toy_corpus({"train": texts, "valid": texts, "test": texts}, {"train": y})
    m = L.LexiconScorer(lexicon=TINY, calibrate=True).fit(corpus)
    assert (m.slope, m.offset) == (pytest.approx(0.5), pytest.approx(0.25))
    assert np.allclose(m.predict(corpus, "test"), y, atol=1e-5)
    uncalibrated = L.LexiconScorer(lexicon=TINY, calibrate=False).fit(corpus)
    assert (uncalibrated.slope, uncalibrated.offset) == (1.0, 0.0)


def test_vader_on_clear_sentences():
    corpus = toy_corpus({s: ["this movie was great , i loved it", "this movie was terrible , i hated it",
                             "the movie was not good"] for s in ("train", "valid", "test")})
    p = L.VaderModel().predict(corpus, "test")
    assert p[0] > 1.5 and p[1] < -1.5 and p[2] < 0


def test_models_are_registered():
    reg = registry()
    for name, cls in (("lexicon", L.LexiconScorer), ("vader", L.VaderModel)):
        spec = reg[name]
        assert spec.factory is cls and spec.needs == ("raw_text",) and spec.text_only
        assert spec.stochastic is False and spec.description
    assert isinstance(reg["lexicon"].build(), L.LexiconScorer)
    assert reg["lexicon"].build(negation_scope=2).negation_scope == 2
    assert isinstance(reg["vader"].build(), L.VaderModel)
    with pytest.raises(SettingError, match=r"no setting\(s\) \['no_such_setting'\]; its settings are"):
        reg["lexicon"].build(no_such_setting=1)


def test_defaults_list_every_constructor_setting():
    import inspect

    params = set(inspect.signature(L.LexiconScorer).parameters)
    assert params == set(registry()["lexicon"].defaults)
    assert set(inspect.signature(L.VaderModel).parameters) == set(registry()["vader"].defaults)


@pytest.mark.parametrize("model", ["lexicon", "vader"])
def test_run_experiment_on_a_small_synthetic_corpus(model):
    from mmsa_helpers.experiment import run_experiment

    result = run_experiment("synthetic", model, seeds=[0], sizes=(60, 20, 30), speakers=(6, 2, 3))
    m = result.metrics[0]
    from mmsa_helpers.datasets import load_dataset
    from mmsa_helpers.metrics import eval_regression

    corpus = load_dataset("synthetic", sizes=(60, 20, 30), speakers=(6, 2, 3))
    y = corpus.labels("test")
    assert m == eval_regression(result.predictions[0], y, "synthetic")
    majority = max(np.mean(y[y != 0] > 0), np.mean(y[y != 0] < 0))
    assert m["Non0_acc_2"] > majority                            # better than always guessing one sign
    assert m["MAE"] < np.mean(np.abs(y - corpus.labels("train").mean()))  # and than the training mean
    assert m["Corr"] > 0.3                                       # the words carry most of the sentiment
    pred = result.predictions[0]
    assert pred.shape == (30,) and np.all(np.abs(pred) <= 3)


def test_calibration_without_any_lexicon_word_predicts_the_mean():
    texts = ["the movie", "a film", "the plot"]
    corpus = toy_corpus({"train": texts, "valid": texts, "test": texts}, {"train": [1.0, 2.0, 3.0]})
    p = L.LexiconScorer(lexicon=TINY).fit(corpus).predict(corpus, "test")
    assert np.allclose(p, 2.0)
