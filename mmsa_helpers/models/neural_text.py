"""Neural text models trained from scratch: TextCNN, LSTM/GRU with attention pooling (chapter 6).

Words become ids through a :class:`Vocabulary` built on the training split, ids
become vectors through an embedding layer, and an encoder turns the sequence of
vectors into one sentiment score. Everything trains with the book's one loop
(:func:`mmsa_helpers.training.fit_regressor`). Words are split by the corpus's
language (:mod:`mmsa_helpers.language`): on spaces for English, with the jieba
segmenter for Chinese (chapter 15).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..corpus import Corpus
from ..errors import ConfigError
from ..language import corpus_language, split_words
from ..training import TrainConfig, TrainHistory, batch_indices, fit_regressor, predict
from .base import register

PAD, UNK = "<pad>", "<unk>"


@dataclass
class Vocabulary:
    """Word <-> id; id 0 is padding, id 1 stands for words never seen in training.

    ``language`` says how a text splits into words: ``"en"`` on spaces, ``"zh"`` with jieba.
    """

    words: list[str]
    language: str = "en"

    @classmethod
    def build(cls, texts: list[str], min_count: int = 1, language: str = "en") -> "Vocabulary":
        counts = Counter(w for t in texts for w in split_words(t, language))
        kept = sorted(w for w, c in counts.items() if c >= min_count)  # sorted: the same ids every run
        return cls([PAD, UNK] + kept, language)

    def __post_init__(self):
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, texts: list[str], max_len: int = 50) -> tuple[np.ndarray, np.ndarray]:
        """Padded id matrix ``(N, max_len)`` and the true lengths (at least 1)."""
        ids = np.zeros((len(texts), max_len), dtype=np.int64)
        lengths = np.ones(len(texts), dtype=np.int64)
        for i, t in enumerate(texts):
            row = [self.index.get(w, 1) for w in split_words(t, self.language)][:max_len] or [1]
            ids[i, : len(row)] = row
            lengths[i] = len(row)
        return ids, lengths


class TokenBatches:
    """Re-iterable mini-batches of token ids; a seeded shuffle gives the same order for the same seed."""

    def __init__(self, ids, lengths, labels, batch_size: int = 32, shuffle: bool = False, seed: int = 0):
        self.ids, self.lengths = torch.as_tensor(ids), torch.as_tensor(lengths)
        self.labels = torch.as_tensor(labels, dtype=torch.float32)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        for idx in batch_indices(len(self.ids), self.batch_size, self.shuffle, self.generator):
            longest = int(self.lengths[idx].max())
            tokens = self.ids[idx, :longest]
            yield {"tokens": tokens, "lengths": self.lengths[idx], "mask": tokens != 0,
                   "labels": {"M": self.labels[idx]}, "index": idx}

    def __len__(self) -> int:
        return (len(self.ids) + self.batch_size - 1) // self.batch_size


def masked_max(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over time of ``x`` (B, L, D), ignoring padded steps."""
    return x.masked_fill(~mask[:, :, None], float("-inf")).max(dim=1).values


class AttentionPooling(nn.Module):
    """Score each step, softmax over the real steps, return the weighted sum and the weights."""

    def __init__(self, dim: int, hidden: int = 64):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1, bias=False))

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.score(h).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1), weights


class TextCNN(nn.Module):
    """Kim's (2014) CNN: parallel 1-D convolutions of several widths, max-pooled over time."""

    def __init__(self, vocab_size: int, emb_dim: int = 64, filters: int = 64, widths=(2, 3, 4), dropout: float = 0.3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(emb_dim, filters, w, padding=w - 1) for w in widths)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(filters * len(widths), 1)

    def forward(self, batch: dict) -> torch.Tensor:
        x = self.embedding(batch["tokens"]).transpose(1, 2)                     # (B, E, L)
        pooled = []
        for conv in self.convs:
            h = torch.relu(conv(x))[:, :, : x.shape[2]].transpose(1, 2)          # (B, L, F)
            pooled.append(masked_max(h, batch["mask"]))
        return self.head(self.dropout(torch.cat(pooled, dim=1))).squeeze(-1)


