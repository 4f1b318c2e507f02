"""A deterministic source-filter voice that speaks with emotion (chapter 7, "Speech").

Speech is made the way the source-filter model describes it:

1. **Source.** A train of glottal pulses, one per period of the fundamental
   frequency F0. The F0 contour falls slowly over the utterance (declination)
   and rises on accented syllables; each period is perturbed a little in length
   (*jitter*) and in amplitude (*shimmer*); a one-pole low-pass sets the spectral
   tilt (tense voices have a flatter spectrum than lax ones) and aspiration noise
   makes a voice breathy.
2. **Filter.** The vocal tract is a cascade of second-order resonators, one per
   formant; each syllable is one vowel (a, e, i, o, u) with its own formants.
   Short noise bursts between syllables stand in for consonants.
3. **Prosody.** An energy envelope per syllable, a speaking rate (syllables per
   second) and an overall loudness.

Emotions change the prosody (:data:`EMOTION_PROSODY`), speakers change the
register, the rate, the vocal-tract length and the voice quality
(:class:`Speaker`). Everything is drawn from seeded generators: the same
arguments always give the same samples.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import lfilter

from ..corpus import Corpus
from ..errors import ConfigError

#: The seven emotions of EMO-DB, in the book's order.
EMOTIONS = ["neutral", "anger", "happiness", "sadness", "fear", "boredom", "disgust"]

#: How each emotion changes the voice, relative to the speaker's neutral voice.
#: f0: register multiplier; accent: size of pitch accents (semitones); rate:
#: speaking-rate multiplier; gain_db: loudness; jitter/shimmer: cycle-to-cycle
#: variation (relative); tension: 0 lax .. 1 tense (flatter spectrum);
#: breath: aspiration noise; decl: declination over the utterance (semitones).
EMOTION_PROSODY = {
    "neutral":   dict(f0=1.00, accent=2.0, rate=1.00, gain_db=0.0, jitter=0.010, shimmer=0.05, tension=0.5, breath=0.02, decl=2.0),
    "anger":     dict(f0=1.30, accent=4.5, rate=1.10, gain_db=8.0, jitter=0.015, shimmer=0.08, tension=0.9, breath=0.01, decl=1.0),
    "happiness": dict(f0=1.30, accent=6.0, rate=1.12, gain_db=4.0, jitter=0.010, shimmer=0.06, tension=0.6, breath=0.02, decl=1.0),
    "sadness":   dict(f0=0.90, accent=1.0, rate=0.75, gain_db=-7.0, jitter=0.015, shimmer=0.08, tension=0.2, breath=0.08, decl=3.0),
    "fear":      dict(f0=1.45, accent=2.5, rate=1.25, gain_db=-1.0, jitter=0.030, shimmer=0.10, tension=0.6, breath=0.06, decl=0.5),
    "boredom":   dict(f0=0.92, accent=0.7, rate=0.82, gain_db=-3.0, jitter=0.010, shimmer=0.05, tension=0.3, breath=0.03, decl=1.5),
    "disgust":   dict(f0=0.95, accent=3.0, rate=0.80, gain_db=1.0, jitter=0.025, shimmer=0.12, tension=0.7, breath=0.04, decl=2.5),
}

#: First three formants (Hz) of five vowels for an adult male vocal tract.
VOWEL_FORMANTS = {"a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (270, 2290, 3010),
                  "o": (570, 840, 2410), "u": (300, 870, 2240)}
FORMANT_BANDWIDTHS = (80.0, 100.0, 140.0)

#: Fixed gain that keeps the loudest emotion below full scale (no per-clip normalisation,
#: so loudness differences between emotions survive).
OUTPUT_GAIN = 0.35


@dataclass(frozen=True)
class Speaker:
    """A voice: pitch register, speaking rate, vocal-tract length and voice quality."""

    id: str
    gender: str
    f0: float              # neutral mean F0 in Hz
    rate: float            # syllables per second when neutral
    formant_scale: float   # > 1: shorter vocal tract (higher formants)
    tension: float         # added to the emotion's tension
    breath: float          # added aspiration noise
    expressiveness: float  # how strongly this speaker shows emotion (1 = as the table says)
    quirk_seed: int        # seed of the speaker's own small per-emotion habits


def make_speaker(index: int, seed: int = 0) -> Speaker:
    """Speaker number ``index`` (even: female, odd: male), drawn from ``seed``."""
    rng = np.random.default_rng([seed, index, 7])
    female = index % 2 == 0
    return Speaker(
        id=f"s{index:02d}", gender="female" if female else "male",
        f0=float(rng.uniform(185, 235) if female else rng.uniform(95, 135)),
        rate=float(rng.uniform(3.8, 5.2)),
        formant_scale=float(rng.uniform(1.12, 1.20) if female else rng.uniform(0.95, 1.03)),
        tension=float(rng.uniform(-0.15, 0.15)), breath=float(rng.uniform(0.0, 0.03)),
        expressiveness=float(rng.uniform(0.6, 1.2)), quirk_seed=int(rng.integers(1 << 30)),
    )


def emotion_prosody(emotion: str, speaker: Speaker) -> dict[str, float]:
    """The prosody a speaker uses for an emotion: the table, scaled by the speaker's
    expressiveness and shifted by the speaker's own habits."""
    if emotion not in EMOTION_PROSODY:
        raise ConfigError(f"unknown emotion {emotion!r}; choose one of {EMOTIONS}")
    base, target = EMOTION_PROSODY["neutral"], EMOTION_PROSODY[emotion]
    k = speaker.expressiveness
    p = {key: base[key] + k * (target[key] - base[key]) for key in base}
    quirk = np.random.default_rng([speaker.quirk_seed, EMOTIONS.index(emotion)])
    p["f0"] *= float(np.exp(quirk.normal(0, 0.06)))
    p["rate"] *= float(np.exp(quirk.normal(0, 0.08)))
    p["gain_db"] += float(quirk.normal(0, 1.5))
    p["accent"] = max(0.3, p["accent"] + float(quirk.normal(0, 0.8)))
    return p


