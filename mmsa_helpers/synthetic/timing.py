"""When each word is spoken (chapter 2, "Aligned and unaligned").

Audio and vision are sampled at fixed frame rates; words have durations that
depend on their length and the speaker's rate. Word spans are kept so the
aligned view can average frames within each word, as MMSA's aligned files do.
"""
from __future__ import annotations

import numpy as np

AUDIO_FPS = 20.0   # acoustic descriptors every 50 ms
VISION_FPS = 15.0  # facial descriptors every 67 ms
LEAD_SILENCE = 0.25  # seconds before the first and after the last word


def word_spans(words: list[str], rate: float, rng: np.random.Generator, base: float = 0.10,
               per_char: float = 0.055) -> tuple[np.ndarray, float]:
    """Start and end time (seconds) of each word, and the utterance duration.

    A word lasts ``base + per_char * len(word)`` seconds at rate 1: English letters are
    short (0.055 s); a Chinese character is a syllable (0.2 s, chapter 15).
    """
    spans = np.zeros((len(words), 2), dtype=np.float32)
    t = LEAD_SILENCE
    for i, w in enumerate(words):
        dur = (base + per_char * len(w)) * float(np.exp(rng.normal(0, 0.12))) / rate
        spans[i] = (t, t + dur)
        t += dur
        if rng.random() < 0.12:  # a short pause between words
            t += float(rng.uniform(0.1, 0.35))
    return spans, t + LEAD_SILENCE


def frame_times(duration: float, fps: float) -> np.ndarray:
    """Centre time of every frame of an utterance."""
    n = max(1, int(round(duration * fps)))
    return (np.arange(n) + 0.5) / fps


def word_index(times: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Index of the word spoken at each time, -1 in silence."""
    idx = np.full(len(times), -1, dtype=np.int64)
    for i, (a, b) in enumerate(spans):
        idx[(times >= a) & (times < b)] = i
    return idx


def average_per_word(frames: np.ndarray, times: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Word-level alignment: mean of the frames inside each word (nearest frame if none)."""
    out = np.zeros((len(spans), frames.shape[1]), dtype=np.float32)
    for i, (a, b) in enumerate(spans):
        inside = (times >= a) & (times < b)
        if inside.any():
            out[i] = frames[inside].mean(axis=0)
        else:
            out[i] = frames[int(np.argmin(np.abs(times - (a + b) / 2)))]
    return out


def smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Moving average along time (keeps length)."""
    if width <= 1:
        return x
    k = np.ones(width) / width
    return np.convolve(np.pad(x, (width // 2, width - 1 - width // 2), mode="edge"), k, mode="valid")
