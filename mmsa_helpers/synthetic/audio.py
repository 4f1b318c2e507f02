"""Frame-level acoustic descriptors of the synthetic corpus (chapter 2, "Audio").

The names follow the descriptors of COVAREP and openSMILE/eGeMAPS. Unvoiced
frames have ``f0_hz``, ``jitter_pct``, ``shimmer_db`` and ``hnr_db`` equal to 0,
as COVAREP writes them: a 0 there means "no pitch", not "very low pitch".

How the voice's sentiment ``y_a`` shows (scaled by the speaker's vocal
expressiveness): higher and livelier pitch, a flatter pitch fall, slightly
louder, cleaner voice (less jitter/shimmer, more harmonic), brighter spectrum,
and a "smiling" shift of the second cepstral coefficient. Arousal -- how
activated the speaker is, whatever the sentiment -- moves loudness, pitch and
tilt too, and is a nuisance a model has to see past.
"""
from __future__ import annotations

import numpy as np

from .speakers import Speaker
from .timing import AUDIO_FPS, frame_times, smooth, word_index

AUDIO_FEATURES: list[str] = [
    "f0_hz", "voicing", "loudness_db", "energy_delta", "jitter_pct", "shimmer_db",
    "hnr_db", "spectral_tilt", "mfcc1", "mfcc2", "mfcc3", "mfcc4",
]
AUDIO_DESCRIPTIONS: dict[str, str] = {
    "f0_hz": "fundamental frequency (pitch) in Hz; 0 when unvoiced",
    "voicing": "probability that the frame is voiced",
    "loudness_db": "frame energy in dB",
    "energy_delta": "change of loudness from the previous frame (dB)",
    "jitter_pct": "cycle-to-cycle pitch perturbation (%); 0 when unvoiced",
    "shimmer_db": "cycle-to-cycle amplitude perturbation (dB); 0 when unvoiced",
    "hnr_db": "harmonics-to-noise ratio (dB); 0 when unvoiced",
    "spectral_tilt": "slope of the spectrum (dB/octave); higher = brighter voice",
    "mfcc1": "1st cepstral coefficient (overall level)",
    "mfcc2": "2nd cepstral coefficient (spectral balance)",
    "mfcc3": "3rd cepstral coefficient",
    "mfcc4": "4th cepstral coefficient",
}


def audio_frames(
    spans: np.ndarray,
    duration: float,
    y_a: float,
    arousal: float,
    spk: Speaker,
    rng: np.random.Generator,
    noise: float = 1.0,
) -> np.ndarray:
    """Acoustic descriptors, shape ``(frames, len(AUDIO_FEATURES))``, float32."""
    t = frame_times(duration, AUDIO_FPS)
    n = len(t)
    w = word_index(t, spans)
    speaking = w >= 0
    voiced = speaking & (rng.random(n) < 0.82)
    e = spk.vocal_expressiveness

    # pitch: a contour in semitones around the utterance mean
    mean_st = 0.3 * e * y_a + 0.7 * arousal
    spread = max(0.4, spk.f0_range * (1 + 0.06 * e * y_a + 0.15 * arousal))
    accents = rng.normal(0, spread, len(spans) + 1)[w]           # one accent per word
    fall = (-2.0 + 0.25 * y_a) * (t / t[-1] - 0.5)                 # declination
    st = mean_st + fall + smooth(accents, 3) + smooth(rng.normal(0, 0.4 * noise, n), 3)
    f0 = spk.f0_base * 2.0 ** (st / 12.0)

    loud_word = rng.normal(0, 1.5, len(spans) + 1)[w]
    loud = spk.loudness + 2.5 * arousal + 0.3 * e * y_a + loud_word
    loud = np.where(speaking, loud, spk.loudness - 24.0) + rng.normal(0, 1.0 * noise, n)
    loud = smooth(loud, 2)

    jitter = spk.jitter * np.exp(-0.06 * e * y_a + 0.05 * arousal + rng.normal(0, 0.15 * noise, n))
    shimmer = spk.shimmer * np.exp(-0.05 * e * y_a + rng.normal(0, 0.15 * noise, n))
    hnr = spk.hnr + 0.5 * e * y_a - 0.5 * arousal + rng.normal(0, 1.5 * noise, n)
    tilt = spk.tilt + 0.9 * arousal + 0.15 * y_a + rng.normal(0, 0.8 * noise, n) - 4.0 * ~speaking

    phones = rng.normal(0, 0.6, (len(spans) + 1, 3))[w]          # what is being said
    mfcc = np.column_stack([
        (loud - 60.0) / 5.0 + spk.timbre[0] + rng.normal(0, 0.3 * noise, n),
        spk.timbre[1] + 0.12 * e * y_a + phones[:, 0] + rng.normal(0, 0.3 * noise, n),
        spk.timbre[2] + phones[:, 1] + rng.normal(0, 0.3 * noise, n),
        spk.timbre[3] + phones[:, 2] + rng.normal(0, 0.3 * noise, n),
    ])
    voicing = np.clip(np.where(voiced, 0.85, 0.1) + rng.normal(0, 0.08 * noise, n), 0, 1)
    unvoiced = ~voiced
    f0[unvoiced] = jitter[unvoiced] = shimmer[unvoiced] = hnr[unvoiced] = 0.0
    delta = np.diff(loud, prepend=loud[0])
    out = np.column_stack([f0, voicing, loud, delta, jitter, shimmer, hnr, tilt, mfcc])
    return out.astype(np.float32)
