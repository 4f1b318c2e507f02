"""Loaders for the real datasets: CMU-MOSI, CMU-MOSEI, CH-SIMS, MELD and EMO-DB.

None of these datasets ships with the book (their licences do not allow it);
readers download them and put them under a *data root*:

- the ``root`` argument, else
- the environment variable ``MMSA_DATA_ROOT``, else
- ``~/mmsa_data``.

Expected layout (folder names in upper case as MMSA writes them; the
lower-case spelling, e.g. ``mosi/``, is accepted too)::

    <root>/MOSI/label.csv                    MOSI, MOSEI: MMSA's layout
    <root>/MOSI/Processed/unaligned_50.pkl
    <root>/MOSI/Processed/aligned_50.pkl
    <root>/SIMS/Processed/unaligned_39.pkl   SIMS: unaligned only
    <root>/MELD/{train,dev,test}_sent_emo.csv
    <root>/EMODB/wav/03a01Fa.wav ...         (EMO-DB: also the unpacked download, <root>/wav/)

Every loader returns a :class:`~mmsa_helpers.corpus.Corpus`; when files are
missing, :class:`~mmsa_helpers.errors.DatasetNotFoundError` lists each path it
looked at and says where to obtain the data.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .corpus import SPLITS, Corpus
from .errors import ConfigError, DatasetNotFoundError, MMSADataError

ENV_VAR = "MMSA_DATA_ROOT"
DEFAULT_ROOT = "~/mmsa_data"

#: MMSA pickle file name per dataset and alignment (SIMS exists unaligned only).
PICKLES = {
    "mosi": {False: "unaligned_50.pkl", True: "aligned_50.pkl"},
    "mosei": {False: "unaligned_50.pkl", True: "aligned_50.pkl"},
    "sims": {False: "unaligned_39.pkl"},
}
LABEL_RANGE = {"mosi": 3.0, "mosei": 3.0, "sims": 1.0}
_MODE_ALIASES = {"train": "train", "valid": "valid", "dev": "valid", "validation": "valid",
                 "val": "valid", "test": "test"}


# ---------------------------------------------------------------------------
# Data root and "not found" messages
# ---------------------------------------------------------------------------

def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: ``root`` if given, else ``$MMSA_DATA_ROOT``, else ``~/mmsa_data``."""
    if root is None:
        root = os.environ.get(ENV_VAR) or DEFAULT_ROOT
    return Path(root).expanduser()


def _root_origin(root: str | os.PathLike | None) -> str:
    if root is not None:
        return "the root argument"
    if os.environ.get(ENV_VAR):
        return f"the environment variable {ENV_VAR}"
    return f"the default, since neither the root argument nor {ENV_VAR} is set"


def _dataset_dirs(root: Path, folder: str) -> list[Path]:
    """Candidate folders: MMSA's upper-case name, then the lower-case one."""
    return [root / folder, root / folder.lower()]


def _where_to_get(name: str) -> str:
    """Source and licence from the catalog (chapter 1), if it has an entry."""
    try:
        from .catalog import DATASETS

        facts = DATASETS[name]
        return f"Obtain {facts.title} from {facts.url} (licence: {facts.licence}); layout: {facts.layout}."
    except Exception:  # catalog missing or incomplete: still give a useful message
        return "Chapter 1 of the book lists where to obtain it and under which licence."


def _not_found(name: str, root: str | os.PathLike | None, looked_at: list[Path],
               extra: str = "") -> DatasetNotFoundError:
    paths = "\n".join(f"  - {p}" for p in looked_at)
    return DatasetNotFoundError(
        f"{name} not found. Looked at:\n{paths}\n"
        f"The data root {data_root(root)} comes from {_root_origin(root)}; pass root=... or set "
        f"{ENV_VAR} to use another folder.{(' ' + extra) if extra else ''}\n{_where_to_get(name)}"
    )


# ---------------------------------------------------------------------------
# label.csv (MOSI, MOSEI, SIMS)
# ---------------------------------------------------------------------------

