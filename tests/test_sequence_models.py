"""Audio and vision sequence models: shapes, masking, a tiny overfit, determinism, registry."""
import numpy as np
import pytest
import torch

from mmsa_helpers.datasets import load_dataset
from mmsa_helpers.errors import DatasetNotFoundError
from mmsa_helpers.experiment import run_experiment
from mmsa_helpers.models import create, get_spec
from mmsa_helpers.models.sequence import SequenceRNN, TemporalConvNet
from mmsa_helpers.torch_data import MultimodalDataset, collate_batch

TINY = dict(sizes=(24, 8, 8), speakers=(3, 2, 2))


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("synthetic", **TINY)


def test_registry():
    for name in ("audio_lstm", "audio_gru", "audio_tcn", "vision_lstm", "vision_gru", "vision_tcn"):
        spec = get_spec(name)
        assert spec.needs in (("audio",), ("vision",)) and not spec.text_only


@pytest.mark.parametrize("net_cls", [SequenceRNN, TemporalConvNet])
def test_shapes_and_padding_invariance(tiny, net_cls):
    ds = MultimodalDataset(tiny, "train", modalities=("vision",))
    net = net_cls("vision", 16).eval()
    batch = collate_batch([ds[0], ds[1], ds[2]])
    out = net(batch)
    assert out.shape == (3,)
    longer = dict(batch)
    longer["vision"] = torch.nn.functional.pad(batch["vision"], (0, 0, 0, 7))
    longer["vision_mask"] = torch.nn.functional.pad(batch["vision_mask"], (0, 7))
    assert torch.allclose(out, net(longer), atol=1e-5)


@pytest.mark.parametrize("arch", ["tcn", "gru"])
def test_tiny_overfit(tiny, arch):
    model = create(f"audio_{arch}", epochs=80, lr=5e-3, dropout=0.0, patience=80, batch_size=24, progress=False)
    corpus = load_dataset("synthetic", **TINY)
    train = dict(corpus["train"])
    train["audio"] = train["audio"][:, :40]  # short sequences keep the test fast
    train["audio_lengths"] = np.minimum(train["audio_lengths"], 40)
    corpus.splits["train"] = corpus.splits["valid"] = corpus.splits["test"] = train  # memorise the training data
    model.fit(corpus, seed=0)
    err = np.abs(model.predict(corpus, "train") - corpus.labels("train")).mean()
    assert err < 0.35 * np.abs(corpus.labels("train")).mean(), err


def test_same_seed_same_predictions(tiny):
    a = create("vision_tcn", epochs=3, progress=False).fit(tiny, seed=1).predict(tiny, "test")
    b = create("vision_tcn", epochs=3, progress=False).fit(tiny, seed=1).predict(tiny, "test")
    np.testing.assert_array_equal(a, b)


def test_unimodal_target_and_missing_modality():
    corpus = load_dataset("synthetic", missing_vision=0.5, **TINY)
    model = create("vision_tcn", epochs=2, target="V", progress=False).fit(corpus)
    assert np.isfinite(model.predict(corpus, "test")).all()


def test_run_experiment_refuses_text_only_data(tmp_path):
    (tmp_path / "MOSI").mkdir()
    (tmp_path / "MOSI" / "label.csv").write_text("id,text,label,mode\nv_1,good,1.0,train\n")
    with pytest.raises(DatasetNotFoundError, match=r"(?s)mosi not found.*unaligned_50\.pkl.*label\.csv is there"):
        run_experiment("mosi", "audio_tcn", data_root=tmp_path)


@pytest.mark.parametrize("net_cls", [SequenceRNN, TemporalConvNet])
def test_classification_head(tiny, net_cls):
    ds = MultimodalDataset(tiny, "train", modalities=("audio",))
    out = net_cls("audio", 12, n_out=7).eval()(collate_batch([ds[0], ds[1]]))
    assert out.shape == (2, 7)


@pytest.mark.parametrize("modality,factor", [("vision", 3), ("audio", 2), ("audio", 1)])
def test_downsample_frames_averages_real_frames_only(tiny, modality, factor):
    from mmsa_helpers.torch_data import downsample_frames

    small = downsample_frames(tiny, modality, factor)
    d, s = tiny["train"], small["train"]
    assert s[modality].shape[1] == -(-d[modality].shape[1] // factor)
    assert np.array_equal(s[f"{modality}_lengths"], -(-np.asarray(d[f"{modality}_lengths"]) // factor))
    lengths = np.asarray(d[f"{modality}_lengths"])
    i = int(np.argmax(lengths % factor == 1)) if factor > 1 else 0   # last window holds one real frame
    n = s[f"{modality}_lengths"][i]
    np.testing.assert_allclose(s[modality][i, n - 1], d[modality][i, lengths[i] - 1], atol=1e-5)
    np.testing.assert_allclose(s[modality][i, 0], d[modality][i, :factor].mean(axis=0), atol=1e-5)
    assert tiny["train"][modality] is d[modality]            # the original corpus is untouched
    with pytest.raises(ValueError, match="positive"):
        downsample_frames(tiny, modality, 0)


def test_utterance_statistics(tiny):
    from mmsa_helpers.torch_data import utterance_statistics

    stats = utterance_statistics(tiny, "test", "audio")
    d = tiny["test"]
    n = d["audio_lengths"][0]
    assert stats.shape == (len(d["id"]), 24)
    np.testing.assert_allclose(stats[0, :12], d["audio"][0, :n].mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stats[0, 12:], d["audio"][0, :n].std(axis=0), rtol=1e-4, atol=1e-5)


def test_attention_weights_of_a_fitted_model(tiny):
    model = create("vision_lstm", epochs=1, progress=False)
    with pytest.raises(RuntimeError, match="fit"):
        model.attention_weights(tiny, "test")
    model.fit(tiny, seed=0)
    weights = model.attention_weights(tiny, "test")
    lengths = np.maximum(np.asarray(tiny["test"]["vision_lengths"]), 1)
    assert [len(w) for w in weights] == list(lengths)
    assert np.allclose([w.sum() for w in weights], 1, atol=1e-5)
    tcn = create("vision_tcn", epochs=1, progress=False).fit(tiny, seed=0)
    with pytest.raises(ValueError, match="no attention"):
        tcn.attention_weights(tiny, "test")


def test_settings_a_model_ignores_are_refused():
    with pytest.raises(TypeError, match="has no setting"):
        create("audio_lstm", levels=4)           # levels belong to the TCN
    assert create("audio_tcn", levels=4, progress=False).levels == 4
