"""Acoustic features of speech (chapter 7, "Speech").

Two levels, the way openSMILE and eGeMAPS describe a voice:

* **Frame-level descriptors** (low-level descriptors, LLDs), one row per 10 ms
  frame: MFCCs, log F0 (semitones, from librosa's YIN), a voicing flag, RMS
  energy in dB, zero-crossing rate, spectral centroid, roll-off and flatness
  (:func:`frame_descriptors`); and a log-mel spectrogram (:func:`log_mel`).
* **Utterance functionals**, statistics of each descriptor over time: mean,
  standard deviation, 10th/50th/90th percentiles and the slope of a line fitted
  over time (:func:`functionals`). F0 statistics use voiced frames only.

:func:`extract_files` computes both for a list of wav files and caches them
under ``cache_dir() / "speech"``, keyed by a hash of each file's content.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

SR = 16000
HOP = 160           # 10 ms at 16 kHz
N_FFT = 512         # 32 ms
N_MELS = 40
N_MFCC = 13
F0_MIN, F0_MAX = 60.0, 500.0
#: Bump when the features change: cached files of other versions are ignored.
FEATURE_VERSION = 2

DESCRIPTOR_NAMES = ([f"mfcc{i + 1}" for i in range(N_MFCC)]
                    + ["logf0", "voiced", "rms_db", "zcr", "centroid", "rolloff", "flatness"])
STATISTICS = ("mean", "std", "p10", "p50", "p90", "slope")
#: Descriptors whose frame-to-frame change (delta) is summarised too.
DELTA_NAMES = [f"mfcc{i + 1}" for i in range(N_MFCC)] + ["rms_db"]


def log_mel(y: np.ndarray, sr: int = SR, n_mels: int = N_MELS) -> np.ndarray:
    """Log-mel spectrogram in dB, shape (frames, n_mels)."""
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=N_FFT, hop_length=HOP, n_mels=n_mels,
                                         fmax=sr / 2)
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10).T.astype(np.float32)


def f0_track(y: np.ndarray, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """F0 in Hz per frame (YIN) and a voicing flag: loud enough frames whose
    YIN estimate is not at the search limits."""
    import librosa

    f0 = librosa.yin(y, fmin=F0_MIN, fmax=F0_MAX, sr=sr, frame_length=1024, hop_length=HOP)
    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0]
    n = min(len(f0), len(rms))
    f0, rms = f0[:n], rms[:n]
    loud = 20 * np.log10(rms + 1e-10) > 20 * np.log10(rms.max() + 1e-10) - 25
    voiced = loud & (f0 > F0_MIN * 1.05) & (f0 < F0_MAX * 0.95)
    return f0.astype(np.float32), voiced


def frame_descriptors(y: np.ndarray, sr: int = SR, mel_db: np.ndarray | None = None) -> np.ndarray:
    """Low-level descriptors, shape (frames, len(DESCRIPTOR_NAMES)); ``mel_db``: the
    waveform's :func:`log_mel`, if already computed (the MFCCs are taken from it)."""
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if mel_db is None:
        mel_db = log_mel(y, sr, N_MELS)
    mfcc = librosa.feature.mfcc(S=mel_db.T, n_mfcc=N_MFCC).T
    f0, voiced = f0_track(y, sr)
    kw = dict(n_fft=N_FFT, hop_length=HOP)
    rms_db = 20 * np.log10(librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0] + 1e-5)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=N_FFT, hop_length=HOP)[0]
    centroid = librosa.feature.spectral_centroid(y=y, sr=sr, **kw)[0] / 1000.0   # kHz
    rolloff = librosa.feature.spectral_rolloff(y=y, sr=sr, **kw)[0] / 1000.0
    flatness = librosa.feature.spectral_flatness(y=y, **kw)[0]
    n = min(len(mfcc), len(f0), len(rms_db), len(zcr), len(centroid))
    logf0 = np.where(voiced, 12 * np.log2(np.maximum(f0, 1.0) / 27.5), 0.0)   # semitones above A0
    cols = [mfcc[:n], logf0[:n, None], voiced[:n, None], rms_db[:n, None], zcr[:n, None],
            centroid[:n, None], rolloff[:n, None], flatness[:n, None]]
    return np.concatenate(cols, axis=1).astype(np.float32)


def _stats(x: np.ndarray) -> list[float]:
    if len(x) == 0:
        return [0.0] * len(STATISTICS)
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    slope = float(np.polyfit(np.arange(len(x)) / 100.0, x, 1)[0]) if len(x) > 1 else 0.0  # per second
    return [float(x.mean()), float(x.std()), p10, p50, p90, slope]