def _file_rows(mask: Any) -> list[int]:
    """Line numbers in the file of the rows where ``mask`` holds (header = line 1)."""
    return [int(i) + 2 for i in np.flatnonzero(np.asarray(mask))]


def _split_third_party_id(uid: str) -> tuple[str, str]:
    """``"abcXYZ_1"`` -> ``("abcXYZ", "1")``; also accepts MMSA's ``video$_$clip``."""
    if "$_$" in uid:
        video, _, clip = uid.partition("$_$")
    else:
        video, _, clip = uid.rpartition("_")
    return video, clip


def read_label_csv(path: str | os.PathLike):
    """Read an MMSA ``label.csv`` into a DataFrame with columns
    ``id, video_id, clip_id, text, label, label_T, label_A, label_V, mode``.

    Accepts MMSA's ``video_id``/``clip_id`` columns or a single third-party ``id``
    column (``video_clip``, split on the last underscore); ``mode`` values
    ``dev``/``validation`` become ``valid``. ``id`` is MMSA's ``video$_$clip``.
    Unimodal labels are NaN when the file has none.
    """
    import pandas as pd

    path = Path(path).expanduser()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)  # keep texts like "nan" as text
    have = list(df.columns)
    ids_ok = {"video_id", "clip_id"} <= set(have) or "id" in have
    missing = [c for c in ("text", "label", "mode") if c not in have]
    if missing or not ids_ok:
        need = missing + ([] if ids_ok else ["video_id + clip_id (or id)"])
        raise MMSADataError(f"{path}: missing columns {need}; it has {have}; a label.csv needs "
                            "video_id, clip_id (or id), text, label and mode")
    if {"video_id", "clip_id"} <= set(have):
        video, clip = df["video_id"].str.strip(), df["clip_id"].str.strip()
    else:
        parts = [_split_third_party_id(u.strip()) for u in df["id"]]
        video = pd.Series([v for v, _ in parts], dtype=str)
        clip = pd.Series([c for _, c in parts], dtype=str)
    out = pd.DataFrame({"id": [f"{v}$_${c}" if c else v for v, c in zip(video, clip)],
                        "video_id": video.values, "clip_id": clip.values, "text": df["text"].values})
    out["label"] = _numeric_column(df, "label", path, required=True)
    for m in "TAV":
        col = f"label_{m}"
        out[col] = _numeric_column(df, col, path, required=False) if col in have else np.nan
    out["mode"] = _normalise_modes(df["mode"], path)
    return out


def _numeric_column(df, col: str, path: Path, required: bool) -> np.ndarray:
    import pandas as pd

    text = df[col].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = (np.isnan(values) & ((text != "") | required)) | np.isinf(values)
    if bad.any():
        rows = _file_rows(bad)
        raise MMSADataError(f"{path}: column {col!r} is not a number on {len(rows)} rows "
                            f"(file lines {rows[:10]}{' ...' if len(rows) > 10 else ''}); "
                            "fix or remove those rows")
    return values


def _normalise_modes(modes, path: Path):
    norm = modes.str.strip().str.lower().map(_MODE_ALIASES)
    bad = norm.isna().to_numpy()
    if bad.any():
        unknown = sorted(set(modes[bad]))
        raise MMSADataError(f"{path}: unknown mode values {unknown[:10]} (file lines "
                            f"{_file_rows(bad)[:10]}); expected train, valid (or dev) and test")
    return norm.to_numpy()


def _corpus_from_labels(name: str, frame, source: Path) -> Corpus:
    """A text-only Corpus (id, raw_text, labels) from a normalised label frame."""
    from .pickle_io import validate_mmsa

    splits = {}
    for split in SPLITS:
        part = frame[frame["mode"] == split]
        d: dict[str, Any] = {"id": part["id"].tolist(), "raw_text": part["text"].tolist(),
                             "regression_labels": part["label"].to_numpy(np.float32)}
        for m in "TAV":
            if frame[f"label_{m}"].notna().all():
                d[f"regression_labels_{m}"] = part[f"label_{m}"].to_numpy(np.float32)
        splits[split] = d
    splits = validate_mmsa(splits, name=name, label_range=LABEL_RANGE[name], require_features=False)
    return Corpus(name=name, splits=splits, aligned=False, label_range=LABEL_RANGE[name],
                  info={"text_only": True, "source": str(source)})


