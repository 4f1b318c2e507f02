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

from .corpus import Corpus
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
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation of each test metric over the seeds."""
        return summarize_seeds(self.metrics)

    def mean_std(self) -> dict[str, dict[str, float]]:
        """Per metric, mean and population std over seeds on MMSA's raw scale (as MMSA's run.py reports)."""
        frame = pd.DataFrame(self.metrics)
        return {k: {"mean": round(float(frame[k].mean()), 4), "std": round(float(frame[k].std(ddof=0)), 4)}
                for k in frame.columns}

    def to_json(self) -> dict:
        """A JSON-serialisable record (the CLI's ``--json`` output)."""
        return {
            "dataset": self.dataset, "model": self.model, "seeds": self.seeds, "config": self.config,
            "test": self.mean_std(),
            "per_seed": [{"seed": s, "seconds": round(t, 3), **m} for s, m, t in zip(self.seeds, self.metrics, self.seconds)],
        }


def metric_rules(corpus: Corpus) -> str:
    """Which of MMSA's metric sets applies: SIMS rules for [-1, 1] labels, MOSI rules otherwise."""
    return "sims" if corpus.label_range == 1 else "mosi"


def load_for_model(dataset: str, model: str, data_root=None, **dataset_config) -> Corpus:
    """Load a dataset the way a model needs it (transcripts only for text models on real data)."""
    from .datasets import load_dataset

    spec = get_spec(model)
    text_only = spec.text_only and dataset != "synthetic"
    return load_dataset(dataset, data_root=data_root, text_only=text_only, **dataset_config)


def run_experiment(dataset: str | Corpus, model: str, seeds: Sequence[int] = (0,), *, data_root=None,
                   config: dict[str, Any] | None = None, keep_predictions: bool = True,
                   **dataset_config) -> ExperimentResult:
    """Fit ``model`` once per seed on the train split and score the test split with MMSA's metrics."""
    config = dict(config or {})
    corpus = dataset if isinstance(dataset, Corpus) else load_for_model(dataset, model, data_root, **dataset_config)
    spec = get_spec(model)
    missing = [k for k in spec.needs if not corpus.has(k)]
    if missing:
        raise ValueError(f"model {model!r} needs {missing}, which dataset {corpus.name!r} does not have "
                         f"(it has {sorted(corpus['train'])})")
    truth = corpus.labels("test")
    result = ExperimentResult(corpus.name, model, list(seeds), [], [], config=config)
    for seed in seeds:
        start = time.perf_counter()
        fitted = spec.build(**config).fit(corpus, seed=seed)
        pred = np.asarray(fitted.predict(corpus, "test"), dtype=np.float32)
        result.seconds.append(time.perf_counter() - start)
        result.metrics.append(eval_regression(pred, truth, dataset=metric_rules(corpus)))
        if keep_predictions:
            result.predictions[seed] = pred
    return result
