"""The model registry: one name per model, one way to train and evaluate them all.

Every model of the book follows the same small protocol (:class:`SentimentModel`):
``fit(corpus, seed)`` learns from the corpus's ``train`` split (using ``valid`` for
model selection), ``predict(corpus, split)`` returns one float per utterance on the
label scale. ``create("text_lstm", epochs=5)`` builds a registered model with
settings; ``python -m mmsa_helpers train -m NAME`` and
:func:`mmsa_helpers.experiment.run_experiment` use the same registry.

Models register themselves in their own modules (listed in ``_MODULES``) with
:func:`register`.
"""
from __future__ import annotations

import importlib

from ..errors import ConfigError
from .base import ModelSpec, SentimentModel, register, registry

_MODULES = ("lexicon", "classic", "neural_text", "pretrained_text", "sequence", "multimodal", "self_mm")
_loaded = False


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for module in _MODULES:
            importlib.import_module(f"{__name__}.{module}")
        _loaded = True


def available_models() -> dict[str, ModelSpec]:
    """All registered models, by name."""
    _load_all()
    return dict(registry())


def get_spec(name: str) -> ModelSpec:
    models = available_models()
    if name not in models:
        raise ConfigError(f"unknown model {name!r}; available models: {', '.join(sorted(models))}")
    return models[name]


def create(name: str, **config) -> SentimentModel:
    """A fresh, untrained model; ``config`` overrides its default settings."""
    return get_spec(name).build(**config)


__all__ = ["SentimentModel", "ModelSpec", "register", "available_models", "get_spec", "create"]
