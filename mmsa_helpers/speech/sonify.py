"""Hear an utterance's acoustic frames (chapter 13's explorer).

The embedded corpus stores no waveforms, only frame descriptors (pitch, voicing,
loudness ... 20 frames per second), and nothing can turn those back into the
speaker's voice. :func:`sonify` makes an honest stand-in: a hummed vowel whose
pitch follows ``f0_hz``, whose loudness follows ``loudness_db`` and which is
silent where ``voicing`` says the frame is unvoiced. It uses the glottal source
and formant filter of chapter 7's synthesiser (:mod:`.synthesis`). What you hear
is the melody and the dynamics the models read, not words and not a timbre.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import MMSADataError
from .synthesis import glottal_source, vowel_filter

NEEDED = ("f0_hz", "voicing", "loudness_db")


def sonify(frames: np.ndarray, feature_names: Sequence[str], fps: float = 20.0, sr: int = 16000,
           seed: int = 0) -> np.ndarray:
    """A waveform (float32 in [-1, 1], ``sr`` samples per second) that hums the frames' pitch
    and loudness; all zeros for an empty or silent stream (a dropped modality is silence)."""
    names = list(feature_names)
    absent = [k for k in NEEDED if k not in names]
    if absent:
        raise MMSADataError(f"sonify needs the frame features {list(NEEDED)}; these frames lack {absent} "
                            f"(they have {names})")
    x = np.asarray(frames, dtype=float).reshape(-1, len(names))
    n_samples = int(round(len(x) / fps * sr))
    if len(x) == 0 or n_samples == 0:
        return np.zeros(0, np.float32)
    f0, voicing, loud = (x[:, names.index(k)] for k in NEEDED)
    voiced = (f0 > 0) & (voicing > 0.5)
    if not voiced.any():
        return np.zeros(n_samples, np.float32)
    t_frames, t = (np.arange(len(x)) + 0.5) / fps, np.arange(n_samples) / sr
    pitch = np.interp(t, t_frames[voiced], f0[voiced])                   # glide through unvoiced frames
    gate = np.interp(t, t_frames, voiced.astype(float))
    amp = np.interp(t, t_frames, 10 ** ((loud - loud[voiced].max()) / 20))
    source = glottal_source(np.clip(pitch, 50, 500), sr, jitter=0.005, shimmer=0.05, tension=0.5,
                            rng=np.random.default_rng(seed))
    y = vowel_filter(source, "a", sr) * amp * gate
    peak = np.abs(y).max()
    return (0.9 * y / peak if peak > 0 else y).astype(np.float32)