# ---------------------------------------------------------------------------
# MOSI, MOSEI, SIMS
# ---------------------------------------------------------------------------

def _mmsa_paths(name: str, root: Path) -> dict[str, list[Path]]:
    """Candidate paths of label.csv and each pickle, MMSA's spelling first."""
    dirs = _dataset_dirs(root, name.upper())
    out = {"label_csv": [d / "label.csv" for d in dirs]}
    for is_aligned, fname in PICKLES[name].items():
        out["aligned" if is_aligned else "unaligned"] = [d / "Processed" / fname for d in dirs]
    return out


def _first_existing(paths: list[Path]) -> Path | None:
    return next((p for p in paths if p.is_file()), None)


def _check_mmsa_name(name: str) -> str:
    key = name.lower()
    if key not in PICKLES:
        raise ConfigError(f"unknown MMSA dataset {name!r}; choose one of {sorted(PICKLES)}")
    return key


def load_mmsa_dataset(name: str, root: str | os.PathLike | None = None, aligned: bool = False,
                      text_only: bool = False, trusted: bool = False) -> Corpus:
    """Load MOSI, MOSEI or SIMS from MMSA's files under the data root.

    ``text_only=True`` reads only ``label.csv`` (ids, transcripts, labels; no
    features). Otherwise the feature pickle is required: ``Processed/aligned_50.pkl``
    or ``Processed/unaligned_50.pkl`` (SIMS: ``unaligned_39.pkl``, no aligned
    version). It is loaded safely (see ``trusted`` in
    :func:`~mmsa_helpers.pickle_io.load_mmsa_pickle`) and validated.
    """
    from .pickle_io import load_mmsa_pickle, validate_mmsa

    name = _check_mmsa_name(name)
    base = data_root(root)
    paths = _mmsa_paths(name, base)
    if text_only:
        csv = _first_existing(paths["label_csv"])
        if csv is None:
            raise _not_found(name, root, paths["label_csv"])
        return _corpus_from_labels(name, read_label_csv(csv), csv)
    kind = "aligned" if aligned else "unaligned"
    if kind not in paths:
        raise MMSADataError(f"{name} is distributed unaligned only; use aligned=False")
    pkl = _first_existing(paths[kind])
    if pkl is None:
        hint = ("label.csv is there: text_only=True loads the transcripts and labels."
                if _first_existing(paths["label_csv"]) else "")
        raise _not_found(name, root, paths[kind], hint)
    data = validate_mmsa(load_mmsa_pickle(pkl, trusted=trusted), name=name,
                         label_range=LABEL_RANGE[name], aligned=aligned)
    return Corpus(name=name, splits={s: data[s] for s in SPLITS}, aligned=aligned,
                  label_range=LABEL_RANGE[name], info={"text_only": False, "source": str(pkl)})


# ---------------------------------------------------------------------------
# MELD
# ---------------------------------------------------------------------------

MELD_EMOTIONS = ["neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear"]
MELD_SENTIMENT = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
MELD_FILES = {"train": "train_sent_emo.csv", "valid": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}
MELD_COLUMNS = ["Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID"]

#: Some copies of MELD's CSVs carry Windows-1252 punctuation as stray control
#: characters (``\x92`` for ’) or as UTF-8 read with the wrong encoding
#: (``â€™`` or ``â\x80\x99`` for ’). ``fix_meld_text`` puts back the character
#: meant, so a damaged copy gives the same text as the clean UTF-8 release.
#: Rows are never dropped.
MELD_PUNCTUATION = "\u2018\u2019\u201c\u201d\u2026\u2013\u2014"  # ‘ ’ “ ” … – —


