"""Corpus checks its splits when it is built: bad data is an MMSADataError that names split, key and rows."""
import dataclasses
import time
import warnings

import numpy as np
import pytest

from mmsa_helpers.corpus import Corpus
from mmsa_helpers.errors import MMSADataError
from mmsa_helpers.pickle_io import validate_mmsa


def make_split(n=6, steps=8, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "id": [f"v$_${i}" for i in range(n)],
        "raw_text": [f"utterance {i}" for i in range(n)],
        "text": rng.normal(size=(n, 5, 4)).astype(np.float32),
        "audio": rng.normal(size=(n, steps, 3)).astype(np.float32),
        "vision": rng.normal(size=(n, steps, 2)).astype(np.float32),
        "audio_lengths": np.full(n, steps, dtype=np.int64),
        "vision_lengths": np.arange(n) % steps + 1,
        "regression_labels": np.linspace(-3, 3, n).astype(np.float32),
        "regression_labels_T": np.linspace(3, -3, n).astype(np.float32),
    }


def splits(**changes):
    """train/valid/test splits; ``changes`` maps "split.key" -> a function that edits the value."""
    out = {s: make_split(seed=i) for i, s in enumerate(("train", "valid", "test"))}
    for where, edit in changes.items():
        split, key = where.split(".")
        out[split][key] = edit(out[split].get(key))
    return out


def with_values(rows, value, frame=0):
    def edit(x):
        x = np.array(x, dtype=np.float32)
        if x.ndim == 1:
            x[list(rows)] = value
        else:
            x[list(rows), frame] = value
        return x
    return edit


def test_clean_splits_pass_and_mmsa_data_error_is_a_value_error():
    corpus = Corpus("toy", splits())
    assert corpus.sizes() == {"train": 6, "valid": 6, "test": 6}
    assert corpus.validate() is corpus
    assert issubclass(MMSADataError, ValueError)


def test_nan_labels_in_a_labelled_split_are_refused_with_split_key_and_rows():
    with pytest.raises(MMSADataError) as err:
        Corpus("toy", splits(**{"valid.regression_labels": with_values([1, 4], np.nan)}))
    msg = str(err.value)
    assert "'toy' split 'valid', key 'regression_labels'" in msg
    assert "2 of 6 labels are NaN or infinite (rows [1, 4])" in msg
    assert "Fix:" in msg and "leaves the key 'regression_labels' out" in msg


def test_inf_unimodal_label_is_refused():
    with pytest.raises(MMSADataError, match=r"split 'test', key 'regression_labels_T': 1 of 6 .*rows \[5\]"):
        Corpus("toy", splits(**{"test.regression_labels_T": with_values([5], np.inf)}))


def test_many_bad_rows_are_cut_to_the_first_five():
    with pytest.raises(MMSADataError, match=r"6 of 6 labels .*rows \[0, 1, 2, 3, 4\] \.\.\.\)"):
        Corpus("toy", splits(**{"train.regression_labels": with_values(range(6), np.nan)}))


def test_an_unlabelled_split_leaves_the_key_out_and_still_builds():
    data = splits()
    del data["test"]["regression_labels"]
    corpus = Corpus("toy", data)
    with pytest.raises(MMSADataError, match="has no 'regression_labels'"):
        corpus.training_labels("test")
    np.testing.assert_array_equal(corpus.training_labels("train"), data["train"]["regression_labels"])


@pytest.mark.parametrize("key, value, kind", [("audio", np.nan, "NaN"), ("vision", np.inf, "infinite"),
                                              ("text", -np.inf, "infinite"), ("vision", np.nan, "NaN")])
def test_non_finite_features_are_refused_with_rows(key, value, kind):
    with pytest.raises(MMSADataError) as err:
        Corpus("toy", splits(**{f"train.{key}": with_values([2, 3], value, frame=1)}))
    msg = str(err.value)
    assert f"split 'train', key '{key}': 2 of 6 utterances have {kind} feature values (rows [2, 3])" in msg
    assert "np.nan_to_num" in msg


def test_neg_inf_in_audio_points_to_validate_mmsa_which_sets_it_to_zero_as_mmsa_does():
    raw = splits(**{"valid.audio": with_values([0], -np.inf, frame=3)})
    with pytest.raises(MMSADataError, match=r"'audio': 1 of 6 utterances have -inf values \(rows \[0\]\).*validate_mmsa"):
        Corpus("toy", raw)
    with pytest.warns(UserWarning, match="replaced -inf in 'audio' by 0"):
        cleaned = validate_mmsa(raw, name="toy")
    corpus = Corpus("toy", cleaned)  # the loaders' path: builds, with the frame set to 0
    assert (corpus["valid"]["audio"][0, 3] == 0).all() and np.isneginf(raw["valid"]["audio"][0, 3]).all()


def test_columns_of_different_lengths_are_refused_with_counts():
    with pytest.raises(MMSADataError) as err:
        Corpus("toy", splits(**{"test.raw_text": lambda t: t[:4], "test.vision": lambda x: x[:5]}))
    msg = str(err.value)
    assert "'toy' split 'test': the columns have different numbers of rows: 'id' has 6" in msg
    assert "'raw_text' has 4" in msg and "'vision' has 5" in msg and "one row per utterance" in msg


@pytest.mark.parametrize("edit, found", [
    (lambda n: n + np.array([0, 0, 0, 3, 0, 1]), r"2 of 6 lengths lie outside 0\.\.8, the number of steps of "
                                                   r"'audio' \(rows \[3, 5\]; row 3 has 11\)"),
    (lambda n: n - 9 * (np.arange(6) == 1), r"1 of 6 lengths lie outside 0\.\.8.*\(rows \[1\]; row 1 has -1\)"),
])
def test_lengths_longer_than_the_sequence_or_negative_are_refused(edit, found):
    with pytest.raises(MMSADataError, match=r"split 'train', key 'audio_lengths': " + found):
        Corpus("toy", splits(**{"train.audio_lengths": edit}))


def test_fractional_lengths_are_refused():
    with pytest.raises(MMSADataError, match=r"'vision_lengths': expected whole frame counts of shape \(6,\)"):
        Corpus("toy", splits(**{"valid.vision_lengths": lambda n: n + 0.5}))


def test_text_lengths_are_checked_against_the_text():
    with pytest.raises(MMSADataError, match=r"'text_lengths': 1 of 6 lengths lie outside 0\.\.5"):
        Corpus("toy", splits(**{"train.text_lengths": lambda _: np.array([1, 2, 6, 3, 4, 5])}))


def test_rebuilding_with_replace_checks_again():
    corpus = Corpus("toy", splits())
    bad = {**corpus.splits, "train": {**corpus["train"], "regression_labels": np.full(6, np.nan, np.float32)}}
    with pytest.raises(MMSADataError, match="split 'train', key 'regression_labels'"):
        dataclasses.replace(corpus, splits=bad)


def test_a_split_that_is_not_a_dict_is_refused():
    with pytest.raises(MMSADataError, match=r"'toy' split 'test' is a list, not a dict of columns"):
        Corpus("toy", {**splits(), "test": [1, 2, 3]})


def test_validation_is_cheap_on_the_embedded_corpus():
    from mmsa_helpers.synthetic import generate_corpus

    corpus = generate_corpus()  # full size: 2199 utterances
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        start = time.perf_counter()
        for _ in range(5):
            corpus.validate()
        per_call = (time.perf_counter() - start) / 5
    assert per_call < 0.25, f"validating the embedded corpus took {per_call:.3f} s"
