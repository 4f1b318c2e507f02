"""Sequence models for the audio and vision streams (chapters 7 and 8).

A frame sequence (B, L, D) of acoustic or facial descriptors goes through a
recurrent network (LSTM/GRU with attention pooling) or a temporal convolution
network (stacked dilated 1-D convolutions over time: the 3D-CNN idea reduced to
the time axis), and comes out as one sentiment score (or, with ``n_out`` classes, logits: the
speech-emotion classifiers of chapter 7 reuse these networks). Features are standardised
with statistics of the training frames. Training uses the book's one loop.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..corpus import Corpus
from ..errors import ConfigError
from ..torch_data import MultimodalDataset, fit_scalers, make_loader
from ..training import TrainConfig, TrainHistory, fit_regressor, predict
from .base import register
from .neural_text import AttentionPooling


def _output(out: torch.Tensor, n_out: int) -> torch.Tensor:
    """One score per sequence (B,) for regression, logits (B, n_out) for classification."""
    return out.squeeze(-1) if n_out == 1 else out


class SequenceRNN(nn.Module):
    """Frames -> linear projection -> (Bi)LSTM/GRU -> attention pooling -> score."""

    def __init__(self, modality: str, in_dim: int, hidden: int = 32, cell: str = "lstm", bidirectional: bool = True,
                 dropout: float = 0.2, n_out: int = 1):
        super().__init__()
        self.modality, self.n_out = modality, n_out
        self.proj = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(hidden, hidden, batch_first=True,
                                                              bidirectional=bidirectional)
        out = hidden * (2 if bidirectional else 1)
        self.attention = AttentionPooling(out, hidden)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(out, n_out))
        self.last_weights: torch.Tensor | None = None

    def forward(self, batch: dict) -> torch.Tensor:
        x, lengths, mask = batch[self.modality], batch[f"{self.modality}_lengths"], batch[f"{self.modality}_mask"]
        packed = nn.utils.rnn.pack_padded_sequence(self.proj(x), lengths.clamp(min=1).cpu(), batch_first=True,
                                                   enforce_sorted=False)
        h, _ = nn.utils.rnn.pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=x.shape[1])
        mask = mask.clone()
        mask[:, 0] = True  # an empty (missing) sequence still pools its one zero frame
        pooled, self.last_weights = self.attention(h, mask)
        return _output(self.head(pooled), self.n_out)


class TemporalConvNet(nn.Module):
    """Dilated 1-D convolutions over time with residual connections, then masked mean and max pooling."""

    def __init__(self, modality: str, in_dim: int, hidden: int = 32, levels: int = 3, kernel: int = 3,
                 dropout: float = 0.2, n_out: int = 1):
        super().__init__()
        self.modality, self.n_out = modality, n_out
        self.inp = nn.Conv1d(in_dim, hidden, 1)
        self.blocks = nn.ModuleList(
            nn.Conv1d(hidden, hidden, kernel, dilation=2 ** i, padding=(kernel - 1) * 2 ** i // 2)
            for i in range(levels))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, n_out))

    def forward(self, batch: dict) -> torch.Tensor:
        x, mask = batch[self.modality], batch[f"{self.modality}_mask"].clone()
        mask[:, 0] = True
        h = self.inp(x.transpose(1, 2))
        m = mask[:, None, :].to(h.dtype)
        for conv in self.blocks:
            h = (h + torch.relu(conv(h * m))) * m       # padded steps stay zero
        mean = h.sum(2) / m.sum(2)
        peak = h.masked_fill(~mask[:, None, :], float("-inf")).max(2).values
        return _output(self.head(torch.cat([mean, peak], dim=1)), self.n_out)


class SequenceRegressor:
    """A :class:`~mmsa_helpers.models.base.SentimentModel` on one frame-level modality.

    ``target`` is the label it learns: ``"M"`` (multimodal, the default, what the
    test metrics score) or the modality's own label (``"A"``/``"V"``) where the corpus has it.
    """

    def __init__(self, modality: str = "audio", arch: str = "lstm", target: str = "M", hidden: int = 32,
                 levels: int = 3, dropout: float = 0.2, epochs: int = 20, batch_size: int = 32, lr: float = 2e-3,
                 weight_decay: float = 1e-5, patience: int = 5, progress: bool = True, device: str | None = None):
        if arch not in ("lstm", "gru", "tcn"):
            raise ConfigError("arch must be 'lstm', 'gru' or 'tcn'")
        self.modality, self.arch, self.target = modality, arch, target
        self.hidden, self.levels, self.dropout, self.batch_size = hidden, levels, dropout, batch_size
        self.train_cfg = TrainConfig(epochs=epochs, lr=lr, weight_decay=weight_decay, patience=patience,
                                     progress=progress, device=device)
        self.net: nn.Module | None = None
        self.history: TrainHistory | None = None

    def _loss(self, pred: torch.Tensor, batch: dict) -> torch.Tensor:
        return torch.mean(torch.abs(pred - batch["labels"][self.target]))

    def dataset(self, corpus: Corpus, split: str) -> MultimodalDataset:
        labels = ("M",) if self.target == "M" else ("M", self.target)
        # zero_is_missing: an all-zero stream (a dropped modality) is read as length 0, as the fusion models read it
        return MultimodalDataset(corpus, split, modalities=(self.modality,), labels=labels, scalers=self.scalers,
                                 zero_is_missing=True)

    def fit(self, corpus: Corpus, seed: int = 0) -> "SequenceRegressor":
        torch.manual_seed(seed)
        self.scalers = fit_scalers(corpus, (self.modality,))
        train = self.dataset(corpus, "train")
        in_dim = train.features[self.modality].shape[2]
        if self.arch == "tcn":
            self.net = TemporalConvNet(self.modality, in_dim, self.hidden, self.levels, dropout=self.dropout)
        else:
            self.net = SequenceRNN(self.modality, in_dim, self.hidden, self.arch, dropout=self.dropout)
        self.history = fit_regressor(
            self.net, make_loader(train, self.batch_size, shuffle=True, seed=seed),
            make_loader(self.dataset(corpus, "valid"), self.batch_size), self.train_cfg, loss_fn=self._loss)
        self.label_range = corpus.label_range
        return self

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        if self.net is None:
            raise RuntimeError("call fit() before predict()")
        pred = predict(self.net, make_loader(self.dataset(corpus, split), self.batch_size))
        return np.clip(pred, -self.label_range, self.label_range)

    def attention_weights(self, corpus: Corpus, split: str) -> list[np.ndarray]:
        """The attention pooling's weights over each utterance's real frames
        (recurrent models only): one array per utterance, each summing to 1."""
        if self.net is None:
            raise RuntimeError("call fit() before attention_weights()")
        if not isinstance(self.net, SequenceRNN):
            raise ConfigError(f"a {self.arch!r} model has no attention; use an LSTM or GRU model")
        self.net.eval()
        out = []
        device = next(self.net.parameters()).device
        with torch.no_grad():
            for batch in make_loader(self.dataset(corpus, split), self.batch_size):
                self.net({k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()})
                lengths = batch[f"{self.modality}_lengths"].clamp(min=1).tolist()
                out.extend(w[:n].cpu().numpy() for w, n in zip(self.net.last_weights, lengths))
        return out


_DEFAULTS = dict(target="M", hidden=32, levels=3, dropout=0.2, epochs=20, batch_size=32, lr=2e-3, weight_decay=1e-5,
                 patience=5, progress=True, device=None)


def _factory(modality: str, arch: str):
    def build(**kw):
        return SequenceRegressor(modality=modality, arch=arch, **kw)

    return build


_RNN_DEFAULTS = {k: v for k, v in _DEFAULTS.items() if k != "levels"}  # levels are the TCN's

for _mod in ("audio", "vision"):
    register(f"{_mod}_lstm", _factory(_mod, "lstm"), needs=(_mod,),
             description=f"BiLSTM with attention pooling over {_mod} frames", defaults=_RNN_DEFAULTS)
    register(f"{_mod}_gru", _factory(_mod, "gru"), needs=(_mod,),
             description=f"BiGRU with attention pooling over {_mod} frames", defaults=_RNN_DEFAULTS)
    register(f"{_mod}_tcn", _factory(_mod, "tcn"), needs=(_mod,),
             description=f"temporal convolution network (dilated 1-D convs) over {_mod} frames", defaults=_DEFAULTS)
