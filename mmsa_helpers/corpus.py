"""``Corpus``: what every loader in the book returns (chapter 2, "The MMSA format").

A corpus is a thin wrapper around the MMSA layout: a dict of splits
(``train``, ``valid``, ``test``) each holding a dict of equal-length columns
(``id``, ``raw_text``, ``regression_labels`` ... see ``../shared`` and chapter 2).
``corpus["train"]["audio"]`` is exactly what ``pickle.load`` gives for an MMSA
feature file, so code written against the book runs on MMSA's files and back.

Besides the splits, a corpus knows its name, the names of the audio and vision
feature columns, and the label range (3 for MOSI-style [-3, 3], 1 for SIMS).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import MMSADataError

SPLITS = ("train", "valid", "test")

#: MMSA keys holding one row per utterance (first axis = utterance).
MMSA_LABEL_KEYS = ("regression_labels", "regression_labels_T", "regression_labels_A", "regression_labels_V")
#: Unimodal label key per modality letter.
UNIMODAL_LABEL_KEY = {"T": "regression_labels_T", "A": "regression_labels_A", "V": "regression_labels_V"}


@dataclass
class Corpus:
    """A dataset in the MMSA layout plus a little metadata.

    Attributes
    ----------
    name:
        Registry name (``"synthetic"``, ``"mosi"`` ...).
    splits:
        ``{"train": {...}, "valid": {...}, "test": {...}}``; each value maps a
        key (``"audio"``, ``"regression_labels"`` ...) to an array or list
        whose first axis runs over utterances.
    aligned:
        True for word-aligned sequences (all modalities share the text's length).
    label_range:
        ``H`` such that labels lie in ``[-H, H]``.
    audio_features, vision_features:
        Names of the feature columns (empty when unknown, e.g. real pickles).
    info:
        Free-form metadata (generator settings, source paths ...).
    """

    name: str
    splits: dict[str, dict[str, Any]]
    aligned: bool = False
    label_range: float = 3.0
    audio_features: list[str] = field(default_factory=list)
    vision_features: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, split: str) -> dict[str, Any]:
        try:
            return self.splits[split]
        except KeyError:
            raise KeyError(
                f"{self.name!r} has no split {split!r}; it has {sorted(self.splits)}"
            ) from None

    def __iter__(self):
        return iter(self.splits)

    def sizes(self) -> dict[str, int]:
        """Number of utterances per split."""
        return {s: len(d["id"]) for s, d in self.splits.items()}

    def has(self, key: str) -> bool:
        """True when every split holds ``key`` (e.g. ``"audio"``, ``"regression_labels_T"``)."""
        return all(key in d for d in self.splits.values())

    @property
    def modalities(self) -> list[str]:
        """Modalities with features or transcripts: a subset of ``text``, ``audio``, ``vision``."""
        out = []
        if self.has("raw_text") or self.has("text"):
            out.append("text")
        for m in ("audio", "vision"):
            if self.has(m):
                out.append(m)
        return out

    def labels(self, split: str, modality: str = "M") -> np.ndarray:
        """Labels of a split: ``"M"`` multimodal, ``"T"``/``"A"``/``"V"`` unimodal (float32)."""
        key = "regression_labels" if modality == "M" else UNIMODAL_LABEL_KEY.get(modality)
        if key is None:
            raise ValueError(f"modality must be one of 'M', 'T', 'A', 'V', got {modality!r}")
        d = self[split]
        if key not in d:
            raise KeyError(
                f"{self.name!r} split {split!r} has no {key!r}; unimodal labels exist only in "
                "datasets annotated per modality (synthetic, SIMS)"
            )
        return np.asarray(d[key], dtype=np.float32)

    def training_labels(self, split: str) -> np.ndarray:
        """The multimodal labels a model trains on (or picks its epoch with): an error, never
        zeros, when they are missing, and an error naming the rows when some are NaN or inf."""
        d = self[split]
        if "regression_labels" not in d:
            raise MMSADataError(
                f"{self.name!r} split {split!r} has no 'regression_labels': a model cannot be trained or "
                "choose its epoch without them; add the labels (MMSA's label column) or use a labelled split")
        y = self.labels(split)
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise MMSADataError(
                f"{self.name!r} split {split!r}: {bad.size} of {len(y)} labels are NaN or inf (rows "
                f"{bad[:5].tolist()}{' ...' if bad.size > 5 else ''}); drop those utterances or fix their labels")
        return y

    def to_mmsa(self) -> dict[str, dict[str, Any]]:
        """The plain dict MMSA pickles hold (splits only, no metadata)."""
        return {s: dict(d) for s, d in self.splits.items()}

    def frame(self, split: str):
        """A pandas DataFrame with one row per utterance: id, text, labels, lengths and other 1-D columns."""
        import pandas as pd

        d = self[split]
        n = len(d["id"])
        cols = {}
        for k, v in d.items():
            if isinstance(v, np.ndarray) and v.ndim == 1 and len(v) == n:
                cols[k] = v
            elif isinstance(v, list) and len(v) == n and (n == 0 or np.isscalar(v[0])):
                cols[k] = v
        return pd.DataFrame(cols)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={n}" for s, n in self.sizes().items())
        lines = [f"Corpus({self.name!r}, {'aligned' if self.aligned else 'unaligned'})", f"  utterances: {sizes}"]
        first = next(iter(self.splits.values()), {})
        shapes = [f"{k} {tuple(first[k].shape[1:])}" for k in ("text", "audio", "vision")
                  if k in first and hasattr(first[k], "shape")]
        if shapes:
            lines.append(f"  features (steps, dims): {', '.join(shapes)}")
        lines.append(f"  labels in [-{self.label_range:g}, {self.label_range:g}]" if self.label_range
                     else "  class labels")
        return "\n".join(lines)
