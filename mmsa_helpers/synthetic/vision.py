"""Frame-level facial descriptors of the synthetic corpus (chapter 2, "Vision").

Columns are action-unit intensities on OpenFace's 0-5 scale (named ``AUxx_r``
like OpenFace output) and head pose in degrees. A face shows sentiment through
*expression events* with an onset, an apex and an offset: smiles (AU12 lip
corner puller, often with AU6 cheek raiser -- the Duchenne smile) for positive
``y_v``; frowns, sad mouths and disgust (AU4, AU15, AU17, AU9, AU10) for
negative ``y_v``. Positive speakers nod, some negative ones shake their heads.
AU25/AU26 (lips part, jaw drop) follow the words being spoken. Each speaker has
a resting face (some smile a little all the time, some frown) and their own
expressiveness, so raw intensities are not comparable across people.
"""
from __future__ import annotations

import numpy as np

from .speakers import Speaker
from .timing import VISION_FPS, frame_times, smooth, word_index

VISION_FEATURES: list[str] = [
    "AU01_r", "AU02_r", "AU04_r", "AU06_r", "AU07_r", "AU09_r", "AU10_r", "AU12_r",
    "AU14_r", "AU15_r", "AU17_r", "AU25_r", "AU26_r", "pose_pitch", "pose_yaw", "pose_roll",
]
VISION_DESCRIPTIONS: dict[str, str] = {
    "AU01_r": "inner brow raiser", "AU02_r": "outer brow raiser", "AU04_r": "brow lowerer",
    "AU06_r": "cheek raiser", "AU07_r": "lid tightener", "AU09_r": "nose wrinkler",
    "AU10_r": "upper lip raiser", "AU12_r": "lip corner puller (smile)", "AU14_r": "dimpler",
    "AU15_r": "lip corner depressor", "AU17_r": "chin raiser", "AU25_r": "lips part",
    "AU26_r": "jaw drop", "pose_pitch": "head pitch in degrees (nodding)",
    "pose_yaw": "head yaw in degrees (shaking)", "pose_roll": "head roll in degrees (tilting)",
}
#: Mean number of expression events per utterance unrelated to the sentiment (polite smiles ...).
SPURIOUS_EVENTS = 0.6
_AU = {name: i for i, name in enumerate(VISION_FEATURES)}

#: Expression patterns: action-unit weights of each kind of event.
POSITIVE_PATTERNS = [
    {"AU12_r": 1.0, "AU06_r": 0.75, "AU25_r": 0.3},               # Duchenne smile
    {"AU12_r": 1.0, "AU25_r": 0.2},                               # social smile
    {"AU12_r": 0.8, "AU06_r": 0.6, "AU01_r": 0.35, "AU02_r": 0.35, "AU26_r": 0.4},  # delighted
]
NEGATIVE_PATTERNS = [
    {"AU01_r": 0.6, "AU04_r": 0.8, "AU15_r": 1.0, "AU17_r": 0.6},  # sad
    {"AU04_r": 1.0, "AU07_r": 0.7, "AU09_r": 0.5, "AU10_r": 0.6, "AU17_r": 0.4},  # disgust/anger
    {"AU14_r": 0.9, "AU04_r": 0.4},                               # contempt
]


def envelope(t: np.ndarray, start: float, onset: float, apex: float, offset: float) -> np.ndarray:
    """Onset-apex-offset curve in [0, 1]: rises over ``onset`` s, holds ``apex`` s, decays over ``offset`` s."""
    rise = np.clip((t - start) / onset, 0, 1)
    fall = np.clip(1 - (t - start - onset - apex) / offset, 0, 1)
    return np.minimum(rise, fall)


def vision_frames(
    spans: np.ndarray,
    duration: float,
    y_v: float,
    spk: Speaker,
    rng: np.random.Generator,
    noise: float = 1.0,
) -> np.ndarray:
    """Facial descriptors, shape ``(frames, len(VISION_FEATURES))``, float32."""
    t = frame_times(duration, VISION_FPS)
    n = len(t)
    x = np.zeros((n, len(VISION_FEATURES)))
    x[:, _AU["AU12_r"]] += spk.resting_smile
    x[:, _AU["AU04_r"]] += spk.resting_frown
    x[:, :13] += 0.15
    fe = spk.facial_expressiveness

    # expression events: most follow y_v; a few are social signals of either sign
    n_events = 1 + rng.poisson(0.35 * abs(y_v) * fe)
    n_spurious = rng.poisson(SPURIOUS_EVENTS)
    nod = np.zeros(n)
    shake = np.zeros(n)
    for k in range(n_events + n_spurious):
        positive = (y_v > 0) if k < n_events else (rng.random() < 0.5)
        patterns = POSITIVE_PATTERNS if positive else NEGATIVE_PATTERNS
        pattern = patterns[int(rng.integers(len(patterns)))]
        strength = abs(y_v) * rng.uniform(0.3, 0.6) if k < n_events else rng.uniform(0.3, 1.0)
        amp = fe * strength
        start = rng.uniform(-0.3, max(0.0, duration - 0.8))
        env = envelope(t, start, rng.uniform(0.2, 0.5), rng.uniform(0.4, 1.6), rng.uniform(0.3, 0.8))
        for au, weight in pattern.items():
            x[:, _AU[au]] += amp * weight * env
        if positive:
            nod += 0.5 * amp * env
        elif rng.random() < 0.4:
            shake += 0.6 * amp * env

    speaking = word_index(t, spans) >= 0
    x[:, _AU["AU25_r"]] += smooth(speaking * rng.uniform(0.8, 1.6, n), 2)
    x[:, _AU["AU26_r"]] += speaking * 0.5 * (1 + np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6.3)))
    x[:, :13] += rng.normal(0, 0.2 * noise, (n, 13))
    x[:, :13] = np.clip(x[:, :13], 0.0, 5.0)

    def drift(scale: float) -> np.ndarray:
        return smooth(np.cumsum(rng.normal(0, scale, n)) * 0.3, 5)

    hm = spk.head_motion
    x[:, 13] = rng.normal(0, 3) + drift(0.3 * hm) + nod * np.sin(2 * np.pi * 2.0 * t)
    x[:, 14] = rng.normal(0, 4) + drift(0.3 * hm) + shake * np.sin(2 * np.pi * 2.5 * t)
    x[:, 15] = rng.normal(0, 2) + drift(0.15 * hm)
    x[:, 13:] += rng.normal(0, 0.5 * noise, (n, 3))
    return x.astype(np.float32)
