"""Putting the synthetic corpus together (chapter 2, "How the corpus is made").

For every utterance:

1. an underlying opinion ``s`` = speaker bias + noise;
2. unimodal sentiments: ``y_a = s + noise``, ``y_v = s + noise``, and a text
   target ``s + noise`` from which the grammar writes a transcript; ``y_t`` is
   the transcript's compositional valence (:mod:`mmsa_helpers.synthetic.lexicon`);
3. a share of *conflicting* utterances: sarcasm (positive words, negative voice
   and face) and masked feelings (a smile over negative words and voice);
4. a share of factual transcripts with no sentiment words (``y_t = 0``) while
   voice and face still carry ``s``;
5. the multimodal label ``y_m``: ``n_raters`` annotators each weigh the three
   channels (text dominates), add their own noise, pick an integer in [-3, 3];
   ``y_m`` is their mean, so it lies on a grid of ``1/n_raters`` like MOSI's.
6. word timings, then audio and vision frame sequences driven by ``y_a``,
   ``y_v`` and the speaker's habits.

Train/valid/test are split by speaker (52/10/31 speakers, as MOSI's videos).

``language="zh"`` (:meth:`SyntheticConfig.chinese`, chapter 15) makes a CH-SIMS-like
corpus instead: Chinese transcripts from :mod:`.text_zh` written without spaces,
SIMS's split sizes and sequence length 39, and labels on SIMS's scale, averaged
like SIMS's over five annotators who each rate -1, 0 or 1 (:func:`rate_sims`), so
they lie on SIMS's grid of 0.2. Its unimodal labels are the generating values on
that grid: ``y_t`` is the words' valence (:func:`.text_zh.valence`) over 3, rounded
to the grid; ``y_a``, ``y_v`` likewise. Audio and vision are made as for English.
"""
from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from ..corpus import SPLITS, Corpus
from ..errors import ConfigError
from . import lexicon, lexicon_zh, text_zh
from .audio import AUDIO_FEATURES, audio_frames
from .speakers import Speaker, make_speakers
from .text import make_utterance
from .timing import AUDIO_FPS, VISION_FPS, average_per_word, frame_times, word_spans
from .vision import VISION_FEATURES, vision_frames

TEXT_LEN = 50  # words per utterance in the padded text and aligned arrays (MMSA's "_50")
TEXT_LEN_ZH = 39  # the same for the Chinese corpus (SIMS's "_39")
SIMS_SIZES = (1368, 456, 457)   # CH-SIMS's train, valid, test utterances
SIMS_SPEAKERS = (36, 12, 12)
SIMS_GRID = 0.2                 # SIMS's labels: means of 5 ratings in {-1, 0, 1}


@dataclass(frozen=True)
class SyntheticConfig:
    """Knobs of the synthetic corpus. The same config gives byte-identical arrays."""

    seed: int = 0
    sizes: tuple[int, int, int] = (1284, 229, 686)   # train, valid, test utterances (MOSI's)
    speakers: tuple[int, int, int] = (52, 10, 31)    # speakers per split (MOSI's videos)
    conflict_rate: float = 0.10      # share of utterances whose modalities disagree
    neutral_text_rate: float = 0.12  # share of factual transcripts (y_t = 0)
    noise_text: float = 0.0          # per-word probability of a speech-recognition error
    noise_audio: float = 1.0         # scale of frame-level measurement noise (0 = clean)
    noise_vision: float = 1.0
    missing_audio: float = 0.0       # share of utterances whose audio is missing (zeros)
    missing_vision: float = 0.0
    n_raters: int = 5
    rater_weights: tuple[float, float, float] = (0.6, 0.2, 0.2)  # text, audio, vision
    rater_noise: float = 0.6
    text_dim: int = 32               # size of the static word vectors in ``text``
    language: str = "en"             # "en": MOSI-like; "zh": CH-SIMS-like (chapter 15)

    def __post_init__(self):
        checks = [
            (len(self.sizes) == 3 and min(self.sizes) >= 1, "sizes must be 3 positive ints (train, valid, test)"),
            (len(self.speakers) == 3 and min(self.speakers) >= 1, "speakers must be 3 positive ints"),
            (all(n >= k for n, k in zip(self.sizes, self.speakers)), "each split needs at least one utterance per speaker"),
            (self.n_raters >= 1, "n_raters must be >= 1"),
            (abs(sum(self.rater_weights) - 1) < 1e-9 and min(self.rater_weights) >= 0,
             "rater_weights must be 3 non-negative numbers summing to 1"),
            (self.text_dim >= 1, "text_dim must be >= 1"),
            (self.language in ("en", "zh"), f"language must be 'en' or 'zh', got {self.language!r}"),
        ]
        for rate in ("conflict_rate", "neutral_text_rate", "noise_text", "missing_audio", "missing_vision"):
            v = getattr(self, rate)
            checks.append((0.0 <= v <= 1.0, f"{rate} must be in [0, 1], got {v}"))
        for scale in ("noise_audio", "noise_vision", "rater_noise"):
            checks.append((getattr(self, scale) >= 0, f"{scale} must be >= 0"))
        for ok, msg in checks:
            if not ok:
                raise ConfigError(f"SyntheticConfig: {msg}")

    @classmethod
    def small(cls, **kw) -> "SyntheticConfig":
        """A few hundred utterances: for unit tests and quick experiments."""
        kw.setdefault("sizes", (160, 40, 80))
        kw.setdefault("speakers", (10, 3, 6))
        return cls(**kw)

    @classmethod
    def chinese(cls, **kw) -> "SyntheticConfig":
        """The CH-SIMS-like corpus: ``language="zh"`` with SIMS's split sizes (chapter 15)."""
        kw["language"] = "zh"
        kw.setdefault("sizes", SIMS_SIZES)
        kw.setdefault("speakers", SIMS_SPEAKERS)
        return cls(**kw)


