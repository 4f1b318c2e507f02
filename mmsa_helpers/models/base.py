"""What every model of the book is: a protocol and a registry entry (chapter 4 introduces it)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

from ..corpus import Corpus
from ..errors import SettingError


@runtime_checkable
class SentimentModel(Protocol):
    """A sentiment regressor.

    ``fit`` learns from ``corpus["train"]`` (and may use ``corpus["valid"]`` to pick
    hyperparameters or the best epoch; never ``test``); ``predict`` returns a float32
    array with one prediction per utterance of ``split``, on the corpus's label scale.
    """

    def fit(self, corpus: Corpus, seed: int = 0) -> "SentimentModel": ...

    def predict(self, corpus: Corpus, split: str) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable[..., SentimentModel]
    needs: tuple[str, ...]            # corpus keys the model reads, e.g. ("raw_text",) or ("audio",)
    description: str
    defaults: dict[str, Any] = field(default_factory=dict)
    stochastic: bool = True           # False: the seed does not change the result (lexicons)
    aligned: bool = False             # True: needs word-aligned sequences (loaded by itself from the registry)
    text_encoder: bool = False        # True: fine-tunes a pretrained text encoder (needs token ids)
    family: str = "text"              # "text", "audio", "vision" or "fusion": the part of the book it belongs to

    def resolve(self, **config) -> dict[str, Any]:
        """The full settings of a model: its defaults with ``config`` applied; unknown keys are an error."""
        unknown = set(config) - set(self.defaults)
        if unknown:
            raise SettingError(f"model {self.name!r} has no setting(s) {sorted(unknown)}; "
                               f"its settings are {sorted(self.defaults)}")
        return {**self.defaults, **config}

    def build(self, **config) -> SentimentModel:
        settings = self.resolve(**config)
        model = self.factory(**settings)
        try:   # what save() needs to rebuild the model
            model.spec_name, model.settings = self.name, dict(settings)
        except AttributeError:
            pass
        return model

    @property
    def text_only(self) -> bool:
        """True when the model needs nothing but transcripts (label.csv is enough on real data)."""
        return set(self.needs) <= {"raw_text"}


_REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, factory: Callable[..., SentimentModel], *, needs: tuple[str, ...], description: str,
             defaults: dict[str, Any] | None = None, stochastic: bool = True, aligned: bool = False,
             text_encoder: bool = False, family: str | None = None) -> ModelSpec:
    """Add a model to the registry under ``name``."""
    if name in _REGISTRY:
        raise ValueError(f"model {name!r} is registered twice")
    if family is None:
        family = "text" if set(needs) <= {"raw_text", "text"} else needs[0] if len(needs) == 1 else "fusion"
    spec = ModelSpec(name, factory, tuple(needs), description, dict(defaults or {}), stochastic, aligned,
                     text_encoder, family)
    _REGISTRY[name] = spec
    return spec


def registry() -> dict[str, ModelSpec]:
    return _REGISTRY