def _mojibake_table() -> dict[str, str]:
    table = {}
    for ch in MELD_PUNCTUATION:
        utf8 = ch.encode("utf-8")
        table[ch.encode("cp1252").decode("latin-1")] = ch      # '\x92' -> ’
        table[utf8.decode("latin-1")] = ch                      # 'â\x80\x99' -> ’
        table["".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in utf8)] = ch  # 'â€™' -> ’
    return table


MELD_MOJIBAKE = _mojibake_table()
_MOJIBAKE_RE = re.compile("|".join(re.escape(k) for k in sorted(MELD_MOJIBAKE, key=len, reverse=True)))


def fix_meld_text(text: str) -> str:
    """Replace the known mojibake of MELD's CSVs (see ``MELD_MOJIBAKE``)."""
    return _MOJIBAKE_RE.sub(lambda m: MELD_MOJIBAKE[m.group(0)], text)


def _read_meld_csv(path: Path):
    import pandas as pd

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        warnings.warn(f"{path} is not UTF-8; read as Latin-1 and repaired the punctuation", stacklevel=3)
        text = raw.decode("latin-1")
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    missing = [c for c in MELD_COLUMNS if c not in df.columns]
    if missing:
        raise MMSADataError(f"{path}: missing columns {missing}; it has {list(df.columns)}; "
                            "is this one of MELD's *_sent_emo.csv files?")
    return df


def _meld_split(df, path: Path) -> dict[str, Any]:
    emotion = df["Emotion"].str.strip().str.lower()
    sentiment = df["Sentiment"].str.strip().str.lower()
    for col, values, allowed in (("Emotion", emotion, MELD_EMOTIONS), ("Sentiment", sentiment, MELD_SENTIMENT)):
        bad = ~values.isin(list(allowed))
        if bad.any():
            raise MMSADataError(f"{path}: unknown {col} values {sorted(set(values[bad]))[:10]} "
                                f"(file lines {_file_rows(bad)[:10]}); expected {list(allowed)}")
    try:
        dia = df["Dialogue_ID"].astype(int).to_numpy()
        utt = df["Utterance_ID"].astype(int).to_numpy()
    except ValueError as e:
        raise MMSADataError(f"{path}: Dialogue_ID/Utterance_ID must be whole numbers ({e})") from e
    return {
        "id": [f"dia{d}_utt{u}" for d, u in zip(dia, utt)],
        "raw_text": [fix_meld_text(t) for t in df["Utterance"]],
        "speaker": df["Speaker"].str.strip().tolist(),
        "emotion": emotion.tolist(),
        "sentiment": sentiment.tolist(),
        "regression_labels": sentiment.map(MELD_SENTIMENT).to_numpy(np.float32),
        "dialogue_id": dia,
        "utterance_id": utt,
    }


def _meld_paths(root: Path) -> list[dict[str, Path]]:
    return [{s: d / f for s, f in MELD_FILES.items()} for d in _dataset_dirs(root, "MELD")]


def load_meld(root: str | os.PathLike | None = None) -> Corpus:
    """Load MELD's text with emotion and sentiment labels.

    Reads ``<root>/MELD/{train,dev,test}_sent_emo.csv`` (``dev`` becomes
    ``valid``). Each split holds ``id`` (``dia{D}_utt{U}``), ``raw_text``,
    ``speaker``, ``emotion`` (7 classes), ``sentiment`` (positive, neutral,
    negative), ``regression_labels`` (sentiment as +1/0/-1) and the integer
    ``dialogue_id``/``utterance_id``.
    """
    candidates = _meld_paths(data_root(root))
    files = next((c for c in candidates if all(p.is_file() for p in c.values())), None)
    if files is None:
        raise _not_found("meld", root, [p for c in candidates for p in c.values()])
    splits = {s: _meld_split(_read_meld_csv(p), p) for s, p in files.items()}
    return Corpus(name="meld", splits=splits, aligned=False, label_range=1.0,
                  info={"emotion_classes": list(MELD_EMOTIONS),
                        "sentiment_classes": list(MELD_SENTIMENT),
                        "source": str(files["train"].parent)})


