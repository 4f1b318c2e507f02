"""Safe loading, validation and export of MMSA feature pickles (chapter 2).

MMSA (the field's reference toolkit) stores every dataset as one pickle holding
``{"train": {...}, "valid": {...}, "test": {...}}`` with numpy arrays and lists
inside (see chapter 2 for the keys). Pickle can run arbitrary code while it
loads, so :func:`load_mmsa_pickle` by default rebuilds only numpy arrays,
numbers, strings and containers, and refuses anything else.

- :func:`load_mmsa_pickle` -- restricted (safe) or trusted loading
- :func:`validate_mmsa`    -- structural checks with messages that say how to fix
- :func:`save_mmsa_pickle` -- write a pickle the safe loader can read back
- :func:`write_label_csv`  -- MMSA's ``label.csv``
- :func:`export_mmsa`      -- a complete MMSA dataset folder
"""
from __future__ import annotations

import importlib
import os
import pickle
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import MMSA_LABEL_KEYS, SPLITS, UNIMODAL_LABEL_KEY, Corpus
from .errors import DatasetNotFoundError, MMSADataError, UnsafePickleError

# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

#: Builtins a data pickle may name (``__builtin__`` is the Python 2 spelling).
_SAFE_BUILTINS = {
    "list", "dict", "set", "frozenset", "tuple", "str", "int", "float",
    "complex", "bool", "bytes", "bytearray",
}
#: numpy internals that rebuild arrays, dtypes and scalars. Pickles written with
#: numpy 1.x name them ``numpy.core.*``; numpy 2 writes ``numpy._core.*``.
_SAFE_NUMPY = {
    ("multiarray", "_reconstruct"),   # ndarray
    ("multiarray", "scalar"),         # numpy scalars such as np.float32(1.0)
    ("numeric", "_frombuffer"),       # ndarray, pickle protocol 5
}
_SAFE_OTHER = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),            # bytes inside protocol-2 pickles
}


def _numpy_submodule(module: str) -> str | None:
    """``"numpy.core.multiarray"`` or ``"numpy._core.multiarray"`` -> ``"multiarray"``."""
    for prefix in ("numpy.core.", "numpy._core."):
        if module.startswith(prefix):
            return module[len(prefix):]
    return None


def _import_numpy_internal(sub: str, name: str) -> Any:
    """Look up numpy's own function under its new name first, then the old one
    (avoids numpy 2's deprecation warning for ``numpy.core`` and works on numpy 1.x)."""
    for base in ("numpy._core", "numpy.core"):
        try:
            return getattr(importlib.import_module(f"{base}.{sub}"), name)
        except (ImportError, AttributeError):
            continue
    raise UnsafePickleError(f"numpy has no {sub}.{name}; the pickle needs another numpy version")


class _RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds arrays, numbers, strings and containers only."""

    def find_class(self, module: str, name: str) -> Any:
        sub = _numpy_submodule(module)
        if sub is not None and (sub, name) in _SAFE_NUMPY:
            return _import_numpy_internal(sub, name)
        if module in ("builtins", "__builtin__") and name in _SAFE_BUILTINS:
            return super().find_class("builtins", name)
        if (module, name) in _SAFE_OTHER:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"refused to load '{module}.{name}': this pickle wants to build an object that "
            "is not an array, number, string or container, and loading it could run code. "
            "Only load pickles you trust; if you trust this file call "
            "load_mmsa_pickle(path, trusted=True) (or pass --trusted on the command line)."
        )


def load_mmsa_pickle(path: str | os.PathLike, trusted: bool = False) -> dict:
    """Load an MMSA feature pickle.

    With ``trusted=False`` (the default) only numpy arrays, numpy scalars,
    numbers, strings and the standard containers are rebuilt; anything else
    raises :class:`UnsafePickleError` before any of its code can run.
    ``trusted=True`` uses plain :func:`pickle.load`: only for files you trust.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetNotFoundError(
            f"no pickle at {path} ({'a folder' if path.is_dir() else 'the path does not exist'}); "
            "check the data root and the file name (e.g. Processed/unaligned_50.pkl)"
        )
    with open(path, "rb") as f:
        loader = pickle.Unpickler(f) if trusted else _RestrictedUnpickler(f)
        try:
            data = loader.load()
        except UnsafePickleError:
            raise
        except Exception as e:  # truncated, corrupt, or not a pickle at all
            raise MMSADataError(
                f"{path} is not a valid pickle ({type(e).__name__}: {e}); the file may be "
                "truncated (an interrupted download?) or in another format"
            ) from e
    if not isinstance(data, dict):
        raise MMSADataError(
            f"{path} holds a {type(data).__name__}, but an MMSA pickle holds a dict with "
            "the splits 'train', 'valid' and 'test'"
        )
    return data


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