def resonator(freq: float, bandwidth: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients ``(b, a)`` of a second-order resonator (one formant) with unit gain at 0 Hz."""
    r = np.exp(-np.pi * bandwidth / sr)
    theta = 2 * np.pi * freq / sr
    a = np.array([1.0, -2 * r * np.cos(theta), r * r])
    return np.array([a.sum()]), a


def vowel_filter(x: np.ndarray, vowel: str, sr: int, formant_scale: float = 1.0) -> np.ndarray:
    """Pass ``x`` through the cascade of the vowel's formant resonators."""
    for f, bw in zip(VOWEL_FORMANTS[vowel], FORMANT_BANDWIDTHS):
        b, a = resonator(min(f * formant_scale, 0.45 * sr), bw, sr)
        x = lfilter(b, a, x)
    return x


def f0_contour(n: int, sr: int, f0: float, syllable_bounds: np.ndarray, accented: np.ndarray,
               accent: float, decl: float) -> np.ndarray:
    """F0 in Hz per sample: declination (a fall of ``decl`` semitones around ``f0``)
    plus a raised-cosine bump of ``accent`` semitones on each accented syllable."""
    t = np.arange(n) / n
    semitones = decl * (0.5 - t)
    for (start, stop), acc in zip(syllable_bounds, accented):
        if acc:
            seg = np.arange(start, stop)
            semitones[seg] += accent * np.sin(np.pi * (seg - start) / max(stop - start, 1)) ** 2
    return f0 * 2.0 ** (semitones / 12)


def glottal_source(f0: np.ndarray, sr: int, jitter: float, shimmer: float, tension: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Pulse train following ``f0`` (Hz per sample) with jitter (period noise) and
    shimmer (amplitude noise), low-passed by a one-pole filter: the pole is closer
    to 1 for lax voices, which gives them a steeper spectral tilt."""
    n = len(f0)
    pulses = np.zeros(n)
    pos = 0.0
    while pos < n:
        i = int(pos)
        pulses[i] += max(0.0, 1.0 + shimmer * rng.standard_normal())
        pos += sr / f0[i] * (1.0 + jitter * rng.standard_normal())
    pole = 0.98 - 0.25 * float(np.clip(tension, 0.0, 1.0))
    source = lfilter([1.0 - pole], [1.0, -pole], pulses)  # unit gain at 0 Hz
    return source - lfilter([1.0], [1.0, -0.995], source) * (1 - 0.995)  # remove the slow DC drift


def syllable_plan(duration: float, rate: float, sr: int, rng: np.random.Generator):
    """Syllable boundaries (samples), vowels and accent flags for an utterance of
    ``duration`` seconds spoken at ``rate`` syllables per second."""
    n_syll = max(2, int(round(duration * rate)))
    lengths = rng.uniform(0.7, 1.3, n_syll)
    edges = np.concatenate([[0], np.cumsum(lengths)]) / lengths.sum() * duration * sr
    edges = edges.astype(int)
    bounds = np.stack([edges[:-1], edges[1:]], axis=1)
    vowels = rng.choice(list(VOWEL_FORMANTS), n_syll)
    accented = rng.random(n_syll) < 0.35
    accented[rng.integers(n_syll)] = True  # at least one accent
    return bounds, vowels, accented


def synthesize(emotion: str, speaker: Speaker | int = 0, seed: int = 0, sr: int = 16000,
               duration: float = 1.5, return_info: bool = False):
    """One utterance of ``duration`` seconds as float32 samples in [-1, 1].

    ``speaker`` is a :class:`Speaker` or an index for :func:`make_speaker`.
    With ``return_info=True`` also returns a dict with the F0 contour per sample
    (``f0``), the voiced mask (``voiced``), the syllables and the prosody used.
    """
    if not isinstance(speaker, Speaker):
        speaker = make_speaker(int(speaker))
    p = emotion_prosody(emotion, speaker)
    rng = np.random.default_rng([seed, EMOTIONS.index(emotion), speaker.quirk_seed, 11])
    # utterance-level variation: no two renditions are identical
    f0 = speaker.f0 * p["f0"] * float(np.exp(rng.normal(0, 0.04)))
    rate = speaker.rate * p["rate"] * float(np.exp(rng.normal(0, 0.05)))
    gain_db = p["gain_db"] + float(rng.normal(0, 1.0))
    n = int(duration * sr)
    bounds, vowels, accented = syllable_plan(duration, rate, sr, rng)
    contour = f0_contour(n, sr, f0, bounds, accented, p["accent"], p["decl"])
    if emotion == "fear":  # a trembling voice: 6 Hz vibrato of half a semitone
        contour *= 2.0 ** (0.5 * np.sin(2 * np.pi * 6.0 * np.arange(n) / sr) / 12)
    tension = p["tension"] + speaker.tension
    source = glottal_source(contour, sr, p["jitter"], p["shimmer"], tension, rng)
    breath = (p["breath"] + speaker.breath) * 3.0 * source.std()   # aspiration noise, relative to the voice
    source = source + breath * rng.standard_normal(n)

    # vowel of each syllable: filter the whole source once per vowel, then cross-fade
    voiced = np.zeros(n, dtype=bool)
    envelope = np.zeros(n)
    speech = np.zeros(n)
    filtered = {v: vowel_filter(source, v, sr, speaker.formant_scale) for v in sorted(set(vowels))}
    consonant = lfilter([1, -1], [1], rng.standard_normal(n)) * 0.15  # high-passed noise
    for (start, stop), vowel in zip(bounds, vowels):
        length = stop - start
        cons = int(0.22 * length)                         # consonant, then vowel
        v_start = start + cons
        vlen = stop - v_start
        env = np.sin(np.pi * np.arange(vlen) / vlen) ** 0.7  # syllable energy envelope
        env *= float(np.exp(rng.normal(0, 0.15)))
        speech[v_start:stop] += filtered[vowel][v_start:stop] * env
        envelope[v_start:stop] = env
        voiced[v_start:stop] = env > 0.2
        burst = np.hanning(cons) if cons > 1 else np.ones(cons)
        speech[start:v_start] += consonant[start:v_start] * burst
    audio = OUTPUT_GAIN * 10 ** (gain_db / 20) * speech
    audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
    if not return_info:
        return audio
    info = {"f0": contour.astype(np.float32), "voiced": voiced, "envelope": envelope.astype(np.float32),
            "syllables": bounds, "vowels": list(vowels), "accented": accented, "prosody": p,
            "speaker": asdict(speaker), "sr": sr}
    return audio, info


def make_corpus(n_speakers: int = 6, n_per_emotion: int = 4, seed: int = 0, sr: int = 16000,
                duration: float = 1.5, emotions: list[str] | None = None) -> Corpus:
    """A small acted-speech corpus: every speaker says ``n_per_emotion`` utterances
    in every emotion. One split, ``"all"``, with ``id``, ``audio`` (float32
    waveforms), ``speaker``, ``gender``, ``emotion`` and ``sr``; split it by
    speaker (leave-one-speaker-out) to test on unseen voices."""
    emotions = list(emotions or EMOTIONS)
    cols: dict[str, list] = {k: [] for k in ("id", "audio", "speaker", "gender", "emotion", "sr")}
    for s in range(n_speakers):
        spk = make_speaker(s, seed)
        for emotion in emotions:
            for k in range(n_per_emotion):
                cols["id"].append(f"{spk.id}_{emotion}_{k}")
                cols["audio"].append(synthesize(emotion, spk, seed=seed * 1000 + k, sr=sr, duration=duration))
                cols["speaker"].append(spk.id)
                cols["gender"].append(spk.gender)
                cols["emotion"].append(emotion)
                cols["sr"].append(sr)
    return Corpus(name="synthetic_speech", splits={"all": cols}, aligned=False, label_range=0.0,
                  info={"emotion_classes": emotions, "sr": sr, "seed": seed, "duration": duration,
                        "speakers": [make_speaker(s, seed) for s in range(n_speakers)]})
