"""The dataset registry, the PyTorch dataset/collate, setup() and the command line."""
import json
import pickle

import numpy as np
import pytest
import torch

import mmsa_helpers
from mmsa_helpers.cli import main
from mmsa_helpers.datasets import REGISTRY, list_datasets, load_dataset
from mmsa_helpers.errors import ConfigError, DatasetNotFoundError, MMSADataError
from mmsa_helpers.pickle_io import load_mmsa_pickle
from mmsa_helpers.synthetic import SyntheticConfig
from mmsa_helpers.torch_data import MultimodalDataset, collate_batch, fit_scalers, make_loader

SMALL = dict(sizes=(40, 12, 20), speakers=(4, 2, 2))


def test_registry_names():
    assert {"synthetic", "mosi", "mosei", "sims", "meld", "emodb"} <= set(REGISTRY)


def test_load_synthetic_with_knobs():
    c = load_dataset("synthetic", seed=3, **SMALL)
    assert c.sizes() == {"train": 40, "valid": 12, "test": 20}
    assert c.info["config"] == SyntheticConfig(seed=3, **SMALL)
    assert c.modalities == ["text", "audio", "vision"]


def test_unknown_dataset_and_misplaced_knob():
    with pytest.raises(ValueError, match="known datasets"):
        load_dataset("mosii")
    with pytest.raises(TypeError, match="generated datasets only"):
        load_dataset("mosi", seed=1)


