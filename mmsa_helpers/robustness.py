"""Missing and noisy modalities, and the robustness measures of the field (chapter 13).

One function perturbs a corpus::

    >>> noisy = perturb(corpus, "audio", "noise", 0.3, seed=1111)
    >>> gone = perturb(corpus, "vision", "missing", 1.0)      # = drop(corpus, "vision")

It returns a new :class:`~mmsa_helpers.corpus.Corpus` in which only the keys of the
named modality (``"text"``, ``"audio"``, ``"vision"``, or ``"all"`` for the three)
change; the same seed gives the same corpus. Two kinds follow the two protocols
readers meet in papers, so the numbers can be compared with theirs:

``"missing"`` -- MMSA's missing-data simulation (``MMDataset.generate_m`` in
    ``src/MMSA/data_loader.py``, used by TFR-Net): ``np.random.seed(seed)``, one
    uniform draw per position of the padded ``(utterances, steps)`` array, a real
    position is kept when its draw is ``> level``. Missing audio and vision frames
    are set to 0; missing words become the unknown token in every text
    representation the models read: ``"[UNK]"`` in ``raw_text`` (what BERT's and
    MiniLM's tokenizers map to id 100, and no word of any vocabulary of the book),
    the zero vector in the ``text`` word vectors, and id 100 in ``text_bert``
    (BERT's ``[UNK]``, MMSA's own choice) where a corpus has that array. Deviations
    from MMSA, all deliberate: (1) MMSA masks ``text_bert`` token positions only;
    the book applies the same rule to word positions of ``raw_text`` and ``text``
    (a draw over the ``(utterances, words)`` array) and applies MMSA's exact token
    rule, ``[CLS]`` and ``[SEP]`` kept, to ``text_bert``, so the two masks hide the
    same share of the text but not always the same words; (2) an utterance with no
    frame left gets length 0 (MMSA keeps the length): see :func:`drop`; (3) the
    book perturbs the splits it is asked to (the robustness runs: the test split of
    a model trained on clean data), MMSA perturbs every split it loads, training
    included.

``"noise"`` -- MultiBench's imperfections (``robustness/text_robust.py``,
    ``robustness/timeseries_robust.py``; Liang et al., 2021): on text, each word of
    five or more characters is, with probability ``level``, hit by one of
    MultiBench's five typos (swap two letters, shuffle the middle, a neighbouring
    key on a QWERTY keyboard, a letter typed twice, a letter omitted; ported
    line by line); its word vector becomes the vector of the misspelt word (the
    embedded corpus's word embedding gives every string one; on other corpora the
    vector of an unknown word, 0) and ``text_bert`` is re-tokenised with the book's MiniLM
    tokenizer (BERT's uncased English vocabulary: right for MOSI and MOSEI ids, not for
    CH-SIMS's Chinese BERT ids, whose typos MultiBench does not define either). On audio and
    vision frames: Gaussian noise of standard deviation ``level`` times each
    feature's standard deviation over the training frames, then each frame dropped
    (zeroed) with probability ``level`` (MultiBench's "structured drop"). Deviations:
    MultiBench's loops add one Gaussian value per utterance and drop whole
    utterances (their inner loop runs over utterances, not time steps, although the
    docstrings say time steps); the book does what the docstrings say, per value
    and per frame; MultiBench adds the frame drop on audio only, the book on both
    frame streams; its Gaussian noise is in raw feature units, the book's in units
    of each feature's spread, so that one level means the same on every feature.

Dropping a modality is level 1 of ``"missing"``: every frame 0 *and* length 0,
every word the unknown token. Every model of the registry reads a dropped stream
as an absent one (the fusion models and the audio and vision sequence models read
all-zero frames as length 0, ``zero_is_missing``); ``tests/test_robustness.py``
checks it model by model.

The measures are MultiBench's (``eval_scripts/robustness.py``), computed exactly
as there: :func:`relative_robustness` is the area under the curve of a metric
over the noise levels 0, 0.1, ..., 0.9 (trapezoids of width 0.1);
:func:`effective_robustness` is the sum over levels of the gap between a model's
curve and a late-fusion baseline's curve shifted to start where the model starts;
:func:`maxmin_normalize` rescales either across the compared models to [0, 1].
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from .corpus import Corpus
from .errors import ConfigError, MMSADataError

MODALITIES = ("text", "audio", "vision")
KINDS = ("missing", "noise")
#: The grid of the robustness runs: MultiBench's ten levels 0, 0.1, ..., 0.9, and 1 (the dropped modality).
LEVELS = tuple(round(i / 10, 1) for i in range(11))
#: The levels MultiBench's curves and areas use (``noise_level=i/10`` for ``i in range(10)``).
MULTIBENCH_LEVELS = LEVELS[:10]
#: MMSA's default ``missing_seed`` (config_regression.json), the seed of the book's robustness runs.
MMSA_SEED = 1111
UNK_WORD = "[UNK]"
UNK_ID = 100            # [UNK] in BERT's uncased vocabulary (and MiniLM's): MMSA's "UNK token: 100"
_FRAME_KEYS = {"audio": ("audio", "audio_lengths", "audio_missing"),
               "vision": ("vision", "vision_lengths", "vision_missing")}


# --- checks -------------------------------------------------------------------------------
def _check(corpus: Corpus, modality: str, kind: str, level) -> list[str]:
    if not isinstance(corpus, Corpus):
        raise ConfigError(f"perturb() takes a Corpus (mmsa_helpers.load_dataset(...)), not a {type(corpus).__name__}")
    if modality not in (*MODALITIES, "all"):
        raise ConfigError(f"unknown modality {modality!r}; use one of {MODALITIES} or 'all'")
    if kind not in KINDS:
        raise ConfigError(f"unknown kind of perturbation {kind!r}; use 'missing' (MMSA's missing-data rule) "
                          "or 'noise' (MultiBench's imperfections)")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating, np.integer)) \
            or not math.isfinite(float(level)) or not 0.0 <= float(level) <= 1.0:
        raise ConfigError(f"level must be a number between 0 and 1 (a missing rate or a noise level), "
                          f"got {level!r}")
    wanted = list(MODALITIES) if modality == "all" else [modality]
    have = corpus.modalities
    absent = [m for m in wanted if m not in have]
    if absent and modality != "all":
        raise MMSADataError(f"{corpus.name!r} has no {modality!r} data to perturb (it has {have}); "
                            "pick one of those")
    return [m for m in wanted if m in have]


# --- MMSA's missing-data rule --------------------------------------------------------------------
def mmsa_missing_mask(lengths: np.ndarray, steps: int, rate: float, seed: int) -> np.ndarray:
    """MMSA's ``generate_m`` mask for audio or vision: True where a frame is kept.

    ``np.random.seed(seed)``; ``(np.random.uniform(size=(N, steps)) > rate) * input_mask``
    with ``input_mask`` 1 on the first ``lengths[i]`` frames of utterance ``i``. A local
    ``RandomState(seed)`` gives the same draws without touching NumPy's global state.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    input_mask = np.arange(steps)[None, :] < lengths[:, None]
    draws = np.random.RandomState(seed).uniform(size=input_mask.shape)
    return (draws > rate) & input_mask