@dataclass
class Utterance:
    uid: str
    speaker: Speaker
    text: str
    spans: np.ndarray
    y_t: float
    y_a: float
    y_v: float
    y_m: float
    conflict: str
    audio: np.ndarray
    vision: np.ndarray
    audio_missing: bool
    vision_missing: bool
    words: tuple[str, ...] = ()   # the segmented words (``text`` holds one vector per word)


@lru_cache(maxsize=4096)
def word_vector(word: str, dim: int = 32) -> np.ndarray:
    """A fixed random vector per word (a stand-in for static word embeddings such as GloVe).

    It identifies the word and nothing more: models must learn what words mean.
    """
    rng = np.random.default_rng(zlib.crc32(word.encode("utf-8")))
    return (rng.standard_normal(dim) / np.sqrt(dim)).astype(np.float32)


def split_counts(total: int, k: int, rng: np.random.Generator) -> list[int]:
    """Utterances per speaker: uneven, at least 1 each, summing to ``total``."""
    w = rng.gamma(4.0, size=k)
    base = min(5, total // k)
    share = w / w.sum() * (total - base * k)
    counts = np.floor(share).astype(int) + base
    for i in np.argsort(-(share - np.floor(share)))[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def rate_utterance(y: np.ndarray, cfg: SyntheticConfig, rng: np.random.Generator) -> float:
    """The multimodal label: mean of ``n_raters`` integer ratings in [-3, 3]."""
    weighted = float(np.dot(cfg.rater_weights, y))
    ratings = np.clip(np.round(weighted + rng.normal(0, cfg.rater_noise, cfg.n_raters)), -3, 3)
    return float(ratings.mean())


def to_sims_grid(x: float) -> float:
    """A value in [-3, 3] on SIMS's scale [-1, 1], rounded to its grid of 0.2."""
    return float(np.clip(np.round(x / 3 / SIMS_GRID) * SIMS_GRID, -1, 1).round(1)) + 0.0  # no -0.0


def rate_sims(y: np.ndarray, cfg: SyntheticConfig, rng: np.random.Generator) -> float:
    """SIMS's multimodal label: mean of ``n_raters`` ratings in {-1, 0, 1} (neutral when
    the annotator's impression, on the [-3, 3] scale, lies within +-0.75)."""
    weighted = float(np.dot(cfg.rater_weights, y))
    ratings = np.clip(np.round((weighted + rng.normal(0, cfg.rater_noise, cfg.n_raters)) / 1.5), -1, 1)
    return float(round(ratings.mean(), 1)) + 0.0


def _sentiments(spk: Speaker, cfg: SyntheticConfig, rng: np.random.Generator):
    s = float(np.clip(spk.opinion_bias + rng.normal(0, 1.45), -3.2, 3.2))
    conflict = "none"
    if rng.random() < cfg.conflict_rate:
        conflict = "sarcasm" if rng.random() < 0.7 else "masked_face"
        s = -abs(s) - 0.5  # both kinds hide a negative opinion
    target_t = s + rng.normal(0, 0.8)
    y_a = float(np.clip(s + rng.normal(0, 0.9), -3, 3))
    y_v = float(np.clip(s + rng.normal(0, 0.9), -3, 3))
    if conflict == "sarcasm":
        target_t = abs(target_t) + 0.5
    elif conflict == "masked_face":
        y_v = float(np.clip(abs(y_v) * 0.8 + 0.3, -3, 3))
    neutral = conflict == "none" and rng.random() < cfg.neutral_text_rate
    return target_t, y_a, y_v, conflict, neutral


def _asr_noise(text: str, rate: float, rng: np.random.Generator) -> str:
    if rate <= 0:
        return text
    vocab = sorted({w for phrase in (*lexicon.ADJECTIVES, *lexicon.NEUTRAL_CLAUSES) for w in phrase.split()})
    words = [vocab[int(rng.integers(len(vocab)))] if rng.random() < rate else w for w in text.split()]
    return " ".join(words)


def _asr_noise_zh(words: tuple[str, ...], rate: float, rng: np.random.Generator) -> tuple[str, ...]:
    if rate <= 0:
        return words
    vocab = sorted({*lexicon_zh.ADJECTIVES, *(w for c in lexicon_zh.NEUTRAL_CLAUSES for w in c)})
    return tuple(vocab[int(rng.integers(len(vocab)))] if rng.random() < rate else w for w in words)


def _streams(words, y_a: float, y_v: float, spk: Speaker, cfg: SyntheticConfig, rng: np.random.Generator,
             **span_settings):
    """Word timings, audio and vision frames of one utterance, and which stream is missing (zeroed).

    Both languages draw them the same way and in the same order; ``span_settings`` are the
    duration settings of :func:`.timing.word_spans` (Chinese words are timed by characters)."""
    arousal = 0.35 * abs(y_a) - 0.4 + rng.normal(0, 1.0)
    spans, duration = word_spans(words, spk.rate * (1 + 0.06 * arousal), rng, **span_settings)
    audio = audio_frames(spans, duration, y_a, arousal, spk, rng, cfg.noise_audio)
    vision = vision_frames(spans, duration, y_v, spk, rng, cfg.noise_vision)
    a_miss = bool(rng.random() < cfg.missing_audio)
    v_miss = bool(rng.random() < cfg.missing_vision)
    if a_miss:
        audio[:] = 0.0
    if v_miss:
        vision[:] = 0.0
    return spans, audio, vision, a_miss, v_miss


def _chinese_record(uid: str, spk: Speaker, cfg: SyntheticConfig, rng: np.random.Generator) -> Utterance:
    from ..language import segment

    target_t, y_a, y_v, conflict, neutral = _sentiments(spk, cfg, rng)
    grammar_words, v_t = text_zh.make_utterance(target_t, rng, neutral=neutral)
    grammar_words = _asr_noise_zh(grammar_words, cfg.noise_text, rng)
    words = segment("".join(grammar_words))[:TEXT_LEN_ZH]   # what a reader's segmenter sees
    text = "".join(words)
    y_m = rate_sims(np.array([v_t, y_a, y_v]), cfg, rng)
    spans, audio, vision, a_miss, v_miss = _streams(words, y_a, y_v, spk, cfg, rng, base=0.04, per_char=0.2)
    return Utterance(uid, spk, text, spans, to_sims_grid(v_t), to_sims_grid(y_a), to_sims_grid(y_v), y_m,
                     conflict, audio, vision, a_miss, v_miss, tuple(words))


def make_utterance_record(uid: str, spk: Speaker, cfg: SyntheticConfig, rng: np.random.Generator) -> Utterance:
    if cfg.language == "zh":
        return _chinese_record(uid, spk, cfg, rng)
    target_t, y_a, y_v, conflict, neutral = _sentiments(spk, cfg, rng)
    text, y_t = make_utterance(target_t, rng, neutral=neutral)
    text = _asr_noise(text, cfg.noise_text, rng)
    words = text.split()[:TEXT_LEN]
    text = " ".join(words)
    y_m = rate_utterance(np.array([y_t, y_a, y_v]), cfg, rng)
    spans, audio, vision, a_miss, v_miss = _streams(words, y_a, y_v, spk, cfg, rng)
    return Utterance(uid, spk, text, spans, y_t, y_a, y_v, y_m, conflict, audio, vision, a_miss, v_miss, tuple(words))


@lru_cache(maxsize=8)
def generate_utterances(cfg: SyntheticConfig) -> dict[str, tuple[Utterance, ...]]:
    """All utterances of a corpus, per split (cached: the same config is generated once)."""
    rng = np.random.default_rng(cfg.seed)
    out = {}
    for split, n, k in zip(SPLITS, cfg.sizes, cfg.speakers):
        speakers = make_speakers(k, rng, prefix=f"{split[:2]}")
        utts = []
        for spk, count in zip(speakers, split_counts(n, k, rng)):
            for clip in range(1, count + 1):
                utts.append(make_utterance_record(f"{spk.speaker_id}$_${clip}", spk, cfg, rng))
        out[split] = tuple(utts)
    return out


def _pad(seqs: list[np.ndarray], length: int, dim: int) -> np.ndarray:
    out = np.zeros((len(seqs), length, dim), dtype=np.float32)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s[:length]
    return out


def _split_arrays(utts: tuple[Utterance, ...], cfg: SyntheticConfig, aligned: bool, max_a: int, max_v: int) -> dict:
    words = [list(u.words) or u.text.split() for u in utts]
    text = [np.stack([word_vector(w, cfg.text_dim) for w in ws]) for ws in words]
    length = TEXT_LEN_ZH if cfg.language == "zh" else TEXT_LEN
    d = {
        "id": [u.uid for u in utts],
        "raw_text": [u.text for u in utts],
        "text": _pad(text, length, cfg.text_dim),
        "text_lengths": np.array([len(ws) for ws in words], dtype=np.int64),
    }
    if aligned:
        a = [average_per_word(u.audio, frame_times(len(u.audio) / AUDIO_FPS, AUDIO_FPS), u.spans) for u in utts]
        v = [average_per_word(u.vision, frame_times(len(u.vision) / VISION_FPS, VISION_FPS), u.spans) for u in utts]
        d["audio"] = _pad(a, length, len(AUDIO_FEATURES))
        d["vision"] = _pad(v, length, len(VISION_FEATURES))
    else:
        d["audio"] = _pad([u.audio for u in utts], max_a, len(AUDIO_FEATURES))
        d["vision"] = _pad([u.vision for u in utts], max_v, len(VISION_FEATURES))
        d["audio_lengths"] = np.array([len(u.audio) for u in utts], dtype=np.int64)
        d["vision_lengths"] = np.array([len(u.vision) for u in utts], dtype=np.int64)
    d["regression_labels"] = np.array([u.y_m for u in utts], dtype=np.float32)
    d["regression_labels_T"] = np.array([u.y_t for u in utts], dtype=np.float32)
    d["regression_labels_A"] = np.array([u.y_a for u in utts], dtype=np.float32)
    d["regression_labels_V"] = np.array([u.y_v for u in utts], dtype=np.float32)
    d["speaker"] = [u.speaker.speaker_id for u in utts]
    d["conflict"] = [u.conflict for u in utts]
    d["audio_missing"] = np.array([u.audio_missing for u in utts])
    d["vision_missing"] = np.array([u.vision_missing for u in utts])
    d["word_spans"] = [u.spans for u in utts]
    return d


def generate_corpus(cfg: SyntheticConfig | None = None, aligned: bool = False, **overrides) -> Corpus:
    """The synthetic corpus in the MMSA layout.

    ``generate_corpus(seed=1, conflict_rate=0.3)`` is shorthand for
    ``generate_corpus(SyntheticConfig(seed=1, conflict_rate=0.3))``;
    ``generate_corpus(language="zh")`` gives the CH-SIMS-like corpus
    (:meth:`SyntheticConfig.chinese`), named ``synthetic_zh`` and scored with SIMS's rules.
    """
    if cfg is None and overrides.get("language") == "zh":
        cfg, overrides = SyntheticConfig.chinese(**overrides), {}
    cfg = cfg or SyntheticConfig()
    if overrides:
        cfg = SyntheticConfig(**{**asdict(cfg), **overrides})
    utts = generate_utterances(cfg)
    all_utts = [u for s in SPLITS for u in utts[s]]
    max_a = max(len(u.audio) for u in all_utts)
    max_v = max(len(u.vision) for u in all_utts)
    splits = {s: _split_arrays(utts[s], cfg, aligned, max_a, max_v) for s in SPLITS}
    speakers = {u.speaker.speaker_id: u.speaker for u in all_utts}
    chinese = cfg.language == "zh"
    info = {"config": cfg, "speakers": speakers, "audio_fps": AUDIO_FPS, "vision_fps": VISION_FPS,
            "language": cfg.language}
    if chinese:
        info["metric_rules"] = "sims"
        info["mmsa_steps"] = TEXT_LEN_ZH   # exported as SIMS's unaligned_39.pkl
    return Corpus(
        name="synthetic_zh" if chinese else "synthetic",
        splits=splits,
        aligned=aligned,
        label_range=1.0 if chinese else 3.0,
        audio_features=list(AUDIO_FEATURES),
        vision_features=list(VISION_FEATURES),
        info=info,
    )