_FEATURE_KEYS = ("text", "audio", "vision")
_LENGTH_KEYS = {"audio_lengths": "audio", "vision_lengths": "vision"}


def _fail(name: str, split: str, key: str | None, problem: str, fix: str) -> MMSADataError:
    where = f"{name}[{split!r}]" + (f"[{key!r}]" if key else "")
    return MMSADataError(f"{where}: {problem}. Fix: {fix}")


def _rename_dev(data: dict, name: str) -> dict:
    """Copy of ``data`` with ``dev`` renamed to ``valid`` (with a warning)."""
    if "dev" not in data:
        return dict(data)
    if "valid" in data:
        raise MMSADataError(
            f"{name} has both a 'dev' and a 'valid' split; MMSA expects only 'valid'. "
            "Fix: delete or merge one of them"
        )
    warnings.warn(f"{name}: split 'dev' renamed to 'valid' (MMSA's name for it)", stacklevel=3)
    return {("valid" if k == "dev" else k): v for k, v in data.items()}


def _check_lengths_agree(split_data: dict, name: str, split: str) -> int:
    n = len(split_data["id"])
    for key, value in split_data.items():
        if hasattr(value, "__len__") and not isinstance(value, (str, bytes)) and len(value) != n:
            raise _fail(
                name, split, key,
                f"has {len(value)} rows but 'id' has {n}",
                "every key of a split needs one row per utterance; rebuild the key or drop it",
            )
    return n


def _as_label_vector(value: Any, name: str, split: str, key: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.number):
        raise _fail(name, split, key, f"expected a numeric vector of shape (N,), found shape "
                    f"{arr.shape} and dtype {arr.dtype}", "store one float per utterance")
    return arr


