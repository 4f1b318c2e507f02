"""Speech-emotion experiments over seeds (what ``train -d emodb`` / ``-d synthetic_speech`` runs).

>>> record = run_emotion_experiment("synthetic_speech", "audio_svm")
>>> record["test"]["UAR"]["mean"]

Protocols, always speaker-independent:

* without ``eval_root``: leave one speaker out over every speaker of the dataset;
* with ``eval_root`` (EMO-DB only): train on the recordings under ``data_root``,
  test on those under ``eval_root`` (another set of speakers).

The record is JSON-serialisable: mean and population standard deviation of
accuracy, UAR, weighted and macro F1 over the seeds, per-seed metrics and
timings, the UAR per test speaker, and the row-normalised confusion matrix
(averaged over seeds).
"""
from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError
from .emotion import DEFAULTS, EMOTION_DATASETS, canonical_model, cross_validate, emotion_features, train_test

__all__ = ["EMOTION_DATASETS", "METRICS", "GENERATOR_SETTINGS", "run_emotion_experiment"]

METRICS = ("accuracy", "UAR", "weighted_F1", "macro_F1")
#: Settings of ``synthetic_speech`` that go to the generator rather than the model.
GENERATOR_SETTINGS = ("n_speakers", "n_per_emotion", "corpus_seed", "duration")


def run_emotion_experiment(dataset: str, model: str, seeds: Sequence[int] = (0,), *, data_root=None,
                           eval_root=None, config: dict[str, Any] | None = None, cache: bool = True) -> dict:
    """Evaluate ``model`` (``audio_svm``, ``audio_cnn``, ``audio_lstm``, ``audio_gru``,
    ``audio_tcn``) on ``dataset`` once per seed; returns the JSON record."""
    config = dict(config or {})
    short = canonical_model(model)
    generator = {k: config.pop(k) for k in GENERATOR_SETTINGS if k in config}
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown setting(s) {sorted(unknown)} for {model!r}; the settings are "
                          f"{sorted(DEFAULTS)}" + (f" and, for synthetic_speech, {list(GENERATOR_SETTINGS)}"
                                                   if dataset == "synthetic_speech" else ""))
    if generator and dataset != "synthetic_speech":
        raise ConfigError(f"settings {sorted(generator)} apply to synthetic_speech only")
    seeds = list(seeds)  # (the linear SVM does not depend on the seed: its std is 0)
    if "corpus_seed" in generator:  # "seed" on the command line is the training seed
        generator["seed"] = generator.pop("corpus_seed")
    train, test = emotion_features(dataset, data_root, eval_root, cache=cache, **generator)
    runs, seconds = [], []
    for seed in seeds:
        start = time.perf_counter()
        if test is None:
            r = cross_validate(train["features"], train["emotion"], train["speaker"], model=short, split="loso",
                               seed=seed, **config)
        else:
            r = train_test(train["features"], train["emotion"], train["speaker"], test["features"],
                           test["emotion"], test["speaker"], model=short, seed=seed, **config)
        seconds.append(time.perf_counter() - start)
        runs.append(r)
    settings = {**DEFAULTS, **config}
    if short == "svm":
        settings = {k: settings[k] for k in ("C", "speaker_norm")}
    speakers = sorted(runs[0]["per_speaker"])
    classes = list(runs[0]["confusion"].index)
    confusion = np.mean([r["confusion"].to_numpy() for r in runs], axis=0)
    from ..records import make_record

    per_seed = [{"seed": s, "seconds": round(t, 2), "train_seconds": round(t, 2),
                 "test": {m: round(float(r[m]), 4) for m in METRICS}} for s, r, t in zip(seeds, runs, seconds)]
    return make_record(
        task="speech_emotion", dataset=dataset, model=f"audio_{short}", config={**settings, **generator},
        seeds=seeds, per_seed=per_seed, dataset_settings=generator, aligned=False,
        protocol="leave-one-speaker-out" if test is None else "train on --data-root, test on --eval-root",
        train_speakers=sorted(set(train["speaker"])),
        test_speakers=speakers,
        n_train=len(train["features"]) if test is not None else None,
        n_test=len(test["features"]) if test is not None else len(train["features"]),
        per_speaker_UAR={s: round(float(np.mean([r["per_speaker"][s] for r in runs])), 4) for s in speakers},
        confusion={"labels": classes, "rows_true_cols_pred": np.round(confusion, 4).tolist()},
    )
