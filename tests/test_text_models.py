"""Neural and pretrained text models, the training loop, the registry and the train command."""
import json

import numpy as np
import pytest
import torch

from mmsa_helpers.corpus import Corpus
from mmsa_helpers.datasets import load_dataset
from mmsa_helpers.models import available_models, create, get_spec
from mmsa_helpers.models.neural_text import NeuralTextRegressor, TextCNN, TextRNN, TokenBatches, Vocabulary
from mmsa_helpers.training import TrainConfig, fit_regressor, predict

SMALL = dict(sizes=(60, 20, 30), speakers=(6, 2, 3))


@pytest.fixture(scope="module")
def small():
    return load_dataset("synthetic", **SMALL)


def toy_corpus() -> Corpus:
    texts = ["great movie", "awful movie", "really great", "really awful", "good plot", "bad plot",
             "i loved it", "i hated it", "not bad", "not good", "fine", "boring"]
    y = np.array([2.5, -2.5, 3.0, -3.0, 1.8, -2.0, 2.7, -2.8, 1.0, -0.9, 0.5, -1.8], dtype=np.float32)
    split = {"id": [f"t$_${i}" for i in range(len(texts))], "raw_text": texts, "regression_labels": y}
    return Corpus("toy", {"train": split, "valid": split, "test": split})


def test_registry_has_the_issue_models():
    names = set(available_models())
    assert {"lexicon", "vader", "tfidf_svm", "text_cnn", "text_lstm", "text_bert", "text_bert_ft"} <= names
    assert get_spec("text_lstm").text_only
    with pytest.raises(ValueError, match="available models"):
        get_spec("text_transformer_xl")
    with pytest.raises(TypeError, match="no setting"):
        create("text_lstm", epochz=3)


def test_vocabulary_encodes_and_handles_unknown_words():
    vocab = Vocabulary.build(["the movie was great", "the plot"])
    ids, lengths = vocab.encode(["the movie was awful", ""], max_len=6)
    assert ids.shape == (2, 6) and lengths.tolist() == [4, 1]
    assert ids[0, 3] == 1  # "awful" is unknown
    assert ids[0, 4:].tolist() == [0, 0]
    assert Vocabulary.build(["b a", "a c"]).words == Vocabulary.build(["a c", "b a"]).words  # order-free


@pytest.mark.parametrize("net", ["cnn", "lstm", "gru", "lstm-last", "lstm-mean"])
def test_shapes_and_masking(net):
    arch, _, pooling = net.partition("-")
    model = TextCNN(30) if arch == "cnn" else TextRNN(30, cell=arch, pooling=pooling or "attention")
    ids = np.array([[3, 4, 5, 0, 0], [6, 7, 0, 0, 0]])
    batch = next(iter(TokenBatches(ids, np.array([3, 2]), np.zeros(2), batch_size=2)))
    model.eval()
    out = model(batch)
    assert out.shape == (2,)
    # padding must not change the output: append more padding
    ids_more = np.pad(ids, ((0, 0), (0, 4)))
    batch2 = next(iter(TokenBatches(ids_more, np.array([3, 2]), np.zeros(2), batch_size=2)))
    assert torch.allclose(out, model(batch2), atol=1e-5)


def test_attention_weights_sum_to_one_over_real_words():
    model = NeuralTextRegressor(arch="lstm", epochs=2, progress=False).fit(toy_corpus())
    weights = model.attention(["great movie", "really awful plot"])
    assert [len(w) for w in weights] == [2, 3]
    assert all(abs(w.sum() - 1) < 1e-5 for w in weights)


@pytest.mark.parametrize("arch", ["cnn", "lstm"])
def test_tiny_overfit(arch):
    corpus = toy_corpus()
    model = NeuralTextRegressor(arch=arch, epochs=150, lr=1e-2, dropout=0.0, patience=150, batch_size=12,
                                progress=False).fit(corpus, seed=0)
    err = np.abs(model.predict(corpus, "train") - corpus.labels("train")).mean()
    assert err < 0.15, err


def test_training_is_deterministic_and_selects_by_validation(small):
    a = NeuralTextRegressor(arch="lstm", epochs=4, progress=False).fit(small, seed=3)
    b = NeuralTextRegressor(arch="lstm", epochs=4, progress=False).fit(small, seed=3)
    np.testing.assert_array_equal(a.predict(small, "test"), b.predict(small, "test"))
    frame = a.history.frame
    assert a.history.best_epoch == int(frame["valid_loss"].idxmin())


