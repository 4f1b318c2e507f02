"""PyTorch datasets for aligned and unaligned multimodal data (chapter 2, "From arrays to batches").

``MultimodalDataset(corpus, "train")`` yields one utterance at a time as a dict
of tensors; ``collate_batch`` pads a list of them to the longest sequence of the
batch and adds boolean masks (True = real frame). Batches look like::

    {"text": (B, Lt, Dt), "text_lengths": (B,), "text_mask": (B, Lt),
     "audio": (B, La, Da), "audio_lengths": (B,), "audio_mask": (B, La),
     "vision": ..., "labels": {"M": (B,), "T": (B,), ...}, "index": (B,), "id": [...]}

and, for a text encoder fine-tuned inside a multimodal model, MMSA's ``text_bert``
layout (token ids, attention mask, segment ids), trimmed to the batch's longest text::

    {"text_bert": (B, 3, Lb)}          # long integers

or one fixed vector per utterance from a frozen encoder (computed once, see
:func:`mmsa_helpers.models.pretrained_text.encode_texts`)::

    {"text_vec": (B, D)}

``index`` is each utterance's row in its split (what Self-MM's label banks are keyed by).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .corpus import UNIMODAL_LABEL_KEY, Corpus
from .errors import ConfigError, MMSADataError

MODALITIES = ("text", "audio", "vision")


def sequence_lengths(split: dict, modality: str, aligned: bool) -> np.ndarray:
    """Number of real (unpadded) steps of each utterance for one modality."""
    x = split[modality]
    if aligned and modality != "text" and "text" in split:
        return sequence_lengths(split, "text", aligned)  # aligned: every modality follows the words
    if f"{modality}_lengths" in split and not (aligned and modality != "text"):
        return np.asarray(split[f"{modality}_lengths"], dtype=np.int64)
    if "text_lengths" in split:
        return np.asarray(split["text_lengths"], dtype=np.int64)  # aligned: every modality follows the words
    if "text_bert" in split:
        return np.asarray(split["text_bert"])[:, 1].sum(axis=1).astype(np.int64)
    # last resort: index of the last non-zero step + 1
    nonzero = np.abs(np.asarray(x)).sum(axis=2) > 0
    return np.where(nonzero.any(axis=1), x.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0).astype(np.int64)


@dataclass
class FrameScaler:
    """Standardise frame features with the mean and std of the *training* frames (padding excluded)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, lengths: np.ndarray) -> "FrameScaler":
        frames = np.concatenate([xi[:n] for xi, n in zip(x, lengths) if n > 0])
        std = frames.std(axis=0)
        return cls(frames.mean(axis=0).astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32))

    def transform(self, x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        out = (x - self.mean) / self.std
        steps = np.arange(x.shape[1])[None, :, None]
        return np.where(steps < lengths[:, None, None], out, 0.0).astype(np.float32)


def fit_scalers(corpus: Corpus, modalities: Sequence[str] = ("audio", "vision")) -> dict[str, FrameScaler]:
    """One :class:`FrameScaler` per modality, fitted on the training split."""
    train = corpus["train"]
    return {m: FrameScaler.fit(train[m], sequence_lengths(train, m, corpus.aligned)) for m in modalities}


class MultimodalDataset(Dataset):
    """One split of a corpus as a PyTorch dataset.

    Parameters
    ----------
    corpus, split:
        What to serve.
    modalities:
        Which of ``text``, ``audio``, ``vision`` to include (their features must exist).
    labels:
        ``"M"`` (multimodal) and any of ``"T"``, ``"A"``, ``"V"`` present in the corpus.
    scalers:
        Optional ``{modality: FrameScaler}`` (see :func:`fit_scalers`), applied once here.
    zero_is_missing:
        Treat an utterance whose frames of a modality are all exactly zero (how MMSA files and
        the synthetic corpus store a missing stream) as having no frames: length 0, empty mask.
        The fusion models use this, so a missing stream is absent rather than a sequence of
        ``-mean/std`` values after scaling.
    text_tokens:
        Add token ids for a text encoder as ``text_bert``: ``"text_bert"`` takes the corpus's
        own array (MMSA pickles carry it), a tokenizer name (e.g. ``"all-MiniLM-L6-v2"``,
        ``"bert-base-uncased"``) tokenises ``raw_text`` with at most ``max_tokens`` tokens.
    text_vectors:
        Optional array (N, D): one sentence vector per utterance, served as ``text_vec``.
    """

    def __init__(self, corpus: Corpus, split: str, modalities: Sequence[str] = MODALITIES,
                 labels: Sequence[str] = ("M",), scalers: dict[str, FrameScaler] | None = None,
                 zero_is_missing: bool = False, text_tokens: str | None = None, max_tokens: int = 50,
                 text_vectors: np.ndarray | None = None):
        d = corpus[split]
        self.ids = list(d["id"])
        n = len(self.ids)
        self.features, self.lengths = {}, {}
        for m in modalities:
            if m not in MODALITIES:
                raise ConfigError(f"unknown modality {m!r}; use {MODALITIES}")
            if m not in d:
                raise MMSADataError(
                    f"{corpus.name} {split}: no {m!r} features (keys: {sorted(d)}); "
                    "pick modalities that the corpus has, e.g. modalities=('text',)")
            x = np.asarray(d[m], dtype=np.float32)
            if x.ndim != 3 or len(x) != n:
                raise MMSADataError(f"{corpus.name} {split}: {m!r} must have shape (N={n}, L, D), got {x.shape}")
            lengths = np.minimum(sequence_lengths(d, m, corpus.aligned), x.shape[1])
            if zero_is_missing and m != "text":
                lengths = np.where(np.abs(x).reshape(n, -1).max(axis=1, initial=0.0) == 0, 0, lengths)
            if scalers and m in scalers:
                x = scalers[m].transform(x, lengths)
            self.features[m] = torch.from_numpy(x)
            self.lengths[m] = torch.from_numpy(lengths)
        self.labels = {k: torch.from_numpy(corpus.labels(split, k)) for k in labels}
        self.tokens = None if text_tokens is None else token_array(corpus, split, text_tokens, max_tokens)
        self.text_vectors = None
        if text_vectors is not None:
            vec = np.asarray(text_vectors, dtype=np.float32)
            if vec.ndim != 2 or len(vec) != n:
                raise MMSADataError(f"{corpus.name} {split}: text_vectors must have shape (N={n}, D), got {vec.shape}")
            if not np.isfinite(vec).all():
                raise MMSADataError(f"{corpus.name} {split}: text_vectors hold NaN or inf in rows "
                                    f"{np.flatnonzero(~np.isfinite(vec).all(axis=1))[:5].tolist()}")
            self.text_vectors = torch.from_numpy(vec)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        item = {"index": i, "id": self.ids[i], "labels": {k: v[i] for k, v in self.labels.items()}}
        for m, x in self.features.items():
            n = int(self.lengths[m][i])
            item[m] = x[i, : max(n, 1)]  # keep one (zero) step for empty sequences
            item[f"{m}_lengths"] = n
        if self.tokens is not None:
            item["text_bert"] = self.tokens[i]
        if self.text_vectors is not None:
            item["text_vec"] = self.text_vectors[i]
        return item


def collate_batch(items: list[dict]) -> dict:
    """Pad a list of dataset items to the batch's longest sequence; add masks."""
    batch = {"index": torch.tensor([it["index"] for it in items]), "id": [it["id"] for it in items]}
    for m in MODALITIES:
        if m not in items[0]:
            continue
        seqs = [it[m] for it in items]
        lengths = torch.tensor([it[f"{m}_lengths"] for it in items])
        longest = max(s.shape[0] for s in seqs)
        x = torch.zeros(len(seqs), longest, seqs[0].shape[1])
        for j, s in enumerate(seqs):
            x[j, : s.shape[0]] = s
        batch[m] = x
        batch[f"{m}_lengths"] = lengths
        batch[f"{m}_mask"] = torch.arange(longest)[None, :] < lengths[:, None]
    if "text_bert" in items[0]:
        tokens = torch.stack([it["text_bert"] for it in items])           # (B, 3, L)
        longest = max(int(tokens[:, 1].sum(1).max()), 1)
        batch["text_bert"] = tokens[:, :, :longest]
    if "text_vec" in items[0]:
        batch["text_vec"] = torch.stack([it["text_vec"] for it in items])
    batch["labels"] = {k: torch.stack([it["labels"][k] for it in items]) for k in items[0]["labels"]}
    return batch


def token_array(corpus: Corpus, split: str, source: str = "text_bert", max_tokens: int = 50) -> torch.Tensor:
    """MMSA's ``text_bert`` array of a split as a long tensor (N, 3, L): ids, attention mask, segment ids.

    ``source="text_bert"`` reads the corpus's own array; any other value names a tokenizer
    (the offline default ``all-MiniLM-L6-v2`` or a Hugging Face name) applied to ``raw_text``.
    """
    d = corpus[split]
    if source == "text_bert":
        if "text_bert" not in d:
            raise MMSADataError(f"{corpus.name} {split}: no 'text_bert' array (keys: {sorted(d)}); pass a "
                                "tokenizer name instead, e.g. text_tokens='all-MiniLM-L6-v2'")
        arr = np.asarray(d["text_bert"])
        if arr.ndim != 3 or arr.shape[1] != 3 or len(arr) != len(d["id"]):
            raise MMSADataError(f"{corpus.name} {split}: 'text_bert' must have shape (N, 3, L), got {arr.shape}")
    else:
        if "raw_text" not in d:
            raise MMSADataError(f"{corpus.name} {split}: no 'raw_text' to tokenise")
        from .pretrained import bert_inputs

        arr = bert_inputs(list(d["raw_text"]), max_len=max_tokens, name=source)
    return torch.from_numpy(np.rint(arr).astype(np.int64))


def make_loader(dataset: MultimodalDataset, batch_size: int = 32, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """A DataLoader with the book's collate function and a seeded shuffle (same seed, same order)."""
    g = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=collate_batch, generator=g)


__all__ = ["MultimodalDataset", "collate_batch", "make_loader", "FrameScaler", "fit_scalers",
           "sequence_lengths", "UNIMODAL_LABEL_KEY"]


def downsample_frames(corpus: Corpus, modality: str, factor: int) -> Corpus:
    """A copy of ``corpus`` whose ``modality`` frames are averaged in windows of
    ``factor`` (padding excluded), e.g. 15 -> 5 frames per second with
    ``factor=3``; lengths shrink accordingly (a partial last window counts as a frame)."""
    import dataclasses

    if factor < 1:
        raise ConfigError(f"factor must be a positive integer, not {factor}")
    splits = {}
    for name, d in corpus.splits.items():
        x, lengths = np.asarray(d[modality], dtype=np.float32), np.asarray(d[f"{modality}_lengths"])
        n, steps, dims = x.shape
        padded = np.zeros((n, -(-steps // factor) * factor, dims), np.float32)
        padded[:, :steps] = x
        real = np.clip(lengths[:, None] - np.arange(0, padded.shape[1], factor)[None], 0, factor)
        pooled = padded.reshape(n, -1, factor, dims).sum(axis=2) / np.maximum(real, 1)[..., None]
        splits[name] = {**d, modality: pooled.astype(np.float32), f"{modality}_lengths": -(-lengths // factor)}
    return dataclasses.replace(corpus, splits=splits)


def utterance_statistics(corpus: Corpus, split: str, modality: str) -> np.ndarray:
    """Mean and standard deviation of every feature over each utterance's real
    frames: shape (utterances, 2 * features), the input of a ridge baseline."""
    d = corpus[split]
    rows = []
    for x, n in zip(d[modality], d[f"{modality}_lengths"]):
        f = np.asarray(x[: max(int(n), 1)], dtype=np.float64)
        rows.append(np.r_[f.mean(axis=0), f.std(axis=0)])
    return np.asarray(rows, dtype=np.float32)
