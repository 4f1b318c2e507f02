"""The robustness runs of chapter 13: every leaderboard model under the perturbation grid, as records.

``python -m mmsa_helpers robustness`` trains seed 0 of each model of
:data:`~mmsa_helpers.leaderboard.BOARD_MODELS` with the leaderboard's settings (or
loads it, ``--models DIR``; ``--save DIR`` keeps what it trains), then scores the
test split under every cell of the grid: kind (``missing``: MMSA's rule, ``noise``:
MultiBench's imperfections) x modality (``text``, ``audio``, ``vision``, ``all``) x
level (0, 0.1, ..., 1), perturbation seed 1111 (MMSA's ``missing_seed``). One
record per model goes to ``book/records/robustness/`` in the format of
:mod:`mmsa_helpers.records`, with a ``robustness`` section holding MMSA's metrics
at every cell and the test predictions of the clean and dropped-modality runs.
Records are made only where missing (``--remake`` re-makes them).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import ConfigError, MMSADataError
from .records import load_record, save_record
from .robustness import (KINDS, LEVELS, MMSA_SEED, MODALITIES, MULTIBENCH_LEVELS, drop, effective_robustness,
                         maxmin_normalize, perturb, relative_robustness)

RECORDS_DIR = Path(__file__).resolve().parent.parent / "book" / "records" / "robustness"
GRID_MODALITIES = (*MODALITIES, "all")
SEED = 0
#: MultiBench's late-fusion baseline ("LF": one encoder per modality, outputs concatenated, a head on top).
BASELINE = "lf_dnn"
#: The curve's metric for the areas: binary accuracy on non-neutral utterances (MultiBench's
#: ``eval_affect(exclude_zero=True)`` is MMSA's ``Non0_acc_2``), and the book's Corr and MAE.
CURVE_METRICS = ("Non0_acc_2", "Corr", "MAE")


def record_path(model: str, records_dir: str | Path = RECORDS_DIR) -> Path:
    return Path(records_dir) / f"{model}.json"


def grid_definition(seed: int = MMSA_SEED) -> dict:
    return {"kinds": list(KINDS), "modalities": list(GRID_MODALITIES), "levels": list(LEVELS),
            "perturbation_seed": int(seed), "split": "test"}


def evaluate_grid(model, corpus, seed: int = MMSA_SEED, levels: Sequence[float] = LEVELS, log=None) -> dict:
    """MMSA's test metrics of a fitted ``model`` at every cell of the grid (``levels``: a part of
    the grid, e.g. ``(0.0, 0.3, 1.0)`` for a quick check), and the clean and dropped predictions."""
    from .experiment import metric_rules
    from .metrics import eval_regression

    truth, rules = corpus.labels("test"), metric_rules(corpus)

    def score(c):
        pred = np.asarray(model.predict(c, "test"), dtype=np.float32)
        return pred, eval_regression(pred, truth, dataset=rules)

    start = time.perf_counter()
    clean_pred, clean = score(corpus)
    grid = {k: {m: [] for m in GRID_MODALITIES} for k in KINDS}
    for kind in KINDS:
        for modality in GRID_MODALITIES:
            for level in levels:
                grid[kind][modality].append(clean if level == 0 else
                                            score(perturb(corpus, modality, kind, level, seed, splits=("test",)))[1])
            if log:
                log(f"  {kind:7s} {modality:6s} Non0_acc_2 " + " ".join(f"{r['Non0_acc_2']:.2f}"
                                                                   for r in grid[kind][modality]))
    dropped = {m: score(drop(corpus, m, splits=("test",)))[0].round(4).tolist() for m in MODALITIES}
    return {**grid_definition(seed), "levels": [float(v) for v in levels], "baseline": BASELINE, "grid": grid,
            "predictions": {"clean": clean_pred.round(4).tolist(), **{f"without_{m}": p for m, p in dropped.items()}},
            "ids": list(corpus["test"]["id"]), "seconds": round(time.perf_counter() - start, 2)}


def _loaded_record(model_name: str, fitted, corpus) -> dict:
    """The record of a loaded (not re-trained) model: its settings and seed-0 metrics."""
    from .experiment import metric_rules
    from .leaderboard import board_config
    from .metrics import eval_regression
    from .models import get_spec
    from .records import _clean, make_record

    expected = _clean(get_spec(model_name).resolve(**board_config(model_name)))
    if _clean(fitted.settings) != expected:
        raise MMSADataError(f"the saved {model_name!r} was trained with other settings than the leaderboard's "
                            f"({ {k: v for k, v in _clean(fitted.settings).items() if expected.get(k) != v} }); "
                            "re-train it (leave out --models)")
    rules = metric_rules(corpus)
    per_seed = [{"seed": SEED, "loaded": True,
                 **{s: eval_regression(np.asarray(fitted.predict(corpus, s), dtype=np.float32), corpus.labels(s),
                                       dataset=rules) for s in ("test", "valid")}}]
    return make_record(task="sentiment_regression", dataset=corpus.name, model=model_name, config=fitted.settings,
                       seeds=[SEED], per_seed=per_seed, aligned=corpus.aligned, sizes=corpus.sizes())


def make_record(model: str, records_dir: str | Path = RECORDS_DIR, models_dir=None, save_dir=None,
                log=None) -> dict:
    """Train (or load from ``models_dir``) seed 0 of ``model``, run the grid, store the record."""
    from .experiment import load_for_model, run_experiment
    from .leaderboard import board_config

    corpus = load_for_model("synthetic", model)
    if models_dir is not None:
        from .saving import load_model

        fitted = load_model(Path(models_dir) / f"{model}-seed{SEED}.pt")
        record = _loaded_record(model, fitted, corpus)
    else:
        result = run_experiment(corpus, model, seeds=(SEED,), config=board_config(model), keep_predictions=False,
                                keep_models=True, save_dir=save_dir)
        fitted, record = result.models[SEED], result.to_json()
    record["robustness"] = evaluate_grid(fitted, corpus, log=log)
    record["command"] = (f"python -m mmsa_helpers robustness -m {model}"
                         + (f" --models {models_dir}" if models_dir is not None else ""))
    save_record(record, record_path(model, records_dir))
    return record


def collect(models: Iterable[str] | None = None, records_dir: str | Path = RECORDS_DIR, remake: bool = False,
            models_dir=None, save_dir=None, log=print) -> dict[str, dict]:
    """Every model's robustness record: read from ``records_dir``, made where missing or ``remake``."""
    from .leaderboard import BOARD_MODELS

    out = {}
    for model in models or BOARD_MODELS:
        path = record_path(model, records_dir)
        if remake or not path.exists():
            if log:
                log(f"{model}: {'loading' if models_dir else 'training'} seed {SEED}, then the grid -> {path}")
            out[model] = make_record(model, records_dir, models_dir, save_dir, log=log)
        else:
            out[model] = load_record(path)
            if "robustness" not in out[model]:
                raise MMSADataError(f"{path} has no 'robustness' section; re-make it with "
                                    f"python -m mmsa_helpers robustness -m {model} --remake")
    return out