class TextRNN(nn.Module):
    """An LSTM or GRU over word embeddings, pooled by attention, the last state, or the mean."""

    def __init__(self, vocab_size: int, emb_dim: int = 64, hidden: int = 64, cell: str = "lstm",
                 bidirectional: bool = True, pooling: str = "attention", dropout: float = 0.3):
        super().__init__()
        if cell not in ("lstm", "gru") or pooling not in ("attention", "last", "mean"):
            raise ConfigError("cell must be 'lstm' or 'gru'; pooling 'attention', 'last' or 'mean'")
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=0)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(emb_dim, hidden, batch_first=True, bidirectional=bidirectional)
        out = hidden * (2 if bidirectional else 1)
        self.pooling = pooling
        self.attention = AttentionPooling(out) if pooling == "attention" else None
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(out, 1)
        self.last_weights: torch.Tensor | None = None  # attention weights of the last forward pass

    def encode(self, batch: dict) -> torch.Tensor:
        x = self.embedding(batch["tokens"])
        packed = nn.utils.rnn.pack_padded_sequence(x, batch["lengths"].cpu(), batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        mask = batch["mask"]
        if self.pooling == "attention":
            pooled, self.last_weights = self.attention(h, mask)
        elif self.pooling == "mean":
            pooled = (h * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)
        else:
            hn = state[0] if isinstance(state, tuple) else state                 # (layers*dirs, B, H)
            pooled = torch.cat([hn[-2], hn[-1]], dim=1) if self.rnn.bidirectional else hn[-1]
        return pooled

    def forward(self, batch: dict) -> torch.Tensor:
        return self.head(self.dropout(self.encode(batch))).squeeze(-1)


class NeuralTextRegressor:
    """A :class:`~mmsa_helpers.models.base.SentimentModel` around :class:`TextCNN` or :class:`TextRNN`."""

    def __init__(self, arch: str = "lstm", emb_dim: int = 64, hidden: int = 64, bidirectional: bool = True,
                 pooling: str = "attention", dropout: float = 0.3, epochs: int = 30, batch_size: int = 32,
                 lr: float = 2e-3, weight_decay: float = 1e-5, patience: int = 6, max_len: int = 50,
                 min_count: int = 1, progress: bool = True, device: str | None = None):
        self.arch = arch
        self.net_kw = dict(emb_dim=emb_dim, dropout=dropout)
        if arch == "cnn":
            self.net_kw["filters"] = hidden
        else:
            self.net_kw.update(hidden=hidden, cell=arch, bidirectional=bidirectional, pooling=pooling)
        self.batch_size, self.max_len, self.min_count = batch_size, max_len, min_count
        self.train_cfg = TrainConfig(epochs=epochs, lr=lr, weight_decay=weight_decay, patience=patience,
                                     progress=progress, device=device)
        self.vocab: Vocabulary | None = None
        self.net: nn.Module | None = None
        self.history: TrainHistory | None = None

    def batches(self, corpus: Corpus, split: str, shuffle: bool = False, seed: int = 0,
                labelled: bool = False) -> TokenBatches:
        """Batches of a split; ``labelled`` (training, epoch selection) requires real labels."""
        ids, lengths = self.vocab.encode(corpus[split]["raw_text"], self.max_len)
        if labelled:
            labels = corpus.training_labels(split)
        else:  # prediction: labels are not used, an unlabelled split is fine
            labels = corpus.labels(split) if "regression_labels" in corpus[split] else np.zeros(len(ids), np.float32)
        return TokenBatches(ids, lengths, labels, self.batch_size, shuffle, seed)

    def fit(self, corpus: Corpus, seed: int = 0) -> "NeuralTextRegressor":
        torch.manual_seed(seed)
        self.vocab = Vocabulary.build(corpus["train"]["raw_text"], self.min_count, corpus_language(corpus))
        net_cls = TextCNN if self.arch == "cnn" else TextRNN
        self.net = net_cls(len(self.vocab), **self.net_kw)
        self.history = fit_regressor(self.net, self.batches(corpus, "train", shuffle=True, seed=seed, labelled=True),
                                     self.batches(corpus, "valid", labelled=True), self.train_cfg)
        self.label_range = corpus.label_range
        return self

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        """Predictions clipped to the label range, as every other model of the book."""
        if self.net is None:
            raise RuntimeError("call fit() before predict()")
        pred = predict(self.net, self.batches(corpus, split))
        return np.clip(pred, -self.label_range, self.label_range)

    def attention(self, texts: list[str]) -> list[np.ndarray]:
        """Per-word attention weights of an attention-pooled RNN, one array per text."""
        if not isinstance(self.net, TextRNN) or self.net.pooling != "attention":
            raise ConfigError("attention weights exist only for arch 'lstm'/'gru' with pooling='attention'")
        ids, lengths = self.vocab.encode(texts, self.max_len)
        batch = next(iter(TokenBatches(ids, lengths, np.zeros(len(ids)), batch_size=len(ids))))
        self.net.eval()
        device = next(self.net.parameters()).device
        with torch.no_grad():
            self.net({k: (v.to(device) if torch.is_tensor(v) else v) for k, v in batch.items()})
        w = self.net.last_weights.cpu().numpy()
        return [w[i, : lengths[i]] for i in range(len(texts))]


_COMMON = dict(emb_dim=64, hidden=64, bidirectional=True, pooling="attention", dropout=0.3, epochs=30,
               batch_size=32, lr=2e-3, weight_decay=1e-5, patience=6, max_len=50, min_count=1, progress=True,
               device=None)


def _factory(arch: str):
    def build(**kw):
        return NeuralTextRegressor(arch=arch, **kw)

    return build


register("text_cnn", _factory("cnn"), needs=("raw_text",), description="TextCNN (widths 2-4) on word embeddings",
         defaults={k: v for k, v in _COMMON.items() if k not in ("bidirectional", "pooling")})
register("text_lstm", _factory("lstm"), needs=("raw_text",),
         description="BiLSTM on word embeddings with attention pooling", defaults=_COMMON)
register("text_gru", _factory("gru"), needs=("raw_text",),
         description="BiGRU on word embeddings with attention pooling", defaults=_COMMON)