def mmsa_text_bert_mask(text_bert: np.ndarray, rate: float, seed: int) -> np.ndarray:
    """MMSA's ``generate_m`` for ``text_bert``: the ids with missing tokens set to 100 ([UNK]).

    The draw is over the ``(N, L)`` token positions; ``[CLS]`` (position 0) and ``[SEP]``
    (position ``argmin(attention mask) - 1``) are always kept, as in MMSA.
    """
    ids, input_mask = np.asarray(text_bert[:, 0]), np.asarray(text_bert[:, 1])
    input_len = np.argmin(input_mask, axis=1)
    keep = (np.random.RandomState(seed).uniform(size=input_mask.shape) > rate) * input_mask
    for i, row in enumerate(keep):
        row[0] = row[input_len[i] - 1] = 1
    return keep * ids + UNK_ID * np.ones_like(ids) * (input_mask - keep)


def _word_count(split: dict) -> np.ndarray:
    if "text_lengths" in split:
        return np.asarray(split["text_lengths"], dtype=np.int64)
    return np.array([len(t.split()) for t in split["raw_text"]], dtype=np.int64)


def _word_steps(split: dict, words: np.ndarray) -> int:
    return int(split["text"].shape[1]) if "text" in split else int(max(words.max(initial=0), 1))


def _missing_text(split: dict, level: float, seed: int) -> dict:
    out = {}
    words = _word_count(split)
    keep = mmsa_missing_mask(words, _word_steps(split, words), level, seed)
    if "raw_text" in split:
        texts = []
        for i, t in enumerate(split["raw_text"]):
            toks = str(t).split()
            texts.append(" ".join(w if j >= keep.shape[1] or keep[i, j] else UNK_WORD for j, w in enumerate(toks)))
        out["raw_text"] = texts
    if "text" in split:
        x = np.asarray(split["text"], dtype=np.float32)
        lost = (np.arange(x.shape[1])[None, :] < words[:, None]) & ~keep[:, : x.shape[1]]
        out["text"] = np.where(lost[..., None], 0.0, x).astype(np.float32)
    if "text_bert" in split:
        tb = np.array(split["text_bert"], copy=True)
        tb[:, 0] = mmsa_text_bert_mask(tb, level, seed)
        out["text_bert"] = tb
    return out