# ---------------------------------------------------------------------------
# EMO-DB
# ---------------------------------------------------------------------------

EMODB_EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
                  "F": "happiness", "T": "sadness", "N": "neutral"}
EMODB_FEMALE = {"08", "09", "13", "14", "16"}
EMODB_MALE = {"03", "10", "11", "12", "15"}
EMODB_SENTENCES = {"a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10"}
_EMODB_RE = re.compile(r"^(\d{2})([ab]\d{2})([WLEAFTN])([a-z])\.wav$", re.IGNORECASE)


def parse_emodb_name(filename: str | os.PathLike) -> dict[str, str]:
    """Decode an EMO-DB file name ``SSaNNEv.wav``, e.g. ``03a01Fa.wav``.

    Returns ``speaker`` ('03'), ``sentence`` ('a01'), ``letter`` ('F'),
    ``emotion`` ('happiness'), ``version`` ('a') and ``gender``. The file name is
    the authority: some third-party label tables for EMO-DB are wrong.
    """
    base = Path(filename).name
    m = _EMODB_RE.match(base)
    expected = ("expected an EMO-DB name SSaNNEv.wav: SS speaker (03, 08-16), aNN/bNN sentence, "
                "E emotion letter (W L E A F T N), v version letter, e.g. 03a01Fa.wav")
    if m is None:
        raise MMSADataError(f"{base!r} is not an EMO-DB file name; {expected}")
    speaker, sentence, letter, version = m.groups()
    sentence, letter = sentence.lower(), letter.upper()
    if speaker not in EMODB_FEMALE | EMODB_MALE or sentence not in EMODB_SENTENCES:
        raise MMSADataError(f"{base!r}: unknown speaker {speaker!r} or sentence {sentence!r}; {expected}")
    return {"speaker": speaker, "sentence": sentence, "letter": letter,
            "emotion": EMODB_EMOTIONS[letter], "version": version.lower(),
            "gender": "female" if speaker in EMODB_FEMALE else "male"}


#: Where the wav files of EMO-DB are looked for, in this order (``<root>`` = the data root); the
#: last two only for a root passed explicitly (``root=``, ``--data-root``, ``--eval-root``).
EMODB_LAYOUTS = (
    "the book's layout: EMODB/wav/ under the root, as in the README",
    "the same in lower case",
    "the root is the folder the official download unpacks to, holding wav/, lablaut/, silb/ ...",
    "the root is the folder of the wav files itself",
)


def _emodb_candidates(root: str | os.PathLike | None) -> list[Path]:
    """The folders of :data:`EMODB_LAYOUTS`."""
    base = data_root(root)
    dirs = [d / "wav" for d in _dataset_dirs(base, "EMODB")]
    return dirs + [base / "wav", base] if root is not None else dirs


def _wavs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".wav")


def _find_emodb_folder(root: str | os.PathLike | None) -> Path:
    candidates = _emodb_candidates(root)
    for folder in candidates:
        if folder.is_dir() and _wavs(folder):
            return folder
    empty = next((f for f in candidates if f.is_dir() and f.name == "wav"), None)
    if empty is not None:  # the layout is right but the files are not there (load_emodb says so)
        return empty
    tried = [f"{folder}  ({layout})" for folder, layout in zip(candidates, EMODB_LAYOUTS)]
    raise _not_found("emodb", root, tried,  # type: ignore[arg-type]
                     "None of these folders holds .wav files; point the root at a folder of one of these layouts.")


