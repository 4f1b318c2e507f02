"""The side-by-side benchmark of the book's Self-MM against MMSA 2.2.1, rendered from its stored record
(chapter 12).

``benchmarks/run.sh`` (see ``benchmarks/README.md``) runs MMSA's own Self-MM and the
book's ``self_mm`` on the same MMSA-format export of the embedded corpus and writes
``benchmarks/results/self_mm_vs_mmsa.json``; :func:`benchmark_table` turns that record
into the table the chapter prints.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .errors import MMSADataError

RESULT = Path(__file__).resolve().parent.parent / "benchmarks" / "results" / "self_mm_vs_mmsa.json"
RUNS = {"mmsa": "MMSA 2.2.1 (fine-tunes)", "book_finetune": "book, fine-tuned", "book_frozen": "book, frozen encoder"}
METRICS = ("Non0_acc_2", "Non0_F1_score", "Mult_acc_7", "MAE", "Corr")


def load_benchmark(path: str | Path = RESULT) -> dict:
    path = Path(path)
    if not path.exists():
        raise MMSADataError(f"no benchmark record at {path}: run benchmarks/run.sh (it writes it)")
    record = json.loads(path.read_text())
    missing = [k for k in ("runs", "settings", "machine", "command") if k not in record]
    if missing:
        raise MMSADataError(f"{path} is not a benchmark record (missing {missing})")
    return record


def benchmark_frame(record: dict) -> pd.DataFrame:
    """One row per run: seconds per epoch, epochs, best epoch, test metrics (fractions as MMSA returns them)
    and the final u-labels' correlation with the true unimodal labels."""
    rows = {}
    for key, label in RUNS.items():
        run = record["runs"].get(key)
        if not run or run.get("status") != "ok":
            continue
        row = {"s/epoch": float(run["seconds_per_epoch"]), "epochs": int(run["epochs_run"]),
               "best epoch": int(run["best_epoch"])}
        row.update({m: float(run["test"][m]) for m in METRICS})
        final = (run.get("ulabels") or {}).get("final") or {}
        for k in "tav":
            row[f"r(u_{k}, y_{k})"] = float(final[k]["corr_true"]) if k in final else float("nan")
        rows[label] = row
    if not rows:
        raise MMSADataError("the benchmark record holds no finished run")
    return pd.DataFrame(rows).T


def benchmark_table(record: dict) -> pd.DataFrame:
    """The frame as the chapter prints it: accuracies and F1 x100, the rest as measured."""
    frame = benchmark_frame(record)
    out = pd.DataFrame(index=frame.index)
    out["s/epoch"] = frame["s/epoch"].map("{:.1f}".format)
    out["epochs (best)"] = [f"{int(e)} ({int(b)})" for e, b in zip(frame["epochs"], frame["best epoch"])]
    for m in METRICS:
        scale, fmt = (100, "{:.1f}") if m not in ("MAE", "Corr") else (1, "{:.3f}")
        out[m.replace("_score", "")] = (frame[m] * scale).map(fmt.format)
    for k in "tav":
        col = f"r(u_{k}, y_{k})"
        out[col] = frame[col].map(lambda v: "-" if v != v else f"{v:.2f}")
    return out


def speedups(record: dict) -> dict[str, float]:
    """MMSA's seconds per epoch divided by each of the book's runs'."""
    frame = benchmark_frame(record)
    base = frame.at[RUNS["mmsa"], "s/epoch"]
    return {k: float(base / frame.at[label, "s/epoch"]) for k, label in RUNS.items()
            if k != "mmsa" and label in frame.index}