def _frame_lengths(split: dict, modality: str, aligned: bool) -> np.ndarray:
    from .torch_data import sequence_lengths

    return np.minimum(sequence_lengths(split, modality, aligned), split[modality].shape[1])


def _dropped_frames(split: dict, modality: str, x: np.ndarray, keep: np.ndarray) -> dict:
    """Frames zeroed where ``keep`` is False; an utterance with no frame left gets length 0."""
    feat, len_key, miss_key = _FRAME_KEYS[modality]
    out = {feat: np.where(keep[..., None], x, 0.0).astype(np.float32)}
    gone = ~keep.any(axis=1)
    if len_key in split:
        out[len_key] = np.where(gone, 0, np.asarray(split[len_key])).astype(np.asarray(split[len_key]).dtype)
    if miss_key in split:
        out[miss_key] = np.asarray(split[miss_key], dtype=bool) | gone
    return out


def _missing_frames(split: dict, modality: str, level: float, seed: int, aligned: bool) -> dict:
    x = np.asarray(split[modality], dtype=np.float32)
    lengths = _frame_lengths(split, modality, aligned)
    keep = mmsa_missing_mask(lengths, x.shape[1], level, seed)
    return _dropped_frames(split, modality, x, keep)


# --- MultiBench's imperfections -------------------------------------------------------------------
_QWERTY = {'q': ['w'], 'w': ['q', 'e', 's'], 'e': ['w', 'r', 'd'], 'r': ['e', 't', 'f'], 't': ['r', 'g', 'y'],
           'y': ['t', 'u', 'h'], 'u': ['y', 'i', 'j'], 'i': ['u', 'o', 'k'], 'o': ['i', 'p', 'l'], 'p': ['o'],
           'a': ['q', 's', 'z'], 's': ['a', 'w', 'd', 'x', 'z'], 'd': ['s', 'e', 'f', 'x', 'c'],
           'f': ['d', 'r', 'g', 'c', 'v'], 'g': ['f', 't', 'h', 'v', 'b'], 'h': ['g', 'y', 'j', 'b', 'n'],
           'j': ['h', 'u', 'k', 'n', 'm'], 'k': ['j', 'i', 'l', 'm'], 'l': ['k', 'o'], 'z': ['a', 's', 'x'],
           'x': ['z', 's', 'd', 'c'], 'c': ['x', 'd', 'f', 'v'], 'v': ['c', 'f', 'g', 'b'],
           'b': ['v', 'g', 'h', 'n'], 'n': ['b', 'h', 'm', 'j'], 'm': ['n', 'j', 'k']}


def _last_char(word: str) -> int:
    for i in range(len(word)):
        if word[len(word) - 1 - i].isalpha() or word[len(word) - 1 - i].isdigit():
            return len(word) - 1 - i
    return -1


def _swap_letter(word, rs):
    last = _last_char(word)
    pos = rs.randint(last - 2) + 1
    return word[:pos] + word[pos + 1] + word[pos] + word[pos + 2:]