def _check_labels(arr: np.ndarray, label_range: float, name: str, split: str, key: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        raise _fail(name, split, key, f"{int(bad.sum())} labels are NaN or infinite "
                    f"(first at index {int(np.argmax(bad))})", "drop those utterances or fix the labels")
    out = np.abs(arr) > label_range + 1e-6
    if out.any():
        i = int(np.argmax(out))
        raise _fail(name, split, key, f"{int(out.sum())} labels lie outside [-{label_range:g}, "
                    f"{label_range:g}] (first: index {i}, value {arr[i]:g})",
                    "pass the right label_range (1 for SIMS, 3 for MOSI/MOSEI) or rescale the labels")


def _check_feature(value: Any, name: str, split: str, key: str) -> np.ndarray:
    arr = np.asarray(value)
    want_rank = "(N, 3, L)" if key == "text_bert" else "(N, L, D)"
    if arr.ndim != 3 or (key == "text_bert" and arr.shape[1] != 3):
        raise _fail(name, split, key, f"expected a 3-D array {want_rank}, found shape {arr.shape}",
                    "pad the sequences to a common length and stack them (see chapter 2)")
    if not np.issubdtype(arr.dtype, np.number):
        raise _fail(name, split, key, f"expected numbers, found dtype {arr.dtype}",
                    "convert the features with np.asarray(x, dtype=np.float32)")
    return arr


def _clean_non_finite(arr: np.ndarray, name: str, split: str, key: str) -> tuple[np.ndarray, int]:
    """Raise on NaN/+inf; replace -inf by 0 in audio (as MMSA does). Returns (array, replaced)."""
    if not np.issubdtype(arr.dtype, np.floating):
        return arr, 0
    n_nan = int(np.isnan(arr).sum())
    if n_nan:
        raise _fail(name, split, key, f"{n_nan} NaN values (expected finite numbers)",
                    "find where they come from; if you know what they mean, replace them with "
                    "np.nan_to_num(x, nan=0.0)")
    n_pos = int(np.isposinf(arr).sum())
    n_neg = int(np.isneginf(arr).sum())
    if n_pos or (n_neg and key != "audio"):
        raise _fail(name, split, key, f"{n_pos + (n_neg if key != 'audio' else 0)} infinite values "
                    "(expected finite numbers; only -inf in audio is set to 0, as MMSA does)",
                    "infinite features break training; replace them, e.g. with np.nan_to_num")
    if n_neg:
        arr = arr.copy()  # never modify the caller's array
        arr[np.isneginf(arr)] = 0
    return arr, n_neg


def _check_seq_lengths(split_data: dict, name: str, split: str) -> None:
    for key, modality in _LENGTH_KEYS.items():
        if key not in split_data:
            continue
        lengths = np.asarray(split_data[key])
        seq_len = split_data[modality].shape[1] if modality in split_data else None
        numeric = np.issubdtype(lengths.dtype, np.number) and lengths.ndim == 1
        if not numeric or not np.all(np.isfinite(lengths)) or np.any(lengths % 1 != 0):
            raise _fail(name, split, key, f"expected whole numbers of shape (N,), found shape "
                        f"{lengths.shape}, dtype {lengths.dtype}", "store the integer frame counts")
        bad = (lengths < 0) | (lengths > seq_len if seq_len is not None else False)
        if bad.any():
            i = int(np.argmax(bad))
            raise _fail(name, split, key, f"index {i} has length {lengths[i]:g}, expected 0..{seq_len} "
                        f"(the sequence length of {modality!r})",
                        "lengths count the real frames before padding; recompute them")


def _check_alignment(split_data: dict, aligned: bool | None, require_features: bool,
                     name: str, split: str) -> None:
    if aligned is True:
        seq = {k: split_data[k].shape[1] for k in _FEATURE_KEYS if k in split_data}
        if len(set(seq.values())) > 1:
            raise _fail(name, split, None, f"aligned data must share one sequence length, found {seq}",
                        "pass aligned=False for unaligned features")
    elif aligned is False and require_features:
        missing = [k for k in _LENGTH_KEYS if k not in split_data]
        if missing:
            raise _fail(name, split, None, f"unaligned data needs {missing} (MMSA uses them to "
                        "ignore padding)", "add the frame counts, or pass aligned=True/None")


def _validate_split(split_data: Any, *, name: str, split: str, label_range: float,
                    aligned: bool | None, require_features: bool) -> tuple[dict, int]:
    if not isinstance(split_data, dict):
        raise _fail(name, split, None, f"expected a dict of keys, found {type(split_data).__name__}",
                    "each split maps 'id', 'raw_text', 'regression_labels' ... to per-utterance values")
    required = ["id", "raw_text", "regression_labels"] + (list(_FEATURE_KEYS) if require_features else [])
    missing = [k for k in required if k not in split_data]
    if missing:
        raise _fail(name, split, None, f"missing keys {missing}; it has {sorted(split_data)}",
                    "add them (see chapter 2), or pass require_features=False for text-only data")
    out = dict(split_data)
    _check_lengths_agree(out, name, split)
    for key in MMSA_LABEL_KEYS:
        if key in out:
            out[key] = _as_label_vector(out[key], name, split, key)
            _check_labels(out[key], label_range, name, split, key)
    replaced = 0
    for key in (*_FEATURE_KEYS, "text_bert"):
        if key in out:
            out[key], n = _clean_non_finite(_check_feature(out[key], name, split, key), name, split, key)
            replaced += n
    _check_seq_lengths(out, name, split)
    _check_alignment(out, aligned, require_features, name, split)
    return out, replaced


def validate_mmsa(data: dict, *, name: str = "dataset", label_range: float = 3.0,
                  aligned: bool | None = None, require_features: bool = True) -> dict:
    """Check that ``data`` has MMSA's structure and return a cleaned copy.

    Never mutates ``data``: modified arrays (labels of shape ``(N, 1)``
    squeezed, ``-inf`` in audio set to 0 as MMSA does) are copies.
    ``aligned=True`` checks that text, audio and vision share a length;
    ``aligned=False`` requires ``audio_lengths``/``vision_lengths``;
    ``None`` checks the lengths only where they are present.
    Raises :class:`MMSADataError` saying split, key, what was expected and found,
    and how to fix it.
    """
    if not isinstance(data, dict):
        raise MMSADataError(f"{name}: expected a dict of splits, found {type(data).__name__}")
    out = _rename_dev(data, name)
    missing = [s for s in SPLITS if s not in out]
    if missing:
        raise MMSADataError(f"{name}: missing splits {missing}; it has {sorted(out)}. Fix: MMSA "
                            "expects 'train', 'valid' and 'test' (a 'dev' split is renamed to 'valid')")
    replaced = {}
    for split in SPLITS:
        out[split], replaced[split] = _validate_split(
            out[split], name=name, split=split, label_range=label_range,
            aligned=aligned, require_features=require_features)
    if any(replaced.values()):
        counts = ", ".join(f"{s}: {n}" for s, n in replaced.items())
        warnings.warn(f"{name}: replaced -inf in 'audio' by 0, as MMSA does ({counts})", stacklevel=2)
    return out


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

_SAFE_LEAVES = (str, bytes, bytearray, int, float, complex, bool, type(None), np.generic)


def _check_writable(obj: Any, where: str) -> None:
    """Raise if ``obj`` holds anything the safe loader would refuse."""
    if isinstance(obj, _SAFE_LEAVES):
        return
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            for i, item in enumerate(obj.ravel()):
                _check_writable(item, f"{where}[{i}]")
        return
    if type(obj) in (dict, OrderedDict):
        for k, v in obj.items():
            _check_writable(k, f"{where} key {k!r}")
            _check_writable(v, f"{where}[{k!r}]")
        return
    if type(obj) in (list, tuple, set, frozenset):
        for i, item in enumerate(obj):
            _check_writable(item, f"{where}[{i}]")
        return
    hint = " (use .detach().cpu().numpy())" if type(obj).__module__.startswith("torch") else \
        " (use .to_numpy())" if type(obj).__module__.startswith("pandas") else ""
    raise MMSADataError(
        f"{where} is a {type(obj).__module__}.{type(obj).__qualname__}, which load_mmsa_pickle "
        f"would refuse; convert it to a numpy array, list or number{hint}"
    )


def save_mmsa_pickle(data: dict | Corpus, path: str | os.PathLike) -> Path:
    """Write ``data`` (a dict of splits, or a :class:`Corpus`) as an MMSA pickle (protocol 4).

    Creates parent folders and refuses objects that :func:`load_mmsa_pickle`
    could not read back safely. Returns the path written.
    """
    if isinstance(data, Corpus):
        data = data.to_mmsa()
    if not isinstance(data, dict):
        raise MMSADataError(f"an MMSA pickle holds a dict of splits, got {type(data).__name__}")
    _check_writable(data, "data")
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        pickle.dump(data, f, protocol=4)
    tmp.replace(path)  # no half-written file if interrupted
    return path


def _annotation(label: float) -> str:
    return "Positive" if label > 0 else "Negative" if label < 0 else "Neutral"


def _label_rows(split: str, d: dict) -> list[dict]:
    missing = [k for k in ("id", "raw_text", "regression_labels") if k not in d]
    if missing:
        raise MMSADataError(f"split {split!r} lacks {missing}, needed for label.csv")
    labels = np.asarray(d["regression_labels"], dtype=float).reshape(-1)
    rows = []
    for i, uid in enumerate(d["id"]):
        video, _, clip = str(uid).partition("$_$")
        row = {"video_id": video, "clip_id": clip, "text": d["raw_text"][i], "label": labels[i]}
        for m, key in UNIMODAL_LABEL_KEY.items():
            row[f"label_{m}"] = float(np.asarray(d[key]).reshape(-1)[i]) if key in d else ""
        row.update(annotation=_annotation(labels[i]), mode=split)
        rows.append(row)
    return rows


def write_label_csv(corpus_or_data: Corpus | dict, path: str | os.PathLike) -> Path:
    """Write MMSA's ``label.csv`` (video_id, clip_id, text, label, label_T/A/V, annotation, mode).

    Ids are split on ``$_$`` into video and clip; ``label_T/A/V`` stay empty when
    the data has no unimodal labels; ``annotation`` is the sign of ``label``.
    """
    import pandas as pd

    splits = corpus_or_data.splits if isinstance(corpus_or_data, Corpus) else corpus_or_data
    rows = [row for s in SPLITS if s in splits for row in _label_rows(s, splits[s])]
    columns = ["video_id", "clip_id", "text", "label", "label_T", "label_A", "label_V",
               "annotation", "mode"]
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False, float_format="%.6g")
    return path


