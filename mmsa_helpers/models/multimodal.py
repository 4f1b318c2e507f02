"""Multimodal models in the registry: one wrapper trains every fusion network (chapters 9-11).

``create("tfn")`` returns a :class:`FusionRegressor`: it standardises the frame
features with training-set statistics, serves the book's batch format
(:mod:`mmsa_helpers.torch_data`), builds the network from the feature sizes it
finds (MOSI's 768/5/20 or the embedded corpus's 32/12/16 alike), trains it with
the :class:`~mmsa_helpers.training.Trainer` (epoch chosen by validation loss, as
MMSA does) and clips predictions to the label range.

Every setting of a network and of its training is a registry setting, so
``--set hidden=64`` on the command line and ``create("ef_lstm", hidden=64)`` in a
notebook do the same thing; an unknown setting is an error.
"""
from __future__ import annotations

import inspect

import numpy as np
import torch

from ..corpus import Corpus
from ..errors import ConfigError, MMSADataError
from ..torch_data import MODALITIES, MultimodalDataset, fit_scalers, make_loader
from ..training import TrainConfig, TrainHistory, Trainer, collect_outputs, count_parameters, predict
from .base import register
from .fusion import EFLSTM, LFDNN, LMF, TFN, LateAverage, ModalityAttention
from .mult import MulT

#: Training settings every fusion model takes (MMSA's names where it has them).
TRAIN_DEFAULTS = dict(audio_pool=1, vision_pool=1, epochs=30, batch_size=32, lr=1e-3, weight_decay=0.0, patience=8, grad_clip=None, clip="norm",
                      accumulate=1, monitor="loss", progress=True, device=None)
_TRAIN_KEYS = ("epochs", "lr", "weight_decay", "patience", "grad_clip", "clip", "accumulate", "monitor",
               "progress", "device")


def metric_fn_for(corpus: Corpus):
    """Validation metrics of the Trainer's history: MMSA's, with the corpus's rules."""
    from ..experiment import metric_rules
    from ..metrics import eval_regression

    rules = metric_rules(corpus)
    return lambda pred, truth: eval_regression(pred, truth, dataset=rules)


class FusionRegressor:
    """A :class:`~mmsa_helpers.models.base.SentimentModel` around one fusion network."""

    def __init__(self, network: type, aligned: bool = False, **settings):
        self.network, self.aligned = network, aligned
        train = {k: settings.pop(k) for k in list(settings) if k in TRAIN_DEFAULTS}
        self.batch_size = train.pop("batch_size", TRAIN_DEFAULTS["batch_size"])
        self.pool = {"audio": train.pop("audio_pool", 1), "vision": train.pop("vision_pool", 1)}
        if aligned and set(self.pool.values()) != {1}:
            raise ConfigError("aligned models read one step per word: audio_pool and vision_pool must be 1")
        self._prepared: tuple[Corpus, Corpus] | None = None
        monitor = train.get("monitor", "loss")
        self.train_cfg = TrainConfig(**{k: v for k, v in train.items() if k in _TRAIN_KEYS},
                                     mode="min" if monitor in ("loss", "MAE") else "max")
        self.net_settings = settings
        self.net: torch.nn.Module | None = None
        self.history: TrainHistory | None = None
        self.scalers = None

    # data ---------------------------------------------------------------------
    def check(self, corpus: Corpus) -> None:
        missing = [m for m in MODALITIES if not corpus.has(m)]
        if missing:
            raise MMSADataError(f"{self.network.__name__} fuses text, audio and vision, but {corpus.name!r} has no "
                                f"{missing} features (it has {sorted(corpus['train'])}); real datasets need their "
                                "MMSA feature pickle (Processed/unaligned_50.pkl), not label.csv alone")
        if self.aligned and not corpus.aligned:
            raise MMSADataError(f"{self.network.__name__} reads the three modalities step by step and needs "
                                "word-aligned sequences: load_dataset(..., aligned=True) (the CLI does this by itself)")

    def prepare(self, corpus: Corpus) -> Corpus:
        """The corpus as the network reads it: audio and vision frames averaged in windows of
        ``audio_pool`` / ``vision_pool`` frames (e.g. 20 -> 5 frames per second with 4)."""
        if set(self.pool.values()) == {1}:
            return corpus
        if self._prepared is not None and self._prepared[0] is corpus:  # the corpus itself, not its id:
            return self._prepared[1]                                     # an id is reused once freed
        from ..torch_data import downsample_frames

        pooled = corpus
        for m, factor in self.pool.items():
            if factor > 1:
                pooled = downsample_frames(pooled, m, factor)
        self._prepared = (corpus, pooled)
        return pooled

    def dataset(self, corpus: Corpus, split: str) -> MultimodalDataset:
        return MultimodalDataset(self.prepare(corpus), split, modalities=MODALITIES, labels=("M",),
                                 scalers=self.scalers, zero_is_missing=True)

    def loader(self, corpus: Corpus, split: str, shuffle: bool = False, seed: int = 0):
        return make_loader(self.dataset(corpus, split), self.batch_size, shuffle=shuffle, seed=seed)

    # training -------------------------------------------------------------------
    def build_network(self, dims: dict[str, int], label_range: float = 3.0) -> torch.nn.Module:
        kw = dict(self.net_settings)
        if "label_range" in inspect.signature(self.network).parameters:
            kw["label_range"] = label_range
        return self.network(dims, **kw)

    def fit(self, corpus: Corpus, seed: int = 0) -> "FusionRegressor":
        self.check(corpus)
        torch.manual_seed(seed)
        self.scalers = fit_scalers(self.prepare(corpus), MODALITIES)
        train = self.dataset(corpus, "train")
        self.dims = {m: int(train.features[m].shape[2]) for m in MODALITIES}
        self.label_range = corpus.label_range
        self.net = self.build_network(self.dims, corpus.label_range)
        self.history = Trainer(self.train_cfg).fit(
            self.net, make_loader(train, self.batch_size, shuffle=True, seed=seed), self.loader(corpus, "valid"),
            metric_fn=metric_fn_for(corpus))
        return self

    def outputs(self, corpus: Corpus, split: str) -> dict[str, np.ndarray]:
        """Every named output of the network (prediction, features, weights) over a split, in order."""
        self._need_fit()
        return collect_outputs(self.net, self.loader(corpus, split))

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        self._need_fit()
        pred = predict(self.net, self.loader(corpus, split))
        return np.clip(pred, -self.label_range, self.label_range)

    @property
    def n_parameters(self) -> int:
        self._need_fit()
        return count_parameters(self.net)

    def _need_fit(self) -> None:
        if self.net is None:
            raise RuntimeError("call fit() before using the model")