def _random_mid(word, rs):
    last = _last_char(word)
    mid = list(word[1:last])
    rs.shuffle(mid)
    return word[0] + "".join(mid) + word[last:]


def _qwerty_typo(word, rs):
    last = _last_char(word)
    typos = np.arange(last + 1)
    rs.shuffle(typos)
    for t in typos:
        if word[t] in _QWERTY:
            keys = _QWERTY[word[t]]
            return word[:t] + keys[rs.randint(len(keys))] + word[t + 1:]
    return word


def _sticky_keys(word, rs):
    last = _last_char(word)
    sticky = np.arange(last + 1)
    rs.shuffle(sticky)
    return word[:sticky[0]] + word[sticky[0]] + word[sticky[0]:]


def _omission(word, rs):
    last = _last_char(word)
    omit = rs.randint(last - 1) + 1
    return word[:omit] + word[omit + 1:]


#: MultiBench's five text noises, in its order (``add_text_noise``).
TEXT_NOISES = (_swap_letter, _random_mid, _qwerty_typo, _sticky_keys, _omission)


def typo_noise(texts: Sequence[str], level: float, seed: int) -> list[str]:
    """MultiBench's ``add_text_noise`` (all five noises on): each word whose last letter or digit
    is at index 4 or more is, with probability ``level``, replaced by one of the five typos.
    Words stay whitespace-separated (no re-tokenisation), so word positions are kept."""
    rs = np.random.RandomState(seed)
    out = []
    for text in texts:
        new = []
        for word in str(text).split():
            if _last_char(word) > 3 and rs.random_sample() <= level:
                new.append(TEXT_NOISES[rs.randint(len(TEXT_NOISES))](word, rs))
            else:
                new.append(word)
        out.append(" ".join(new))
    return out


def _noisy_text(split: dict, level: float, seed: int, synthetic: bool) -> dict:
    out = {}
    texts = typo_noise(split["raw_text"], level, seed) if "raw_text" in split else None
    if texts is not None:
        out["raw_text"] = texts
    if "text" in split and texts is not None:
        from .synthetic.generate import word_vector

        x = np.array(split["text"], dtype=np.float32, copy=True)
        for i, (old, new) in enumerate(zip(split["raw_text"], texts)):
            for j, (a, b) in enumerate(zip(str(old).split(), new.split())):
                if a != b and j < x.shape[1]:
                    x[i, j] = word_vector(b, x.shape[2]) if synthetic else 0.0
        out["text"] = x
    if "text_bert" in split and texts is not None:
        from .pretrained import bert_inputs

        tb = np.asarray(split["text_bert"])
        out["text_bert"] = bert_inputs(texts, max_len=tb.shape[2]).astype(tb.dtype)
    return out


def _noisy_frames(split: dict, modality: str, level: float, seed: int, aligned: bool, std: np.ndarray) -> dict:
    x = np.asarray(split[modality], dtype=np.float32)
    lengths = _frame_lengths(split, modality, aligned)
    real = np.arange(x.shape[1])[None, :] < lengths[:, None]
    rng = np.random.default_rng([seed, MODALITIES.index(modality)])
    noisy = x + np.where(real[..., None], rng.normal(0.0, 1.0, x.shape) * (level * std), 0.0)
    keep = real & ~(rng.random(real.shape) < level)
    return _dropped_frames(split, modality, noisy.astype(np.float32), keep)


def feature_spread(corpus: Corpus, modality: str) -> np.ndarray:
    """Each feature's standard deviation over the real frames of the training split (1 where constant)."""
    from .torch_data import FrameScaler

    train = corpus["train"]
    return FrameScaler.fit(np.asarray(train[modality], dtype=np.float32),
                           _frame_lengths(train, modality, corpus.aligned)).std


