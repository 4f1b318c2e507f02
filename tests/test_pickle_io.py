"""Tests of mmsa_helpers.pickle_io: safe loading, validation and export of MMSA pickles."""
from __future__ import annotations

import builtins
import datetime
import os
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from mmsa_helpers.corpus import Corpus
from mmsa_helpers.errors import MMSADataError, UnsafePickleError
from mmsa_helpers.pickle_io import (
    export_mmsa,
    load_mmsa_pickle,
    save_mmsa_pickle,
    validate_mmsa,
    write_label_csv,
)

SIZES = {"train": 5, "valid": 3, "test": 2}


def make_split(n: int, *, aligned: bool = False, seed: int = 0, unimodal: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    L, La, Lv = (6, 6, 6) if aligned else (6, 8, 10)
    d = {
        "id": [f"vid{i // 2}$_${i}" for i in range(n)],
        "raw_text": [f"utterance {i}" for i in range(n)],
        "text": rng.normal(size=(n, L, 4)).astype(np.float32),
        "text_bert": np.ones((n, 3, L), dtype=np.int64),
        "audio": rng.normal(size=(n, La, 3)).astype(np.float32),
        "vision": rng.normal(size=(n, Lv, 2)).astype(np.float32),
        "regression_labels": np.linspace(-3, 3, n).astype(np.float32),
    }
    if not aligned:
        d["audio_lengths"] = np.full(n, La, dtype=np.int64)
        d["vision_lengths"] = [Lv] * n
    if unimodal:
        for m in "TAV":
            d[f"regression_labels_{m}"] = np.linspace(-1, 1, n).astype(np.float32)
    return d


def make_data(aligned: bool = False, **kw) -> dict:
    return {s: make_split(n, aligned=aligned, seed=i, **kw) for i, (s, n) in enumerate(SIZES.items())}


# --------------------------------------------------------------------------- loading


class _SystemCall:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.marker}",))


class _Eval:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (builtins.eval, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("evil_cls, refused", [(_SystemCall, "system"), (_Eval, "builtins.eval")])
def test_malicious_pickle_is_refused_and_does_not_run(tmp_path, evil_cls, refused):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"train": evil_cls(marker)}))
    with pytest.raises(UnsafePickleError) as err:
        load_mmsa_pickle(path)
    msg = str(err.value)
    assert refused in msg
    assert "trust" in msg and "trusted=True" in msg and "--trusted" in msg
    assert not marker.exists()


def test_trusted_loads_custom_objects(tmp_path):
    path = tmp_path / "custom.pkl"
    path.write_bytes(pickle.dumps({"when": datetime.date(2020, 1, 2)}))
    with pytest.raises(UnsafePickleError, match="datetime.date"):
        load_mmsa_pickle(path)
    assert load_mmsa_pickle(path, trusted=True) == {"when": datetime.date(2020, 1, 2)}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_safe_loader_reads_numpy_and_containers(tmp_path, protocol):
    from collections import OrderedDict

    data = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "s": np.array(["x", "yz"]),
        "obj": np.array(["x", None], dtype=object),
        "scalar": np.float64(1.5),
        "ints": [np.int64(3), 4],
        "misc": (set([1]), frozenset([2]), OrderedDict(k=b"bytes"), 1 + 2j, True, None),
    }
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    back = load_mmsa_pickle(path)
    np.testing.assert_array_equal(back["a"], data["a"])
    assert back["a"].dtype == np.float32
    assert list(back["s"]) == ["x", "yz"] and list(back["obj"]) == ["x", None]
    assert back["scalar"] == 1.5 and back["ints"] == [3, 4]
    assert back["misc"] == data["misc"]


