"""Save a trained model and load it back (the robustness chapter reuses trained models).

>>> save_model(model, "models/tfn-seed0.pt")
>>> model = load_model("models/tfn-seed0.pt")   # no retraining

A file holds the registry name, the full settings, the package and PyTorch
versions, and the fitted state: network weights, feature scalers, vocabularies,
fitted scikit-learn estimators. Networks are stored on the CPU and loaded onto
the CPU. Like any pickle, a model file can run code when loaded: load only
files you made or trust.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .errors import ConfigError, MMSADataError

SAVE_FORMAT = 1
_SKIP = ("_prepared", "_vectors")  # caches that refer to a corpus, not to the model


def _state(model) -> dict[str, Any]:
    return {k: v for k, v in vars(model).items() if k not in _SKIP}


def save_model(model, path: str | Path) -> Path:
    """Write a fitted registry model (``create(...).fit(...)``) to ``path``."""
    from . import __version__

    name = getattr(model, "spec_name", None)
    if name is None:
        raise ConfigError("only models built by the registry can be saved: use mmsa_helpers.models.create(name, ...)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": SAVE_FORMAT, "model": name, "settings": model.settings, "package_version": __version__,
               "torch_version": torch.__version__, "state": _state(model)}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_model(path: str | Path):
    """Load a model written by :func:`save_model`; it predicts exactly as it did when saved."""
    from . import __version__
    from .models import get_spec

    path = Path(path)
    if not path.is_file():
        raise MMSADataError(f"no saved model at {path}; save one with save_model() or `train ... --save DIR`")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file
        raise MMSADataError(f"{path} is not a model file of this book ({type(err).__name__}: {err})") from None
    if not isinstance(payload, dict) or payload.get("format") != SAVE_FORMAT or "model" not in payload:
        raise MMSADataError(f"{path} is not a model file of this book (format {SAVE_FORMAT} expected)")
    spec = get_spec(payload["model"])
    model = spec.build(**{k: v for k, v in payload["settings"].items() if k in spec.defaults})
    vars(model).update(payload["state"])
    model.saved_with = {"package_version": payload["package_version"], "torch_version": payload["torch_version"]}
    if payload["package_version"] != __version__:
        import warnings

        warnings.warn(f"{path} was saved by mmsa_helpers {payload['package_version']}, this is {__version__}",
                      stacklevel=2)
    return model