def functionals(lld: np.ndarray, names: list[str] = DESCRIPTOR_NAMES) -> np.ndarray:
    """Utterance functionals of ``lld`` (frames, descriptors): each statistic of
    :data:`STATISTICS` per descriptor (F0 over voiced frames only), the share
    of voiced frames, then the mean absolute delta and the delta's standard
    deviation of each of :data:`DELTA_NAMES` (how fast the spectrum and the
    loudness change). Shape (len(functional_names()),)."""
    voiced = lld[:, names.index("voiced")] > 0.5
    out = []
    for j, name in enumerate(names):
        x = lld[:, j]
        if name == "logf0":
            x = x[voiced]
        out.extend(_stats(x))
    out.append(float(voiced.mean()))
    delta = np.diff(lld[:, [names.index(n) for n in DELTA_NAMES]], axis=0)
    if len(delta) == 0:
        delta = np.zeros((1, len(DELTA_NAMES)), np.float32)
    out.extend(np.abs(delta).mean(0))
    out.extend(delta.std(0))
    return np.asarray(out, dtype=np.float32)


def functional_names(names: list[str] = DESCRIPTOR_NAMES) -> list[str]:
    """Column names of :func:`functionals`, e.g. ``"logf0_mean"``."""
    return ([f"{n}_{s}" for n in names for s in STATISTICS] + ["voiced_share"]
            + [f"d_{n}_absmean" for n in DELTA_NAMES] + [f"d_{n}_std" for n in DELTA_NAMES])


def utterance_features(y: np.ndarray, sr: int = SR) -> dict[str, np.ndarray]:
    """``{"lld": (T, D), "logmel": (T, n_mels), "functionals": (F,)}`` of one waveform."""
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if sr != SR:
        y, sr = librosa.resample(y, orig_sr=sr, target_sr=SR), SR
    mel = log_mel(y, sr)
    lld = frame_descriptors(y, sr, mel_db=mel)
    return {"lld": lld, "logmel": mel[: len(lld)], "functionals": functionals(lld)}


def speech_cache_dir() -> Path:
    from ..models.pretrained_text import cache_dir

    return cache_dir() / "speech"


def _version_tag() -> bytes:
    return f"v{FEATURE_VERSION}-sr{SR}-hop{HOP}-mels{N_MELS}-mfcc{N_MFCC}".encode()


def file_key(path: str | Path) -> str:
    """Hash of a file's bytes and of the feature version: the cache key."""
    h = hashlib.sha1(Path(path).read_bytes())
    h.update(_version_tag())
    return h.hexdigest()


def waveform_key(y: np.ndarray, sr: int) -> str:
    """Hash of a waveform's samples, its rate and the feature version."""
    h = hashlib.sha1(np.ascontiguousarray(y, dtype=np.float32).tobytes())
    h.update(f"-{sr}-".encode() + _version_tag())
    return h.hexdigest()


def _cached(key: str | None, compute) -> dict[str, np.ndarray]:
    """``compute()``, stored as ``<cache_dir>/speech/<key>.npz`` and read back next time
    (no cache when ``key`` is None)."""
    if key is None:
        return compute()
    folder = speech_cache_dir()
    target = folder / f"{key}.npz"
    if target.is_file():
        with np.load(target) as z:
            return {k: z[k] for k in z.files}
    feats = compute()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **feats)
    tmp.replace(target)   # atomic: a reader never sees half a file
    return feats


def extract_waveforms(waveforms, sr: int = SR, cache: bool = False) -> list[dict[str, np.ndarray]]:
    """:func:`utterance_features` for each waveform of a list; with ``cache``,
    stored on disk keyed by a hash of the samples (see :func:`extract_files`)."""
    return [_cached(waveform_key(y, sr) if cache else None, lambda y=y: utterance_features(y, sr))
            for y in waveforms]


def extract_files(paths, cache: bool = True) -> list[dict[str, np.ndarray]]:
    """Features of each wav file (resampled to 16 kHz, mono). With ``cache``, each
    result is stored as ``<cache_dir>/speech/<hash>.npz`` and read back next time;
    a changed file has another hash, so stale features are never used."""
    import librosa

    from ..errors import MMSADataError

    def compute(path):
        try:
            with warnings.catch_warnings():  # librosa's fallback chatter; a failure raises below
                warnings.filterwarnings("ignore", "PySoundFile failed", UserWarning)
                warnings.filterwarnings("ignore", category=FutureWarning)
                y, sr = librosa.load(path, sr=SR, mono=True)
        except Exception as err:  # soundfile/audioread raise many kinds of errors
            raise MMSADataError(f"{path} could not be read as audio ({type(err).__name__}: {err}); "
                                "replace it with a valid .wav file or remove it") from err
        if len(y) < N_FFT:
            raise MMSADataError(f"{path} is {len(y) / SR * 1000:.0f} ms long; an utterance needs at least "
                                f"{N_FFT / SR * 1000:.0f} ms of audio")
        if not np.isfinite(y).all():
            raise MMSADataError(f"{path} holds NaN or infinite samples; re-export the file")
        return utterance_features(y, sr)

    return [_cached(file_key(path) if cache else None, lambda p=path: compute(p)) for path in paths]