def test_missing_real_dataset_says_where_it_looked(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset("mosi", data_root=tmp_path, text_only=True)
    assert str(tmp_path) in str(err.value)


def test_text_only_mosi_from_label_csv(tmp_path):
    folder = tmp_path / "MOSI"
    folder.mkdir()
    (folder / "label.csv").write_text(
        "id,text,label,mode\nvidA_1,it was great,2.4,train\nvidA_2,boring,-1.2,train\n"
        "vidB_1,okay i guess,0.0,dev\nvidC_1,awful,-3.0,test\n")
    c = load_dataset("mosi", data_root=tmp_path, text_only=True)
    assert c.sizes() == {"train": 2, "valid": 1, "test": 1}
    assert c["train"]["raw_text"][0] == "it was great"
    np.testing.assert_allclose(c.labels("test"), [-3.0])


def test_list_datasets_reports_availability(tmp_path):
    (tmp_path / "MOSI").mkdir()
    (tmp_path / "MOSI" / "label.csv").write_text("id,text,label,mode\nv_1,good,1.0,train\n")
    table = list_datasets(tmp_path).set_index("name")
    assert table.loc["synthetic", "available"].startswith("yes")
    assert table.loc["mosi", "available"] == "text only"
    assert table.loc["meld", "available"] == "no"


def test_dataset_and_collate_pad_and_mask():
    c = load_dataset("synthetic", **SMALL)
    ds = MultimodalDataset(c, "train", labels=("M", "T", "A", "V"), scalers=fit_scalers(c))
    batch = next(iter(make_loader(ds, batch_size=5)))
    for m in ("text", "audio", "vision"):
        x, mask, lengths = batch[m], batch[f"{m}_mask"], batch[f"{m}_lengths"]
        assert x.shape[:2] == mask.shape and x.shape[1] == int(lengths.max())
        assert mask.sum(1).tolist() == lengths.tolist()
        assert not x[~mask].any()  # padding stays zero after scaling
    assert set(batch["labels"]) == {"M", "T", "A", "V"} and batch["labels"]["M"].shape == (5,)
    # standardised with training statistics: real frames have mean ~0, std ~1 over the split
    frames = torch.cat([ds.features["audio"][i, : ds.lengths["audio"][i]] for i in range(len(ds))])
    assert frames.mean(0).abs().max() < 1e-3 and (frames.std(0) - 1).abs().max() < 1e-2


def test_loader_shuffle_is_seeded():
    c = load_dataset("synthetic", **SMALL)
    ds = MultimodalDataset(c, "train", modalities=("text",))
    order = lambda seed: next(iter(make_loader(ds, 8, shuffle=True, seed=seed)))["index"].tolist()  # noqa: E731
    assert order(0) == order(0) and order(0) != order(1)


def test_dataset_refuses_missing_modality(tmp_path):
    (tmp_path / "MOSI").mkdir()
    (tmp_path / "MOSI" / "label.csv").write_text("id,text,label,mode\nv_1,good,1.0,train\n")
    c = load_dataset("mosi", data_root=tmp_path, text_only=True)
    with pytest.raises(MMSADataError, match="no 'audio' features"):
        MultimodalDataset(c, "train", modalities=("audio",))


def test_aligned_collate():
    c = load_dataset("synthetic", aligned=True, **SMALL)
    ds = MultimodalDataset(c, "test")
    b = collate_batch([ds[0], ds[1], ds[2]])
    assert torch.equal(b["audio_lengths"], b["text_lengths"]) and torch.equal(b["vision_mask"], b["text_mask"])


def test_setup_is_deterministic(capsys):
    info = mmsa_helpers.setup(seed=7, threads=1)
    a = torch.randn(3), np.random.rand(2)
    mmsa_helpers.setup(seed=7, threads=1, quiet=True)
    b = torch.randn(3), np.random.rand(2)
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    line = capsys.readouterr().out.strip()
    assert "seed 7" in line and info.device in line and "\n" not in line
    with pytest.raises(ConfigError, match="threads must be >= 1, got 0"):
        mmsa_helpers.setup(threads=0)


def test_cli_datasets(capsys, tmp_path):
    assert main(["datasets", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "synthetic" in out and "mosi" in out and str(tmp_path) in out


def test_cli_export_round_trip(tmp_path, monkeypatch):
    # a small corpus keeps the test fast; the CLI passes its seed through load_dataset
    import mmsa_helpers.datasets as ds

    real = ds._load_synthetic
    monkeypatch.setitem(ds.REGISTRY, "synthetic", ds.DatasetSpec(
        "synthetic", "", "", lambda **kw: real(**kw, **SMALL), generated=True))
    assert main(["export", "-d", "synthetic", "--out", str(tmp_path), "--seed", "2"]) == 0
    root = tmp_path / "SYNTHETIC"
    with open(root / "Processed" / "unaligned_50.pkl", "rb") as f:
        plain = pickle.load(f)  # MMSA's loader uses plain pickle
    safe = load_mmsa_pickle(root / "Processed" / "unaligned_50.pkl")
    original = real(seed=2, **SMALL)
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(plain[split]["audio"], original[split]["audio"])
        np.testing.assert_array_equal(safe[split]["regression_labels_T"], original[split]["regression_labels_T"])
        assert plain[split]["text_bert"].shape == (len(plain[split]["id"]), 3, 50)
        assert plain[split]["text_bert"][:, 0, 0].tolist() == [101.0] * len(plain[split]["id"])  # [CLS]
    aligned = load_mmsa_pickle(root / "Processed" / "aligned_50.pkl")
    assert aligned["train"]["audio"].shape[1] == 50
    import pandas as pd

    labels = pd.read_csv(root / "label.csv")
    assert list(labels.columns)[:4] == ["video_id", "clip_id", "text", "label"]
    assert set(labels["mode"]) == {"train", "valid", "test"} and len(labels) == 72


def test_cli_errors_are_clear(capsys, tmp_path):
    assert main(["export", "-d", "mosi", "--out", str(tmp_path), "--data-root", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["nonsense"])


def test_cli_runs_as_module(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "mmsa_helpers", "datasets", "--data-root", str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout
    assert "data root" in out


# --- user errors (exit 2, one message) versus bugs (exit 1, traceback) ---------------------------
def test_error_types_are_user_errors_and_keep_their_builtin_bases():
    from mmsa_helpers.errors import ConfigError, SettingError, UnsafePickleError, UserError

    for cls, builtin in ((ConfigError, ValueError), (SettingError, TypeError), (MMSADataError, ValueError),
                         (UnsafePickleError, ValueError), (DatasetNotFoundError, FileNotFoundError)):
        assert issubclass(cls, UserError) and issubclass(cls, builtin), cls
    assert not issubclass(ValueError, UserError)


@pytest.mark.parametrize("argv, message", [
    (["train", "-d", "synthetic", "-m", "tfidf_svmx"], "unknown model 'tfidf_svmx'; available models:"),
    (["train", "-d", "mosii", "-m", "tfidf_svm"], "unknown dataset 'mosii'; known datasets:"),
    (["train", "-d", "synthetic", "-m", "text_lstm", "--set", "epochz=3"], "has no setting(s) ['epochz']"),
    (["train", "-d", "synthetic", "-m", "text_lstm", "--set", "epochs"], "--set expects KEY=VALUE"),
    (["train", "-d", "synthetic", "-m", "text_lstm", "--set", "epochs=abc"],
     "--set epochs='abc': epochs takes a number (its default is"),
    (["train", "-d", "synthetic", "-m", "text_lstm", "--set", "progress=maybe"], "progress takes True or False"),
    (["train", "-d", "synthetic_speech", "-m", "audio_svm", "--set", "C=high"], "C takes a number"),
    (["train", "-d", "synthetic", "-m", "audio_svm"], "audio_svm is a speech-emotion model"),
    (["train", "-d", "synthetic", "-m", "text_lstm", "--eval-root", "x"], "--eval-root applies to"),
])
def test_cli_user_errors_exit_2_with_one_message_and_no_traceback(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_data_errors_exit_2(capsys, tmp_path):
    (tmp_path / "EMODB" / "wav").mkdir(parents=True)
    (tmp_path / "EMODB" / "wav" / "not_emodb.wav").write_bytes(b"")
    assert main(["train", "-d", "emodb", "--data-root", str(tmp_path), "-m", "audio_svm"]) == 2
    err = capsys.readouterr().err
    assert "not named like EMO-DB's SSaNNEv.wav" in err and "Traceback" not in err


def test_cli_bugs_show_their_traceback_and_exit_1(capsys, monkeypatch):
    import mmsa_helpers.cli as cli

    def broken(args):
        return {}["missing"] if args else 0  # a KeyError: a bug, whatever the input

    def broken_value(args):
        raise ValueError("an internal check failed")  # a plain ValueError is a bug too, not a user error

    for run in (broken, broken_value):
        monkeypatch.setitem(cli.COMMANDS, "datasets", ("", cli._datasets_args, run))
        assert main(["datasets"]) == 1
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and "This is a bug in mmsa_helpers" in err
        assert "error: " not in err
