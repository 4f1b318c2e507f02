"""Speakers of the synthetic corpus and their habits (chapter 2, "Speakers").

Each speaker has a voice (pitch level and range, loudness, voice quality, speaking
rate), a face (resting smile or frown, how expressive it is, head-movement habits)
and an opinion bias (some reviewers like most films). Models must see past these
individual styles, which is why train/valid/test are split by speaker.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Speaker:
    speaker_id: str
    gender: str              # "f" or "m": sets the pitch register
    f0_base: float           # Hz, mean pitch of a neutral utterance
    f0_range: float          # semitones, standard deviation of pitch within an utterance
    loudness: float          # dB, mean loudness
    jitter: float            # %, cycle-to-cycle pitch perturbation
    shimmer: float           # dB, cycle-to-cycle amplitude perturbation
    hnr: float               # dB, harmonics-to-noise ratio
    tilt: float              # dB/octave, spectral tilt
    timbre: tuple[float, float, float, float]  # mean MFCC-like coefficients 1-4
    rate: float              # speaking rate multiplier (1 = average)
    vocal_expressiveness: float   # how strongly sentiment shows in the voice
    facial_expressiveness: float  # how strongly sentiment shows on the face
    resting_smile: float     # baseline AU12 intensity (0-5 scale)
    resting_frown: float     # baseline AU04 intensity
    head_motion: float       # degrees, typical head movement
    opinion_bias: float      # added to every utterance's underlying sentiment


def make_speakers(n: int, rng: np.random.Generator, prefix: str = "spk") -> list[Speaker]:
    """Draw ``n`` speakers with independent habits."""
    out = []
    for i in range(n):
        female = rng.random() < 0.5
        out.append(
            Speaker(
                speaker_id=f"{prefix}{i:03d}",
                gender="f" if female else "m",
                f0_base=float(rng.normal(205, 22) if female else rng.normal(115, 14)),
                f0_range=float(np.clip(rng.normal(2.2, 0.5), 0.8, 4.0)),
                loudness=float(rng.normal(62, 3)),
                jitter=float(np.clip(rng.normal(1.0, 0.2), 0.4, 2.0)),
                shimmer=float(np.clip(rng.normal(0.45, 0.08), 0.2, 0.9)),
                hnr=float(rng.normal(14, 2)),
                tilt=float(rng.normal(-8, 1.2)),
                timbre=tuple(float(x) for x in rng.normal(0, 1.0, 4)),
                rate=float(np.clip(rng.normal(1.0, 0.1), 0.75, 1.3)),
                vocal_expressiveness=float(np.exp(rng.normal(0, 0.35))),
                facial_expressiveness=float(np.exp(rng.normal(0, 0.35))),
                resting_smile=float(np.clip(rng.gamma(1.2, 0.35), 0, 2.0)),
                resting_frown=float(np.clip(rng.gamma(1.2, 0.3), 0, 2.0)),
                head_motion=float(np.clip(rng.normal(2.5, 0.8), 0.8, 5.0)),
                opinion_bias=float(rng.normal(0, 0.5)),
            )
        )
    return out
