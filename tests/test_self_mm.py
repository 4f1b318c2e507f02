"""Self-MM: ULGM against hand-computed values, the epoch-1 rules, the banks, training, the u-label dump."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from mmsa_helpers.cli import main
from mmsa_helpers.datasets import load_dataset
from mmsa_helpers.errors import ConfigError, MMSADataError, SettingError
from mmsa_helpers.models import create, get_spec
from mmsa_helpers.models.self_mm import MODES, ULGM, SelfMMNet, agreement
from mmsa_helpers.saving import load_model, save_model

TINY = dict(sizes=(24, 8, 8), speakers=(3, 2, 2))
FAST = dict(epochs=3, patience=None, progress=False, device="cpu", batch_size=8)
DIMS2 = {m: 2 for m in MODES}


def tiny_ulgm(exclude_zero=True, H=3.0):
    """Four utterances labelled 2, 1, -1, 0 with 2-D features placed by hand."""
    u = ULGM([2.0, 1.0, -1.0, 0.0], DIMS2, H=H, exclude_zero=exclude_zero)
    bank = torch.tensor([[1.0, 0.0], [3.0, 0.0], [-2.0, 0.0], [5.0, 5.0]])
    for m in MODES:
        u.features[m] = bank.clone()
    u.update_centres()
    return u


def test_centres_are_means_of_the_bank_by_label_sign_zero_excluded():
    u = tiny_ulgm()
    pos, neg = u.centres["text"]
    assert pos.tolist() == [2.0, 0.0]      # rows 0 and 1 (labels 2, 1); row 3 (label 0) is in neither class
    assert neg.tolist() == [-2.0, 0.0]     # row 2
    pos0, _ = tiny_ulgm(exclude_zero=False).centres["text"]
    assert pos0.tolist() == pytest.approx([3.0, 5.0 / 3.0])  # the original Self-MM code: 0 counts as positive


def test_relative_distance_and_proposal_by_hand():
    u = tiny_ulgm()
    f = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    # [0, 0]: d+ = 2, d- = 2 -> 0;  [1, 0]: d+ = 1, d- = 3 -> (3 - 1) / 1 = 2
    assert u.relative_distance(f, "fusion").tolist() == pytest.approx([0.0, 2.0])
    # fusion feature [1, 0] (delta_m = 2), text feature [0, 0] (delta_t = 0), y_m = 2 (row 0):
    # alpha = 0 / 2 = 0, proposal = 0.5 * 0 * 2 + 0.5 * (2 + 0 - 2) = 0
    feats = {"fusion": torch.tensor([[1.0, 0.0]]), "text": torch.tensor([[0.0, 0.0]]),
             "audio": torch.tensor([[1.0, 0.0]]), "vision": torch.tensor([[3.0, 0.0]])}
    new = u.new_labels(feats, torch.tensor([0]))
    assert new["text"].item() == pytest.approx(0.0)
    # audio equals fusion: alpha = 1, proposal = 0.5 * 2 + 0.5 * 2 = y_m
    assert new["audio"].item() == pytest.approx(2.0)
    # vision [3, 0]: d+ = 1, d- = 5 -> delta_v = 4, alpha = 2, proposal = 0.5*2*2 + 0.5*(2 + 4 - 2) = 4 -> clamped to 3
    assert new["vision"].item() == pytest.approx(3.0)
    u_small = tiny_ulgm(H=1.0)
    assert u_small.new_labels(feats, torch.tensor([0]))["vision"].item() == pytest.approx(1.0)


def test_smoothing_weights():
    assert ULGM.smoothing(2) == pytest.approx((1 / 3, 2 / 3))
    assert ULGM.smoothing(3) == pytest.approx((0.5, 0.5))
    keep, take = ULGM.smoothing(9)
    assert keep + take == pytest.approx(1.0) and keep == pytest.approx(0.8)


def test_update_follows_the_reference_order():
    """Epoch 2: the labels move with the centres of the bank *before* the batch is stored."""
    u = tiny_ulgm()
    feats = {"fusion": torch.tensor([[1.0, 0.0]]), "text": torch.tensor([[0.0, 0.0]]),
             "audio": torch.tensor([[1.0, 0.0]]), "vision": torch.tensor([[3.0, 0.0]])}
    u.update(torch.tensor([0]), feats, epoch=2)
    # text: 1/3 * 2 + 2/3 * 0; audio: 1/3 * 2 + 2/3 * 2; vision: 1/3 * 2 + 2/3 * 3
    assert u.labels["text"][0].item() == pytest.approx(2 / 3)
    assert u.labels["audio"][0].item() == pytest.approx(2.0)
    assert u.labels["vision"][0].item() == pytest.approx(2 / 3 + 2.0)
    assert u.labels["fusion"][0].item() == 2.0                      # the fusion bank stays y_m
    assert u.features["text"][0].tolist() == [0.0, 0.0]             # then the batch is stored ...
    assert u.centres["text"][0].tolist() == pytest.approx([1.5, 0.0])  # ... and the centres recomputed: mean of [0,0], [3,0]
    # the loss weight of row 0 is now tanh(|2/3 - 2|)
    assert u.loss_weights(torch.tensor([0]), "text").item() == pytest.approx(math.tanh(4 / 3))


def test_epoch_one_keeps_u_labels_at_y_m_and_weights_at_zero():
    u = ULGM([2.0, 1.0, -1.0, 0.5], DIMS2)
    rng = torch.Generator().manual_seed(0)
    feats = {m: torch.randn(4, 2, generator=rng) for m in MODES}
    u.update(torch.arange(4), feats, epoch=1)
    for m in MODES:
        assert u.labels[m].tolist() == [2.0, 1.0, -1.0, 0.5]
        assert torch.equal(u.features[m], feats[m])
    assert u.loss_weights(torch.arange(4), "audio").tolist() == [0.0] * 4


def test_empty_class_keeps_its_previous_centre():
    u = ULGM([1.0, 2.0], DIMS2)                    # no negative label at all
    u.features["text"] = torch.tensor([[1.0, 1.0], [3.0, 3.0]])
    u.update_centres()
    assert u.centres["text"][0].tolist() == [2.0, 2.0]
    assert u.centres["text"][1].tolist() == [0.0, 0.0]   # MMSA's mean of nothing is NaN
    assert all(torch.isfinite(c).all() for pair in u.centres.values() for c in pair)


def test_ulgm_refuses_nan_labels():
    with pytest.raises(MMSADataError, match="rows \\[1\\]"):
        ULGM([1.0, float("nan")], DIMS2)


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("synthetic", **TINY)


@pytest.fixture(scope="module")
def fitted(tiny):
    return create("self_mm", **FAST).fit(tiny, seed=0)


def test_self_mm_trains_and_records_every_epoch(fitted, tiny):
    hist = fitted.ulabel_history
    assert sorted(hist) == [1, 2, 3]
    y_m = tiny.labels("train")
    for k in "TAV":                                   # epoch 1: untouched
        np.testing.assert_array_equal(hist[1][k], y_m)
        assert not np.allclose(hist[3][k], y_m)       # later: generated
        assert np.abs(hist[3][k]).max() <= 3.0
    np.testing.assert_array_equal(hist[3]["M"], y_m)
    pred = fitted.predict(tiny, "test")
    assert pred.shape == (8,) and np.isfinite(pred).all() and np.abs(pred).max() <= 3.0
    out = fitted.outputs(tiny, "valid")
    assert {"M", "T", "A", "V", "Feature_f", "Feature_t", "Feature_a", "Feature_v"} <= set(out)
    assert out["Feature_f"].shape == (8, 128) and out["Feature_t"].shape == (8, 32)


def test_validation_never_touches_the_banks(fitted, tiny):
    net = fitted.net
    before = {m: (net.ulgm.labels[m].clone(), net.ulgm.features[m].clone()) for m in MODES}
    loader = fitted.loader(tiny, "valid")
    with torch.no_grad():
        for batch in loader:
            net.validation_step(batch)
    from mmsa_helpers.training import Trainer

    Trainer(progress=False)._validate(net, loader, torch.device("cpu"), None)
    for m in MODES:
        assert torch.equal(before[m][0], net.ulgm.labels[m]) and torch.equal(before[m][1], net.ulgm.features[m])


def test_loss_is_multimodal_plus_weighted_unimodal(fitted, tiny):
    net = fitted.net
    net.eval()  # no dropout: the pieces can be recomputed
    batch = next(iter(fitted.loader(tiny, "train")))
    out = net.training_step(batch, epoch=2)
    index = batch["index"]
    expected = torch.mean(torch.abs(out["M"] - batch["labels"]["M"]))
    for mode, key in (("text", "T"), ("audio", "A"), ("vision", "V")):
        w = torch.tanh(torch.abs(net.ulgm.labels[mode][index] - net.ulgm.y_m[index]))
        expected = expected + torch.mean(w * torch.abs(out[key] - net.ulgm.labels[mode][index]))
    assert out["loss"].item() == pytest.approx(expected.item(), rel=1e-6)


def test_five_optimiser_groups_with_mmsa_rates():
    net = SelfMMNet({"audio": 4, "vision": 3}, 8)
    opt = net.configure_optimizers(None)
    assert [(g["lr"], g["weight_decay"]) for g in opt.param_groups] == [(5e-3, 1e-3), (5e-3, 1e-3), (1e-3, 1e-3)]
    from transformers import BertConfig, BertModel

    enc = BertModel(BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=16))
    net = SelfMMNet({"audio": 4, "vision": 3}, 8, encoder=enc)
    groups = net.configure_optimizers(None).param_groups
    assert [(g["lr"], g["weight_decay"]) for g in groups] == [(5e-5, 1e-3), (5e-5, 0.0), (5e-3, 1e-3), (5e-3, 1e-3),
                                                              (1e-3, 1e-3)]
    n_groups = sum(len(g["params"]) for g in groups)
    assert n_groups == len(list(net.parameters()))                  # every parameter in exactly one group
    assert all("LayerNorm" in n or n.endswith("bias") for n, p in enc.named_parameters()
               if any(p is q for q in groups[1]["params"]))


def test_same_seed_same_numbers(tiny, fitted):
    again = create("self_mm", **FAST).fit(tiny, seed=0)
    np.testing.assert_array_equal(again.predict(tiny, "test"), fitted.predict(tiny, "test"))
    np.testing.assert_array_equal(again.ulabel_history[3]["T"], fitted.ulabel_history[3]["T"])


def test_ablation_settings(tiny):
    frozen = create("self_mm", update_labels=False, weighting="none", **FAST).fit(tiny, seed=0)
    for k in "TAV":
        np.testing.assert_array_equal(frozen.ulabel_history[3][k], tiny.labels("train"))
    with pytest.raises(ConfigError, match="weighting=.none."):
        create("self_mm", update_labels=False)
    plain = create("self_mm", unimodal_tasks=False, **FAST).fit(tiny, seed=0)
    assert np.isfinite(plain.predict(tiny, "test")).all()
    with pytest.raises(SettingError, match="no setting"):
        create("self_mm", levels=3)


def test_ulabel_frame_and_agreement(fitted, tiny):
    frame = fitted.ulabel_frame(tiny)
    assert list(frame.columns) == ["epoch", "id", "y_m", "u_t", "u_a", "u_v", "y_t", "y_a", "y_v"]
    assert len(frame) == 3 * 24
    first = frame[frame.epoch == 1]
    assert (first.u_t == first.y_m).all()
    agr = agreement(frame, "y_a", "u_a")
    assert agr.loc[1, "corr_u"] == pytest.approx(agr.loc[1, "corr_y_m"])   # epoch 1: u = y_m
    assert agr.loc[1, "mae_u"] == pytest.approx(np.mean(np.abs(first.y_m - first.y_a)))


def test_save_and_load_round_trip(fitted, tiny, tmp_path):
    save_model(fitted, tmp_path / "m.pt")
    back = load_model(tmp_path / "m.pt")
    np.testing.assert_array_equal(back.predict(tiny, "test"), fitted.predict(tiny, "test"))


def test_cli_dump_round_trips(tmp_path, tiny):
    """The embedded corpus exported as MOSI pickles, trained from the CLI: the dump is the model's table."""
    from mmsa_helpers.pickle_io import export_mmsa

    export_mmsa(tiny, load_dataset("synthetic", aligned=True, **TINY), tmp_path, "mosi")
    out = tmp_path / "u.csv"
    code = main(["train", "-d", "mosi", "--data-root", str(tmp_path), "-m", "self_mm", "-s", "0", "-s", "1",
                 "--set", "epochs=2", "--set", "progress=False", "--set", "batch_size=8", "--set", "device='cpu'",
                 "--dump-ulabels", str(out), "--json", str(tmp_path / "r.json")])
    assert code == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["seed", "epoch", "id", "y_m", "u_t", "u_a", "u_v", "y_t", "y_a", "y_v"]
    assert sorted(frame.seed.unique()) == [0, 1] and sorted(frame.epoch.unique()) == [1, 2]
    mosi = load_dataset("mosi", data_root=tmp_path)
    again = create("self_mm", epochs=2, progress=False, batch_size=8, device="cpu").fit(mosi, seed=1)
    mine = again.ulabel_frame(mosi)
    theirs = frame[frame.seed == 1].drop(columns="seed").reset_index(drop=True)
    pd.testing.assert_frame_equal(theirs, mine, check_dtype=False, atol=1e-6)


def test_cli_dump_refuses_other_models(tmp_path):
    assert main(["train", "-m", "lf_dnn", "--dump-ulabels", str(tmp_path / "u.csv")]) == 2


def test_registry_entry():
    spec = get_spec("self_mm")
    assert spec.family == "self_mm" and spec.defaults["batch_size"] == 16 and spec.defaults["update_epochs"] == 4