def stale(record: dict) -> dict:
    """What differs between a stored record and today's code: model settings (as the leaderboard
    checks) and the grid (kinds, modalities, levels, seed). Empty: the record is current."""
    from .leaderboard import stale_settings

    out = dict(stale_settings(record))
    now, then = grid_definition(), {k: record["robustness"].get(k) for k in grid_definition()}
    out.update({f"grid.{k}": (then[k], now[k]) for k in now if then[k] != now[k]})
    return out


# --- reading the records -----------------------------------------------------------------------------
def curve(record: dict, kind: str, modality: str, metric: str = "Non0_acc_2") -> np.ndarray:
    """One model's metric over the levels of :data:`~mmsa_helpers.robustness.LEVELS`."""
    if kind not in KINDS or modality not in GRID_MODALITIES:
        raise ConfigError(f"kind must be one of {KINDS} and modality one of {GRID_MODALITIES}")
    return np.array([row[metric] for row in record["robustness"]["grid"][kind][modality]], dtype=float)


def curves(records: dict[str, dict], kind: str, modality: str, metric: str = "Non0_acc_2") -> pd.DataFrame:
    """Models x levels."""
    return pd.DataFrame({m: curve(r, kind, modality, metric) for m, r in records.items()},
                        index=pd.Index(LEVELS, name="level")).T


def robustness_frame(records: dict[str, dict], kind: str = "noise", metric: str = "Non0_acc_2",
                     baseline: str = BASELINE) -> pd.DataFrame:
    """Per model and modality: clean score, MultiBench's relative robustness (area over the levels
    0 ... 0.9) and effective robustness (against ``baseline``), raw and max-min normalised over
    the models (MAE negated first, as MultiBench does for its error metrics)."""
    from .leaderboard import LOWER_IS_BETTER

    if baseline not in records:
        raise ConfigError(f"the baseline {baseline!r} has no record among {sorted(records)}")
    n = len(MULTIBENCH_LEVELS)
    lower = metric in LOWER_IS_BETTER
    rows = []
    for modality in GRID_MODALITIES:
        base = curve(records[baseline], kind, modality, metric)[:n]
        rel = {m: relative_robustness(curve(r, kind, modality, metric)[:n]) for m, r in records.items()}
        eff = {m: effective_robustness(curve(r, kind, modality, metric)[:n], base) for m, r in records.items()}
        rel_n, eff_n = maxmin_normalize(rel, lower), maxmin_normalize(eff, lower)
        for m, r in records.items():
            rows.append({"model": m, "modality": modality, "clean": curve(r, kind, modality, metric)[0],
                         "dropped": curve(r, kind, modality, metric)[-1], "relative": rel[m],
                         "relative_norm": rel_n[m], "effective": eff[m], "effective_norm": eff_n[m]})
    return pd.DataFrame(rows).set_index(["model", "modality"])


def reliance(records: dict[str, dict], metric: str = "MAE") -> pd.DataFrame:
    """How much each model leans on each modality: its ``metric`` with that modality dropped
    (level 1 of ``missing``) minus its clean ``metric``. Models x modalities."""
    return pd.DataFrame({m: {mod: curve(r, "missing", mod, metric)[-1] - curve(r, "missing", mod, metric)[0]
                             for mod in MODALITIES} for m, r in records.items()}).T


def predictions(record: dict, which: str = "clean") -> np.ndarray:
    """Stored test predictions: ``"clean"`` or ``"without_text"``/``"without_audio"``/``"without_vision"``."""
    stored = record["robustness"]["predictions"]
    if which not in stored:
        raise ConfigError(f"no predictions {which!r}; stored: {sorted(stored)}")
    return np.asarray(stored[which], dtype=np.float32)


def grid_seconds(records: dict[str, dict]) -> float:
    return float(sum(r["robustness"]["seconds"] for r in records.values()))


__all__ = ["collect", "make_record", "evaluate_grid", "stale", "curve", "curves", "robustness_frame", "reliance",
           "predictions", "RECORDS_DIR", "BASELINE", "GRID_MODALITIES"]
