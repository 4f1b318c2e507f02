"""Fusion models: registry, output shapes, padding invariance, tiny overfit, TFN/LMF equivalence,
save/load, records, and MOSI-shaped pickles from the CLI."""
import json

import numpy as np
import pytest
import torch

from mmsa_helpers.cli import main
from mmsa_helpers.datasets import load_dataset
from mmsa_helpers.errors import MMSADataError
from mmsa_helpers.models import create, get_spec
from mmsa_helpers.models.fusion import LowRankFusion, low_rank_from_tensor_weight, tensor_fusion
from mmsa_helpers.models.multimodal import FusionRegressor
from mmsa_helpers.saving import load_model, save_model
from mmsa_helpers.torch_data import MODALITIES, MultimodalDataset, collate_batch

FUSION = ("ef_lstm", "lf_dnn", "late_avg", "tfn", "lmf", "att_fusion", "mult")
TINY = dict(sizes=(24, 8, 8), speakers=(3, 2, 2))
FAST = dict(epochs=2, progress=False, device="cpu")


@pytest.fixture(scope="module")
def tiny():
    return {False: load_dataset("synthetic", **TINY), True: load_dataset("synthetic", aligned=True, **TINY)}


def network(name, corpus):
    model = create(name, **FAST)
    model.scalers = None
    ds = MultimodalDataset(model.prepare(corpus), "train", modalities=MODALITIES)
    dims = {m: ds.features[m].shape[2] for m in MODALITIES}
    torch.manual_seed(0)
    return model.build_network(dims, corpus.label_range).eval(), ds


def pad_more(batch, extra=5):
    out = dict(batch)
    for m in MODALITIES:
        out[m] = torch.nn.functional.pad(batch[m], (0, 0, 0, extra))
        out[f"{m}_mask"] = torch.nn.functional.pad(batch[f"{m}_mask"], (0, extra))
    return out


def test_registry_declares_what_each_model_needs():
    for name in FUSION:
        spec = get_spec(name)
        assert spec.family == "fusion" and set(spec.needs) == set(MODALITIES)
        assert spec.aligned == (name == "ef_lstm")
    assert get_spec("text_bert_ft").text_encoder and not get_spec("tfn").text_encoder