def _register(name: str, network: type, description: str, net_defaults: dict, aligned: bool = False,
              train: dict | None = None) -> None:
    defaults = {**net_defaults, **TRAIN_DEFAULTS, **(train or {})}

    def build(**settings):
        return FusionRegressor(network, aligned=aligned, **settings)

    register(name, build, needs=MODALITIES, description=description, defaults=defaults, aligned=aligned,
             family="fusion")


_SUBNETS = dict(text_hidden=32, text_out=16, audio_hidden=8, vision_hidden=8, dropout=0.2)

_register("ef_lstm", EFLSTM, "early fusion: the three modalities concatenated per word, one LSTM (aligned data)",
          dict(hidden=32, layers=1, dropout=0.3), aligned=True)
_register("lf_dnn", LFDNN, "late fusion: a subnetwork per modality, their outputs concatenated and read by a DNN",
          dict(_SUBNETS, post_fusion_dim=32))
_register("late_avg", LateAverage, "decision-level fusion: a learned weighted average of three unimodal predictions",
          dict(_SUBNETS))
_register("tfn", TFN, "Tensor Fusion Network: outer product of [1, h_t], [1, h_a], [1, h_v]",
          dict(_SUBNETS, post_fusion_dim=32, post_fusion_dropout=0.3))
_register("lmf", LMF, "Low-rank Multimodal Fusion: TFN's tensor map with rank-r factors",
          dict(_SUBNETS, rank=4, factor_lr=1e-3))
_register("att_fusion", ModalityAttention, "attention over modalities: per-utterance weights for text, audio, vision",
          dict(text_hidden=32, text_out=16, audio_hidden=16, vision_hidden=16, shared=16, dropout=0.2))
_register("mult", MulT, "Multimodal Transformer: cross-modal attention between unaligned sequences",
          dict(d=16, heads=4, layers=1, memory_layers=1, kernel=3, attn_dropout=0.1, relu_dropout=0.1, res_dropout=0.1,
               embed_dropout=0.1, text_dropout=0.0, output_dropout=0.2),
          train=dict(audio_pool=4, vision_pool=3, batch_size=32, lr=3e-3, epochs=15, grad_clip=0.6, clip="value"))
