"""One record format for every result of the book (what ``train --json`` writes).

A record holds everything needed to re-make a table without re-running: the
command and date, the package version, the dataset with its settings and view
(aligned or not), the model with its *full* resolved settings, and per seed the
test and validation metrics, the chosen epoch, training and inference seconds
and the parameter count. Sentiment regression and speech emotion share the
shape; only the metric names differ.

>>> record = load_record("book/records/leaderboard/tfn.json")
>>> record["test"]["Corr"]["mean"]
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import shlex
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import MMSADataError

RECORD_FORMAT = 1
#: where the book keeps its stored records (``leaderboard/``, ``real/`` for real data, ``full_run/``)
#: (``book/records`` in the repository)
#:
#: :meta hide-value:
BOOK_RECORDS = Path(__file__).resolve().parent.parent / "book" / "records"
REQUIRED = ("record_format", "task", "dataset", "model", "config", "seeds", "test", "per_seed")


def _clean(value):
    """JSON-safe copies of settings (tuples -> lists, numpy scalars -> numbers, NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def mean_std(rows: Sequence[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per metric: mean and population std over seeds, rounded to 4 decimals (as MMSA's run.py reports)."""
    if not rows:
        return {}
    keys = [k for k in rows[0] if all(k in r for r in rows)]
    return {k: {"mean": round(float(np.mean([r[k] for r in rows])), 4),
                "std": round(float(np.std([r[k] for r in rows])), 4)} for k in keys}


def make_record(*, task: str, dataset: str, model: str, config: dict, seeds: Sequence[int], per_seed: list[dict],
                dataset_settings: dict | None = None, aligned: bool | None = None, sizes: dict | None = None,
                **extra) -> dict[str, Any]:
    """Build a record. ``per_seed``: one dict per seed with ``test`` (and ``valid``) metric dicts
    and any of ``best_epoch``, ``train_seconds``, ``inference_seconds``, ``n_parameters``."""
    from . import __version__

    record = {
        "record_format": RECORD_FORMAT,
        "task": task,
        "package_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        "command": None,   # the CLI fills in the command line that made the record
        "dataset": {"name": dataset, "settings": _clean(dataset_settings or {}), "aligned": aligned,
                    "sizes": sizes},
        "model": model,
        "config": _clean(config),
        "seeds": list(seeds),
        "test": mean_std([p["test"] for p in per_seed]),
        "valid": mean_std([p["valid"] for p in per_seed if p.get("valid")]),
        "per_seed": _clean(per_seed),
        "machine": machine(),
        **_clean(extra),
    }
    return record


def command_line(argv) -> str:
    return "python -m mmsa_helpers " + shlex.join(argv)


def machine() -> dict[str, Any]:
    """Where the timings of a record were measured: cores, PyTorch threads, device, load (1-min average)."""
    import os
    import platform

    import torch

    try:
        load = round(os.getloadavg()[0], 2)
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "cuda": torch.cuda.is_available(), "python": platform.python_version(), "load_average": load}


def save_record(record: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def load_record(path: str | Path) -> dict[str, Any]:
    """Read a record and check its shape; a file from an older or foreign format gets a clear error."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise MMSADataError(f"no result record at {path}; write one with "
                            "`python -m mmsa_helpers train ... --json {path}`") from None
    except json.JSONDecodeError as err:
        raise MMSADataError(f"{path} is not valid JSON ({err}); re-create it with train --json") from None
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise MMSADataError(f"{path} is not a result record of this book (missing {missing}); "
                            "re-create it with `python -m mmsa_helpers train ... --json`")
    if record["record_format"] != RECORD_FORMAT:
        raise MMSADataError(f"{path} has record format {record['record_format']}, this package reads "
                            f"{RECORD_FORMAT}; re-create it with train --json")
    return record


def _cell(mean: float, std: float, n: int, digits: int) -> str:
    """``mean ± std``; the mean alone for one seed, or when the seed changes nothing (std 0)."""
    if n < 2 or std == 0:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def table(records: "dict[str, dict | str | Path]", metrics: Sequence[str], *, paper_scale: bool = False,
          digits: int = 3, seconds: bool = True):
    """The one way the book prints stored results: a table with one row per record.

    ``records`` maps a row label to a record (or the path of one). Each metric
    column shows ``mean ± std`` over the record's seeds (the mean alone for a single
    seed or a seed-independent model); ``paper_scale`` prints accuracies, F1 and
    UAR in percent and Corr x100 as MMSA's tables do (column names say so; unscaled
    metrics such as MAE get one more decimal, as in :func:`metrics.format_metrics`). The
    last columns are the number of seeds and, with ``seconds``, the mean training
    time per seed on the machine that made the record. ``table.attrs`` keeps the
    commands and dates the records were made with, for the caption.
    """
    import pandas as pd

    from .metrics import display_name_and_scale

    rows, made = {}, {}
    for label, rec in records.items():
        rec = rec if isinstance(rec, dict) else load_record(rec)
        row = {}
        for m in metrics:
            name, scale = display_name_and_scale(m) if paper_scale else (m, 1.0)
            stats = rec["test"][m]
            places = digits + 1 if paper_scale and scale == 1.0 else digits  # MAE 0.977 next to 78.32 %
            row[name] = _cell(stats["mean"] * scale, stats["std"] * scale, len(rec["seeds"]), places)
        row["seeds"] = len(rec["seeds"])
        if seconds:
            per = [p.get("train_seconds", p.get("seconds")) for p in rec["per_seed"]]
            row["s per seed"] = f"{np.mean(per):.0f}" if np.mean(per) >= 10 else f"{np.mean(per):.1f}"
        rows[label] = row
        made[label] = {"command": rec.get("command"), "created": rec.get("created"),
                       "load_average": (rec.get("machine") or {}).get("load_average")}
    out = pd.DataFrame(rows).T
    out.attrs["made"] = made
    return out


def rerun(record: dict | str | Path, *, data_root=None) -> dict:
    """Run a record's command again (``--json`` to a temporary file) and return the new record.

    Used by the checks that compare a stored real-data result with a fresh run
    whenever the data is on the machine; ``data_root`` adds ``--data-root``.
    """
    import contextlib
    import io
    import tempfile

    from .cli import main

    record = record if isinstance(record, dict) else load_record(record)
    argv = shlex.split(record["command"])[3:]  # drop "python -m mmsa_helpers"
    if "--json" in argv:
        i = argv.index("--json")
        del argv[i:i + 2]
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "rerun.json")
        argv += ["--json", out] + (["--data-root", str(data_root)] if data_root is not None else [])
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            status = main(argv)
        if status != 0:
            raise MMSADataError(f"re-running {record['command']!r} failed with exit status {status}")
        return load_record(out)
