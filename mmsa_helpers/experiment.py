"""Train and evaluate a registered model on a dataset over several seeds (what ``train`` on the CLI runs).

>>> result = run_experiment("synthetic", "tfidf_svm", seeds=[0, 1, 2])
>>> result.summary          # mean and std of MMSA's test metrics over the seeds
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from .corpus import Corpus
from .errors import ConfigError
from .metrics import eval_regression, summarize_seeds
from .models import get_spec


@dataclass
class ExperimentResult:
    dataset: str
    model: str
    seeds: list[int]
    metrics: list[dict[str, float]]             # test metrics, one dict per seed
    seconds: list[float]                        # fit + predict time per seed
    predictions: dict[int, np.ndarray] = field(default_factory=dict)  # test predictions per seed
    config: dict[str, Any] = field(default_factory=dict)              # full resolved settings
    valid_metrics: list[dict[str, float]] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)      # per seed: best epoch, timings, parameters
    dataset_settings: dict[str, Any] = field(default_factory=dict)
    aligned: bool = False
    sizes: dict[str, int] = field(default_factory=dict)
    models: dict[int, Any] = field(default_factory=dict)             # fitted models per seed (keep_models=True)
    corpus: Any = field(default=None, repr=False)                    # the corpus they were fitted on (keep_models=True)

    @property
    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of each test metric over the seeds."""
        return summarize_seeds(self.metrics)

    def mean_std(self) -> dict[str, dict[str, float]]:
        """Per metric, mean and population std over seeds on MMSA's raw scale (as MMSA's run.py reports)."""
        from .records import mean_std

        return mean_std(self.metrics)

    def to_json(self) -> dict:
        """The JSON record (the CLI's ``--json`` output; see :mod:`mmsa_helpers.records`)."""
        from .records import make_record

        per_seed = []
        for i, (s, m, t) in enumerate(zip(self.seeds, self.metrics, self.seconds)):
            row = {"seed": s, "seconds": round(t, 3), "test": m}
            if i < len(self.valid_metrics):
                row["valid"] = self.valid_metrics[i]
            if i < len(self.details):
                row.update(self.details[i])
            per_seed.append(row)
        return make_record(task="sentiment_regression", dataset=self.dataset, model=self.model, config=self.config,
                           seeds=self.seeds, per_seed=per_seed, dataset_settings=self.dataset_settings,
                           aligned=self.aligned, sizes=self.sizes)


def metric_rules(corpus: Corpus) -> str:
    """Which of MMSA's metric sets scores ``corpus``: ``"sims"`` or ``"mosi"``, chosen by name.

    ``corpus.info["metric_rules"]`` when set (for a corpus of your own), else the rules of
    ``corpus.name`` (:data:`~mmsa_helpers.metrics.DATASET_RULES`): SIMS rules for ``sims``
    (and CH-SIMS v2, and ``synthetic_zh``), MOSI rules for ``mosi``, ``mosei`` and ``synthetic``. MELD, the
    speech-emotion datasets and unknown names raise
    :class:`~mmsa_helpers.errors.ConfigError` saying what to do: the label range alone does
    not say which rules apply (MELD's labels lie in [-1, 1] like SIMS's).
    """
    from .metrics import rules_for

    chosen = corpus.info.get("metric_rules")
    if chosen is not None:
        if chosen not in ("mosi", "sims"):
            raise ConfigError(f"{corpus.name!r}: info['metric_rules'] is {chosen!r}; use 'mosi' (MOSI/MOSEI "
                              "rules, labels in [-3, 3]) or 'sims' (CH-SIMS rules, labels in [-1, 1])")
        return chosen
    try:
        return rules_for(corpus.name)
    except ConfigError as err:
        raise ConfigError(f"cannot score corpus {corpus.name!r} with MMSA's regression metrics: {err}") from None


def load_for_model(dataset: str, model: str, data_root=None, **dataset_config) -> Corpus:
    """Load a dataset the way a model needs it (transcripts only for text models on real data)."""
    from .datasets import load_dataset

    from .datasets import get_spec as dataset_spec

    spec = get_spec(model)
    text_only = spec.text_only and not dataset_spec(dataset).generated
    return load_dataset(dataset, data_root=data_root, text_only=text_only, aligned=spec.aligned, **dataset_config)


def _details(fitted, fit_seconds: float, infer_seconds: float, n_test: int) -> dict[str, Any]:
    """Per-seed facts of a fitted model: chosen epoch, timings and parameter count where they exist."""
    from .training import count_parameters

    out: dict[str, Any] = {"train_seconds": round(fit_seconds, 3), "inference_seconds": round(infer_seconds, 4),
                           "inference_ms_per_utterance": round(1000 * infer_seconds / max(n_test, 1), 4)}
    history = getattr(fitted, "history", None)
    if history is not None and getattr(history, "best_epoch", 0):
        out["best_epoch"] = int(history.best_epoch)
        out["epochs_run"] = len(history.rows)
    net = getattr(fitted, "net", None)
    if isinstance(net, torch.nn.Module):
        out["n_parameters"] = count_parameters(net)
    elif hasattr(fitted, "n_parameters"):
        out["n_parameters"] = int(fitted.n_parameters)
    return out


def run_experiment(dataset: str | Corpus, model: str, seeds: Sequence[int] = (0,), *, data_root=None,
                   config: dict[str, Any] | None = None, keep_predictions: bool = True, keep_models: bool = False,
                   save_dir=None, **dataset_config) -> ExperimentResult:
    """Fit ``model`` once per seed on the train split and score the test (and validation) split
    with MMSA's metrics. ``save_dir``: save each fitted model there as ``<model>-seed<S>.pt``."""
    config = dict(config or {})
    spec = get_spec(model)
    resolved = spec.resolve(**config)
    corpus = dataset if isinstance(dataset, Corpus) else load_for_model(dataset, model, data_root, **dataset_config)
    missing = [k for k in spec.needs if not corpus.has(k)]
    if missing:
        raise ConfigError(f"model {model!r} needs {missing}, which dataset {corpus.name!r} does not have "
                          f"(it has {sorted(corpus['train'])})")
    if spec.aligned and not corpus.aligned:
        raise ConfigError(f"model {model!r} needs word-aligned data: load_dataset({corpus.name!r}, aligned=True)")
    truth, truth_valid = corpus.labels("test"), corpus.labels("valid")
    rules = metric_rules(corpus)
    result = ExperimentResult(corpus.name, model, list(seeds), [], [], config=resolved,
                              dataset_settings=dict(dataset_config), aligned=corpus.aligned, sizes=corpus.sizes(),
                              corpus=corpus if keep_models else None)
    for seed in seeds:
        start = time.perf_counter()
        fitted = spec.build(**config).fit(corpus, seed=seed)
        fit_seconds = time.perf_counter() - start
        t0 = time.perf_counter()
        pred = np.asarray(fitted.predict(corpus, "test"), dtype=np.float32)
        infer_seconds = time.perf_counter() - t0
        result.seconds.append(time.perf_counter() - start)
        result.metrics.append(eval_regression(pred, truth, dataset=rules))
        result.valid_metrics.append(eval_regression(np.asarray(fitted.predict(corpus, "valid"), dtype=np.float32),
                                                    truth_valid, dataset=rules))
        result.details.append(_details(fitted, fit_seconds, infer_seconds, len(truth)))
        if keep_predictions:
            result.predictions[seed] = pred
        if keep_models:
            result.models[seed] = fitted
        if save_dir is not None:
            from .saving import save_model

            save_model(fitted, f"{save_dir}/{model}-seed{seed}.pt")
    return result