def test_old_numpy_core_names_are_accepted(tmp_path):
    # Pickles written with numpy 1.x name numpy.core.multiarray; rewrite a new one to look old.
    raw = pickle.dumps({"a": np.arange(3.0)}, protocol=2)
    old = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray" in old
    path = tmp_path / "old.pkl"
    path.write_bytes(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy deprecation warning either
        np.testing.assert_array_equal(load_mmsa_pickle(path)["a"], np.arange(3.0))


def test_missing_corrupt_and_non_dict(tmp_path):
    with pytest.raises(FileNotFoundError, match="no pickle at"):
        load_mmsa_pickle(tmp_path / "nope.pkl")
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(pickle.dumps(make_data())[:200])
    with pytest.raises(MMSADataError, match="not a valid pickle"):
        load_mmsa_pickle(truncated)
    text = tmp_path / "text.pkl"
    text.write_text("hello")
    with pytest.raises(MMSADataError, match="not a valid pickle"):
        load_mmsa_pickle(text)
    a_list = tmp_path / "list.pkl"
    a_list.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(MMSADataError, match="holds a list"):
        load_mmsa_pickle(a_list)


# --------------------------------------------------------------------------- validation


def test_valid_data_passes_and_is_not_mutated():
    data = make_data()
    out = validate_mmsa(data, aligned=False)
    assert set(out) >= {"train", "valid", "test"}
    assert out["train"]["audio"] is data["train"]["audio"]  # untouched arrays are not copied
    validate_mmsa(make_data(aligned=True), aligned=True)
    validate_mmsa(make_data(unimodal=True))


def test_missing_split():
    data = make_data()
    del data["test"]
    with pytest.raises(MMSADataError, match=r"missing splits \['test'\]"):
        validate_mmsa(data)


def test_dev_is_renamed_with_warning():
    data = make_data()
    data["dev"] = data.pop("valid")
    with pytest.warns(UserWarning, match="'dev' renamed to 'valid'"):
        out = validate_mmsa(data)
    assert "valid" in out and "dev" not in out and "dev" in data
    both = make_data()
    both["dev"] = both["valid"]
    with pytest.raises(MMSADataError, match="both a 'dev' and a 'valid'"):
        validate_mmsa(both)


def test_missing_key():
    data = make_data()
    del data["valid"]["audio"]
    with pytest.raises(MMSADataError, match=r"\['valid'\].*missing keys \['audio'\]"):
        validate_mmsa(data)
    text_only = {s: {k: d[k] for k in ("id", "raw_text", "regression_labels")} for s, d in make_data().items()}
    validate_mmsa(text_only, require_features=False)


def test_inconsistent_n():
    data = make_data()
    data["train"]["vision"] = data["train"]["vision"][:4]
    with pytest.raises(MMSADataError) as err:
        validate_mmsa(data)
    msg = str(err.value)
    assert "'train'" in msg and "'vision'" in msg and "4 rows" in msg and "'id' has 5" in msg


def test_wrong_rank():
    data = make_data()
    data["test"]["audio"] = data["test"]["audio"].mean(axis=1)
    with pytest.raises(MMSADataError, match=r"\['test'\]\['audio'\].*3-D.*\(2, 3\)"):
        validate_mmsa(data)
    data = make_data()
    data["train"]["text_bert"] = np.ones((5, 2, 6))
    with pytest.raises(MMSADataError, match=r"text_bert.*\(N, 3, L\)"):
        validate_mmsa(data)


def test_labels_n_by_1_are_squeezed_without_mutating():
    data = make_data()
    data["train"]["regression_labels"] = data["train"]["regression_labels"][:, None]
    out = validate_mmsa(data)
    assert out["train"]["regression_labels"].shape == (5,)
    assert data["train"]["regression_labels"].shape == (5, 1)


def test_length_longer_than_sequence():
    data = make_data()
    data["valid"]["audio_lengths"] = np.array([8, 9, 8])
    with pytest.raises(MMSADataError, match=r"\['valid'\]\['audio_lengths'\].*index 1 has length 9, expected 0..8"):
        validate_mmsa(data)
    data = make_data()
    data["valid"]["vision_lengths"] = [1.5, 2, 3]
    with pytest.raises(MMSADataError, match="whole numbers"):
        validate_mmsa(data)


def test_unaligned_needs_lengths_and_aligned_needs_one_length():
    data = make_data()
    del data["train"]["audio_lengths"]
    validate_mmsa(data)  # aligned=None: lengths optional
    with pytest.raises(MMSADataError, match="audio_lengths"):
        validate_mmsa(data, aligned=False)
    with pytest.raises(MMSADataError, match="share one sequence length"):
        validate_mmsa(make_data(), aligned=True)


def test_label_out_of_range_and_not_finite():
    data = make_data()
    data["train"]["regression_labels"][2] = 3.5
    with pytest.raises(MMSADataError, match=r"outside \[-3, 3\].*index 2, value 3.5.*label_range"):
        validate_mmsa(data)
    validate_mmsa(data, label_range=4)
    data = make_data(unimodal=True)
    with pytest.raises(MMSADataError, match=r"regression_labels.*outside \[-1, 1\]"):
        validate_mmsa(data, label_range=1)
    data = make_data()
    data["test"]["regression_labels"][0] = np.nan
    with pytest.raises(MMSADataError, match="NaN or infinite"):
        validate_mmsa(data)


def test_nan_in_features():
    data = make_data()
    data["valid"]["vision"][0, 0, :] = np.nan
    with pytest.raises(MMSADataError) as err:
        validate_mmsa(data)
    msg = str(err.value)
    assert "'valid'" in msg and "'vision'" in msg and "2 NaN" in msg and "np.nan_to_num" in msg


def test_pos_inf_is_an_error():
    data = make_data()
    data["train"]["audio"][0, 0, 0] = np.inf
    with pytest.raises(MMSADataError, match=r"\['audio'\].*1 infinite"):
        validate_mmsa(data)
    data = make_data()
    data["train"]["text"][0, 0, 0] = -np.inf
    with pytest.raises(MMSADataError, match=r"\['text'\].*infinite"):
        validate_mmsa(data)


def test_neg_inf_in_audio_replaced_with_one_warning():
    data = make_data()
    data["train"]["audio"][0, :2, 0] = -np.inf
    data["test"]["audio"][1, 0, 1] = -np.inf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = validate_mmsa(data)
    msgs = [str(w.message) for w in caught]
    assert len(msgs) == 1
    assert "train: 2" in msgs[0] and "valid: 0" in msgs[0] and "test: 1" in msgs[0]
    assert np.isfinite(out["train"]["audio"]).all() and out["train"]["audio"][0, 0, 0] == 0
    assert np.isneginf(data["train"]["audio"]).sum() == 2  # input untouched
    assert out["train"]["audio"].dtype == np.float32


# --------------------------------------------------------------------------- writing


def test_round_trip(tmp_path):
    data = make_data(unimodal=True)
    path = save_mmsa_pickle(data, tmp_path / "deep" / "dir" / "x.pkl")
    assert path.is_file()
    back = load_mmsa_pickle(path)
    for split, d in data.items():
        assert set(back[split]) == set(d)
        for key, value in d.items():
            np.testing.assert_array_equal(np.asarray(back[split][key]), np.asarray(value))
    with open(path, "rb") as f:
        assert pickle.load(f)["train"]["id"] == data["train"]["id"]


def test_save_refuses_unreadable_objects(tmp_path):
    data = make_data()
    data["train"]["when"] = [datetime.date(2020, 1, 1)] * 5
    with pytest.raises(MMSADataError, match=r"data\['train'\]\['when'\]\[0\] is a datetime.date"):
        save_mmsa_pickle(data, tmp_path / "x.pkl")
    data = make_data()
    data["train"]["frame"] = pd.DataFrame({"a": range(5)})
    with pytest.raises(MMSADataError, match="to_numpy"):
        save_mmsa_pickle(data, tmp_path / "x.pkl")
    assert not (tmp_path / "x.pkl").exists()
    with pytest.raises(MMSADataError, match="dict of splits"):
        save_mmsa_pickle([1], tmp_path / "x.pkl")


def test_write_label_csv(tmp_path):
    data = make_data()
    path = write_label_csv(data, tmp_path / "label.csv")
    df = pd.read_csv(path, dtype={"clip_id": str})
    assert list(df.columns) == ["video_id", "clip_id", "text", "label", "label_T", "label_A",
                                "label_V", "annotation", "mode"]
    assert len(df) == sum(SIZES.values())
    assert df["mode"].tolist() == ["train"] * 5 + ["valid"] * 3 + ["test"] * 2
    assert df.loc[0, "video_id"] == "vid0" and df.loc[0, "clip_id"] == "0"
    assert df["label_T"].isna().all()
    labels = df["label"].to_numpy()
    expected = np.where(labels > 0, "Positive", np.where(labels < 0, "Negative", "Neutral"))
    assert (df["annotation"] == expected).all() and "Neutral" in set(expected)
    corpus = Corpus("syn", make_data(unimodal=True))
    df = pd.read_csv(write_label_csv(corpus, tmp_path / "uni.csv"))
    assert df["label_A"].notna().all()


def test_export_mmsa(tmp_path):
    un = Corpus("synthetic", make_data(aligned=False), aligned=False)
    al = Corpus("synthetic", make_data(aligned=True), aligned=True)
    paths = export_mmsa(un, al, tmp_path, "synthetic")
    root = tmp_path / "SYNTHETIC"
    assert paths["unaligned"] == root / "Processed" / "unaligned_50.pkl"
    assert paths["aligned"] == root / "Processed" / "aligned_50.pkl"
    assert paths["label_csv"] == root / "label.csv"
    for kind in ("unaligned", "aligned"):
        with open(paths[kind], "rb") as f:
            plain = pickle.load(f)
        safe = load_mmsa_pickle(paths[kind])
        assert set(plain) == {"train", "valid", "test"}
        np.testing.assert_array_equal(plain["test"]["audio"], safe["test"]["audio"])
    assert len(pd.read_csv(paths["label_csv"])) == sum(SIZES.values())
    other = Corpus("synthetic", make_data(aligned=True), aligned=True)
    other.splits["test"]["id"] = ["x", "y"]
    with pytest.raises(MMSADataError, match="different ids"):
        export_mmsa(un, other, tmp_path, "synthetic")