def load_emodb(root: str | os.PathLike | None = None, strict: bool = True) -> Corpus:
    """List the EMO-DB recordings (no audio is decoded here).

    Looks in ``<root>/EMODB/wav/`` (or ``emodb/wav``); a ``root`` passed
    explicitly may also be the folder the official download unpacks to (it
    holds ``wav/``) or the folder holding the wav files itself (see
    :data:`EMODB_LAYOUTS`; when none fits, the error lists every path tried). One split,
    ``"all"``, with ``id``, ``path``, ``speaker``, ``sentence``, ``emotion`` and
    ``gender`` per file, sorted by name; the speech chapter makes
    speaker-independent splits. Names that do not parse raise
    :class:`MMSADataError` (``strict=False``: skipped with a warning).
    """
    folder = _find_emodb_folder(root)
    wavs = _wavs(folder)
    if not wavs:
        raise MMSADataError(f"{folder} holds no .wav files; copy EMO-DB's wav/ folder there")
    rows, bad = [], []
    for p in wavs:
        try:
            rows.append({"id": p.stem, "path": str(p), **parse_emodb_name(p)})
        except ValueError:
            bad.append(p.name)
    if bad and (strict or not rows):
        raise MMSADataError(
            f"{folder}: {len(bad)} of {len(wavs)} .wav files are not named like EMO-DB's SSaNNEv.wav "
            f"(e.g. {bad[:5]}); rename or remove them" + (", or pass strict=False to skip them" if rows else ""))
    if bad:
        warnings.warn(f"{folder}: skipped {len(bad)} .wav files not named like EMO-DB's", stacklevel=2)
    split = {k: [r[k] for r in rows] for k in ("id", "path", "speaker", "sentence", "emotion", "gender")}
    return Corpus(name="emodb", splits={"all": split}, aligned=False, label_range=0.0,
                  info={"emotion_classes": list(EMODB_EMOTIONS.values()), "source": str(folder),
                        "speakers": sorted(set(split["speaker"]))})


# ---------------------------------------------------------------------------
# What is there?
# ---------------------------------------------------------------------------

def _mmsa_availability(key: str, base: Path) -> tuple[dict, list[Path], list[Path]]:
    paths = _mmsa_paths(key, base)
    flags = {kind: _first_existing(ps) is not None for kind, ps in paths.items()}
    out = {"text_only_available": flags["label_csv"],
           "unaligned_available": flags["unaligned"],
           "aligned_available": flags.get("aligned", False)}
    out["available"] = out["unaligned_available"] or out["aligned_available"]
    looked = [p for ps in paths.values() for p in ps]
    return out, looked, [p for p in looked if p.is_file()]


def _meld_availability(base: Path) -> tuple[dict, list[Path], list[Path]]:
    candidates = _meld_paths(base)
    looked = [p for c in candidates for p in c.values()]
    out = {"available": any(all(p.is_file() for p in c.values()) for c in candidates)}
    return out, looked, [p for p in looked if p.is_file()]


def _emodb_availability(root) -> tuple[dict, list[Path], list[Path]]:
    looked = _emodb_candidates(root)
    found = [f for f in looked if f.is_dir() and _wavs(f)]  # folders holding wav files
    out = {"available": bool(found), "n_files": len(_wavs(found[0])) if found else 0}
    return out, looked, found


def availability(name: str, root: str | os.PathLike | None = None) -> dict[str, Any]:
    """Which files of a dataset exist under the data root (nothing is loaded).

    Returns ``available``, ``looked_at`` and ``found`` (paths as strings).
    MOSI/MOSEI/SIMS also report ``text_only_available`` (label.csv),
    ``unaligned_available`` and ``aligned_available`` (the pickles); their
    ``available`` means a pickle is there. EMO-DB also reports ``n_files``.
    """
    key = name.lower()
    base = data_root(root)
    if key in PICKLES:
        out, looked, found = _mmsa_availability(key, base)
    elif key == "meld":
        out, looked, found = _meld_availability(base)
    elif key == "emodb":
        out, looked, found = _emodb_availability(root)
    else:
        raise ConfigError(f"unknown dataset {name!r}; choose one of {sorted([*PICKLES, 'meld', 'emodb'])}")
    return {"name": key, "root": str(base), **out,
            "looked_at": [str(p) for p in looked], "found": [str(p) for p in found]}


__all__ = [
    "data_root", "read_label_csv", "load_mmsa_dataset", "load_meld", "fix_meld_text",
    "parse_emodb_name", "load_emodb", "availability",
]