def test_early_stopping():
    class Constant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, batch):
            return self.w.expand(len(batch["labels"]["M"]))

    train = [{"labels": {"M": torch.tensor([1.0, 1.0])}}]
    valid = [{"labels": {"M": torch.tensor([-5.0, -5.0])}}]  # training moves away from the valid optimum
    model = Constant()
    hist = fit_regressor(model, train, valid, TrainConfig(epochs=50, lr=0.1, patience=3, progress=False))
    assert len(hist.rows) == 4 and hist.best_epoch == 1
    assert model.w.detach().item() == pytest.approx(0.1, abs=1e-4)  # weights of epoch 1 restored


def test_text_bert_frozen_features_are_cached(small, tmp_path, monkeypatch):
    monkeypatch.setenv("MMSA_CACHE_DIR", str(tmp_path))
    from mmsa_helpers.models.pretrained_text import encode_texts

    feats = encode_texts(small["test"]["raw_text"][:5])
    assert feats.shape == (5, 384)
    assert len(list((tmp_path / "text_features").glob("*.npy"))) == 1
    np.testing.assert_array_equal(encode_texts(small["test"]["raw_text"][:5]), feats)
    model = create("text_bert").fit(small)
    pred = model.predict(small, "test")
    assert pred.shape == (30,) and model.alpha in model.valid_mae


def test_text_bert_fine_tuning_runs_and_learns(tmp_path):
    corpus = toy_corpus()
    model = create("text_bert_ft", epochs=6, lr=1e-4, head_lr=1e-2, batch_size=12, patience=6, max_len=8,
                   progress=False).fit(corpus, seed=0)
    pred = model.predict(corpus, "train")
    assert pred.shape == (12,)
    assert np.corrcoef(pred, corpus.labels("train"))[0, 1] > 0.8


def test_cli_train_writes_json(tmp_path, capsys, monkeypatch):
    from mmsa_helpers.cli import main
    import mmsa_helpers.datasets as ds

    real = ds._load_synthetic
    monkeypatch.setitem(ds.REGISTRY, "synthetic", ds.DatasetSpec("synthetic", "", "", lambda **kw: real(**kw, **SMALL), generated=True))
    out = tmp_path / "m.json"
    assert main(["train", "-d", "synthetic", "-m", "text_cnn", "-s", "0", "-s", "1", "--set", "epochs=2",
                 "--set", "progress=False", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["model"] == "text_cnn" and record["seeds"] == [0, 1] and record["config"]["epochs"] == 2
    assert set(record["test"]) >= {"Non0_acc_2", "MAE", "Corr"} and len(record["per_seed"]) == 2
    assert "Non0_acc_2" in capsys.readouterr().out


def test_cli_train_errors(tmp_path, capsys):
    from mmsa_helpers.cli import main

    assert main(["train", "-m", "no_such_model"]) == 2
    assert "available models" in capsys.readouterr().err
    assert main(["train", "-d", "no_such_data", "-m", "text_cnn"]) == 2
    assert "known datasets" in capsys.readouterr().err
    assert main(["train", "-d", "mosi", "-m", "text_cnn", "--data-root", str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
    assert main(["train", "-m", "list"]) == 0


def test_neural_text_predictions_are_clipped_to_the_label_range():
    corpus = load_dataset("synthetic", sizes=(24, 8, 8), speakers=(3, 2, 2))
    for split in corpus.splits.values():
        split["regression_labels"] = split["regression_labels"] * 0 + 3.0    # push the outputs past 3
    model = create("text_cnn", epochs=30, lr=0.05, patience=30, progress=False).fit(corpus, seed=0)
    raw = predict(model.net, model.batches(corpus, "test"))
    pred = model.predict(corpus, "test")
    assert raw.max() > 3.0 and pred.max() <= 3.0
    np.testing.assert_array_equal(pred, np.clip(raw, -3, 3))


@pytest.mark.parametrize("problem", ["missing", "nan"])
def test_training_without_real_labels_is_an_error_not_zeros(problem):
    from mmsa_helpers.errors import MMSADataError

    corpus = load_dataset("synthetic", sizes=(24, 8, 8), speakers=(3, 2, 2))
    if problem == "missing":
        del corpus.splits["train"]["regression_labels"]
        match = "has no 'regression_labels'"
    else:
        corpus.splits["valid"]["regression_labels"] = corpus.splits["valid"]["regression_labels"].copy()
        corpus.splits["valid"]["regression_labels"][[1, 4]] = np.nan
        match = r"2 of 8 labels are NaN or inf \(rows \[1, 4\]\)"
    with pytest.raises(MMSADataError, match=match):
        create("text_lstm", epochs=1, progress=False).fit(corpus)


def test_prediction_on_an_unlabelled_split_still_works():
    corpus = load_dataset("synthetic", sizes=(24, 8, 8), speakers=(3, 2, 2))
    model = create("text_cnn", epochs=1, progress=False).fit(corpus)
    del corpus.splits["test"]["regression_labels"]
    assert model.predict(corpus, "test").shape == (8,)
