"""The Trainer: accumulation, best-epoch restore, selection by metric, parameter groups, NaN, hooks."""
import numpy as np
import pytest
import torch
from torch import nn

from mmsa_helpers.training import Module, TrainConfig, Trainer, TrainingDivergedError, fit_regressor, shard_batch


def make_batches(n=32, batch_size=8, seed=0, noise=0.1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0]) + noise * torch.randn(n, generator=g)
    return [{"x": x[i:i + batch_size], "labels": {"M": y[i:i + batch_size]}, "index": torch.arange(i, i + batch_size)}
            for i in range(0, n, batch_size)]


class Linear(Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(4, 1)

    def forward(self, batch):
        return {"M": self.lin(batch["x"]).squeeze(-1), "hidden": batch["x"]}


def cfg(**kw):
    base = dict(epochs=1, lr=0.1, grad_clip=None, progress=False, device="cpu", patience=None)
    return TrainConfig(**{**base, **kw})


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=0.1)


def test_accumulation_equals_a_bigger_batch():
    small, big = Linear(), Linear()
    Trainer(cfg(accumulate=2)).fit(small, make_batches(batch_size=8), make_batches(), optimizer=sgd(small))
    Trainer(cfg()).fit(big, make_batches(batch_size=16), make_batches(), optimizer=sgd(big))
    for a, b in zip(small.parameters(), big.parameters()):
        torch.testing.assert_close(a, b)
    other = Linear()  # and without accumulation the result differs: the test can fail
    Trainer(cfg()).fit(other, make_batches(batch_size=8), make_batches(), optimizer=sgd(other))
    assert not torch.allclose(other.lin.weight, big.lin.weight)


def test_sum_reduction_is_mmsa_update_epochs():
    summed, big = Linear(), Linear()
    Trainer(cfg(accumulate=2, accumulate_reduction="sum")).fit(summed, make_batches(batch_size=8), make_batches(),
                                                               optimizer=sgd(summed))
    opt = torch.optim.SGD(big.parameters(), lr=0.2)  # the sum of two means = twice the mean
    Trainer(cfg()).fit(big, make_batches(batch_size=16), make_batches(), optimizer=opt)
    torch.testing.assert_close(summed.lin.weight, big.lin.weight)


class Recorder(Module):
    """Valid loss follows a script, so we know which epoch must win."""

    def __init__(self, script):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.script, self.epoch, self.events = script, 0, []

    def forward(self, batch):
        return self.w.expand(len(batch["labels"]["M"]))

    def on_epoch_start(self, epoch):
        self.epoch = epoch
        self.events.append(("start", epoch))

    def on_train_batch_end(self, batch, outputs, epoch):
        self.events.append(("batch", epoch, tuple(batch["index"].tolist())))

    def training_step(self, batch, epoch):
        with torch.no_grad():
            self.w.fill_(float(epoch))  # weights remember their epoch
        return (self(batch) * 0).sum() + self.w.sum() * 0

    def validation_step(self, batch):
        v = torch.tensor(self.script[self.epoch - 1])
        return {"loss": v, "pred": torch.full((len(batch["labels"]["M"]),), float(self.script[self.epoch - 1]))}


def test_best_epoch_is_restored_and_patience_stops():
    model = Recorder([3.0, 1.0, 2.0, 2.5, 0.5])
    history = Trainer(cfg(epochs=5, patience=2)).fit(model, make_batches(), make_batches())
    assert history.best_epoch == 2 and len(history.rows) == 4          # stopped after 2 epochs without progress
    assert float(model.w.detach()) == 2.0                                      # epoch 2's weights are back
    assert list(history.frame.index) == [1, 2, 3, 4]


def test_selection_by_a_named_metric_higher_is_better():
    def metric(pred, truth):
        return {"score": float(pred.mean())}

    model = Recorder([3.0, 1.0, 2.0])
    history = Trainer(cfg(epochs=3, monitor="score", mode="max")).fit(model, make_batches(), make_batches(),
                                                                       metric_fn=metric)
    assert history.best_epoch == 1 and float(model.w.detach()) == 1.0 and "valid_score" in history.frame
    with pytest.raises(ValueError, match="monitor='Corr' is not measured"):
        Trainer(cfg(monitor="Corr")).fit(Recorder([1.0]), make_batches(), make_batches())


def test_hooks_see_epochs_and_sample_indices():
    model = Recorder([1.0, 0.5])
    Trainer(cfg(epochs=2)).fit(model, make_batches(n=16, batch_size=8), make_batches())
    assert model.events == [("start", 1), ("batch", 1, tuple(range(8))), ("batch", 1, tuple(range(8, 16))),
                            ("start", 2), ("batch", 2, tuple(range(8))), ("batch", 2, tuple(range(8, 16)))]


class TwoGroups(Linear):
    def configure_optimizers(self, cfg):
        return torch.optim.Adam([{"params": [self.lin.weight], "lr": 0.01, "weight_decay": 0.1},
                                 {"params": [self.lin.bias], "lr": 0.5}])


def test_parameter_groups_get_their_rates():
    model = TwoGroups()
    trainer = Trainer(cfg(scheduler=None))
    before_b = model.lin.bias.detach().clone()
    before_w = model.lin.weight.detach().clone()
    trainer.fit(model, make_batches(n=8), make_batches(n=8))
    # one Adam step moves each parameter by about its group's learning rate
    assert torch.allclose((model.lin.bias - before_b).abs(), torch.tensor(0.5), atol=1e-3)
    assert torch.allclose((model.lin.weight - before_w).abs().max(), torch.tensor(0.01), atol=1e-3)


def test_nan_loss_stops_with_a_clear_error():
    batches = make_batches()
    batches[1]["x"] = batches[1]["x"].clone()
    batches[1]["x"][0, 0] = float("nan")
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 2.*learning rate"):
        Trainer(cfg()).fit(Linear(), batches, make_batches())


def test_gradient_clipping_by_value_and_norm():
    for clip, bound in (("value", 1e-3), ("norm", 1e-3)):
        model = Linear()
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        before = model.lin.weight.detach().clone()
        Trainer(cfg(grad_clip=bound, clip=clip)).fit(model, make_batches(n=8), make_batches(n=8), optimizer=opt)
        step = (model.lin.weight - before).abs()
        assert step.max() <= bound + 1e-7 if clip == "value" else step.norm() <= bound + 1e-7


def test_fit_regressor_is_the_trainer_with_a_loss_function():
    net = nn.Sequential(nn.Linear(4, 1), nn.Flatten(0))
    wrapped = lambda b: net(b["x"])  # noqa: E731 - a plain module taking a batch dict

    class Plain(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, batch):
            return wrapped(batch)

    history = fit_regressor(Plain(), make_batches(), make_batches(), cfg(epochs=3, patience=5))
    assert history.best_epoch >= 1 and history.rows[0]["train_loss"] > history.rows[-1]["train_loss"]


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="mode must be"):
        TrainConfig(mode="lowest")
    with pytest.raises(ValueError, match="accumulate"):
        TrainConfig(accumulate=0)


def test_shard_batch_takes_every_world_th_row():
    batch = make_batches(n=8, batch_size=8)[0]
    batch["id"] = list("abcdefgh")
    part = shard_batch(batch, 1, 2)
    assert part["index"].tolist() == [1, 3, 5, 7] and part["id"] == list("bdfh")
    assert part["labels"]["M"].shape == (4,)
    np.testing.assert_array_equal(part["x"].numpy(), batch["x"][1::2].numpy())
