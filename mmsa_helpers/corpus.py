"""``Corpus``: what every loader in the book returns (chapter 2, "The MMSA format").

A corpus is a thin wrapper around the MMSA layout: a dict of splits
(``train``, ``valid``, ``test``) each holding a dict of equal-length columns
(``id``, ``raw_text``, ``regression_labels`` ... see ``../shared`` and chapter 2).
``corpus["train"]["audio"]`` is exactly what ``pickle.load`` gives for an MMSA
feature file, so code written against the book runs on MMSA's files and back.

Besides the splits, a corpus knows its name, the names of the audio and vision
feature columns, and the label range (3 for MOSI-style [-3, 3], 1 for SIMS).

A corpus checks its splits when it is built (:meth:`Corpus.validate`): every
column of a split has one row per utterance, labels and features are finite,
and ``audio_lengths``/``vision_lengths``/``text_lengths`` are whole numbers
between 0 and the sequence length. Bad data raises
:class:`~mmsa_helpers.errors.MMSADataError` naming the split, the key and the
first rows, instead of failing later with an ``IndexError`` or being silently
capped. MMSA's own files hold ``-inf`` in some audio frames, which MMSA sets to
0: :func:`~mmsa_helpers.pickle_io.validate_mmsa` (what the loaders call) does
the same, with a warning, before the corpus is built; a corpus built directly
from a raw pickle refuses ``-inf`` and says to pass the data through it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConfigError, MMSADataError

SPLITS = ("train", "valid", "test")

#: MMSA keys holding one row per utterance (first axis = utterance).
MMSA_LABEL_KEYS = ("regression_labels", "regression_labels_T", "regression_labels_A", "regression_labels_V")
#: Unimodal label key per modality letter.
UNIMODAL_LABEL_KEY = {"T": "regression_labels_T", "A": "regression_labels_A", "V": "regression_labels_V"}
#: Frame-feature keys: (N, L, D) arrays whose values must be finite.
FEATURE_KEYS = ("text", "audio", "vision")
#: Length keys and the sequence they count the real (unpadded) steps of.
LENGTH_KEYS = {"text_lengths": "text", "audio_lengths": "audio", "vision_lengths": "vision"}


def _rows(mask: np.ndarray) -> str:
    """``"rows [1, 4, 9] "`` (the first five indices where ``mask`` holds, then "...")."""
    idx = np.flatnonzero(mask)
    return f"rows {idx[:5].tolist()}{' ...' if idx.size > 5 else ''}"


def _all_finite(arr: np.ndarray) -> bool:
    """True when no value is NaN or infinite. The sum is non-finite as soon as one value is and
    needs no temporary array the size of ``arr`` (MOSEI's audio is 2.4 GB); only when it is
    non-finite (or overflows) is every value looked at."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(arr)):
            return True
    return bool(np.isfinite(arr).all())


def _check_split(name: str, split: str, d: Any) -> None:
    """Raise :class:`MMSADataError` for the first problem of one split (see :meth:`Corpus.validate`)."""
    where = f"{name!r} split {split!r}"
    if not isinstance(d, dict):
        raise MMSADataError(f"{where} is a {type(d).__name__}, not a dict of columns; each split maps "
                            "'id', 'raw_text', 'regression_labels' ... to one value per utterance")
    columns = {k: v for k, v in d.items()
               if not isinstance(v, (str, bytes)) and hasattr(v, "__len__")
               and not (isinstance(v, np.ndarray) and v.ndim == 0)}
    if not columns:
        return
    ref = "id" if "id" in columns else next(iter(columns))
    n = len(columns[ref])
    wrong = {k: len(v) for k, v in columns.items() if len(v) != n}
    if wrong:
        raise MMSADataError(
            f"{where}: the columns have different numbers of rows: {ref!r} has {n}, but "
            + ", ".join(f"{k!r} has {m}" for k, m in wrong.items())
            + ". Fix: every key of a split needs one row per utterance, in the same order; "
              "rebuild or drop those keys (e.g. after filtering the utterances, filter every column)")
    for key in MMSA_LABEL_KEYS:
        if key not in d:
            continue
        y = np.asarray(d[key])
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.number):
            raise MMSADataError(f"{where}, key {key!r}: expected one number per utterance (shape ({n},)), "
                                f"found shape {y.shape} and dtype {y.dtype}. Fix: store the labels as a "
                                "float vector, e.g. np.asarray(labels, dtype=np.float32).ravel()")
        if not _all_finite(y):
            bad = ~np.isfinite(y)
            raise MMSADataError(
                f"{where}, key {key!r}: {int(bad.sum())} of {n} labels are NaN or infinite ({_rows(bad)}). "
                "Fix: drop those utterances or fix their labels; a split without labels (e.g. data to "
                f"predict on) leaves the key {key!r} out instead of filling it with NaN")
    for key in (*FEATURE_KEYS, "text_bert"):
        x = d.get(key)
        if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating) or x.size == 0:
            continue
        if _all_finite(x):
            continue
        flat = x.reshape(len(x), -1)
        nan_rows, pos_rows = np.isnan(flat).any(axis=1), np.isposinf(flat).any(axis=1)
        neg_rows = np.isneginf(flat).any(axis=1)
        if nan_rows.any() or pos_rows.any() or key != "audio":
            bad = nan_rows | pos_rows | neg_rows
            kind = "NaN" if nan_rows.any() else "infinite"
            raise MMSADataError(
                f"{where}, key {key!r}: {int(bad.sum())} of {n} utterances have {kind} feature values "
                f"({_rows(bad)}). Fix: find where they come from (a failed feature extractor?); drop "
                "those utterances, or replace the values you understand, e.g. np.nan_to_num(x, nan=0.0)")
        raise MMSADataError(
            f"{where}, key 'audio': {int(neg_rows.sum())} of {n} utterances have -inf values ({_rows(neg_rows)}). "
            "MMSA's feature files hold -inf in some audio frames and MMSA sets them to 0. Fix: pass the "
            "data through mmsa_helpers.pickle_io.validate_mmsa (load_mmsa_dataset does), which does the same")
    for key, modality in LENGTH_KEYS.items():
        if key not in d:
            continue
        lengths = np.asarray(d[key])
        if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.number) or not _all_finite(lengths) \
                or np.any(lengths % 1 != 0):
            raise MMSADataError(f"{where}, key {key!r}: expected whole frame counts of shape ({n},), found "
                                f"shape {lengths.shape} and dtype {lengths.dtype}. Fix: store the number of real "
                                "(unpadded) steps of each utterance as integers")
        x = d.get(modality)
        steps = x.shape[1] if isinstance(x, np.ndarray) and x.ndim >= 2 else None
        bad = (lengths < 0) | ((lengths > steps) if steps is not None else False)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            limit = f"0..{steps}, the number of steps of {modality!r}" if steps is not None else "0 or more"
            raise MMSADataError(
                f"{where}, key {key!r}: {int(bad.sum())} of {n} lengths lie outside {limit} ({_rows(bad)}; "
                f"row {i} has {lengths[i]:g}). Fix: lengths count the real steps before padding; "
                f"recompute them, or pad {modality!r} to the longest sequence instead of cutting it")


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

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> "Corpus":
        """Check every split; called when the corpus is built, call it again after editing splits.

        Raises :class:`~mmsa_helpers.errors.MMSADataError`, naming the split, the key and the
        first rows, when a split's columns have different numbers of rows; when a label
        (``regression_labels``, ``regression_labels_T/A/V``) is NaN or infinite (an unlabelled
        split leaves the key out); when ``text``, ``audio``, ``vision`` or ``text_bert`` hold NaN
        or infinite values (``-inf`` in audio: see the module's docstring); or when
        ``text_lengths``/``audio_lengths``/``vision_lengths`` are not whole numbers between 0
        and the sequence length. Vectorised checks: milliseconds on the embedded corpus.
        """
        if not isinstance(self.splits, dict):
            raise MMSADataError(f"{self.name!r}: splits must be a dict such as {{'train': {{...}}, 'valid': "
                                f"{{...}}, 'test': {{...}}}}, not a {type(self.splits).__name__}")
        for split, d in self.splits.items():
            _check_split(self.name, split, d)
        return self

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
            raise ConfigError(f"modality must be one of 'M', 'T', 'A', 'V', got {modality!r}")
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