def export_mmsa(unaligned: Corpus, aligned: Corpus, out_dir: str | os.PathLike,
                name: str) -> dict[str, Path]:
    """Write a dataset folder MMSA can train on.

    ``out_dir/<NAME>/Processed/unaligned_50.pkl``, ``.../aligned_50.pkl`` and
    ``out_dir/<NAME>/label.csv``; both corpora are validated first and must hold
    the same utterance ids. Returns ``{"unaligned": ..., "aligned": ..., "label_csv": ...}``.
    The number in the file names is MMSA's: 50, or 39 for CH-SIMS's layout (the name
    ``sims``, or a corpus whose ``info["mmsa_steps"]`` is 39, as the Chinese synthetic one).
    """
    folder = Path(out_dir).expanduser() / name.upper()
    steps = int(unaligned.info.get("mmsa_steps") or (39 if name.lower() == "sims" else 50))
    for split in SPLITS:
        if list(unaligned[split]["id"]) != list(aligned[split]["id"]):
            raise MMSADataError(f"the unaligned and aligned corpora hold different ids in {split!r}; "
                                "export two versions of the same corpus")
    checked = {
        "unaligned": validate_mmsa(unaligned.to_mmsa(), name=f"{name} (unaligned)",
                                   label_range=unaligned.label_range, aligned=False),
        "aligned": validate_mmsa(aligned.to_mmsa(), name=f"{name} (aligned)",
                                 label_range=aligned.label_range, aligned=True),
    }
    paths = {kind: save_mmsa_pickle(data, folder / "Processed" / f"{kind}_{steps}.pkl")
             for kind, data in checked.items()}
    paths["label_csv"] = write_label_csv(checked["unaligned"], folder / "label.csv")
    return paths


__all__ = [
    "load_mmsa_pickle", "validate_mmsa", "save_mmsa_pickle", "write_label_csv", "export_mmsa",
]