# --- the one entry point ------------------------------------------------------------------------
def perturb(corpus: Corpus, modality: str, kind: str, level: float, seed: int = MMSA_SEED,
            splits: Sequence[str] | None = None) -> Corpus:
    """A new corpus with one modality (or ``"all"``) missing or noisy at ``level`` in [0, 1].

    ``kind="missing"`` is MMSA's rule, ``kind="noise"`` MultiBench's imperfections (see the
    module's docstring for both and for every deviation). Only the keys of the named
    modality change (``raw_text``/``text``/``text_bert``/``text_lengths`` for text;
    ``audio``/``audio_lengths``/``audio_missing`` for audio; likewise vision), in the
    ``splits`` asked for (default: every split). Level 0 returns the same values. The
    same ``seed`` gives the same corpus; with ``"all"`` each modality gets the seed, as
    MMSA's configurations give the three the same ``missing_seed``.
    """
    chosen = _check(corpus, modality, kind, level)
    level = float(level)
    splits = list(corpus.splits) if splits is None else list(splits)
    for s in splits:
        corpus[s]  # a clear KeyError for a split the corpus lacks
    spreads = {m: feature_spread(corpus, m) for m in chosen if m != "text" and kind == "noise"}
    new = {}
    for name, d in corpus.splits.items():
        if name not in splits or level == 0.0:
            new[name] = d
            continue
        changed = {}
        for m in chosen:
            if m == "text":
                changed.update(_missing_text(d, level, seed) if kind == "missing"
                               else _noisy_text(d, level, seed, corpus.name == "synthetic"))
            elif kind == "missing":
                changed.update(_missing_frames(d, m, level, seed, corpus.aligned))
            else:
                changed.update(_noisy_frames(d, m, level, seed, corpus.aligned, spreads[m]))
        new[name] = {**d, **changed}
    note = {"modality": modality, "kind": kind, "level": level, "seed": int(seed), "splits": splits}
    info = {**corpus.info, "perturbations": [*corpus.info.get("perturbations", []), note]}
    return dataclasses.replace(corpus, splits=new, info=info)


def drop(corpus: Corpus, modality: str, splits: Sequence[str] | None = None) -> Corpus:
    """The corpus without ``modality``: ``perturb(corpus, modality, "missing", 1.0)``. Frames
    are 0 and lengths 0; every word is the unknown token (``[UNK]``, zero vectors, id 100)."""
    return perturb(corpus, modality, "missing", 1.0, splits=splits)


# --- MultiBench's measures ----------------------------------------------------------------------------
def relative_robustness(curve: Sequence[float]) -> float:
    """MultiBench's ``relative_robustness_helper``: the area under a metric's curve over the noise
    levels, trapezoids of width 0.1 (the levels 0, 0.1, ..., 0.9 of :data:`MULTIBENCH_LEVELS`)."""
    c = np.asarray(curve, dtype=float)
    if c.ndim != 1 or len(c) < 2 or not np.isfinite(c).all():
        raise ConfigError(f"a robustness curve is a list of at least two finite numbers, got {curve!r}")
    return float(sum((c[i] + c[i + 1]) * 0.1 / 2 for i in range(len(c) - 1)))


def effective_robustness(curve: Sequence[float], baseline: Sequence[float]) -> float:
    """MultiBench's ``effective_robustness_helper``: ``sum(f - (lf + f[0] - lf[0]))``, the gap at
    every level between a model's curve ``f`` and the late-fusion baseline's curve ``lf`` moved to
    start where ``f`` starts. Positive: the model loses less than late fusion does."""
    f, lf = np.asarray(curve, dtype=float), np.asarray(baseline, dtype=float)
    if f.shape != lf.shape or f.ndim != 1 or len(f) < 2:
        raise ConfigError(f"a curve and its baseline need the same levels: got {len(f)} and {len(lf)} values")
    return float(np.sum(f - (lf + (f[0] - lf[0]))))


def maxmin_normalize(values: dict[str, float], lower_is_better: bool = False) -> dict[str, float]:
    """MultiBench's ``maxmin_normalize``: ``(x - min) / (max - min)`` over the compared methods,
    after negating a measure where lower is better (MultiBench does so for its MSE tasks)."""
    names = list(values)
    x = np.array([values[n] for n in names], dtype=float) * (-1.0 if lower_is_better else 1.0)
    span = x.max() - x.min()
    if span == 0:
        raise ConfigError("maxmin_normalize needs at least two methods with different values")
    return {n: float(v) for n, v in zip(names, (x - x.min()) / span)}
