"""Ablations as stored records: one model, several variants, several seeds (chapter 12).

``python -m mmsa_helpers ablations -m self_mm`` trains each variant of
:data:`ABLATIONS` on the embedded corpus over the seeds *only where its record is
missing* (``--remake`` re-trains) and stores the records ``train --json`` writes
under ``book/records/ablations/<model>/``. The chapter renders them with the
leaderboard's table (:func:`mmsa_helpers.leaderboard.leaderboard_table`), so an
ablation and the leaderboard read the same way.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from .errors import ConfigError
from .records import load_record, save_record

#: Variant name -> settings that differ from the model's defaults.
ABLATIONS: dict[str, dict[str, dict]] = {
    "self_mm": {
        "Self-MM": {},
        "u-labels frozen at y_m": {"update_labels": False, "weighting": "none"},
        "no tanh weighting": {"weighting": "none"},
        "no unimodal tasks": {"unimodal_tasks": False},
        "fine-tuned encoder": {"finetune": True, "epochs": 12, "patience": 4},
    },
}
SEEDS = (0, 1, 2)
RECORDS_ROOT = Path(__file__).resolve().parent.parent / "book" / "records" / "ablations"


def slug(variant: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in variant.lower()).strip("_")


def record_path(model: str, variant: str, root: str | Path = RECORDS_ROOT) -> Path:
    """Where a variant's record lives; the unchanged model's record is the leaderboard's own."""
    from . import leaderboard

    if not ABLATIONS.get(model, {}).get(variant, True) and Path(root) == RECORDS_ROOT:
        return leaderboard.record_path(model)
    return Path(root) / model / f"{slug(variant)}.json"


def variant_config(model: str, variant: str) -> dict:
    from .leaderboard import board_config

    if model not in ABLATIONS or variant not in ABLATIONS[model]:
        known = {m: list(v) for m, v in ABLATIONS.items()}
        raise ConfigError(f"no ablation {variant!r} of {model!r}; known: {known}")
    return {**board_config(model), **ABLATIONS[model][variant]}


def make_record(model: str, variant: str, seeds: Sequence[int] = SEEDS, root: str | Path = RECORDS_ROOT) -> dict:
    from .experiment import run_experiment

    config = variant_config(model, variant)
    result = run_experiment("synthetic", model, seeds=seeds, config=config, keep_predictions=False)
    record = result.to_json()
    if ABLATIONS[model][variant]:
        record["variant"] = variant
    record["command"] = (f"python -m mmsa_helpers train -d synthetic -m {model} " + " ".join(f"-s {s}" for s in seeds)
                         + "".join(f" --set {k}={v!r}" if isinstance(v, str) else f" --set {k}={v}"
                                   for k, v in config.items())
                         + f" --json {record_path(model, variant, root).name}")
    save_record(record, record_path(model, variant, root))
    return record


def collect(model: str, variants: Iterable[str] | None = None, root: str | Path = RECORDS_ROOT, remake: bool = False,
            seeds: Sequence[int] = SEEDS, log=print) -> dict[str, dict]:
    """Every variant's record, read from ``root`` or (re-)made where missing or ``remake``."""
    out = {}
    for variant in variants or ABLATIONS[model]:
        path = record_path(model, variant, root)
        if remake or not path.exists():
            if log:
                log(f"training {model} [{variant}] over seeds {list(seeds)} -> {path}")
            out[variant] = make_record(model, variant, seeds, root)
        else:
            out[variant] = load_record(path)
    return out


def stale_settings(record: dict) -> dict[str, tuple]:
    """Settings whose stored value differs from today's defaults with the variant's changes applied."""
    from .models import get_spec
    from .records import _clean

    variant = record.get("variant") or next(v for v, c in ABLATIONS[record["model"]].items() if not c)
    current = _clean(get_spec(record["model"]).resolve(**variant_config(record["model"], variant)))
    stored = record["config"]
    keys = set(current) | set(stored)
    return {k: (stored.get(k), current.get(k)) for k in sorted(keys) if stored.get(k) != current.get(k)}
