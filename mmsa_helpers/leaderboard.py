"""The book's leaderboard: every sentiment model on the embedded corpus, from stored records.

``python -m mmsa_helpers leaderboard`` trains each model of :data:`BOARD_MODELS`
over several seeds *only where its record is missing* (``--remake`` re-trains),
stores one JSON record per model (the same record ``train --json`` writes) under
``book/records/leaderboard/`` and prints an MMSA-style table: mean ± std over the
seeds of every metric (x100, as MMSA's result tables print them), the parameter
count, training seconds per seed and inference milliseconds per utterance on the
machine that made the record (MultiBench reports the same kind of complexity
column). The appendix page renders the same records with :func:`leaderboard_table`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .records import load_record, save_record

#: The sentiment models of the book, in the order the chapters introduce them.
BOARD_MODELS = ("lexicon", "vader", "tfidf_svm", "text_cnn", "text_lstm", "text_gru", "text_bert",
                "audio_lstm", "audio_gru", "audio_tcn", "vision_lstm", "vision_gru", "vision_tcn",
                "ef_lstm", "lf_dnn", "late_avg", "tfn", "lmf", "att_fusion", "mult", "self_mm")
SEEDS = (0, 1, 2)
METRICS = ("Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score", "Mult_acc_5", "Mult_acc_7", "MAE", "Corr")
LOWER_IS_BETTER = {"MAE"}
RECORDS_DIR = Path(__file__).resolve().parent.parent / "book" / "records" / "leaderboard"
#: The settings every record of the board is made with: no progress bars, CPU.
BOARD_CONFIG = {"progress": False, "device": "cpu"}


def record_path(model: str, records_dir: str | Path = RECORDS_DIR) -> Path:
    return Path(records_dir) / f"{model}.json"


def board_config(model: str) -> dict:
    """The settings the board overrides for ``model`` (only those the model has)."""
    from .models import get_spec

    return {k: v for k, v in BOARD_CONFIG.items() if k in get_spec(model).defaults}


def make_record(model: str, seeds: Sequence[int] = SEEDS, records_dir: str | Path = RECORDS_DIR) -> dict:
    """Train ``model`` on the embedded corpus over ``seeds`` and store its record."""
    from .experiment import run_experiment

    result = run_experiment("synthetic", model, seeds=seeds, config=board_config(model), keep_predictions=False)
    record = result.to_json()
    record["command"] = (f"python -m mmsa_helpers train -d synthetic -m {model} "
                         + " ".join(f"-s {s}" for s in seeds)
                         + "".join(f" --set {k}={v}" for k, v in board_config(model).items())
                         + f" --json {record_path(model, records_dir).name}")
    save_record(record, record_path(model, records_dir))
    return record


def collect(models: Iterable[str] = BOARD_MODELS, records_dir: str | Path = RECORDS_DIR, remake: bool = False,
            seeds: Sequence[int] = SEEDS, log=print) -> dict[str, dict]:
    """The record of every model: read from ``records_dir``, (re-)made where missing or ``remake``."""
    out = {}
    for model in models:
        path = record_path(model, records_dir)
        if remake or not path.exists():
            if log:
                log(f"training {model} over seeds {list(seeds)} -> {path}")
            out[model] = make_record(model, seeds, records_dir)
        else:
            out[model] = load_record(path)
    return out


def stale_settings(record: dict) -> dict[str, tuple]:
    """Settings whose stored value differs from the model's current defaults (plus the board's
    overrides): a non-empty answer means the record no longer describes the code."""
    from .models import get_spec

    current = get_spec(record["model"]).resolve(**board_config(record["model"]))
    stored = record["config"]
    from .records import _clean

    current = _clean(current)
    keys = set(current) | set(stored)
    return {k: (stored.get(k), current.get(k)) for k in sorted(keys) if stored.get(k) != current.get(k)}


def _family(model: str) -> str:
    from .models import get_spec

    return get_spec(model).family


def leaderboard_frame(records: dict[str, dict]) -> pd.DataFrame:
    """One row per model: mean and std of each metric, and the complexity columns (numbers)."""
    rows = []
    for model, rec in records.items():
        row = {"model": model, "family": _family(rec.get("model", model)), "seeds": len(rec["seeds"])}
        for m in METRICS:
            row[m], row[f"{m}_std"] = rec["test"][m]["mean"], rec["test"][m]["std"]
        per_seed = rec["per_seed"]
        params = [p.get("n_parameters") for p in per_seed if p.get("n_parameters") is not None]
        row["params"] = int(params[0]) if params else np.nan
        row["train_s"] = float(np.mean([p.get("train_seconds", p.get("seconds")) for p in per_seed]))
        ms = [p["inference_ms_per_utterance"] for p in per_seed if "inference_ms_per_utterance" in p]
        row["infer_ms"] = float(np.mean(ms)) if ms else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def winners(frame: pd.DataFrame) -> pd.DataFrame:
    """Per metric: the best model, the runner-up, the gap and whether it exceeds the seed noise
    (gap > sqrt(std_best^2 + std_second^2), i.e. more than one combined standard deviation)."""
    rows = []
    for m in METRICS:
        order = frame[m].sort_values(ascending=m in LOWER_IS_BETTER).index
        best, second = order[0], order[1]
        gap = abs(frame.at[best, m] - frame.at[second, m])
        noise = float(np.hypot(frame.at[best, f"{m}_std"], frame.at[second, f"{m}_std"]))
        rows.append({"metric": m, "best": best, "runner_up": second, "gap": gap, "noise": noise,
                     "beyond_noise": bool(gap > noise)})
    return pd.DataFrame(rows).set_index("metric")


def leaderboard_table(records: dict[str, dict], scale: float = 100.0) -> pd.DataFrame:
    """The table as the book prints it: ``mean ± std`` (x100), the winner of each metric in bold
    with a dagger when its lead exceeds the seed noise, then parameters, train s and inference ms."""
    frame = leaderboard_frame(records)
    win = winners(frame)
    out = pd.DataFrame(index=frame.index)
    out.index.name = "model"
    out["part"] = frame["family"]
    for m in METRICS:
        cells = [f"{frame.at[i, m] * scale:.1f} ± {frame.at[i, f'{m}_std'] * scale:.1f}" for i in frame.index]
        col = pd.Series(cells, index=frame.index)
        best = win.at[m, "best"]
        col[best] = f"**{col[best]}**" + ("†" if win.at[m, "beyond_noise"] else "")
        out[m.replace("_score", "")] = col
    out["params"] = [("-" if np.isnan(p) else f"{int(p):,}") for p in frame["params"]]
    out["train s"] = [f"{t:.1f}" for t in frame["train_s"]]
    out["ms/utt"] = [("-" if np.isnan(t) else f"{t:.3f}") for t in frame["infer_ms"]]
    return out


def best_of(frame: pd.DataFrame, family: str | Sequence[str], metric: str = "Corr") -> str:
    """The model of one part of the book (``"fusion"``, or unimodal families) that is best on ``metric``."""
    families = [family] if isinstance(family, str) else list(family)
    sub = frame[frame["family"].isin(families)]
    return sub[metric].idxmin() if metric in LOWER_IS_BETTER else sub[metric].idxmax()


def to_html(table: pd.DataFrame) -> str:
    """The table as HTML for a web page (``**bold**`` cells become ``<strong>``)."""
    import re

    html = table.to_html(escape=True, border=0, classes="leaderboard")
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)


def total_train_minutes(records: dict[str, dict]) -> float:
    """Minutes of training behind the records (all seeds), as measured when they were made."""
    return sum(p.get("train_seconds", p.get("seconds", 0.0)) for r in records.values() for p in r["per_seed"]) / 60


def to_markdown(table: pd.DataFrame) -> str:
    cols = ["model", *table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for model, row in table.iterrows():
        lines.append("| " + " | ".join([model, *map(str, row.tolist())]) + " |")
    return "\n".join(lines)