@pytest.mark.parametrize("name", FUSION)
def test_output_shape_and_padding_invariance(tiny, name):
    corpus = tiny[get_spec(name).aligned]
    net, ds = network(name, corpus)
    batch = collate_batch([ds[i] for i in range(5)])
    with torch.no_grad():
        out = net(batch)
        padded = net(pad_more(batch))
    assert out["M"].shape == (5,) and torch.isfinite(out["M"]).all()
    torch.testing.assert_close(out["M"], padded["M"], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", FUSION)
def test_unknown_setting_is_an_error(name):
    with pytest.raises(TypeError, match="has no setting"):
        create(name, levels=3)


@pytest.mark.parametrize("name", FUSION)
def test_tiny_overfit(name):
    corpus = load_dataset("synthetic", aligned=get_spec(name).aligned, **TINY)
    corpus.splits["valid"] = corpus.splits["test"] = corpus.splits["train"]     # memorise the training data
    model = create(name, epochs=120, patience=None, lr=5e-3, batch_size=24, progress=False, device="cpu",
                   **({"dropout": 0.0} if name != "mult" else {"embed_dropout": 0.0, "text_dropout": 0.0,
                                                               "output_dropout": 0.0}))
    model.fit(corpus, seed=0)
    y = corpus.labels("train")
    err = np.abs(model.predict(corpus, "train") - y).mean()
    assert err < 0.35 * np.abs(y - y.mean()).mean(), err


def test_tfn_with_a_linear_map_equals_lmf_at_full_rank():
    torch.manual_seed(0)
    dims = (3, 2, 4)
    h = [torch.randn(6, d) for d in dims]
    linear = torch.nn.Linear(int(np.prod([d + 1 for d in dims])), 2)
    tfn_out = linear(tensor_fusion(*h))
    lmf = low_rank_from_tensor_weight(linear.weight, linear.bias, dims)
    assert lmf.rank == (dims[0] + 1) * (dims[1] + 1)
    torch.testing.assert_close(lmf(*h), tfn_out, atol=1e-5, rtol=1e-5)
    smaller = LowRankFusion(dims, 2, rank=2)  # a random low rank is not the same map
    assert not torch.allclose(smaller(*h), tfn_out, atol=1e-2)


def test_appended_one_keeps_unimodal_and_bimodal_terms():
    h_t, h_a, h_v = torch.tensor([[2.0]]), torch.tensor([[3.0]]), torch.tensor([[5.0]])
    z = tensor_fusion(h_t, h_a, h_v).view(2, 2, 2)
    assert z[0, 0, 0] == 1 and z[1, 0, 0] == 2 and z[0, 1, 0] == 3 and z[0, 0, 1] == 5
    assert z[1, 1, 0] == 6 and z[1, 1, 1] == 30


def test_attention_weights_are_per_sample_and_skip_missing_modalities():
    corpus = load_dataset("synthetic", missing_audio=0.5, **TINY)
    model = create("att_fusion", **FAST).fit(corpus, seed=0)
    out = model.outputs(corpus, "test")
    w = out["weights"]
    assert w.shape == (8, 3)
    np.testing.assert_allclose(w.sum(1), 1, atol=1e-6)
    missing = np.asarray(corpus["test"]["audio_missing"])
    assert missing.any() and (w[missing, 1] == 0).all() and (w[~missing, 1] > 0).all()


def test_ef_lstm_refuses_unaligned_data(tiny):
    with pytest.raises(MMSADataError, match="aligned=True"):
        create("ef_lstm", **FAST).fit(tiny[False])


def test_fusion_refuses_text_only_corpus(tiny):
    corpus = load_dataset("synthetic", **TINY)
    for split in corpus.splits.values():
        del split["audio"]
    with pytest.raises(MMSADataError, match="no \\['audio'\\] features"):
        create("tfn", **FAST).fit(corpus)


@pytest.mark.parametrize("name", ["lmf", "mult", "ef_lstm"])
def test_save_load_round_trip_gives_identical_predictions(tmp_path, tiny, name):
    corpus = tiny[get_spec(name).aligned]
    model = create(name, **FAST).fit(corpus, seed=3)
    path = save_model(model, tmp_path / f"{name}.pt")
    again = load_model(path)
    assert isinstance(again, FusionRegressor) and again.settings == model.settings
    np.testing.assert_array_equal(again.predict(corpus, "test"), model.predict(corpus, "test"))


@pytest.mark.parametrize("name", ["tfidf_svm", "text_lstm", "lexicon", "audio_tcn", "text_bert"])
def test_every_kind_of_registered_model_saves(tmp_path, tiny, name):
    corpus = tiny[False]
    kw = {k: v for k, v in FAST.items() if k in get_spec(name).defaults}
    model = create(name, **kw).fit(corpus, seed=0)
    again = load_model(save_model(model, tmp_path / "m.pt"))
    np.testing.assert_array_equal(again.predict(corpus, "test"), model.predict(corpus, "test"))


def test_load_model_refuses_foreign_files(tmp_path):
    with pytest.raises(MMSADataError, match="no saved model"):
        load_model(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(MMSADataError, match="not a model file"):
        load_model(bad)


def test_same_seed_same_numbers(tiny):
    a = create("tfn", **FAST).fit(tiny[False], seed=1).predict(tiny[False], "test")
    b = create("tfn", **FAST).fit(tiny[False], seed=1).predict(tiny[False], "test")
    np.testing.assert_array_equal(a, b)


def test_cli_record_holds_what_a_table_needs(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["train", "-d", "synthetic", "-m", "ef_lstm", "-s", "0", "-s", "1", "--set", "epochs=2",
                 "--set", "progress=False", "--json", str(out), "--save", str(tmp_path / "models")])
    assert code == 0 and "(aligned)" in capsys.readouterr().out
    record = json.loads(out.read_text())
    assert record["dataset"]["aligned"] is True and record["dataset"]["sizes"]["train"] == 1284
    assert record["config"] == {**get_spec("ef_lstm").defaults, "epochs": 2, "progress": False}
    assert record["package_version"] and record["command"].startswith("python -m mmsa_helpers train")
    assert set(record["valid"]) >= {"MAE", "Corr"} and len(record["per_seed"]) == 2
    seed = record["per_seed"][0]
    assert seed["best_epoch"] in (1, 2) and seed["n_parameters"] > 0 and seed["inference_seconds"] > 0
    assert set(seed["test"]) >= {"Has0_acc_2", "Non0_acc_2", "MAE", "Corr"}
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["ef_lstm-seed0.pt", "ef_lstm-seed1.pt"]


def _mosi_shaped_pickles(root, rng):
    """An MMSA-format MOSI folder with MOSI's feature sizes: text 768 per token, audio 5, vision 20."""
    from mmsa_helpers.pickle_io import save_mmsa_pickle

    sizes = {"train": 40, "valid": 12, "test": 12}
    for aligned in (False, True):
        data = {}
        for split, n in sizes.items():
            la, lv = (50, 50) if aligned else (60, 45)
            y = rng.uniform(-3, 3, n).astype(np.float32)
            d = {"id": [f"v{split}{i}$_${i}" for i in range(n)], "raw_text": ["good movie"] * n,
                 "text": rng.normal(size=(n, 50, 768)).astype(np.float32) * 0.1,
                 "audio": rng.normal(size=(n, la, 5)).astype(np.float32),
                 "vision": rng.normal(size=(n, lv, 20)).astype(np.float32),
                 "regression_labels": y}
            d["text"][:, :, 0] += y[:, None]        # a learnable signal
            lt = rng.integers(5, 30, n)
            for i, k in enumerate(lt):
                d["text"][i, k:] = 0
            if aligned:
                d["audio"][:, 30:] = 0
                d["vision"][:, 30:] = 0
            else:
                d["audio_lengths"] = rng.integers(10, la, n)
                d["vision_lengths"] = rng.integers(10, lv, n)
            data[split] = d
        name = "aligned_50.pkl" if aligned else "unaligned_50.pkl"
        save_mmsa_pickle(data, root / "MOSI" / "Processed" / name)


@pytest.mark.parametrize("name", FUSION)
def test_every_fusion_model_trains_on_mosi_shaped_pickles_from_the_cli(tmp_path, capsys, name):
    _mosi_shaped_pickles(tmp_path, np.random.default_rng(0))
    code = main(["train", "-d", "mosi", "--data-root", str(tmp_path), "-m", name, "--set", "epochs=1",
                 "--set", "progress=False", "--json", str(tmp_path / "r.json")])
    assert code == 0
    record = json.loads((tmp_path / "r.json").read_text())
    assert record["dataset"]["name"] == "mosi" and record["dataset"]["aligned"] == (name == "ef_lstm")
    assert np.isfinite(record["test"]["MAE"]["mean"])


def test_batches_carry_token_ids_for_a_fine_tuned_encoder(tiny):
    from mmsa_helpers.pretrained import load_tokenizer

    corpus = tiny[False]
    ds = MultimodalDataset(corpus, "train", modalities=("audio",), text_tokens="all-MiniLM-L6-v2", max_tokens=40)
    batch = collate_batch([ds[0], ds[1], ds[2]])
    tokens = batch["text_bert"]
    assert tokens.dtype == torch.long and tokens.shape[:2] == (3, 3)
    assert tokens.shape[2] == int(tokens[:, 1].sum(1).max())             # trimmed to the longest text
    tok = load_tokenizer()
    assert tok.decode(tokens[0, 0][tokens[0, 1] == 1], skip_special_tokens=True) == corpus["train"]["raw_text"][0]
    assert batch["index"].tolist() == [0, 1, 2]
    for split in corpus.splits.values():                                  # MMSA's own array is used as it is
        split["text_bert"] = np.zeros((len(split["id"]), 3, 7), np.float32)
        split["text_bert"][:, 1, :2] = 1
    ds = MultimodalDataset(corpus, "valid", modalities=("audio",), text_tokens="text_bert")
    assert collate_batch([ds[0]])["text_bert"].shape == (1, 3, 2)
    for split in corpus.splits.values():
        del split["text_bert"]
    with pytest.raises(MMSADataError, match="no 'text_bert' array"):
        MultimodalDataset(corpus, "valid", modalities=("audio",), text_tokens="text_bert")


def test_text_batches_carry_sample_indices():
    from mmsa_helpers.models.neural_text import TokenBatches

    batches = list(TokenBatches(np.ones((5, 4), np.int64), np.full(5, 4), np.zeros(5), batch_size=2, shuffle=True))
    assert sorted(i for b in batches for i in b["index"].tolist()) == [0, 1, 2, 3, 4]


def test_ef_lstm_trains_on_aligned_data_with_missing_streams():
    corpus = load_dataset("synthetic", aligned=True, missing_audio=0.5, **TINY)
    model = create("ef_lstm", **FAST).fit(corpus, seed=0)
    assert np.isfinite(model.predict(corpus, "test")).all()
